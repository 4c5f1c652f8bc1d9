"""Tests of the ranking metrics beyond 08 in `helpers.metrics` (12, 13).

Hit rate, MRR, catalogue coverage, mean popularity of what is recommended, per-user scores,
bootstrap intervals over users and the paired bootstrap comparison of two models.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers.datasets import Ratings
from helpers.metrics import (
    bootstrap_ci,
    coverage,
    head_items,
    hit_rate_at_k,
    long_tail_share,
    mean_popularity,
    mrr_at_k,
    ndcg_at_k,
    novelty,
    paired_bootstrap,
    per_user_scores,
    precision_at_k,
    ranking_report,
    recall_at_k,
    sampled_metrics,
    sampled_ranks,
)
from tests.bilingual import assert_bilingual

RECOMMENDED = [3, 1, 4, 5, 9]
RELEVANT = {1, 9, 7}

# --- hit rate and MRR ------------------------------------------------------------------------------


def test_hit_rate_and_mrr_by_hand() -> None:
    """[3, 1, 4, 5, 9] vs {1, 9, 7}: first hit at rank 2, so hit 1 and MRR 1/2 for k ≥ 2; nothing at k = 1."""
    for k in (2, 3, 5, 10):
        assert hit_rate_at_k(RECOMMENDED, RELEVANT, k) == 1.0
        assert mrr_at_k(RECOMMENDED, RELEVANT, k) == 1 / 2
    assert hit_rate_at_k(RECOMMENDED, RELEVANT, 1) == 0.0
    assert mrr_at_k(RECOMMENDED, RELEVANT, 1) == 0.0
    # only the later hit at rank 5 counts once 1 is gone
    assert mrr_at_k([3, 2, 4, 5, 9], RELEVANT, 5) == 1 / 5
    assert mrr_at_k([3, 2, 4, 5, 9], RELEVANT, 4) == 0.0
    assert mrr_at_k([9, 1], RELEVANT, 2) == 1.0
    assert hit_rate_at_k(np.array(RECOMMENDED), [1, 9, 7], 5) == 1.0  # arrays and lists work too


def test_hit_rate_and_mrr_with_padding() -> None:
    """-1 is an empty slot: never a hit, but it keeps its position (the hit after two slots is rank 3)."""
    assert mrr_at_k([-1, -1, 9], RELEVANT, 3) == 1 / 3
    assert hit_rate_at_k([-1, -1, 9], RELEVANT, 3) == 1.0
    assert hit_rate_at_k([-1, -1, 9], RELEVANT, 2) == 0.0
    assert mrr_at_k(np.full(5, -1), RELEVANT, 5) == 0.0
    assert hit_rate_at_k(np.full(5, -1), RELEVANT, 5) == 0.0
    with pytest.raises(ValueError, match="more than once"):
        mrr_at_k([1, -1, 1], RELEVANT, 3)


@pytest.mark.parametrize("metric", [hit_rate_at_k, mrr_at_k])
@pytest.mark.parametrize(("k", "error"), [(0, ValueError), (-1, ValueError), (2.5, TypeError),
                                          (True, TypeError)])
def test_hit_rate_and_mrr_bad_k(metric: Any, k: Any, error: type) -> None:
    """k must be a positive integer."""
    with pytest.raises(error) as err:
        metric(RECOMMENDED, RELEVANT, k)
    assert_bilingual(err, "k")


@pytest.mark.parametrize("metric", [hit_rate_at_k, mrr_at_k])
def test_hit_rate_and_mrr_need_relevant_items(metric: Any) -> None:
    """As recall and NDCG: undefined without a relevant item (such users are left out of reports)."""
    with pytest.raises(ValueError, match="undefined") as err:
        metric(RECOMMENDED, set(), 5)
    assert_bilingual(err, "relevant")


@settings(max_examples=150, deadline=None)
@given(
    recommended=st.lists(st.integers(-1, 30), max_size=20).map(
        lambda xs: [x for i, x in enumerate(xs) if x < 0 or x not in xs[:i]]),
    relevant=st.sets(st.integers(0, 30), min_size=1, max_size=15),
    k=st.integers(1, 25),
)
def test_order_of_the_metrics(recommended: list[int], relevant: set[int], k: int) -> None:
    """1 ≥ hit rate ≥ MRR ≥ 0; hit rate ≥ NDCG and ≥ precision; recall ≤ 1; MRR is 0 or ≥ 1/k."""
    hit = hit_rate_at_k(recommended, relevant, k)
    mrr = mrr_at_k(recommended, relevant, k)
    assert hit in (0.0, 1.0)
    assert 1.0 >= hit >= mrr >= 0.0
    assert mrr == 0.0 or mrr >= 1 / k
    assert hit >= ndcg_at_k(recommended, relevant, k) - 1e-12
    assert hit >= precision_at_k(recommended, relevant, k)
    assert 0.0 <= recall_at_k(recommended, relevant, k) <= 1.0
    assert (hit == 1.0) == any(item in relevant for item in recommended[:k] if item >= 0)


@settings(max_examples=100, deadline=None)
@given(recommended=st.lists(st.integers(0, 30), unique=True, max_size=20), held_out=st.integers(0, 30),
       k=st.integers(1, 25))
def test_leave_one_out(recommended: list[int], held_out: int, k: int) -> None:
    """With one relevant item: hit rate = recall, and MRR = 1/j ≤ NDCG = 1/log2(j + 1) ≤ hit rate."""
    relevant = {held_out}
    hit = hit_rate_at_k(recommended, relevant, k)
    assert hit == recall_at_k(recommended, relevant, k)
    assert mrr_at_k(recommended, relevant, k) <= ndcg_at_k(recommended, relevant, k) + 1e-12 <= hit + 2e-12


# --- coverage and mean popularity ------------------------------------------------------------------


def test_coverage_by_hand() -> None:
    """Lists {0, 1, 2} and {2, 3, -1}: 4 distinct items of 10 → 0.4; first 1 item each: {0, 2} → 0.2."""
    lists = {7: [0, 1, 2], 8: [2, 3, -1]}
    assert coverage(lists, 10) == 0.4
    assert coverage(np.array([[0, 1, 2], [2, 3, -1]]), 10) == 0.4  # a top_n array
    assert coverage([[0, 1, 2], [2, 3]], 10) == 0.4  # lists of different lengths
    assert coverage(lists, 10, k=1) == 0.2
    assert coverage(lists, 4) == 1.0
    assert coverage([[-1, -1]], 5) == 0.0


def test_coverage_of_popularity_is_k_over_n_items() -> None:
    """The same list for every user covers k / n_items of the catalogue."""
    top = np.tile(np.arange(10), (50, 1))
    assert coverage(top, 200) == 10 / 200


def test_mean_popularity_by_hand() -> None:
    """counts [10, 4, 2, 0, 1]; user a [0, 1] → 7, user b [3, -1] → 0 (the slot is skipped), mean 3.5.

    An all-padding list is left out; shares (counts / 20 users) give the same number / 20.
    """
    counts = np.array([10, 4, 2, 0, 1])
    lists = {"a": [0, 1], "b": [3, -1], "c": [-1, -1]}
    assert mean_popularity(lists, counts) == 3.5
    assert math.isclose(mean_popularity(lists, counts / 20), 3.5 / 20)
    assert mean_popularity(lists, counts, k=1) == (10 + 0) / 2
    # the per-user mean comes first: a long list does not weigh more than a short one
    assert mean_popularity([[0], [2, 3, 4, 3]], counts) == (10 + 3 / 4) / 2


def test_mean_popularity_separates_popular_from_long_tail() -> None:
    """Recommending the most popular items gives far more than the catalogue mean; the least, far less."""
    counts = np.arange(100, 0, -1)  # item 0 most popular
    popular = np.tile(np.arange(10), (5, 1))
    tail = np.tile(np.arange(90, 100), (5, 1))
    assert mean_popularity(popular, counts) > counts.mean() > mean_popularity(tail, counts)


@pytest.mark.parametrize(("call", "names"), [
    (lambda: coverage({}, 10), ["recommended_lists"]),
    (lambda: coverage([], 10), ["recommended_lists"]),
    (lambda: coverage([[0, 12]], 10), ["recommended_lists", "n_items"]),
    (lambda: coverage([[0, 1]], 0), ["n_items"]),
    (lambda: coverage([[0, 1]], 10, k=0), ["k"]),
    (lambda: mean_popularity([[0, 1]], []), ["item_counts"]),
    (lambda: mean_popularity([[0, 1]], [1, -2]), ["item_counts"]),
    (lambda: mean_popularity([[0, 1]], [1, np.nan]), ["item_counts"]),
    (lambda: mean_popularity([[0, 5]], [1, 2]), ["recommended_lists", "item_counts"]),
    (lambda: mean_popularity([[-1], [-1, -1]], [1, 2]), ["recommended_lists"]),
    (lambda: mean_popularity([], [1, 2]), ["recommended_lists"]),
])
def test_coverage_and_popularity_bad_input(call: Any, names: list[str]) -> None:
    """Empty input, items outside the catalogue, negative or NaN counts → bilingual ValueError."""
    with pytest.raises(ValueError) as err:
        call()
    assert_bilingual(err, *names)


def test_coverage_refuses_float_item_ids() -> None:
    """Item ids are integers: a float list (e.g. scores passed by mistake) → bilingual TypeError."""
    with pytest.raises(TypeError) as err:
        coverage([[0.5, 1.2]], 10)
    assert_bilingual(err, "recommended_lists")


# --- per-user scores -------------------------------------------------------------------------------

REC = {0: [1, 2, 3], 1: [4, 5, 6], 2: [7, 8, 9], 3: [-1, 9, 8]}
REL = {0: {1}, 1: {6, 10}, 2: set(), 3: {8}}


def test_per_user_scores_by_hand() -> None:
    """User 2 (no relevant item) is left out; users 0, 1, 3 in the order of `relevant`."""
    assert per_user_scores(REC, REL, 3, "hit_rate").tolist() == [1.0, 1.0, 1.0]
    assert per_user_scores(REC, REL, 3, "mrr").tolist() == [1.0, 1 / 3, 1 / 3]
    assert per_user_scores(REC, REL, 3, "precision").tolist() == [1 / 3, 1 / 3, 1 / 3]
    assert per_user_scores(REC, REL, 3, "recall").tolist() == [1.0, 1 / 2, 1.0]
    ndcg = per_user_scores(REC, REL, 3)
    assert ndcg.dtype == np.float64 and ndcg.shape == (3,)
    assert np.allclose(ndcg, [1.0, (1 / math.log2(4)) / (1 + 1 / math.log2(3)), 1 / math.log2(4)])
    assert per_user_scores(REC, REL, 1, "hit_rate").tolist() == [1.0, 0.0, 0.0]


def test_per_user_scores_average_to_ranking_report() -> None:
    """The mean of each per-user array is the matching `ranking_report(..., extra=True)` entry."""
    report = ranking_report(REC, REL, 3, extra=True)
    assert list(report) == ["precision@3", "recall@3", "ndcg@3", "hit_rate@3", "mrr@3", "users"]
    for metric in ("precision", "recall", "ndcg", "hit_rate", "mrr"):
        scores = per_user_scores(REC, REL, 3, metric)
        assert math.isclose(scores.mean(), report[f"{metric}@3"])
        assert scores.size == report["users"]
    capped = per_user_scores({0: [1, 2]}, {0: {1, 2, 3, 4}}, 2, "recall", capped=True)
    assert capped.tolist() == [1.0]


def test_ranking_report_default_is_unchanged() -> None:
    """Without `extra` the report has exactly the keys and values 08 prints."""
    plain = ranking_report(REC, REL, 3)
    assert list(plain) == ["precision@3", "recall@3", "ndcg@3", "users"]
    extra = ranking_report(REC, REL, 3, extra=True)
    assert {key: extra[key] for key in plain} == plain


def test_per_user_scores_bad_input() -> None:
    """Unknown metric, k < 1, no user with relevant items, a user without a list → bilingual errors."""
    with pytest.raises(ValueError) as err:
        per_user_scores(REC, REL, 3, "auc")
    assert_bilingual(err, "metric")
    with pytest.raises(ValueError) as err:
        per_user_scores(REC, REL, 0)
    assert_bilingual(err, "k")
    with pytest.raises(ValueError, match="No user has a relevant item") as err:
        per_user_scores(REC, {0: set()}, 3)
    assert_bilingual(err)
    with pytest.raises(ValueError, match="No recommendations for user 9") as err:
        per_user_scores(REC, {9: {1}}, 3)
    assert_bilingual(err)


# --- bootstrap intervals ---------------------------------------------------------------------------


def _scores(n: int, seed: int = 1) -> np.ndarray:
    """NDCG-like per-user scores: many zeros, the rest spread over (0, 1]."""
    rng = np.random.default_rng(seed)
    return np.where(rng.random(n) < 0.5, 0.0, rng.random(n))


def test_bootstrap_is_deterministic_by_seed() -> None:
    """Same seed → the same interval; another seed → a slightly different one; the mean never moves."""
    values = _scores(300)
    assert bootstrap_ci(values, seed=3) == bootstrap_ci(values, seed=3)
    other = bootstrap_ci(values, seed=4)
    assert other != bootstrap_ci(values, seed=3)
    assert other[0] == bootstrap_ci(values, seed=3)[0] == values.mean()


def test_bootstrap_interval_contains_the_mean() -> None:
    """low < mean < high, within [min, max]; a higher level gives a wider interval."""
    values = _scores(500)
    mean, low, high = bootstrap_ci(values)
    assert math.isclose(mean, values.mean())
    assert values.min() <= low < mean < high <= values.max()
    _, low99, high99 = bootstrap_ci(values, level=0.99)
    assert low99 <= low and high <= high99
    # about mean ± 1.96 standard errors for a sample this size
    se = values.std() / math.sqrt(values.size)
    assert 0.85 < (high - low) / (2 * 1.96 * se) < 1.15


def test_bootstrap_interval_shrinks_with_more_users() -> None:
    """4× the users (the same values repeated 4 times: same spread) → about half the width."""
    values = _scores(400)
    _, low, high = bootstrap_ci(values, n_boot=2000)
    _, low4, high4 = bootstrap_ci(np.tile(values, 4), n_boot=2000)
    assert 0.4 < (high4 - low4) / (high - low) < 0.6


def test_bootstrap_of_constant_scores_has_zero_width() -> None:
    """Every user scores 0.3 → the interval is the single point 0.3; one user works too."""
    assert bootstrap_ci(np.full(50, 0.3)) == pytest.approx((0.3, 0.3, 0.3))
    assert bootstrap_ci([0.7]) == (0.7, 0.7, 0.7)


def test_paired_bootstrap_detects_a_real_difference() -> None:
    """b = a - 0.05 with a little per-user noise: the interval of a - b lies above 0, share ≈ 0."""
    rng = np.random.default_rng(0)
    a = _scores(500)
    b = a - 0.05 + rng.normal(0, 0.05, a.size)
    mean, low, high, share = paired_bootstrap(a, b)
    assert math.isclose(mean, (a - b).mean())
    assert 0 < low < mean < high
    assert share == 0.0
    # the reverse comparison mirrors it
    mean_r, low_r, high_r, share_r = paired_bootstrap(b, a)
    assert math.isclose(mean_r, -mean) and high_r < 0 and share_r == 1.0


def test_paired_bootstrap_finds_nothing_between_identical_models() -> None:
    """The same scores → difference 0, interval [0, 0], every resampled difference ≤ 0 (share 1)."""
    a = _scores(500)
    assert paired_bootstrap(a, a.copy()) == (0.0, 0.0, 0.0, 1.0)


def test_paired_bootstrap_sees_what_separate_intervals_miss() -> None:
    """Users differ much more than the models do: the two separate intervals overlap, yet the
    paired interval of the difference (0.02 on average) excludes 0. A gap this small is noise when
    compared unpaired."""
    rng = np.random.default_rng(2)
    a = _scores(1000)
    b = a - 0.02 + rng.normal(0, 0.03, a.size)
    _, low_a, high_a = bootstrap_ci(a)
    _, low_b, high_b = bootstrap_ci(b)
    assert low_a < high_b and low_b < high_a  # overlapping separate intervals
    _, low, _, share = paired_bootstrap(a, b)
    assert low > 0 and share < 0.025


def test_paired_bootstrap_with_pure_noise_includes_zero() -> None:
    """b = a + noise of mean 0: the interval of the difference contains 0."""
    rng = np.random.default_rng(5)
    a = _scores(500)
    b = a + rng.normal(0, 0.05, a.size)
    b -= (b - a).mean()  # exactly the same mean
    mean, low, high, share = paired_bootstrap(a, b)
    assert abs(mean) < 1e-12 and low < 0 < high and 0.2 < share < 0.8


@settings(max_examples=60, deadline=None)
@given(values=st.lists(st.floats(0, 1), min_size=1, max_size=60), seed=st.integers(0, 2**31))
def test_bootstrap_interval_is_ordered_and_within_the_data(values: list[float], seed: int) -> None:
    """min ≤ low ≤ high ≤ max, and the mean lies within [min, max]."""
    mean, low, high = bootstrap_ci(values, n_boot=200, seed=seed)
    assert min(values) - 1e-12 <= low <= high <= max(values) + 1e-12
    assert min(values) - 1e-12 <= mean <= max(values) + 1e-12


@settings(max_examples=40, deadline=None)
@given(values=st.lists(st.floats(0, 1), min_size=1, max_size=40), shift=st.floats(0.01, 0.5))
def test_paired_bootstrap_of_a_constant_shift(values: list[float], shift: float) -> None:
    """a = b + shift for every user: the difference is the shift with zero width, share 0."""
    b = np.array(values)
    mean, low, high, share = paired_bootstrap(b + shift, b, n_boot=100)
    assert mean == pytest.approx(shift) and low == pytest.approx(shift) and high == pytest.approx(shift)
    assert share == 0.0


@pytest.mark.parametrize(("kwargs", "names"), [
    ({"values": []}, ["values"]),
    ({"values": [[0.1, 0.2]]}, ["values"]),
    ({"values": [0.1, np.nan]}, ["values"]),
    ({"values": [0.1], "level": 0}, ["level"]),
    ({"values": [0.1], "level": 1}, ["level"]),
    ({"values": [0.1], "level": 1.5}, ["level"]),
    ({"values": [0.1], "level": -0.95}, ["level"]),
    ({"values": [0.1], "level": math.nan}, ["level"]),
    ({"values": [0.1], "level": True}, ["level"]),
    ({"values": [0.1], "n_boot": 0}, ["n_boot"]),
])
def test_bootstrap_bad_input(kwargs: dict[str, Any], names: list[str]) -> None:
    """Empty, non-1-D or non-finite scores, level outside (0, 1), n_boot < 1 → bilingual ValueError."""
    with pytest.raises(ValueError) as err:
        bootstrap_ci(kwargs.pop("values"), **kwargs)
    assert_bilingual(err, *names)


def test_paired_bootstrap_bad_input() -> None:
    """Different numbers of users, or an empty side, or a bad level → bilingual ValueError."""
    with pytest.raises(ValueError) as err:
        paired_bootstrap([0.1, 0.2], [0.1])
    assert_bilingual(err, "a", "b")
    with pytest.raises(ValueError) as err:
        paired_bootstrap([], [0.1])
    assert_bilingual(err, "a")
    with pytest.raises(ValueError) as err:
        paired_bootstrap([0.1], [0.2], level=2)
    assert_bilingual(err, "level")
    with pytest.raises(TypeError) as err:
        paired_bootstrap([0.1], [0.2], n_boot=2.5)
    assert_bilingual(err, "n_boot")


# --- novelty, long tail and sampled metrics (13) ------------------------------------------------


def test_novelty_by_hand() -> None:
    """Counts 3, 1, 0, 0 (+1 each, over 4 + 4 = 8): p = 1/2, 1/4, 1/8, 1/8, so 1, 2, 3, 3 bits."""
    counts = np.array([3, 1, 0, 0])
    assert novelty([[0, 1], [2]], counts) == pytest.approx((1.5 + 3.0) / 2)
    assert novelty([[0, 1, -1], [-1, -1]], counts) == pytest.approx(1.5)  # an all-empty list is left out
    assert novelty({7: [3, 0], 8: [1]}, counts, k=1) == pytest.approx((3 + 2) / 2)
    assert novelty(np.array([[0, 1]]), counts * 10) < novelty(np.array([[2, 3]]), counts * 10)


def test_head_items_and_long_tail_share_by_hand() -> None:
    """Counts 10, 5, 3, 2 (20 in all): 20% = 4 is reached by item 0 alone; 60% = 12 by items 0 and 1."""
    counts = np.array([10, 5, 3, 2])
    assert head_items(counts).tolist() == [True, False, False, False]
    assert head_items(counts, head_share=0.6).tolist() == [True, True, False, False]
    assert head_items(np.array([2, 5, 5, 8]), head_share=0.5).tolist() == [False, True, False, True]  # ties
    assert long_tail_share([[0, 1], [2, 3]], counts) == pytest.approx((0.5 + 1.0) / 2)
    assert long_tail_share([[0, 1], [2, 3]], counts, head_share=0.6) == pytest.approx(0.5)
    assert long_tail_share([[0, -1], [0, 2]], counts, k=1) == 0.0


@pytest.mark.parametrize(("call", "error", "names"), [
    (lambda: novelty([[0]], [0, 0]), ValueError, ("item_counts",)),
    (lambda: novelty([[0]], [1, -1]), ValueError, ("item_counts",)),
    (lambda: novelty([[5]], [1, 1]), ValueError, ("recommended_lists", "item_counts")),
    (lambda: novelty([[-1]], [1, 1]), ValueError, ("recommended_lists",)),
    (lambda: novelty([[0]], [1, 1], k=0), ValueError, ("k",)),
    (lambda: long_tail_share([[0]], [1, 1], head_share=1.0), ValueError, ("head_share",)),
    (lambda: head_items([1, 1], head_share=0), ValueError, ("head_share",)),
    (lambda: long_tail_share([[0.5]], [1, 1]), TypeError, ("recommended_lists",)),
])
def test_novelty_and_long_tail_errors(call: Any, error: type, names: tuple[str, ...]) -> None:
    with pytest.raises(error) as err:
        call()
    assert_bilingual(err, *names)


def _ratings(pairs: list[tuple[int, int]], n_users: int, n_items: int) -> Ratings:
    users, items = np.array(pairs).T
    return Ratings(users, items, np.ones(len(pairs)), n_users, n_items)


def test_sampled_ranks_and_metrics_by_hand() -> None:
    """6 items; user 0 trained on item 0, held out item 2: the 3 other items 1, 3, 4 (5 is user 0's
    second test item) are the negatives. Score = item index: 3 and 4 rank above 2, so rank 2."""
    train = _ratings([(0, 0), (1, 1)], 2, 6)
    test = _ratings([(0, 2), (0, 5), (1, 3)], 2, 6)
    by_index = lambda users: np.tile(np.arange(6.0), (len(users), 1))  # noqa: E731
    ranks = sampled_ranks(by_index, test, train, n_negatives=3)
    # (0, 2): 3, 4 above; (0, 5): none of 1, 3, 4 above; (1, 3): 3 of {0, 2, 4, 5} drawn, only 4 and 5 above
    assert ranks[0] == 2 and ranks[1] == 0 and 0 <= ranks[2] <= 2
    full = sampled_ranks(by_index, test.subset(np.array([2])), train, n_negatives=4, seed=3)
    assert full.tolist() == [2]  # user 1 with all 4 negatives: 4 and 5 above item 3
    flat = lambda users: np.zeros((len(users), 6))  # noqa: E731
    assert sampled_ranks(flat, test, train, n_negatives=3).tolist()[:2] == [1, 3]  # ties: lower index first
    report = sampled_metrics(by_index, test.subset(np.array([0, 1])), train, n_negatives=3, k=2)
    assert report == {"hit_rate@2": 0.5, "ndcg@2": 0.5, "pairs": 2.0}
    report = sampled_metrics(by_index, test.subset(np.array([0, 1])), train, n_negatives=3, k=3)
    assert report["hit_rate@3"] == 1.0 and report["ndcg@3"] == pytest.approx((1 / np.log2(4) + 1) / 2)


def test_sampled_ranks_with_every_negative_is_the_full_rank_and_seeded() -> None:
    """Drawing all unseen items as negatives gives the full rank among them; fewer are seeded draws."""
    rng = np.random.default_rng(0)
    n_items, n_users = 30, 8
    seen = rng.random((n_users, n_items)) < 0.3
    seen[:, 0] = True  # every user has item 0 ...
    held = np.zeros_like(seen)
    held[np.arange(n_users), 1 + np.arange(n_users)] = True  # ... and holds out item u + 1
    seen &= ~held
    train = _ratings(list(zip(*np.nonzero(seen), strict=True)), n_users, n_items)
    test = _ratings(list(zip(*np.nonzero(held), strict=True)), n_users, n_items)
    table = rng.random((n_users, n_items))
    score = lambda users: table[users]  # noqa: E731
    unseen = ~(seen | held)
    fewest = int(unseen.sum(axis=1).min())
    expected = [(unseen[u] & (table[u] > table[u, i])).sum()
                for u, i in zip(test.users, test.items, strict=True)]
    only = test.subset(test.users == int(np.argmin(unseen.sum(axis=1))))
    u, i = int(only.users[0]), int(only.items[0])
    assert sampled_ranks(score, only, train, n_negatives=fewest).tolist() == \
        [int((unseen[u] & (table[u] > table[u, i])).sum())]
    a = sampled_ranks(score, test, train, n_negatives=fewest - 3, seed=1)
    assert np.array_equal(a, sampled_ranks(score, test, train, n_negatives=fewest - 3, seed=1))
    assert (a <= np.array(expected)).all()  # a subset of the unseen items ranks it no lower
    others = [sampled_ranks(score, test, train, n_negatives=fewest - 3, seed=s) for s in range(2, 6)]
    assert any(not np.array_equal(a, b) for b in others)


def test_sampled_metrics_errors() -> None:
    train = _ratings([(0, 0), (1, 1)], 2, 6)
    test = _ratings([(0, 2), (0, 5), (1, 3)], 2, 6)
    score = lambda users: np.zeros((len(users), 6))  # noqa: E731
    with pytest.raises(ValueError) as err:  # user 0 has only 3 unseen items
        sampled_ranks(score, test, train, n_negatives=4)
    assert_bilingual(err, "n_negatives")
    with pytest.raises(ValueError) as err:
        sampled_metrics(score, test, train, n_negatives=3, k=5)
    assert_bilingual(err, "k", "n_negatives")
    with pytest.raises(ValueError) as err:
        sampled_metrics(score, test, train, n_negatives=0)
    assert_bilingual(err, "n_negatives")
    with pytest.raises(ValueError) as err:
        sampled_ranks(lambda users: np.zeros((len(users), 5)), test, train, n_negatives=2)
    assert_bilingual(err, "score")
    with pytest.raises(ValueError) as err:
        sampled_ranks(lambda users: np.full((len(users), 6), np.nan), test, train, n_negatives=2)
    assert_bilingual(err, "score")
    with pytest.raises(TypeError) as err:
        sampled_ranks(score, {0: [2]}, train)
    assert_bilingual(err, "test")


def test_random_scorer_with_the_same_seed_is_not_the_sampler() -> None:
    """A random scorer seeded like the sampler must still rank the held-out item near the middle."""
    n_items = 300
    train = _ratings([(u, u) for u in range(200)], 200, n_items)
    test = _ratings([(u, u + 1) for u in range(200)], 200, n_items)
    scorer = np.random.default_rng(0)
    ranks = sampled_ranks(lambda users: scorer.random((len(users), n_items)), test, train, n_negatives=100,
                          seed=0)
    assert 40 < ranks.mean() < 60  # uniform on 0..100: mean 50, standard error 29 / √200 ≈ 2
