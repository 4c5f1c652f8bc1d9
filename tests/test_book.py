"""The offline HTML book (tools.book): counting math, links, language tags, widgets, and a full build.

The browser checks (math typeset, language switch, no network) are in tests/e2e/test_book.py;
here the build itself is checked without a browser: every page is there, every local reference
resolves to a file in the book, and nothing is loaded from a network address.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import unquote

import nbformat
import pytest

from tools import book

PAGE = book.Page(Path("notebooks/03_x.ipynb"), Path("notebooks/03_x.html"), "03", "series")
OTHERS = {p.source: p for p in (
    PAGE,
    book.Page(Path("notebooks/04_y.ipynb"), Path("notebooks/04_y.html"), "04", "series"),
    book.Page(Path("solutions/03_x_solutions.ipynb"), Path("solutions/03_x_solutions.html"), "s",
              "solutions"),
    book.Page(Path("benchmarks/README.md"), Path("benchmarks/README.html"), "b", "docs"),
)}


@pytest.mark.parametrize(("markdown", "count"), [
    ("$a$ and $$b$$", 2),
    ("$$\nx = 1\n$$ then $y$, $z$", 3),
    ("costs \\$5, and $r = 2$", 1),
    ("code `$x$` is not math, nor ```$y$```", 0),
    ("```python\nprint('$a$')\n```\n$b$", 1),
    ("no math at all: 5 $", 0),
])
def test_count_math(markdown: str, count: int) -> None:
    assert book.count_math(markdown) == count


@pytest.mark.parametrize(("link", "expected"), [
    ("[next](04_y.ipynb)", "[next](04_y.html)"),
    ("[sec](04_y.ipynb#2.-Section)", "[sec](04_y.html#2.-Section)"),
    ("[sol](../solutions/03_x_solutions.ipynb)", "[sol](../solutions/03_x_solutions.html)"),
    ("[bench](../benchmarks/README.md)", "[bench](../benchmarks/README.html)"),
    ("[code](../helpers/training.py)", "code"),  # a repository file has no page: the text stays
    ("[web](https://grouplens.org/datasets/movielens/)", "[web](https://grouplens.org/datasets/movielens/)"),
    ("[here](#goals)", "[here](#goals)"),
])
def test_links_point_to_pages(link: str, expected: str) -> None:
    assert book._rewrite_links(f"see {link}.", PAGE, OTHERS) == f"see {expected}."


def test_documents_are_split_into_language_tagged_cells() -> None:
    doc = ("# 題 / Title\n\n日本語の段落です。\n\nAn English paragraph.\n\n"
           "- 日本語の項目\n- an English item\n\n```bash\nmake html\n```\n\n| a | b |\n|---|---|")
    cells = book._document_notebook(doc).cells
    assert [c.metadata["lang"] for c in cells] == ["both", "ja", "en", "both", "both", "both"]


def test_prepare_tags_cells_and_replaces_widgets() -> None:
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("日本語 [a](04_y.ipynb)", metadata={"lang": "ja"}),
        nbformat.v4.new_code_cell("display(slider)", outputs=[nbformat.v4.new_output(
            "display_data", data={book.WIDGET_MIME: {"model_id": "x"}, "text/plain": "IntSlider()"})]),
    ], metadata={"widgets": {"state": {}}})
    out = book.prepare(nb, PAGE, OTHERS)
    assert "widgets" not in out.metadata
    assert out.cells[0].metadata["tags"] == ["lang-ja"] and "(04_y.html)" in out.cells[0].source
    data = out.cells[1].outputs[0]["data"]
    assert list(data) == ["text/html"] and "JupyterLab" in data["text/html"]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("book") / "html"
    book.build(out)
    return out


def test_every_notebook_has_a_page(built: Path) -> None:
    manifest = json.loads((built / "book.json").read_text(encoding="utf-8"))
    sources = {entry["source"] for entry in manifest.values()}
    for folder in ("notebooks", "solutions"):
        for path in sorted(Path(folder).glob("[0-9][0-9]_*.ipynb")):
            assert path.as_posix() in sources and (built / folder / f"{path.stem}.html").is_file()
    assert (built / "index.html").is_file() and (built / "mathjax" / "MathJax.js").is_file()


def test_pages_load_nothing_from_a_network_and_every_reference_resolves(built: Path) -> None:
    for page in sorted(built.glob("**/*.html")):
        if "mathjax" in page.parts:
            continue
        text = page.read_text(encoding="utf-8")
        references = re.findall(r"<(script|link|img|a|iframe|source)\b[^>]*?\b(src|href)=\"([^\"]*)\"", text)
        for tag, attr, target in references:
            if target.startswith(("data:", "#")):
                continue
            if re.match(r"^[a-z][a-z0-9+.-]*:", target, flags=re.I):
                assert tag == "a", f"{page.name}: <{tag} {attr}={target}> loads from the network"
                continue
            file = page.parent / unquote(target.split("#")[0].split("?")[0])
            assert file.exists(), f"{page.relative_to(built)}: {target} does not exist"


def test_explorer_page_has_no_widget_state(built: Path) -> None:
    text = (built / "notebooks" / "04_reconstruction.html").read_text(encoding="utf-8")
    assert "book-widget-note" in text
    assert "application/vnd.jupyter.widget-state+json" not in text
    assert "application/vnd.jupyter.widget-view+json" not in text
