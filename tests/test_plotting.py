"""Tests of `helpers.plotting`: bilingual labels, Japanese glyphs that render, missing-cell marks."""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from matplotlib.axes import Axes

from helpers import init_factors, original_ratings, plot_loss, plot_matrix, train, use_japanese_font

JA_RE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")  # kana / kanji
ASCII_RE = re.compile(r"[A-Za-z]")

R0 = original_ratings()


def labels(ax: Axes) -> dict[str, str]:
    """Title and axis labels of `ax`."""
    return {"title": ax.get_title(), "xlabel": ax.get_xlabel(), "ylabel": ax.get_ylabel()}


def question_marks(ax: Axes) -> int:
    """Number of "?" texts (missing cells) in `ax`."""
    return sum(text.get_text() == "?" for text in ax.texts)


def draw_without_warnings(ax: Axes) -> None:
    """Render on Agg; any warning (e.g. "Glyph ... missing from font") fails the test."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ax.figure.canvas.draw()


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda: plot_loss([3.0, 2.0, 1.0]), id="plot_loss"),
        pytest.param(lambda: plot_matrix(R0), id="plot_matrix"),
    ],
)
def test_labels_are_bilingual(make: Callable[[], Axes]) -> None:
    """Title, x label and y label each carry Japanese and English."""
    for where, text in labels(make()).items():
        assert JA_RE.search(text) and ASCII_RE.search(text), f"{where} not bilingual: {text!r}"


def test_use_japanese_font_sets_ipaex_gothic() -> None:
    """The font family becomes IPAex Gothic."""
    use_japanese_font()
    assert "IPAexGothic" in plt.rcParams["font.family"]


def test_use_japanese_font_works_after_an_rcparams_reset() -> None:
    """Calling it again after `plt.rcdefaults()` should bring the Japanese font back."""
    with matplotlib.rc_context():  # restores the rcParams afterwards
        use_japanese_font()
        plt.rcdefaults()
        use_japanese_font()
        assert "IPAexGothic" in plt.rcParams["font.family"]


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda: plot_loss(train(R0, *init_factors(2, 5, 4, seed=0)).losses), id="loss"),
        pytest.param(lambda: plot_loss([5.0, 0.5, 0.05], log=True, label="Adam 学習率 0.05"), id="loss-log"),
        pytest.param(lambda: plot_matrix(R0, title="元の行列 / Original"), id="matrix"),
        pytest.param(lambda: plot_matrix(R0 - 3.0, vmin=-3.0), id="matrix-negative"),
        pytest.param(
            lambda: plot_matrix(np.linspace(-1, 5, 20).reshape(5, 4), observed=R0 != 0, show_missing=True),
            id="matrix-prediction",
        ),
    ],
)
def test_japanese_renders_without_missing_glyphs(make: Callable[[], Axes]) -> None:
    """With `use_japanese_font()`, drawing Japanese labels and minus signs gives no glyph warning."""
    use_japanese_font()
    draw_without_warnings(make())


def test_missing_glyphs_would_be_caught() -> None:
    """Sanity check of the test above: a Latin-only font does warn about Japanese glyphs."""
    with matplotlib.rc_context({"font.family": ["DejaVu Sans"]}):
        ax = plot_loss([1.0, 0.5])
        with pytest.warns(UserWarning, match="missing from font"):
            ax.figure.canvas.draw()


def test_plot_loss_draws_the_values() -> None:
    """One line with x = step number and y = loss; log scale and legend on request."""
    losses = [4.0, 2.0, 1.0, 0.5]
    ax = plot_loss(losses)
    (line,) = ax.get_lines()
    np.testing.assert_array_equal(line.get_xdata(), np.arange(4))
    np.testing.assert_array_equal(line.get_ydata(), losses)
    assert ax.get_yscale() == "linear" and ax.get_legend() is None

    ax = plot_loss(losses, log=True, label="Adam")
    assert ax.get_yscale() == "log"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Adam"]


def test_plot_into_a_given_axes() -> None:
    """`ax=` draws into that axes and returns it; no new figure is made."""
    fig, (left, right) = plt.subplots(1, 2)
    assert plot_loss([1.0, 0.5], ax=left) is left
    assert plot_matrix(R0, ax=right, colorbar=False) is right
    assert plt.get_fignums() == [fig.number]


def test_plot_matrix_marks_missing_cells() -> None:
    """show_missing=False: a "?" per missing (zero) cell, the value in every observed cell."""
    ax = plot_matrix(R0)
    assert question_marks(ax) == int((R0 == 0).sum()) == 5
    shown = sorted(float(t.get_text()) for t in ax.texts if t.get_text() != "?")
    assert shown == sorted(R0[R0 != 0])


@pytest.mark.parametrize("observed", [R0 != 0, torch.tensor(R0 != 0), (R0 != 0).astype(int)])
def test_plot_matrix_with_a_prediction(observed: object) -> None:
    """show_missing=True: no "?", every cell shows its value; missing cells get a hatched frame."""
    prediction = np.linspace(0.5, 5.0, 20).reshape(5, 4)
    ax = plot_matrix(prediction, observed=observed, show_missing=True)
    assert question_marks(ax) == 0
    assert sorted(t.get_text() for t in ax.texts) == sorted(f"{v:.2f}" for v in prediction.flat)
    assert len(ax.patches) == 5  # one hatched frame per missing cell

    hidden = plot_matrix(prediction, observed=observed)
    assert question_marks(hidden) == 5
