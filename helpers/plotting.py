"""Plots with bilingual labels: loss curves and rating-matrix heatmaps (01, 03, 04)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.patches import Rectangle

from ._checks import bilingual, check_matrix


def use_japanese_font() -> None:
    """Use the IPAex Gothic font shipped by matplotlib-fontja, so Japanese labels render. (01)"""
    import matplotlib_fontja

    # japanize() sets rcParams every call (the import alone does it only once per process).
    matplotlib_fontja.japanize()


def _check_losses(losses: Any) -> np.ndarray:
    try:
        values = np.asarray(losses, dtype=np.float64)
    except (TypeError, ValueError):
        values = None
    if values is None or values.ndim != 1 or values.size == 0:
        raise ValueError(bilingual(
            "引数 `losses` には損失の値を並べた空でない1次元のリストを渡してください"
            "（例: `train(...).losses`）。",
            "Argument `losses` must be a non-empty 1-D list of loss values "
            "(e.g. `train(...).losses`).",
        ))
    return values


def plot_loss(
    losses: Sequence[float],
    *,
    ax: Axes | None = None,
    label: str | None = None,
    log: bool = False,
    title: str = "損失の推移 / Loss curve",
) -> Axes:
    """Draw a loss history against the step number; `log=True` for a log-scale y axis. (03)"""
    values = _check_losses(losses)
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(np.arange(len(values)), values, label=label)
    ax.set_xlabel("ステップ / Step")
    ax.set_ylabel("損失 / Loss")
    ax.set_title(title)
    if log:
        ax.set_yscale("log")
    if label is not None:
        ax.legend()
    ax.grid(alpha=0.3)
    return ax


def plot_matrix(
    M: Any,
    *,
    observed: Any = None,
    ax: Axes | None = None,
    title: str = "評価値行列 / Rating matrix",
    vmin: float | None = None,
    vmax: float | None = None,
    show_missing: bool = False,
    colorbar: bool = True,
) -> Axes:
    """Heatmap of a users × items matrix with each value written in its cell. (01, 04)

    Cells where `observed` is False (default: where `M` is 0) are hatched. With
    `show_missing=False` they are grey and show "?" (a rating nobody gave); with
    `show_missing=True` their value is shown inside a dashed frame (a prediction).
    """
    values = check_matrix(M, "M")
    # observed: a boolean mask (NumPy or torch) or 0/1 numbers
    if observed is None:
        mask = values != 0
    else:
        try:
            mask = np.asarray(observed) != 0
        except ValueError:
            mask = None
    if mask is None or mask.shape != values.shape:
        got = "?" if mask is None else mask.shape
        raise ValueError(bilingual(
            f"`observed` は `M` と同じ形状 {values.shape} の配列にしてください（{got} が渡されました）。",
            f"`observed` must be an array of the same shape as `M`, {values.shape}; got {got}.",
        ))
    if ax is None:
        _, ax = plt.subplots(figsize=(1.1 * values.shape[1] + 1.8, 0.8 * values.shape[0] + 1.2))
    shown = values if show_missing else np.ma.masked_where(~mask, values)
    # colour scale from the observed values (all values if nothing is observed)
    scale = values[mask] if mask.any() else values
    vmin = float(scale.min()) if vmin is None else vmin
    vmax = float(scale.max()) if vmax is None else vmax
    cmap = plt.get_cmap("viridis").with_extremes(bad="0.85")
    image = ax.imshow(shown, cmap=cmap, vmin=vmin, vmax=vmax)
    for (i, j), value in np.ndenumerate(values):
        if not mask[i, j]:
            ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, hatch="//",
                                   edgecolor="0.45", linestyle="--", linewidth=1.2))
        if mask[i, j] or show_missing:
            level = (value - vmin) / (vmax - vmin) if vmax > vmin else 0.5
            color = "black" if level > 0.55 else "white"
            ax.text(j, i, f"{value:.2f}" if show_missing else f"{value:g}",
                    ha="center", va="center", color=color, fontsize=10)
        else:
            ax.text(j, i, "?", ha="center", va="center", color="0.2", fontsize=12,
                    bbox={"facecolor": "0.85", "edgecolor": "none", "pad": 1})
    ax.set_xticks(range(values.shape[1]))
    ax.set_yticks(range(values.shape[0]))
    ax.set_xlabel("アイテム / Item")
    ax.set_ylabel("ユーザー / User")
    ax.set_title(title)
    if colorbar:
        ax.figure.colorbar(image, ax=ax, label="評価値 / Rating", shrink=0.8)
    return ax
