"""Tests of `helpers.datasets`: Ratings, the synthetic generator and the two splitters."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from helpers import original_ratings
from helpers.datasets import Ratings, SyntheticTruth, make_synthetic, split_per_user, split_random
from tests.bilingual import assert_bilingual


def pairs(data: Ratings) -> np.ndarray:
    """One integer code per (user, item) pair."""
    return data.users.astype(np.int64) * data.n_items + data.items


@pytest.fixture(scope="module")
def ml100k_like() -> tuple[Ratings, SyntheticTruth]:
    """The default synthetic set (the shape of ml-100k), built once for the module."""
    return make_synthetic()


@pytest.fixture(scope="module")
def small() -> Ratings:
    """A small, fast synthetic set: 50 users × 40 items, 600 ratings."""
    return make_synthetic(50, 40, 600, rank=3, seed=0)[0]


# --- Ratings ---------------------------------------------------------------------------------------


def test_ratings_len_scale_and_subset() -> None:
    """len counts triples, scale is (min, max) of the data, subset keeps the catalogue."""
    data = Ratings(np.array([0, 1, 2, 2]), np.array([1, 0, 2, 3]), np.array([2.5, 4.0, 1.5, 3.0]), 4, 5)
    assert len(data) == 4
    assert data.scale == (1.5, 4.0)

    part = data.subset(np.array([3, 0]))
    assert len(part) == 2
    assert part.users.tolist() == [2, 0] and part.items.tolist() == [3, 1]
    assert part.ratings.tolist() == [3.0, 2.5]
    assert (part.n_users, part.n_items) == (4, 5)
    assert part.scale == (2.5, 3.0)

    masked = data.subset(data.ratings > 2)
    assert masked.ratings.tolist() == [2.5, 4.0, 3.0]


U, I, R = np.array([0, 1, 2, 2]), np.array([1, 0, 2, 3]), np.array([2.5, 4.0, 1.5, 3.0])  # noqa: E741


def test_ratings_keeps_clean_arrays_without_copies() -> None:
    """Valid int32 and int64 arrays are kept as they are (no copy, same dtype), read-only or memory-mapped
    ones too; other integer dtypes become int64, which torch can index with."""
    users, items = U.astype(np.int32), I.copy()
    items.flags.writeable = False
    data = Ratings(users, items, R, np.int64(4), 5, np.array([10, 11, 12, 13]), None)
    assert data.users is users and data.items is items and data.ratings is R
    for dtype in (np.uint8, np.uint16, np.int16, np.uint64, ">i8"):
        other = Ratings(U.astype(dtype), I.astype(dtype), R, 4, 5)
        assert other.users.dtype == other.items.dtype == np.int64 and other.users.tolist() == U.tolist()
    assert type(data.n_users) is int and data.n_users == 4
    floats = Ratings(U.astype(float), [1, 0, 2, 3], [2.5, 4.0, 1.5, 3.0], 4, 5)  # integer-valued floats
    assert floats.users.dtype == np.int64 and floats.users.tolist() == U.tolist()
    assert len(Ratings(np.zeros(0), np.zeros(0), np.zeros(0), 3, 3)) == 0  # empty is allowed


NAN_R = np.array([2.5, np.nan, 1.5, np.inf])


@pytest.mark.parametrize(("kwargs", "error", "names", "text"), [
    pytest.param({"users": U[:3]}, ValueError, ["users", "items", "ratings"],
                 r"different lengths \(3, 4, 4\)", id="lengths"),
    pytest.param({"ratings": R[:2]}, ValueError, ["ratings"], "different lengths", id="short-ratings"),
    pytest.param({"users": U.reshape(2, 2)}, ValueError, ["users"], "1-D", id="2-d"),
    pytest.param({"ratings": np.float64(3.0)}, ValueError, ["ratings"], "1-D", id="scalar-ratings"),
    pytest.param({"users": U + 0.5}, ValueError, ["users"], "4 value.*not integers.*position 0: 0.5",
                 id="fractional"),
    pytest.param({"items": np.array([1.0, np.nan, 2, 3])}, ValueError, ["items"], "position 1.*row with NaN",
                 id="nan-index"),
    pytest.param({"users": U > 0}, TypeError, ["users"], "dtype bool", id="bool"),
    pytest.param({"items": np.array(["a", "b", "c", "d"])}, TypeError, ["items"], "np.unique", id="str"),
    pytest.param({"users": np.array([0, -1, 2, -3])}, ValueError, ["users", "n_users"],
                 "2 value.*position 1: -1.*Negative", id="negative"),
    pytest.param({"items": np.array([1, 0, 2, 7])}, ValueError, ["items", "n_items"],
                 "position 3: 7.*at least 8", id="too-large"),
    pytest.param({"users": np.array([1, 2, 4, 3])}, ValueError, ["users"], "counted from 1", id="one-based"),
    pytest.param({"ratings": NAN_R}, ValueError, ["ratings"], "2 NaN or infinite.*position 1", id="nan"),
    pytest.param({"ratings": np.array(["4", "5", "3", "1"])}, TypeError, ["ratings"], "real numbers",
                 id="str-ratings"),
    pytest.param({"n_users": 0}, ValueError, ["n_users"], "at least 1", id="n-users-0"),
    pytest.param({"n_items": -5}, ValueError, ["n_items"], "at least 1", id="n-items-negative"),
    pytest.param({"n_users": 4.0}, TypeError, ["n_users"], "positive integer", id="n-users-float"),
    pytest.param({"n_items": True}, TypeError, ["n_items"], "positive integer", id="n-items-bool"),
    pytest.param({"user_ids": np.arange(3)}, ValueError, ["user_ids"], "length 4", id="user-ids"),
    pytest.param({"item_ids": np.zeros((5, 1))}, ValueError, ["item_ids"], "1-D", id="item-ids-2-d"),
])
def test_ratings_are_checked_where_made(kwargs: dict[str, Any], error: type, names: list[str],
                                        text: str) -> None:
    """Every malformed field → a bilingual error that says what is wrong, at construction."""
    fields = {"users": U, "items": I, "ratings": R, "n_users": 4, "n_items": 5} | kwargs
    with pytest.raises(error, match=text) as err:
        Ratings(**fields)
    assert_bilingual(err, *names)


def test_memory_mapped_arrays_are_accepted(tmp_path: Path) -> None:
    """Arrays loaded with `np.load(..., mmap_mode="r")` (read-only, on disk) are valid fields."""
    for name, value in (("users", U), ("items", I), ("ratings", R)):
        np.save(tmp_path / f"{name}.npy", value)
    fields = [np.load(tmp_path / f"{name}.npy", mmap_mode="r") for name in ("users", "items", "ratings")]
    data = Ratings(*fields, 4, 5)
    assert data.users.tolist() == U.tolist() and data.scale == (1.5, 4.0)


def test_empty_ratings_scale_and_splits_say_what_to_do() -> None:
    """An empty Ratings is valid, but has no scale and cannot be split: bilingual errors, not NumPy's."""
    empty = Ratings(U, I, R, 4, 5).subset(np.zeros(4, dtype=bool))
    with pytest.raises(ValueError, match="no rating scale") as err:
        _ = empty.scale
    assert_bilingual(err)
    for split in (split_random, split_per_user):
        with pytest.raises(ValueError, match="at least one rating") as err:
            split(empty)
        assert_bilingual(err, "data")


def test_subset_of_valid_ratings_is_valid() -> None:
    """subset builds a Ratings too: a boolean mask, an index array and an empty selection all work."""
    data = Ratings(U, I, R, 4, 5)
    assert len(data.subset(np.zeros(4, dtype=bool))) == 0
    assert data.subset(np.array([3])).items.tolist() == [3]


def test_dense_round_trip_on_the_original_matrix() -> None:
    """from_dense → to_dense gives back the original 5×4 matrix; triples in row-major order."""
    R = original_ratings()
    data = Ratings.from_dense(R)
    assert (data.n_users, data.n_items) == R.shape == (5, 4)
    assert len(data) == int((R != 0).sum())
    np.testing.assert_array_equal(data.to_dense(), R)
    np.testing.assert_array_equal(data.ratings, R[R != 0])  # row-major order
    assert data.scale == (1.0, 5.0)
    assert data.users.dtype == np.int64 and data.items.dtype == np.int64


def test_from_dense_rejects_bad_matrix() -> None:
    """A matrix with NaN is refused with the usual bilingual message about `R`."""
    with pytest.raises(ValueError, match="NaN") as err:
        Ratings.from_dense([[1.0, np.nan], [0.0, 2.0]])
    assert_bilingual(err, "R")


# --- make_synthetic: the defaults (ml-100k's shape) -----------------------------------------------


def test_synthetic_defaults_have_ml100k_shape(ml100k_like: tuple[Ratings, SyntheticTruth]) -> None:
    """943 users, 1682 items, exactly 100 000 distinct pairs, every user and item rated ≥ 5 times."""
    data, truth = ml100k_like
    assert (data.n_users, data.n_items, len(data)) == (943, 1682, 100_000)
    assert np.unique(pairs(data)).size == len(data)
    assert data.users.min() >= 0 and data.users.max() < 943
    assert data.items.min() >= 0 and data.items.max() < 1682
    assert np.bincount(data.users, minlength=943).min() >= 5
    assert np.bincount(data.items, minlength=1682).min() >= 5
    assert truth.user_factors.shape == (943, 10) and truth.item_factors.shape == (1682, 10)


def test_synthetic_activity_is_long_tailed(ml100k_like: tuple[Ratings, SyntheticTruth]) -> None:
    """The most active user and item have many times the median number of ratings."""
    data, _ = ml100k_like
    per_user = np.bincount(data.users, minlength=data.n_users)
    per_item = np.bincount(data.items, minlength=data.n_items)
    assert per_user.max() >= 10 * np.median(per_user)
    assert per_item.max() >= 10 * np.median(per_item)


def test_synthetic_noise_and_signal_levels(ml100k_like: tuple[Ratings, SyntheticTruth]) -> None:
    """Residual std ≈ noise 0.5, signal std ≈ 1, global-mean RMSE ≈ 2.2 × noise; continuous ratings."""
    data, truth = ml100k_like
    best = truth.predict(data.users, data.items)
    assert truth.noise == 0.5
    assert abs(np.std(data.ratings - best) - 0.5) < 0.01
    assert abs(np.std(best - truth.mean) - 1.0) < 0.05
    global_mean_rmse = np.sqrt(np.mean((data.ratings - data.ratings.mean()) ** 2))
    assert 2.1 < global_mean_rmse / truth.noise < 2.35
    assert not np.all(data.ratings == np.round(data.ratings))  # not rounded to stars
    assert np.isfinite(data.ratings).all()


# --- make_synthetic: small instances ---------------------------------------------------------------


def test_synthetic_small_instance(small: Ratings) -> None:
    """Exact count, distinct pairs, the minimum per user and item, indices in range."""
    assert (small.n_users, small.n_items, len(small)) == (50, 40, 600)
    assert np.unique(pairs(small)).size == 600
    assert np.bincount(small.users, minlength=50).min() >= 5
    assert np.bincount(small.items, minlength=40).min() >= 5
    assert small.user_ids is None and small.item_ids is None


def test_synthetic_truth_predict_matches_formula() -> None:
    """truth.predict is mean + user bias + item bias + user·item factors."""
    data, truth = make_synthetic(20, 15, 120, rank=2, min_ratings=2, seed=3)
    u, i = data.users, data.items
    by_hand = (truth.mean + truth.user_bias[u] + truth.item_bias[i]
               + (truth.user_factors[u] * truth.item_factors[i]).sum(axis=1))
    np.testing.assert_allclose(truth.predict(u, i), by_hand, rtol=0, atol=1e-12)
    assert truth.mean == 3.5


def test_synthetic_is_deterministic_per_seed() -> None:
    """Same seed → identical data and truth; another seed → different data."""
    a, truth_a = make_synthetic(50, 40, 600, rank=3, seed=7)
    b, truth_b = make_synthetic(50, 40, 600, rank=3, seed=7)
    c, _ = make_synthetic(50, 40, 600, rank=3, seed=8)
    for field in ("users", "items", "ratings"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    np.testing.assert_array_equal(truth_a.user_factors, truth_b.user_factors)
    assert not np.array_equal(pairs(a), pairs(c))
    assert not np.allclose(np.sort(a.ratings), np.sort(c.ratings))


def test_synthetic_parameters_are_used() -> None:
    """rank, mean, noise and min_ratings shape the result."""
    data, truth = make_synthetic(40, 40, 700, rank=4, mean=2.0, noise=0.1, min_ratings=8, seed=1)
    assert truth.user_factors.shape == (40, 4) and truth.item_factors.shape == (40, 4)
    assert truth.mean == 2.0 and truth.noise == 0.1
    assert np.bincount(data.users, minlength=40).min() >= 8
    assert np.bincount(data.items, minlength=40).min() >= 8
    assert np.std(data.ratings - truth.predict(data.users, data.items)) < 0.15


BAD_SYNTHETIC = [
    pytest.param({"n_users": 0}, ValueError, "n_users", id="n_users-0"),
    pytest.param({"n_items": -3}, ValueError, "n_items", id="n_items-negative"),
    pytest.param({"n_ratings": 2.5}, TypeError, "n_ratings", id="n_ratings-float"),
    pytest.param({"rank": True}, TypeError, "rank", id="rank-bool"),
    pytest.param({"min_ratings": 0}, ValueError, "min_ratings", id="min_ratings-0"),
    pytest.param({"noise": 0.0}, ValueError, "noise", id="noise-0"),
    pytest.param({"noise": float("inf")}, ValueError, "noise", id="noise-inf"),
    pytest.param({"seed": -1}, ValueError, "seed", id="seed-negative"),
    pytest.param({"seed": "0"}, TypeError, "seed", id="seed-str"),
    pytest.param({"n_ratings": 1001}, ValueError, "n_ratings", id="more-than-half-the-matrix"),
    pytest.param({"n_ratings": 400}, ValueError, "n_ratings", id="fewer-than-the-minimum"),
    pytest.param({"min_ratings": 41}, ValueError, "min_ratings", id="min_ratings-above-items"),
    pytest.param({"user_bias_std": 0.8, "item_bias_std": 0.7}, ValueError, "user_bias_std",
                 id="biases-exceed-signal"),
]


@pytest.mark.parametrize(("kwargs", "error", "name"), BAD_SYNTHETIC)
def test_synthetic_bad_arguments(kwargs: dict[str, Any], error: type, name: str) -> None:
    """Impossible or malformed sizes are refused with a bilingual message naming the argument."""
    args = {"n_users": 50, "n_items": 40, "n_ratings": 600, **kwargs}
    with pytest.raises(error) as err:
        make_synthetic(**args)
    assert_bilingual(err, name)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        pytest.param({"user_bias_std": -0.1}, "user_bias_std", id="user_bias_std-negative"),
        pytest.param({"item_bias_std": -0.1}, "item_bias_std", id="item_bias_std-negative"),
        pytest.param({"mean": float("nan")}, "mean", id="mean-nan"),
        pytest.param({"zipf": float("nan")}, "zipf", id="zipf-nan"),
    ],
)
def test_synthetic_unchecked_float_arguments(kwargs: dict[str, Any], name: str) -> None:
    """Negative standard deviations and NaN mean/zipf are refused with a bilingual ValueError."""
    with pytest.raises(ValueError) as err:
        make_synthetic(50, 40, 600, **kwargs)
    assert_bilingual(err, name)


# --- split_random ----------------------------------------------------------------------------------


def test_split_random_default_is_80_10_10(small: Ratings) -> None:
    """Default fractions (0.1, 0.1): train 80 %, validation 10 %, test 10 %."""
    parts = split_random(small)
    assert [len(p) for p in parts] == [480, 60, 60]
    for part in parts:
        assert (part.n_users, part.n_items) == (small.n_users, small.n_items)


def test_split_random_parts_are_disjoint_and_complete(small: Ratings) -> None:
    """Every rating lands in exactly one part, with its own user, item and rating."""
    parts = split_random(small, (0.2, 0.15), seed=3)
    assert sum(len(p) for p in parts) == len(small)
    codes = np.concatenate([pairs(p) for p in parts])
    assert np.unique(codes).size == len(small)
    np.testing.assert_array_equal(np.sort(codes), np.sort(pairs(small)))
    rating_of = dict(zip(pairs(small).tolist(), small.ratings.tolist(), strict=True))
    for part in parts:
        assert all(rating_of[c] == r for c, r in zip(pairs(part).tolist(), part.ratings.tolist(),
                                                      strict=True))


def test_split_random_single_fraction(small: Ratings) -> None:
    """A single number gives (rest, part)."""
    rest, test = split_random(small, 0.25, seed=1)
    assert (len(rest), len(test)) == (450, 150)


def test_split_random_is_deterministic_by_seed(small: Ratings) -> None:
    """Same seed → the same parts; another seed → other parts."""
    a = split_random(small, seed=5)
    b = split_random(small, seed=5)
    c = split_random(small, seed=6)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(pairs(x), pairs(y))
    assert not np.array_equal(np.sort(pairs(a[1])), np.sort(pairs(c[1])))


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param(0, id="0"),
        pytest.param(1, id="1"),
        pytest.param(-0.1, id="-0.1"),
        pytest.param(1.5, id="1.5"),
        pytest.param(True, id="True"),
        pytest.param("0.1", id="str"),
    ],
)
def test_split_random_bad_fraction(small: Ratings, bad: Any) -> None:
    """A fraction outside (0, 1), a bool or a string → bilingual ValueError showing the value."""
    with pytest.raises(ValueError, match="strictly between 0 and 1") as err:
        split_random(small, (0.1, bad))
    assert_bilingual(err, "fractions")
    with pytest.raises(ValueError) as err:
        split_random(small, bad)
    assert_bilingual(err, "fractions")
    assert f"got {bad!r}" in str(err.value)


@pytest.mark.parametrize("fractions", [(0.5, 0.5), (0.6, 0.3, 0.2), (0.999, 0.001)])
def test_split_random_fractions_summing_to_one(small: Ratings, fractions: tuple[float, ...]) -> None:
    """Fractions must leave something for training: a sum ≥ 1 is refused."""
    with pytest.raises(ValueError, match="sum below 1") as err:
        split_random(small, fractions)
    assert_bilingual(err, "fractions")


@pytest.mark.parametrize("bad", [original_ratings(), [(0, 0, 5.0)], None])
def test_splitters_need_ratings(bad: Any) -> None:
    """`data` must be a Ratings object (a matrix is pointed to Ratings.from_dense)."""
    for split in (split_random, split_per_user):
        with pytest.raises(TypeError, match="from_dense") as err:
            split(bad)
        assert_bilingual(err, "data")


def test_splitters_refuse_empty_ratings() -> None:
    """No ratings → nothing to split."""
    empty = Ratings(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), 3, 3)
    for split in (split_random, split_per_user):
        with pytest.raises(ValueError) as err:
            split(empty)
        assert_bilingual(err, "data")


# --- split_per_user --------------------------------------------------------------------------------


def test_split_per_user_keeps_and_holds_out_for_every_user(small: Ratings) -> None:
    """Every user (all have ≥ 5 ratings) keeps ≥ 1 rating in train and holds out ≥ 1."""
    train, held = split_per_user(small, 0.2, seed=0)
    n_train = np.bincount(train.users, minlength=small.n_users)
    n_held = np.bincount(held.users, minlength=small.n_users)
    n_all = np.bincount(small.users, minlength=small.n_users)
    assert (n_train >= 1).all() and (n_held >= 1).all()
    np.testing.assert_array_equal(n_train + n_held, n_all)
    # max(1, round(0.2 n)) per user, at most n − 1
    np.testing.assert_array_equal(n_held, np.clip(np.round(0.2 * n_all), 1, n_all - 1))
    assert abs(len(held) / len(small) - 0.2) < 0.03


def test_split_per_user_is_disjoint_and_complete(small: Ratings) -> None:
    """The two parts partition the ratings."""
    train, held = split_per_user(small, 0.3, seed=2)
    assert len(train) + len(held) == len(small)
    codes = np.concatenate([pairs(train), pairs(held)])
    np.testing.assert_array_equal(np.sort(codes), np.sort(pairs(small)))
    assert (train.n_users, held.n_items) == (small.n_users, small.n_items)


def test_split_per_user_small_users_by_hand() -> None:
    """A user with one rating keeps it in train; a user with two keeps one and holds out one."""
    data = Ratings(
        users=np.array([0, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2]),
        items=np.array([0, 0, 1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]),
        ratings=np.arange(1.0, 14.0),
        n_users=4,  # user 3 has no rating at all
        n_items=10,
    )
    train, held = split_per_user(data, 0.5, seed=0)
    n_train = np.bincount(train.users, minlength=4).tolist()
    n_held = np.bincount(held.users, minlength=4).tolist()
    assert n_train == [1, 1, 5, 0]
    assert n_held == [0, 1, 5, 0]
    assert train.ratings[train.users == 0].tolist() == [1.0]


def test_split_per_user_is_deterministic_by_seed(small: Ratings) -> None:
    """Same seed → the same held-out ratings; another seed → others."""
    a = split_per_user(small, seed=4)[1]
    b = split_per_user(small, seed=4)[1]
    c = split_per_user(small, seed=9)[1]
    np.testing.assert_array_equal(pairs(a), pairs(b))
    assert not np.array_equal(np.sort(pairs(a)), np.sort(pairs(c)))


@pytest.mark.parametrize("bad", [0, 1, -0.2, 2, True, None])
def test_split_per_user_bad_fraction(small: Ratings, bad: Any) -> None:
    """`fraction` must be strictly between 0 and 1."""
    with pytest.raises(ValueError, match="strictly between 0 and 1") as err:
        split_per_user(small, bad)
    assert_bilingual(err, "fraction")


# --- timestamps (14) -------------------------------------------------------------------------------


def test_ratings_without_times_are_unchanged() -> None:
    """`timestamps` is optional: None by default, and `make_synthetic` gives none."""
    assert Ratings(U, I, R, 4, 5).timestamps is None
    assert make_synthetic(50, 40, 600, rank=3)[0].timestamps is None


def test_ratings_keep_int_and_float_times_without_copies() -> None:
    """Integer times (MovieLens seconds) and float times (days) are kept as they are."""
    for times in (np.array([881250949, 891717742, 878887116, 880606923]), np.array([0.5, 2.0, 1.25, 3.0])):
        data = Ratings(U, I, R, 4, 5, timestamps=times)
        assert data.timestamps is times
    assert Ratings(U, I, R, 4, 5, timestamps=[1, 2, 3, 4]).timestamps.tolist() == [1, 2, 3, 4]


@pytest.mark.parametrize(("times", "error", "text"), [
    pytest.param(np.arange(3), ValueError, "length 3 but there are 4", id="short"),
    pytest.param(np.array([1.0, np.nan, 2.0, np.inf]), ValueError, "2 NaN or infinite.*position 1", id="nan"),
    pytest.param(np.arange(4).reshape(2, 2), ValueError, "1-D", id="2-d"),
    pytest.param(np.array(["2020-01-01"] * 4), TypeError, "1 January 1970", id="strings"),
    pytest.param(np.ones(4, dtype=bool), TypeError, "dtype bool", id="bool"),
])
def test_bad_timestamps_are_refused_where_made(times: Any, error: type, text: str) -> None:
    """A malformed `timestamps` → a bilingual error naming it, at construction."""
    with pytest.raises(error, match=text) as err:
        Ratings(U, I, R, 4, 5, timestamps=times)
    assert_bilingual(err, "timestamps")


def test_timestamps_follow_their_ratings_through_every_split(small: Ratings) -> None:
    """subset, split_random, split_per_user and split_leave_one_out carry each rating's time along."""
    from helpers.datasets import split_leave_one_out

    times = np.arange(len(small)) * 10 + 7  # a time that encodes the rating's position
    data = Ratings(small.users, small.items, small.ratings, small.n_users, small.n_items, timestamps=times)
    code_time = dict(zip(pairs(data).tolist(), times.tolist(), strict=True))
    parts = [*split_random(data), *split_per_user(data), *split_leave_one_out(data),
             data.subset(np.array([5, 3])), data.subset(data.ratings > 3.5)]
    for part in parts:
        assert part.timestamps is not None and part.timestamps.size == len(part)
        assert [code_time[c] for c in pairs(part).tolist()] == part.timestamps.tolist()
    # the split without times is the same split: timestamps do not change which rating goes where
    for with_times, without in zip(split_random(data), split_random(small), strict=True):
        np.testing.assert_array_equal(pairs(with_times), pairs(without))
    for part in split_per_user(small):
        assert part.timestamps is None
