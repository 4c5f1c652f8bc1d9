"""The `device` argument of the trainers and the refusal of too-large dense matrices (10)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from helpers import BiasedMF, Ratings, fit, fit_als, make_synthetic, split_random
from helpers._checks import check_device
from tests.bilingual import assert_bilingual


@pytest.fixture(scope="module")
def data():
    ratings, _ = make_synthetic(60, 40, 900, 3, seed=1)
    return split_random(ratings, (0.1, 0.1), seed=0)


@pytest.mark.parametrize("trainer", [fit, fit_als])
def test_explicit_cpu_device_gives_the_default_result(data, trainer):
    train, val, _ = data
    models = [BiasedMF(60, 40, 3, float(train.ratings.mean()), seed=0) for _ in range(2)]
    first = trainer(models[0], train, val)
    second = trainer(models[1], train, val, device=torch.device("cpu"))
    assert first.loss == second.loss
    for a, b in zip(models[0].parameters(), models[1].parameters(), strict=True):
        assert torch.equal(a, b)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU: the error cannot happen")
@pytest.mark.parametrize("trainer", [fit, fit_als])
def test_missing_gpu_is_a_clear_error_before_training(data, trainer):
    train, val, _ = data
    model = BiasedMF(60, 40, 3, seed=0)
    before = [p.clone() for p in model.parameters()]
    with pytest.raises(RuntimeError) as info:
        trainer(model, train, val, device="cuda")
    assert_bilingual(info, 'device="cpu"')
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))


@pytest.mark.parametrize("value", ["gpu0", 3.5, "nonsense"])
def test_unknown_device_names_are_rejected(value):
    with pytest.raises(ValueError) as info:
        check_device(value)
    assert_bilingual(info, "device")


def test_cpu_device_is_accepted():
    assert check_device("cpu") == torch.device("cpu")


def test_dense_form_refuses_a_movielens_25m_shape_with_the_size():
    data = Ratings(np.array([0]), np.array([0]), np.array([4.0]), 162_541, 59_047)
    with pytest.raises(MemoryError) as info:
        data.to_dense(np.float32)
    message = str(info.value)
    assert_bilingual(info)
    expected = 162_541 * 59_047 * 4 / 2**30
    assert f"{expected:,.1f} GiB" in message


def test_dense_limit_is_adjustable_and_exact():
    data = Ratings(np.array([0, 1]), np.array([1, 0]), np.array([4.0, 2.0]), 2, 2)
    assert data.to_dense(max_bytes=32).tolist() == [[0.0, 4.0], [2.0, 0.0]]
    with pytest.raises(MemoryError):
        data.to_dense(max_bytes=31)
    assert data.to_dense(np.float32).dtype == np.float32
