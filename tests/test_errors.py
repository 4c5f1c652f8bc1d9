"""Bad input: every public function fails early, with a Japanese + English message naming the argument."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch
from torch import optim

from helpers import (
    DivergenceError,
    init_factors,
    masked_loss_grad,
    masked_squared_loss,
    observed_mask,
    original_ratings,
    plot_loss,
    plot_matrix,
    reconstruct,
    set_seed,
    train,
)
from tests.bilingual import assert_bilingual

R0 = original_ratings()
P0, Q0 = init_factors(2, 5, 4, seed=0)




# --- matrices: R, M, P, Q --------------------------------------------------------------------------

BAD_MATRICES = [
    pytest.param(np.ones(4), ValueError, "must be 2-D", id="1-D"),
    pytest.param(np.ones((2, 3, 4)), ValueError, "must be 2-D", id="3-D"),
    pytest.param(np.ones((0, 4)), ValueError, "is empty", id="no-rows"),
    pytest.param(np.ones((3, 0)), ValueError, "is empty", id="no-cols"),
    pytest.param([["1", "2"], ["3", "4"]], TypeError, "real numbers", id="strings"),
    pytest.param("1 2; 3 4", TypeError, "2-D array of numbers", id="str"),
    pytest.param(np.array([[1, None]], dtype=object), TypeError, "real numbers", id="object"),
    pytest.param(None, TypeError, "2-D array of numbers", id="None"),
    pytest.param({"a": [1, 2]}, TypeError, "2-D array of numbers", id="dict"),
    pytest.param(np.ones((2, 2), dtype=bool), TypeError, "True/False", id="bool"),
    pytest.param(torch.ones(2, 2, dtype=torch.bool), TypeError, "real-valued tensor", id="bool-tensor"),
    pytest.param(np.ones((2, 2), dtype=complex), TypeError, "real numbers", id="complex"),
    pytest.param([[1.0, np.nan], [2.0, 3.0]], ValueError, "NaN", id="nan"),
    pytest.param([[1.0, np.inf], [2.0, 3.0]], ValueError, "infinite", id="inf"),
    pytest.param([[1, 2], [3]], ValueError, "same length", id="ragged"),
]

# (call with the bad value, name of the argument it is passed as)
MATRIX_TAKERS: list[Any] = [
    pytest.param(lambda bad: observed_mask(bad), "R", id="observed_mask"),
    pytest.param(lambda bad: masked_squared_loss(bad, P0, Q0), "R", id="loss-R"),
    pytest.param(lambda bad: masked_loss_grad(bad, P0, Q0), "R", id="grad-R"),
    pytest.param(lambda bad: train(R0, bad, Q0), "P", id="train-P"),
    pytest.param(lambda bad: train(bad, P0, Q0), "R", id="train-R"),
    pytest.param(lambda bad: train(R0, P0, bad), "Q", id="train-Q"),
    pytest.param(lambda bad: reconstruct(bad, Q0), "P", id="reconstruct-P"),
    pytest.param(lambda bad: reconstruct(P0, bad), "Q", id="reconstruct-Q"),
    pytest.param(lambda bad: plot_matrix(bad), "M", id="plot_matrix"),
]


@pytest.mark.parametrize(("call", "name"), MATRIX_TAKERS)
@pytest.mark.parametrize(("bad", "error", "match"), BAD_MATRICES)
def test_bad_matrix(call: Callable[[Any], Any], name: str, bad: Any, error: type, match: str) -> None:
    """Not a finite, non-empty 2-D array of real numbers → a clear error about that argument."""
    with pytest.raises(error, match=match) as err:
        call(bad)
    assert_bilingual(err, name)


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda R: masked_squared_loss(R, P0, Q0), id="loss"),
        pytest.param(lambda R: masked_loss_grad(R, P0, Q0), id="grad"),
        pytest.param(lambda R: train(R, P0, Q0), id="train"),
    ],
)
def test_no_observed_entry(call: Callable[[Any], Any]) -> None:
    """All zeros = nothing observed = nothing to fit."""
    with pytest.raises(ValueError, match="no observed entry") as err:
        call(np.zeros((5, 4)))
    assert_bilingual(err, "R")


@pytest.mark.parametrize(
    ("P_shape", "Q_shape", "match"),
    [
        pytest.param((2, 4), (2, 4), "do not fit", id="P-wrong-rows"),
        pytest.param((2, 5), (2, 5), "do not fit", id="Q-wrong-cols"),
        pytest.param((5, 2), (4, 2), "transposed", id="transposed"),
        pytest.param((2, 5), (3, 4), "different ranks", id="ranks-differ"),
    ],
)
@pytest.mark.parametrize("function", [masked_squared_loss, masked_loss_grad, train])
def test_factors_that_do_not_fit_R(
    function: Callable[..., Any], P_shape: tuple[int, int], Q_shape: tuple[int, int], match: str
) -> None:
    """P must be (r, rows) and Q (r, cols) for the same r."""
    with pytest.raises(ValueError, match=match) as err:
        function(R0, np.ones(P_shape), np.ones(Q_shape))
    assert_bilingual(err, "P", "Q")


def test_reconstruct_with_different_ranks() -> None:
    """P and Q must have the same number of rows (the rank)."""
    with pytest.raises(ValueError, match="same number of rows") as err:
        reconstruct(np.ones((2, 5)), np.ones((3, 4)))
    assert_bilingual(err, "P", "Q")


# --- scalars: rank, rows, cols, lr, steps, optimizer, seed -----------------------------------------

BAD_COUNTS = [
    pytest.param(0, ValueError, "at least 1", id="0"),
    pytest.param(-1, ValueError, "at least 1", id="-1"),
    pytest.param(2.5, TypeError, "positive integer", id="2.5"),
    pytest.param(2.0, TypeError, "positive integer", id="2.0"),
    pytest.param(True, TypeError, "positive integer", id="True"),
    pytest.param("2", TypeError, "positive integer", id="str"),
    pytest.param(None, TypeError, "positive integer", id="None"),
]


@pytest.mark.parametrize("position", [0, 1, 2])
@pytest.mark.parametrize(("bad", "error", "match"), BAD_COUNTS)
def test_init_factors_bad_sizes(position: int, bad: Any, error: type, match: str) -> None:
    """`rank`, `rows` and `cols` must be positive integers (not bool, not float)."""
    args: list[Any] = [2, 5, 4]
    args[position] = bad
    with pytest.raises(error, match=match) as err:
        init_factors(*args)
    assert_bilingual(err, ("rank", "rows", "cols")[position])


@pytest.mark.parametrize(("bad", "error", "match"), BAD_COUNTS)
def test_train_bad_steps(bad: Any, error: type, match: str) -> None:
    """`steps` must be a positive integer."""
    with pytest.raises(error, match=match) as err:
        train(R0, P0, Q0, steps=bad)
    assert_bilingual(err, "steps")


@pytest.mark.parametrize(
    ("bad", "error"),
    [
        pytest.param(0, ValueError, id="0"),
        pytest.param(-0.05, ValueError, id="negative"),
        pytest.param(float("nan"), ValueError, id="nan"),
        pytest.param(float("inf"), ValueError, id="inf"),
        pytest.param("0.05", TypeError, id="str"),
        pytest.param(True, TypeError, id="True"),
        pytest.param(None, TypeError, id="None"),
    ],
)
def test_train_bad_lr(bad: Any, error: type) -> None:
    """`lr` must be a finite number > 0."""
    with pytest.raises(error, match=r"learning rate\) must be") as err:
        train(R0, P0, Q0, lr=bad)
    assert_bilingual(err, "lr")


@pytest.mark.parametrize(
    ("bad", "error", "match"),
    [
        pytest.param("adamw", ValueError, "Unknown `optimizer` 'adamw'", id="unknown"),
        pytest.param("Adam", ValueError, "Unknown `optimizer`", id="capitalised"),
        pytest.param(3, TypeError, "string or a function", id="int"),
        pytest.param(None, TypeError, "string or a function", id="None"),
        pytest.param(optim.Adam([torch.zeros(1, requires_grad=True)]), TypeError, "string or a function",
                     id="optimizer-instance"),
    ],
)
def test_train_bad_optimizer(bad: Any, error: type, match: str) -> None:
    """`optimizer` is "adam", "sgd" or a factory function; anything else is refused."""
    with pytest.raises(error, match=match) as err:
        train(R0, P0, Q0, optimizer=bad)
    assert_bilingual(err, "optimizer")


def test_train_checks_everything_before_building_the_optimizer() -> None:
    """Bad `steps` is reported before any optimizer is made or any step is taken."""
    built = []
    with pytest.raises(ValueError):
        train(R0, P0, Q0, steps=0, optimizer=lambda params, lr: built.append(1))
    assert built == []


@pytest.mark.parametrize(
    ("bad", "error"),
    [
        pytest.param(-1, ValueError, id="negative"),
        pytest.param(2**32, ValueError, id="too-large"),
        pytest.param(2.5, TypeError, id="float"),
        pytest.param("0", TypeError, id="str"),
        pytest.param(True, TypeError, id="True"),
        pytest.param(None, TypeError, id="None"),
    ],
)
@pytest.mark.usefixtures("restore_threads")
def test_set_seed_bad_seed(bad: Any, error: type | tuple[type, ...]) -> None:
    """`seed` must be an int in [0, 2**32): TypeError for the type, ValueError for the range."""
    with pytest.raises(error, match=r"must be (an integer|in \[0, 2\*\*32\))") as err:
        set_seed(bad)
    assert_bilingual(err, "seed")


# --- training that diverges -------------------------------------------------------------------------


def _nan_sgd(params: list[torch.Tensor], lr: float) -> optim.Optimizer:
    """An optimizer whose first step makes every factor NaN."""
    return optim.SGD(params, lr=float("nan"))


@pytest.mark.parametrize(
    ("kwargs", "value"),
    [
        pytest.param({"optimizer": "sgd", "lr": 10.0}, "inf", id="sgd-lr-10-inf"),
        pytest.param({"optimizer": _nan_sgd}, "nan", id="nan"),
    ],
)
def test_divergence(kwargs: dict[str, Any], value: str) -> None:
    """A NaN/inf loss stops training with `DivergenceError` (a ValueError) saying: lower the lr."""
    assert issubclass(DivergenceError, ValueError)
    with pytest.raises(DivergenceError, match=f"loss became {value}.*Lower the learning rate") as err:
        train(R0, P0, Q0, **kwargs)
    assert "学習率を下げて" in str(err.value)
    assert_bilingual(err)


# --- plots --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param([], id="empty"),
        pytest.param(np.array([]), id="empty-array"),
        pytest.param([[1.0, 2.0], [3.0, 4.0]], id="2-D"),
        pytest.param(["a", "b"], id="strings"),
        pytest.param("abc", id="str"),
        pytest.param(3.0, id="scalar"),
        pytest.param(None, id="None"),
    ],
)
def test_plot_loss_bad_losses(bad: Any) -> None:
    """`losses` must be a non-empty 1-D sequence of numbers."""
    with pytest.raises(ValueError, match="non-empty 1-D list") as err:
        plot_loss(bad)
    assert_bilingual(err, "losses")


@pytest.mark.parametrize("shape", [(4, 5), (5, 3), (20,)])
def test_plot_matrix_observed_of_wrong_shape(shape: tuple[int, ...]) -> None:
    """`observed` must have the shape of `M`."""
    with pytest.raises(ValueError, match="`observed` must be an array of the same shape") as err:
        plot_matrix(R0, observed=np.ones(shape, dtype=bool))
    assert_bilingual(err, "observed", "M")


# --- formerly known gaps (found by these tests, since fixed) -------------------------------------


@pytest.mark.parametrize(
    ("bad", "error"),
    [(-1, ValueError), (2**32, ValueError), (2.5, TypeError), ("0", TypeError), (True, TypeError)],
)
def test_init_factors_bad_seed(bad: Any, error: type) -> None:
    """A bad `seed` gets the same kind of bilingual error as a bad `rank`, not NumPy's."""
    with pytest.raises(error) as err:
        init_factors(2, 5, 4, seed=bad)
    assert_bilingual(err, "seed")


def test_init_factors_accepts_numpy_integer_seed() -> None:
    P, Q = init_factors(2, 5, 4, seed=np.int64(3))
    assert np.array_equal(P, init_factors(2, 5, 4, seed=3)[0])


@pytest.mark.parametrize(
    ("M", "observed"),
    [
        pytest.param(np.zeros((2, 3)), None, id="all-zero"),
        pytest.param(R0, np.zeros((5, 4), dtype=bool), id="observed-all-false"),
    ],
)
def test_plot_matrix_nothing_observed(M: np.ndarray, observed: Any) -> None:
    """With no observed cell, every cell shows "?" (no error from inside NumPy)."""
    ax = plot_matrix(M, observed=observed)
    assert [t.get_text() for t in ax.texts].count("?") == np.asarray(M).size


def test_plot_matrix_ragged_observed() -> None:
    with pytest.raises(ValueError, match="same shape") as err:
        plot_matrix(R0, observed=[[1, 0], [1]])
    assert_bilingual(err, "observed")


@pytest.mark.parametrize("dtypes", [(torch.float32, torch.float64), (torch.float64, torch.float32)])
def test_loss_with_mixed_float_dtypes(dtypes: tuple[torch.dtype, torch.dtype]) -> None:
    """Mixed float32/float64 factors are promoted; loss and gradient match the float64 ones."""
    P_t, Q_t = torch.tensor(P0, dtype=dtypes[0]), torch.tensor(Q0, dtype=dtypes[1])
    loss = masked_squared_loss(R0, P_t, Q_t)
    assert loss.item() == pytest.approx(masked_squared_loss(R0, P0, Q0).item(), rel=1e-5)
    grad_P, _ = masked_loss_grad(R0, P_t, Q_t)
    assert torch.allclose(grad_P, masked_loss_grad(R0, P0, Q0)[0], rtol=1e-4)


def test_optimizer_function_must_return_an_optimizer() -> None:
    with pytest.raises(TypeError, match="not a torch.optim.Optimizer") as err:
        train(R0, P0, Q0, optimizer=lambda params, lr: None)
    assert_bilingual(err, "optimizer")


def test_divergence_keeps_the_losses_so_far() -> None:
    with pytest.raises(DivergenceError) as err:
        train(R0, P0, Q0, optimizer="sgd", lr=10.0, steps=100)
    losses = err.value.losses
    assert 0 < len(losses) < 100 and all(np.isfinite(losses))
