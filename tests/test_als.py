"""Alternating least squares (`fit_als`): exact half-steps, a monotone loss, same optimum as `fit`,
blocked solves equal to the former all-rows-at-once ones, and no NaN factors without an error."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from helpers import BiasedMF, DivergenceError, Ratings, fit, fit_als, make_synthetic, rmse, split_random
from helpers.training import BLOCK_BYTES, _csr, _plan_blocks, _ridge_rows, _SparseBatch
from tests.bilingual import assert_bilingual


@pytest.fixture(scope="module")
def split() -> tuple[Ratings, Ratings, Ratings]:
    data, _ = make_synthetic(80, 60, 2400, rank=3, min_ratings=5, seed=4)
    return split_random(data, (0.1, 0.1), seed=0)


def new_model(data: Ratings, dtype: torch.dtype = torch.float64) -> BiasedMF:
    return BiasedMF(data.n_users, data.n_items, 3, float(data.ratings.mean()), seed=0, dtype=dtype)


def test_item_half_step_is_the_exact_ridge_solution(split: tuple[Ratings, ...]) -> None:
    """The last half-step solves the items exactly: re-solving one item's ridge problem in NumPy,
    with the users fixed at their final values, gives the model's [b_i, q_i]."""
    train = split[0]
    model = new_model(train)
    fit_als(model, train, reg=0.1, sweeps=3)
    P = model.user_factors.weight.detach().numpy()
    bu = model.user_bias.weight[:, 0].detach().numpy()
    mu = float(model.global_mean)
    item = int(np.bincount(train.items).argmax())
    mine = train.items == item
    Z = np.hstack([np.ones((mine.sum(), 1)), P[train.users[mine]]])
    t = train.ratings[mine] - mu - bu[train.users[mine]]
    x = np.linalg.solve(Z.T @ Z + 0.1 * mine.sum() * np.eye(Z.shape[1]), Z.T @ t)
    b_i = model.item_bias.weight[item, 0].item()
    q_i = model.item_factors.weight[item].detach().numpy()
    assert np.allclose(np.r_[b_i, q_i], x, atol=1e-8)


def test_loss_never_increases(split: tuple[Ratings, ...]) -> None:
    """Each half-step minimizes the objective exactly, so the loss recorded per sweep cannot rise."""
    history = fit_als(new_model(split[0]), split[0], reg=0.05, sweeps=12)
    losses = np.array(history.loss)
    assert len(losses) == 12 and np.all(np.diff(losses) <= 1e-12)


def test_als_and_adam_reach_the_same_objective(split: tuple[Ratings, ...]) -> None:
    """Same loss function, two optimizers: the final training losses agree closely."""
    train, _, test = split
    als = new_model(train)
    als_loss = fit_als(als, train, reg=0.05, sweeps=200).loss[-1]
    adam = new_model(train)
    adam_loss = fit(adam, train, lr=0.05, reg=0.05, max_steps=3000).loss[-1]
    assert als_loss == pytest.approx(adam_loss, rel=0.02)
    assert rmse(als.predict(test.users, test.items), test.ratings) == pytest.approx(
        rmse(adam.predict(test.users, test.items), test.ratings), rel=0.05)


def test_early_stopping_restores_the_best_sweep(split: tuple[Ratings, ...]) -> None:
    train, val, _ = split
    model = new_model(train)
    history = fit_als(model, train, val, reg=0.01, sweeps=50, patience=2)
    assert history.best_step == history.eval_steps[int(np.argmin(history.val_rmse))]
    restored = rmse(model.predict(val.users, val.items), val.ratings)
    assert restored == pytest.approx(min(history.val_rmse), abs=1e-9)


@pytest.mark.parametrize(("kwargs", "error", "name"), [
    ({"reg": 0}, ValueError, "reg"), ({"reg": -1.0}, ValueError, "reg"),
    ({"reg": float("nan")}, ValueError, "reg"), ({"sweeps": 0}, ValueError, "sweeps"),
    ({"patience": 0}, ValueError, "patience"),
])
def test_bad_arguments(split: tuple[Ratings, ...], kwargs: dict, error: type, name: str) -> None:
    with pytest.raises(error) as err:
        fit_als(new_model(split[0]), split[0], **kwargs)
    assert_bilingual(err, name)


def test_model_and_data_types(split: tuple[Ratings, ...]) -> None:
    with pytest.raises(TypeError) as err:
        fit_als("not a model", split[0])
    assert_bilingual(err, "model")
    with pytest.raises(TypeError) as err:
        fit_als(new_model(split[0]), np.zeros((3, 3)))
    assert_bilingual(err, "train")


# --- the blocked solves: the same numbers as the former all-rows-at-once form, in bounded memory ---


def reference_rows(crow: torch.Tensor, col: torch.Tensor, target: torch.Tensor, other: torch.Tensor,
                   reg: float) -> torch.Tensor:
    """The former `_ridge_rows`: one sparse product with every z_c z_cᵀ, an (n_other × (rank+1)²)
    array, gives every row's gram at once, (rows × (rank+1)²), at a memory cost of > 10 GB at rank
    128 and the 25M-like shape. Its ridge had a tiny 1e-9 added to keep rows without ratings
    solvable; here 1 is added to those rows only (their x is 0 either way), since the 1e-9 moved
    every other solution by about 1e-9 / (reg · n_r), more than this test's tolerance."""
    z = torch.cat([torch.ones(len(other), 1, dtype=other.dtype), other], dim=1)
    size, n_rows = z.shape[1], len(crow) - 1
    outer = (z[:, :, None] * z[:, None, :]).reshape(len(other), size * size)
    shape = (n_rows, len(other))
    gram = _csr(crow, col, torch.ones_like(target), shape) @ outer
    rhs = _csr(crow, col, target, shape) @ z
    count = (crow[1:] - crow[:-1]).to(other.dtype)
    ridge = torch.where(count > 0, reg * count, 1.0)[:, None, None] * torch.eye(size, dtype=other.dtype)
    return torch.linalg.solve(gram.reshape(n_rows, size, size) + ridge, rhs[:, :, None])[:, :, 0]


@pytest.fixture(scope="module")
def sparse_batch() -> _SparseBatch:
    """Long-tailed row lengths (Zipf-like), and 3 users and 2 items without any rating."""
    data, _ = make_synthetic(120, 90, 3000, rank=3, min_ratings=2, seed=5)
    data = Ratings(data.users, data.items, data.ratings, 123, 92)
    return _SparseBatch(data, (123, 92), torch.float64)


@pytest.mark.parametrize("side", ["users", "items"])
@pytest.mark.parametrize("budget", [BLOCK_BYTES, 2_240], ids=["default", "tiny"])
def test_blocked_solves_equal_the_former_all_at_once_solves(sparse_batch: _SparseBatch, side: str,
                                                            budget: int) -> None:
    """To 1e-10 in float64, with the default budget (8 MiB) or many small blocks and rows
    cut into pieces (a budget of 40 ratings); rows without ratings solve to exactly 0."""
    batch = sparse_batch
    crow, col, n_other = ((batch.crow, batch.items, 92) if side == "users" else
                          (batch.crow_t, batch.col_t, 123))
    generator = torch.Generator().manual_seed(0)
    other = torch.randn(n_other, 6, dtype=torch.float64, generator=generator)
    target = torch.randn(batch.n, dtype=torch.float64, generator=generator)
    blocks = _plan_blocks(crow, col, n_other, 7, 8, budget)
    with torch.no_grad():
        x = _ridge_rows(blocks, crow, col, target, other, 0.07)
    torch.testing.assert_close(x, reference_rows(crow, col, target, other, 0.07), rtol=0, atol=1e-10)
    empty = (crow[1:] == crow[:-1]).nonzero()[:, 0]
    assert len(empty) == (3 if side == "users" else 2) and torch.all(x[empty] == 0)
    if budget < BLOCK_BYTES:
        assert any(len(pieces) > 1 for _, _, pieces in blocks)  # some row was summed in pieces


def test_blocks_stay_under_the_budget_with_little_padding(sparse_batch: _SparseBatch) -> None:
    """Every gathered array (slots × (rank+1) numbers) and every block's grams fit the budget; each
    rated row is solved once, with its own n_r; padding adds at most a quarter to the gathered ratings."""
    budget, size, itemsize = 2_240, 7, 8
    blocks = _plan_blocks(sparse_batch.crow, sparse_batch.items, 92, size, itemsize, budget)
    slots = 0
    for rows, n, pieces in blocks:
        assert len(rows) * size * size * itemsize <= budget
        assert torch.equal(n.to(sparse_batch.user_count), sparse_batch.user_count[rows])  # n_r of reg·n_r
        for piece in pieces:
            assert piece.numel() * size * itemsize <= budget and piece.shape[0] == len(rows)
            slots += piece.numel()
    solved = torch.cat([rows for rows, _, _ in blocks])
    assert sorted(solved.tolist()) == sparse_batch.user_count.nonzero()[:, 0].tolist()
    assert sparse_batch.n <= slots <= 1.25 * sparse_batch.n


# --- no NaN parameters without an error --------------------------------------------------------------


def test_nan_rating_raises_instead_of_returning_nan_factors(split: tuple[Ratings, ...]) -> None:
    """A Ratings changed after its checks ran (one rating set to NaN) stops fit_als before any sweep."""
    train = split[0]
    ratings = train.ratings.astype(np.float64)  # a copy
    ratings[0] = np.nan
    bad = Ratings(train.users, train.items, train.ratings, train.n_users, train.n_items)
    object.__setattr__(bad, "ratings", ratings)  # past the checks of Ratings, as a later edit would be
    with pytest.raises(DivergenceError) as err:
        fit_als(new_model(train), bad, reg=0.1, sweeps=3)
    assert isinstance(err.value, ValueError) and err.value.losses == []
    assert_bilingual(err)


def test_nan_in_the_starting_model_raises(split: tuple[Ratings, ...]) -> None:
    train = split[0]
    model = new_model(train)
    with torch.no_grad():
        model.item_factors.weight[int(train.items[0]), 1] = float("nan")
    with pytest.raises(DivergenceError) as err:
        fit_als(model, train, reg=0.1, sweeps=3)
    assert_bilingual(err)
    assert "NaN" in str(err.value)
