"""The seed example's data: the rating matrix, its mask and random factors (notebook 01)."""

from __future__ import annotations

from typing import Any, TypeVar

import numpy as np
import torch

from ._checks import check_matrix, check_positive_int, check_seed

# The 5 users × 4 items rating matrix of the original post; 0 means "not rated".
_ORIGINAL_R = (
    (1.0, 1.0, 0.0, 3.0),
    (2.0, 5.0, 0.0, 5.0),
    (3.0, 1.0, 2.0, 2.0),
    (0.0, 1.0, 3.0, 0.0),
    (1.0, 0.0, 3.0, 1.0),
)

ArrayT = TypeVar("ArrayT", np.ndarray, torch.Tensor)


def original_ratings() -> np.ndarray:
    """The original 5×4 rating matrix `R` (float64, 0 = missing); a fresh copy each call. (01)"""
    return np.array(_ORIGINAL_R, dtype=np.float64)


def observed_mask(R: ArrayT) -> ArrayT:
    """Boolean mask of the observed (non-zero) entries, same kind (NumPy/torch) as `R`. (01)"""
    check_matrix(R, "R")
    if isinstance(R, torch.Tensor):
        return R != 0
    return np.asarray(R) != 0


def init_factors(
    rank: int, rows: int, cols: int, seed: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Random `P` (rank × rows) and `Q` (rank × cols), uniform in [0, 1) as in the original. (01)

    With `seed=None` it draws from NumPy's global generator, exactly like the original's
    `np.random.rand(r, rows)` then `np.random.rand(r, cols)`; with an integer seed it gives
    the same numbers as `np.random.seed(seed)` followed by those two calls.
    """
    rank = check_positive_int(rank, "rank", "ランク", "rank")
    rows = check_positive_int(rows, "rows", "行数 = ユーザー数", "rows = number of users")
    cols = check_positive_int(cols, "cols", "列数 = アイテム数", "cols = number of items")
    rand: Any = np.random.rand if seed is None else np.random.RandomState(check_seed(seed)).rand
    P = rand(rank, rows)
    Q = rand(rank, cols)
    return P, Q
