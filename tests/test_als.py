"""Alternating least squares (`fit_als`): exact half-steps, a monotone loss, same optimum as `fit`."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from helpers import BiasedMF, Ratings, fit, fit_als, make_synthetic, rmse, split_random
from tests.bilingual import assert_bilingual


@pytest.fixture(scope="module")
def split() -> tuple[Ratings, Ratings, Ratings]:
    data, _ = make_synthetic(80, 60, 2400, rank=3, min_ratings=5, seed=4)
    return split_random(data, (0.1, 0.1), seed=0)


def new_model(data: Ratings, dtype: torch.dtype = torch.float64) -> BiasedMF:
    return BiasedMF(data.n_users, data.n_items, 3, float(data.ratings.mean()), seed=0, dtype=dtype)


def test_item_half_step_is_the_exact_ridge_solution(split: tuple[Ratings, ...]) -> None:
    """The last half-step solves the items exactly: re-solving one item's ridge problem in NumPy,
    with the users fixed at their final values, gives the model's [b_i, q_i]."""
    train = split[0]
    model = new_model(train)
    fit_als(model, train, reg=0.1, sweeps=3)
    P = model.user_factors.weight.detach().numpy()
    bu = model.user_bias.weight[:, 0].detach().numpy()
    mu = float(model.global_mean)
    item = int(np.bincount(train.items).argmax())
    mine = train.items == item
    Z = np.hstack([np.ones((mine.sum(), 1)), P[train.users[mine]]])
    t = train.ratings[mine] - mu - bu[train.users[mine]]
    x = np.linalg.solve(Z.T @ Z + 0.1 * mine.sum() * np.eye(Z.shape[1]), Z.T @ t)
    b_i = model.item_bias.weight[item, 0].item()
    q_i = model.item_factors.weight[item].detach().numpy()
    assert np.allclose(np.r_[b_i, q_i], x, atol=1e-8)


def test_loss_never_increases(split: tuple[Ratings, ...]) -> None:
    """Each half-step minimizes the objective exactly, so the loss recorded per sweep cannot rise."""
    history = fit_als(new_model(split[0]), split[0], reg=0.05, sweeps=12)
    losses = np.array(history.loss)
    assert len(losses) == 12 and np.all(np.diff(losses) <= 1e-12)


def test_als_and_adam_reach_the_same_objective(split: tuple[Ratings, ...]) -> None:
    """Same loss function, two optimizers: the final training losses agree closely."""
    train, _, test = split
    als = new_model(train)
    als_loss = fit_als(als, train, reg=0.05, sweeps=200).loss[-1]
    adam = new_model(train)
    adam_loss = fit(adam, train, lr=0.05, reg=0.05, max_steps=3000).loss[-1]
    assert als_loss == pytest.approx(adam_loss, rel=0.02)
    assert rmse(als.predict(test.users, test.items), test.ratings) == pytest.approx(
        rmse(adam.predict(test.users, test.items), test.ratings), rel=0.05)


def test_early_stopping_restores_the_best_sweep(split: tuple[Ratings, ...]) -> None:
    train, val, _ = split
    model = new_model(train)
    history = fit_als(model, train, val, reg=0.01, sweeps=50, patience=2)
    assert history.best_step == history.eval_steps[int(np.argmin(history.val_rmse))]
    restored = rmse(model.predict(val.users, val.items), val.ratings)
    assert restored == pytest.approx(min(history.val_rmse), abs=1e-9)


@pytest.mark.parametrize(("kwargs", "error", "name"), [
    ({"reg": 0}, ValueError, "reg"), ({"reg": -1.0}, ValueError, "reg"),
    ({"reg": float("nan")}, ValueError, "reg"), ({"sweeps": 0}, ValueError, "sweeps"),
    ({"patience": 0}, ValueError, "patience"),
])
def test_bad_arguments(split: tuple[Ratings, ...], kwargs: dict, error: type, name: str) -> None:
    with pytest.raises(error) as err:
        fit_als(new_model(split[0]), split[0], **kwargs)
    assert_bilingual(err, name)


def test_model_and_data_types(split: tuple[Ratings, ...]) -> None:
    with pytest.raises(TypeError) as err:
        fit_als("not a model", split[0])
    assert_bilingual(err, "model")
    with pytest.raises(TypeError) as err:
        fit_als(new_model(split[0]), np.zeros((3, 3)))
    assert_bilingual(err, "train")
