"""A fused loss-and-gradient kernel for `BiasedMF` in numba: one pass over the ratings, by user.

Benchmark-only (the series never needs it). It computes exactly what
`helpers.training._SparseBatch.loss_and_grads` computes, but where that makes several passes
(sampled product, two sparse products, an index_select, each reading or writing an n-long array),
this reads each rating once: the prediction, the error, the user-side gradient sums kept in a
small local array while the user's ratings stream by, and the item-side sums added into an
items × (rank + 1) array that stays in cache. fastmath is off: same operations as written, so
float64 results match the sparse products to rounding.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from typing import Any

import numpy as np
import torch


def missing() -> str | None:
    """Why the fused kernel cannot run here, or None when it can (numba is in requirements-bench.txt)."""
    if importlib.util.find_spec("numba") is None:
        return "numba not installed (pip install -r requirements-bench.txt)"
    return None


def _kernel(crow: np.ndarray, cols: np.ndarray, ratings: np.ndarray, mu: Any, P: np.ndarray,
            Q: np.ndarray, bu: np.ndarray, bi: np.ndarray, item_count: np.ndarray, reg: float,
            gP: np.ndarray, gQ: np.ndarray, gbu: np.ndarray, gbi: np.ndarray) -> float:
    """Write the gradients of the loss of `helpers.fit` into gP, gQ, gbu, gbi; return the loss.

    Loss = (1/n) Σ e² + reg · (1/n) · (Σ_u n_u (‖p_u‖² + b_u²) + Σ_i n_i (‖q_i‖² + b_i²)),
    e = μ + b_u + b_i + p_u·q_i − r_ui over the n ratings (CSR by user: crow, cols, ratings).
    """
    n_users, rank = P.shape
    n_items = Q.shape[0]
    n = ratings.shape[0]
    scale = 2.0 / n
    items = np.zeros((n_items, rank + 1), dtype=P.dtype)  # Σ e·p_u and Σ e for each item
    acc = np.empty(rank + 1, dtype=P.dtype)  # the same sums for the current user
    squares = 0.0
    penalty = 0.0
    for u in range(n_users):
        acc[:] = 0
        base = mu + bu[u, 0]
        for k in range(crow[u], crow[u + 1]):
            i = cols[k]
            pred = base + bi[i, 0]
            for f in range(rank):
                pred += P[u, f] * Q[i, f]
            e = pred - ratings[k]
            squares += e * e
            for f in range(rank):
                acc[f] += e * Q[i, f]
                items[i, f] += e * P[u, f]
            acc[rank] += e
            items[i, rank] += e
        weight = reg * (crow[u + 1] - crow[u])
        norm = bu[u, 0] * bu[u, 0]
        for f in range(rank):
            gP[u, f] = scale * (acc[f] + weight * P[u, f])
            norm += P[u, f] * P[u, f]
        gbu[u, 0] = scale * (acc[rank] + weight * bu[u, 0])
        penalty += (crow[u + 1] - crow[u]) * norm
    for i in range(n_items):
        weight = reg * item_count[i]
        norm = bi[i, 0] * bi[i, 0]
        for f in range(rank):
            gQ[i, f] = scale * (items[i, f] + weight * Q[i, f])
            norm += Q[i, f] * Q[i, f]
        gbi[i, 0] = scale * (items[i, rank] + weight * bi[i, 0])
        penalty += item_count[i] * norm
    return squares / n + reg * penalty / n


_compiled: Callable[..., float] | None = None


def kernel() -> Callable[..., float]:
    """The compiled kernel; numba is imported only here, so that importing this module stays cheap."""
    global _compiled
    if _compiled is None:
        import numba

        _compiled = numba.njit(cache=True, fastmath=False, nogil=True)(_kernel)
    return _compiled


class FusedBatch:
    """The training ratings in CSR order by user, for `loss_and_grads` (same contract as `_SparseBatch`)."""

    def __init__(self, train: Any, shape: tuple[int, int], dtype: torch.dtype) -> None:
        if missing():
            raise RuntimeError(missing())
        self.kernel = kernel()
        np_dtype = torch.empty(0, dtype=dtype).numpy().dtype
        order = np.lexsort((train.items, train.users))  # by user, items ascending inside: Q rows in order
        self.cols = np.ascontiguousarray(train.items[order], dtype=np.int32)
        self.ratings = np.ascontiguousarray(train.ratings[order], dtype=np_dtype)
        self.crow = np.concatenate([[0], np.cumsum(np.bincount(train.users, minlength=shape[0]))])
        self.item_count = np.bincount(train.items, minlength=shape[1]).astype(np_dtype)
        self.dtype = np_dtype

    def loss_and_grads(self, model: Any, reg: float) -> float:
        """Set the `.grad` of the four weight tables; return the loss before the step."""
        weights = [model.user_factors.weight, model.item_factors.weight,
                   model.user_bias.weight, model.item_bias.weight]
        for w in weights:  # reuse the gradient buffers: the kernel overwrites every entry
            if w.grad is None:
                w.grad = torch.empty_like(w)
        P, Q, bu, bi = (w.detach().numpy() for w in weights)
        gP, gQ, gbu, gbi = (w.grad.numpy() for w in weights)
        mu = self.dtype.type(model.global_mean.item())
        return float(self.kernel(self.crow, self.cols, self.ratings, mu, P, Q, bu, bi, self.item_count,
                               float(reg), gP, gQ, gbu, gbi))
