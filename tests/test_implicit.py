"""Tests for helpers.implicit: interactions with known truth, their split and the reference rankings (12)."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.datasets import Ratings
from helpers.implicit import (
    make_interactions,
    popularity_top_n,
    random_top_n,
    reference_ndcg,
    split_interactions_per_user,
)
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
