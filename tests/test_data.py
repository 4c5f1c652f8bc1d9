"""Tests of the seed example's data (`helpers.data`) and of `set_seed`."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from helpers import init_factors, observed_mask, original_ratings, set_seed

# The rating matrix of the original post, written out independently of helpers.
ORIGINAL = [
    [1, 1, 0, 3],
    [2, 5, 0, 5],
    [3, 1, 2, 2],
    [0, 1, 3, 0],
    [1, 0, 3, 1],
]


def test_original_ratings_is_the_original_matrix() -> None:
    """The 5×4 matrix of the original post, as float64."""
    R = original_ratings()
    assert isinstance(R, np.ndarray)
    assert R.dtype == np.float64
    np.testing.assert_array_equal(R, np.array(ORIGINAL, dtype=np.float64))


def test_original_ratings_is_a_fresh_copy() -> None:
    """Changing one result does not change the next one."""
    first = original_ratings()
    first[:] = -7.0
    np.testing.assert_array_equal(original_ratings(), np.array(ORIGINAL, dtype=np.float64))


@pytest.mark.parametrize("kind", ["numpy", "torch"])
def test_observed_mask_keeps_the_kind(kind: str) -> None:
    """NumPy in → NumPy bool mask out; tensor in → bool tensor out; 15 observed entries."""
    expected = np.array(ORIGINAL) != 0
    R = original_ratings() if kind == "numpy" else torch.tensor(original_ratings())
    mask = observed_mask(R)
    if kind == "numpy":
        assert isinstance(mask, np.ndarray) and mask.dtype == np.bool_
        np.testing.assert_array_equal(mask, expected)
    else:
        assert isinstance(mask, torch.Tensor) and mask.dtype == torch.bool
        assert torch.equal(mask, torch.tensor(expected))
    assert int(mask.sum()) == 15


@pytest.mark.parametrize("seed", [0, 1, 42])
@pytest.mark.parametrize(("rank", "rows", "cols"), [(2, 5, 4), (1, 1, 1), (3, 6, 2)])
def test_init_factors_matches_seeded_global_draws(seed: int, rank: int, rows: int, cols: int) -> None:
    """`seed=s` gives the numbers of `np.random.seed(s); rand(r, rows); rand(r, cols)`."""
    np.random.seed(seed)
    P_expected = np.random.rand(rank, rows)
    Q_expected = np.random.rand(rank, cols)

    P, Q = init_factors(rank, rows, cols, seed=seed)

    assert P.shape == (rank, rows) and Q.shape == (rank, cols)
    np.testing.assert_array_equal(P, P_expected)
    np.testing.assert_array_equal(Q, Q_expected)
    for factor in (P, Q):
        assert factor.dtype == np.float64
        assert ((factor >= 0) & (factor < 1)).all()


@pytest.mark.parametrize("seed", [0, 7])
def test_init_factors_without_seed_uses_the_global_generator(seed: int) -> None:
    """`seed=None` draws from NumPy's global generator (so `np.random.seed` controls it)."""
    np.random.seed(seed)
    P, Q = init_factors(2, 5, 4)
    P_seeded, Q_seeded = init_factors(2, 5, 4, seed=seed)
    np.testing.assert_array_equal(P, P_seeded)
    np.testing.assert_array_equal(Q, Q_seeded)
    # ... and it advanced the global generator: the next draw differs.
    P_next, _ = init_factors(2, 5, 4)
    assert not np.array_equal(P_next, P)


@pytest.mark.usefixtures("restore_threads")
def test_set_seed_makes_every_source_reproducible() -> None:
    """Same seed → same torch, NumPy and Python draws; torch runs on one thread."""

    def draws() -> tuple[torch.Tensor, np.ndarray, float]:
        return torch.rand(3), np.random.rand(3), random.random()

    set_seed(123)
    first = draws()
    set_seed(123)
    second = draws()
    set_seed(124)
    other = draws()

    assert torch.equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])
    assert first[2] == second[2]
    assert not torch.equal(first[0], other[0])
    assert not np.array_equal(first[1], other[1])
    assert first[2] != other[2]
    assert torch.get_num_threads() == 1
