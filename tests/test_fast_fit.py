"""The sparse-product gradients of `fit` equal autograd's on the gathered embeddings."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from helpers import BiasedMF, Ratings, make_synthetic, original_ratings
from helpers.training import _SparseBatch


def autograd_grads(model: BiasedMF, data: Ratings, reg: float) -> tuple[float, list[torch.Tensor]]:
    """The loss of `fit` written plainly with autograd; returns (loss, gradients)."""
    u, i = torch.as_tensor(data.users), torch.as_tensor(data.items)
    y = torch.as_tensor(data.ratings, dtype=model.global_mean.dtype)
    pu, qi = model.user_factors(u), model.item_factors(i)
    bu, bi = model.user_bias(u)[:, 0], model.item_bias(i)[:, 0]
    err = model.global_mean + bu + bi + (pu * qi).sum(-1) - y
    penalty = (pu.square().sum(-1) + qi.square().sum(-1) + bu.square() + bi.square()).mean()
    loss = err.square().mean() + reg * penalty
    return loss.item(), list(torch.autograd.grad(loss, weights_of(model)))


def weights_of(model: BiasedMF) -> list[torch.Tensor]:
    return [model.user_factors.weight, model.item_factors.weight, model.user_bias.weight,
            model.item_bias.weight]


@pytest.mark.parametrize("which", ["toy", "synthetic"])
def test_sparse_gradients_equal_autograd(which: str) -> None:
    data = Ratings.from_dense(original_ratings()) if which == "toy" else \
        make_synthetic(40, 30, 500, rank=3, min_ratings=5, seed=2)[0]
    model = BiasedMF(data.n_users, data.n_items, 3, global_mean=3.0, init_std=0.5, dtype=torch.float64)
    with torch.no_grad():  # non-zero biases, so every term is exercised
        model.user_bias.weight.normal_(0, 0.3)
        model.item_bias.weight.normal_(0, 0.3)
    expected_loss, expected = autograd_grads(model, data, reg=0.1)
    batch = _SparseBatch(data, (model.n_users, model.n_items), torch.float64)
    loss = batch.loss_and_grads(model, reg=0.1)
    weights = weights_of(model)
    assert loss == pytest.approx(expected_loss, rel=1e-12)
    for weight, grad in zip(weights, expected, strict=True):
        assert torch.allclose(weight.grad, grad, rtol=1e-10, atol=1e-12)


def run_fresh(code: str) -> subprocess.CompletedProcess[str]:
    """Run code in a fresh interpreter with every warning turned into an error.

    Torch raises its CSR beta notice once per process, so each check needs a new process.
    """
    return subprocess.run([sys.executable, "-W", "error", "-c", code], capture_output=True, text=True,
                          timeout=120)


def test_only_the_csr_beta_notice_is_silenced() -> None:
    """`fit`'s filter hides torch's CSR beta notice (and only it): without it the notice is raised."""
    make = "torch.tensor([0, 1]), torch.tensor([0]), torch.tensor([1.0]), (1, 1)"
    plain = run_fresh(f"import torch; torch.sparse_csr_tensor({make}, check_invariants=False)")
    assert plain.returncode != 0 and "beta" in plain.stderr
    # One process: our helper must pass under -W error, then an unrelated warning must still raise.
    ours = run_fresh(f"import torch, warnings; from helpers.training import _csr; _csr({make}); "
                     "warnings.warn('another warning', UserWarning)")
    assert "beta" not in ours.stderr, ours.stderr
    assert ours.returncode != 0 and "another warning" in ours.stderr
