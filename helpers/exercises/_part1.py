"""Checkers for notebooks 01-04: the seed's 5 x 4 matrix, tensors, the masked loss, reconstruction."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..data import init_factors, observed_mask, original_ratings
from ._core import (
    _MSES,
    _OK,
    _TYPE_FLOAT,
    _TYPE_INT,
    Verdict,
    _as_float,
    _as_floats,
    _as_int,
    _check_shapes,
    _exercise,
)


@_exercise("01-1")
def _fewest_ratings(answer: Any) -> Verdict:
    mask = observed_mask(original_ratings())
    expected = int(np.argmin(mask.sum(axis=0)))
    value = _as_int(answer)
    if value is None:
        return _TYPE_INT
    if value == expected:
        return _OK
    if value == expected + 1 or value == int(np.argmin(mask.sum(axis=1))):
        return (False, "番号は 0 から数えます。また、`axis=0` は列（アイテム）ごとの和です。",
                "Indices count from 0, and `axis=0` sums each column (item).")
    return (False, "`mask.sum(axis=0)` を表示して、いちばん小さい値の位置を探してください。",
            "Print `mask.sum(axis=0)` and look for the position of the smallest value.")


@_exercise("01-3")
def _observed_with_nan(answer: Any) -> Verdict:
    R = original_ratings()
    with_nan = np.where(R == 0, np.nan, R)
    expected = int((~np.isnan(with_nan)).sum())
    value = _as_int(answer)
    if value is None:
        return _TYPE_INT
    if value == expected:
        return _OK
    if value == R.size:
        return (False, "すべての要素を数えています。`~np.isnan(...)` で観測値だけを数えてください。",
                "That counts every entry; count the observed ones only, with `~np.isnan(...)`.")
    if value == R.size - expected:
        return (False, "それは欠損値の数です。`~` で真偽を反転させましたか。",
                "That is the number of missing entries: did you invert the mask with `~`?")
    return (False, "`~np.isnan(...)` の結果を `.sum()` で数えてください。",
            "Count the result of `~np.isnan(...)` with `.sum()`.")


@_exercise("01-4")
def _shapes_rank_3(answer: Any) -> Verdict:
    rows, cols = original_ratings().shape
    return _check_shapes(answer, ("P", "Q", "PᵀQ"), ((3, rows), (3, cols), (rows, cols)))


@_exercise("02-1")
def _float32_gap(answer: Any) -> Verdict:
    import torch

    P, Q = init_factors(2, *original_ratings().shape, seed=0)
    P32, Q32 = torch.tensor(P, dtype=torch.float32), torch.tensor(Q, dtype=torch.float32)
    expected = float(((P32.T @ Q32).double() - torch.tensor(P).T @ torch.tensor(Q)).abs().max())
    value = _as_float(answer)
    if value is None:
        return _TYPE_FLOAT
    if value == 0:
        return (False, "差が 0 なら、同じ精度どうしを比べています。片方を float32 にしてください。",
                "A difference of 0 means both sides have the same precision; make one of them float32.")
    if value < 0:
        return (False, "差の絶対値の最大を求めてください（`.abs().max()`）。",
                "Take the largest absolute difference (`.abs().max()`).")
    if abs(value - expected) <= 1e-3 * expected:
        return _OK
    return (False, "桁が合いません。float32 の結果を float64 に戻してから引き算してください。",
            "The size is off; convert the float32 result back to float64 before subtracting.")


@_exercise("02-2")
def _chain_rule(answer: Any) -> Verdict:
    a, x = 2.0, 1.0
    expected = 2 * a * (a * x - 3)
    value = _as_float(answer)
    if value is None:
        return _TYPE_FLOAT
    if np.isclose(value, expected):
        return _OK
    if np.isclose(value, -expected):
        return (False, "符号が逆です。a·x − 3 の値を確かめてください。",
                "The sign is flipped; check the value of a·x − 3.")
    if np.isclose(value, 2 * (a * x - 3)):
        return (False, "内側の関数 a·x を x で微分した a を掛け忘れています（連鎖律）。",
                "The factor a from differentiating the inner a·x by x is missing (chain rule).")
    return (False, "`x.grad` を表示して、手計算と比べてください。",
            "Print `x.grad` and compare it with your hand computation.")


@_exercise("02-3")
def _transposed_product_shape(answer: Any) -> Verdict:
    rows, cols = original_ratings().shape
    return _check_shapes((answer,), ("Qt.T @ Pt",), ((cols, rows),))


@_exercise("03-1")
def _one_by_one(answer: Any) -> Verdict:
    from ..training import masked_loss_grad, masked_squared_loss

    R, P, Q = np.array([[4.0]]), np.array([[1.0]]), np.array([[1.0]])
    loss = float(masked_squared_loss(R, P, Q))
    grad = float(masked_loss_grad(R, P, Q)[0][0, 0])
    pair = _as_floats(answer, 2)
    if pair is None:
        return (False, "(損失, P の勾配) の組で答えてください。",
                "Answer with the pair (loss, gradient for P).")
    got_loss, got_grad = pair
    if not np.isclose(got_loss, loss):
        return (False, "損失が違います。誤差を二乗しましたか。", "The loss is off: did you square the error?")
    if np.isclose(got_grad, grad):
        return _OK
    if np.isclose(got_grad, -grad):
        return (False, "勾配の符号が逆です。予測を大きくすると損失は減りますか、増えますか。",
                "The gradient's sign is flipped: does raising the prediction lower or raise the loss?")
    if np.isclose(got_grad, grad / 2):
        return (False, "二乗の微分から出る係数 2 が抜けています。",
                "The factor 2 from differentiating the square is missing.")
    return (False, "勾配が違います。`helpers.masked_loss_grad` で確かめてください。",
            "The gradient is off; check it with `helpers.masked_loss_grad`.")


def _adam_losses() -> dict[float, float]:
    from ..training import DivergenceError, train

    R = original_ratings()
    P, Q = init_factors(2, *R.shape, seed=0)
    losses = {}
    for lr in (0.02, 0.05, 0.1, 0.2, 0.5):
        try:
            losses[lr] = train(R, P, Q, optimizer="adam", lr=lr, steps=100).losses[-1]
        except DivergenceError:
            losses[lr] = float("inf")
    return losses


@_exercise("03-3")
def _good_learning_rates(answer: Any) -> Verdict:
    losses = _adam_losses()
    expected = {lr for lr, loss in losses.items() if loss < 2}
    try:
        chosen = {_as_float(v) for v in answer}
    except TypeError:
        chosen = {None}
    if None in chosen or isinstance(answer, str):
        return (False, "学習率をリストで、例えば [0.1, 0.2] のように答えてください。",
                "Answer with a list of learning rates, e.g. [0.1, 0.2].")
    if chosen - set(losses):
        return (False, "試す学習率は [0.02, 0.05, 0.1, 0.2, 0.5] の中から選びます。",
                "Choose among the learning rates [0.02, 0.05, 0.1, 0.2, 0.5].")
    if chosen == expected:
        return _OK
    if chosen - expected:
        return (False, "100 ステップ後の損失が 2 以上のものが入っています。",
                "Your list includes a rate whose loss after 100 steps is 2 or more.")
    return (False, "損失が 2 未満になる学習率を見落としています。",
            "You missed a rate whose loss ends below 2.")


@_exercise("04-3")
def _rmse_over_steps(answer: Any) -> Verdict:
    from ..training import train

    R = original_ratings()
    observed = R != 0
    P, Q = init_factors(2, *R.shape, seed=0)
    fits = [train(R, P, Q, lr=0.05, steps=s).reconstruction() for s in (100, 300, 1000)]
    expected = [float(np.sqrt(np.mean((R[observed] - f[observed]) ** 2))) for f in fits]
    values = _as_floats(answer, 3)
    if values is None:
        return (False, "100、300、1000 ステップ後の RMSE を、この順に 3 つ並べてください。",
                "List the three RMSEs after 100, 300 and 1000 steps, in this order.")
    if np.allclose(values, expected, rtol=1e-3):
        return _OK
    if np.allclose(values, np.square(expected), rtol=1e-3):
        return _MSES
    every = [float(np.sqrt(np.mean((R - f) ** 2))) for f in fits]
    if np.allclose(values, every, rtol=1e-3):
        return (False, "欠損値の位置まで含めて計算しています。観測値だけで計算してください。",
                "That includes the missing entries; use the observed entries only.")
    return (False, "`rmse_observed(R, ...)` に、それぞれのステップ数で学習した再構成を渡してください。",
            "Pass the reconstruction trained for each number of steps to `rmse_observed(R, ...)`.")
