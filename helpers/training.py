"""The masked squared loss, its gradient and the training loop of the seed example (03, 04)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ._checks import (
    bilingual,
    check_factors,
    check_matrix,
    check_positive_float,
    check_positive_int,
    check_ratings,
)

OptimizerFactory = Callable[[list[torch.Tensor], float], torch.optim.Optimizer]

_OPTIMIZERS: dict[str, OptimizerFactory] = {
    "adam": lambda params, lr: torch.optim.Adam(params, lr=lr),
    "sgd": lambda params, lr: torch.optim.SGD(params, lr=lr),
}


class DivergenceError(ValueError):
    """Training produced a NaN or infinite loss (usually: the learning rate is too large).

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
) -> TrainResult:
    """Fit `PᵀQ` to the observed entries of `R`, as in the original loop. (03)

    `P`, `Q` are copied to new float64 leaf tensors (the inputs are not changed). Each step
    records the loss, then zero_grad → backward → step, exactly like the original.
    `optimizer` is "adam", "sgd" or a function `(params, lr) -> torch.optim.Optimizer`.
    """
    R_np = check_ratings(R)
    P_np, Q_np = check_factors(P, Q, R_np.shape)
    lr = check_positive_float(lr, "lr", "学習率", "learning rate")
    steps = check_positive_int(steps, "steps", "ステップ数", "number of steps")
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
