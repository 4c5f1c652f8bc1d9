"""Tests of `helpers.models.BiasedMF` and `helpers.metrics` (error and ranking metrics)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import masked_squared_loss, original_ratings
from helpers.datasets import Ratings
from helpers.metrics import mae, ndcg_at_k, precision_at_k, ranking_report, recall_at_k, rmse
from helpers.models import BiasedMF
from tests.bilingual import assert_bilingual


def model_with_biases(n_users: int = 6, n_items: int = 5, rank: int = 3) -> BiasedMF:
    """A float64 model whose biases are not zero, so every term of the formula matters."""
    model = BiasedMF(n_users, n_items, rank, global_mean=3.25, seed=4, dtype=torch.float64)
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        model.user_bias.weight.copy_(torch.randn(n_users, 1, generator=generator, dtype=torch.float64))
        model.item_bias.weight.copy_(torch.randn(n_items, 1, generator=generator, dtype=torch.float64))
    return model


# --- BiasedMF --------------------------------------------------------------------------------------


def test_biased_mf_shapes_and_initial_state() -> None:
    """Embedding tables of the right shapes; biases start at 0, factors small, μ a buffer."""
    model = BiasedMF(7, 4, 3, global_mean=3.5)
    assert (model.n_users, model.n_items, model.rank) == (7, 4, 3)
    assert model.user_factors.weight.shape == (7, 3)
    assert model.item_factors.weight.shape == (4, 3)
    assert model.user_bias.weight.shape == (7, 1) and model.item_bias.weight.shape == (4, 1)
    assert torch.all(model.user_bias.weight == 0) and torch.all(model.item_bias.weight == 0)
    assert 0 < float(model.user_factors.weight.detach().std()) < 0.3
    assert float(model.global_mean) == 3.5
    assert "global_mean" in dict(model.named_buffers())
    assert "global_mean" not in dict(model.named_parameters())  # μ is fixed
    assert model.user_factors.weight.dtype == torch.float32


def test_biased_mf_is_seeded() -> None:
    """Same seed → same factors; another seed → other factors."""
    a, b, c = BiasedMF(5, 4, 2, seed=3), BiasedMF(5, 4, 2, seed=3), BiasedMF(5, 4, 2, seed=4)
    assert torch.equal(a.item_factors.weight, b.item_factors.weight)
    assert not torch.equal(a.item_factors.weight, c.item_factors.weight)


def test_forward_is_the_formula() -> None:
    """model(u, i) = μ + b_u + b_i + p_u·q_i, computed by hand from the weights."""
    model = model_with_biases()
    users = torch.tensor([0, 5, 2, 2, 3])
    items = torch.tensor([4, 0, 1, 3, 3])
    out = model(users, items).detach()
    assert out.shape == (5,) and out.dtype == torch.float64
    P, Q = model.user_factors.weight.detach(), model.item_factors.weight.detach()
    bu, bi = model.user_bias.weight.detach()[:, 0], model.item_bias.weight.detach()[:, 0]
    for k, (u, i) in enumerate(zip(users.tolist(), items.tolist(), strict=True)):
        by_hand = 3.25 + bu[u] + bi[i] + sum(P[u, f] * Q[i, f] for f in range(3))
        assert math.isclose(float(out[k]), float(by_hand), rel_tol=0, abs_tol=1e-12)


def test_predict_returns_float64_numpy() -> None:
    """predict accepts lists/arrays and returns a float64 array equal to forward."""
    model = BiasedMF(4, 3, 2, global_mean=3.0)
    out = model.predict([0, 3, 1], np.array([2, 0, 1]))
    assert isinstance(out, np.ndarray) and out.dtype == np.float64 and out.shape == (3,)
    expected = model(torch.tensor([0, 3, 1]), torch.tensor([2, 0, 1])).detach().double().numpy()
    np.testing.assert_array_equal(out, expected)


def test_model_matches_the_dense_masked_loss_on_the_toy() -> None:
    """Zero biases, μ = 0: Σ over observed (r − r̂)² equals masked_squared_loss(R, Pᵀ, Qᵀ)."""
    R = original_ratings()
    data = Ratings.from_dense(R)
    model = BiasedMF(5, 4, 2, global_mean=0.0, seed=2, dtype=torch.float64)
    predicted = model.predict(data.users, data.items)
    triple_loss = float(np.sum((data.ratings - predicted) ** 2))
    P = model.user_factors.weight.detach().T  # (rank, users), the layout of Part I
    Q = model.item_factors.weight.detach().T
    dense_loss = float(masked_squared_loss(R, P, Q))
    assert math.isclose(triple_loss, dense_loss, rel_tol=1e-12)
    assert triple_loss > 0


@pytest.mark.parametrize("bad", [-1, 6, 2.5, [0, 6], np.array([1, -2])],
                         ids=["-1", "n_users", "2.5", "list", "array"])
def test_predict_unknown_user(bad: Any) -> None:
    """An index the model never saw → bilingual ValueError pointing new users to `fold_in`."""
    model = model_with_biases()
    items = np.zeros(np.size(bad), dtype=np.int64)
    with pytest.raises(ValueError, match="never seen") as err:
        model.predict(bad, items)
    assert_bilingual(err, "users", "fold_in")


@pytest.mark.parametrize("bad", [-1, 5, 2.5], ids=["-1", "n_items", "2.5"])
def test_predict_unknown_item(bad: Any) -> None:
    """An unknown item → bilingual ValueError naming `items` (no fold_in hint: it is about users)."""
    model = model_with_biases()
    with pytest.raises(ValueError, match="never seen") as err:
        model.predict(0, bad)
    assert_bilingual(err, "items")
    assert "fold_in" not in str(err.value)


@pytest.mark.parametrize(
    ("args", "error", "name"),
    [
        pytest.param((0, 4, 2), ValueError, "n_users", id="n_users-0"),
        pytest.param((4, -1, 2), ValueError, "n_items", id="n_items-negative"),
        pytest.param((4, 4, 2.5), TypeError, "rank", id="rank-float"),
        pytest.param((4, 4, True), TypeError, "rank", id="rank-bool"),
    ],
)
def test_biased_mf_bad_sizes(args: tuple[Any, ...], error: type, name: str) -> None:
    """Sizes must be positive integers."""
    with pytest.raises(error) as err:
        BiasedMF(*args)
    assert_bilingual(err, name)


# --- rmse, mae -------------------------------------------------------------------------------------


def test_rmse_and_mae_by_hand() -> None:
    """errors (0, 0, −2): RMSE = √(4/3), MAE = 2/3; errors (1, −1, 1, −1): both 1."""
    assert math.isclose(rmse([1, 2, 3], [1, 2, 5]), math.sqrt(4 / 3))
    assert math.isclose(mae([1, 2, 3], [1, 2, 5]), 2 / 3)
    assert rmse([2, 1, 4, 3], [1, 2, 3, 4]) == 1.0
    assert mae([2, 1, 4, 3], [1, 2, 3, 4]) == 1.0
    assert rmse(np.array([[3.5]]), [3.5]) == 0.0  # shapes are flattened
    assert isinstance(rmse([1.0], [2.0]), float)


@pytest.mark.parametrize("metric", [rmse, mae])
@pytest.mark.parametrize(
    ("predicted", "actual", "match"),
    [
        pytest.param([1, 2, 3], [1, 2], "equal length", id="length"),
        pytest.param([], [], "non-empty", id="empty"),
        pytest.param([1.0, np.nan], [1.0, 2.0], "NaN", id="nan-predicted"),
        pytest.param([1.0, 2.0], [np.inf, 2.0], "NaN or infinity", id="inf-actual"),
    ],
)
def test_error_metrics_bad_input(metric: Any, predicted: Any, actual: Any, match: str) -> None:
    """Length mismatch, empty input, NaN/inf → bilingual ValueError."""
    with pytest.raises(ValueError, match=match) as err:
        metric(predicted, actual)
    assert_bilingual(err)


# --- precision@k, recall@k, ndcg@k -----------------------------------------------------------------

RECOMMENDED = [3, 1, 4, 5, 9]
RELEVANT = {1, 9, 7}


def test_ranking_metrics_by_hand() -> None:
    """recommended [3, 1, 4, 5, 9], relevant {1, 9, 7}: hits at ranks 2 and 5.

    precision@5 = 2/5, recall@5 = 2/3,
    ndcg@5 = (1/log2(3) + 1/log2(6)) / (1 + 1/log2(3) + 1/log2(4)),
    at k = 2 only the hit at rank 2 counts: precision 1/2, recall 1/3,
    ndcg@2 = (1/log2(3)) / (1 + 1/log2(3)); at k = 1 nothing is found.
    """
    assert math.isclose(precision_at_k(RECOMMENDED, RELEVANT, 5), 2 / 5)
    assert math.isclose(recall_at_k(RECOMMENDED, RELEVANT, 5), 2 / 3)
    expected = (1 / math.log2(3) + 1 / math.log2(6)) / (1 + 1 / math.log2(3) + 1 / math.log2(4))
    assert math.isclose(ndcg_at_k(RECOMMENDED, RELEVANT, 5), expected)

    assert math.isclose(precision_at_k(RECOMMENDED, RELEVANT, 2), 1 / 2)
    assert math.isclose(recall_at_k(RECOMMENDED, RELEVANT, 2), 1 / 3)
    assert math.isclose(ndcg_at_k(RECOMMENDED, RELEVANT, 2), (1 / math.log2(3)) / (1 + 1 / math.log2(3)))

    assert precision_at_k(RECOMMENDED, RELEVANT, 1) == 0.0
    assert recall_at_k(RECOMMENDED, RELEVANT, 1) == 0.0
    assert ndcg_at_k(RECOMMENDED, RELEVANT, 1) == 0.0


def test_ranking_metrics_with_k_beyond_the_list() -> None:
    """k = 10 on a list of 5: precision still divides by k, recall and NDCG as at k = 5 (ideal: 3 hits)."""
    assert math.isclose(precision_at_k(RECOMMENDED, RELEVANT, 10), 2 / 10)
    assert math.isclose(recall_at_k(RECOMMENDED, RELEVANT, 10), 2 / 3)
    assert math.isclose(ndcg_at_k(RECOMMENDED, RELEVANT, 10), ndcg_at_k(RECOMMENDED, RELEVANT, 5))


def test_ranking_metrics_accept_arrays() -> None:
    """A NumPy row from top_n and a list of relevant items work like lists and sets."""
    assert math.isclose(precision_at_k(np.array(RECOMMENDED), [1, 9, 7], 5), 2 / 5)
    assert math.isclose(ndcg_at_k(np.array(RECOMMENDED), sorted(RELEVANT), 5),
                        ndcg_at_k(RECOMMENDED, RELEVANT, 5))


@pytest.mark.parametrize("metric", [precision_at_k, recall_at_k, ndcg_at_k])
@pytest.mark.parametrize(("k", "error"), [(0, ValueError), (-3, ValueError), (2.5, TypeError),
                                          (True, TypeError), ("5", TypeError)])
def test_ranking_metrics_bad_k(metric: Any, k: Any, error: type) -> None:
    """k must be a positive integer."""
    with pytest.raises(error) as err:
        metric(RECOMMENDED, RELEVANT, k)
    assert_bilingual(err, "k")


@pytest.mark.parametrize("metric", [recall_at_k, ndcg_at_k])
@pytest.mark.parametrize("empty", [set(), [], ()])
def test_recall_and_ndcg_need_relevant_items(metric: Any, empty: Any) -> None:
    """Recall and NDCG are undefined with no relevant item; precision is simply 0."""
    with pytest.raises(ValueError, match="undefined") as err:
        metric(RECOMMENDED, empty, 5)
    assert_bilingual(err, "relevant")
    assert precision_at_k(RECOMMENDED, empty, 5) == 0.0


@settings(max_examples=150, deadline=None)
@given(
    recommended=st.lists(st.integers(0, 30), unique=True, max_size=20),
    relevant=st.sets(st.integers(0, 30), min_size=1, max_size=15),
    k=st.integers(1, 25),
)
def test_metrics_stay_in_unit_interval(recommended: list[int], relevant: set[int], k: int) -> None:
    """For a list without repeats, every metric lies in [0, 1]; NDCG is 0 exactly without hits."""
    ndcg = ndcg_at_k(recommended, relevant, k)
    assert 0.0 <= ndcg <= 1.0 + 1e-12
    assert 0.0 <= precision_at_k(recommended, relevant, k) <= 1.0
    assert 0.0 <= recall_at_k(recommended, relevant, k) <= 1.0
    hits = set(recommended[:k]) & relevant
    assert (ndcg == 0.0) == (not hits)


@settings(max_examples=100, deadline=None)
@given(relevant=st.sets(st.integers(0, 30), min_size=1, max_size=15),
       others=st.sets(st.integers(31, 60), max_size=10), k=st.integers(1, 30))
def test_ndcg_of_a_perfect_ranking_is_one(relevant: set[int], others: set[int], k: int) -> None:
    """All relevant items first (in any order) → NDCG@k = 1 for every k."""
    ranking = sorted(relevant) + sorted(others)
    assert math.isclose(ndcg_at_k(ranking, relevant, k), 1.0)


@pytest.mark.parametrize("metric", [precision_at_k, recall_at_k, ndcg_at_k])
def test_repeated_recommendation_is_not_counted_twice(metric: Any) -> None:
    """A list that repeats a relevant item is refused, or the repeat is not counted again."""
    try:
        value = metric([1, 1, 1], {1}, 3)
    except ValueError:
        return
    assert value <= {precision_at_k: 1 / 3, recall_at_k: 1.0, ndcg_at_k: 1.0}[metric] + 1e-12


def test_recall_denominators() -> None:
    """recall@k = hits / |relevant|; capped: hits / min(|relevant|, k), so k hits score 1."""
    relevant = {1, 2, 3, 4, 5, 6}
    perfect = [1, 2, 3]
    assert recall_at_k(perfect, relevant, 3) == 3 / 6
    assert recall_at_k(perfect, relevant, 3, capped=True) == 1.0
    assert recall_at_k([1, 9, 2], relevant, 3, capped=True) == 2 / 3
    # with no more relevant items than k, the two agree
    assert recall_at_k(RECOMMENDED, RELEVANT, 5, capped=True) == recall_at_k(RECOMMENDED, RELEVANT, 5)
    report = ranking_report({0: perfect, 1: [7, 8, 9]}, {0: relevant, 1: {9}}, 3, capped=True)
    assert report["recall@3"] == (1.0 + 1.0) / 2
    assert ranking_report({0: perfect, 1: [7, 8, 9]}, {0: relevant, 1: {9}}, 3)["recall@3"] == (0.5 + 1) / 2


def test_negative_entries_are_empty_slots() -> None:
    """-1 (top_n's padding) holds no item: never a hit, never a repeat; precision still divides by k."""
    padded = [3, 1, -1, -1, -1]
    assert precision_at_k(padded, RELEVANT, 5) == 1 / 5
    assert recall_at_k(padded, RELEVANT, 5) == 1 / 3
    assert math.isclose(ndcg_at_k(padded, RELEVANT, 5), ndcg_at_k([3, 1], RELEVANT, 5))
    # an empty slot keeps its position: the hit after it is discounted as at rank 2
    assert math.isclose(ndcg_at_k([-1, 1], RELEVANT, 2), ndcg_at_k([3, 1], RELEVANT, 2))
    assert precision_at_k(np.full(4, -1), RELEVANT, 4) == 0.0
    with pytest.raises(ValueError, match="more than once"):
        precision_at_k([1, -1, 1], RELEVANT, 3)  # a real repeat is still refused


# --- ranking_report --------------------------------------------------------------------------------


def test_ranking_report_averages_over_users_with_relevant_items() -> None:
    """User 2 has no relevant item and is left out; the others are averaged.

    user 0: [1, 2, 3] vs {1}: precision 1/3, recall 1, ndcg 1.
    user 1: [4, 5, 6] vs {6, 10}: precision 1/3, recall 1/2,
            ndcg = (1/log2(4)) / (1 + 1/log2(3)).
    """
    recommended = {0: [1, 2, 3], 1: [4, 5, 6], 2: [7, 8, 9]}
    relevant = {0: {1}, 1: {6, 10}, 2: set()}
    report = ranking_report(recommended, relevant, 3)
    assert set(report) == {"precision@3", "recall@3", "ndcg@3", "users"}
    assert report["users"] == 2.0
    assert math.isclose(report["precision@3"], 1 / 3)
    assert math.isclose(report["recall@3"], (1 + 1 / 2) / 2)
    assert math.isclose(report["ndcg@3"], (1 + (1 / math.log2(4)) / (1 + 1 / math.log2(3))) / 2)


def test_ranking_report_ignores_recommendations_of_other_users() -> None:
    """Recommendations for users without relevant items do not change the averages."""
    base = ranking_report({0: [1, 2]}, {0: {2}}, 2)
    more = ranking_report({0: [1, 2], 5: [9, 9]}, {0: {2}, 5: []}, 2)
    assert base == more


def test_ranking_report_bad_input() -> None:
    """No user with relevant items, or a user without recommendations → bilingual ValueError."""
    with pytest.raises(ValueError, match="No user has a relevant item") as err:
        ranking_report({0: [1, 2]}, {0: set(), 1: []}, 2)
    assert_bilingual(err)
    with pytest.raises(ValueError, match="No recommendations for user 3") as err:
        ranking_report({0: [1, 2]}, {0: {1}, 3: {2}}, 2)
    assert_bilingual(err)
    with pytest.raises(ValueError) as err:
        ranking_report({0: [1, 2]}, {0: {1}}, 0)
    assert_bilingual(err, "k")
