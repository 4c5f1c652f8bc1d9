"""JupyterLab in Japanese: the language pack from requirements.txt switches the interface, as the README says.

In a lab of its own (fixture `lab_ja`: its own settings folder, so the lab of test_lab.py keeps its
English menus), the test clicks Settings → Language → "Japanese (Japan) - 日本語 (日本)", accepts the
reload ("Change and reload"), and checks that the menu bar is in Japanese (ファイル, 編集, 設定 ...);
a screenshot with notebook 00 open goes to build/e2e/lab_japanese.png. It then goes back with
設定 → 言語 → 「英語 - English」 (変更して再読込み) and checks the English menus.
"""

from __future__ import annotations

import re

from tests.e2e.conftest import SHOTS

# the labels the language pack gives the main menus (jupyterlab.json, context "menu")
JAPANESE_MENUS = ["ファイル", "編集", "表示", "実行", "カーネル", "タブ", "設定", "ヘルプ"]
ENGLISH_MENUS = ["File", "Edit", "View", "Run", "Kernel", "Tabs", "Settings", "Help"]
MENU_BAR = ".lm-MenuBar-itemLabel"
SHOT = SHOTS / "lab_japanese.png"


def _whole(label: str) -> re.Pattern[str]:
    return re.compile(f"^{re.escape(label)}$")


def menu_labels(page) -> list[str]:
    return [label.strip() for label in page.locator(MENU_BAR).all_inner_texts()]


def wait_for_menus(page, labels: list[str]) -> None:
    """The menu bar shows exactly these labels first (after a reload the lab builds it anew)."""
    expected = "|".join(labels)
    page.wait_for_function(f"""() => [...document.querySelectorAll('{MENU_BAR}')]
        .map(e => e.textContent.trim()).slice(0, {len(labels)}).join('|') === {expected!r}""",
                           timeout=120_000, polling=250)


def choose_language(page, settings: str, language: str, item: str, reload: str) -> None:
    """<settings> menu → <language> submenu → the item <item>, then <reload> in the dialog.

    Labels are matched whole: a substring would also find "Install more languages…".
    """
    page.locator(MENU_BAR, has_text=_whole(settings)).click()
    page.locator(".lm-Menu-itemLabel", has_text=_whole(language)).click()  # opens the submenu
    page.locator(".lm-Menu-itemLabel", has_text=_whole(item)).click()
    dialog = page.locator(".jp-Dialog")
    dialog.wait_for(timeout=30_000)
    with page.expect_navigation(timeout=60_000):  # the lab reloads itself with the new locale
        dialog.locator("button", has_text=reload).click()


def test_lab_switches_to_japanese_and_back(browser, lab_ja) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(lab_ja.url)
               else route.abort())  # the language pack must work with no network
    try:
        languages = lab_ja.api("GET", "/lab/api/translations")["data"]
        assert "ja_JP" in languages, ("日本語の言語パックがありません（make lab で入ります）/ "
                                      f"no Japanese language pack (make lab installs it): {languages}")
        page.goto(f"{lab_ja.url}/lab/tree/notebooks/00_index.ipynb?reset&token={lab_ja.token}")
        wait_for_menus(page, ENGLISH_MENUS)

        choose_language(page, "Settings", "Language", "Japanese (Japan) - 日本語 (日本)", "Change and reload")
        wait_for_menus(page, JAPANESE_MENUS)
        page.locator(".jp-NotebookPanel .jp-MarkdownCell").first.wait_for(timeout=120_000)
        page.wait_for_timeout(1000)  # let the notebook's fonts and layout settle before the picture
        page.screenshot(path=str(SHOT))
        assert menu_labels(page)[:len(JAPANESE_MENUS)] == JAPANESE_MENUS
        setting = lab_ja.api("GET", "/lab/api/settings/@jupyterlab/translation-extension:plugin")
        assert setting["settings"]["locale"] == "ja_JP", setting["settings"]

        # back to English, as the README says: 設定 → 言語 → English
        choose_language(page, "設定", "言語", "英語 - English", "変更して再読込み")
        wait_for_menus(page, ENGLISH_MENUS)
    finally:
        page.close()
        for session in lab_ja.api("GET", "/api/sessions"):
            lab_ja.api("DELETE", f"/api/sessions/{session['id']}")
