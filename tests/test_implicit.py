"""Tests for helpers.implicit: interactions with known truth, their split and the reference rankings (12)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from helpers.datasets import Ratings
from helpers.implicit import (
    fit_wals,
    make_interactions,
    popularity_top_n,
    random_top_n,
    reference_ndcg,
    split_interactions_per_user,
    wals_half_sweep,
    wals_loss,
)
from helpers.metrics import ranking_report
from tests.bilingual import assert_bilingual

SMALL = dict(n_users=60, n_items=80, n_interactions=1_200, rank=4)


def _codes(data: Ratings) -> np.ndarray:
    return data.users.astype(np.int64) * data.n_items + data.items


def test_shapes_no_duplicates_minimum_and_counts() -> None:
    data, truth = make_interactions(**SMALL, min_interactions=5)
    assert len(data) == 1_200 and (data.n_users, data.n_items) == (60, 80)
    assert np.unique(_codes(data)).size == len(data)
    per_user = np.bincount(data.users, minlength=60)
    assert per_user.min() >= 5 and per_user.max() <= 40  # at most half the catalogue
    assert data.ratings.dtype == np.int64 and data.ratings.min() >= 1
    assert truth.user_factors.shape == (60, 4) and truth.item_factors.shape == (80, 4)
    assert truth.popularity.sum() == pytest.approx(1.0)


def test_default_shape_is_long_tailed() -> None:
    data, _ = make_interactions()
    per_user = np.bincount(data.users, minlength=data.n_users)
    assert len(data) == 100_000 and per_user.min() >= 5
    assert per_user.max() > 4 * np.median(per_user)  # a few very active users
    assert np.unique(_codes(data)).size == len(data)


def test_same_seed_same_data_other_seed_other_data() -> None:
    a, ta = make_interactions(**SMALL, seed=3)
    b, tb = make_interactions(**SMALL, seed=3)
    c, _ = make_interactions(**SMALL, seed=4)
    assert np.array_equal(_codes(a), _codes(b)) and np.array_equal(a.ratings, b.ratings)
    assert np.array_equal(ta.user_factors, tb.user_factors)
    assert not np.array_equal(_codes(a), _codes(c))


def test_truth_scores_are_log_probabilities_and_top_n_follows_them() -> None:
    data, truth = make_interactions(**SMALL)
    users = np.arange(10)
    scores = truth.scores(users)
    assert scores.shape == (10, 80)
    assert np.allclose(np.exp(scores).sum(axis=1), 1.0)
    top = truth.top_n(users, 5)
    assert np.array_equal(top, np.argsort(-scores, axis=1, kind="stable")[:, :5])
    top = truth.top_n(users, 5, exclude=data)
    seen = set(zip(data.users.tolist(), data.items.tolist(), strict=True))
    assert not any((u, i) in seen for u, row in zip(users, top.tolist(), strict=True) for i in row)


def test_affinity_and_popularity_drive_the_picks() -> None:
    data, truth = make_interactions(**{**SMALL, "n_interactions": 2_000})
    picked = truth.scores(np.arange(60))[data.users, data.items]
    assert picked.mean() > truth.scores(np.arange(60)).mean() + 0.5
    plain, _ = make_interactions(**SMALL, popularity_exponent=0.0, affinity=0.0, play_rate=0.0)
    assert (plain.ratings == 1).all()


def test_split_keeps_every_pair_once_and_both_parts_per_user() -> None:
    data, _ = make_interactions(**SMALL)
    train, test = split_interactions_per_user(data, 0.2, seed=1)
    assert np.array_equal(np.sort(np.concatenate([_codes(train), _codes(test)])), np.sort(_codes(data)))
    per_user = np.bincount(data.users, minlength=60)
    has = per_user >= 2
    assert (np.bincount(train.users, minlength=60)[has] >= 1).all()
    assert (np.bincount(test.users, minlength=60)[has] >= 1).all()
    assert len(test) == pytest.approx(0.2 * len(data), rel=0.1)
    again, _ = split_interactions_per_user(data, 0.2, seed=1)
    assert np.array_equal(_codes(again), _codes(train))


def test_truth_beats_popularity_beats_random_at_default_shape() -> None:
    data, truth = make_interactions()
    train, test = split_interactions_per_user(data)
    ndcg = reference_ndcg(train, test, truth)
    assert ndcg["random"] < 0.03
    assert ndcg["popularity"] > 8 * ndcg["random"]
    assert ndcg["truth"] > 1.5 * ndcg["popularity"]


def test_baseline_lists_skip_training_items() -> None:
    data, _ = make_interactions(**SMALL)
    users = np.arange(60)
    for top in (popularity_top_n(data, users, 10, exclude=data),
                random_top_n(80, users, 10, exclude=data)):
        assert top.shape == (60, 10)
        seen = set(zip(data.users.tolist(), data.items.tolist(), strict=True))
        assert not any((u, i) in seen for u, row in enumerate(top.tolist()) for i in row if i >= 0)


@pytest.mark.parametrize(("kwargs", "error", "names"), [
    ({"n_users": 0}, ValueError, ["n_users"]),
    ({"n_items": 2.5}, TypeError, ["n_items"]),
    ({"rank": -1}, ValueError, ["rank"]),
    ({"popularity_exponent": -0.5}, ValueError, ["popularity_exponent"]),
    ({"affinity": float("nan")}, ValueError, ["affinity"]),
    ({"affinity": "1"}, TypeError, ["affinity"]),
    ({"play_rate": -1.0}, ValueError, ["play_rate"]),
    ({"seed": -1}, ValueError, ["seed"]),
    ({"n_interactions": 10}, ValueError, ["n_interactions", "min_interactions"]),
    ({"n_interactions": 10**7}, ValueError, ["n_interactions"]),
    ({"min_interactions": 900}, ValueError, ["min_interactions"]),
])
def test_bad_arguments_give_bilingual_errors(kwargs: dict, error: type, names: list[str]) -> None:
    with pytest.raises(error) as err:
        make_interactions(**kwargs)
    assert_bilingual(err, *names)


def test_split_rejects_non_counts_and_bad_fraction() -> None:
    data, _ = make_interactions(**SMALL)
    ratings = Ratings(data.users, data.items, data.ratings - 0.5, 60, 80)
    with pytest.raises(ValueError) as err:
        split_interactions_per_user(ratings)
    assert_bilingual(err, "data")
    with pytest.raises(ValueError) as err:
        split_interactions_per_user(data, 1.5)
    assert_bilingual(err, "test_fraction")
    with pytest.raises(TypeError) as err:
        split_interactions_per_user(data.ratings)
    assert_bilingual(err, "data")


def test_truth_rejects_bad_users_and_k() -> None:
    _, truth = make_interactions(**SMALL)
    with pytest.raises(ValueError) as err:
        truth.scores([60])
    assert_bilingual(err, "users")
    with pytest.raises(ValueError) as err:
        truth.top_n([0], 81)
    assert_bilingual(err, "k")
    with pytest.raises(MemoryError):
        truth.scores(np.arange(60), max_bytes=1_000)


# --- weighted ALS (Hu, Koren & Volinsky 2008) -------------------------------------------------

TINY = dict(n_users=30, n_items=40, n_interactions=300, rank=3)


def _dense(data: Ratings, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """The full confidence and preference matrices C and P of the tiny set."""
    C = np.ones((data.n_users, data.n_items))
    P = np.zeros((data.n_users, data.n_items))
    C[data.users, data.items] += alpha * data.ratings
    P[data.users, data.items] = 1.0
    return C, P


def _dense_solve(C: np.ndarray, P: np.ndarray, Y: np.ndarray, reg: float) -> np.ndarray:
    """x_u = (Yᵀ C_u Y + reg·I)⁻¹ Yᵀ C_u p_u, one user at a time, from the full matrices."""
    eye = np.eye(Y.shape[1])
    return np.stack([np.linalg.solve(Y.T @ (c[:, None] * Y) + reg * eye, Y.T @ (c * p))
                     for c, p in zip(C, P, strict=True)])


def test_exact_half_sweep_equals_dense_reference() -> None:
    data, _ = make_interactions(**TINY)
    alpha, reg = 2.0, 0.5
    C, P = _dense(data, alpha)
    Y = np.random.default_rng(1).normal(size=(40, 4))
    X = wals_half_sweep(data, Y, alpha=alpha, reg=reg)
    assert X.dtype == np.float64
    assert np.abs(X - _dense_solve(C, P, Y, reg)).max() < 1e-8
    items = wals_half_sweep(data, X, solve_for="items", alpha=alpha, reg=reg)
    assert np.abs(items - _dense_solve(C.T, P.T, X, reg)).max() < 1e-8


def test_loss_matches_dense_and_never_increases() -> None:
    data, _ = make_interactions(**TINY)
    alpha, reg = 2.0, 0.5
    C, P = _dense(data, alpha)
    model = fit_wals(data, rank=4, alpha=alpha, reg=reg, sweeps=8, dtype=torch.float64, record_loss=True)
    X, Y = model.user_factors, model.item_factors
    dense = (C * (P - X @ Y.T) ** 2).sum() + reg * (np.square(X).sum() + np.square(Y).sum())
    assert wals_loss(data, X, Y, alpha=alpha, reg=reg) == pytest.approx(dense, rel=1e-12)
    assert model.losses[-1] == pytest.approx(dense, rel=1e-12)
    assert len(model.losses) == len(model.sweep_seconds) == 8
    assert all(b <= a * (1 + 1e-12) for a, b in zip(model.losses, model.losses[1:], strict=False))


def test_cg_converges_to_the_exact_solution() -> None:
    data, _ = make_interactions(**TINY)
    Y = np.random.default_rng(2).normal(size=(40, 4))
    exact = wals_half_sweep(data, Y, alpha=2.0, reg=0.5)
    few = wals_half_sweep(data, Y, alpha=2.0, reg=0.5, solver="cg", cg_steps=1)
    many = wals_half_sweep(data, Y, alpha=2.0, reg=0.5, solver="cg", cg_steps=30)
    assert np.abs(many - exact).max() < 1e-8
    assert np.abs(few - exact).max() > 1e-3  # one step is not enough: the test would see it
    warm = wals_half_sweep(data, Y, alpha=2.0, reg=0.5, solver="cg", cg_steps=1, start=exact)
    assert np.abs(warm - exact).max() < 1e-8  # started at the solution, CG stays there
    full_cg = fit_wals(data, rank=4, alpha=2.0, reg=0.5, sweeps=6, solver="cg", cg_steps=30,
                       dtype=torch.float64, record_loss=True)
    full = fit_wals(data, rank=4, alpha=2.0, reg=0.5, sweeps=6, dtype=torch.float64, record_loss=True)
    assert np.allclose(full_cg.user_factors, full.user_factors, atol=1e-7)
    assert full_cg.losses[-1] == pytest.approx(full.losses[-1], rel=1e-10)


def test_wals_scores_and_top_n_skip_training_items() -> None:
    data, _ = make_interactions(**SMALL)
    model = fit_wals(data, rank=4, sweeps=3)
    assert model.user_factors.shape == (60, 4) and model.item_factors.shape == (80, 4)
    users = np.arange(10)
    scores = model.scores(users)
    assert scores.shape == (10, 80)
    assert np.array_equal(model.top_n(users, 5), np.argsort(-scores.astype(np.float64), axis=1,
                                                             kind="stable")[:, :5])
    top = model.top_n(users, 5, exclude=data)
    seen = set(zip(data.users.tolist(), data.items.tolist(), strict=True))
    assert not any((u, i) in seen for u, row in zip(users, top.tolist(), strict=True) for i in row)


def test_wals_beats_popularity_at_default_shape() -> None:
    """α = 0.3, reg = 20 were picked on a validation split carved from train (see the module text)."""
    data, truth = make_interactions()
    train, test = split_interactions_per_user(data)
    reference = reference_ndcg(train, test, truth)
    relevant: dict[int, set[int]] = {}
    for u, i in zip(test.users.tolist(), test.items.tolist(), strict=True):
        relevant.setdefault(u, set()).add(i)
    users = np.array(sorted(relevant))
    for solver in ("cholesky", "cg"):
        model = fit_wals(train, alpha=0.3, reg=20.0, sweeps=10, solver=solver)
        lists = dict(zip(users.tolist(), model.top_n(users, 10, exclude=train).tolist(), strict=True))
        ndcg = ranking_report(lists, relevant, 10)["ndcg@10"]
        assert ndcg > 1.3 * reference["popularity"], solver  # measured 1.48× (exact), 1.48× (cg)
        assert ndcg > 0.75 * reference["truth"], solver  # measured 0.81 of the truth


@pytest.mark.parametrize(("kwargs", "error", "names"), [
    ({"alpha": -0.1}, ValueError, ["alpha"]),
    ({"alpha": "1"}, TypeError, ["alpha"]),
    ({"reg": 0.0}, ValueError, ["reg"]),
    ({"reg": -1.0}, ValueError, ["reg"]),
    ({"solver": "lu"}, ValueError, ["solver"]),
    ({"rank": 0}, ValueError, ["rank"]),
    ({"sweeps": 0}, ValueError, ["sweeps"]),
    ({"cg_steps": 0}, ValueError, ["cg_steps"]),
    ({"seed": -1}, ValueError, ["seed"]),
    ({"dtype": torch.int64}, TypeError, ["dtype"]),
])
def test_wals_bad_arguments_give_bilingual_errors(kwargs: dict, error: type, names: list[str]) -> None:
    data, _ = make_interactions(**TINY)
    with pytest.raises(error) as err:
        fit_wals(data, **kwargs)
    assert_bilingual(err, *names)


def test_half_sweep_bad_arguments_give_bilingual_errors() -> None:
    data, _ = make_interactions(**TINY)
    Y = np.zeros((40, 3))
    for kwargs, name in (({"solve_for": "both"}, "solve_for"), ({"solver": "qr"}, "solver"),
                         ({"alpha": -1.0}, "alpha"), ({"reg": 0}, "reg")):
        with pytest.raises(ValueError) as err:
            wals_half_sweep(data, Y, **kwargs)
        assert_bilingual(err, name)
    with pytest.raises(ValueError) as err:
        wals_half_sweep(data, np.zeros((30, 3)))
    assert_bilingual(err, "fixed")
    with pytest.raises(TypeError) as err:
        fit_wals(data.ratings)
    assert_bilingual(err, "data")


def test_alpha_must_be_positive() -> None:
    """α ≤ 0 is bad input (issue 10): with α = 0 the counts would carry no weight at all."""
    data, _ = make_interactions(**TINY)
    for alpha in (0, 0.0, -0.5, float("nan")):
        with pytest.raises(ValueError) as err:
            fit_wals(data, alpha=alpha)
        assert_bilingual(err, "alpha")
        with pytest.raises(ValueError) as err:
            wals_half_sweep(data, np.zeros((40, 3)), alpha=alpha)
        assert_bilingual(err, "alpha")
        with pytest.raises(ValueError) as err:
            wals_loss(data, np.zeros((30, 3)), np.zeros((40, 3)), alpha=alpha)
        assert_bilingual(err, "alpha")
