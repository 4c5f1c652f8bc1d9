"""Tests for helpers.neural: output range, star ratings, MLP / NeuMF / AutoRec, their trainers and the
MLP-learns-a-dot-product experiment (16)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

from helpers.datasets import Ratings, make_synthetic, split_random
from helpers.implicit import make_interactions, popularity_top_n, random_top_n, split_interactions_per_user
from helpers.metrics import ranking_report
from helpers.neural import (
    AutoRec,
    DotProduct,
    MLPRating,
    NeuMF,
    fit_neural,
    fit_neural_implicit,
    make_star_ratings,
    mlp_dot_experiment,
    out_of_range_share,
    sigmoid_range,
)
from helpers.seeding import one_thread
from tests.bilingual import assert_bilingual

SMALL = dict(n_users=120, n_items=150, n_ratings=4_000, rank=4)


@pytest.fixture(scope="module")
def small() -> tuple[Ratings, Ratings, Ratings]:
    data, _ = make_synthetic(**SMALL, seed=0)
    return split_random(data, (0.1, 0.1), seed=0)


def _models(train: Ratings, y_range: Any = None) -> list[torch.nn.Module]:
    n_u, n_i, mu = train.n_users, train.n_items, float(train.ratings.mean())
    return [DotProduct(n_u, n_i, 4, mu, y_range=y_range),
            MLPRating(n_u, n_i, 8, (16, 8), mu, y_range=y_range),
            NeuMF(n_u, n_i, 4, 4, (8, 4), mu, y_range=y_range), AutoRec(train, 16, y_range=y_range)]


def test_sigmoid_range_bounds_and_middle() -> None:
    x = torch.tensor([-1e4, -3.0, 0.0, 3.0, 1e4])
    y = sigmoid_range(x, 0.5, 5.5)
    assert (y >= 0.5).all() and (y <= 5.5).all()
    assert y[2].item() == pytest.approx(3.0)
    assert torch.all(y[1:] >= y[:-1])


def test_star_ratings_truth() -> None:
    """Same pairs as make_synthetic; integers 1..5; the truth is the mean of many draws of the stars."""
    stars, truth = make_star_ratings(**SMALL, seed=3)
    cont, _ = make_synthetic(**SMALL, seed=3)
    assert np.array_equal(stars.users, cont.users) and np.array_equal(stars.items, cont.items)
    assert set(np.unique(stars.ratings)) <= {1, 2, 3, 4, 5}
    assert np.array_equal(stars.ratings, np.clip(np.floor(cont.ratings + 0.5), 1, 5))
    # Monte Carlo: stars from the latent mean + fresh noise average to StarTruth.predict.
    u, i = stars.users[:50], stars.items[:50]
    m = truth.latent.predict(u, i)
    rng = np.random.default_rng(0)
    draws = np.clip(np.floor(m + rng.normal(0, truth.latent.noise, (20_000, 50)) + 0.5), 1, 5)
    assert np.abs(draws.mean(0) - truth.predict(u, i)).max() < 0.02
    floor = np.sqrt(((draws - truth.predict(u, i)) ** 2).mean())
    assert truth.noise_floor(u, i) == pytest.approx(floor, abs=0.01)
    assert out_of_range_share([0.0, 1.0, 3.0, 5.0, 6.0], 1, 5) == pytest.approx(0.4)


def test_shapes_and_y_range(small: tuple[Ratings, Ratings, Ratings]) -> None:
    train, _, test = small
    for model in _models(train) + _models(train, (1.0, 5.0)):
        out = model(torch.as_tensor(test.users[:7]), torch.as_tensor(test.items[:7]))
        assert out.shape == (7,)
        pred = model.predict(test.users, test.items)
        assert pred.shape == (len(test),) and pred.dtype == np.float64
        # Every model starts near μ (small embeddings); with a range, strictly inside it.
        if model.y_range is not None:
            assert ((pred > 1.0) & (pred < 5.0)).all()
    far = DotProduct(train.n_users, train.n_items, 4, 3.0, y_range=(1.0, 5.0), init_std=10.0)
    pred = far.predict(test.users, test.items)
    # Saturated in float32 an output may reach a bound, never pass it.
    assert ((pred >= 1.0) & (pred <= 5.0)).all() and out_of_range_share(pred, 1.0, 5.0) == 0.0


def test_fit_neural_beats_the_mean_and_keeps_the_best_epoch(small: tuple[Ratings, Ratings, Ratings]) -> None:
    train, val, test = small
    mean_rmse = np.sqrt(np.mean((test.ratings - train.ratings.mean()) ** 2))
    settings = [dict(lr=0.02, reg=0.02), dict(lr=0.01, reg=0.05), dict(lr=0.01, reg=0.02),
                dict(lr=0.003, weight_decay=1e-3, batch_size=16)]
    with one_thread():
        for model, kw in zip(_models(train), settings, strict=True):
            kw = {"batch_size": 256, "epochs": 40, "patience": 3} | kw
            history = fit_neural(model, train, val, **kw)
            got = np.sqrt(np.mean((model.predict(test.users, test.items) - test.ratings) ** 2))
            assert got < 0.95 * mean_rmse, type(model).__name__
            # The restored parameters are those of the best validation epoch.
            best = history.best_epoch
            assert history.val_rmse[best - 1] == min(history.val_rmse)
            assert np.sqrt(np.mean((model.predict(val.users, val.items) - val.ratings) ** 2)) \
                == pytest.approx(history.val_rmse[best - 1], rel=1e-6)
            assert len(history.val_rmse) == len(history.loss) == len(history.epoch_seconds)


def test_early_stopping_stops_after_patience(small: tuple[Ratings, Ratings, Ratings]) -> None:
    train, val, _ = small
    model = MLPRating(train.n_users, train.n_items, 16, (32,), float(train.ratings.mean()))
    with one_thread():
        history = fit_neural(model, train, val, lr=0.05, batch_size=64, epochs=50, patience=2)
    assert history.stopped_early
    assert len(history.val_rmse) == history.best_epoch + 2


def test_same_seed_same_digits(small: tuple[Ratings, Ratings, Ratings]) -> None:
    train, val, test = small
    outs = []
    with one_thread():
        for _ in range(2):
            model = NeuMF(train.n_users, train.n_items, 4, 4, (8, 4), 3.5, dropout=0.2, seed=5)
            history = fit_neural(model, train, val, lr=0.01, epochs=3, batch_size=128, seed=7)
            outs.append((model.predict(test.users, test.items), history.loss))
        other = NeuMF(train.n_users, train.n_items, 4, 4, (8, 4), 3.5, dropout=0.2, seed=5)
        fit_neural(other, train, val, lr=0.01, epochs=3, batch_size=128, seed=8)
    assert np.array_equal(outs[0][0], outs[1][0]) and outs[0][1] == outs[1][1]
    assert not np.array_equal(outs[0][0], other.predict(test.users, test.items))


def test_global_generator_untouched(small: tuple[Ratings, Ratings, Ratings]) -> None:
    train, val, _ = small
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    model = MLPRating(train.n_users, train.n_items, 4, (8,), 3.5, dropout=0.1)
    fit_neural(model, train, val, epochs=1)
    assert torch.equal(torch.rand(3), expected)


def test_implicit_neumf_beats_random() -> None:
    """On data this small popularity is hard to beat; NeuMF must at least rank far above random."""
    data, _ = make_interactions(n_users=150, n_items=200, n_interactions=6_000, rank=4, seed=0)
    train, test = split_interactions_per_user(data, 0.2, seed=0)
    users = np.unique(test.users)
    relevant: dict[int, set[int]] = {}
    for u, i in zip(test.users.tolist(), test.items.tolist(), strict=True):
        relevant.setdefault(u, set()).add(i)

    def ndcg(top: np.ndarray) -> float:
        return ranking_report(dict(zip(users.tolist(), top.tolist(), strict=True)), relevant, 10)["ndcg@10"]

    with one_thread():
        model = NeuMF(data.n_users, data.n_items, 8, 8, (16, 8))
        ranker = fit_neural_implicit(model, train, lr=0.01, epochs=8, batch_size=256, seed=0,
                                     validation=test, patience=3)
    top = ranker.top_n(users, 10, exclude=train)
    assert top.shape == (users.size, 10)
    seen = set(zip(train.users.tolist(), train.items.tolist(), strict=True))
    assert not any((u, i) in seen for u, row in zip(users.tolist(), top.tolist(), strict=True) for i in row)
    assert ndcg(top) > 2 * ndcg(random_top_n(data.n_items, users, 10, exclude=train))
    assert ndcg(top) > 0.8 * ndcg(popularity_top_n(train, users, 10, exclude=train))
    assert ranker.val_ndcg[ranker.best_epoch - 1] == max(ranker.val_ndcg) == pytest.approx(ndcg(top))
    assert ranker.scores(users[:3]).shape == (3, data.n_items)
    with one_thread():
        bpr = fit_neural_implicit(MLPRating(data.n_users, data.n_items, 8, (16,)), train, loss="bpr",
                                  epochs=2, batch_size=512)
    assert len(bpr.losses) == 2 and bpr.best_epoch == 2


def test_mlp_dot_experiment_small() -> None:
    with one_thread():
        rows = mlp_dot_experiment((4, 64), dim=4, n_users=60, n_items=60, n_train=2_000, n_test=500,
                                  epochs=15, batch_size=128, lr=0.01)
    assert [r.width for r in rows] == [4, 64]
    assert rows[0].parameters == 8 * 4 + 4 + 4 * 4 + 4 + 4 + 1
    # Both are well below predicting 0 (RMSE about 1), the wider one better; neither is exact.
    assert rows[1].test_rmse < rows[0].test_rmse < 0.9
    assert rows[1].test_rmse > 0.01 and rows[1].train_rmse <= rows[1].test_rmse


@pytest.mark.parametrize(("make", "names"), [
    (lambda: sigmoid_range(torch.zeros(2), 5.0, 1.0), ["y_range"]),
    (lambda: DotProduct(10, 10, 2, y_range=(1, 1)), ["y_range"]),
    (lambda: DotProduct(10, 10, 2, y_range=(1, float("nan"))), ["y_range"]),
    (lambda: MLPRating(10, 10, 4, hidden=()), ["hidden"]),
    (lambda: MLPRating(10, 10, 4, hidden=(8, 0)), ["hidden"]),
    (lambda: MLPRating(10, 10, 0), ["dim"]),
    (lambda: NeuMF(10, 10, 4, 4, dropout=1.0), ["dropout"]),
    (lambda: NeuMF(0, 10), ["n_users"]),
    (lambda: DotProduct(10, 10, 2, global_mean=float("inf")), ["global_mean"]),
    (lambda: make_star_ratings(low=5, high=1), ["low", "high"]),
    (lambda: make_star_ratings(low=1.5), ["low"]),
    (lambda: out_of_range_share([], 1, 5), ["predictions"]),
    (lambda: mlp_dot_experiment((4,), n_users=3, n_items=3, n_train=8, n_test=5), ["n_train", "n_test"]),
])
def test_bilingual_errors(make: Any, names: list[str]) -> None:
    with pytest.raises((ValueError, TypeError)) as err:
        make()
    assert_bilingual(err, *names)


def test_trainer_errors(small: tuple[Ratings, Ratings, Ratings]) -> None:
    train, val, _ = small
    model = DotProduct(train.n_users, train.n_items, 2)
    for kwargs, names in [(dict(lr=0.0), ["lr"]), (dict(reg=-1.0), ["reg"]),
                          (dict(batch_size=0), ["batch_size"]), (dict(patience=0), ["patience"]),
                          (dict(weight_decay=float("nan")), ["weight_decay"])]:
        with pytest.raises((ValueError, TypeError)) as err:
            fit_neural(model, train, val, **kwargs)
        assert_bilingual(err, *names)
    with pytest.raises(TypeError) as err:
        fit_neural(torch.nn.Linear(2, 1), train)
    assert_bilingual(err, "model")
    other, _ = make_synthetic(n_users=50, n_items=60, n_ratings=1_000, seed=0)
    with pytest.raises(ValueError) as err:
        fit_neural(model, other)
    assert_bilingual(err, "train")
    with pytest.raises(ValueError) as err:
        fit_neural_implicit(DotProduct(train.n_users, train.n_items, 2, y_range=(1, 5)), train)
    assert_bilingual(err, "y_range")
    with pytest.raises(ValueError) as err:
        fit_neural_implicit(model, train, loss="hinge")
    assert_bilingual(err, "loss")
    with pytest.raises(ValueError) as err:
        fit_neural_implicit(model, train, patience=2)
    assert_bilingual(err, "patience", "validation")
    with pytest.raises(ValueError) as err:
        model.predict([0, train.n_users], [0, 0])
    assert_bilingual(err, "users")
