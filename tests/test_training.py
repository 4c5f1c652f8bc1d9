"""Tests of `helpers.training`: the loop against the original post, the loss and its gradient."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from torch import optim

from helpers import (
    DivergenceError,
    TrainResult,
    init_factors,
    masked_loss_grad,
    masked_squared_loss,
    reconstruct,
    train,
)
from tests.bilingual import assert_bilingual

# --- the original post's loop, written out plainly ----------------------------------------------


def original_loop(seed: int, optimizer: str, lr: float) -> tuple[list[float], torch.Tensor, torch.Tensor]:
    """The loop of the original post (seeded), with Adam or plain SGD."""
    R = np.array([[1, 1, 0, 3], [2, 5, 0, 5], [3, 1, 2, 2], [0, 1, 3, 0], [1, 0, 3, 1]], dtype=np.float64)
    rows, cols = R.shape
    r = 2
    np.random.seed(seed)
    P = np.random.rand(r, rows)
    Q = np.random.rand(r, cols)
    Rt = torch.tensor(R, requires_grad=True)
    Pt = torch.tensor(P, requires_grad=True)
    Qt = torch.tensor(Q, requires_grad=True)
    if optimizer == "adam":
        op = optim.Adam([Pt, Qt], lr=lr)
    else:
        op = optim.SGD([Pt, Qt], lr=lr)
    arr = []
    for _ in range(100):
        non_zero_mask = Rt != 0
        filtered = (Rt - Pt.T @ Qt) * non_zero_mask
        loss = torch.sum(torch.square(filtered))
        arr.append(loss.item())
        op.zero_grad()
        loss.backward()
        op.step()
    return arr, Pt.detach(), Qt.detach()


@pytest.mark.parametrize(("optimizer", "lr"), [("adam", 0.05), ("sgd", 0.01)])
@pytest.mark.parametrize("seed", [0, 1, 2024])
def test_train_reproduces_the_original_loop_exactly(seed: int, optimizer: str, lr: float) -> None:
    """Same seed → the very same loss digits and final factors as the original loop."""
    expected_losses, expected_P, expected_Q = original_loop(seed, optimizer, lr)

    R = np.array([[1, 1, 0, 3], [2, 5, 0, 5], [3, 1, 2, 2], [0, 1, 3, 0], [1, 0, 3, 1]], dtype=np.float64)
    result = train(R, *init_factors(2, 5, 4, seed=seed), lr=lr, optimizer=optimizer)

    assert result.losses == expected_losses  # exact, not approximate
    assert torch.equal(result.P, expected_P)
    assert torch.equal(result.Q, expected_Q)


# --- train ----------------------------------------------------------------------------------------

R0 = np.array([[1, 1, 0, 3], [2, 5, 0, 5], [3, 1, 2, 2], [0, 1, 3, 0], [1, 0, 3, 1]], dtype=np.float64)


@pytest.mark.parametrize("kind", ["numpy", "tensor"])
def test_train_leaves_its_inputs_alone(kind: str) -> None:
    """`train` copies P and Q: the caller's arrays/tensors keep their values."""
    P_np, Q_np = init_factors(2, 5, 4, seed=3)
    P_before, Q_before = P_np.copy(), Q_np.copy()
    if kind == "tensor":
        P, Q = torch.tensor(P_np, requires_grad=True), torch.tensor(Q_np, requires_grad=True)
    else:
        P, Q = P_np, Q_np

    train(R0, P, Q, steps=20)

    if kind == "tensor":
        assert torch.equal(P.detach(), torch.tensor(P_before)) and P.grad is None
        assert torch.equal(Q.detach(), torch.tensor(Q_before)) and Q.grad is None
    else:
        np.testing.assert_array_equal(P, P_before)
        np.testing.assert_array_equal(Q, Q_before)


@pytest.mark.parametrize("steps", [1, 7, 100])
def test_train_result_shape(steps: int) -> None:
    """A `TrainResult` with one loss per step and float64 factors of the input shapes."""
    result = train(R0, *init_factors(2, 5, 4, seed=0), steps=steps)
    assert isinstance(result, TrainResult)
    assert len(result.losses) == steps
    assert all(isinstance(value, float) for value in result.losses)
    assert result.P.shape == (2, 5) and result.Q.shape == (2, 4)
    assert result.P.dtype == result.Q.dtype == torch.float64
    assert not result.P.requires_grad and not result.Q.requires_grad


def test_reconstruction_is_PT_Q() -> None:
    """`TrainResult.reconstruction()` and `reconstruct` give PᵀQ as float64 NumPy."""
    result = train(R0, *init_factors(2, 5, 4, seed=0), steps=10)
    expected = result.P.numpy().T @ result.Q.numpy()
    for reconstruction in (result.reconstruction(), reconstruct(result.P, result.Q)):
        assert isinstance(reconstruction, np.ndarray) and reconstruction.dtype == np.float64
        assert reconstruction.shape == R0.shape
        np.testing.assert_allclose(reconstruction, expected, rtol=1e-14, atol=0)


def test_loss_decreases_in_the_original_setting() -> None:
    """Adam, lr=0.05, 100 steps: the fit gets much better, and the recorded loss is the real one."""
    P, Q = init_factors(2, 5, 4, seed=0)
    losses = train(R0, P, Q).losses
    assert losses[0] == pytest.approx(masked_squared_loss(R0, P, Q).item(), rel=1e-12)
    assert losses[-1] < 0.1 * losses[0]
    assert min(losses[-10:]) < min(losses[:10])


def test_reg_adds_the_l2_penalty_and_shrinks_the_factors() -> None:
    """reg = 0 is the original loop; reg > 0 records loss + reg·(‖P‖² + ‖Q‖²) and shrinks the factors."""
    P, Q = init_factors(2, 5, 4, seed=0)
    plain, zero = train(R0, P, Q, steps=50), train(R0, P, Q, steps=50, reg=0.0)
    assert plain.losses == zero.losses and torch.equal(plain.P, zero.P)
    penalized = train(R0, P, Q, steps=50, reg=0.5)
    penalty = 0.5 * (np.square(P).sum() + np.square(Q).sum())
    assert penalized.losses[0] == pytest.approx(masked_squared_loss(R0, P, Q).item() + penalty, rel=1e-12)
    strong = train(R0, P, Q, steps=300, reg=2.0)
    assert strong.P.norm() + strong.Q.norm() < train(R0, P, Q, steps=300).P.norm() + \
        train(R0, P, Q, steps=300).Q.norm()


@pytest.mark.parametrize("reg", [-0.1, float("nan"), "1", True])
def test_bad_reg_is_a_clear_error(reg: object) -> None:
    with pytest.raises(ValueError, match="reg.*regularization weight"):
        train(R0, *init_factors(2, 5, 4, seed=0), reg=reg)


def test_custom_optimizer_factory() -> None:
    """A function `(params, lr) -> Optimizer` is called once with the two leaf factors and `lr`."""
    calls = []

    def factory(params: list[torch.Tensor], lr: float) -> torch.optim.Optimizer:
        calls.append((params, lr))
        return optim.SGD(params, lr=lr, momentum=0.5)

    result = train(R0, *init_factors(2, 5, 4, seed=0), lr=0.01, steps=30, optimizer=factory)

    assert len(calls) == 1
    params, lr = calls[0]
    assert lr == 0.01
    assert [tuple(p.shape) for p in params] == [(2, 5), (2, 4)]
    assert all(p.requires_grad and p.is_leaf for p in params)
    assert len(result.losses) == 30 and result.losses[-1] < result.losses[0]


def test_nan_left_by_the_last_step_is_an_error() -> None:
    """No loss follows the last step, so `train` checks P and Q once at the end: a step that leaves
    NaN behind (here an optimizer that writes it) is an error, not a returned result."""

    class WritesNaN(optim.SGD):
        def step(self, closure: object = None) -> None:
            with torch.no_grad():
                self.param_groups[0]["params"][0][0, 0] = float("nan")

    with pytest.raises(DivergenceError) as err:
        train(R0, *init_factors(2, 5, 4, seed=0), steps=1, optimizer=lambda p, lr: WritesNaN(p, lr=lr))
    assert isinstance(err.value, ValueError) and len(err.value.losses) == 1
    assert_bilingual(err)
    assert "lr=" in str(err.value)


# --- properties of the masked loss (hypothesis) ---------------------------------------------------

FAST = settings(max_examples=50, deadline=None)


@st.composite
def problems(draw: st.DrawFn, positive: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(R, P, Q): R rows × cols with some zeros (= missing) and ≥ 1 observed entry; P, Q rank r."""
    rows, cols = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    rank = draw(st.integers(1, 3))
    low = 0.1 if positive else -2.0
    factor = st.floats(low, 2.0, allow_nan=False, allow_infinity=False)
    P = draw(hnp.arrays(np.float64, (rank, rows), elements=factor))
    Q = draw(hnp.arrays(np.float64, (rank, cols), elements=factor))
    rating = st.one_of(st.just(0.0), st.floats(-5.0, 5.0, allow_nan=False, allow_infinity=False))
    R = draw(hnp.arrays(np.float64, (rows, cols), elements=rating))
    assume((R != 0).any())
    return R, P, Q


@FAST
@given(problems(), st.integers(0, 2**32 - 1))
def test_loss_only_sees_observed_entries(problem: tuple[np.ndarray, ...], noise_seed: int) -> None:
    """The loss is the NumPy sum over observed entries, whatever PᵀQ is at missing entries."""
    R, P, Q = problem
    missing = R == 0
    prediction = P.T @ Q
    noisy = prediction + missing * np.random.default_rng(noise_seed).normal(0, 100, R.shape)

    loss = masked_squared_loss(R, P, Q).item()

    for pred in (prediction, noisy):
        expected = (((R - pred) * (R != 0)) ** 2).sum()
        assert loss == pytest.approx(expected, rel=1e-12, abs=1e-12)


@FAST
@given(problems(positive=True), st.data())
def test_loss_is_zero_on_an_exact_factorization(problem: tuple[np.ndarray, ...], data: st.DataObject) -> None:
    """R = PᵀQ on its observed entries (the rest set to 0 = missing) → loss 0 up to rounding."""
    _, P, Q = problem
    R = P.T @ Q  # positive entries, so none is mistaken for "missing"
    drop = data.draw(hnp.arrays(np.bool_, R.shape))
    drop.flat[data.draw(st.integers(0, R.size - 1))] = False  # keep at least one observed
    R[drop] = 0.0

    loss = masked_squared_loss(R, P, Q).item()

    assert 0.0 <= loss <= 1e-18 * max(1.0, (R**2).sum())


@FAST
@given(problems())
def test_hand_gradient_matches_autograd(problem: tuple[np.ndarray, ...]) -> None:
    """`masked_loss_grad` (by hand) equals autograd's gradient of `masked_squared_loss`."""
    R, P, Q = problem
    Pt = torch.tensor(P, requires_grad=True)
    Qt = torch.tensor(Q, requires_grad=True)
    masked_squared_loss(R, Pt, Qt).backward()

    grad_P, grad_Q = masked_loss_grad(R, P, Q)

    for by_hand, auto in ((grad_P, Pt.grad), (grad_Q, Qt.grad)):
        assert by_hand.dtype == torch.float64 and by_hand.shape == auto.shape
        scale = max(1.0, auto.abs().max().item())
        assert torch.allclose(by_hand, auto, rtol=1e-9, atol=1e-9 * scale)
