"""Build the offline HTML book from the executed notebooks (`make html`).

Usage: python -m tools.book [OUT]      (default: build/html; open OUT/index.html from disk)

Every page works from disk with no network: plots are embedded in the page, MathJax 2.7 is copied
from the jupyter-server-mathjax package (a PyPI package, so pip alone builds the book; nbconvert's
page template is written for MathJax 2.7 too), and no script or style comes from elsewhere.
A switch (日本語 / English / 両方) shows or hides cells by their `lang` tag. The choice travels in
every link (`?lang=ja`) as well as in localStorage, because pages opened with file:// do not
reliably share storage.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter
from nbformat import NotebookNode

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = Path(__file__).resolve().parent / "templates"
LANGS = ("ja", "en", "both")
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
MATHJAX_CONFIG = "TeX-AMS-MML_HTMLorMML-full,Safe"  # the configurations the package ships
TITLE_RE = re.compile(r"^#\s+(.*?)\s*$", re.M)
LINK_RE = re.compile(r"(!?)\[([^\]]*)\]\(([^)\s]+)\)")
CJK_RE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff01-\uff5e]")


@dataclass
class Page:
    source: Path  # relative to ROOT: a notebook or a markdown document
    out: Path  # relative to the book's root
    title: str
    group: str  # "series", "solutions" or "docs"
    minutes: int | None = None  # a series notebook's time in class (its `series.minutes` metadata)


def book_pages() -> list[Page]:
    """Every page of the book in reading order: the series, the worked solutions, the documents."""
    pages = []
    for group, folder, pattern in (("series", "notebooks", "[0-9][0-9]_*.ipynb"),
                                   ("solutions", "solutions", "[0-9][0-9]_*_solutions.ipynb")):
        for path in sorted((ROOT / folder).glob(pattern)):
            nb = nbformat.read(path, as_version=4)
            pages.append(Page(path.relative_to(ROOT), Path(folder) / f"{path.stem}.html",
                              _title(nb.cells[0].source, path.stem), group,
                              nb.metadata.get("series", {}).get("minutes")))
    for rel in ("README.md", "docs/teaching.md", "benchmarks/README.md"):
        text = (ROOT / rel).read_text(encoding="utf-8")
        pages.append(Page(Path(rel), Path(rel).with_suffix(".html"), _title(text, rel), "docs"))
    return pages


def _title(markdown: str, fallback: str) -> str:
    match = TITLE_RE.search(markdown)
    return match.group(1) if match else fallback


# ------------------------------------------------------------------ counting math (tested in e2e)
def _strip_code(markdown: str) -> str:
    markdown = re.sub(r"^(```|~~~).*?^\1[^\n]*$", "", markdown, flags=re.M | re.S)
    return re.sub(r"(`+)(?!`).*?(?<!`)\1(?!`)", "", markdown, flags=re.S)


def count_math(markdown: str) -> int:
    """How many formulas MathJax should find: `$$...$$` and `$...$` outside code, `\\$` not a delimiter."""
    text = _strip_code(markdown).replace("\\$", "")
    display = re.findall(r"\$\$.+?\$\$", text, flags=re.S)
    text = re.sub(r"\$\$.+?\$\$", "", text, flags=re.S)
    return len(display) + len(re.findall(r"\$[^$\n]+?\$", text))


def page_math(nb: NotebookNode) -> dict[str, int]:
    """Formulas per language tag of a page's markdown cells."""
    counts = dict.fromkeys(LANGS, 0)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            counts[cell.metadata.get("lang", "both")] += count_math(cell.source)
    return counts


# ------------------------------------------------------------------ preparing a notebook for the page
def _is_local(target: str) -> bool:
    return not re.match(r"^[a-z][a-z0-9+.-]*:|^#|^/", target, flags=re.I)


def _rewrite_links(markdown: str, page: Page, by_source: dict[Path, Page]) -> str:
    """Links to notebooks and documents become links to their pages; other local files lose the link."""
    def replace(match: re.Match[str]) -> str:
        bang, text, target = match.groups()
        if bang or not _is_local(target):
            return match.group(0)
        path, _, fragment = target.partition("#")
        linked = by_source.get(Path(os.path.normpath(page.source.parent / path)))
        if linked is None:  # a file of the repository (a .py file, the Makefile): it has no page
            return text
        href = os.path.relpath(linked.out, page.out.parent) + (f"#{fragment}" if fragment else "")
        return f"[{text}]({href})"

    return LINK_RE.sub(replace, markdown)


def _copy_images(markdown: str, page: Page, out: Path) -> None:
    """The local pictures a document shows (`![...](results/x.png)`), copied beside its page so that the
    relative link resolves in the book too."""
    for bang, _, target in LINK_RE.findall(markdown):
        if bang and _is_local(target):
            source = ROOT / page.source.parent / target
            dest = out / page.out.parent / target
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, dest)


def _document_notebook(markdown: str) -> NotebookNode:
    """A markdown document as a notebook of markdown cells, each tagged ja, en or both by its text."""
    blocks, current, fence = [], [], False
    for line in markdown.splitlines():
        if line.startswith(("```", "~~~")):
            fence = not fence
        if not line.strip() and not fence:
            if current:
                blocks.append("\n".join(current))
            current = []
        else:
            current.append(line)
    if current:
        blocks.append("\n".join(current))
    cells = []
    for block in blocks:
        # a heading, a table, or a block that mixes Japanese lines with English ones shows in both
        lines = [line for line in _strip_code(block).splitlines() if line.strip()]
        japanese = [bool(CJK_RE.search(line)) for line in lines]
        bilingual = block.lstrip().startswith(("#", "|")) or " / " in block.splitlines()[0]
        if bilingual or not lines or (any(japanese) and not all(japanese)):
            lang = "both"
        else:
            lang = "ja" if any(japanese) else "en"
        cells.append(nbformat.v4.new_markdown_cell(block, metadata={"lang": lang}))
    return nbformat.v4.new_notebook(cells=cells)


def _widget_note() -> dict:
    note = ('<p class="book-widget-note"><span lang="ja">ここには操作用のスライダーが表示されます。'
            'JupyterLab でノートブックを実行すると動きます。</span> <span lang="en">The sliders appear '
            'here when the notebook runs in JupyterLab.</span></p>')
    return nbformat.v4.new_output("display_data", data={"text/html": note})


def prepare(nb: NotebookNode, page: Page, by_source: dict[Path, Page]) -> NotebookNode:
    """Tag cells by language, rewrite links, and replace widgets (their state is not embedded)."""
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        lang = cell.metadata.get("lang")
        if lang in LANGS:
            cell.metadata["tags"] = [*cell.metadata.get("tags", []), f"lang-{lang}"]
        if cell.cell_type == "markdown":
            cell.source = _rewrite_links(cell.source, page, by_source)
        elif cell.cell_type == "code":
            cell.outputs = [_widget_note() if WIDGET_MIME in out.get("data", {}) else out
                            for out in cell.get("outputs", [])]
    return nb


# ------------------------------------------------------------------ navigation and the page frame
HEAD = """<script>
/* before the first paint: the language from the link, else from storage, else both */
(function () {
  var langs = ["ja", "en", "both"], lang = new URLSearchParams(location.search).get("lang");
  if (langs.indexOf(lang) < 0) { try { lang = localStorage.getItem("mf-book-lang"); } catch (e) {} }
  document.documentElement.setAttribute("data-book-lang", langs.indexOf(lang) >= 0 ? lang : "both");
})();
</script>
<style>
html[data-book-lang="ja"] .celltag_lang-en, html[data-book-lang="en"] .celltag_lang-ja
  { display: none !important; }
body.jp-Notebook { padding: 0 1rem 2rem; max-width: 64rem; margin: 0 auto; }
.book-nav { font-family: var(--jp-ui-font-family); display: flex; flex-wrap: wrap; gap: .4rem 1.2rem;
  align-items: center;
  padding: .6rem 0; margin-bottom: 1rem; border-bottom: 1px solid #ccc; font-size: 15px; }
.book-nav.bottom { border-bottom: 0; border-top: 1px solid #ccc; margin: 2rem 0 0; }
.book-nav a { text-decoration: none; }
.book-lang { margin-left: auto; display: inline-flex; gap: .3rem; }
.book-lang button { font: inherit; padding: .15rem .6rem; border: 1px solid #888; border-radius: 4px;
  background: #fff; cursor: pointer; }
.book-lang button[aria-pressed="true"] { background: #1a5fb4; color: #fff; border-color: #1a5fb4; }
.book-widget-note { border: 1px dashed #999; padding: .5rem .8rem; color: #555; }
</style>
"""

SCRIPT = """<script>
(function () {
  var KEY = "mf-book-lang";
  function withLang(href, lang) {
    var hash = "", i = href.indexOf("#");
    if (i >= 0) { hash = href.slice(i); href = href.slice(0, i); }
    var q = href.indexOf("?");
    if (q >= 0) { href = href.slice(0, q); }
    return href + "?lang=" + lang + hash;
  }
  function apply(lang) {
    document.documentElement.setAttribute("data-book-lang", lang);
    try { localStorage.setItem(KEY, lang); } catch (e) {}
    document.querySelectorAll("a[href]").forEach(function (a) {
      var href = a.getAttribute("href");
      if (/^[a-z][a-z0-9+.-]*:/i.test(href) || href.charAt(0) === "#") { return; }
      if (/\\.html([?#]|$)/.test(href)) { a.setAttribute("href", withLang(href, lang)); }
    });
    document.querySelectorAll(".book-lang button").forEach(function (b) {
      b.setAttribute("aria-pressed", String(b.getAttribute("data-lang") === lang));
    });
    try { history.replaceState(null, "", withLang(location.href, lang)); } catch (e) {}
    /* math in cells that were hidden could not be measured: lay it out again now they show */
    if (window.MathJax && MathJax.Hub && document.documentElement.getAttribute("data-math") === "done") {
      document.documentElement.setAttribute("data-math", "busy");
      MathJax.Hub.Queue(["Rerender", MathJax.Hub], function () {
        document.documentElement.setAttribute("data-math", "done");
      });
    }
  }
  document.querySelectorAll(".book-lang button").forEach(function (b) {
    b.addEventListener("click", function () { apply(b.getAttribute("data-lang")); });
  });
  apply(document.documentElement.getAttribute("data-book-lang"));
})();
</script>
"""


SWITCH = ('<span class="book-lang" role="group" aria-label="表示する言語 / Language shown">'
          '<button type="button" data-lang="ja">日本語</button>'
          '<button type="button" data-lang="en">English</button>'
          '<button type="button" data-lang="both">両方 / Both</button></span>')
INDEX_NAV = f'<nav class="book-nav top">{SWITCH}</nav>'  # the index has no previous or next page


def _nav(page: Page, pages: list[Page], where: str) -> str:
    def link(target: Page | None, rel: str, text: str) -> str:
        if target is None:
            return ""
        href = html.escape(os.path.relpath(target.out, page.out.parent))
        return f'<a href="{href}" rel="{rel}">{text}</a>'

    group = [p for p in pages if p.group == page.group] if page.group != "docs" else [page]
    i = group.index(page)
    prev_page = group[i - 1] if i > 0 else None
    next_page = group[i + 1] if i + 1 < len(group) else None
    index = os.path.relpath("index.html", page.out.parent)
    parts = [f'<a href="{html.escape(index)}" rel="index">目次 / Contents</a>',
             link(prev_page, "prev", f"← {html.escape(prev_page.title) if prev_page else ''}"),
             link(next_page, "next", f"{html.escape(next_page.title) if next_page else ''} →")]
    switch = SWITCH if where == "top" else ""
    return f'<nav class="book-nav {where}">{"".join(p for p in parts if p)}{switch}</nav>'


def _index_notebook(pages: list[Page]) -> NotebookNode:
    def rows(group: str) -> str:
        return "\n".join(f"- [{p.title}]({p.source.as_posix()})"
                         + (f" — {p.minutes} 分 / {p.minutes} min" if p.minutes else "")
                         for p in pages if p.group == group)

    cells = [
        ("both", "# PyTorchで学ぶ行列因子分解 / Matrix Factorization with PyTorch"),
        ("ja", "ノートブックを実行した結果をそのまま読める、オフラインの本です。"
               "右上のボタンで、表示する言語（日本語・英語・両方）を切り替えられます。"
               "コードを動かすには、README の `make lab` を使ってください。"),
        ("en", "An offline book of the executed notebooks, outputs included. The buttons at the top right "
               "choose the language shown (Japanese, English or both). To run the code, use `make lab` "
               "from the README."),
        ("both", "## ノートブック / Notebooks\n\n" + rows("series")),
        ("both", "## 解答例 / Worked solutions\n\n" + rows("solutions")),
        ("both", "## 資料 / Documents\n\n" + rows("docs")),
    ]
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(s, metadata={"lang": lang})
                                           for lang, s in cells])


def build(out: Path) -> dict[str, dict]:
    """Write the book to `out` and return its manifest (page → title, formulas per language)."""
    pages = book_pages()
    by_source = {p.source: p for p in pages}
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    exporter = HTMLExporter(template_name="book", extra_template_basedirs=[str(TEMPLATES)],
                            exclude_input_prompt=True, exclude_output_prompt=True)
    index = Page(Path("index.md"), Path("index.html"), "目次 / Contents", "index")
    manifest = {}
    for page in [index, *pages]:
        if page is index:
            nb = _index_notebook(pages)
        elif page.source.suffix == ".ipynb":
            nb = nbformat.read(ROOT / page.source, as_version=4)
        else:
            text = (ROOT / page.source).read_text(encoding="utf-8")
            nb = _document_notebook(text)
            _copy_images(text, page, out)
        nb = prepare(nb, page, by_source)
        mathjax = os.path.relpath("mathjax/MathJax.js", page.out.parent) + f"?config={MATHJAX_CONFIG}"
        resources = {"metadata": {"name": page.title}, "book": {
            "mathjax_url": mathjax, "head": HEAD,
            "top": _nav(page, pages, "top") if page is not index else INDEX_NAV,
            "bottom": (_nav(page, pages, "bottom") if page is not index else "") + SCRIPT}}
        body, _ = exporter.from_notebook_node(nb, resources=resources)
        target = out / page.out
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(body, encoding="utf-8")
        manifest[page.out.as_posix()] = {"title": page.title, "source": page.source.as_posix(),
                                         "math": page_math(nb)}
    import jupyter_server_mathjax  # the renderer, copied so that the pages need no network

    shutil.copytree(Path(jupyter_server_mathjax.__file__).parent / "static", out / "mathjax")
    (out / "book.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    return manifest


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else ROOT / "build" / "html"
    start = time.perf_counter()
    manifest = build(out)
    print(f"{len(manifest)} ページを {out} に書きました / wrote {len(manifest)} pages to {out} "
          f"({time.perf_counter() - start:.1f} s). 開く / open: {out / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
