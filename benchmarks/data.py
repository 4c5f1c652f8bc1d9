"""Data shapes, a chunked synthetic generator for the 25M-like shape, and the .npz cache.

The 100k-, 1M-like and smoke shapes come from `helpers.make_synthetic` (Part II's generator).
It draws a users × items random matrix to pick each user's minimum ratings, impossible at the
25M-like shape (9.6 billion cells), so `make_synthetic_chunked` draws the same model without it.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from helpers import Ratings, SyntheticTruth, make_synthetic, split_random
from helpers.datasets import _zipf_weights, draw_truth
from helpers.implicit import ImplicitTruth, _activity

ROOT = Path(__file__).resolve().parent.parent
CACHE_DIR = ROOT / "build" / "bench"
RANK = 10  # the generator's true rank; our trainers use it too
NOISE = 0.5  # σ: the floor no model can beat on average
CACHE_VERSION = 1  # bump when the generator or the split changes, so old caches are not reused


@dataclass(frozen=True)
class Shape:
    """One data shape of the benchmark."""

    key: str
    label: str
    n_users: int
    n_items: int
    n_ratings: int
    chunked: bool = False  # True: make_synthetic_chunked (never a users × items array)


SHAPES: dict[str, Shape] = {
    "smoke": Shape("smoke", "smoke 200 x 150", 200, 150, 5_000),
    "100k": Shape("100k", "MovieLens-100k-like", 943, 1_682, 100_000),
    "1m": Shape("1m", "MovieLens-1M-like", 6_040, 3_706, 1_000_209),
    "25m": Shape("25m", "MovieLens-25M-like", 162_541, 59_047, 25_000_095, chunked=True),
}


def _distinct_per_row(rng: np.random.Generator, n_rows: int, n_cols: int, k: int) -> np.ndarray:
    """k distinct uniform column picks per row, shape (n_rows, k); rows with a repeat are redrawn.

    Redrawing a whole row until its k picks differ gives a uniform k-subset, like the
    argpartition of a random row in `make_synthetic`, at O(n_rows · k) memory.
    """
    picks = rng.integers(0, n_cols, (n_rows, k))
    while True:
        ordered = np.sort(picks, axis=1)
        bad = (ordered[:, 1:] == ordered[:, :-1]).any(axis=1)
        if not bad.any():
            return picks
        picks[bad] = rng.integers(0, n_cols, (int(bad.sum()), k))


def _sample_pairs_chunked(rng: np.random.Generator, n_users: int, n_items: int, n_ratings: int,
                          min_ratings: int, zipf: float, chunk: int) -> np.ndarray:
    """Distinct pair codes user · n_items + item, as `helpers.datasets._sample_pairs` draws them.

    The minimum per user and per item, then Zipf-weighted pairs in chunks of at most `chunk`
    draws; repeats are found by binary search in the sorted codes kept so far.
    """
    user_picks = _distinct_per_row(rng, n_users, n_items, min_ratings)
    item_picks = _distinct_per_row(rng, n_items, n_users, min_ratings)
    codes = np.union1d(np.repeat(np.arange(n_users, dtype=np.int64), min_ratings) * n_items
                       + user_picks.ravel(),
                       item_picks.ravel().astype(np.int64) * n_items
                       + np.repeat(np.arange(n_items), min_ratings))
    user_w, item_w = _zipf_weights(rng, n_users, zipf), _zipf_weights(rng, n_items, zipf)
    while codes.size < n_ratings:
        need = n_ratings - codes.size
        draw = min(2 * need, chunk)
        new = rng.choice(n_users, draw, p=user_w) * n_items + rng.choice(n_items, draw, p=item_w)
        seen = codes[np.minimum(np.searchsorted(codes, new), codes.size - 1)] == new
        new = new[~seen]
        _, first = np.unique(new, return_index=True)  # first draw of each new pair, in draw order
        new = new[np.sort(first)][:need]
        codes = np.sort(np.concatenate([codes, new]), kind="stable")
    return rng.permutation(codes)


def make_synthetic_chunked(n_users: int, n_items: int, n_ratings: int, rank: int = RANK, *,
                           mean: float = 3.5, noise: float = NOISE, user_bias_std: float = 0.4,
                           item_bias_std: float = 0.5, min_ratings: int = 5, zipf: float = 1.0,
                           seed: int = 0, chunk: int = 1 << 22) -> tuple[Ratings, SyntheticTruth]:
    """The model of `helpers.make_synthetic`, drawn without any users × items array.

    Same distributions: biases N(0, 0.4²) and N(0, 0.5²), factor entries N(0, s²) with
    s⁴ = (1 − 0.4² − 0.5²)/rank, Zipf-like user and item weights, at least `min_ratings` per user
    and item, N(0, noise²) noise, no repeated pair. The ground truth is drawn first in the same
    order, so it equals `make_synthetic`'s for the same seed; the pairs differ (other draws).
    Indices are int32 and ratings float32, to keep the 25M-like set near 300 MB.
    """
    if not 1 <= min_ratings <= min(n_users, n_items):
        raise ValueError(f"min_ratings={min_ratings} must lie in 1..min(n_users, n_items)")
    if not (n_users + n_items) * min_ratings <= n_ratings <= n_users * n_items // 2:
        raise ValueError(f"n_ratings={n_ratings} must lie between (users + items) · min_ratings "
                         "and half the matrix")
    rng = np.random.default_rng(seed)
    truth = draw_truth(rng, n_users, n_items, rank, mean, noise, user_bias_std, item_bias_std)
    codes = _sample_pairs_chunked(rng, n_users, n_items, n_ratings, min_ratings, zipf, chunk)
    users = np.empty(n_ratings, dtype=np.int32)
    items = np.empty(n_ratings, dtype=np.int32)
    ratings = np.empty(n_ratings, dtype=np.float32)
    for start in range(0, n_ratings, chunk):
        part = slice(start, start + chunk)
        u, i = np.divmod(codes[part], n_items)
        users[part], items[part] = u, i
        ratings[part] = truth.predict(u, i) + rng.normal(0.0, noise, u.size)
    return Ratings(users, items, ratings, n_users, n_items), truth


def _draw_items(rng: np.random.Generator, truth: ImplicitTruth, per_user: np.ndarray,
                block_bytes: int = 64 * 2**20) -> np.ndarray:
    """Each user's `per_user[u]` distinct items, P(pick i) ∝ popularity_i^a · exp(β p_u·q_i) without
    replacement, sorted within each user; by the inverse CDF, never a random number per users × items cell.

    Drawing i.i.d. from a user's distribution and keeping the distinct items in order of first
    appearance is sampling without replacement (a repeat is a draw from the items left, discarded):
    the first n distinct draws have the law of `make_interactions`' Gumbel top-n. So a round draws
    2m + 16 i.i.d. from the items not yet picked (m: the number still missing) and keeps the first m
    distinct ones to appear; a user with fewer than m distinct in them (heavy users) goes another round
    with the picked items at weight 0 and the cumulative sums redone. The weights are computed for a
    block of users at a time (≤ `block_bytes` of float64).
    """
    n_users, n_items = truth.n_users, truth.n_items
    exposure = truth.popularity ** truth.popularity_exponent
    offsets = np.concatenate([[0], np.cumsum(per_user)])
    items = np.empty(int(offsets[-1]), dtype=np.int32)
    rows = max(1, block_bytes // (8 * n_items))
    for start in range(0, n_users, rows):
        block = np.arange(start, min(start + rows, n_users))
        weights = truth.user_factors[block] @ truth.item_factors.T
        weights *= truth.affinity
        np.exp(weights, out=weights)
        weights *= exposure
        for row, u in enumerate(block.tolist()):
            w, need = weights[row], int(per_user[u])
            picked = np.zeros(0, dtype=np.int64)
            while picked.size < need:
                w[picked] = 0.0  # the picked items leave the urn
                cdf = np.cumsum(w)
                left = need - picked.size
                draws = np.searchsorted(cdf, rng.random(2 * left + 16) * cdf[-1], side="right")
                new, first = np.unique(np.minimum(draws, n_items - 1), return_index=True)
                picked = np.union1d(picked, new[np.argsort(first)][:left])  # the first `left` to appear
            items[offsets[u]:offsets[u + 1]] = picked
    return items


def make_interactions_chunked(n_users: int, n_items: int, n_interactions: int, rank: int = RANK, *,
                              popularity_exponent: float = 1.0, affinity: float = 1.5,
                              min_interactions: int = 5, activity_sigma: float = 1.0, play_rate: float = 1.0,
                              seed: int = 0, chunk: int = 1 << 22,
                              block_bytes: int = 64 * 2**20) -> tuple[Ratings, ImplicitTruth]:
    """The model of `helpers.implicit.make_interactions`, drawn fast enough for the 25M-like shape.

    `make_interactions` draws one Gumbel key per user × item (9.6 billion at 25M-like, ~10 min
    here) and sorts; this draws each user's items by the inverse CDF of its pick distribution
    (`_draw_items`: same law, ~2 min at 25M-like). The ground truth and the number of interactions
    of every user are drawn first, in the same order, so for the same seed they equal
    `make_interactions`'; the picks and counts differ (other random numbers, same distributions:
    tested). Indices and counts are int32, sorted by user, then item; the largest temporaries are a
    block of users × items weights (≤ `block_bytes`) and `chunk` interactions' factor rows.
    """
    cap = n_items // 2
    if not 1 <= min_interactions <= cap or not n_users * min_interactions <= n_interactions <= n_users * cap:
        raise ValueError(f"n_interactions={n_interactions} must lie between users × min_interactions and "
                         "users × half the items, and min_interactions in 1..half the items")
    rng = np.random.default_rng(seed)
    scale = rank ** -0.25  # as make_interactions: p_u·q_i has variance 1
    truth = ImplicitTruth(
        user_factors=rng.normal(0.0, scale, (n_users, rank)),
        item_factors=rng.normal(0.0, scale, (n_items, rank)),
        popularity=_zipf_weights(rng, n_items, 1.0),
        popularity_exponent=float(popularity_exponent), affinity=float(affinity), play_rate=float(play_rate),
    )
    per_user = _activity(rng, n_users, n_interactions, min_interactions, cap, float(activity_sigma))
    items = _draw_items(rng, truth, per_user, block_bytes)
    users = np.repeat(np.arange(n_users, dtype=np.int32), per_user)
    counts = np.empty(n_interactions, dtype=np.int32)
    for start in range(0, n_interactions, chunk):
        part = slice(start, start + chunk)
        dots = np.einsum("nk,nk->n", truth.user_factors[users[part]], truth.item_factors[items[part]])
        counts[part] = 1 + rng.poisson(truth.play_rate * np.exp(dots))
    return Ratings(users, items, counts, n_users, n_items), truth


@dataclass(frozen=True)
class Split:
    """The train / validation / test ratings of one shape, and the noise σ."""

    train: Ratings
    val: Ratings
    test: Ratings
    noise: float


def cache_path(shape: Shape, cache_dir: Path = CACHE_DIR, seed: int = 0) -> Path:
    return cache_dir / (f"{shape.key}_{shape.n_users}x{shape.n_items}_{shape.n_ratings}"
                        f"_seed{seed}_v{CACHE_VERSION}.npz")


def generate(shape: Shape, seed: int = 0) -> Split:
    """Generate and split (80/10/10, `split_random` with seed 0) the data of `shape`."""
    make = make_synthetic_chunked if shape.chunked else make_synthetic
    data, truth = make(shape.n_users, shape.n_items, shape.n_ratings, rank=RANK, noise=NOISE, seed=seed)
    train, val, test = split_random(data, (0.1, 0.1), seed=0)
    return Split(train, val, test, truth.noise)


def save(split: Split, path: Path) -> None:
    """Write the split as an uncompressed .npz (int32 indices, float32 ratings), atomically."""
    arrays: dict[str, np.ndarray] = {"shape": np.array([split.train.n_users, split.train.n_items]),
                                     "noise": np.array(split.noise)}
    for name in ("train", "val", "test"):
        part: Ratings = getattr(split, name)
        arrays[f"{name}_users"] = part.users.astype(np.int32)
        arrays[f"{name}_items"] = part.items.astype(np.int32)
        arrays[f"{name}_ratings"] = part.ratings.astype(np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.{os.getpid()}.tmp.npz")  # another run may be writing too
    np.savez(partial, **arrays)
    partial.replace(path)


def load(path: Path) -> Split:
    """Read a split written by `save`."""
    with np.load(path) as f:
        n_users, n_items = (int(v) for v in f["shape"])
        parts = [Ratings(f[f"{name}_users"], f[f"{name}_items"], f[f"{name}_ratings"], n_users, n_items)
                 for name in ("train", "val", "test")]
        return Split(*parts, noise=float(f["noise"]))


def ensure(shape: Shape, cache_dir: Path = CACHE_DIR) -> Path:
    """The cached split of `shape`, generated on first use; returns its path."""
    path = cache_path(shape, cache_dir)
    if not path.exists():
        save(generate(shape), path)
    return path


def main(argv: list[str] | None = None) -> None:
    """Generate the cache of one shape (the runner calls this in a subprocess)."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("shape", choices=list(SHAPES))
    parser.add_argument("--cache", type=Path, default=CACHE_DIR)
    args = parser.parse_args(argv)
    print(ensure(SHAPES[args.shape], args.cache), file=sys.stderr)


if __name__ == "__main__":
    main()
