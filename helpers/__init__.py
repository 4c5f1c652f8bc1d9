"""Helpers for the notebook series 「PyTorchで学ぶ行列因子分解 / Matrix Factorization with PyTorch」.

Each function is written out first in the notebook that teaches it (named in its docstring);
this package keeps the reusable version for the later notebooks and the tests.
"""

from .data import init_factors, observed_mask, original_ratings
from .plotting import plot_loss, plot_matrix, use_japanese_font
from .seeding import set_seed, setup_notebook
from .training import (
    DivergenceError,
    TrainResult,
    masked_loss_grad,
    masked_squared_loss,
    reconstruct,
    train,
)

__all__ = [
    "DivergenceError",
    "TrainResult",
    "init_factors",
    "masked_loss_grad",
    "masked_squared_loss",
    "observed_mask",
    "original_ratings",
    "plot_loss",
    "plot_matrix",
    "reconstruct",
    "set_seed",
    "setup_notebook",
    "train",
    "use_japanese_font",
]
