"""Make the personal working copy of the series that `make lab` opens.

Copies each notebook of the series into the copy folder only if it is not there yet, so a
student's edits are never overwritten, and notebooks added later (after `git pull`) appear.
Usage: python -m tools.workcopy SOURCE_DIR COPY_DIR
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path


def sync_copy(source: Path, copy: Path) -> list[Path]:
    """Copy the notebooks missing from `copy`; return the paths created."""
    copy.mkdir(exist_ok=True)
    created = []
    for path in sorted(source.glob("[0-9][0-9]_*.ipynb")):
        target = copy / path.name
        if not target.exists():
            shutil.copy2(path, target)
            created.append(target)
    return created


def main(argv: list[str]) -> int:
    source, copy = Path(argv[0]), Path(argv[1])
    created = sync_copy(source, copy)
    if created:
        names = ", ".join(p.name for p in created)
        print(f"{copy}/ に自分用のコピーを作りました / made your own copies in {copy}/: {names}")
    print(f"{copy}/ は自由に編集できます。元の {source}/ は変わりません。"
          f"最初からやり直すには make lab-reset（古いコピーは名前を変えて残ります）。")
    print(f"Edit freely in {copy}/; {source}/ stays untouched. To start over: make lab-reset "
          "(the old copy is kept under a new name).")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
