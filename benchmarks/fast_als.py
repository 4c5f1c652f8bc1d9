"""A compiled ALS for `BiasedMF` in numba: the trainer of the peer table (benchmarks/peers_table.py).

Benchmark-only: learners never need a compiler (numba is in requirements-bench.txt). It solves
what `helpers.fit_als` solves, each row's ridge regression for x_u = [b_u, p_u] with the other
side fixed, but in one parallel pass per half-sweep: a row's ratings stream by once, the other
side's rows it touches are gathered into a small (n_u × 16) block, one BLAS product gives its Gram
matrix and an inline Cholesky solves it. No gathered (all ratings × rank) temporary is ever made,
which is what bounds the torch version.

Two choices make it fast in wall time, not only per sweep:
- the other side's rows are stored padded to 16 floats ([1, q_i, 0…]), so gathering a row is one
  aligned 64-byte copy and the Gram product a BLAS call on 16 columns;
- the regularization has two forms (`scaled`): reg · n_u (per rating, as `helpers.fit`) or reg
  (per row, as cmfrec and implicit); which one is better is decided on validation like reg itself.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .fused import missing  # the same requirement: numba

WIDTH = 16  # padded row width: 1 (bias column) + rank ≤ 15


def _kernel_source() -> dict:
    """Compile the kernels (numba imported here, so that this module imports without it)."""
    import numba

    @numba.njit(parallel=True, fastmath=True, cache=True)
    def half_sweep(crow, cols, target, other, own, own_bias, reg, scaled, rank):
        """Solve every row: own[u] = [1, p_u, 0…], own_bias[u] = b_u, from `other` = [1, q_i, 0…]."""
        n_rows = crow.shape[0] - 1
        size = rank + 1
        for u in numba.prange(n_rows):
            start, end = crow[u], crow[u + 1]
            if end == start:
                own_bias[u] = 0.0
                for a in range(1, size):
                    own[u, a] = 0.0
                continue
            n = end - start
            Z = np.empty((n, WIDTH), dtype=np.float32)
            t = np.empty(n, dtype=np.float32)
            for k in range(n):
                Z[k] = other[cols[start + k]]
                t[k] = target[start + k]
            gram = np.dot(Z.T, Z)
            rhs = np.dot(t, Z)
            ridge = reg * n if scaled else reg
            # Cholesky in float64 (11 × 11: negligible), then two triangular solves
            L = np.zeros((size, size))
            for a in range(size):
                for b in range(a + 1):
                    s = float(gram[a, b]) + (ridge if a == b else 0.0)
                    for c in range(b):
                        s -= L[a, c] * L[b, c]
                    if a == b:
                        L[a, a] = math.sqrt(s)
                    else:
                        L[a, b] = s / L[b, b]
            y = np.zeros(size)
            for a in range(size):
                s = float(rhs[a])
                for c in range(a):
                    s -= L[a, c] * y[c]
                y[a] = s / L[a, a]
            for a in range(size - 1, -1, -1):
                s = y[a]
                for c in range(a + 1, size):
                    s -= L[c, a] * y[c]
                y[a] = s / L[a, a]
            own_bias[u] = y[0]
            for a in range(1, size):
                own[u, a] = y[a]

    @numba.njit(parallel=True, fastmath=True, cache=True)
    def targets(crow, cols, ratings, mu, other_bias, out):
        """out[k] = r − μ − b_other for every rating, in this side's CSR order."""
        for u in numba.prange(crow.shape[0] - 1):
            for k in range(crow[u], crow[u + 1]):
                out[k] = ratings[k] - mu - other_bias[cols[k]]

    @numba.njit(parallel=True, fastmath=True, cache=True)
    def squared_errors(users, items, ratings, mu, U, V, bu, bi, rank):
        total = 0.0
        for k in numba.prange(users.shape[0]):
            u, i = users[k], items[k]
            pred = mu + bu[u] + bi[i]
            for a in range(1, rank + 1):
                pred += U[u, a] * V[i, a]
            e = pred - ratings[k]
            total += e * e
        return total

    @numba.njit(cache=True)
    def csr(rows, cols, values, n_rows):
        """Counting sort of the triples by row: (crow, cols, values) in CSR order, stable."""
        crow = np.zeros(n_rows + 1, dtype=np.int64)
        for r in rows:
            crow[r + 1] += 1
        for r in range(n_rows):
            crow[r + 1] += crow[r]
        fill = crow[:-1].copy()
        out_cols = np.empty(cols.shape[0], dtype=np.int32)
        out_values = np.empty(cols.shape[0], dtype=np.float32)
        for k in range(rows.shape[0]):
            at = fill[rows[k]]
            out_cols[at] = cols[k]
            out_values[at] = values[k]
            fill[rows[k]] = at + 1
        return crow, out_cols, out_values

    return {"csr": csr, "half_sweep": half_sweep, "targets": targets, "squared_errors": squared_errors}


_KERNELS: dict = {}


def kernels() -> dict:
    if not _KERNELS:
        _KERNELS.update(_kernel_source())
    return _KERNELS


@dataclass
class FastALS:
    """Biased MF trained by `sweep()`; U, V hold [1, factors, 0…] rows, bu, bi the biases."""

    mu: float
    U: np.ndarray
    V: np.ndarray
    bu: np.ndarray
    bi: np.ndarray
    rank: int
    reg: float
    scaled: bool
    by_user: tuple[np.ndarray, np.ndarray, np.ndarray]
    by_item: tuple[np.ndarray, np.ndarray, np.ndarray]

    @classmethod
    def build(cls, users: np.ndarray, items: np.ndarray, ratings: np.ndarray, n_users: int, n_items: int,
              rank: int = 10, reg: float = 1.0, scaled: bool = False, init_std: float | None = None,
              seed: int = 0) -> FastALS:
        """CSR copies of the ratings by user and by item, items' factors N(0, init_std²), users' 0.

        init_std defaults to 1/√rank: a dot product of two such rows then has variance about 1, the
        scale of the ratings' spread, so the first sweeps need not grow the factors from near 0.
        """
        if init_std is None:
            init_std = rank ** -0.5
        if not 1 <= rank < WIDTH:
            raise ValueError(f"rank must lie in 1..{WIDTH - 1}")
        csr = kernels()["csr"]
        mu = float(np.mean(ratings, dtype=np.float64))
        rng = np.random.default_rng(seed)
        U = np.zeros((n_users, WIDTH), dtype=np.float32)
        V = np.zeros((n_items, WIDTH), dtype=np.float32)
        U[:, 0] = V[:, 0] = 1.0
        V[:, 1:rank + 1] = rng.normal(0.0, init_std, (n_items, rank))
        return cls(mu, U, V, np.zeros(n_users, np.float32), np.zeros(n_items, np.float32), rank,
                   float(reg), bool(scaled), csr(users, items, ratings, n_users),
                   csr(items, users, ratings, n_items))

    def sweep(self) -> None:
        """Users given items, then items given users.

        The threads work on rows (numba's prange); the Gram product inside a row calls BLAS, which
        must then stay single-threaded: nested, 2 × 2 threads on 2 cores made a sweep at 25M-like
        no faster with 2 threads than with 1 (benchmarks/README.md).
        """
        from threadpoolctl import threadpool_limits

        k = kernels()
        with threadpool_limits(limits=1, user_api="blas"):
            for (crow, cols, ratings), own, own_bias, other, other_bias in (
                    (self.by_user, self.U, self.bu, self.V, self.bi),
                    (self.by_item, self.V, self.bi, self.U, self.bu)):
                target = np.empty_like(ratings)
                k["targets"](crow, cols, ratings, np.float32(self.mu), other_bias, target)
                k["half_sweep"](crow, cols, target, other, own, own_bias, np.float32(self.reg),
                                self.scaled, self.rank)

    def rmse(self, users: np.ndarray, items: np.ndarray, ratings: np.ndarray) -> float:
        total = kernels()["squared_errors"](users, items, ratings, np.float32(self.mu), self.U, self.V,
                                            self.bu, self.bi, self.rank)
        return math.sqrt(total / len(ratings))


def profile(shape: str = "25m", repeats: int = 3) -> None:
    """Print a sweep's time against the memory-bandwidth bound measured in the same run (1 and 2 threads).

    Per rating a half-sweep reads its column index and target and writes/reads the target: 20 bytes
    (the streaming bound); if every gathered 64-byte row of the other side came from memory, 84. The
    Gram product of the padded rows is 16 × 16 multiply-adds per rating and half-sweep.
    """
    import statistics
    import time

    import numba
    import torch

    from .data import SHAPES, ensure, load
    from .machine import copy_bandwidth

    torch.set_num_threads(1)
    split = load(ensure(SHAPES[shape]))
    tr = split.train
    model = FastALS.build(tr.users, tr.items, tr.ratings, tr.n_users, tr.n_items, 10, 1.0)
    model.sweep()  # compile or load the kernels
    bandwidth, n = copy_bandwidth(), len(tr.ratings)
    stream, gather, flops = 2 * n * 20 / bandwidth, 2 * n * 84 / bandwidth, 2 * n * 16 * 16 * 2
    print(f"{SHAPES[shape].label}: {n:,} training ratings, copy bandwidth {bandwidth / 1e9:.1f} GB/s; "
          f"bound per sweep {stream:.3f} s streaming, {gather:.3f} s with every gathered row from memory")
    for threads in (1, 2):
        numba.set_num_threads(threads)
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            model.sweep()
            times.append(time.perf_counter() - start)
        sweep = statistics.median(times)
        print(f"{threads} thread(s): sweep {sweep:.3f} s (median of {repeats}) = {sweep / stream:.1f} × the "
              f"streaming bound, {sweep / gather:.1f} × the gather bound; padded Gram work "
              f"{flops / sweep / 1e9:.1f} GFLOP/s")


__all__ = ["FastALS", "missing", "profile"]


if __name__ == "__main__":
    import sys

    profile(*sys.argv[1:2])
