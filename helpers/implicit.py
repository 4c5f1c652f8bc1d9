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
popularity (little to learn), at β = 2.0 it is 2.6× but popularity drops to 0.23. At β = 1.5 a
plain weighted ALS (rank 10, α = 0.3, reg 5, 10 sweeps; a sketch, not yet in helpers) reached
0.434: clearly above popularity and at 80% of the truth, the gap issue 10 asks to report.
`tests/test_implicit.py` asserts the ordering random < popularity < truth with margins.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ._checks import bilingual, check_positive_int, check_seed
from .datasets import (
    DENSE_LIMIT_BYTES,
    Ratings,
    _check_fraction,
    _check_ratings,
    _zipf_weights,
    split_per_user,
)
from .metrics import ranking_report
from .models import check_index
from .recommend import _best_k, _check_k, _group_by_user, _rated_in

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


@dataclass(frozen=True)
class ImplicitTruth:
    """The model behind `make_interactions`: factors, popularity, a and β; ranks items perfectly. (12)"""

    user_factors: np.ndarray
    item_factors: np.ndarray
    popularity: np.ndarray  # exposure weights, summing to 1
    popularity_exponent: float  # a
    affinity: float  # β
    play_rate: float

    @property
    def n_users(self) -> int:
        return int(self.user_factors.shape[0])

    @property
    def n_items(self) -> int:
        return int(self.item_factors.shape[0])

    def _logits(self, users: np.ndarray) -> np.ndarray:
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
        needed = users.size * self.n_items * 8
        if needed > max_bytes:
            raise MemoryError(bilingual(
                f"{users.size:,} ユーザー × {self.n_items:,} アイテムのスコア（float64）には "
                f"{needed / 2**30:,.1f} GiB 必要で、上限 {max_bytes / 2**30:,.1f} GiB を超えます。"
                "上位だけが要るなら `top_n` を使うか、ユーザーを小分けにしてください。",
                f"Scores for {users.size:,} users × {self.n_items:,} items (float64) need "
                f"{needed / 2**30:,.1f} GiB, over the limit of {max_bytes / 2**30:,.1f} GiB. Use `top_n` "
                "for top lists, or ask for fewer users at a time.",
            ))
        out = np.empty((users.size, self.n_items))
        rows = _block_rows(self.n_items)
        for start in range(0, users.size, rows):
            logits = self._logits(users[start:start + rows])
            peak = logits.max(axis=1, keepdims=True)
            out[start:start + rows] = logits - peak - np.log(np.exp(logits - peak).sum(axis=1, keepdims=True))
        return out

    def top_n(self, users: Any, k: int = 10, exclude: Ratings | None = None) -> np.ndarray:
        """The k most likely items per user, best first, skipping `exclude` (as `top_n` of 08). (12)"""
        users = check_index(users, "users", self.n_users)
        return _top_n_blocks(lambda block: self._logits(block), users, k, self.n_items, exclude)


def _top_n_blocks(score: Any, users: np.ndarray, k: int, n_items: int, exclude: Ratings | None) -> np.ndarray:
    """Top-k lists from `score(block_users) -> (len(block), n_items)`, in blocks, as recommend.top_n."""
    k = _check_k(k, n_items)
    grouped = None if exclude is None else _group_by_user(exclude, users, n_items)
    out = np.empty((users.size, k), dtype=np.int64)
    rows = _block_rows(n_items)
    for start in range(0, users.size, rows):
        block_users = users[start:start + rows]
        block = torch.as_tensor(np.array(score(block_users), dtype=np.float64))
        if grouped is not None:
            row, item = _rated_in(grouped, block_users)
            block[torch.as_tensor(row), torch.as_tensor(item)] = -torch.inf
        out[start:start + rows] = _best_k(block, k)
    return out


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
        keys = truth._logits(block) + rng.gumbel(size=(block.size, n_items))
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
    relevant: dict[int, set[int]] = {}
    for u, i in zip(test.users.tolist(), test.items.tolist(), strict=True):
        relevant.setdefault(u, set()).add(i)
    users = np.array(sorted(relevant), dtype=np.int64)
    lists = {
        "random": random_top_n(train.n_items, users, k, exclude=train, seed=seed),
        "popularity": popularity_top_n(train, users, k, exclude=train),
        "truth": truth.top_n(users, k, exclude=train),
    }
    return {name: ranking_report(dict(zip(users.tolist(), top.tolist(), strict=True)), relevant,
                                 k)[f"ndcg@{k}"] for name, top in lists.items()}
