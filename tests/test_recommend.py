"""Tests of `helpers.recommend` (scores, top_n, similar_items, fold_in) and `fit_biases`."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

from helpers import recommend
from helpers.datasets import Ratings, make_synthetic, split_random
from helpers.metrics import ranking_report, rmse
from helpers.models import BiasedMF
from helpers.recommend import NewUser, fold_in, scores, similar_items, top_n
from helpers.training import fit, fit_biases
from tests.bilingual import assert_bilingual


def random_model(n_users: int = 4, n_items: int = 6, rank: int = 3, seed: int = 0) -> BiasedMF:
    """A float64 model with random factors and biases of order 1 (so scores are well spread)."""
    model = BiasedMF(n_users, n_items, rank, global_mean=3.0, seed=seed, dtype=torch.float64)
    g = torch.Generator().manual_seed(seed + 100)
    with torch.no_grad():
        for table in (model.user_factors, model.item_factors, model.user_bias, model.item_bias):
            table.weight.copy_(torch.randn(table.weight.shape, generator=g, dtype=torch.float64))
    return model


# user 0 rated items 0, 1; user 1 rated 1, 2, 3, 4 (two unrated left); user 2 rated nothing
EXCLUDE = Ratings(np.array([0, 0, 1, 1, 1, 1]), np.array([0, 1, 1, 2, 3, 4]),
                  np.array([4.0, 5.0, 3.0, 2.0, 1.0, 4.5]), 4, 6)


# --- scores and top_n ------------------------------------------------------------------------------


def test_scores_is_predict_for_every_item() -> None:
    """scores(model, users)[r, i] = model.predict(users[r], i)."""
    model = random_model()
    table = scores(model, [2, 0])
    assert table.shape == (2, 6) and table.dtype == np.float64
    for row, user in enumerate([2, 0]):
        np.testing.assert_allclose(table[row], model.predict(np.full(6, user), np.arange(6)), atol=1e-12)


def test_top_n_without_exclude_is_the_best_scores() -> None:
    """Without `exclude`, top_n is the k best-scored items, best first."""
    model = random_model()
    users = [0, 1, 2, 3]
    top = top_n(model, users, k=3)
    assert top.shape == (4, 3)
    table = scores(model, users)
    np.testing.assert_array_equal(top, np.argsort(-table, axis=1, kind="stable")[:, :3])


def test_top_n_skips_rated_items_best_first() -> None:
    """Rated items never come back; the rest are in order of decreasing score."""
    model = random_model()
    users = np.array([0, 2, 3])
    top = top_n(model, users, k=4, exclude=EXCLUDE)
    table = scores(model, users)
    assert top.shape == (3, 4)
    rated = {0: {0, 1}, 2: set(), 3: set()}
    for row, user in enumerate(users.tolist()):
        assert not set(top[row].tolist()) & rated[user]
        assert len(set(top[row].tolist())) == 4
        picked = table[row, top[row]]
        assert np.all(np.diff(picked) <= 0)  # best first
        unrated = [i for i in range(6) if i not in rated[user]]
        best = sorted(unrated, key=lambda i: -table[row, i])[:4]
        assert top[row].tolist() == best


def test_top_n_pads_with_minus_one() -> None:
    """User 1 has two unrated items: asking for 5 gives them, then −1, −1, −1."""
    model = random_model()
    top = top_n(model, 1, k=5, exclude=EXCLUDE)
    assert top.shape == (1, 5)
    row = top[0].tolist()
    assert row[2:] == [-1, -1, -1]
    table = scores(model, [1])[0]
    assert row[:2] == sorted([0, 5], key=lambda i: -table[i])


def test_top_n_all_items_is_allowed() -> None:
    """k = n_items is the largest allowed k."""
    model = random_model()
    assert sorted(top_n(model, [3], k=6)[0].tolist()) == list(range(6))


@pytest.mark.parametrize(("k", "error"), [(0, ValueError), (-1, ValueError), (7, ValueError),
                                          (2.5, TypeError), (True, TypeError)])
def test_top_n_bad_k(k: Any, error: type) -> None:
    """k must be an integer from 1 to n_items."""
    with pytest.raises(error) as err:
        top_n(random_model(), [0], k=k)
    assert_bilingual(err, "k")


@pytest.mark.parametrize("user", [4, -1, [0, 9]])
def test_top_n_unknown_user(user: Any) -> None:
    """A user the model never saw → bilingual ValueError pointing to fold_in."""
    with pytest.raises(ValueError, match="never seen") as err:
        top_n(random_model(), user, k=2)
    assert_bilingual(err, "users", "fold_in")
    with pytest.raises(ValueError, match="fold_in"):
        scores(random_model(), user)


def test_top_n_same_user_twice() -> None:
    """A repeated user gets the same (excluded) list on both rows."""
    model = random_model()
    top = top_n(model, [0, 0], k=4, exclude=EXCLUDE)
    np.testing.assert_array_equal(top[0], top[1])
    assert not set(top[0].tolist()) & {0, 1}


def reference_top_n(model: BiasedMF, users: Any, k: int, exclude: Ratings | None = None) -> np.ndarray:
    """The former top_n: a dense float64 table, rated items at -inf, a stable argsort of whole rows."""
    users = np.atleast_1d(users)
    table = scores(model, users)
    if exclude is not None:
        for row, u in enumerate(users.tolist()):
            table[row, exclude.items[exclude.users == u]] = -np.inf
    order = np.argsort(-table, axis=1, kind="stable")[:, :k]
    return np.where(np.take_along_axis(table, order, axis=1) == -np.inf, -1, order)


def tied_model(n_users: int, n_items: int, dtype: torch.dtype, seed: int) -> BiasedMF:
    """Factors in {-1, 0, 1} and biases in {0, 1}: many exactly equal scores in every row."""
    model = BiasedMF(n_users, n_items, 2, global_mean=3.0, seed=seed, dtype=dtype)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for table, low in ((model.user_factors, -1), (model.item_factors, -1), (model.user_bias, 0),
                           (model.item_bias, 0)):
            table.weight.copy_(torch.randint(low, 2, table.weight.shape, generator=g).to(dtype))
    return model


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("block_rows", [1, 7, None], ids=["rows-1", "rows-7", "one-block"])
def test_top_n_equals_the_full_sort(dtype: torch.dtype, seed: int, block_rows: int | None,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocks, topk and the tie rule give exactly the lists of a stable sort of whole rows."""
    n_users, n_items = 30, 25
    if block_rows is not None:  # force blocks of that many users
        monkeypatch.setattr(recommend, "SCORE_BLOCK_BYTES", block_rows * n_items * (dtype.itemsize))
    rng = np.random.default_rng(seed)
    codes = rng.choice(n_users * n_items, 300, replace=False)
    codes = np.concatenate([codes, 5 * n_items + np.arange(n_items - 2)])  # user 5 leaves 2 items
    exclude = Ratings(codes // n_items, codes % n_items, np.ones(codes.size), n_users, n_items)
    users = np.concatenate([rng.permutation(n_users), [5, 5, 0]])  # every user, some twice
    models = (tied_model(n_users, n_items, dtype, seed), random_model(n_users, n_items, 3, seed).to(dtype))
    for model in models:
        for k in (1, 4, n_items):
            for ex in (None, exclude):
                np.testing.assert_array_equal(top_n(model, users, k, exclude=ex),
                                              reference_top_n(model, users, k, ex))


def test_top_n_equals_the_full_sort_on_a_trained_model() -> None:
    """A float32 model trained as in 07/08 (smaller): the same lists as before."""
    data, _ = make_synthetic(n_users=200, n_items=300, n_ratings=8000, seed=0)
    train, val, _ = split_random(data, (0.1, 0.1), seed=0)
    model = BiasedMF(data.n_users, data.n_items, rank=5, global_mean=float(train.ratings.mean()), seed=0)
    fit(model, train, val, lr=0.1, reg=0.04, max_steps=50)
    users = np.arange(data.n_users)
    np.testing.assert_array_equal(top_n(model, users, 10, exclude=train),
                                  reference_top_n(model, users, 10, train))


def test_ranking_report_accepts_padded_top_n() -> None:
    """Users with 0, 1 and 2 padded slots: ranking_report takes top_n's lists as they are."""
    model = random_model(n_users=3, n_items=6)
    exclude = Ratings(np.array([1, 1, 1, 2, 2, 2, 2]), np.array([0, 1, 2, 0, 1, 2, 3]), np.ones(7), 3, 6)
    top = top_n(model, [0, 1, 2], k=4, exclude=exclude)
    assert [(row == -1).sum() for row in top] == [0, 1, 2]
    relevant = {0: {int(top[0, 0])}, 1: {3, 4, 5}, 2: {4, 5}}
    report = ranking_report(dict(enumerate(top.tolist())), relevant, 4)
    # user 0: 1 hit of 4 slots; user 1: all 3 remaining items found; user 2: both found
    assert report["precision@4"] == pytest.approx((1 / 4 + 3 / 4 + 2 / 4) / 3)
    assert report["recall@4"] == pytest.approx((1 + 1 + 1) / 3)
    assert report["ndcg@4"] == pytest.approx(1.0)


def test_scores_refuses_a_huge_table() -> None:
    """Every user of a 25M-like catalogue at once would take 72 GiB: refused, pointing to top_n."""
    model = BiasedMF(162_541, 59_047, 1)
    with pytest.raises(MemoryError, match="71.5 GiB") as err:
        scores(model, np.arange(model.n_users))
    assert_bilingual(err, "top_n")
    assert scores(model, [0, 1]).shape == (2, 59_047)  # a few users are fine
    with pytest.raises(MemoryError):
        scores(random_model(), [0, 1], max_bytes=6 * 8)


@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.uint32, ">i8"])
def test_top_n_excludes_ratings_of_any_integer_dtype(dtype: Any) -> None:
    """`exclude` built from uint8 (once read as a boolean mask by torch), int16 or big-endian arrays
    gives the same lists as from int64 ones."""
    model = random_model(n_users=3, n_items=6)
    users, items = np.array([0, 1, 1, 2, 2, 2]), np.array([5, 0, 3, 1, 2, 4])
    plain = Ratings(users, items, np.ones(6), 3, 6)
    other = Ratings(users.astype(dtype), items.astype(dtype), np.ones(6), 3, 6)
    expected = top_n(model, [0, 1, 2, 1], k=6, exclude=plain)
    np.testing.assert_array_equal(top_n(model, [0, 1, 2, 1], k=6, exclude=other), expected)
    assert (expected == -1).sum(axis=1).tolist() == [1, 2, 3, 2]


def test_top_n_bad_exclude() -> None:
    """`exclude` must be Ratings over the model's items."""
    with pytest.raises(TypeError) as err:
        top_n(random_model(), [0], k=2, exclude=np.zeros((4, 6)))  # type: ignore[arg-type]
    assert_bilingual(err, "exclude")
    wider = Ratings(np.array([0]), np.array([8]), np.array([4.0]), 4, 9)
    with pytest.raises(ValueError, match="item 8") as err:
        top_n(random_model(), [0], k=2, exclude=wider)
    assert_bilingual(err, "exclude")


def test_top_n_refuses_nan_scores() -> None:
    """A model with NaN parameters cannot rank: a bilingual error, not a list."""
    model = random_model()
    with torch.no_grad():
        model.item_bias.weight[3] = float("nan")
    with pytest.raises(ValueError, match="NaN") as err:
        top_n(model, [0, 1], k=2)
    assert_bilingual(err)


# --- similar_items ---------------------------------------------------------------------------------


def item_factors_with_copies() -> np.ndarray:
    """Random item factors where item 5 is an exact copy of item 2 and item 7 is −item 2."""
    Q = np.random.default_rng(3).normal(size=(8, 3))
    Q[5] = Q[2]
    Q[7] = -Q[2]
    return Q


def test_similar_items_finds_an_exact_copy_first() -> None:
    """The copy comes first with cosine 1; the opposite vector comes last with cosine −1."""
    Q = item_factors_with_copies()
    items, cosines = similar_items(Q, 2, k=7)
    assert items[0] == 5 and np.isclose(cosines[0], 1.0, atol=1e-12)
    assert items[-1] == 7 and np.isclose(cosines[-1], -1.0, atol=1e-12)
    assert np.all(np.diff(cosines) <= 1e-12)  # most similar first
    norms = np.linalg.norm(Q, axis=1)
    np.testing.assert_allclose(cosines, Q[items] @ Q[2] / (norms[items] * norms[2]), atol=1e-12)


def test_similar_items_never_returns_the_item_itself() -> None:
    """Even with k = n_items − 1 (everything else), the item is not in its own list."""
    Q = item_factors_with_copies()
    for item in range(8):
        items, _ = similar_items(Q, item, k=7)
        assert item not in items.tolist()
        assert sorted(items.tolist()) == [i for i in range(8) if i != item]


def test_similar_items_takes_the_model_weights() -> None:
    """The embedding weight (a tensor that requires grad) works as well as an array."""
    model = random_model(n_items=6)
    with torch.no_grad():
        model.item_factors.weight[4] = model.item_factors.weight[1] * 3.0  # same direction
    items, cosines = similar_items(model.item_factors.weight, 1, k=2)
    assert items[0] == 4 and np.isclose(cosines[0], 1.0)
    assert items.shape == cosines.shape == (2,)


@pytest.mark.parametrize(("k", "error"), [(8, ValueError), (100, ValueError), (0, ValueError),
                                          (1.0, TypeError)])
def test_similar_items_bad_k(k: Any, error: type) -> None:
    """k can be at most n_items − 1 (the item itself is not a candidate)."""
    with pytest.raises(error) as err:
        similar_items(item_factors_with_copies(), 2, k=k)
    assert_bilingual(err, "k")


@pytest.mark.parametrize("item", [8, -1, 1.5])
def test_similar_items_unknown_item(item: Any) -> None:
    """An index outside the table → bilingual ValueError naming `item`."""
    with pytest.raises(ValueError, match="never seen") as err:
        similar_items(item_factors_with_copies(), item, k=2)
    assert_bilingual(err, "item")


# --- fold_in ---------------------------------------------------------------------------------------


def folding_setup(n_rated: int) -> tuple[BiasedMF, np.ndarray, np.ndarray, float, np.ndarray]:
    """A model, the items a new user rated, the exact ratings, and the user's true bias and factors."""
    model = random_model(n_users=3, n_items=40, rank=4, seed=7)
    true_bias = 0.37
    true_p = np.array([0.8, -0.5, 0.3, 1.1])
    items = np.random.default_rng(0).choice(40, size=n_rated, replace=False)
    Q = model.item_factors.weight.detach().numpy()
    bi = model.item_bias.weight.detach().numpy()[:, 0]
    ratings = 3.0 + bi[items] + true_bias + Q[items] @ true_p  # the model's formula, no noise
    return model, items, ratings, true_bias, true_p


def test_fold_in_recovers_the_user() -> None:
    """30 exact ratings and a tiny reg → the true bias and factors within 1e-4."""
    model, items, ratings, true_bias, true_p = folding_setup(30)
    user = fold_in(model, items, ratings, reg=1e-6)
    assert isinstance(user, NewUser)
    assert abs(user.bias - true_bias) < 1e-4
    np.testing.assert_allclose(user.factors, true_p, atol=1e-4)
    # and its scores reproduce the ratings it was folded in from
    np.testing.assert_allclose(user.scores(model)[items], ratings, atol=1e-4)


def test_new_user_scores_are_the_formula() -> None:
    """NewUser.scores = μ + b_i + b + Q p for every item."""
    model = random_model(n_items=6)
    user = NewUser(0.5, np.array([1.0, -2.0, 0.25]))
    Q = model.item_factors.weight.detach().numpy()
    bi = model.item_bias.weight.detach().numpy()[:, 0]
    np.testing.assert_allclose(user.scores(model), 3.0 + bi + 0.5 + Q @ user.factors, atol=1e-12)


@pytest.mark.parametrize("n_rated", [1, 2, 4])
def test_fold_in_with_few_ratings_is_finite(n_rated: int) -> None:
    """Fewer ratings than parameters: the ridge term still gives finite, shrunk values."""
    model, items, ratings, _, _ = folding_setup(n_rated)
    user = fold_in(model, items, ratings)
    assert np.isfinite(user.bias) and np.all(np.isfinite(user.factors))
    assert user.factors.shape == (4,)
    assert np.all(np.isfinite(user.scores(model)))


def test_fold_in_with_more_reg_shrinks() -> None:
    """A larger reg pulls the bias and factors towards 0."""
    model, items, ratings, _, _ = folding_setup(30)
    small, large = fold_in(model, items, ratings, reg=1e-3), fold_in(model, items, ratings, reg=100.0)
    assert np.linalg.norm(large.factors) < np.linalg.norm(small.factors)
    assert abs(large.bias) < abs(small.bias)


@pytest.mark.parametrize(
    ("items", "ratings"),
    [
        pytest.param([0, 1, 2], [4.0, 3.0], id="longer-items"),
        pytest.param([0], [4.0, 3.0], id="longer-ratings"),
        pytest.param([], [], id="empty"),
    ],
)
def test_fold_in_lengths_must_match(items: Any, ratings: Any) -> None:
    """`items` and `ratings` of different lengths (or none) → bilingual ValueError."""
    with pytest.raises(ValueError, match="same length") as err:
        fold_in(random_model(), items, ratings)
    assert_bilingual(err, "items", "ratings")


@pytest.mark.parametrize("item", [6, -1, 0.5])
def test_fold_in_unknown_item(item: Any) -> None:
    """Only items the model knows can be folded in."""
    with pytest.raises(ValueError, match="never seen") as err:
        fold_in(random_model(), [0, item], [4.0, 3.0])
    assert_bilingual(err, "items")


def test_fold_in_refuses_a_repeated_item() -> None:
    """Each item once: a repeat names the item."""
    with pytest.raises(ValueError, match="item 2 more than once") as err:
        fold_in(random_model(), [0, 2, 5, 2], [4.0, 3.0, 2.0, 5.0])
    assert_bilingual(err, "items")


@pytest.mark.parametrize("n_rated", [1, 5, 30])
def test_fold_in_penalty_is_reg_times_n(n_rated: int) -> None:
    """The solution satisfies (XᵀX + reg·n·I) x = Xᵀ(r − μ − b_i): the gradient of the loss is 0."""
    model, items, ratings, _, _ = folding_setup(n_rated)
    reg = 0.3
    user = fold_in(model, items, ratings, reg=reg)
    Q = model.item_factors.weight.detach().numpy()[items]
    X = np.hstack([np.ones((n_rated, 1)), Q])
    x = np.concatenate([[user.bias], user.factors])
    target = ratings - 3.0 - model.item_bias.weight.detach().numpy()[items, 0]
    np.testing.assert_allclose(X.T @ (X @ x - target) + reg * n_rated * x, 0, atol=1e-10)


@pytest.mark.parametrize("n_rated", [1, 4, 20])
def test_fold_in_items_without_training_ratings(n_rated: int) -> None:
    """Items left at q_i = 0, b_i = 0: p stays 0 and b = mean(r − μ) / (1 + reg) for any n."""
    model = random_model(n_items=25)
    with torch.no_grad():
        model.item_factors.weight.zero_()
        model.item_bias.weight.zero_()
    ratings = np.linspace(2.0, 5.0, n_rated)
    user = fold_in(model, np.arange(n_rated), ratings)  # default reg = 0.04, as in fit
    np.testing.assert_array_equal(user.factors, 0.0)
    assert user.bias == pytest.approx(np.mean(ratings - 3.0) / 1.04)


def test_fold_in_nan_rating_says_nan() -> None:
    """A NaN rating is refused with a message that mentions NaN."""
    with pytest.raises(ValueError, match="NaN") as err:
        fold_in(random_model(), [0, 1], [4.0, np.nan])
    assert_bilingual(err, "ratings")


# --- fit_biases ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def biases_only() -> tuple[Ratings, float, np.ndarray, np.ndarray]:
    """Ratings = mean + user bias + item bias + tiny noise, on 30 % of an 80 × 60 matrix."""
    rng = np.random.default_rng(11)
    n_users, n_items = 80, 60
    mean, bu, bi = 3.6, rng.normal(0, 0.5, n_users), rng.normal(0, 0.5, n_items)
    codes = rng.choice(n_users * n_items, size=int(0.3 * n_users * n_items), replace=False)
    users, items = codes // n_items, codes % n_items
    ratings = mean + bu[users] + bi[items] + rng.normal(0, 0.05, codes.size)
    return Ratings(users, items, ratings, n_users, n_items), mean, bu, bi


def test_fit_biases_recovers_the_biases(biases_only: tuple[Ratings, float, np.ndarray, np.ndarray]) -> None:
    """Estimated user and item biases correlate > 0.95 with the true ones; μ is the data mean."""
    data, _, bu, bi = biases_only
    mu, user_bias, item_bias = fit_biases(data)
    assert mu == pytest.approx(float(data.ratings.mean()))
    assert user_bias.shape == (80,) and item_bias.shape == (60,)
    assert np.corrcoef(user_bias, bu)[0, 1] > 0.95
    assert np.corrcoef(item_bias, bi)[0, 1] > 0.95
    # with no shrinkage the fit is nearly exact
    mu0, ub0, ib0 = fit_biases(data, reg=0.0, sweeps=50)
    assert rmse(mu0 + ub0[data.users] + ib0[data.items], data.ratings) < 0.06


def test_fit_biases_beats_the_global_mean(biases_only: tuple[Ratings, float, np.ndarray, np.ndarray]) -> None:
    """On held-out ratings, μ + b_u + b_i is far better than μ alone."""
    data, _, _, _ = biases_only
    train, test = split_random(data, 0.2, seed=0)
    mu, user_bias, item_bias = fit_biases(train)
    baseline = rmse(np.full(len(test), mu), test.ratings)
    biased = rmse(mu + user_bias[test.users] + item_bias[test.items], test.ratings)
    assert biased < 0.5 * baseline


def test_fit_biases_user_without_ratings_gets_zero() -> None:
    """A user with no training rating keeps bias 0 (the prediction falls back to μ + b_i)."""
    data = Ratings(np.array([0, 0, 1]), np.array([0, 1, 1]), np.array([5.0, 4.0, 2.0]), 3, 2)
    _, user_bias, _ = fit_biases(data, reg=1.0)
    assert user_bias[2] == 0.0 and user_bias[0] > 0 > user_bias[1]


@pytest.mark.parametrize(
    ("call", "error", "name"),
    [
        pytest.param(lambda d: fit_biases(d, reg=-1.0), ValueError, "reg", id="reg-negative"),
        pytest.param(lambda d: fit_biases(d, reg="1"), ValueError, "reg", id="reg-str"),
        pytest.param(lambda d: fit_biases(d, sweeps=0), ValueError, "sweeps", id="sweeps-0"),
        pytest.param(lambda d: fit_biases(d, sweeps=2.5), TypeError, "sweeps", id="sweeps-float"),
        pytest.param(lambda d: fit_biases(d.to_dense()), TypeError, "train", id="matrix"),
        pytest.param(lambda d: fit_biases(d.subset(np.zeros(0, dtype=np.int64))), TypeError, "train",
                     id="empty"),
    ],
)
def test_fit_biases_bad_arguments(biases_only: tuple[Ratings, float, np.ndarray, np.ndarray], call: Any,
                                  error: type, name: str) -> None:
    """Bad reg, sweeps or train → bilingual error naming the argument."""
    with pytest.raises(error) as err:
        call(biases_only[0])
    assert_bilingual(err, name)
