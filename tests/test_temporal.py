"""Tests of `helpers.temporal`: timed synthetic data, temporal splits, the time-aware bias model (14)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

from helpers.datasets import Ratings, make_synthetic
from helpers.temporal import (
    TimeBiasedMF,
    fit_timed,
    make_synthetic_timed,
    rmse_ci,
    split_leave_last_out,
    split_temporal,
)
from tests.bilingual import assert_bilingual


@pytest.fixture(scope="module")
def timed() -> tuple[Ratings, Any]:
    """A small timed set: 200 users × 300 items, 8,000 ratings over 60 days."""
    return make_synthetic_timed(200, 300, 8000, rank=4, days=60, seed=1)


def test_default_shape_and_times_are_those_of_ml100k() -> None:
    """943 × 1,682, 100,000 distinct pairs, times in [0, 210) days, sorted, at least 5 per user."""
    data, truth = make_synthetic_timed()
    assert (data.n_users, data.n_items, len(data)) == (943, 1682, 100_000)
    assert np.unique(data.users * data.n_items + data.items).size == len(data)
    assert data.timestamps.min() >= 0 and data.timestamps.max() < 210
    assert (np.diff(data.timestamps) >= 0).all()
    assert np.bincount(data.users, minlength=943).min() >= 5
    assert truth.days == 210


def test_truth_at_each_time_is_how_ratings_were_drawn(timed) -> None:
    """Residuals against `truth.predict(u, i, t)` are the noise: mean ~0, std ~0.5."""
    data, truth = timed
    resid = data.ratings - truth.predict(data.users, data.items, data.timestamps)
    assert abs(resid.mean()) < 3 * 0.5 / np.sqrt(len(data))
    assert resid.std() == pytest.approx(0.5, rel=0.03)
    # at another time the truth differs: drift is real
    shifted = truth.predict(data.users, data.items, np.full(len(data), 59.5))
    assert np.sqrt(np.mean((shifted - truth.predict(data.users, data.items, data.timestamps)) ** 2)) > 0.1


def test_no_item_is_rated_before_release_or_outside_its_user_window(timed) -> None:
    data, truth = timed
    assert (data.timestamps >= truth.release[data.items]).all()
    assert (data.timestamps >= truth.user_start[data.users]).all()
    assert (data.timestamps < truth.user_end[data.users]).all()
    assert (truth.release > 0).any() and (truth.release < 0).any()  # old and new items


def test_popularity_rises_and_fades(timed) -> None:
    """A new item's chance to be picked is 0 before release, peaks after it, then fades."""
    _, truth = timed
    item = int(np.argmax(np.where((truth.release > 5) & (truth.release < 20), truth.popularity, 0)))
    share = truth.popularity_at(np.arange(60) + 0.5)[:, item]
    assert np.allclose(truth.popularity_at([3.0]).sum(), 1.0)
    assert (share[: truth.release[item]] == 0).all()
    peak = int(np.argmax(share))
    assert truth.release[item] < peak and share[-1] < share[peak]


def test_generator_is_deterministic_per_seed_and_leaves_make_synthetic_alone() -> None:
    a, _ = make_synthetic_timed(100, 150, 3000, rank=3, days=30, seed=4)
    b, _ = make_synthetic_timed(100, 150, 3000, rank=3, days=30, seed=4)
    c, _ = make_synthetic_timed(100, 150, 3000, rank=3, days=30, seed=5)
    for field in ("users", "items", "ratings", "timestamps"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    assert not np.array_equal(a.ratings, c.ratings)
    plain, _ = make_synthetic(50, 40, 600, rank=3, seed=0)
    assert plain.timestamps is None
    assert plain.ratings[:3].round(6).tolist() == make_synthetic(50, 40, 600, rank=3, seed=0)[0].ratings[:3]\
        .round(6).tolist()


@pytest.mark.parametrize(("kwargs", "name"), [
    ({"days": 0}, "days"), ({"new_items": 1.5}, "new_items"), ({"floor": -0.1}, "floor"),
    ({"item_drift": float("nan")}, "item_drift"), ({"n_ratings": 10}, "n_ratings"),
    ({"user_bias_std": 0.9, "item_bias_std": 0.9}, "user_bias_std"),
])
def test_generator_bad_arguments(kwargs: dict[str, Any], name: str) -> None:
    with pytest.raises((ValueError, TypeError)) as err:
        make_synthetic_timed(**({"n_users": 100, "n_items": 150, "n_ratings": 3000} | kwargs))
    assert_bilingual(err, name)


def test_split_temporal_is_temporal_and_complete(timed) -> None:
    data, _ = timed
    train, val, test = split_temporal(data, 0.1, 0.2)
    assert (len(train), len(val), len(test)) == (5600, 1600, 800)
    assert train.timestamps.max() <= val.timestamps.min() and val.timestamps.max() <= test.timestamps.min()
    codes = np.concatenate([p.users * p.n_items + p.items for p in (train, val, test)])
    assert np.unique(codes).size == len(data)


def test_split_temporal_keeps_equal_times_in_data_order() -> None:
    data = Ratings(np.arange(5), np.zeros(5, dtype=int), np.arange(5.0), 5, 1,
                   timestamps=np.array([3, 1, 1, 1, 0]))
    train, val, test = split_temporal(data, 0.2, 0.2)
    assert train.users.tolist() == [1, 2, 4] and val.users.tolist() == [3] and test.users.tolist() == [0]


def test_split_leave_last_out_holds_out_each_users_latest(timed) -> None:
    data, _ = timed
    train, val, test = split_leave_last_out(data)
    assert len(train) + len(val) + len(test) == len(data)
    counts = np.bincount(data.users, minlength=data.n_users)
    assert np.bincount(test.users, minlength=data.n_users).tolist() == (counts >= 2).astype(int).tolist()
    assert np.bincount(val.users, minlength=data.n_users).tolist() == (counts >= 3).astype(int).tolist()
    for u in range(0, data.n_users, 17):
        own = np.sort(data.timestamps[data.users == u])
        assert test.timestamps[test.users == u].tolist() == [own[-1]]
        assert val.timestamps[val.users == u].tolist() == [own[-2]]
        assert train.timestamps[train.users == u].max() <= own[-2]


def test_split_leave_last_out_small_users_by_hand() -> None:
    """3 ratings: one to each part; 2: last to test; 1: kept in training."""
    users = np.array([0, 0, 0, 1, 1, 2])
    times = np.array([5, 9, 1, 4, 2, 7])
    data = Ratings(users, np.arange(6), np.ones(6), 3, 6, timestamps=times)
    train, val, test = split_leave_last_out(data)
    assert sorted(zip(test.users.tolist(), test.timestamps.tolist(), strict=True)) == [(0, 9), (1, 4)]
    assert list(zip(val.users.tolist(), val.timestamps.tolist(), strict=True)) == [(0, 5)]
    kept = sorted(zip(train.users.tolist(), train.timestamps.tolist(), strict=True))
    assert kept == [(0, 1), (1, 2), (2, 7)]


@pytest.mark.parametrize("split", [split_temporal, split_leave_last_out])
def test_splits_need_timestamps(split) -> None:
    data = make_synthetic(50, 40, 600, rank=3)[0]
    with pytest.raises(ValueError, match="no times") as err:
        split(data)
    assert_bilingual(err, "data", "timestamps")


def test_split_errors() -> None:
    one_each = Ratings(np.arange(3), np.arange(3), np.ones(3), 3, 3, timestamps=np.arange(3))
    with pytest.raises(ValueError, match="No user has 2") as err:
        split_leave_last_out(one_each)
    assert_bilingual(err)
    with pytest.raises(ValueError, match="below 1") as err:
        split_temporal(one_each, 0.5, 0.5)
    assert_bilingual(err, "test_fraction", "val_fraction")
    with pytest.raises(ValueError, match="strictly between") as err:
        split_temporal(one_each, 0.0)
    assert_bilingual(err, "test_fraction")


def test_time_biased_mf_bins_and_prediction() -> None:
    model = TimeBiasedMF(3, 4, 2, 5, 0.0, 10.0, 3.0)
    bins = model.bin_of(torch.tensor([-3.0, 0.0, 1.99, 2.0, 9.99, 10.0, 50.0]))
    assert bins.tolist() == [0, 0, 0, 1, 4, 4, 4]  # outside the span: the nearest bin
    with torch.no_grad():
        model.item_bin_bias.weight[1 * 5 + 4] = 0.5
    early, late = model.predict([0, 0], [1, 1], [1.0, 99.0])
    assert late - early == pytest.approx(0.5)
    with pytest.raises(ValueError) as err:
        TimeBiasedMF(3, 4, 2, 5, 10.0, 10.0)
    assert_bilingual(err, "t_min", "t_max")
    with pytest.raises(ValueError) as err:
        model.predict([0], [4], [1.0])
    assert_bilingual(err, "items")


def test_fit_timed_learns_and_beats_the_static_model_on_drifting_biases(timed) -> None:
    """With item biases that drift, the bin biases lower the validation RMSE; history as `fit`'s."""
    torch.manual_seed(0)
    data, _ = make_synthetic_timed(200, 300, 8000, rank=4, days=60, item_drift=1.0, seed=1)
    train, val, test = split_leave_last_out(data)
    t_min, t_max = float(train.timestamps.min()), float(train.timestamps.max())
    mean = float(train.ratings.mean())
    scores = []
    for bins in (1, 6):
        model = TimeBiasedMF(200, 300, 4, bins, t_min, t_max, mean)
        history = fit_timed(model, train, val, max_steps=300)
        assert history.loss[-1] < history.loss[0] and history.best_step in history.eval_steps
        scores.append(min(history.val_rmse))
    assert scores[1] < scores[0]


def test_fit_timed_errors(timed) -> None:
    data, _ = timed
    model = TimeBiasedMF(200, 300, 4, 3, 0.0, 60.0)
    with pytest.raises(TypeError) as err:
        fit_timed("model", data)
    assert_bilingual(err, "model")
    plain = Ratings(data.users, data.items, data.ratings, 200, 300)
    with pytest.raises(TypeError) as err:
        fit_timed(model, plain)
    assert_bilingual(err, "train", "timestamps")
    with pytest.raises(ValueError) as err:
        fit_timed(model, data, bin_reg=-1.0)
    assert_bilingual(err, "bin_reg")


def test_rmse_ci_brackets_the_rmse() -> None:
    rng = np.random.default_rng(0)
    actual = rng.normal(size=2000)
    value, low, high = rmse_ci(actual + rng.normal(0, 0.5, 2000), actual)
    assert low < value < high and value == pytest.approx(0.5, rel=0.05) and high - low < 0.05
