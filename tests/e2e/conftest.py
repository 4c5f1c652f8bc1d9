"""Browser tests (`make e2e`): Playwright drives Debian's Chromium; never `playwright install`.

The fixtures start what the tests need and stop it again: JupyterLab on 127.0.0.1 with a random
token, over a temporary copy of the series (running cells autosaves, and the tracked notebooks must
not change), stopped by the PID this session started; the browser is closed the same way. Each lab
has its own settings folder: `lab` stays in English for test_lab.py's menu paths, and `lab_ja` is
the one test_lab_japanese.py switches to Japanese.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from helpers.distributed import _free_port  # the same ask-the-OS port the workers use

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
SHOTS = ROOT / "build" / "e2e"
BOOK = ROOT / "build" / "html"


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} がありません。make e2e で入れてください / "
                    f"{CHROMIUM} is missing: run make e2e "
                    "(it installs Debian's chromium and fonts-noto-cjk)")
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        # --no-sandbox: CI containers run as root, where Chromium's sandbox cannot start
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield chromium
        chromium.close()


@dataclass
class Lab:
    url: str
    token: str
    work: Path  # the temporary copy the server serves

    def api(self, method: str, path: str) -> object:
        request = urllib.request.Request(f"{self.url}{path}", method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read()
        return json.loads(body) if body else None


def _settings(folder: Path) -> None:
    """Lab settings for a test run: every cell in the page, no news or update checks (no network)."""
    for name, values in {"notebook-extension/tracker": {"windowingMode": "none"},
                         "apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False}
                         }.items():
        path = folder / "@jupyterlab" / f"{name}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values), encoding="utf-8")


@contextmanager
def _running_lab(log_name: str) -> Iterator[Lab]:
    """A JupyterLab server of its own: temporary copy, settings, workspaces and runtime folders."""
    from tools.workcopy import sync_copy

    tmp = Path(tempfile.mkdtemp(prefix="mf-e2e-"))
    sync_copy(ROOT / "notebooks", tmp / "notebooks")
    _settings(tmp / "settings")
    port, token = _free_port(), secrets.token_hex(16)
    env = {**os.environ, "JUPYTERLAB_SETTINGS_DIR": str(tmp / "settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(tmp / "workspaces"), "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"),
           "JUPYTER_CONFIG_DIR": str(tmp / "config")}
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
               f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
               f"--ServerApp.root_dir={tmp}"]
    if hasattr(os, "getuid") and os.getuid() == 0:
        command.append("--allow-root")  # containers run as root; Jupyter refuses that unless told
    SHOTS.mkdir(parents=True, exist_ok=True)
    log = (SHOTS / log_name).open("w", encoding="utf-8")
    server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=tmp)
    handle = Lab(f"http://127.0.0.1:{port}", token, tmp)
    # a CI time-out sends SIGTERM: unwind through `finally` so that the server is stopped even then
    previous = signal.signal(signal.SIGTERM, lambda *_: sys.exit("SIGTERM"))
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                handle.api("GET", "/api/status")
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not start; see {SHOTS / log_name}")
                time.sleep(0.5)
        yield handle
    finally:
        server.terminate()  # our own PID only: SIGTERM makes the server shut its kernels down
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
        log.close()
        signal.signal(signal.SIGTERM, previous)
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="session")
def lab() -> Iterator[Lab]:
    with _running_lab("jupyterlab.log") as handle:
        yield handle


@pytest.fixture(scope="module")
def lab_ja() -> Iterator[Lab]:
    """A second lab, with settings of its own, for switching the interface to Japanese: the language
    is a user setting, and `lab` must keep its English menus (test_lab.py clicks Run → Run All Cells)."""
    with _running_lab("jupyterlab_japanese.log") as handle:
        yield handle


@pytest.fixture(scope="session")
def book() -> Path:
    """The HTML book (`make html` builds it first; built here when missing)."""
    if not (BOOK / "book.json").exists():
        from tools.book import build

        build(BOOK)
    return BOOK
