"""Input checks shared by the public functions; every message is Japanese, then English."""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np
import torch


def bilingual(ja: str, en: str) -> str:
    """Join a Japanese and an English message into one error text."""
    return f"{ja}\n{en}"


def type_name(value: Any) -> str:
    return type(value).__name__


def as_float_array(value: Any, name: str) -> np.ndarray:
    """Return `value` as a float64 NumPy array, or raise a bilingual TypeError."""
    if isinstance(value, torch.Tensor):
        if value.is_complex() or value.dtype == torch.bool:
            raise TypeError(bilingual(
                f"引数 `{name}` は実数のテンソルにしてください（dtype {value.dtype} が渡されました）。",
                f"Argument `{name}` must be a real-valued tensor (got dtype {value.dtype}).",
            ))
        return value.detach().cpu().to(torch.float64).numpy()
    if isinstance(value, (str, bytes, dict, set)) or value is None:
        raise TypeError(bilingual(
            f"引数 `{name}` には数値の2次元配列（NumPy 配列・リスト・テンソル）を渡してください"
            f"（{type_name(value)} が渡されました）。",
            f"Argument `{name}` must be a 2-D array of numbers (NumPy array, list or tensor); "
            f"got {type_name(value)}.",
        ))
    try:
        array = np.asarray(value)
    except ValueError as err:  # ragged nested lists
        raise ValueError(bilingual(
            f"引数 `{name}` を配列に変換できません。各行の長さをそろえてください（{err}）。",
            f"Argument `{name}` cannot be turned into an array; make every row the same length "
            f"({err}).",
        )) from None
    if array.dtype == bool or not np.issubdtype(array.dtype, np.number) \
            or np.issubdtype(array.dtype, np.complexfloating):
        raise TypeError(bilingual(
            f"引数 `{name}` の要素は実数にしてください（dtype {array.dtype} が渡されました）。"
            "文字列や True/False ではなく数値を入れてください。",
            f"Argument `{name}` must hold real numbers (got dtype {array.dtype}); "
            "use numbers, not strings or True/False.",
        ))
    return array.astype(np.float64)


def check_matrix(value: Any, name: str = "R") -> np.ndarray:
    """Check a rating-like matrix: 2-D, non-empty, finite numbers. Returns float64 NumPy."""
    array = as_float_array(value, name)
    if array.ndim != 2:
        raise ValueError(bilingual(
            f"引数 `{name}` は2次元（ユーザー × アイテム）の配列にしてください"
            f"（{array.ndim} 次元、形状 {array.shape} が渡されました）。",
            f"Argument `{name}` must be 2-D (users × items); got {array.ndim} dimensions, "
            f"shape {array.shape}.",
        ))
    if array.size == 0:
        raise ValueError(bilingual(
            f"引数 `{name}` が空です（形状 {array.shape}）。1行1列以上の行列を渡してください。",
            f"Argument `{name}` is empty (shape {array.shape}); pass at least one row and one column.",
        ))
    if not np.isfinite(array).all():
        bad = int((~np.isfinite(array)).sum())
        raise ValueError(bilingual(
            f"引数 `{name}` に NaN または無限大が {bad} 個含まれています。"
            "このシリーズでは欠損値（未評価）を 0 で表します。NaN を 0 に置き換えてください"
            "（例: `np.nan_to_num(R)`）。",
            f"Argument `{name}` contains {bad} NaN or infinite value(s). In this series a missing "
            "(unrated) entry is written as 0: replace NaN with 0 (e.g. `np.nan_to_num(R)`).",
        ))
    return array


def check_ratings(value: Any, name: str = "R") -> np.ndarray:
    """Check a rating matrix and require at least one observed (non-zero) entry."""
    array = check_matrix(value, name)
    if not (array != 0).any():
        raise ValueError(bilingual(
            f"引数 `{name}` に観測値（0 以外の評価値）が1つもありません。"
            "損失を計算できないので、少なくとも1つ評価値を入れてください。",
            f"Argument `{name}` has no observed entry (every value is 0 = missing), so there is "
            "nothing to fit; give at least one rating.",
        ))
    return array


def check_positive_int(value: Any, name: str, what_ja: str, what_en: str) -> int:
    """Require a positive integer (bool is rejected)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(bilingual(
            f"引数 `{name}`（{what_ja}）は正の整数にしてください（{value!r} が渡されました）。",
            f"Argument `{name}` ({what_en}) must be a positive integer; got {value!r}.",
        ))
    if value < 1:
        raise ValueError(bilingual(
            f"引数 `{name}`（{what_ja}）は 1 以上にしてください（{value} が渡されました）。",
            f"Argument `{name}` ({what_en}) must be at least 1; got {value}.",
        ))
    return int(value)


def check_positive_float(value: Any, name: str, what_ja: str, what_en: str) -> float:
    """Require a finite number > 0 (e.g. a learning rate)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(bilingual(
            f"引数 `{name}`（{what_ja}）は正の数にしてください（{value!r} が渡されました）。",
            f"Argument `{name}` ({what_en}) must be a positive number; got {value!r}.",
        ))
    if not math.isfinite(value) or value <= 0:
        raise ValueError(bilingual(
            f"引数 `{name}`（{what_ja}）は 0 より大きい有限の数にしてください"
            f"（{value} が渡されました）。例: 0.05。",
            f"Argument `{name}` ({what_en}) must be a finite number greater than 0; got {value}. "
            "Example: 0.05.",
        ))
    return float(value)


def check_reg(value: Any, *, allow_zero: bool, name: str = "reg", note_ja: str = "",
              note_en: str = "") -> float:
    """Require a finite regularization weight, ≥ 0 or > 0; every bad value is a ValueError."""
    ok = not isinstance(value, bool) and isinstance(value, numbers.Real) and math.isfinite(value) \
        and (value >= 0 if allow_zero else value > 0)
    if not ok:
        bound_ja, bound_en = ("0 以上", "≥ 0") if allow_zero else ("0 より大きい", "> 0")
        raise ValueError(bilingual(
            f"`{name}`（正則化の重み）は{bound_ja}有限の数にしてください"
            f"（{value!r} が渡されました）。{note_ja}",
            f"`{name}` (the regularization weight) must be a finite number {bound_en}; got {value!r}."
            + (f" {note_en}" if note_en else ""),
        ))
    return float(value)


def check_fraction(value: Any, name: str, what_ja: str, what_en: str, *, zero_ok: bool,
                   one_ok: bool) -> float:
    """Require a number between 0 and 1, each end allowed or not (a tolerance, a decay factor)."""
    ok = not isinstance(value, bool) and isinstance(value, numbers.Real) and math.isfinite(value) \
        and (value >= 0 if zero_ok else value > 0) and (value <= 1 if one_ok else value < 1)
    if not ok:
        low, high = ("0 ≤" if zero_ok else "0 <"), ("≤ 1" if one_ok else "< 1")
        raise ValueError(bilingual(
            f"引数 `{name}`（{what_ja}）は {low} {name} {high} の数にしてください"
            f"（{value!r} が渡されました）。",
            f"Argument `{name}` ({what_en}) must be a number with {low} {name} {high}; got {value!r}.",
        ))
    return float(value)


def check_betas(value: Any) -> tuple[float, float]:
    """Require Adam's (β1, β2): two numbers with 0 ≤ β < 1."""
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise ValueError(bilingual(
            f"`betas` は Adam の (β1, β2) の 2 つの数にしてください（{value!r} が渡されました）。"
            "例: (0.7, 0.999)。",
            f"`betas` must be Adam's two numbers (β1, β2); got {value!r}. Example: (0.7, 0.999).",
        ))
    return tuple(check_fraction(b, f"betas[{k}]", "Adam の減衰率", "Adam's decay rate", zero_ok=True,
                                one_ok=False) for k, b in enumerate(value))  # type: ignore[return-value]


def check_seed(value: Any, name: str = "seed") -> int:
    """Require an integer seed in [0, 2**32) (NumPy's range); bool is rejected."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(bilingual(
            f"引数 `{name}`（乱数のシード）は整数にしてください（{value!r} が渡されました）。例: 0。",
            f"Argument `{name}` (the random seed) must be an integer; got {value!r}. Example: 0.",
        ))
    if not 0 <= value < 2**32:
        raise ValueError(bilingual(
            f"引数 `{name}`（乱数のシード）は 0 以上 2**32 未満にしてください（{value} が渡されました）。",
            f"Argument `{name}` (the random seed) must be in [0, 2**32); got {value}.",
        ))
    return int(value)


def check_factors(P: Any, Q: Any, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Check that P (r × rows) and Q (r × cols) fit a matrix of `shape` (rows × cols)."""
    P_arr = check_matrix(P, "P")
    Q_arr = check_matrix(Q, "Q")
    rows, cols = shape
    if P_arr.shape[1] != rows or Q_arr.shape[1] != cols:
        transposed = P_arr.shape[0] == rows and Q_arr.shape[0] == cols
        hint_ja = "転置（`P.T`, `Q.T`）を渡していませんか。" if transposed else ""
        hint_en = " Did you pass them transposed (`P.T`, `Q.T`)?" if transposed else ""
        raise ValueError(bilingual(
            f"`P`, `Q` の形状が `R` {shape} と合いません: P は {P_arr.shape}、Q は {Q_arr.shape}。"
            f"P は (r, {rows})、Q は (r, {cols}) にしてください（PᵀQ が R と同じ形になるように）。"
            + hint_ja,
            f"`P` and `Q` do not fit `R` {shape}: P is {P_arr.shape}, Q is {Q_arr.shape}. "
            f"Use P of shape (r, {rows}) and Q of shape (r, {cols}) so that PᵀQ has R's shape."
            + hint_en,
        ))
    if P_arr.shape[0] != Q_arr.shape[0]:
        raise ValueError(bilingual(
            f"`P` と `Q` のランク（行数）が違います: P は {P_arr.shape}、Q は {Q_arr.shape}。"
            "どちらも r 行（r = ランク）にしてください。",
            f"`P` and `Q` have different ranks (numbers of rows): P is {P_arr.shape}, Q is "
            f"{Q_arr.shape}; both need r rows (r = rank).",
        ))
    return P_arr, Q_arr


def check_device(value: Any) -> Any:
    """A torch.device from "cpu", "cuda", "cuda:1", "mps" or a torch.device; a clear error if it is absent.

    A GPU that is not there is an error, not a silent fall-back to the CPU: a run that quietly
    takes 50 times longer than planned is worse than one that stops and says why.
    """
    import torch

    try:
        device = torch.device(value)
    except (RuntimeError, TypeError):
        raise ValueError(bilingual(
            f"`device` には \"cpu\" や \"cuda\" などを指定してください（{value!r} が渡されました）。",
            f"`device` must be a device name such as \"cpu\" or \"cuda\"; got {value!r}.",
        )) from None
    available = {"cpu": True, "cuda": torch.cuda.is_available(),
                 "mps": torch.backends.mps.is_available()}.get(device.type, False)
    if available and device.type == "cuda" and device.index is not None:
        available = device.index < torch.cuda.device_count()
    if not available:
        raise RuntimeError(bilingual(
            f"デバイス {str(device)!r} はこの環境では使えません（PyTorch {torch.__version__}、"
            f"CUDA {'あり' if torch.cuda.is_available() else 'なし'}）。"
            "CPU で動かすには `device=\"cpu\"` を指定するか、引数を省いてください。",
            f"Device {str(device)!r} is not available here (PyTorch {torch.__version__}, CUDA "
            f"{'available' if torch.cuda.is_available() else 'not available'}). To run on the CPU, pass "
            "`device=\"cpu\"` or leave the argument out.",
        ))
    return device


def check_patience(patience: Any, validation: Any) -> int | None:
    """None, or a positive number of epochs to wait; early stopping needs a `validation` split. (13, 16)"""
    if patience is None:
        return None
    patience = check_positive_int(patience, "patience", "待つエポック数", "patience")
    if validation is None:
        raise ValueError(bilingual(
            "`patience`（早期終了）には `validation` が必要です。",
            "`patience` (early stopping) needs a `validation` split.",
        ))
    return patience
