"""Each notebook's setup cell turns a missing `helpers` into a short bilingual message."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = sorted(Path("notebooks").glob("[0-9][0-9]_*.ipynb"))


def setup_cell(path: Path) -> str:
    """The first code cell that imports helpers (the notebook's setup cell)."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code" and "import helpers" in cell.source:
            return cell.source
    raise AssertionError(f"{path.name}: no setup cell that imports helpers")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_setup_cell_explains_missing_helpers(path: Path) -> None:
    """Run the setup cell in IPython with `helpers` made unimportable; read what the user sees."""
    source = setup_cell(path)
    script = textwrap.dedent(f"""
        import sys
        sys.modules["helpers"] = None  # makes `import helpers` raise ImportError
        from IPython.core.interactiveshell import InteractiveShell
        shell = InteractiveShell.instance(colors="nocolor")
        result = shell.run_cell({source!r})
        print("RAISED:", type(result.error_in_exec).__name__)
    """)
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    shown = run.stdout + run.stderr
    assert "RAISED: SetupError" in shown, shown
    assert "make lab" in shown and "README" in shown, shown
    assert "helpers を読み込めません" in shown and "Cannot import helpers" in shown, shown
    # no traceback: only the message is rendered
    assert "Traceback" not in shown and "File " not in shown, shown
