"""The masked squared loss, its gradient and the training loop of the seed example (03, 04)."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ._checks import (
    bilingual,
    check_betas,
    check_device,
    check_factors,
    check_fraction,
    check_matrix,
    check_positive_float,
    check_positive_int,
    check_ratings,
    check_reg,
)

OptimizerFactory = Callable[[list[torch.Tensor], float], torch.optim.Optimizer]
# Called after each evaluation with (step, validation RMSE); returning True stops training (15).
EvalCallback = Callable[[int, float], Any]

# While the learning rate comes down on plateaus, `fit`'s Adam remembers about 1 / (1 − β1) = 3 steps
# of gradient instead of torch's 10: a full-batch gradient has no sampling noise to average away, and
# the shorter memory overshoots less at a large learning rate, so the default path needs about half
# the steps (07, 10). At a fixed learning rate, torch's longer memory is what lets Adam settle (09).
ADAM_BETAS = (0.7, 0.999)
# An evaluation that lowers the validation RMSE by less than this fraction halves the learning rate
# (`lr_decay`): the steps have become too long to go further down the valley (07).
PLATEAU = 1e-3
# The evaluations of the first WARMUP steps neither lower the learning rate nor count towards stopping:
# Adam's first steps at a large learning rate can raise the validation RMSE for a moment, which on a
# small data set would otherwise halve lr at once or stop training before it starts (07, solutions).
WARMUP = 10

_OPTIMIZERS: dict[str, OptimizerFactory] = {
    "adam": lambda params, lr: torch.optim.Adam(params, lr=lr),
    "sgd": lambda params, lr: torch.optim.SGD(params, lr=lr),
}


class DivergenceError(ValueError):
    """Training produced a NaN or infinite loss or parameter: a learning rate too large, or NaN or
    infinity in the ratings or the starting model. No trainer returns such parameters silently.

    `losses` holds the finite losses recorded before it happened.
    """

    def __init__(self, message: str, losses: list[float]) -> None:
        super().__init__(message)
        self.losses = losses


def _as_tensor(value: Any) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        return value
    return torch.tensor(np.asarray(value, dtype=np.float64))


def _as_tensors(R: Any, P: Any, Q: Any) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Tensors of one common floating dtype (the autograd graph of P, Q is kept)."""
    Rt, Pt, Qt = _as_tensor(R), _as_tensor(P), _as_tensor(Q)
    dtype = torch.promote_types(torch.promote_types(Pt.dtype, Qt.dtype), Rt.dtype)
    if not dtype.is_floating_point:
        dtype = torch.float64
    return Rt.to(dtype), Pt.to(dtype), Qt.to(dtype)


def _loss(R: torch.Tensor, P: torch.Tensor, Q: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    # Same operations, in the same order, as the original loop, so the digits match it.
    filtered = (R - P.T @ Q) * mask
    return torch.sum(torch.square(filtered))


def masked_squared_loss(R: Any, P: Any, Q: Any) -> torch.Tensor:
    """Sum of squared errors of `PᵀQ` against `R` over the observed (non-zero) entries only. (03)

    Accepts NumPy arrays or tensors; keeps the autograd graph when `P`, `Q` are tensors.
    """
    check_factors(P, Q, check_ratings(R).shape)
    Rt, Pt, Qt = _as_tensors(R, P, Q)
    return _loss(Rt, Pt, Qt, Rt != 0)


def masked_loss_grad(R: Any, P: Any, Q: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """The masked loss's gradient by hand: dL/dP = -2 Q Eᵀ, dL/dQ = -2 P E, E = M∘(R - PᵀQ). (03)"""
    check_factors(P, Q, check_ratings(R).shape)
    Rt, Pt, Qt = (t.detach() for t in _as_tensors(R, P, Q))
    E = (Rt - Pt.T @ Qt) * (Rt != 0)
    return -2 * Qt @ E.T, -2 * Pt @ E


@dataclass
class TrainResult:
    """What `train` returns: the fitted factors and the loss recorded before each step."""

    P: torch.Tensor
    Q: torch.Tensor
    losses: list[float] = field(default_factory=list)

    def reconstruction(self) -> np.ndarray:
        """`PᵀQ` as a NumPy array. (04)"""
        return reconstruct(self.P, self.Q)


def train(
    R: Any,
    P: Any,
    Q: Any,
    *,
    lr: float = 0.05,
    steps: int = 100,
    optimizer: str | OptimizerFactory = "adam",
    reg: float = 0.0,
) -> TrainResult:
    """Fit `PᵀQ` to the observed entries of `R`, as in the original loop. (03)

    `P`, `Q` are copied to new float64 leaf tensors (the inputs are not changed). Each step
    records the loss, then zero_grad → backward → step, exactly like the original.
    `optimizer` is "adam", "sgd" or a function `(params, lr) -> torch.optim.Optimizer`.
    `reg` > 0 adds reg · (‖P‖² + ‖Q‖²) to the loss (the L2 penalty of 05; used by the explorer in 04).
    """
    R_np = check_ratings(R)
    P_np, Q_np = check_factors(P, Q, R_np.shape)
    lr = check_positive_float(lr, "lr", "学習率", "learning rate")
    steps = check_positive_int(steps, "steps", "ステップ数", "number of steps")
    reg = check_reg(reg, allow_zero=True)
    if isinstance(optimizer, str):
        if optimizer not in _OPTIMIZERS:
            raise ValueError(bilingual(
                f"引数 `optimizer` が不明です: {optimizer!r}。"
                f"{sorted(_OPTIMIZERS)} のどれかか、(params, lr) からオプティマイザを作る関数を"
                "渡してください。",
                f"Unknown `optimizer` {optimizer!r}: use one of {sorted(_OPTIMIZERS)}, or a function "
                "(params, lr) -> torch.optim.Optimizer.",
            ))
        make_optimizer = _OPTIMIZERS[optimizer]
    elif callable(optimizer):
        make_optimizer = optimizer
    else:
        raise TypeError(bilingual(
            f"引数 `optimizer` は文字列か関数にしてください（{type(optimizer).__name__} が渡されました）。",
            f"Argument `optimizer` must be a string or a function; got {type(optimizer).__name__}.",
        ))

    Rt = torch.tensor(R_np)
    Pt = torch.tensor(P_np, requires_grad=True)
    Qt = torch.tensor(Q_np, requires_grad=True)
    mask = Rt != 0  # built once: it never changes during training
    opt = make_optimizer([Pt, Qt], lr)
    if not isinstance(opt, torch.optim.Optimizer):
        raise TypeError(bilingual(
            f"`optimizer` の関数が torch.optim.Optimizer ではなく {type(opt).__name__} を返しました。"
            "例: `lambda params, lr: torch.optim.Adam(params, lr=lr)`。",
            f"The `optimizer` function returned {type(opt).__name__}, not a torch.optim.Optimizer. "
            "Example: `lambda params, lr: torch.optim.Adam(params, lr=lr)`.",
        ))
    losses: list[float] = []
    for step in range(steps):
        loss = _loss(Rt, Pt, Qt, mask)
        if reg:  # only when asked: the original loop stays exactly as it was
            loss = loss + reg * (Pt.square().sum() + Qt.square().sum())
        value = loss.item()
        if not math.isfinite(value):
            raise DivergenceError(bilingual(
                f"ステップ {step} で損失が {value} になり、学習が発散しました（学習率 lr={lr}）。"
                "学習率を下げて（例: 1/10 に）やり直してください。",
                f"Training diverged: the loss became {value} at step {step} (lr={lr}). "
                "Lower the learning rate (e.g. to a tenth) and try again.",
            ), losses)
        losses.append(value)
        opt.zero_grad()
        loss.backward()
        opt.step()
    if not (torch.isfinite(Pt).all() and torch.isfinite(Qt).all()):  # the last step had no loss after it
        raise DivergenceError(bilingual(
            f"最後のステップで P か Q に NaN または無限大が出ました（学習率 lr={lr}）。"
            "学習率を下げてください。",
            f"The last step left NaN or infinity in P or Q (lr={lr}). Lower the learning rate.",
        ), losses)
    return TrainResult(Pt.detach(), Qt.detach(), losses)


def reconstruct(P: Any, Q: Any) -> np.ndarray:
    """The reconstruction `PᵀQ` (rows × cols) as a float64 NumPy array. (04)"""
    P_np, Q_np = check_matrix(P, "P"), check_matrix(Q, "Q")
    if P_np.shape[0] != Q_np.shape[0]:
        raise ValueError(bilingual(
            f"`P` と `Q` の行数（ランク r）をそろえてください（P {P_np.shape}, Q {Q_np.shape}）。",
            f"`P` and `Q` need the same number of rows, the rank r (P {P_np.shape}, "
            f"Q {Q_np.shape}).",
        ))
    return P_np.T @ Q_np


# --- Part II: training on (user, item, rating) triples ------------------------------------------


@dataclass
class History:
    """What `fit` records: losses per step, RMSEs at each evaluation, the best step. (07)"""

    loss: list[float] = field(default_factory=list)
    eval_steps: list[int] = field(default_factory=list)
    train_rmse: list[float] = field(default_factory=list)
    val_rmse: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)  # `fit`: learning rate of the steps before each evaluation
    best_step: int = 0
    stopped_early: bool = False
    stopped_by_callback: bool = False  # `callback` returned True (15)


def _triples(data: Any, name: str,
             dtype: torch.dtype = torch.float32) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    from .datasets import Ratings

    if not isinstance(data, Ratings) or len(data) == 0:
        got = "評価値 0 個の Ratings" if isinstance(data, Ratings) else type(data).__name__
        got_en = "a Ratings with 0 ratings" if isinstance(data, Ratings) else type(data).__name__
        raise TypeError(bilingual(
            f"`{name}` には空でない Ratings を渡してください（{got} が渡されました）。"
            "行列からは `Ratings.from_dense(R)` で作れます。",
            f"`{name}` must be a non-empty Ratings object; got {got_en}. From a matrix, use "
            "`Ratings.from_dense(R)`.",
        ))
    return (torch.as_tensor(data.users, dtype=torch.int64), torch.as_tensor(data.items, dtype=torch.int64),
            torch.as_tensor(data.ratings, dtype=dtype))


def fit(
    model: torch.nn.Module,
    train: Any,
    val: Any = None,
    *,
    lr: float = 0.1,
    reg: float = 0.04,
    max_steps: int = 500,
    eval_every: int = 5,
    patience: int = 2,
    tol: float = 1e-4,
    lr_decay: float = 0.5,
    betas: tuple[float, float] | None = None,
    device: Any = None,
    callback: EvalCallback | None = None,
) -> History:
    """Full-batch Adam on a `BiasedMF`, with early stopping on the validation RMSE. (07)

    Loss = mean squared error + reg · mean over the training ratings of
    (‖p_u‖² + ‖q_i‖² + b_u² + b_i²): each rating regularizes the parameters it touches, so users
    and items with many ratings get more of it, as in Funk's SVD and Surprise. Every `eval_every`
    steps the RMSEs (and `lr`, in `History.lr`) are recorded. With `val`: an evaluation that is not
    `PLATEAU` = 0.1 % below the last one that was multiplies the learning rate by `lr_decay` (torch's
    `ReduceLROnPlateau`; 1 keeps it fixed); after `patience` evaluations in a
    row that lower it by less than `tol` (relative), training stops and the best parameters are
    restored. The evaluations of the first `WARMUP` = 10 steps do neither (Adam's first steps at a
    large learning rate may raise the validation RMSE for a moment). Adam's `betas` are by default
    (0.7, 0.999) (`ADAM_BETAS`) when the learning rate comes down on plateaus, torch's (0.9, 0.999)
    when it stays fixed (no `val`, or `lr_decay=1`). `patience=4, tol=0, lr_decay=1` is, but for the
    warm-up, the series' earlier default, which waited 20 steps past the best (10). `device` ("cpu",
    "cuda", …) moves the model there and trains there; by default, where the model already is. (10)
    `callback(step, val_rmse)`, called after each evaluation (needs `val`), stops training when it
    returns True, with the best parameters restored as in early stopping: how a hyperparameter search
    prunes a bad trial (`helpers.tuning`, 15). Without it, training is exactly as before.

    Users and items without a training rating get factors and bias 0 at the start, and keep them
    (their gradient is 0): a user's score is then μ + b_i, an item's μ + b_u, as in `fit_als`.
    Raises `DivergenceError` when the loss or the model's RMSE becomes NaN or infinite.
    """
    lr = check_positive_float(lr, "lr", "学習率", "learning rate")
    reg = check_reg(reg, allow_zero=True)
    max_steps = check_positive_int(max_steps, "max_steps", "最大ステップ数", "maximum steps")
    eval_every = check_positive_int(eval_every, "eval_every", "評価の間隔", "evaluation interval")
    stopping = EarlyStopping(patience, tol, WARMUP, lr_decay=lr_decay, betas=betas)
    monitor = _Monitor(model, train, val, stopping, device, callback)
    history = monitor.history
    batch = _SparseBatch(train, (model.n_users, model.n_items), model.global_mean.dtype, monitor.device)
    _zero_unrated(model, batch)
    weights = [model.user_factors.weight, model.item_factors.weight,
               model.user_bias.weight, model.item_bias.weight]
    opt = stopping.adam(weights, lr, validated=val is not None)
    for step in range(1, max_steps + 1):
        value = batch.loss_and_grads(model, reg)
        _check_loss(value, step, history.loss, lr)
        history.loss.append(value)
        opt.step()
        if (step % eval_every == 0 or step == max_steps) and monitor.evaluate(step):
            break
    return monitor.finish()


def _csr(crow: torch.Tensor, col: torch.Tensor, values: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """A CSR matrix, with torch's beta-state notice for CSR tensors silenced here and only here."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta",
                                category=UserWarning)
        return torch.sparse_csr_tensor(crow, col, values, size, check_invariants=False)


class _SparseBatch:
    """The training ratings as a users × items CSR matrix (and its transpose), for fast steps.

    With E the sparse matrix of errors e_ui = r̂_ui − r_ui at the observed entries, the
    gradient of the loss is (2/n)·(E Q + reg·n_u p_u) for the user factors and
    (2/n)·(Eᵀ P + reg·n_i q_i) for the item factors; sparse products compute E Q and Eᵀ P in
    O(n · rank) without ever gathering an (n × rank) array. The biases ride along as two extra
    columns, P⁺ = [P, b_u, 1] and Q⁺ = [Q, 1, b_i]: then p⁺_u·q⁺_i = p_u·q_i + b_u + b_i, one
    sampled product gives every prediction, and E Q⁺, Eᵀ P⁺ hold the bias gradients (row sums
    of E) in their extra columns. Same numbers as autograd on the gathered embeddings, several
    times faster (notebook 10 measures it).
    """

    def __init__(self, train: Any, shape: tuple[int, int], dtype: torch.dtype,
                 device: torch.device | None = None) -> None:
        order = np.lexsort((train.items, train.users))  # by user, then item: CSR row order
        users = torch.as_tensor(train.users[order], dtype=torch.int64)
        items = torch.as_tensor(train.items[order], dtype=torch.int64)
        self.ratings = torch.as_tensor(train.ratings[order], dtype=dtype)
        self.n = len(order)
        self.shape = shape  # the model's sizes (the data may declare other, unused ones)
        user_count = torch.bincount(users, minlength=shape[0])
        item_count = torch.bincount(items, minlength=shape[1])
        self.user_count, self.item_count = user_count.to(dtype), item_count.to(dtype)
        to_item_order = np.lexsort((train.users[order], train.items[order]))
        # 32-bit indices halve the index memory and make the sparse kernels about a quarter faster.
        index = torch.int32 if max(self.n, *shape) < 2**31 else torch.int64
        self.users, self.items = users.to(index), items.to(index)
        zero = torch.zeros(1, dtype=torch.int64)
        self.crow = torch.cat([zero, user_count.cumsum(0)]).to(index)
        self.crow_t = torch.cat([zero, item_count.cumsum(0)]).to(index)
        self.to_item_order = torch.as_tensor(to_item_order).to(index)
        self.col_t = users[to_item_order].to(index)
        del users, items
        if device is not None and device.type != "cpu":
            for name, value in vars(self).items():
                if isinstance(value, torch.Tensor):
                    setattr(self, name, value.to(device))
        ones = torch.ones(self.n, dtype=dtype, device=self.ratings.device)
        self.pattern = _csr(self.crow, self.items, ones, self.shape)
        self.als_plan: tuple[tuple[int, int], tuple[list[_Block], list[_Block]]] | None = None

    def als_blocks(self, size: int, itemsize: int) -> tuple[list[_Block], list[_Block]]:
        """`fit_als`'s blocks of users and of items (`_plan_blocks`), planned on first use."""
        if self.als_plan is None or self.als_plan[0] != (size, itemsize):
            self.als_plan = ((size, itemsize),
                             (_plan_blocks(self.crow, self.items, self.shape[1], size, itemsize),
                              _plan_blocks(self.crow_t, self.col_t, self.shape[0], size, itemsize)))
        return self.als_plan[1]

    @torch.no_grad()
    def loss_and_grads(self, model: Any, reg: float) -> float:
        """Set the `.grad` of the four weight tables; return the loss before the step."""
        P, Q = model.user_factors.weight, model.item_factors.weight
        bu, bi = model.user_bias.weight, model.item_bias.weight
        rank = P.shape[1]
        P_plus = torch.cat([P, bu, torch.ones_like(bu)], dim=1)
        Q_plus = torch.cat([Q, torch.ones_like(bi), bi], dim=1)
        err = torch.sparse.sampled_addmm(self.pattern, P_plus, Q_plus.T, beta=0.0).values()
        err.add_(model.global_mean).sub_(self.ratings)  # μ + b_u + b_i + p_u·q_i − r_ui
        by_user = _csr(self.crow, self.items, err, self.shape) @ Q_plus
        err_t = err.index_select(0, self.to_item_order)
        by_item = _csr(self.crow_t, self.col_t, err_t, self.shape[::-1]) @ P_plus
        scale = 2.0 / self.n
        nu, ni = self.user_count[:, None], self.item_count[:, None]
        P.grad = scale * (by_user[:, :rank] + reg * nu * P)
        Q.grad = scale * (by_item[:, :rank] + reg * ni * Q)
        bu.grad = scale * (by_user[:, rank:rank + 1] + reg * nu * bu)
        bi.grad = scale * (by_item[:, rank + 1:] + reg * ni * bi)
        penalty = (nu[:, 0] @ (P.square().sum(1) + bu[:, 0].square())
                   + ni[:, 0] @ (Q.square().sum(1) + bi[:, 0].square())) / self.n
        return float(err.square().mean() + reg * penalty)


@torch.no_grad()
def _zero_unrated(model: Any, batch: _SparseBatch) -> None:
    """Factors and bias 0 for every user and item without a training rating: nothing can train them."""
    for count, factors, bias in ((batch.user_count, model.user_factors.weight, model.user_bias.weight),
                                 (batch.item_count, model.item_factors.weight, model.item_bias.weight)):
        unrated = count == 0
        factors[unrated] = 0.0
        bias[unrated] = 0.0


def _check_loss(value: float, step: int, losses: list[float], lr: float | None = None) -> None:
    """Raise `DivergenceError` for a NaN or infinite loss, naming its likely cause; `lr` None: ALS."""
    if math.isfinite(value):
        return
    if step == 1:  # nothing has been updated yet: the data or the starting model hold NaN or inf
        ja = (f"学習を始める前の損失がすでに {value} です。評価値とモデルのパラメータに NaN や"
              "無限大、極端に大きな値がないか確かめてください。")
        en = (f"The loss is already {value} before training starts: look for NaN, infinity or extremely "
              "large values in the ratings and in the model's parameters.")
    elif lr is None:
        ja = (f"反復 {step} の前に損失が {value} になりました。評価値に極端に大きな値がないか"
              "確かめてください。")
        en = f"The loss became {value} before sweep {step}: look for extremely large ratings."
    else:
        ja = f"ステップ {step} で損失が {value} になりました（lr={lr}）。学習率を下げてください。"
        en = f"The loss became {value} at step {step} (lr={lr}). Lower the learning rate."
    raise DivergenceError(bilingual(ja, en), losses)


def fit_biases(train: Any, *, reg: float = 10.0, sweeps: int = 10) -> tuple[float, np.ndarray, np.ndarray]:
    """The "biases only" baseline μ + b_u + b_i, by alternating closed-form updates. (07)

    With the item biases fixed, each b_u = Σ_i (r_ui − μ − b_i) / (n_u + reg) minimizes the
    regularized squared error exactly; then the same for the items. `reg` shrinks the biases of
    users and items with few ratings towards 0; those with no rating get 0. Raises
    `DivergenceError` when a bias comes out NaN or infinite (NaN or infinity in the ratings).
    """
    _triples(train, "train")
    reg = check_reg(reg, allow_zero=True)
    sweeps = check_positive_int(sweeps, "sweeps", "反復回数", "number of sweeps")
    mean = float(train.ratings.mean())
    user_n = np.bincount(train.users, minlength=train.n_users) + reg
    item_n = np.bincount(train.items, minlength=train.n_items) + reg
    user_n[user_n == 0], item_n[item_n == 0] = 1, 1  # no rating and reg = 0: bias 0, not 0/0
    user_bias, item_bias = np.zeros(train.n_users), np.zeros(train.n_items)
    for _ in range(sweeps):
        resid = train.ratings - mean - item_bias[train.items]
        user_bias = np.bincount(train.users, resid, train.n_users) / user_n
        resid = train.ratings - mean - user_bias[train.users]
        item_bias = np.bincount(train.items, resid, train.n_items) / item_n
    if not (math.isfinite(mean) and np.isfinite(user_bias).all() and np.isfinite(item_bias).all()):
        raise DivergenceError(bilingual(
            "バイアスに NaN または無限大が出ました。評価値に NaN や無限大がないか確かめてください。",
            "The biases came out NaN or infinite: look for NaN or infinity in the ratings.",
        ), [])
    return mean, user_bias, item_bias


# The most one temporary array of fit_als (a block's Z or grams) or of _rmse may take: bounds their
# memory whatever the rank and the data. Measured at the 1M-like shape, 4-16 MiB is as fast as 64 MiB.
BLOCK_BYTES = 8 * 2**20

# A block of rows solved together: the rows, their numbers of ratings n_r, and the column indices
# of their ratings in pieces; a piece is (rows × width), padded with the index of a zero row.
_Block = tuple[torch.Tensor, torch.Tensor, list[torch.Tensor]]


def _plan_blocks(crow: torch.Tensor, col: torch.Tensor, n_other: int, size: int, itemsize: int,
                 budget: int = BLOCK_BYTES) -> list[_Block]:
    """Group the rows of a CSR pattern for `_ridge_rows`, so that every gathered array fits `budget`.

    Rows are taken in order of length, up to 1.25 × the shortest in a block (padding wastes at most
    a quarter) and as many as the budget allows for their (rows × width × size) gathered array and
    their (rows × size × size) grams. A row too long for the budget alone gets its own block, cut
    into pieces whose grams are summed. Rows without ratings are left out. The plan depends only on
    which ratings exist, so `_SparseBatch.als_blocks` makes it once per fit; it holds every
    rating's column index once, plus the padding (saves ~20 % of a sweep at rank 10).
    """
    lengths = (crow[1:] - crow[:-1]).cpu()  # n_r; planned on the CPU
    order = torch.argsort(lengths, stable=True)
    sorted_lengths = lengths[order]
    slot_bytes = size * itemsize  # one gathered rating
    longest = max(1, budget // slot_bytes)  # the most ratings gathered at once
    col = torch.cat([col, col.new_full((1,), n_other)])  # padding slots read n_other: z's zero row
    start = int(torch.searchsorted(sorted_lengths, 1))  # rows with no rating keep x = 0
    stop = int(torch.searchsorted(sorted_lengths, longest, right=True))
    blocks: list[_Block] = []
    while start < stop:
        width = int(sorted_lengths[start]) * 5 // 4
        end = min(stop, start + max(1, budget // (max(width, size) * slot_bytes)),
                  int(torch.searchsorted(sorted_lengths, width, right=True)))
        rows, n = order[start:end].to(crow.device), sorted_lengths[start:end].to(crow.device)
        slot = torch.arange(int(sorted_lengths[end - 1]), dtype=crow.dtype, device=crow.device)
        pos = torch.where(slot < n[:, None], crow[rows][:, None] + slot, len(col) - 1)
        blocks.append((rows, n, [_gather_rows(col, pos)]))
        start = end
    for row in order[stop:].tolist():
        first, last = int(crow[row]), int(crow[row + 1])
        pieces = [col[p:min(p + longest, last)][None] for p in range(first, last, longest)]
        blocks.append((torch.tensor([row], device=crow.device), lengths[row:row + 1].to(crow.device), pieces))
    return blocks


def _ridge_rows(blocks: list[_Block], crow: torch.Tensor, col: torch.Tensor, target: torch.Tensor,
                other: torch.Tensor, reg: float) -> torch.Tensor:
    """For every row r: argmin over x of Σ_c (target_rc − z_c·x)² + reg·n_r·‖x‖², z_c = [1, other_c].

    x = [bias, factors]; the sum runs over the row's n_r ratings, given in CSR form (crow, col).
    The right-hand sides Σ target_rc z_c, one (rows × (rank+1)) array, are a sparse product. The
    grams Σ z_c z_cᵀ are made a block at a time (`_plan_blocks`): the block's z_c gathered into a
    zero-padded (rows × width × (rank+1)) array Z, one batched product Zᵀ Z, then the block's
    solves. So memory beyond the result stays under the block budget, whatever the rank and the
    data, and the products are dense and compute-bound. Rows without ratings solve to exactly 0.
    """
    ones = torch.ones(other.shape[0], 1, dtype=other.dtype, device=other.device)
    z = torch.cat([ones, other], dim=1)
    rhs = _csr(crow, col, target, (len(crow) - 1, other.shape[0])) @ z
    z = torch.cat([z, z.new_zeros(1, z.shape[1])])  # a row of zeros at the end: where padding points
    x = z.new_zeros(len(crow) - 1, z.shape[1])
    for rows, n, pieces in blocks:
        gram = sum(torch.bmm(Z.transpose(1, 2), Z) for Z in (_gather_rows(z, p) for p in pieces))
        x[rows] = _solve(gram, rhs[rows], reg * n.to(z.dtype))
    return x


def _gather_rows(table: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """table[index]; on the CPU through NumPy, whose take copies short rows 2-3× faster than torch's."""
    if table.device.type != "cpu":  # index_select takes int32 indices on every device
        return table.index_select(0, index.reshape(-1)).reshape(*index.shape, *table.shape[1:])
    return torch.from_numpy(np.take(table.detach().numpy(), index.numpy(), axis=0))


def _solve(gram: torch.Tensor, rhs: torch.Tensor, ridge: torch.Tensor) -> torch.Tensor:
    """Solve (gram + ridge·I) x = rhs for a batch of rows; `ridge` is reg·n_r per row."""
    gram.diagonal(dim1=1, dim2=2).add_(ridge.to(gram)[:, None])
    # Cholesky: the systems are symmetric positive definite (reg > 0), and it is ~1.5× faster than LU
    factor, info = torch.linalg.cholesky_ex(gram)
    if info.any():  # rounding broke definiteness (a tiny reg in float32): LU for this batch
        return torch.linalg.solve(gram, rhs[:, :, None])[:, :, 0]
    return torch.cholesky_solve(rhs[:, :, None], factor)[:, :, 0]


@torch.no_grad()
def fit_als(
    model: torch.nn.Module,
    train: Any,
    val: Any = None,
    *,
    reg: float = 0.04,
    sweeps: int = 20,
    patience: int = 2,
    device: Any = None,
    callback: EvalCallback | None = None,
) -> History:
    """Alternating least squares for `BiasedMF`: each half-sweep solves one side exactly. (09)

    With the items fixed, the loss of `fit` splits into one small ridge regression per user
    for x_u = [b_u, p_u]: (Z_uᵀ Z_u + reg·n_u I) x_u = Z_uᵀ (r_u − μ − b_items), Z_u holding
    the rows [1, q_i] of the items the user rated. Then the same for the items. One sweep =
    users then items; `History` gets one entry per sweep (the training loss before the sweep,
    the RMSEs after it), with early stopping on the validation RMSE as in `fit`; `device` and
    `callback` (called after each sweep with (sweep, validation RMSE)) as in `fit`.

    Users and items without a training rating get factors and bias 0 (their ridge problem has
    no data), so their scores rest on μ and the other side's bias, as in `fit`. Rows are solved
    in blocks whose arrays stay under 8 MiB (`_ridge_rows`), so memory does not grow with rank² × rows.
    Raises `DivergenceError` when the loss or the model's RMSE becomes NaN or infinite.
    """
    reg = check_reg(reg, allow_zero=False,
                    note_ja="交互最小二乗法では、正則化がないと評価の少ない行の"
                            "連立方程式が解けないことがあります。",
                    note_en="Without regularization, ALS may face unsolvable systems "
                            "for rows with few ratings.")
    sweeps = check_positive_int(sweeps, "sweeps", "反復回数", "number of sweeps")
    monitor = _Monitor(model, train, val, EarlyStopping(patience), device, callback)
    batch = _SparseBatch(train, (model.n_users, model.n_items), model.global_mean.dtype, monitor.device)
    _zero_unrated(model, batch)
    for sweep in range(1, sweeps + 1):
        value = batch.loss_and_grads(model, reg)  # the loss before this sweep
        _check_loss(value, sweep, monitor.history.loss)
        monitor.history.loss.append(value)
        for weight in model.parameters():
            weight.grad = None
        _als_sweep(batch, model, reg)
        if monitor.evaluate(sweep):
            break
    return monitor.finish()


def _rmse(model: Any, users: torch.Tensor, items: torch.Tensor, ratings: torch.Tensor) -> float:
    """RMSE of the model on the triples, a chunk at a time so that no N × rank array is made at scale."""
    chunk = max(1, BLOCK_BYTES // (model.rank * model.global_mean.element_size()))  # (chunk × rank) arrays
    if len(ratings) <= chunk:
        return float((model(users, items) - ratings).square().mean().sqrt())
    total = sum(float((model(users[s:s + chunk], items[s:s + chunk]) - ratings[s:s + chunk])
                      .double().square().sum()) for s in range(0, len(ratings), chunk))
    return math.sqrt(total / len(ratings))


@torch.no_grad()
def _als_sweep(batch: _SparseBatch, model: Any, reg: float) -> None:
    """One ALS sweep in place: every user's [b_u, p_u] exactly, then every item's [b_i, q_i]."""
    mu = model.global_mean
    P, Q = model.user_factors.weight, model.item_factors.weight
    bu, bi = model.user_bias.weight, model.item_bias.weight
    by_user_item, by_user_user = batch.items, batch.users  # each rating's item and user, CSR order
    user_blocks, item_blocks = batch.als_blocks(P.shape[1] + 1, P.element_size())
    target = batch.ratings - mu - bi[by_user_item, 0]
    x = _ridge_rows(user_blocks, batch.crow, by_user_item, target, Q, reg)
    bu[:, 0], P[:] = x[:, 0], x[:, 1:]
    target = (batch.ratings - mu - bu[by_user_user, 0])[batch.to_item_order]
    x = _ridge_rows(item_blocks, batch.crow_t, batch.col_t, target, P, reg)
    bi[:, 0], Q[:] = x[:, 0], x[:, 1:]


class _Monitor:
    """Checks the model and data, records the RMSEs and does the early stopping of `fit` and `fit_als`."""

    def __init__(self, model: Any, train: Any, val: Any, stopping: EarlyStopping, device: Any = None,
                 callback: EvalCallback | None = None) -> None:
        from .models import BiasedMF

        if not isinstance(model, BiasedMF):
            raise TypeError(bilingual(
                f"`model` には BiasedMF を渡してください（{type(model).__name__} が渡されました）。",
                f"`model` must be a BiasedMF; got {type(model).__name__}.",
            ))
        dtype = model.global_mean.dtype
        self.device = model.global_mean.device if device is None else check_device(device)
        self.model = model.to(self.device)
        self.train = tuple(t.to(self.device) for t in _triples(train, "train", dtype))
        model.check_ids(train.users, train.items)
        self.val = None
        if val is not None:
            self.val = tuple(t.to(self.device) for t in _triples(val, "val", dtype))
            model.check_ids(val.users, val.items)
        self.stopping = stopping
        if callback is not None and not callable(callback):
            raise TypeError(bilingual(
                f"`callback` には関数 (step, val_rmse) -> bool を渡してください"
                f"（{type(callback).__name__} が渡されました）。",
                f"`callback` must be a function (step, val_rmse) -> bool; got {type(callback).__name__}.",
            ))
        if callback is not None and val is None:
            raise ValueError(bilingual(
                "`callback` は検証データの RMSE を受け取るので、`val` も渡してください。",
                "`callback` receives the validation RMSE: pass `val` too.",
            ))
        self.callback = callback
        self.history = History()

    @torch.no_grad()
    def evaluate(self, step: int) -> bool:
        """Record the RMSEs after `step`; True when validation has not improved for `patience` times."""
        history, model = self.history, self.model
        history.eval_steps.append(step)
        history.train_rmse.append(_rmse(model, *self.train))
        if not math.isfinite(history.train_rmse[-1]):  # checks every trained parameter, at no extra cost
            raise DivergenceError(bilingual(
                f"{step} 回目の更新の後、学習データの RMSE が {history.train_rmse[-1]} になりました。"
                "パラメータに NaN または無限大があります。`fit` なら学習率 `lr` を下げ、"
                "`fit_als` なら評価値に極端に大きな値がないか確かめてください。",
                f"After update {step} the training RMSE is {history.train_rmse[-1]}: the parameters hold "
                "NaN or infinity. With `fit`, lower the learning rate `lr`; with `fit_als`, look for "
                "extremely large ratings.",
            ), history.loss)
        if self.val is None:
            self.stopping.record_lr(history)
            return False
        current = _rmse(model, *self.val)
        self.stopping.update(step, current, model, history)
        if self.callback is not None and self.callback(step, current):
            history.stopped_by_callback = True
        return history.stopped_early or history.stopped_by_callback

    def finish(self) -> History:
        """Restore the best parameters (with validation data) and return the history."""
        self.stopping.restore(self.model, self.history)
        return self.history


def adam_betas(scheduled: bool) -> tuple[float, float]:
    """`fit`'s default Adam betas: `ADAM_BETAS` while lr comes down on plateaus, else torch's."""
    return ADAM_BETAS if scheduled else (0.9, 0.999)


class EarlyStopping:
    """The validation rule of `fit`, `fit_als` and `fit_timed`: keep the best, stop, lower lr. (07)

    `update` records a validation RMSE; its gain is the fraction by which it lowers the best so far.
    The best parameters are kept at any gain > 0; `patience` evaluations in a row with a gain ≤ `tol`
    stop training; with an optimizer and `lr_decay` < 1, a gain below `PLATEAU` multiplies the
    learning rate by `lr_decay` (torch's `ReduceLROnPlateau` with patience 0). Evaluations at steps
    ≤ `warmup` only keep the best: they neither stop training nor lower the learning rate. `adam`
    makes the optimizer of this rule; the arguments are all checked here, before any training.
    """

    def __init__(self, patience: int, tol: float = 0.0, warmup: int = 0, *, lr_decay: float = 1.0,
                 betas: tuple[float, float] | None = None) -> None:
        self.patience = check_positive_int(patience, "patience", "早期終了までの評価回数",
                                           "evaluations to wait")
        self.tol = check_fraction(tol, "tol", "改善とみなす最小の割合", "smallest relative gain",
                                  zero_ok=True, one_ok=False)
        self.lr_decay = check_fraction(lr_decay, "lr_decay", "学習率を下げる倍率", "learning-rate factor",
                                       zero_ok=False, one_ok=True)
        self.betas = None if betas is None else check_betas(betas)
        self.best, self.best_state, self.waited, self.warmup = math.inf, None, 0, warmup
        self.opt: torch.optim.Optimizer | None = None
        self.plateau: Any = None

    def adam(self, params: list[torch.Tensor], lr: float, *, validated: bool) -> torch.optim.Optimizer:
        """Adam for `params`, its lr recorded at each evaluation and, with validation data and
        `lr_decay` < 1, lowered on plateaus; betas as given, else `adam_betas` of that choice."""
        scheduled = validated and self.lr_decay < 1
        self.opt = torch.optim.Adam(params, lr=lr, betas=self.betas or adam_betas(scheduled))
        if scheduled:
            self.plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(
                self.opt, factor=self.lr_decay, patience=0, threshold=PLATEAU)
        return self.opt

    def record_lr(self, history: History) -> None:
        if self.opt is not None:
            history.lr.append(float(self.opt.param_groups[0]["lr"]))

    def update(self, step: int, current: float, model: torch.nn.Module, history: History) -> None:
        """Record the validation RMSE after `step`; sets `history.stopped_early` when it is time."""
        self.record_lr(history)
        history.val_rmse.append(current)
        gain = (self.best - current) / self.best if math.isfinite(self.best) else math.inf
        if current < self.best:
            self.best, history.best_step = current, step
            self.best_state = {k: v.clone() for k, v in model.state_dict().items()}
        if step <= self.warmup:
            return
        self.waited = 0 if gain > self.tol else self.waited + 1
        history.stopped_early = self.waited >= self.patience
        if self.plateau is not None:
            self.plateau.step(current)

    def restore(self, model: torch.nn.Module, history: History) -> None:
        """Load the best parameters (if any validation RMSE was recorded), else mark the last step."""
        if self.best_state is not None:
            model.load_state_dict(self.best_state)
        else:
            history.best_step = history.eval_steps[-1]
