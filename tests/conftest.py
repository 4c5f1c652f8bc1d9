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
