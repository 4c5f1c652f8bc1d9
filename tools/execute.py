"""Re-execute notebooks in place, top to bottom, in a fresh kernel (`make notebooks`).

Usage: python -m tools.execute [notebooks/NN_x.ipynb ...]   (default: every series notebook)
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from tools.series import NOTEBOOK_DIR, series_notebooks


def execute(path: Path, timeout: int = 600) -> float:
    """Run one notebook in a fresh kernel of this environment and save it; return seconds."""
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    # kernel_name "python3" resolves to this environment's ipykernel (the one `make` installed);
    # record_timing=False keeps wall-clock timestamps out of the stored notebook.
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=False,
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    seconds = time.perf_counter() - start
    nb.metadata.pop("widgets", None)
    nbformat.write(nb, path)
    return seconds


def main(argv: list[str]) -> int:
    paths = [Path(a) for a in argv] or series_notebooks(NOTEBOOK_DIR)
    for path in paths:
        seconds = execute(path)
        print(f"{path.name}: executed in {seconds:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
