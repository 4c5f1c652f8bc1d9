"""The registry of checkers and the parsing of answers that every part shares."""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import Any

import numpy as np

Verdict = tuple[bool, str, str]  # correct?, what to say in Japanese, in English
_CHECKERS: dict[str, Callable[[Any], Verdict]] = {}


def _exercise(exercise_id: str) -> Callable[[Callable[[Any], Verdict]], Callable[[Any], Verdict]]:
    def register(checker: Callable[[Any], Verdict]) -> Callable[[Any], Verdict]:
        _CHECKERS[exercise_id] = checker
        return checker
    return register


def _as_int(value: Any) -> int | None:
    value = value.item() if hasattr(value, "item") and np.size(value) == 1 else value
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        return None
    return int(value)


def _as_float(value: Any) -> float | None:
    value = value.item() if hasattr(value, "item") and np.size(value) == 1 else value
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    return float(value)


def _as_shape(value: Any) -> tuple[int, ...] | None:
    try:
        shape = tuple(value)
    except TypeError:
        return None
    return shape if all(_as_int(n) is not None for n in shape) else None


_OK = (True, "よくできました。", "Well done.")
_TYPE_INT = (False, "整数ひとつで答えてください。", "Answer with one integer.")
_TYPE_FLOAT = (False, "数ひとつで答えてください。", "Answer with one number.")
_TYPE_SHAPE = (False, "形状はタプルで、例えば (2, 3) のように答えてください。",
               "Give a shape as a tuple, e.g. (2, 3).")


def _check_shapes(answer: Any, names: tuple[str, ...], expected: tuple[tuple[int, ...], ...]) -> Verdict:
    shapes = [_as_shape(a) for a in answer] if isinstance(answer, (tuple, list)) else []
    if len(shapes) != len(expected) or any(s is None for s in shapes):
        return (False, f"{', '.join(names)} の形状を、この順にタプルで並べてください。",
                f"List the shapes of {', '.join(names)} as tuples, in this order.")
    for name, shape, want in zip(names, shapes, expected, strict=True):
        if shape == want:
            continue
        if shape == want[::-1]:
            return (False, f"{name} の形状の行と列が入れ替わっています。",
                    f"The rows and columns of {name}'s shape are swapped.")
        return (False, f"{name} の形状が違います。どの次元が何の数かを確かめてください。",
                f"{name}'s shape is wrong; check which dimension counts what.")
    return _OK


def _as_floats(value: Any, n: int) -> list[float] | None:
    try:
        items = list(value)
    except TypeError:
        return None
    floats = [_as_float(v) for v in items]
    return floats if len(floats) == n and all(f is not None for f in floats) else None  # type: ignore[misc]


def _close(value: float, expected: float, rtol: float = 1e-3) -> bool:
    """Within `rtol` of `expected`, relative: float32 results and other valid ways of computing agree."""
    return bool(abs(value - expected) <= rtol * abs(expected))


def _all_close(values: list[float], expected: Any, rtol: float = 1e-3) -> bool:
    return all(_close(v, e, rtol) for v, e in zip(values, expected, strict=True))


_MSE = (False, "平均二乗誤差のままです。平方根をとって RMSE にしてください。",
        "That is a mean squared error: take the square root to get the RMSE.")
_MSES = (False, "平均二乗誤差のままです。平方根をとってください。",
         "Those are mean squared errors: take the square root.")
