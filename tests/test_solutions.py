"""The worked-solutions notebooks: bilingual like the series, one per notebook with checked exercises."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from helpers.exercises import exercise_ids
from tests.test_series import lang_problems, output_problems

SOLUTIONS = sorted(Path("solutions").glob("[0-9][0-9]_*_solutions.ipynb"))
TITLE_RE = re.compile(r"^# (\d\d)\. \S.* — 解答例 / \S.* — worked solutions$")


def test_every_notebook_has_checked_exercises_and_solutions() -> None:
    """Notebooks 01-11 each have at least one self-checking exercise and a worked-solutions notebook."""
    series = {p.name[:2] for p in Path("notebooks").glob("[0-9][0-9]_*.ipynb")} - {"00"}
    checked = {i.split("-")[0] for i in exercise_ids()}
    have = {p.name[:2] for p in SOLUTIONS}
    assert checked == series, f"no checked exercise in {sorted(series - checked)}"
    assert have == series, f"no solutions notebook for {sorted(series - have)}"
    for path in SOLUTIONS:  # named after its notebook
        assert (Path("notebooks") / path.name.replace("_solutions", "")).exists(), path.name


@pytest.mark.parametrize("path", SOLUTIONS, ids=[p.name for p in SOLUTIONS])
def test_solutions_notebook(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    problems = lang_problems(nb, path.name) + output_problems(nb, path.name)
    title = TITLE_RE.match(nb.cells[0].source)
    assert title and title.group(1) == path.name[:2], f"{path.name}: title {nb.cells[0].source!r}"
    series = next(Path("notebooks").glob(f"{path.name[:2]}_*.ipynb"))
    for cell in (nb.cells[1], nb.cells[-1]):  # links back to the notebook, at the top and the bottom
        assert cell.metadata.get("nav") and f"(../notebooks/{series.name})" in cell.source, cell.source
    # every checked exercise of this notebook is solved and checked here, and reported correct
    ids = [i for i in exercise_ids() if i.startswith(path.name[:2])]
    text = path.read_text(encoding="utf-8")
    for exercise in ids:
        assert f'check(\\"{exercise}\\"' in text, f"{path.name}: {exercise} not checked"
        assert f"{exercise} 正解 / correct" in text, f"{path.name}: {exercise} not shown correct"
    headings = [c.source for c in nb.cells if c.source.startswith("## 演習 ")]
    assert len(headings) >= len(ids) and problems == [], problems
