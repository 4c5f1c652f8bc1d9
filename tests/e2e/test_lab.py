"""JupyterLab in a real browser: every notebook of the series runs through the UI without an error.

Each notebook is opened in a fresh workspace, run with Run → Run All Cells, and checked: every code
cell got an execution count, and no output is an error or anything else on stderr (a warning
counts too). One screenshot per notebook goes to build/e2e/. Notebook 04's explorer is then moved
with the keyboard and must redraw its figure.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import nbformat
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.e2e.conftest import ROOT, SHOTS

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
TRACKED = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in NOTEBOOKS}
STDERR = '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'
# every code cell of the open notebook shows an execution count: [12]
ALL_RUN = """() => {
  const cells = [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell')];
  const count = c => c.querySelector('.jp-InputPrompt').textContent;
  return cells.length > 0 && cells.every(c => /\\[\\d+\\]/.test(count(c)));
}"""
# the run has begun: a cell waits or runs ([*]), or every cell already has its count
BUSY_OR_DONE = """() => [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')]
  .some(p => p.textContent.includes('*')) || (""" + ALL_RUN + """)()"""


def open_notebook(browser, lab, path: Path):
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(lab.url)
               else route.abort())  # the lab must work with no network: nothing else is reachable
    page.goto(f"{lab.url}/lab/tree/notebooks/{path.name}?reset&token={lab.token}")
    # ready: every code cell of the file is on the page, and the status bar says the kernel is idle
    code_cells = sum(c.cell_type == "code" for c in nbformat.read(path, as_version=4).cells)
    page.wait_for_function(f"""() => document.querySelectorAll('.jp-NotebookPanel .jp-CodeCell').length
        === {code_cells} && /\\| Idle/.test(document.querySelector('#jp-main-statusbar').textContent)""",
                           timeout=180_000, polling=250)
    return page


def clear_outputs(page) -> None:
    """Edit → Clear Outputs of All Cells: the stored outputs and counts go, so what shows is new."""
    page.locator(".lm-MenuBar-itemLabel", has_text="Edit").first.click()
    page.locator(".lm-Menu-itemLabel", has_text="Clear Outputs of All Cells").first.click()
    page.wait_for_function("""() => [...document.querySelectorAll('.jp-CodeCell')].every(c =>
        !/\\d/.test(c.querySelector('.jp-InputPrompt').textContent)
        && c.querySelectorAll('.jp-OutputArea-output').length === 0)""", timeout=30_000)


def run_all(page) -> None:
    clear_outputs(page)
    for _ in range(3):  # a click while the lab is still settling can be lost: then click again
        page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
        page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
        try:
            page.wait_for_function(BUSY_OR_DONE, timeout=20_000, polling=100)
            break
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
    page.wait_for_function(ALL_RUN, timeout=600_000, polling=500)


def shut_down_kernels(lab) -> None:
    for session in lab.api("GET", "/api/sessions"):
        lab.api("DELETE", f"/api/sessions/{session['id']}")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_in_jupyterlab(browser, lab, path: Path) -> None:
    page = open_notebook(browser, lab, path)
    try:
        run_all(page)
        counts = page.eval_on_selector_all(".jp-CodeCell .jp-InputPrompt", "ps => ps.map(p => p.textContent)")
        # a fresh kernel numbered every cell once, in order: 1, 2, ..., N
        assert [int(c.strip("[]: ")) for c in counts] == list(range(1, len(counts) + 1)), counts
        errors = page.locator(STDERR).all_inner_texts()
        assert errors == [], f"{path.name}: error or stderr output in the lab:\n" + "\n---\n".join(errors)
        figure = page.locator(".jp-OutputArea-output img").first
        if figure.count():
            figure.scroll_into_view_if_needed()  # the screenshot shows the first plot
        page.screenshot(path=str(SHOTS / f"lab_{path.stem}.png"))
        if path.name.startswith("04_"):
            check_explorer(page)
    finally:
        page.close()
        shut_down_kernels(lab)


def check_explorer(page) -> None:
    """Moving a slider of 04's explorer retrains the example and draws it below the sliders."""
    assert page.locator(".widget-slider").count() == 4
    assert page.locator(".widget-output img").count() == 0  # creating the sliders draws nothing
    steps = page.locator(".widget-slider .noUi-handle").nth(2)
    steps.scroll_into_view_if_needed()
    steps.focus()
    steps.press("ArrowRight")  # steps 100 -> 110
    page.wait_for_selector(".widget-output img", timeout=60_000)
    text = page.locator(".widget-output").inner_text()
    assert "steps = 110" in text and "RMSE on observed" in text, text
    assert page.locator(STDERR).count() == 0
    page.locator(".widget-output img").scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "lab_04_explorer.png"))


def test_tracked_notebooks_did_not_change() -> None:
    """The runs above worked on a temporary copy: notebooks/ is exactly as it was."""
    assert {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in NOTEBOOKS} == TRACKED
