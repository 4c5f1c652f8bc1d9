"""Tests for helpers.bpr (negative sampling, BPR and its pointwise and softmax variants) and the
leave-one-out split (13)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

from helpers.bpr import BPRModel, NegativeSampler, fit_bpr, sample_negatives
from helpers.datasets import Ratings, split_leave_one_out
from helpers.implicit import make_interactions, popularity_top_n, split_interactions_per_user
from helpers.metrics import ranking_report
from helpers.seeding import one_thread
from tests.bilingual import assert_bilingual

SMALL = dict(n_users=60, n_items=80, n_interactions=1_200, rank=4)


def _seen(data: Ratings) -> set[tuple[int, int]]:
    return set(zip(data.users.tolist(), data.items.tolist(), strict=True))


def _tiny() -> Ratings:
    """5 items; item counts 4, 3, 2, 1, 0; user 0 has only item 0, user 3 all but item 4."""
    pairs = [(0, 0), (1, 0), (1, 1), (2, 0), (2, 1), (2, 2), (3, 0), (3, 1), (3, 2), (3, 3)]
    users, items = np.array(pairs).T
    return Ratings(users, items, np.ones(len(pairs), dtype=np.int64), 4, 5)


# --- negative sampling -----------------------------------------------------------------------------


@pytest.mark.parametrize("distribution", ["uniform", "popularity"])
def test_samplers_never_return_positives(distribution: str) -> None:
    data, _ = make_interactions(**SMALL)
    seen = _seen(data)
    negatives = sample_negatives(data, data.users, 3, distribution=distribution, seed=1)
    assert negatives.shape == (len(data), 3)
    assert not any((u, j) in seen for u, row in zip(data.users.tolist(), negatives.tolist(), strict=True)
                   for j in row)
    distinct = sample_negatives(data, np.arange(60), 20, distribution=distribution, distinct=True, seed=1)
    assert all(len(set(row)) == 20 for row in distinct.tolist())
    assert not any((u, j) in seen for u, row in enumerate(distinct.tolist()) for j in row)


def test_uniform_and_popularity_frequencies() -> None:
    """User 0 (item 0 seen): uniform over items 1-4; ∝ count^γ puts 3^γ : 2^γ : 1 : 0 on items 1-4."""
    data = _tiny()
    draws = 200_000
    uniform = sample_negatives(data, np.zeros(draws, dtype=np.int64), seed=0)[:, 0]
    assert np.abs(np.bincount(uniform, minlength=5)[1:] / draws - 0.25).max() < 0.005
    for gamma in (0.5, 1.0):
        got = sample_negatives(data, np.zeros(draws, dtype=np.int64), distribution="popularity",
                               exponent=gamma, seed=0)[:, 0]
        expected = np.array([0.0, 3**gamma, 2**gamma, 1.0, 0.0])
        assert np.abs(np.bincount(got, minlength=5) / draws - expected / expected.sum()).max() < 0.005
    # γ = 0 is uniform, even over an item nobody has chosen
    flat = sample_negatives(data, np.zeros(draws, dtype=np.int64), distribution="popularity", exponent=0.0)
    assert np.abs(np.bincount(flat[:, 0], minlength=5)[1:] / draws - 0.25).max() < 0.005


def test_user_with_one_item_left_gets_it() -> None:
    """User 3 has seen items 0-3: every draw must be item 4 (rejection, then the exact fall-back)."""
    data = _tiny()
    assert (sample_negatives(data, [3] * 50, 2, seed=0) == 4).all()
    assert (sample_negatives(data, [3], 1, distinct=True) == 4).all()


def test_same_seed_same_negatives() -> None:
    data, _ = make_interactions(**SMALL)
    a = sample_negatives(data, data.users, seed=5)
    assert np.array_equal(a, sample_negatives(data, data.users, seed=5))
    assert not np.array_equal(a, sample_negatives(data, data.users, seed=6))


def test_sampler_errors() -> None:
    data = _tiny()
    with pytest.raises(ValueError) as err:  # user 3 has 1 item left
        sample_negatives(data, [3], 2, distinct=True)
    assert_bilingual(err, "n")
    with pytest.raises(ValueError) as err:  # item 4 has no training count: γ > 0 never draws it
        sample_negatives(data, [3], distribution="popularity")
    assert_bilingual(err)
    full = Ratings(np.zeros(3, dtype=np.int64), np.arange(3), np.ones(3, dtype=np.int64), 1, 3)
    with pytest.raises(ValueError) as err:
        sample_negatives(full, [0])
    assert_bilingual(err)
    with pytest.raises(ValueError) as err:
        sample_negatives(data, [0], distribution="zipf")
    assert_bilingual(err, "distribution")
    with pytest.raises(ValueError) as err:
        NegativeSampler(data, distribution="popularity", exponent=-1.0)
    assert_bilingual(err, "exponent")
    with pytest.raises(ValueError) as err:
        sample_negatives(data, [0], 0)
    assert_bilingual(err, "n")
    with pytest.raises(ValueError) as err:
        sample_negatives(data, [7])
    assert_bilingual(err, "users")
    with pytest.raises(TypeError):
        sample_negatives(np.ones((3, 3)), [0])  # type: ignore[arg-type]


# --- fit_bpr -----------------------------------------------------------------------------------------


def test_same_seed_same_factors_other_seed_other_factors() -> None:
    data, _ = make_interactions(**SMALL)
    with one_thread():
        a = fit_bpr(data, rank=4, epochs=3, batch_size=128, seed=2)
        b = fit_bpr(data, rank=4, epochs=3, batch_size=128, seed=2)
        c = fit_bpr(data, rank=4, epochs=3, batch_size=128, seed=3)
    assert np.array_equal(a.user_factors, b.user_factors) and np.array_equal(a.item_bias, b.item_bias)
    assert a.losses == b.losses
    assert not np.array_equal(a.item_factors, c.item_factors)
    assert a.user_factors.shape == (60, 4) and a.item_factors.shape == (80, 4) and a.item_bias.shape == (80,)
    assert len(a.losses) == len(a.epoch_seconds) == 3 and a.best_epoch == 3 and a.val_ndcg == []


@pytest.mark.parametrize("loss", ["bpr", "bce", "softmax"])
def test_every_loss_goes_down_and_scores_rank(loss: str) -> None:
    data, _ = make_interactions(**SMALL)
    with one_thread():
        model = fit_bpr(data, rank=4, epochs=8, batch_size=128, loss=loss, n_negatives=2, lr=0.02)
    assert model.losses[-1] < model.losses[0]
    scores = model.scores(np.arange(5))
    assert scores.shape == (5, 80)
    top = model.top_n(np.arange(5), 3, exclude=data)
    assert np.array_equal(top, np.argsort(-np.where(data.to_dense()[:5] > 0, -np.inf, scores), axis=1,
                                          kind="stable")[:, :3])


def test_no_item_bias_means_zero_bias() -> None:
    data, _ = make_interactions(**SMALL)
    model = fit_bpr(data, rank=4, epochs=1, item_bias=False)
    assert (model.item_bias == 0).all()


def test_validation_keeps_the_best_epoch_and_patience_stops() -> None:
    data, _ = make_interactions(**SMALL)
    train, val = split_interactions_per_user(data, 0.2, seed=0)
    with one_thread():
        model = fit_bpr(train, rank=4, epochs=6, batch_size=128, lr=0.05, validation=val)
        assert len(model.val_ndcg) == 6
        assert model.best_epoch == int(np.argmax(model.val_ndcg)) + 1
        again = fit_bpr(train, rank=4, epochs=model.best_epoch, batch_size=128, lr=0.05)
        assert np.allclose(model.user_factors, again.user_factors)  # the best epoch's parameters
        short = fit_bpr(train, rank=4, epochs=50, batch_size=128, lr=0.5, reg=0.0, validation=val,
                        patience=1)
    assert len(short.val_ndcg) < 50 and len(short.val_ndcg) == short.best_epoch + 1


def test_bpr_beats_popularity_on_the_default_data() -> None:
    """All unseen items ranked, training items excluded (as `reference_ndcg`); popularity is 0.296."""
    data, _ = make_interactions()
    train, test = split_interactions_per_user(data, 0.2, seed=0)
    relevant: dict[int, set[int]] = {}
    for u, i in zip(test.users.tolist(), test.items.tolist(), strict=True):
        relevant.setdefault(u, set()).add(i)
    users = np.array(sorted(relevant))
    with one_thread():
        model = fit_bpr(train)
    ndcg = {name: ranking_report(dict(zip(users.tolist(), top.tolist(), strict=True)), relevant,
                                 10)["ndcg@10"]
            for name, top in (("bpr", model.top_n(users, 10, exclude=train)),
                              ("popularity", popularity_top_n(train, users, 10, exclude=train)))}
    assert ndcg["bpr"] > 1.2 * ndcg["popularity"]


@pytest.mark.parametrize(("kwargs", "error", "names"), [
    (dict(loss="hinge"), ValueError, ("loss",)),
    (dict(negatives="zipf"), ValueError, ("distribution",)),
    (dict(rank=0), ValueError, ("rank",)),
    (dict(lr=0.0), ValueError, ("lr",)),
    (dict(reg=-1.0), ValueError, ("reg",)),
    (dict(epochs=1.5), TypeError, ("epochs",)),
    (dict(batch_size=0), ValueError, ("batch_size",)),
    (dict(n_negatives=0), ValueError, ("n_negatives",)),
    (dict(init_std=-0.1), ValueError, ("init_std",)),
    (dict(seed=-1), ValueError, ("seed",)),
    (dict(patience=2), ValueError, ("patience", "validation")),
    (dict(exponent=-0.5, negatives="popularity"), ValueError, ("exponent",)),
])
def test_fit_bpr_errors(kwargs: dict[str, Any], error: type, names: tuple[str, ...]) -> None:
    data = _tiny()
    with pytest.raises(error) as err:
        fit_bpr(data, **{"epochs": 1, **kwargs})
    assert_bilingual(err, *names)


def test_fit_bpr_refuses_users_with_no_negative_and_mismatched_validation() -> None:
    full = Ratings(np.array([0, 0, 0, 1]), np.array([0, 1, 2, 0]), np.ones(4, dtype=np.int64), 2, 3)
    with pytest.raises(ValueError) as err:  # user 0 has every item
        fit_bpr(full, epochs=1)
    assert_bilingual(err)
    data = _tiny()
    other = Ratings(np.array([0]), np.array([1]), np.ones(1, dtype=np.int64), 4, 6)
    with pytest.raises(ValueError) as err:
        fit_bpr(data, epochs=1, validation=other)
    assert_bilingual(err, "validation", "train")


def test_diverging_fit_is_refused() -> None:
    data, _ = make_interactions(**SMALL)
    with pytest.raises(FloatingPointError) as err:
        fit_bpr(data, epochs=3, lr=1e30, reg=1.0, init_std=1e30)
    assert_bilingual(err, "lr")


def test_bpr_model_checks_users() -> None:
    model = BPRModel(np.zeros((2, 3)), np.zeros((4, 3)), np.arange(4.0))
    assert np.array_equal(model.top_n([0], 2), [[3, 2]])
    with pytest.raises(ValueError) as err:
        model.scores([2])
    assert_bilingual(err, "users")


# --- leave-one-out -------------------------------------------------------------------------------


def test_leave_one_out_holds_out_one_per_user_with_two() -> None:
    data, _ = make_interactions(**SMALL)
    keep = ~((data.users == 0) & (data.items != data.items[data.users == 0][0]))  # user 0: one interaction
    data = data.subset(keep)
    train, test = split_leave_one_out(data, seed=0)
    per_user = np.bincount(test.users, minlength=60)
    assert per_user[0] == 0 and (per_user[1:] == 1).all()
    assert _seen(train) | _seen(test) == _seen(data) and not _seen(train) & _seen(test)
    again, _ = split_leave_one_out(data, seed=0)
    other, _ = split_leave_one_out(data, seed=1)
    assert _seen(again) == _seen(train) and _seen(other) != _seen(train)


def test_leave_one_out_needs_a_user_with_two() -> None:
    single = Ratings(np.arange(3), np.arange(3), np.ones(3), 3, 3)
    with pytest.raises(ValueError) as err:
        split_leave_one_out(single)
    assert_bilingual(err)
    with pytest.raises(TypeError) as err:
        split_leave_one_out(np.ones((2, 2)))  # type: ignore[arg-type]
    assert_bilingual(err, "data")


def test_torch_threads_untouched() -> None:
    threads = torch.get_num_threads()
    fit_bpr(_tiny(), rank=2, epochs=1)
    assert torch.get_num_threads() == threads
