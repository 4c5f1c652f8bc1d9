"""Learning to rank from implicit feedback: negative sampling and BPR in PyTorch (13).

Bayesian personalized ranking (Rendle et al. 2009) learns from triples (u, i, j): user u
interacted with item i and not with item j, so u should score i above j. The negatives j are
sampled, uniformly or in proportion to popularity^γ (Mikolov et al. 2013 use γ = 0.75); the same
triples also train a pointwise model (binary cross-entropy: i is a 1, j a 0) and a sampled softmax.

Defaults rank 32, lr 0.005, reg 0.02, 30 epochs, batch 1024, one uniform negative per interaction,
item bias on: picked by validation NDCG@10 on a split carved from training
(`split_interactions_per_user(train, 0.2, seed=1)` of the 80% training part of `make_interactions()`,
seed 0), never on the test split. There popularity scores 0.209, weighted ALS 0.276, the truth 0.338;
BPR reached 0.2665 at epoch 28 and stays there (0.2662 at epoch 50). Tried at lr 0.005: reg 0.015
(0.260), 0.02 (0.2665), 0.03 (0.263), 0.05 (0.223); at lr 0.01: reg 1e-3 (0.21 at epoch 4, then
overfits), 0.01 (0.23), 0.03 (0.257), ≥ 0.1 (0.20: popularity by the bias alone), no item bias (0.249),
init 0.01 (0.257); lr 0.003 (0.268, but at epoch 55); rank 16 / 64 (0.262 / 0.265); batch 256 (0.255).
Popularity negatives: γ = 0.75 needs reg 0.05 (0.259), γ = 0.5 reg 0.03 (0.265), γ = 1 falls apart
(0.21 at epoch 4, 0.11 at 30); BCE 0.262 at reg 0.03; 4 negatives per interaction: BPR 0.274
(reg 0.02), softmax 0.267 (reg 0.03, best at epoch 13). Mini-batches of 4096 with lr 0.01 (4 times fewer
steps per epoch, as notebook 13 trains): BPR 0.2634, popularity negatives (γ 0.5, reg 0.03) 0.2633,
BCE (reg 0.03) 0.2616, softmax (4 negatives, reg 0.03, 15 epochs) 0.2627, all within 0.005 of
batch 1024 with lr 0.005 (0.2665, 0.2653, 0.2614, 0.2674). One epoch takes about 0.1 s on one thread
(80,000 interactions), a 30-epoch fit 3-4 s.
"""

from __future__ import annotations

import numbers
import time
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
from .datasets import Ratings, _check_ratings
from .implicit import _FactorRanker
from .metrics import _draw_distinct, held_out_items, ranking_report
from .models import check_index

DISTRIBUTIONS = ("uniform", "popularity")
LOSSES = ("bpr", "bce", "softmax")


def _check_choice(value: Any, name: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ValueError(bilingual(
            f"`{name}` は {', '.join(map(repr, choices))} のどれかにしてください"
            f"（{value!r} が渡されました）。",
            f"`{name}` must be one of {', '.join(map(repr, choices))}; got {value!r}.",
        ))
    return str(value)


class NegativeSampler:
    """Draws items each user has not interacted with in `train`: uniform or ∝ popularity^γ. (13)

    Popularity is the item's number of training interactions; with γ > 0 an item never seen in
    training is never drawn (γ = 0 is uniform). Draws are independent (with replacement): a draw
    that hits one of the user's items is drawn again (rejection, looked up in the sorted codes
    user · n_items + item), so no Python loop runs over interactions.
    """

    def __init__(self, train: Ratings, *, distribution: str = "uniform", exponent: float = 0.75) -> None:
        train = _check_ratings(train)
        self.distribution = _check_choice(distribution, "distribution", DISTRIBUTIONS)
        if isinstance(exponent, bool) or not isinstance(exponent, numbers.Real) \
                or not np.isfinite(exponent) or exponent < 0:
            raise ValueError(bilingual(
                f"`exponent`（人気度の指数 γ）は 0 以上の有限の数にしてください"
                f"（{exponent!r} が渡されました）。",
                f"`exponent` (the popularity exponent γ) must be a finite number ≥ 0; got {exponent!r}.",
            ))
        self.n_users, self.n_items = train.n_users, train.n_items
        self.codes = np.unique(train.users.astype(np.int64) * self.n_items + train.items)
        counts = np.bincount(train.items, minlength=self.n_items).astype(np.float64)
        weights = np.ones(self.n_items) if self.distribution == "uniform" else counts ** float(exponent)
        self.probabilities = weights / weights.sum()
        self._cdf = np.cumsum(self.probabilities)
        # what each user can still draw: the unseen items with a positive probability
        drawable = self.probabilities > 0
        seen_drawable = np.bincount(self.codes // self.n_items, weights=drawable[self.codes % self.n_items],
                                    minlength=self.n_users)
        self.available = (drawable.sum() - seen_drawable).round().astype(np.int64)

    def _check_users(self, users: np.ndarray, n: int, distinct: bool) -> None:
        need = n if distinct else 1
        short = users[self.available[users] < need]
        if short.size:
            u = int(short[0])
            left = int(self.available[u])
            raise ValueError(bilingual(
                f"ユーザー {u} が触れていない（選ばれうる）アイテムは {left} 個しかなく、"
                + (f"{n} 個の異なる負例を選べません。`n` を減らしてください。" if distinct and left
                   else "負例を選べません。すべてのアイテムに触れたユーザーは学習から除いてください。"),
                f"User {u} has only {left} items left to draw (not interacted with"
                + (", popular enough to be drawn)" if self.distribution == "popularity" else ")")
                + (f", fewer than {n} distinct negatives; ask for fewer." if distinct and left
                   else ", so no negative exists; leave out users who interacted with every item."),
            ))

    def _draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        if self.distribution == "uniform":
            return rng.integers(0, self.n_items, size)
        return np.minimum(np.searchsorted(self._cdf, rng.random(size) * self._cdf[-1], side="right"),
                          self.n_items - 1)

    def _seen(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        keys = users * self.n_items + items
        at = np.minimum(np.searchsorted(self.codes, keys), self.codes.size - 1)
        return self.codes[at] == keys

    def sample(self, users: Any, n: int = 1, *, distinct: bool = False, seed: Any = 0) -> np.ndarray:
        """n negatives per user, shape (len(users), n); `distinct`: no item twice in a row. (13)

        `seed` is an integer or a `np.random.Generator` (training passes its own). With
        `distinct=True` each row is a draw without replacement (random keys, as the sampled metrics
        use); it refuses a user with fewer than n items left to draw from.
        """
        users = check_index(users, "users", self.n_users)
        n = check_positive_int(n, "n", "負例の数", "number of negatives")
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(check_seed(seed))
        self._check_users(users, n, distinct)
        if distinct:
            if self.distribution == "uniform":
                return _draw_distinct(rng, users, n, self.n_items, self.codes)
            drawable = self.probabilities > 0
            log_w = np.log(self.probabilities, out=np.full(self.n_items, -np.inf), where=drawable)
            return _draw_distinct(rng, users, n, self.n_items, self.codes, log_w)
        flat = np.repeat(users, n)
        items = self._draw(rng, flat.size)
        todo = np.flatnonzero(self._seen(flat, items))
        for _ in range(100):  # each round removes most collisions: a user has at most a few % of the items
            if todo.size == 0:
                break
            items[todo] = self._draw(rng, todo.size)
            todo = todo[self._seen(flat[todo], items[todo])]
        for at in todo:  # users who saw nearly everything: draw from what is left, exactly
            u = flat[at]
            seen = self.codes[np.searchsorted(self.codes, u * self.n_items):
                              np.searchsorted(self.codes, (u + 1) * self.n_items)] % self.n_items
            p = self.probabilities.copy()
            p[seen] = 0.0
            items[at] = rng.choice(self.n_items, p=p / p.sum())
        return items.reshape(users.size, n)


def sample_negatives(train: Ratings, users: Any, n: int = 1, *, distribution: str = "uniform",
                     exponent: float = 0.75, distinct: bool = False, seed: int = 0) -> np.ndarray:
    """n items per user that the user never interacted with in `train`, uniform or ∝ popularity^γ. (13)"""
    sampler = NegativeSampler(train, distribution=distribution, exponent=exponent)
    return sampler.sample(users, n, distinct=distinct, seed=seed)


@dataclass(frozen=True)
class BPRModel(_FactorRanker):
    """Factors learnt from sampled triples (`fit_bpr`): score p_u·q_i + b_i, top-N as `WALSModel`. (13)"""

    user_factors: np.ndarray
    item_factors: np.ndarray
    item_bias: np.ndarray  # zeros when trained with item_bias=False
    losses: list[float] = field(default_factory=list)  # mean training loss of each epoch
    val_ndcg: list[float] = field(default_factory=list)  # validation NDCG@k after each epoch (if given)
    epoch_seconds: list[float] = field(default_factory=list)  # training time of each epoch
    best_epoch: int = 0  # the epoch whose parameters were kept (1-based; the last without validation)

    def scores(self, users: Any) -> np.ndarray:
        """p_u·q_i + b_i for `users` × all items, shape (len(users), n_items). (13)"""
        return self._block_scores(check_index(users, "users", self.n_users))

    def _block_scores(self, users: np.ndarray) -> np.ndarray:
        return self.user_factors[users] @ self.item_factors.T + self.item_bias


class _Net(nn.Module):
    def __init__(self, n_users: int, n_items: int, rank: int, init_std: float,
                 generator: torch.Generator) -> None:
        super().__init__()
        self.users, self.items = nn.Embedding(n_users, rank), nn.Embedding(n_items, rank)
        self.bias = nn.Embedding(n_items, 1)
        with torch.no_grad():
            self.users.weight.normal_(0.0, init_std, generator=generator)
            self.items.weight.normal_(0.0, init_std, generator=generator)
            self.bias.weight.zero_()

    def snapshot(self, use_bias: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        bias = self.bias.weight[:, 0].detach().numpy().astype(np.float64)
        return (self.users.weight.detach().numpy().astype(np.float64),
                self.items.weight.detach().numpy().astype(np.float64),
                bias if use_bias else np.zeros_like(bias))


def _triple_loss(net: _Net, u: torch.Tensor, i: torch.Tensor, j: torch.Tensor, loss: str, reg: float,
                 use_bias: bool) -> torch.Tensor:
    """Mean loss of a batch: u (B,), i (B,), j (B, m) negatives; reg on every row the batch touches."""
    p, q_i, q_j = net.users(u), net.items(i), net.items(j)  # (B, r), (B, r), (B, m, r)
    x_i = (p * q_i).sum(-1)
    x_j = (p[:, None, :] * q_j).sum(-1)
    penalty = p.square().sum(-1) + q_i.square().sum(-1) + q_j.square().sum(-1).mean(-1)
    if use_bias:
        b_i, b_j = net.bias(i)[:, 0], net.bias(j)[..., 0]
        x_i, x_j = x_i + b_i, x_j + b_j
        penalty = penalty + b_i.square() + b_j.square().mean(-1)
    if loss == "bpr":  # − log σ(x_ui − x_uj), averaged over the negatives
        value = -nn.functional.logsigmoid(x_i[:, None] - x_j).mean(-1)
    elif loss == "bce":  # i is a 1, each j a 0
        value = -nn.functional.logsigmoid(x_i) - nn.functional.logsigmoid(-x_j).mean(-1)
    else:  # softmax over {i} ∪ negatives, i the right class
        value = -torch.log_softmax(torch.cat([x_i[:, None], x_j], 1), 1)[:, 0]
    return (value + reg * penalty).mean()


def _validation_ndcg(model: BPRModel, train: Ratings, relevant: dict[int, set[int]], users: np.ndarray,
                     k: int) -> float:
    top = model.top_n(users, k, exclude=train)
    return ranking_report(dict(zip(users.tolist(), top.tolist(), strict=True)), relevant, k)[f"ndcg@{k}"]


def fit_bpr(train: Ratings, *, rank: int = 32, loss: str = "bpr", negatives: str = "uniform",
            exponent: float = 0.75, n_negatives: int = 1, lr: float = 0.005, reg: float = 0.02,
            epochs: int = 30, batch_size: int = 1024, item_bias: bool = True, init_std: float = 0.1,
            seed: int = 0, validation: Ratings | None = None, k: int = 10,
            patience: int | None = None) -> BPRModel:
    """BPR (Rendle et al. 2009) with `nn.Embedding` factors and Adam on mini-batches of (u, i, j). (13)

    An epoch shuffles the training interactions and gives each a fresh negative j (`negatives`
    "uniform" or "popularity": ∝ count^`exponent`; `n_negatives` per interaction). Per triple the
    loss is −log σ(x_ui − x_uj) ("bpr"), −log σ(x_ui) − log σ(−x_uj) ("bce", pointwise on the same
    triples) or the cross-entropy of i among {i, j...} ("softmax", no correction for the sampling),
    plus reg·(‖p_u‖² + ‖q_i‖² + ‖q_j‖² + b_i² + b_j²), with x_ui = p_u·q_i + b_i (b_i is 0 with
    `item_bias=False`). Factors start as N(0, init_std²); `seed` seeds them (torch) and the order
    and negatives (NumPy). With `validation`, NDCG@k over its users (training items excluded, all
    others ranked) is recorded after each epoch and the best epoch's parameters are kept; `patience`
    stops after that many epochs without a better one.
    """
    train = _check_ratings(train)
    rank = check_positive_int(rank, "rank", "ランク", "rank")
    loss = _check_choice(loss, "loss", LOSSES)
    n_negatives = check_positive_int(n_negatives, "n_negatives", "負例の数", "number of negatives")
    lr = check_positive_float(lr, "lr", "学習率", "learning rate")
    reg = check_reg(reg, allow_zero=True)
    epochs = check_positive_int(epochs, "epochs", "エポック数", "number of epochs")
    batch_size = check_positive_int(batch_size, "batch_size", "バッチサイズ", "batch size")
    init_std = check_positive_float(init_std, "init_std", "初期値の標準偏差", "initial standard deviation")
    seed = check_seed(seed)
    patience = check_patience(patience, validation)
    sampler = NegativeSampler(train, distribution=negatives, exponent=exponent)
    sampler._check_users(np.unique(train.users), 1, False)
    if validation is not None:
        validation = _check_ratings(validation)
        if (validation.n_users, validation.n_items) != (train.n_users, train.n_items):
            raise ValueError(bilingual(
                f"`validation` の大きさ ({validation.n_users}, {validation.n_items}) が `train` "
                f"({train.n_users}, {train.n_items}) と違います。同じデータを分割してください。",
                f"`validation` has shape ({validation.n_users}, {validation.n_items}), `train` "
                f"({train.n_users}, {train.n_items}); split the same data.",
            ))
        relevant = held_out_items(validation)
        val_users = np.array(sorted(relevant), dtype=np.int64)
    rng = np.random.default_rng(seed)
    net = _Net(train.n_users, train.n_items, rank, init_std, torch.Generator().manual_seed(seed))
    params = [net.users.weight, net.items.weight] + ([net.bias.weight] if item_bias else [])
    opt = torch.optim.Adam(params, lr=lr)
    users_all = torch.as_tensor(train.users, dtype=torch.int64)
    items_all = torch.as_tensor(train.items, dtype=torch.int64)
    losses, val_ndcg, seconds = [], [], []
    best, best_epoch, since_best = None, 0, 0
    for epoch in range(1, epochs + 1):
        begin = time.perf_counter()
        order = rng.permutation(len(train))
        neg = torch.as_tensor(sampler.sample(train.users[order], n_negatives, seed=rng))
        order_t = torch.as_tensor(order)
        u_all, i_all = users_all[order_t], items_all[order_t]
        total = 0.0
        for start in range(0, len(train), batch_size):
            stop = min(start + batch_size, len(train))
            value = _triple_loss(net, u_all[start:stop], i_all[start:stop], neg[start:stop], loss, reg,
                                 item_bias)
            opt.zero_grad()
            value.backward()
            opt.step()
            total += value.item() * (stop - start)
        seconds.append(time.perf_counter() - begin)
        if not np.isfinite(total):
            raise FloatingPointError(bilingual(
                f"エポック {epoch} で損失が NaN か無限大になりました。`lr`={lr} を小さくしてください。",
                f"The loss became NaN or infinite in epoch {epoch}; use a smaller `lr` (now {lr}).",
            ))
        losses.append(total / len(train))
        if validation is None:
            continue
        model = BPRModel(*net.snapshot(item_bias))
        val_ndcg.append(_validation_ndcg(model, train, relevant, val_users, k))
        if best is None or val_ndcg[-1] > val_ndcg[best_epoch - 1]:
            best, best_epoch, since_best = model, epoch, 0
        else:
            since_best += 1
            if patience is not None and since_best >= patience:
                break
    factors = net.snapshot(item_bias) if best is None \
        else (best.user_factors, best.item_factors, best.item_bias)
    return BPRModel(*factors, losses=losses, val_ndcg=val_ndcg, epoch_seconds=seconds,
                    best_epoch=best_epoch if best is not None else len(losses))
