"""The biased matrix-factorization model as a torch.nn.Module (06, 07)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from ._checks import bilingual, check_positive_int


class BiasedMF(nn.Module):
    """r̂_ui = μ + b_u + b_i + p_u·q_i, with embeddings for the biases and factors. (06)

    μ (`global_mean`) is fixed: the mean training rating. Factors start as N(0, init_std²),
    biases at 0. `fit` and `fit_als` set the factors and bias of every user and item without a
    training rating to 0, so such a user's score is μ + b_i and such an item's μ + b_u.
    """

    def __init__(self, n_users: int, n_items: int, rank: int, global_mean: float = 0.0, *,
                 init_std: float = 0.1, seed: int = 0, dtype: torch.dtype = torch.float32) -> None:
        super().__init__()
        self.n_users = check_positive_int(n_users, "n_users", "ユーザー数", "number of users")
        self.n_items = check_positive_int(n_items, "n_items", "アイテム数", "number of items")
        self.rank = check_positive_int(rank, "rank", "ランク", "rank")
        generator = torch.Generator().manual_seed(seed)
        self.register_buffer("global_mean", torch.tensor(float(global_mean), dtype=dtype))
        self.user_bias = nn.Embedding(n_users, 1, dtype=dtype)
        self.item_bias = nn.Embedding(n_items, 1, dtype=dtype)
        self.user_factors = nn.Embedding(n_users, rank, dtype=dtype)
        self.item_factors = nn.Embedding(n_items, rank, dtype=dtype)
        with torch.no_grad():
            self.user_bias.weight.zero_()
            self.item_bias.weight.zero_()
            self.user_factors.weight.normal_(0.0, init_std, generator=generator)
            self.item_factors.weight.normal_(0.0, init_std, generator=generator)

    def forward(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        """Predicted ratings for the pairs (users[k], items[k])."""
        dots = (self.user_factors(users) * self.item_factors(items)).sum(-1)
        return self.global_mean + self.user_bias(users)[:, 0] + self.item_bias(items)[:, 0] + dots

    def check_ids(self, users: Any = None, items: Any = None) -> None:
        """Raise a clear error for an index the model has never seen."""
        if users is not None:
            check_index(users, "users", self.n_users)
        if items is not None:
            check_index(items, "items", self.n_items)

    @torch.no_grad()
    def predict(self, users: Any, items: Any) -> np.ndarray:
        """Predictions as a float64 NumPy array, after checking the indices. (07)"""
        self.check_ids(users, items)
        device = self.global_mean.device  # a model trained on a GPU predicts there
        u = torch.as_tensor(np.asarray(users, dtype=np.int64), device=device)
        i = torch.as_tensor(np.asarray(items, dtype=np.int64), device=device)
        return self(u, i).double().cpu().numpy()


def check_index(values: Any, name: str, size: int) -> np.ndarray:
    """Require integer indices in 0..size-1; say what to do for unknown users and items."""
    arr = np.atleast_1d(np.asarray(values))
    if arr.size == 0:
        return arr.astype(np.int64)
    if np.issubdtype(arr.dtype, np.integer):
        outside = arr[(arr < 0) | (arr >= size)]
        if outside.size == 0:
            return arr.astype(np.int64)
        bad = outside[0].item()
    else:
        bad = arr.ravel()[0]
        bad = bad.item() if hasattr(bad, "item") else bad
    new_user = name in ("users", "user")
    raise ValueError(bilingual(
        f"`{name}` の {bad!r} はモデルが学習していない番号です（0〜{size - 1} の整数が必要です）。"
        + ("新しいユーザーは `fold_in` で潜在ベクトルを求めてください。" if new_user else ""),
        f"`{name}` contains {bad!r}, an index the model has never seen (it needs integers from 0 to "
        f"{size - 1})." + (" For a new user, get their latent vector with `fold_in`." if new_user else ""),
    ))
