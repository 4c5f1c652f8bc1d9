"""Checks of the notebook series (names, navigation, metadata, outputs, languages) and of tools.series."""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from functools import cache
from pathlib import Path

import nbformat
import pytest
from nbformat import NotebookNode
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from tools import series

ROOT = Path(__file__).resolve().parent.parent
NB_DIR = ROOT / "notebooks"
REAL = series.series_notebooks(NB_DIR)
IDS = [p.name for p in REAL]

NAME_RE = re.compile(r"^\d\d_[a-z0-9_]+\.ipynb$")
TITLE_RE = re.compile(r"^# (\d\d)\. \S.* / \S.*$")
HEADINGS = ("学習目標 / Learning goals", "まとめ / Summary", "演習 / Exercises")
_JA = "\u3040-\u309f\u30a0-\u30ff\u4e00-\u9fff\uff66-\uff9f"
JA_RE = re.compile(f"[{_JA}]")  # kana / kanji
JA_OR_FULLWIDTH_RE = re.compile(f"[{_JA}\u3000-\u303f\uff01-\uff60]")
MATH_RE = re.compile(r"(?<!\\)\$\$(.+?)(?<!\\)\$\$|(?<!\\)\$(.+?)(?<!\\)\$", re.DOTALL)
LINK_RE = re.compile(r"\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
NUMBER_RE = re.compile(r"[0-9]+(?:\.[0-9]+)?")


# --- extractors ---------------------------------------------------------------------------------


def math_spans(text: str) -> list[str]:
    """Contents of ``$...$`` and ``$$...$$`` spans, stripped and sorted."""
    return sorted((a or b).strip() for a, b in MATH_RE.findall(text))


def link_targets(text: str) -> list[str]:
    """Markdown link targets ``](target)`` in order."""
    return LINK_RE.findall(text)


def numbers(text: str) -> set[str]:
    """ASCII numbers outside math and link targets; ``1,000`` counts as ``1000``."""
    text = LINK_RE.sub("]", MATH_RE.sub(" ", text))
    text = re.sub(r"(?<=[0-9]),(?=[0-9]{3}(?![0-9]))", "", text)
    return set(NUMBER_RE.findall(text))


# --- checks: each returns a list of human-readable problems ------------------------------------


@cache
def read(path: Path) -> NotebookNode:
    return series.read(path)


def _lang(cell: NotebookNode | None) -> str | None:
    return cell.metadata.get("lang") if cell is not None and cell.cell_type == "markdown" else None


def _diff(label: str, ja: list[str] | set[str], en: list[str] | set[str]) -> str:
    only_ja = sorted((Counter(ja) - Counter(en)).elements())
    only_en = sorted((Counter(en) - Counter(ja)).elements())
    if not only_ja and not only_en:
        return f"{label} in a different order: ja {list(ja)} / en {list(en)}"
    return f"{label} differ: only in ja {only_ja}, only in en {only_en}"


def pair_problems(ja: str, en: str, where: str) -> list[str]:
    """A ja cell and its en partner must carry the same numbers, math and links."""
    out = []
    for label, extract in (("numbers", numbers), ("math", math_spans), ("links", link_targets)):
        a, b = extract(ja), extract(en)
        if a != b:
            out.append(f"{where}: {_diff(label, a, b)}")
    return out


def lang_problems(nb: NotebookNode, name: str) -> list[str]:
    """Language tags and ja/en pairing of every markdown cell."""
    cells, out = nb.cells, []
    for i, cell in enumerate(cells):
        if cell.cell_type != "markdown":
            continue
        where, text, lang = f"{name} cell {i}", cell.source, _lang(cell)
        prev = cells[i - 1] if i > 0 else None
        nxt = cells[i + 1] if i + 1 < len(cells) else None
        if lang not in ("ja", "en", "both"):
            out.append(f"{where}: markdown cell needs metadata lang ja/en/both, got {lang!r}: {text[:60]!r}")
        elif lang == "ja":
            if not JA_RE.search(text):
                out.append(f"{where}: ja cell has no kana/kanji: {text[:60]!r}")
            if _lang(nxt) != "en":
                out.append(f"{where}: ja cell is not immediately followed by an en cell")
            else:
                out += pair_problems(text, nxt.source, f"{name} cells {i}/{i + 1} (ja/en)")
        elif lang == "en":
            bad = "".join(sorted(set(JA_OR_FULLWIDTH_RE.findall(text))))
            if bad:
                out.append(f"{where}: en cell contains Japanese/full-width characters {bad!r}")
            if _lang(prev) != "ja":
                out.append(f"{where}: en cell is not immediately preceded by a ja cell")
        elif not (JA_RE.search(text) and re.search("[A-Za-z]", text)):
            out.append(f"{where}: both cell needs Japanese and English text: {text[:60]!r}")
    return out


def name_problems(nb_dir: Path) -> list[str]:
    names = sorted(p.name for p in nb_dir.glob("*.ipynb"))
    out = [f"{n}: name must match {NAME_RE.pattern}" for n in names if not NAME_RE.match(n)]
    nums = [int(n[:2]) for n in names if NAME_RE.match(n)]
    if nums != list(range(len(nums))):
        out.append(f"notebook numbers {nums} must run 00..{len(nums) - 1:02d} without gaps or duplicates")
    if series.INDEX_NAME not in names:
        out.append(f"{series.INDEX_NAME} is missing")
    return out


def nav_problems(nb: NotebookNode, names: list[str], i: int) -> list[str]:
    """Nav cells at cell 1 and last, linking previous (not the index) | index | next."""
    name = names[i]
    expected = [names[i - 1]] if i > 1 else []
    expected += [series.INDEX_NAME] if i > 0 else []
    expected += [names[i + 1]] if i + 1 < len(names) else []
    out = []
    for pos, kind in ((1, "top"), (len(nb.cells) - 1, "bottom")):
        cell = nb.cells[pos] if len(nb.cells) > 2 else None
        meta = dict(cell.metadata) if cell is not None and cell.cell_type == "markdown" else None
        if not meta or meta.get("nav") != kind or meta.get("lang") != "both":
            out.append(f"{name} cell {pos}: expected the {kind} nav cell (lang both, nav {kind}), got {meta}")
        elif link_targets(cell.source) != expected:
            out.append(f"{name} cell {pos}: nav links {link_targets(cell.source)}, expected {expected}")
    return out


def title_problems(nb: NotebookNode, name: str) -> list[str]:
    title = nb.cells[0] if nb.cells else None
    first = title.source.strip().split("\n")[0] if title is not None else ""
    match = TITLE_RE.match(first)
    out = []
    if _lang(title) != "both" or not match or match.group(1) != name[:2]:
        want = f"a both cell '# {name[:2]}. 日本語 / English'"
        out.append(f"{name} cell 0: title must be {want}, got {first!r}")
    headings = [c.source for c in nb.cells if _lang(c) == "both" and c.source.startswith("## ")]
    if name != series.INDEX_NAME:
        out += [f"{name}: missing heading '## {h}'" for h in HEADINGS if not any(h in s for s in headings)]
    else:
        gen = [(_lang(c), i) for i, c in enumerate(nb.cells) if c.metadata.get("generated") == "contents"]
        if [lang for lang, _ in gen] != ["ja", "en"] or gen[1][1] != gen[0][1] + 1:
            out.append(f"{name}: needs adjacent contents cells ja then en (generated: contents), got {gen}")
    return out


def meta_problems(nb: NotebookNode, name: str) -> list[str]:
    out = []
    if nb.metadata.get("kernelspec", {}).get("name") != "python3":
        out.append(f"{name}: kernelspec name must be python3")
    meta = nb.metadata.get("series", {})
    ja, en, minutes = meta.get("summary_ja"), meta.get("summary_en"), meta.get("minutes")
    if not (isinstance(ja, str) and JA_RE.search(ja)):
        out.append(f"{name}: series.summary_ja must be Japanese text, got {ja!r}")
    if not (isinstance(en, str) and en.strip()) or JA_OR_FULLWIDTH_RE.search(en):
        out.append(f"{name}: series.summary_en must be English text without kana/kanji, got {en!r}")
    if type(minutes) is not int or minutes <= 0:
        out.append(f"{name}: series.minutes must be a positive int, got {minutes!r}")
    return out


def output_problems(nb: NotebookNode, name: str) -> list[str]:
    out, count = [], 0
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        count += 1
        if cell.execution_count != count:
            out.append(f"{name} cell {i}: execution_count {cell.execution_count}, expected {count}")
        for o in cell.outputs:
            if o.output_type == "error":
                out.append(f"{name} cell {i}: error output {o.get('ename')}: {o.get('evalue')}")
            if o.output_type == "stream" and o.get("name") == "stderr":
                out.append(f"{name} cell {i}: stderr output {str(o.get('text'))[:80]!r}")
    return out


def notebook_problems(nb: NotebookNode, names: list[str], i: int) -> dict[str, list[str]]:
    """All per-notebook checks, by kind."""
    name = names[i]
    return {
        "nav": nav_problems(nb, names, i),
        "title": title_problems(nb, name),
        "metadata": meta_problems(nb, name),
        "outputs": output_problems(nb, name),
        "languages": lang_problems(nb, name),
    }


def all_problems(nb_dir: Path) -> list[str]:
    paths, out = series.series_notebooks(nb_dir), name_problems(nb_dir)
    names = [p.name for p in paths]
    for i, path in enumerate(paths):
        out += sum(notebook_problems(series.read(path), names, i).values(), [])
    return out


# --- the real series in notebooks/ -------------------------------------------------------------


def test_real_series_names() -> None:
    assert len(REAL) >= 2, f"expected at least 2 notebooks in {NB_DIR}, found {IDS}"
    assert not (p := name_problems(NB_DIR)), "\n".join(p)


def test_real_series_not_stale() -> None:
    stale = series.stale(NB_DIR)
    assert not stale, f"stale nav/contents cells in {[p.name for p in stale]}: run python -m tools.series"


@pytest.mark.parametrize("kind", ["nav", "title", "metadata", "outputs", "languages"])
@pytest.mark.parametrize("i", range(len(REAL)), ids=IDS)
def test_real_notebook(i: int, kind: str) -> None:
    assert not (p := notebook_problems(read(REAL[i]), IDS, i)[kind]), "\n".join(p)


# --- extractors and checks on made-up input ----------------------------------------------------


def test_extractors() -> None:
    ja = "予測値 $\\hat r_{ui}$ は[リンク](02_x.ipynb)を参照。学習率 0.05、1,000 回。"
    ja += "$$ L = \\sum (r-\\hat r)^2 $$"
    en = "See [the link](02_x.ipynb) for $\\hat r_{ui}$. Rate 0.05, 1,000 steps. $$L = \\sum (r-\\hat r)^2$$"
    assert math_spans(ja) == math_spans(en) == ["L = \\sum (r-\\hat r)^2", "\\hat r_{ui}"]
    assert link_targets(ja) == link_targets(en) == ["02_x.ipynb"]
    assert numbers(ja) == numbers(en) == {"0.05", "1000"}
    assert numbers("costs \\$5 and \\$7") == {"5", "7"} and math_spans("costs \\$5 and \\$7") == []
    assert link_targets('[a](a.ipynb "t") and ![img](fig/b.png)') == ["a.ipynb", "fig/b.png"]
    assert pair_problems(ja, en, "w") == []


def md(source: str, lang: str | None, **meta: str) -> NotebookNode:
    return new_markdown_cell(source, metadata=({"lang": lang} if lang else {}) | meta)


def test_lang_problems_catch_bad_cells() -> None:
    cells = [
        md("English first.", "en"),  # 0: not preceded by ja
        md("日本語です。", "ja"),  # 1: not followed by en
        md("値は 3 です。[リンク](02_x.ipynb) と $x$", "ja"),  # 2
        md("The value is 4, see 行列 [link](03_x.ipynb) and $y$.", "en"),  # 3
        md("no tag", None),  # 4
        md("## English only", "both"),  # 5
        md("区切り", "ja"),  # 6
        md("Hello、world", "en"),  # 7
    ]
    problems = lang_problems(new_notebook(cells=cells), "bad.ipynb")
    expected = [
        "cell 0: en cell is not immediately preceded",
        "cell 1: ja cell is not immediately followed",
        "cells 2/3 (ja/en): numbers differ: only in ja ['3'], only in en ['4']",
        "cells 2/3 (ja/en): math differ: only in ja ['x'], only in en ['y']",
        "cells 2/3 (ja/en): links differ: only in ja ['02_x.ipynb'], only in en ['03_x.ipynb']",
        "cell 3: en cell contains Japanese/full-width characters '列行'",
        "cell 4: markdown cell needs metadata lang",
        "cell 5: both cell needs Japanese and English",
        "cell 7: en cell contains Japanese/full-width characters '、'",
    ]
    for item in expected:
        assert any(f"bad.ipynb {item}" in p for p in problems), f"{item!r} not in {problems}"
    assert len(problems) == len(expected), "\n".join(problems)


# --- tools.series on a fake three-notebook series ----------------------------------------------

FAKE = [  # stem, ja title, en title, summary_ja, summary_en, minutes
    ("00_index", "目次", "Contents", "シリーズの目次。", "Contents of the series.", 5),
    ("01_alpha", "行列の準備", "Matrix setup", "3行2列の行列を作る。", "Build a 3 by 2 matrix.", 10),
    ("02_beta", "損失 | 最小化", "Loss | minimization", "$L$ を最小化する。", "Minimize $L$.", 15),
]


def make_fake(nb_dir: Path) -> list[Path]:
    paths = []
    for num, (stem, tja, ten, sja, sen, minutes) in enumerate(FAKE):
        cells = [md(f"# {num:02d}. {tja} / {ten}", "both"), md("", "both", nav="top")]
        if num == 0:
            cells += [md("## 内容 / Contents", "both"), md("", "ja", generated="contents")]
            cells += [md("", "en", generated="contents")]
        else:
            cells += [md(f"## {h}", "both") for h in HEADINGS[:1]]
            cells += [md("$r_{ui}$ を 2 回使う。[次へ](02_beta.ipynb)", "ja")]
            cells += [md("Use $r_{ui}$ 2 times. [Next](02_beta.ipynb)", "en")]
            out = new_output("stream", name="stdout", text="ok\n")
            cells += [new_code_cell("print('ok')", execution_count=1, outputs=[out])]
            cells += [md(f"## {h}", "both") for h in HEADINGS[1:]]
            cells += [new_code_cell("x = 1", execution_count=2)]
        cells += [md("", "both", nav="bottom")]
        meta = {
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "series": {"summary_ja": sja, "summary_en": sen, "minutes": minutes},
        }
        paths.append(nb_dir / f"{stem}.ipynb")
        nbformat.write(new_notebook(cells=cells, metadata=meta), paths[-1], version=4)
    return paths


def test_fake_series_write_and_rerun(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    paths = make_fake(tmp_path)
    blank = [p.read_bytes() for p in paths]
    assert series.stale(tmp_path) == paths
    assert series.main(["--dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert all(f"更新 / updated: {p}" in out for p in paths), out
    assert series.stale(tmp_path) == []
    assert all_problems(tmp_path) == [], "\n".join(all_problems(tmp_path))

    index, alpha, beta = (series.read(p) for p in paths)
    assert index.cells[1].source == "[01. 行列の準備 / Matrix setup >](01_alpha.ipynb)"
    contents, setup = "[目次 / Contents](00_index.ipynb)", "01. 行列の準備 / Matrix setup"
    assert alpha.cells[1].source == f"{contents} | [02. 損失 | 最小化 / Loss | minimization >](02_beta.ipynb)"
    assert beta.cells[-1].source == f"[< {setup}](01_alpha.ipynb) | {contents}"
    assert index.cells[3].source == (
        "| # | ノートブック | 内容 | 目安時間 |\n|---|---|---|---:|\n"
        "| 01 | [行列の準備](01_alpha.ipynb) | 3行2列の行列を作る。 | 10 分 |\n"
        "| 02 | [損失 \\| 最小化](02_beta.ipynb) | $L$ を最小化する。 | 15 分 |\n"
        "| | **合計** | | **25 分** |"
    )
    assert index.cells[4].source == (
        "| # | Notebook | Description | Time |\n|---|---|---|---:|\n"
        "| 01 | [Matrix setup](01_alpha.ipynb) | Build a 3 by 2 matrix. | 10 min |\n"
        "| 02 | [Loss \\| minimization](02_beta.ipynb) | Minimize $L$. | 15 min |\n"
        "| | **Total** | | **25 min** |"
    )
    # only the generated sources changed: blanking them again gives the original bytes
    for nb, path, before in zip((index, alpha, beta), paths, blank, strict=True):
        for cell in nb.cells:
            if "nav" in cell.metadata or "generated" in cell.metadata:
                cell.source = ""
        assert nbformat.writes(nb, version=4) + "\n" == before.decode(), path.name

    written = [p.read_bytes() for p in paths]
    assert series.main(["--dir", str(tmp_path)]) == 0
    assert "変更なし / up to date" in capsys.readouterr().out
    assert [p.read_bytes() for p in paths] == written


def test_fake_series_check_after_title_edit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    paths = make_fake(tmp_path)
    series.sync(tmp_path)
    nb = series.read(paths[2])
    nb.cells[0].source = "# 02. 損失関数 / Loss function"
    nbformat.write(nb, paths[2], version=4)
    before = [p.read_bytes() for p in paths]
    assert series.main(["--check", "--dir", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "00_index.ipynb" in out and "01_alpha.ipynb" in out and "02_beta.ipynb" not in out
    assert [p.read_bytes() for p in paths] == before
    cli = [sys.executable, "-m", "tools.series", "--check", "--dir", str(tmp_path)]
    run = subprocess.run(cli, cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 1 and "01_alpha.ipynb" in run.stdout, run.stdout + run.stderr
    assert series.stale(tmp_path) == paths[:2]
    assert series.sync(tmp_path) == paths[:2] and series.stale(tmp_path) == []


def test_fake_series_missing_nav_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    paths = make_fake(tmp_path)
    nb = series.read(paths[1])
    del nb.cells[-1]
    nbformat.write(nb, paths[1], version=4)
    with pytest.raises(series.SeriesError, match=r"01_alpha\.ipynb: .* / expected exactly one markdown cell"):
        series.stale(tmp_path)
    assert series.main(["--dir", str(tmp_path)]) == 2
    assert "01_alpha.ipynb" in capsys.readouterr().err
