"""The HTML book opened from disk with the network blocked: math typeset, plots shown, language switch.

Every request that is not a file:// URL is aborted and recorded; a page passes only if it made
none. Formulas are counted twice: in the notebooks' markdown (tools.book.count_math, written to
build/html/book.json) and as typeset by MathJax in the page; the two must agree.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.conftest import BOOK, SHOTS

MANIFEST_FILE = BOOK / "book.json"
MANIFEST = json.loads(MANIFEST_FILE.read_text(encoding="utf-8")) if MANIFEST_FILE.exists() else {}
# Known and harmless, so allowed: MathJax 2 declares a placeholder font at about:blank (a probe,
# which Chromium refuses on file:// pages), and the hidden MathML copy it keeps for screen readers
# names MathJax's TeX fonts, which jupyter-server-mathjax does not ship; what is seen uses STIX.
KNOWN_CONSOLE = ("Access to font at 'about:blank'", "Failed to load resource: net::ERR_FAILED",
                 "Failed to load resource: net::ERR_FILE_NOT_FOUND")
KNOWN_MISSING = ("about:blank", "/mathjax/fonts/HTML-CSS/TeX/otf/")
VISIBLE = "sel => [...document.querySelectorAll(sel)].filter(e => e.offsetParent !== null).length"


@pytest.fixture
def reader(browser, book):
    """A fresh browser context (empty storage) whose pages can reach nothing but files."""
    context = browser.new_context(viewport={"width": 1200, "height": 1400})
    outside: list[str] = []
    context.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file://")
                  else (outside.append(route.request.url), route.abort()))
    problems: list[str] = []
    page = context.new_page()
    page.on("console", lambda m: problems.append(m.text) if m.type == "error"
            and not m.text.startswith(KNOWN_CONSOLE) else None)
    page.on("pageerror", lambda err: problems.append(str(err)))
    page.on("requestfailed", lambda r: problems.append(f"failed: {r.url}")
            if not any(k in r.url for k in KNOWN_MISSING) and r.url not in outside else None)
    yield page, outside, problems
    context.close()


def url(book: Path, page: str, lang: str | None = None) -> str:
    return (book / page).as_uri() + (f"?lang={lang}" if lang else "")


def wait_for_math(page) -> None:
    page.wait_for_selector("html[data-math='done']", state="attached", timeout=60_000)


def test_manifest_lists_every_notebook() -> None:
    pages = set(MANIFEST)
    for folder in ("notebooks", "solutions"):
        for nb in (BOOK.parent.parent / folder).glob("[0-9][0-9]_*.ipynb"):
            assert f"{folder}/{nb.stem}.html" in pages, nb
    assert "index.html" in pages


@pytest.mark.parametrize("name", sorted(MANIFEST), ids=sorted(MANIFEST))
def test_page_shows_everything_offline(reader, book, name: str) -> None:
    page, outside, problems = reader
    page.goto(url(book, name, "both"))
    wait_for_math(page)
    expected = sum(MANIFEST[name]["math"].values())
    found = page.eval_on_selector_all('script[type^="math/tex"]', "e => e.length")
    typeset = page.eval_on_selector_all("span.MathJax", "e => e.length")
    assert (found, typeset) == (expected, expected), \
        f"{name}: formulas in the source {expected}, found {found}, typeset {typeset}"
    assert page.eval_on_selector_all(".MathJax_Error, .merror", "e => e.length") == 0
    # no formula left as raw TeX: no $ in the prose of markdown cells (code excluded)
    raw = page.evaluate("""() => [...document.querySelectorAll('.jp-MarkdownOutput')].map(m => {
        const c = m.cloneNode(true);
        c.querySelectorAll('code, pre, script, .MathJax_Preview').forEach(e => e.remove());
        return c.textContent; }).filter(t => t.includes('$'))""")
    assert raw == [], f"{name}: unrendered math: {raw[:2]}"
    broken = page.evaluate("() => [...document.images].filter(i => !(i.complete && i.naturalWidth > 0))"
                           ".map(i => i.src.slice(0, 60))")
    assert broken == [], f"{name}: images not shown: {broken}"
    assert outside == [], f"{name}: tried the network: {outside}"
    assert problems == [], f"{name}: {problems}"


def cells(page, lang: str) -> tuple[int, int]:
    """(visible, all) cells tagged `lang`."""
    selector = f".celltag_lang-{lang}"
    return page.evaluate(VISIBLE, selector), page.eval_on_selector_all(selector, "e => e.length")


def assert_showing(page, book: Path, lang: str) -> None:
    hidden = {"ja": "en", "en": "ja"}[lang]
    shown_now, shown_all = cells(page, lang)
    hidden_now, hidden_all = cells(page, hidden)
    assert shown_all > 0 and hidden_all > 0
    assert (shown_now, hidden_now) == (shown_all, 0), page.url
    assert page.evaluate(VISIBLE, ".celltag_lang-both") > 0
    assert page.get_attribute(f".book-lang button[data-lang='{lang}']", "aria-pressed") == "true"
    assert f"lang={lang}" in page.url
    links = page.eval_on_selector_all("a[href*='.html']", "as => as.map(a => a.getAttribute('href'))")
    assert links and all(f"?lang={lang}" in href for href in links), links[:5]
    # every formula in the cells that show is typeset at its size (laid out again after the switch)
    page.wait_for_selector("html[data-math='done']", state="attached", timeout=60_000)
    math = MANIFEST[page.url[len(book.as_uri()) + 1:].split("?", 1)[0]]["math"]
    assert page.evaluate(VISIBLE, "span.MathJax") == math[lang] + math["both"]


def test_language_switch_follows_links(reader, book) -> None:
    page, outside, problems = reader
    page.goto(url(book, "notebooks/03_masked_loss_adam.html"))  # no choice yet: both languages
    wait_for_math(page)
    assert cells(page, "ja")[0] == cells(page, "ja")[1] and cells(page, "en")[0] == cells(page, "en")[1]
    page.click(".book-lang button[data-lang='en']")
    assert_showing(page, book, "en")
    page.screenshot(path=str(SHOTS / "book_03_english.png"))

    page.click("nav.book-nav.top a[rel='next']")  # the choice travels in the link
    page.wait_for_url("**/04_reconstruction.html?lang=en*")
    wait_for_math(page)
    assert_showing(page, book, "en")

    page.click(".book-lang button[data-lang='ja']")
    assert_showing(page, book, "ja")
    page.screenshot(path=str(SHOTS / "book_04_japanese.png"))
    page.locator(".jp-MarkdownOutput a[href*='05_overfitting']").first.click()  # a link inside a cell
    page.wait_for_url("**/05_overfitting_and_regularization.html?lang=ja*")
    wait_for_math(page)
    assert_showing(page, book, "ja")

    page.goto(url(book, "notebooks/06_biases_and_embeddings.html"))  # no link: the stored choice
    wait_for_math(page)
    assert_showing(page, book, "ja")
    page.click(".book-lang button[data-lang='both']")
    assert cells(page, "ja")[0] == cells(page, "ja")[1] and cells(page, "en")[0] == cells(page, "en")[1]
    assert outside == [] and problems == [], (outside, problems)


def test_index_links_every_page(reader, book) -> None:
    page, outside, problems = reader
    page.goto(url(book, "index.html", "en"))
    wait_for_math(page)
    hrefs = page.eval_on_selector_all("a[href$='?lang=en']", "as => as.map(a => a.getAttribute('href'))")
    assert {h.split("?")[0] for h in hrefs} >= {n for n in MANIFEST if n != "index.html"}
    page.screenshot(path=str(SHOTS / "book_index.png"))
    assert outside == [] and problems == []
