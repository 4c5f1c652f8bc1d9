"""Reproducibility: one call seeds every random source and fixes the thread count (01)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import torch

from ._checks import check_seed


def set_seed(seed: int = 0) -> None:
    """Seed Python, NumPy and torch, and run torch on one thread for reproducible digits. (01)"""
    seed = check_seed(seed)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    # Several threads may sum in a different order and change the last digits.
    torch.set_num_threads(1)


@contextmanager
def one_thread() -> Iterator[None]:
    """Run torch on one thread inside the block, as the notebooks do; the caller's count comes back.

    Used where code outside a notebook must reproduce a notebook's digits (the exercise checkers).
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def setup_notebook(seed: int = 0) -> None:
    """The uniform setup of every notebook: seeds, one thread, print precision, fonts. (01)"""
    from .plotting import use_japanese_font

    set_seed(seed)
    np.set_printoptions(precision=4, suppress=True)
    torch.set_printoptions(precision=4, sci_mode=False)
    use_japanese_font()
