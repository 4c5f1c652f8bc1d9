"""Using a trained model: top-N lists, similar items, and folding in a new user (08)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ._checks import bilingual, check_positive_int, check_reg
from .datasets import DENSE_LIMIT_BYTES, Ratings
from .models import BiasedMF, check_index


def _check_k(k: Any, n_items: int, name: str = "k") -> int:
    k = check_positive_int(k, name, "推薦する件数", "number of items to recommend")
    if k > n_items:
        raise ValueError(bilingual(
            f"`{name}`={k} はアイテムの総数 {n_items} を超えています。{n_items} 以下にしてください。",
            f"`{name}`={k} exceeds the catalogue of {n_items} items; use at most {n_items}.",
        ))
    return k


SCORE_BLOCK_BYTES = 64 * 2**20  # the most one block of scores may take in `top_n`


def _score_block(model: BiasedMF, users: np.ndarray) -> torch.Tensor:
    """Predicted ratings of every item for `users`, in the model's dtype and on its device."""
    u = torch.as_tensor(users, device=model.global_mean.device)
    P, Q = model.user_factors.weight, model.item_factors.weight
    return P[u] @ Q.T + model.user_bias.weight[u] + model.item_bias.weight[:, 0] + model.global_mean


def _check_scores_size(n_users: int, n_items: int, max_bytes: int) -> None:
    """Refuse a float64 (n_users × n_items) score table above `max_bytes`, with the size it needs."""
    needed = n_users * n_items * 8
    if needed > max_bytes:
        raise MemoryError(bilingual(
            f"{n_users:,} ユーザー × {n_items:,} アイテムのスコア（float64）には "
            f"{needed / 2**30:,.1f} GiB 必要で、上限 {max_bytes / 2**30:,.1f} GiB を超えます。"
            "上位の推薦だけが要るなら、ユーザーを区切って計算する `top_n` を使ってください。"
            "`scores` はユーザーを小分けにして呼んでください。",
            f"Scores for {n_users:,} users × {n_items:,} items (float64) need "
            f"{needed / 2**30:,.1f} GiB, over the limit of {max_bytes / 2**30:,.1f} GiB. For top "
            "recommendations use `top_n`, which works in blocks of users; call `scores` for fewer "
            "users at a time.",
        ))


@torch.no_grad()
def scores(model: BiasedMF, users: Any, *, max_bytes: int = DENSE_LIMIT_BYTES) -> np.ndarray:
    """Predicted ratings of every item for each user: float64, shape (len(users), n_items). (08)

    For a few users at a time: it refuses, with the size it would need, above `max_bytes`
    (2 GiB by default); `top_n` ranks any number of users block by block instead.
    """
    users = check_index(users, "users", model.n_users)
    _check_scores_size(users.size, model.n_items, max_bytes)
    return _score_block(model, users).double().cpu().numpy()


@torch.no_grad()
def top_n(model: BiasedMF, users: Any, k: int = 10, exclude: Ratings | None = None) -> np.ndarray:
    """The k highest-scored items for each user, best first, skipping items in `exclude`. (08)

    `exclude` is usually the training data: items a user has rated are not recommended again.
    Returns shape (len(users), k). Equal scores go to the lower item index first. When a user
    has fewer than k items left, the row ends in -1 (no item); the metrics of `helpers.metrics`
    read a negative entry as an empty slot. Works in blocks of users (at most 64 MB of scores at
    a time, in the model's dtype), so all users of a large catalogue fit in memory.
    """
    k = _check_k(k, model.n_items)
    users = check_index(users, "users", model.n_users)
    rows = max(1, SCORE_BLOCK_BYTES // (model.n_items * model.global_mean.element_size()))
    return _rank_in_blocks(lambda block_users: _score_block(model, block_users), users, k, model.n_items,
                           exclude, rows)


def _rank_in_blocks(score: Callable[[np.ndarray], torch.Tensor], users: np.ndarray, k: int, n_items: int,
                    exclude: Ratings | None, rows: int) -> np.ndarray:
    """Top-k lists from `score(block_users)`, a fresh (len(block), n_items) tensor, `rows` users at a time.

    Serves `top_n` here and the rankers of `helpers.implicit`; `k` and `users` are checked by the caller.
    """
    grouped = None if exclude is None else _group_by_user(exclude, users, n_items)
    out = np.empty((users.size, k), dtype=np.int64)
    for start in range(0, users.size, rows):
        block_users = users[start:start + rows]
        block = score(block_users)
        if grouped is not None:
            row, item = _rated_in(grouped, block_users)
            block[torch.as_tensor(row, device=block.device), torch.as_tensor(item, device=block.device)] \
                = -torch.inf
        out[start:start + rows] = _best_k(block, k)
    return out


def _group_by_user(exclude: Any, users: np.ndarray, n_items: int) -> tuple[np.ndarray, np.ndarray]:
    """(start, items): the items `exclude` has for user u are items[start[u]:start[u + 1]]."""
    if not isinstance(exclude, Ratings):
        raise TypeError(bilingual(
            f"`exclude` には Ratings（ふつうは学習データ）か None を渡してください"
            f"（{type(exclude).__name__} が渡されました）。",
            f"`exclude` must be a Ratings object (usually the training data) or None; got "
            f"{type(exclude).__name__}.",
        ))
    hit = np.isin(exclude.users, users)  # only the ratings of the users asked for
    by_user, items = exclude.users[hit], exclude.items[hit]
    if items.size and items.max() >= n_items:
        raise ValueError(bilingual(
            f"`exclude` にモデルの知らないアイテム {int(items.max())} があります（アイテムは {n_items} 個）。"
            "モデルを学習したのと同じデータの番号を使ってください。",
            f"`exclude` holds item {int(items.max())}, which the model does not have ({n_items} items); "
            "use the indices of the data the model was trained on.",
        ))
    order = np.argsort(by_user)  # any order of items within a user
    start = np.concatenate([[0], np.cumsum(np.bincount(by_user, minlength=users.max(initial=0) + 1))])
    return start, items[order]


def _rated_in(grouped: tuple[np.ndarray, np.ndarray], users: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(row, item) pairs: row r of a block of `users` has rated `item`."""
    start, items = grouped
    first, counts = start[users], start[users + 1] - start[users]
    row = np.repeat(np.arange(users.size), counts)
    offset = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    return row, items[np.repeat(first, counts) + offset]


def _best_k(block: torch.Tensor, k: int) -> np.ndarray:
    """Per row, the columns of the k largest entries, best first, ties to the lower column; -1 at -inf.

    The same lists as a stable argsort of whole rows, without sorting whole rows.
    """
    extra = int(k < block.shape[1])  # one more value shows whether a tie crosses the cut
    values, index = torch.topk(block, k + extra, dim=1)  # which of equal values topk keeps is open
    if torch.isnan(values).any():  # topk ranks NaN above everything
        raise ValueError(bilingual(
            "モデルのスコアに NaN があります。学習が発散していないか確かめてください。",
            "The model's scores contain NaN; check that training did not diverge.",
        ))
    values, index = values.cpu().numpy(), index.cpu().numpy()
    # A row whose k-th and (k+1)-th values are equal: topk may have kept a higher column. Redo it.
    crossed = (values[:, k - 1] == values[:, k]) & (values[:, k - 1] > -np.inf) if extra else []
    values, index = values[:, :k], index[:, :k]
    by_index = np.argsort(index, axis=1)  # equal values in order of column, then stably by value
    values, index = np.take_along_axis(values, by_index, 1), np.take_along_axis(index, by_index, 1)
    by_value = np.argsort(-values, axis=1, kind="stable")
    values, index = np.take_along_axis(values, by_value, 1), np.take_along_axis(index, by_value, 1)
    for row in np.flatnonzero(crossed):
        full = block[row].cpu().numpy()
        index[row] = np.argsort(-full, kind="stable")[:k]
        values[row] = full[index[row]]
    return np.where(values == -np.inf, -1, index)


def similar_items(item_factors: Any, item: int, k: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """The k items whose factor vectors have the highest cosine similarity to `item`'s. (08)"""
    Q = np.asarray(item_factors.detach() if isinstance(item_factors, torch.Tensor) else item_factors,
                   dtype=np.float64)
    item = int(check_index(item, "item", Q.shape[0])[0])
    k = _check_k(k, Q.shape[0] - 1)
    norms = np.linalg.norm(Q, axis=1)
    cosine = Q @ Q[item] / np.maximum(norms * norms[item], 1e-12)
    cosine[item] = -np.inf  # not similar to itself
    order = np.argsort(-cosine, kind="stable")[:k]
    return order, cosine[order]


@dataclass
class NewUser:
    """A user who was not in the training data, folded in by `fold_in`. (08)"""

    bias: float
    factors: np.ndarray

    @torch.no_grad()
    def scores(self, model: BiasedMF) -> np.ndarray:
        """Predicted ratings of every item for this user."""
        Q = model.item_factors.weight.double().cpu().numpy()
        item_bias = model.item_bias.weight[:, 0].double().cpu().numpy()
        return float(model.global_mean) + self.bias + item_bias + Q @ self.factors


@torch.no_grad()
def fold_in(model: BiasedMF, items: Any, ratings: Any, *, reg: float = 0.04) -> NewUser:
    """A new user's bias and factors from a few ratings, with the items' parameters fixed. (08)

    Solves the small ridge least-squares problem, n = the number of ratings given:
    min over (b, p) of Σ_i (r_i − μ − b_i − b − p·q_i)² + reg·n·(b² + ‖p‖²).
    This is the user's part of `fit`'s loss (written as a sum), so `reg` has the default and the
    per-rating meaning of `fit` and `fit_als`. Each item may appear once. An item that had no
    training rating keeps q_i = 0 and b_i = 0, so its rating says nothing about p and only
    moves b, through r_i − μ.
    """
    items = check_index(items, "items", model.n_items)
    ratings = np.asarray(ratings, dtype=np.float64).ravel()
    if ratings.size != items.size or ratings.size == 0:
        raise ValueError(bilingual(
            f"`items` と `ratings` は同じ長さ（1 以上）にしてください（{items.size} と {ratings.size}）。",
            f"`items` and `ratings` must have the same length, at least 1 ({items.size} and {ratings.size}).",
        ))
    unique, counts = np.unique(items, return_counts=True)
    if (counts > 1).any():
        item = int(unique[np.argmax(counts > 1)])
        raise ValueError(bilingual(
            f"`items` にアイテム {item} が 2 回以上あります。各アイテムの評価値は 1 つにしてください"
            "（同じアイテムを何度も評価したなら、最後の評価値だけを渡してください）。",
            f"`items` lists item {item} more than once; give one rating per item (if the user rated it "
            "several times, pass the latest rating only).",
        ))
    if not np.isfinite(ratings).all():
        raise ValueError(bilingual(
            "`ratings` に NaN または無限大があります。評価値は有限の数にしてください。",
            "`ratings` contains NaN or infinity; ratings must be finite numbers.",
        ))
    reg = check_reg(reg, allow_zero=False)
    Q = model.item_factors.weight.double().cpu().numpy()[items]
    item_bias = model.item_bias.weight[:, 0].double().cpu().numpy()[items]
    target = ratings - float(model.global_mean) - item_bias
    X = np.hstack([np.ones((items.size, 1)), Q])  # columns: the user's bias, then factors
    solution = np.linalg.solve(X.T @ X + reg * items.size * np.eye(X.shape[1]), X.T @ target)
    return NewUser(float(solution[0]), solution[1:])
