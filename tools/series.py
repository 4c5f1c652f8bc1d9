"""Keep the series navigation cells and the index contents tables in sync.

Usage (from the repository root)::

    python -m tools.series            # rewrite stale generated cells
    python -m tools.series --check    # list stale files, exit 1, write nothing
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat
from nbformat import NotebookNode

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"
INDEX_NAME = "00_index.ipynb"
CONTENTS_LABEL = "目次 / Contents"
SEP = " | "
TITLE_RE = re.compile(r"^# (\d\d)\. (\S.*?) / (\S.*?)\s*$")


class SeriesError(ValueError):
    """A notebook lacks something the generator needs."""


def _error(path: Path, ja: str, en: str) -> SeriesError:
    return SeriesError(f"{path.name}: {ja} / {en}")


def series_notebooks(nb_dir: Path = NOTEBOOK_DIR) -> list[Path]:
    """Series notebooks (``NN_*.ipynb``) in order."""
    return sorted(p for p in Path(nb_dir).glob("[0-9][0-9]_*.ipynb") if p.is_file())


def read(path: Path) -> NotebookNode:
    """Read a notebook as nbformat v4."""
    return nbformat.read(path, as_version=4)


def _title_match(nb: NotebookNode, path: Path) -> re.Match:
    cell = nb.cells[0] if nb.cells else None
    line = cell.source.strip().split("\n")[0] if cell and cell.cell_type == "markdown" else ""
    match = TITLE_RE.match(line)
    if not match:
        raise _error(
            path,
            f"セル0は「# NN. 日本語タイトル / English title」の形式が必要です: {line!r}",
            f"cell 0 must be a title line '# NN. Japanese title / English title': {line!r}",
        )
    return match


def title_of(nb: NotebookNode, path: Path = Path("?")) -> str:
    """Title line of cell 0 without ``# ``, e.g. ``01. 行列の準備 / Matrix setup``."""
    return _title_match(nb, path).group(0)[2:]


def title_parts(nb: NotebookNode, path: Path = Path("?")) -> tuple[str, str, str]:
    """(number, Japanese part, English part); the split is at the first `` / ``."""
    num, ja, en = _title_match(nb, path).groups()
    return num, ja.strip(), en.strip()


def series_meta(nb: NotebookNode, path: Path = Path("?")) -> dict:
    """The ``series`` notebook metadata, validated."""
    meta = nb.metadata.get("series") or {}
    ok = (
        isinstance(meta.get("summary_ja"), str)
        and isinstance(meta.get("summary_en"), str)
        and isinstance(meta.get("minutes"), int)
        and not isinstance(meta.get("minutes"), bool)
    )
    if not ok:
        raise _error(
            path,
            "metadata.series に summary_ja, summary_en, minutes(int) が必要です",
            "metadata.series needs summary_ja, summary_en and integer minutes",
        )
    return meta


def nav_text(paths: list[Path], i: int, titles: list[str] | None = None) -> str:
    """Navigation line for notebook ``i``: previous | contents | next (where they exist)."""
    if titles is None:
        titles = [title_of(read(p), p) for p in paths]
    parts = []
    if i > 1:  # for 01 the previous notebook is the index: the contents link covers it
        parts.append(f"[< {titles[i - 1]}]({paths[i - 1].name})")
    if i > 0:
        parts.append(f"[{CONTENTS_LABEL}]({INDEX_NAME})")
    if i < len(paths) - 1:
        parts.append(f"[{titles[i + 1]} >]({paths[i + 1].name})")
    return SEP.join(parts)


def _cell_text(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def contents_cells(paths: list[Path], nbs: list[NotebookNode] | None = None) -> tuple[str, str]:
    """Sources of the Japanese and English contents tables (notebooks 01..last)."""
    if nbs is None:
        nbs = [read(p) for p in paths]
    ja = ["| # | ノートブック | 内容 | 目安時間 |", "|---|---|---|---:|"]
    en = ["| # | Notebook | Description | Time |", "|---|---|---|---:|"]
    total = 0
    for path, nb in zip(paths[1:], nbs[1:], strict=True):
        num, tja, ten = title_parts(nb, path)
        meta = series_meta(nb, path)
        minutes = meta["minutes"]
        total += minutes
        sja, sen = _cell_text(meta["summary_ja"]), _cell_text(meta["summary_en"])
        ja.append(f"| {num} | [{_cell_text(tja)}]({path.name}) | {sja} | {minutes} 分 |")
        en.append(f"| {num} | [{_cell_text(ten)}]({path.name}) | {sen} | {minutes} min |")
    ja.append(f"| | **合計** | | **{total} 分** |")
    en.append(f"| | **Total** | | **{total} min** |")
    return "\n".join(ja), "\n".join(en)


def _find(nb: NotebookNode, path: Path, key: str, value: str, lang: str = "both") -> NotebookNode:
    found = [
        c
        for c in nb.cells
        if c.cell_type == "markdown" and c.metadata.get(key) == value and c.metadata.get("lang") == lang
    ]
    if len(found) != 1:
        what = f'{{"lang": "{lang}", "{key}": "{value}"}}'
        raise _error(
            path,
            f"メタデータ {what} のマークダウンセルがちょうど1つ必要です（{len(found)}個）",
            f"expected exactly one markdown cell with metadata {what}, found {len(found)}",
        )
    return found[0]


def sync(nb_dir: Path = NOTEBOOK_DIR, write: bool = True) -> list[Path]:
    """Regenerate nav/contents cells; return the files that were (or would be) changed."""
    paths = series_notebooks(nb_dir)
    if not paths:
        raise SeriesError(
            f"{nb_dir}: ノートブック (NN_*.ipynb) がありません / no notebooks (NN_*.ipynb) found"
        )
    if paths[0].name != INDEX_NAME:
        raise SeriesError(
            f"{nb_dir}: {INDEX_NAME} から始まるノートブックが必要です"
            f" / the series must start with {INDEX_NAME}"
        )
    nbs = [read(p) for p in paths]
    titles = [title_of(nb, p) for p, nb in zip(paths, nbs, strict=True)]
    changed = []
    for i, (path, nb) in enumerate(zip(paths, nbs, strict=True)):
        nav = nav_text(paths, i, titles)
        wanted = [(_find(nb, path, "nav", "top"), nav), (_find(nb, path, "nav", "bottom"), nav)]
        if i == 0:
            ja, en = contents_cells(paths, nbs)
            wanted.append((_find(nb, path, "generated", "contents", "ja"), ja))
            wanted.append((_find(nb, path, "generated", "contents", "en"), en))
        todo = [(cell, src) for cell, src in wanted if cell.source != src]
        if todo:
            changed.append(path)
        if todo and write:
            for cell, src in todo:
                cell.source = src
            nbformat.write(nb, path, version=4)
    return changed


def stale(nb_dir: Path = NOTEBOOK_DIR) -> list[Path]:
    """Files whose generated cells are out of date (nothing is written)."""
    return sync(nb_dir, write=False)


def _show(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m tools.series", description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="list stale files, write nothing")
    parser.add_argument("--dir", type=Path, default=NOTEBOOK_DIR, help="notebook folder")
    args = parser.parse_args(argv)
    try:
        changed = sync(args.dir, write=not args.check)
    except SeriesError as exc:
        print(f"エラー / error: {exc}", file=sys.stderr)
        return 2
    label = "要更新 / stale" if args.check else "更新 / updated"
    for path in changed:
        print(f"{label}: {_show(path)}")
    if args.check and changed:
        print("python -m tools.series を実行してください / run python -m tools.series")
        return 1
    if not changed:
        print("変更なし / up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
