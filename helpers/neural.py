"""Neural recommenders in plain PyTorch: output range, MLP, NeuMF, AutoRec and their trainers (16).

Models (each an `nn.Module` with `forward(users, items)` and `predict(users, items)` → NumPy):

- `DotProduct`: μ + b_u + b_i + p_u·q_i like `BiasedMF`, with an optional output range
  `y_range=(low, high)`: the sum passes through `sigmoid_range` (fastai's idea).
- `MLPRating`: user and item embeddings concatenated → MLP → rating (fastai's neural collab).
- `NeuMF` (He et al. 2017): a GMF branch p_u ⊙ q_i and an MLP branch on separate embeddings,
  concatenated, then one linear output.
- `AutoRec` (item-based, Sedhain et al. 2015): each item's vector of (centred) training ratings →
  sigmoid encoder → linear decoder, loss on the observed entries only.

`fit_neural` trains any of them on ratings (mini-batch Adam, MSE, early stopping on validation
RMSE); `fit_neural_implicit` trains `MLPRating` or `NeuMF` on interactions with sampled
negatives (BCE or BPR) and returns a `NeuralRanker` with `top_n` as `helpers.implicit`'s models.
`make_star_ratings` rounds and clips `make_synthetic`'s ratings to 1..5 stars, with the exact
expected rating as truth; `mlp_dot_experiment` measures how well an MLP learns a dot product
(Rendle, Krichene, Zhang & Anderson 2020).

Notebook 16 trains `DotProduct` with batch 4096, lr 0.04, reg 0.06: on the star ratings' validation
split 0.6909 (no range) and 0.6885 (y_range 0.5-5.5), against 0.6944 and 0.6923 with batch 1024,
lr 0.02 and 0.6962 and 0.6941 with batch 4096, lr 0.06.
"""

from __future__ import annotations

import math
import numbers
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from ._checks import (
    bilingual,
    check_patience,
    check_positive_float,
    check_positive_int,
    check_reg,
    check_seed,
)
from .datasets import Ratings, SyntheticTruth, _check_ratings, make_synthetic
from .models import check_index

# ---------------------------------------------------------------------------------------------
# The output range
# ---------------------------------------------------------------------------------------------


def check_y_range(y_range: Any) -> tuple[float, float] | None:
    """None, or (low, high) with finite low < high; a bilingual error otherwise. (16)"""
    if y_range is None:
        return None
    ok = isinstance(y_range, (tuple, list)) and len(y_range) == 2 and all(
        not isinstance(v, bool) and isinstance(v, numbers.Real) and math.isfinite(v) for v in y_range)
    if not ok or not y_range[0] < y_range[1]:
        raise ValueError(bilingual(
            f"`y_range` は (最小, 最大) の 2 つの有限の数で、最小 < 最大 にしてください"
            f"（{y_range!r} が渡されました）。例: (0.5, 5.5)。範囲を付けないなら None。",
            f"`y_range` must be two finite numbers (low, high) with low < high; got {y_range!r}. "
            "Example: (0.5, 5.5). Use None for no range.",
        ))
    return float(y_range[0]), float(y_range[1])


def sigmoid_range(x: torch.Tensor, low: float, high: float) -> torch.Tensor:
    """low + (high − low)·σ(x): any real x mapped into the open interval (low, high) (fastai). (16)"""
    low, high = check_y_range((low, high))  # type: ignore[misc]
    return low + (high - low) * torch.sigmoid(x)


def _logit_of(value: float, y_range: tuple[float, float] | None) -> float:
    """The x with sigmoid_range(x) = value (value pulled inside the range), or value without a range."""
    if y_range is None:
        return value
    low, high = y_range
    share = min(max((value - low) / (high - low), 1e-3), 1 - 1e-3)
    return math.log(share / (1 - share))


# ---------------------------------------------------------------------------------------------
# Star ratings with known truth
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StarTruth:
    """Truth of `make_star_ratings`: the latent model of `make_synthetic`, rounded and clipped. (16)

    A star rating is round(clip(x, low, high)) with x = latent prediction + N(0, noise²). Its
    expected value, the best possible prediction, is low + Σ_{k=low}^{high-1} Φ((m − k − ½)/noise)
    for latent mean m: it bends (saturates) towards low and high, unlike the latent dot product.
    """

    latent: SyntheticTruth
    low: int
    high: int

    def _moments(self, users: np.ndarray, items: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        m = torch.as_tensor(self.latent.predict(users, items), dtype=torch.float64)
        steps = torch.arange(self.low, self.high, dtype=torch.float64) + 0.5
        # P(star > k) = P(x ≥ k + ½) for k = low..high-1; E[star] = low + Σ P(star > k).
        above = torch.special.ndtr((m[:, None] - steps) / self.latent.noise)
        mean = self.low + above.sum(1)
        # E[star²] = low² + Σ_k ((k+1)² − k²)·P(star > k)
        ks = torch.arange(self.low, self.high, dtype=torch.float64)
        second = self.low ** 2 + (above * (2 * ks + 1)).sum(1)
        return mean.numpy(), (second - mean.square()).clamp_min(0).numpy()

    def predict(self, users: Any, items: Any) -> np.ndarray:
        """The expected star rating of each (user, item) pair: the best possible prediction. (16)"""
        users = check_index(users, "users", self.latent.user_bias.size)
        items = check_index(items, "items", self.latent.item_bias.size)
        return self._moments(users, items)[0]

    def noise_floor(self, users: Any, items: Any) -> float:
        """√(mean variance of the stars around their expectation): the RMSE no model beats on average. (16)"""
        users = check_index(users, "users", self.latent.user_bias.size)
        items = check_index(items, "items", self.latent.item_bias.size)
        return float(np.sqrt(self._moments(users, items)[1].mean()))


def make_star_ratings(*, low: int = 1, high: int = 5, **kwargs: Any) -> tuple[Ratings, StarTruth]:
    """`make_synthetic(**kwargs)`, each rating rounded to the nearest integer and clipped to low..high. (16)

    Same users, items and order as `make_synthetic` with the same arguments (so `split_random`
    with the same seed gives the same split); with the defaults about 9% of the continuous
    ratings fall outside 1..5 and are clipped. The truth is the exact expected star rating
    (`StarTruth.predict`), and `StarTruth.noise_floor` the RMSE of that best prediction.
    """
    for name, value in (("low", low), ("high", high)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise TypeError(bilingual(
                f"`{name}` は整数の星の数にしてください（{value!r} が渡されました）。",
                f"`{name}` must be an integer number of stars; got {value!r}.",
            ))
    if not low < high:
        raise ValueError(bilingual(
            f"`low` < `high` にしてください（low={low}, high={high}）。",
            f"`low` must be below `high` (low={low}, high={high}).",
        ))
    data, latent = make_synthetic(**kwargs)
    stars = np.clip(np.floor(data.ratings + 0.5), low, high)
    return (Ratings(data.users, data.items, stars, data.n_users, data.n_items),
            StarTruth(latent, int(low), int(high)))


def out_of_range_share(predictions: Any, low: float, high: float) -> float:
    """The share of predictions below `low` or above `high`. (16)"""
    low, high = check_y_range((low, high))  # type: ignore[misc]
    p = np.asarray(predictions, dtype=np.float64)
    if p.size == 0:
        raise ValueError(bilingual("`predictions` が空です。", "`predictions` is empty."))
    return float(np.mean((p < low) | (p > high)))


# ---------------------------------------------------------------------------------------------
# Models
# ---------------------------------------------------------------------------------------------


def _check_hidden(hidden: Any) -> tuple[int, ...]:
    if isinstance(hidden, (str, bytes)) or not isinstance(hidden, Sequence) or len(hidden) == 0:
        raise ValueError(bilingual(
            f"`hidden` は隠れ層の幅を並べた空でないタプルにしてください（{hidden!r} が渡されました）。"
            "例: (64, 32)。",
            f"`hidden` must be a non-empty tuple of hidden-layer widths; got {hidden!r}. "
            "Example: (64, 32).",
        ))
    return tuple(check_positive_int(h, "hidden", "隠れ層の幅", "hidden width") for h in hidden)


def _check_dropout(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value < 1:
        raise ValueError(bilingual(
            f"`dropout` は 0 以上 1 未満の数にしてください（{value!r} が渡されました）。",
            f"`dropout` must be a number in [0, 1); got {value!r}.",
        ))
    return float(value)


def _mlp(sizes: Sequence[int], dropout: float) -> nn.Sequential:
    """Linear → ReLU (→ Dropout) for each consecutive pair of `sizes`."""
    layers: list[nn.Module] = []
    for a, b in zip(sizes[:-1], sizes[1:], strict=True):
        layers += [nn.Linear(a, b), nn.ReLU()]
        if dropout:
            layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


class _RatingModel(nn.Module):
    """What the models share: sizes, μ, an optional output range, `predict`, the seeded start."""

    n_users: int
    n_items: int

    def _setup(self, n_users: int, n_items: int, global_mean: float, y_range: Any, init_std: float) -> None:
        self.n_users = check_positive_int(n_users, "n_users", "ユーザー数", "number of users")
        self.n_items = check_positive_int(n_items, "n_items", "アイテム数", "number of items")
        if isinstance(global_mean, bool) or not isinstance(global_mean, numbers.Real) \
                or not math.isfinite(global_mean):
            raise ValueError(bilingual(
                f"`global_mean` は有限の数にしてください（{global_mean!r} が渡されました）。",
                f"`global_mean` must be a finite number; got {global_mean!r}.",
            ))
        self.y_range = check_y_range(y_range)
        self.init_std = check_positive_float(init_std, "init_std", "初期値の標準偏差",
                                             "initial standard deviation")
        # The output starts at μ: with a range, the offset is the x whose sigmoid_range is μ.
        self.register_buffer("offset", torch.tensor(_logit_of(float(global_mean), self.y_range)))

    def _out(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.offset
        return x if self.y_range is None else sigmoid_range(x, *self.y_range)

    def _embedding(self, n: int, dim: int, generator: torch.Generator) -> nn.Embedding:
        # `_weight` skips nn.Embedding's own draw from the global generator.
        weight = torch.empty(n, dim).normal_(0.0, self.init_std, generator=generator)
        return nn.Embedding(n, dim, _weight=weight)

    def embeddings(self) -> list[nn.Embedding]:
        """The embedding tables, regularized per rating by `fit_neural`'s `reg`."""
        return [m for m in self.modules() if isinstance(m, nn.Embedding)]

    def check_ids(self, users: Any = None, items: Any = None) -> None:
        """Raise a clear error for an index the model has never seen."""
        if users is not None:
            check_index(users, "users", self.n_users)
        if items is not None:
            check_index(items, "items", self.n_items)

    @torch.no_grad()
    def predict(self, users: Any, items: Any, *, batch_size: int = 65536) -> np.ndarray:
        """Predictions as a float64 NumPy array, in evaluation mode (no dropout). (16)"""
        self.check_ids(users, items)
        u = torch.as_tensor(np.atleast_1d(np.asarray(users, dtype=np.int64)))
        i = torch.as_tensor(np.atleast_1d(np.asarray(items, dtype=np.int64)))
        was_training = self.training
        self.eval()
        try:
            out = [self(u[s:s + batch_size], i[s:s + batch_size]) for s in range(0, u.numel(), batch_size)]
        finally:
            self.train(was_training)
        return torch.cat(out).double().numpy() if out else np.empty(0)


class DotProduct(_RatingModel):
    """μ + b_u + b_i + p_u·q_i, or with `y_range` sigmoid_range(that sum − μ + logit μ, low, high). (16)

    Without `y_range` the same model as `BiasedMF` (train it with `fit_neural`, mini-batches);
    with it the output never leaves (low, high), and the sum starts where the output is μ.
    """

    def __init__(self, n_users: int, n_items: int, rank: int, global_mean: float = 0.0, *,
                 y_range: tuple[float, float] | None = None, init_std: float = 0.1, seed: int = 0) -> None:
        super().__init__()
        self._setup(n_users, n_items, global_mean, y_range, init_std)
        self.rank = check_positive_int(rank, "rank", "ランク", "rank")
        g = torch.Generator().manual_seed(check_seed(seed))
        self.user_factors = self._embedding(self.n_users, rank, g)
        self.item_factors = self._embedding(self.n_items, rank, g)
        self.user_bias = nn.Embedding(self.n_users, 1, _weight=torch.zeros(self.n_users, 1))
        self.item_bias = nn.Embedding(self.n_items, 1, _weight=torch.zeros(self.n_items, 1))

    def forward(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        """Predicted ratings for the pairs (users[k], items[k])."""
        dots = (self.user_factors(users) * self.item_factors(items)).sum(-1)
        return self._out(self.user_bias(users)[:, 0] + self.item_bias(items)[:, 0] + dots)


class MLPRating(_RatingModel):
    """[p_u, q_i] (concatenated) → Linear-ReLU layers of widths `hidden` → Linear → rating. (16)

    The output adds μ (or, with `y_range`, goes through `sigmoid_range` starting at μ).
    Embeddings start as N(0, init_std²), the layers as PyTorch's default, all from `seed`.
    """

    def __init__(self, n_users: int, n_items: int, dim: int = 32, hidden: Sequence[int] = (64, 32),
                 global_mean: float = 0.0, *, dropout: float = 0.0,
                 y_range: tuple[float, float] | None = None, init_std: float = 0.1, seed: int = 0) -> None:
        super().__init__()
        self._setup(n_users, n_items, global_mean, y_range, init_std)
        self.dim = check_positive_int(dim, "dim", "埋め込みの次元", "embedding dimension")
        hidden = _check_hidden(hidden)
        dropout = _check_dropout(dropout)
        g = torch.Generator().manual_seed(check_seed(seed))
        self.user_emb = self._embedding(self.n_users, dim, g)
        self.item_emb = self._embedding(self.n_items, dim, g)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.layers = _mlp((2 * dim, *hidden), dropout)
            self.head = nn.Linear(hidden[-1], 1)

    def forward(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        """Predicted ratings for the pairs (users[k], items[k])."""
        x = torch.cat([self.user_emb(users), self.item_emb(items)], -1)
        return self._out(self.head(self.layers(x))[:, 0])


class NeuMF(_RatingModel):
    """He et al. 2017: [p_u ⊙ q_i (GMF), MLP([p'_u, q'_i])] → one Linear → rating or logit. (16)

    The GMF branch has its own embeddings of size `gmf_dim`, the MLP branch its own of size
    `mlp_dim` and layers `hidden`; their outputs are concatenated and mapped to one number by a
    linear layer (no pre-training, as the paper's NeuMF trained from scratch).
    """

    def __init__(self, n_users: int, n_items: int, gmf_dim: int = 16, mlp_dim: int = 16,
                 hidden: Sequence[int] = (32, 16), global_mean: float = 0.0, *, dropout: float = 0.0,
                 y_range: tuple[float, float] | None = None, init_std: float = 0.1, seed: int = 0) -> None:
        super().__init__()
        self._setup(n_users, n_items, global_mean, y_range, init_std)
        self.gmf_dim = check_positive_int(gmf_dim, "gmf_dim", "GMF の埋め込みの次元", "GMF dimension")
        self.mlp_dim = check_positive_int(mlp_dim, "mlp_dim", "MLP の埋め込みの次元", "MLP dimension")
        hidden = _check_hidden(hidden)
        dropout = _check_dropout(dropout)
        g = torch.Generator().manual_seed(check_seed(seed))
        self.gmf_user = self._embedding(self.n_users, gmf_dim, g)
        self.gmf_item = self._embedding(self.n_items, gmf_dim, g)
        self.mlp_user = self._embedding(self.n_users, mlp_dim, g)
        self.mlp_item = self._embedding(self.n_items, mlp_dim, g)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.layers = _mlp((2 * mlp_dim, *hidden), dropout)
            self.head = nn.Linear(gmf_dim + hidden[-1], 1)

    def forward(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        """Predicted ratings (or logits) for the pairs (users[k], items[k])."""
        gmf = self.gmf_user(users) * self.gmf_item(items)
        mlp = self.layers(torch.cat([self.mlp_user(users), self.mlp_item(items)], -1))
        return self._out(self.head(torch.cat([gmf, mlp], -1))[:, 0])


class AutoRec(_RatingModel):
    """I-AutoRec (Sedhain et al. 2015): item i's ratings r_i ∈ ℝ^users → σ(V r_i + b) → W h + c. (16)

    The input of item i is its training ratings minus μ (0 where a user did not rate it); the
    output, plus μ, predicts every user's rating of i, and the loss counts the observed entries
    only. The model keeps its training matrix (items × users, dense: small data only), set by
    `AutoRec(train, ...)`; an item without training ratings is predicted μ + c_u.
    """

    def __init__(self, train: Ratings, hidden: int = 256, *, y_range: tuple[float, float] | None = None,
                 seed: int = 0) -> None:
        super().__init__()
        train = _check_ratings(train)
        mean = float(train.ratings.mean())
        self._setup(train.n_users, train.n_items, mean, y_range, 0.1)
        self.hidden = check_positive_int(hidden, "hidden", "隠れ層の幅", "hidden width")
        where = (torch.as_tensor(train.items).long(), torch.as_tensor(train.users).long())
        inputs = torch.zeros(train.n_items, train.n_users)
        inputs[where] = torch.as_tensor(train.ratings - mean, dtype=torch.float32)
        self.register_buffer("inputs", inputs)
        observed = torch.zeros(train.n_items, train.n_users, dtype=torch.bool)
        observed[where] = True
        self.register_buffer("observed", observed)
        self.center = mean
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(check_seed(seed))
            self.encoder = nn.Linear(train.n_users, self.hidden)
            self.decoder = nn.Linear(self.hidden, train.n_users)

    def reconstruct(self, items: torch.Tensor) -> torch.Tensor:
        """Predicted ratings of every user for `items`, shape (len(items), n_users)."""
        return self._out(self.decoder(torch.sigmoid(self.encoder(self.inputs[items]))))

    def forward(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        """Predicted ratings for the pairs (users[k], items[k])."""
        unique, where = torch.unique(items, return_inverse=True)
        return self.reconstruct(unique)[where, users]


# ---------------------------------------------------------------------------------------------
# Training on ratings
# ---------------------------------------------------------------------------------------------


@dataclass
class NeuralHistory:
    """What `fit_neural` records per epoch: mean training loss, RMSEs, seconds, the best epoch. (16)"""

    loss: list[float] = field(default_factory=list)
    train_rmse: list[float] = field(default_factory=list)
    val_rmse: list[float] = field(default_factory=list)
    epoch_seconds: list[float] = field(default_factory=list)
    best_epoch: int = 0
    stopped_early: bool = False


def _check_model(model: Any) -> _RatingModel:
    if not isinstance(model, _RatingModel):
        raise TypeError(bilingual(
            "`model` には DotProduct, MLPRating, NeuMF, AutoRec のどれかを渡してください"
            f"（{type(model).__name__} が渡されました）。BiasedMF は `fit` で学習します。",
            "`model` must be a DotProduct, MLPRating, NeuMF or AutoRec; got "
            f"{type(model).__name__}. Train a BiasedMF with `fit`.",
        ))
    return model


def _check_split(data: Any, name: str, model: _RatingModel) -> Ratings:
    data = _check_ratings(data) if data is not None else data
    if (data.n_users, data.n_items) != (model.n_users, model.n_items):
        raise ValueError(bilingual(
            f"`{name}` の大きさ ({data.n_users}, {data.n_items}) がモデル ({model.n_users}, "
            f"{model.n_items}) と違います。同じデータの分割を渡してください。",
            f"`{name}` has shape ({data.n_users}, {data.n_items}), the model ({model.n_users}, "
            f"{model.n_items}); pass parts of the same data.",
        ))
    return data


def _optimizer(model: nn.Module, lr: float, weight_decay: float) -> torch.optim.Optimizer:
    """Adam; the dense layers get `weight_decay`, the embeddings none (they get `reg` per rating)."""
    emb = [p for m in model.modules() if isinstance(m, nn.Embedding) for p in m.parameters()]
    ids = {id(p) for p in emb}
    dense = [p for p in model.parameters() if id(p) not in ids]
    groups = [{"params": emb, "weight_decay": 0.0}] + ([{"params": dense, "weight_decay": weight_decay}]
                                                       if dense else [])
    return torch.optim.Adam(groups, lr=lr)


def _penalty(model: _RatingModel, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
    """Per pair: the squared norms of the embedding rows the pair touches (as `fit`'s reg)."""
    user_tables = [getattr(model, n) for n in _USER_TABLES if hasattr(model, n)]
    total = torch.zeros(users.numel())
    for emb in model.embeddings():
        index = users if any(emb is t for t in user_tables) else items
        total = total + emb(index).square().sum(-1)
    return total


_USER_TABLES = ("user_factors", "user_bias", "user_emb", "gmf_user", "mlp_user")


@torch.no_grad()
def _model_rmse(model: _RatingModel, data: Ratings) -> float:
    pred = model.predict(data.users, data.items)
    return float(np.sqrt(np.mean((pred - data.ratings) ** 2)))


def fit_neural(model: nn.Module, train: Ratings, val: Ratings | None = None, *, lr: float = 1e-3,
               reg: float = 0.0, weight_decay: float = 0.0, batch_size: int = 1024, epochs: int = 30,
               patience: int = 3, seed: int = 0) -> NeuralHistory:
    """Mini-batch Adam on the mean squared error, with early stopping on the validation RMSE. (16)

    Each epoch shuffles the training ratings (NumPy, from `seed`) and takes one Adam step per
    batch of `batch_size`. Loss per batch = MSE + reg · mean of the squared norms of the embedding
    rows each rating touches (as `fit`); the dense layers get Adam's `weight_decay`. AutoRec trains
    on batches of items instead (masked MSE over their observed training ratings). After each
    epoch the RMSEs are recorded; after `patience` epochs without a better validation RMSE it stops,
    and the best epoch's parameters are restored. Dropout draws from torch's generator seeded with
    `seed` inside (the global one is left as it was). Same seed, one thread: same digits.
    """
    model = _check_model(model)
    train = _check_split(train, "train", model)
    val = _check_split(val, "val", model) if val is not None else None
    lr = check_positive_float(lr, "lr", "学習率", "learning rate")
    reg = check_reg(reg, allow_zero=True)
    weight_decay = check_reg(weight_decay, allow_zero=True, name="weight_decay")
    batch_size = check_positive_int(batch_size, "batch_size", "バッチサイズ", "batch size")
    epochs = check_positive_int(epochs, "epochs", "エポック数", "number of epochs")
    patience = check_positive_int(patience, "patience", "待つエポック数", "patience")
    rng = np.random.default_rng(check_seed(seed))
    opt = _optimizer(model, lr, weight_decay)
    history = NeuralHistory()
    users = torch.as_tensor(train.users, dtype=torch.int64)
    items = torch.as_tensor(train.items, dtype=torch.int64)
    ratings = torch.as_tensor(train.ratings, dtype=torch.float32)
    best, best_state, waited = math.inf, None, 0
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for epoch in range(1, epochs + 1):
            begin = time.perf_counter()
            model.train()
            if isinstance(model, AutoRec):
                total = _autorec_epoch(model, opt, rng, batch_size, reg)
            else:
                total = 0.0
                order = torch.as_tensor(rng.permutation(len(train)))
                for start in range(0, len(train), batch_size):
                    idx = order[start:start + batch_size]
                    u, i, r = users[idx], items[idx], ratings[idx]
                    loss = (model(u, i) - r).square().mean()
                    if reg:
                        loss = loss + reg * _penalty(model, u, i).mean()
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
                    total += loss.item() * idx.numel()
                total /= len(train)
            if not math.isfinite(total):
                raise FloatingPointError(bilingual(
                    f"エポック {epoch} で損失が NaN か無限大になりました。`lr`={lr} を小さくしてください。",
                    f"The loss became NaN or infinite in epoch {epoch}; use a smaller `lr` (now {lr}).",
                ))
            history.loss.append(total)
            history.epoch_seconds.append(time.perf_counter() - begin)
            history.train_rmse.append(_model_rmse(model, train))
            if val is None:
                continue
            history.val_rmse.append(_model_rmse(model, val))
            if history.val_rmse[-1] < best:
                best, waited, history.best_epoch = history.val_rmse[-1], 0, epoch
                best_state = {k: v.clone() for k, v in model.state_dict().items()}
            else:
                waited += 1
                if waited >= patience:
                    history.stopped_early = True
                    break
    model.eval()
    if best_state is not None:
        model.load_state_dict(best_state)
    else:
        history.best_epoch = len(history.loss)
    return history


def _autorec_epoch(model: AutoRec, opt: torch.optim.Optimizer, rng: np.random.Generator, batch_size: int,
                   reg: float) -> float:
    """One epoch over batches of items; mean squared error over their observed training ratings."""
    observed = model.observed
    rated = torch.as_tensor(np.flatnonzero(observed.any(1).numpy()))
    order = rated[torch.as_tensor(rng.permutation(rated.numel()))]
    total, count = 0.0, 0
    for start in range(0, order.numel(), batch_size):
        items = order[start:start + batch_size]
        target, mask = model.inputs[items] + model.center, observed[items]
        n = int(mask.sum())
        loss = ((model.reconstruct(items) - target).square() * mask).sum() / n
        if reg:  # Sedhain et al.: λ/2 (‖W‖² + ‖V‖²), here per observed rating as `reg`
            loss = loss + reg * (model.encoder.weight.square().sum() + model.decoder.weight.square().sum()) \
                / observed.sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        total, count = total + loss.item() * n, count + n
    return total / count


# ---------------------------------------------------------------------------------------------
# Implicit feedback: sampled negatives, BCE or BPR, top-N
# ---------------------------------------------------------------------------------------------

IMPLICIT_LOSSES = ("bce", "bpr")
SCORE_PAIRS = 2**18  # pairs scored in one forward pass by `NeuralRanker`


@dataclass
class NeuralRanker:
    """A model trained by `fit_neural_implicit`: ranks all items by its output, `top_n` as in 12. (16)"""

    model: _RatingModel
    losses: list[float] = field(default_factory=list)  # mean training loss of each epoch
    val_ndcg: list[float] = field(default_factory=list)  # validation NDCG@k after each epoch (if given)
    epoch_seconds: list[float] = field(default_factory=list)
    best_epoch: int = 0  # the epoch whose parameters were kept (1-based; the last without validation)

    @property
    def n_users(self) -> int:
        return self.model.n_users

    @property
    def n_items(self) -> int:
        return self.model.n_items

    @torch.no_grad()
    def _block(self, users: np.ndarray) -> torch.Tensor:
        self.model.eval()
        u = torch.as_tensor(users, dtype=torch.int64).repeat_interleave(self.n_items)
        i = torch.arange(self.n_items).repeat(users.size)
        return self.model(u, i).reshape(users.size, self.n_items)

    def scores(self, users: Any) -> np.ndarray:
        """The model's output for `users` × all items, shape (len(users), n_items). (16)"""
        users = check_index(users, "users", self.n_users)
        rows = max(1, SCORE_PAIRS // self.n_items)
        if users.size == 0:
            return np.empty((0, self.n_items))
        return np.concatenate([self._block(users[s:s + rows]).double().numpy()
                               for s in range(0, users.size, rows)])

    def top_n(self, users: Any, k: int = 10, exclude: Ratings | None = None) -> np.ndarray:
        """The k best items per user, best first, skipping `exclude` (as `top_n` of 08). (16)"""
        from .recommend import _check_k, _rank_in_blocks

        users = check_index(users, "users", self.n_users)
        k = _check_k(k, self.n_items)
        rows = max(1, SCORE_PAIRS // self.n_items)
        return _rank_in_blocks(self._block, users, k, self.n_items, exclude, rows)


def fit_neural_implicit(model: nn.Module, train: Ratings, *, loss: str = "bce", n_negatives: int = 4,
                        lr: float = 1e-3, reg: float = 0.0, weight_decay: float = 0.0, batch_size: int = 1024,
                        epochs: int = 20, seed: int = 0, validation: Ratings | None = None, k: int = 10,
                        patience: int | None = None) -> NeuralRanker:
    """Train a model's output as a score for implicit feedback, with sampled negatives (He et al. 2017). (16)

    Each epoch shuffles the training interactions (u, i) and draws `n_negatives` uniform items j
    that u never interacted with (`helpers.bpr.NegativeSampler`). "bce": every (u, i) is a 1 and
    every (u, j) a 0, each instance weighted equally (NeuMF's pointwise log loss); "bpr":
    −log σ(x_ui − x_uj), averaged over the negatives. `reg` and `weight_decay` as in `fit_neural`.
    Build the model with `global_mean=0` and no `y_range` (its output is a logit). With
    `validation`, NDCG@k over its users (training items excluded, all others ranked) is recorded
    after each epoch and the best epoch's parameters kept; `patience` stops after that many
    epochs without a better one.
    """
    from .bpr import NegativeSampler, _check_choice
    from .metrics import held_out_items, ranking_report

    model = _check_model(model)
    if isinstance(model, AutoRec) or model.y_range is not None:
        raise ValueError(bilingual(
            "暗黙的フィードバックには `y_range` なしの DotProduct, MLPRating, NeuMF を使ってください"
            "（出力はロジットです）。",
            "For implicit feedback use a DotProduct, MLPRating or NeuMF without `y_range` (its output is a "
            "logit).",
        ))
    train = _check_split(train, "train", model)
    loss = _check_choice(loss, "loss", IMPLICIT_LOSSES)
    n_negatives = check_positive_int(n_negatives, "n_negatives", "負例の数", "number of negatives")
    lr = check_positive_float(lr, "lr", "学習率", "learning rate")
    reg = check_reg(reg, allow_zero=True)
    weight_decay = check_reg(weight_decay, allow_zero=True, name="weight_decay")
    batch_size = check_positive_int(batch_size, "batch_size", "バッチサイズ", "batch size")
    epochs = check_positive_int(epochs, "epochs", "エポック数", "number of epochs")
    k = check_positive_int(k, "k", "上位の件数", "cut-off")
    seed = check_seed(seed)
    patience = check_patience(patience, validation)
    if validation is not None:
        validation = _check_split(validation, "validation", model)
        relevant = held_out_items(validation)
        val_users = np.array(sorted(relevant), dtype=np.int64)
    sampler = NegativeSampler(train)
    rng = np.random.default_rng(seed)
    opt = _optimizer(model, lr, weight_decay)
    users_all = torch.as_tensor(train.users, dtype=torch.int64)
    items_all = torch.as_tensor(train.items, dtype=torch.int64)
    ranker = NeuralRanker(model)
    best_state, since_best = None, 0
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for epoch in range(1, epochs + 1):
            begin = time.perf_counter()
            model.train()
            order = rng.permutation(len(train))
            neg_all = torch.as_tensor(sampler.sample(train.users[order], n_negatives, seed=rng),
                                      dtype=torch.int64)
            order_t = torch.as_tensor(order)
            u_all, i_all = users_all[order_t], items_all[order_t]
            total = 0.0
            for start in range(0, len(train), batch_size):
                u, i = u_all[start:start + batch_size], i_all[start:start + batch_size]
                j = neg_all[start:start + batch_size]  # (B, m)
                x_i = model(u, i)
                x_j = model(u.repeat_interleave(n_negatives), j.reshape(-1)).reshape(j.shape)
                if loss == "bce":
                    value = (-nn.functional.logsigmoid(x_i) - nn.functional.logsigmoid(-x_j).sum(-1)) \
                        / (1 + n_negatives)
                else:
                    value = -nn.functional.logsigmoid(x_i[:, None] - x_j).mean(-1)
                value = value.mean()
                if reg:
                    value = value + reg * (_penalty(model, u, i).mean() + _penalty(
                        model, u.repeat_interleave(n_negatives), j.reshape(-1)).mean())
                opt.zero_grad()
                value.backward()
                opt.step()
                total += value.item() * u.numel()
            ranker.epoch_seconds.append(time.perf_counter() - begin)
            if not math.isfinite(total):
                raise FloatingPointError(bilingual(
                    f"エポック {epoch} で損失が NaN か無限大になりました。`lr`={lr} を小さくしてください。",
                    f"The loss became NaN or infinite in epoch {epoch}; use a smaller `lr` (now {lr}).",
                ))
            ranker.losses.append(total / len(train))
            if validation is None:
                continue
            top = ranker.top_n(val_users, k, exclude=train)
            ranker.val_ndcg.append(ranking_report(dict(zip(val_users.tolist(), top.tolist(), strict=True)),
                                                  relevant, k)[f"ndcg@{k}"])
            if best_state is None or ranker.val_ndcg[-1] > ranker.val_ndcg[ranker.best_epoch - 1]:
                ranker.best_epoch, since_best = epoch, 0
                best_state = {key: v.clone() for key, v in model.state_dict().items()}
            else:
                since_best += 1
                if patience is not None and since_best >= patience:
                    break
    model.eval()
    if best_state is not None:
        model.load_state_dict(best_state)
    else:
        ranker.best_epoch = len(ranker.losses)
    return ranker


# ---------------------------------------------------------------------------------------------
# Can an MLP learn a dot product? (Rendle, Krichene, Zhang & Anderson 2020)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DotFit:
    """One row of `mlp_dot_experiment`: an MLP of one hidden width against the exact p·q. (16)"""

    width: int
    parameters: int
    train_rmse: float
    test_rmse: float
    seconds: float


def mlp_dot_experiment(widths: Sequence[int] = (16, 64, 256), *, dim: int = 16, n_users: int = 1000,
                       n_items: int = 1000, n_train: int = 50_000, n_test: int = 10_000, epochs: int = 20,
                       batch_size: int = 256, lr: float = 3e-3, seed: int = 0) -> list[DotFit]:
    """Fit an MLP [p_u, q_i] → width → width → 1 to p_u·q_i of fixed random embeddings; RMSE per width. (16)

    Embedding entries are N(0, 1/√dim), so p·q has variance 1: predicting 0 has RMSE about 1, the
    dot product itself 0 with no parameter to learn. The embeddings are given, not learned: only
    the function is learned, from `n_train` distinct random pairs (tested on `n_test` other pairs).
    Rendle et al. 2020 found that an MLP needs many parameters and much data to approximate a dot
    product well; this measures that on a small scale. Seeded; same seed, one thread: same digits.
    """
    widths = _check_hidden(widths)
    dim = check_positive_int(dim, "dim", "埋め込みの次元", "embedding dimension")
    n_users = check_positive_int(n_users, "n_users", "ユーザー数", "number of users")
    n_items = check_positive_int(n_items, "n_items", "アイテム数", "number of items")
    n_train = check_positive_int(n_train, "n_train", "学習に使う組の数", "training pairs")
    n_test = check_positive_int(n_test, "n_test", "テストの組の数", "test pairs")
    epochs = check_positive_int(epochs, "epochs", "エポック数", "number of epochs")
    batch_size = check_positive_int(batch_size, "batch_size", "バッチサイズ", "batch size")
    lr = check_positive_float(lr, "lr", "学習率", "learning rate")
    seed = check_seed(seed)
    if n_train + n_test > n_users * n_items:
        raise ValueError(bilingual(
            f"`n_train` + `n_test` = {n_train + n_test} は組の総数 {n_users * n_items} 以下にしてください。",
            f"`n_train` + `n_test` = {n_train + n_test} may not exceed the {n_users * n_items} pairs.",
        ))
    rng = np.random.default_rng(seed)
    P = torch.as_tensor(rng.normal(0, dim ** -0.25, (n_users, dim)), dtype=torch.float32)
    Q = torch.as_tensor(rng.normal(0, dim ** -0.25, (n_items, dim)), dtype=torch.float32)
    codes = torch.as_tensor(rng.choice(n_users * n_items, n_train + n_test, replace=False))
    x = torch.cat([P[codes // n_items], Q[codes % n_items]], -1)
    y = (P[codes // n_items] * Q[codes % n_items]).sum(-1)
    (x_train, x_test), (y_train, y_test) = x.split([n_train, n_test]), y.split([n_train, n_test])
    rows = []
    for width in widths:
        begin = time.perf_counter()
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            net = nn.Sequential(_mlp((2 * dim, width, width), 0.0), nn.Linear(width, 1))
            opt = torch.optim.Adam(net.parameters(), lr=lr)
            for _ in range(epochs):
                order = torch.as_tensor(rng.permutation(n_train))
                for start in range(0, n_train, batch_size):
                    idx = order[start:start + batch_size]
                    loss = (net(x_train[idx])[:, 0] - y_train[idx]).square().mean()
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
        with torch.no_grad():
            fit_rmse = [float((net(a)[:, 0] - b).square().mean().sqrt()) for a, b in
                        ((x_train, y_train), (x_test, y_test))]
        rows.append(DotFit(width, sum(p.numel() for p in net.parameters()), *fit_rmse,
                           time.perf_counter() - begin))
    return rows
