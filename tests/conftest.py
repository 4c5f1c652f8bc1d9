"""Shared test setup: a headless matplotlib backend, closed figures, restored torch threads."""

from __future__ import annotations

from collections.abc import Iterator

import matplotlib

matplotlib.use("Agg")  # before pyplot is imported anywhere: no display needed

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    """Close every figure a test opened, so figures do not pile up across tests."""
    yield
    plt.close("all")


@pytest.fixture
def restore_threads() -> Iterator[None]:
    """Put torch's thread count back after a test that calls `set_seed`."""
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--e2e", action="store_true",
                     help="also run the browser tests in tests/e2e (make e2e: needs chromium)")


def pytest_ignore_collect(collection_path, config: pytest.Config) -> bool | None:
    """The browser tests run only when asked (`make e2e`): they need Debian's chromium and fonts."""
    if "e2e" in collection_path.parts and not config.getoption("--e2e"):
        return True
    return None
