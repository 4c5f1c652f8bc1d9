"""Implicit feedback with known truth: interactions (who played what, how often) and their split (12).

Every user u interacts with item i with a chance driven by exposure and by taste,

    P(u picks i) ∝ popularity_i^a · exp(β · p_u·q_i),

drawn without replacement (each user meets each item at most once); p_u·q_i has variance 1,
so β is the spread of taste in log-odds units. Each interaction carries a play count,
1 + Poisson(play_rate · exp(p_u·q_i)): more plays where the user likes the item more.

Defaults a = 1.0, β = 1.5, measured on the ml-100k-like default shape (943 users, 1,682 items,
100,000 interactions, 20% of each user's interactions held out, training items excluded, all
other items ranked), NDCG@10 by `reference_ndcg`, seed 0 (seeds 0-4 within ±0.015):

    random 0.016, popularity 0.296, true probabilities 0.542 (1.83× popularity).

Why: with a = 1 exposure follows the Zipf-like popularity of `make_synthetic` and popularity is
a strong baseline (18× random); β sets how much taste adds. At β = 1.0 the truth is only 1.34×
popularity (little to learn), at β = 2.0 it is 2.6× but popularity drops to 0.23.

Weighted ALS (`fit_wals`, Hu, Koren & Volinsky 2008), rank 10, 10 sweeps, same split: NDCG@10
0.4375 exact (Cholesky), 0.4367 with 3 CG steps per half-sweep: 1.48× popularity, 0.81 of the
truth (seeds 1-3: 0.421-0.435). α = 0.3, reg = 20 were picked from α ∈ {0.1, 0.3, 1, 3} ×
reg ∈ {1, 5, 20, 50} on a validation split carved from train (20% of each user's training
interactions, seed 1), never the test split; α = 0.1-0.3 with reg 1-20 are all within 0.002 there.
`tests/test_implicit.py` asserts random < popularity < truth, and weighted ALS > 1.3× popularity.
"""

from __future__ import annotations

import numbers
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ._checks import bilingual, check_positive_float, check_positive_int, check_reg, check_seed
from .datasets import (
    DENSE_LIMIT_BYTES,
    Ratings,
    _check_fraction,
    _check_ratings,
    _zipf_weights,
    split_per_user,
)
from .metrics import held_out_items, ranking_report
from .models import check_index
from .recommend import _check_k, _check_scores_size, _rank_in_blocks
from .training import _csr, _gather_rows, _plan_blocks, _solve

BLOCK_BYTES = 64 * 2**20  # the most one block of users × items scores may take


def _check_nonnegative(value: Any, name: str, what_ja: str, what_en: str) -> float:
    """Require a finite number ≥ 0 (bool is rejected)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(bilingual(
            f"引数 `{name}`（{what_ja}）は 0 以上の数にしてください（{value!r} が渡されました）。",
            f"Argument `{name}` ({what_en}) must be a number ≥ 0; got {value!r}.",
        ))
    if not np.isfinite(value) or value < 0:
        raise ValueError(bilingual(
            f"引数 `{name}`（{what_ja}）は 0 以上の有限の数にしてください（{value} が渡されました）。",
            f"Argument `{name}` ({what_en}) must be a finite number ≥ 0; got {value}.",
        ))
    return float(value)


def _block_rows(n_items: int) -> int:
    return max(1, BLOCK_BYTES // (8 * n_items))


class _FactorRanker:
    """What `ImplicitTruth` and `WALSModel` share: sizes from the factor tables, top-N by `_block_scores`."""

    user_factors: np.ndarray
    item_factors: np.ndarray

    @property
    def n_users(self) -> int:
        return int(self.user_factors.shape[0])

    @property
    def n_items(self) -> int:
        return int(self.item_factors.shape[0])

    def _block_scores(self, users: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def top_n(self, users: Any, k: int = 10, exclude: Ratings | None = None) -> np.ndarray:
        """The k best items per user, best first, skipping `exclude` (as `top_n` of 08). (12)"""
        users = check_index(users, "users", self.n_users)
        return _top_n_blocks(self._block_scores, users, k, self.n_items, exclude)


@dataclass(frozen=True)
class ImplicitTruth(_FactorRanker):
    """The model behind `make_interactions`: factors, popularity, a and β; ranks items perfectly. (12)"""

    user_factors: np.ndarray
    item_factors: np.ndarray
    popularity: np.ndarray  # exposure weights, summing to 1
    popularity_exponent: float  # a
    affinity: float  # β
    play_rate: float

    def _block_scores(self, users: np.ndarray) -> np.ndarray:
        """a·log popularity_i + β·p_u·q_i for `users` × all items (unnormalized log-probabilities)."""
        return self.popularity_exponent * np.log(self.popularity) \
            + self.affinity * (self.user_factors[users] @ self.item_factors.T)

    def scores(self, users: Any, *, max_bytes: int = DENSE_LIMIT_BYTES) -> np.ndarray:
        """Log-probability of each item being a user's first pick, shape (len(users), n_items). (12)

        The chance that a user interacts with an item at all rises with this value, so sorting
        by it is the ranking a perfect model would give. Computed in blocks of users; refuses,
        with the size it would need, above `max_bytes` (use `top_n` for many users).
        """
        users = check_index(users, "users", self.n_users)
        _check_scores_size(users.size, self.n_items, max_bytes)
        out = np.empty((users.size, self.n_items))
        rows = _block_rows(self.n_items)
        for start in range(0, users.size, rows):
            logits = self._block_scores(users[start:start + rows])
            peak = logits.max(axis=1, keepdims=True)
            out[start:start + rows] = logits - peak - np.log(np.exp(logits - peak).sum(axis=1, keepdims=True))
        return out



def _top_n_blocks(score: Any, users: np.ndarray, k: int, n_items: int, exclude: Ratings | None) -> np.ndarray:
    """Top-k lists from `score(block_users) -> (len(block), n_items)` NumPy scores, as recommend.top_n."""
    k = _check_k(k, n_items)
    return _rank_in_blocks(lambda block: torch.tensor(np.asarray(score(block), dtype=np.float64)),
                           users, k, n_items, exclude, _block_rows(n_items))


def _activity(rng: np.random.Generator, n_users: int, total: int, minimum: int, cap: int,
              sigma: float) -> np.ndarray:
    """Interactions per user: `minimum` each, the rest shared in proportion to log-normal weights, ≤ cap."""
    weights = rng.lognormal(0.0, sigma, n_users)
    counts = np.full(n_users, minimum, dtype=np.int64)
    left = total - counts.sum()
    while left > 0:
        open_ = counts < cap
        share = np.floor(left * weights * open_ / (weights * open_).sum()).astype(np.int64)
        if share.sum() == 0:  # fewer left than users with room: one more each to some of them
            room = np.flatnonzero(open_)
            pick = rng.choice(room, left, replace=False, p=weights[room] / weights[room].sum())
            share = np.bincount(pick, minlength=n_users)
        counts = np.minimum(counts + share, cap)
        left = total - counts.sum()
    return counts


def make_interactions(
    n_users: int = 943,
    n_items: int = 1682,
    n_interactions: int = 100_000,
    rank: int = 10,
    *,
    popularity_exponent: float = 1.0,
    affinity: float = 1.5,
    min_interactions: int = 5,
    activity_sigma: float = 1.0,
    play_rate: float = 1.0,
    seed: int = 0,
) -> tuple[Ratings, ImplicitTruth]:
    """Interactions with known truth (defaults: the shape of ml-100k); `ratings` holds play counts. (12)

    Item popularity is Zipf-like (1/rank, shuffled, as in `make_synthetic`); user u picks
    n_u distinct items with chance ∝ popularity_i^a · exp(β · p_u·q_i) (`popularity_exponent` a,
    `affinity` β). n_u is at least `min_interactions` and long-tailed (log-normal shares with
    spread `activity_sigma`, at most half the catalogue). Each pick gets a count
    1 + Poisson(play_rate · exp(p_u·q_i)) ≥ 1. Returned sorted by user, then item; for the
    ml-1m shape pass 6040, 3706, 1_000_209.
    """
    n_users = check_positive_int(n_users, "n_users", "ユーザー数", "number of users")
    n_items = check_positive_int(n_items, "n_items", "アイテム数", "number of items")
    n_interactions = check_positive_int(n_interactions, "n_interactions", "インタラクション数",
                                        "number of interactions")
    rank = check_positive_int(rank, "rank", "ランク", "rank")
    min_interactions = check_positive_int(min_interactions, "min_interactions", "ユーザーごとの最低数",
                                          "minimum per user")
    a = _check_nonnegative(popularity_exponent, "popularity_exponent", "人気度の指数 a", "exponent a")
    beta = _check_nonnegative(affinity, "affinity", "好みの強さ β", "taste strength β")
    sigma = _check_nonnegative(activity_sigma, "activity_sigma", "活動量のばらつき", "spread of activity")
    play_rate = _check_nonnegative(play_rate, "play_rate", "再生回数の率", "play rate")
    seed = check_seed(seed)
    cap = n_items // 2
    if min_interactions > cap or not n_users * min_interactions <= n_interactions <= n_users * cap:
        raise ValueError(bilingual(
            f"`n_interactions`={n_interactions} は {n_users * min_interactions}（ユーザー数 × "
            f"`min_interactions`）以上、{n_users * cap}（ユーザー数 × アイテム数の半分）以下にしてください。"
            f"`min_interactions` はアイテム数の半分（{cap}）以下にしてください。",
            f"`n_interactions`={n_interactions} must lie between {n_users * min_interactions} (users × "
            f"`min_interactions`) and {n_users * cap} (users × half the items), and `min_interactions` "
            f"may not exceed half the items ({cap}).",
        ))
    rng = np.random.default_rng(seed)
    scale = rank ** -0.25  # factor entries ~ N(0, scale²): p_u·q_i has variance 1
    truth = ImplicitTruth(
        user_factors=rng.normal(0.0, scale, (n_users, rank)),
        item_factors=rng.normal(0.0, scale, (n_items, rank)),
        popularity=_zipf_weights(rng, n_items, 1.0),
        popularity_exponent=a, affinity=beta, play_rate=play_rate,
    )
    per_user = _activity(rng, n_users, n_interactions, min_interactions, cap, sigma)
    users = np.repeat(np.arange(n_users), per_user)
    items = np.empty(n_interactions, dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(per_user)])
    rows = _block_rows(n_items)
    for start in range(0, n_users, rows):
        block = np.arange(start, min(start + rows, n_users))
        # Gumbel top-n: the n largest of logit + Gumbel noise are a draw without replacement ∝ exp(logit).
        keys = truth._block_scores(block) + rng.gumbel(size=(block.size, n_items))
        most = int(per_user[block].max())
        top = np.argpartition(-keys, most - 1, axis=1)[:, :most]
        for row, u in enumerate(block):
            picked = top[row, np.argsort(-keys[row, top[row]])[:per_user[u]]]
            items[offsets[u]:offsets[u + 1]] = np.sort(picked)
    dots = np.einsum("nk,nk->n", truth.user_factors[users], truth.item_factors[items])
    counts = 1 + rng.poisson(play_rate * np.exp(dots))
    return Ratings(users, items, counts.astype(np.int64), n_users, n_items), truth


def _check_counts(data: Any) -> Ratings:
    data = _check_ratings(data)
    counts = data.ratings
    if (counts < 1).any() or (counts != np.floor(counts)).any():
        bad = int(np.flatnonzero((counts < 1) | (counts != np.floor(counts)))[0])
        raise ValueError(bilingual(
            f"`data` の `ratings` はインタラクションの回数（1 以上の整数）にしてください"
            f"（位置 {bad} に {counts[bad].item()} があります）。"
            "評価値なら `split_per_user` を使ってください。",
            f"`data`'s `ratings` must be interaction counts (integers ≥ 1); position {bad} holds "
            f"{counts[bad].item()}. For ratings, use `split_per_user`.",
        ))
    return data


def split_interactions_per_user(data: Ratings, test_fraction: float = 0.2, *,
                                seed: int = 0) -> tuple[Ratings, Ratings]:
    """Hold out `test_fraction` of each user's interactions: (train, test). (12)

    A user with n ≥ 2 interactions holds out max(1, round(fraction · n)), at most n − 1, so
    both parts have them; a user with one keeps it in training. The rule of `split_per_user`.
    """
    data = _check_counts(data)
    _check_fraction(test_fraction, "test_fraction")
    return split_per_user(data, test_fraction, seed=seed)


def popularity_top_n(train: Ratings, users: Any, k: int = 10, *,
                     exclude: Ratings | None = None) -> np.ndarray:
    """The k items most users interacted with in `train`, per user, skipping `exclude`. (12)"""
    train = _check_ratings(train)
    users = check_index(users, "users", train.n_users)
    popularity = np.bincount(train.items, minlength=train.n_items).astype(np.float64)
    return _top_n_blocks(lambda block: np.broadcast_to(popularity, (block.size, train.n_items)),
                         users, k, train.n_items, exclude)


def random_top_n(n_items: int, users: Any, k: int = 10, *, exclude: Ratings | None = None,
                 seed: int = 0) -> np.ndarray:
    """k items per user in random order, skipping `exclude`: the floor any ranking should beat. (12)"""
    n_items = check_positive_int(n_items, "n_items", "アイテム数", "number of items")
    users = np.atleast_1d(np.asarray(users, dtype=np.int64))
    rng = np.random.default_rng(check_seed(seed))
    return _top_n_blocks(lambda block: rng.random((block.size, n_items)), users, k, n_items, exclude)


def reference_ndcg(train: Ratings, test: Ratings, truth: ImplicitTruth, k: int = 10, *,
                   seed: int = 0) -> dict[str, float]:
    """NDCG@k of random, popularity and the true probabilities, all unseen items ranked. (12)"""
    train, test = _check_ratings(train), _check_ratings(test)
    relevant = held_out_items(test)
    users = np.array(sorted(relevant), dtype=np.int64)
    lists = {
        "random": random_top_n(train.n_items, users, k, exclude=train, seed=seed),
        "popularity": popularity_top_n(train, users, k, exclude=train),
        "truth": truth.top_n(users, k, exclude=train),
    }
    return {name: ranking_report(dict(zip(users.tolist(), top.tolist(), strict=True)), relevant,
                                 k)[f"ndcg@{k}"] for name, top in lists.items()}


# ---------------------------------------------------------------------------------------------
# Weighted ALS for implicit feedback (Hu, Koren & Volinsky 2008), exact or with CG (Takács 2011)
# ---------------------------------------------------------------------------------------------

SOLVERS = ("cholesky", "cg")


@dataclass(frozen=True)
class _Side:
    """One side's interactions in CSR form: rows (users, or items for the transpose), the column of
    each interaction, and its extra weight c − 1 = α·count; `blocks` plans the exact solves."""

    crow: torch.Tensor
    col: torch.Tensor
    weight: torch.Tensor
    blocks: list


def _sides(train: Ratings, alpha: float, dtype: torch.dtype, rank: int,
           plan: bool = True) -> tuple[_Side, _Side]:
    """The (users, items) and (items, users) CSR views of `train`, with c − 1 = α·count; `plan`:
    also the blocks of the exact solves (CG needs none)."""
    sides = []
    for rows, cols, n_rows in ((train.users, train.items, train.n_users),
                               (train.items, train.users, train.n_items)):
        order = np.lexsort((cols, rows))
        crow = torch.as_tensor(np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=n_rows))]),
                               dtype=torch.int64)
        col = torch.as_tensor(np.asarray(cols)[order], dtype=torch.int64)
        weight = alpha * torch.as_tensor(np.asarray(train.ratings)[order], dtype=dtype)
        # the blocks gather interaction positions (not columns): the weight belongs to the pair
        positions = torch.arange(len(col), dtype=torch.int64)
        blocks = _plan_blocks(crow, positions, len(col), rank, torch.finfo(dtype).bits // 8) if plan else []
        sides.append(_Side(crow, col, weight, blocks))
    return sides[0], sides[1]


def _rhs(side: _Side, fixed: torch.Tensor) -> torch.Tensor:
    """Yᵀ C_u p_u for every row: Σ_{i∈I_u} c_ui y_i (p is 1 there, 0 elsewhere), a sparse product."""
    n_rows = len(side.crow) - 1
    return _csr(side.crow, side.col, 1.0 + side.weight, (n_rows, fixed.shape[0])) @ fixed


def _solve_exact(side: _Side, fixed: torch.Tensor, reg: float) -> torch.Tensor:
    """(YᵀY + Yᵀ(C_u − I)Y + reg·I) x_u = Yᵀ C_u p_u for every row, by Cholesky, in bounded blocks."""
    gram = fixed.T @ fixed  # YᵀY once: the 0-preference part of all rows shares it
    rhs = _rhs(side, fixed)
    # row k of `table` is √(c − 1)·y_i for interaction k; the last row, all zeros, is the padding
    # (index_select: the same rows as fixed[side.col], gathered several times faster)
    table = torch.cat([side.weight.sqrt()[:, None] * torch.index_select(fixed, 0, side.col),
                       fixed.new_zeros(1, fixed.shape[1])])
    x = fixed.new_zeros(len(side.crow) - 1, fixed.shape[1])  # rows without interactions: x = 0
    for rows, _, pieces in side.blocks:
        correction = sum(torch.bmm(Z.transpose(1, 2), Z) for Z in (_gather_rows(table, p) for p in pieces))
        x[rows] = _solve(gram + correction, rhs[rows], torch.full((len(rows),), reg, dtype=fixed.dtype))
    return x


def _solve_cg(side: _Side, fixed: torch.Tensor, start: torch.Tensor, reg: float, steps: int) -> torch.Tensor:
    """`steps` conjugate-gradient steps on every row's system at once, from `start` (Takács et al.).

    A_u v = YᵀY v + reg·v + Σ_{i∈I_u} (c_ui − 1)(y_i·v) y_i: a dense (rows × r)(r × r) product plus
    a sparse one over the interactions; no per-row r × r matrix is ever formed.
    """
    gram = fixed.T @ fixed
    n_rows = len(side.crow) - 1
    row_of = torch.repeat_interleave(torch.arange(n_rows), side.crow[1:] - side.crow[:-1])
    y = torch.index_select(fixed, 0, side.col)  # y_i of each interaction

    def apply(v: torch.Tensor) -> torch.Tensor:
        dots = torch.index_select(v, 0, row_of).mul_(y).sum(1)  # y_i·v_u per interaction, one temporary
        sparse = _csr(side.crow, side.col, side.weight * dots, (n_rows, fixed.shape[0]))
        return v @ gram + reg * v + sparse @ fixed

    x = start.clone()
    r = _rhs(side, fixed) - apply(x)
    p = r.clone()
    rs = (r * r).sum(1, keepdim=True)
    for _ in range(steps):
        ap = apply(p)
        curvature = (p * ap).sum(1, keepdim=True)
        step = torch.where(curvature > 0, rs / curvature.clamp_min(torch.finfo(x.dtype).tiny), 0.0)
        x += step * p
        r -= step * ap
        rs_new = (r * r).sum(1, keepdim=True)
        p = r + torch.where(rs > 0, rs_new / rs.clamp_min(torch.finfo(x.dtype).tiny), 0.0) * p
        rs = rs_new
    return x


def _check_wals_args(alpha: Any, reg: Any, solver: Any, cg_steps: Any) -> tuple[float, float, str, int]:
    alpha = check_positive_float(alpha, "alpha", "確信度の重み α", "confidence weight α")
    reg = check_reg(reg, allow_zero=False, note_ja="例: 5.0。", note_en="Example: 5.0.")
    if solver not in SOLVERS:
        raise ValueError(bilingual(
            f"引数 `solver` は \"cholesky\"（厳密解）か \"cg\"（共役勾配法）にしてください"
            f"（{solver!r} が渡されました）。",
            f"Argument `solver` must be \"cholesky\" (exact) or \"cg\" (conjugate gradient); got {solver!r}.",
        ))
    cg_steps = check_positive_int(cg_steps, "cg_steps", "共役勾配法の反復回数", "conjugate-gradient steps")
    return alpha, reg, solver, cg_steps


def _check_dtype(dtype: Any) -> torch.dtype:
    if dtype not in (torch.float32, torch.float64):
        raise TypeError(bilingual(
            f"引数 `dtype` は torch.float32 か torch.float64 にしてください（{dtype!r} が渡されました）。",
            f"Argument `dtype` must be torch.float32 or torch.float64; got {dtype!r}.",
        ))
    return dtype


@torch.no_grad()
def wals_half_sweep(train: Ratings, fixed: Any, *, solve_for: str = "users", alpha: float = 0.3,
                    reg: float = 5.0, solver: str = "cholesky", cg_steps: int = 3,
                    start: Any = None) -> np.ndarray:
    """One half-sweep of weighted ALS: new user (or item) factors with the other side `fixed`. (12)

    Minimizes Σ_i c_ui (p_ui − x_u·y_i)² + reg·‖x_u‖² for every user u, over all items i
    (c_ui = 1 + α·count, p_ui = 1 on interactions and 0 elsewhere). "cholesky" solves exactly;
    "cg" takes `cg_steps` conjugate-gradient steps from `start` (default zeros). `solve_for="items"`
    swaps the roles. Computed in the dtype of `fixed` (float32 or float64).
    """
    train = _check_counts(train)
    alpha, reg, solver, cg_steps = _check_wals_args(alpha, reg, solver, cg_steps)
    if solve_for not in ("users", "items"):
        raise ValueError(bilingual(
            f"引数 `solve_for` は \"users\" か \"items\" にしてください（{solve_for!r} が渡されました）。",
            f"Argument `solve_for` must be \"users\" or \"items\"; got {solve_for!r}.",
        ))
    fixed = torch.as_tensor(np.asarray(fixed))
    fixed = fixed.to(torch.float64 if fixed.dtype == torch.float64 else torch.float32)
    n_rows, n_fixed = (train.n_users, train.n_items) if solve_for == "users" \
        else (train.n_items, train.n_users)
    if fixed.ndim != 2 or fixed.shape[0] != n_fixed or fixed.shape[1] < 1:
        raise ValueError(bilingual(
            f"引数 `fixed` は {n_fixed} 行の 2 次元配列にしてください"
            f"（形 {tuple(fixed.shape)} が渡されました）。",
            f"Argument `fixed` must be a 2-D array with {n_fixed} rows; got shape {tuple(fixed.shape)}.",
        ))
    users_side, items_side = _sides(train, alpha, fixed.dtype, fixed.shape[1], solver == "cholesky")
    side = users_side if solve_for == "users" else items_side
    if solver == "cholesky":
        return _solve_exact(side, fixed, reg).numpy()
    begin = fixed.new_zeros(n_rows, fixed.shape[1]) if start is None else \
        torch.as_tensor(np.asarray(start)).to(fixed.dtype).reshape(n_rows, fixed.shape[1])
    return _solve_cg(side, fixed, begin, reg, cg_steps).numpy()


def wals_loss(train: Ratings, user_factors: Any, item_factors: Any, *, alpha: float = 0.3,
              reg: float = 5.0) -> float:
    """Σ over all pairs c_ui (p_ui − x_u·y_i)² + reg(‖X‖² + ‖Y‖²), without forming the matrix. (12)

    Σ_all (x_u·y_i)² = tr(XᵀX · YᵀY); the interactions then add c_ui(1 − s)² − s², s = x_u·y_i.
    """
    train = _check_counts(train)
    alpha, reg, _, _ = _check_wals_args(alpha, reg, "cholesky", 1)
    X = torch.as_tensor(np.asarray(user_factors, dtype=np.float64))
    Y = torch.as_tensor(np.asarray(item_factors, dtype=np.float64))
    s = (X[train.users] * Y[train.items]).sum(1)
    c = 1.0 + alpha * torch.as_tensor(np.asarray(train.ratings, dtype=np.float64))
    zero_part = ((X.T @ X) * (Y.T @ Y)).sum()
    return float(zero_part + (c * (1 - s) ** 2 - s ** 2).sum() + reg * (X.square().sum() + Y.square().sum()))


@dataclass(frozen=True)
class WALSModel(_FactorRanker):
    """Weighted ALS factors (`fit_wals`): scores x_u·y_i and top-N lists as `ImplicitTruth`. (12)"""

    user_factors: np.ndarray
    item_factors: np.ndarray
    losses: list[float]  # the weighted loss after each sweep (empty unless record_loss=True)
    sweep_seconds: list[float]  # wall time of each sweep

    def scores(self, users: Any) -> np.ndarray:
        """x_u·y_i for `users` × all items, shape (len(users), n_items). (12)"""
        return self._block_scores(check_index(users, "users", self.n_users))

    def _block_scores(self, users: np.ndarray) -> np.ndarray:
        return self.user_factors[users] @ self.item_factors.T


@torch.no_grad()
def fit_wals(train: Ratings, *, rank: int = 10, alpha: float = 0.3, reg: float = 5.0, sweeps: int = 10,
             solver: str = "cholesky", cg_steps: int = 3, seed: int = 0, dtype: torch.dtype = torch.float32,
             record_loss: bool = False) -> WALSModel:
    """Weighted ALS for implicit feedback (Hu, Koren & Volinsky 2008): user and item factors. (12)

    Confidence c_ui = 1 + α·count on interactions, preference 1 there and 0 elsewhere, squared
    loss over all pairs plus reg(‖X‖² + ‖Y‖²). Each sweep solves the users with the items fixed,
    then the items: YᵀY once per half-sweep, and each row's system only adds its interactions,
    so a sweep costs O(interactions·r² + (users + items)·r³) ("cholesky", exact) or
    O(cg_steps·(interactions·r + (users + items)·r²)) ("cg": `cg_steps` conjugate-gradient steps
    warm-started from the current factors, as the `implicit` library does). Item factors start
    as N(0, 0.01²); `record_loss` stores the loss after each sweep (one extra O(interactions·r)).
    """
    train = _check_counts(train)
    rank = check_positive_int(rank, "rank", "ランク", "rank")
    sweeps = check_positive_int(sweeps, "sweeps", "スイープ数", "number of sweeps")
    alpha, reg, solver, cg_steps = _check_wals_args(alpha, reg, solver, cg_steps)
    seed, dtype = check_seed(seed), _check_dtype(dtype)
    losses, seconds = [], []
    X = Y = torch.zeros(0)
    # range first: zip stops on it without running one sweep too many
    for _, (X, Y, elapsed) in zip(range(sweeps), _wals_sweeps(train, rank, alpha, reg, solver, cg_steps,
                                                              seed, dtype), strict=False):
        seconds.append(elapsed)
        if record_loss:
            losses.append(wals_loss(train, X.numpy(), Y.numpy(), alpha=alpha, reg=reg))
    return WALSModel(X.numpy(), Y.numpy(), losses, seconds)


@torch.no_grad()
def _wals_sweeps(train: Ratings, rank: int, alpha: float, reg: float, solver: str, cg_steps: int, seed: int,
                 dtype: torch.dtype) -> Iterator[tuple[torch.Tensor, torch.Tensor, float]]:
    """`fit_wals`'s sweeps, endless: (X, Y, seconds of that sweep) after each; arguments already checked.

    The benchmarks (benchmarks/implicit_bench.py) evaluate between sweeps with it, outside the timing.
    """
    users_side, items_side = _sides(train, alpha, dtype, rank, solver == "cholesky")
    generator = torch.Generator().manual_seed(seed)
    X = torch.zeros(train.n_users, rank, dtype=dtype)
    Y = 0.01 * torch.randn(train.n_items, rank, generator=generator, dtype=dtype)
    while True:
        begin = time.perf_counter()
        if solver == "cholesky":
            X = _solve_exact(users_side, Y, reg)
            Y = _solve_exact(items_side, X, reg)
        else:
            X = _solve_cg(users_side, Y, X, reg, cg_steps)
            Y = _solve_cg(items_side, X, Y, reg, cg_steps)
        yield X, Y, time.perf_counter() - begin
