"""Notebook 07 also runs on a real MovieLens file: ground-truth cells skip, the scale comes from data."""

from __future__ import annotations

from pathlib import Path

import nbformat
import numpy as np
from nbclient import NotebookClient

from helpers import make_synthetic

NOTEBOOK = Path("notebooks/07_evaluation_at_scale.ipynb")


def write_u_data(path: Path) -> None:
    """An ml-100k-style file (whole stars 1-5, raw ids from 1) made from a small synthetic set."""
    data, _ = make_synthetic(200, 300, 12_000, rank=5, min_ratings=5, seed=3)
    stars = np.clip(np.round(data.ratings), 1, 5).astype(int)
    rows = zip(data.users, data.items, stars, strict=True)
    lines = [f"{u + 1}\t{i + 1}\t{r}\t881250949" for u, i, r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_notebook_07_runs_on_a_movielens_file(tmp_path: Path) -> None:
    ratings_file = tmp_path / "ml-100k" / "u.data"
    ratings_file.parent.mkdir()
    write_u_data(ratings_file)
    nb = nbformat.read(NOTEBOOK, as_version=4)
    params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1 and "RATINGS_FILE = None" in params[0].source
    params[0].source = f"RATINGS_FILE = {str(ratings_file)!r}"
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
    assert str(ratings_file) in text and "200 users × 300 items" in text
    assert "ratings from 1.00 to 5.00" in text  # the scale comes from the data
    assert "no ground truth" in text and "\ntrue model " not in text  # no true-model row
