"""Using a trained model: top-N lists, similar items, and folding in a new user (08)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ._checks import bilingual, check_positive_int, check_reg
from .datasets import Ratings
from .models import BiasedMF, check_index


def _check_k(k: Any, n_items: int, name: str = "k") -> int:
    k = check_positive_int(k, name, "推薦する件数", "number of items to recommend")
    if k > n_items:
        raise ValueError(bilingual(
            f"`{name}`={k} はアイテムの総数 {n_items} を超えています。{n_items} 以下にしてください。",
            f"`{name}`={k} exceeds the catalogue of {n_items} items; use at most {n_items}.",
        ))
    return k


@torch.no_grad()
def scores(model: BiasedMF, users: Any) -> np.ndarray:
    """Predicted ratings of every item for each user: shape (len(users), n_items). (08)"""
    users = check_index(users, "users", model.n_users)
    u = torch.as_tensor(users)
    P, Q = model.user_factors.weight, model.item_factors.weight
    full = P[u] @ Q.T + model.user_bias.weight[u] + model.item_bias.weight[:, 0] + model.global_mean
    return full.double().numpy()


def top_n(model: BiasedMF, users: Any, k: int = 10, exclude: Ratings | None = None) -> np.ndarray:
    """The k highest-scored items for each user, best first, skipping items in `exclude`. (08)

    `exclude` is usually the training data: items a user has rated are not recommended again.
    Returns shape (len(users), k); when a user has fewer than k unrated items the row is
    padded with -1.
    """
    k = _check_k(k, model.n_items)
    users = check_index(users, "users", model.n_users)
    table = scores(model, users)
    if exclude is not None:
        rated: dict[int, list[int]] = {}
        hit = np.isin(exclude.users, users)
        for u, i in zip(exclude.users[hit].tolist(), exclude.items[hit].tolist(), strict=True):
            rated.setdefault(u, []).append(i)
        for row, u in enumerate(users.tolist()):  # every row, even if a user appears twice
            table[row, rated.get(u, [])] = -np.inf
    order = np.argsort(-table, axis=1, kind="stable")[:, :k]
    return np.where(np.take_along_axis(table, order, axis=1) == -np.inf, -1, order)


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
        Q = model.item_factors.weight.double().numpy()
        item_bias = model.item_bias.weight[:, 0].double().numpy()
        return float(model.global_mean) + self.bias + item_bias + Q @ self.factors


@torch.no_grad()
def fold_in(model: BiasedMF, items: Any, ratings: Any, *, reg: float = 1.0) -> NewUser:
    """A new user's bias and factors from a few ratings, with the items' parameters fixed. (08)

    Solves the small ridge least-squares problem
    min over (b, p) of Σ (r_i − μ − b_i − b − p·q_i)² + reg (b² + ‖p‖²).
    """
    items = check_index(items, "items", model.n_items)
    ratings = np.asarray(ratings, dtype=np.float64).ravel()
    if ratings.size != items.size or ratings.size == 0:
        raise ValueError(bilingual(
            f"`items` と `ratings` は同じ長さ（1 以上）にしてください（{items.size} と {ratings.size}）。",
            f"`items` and `ratings` must have the same length, at least 1 ({items.size} and {ratings.size}).",
        ))
    if not np.isfinite(ratings).all():
        raise ValueError(bilingual(
            "`ratings` に NaN または無限大があります。評価値は有限の数にしてください。",
            "`ratings` contains NaN or infinity; ratings must be finite numbers.",
        ))
    reg = check_reg(reg, allow_zero=False)
    Q = model.item_factors.weight.double().numpy()[items]
    target = ratings - float(model.global_mean) - model.item_bias.weight[:, 0].double().numpy()[items]
    X = np.hstack([np.ones((items.size, 1)), Q])  # columns: the user's bias, then factors
    solution = np.linalg.solve(X.T @ X + reg * np.eye(X.shape[1]), X.T @ target)
    return NewUser(float(solution[0]), solution[1:])
