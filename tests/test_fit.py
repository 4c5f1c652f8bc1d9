"""Tests of `helpers.training.fit` through its public behaviour only (its inside may change)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
import torch

from helpers.datasets import Ratings, make_synthetic, split_random
from helpers.metrics import rmse
from helpers.models import BiasedMF
from helpers.training import DivergenceError, History, fit, fit_als, fit_biases
from tests.bilingual import assert_bilingual

# Every call passes these explicitly, so the tests do not depend on fit's (tunable) defaults. They are
# the series' earlier default: a fixed learning rate, stopping `patience` evaluations after the best.
SETTINGS: dict[str, Any] = {"lr": 0.1, "reg": 0.05, "max_steps": 300, "eval_every": 5, "patience": 4,
                            "tol": 0.0, "lr_decay": 1.0}
# fit's default path (07, 10): halve lr on a plateau, stop after `patience` gains of at most `tol`
SCHEDULED: dict[str, Any] = {**SETTINGS, "patience": 2, "tol": 1e-4, "lr_decay": 0.5}




Split = tuple[Ratings, Ratings, Ratings]


@pytest.fixture(scope="module")
def split() -> Split:
    """A small synthetic set (60 users × 50 items, 1500 ratings, rank 3), split 80/10/10."""
    data, _ = make_synthetic(60, 50, 1500, rank=3, min_ratings=5, seed=1)
    train, val, test = split_random(data, seed=0)
    return train, val, test


def new_model(train: Ratings, **kwargs: Any) -> BiasedMF:
    return BiasedMF(train.n_users, train.n_items, 3, float(train.ratings.mean()), **kwargs)


@pytest.fixture(scope="module")
def fitted(split: Split) -> tuple[BiasedMF, History]:
    """One fit with validation and early stopping, shared by the tests below."""
    train, val, _ = split
    model = new_model(train)
    history = fit(model, train, val, **SETTINGS)
    return model, history


@pytest.fixture(scope="module")
def fitted_without_val(split: Split) -> tuple[BiasedMF, History]:
    """A fit without validation: 43 steps, evaluated every 10 (and at the last step)."""
    train = split[0]
    model = new_model(train)
    history = fit(model, train, None, **{**SETTINGS, "max_steps": 43, "eval_every": 10})
    return model, history


# --- what a fit records and leaves behind ----------------------------------------------------------


def test_training_loss_decreases(fitted: tuple[BiasedMF, History]) -> None:
    """The recorded loss is finite and ends well below where it started."""
    _, history = fitted
    assert isinstance(history, History)
    assert all(math.isfinite(v) for v in history.loss)
    assert history.loss[-1] < 0.5 * history.loss[0]
    assert min(history.loss[:10]) < history.loss[0]
    assert history.train_rmse[-1] < history.train_rmse[0]


def test_history_fields_are_consistent(fitted: tuple[BiasedMF, History]) -> None:
    """One loss per step; evaluations every eval_every steps; one RMSE each; best_step evaluated."""
    _, history = fitted
    steps = len(history.loss)
    assert 1 <= steps <= SETTINGS["max_steps"]
    assert history.eval_steps == sorted(set(history.eval_steps))
    for step in history.eval_steps:
        assert step % SETTINGS["eval_every"] == 0 or step == steps
    assert history.eval_steps[-1] == steps
    assert len(history.val_rmse) == len(history.train_rmse) == len(history.eval_steps)
    assert history.best_step in history.eval_steps
    best = history.eval_steps.index(history.best_step)
    assert history.val_rmse[best] == min(history.val_rmse)


def test_early_stopping(fitted: tuple[BiasedMF, History]) -> None:
    """This fit stops early: `patience` evaluations after the best one showed no improvement."""
    _, history = fitted
    assert history.stopped_early
    assert len(history.loss) < SETTINGS["max_steps"]
    best = history.eval_steps.index(history.best_step)
    assert len(history.eval_steps) - 1 - best == SETTINGS["patience"]
    assert all(v >= history.val_rmse[best] for v in history.val_rmse[best + 1:])


def test_fixed_lr_is_recorded_and_kept(fitted: tuple[BiasedMF, History]) -> None:
    """With `lr_decay=1` the learning rate stays where it started, one record per evaluation."""
    _, history = fitted
    assert history.lr == [SETTINGS["lr"]] * len(history.eval_steps)


def test_default_path_halves_lr_on_plateaus_and_stops_on_tiny_gains(split: Split) -> None:
    """The rule of `SCHEDULED`, replayed from the recorded RMSEs: when lr halves, when training stops."""
    from helpers.training import PLATEAU, WARMUP

    train, val, _ = split
    model = new_model(train)
    history = fit(model, train, val, **SCHEDULED)
    val_rmse, lr = history.val_rmse, history.lr
    assert len(val_rmse) == len(lr) == len(history.eval_steps)
    best, plateau_best, streak = math.inf, math.inf, 0
    for k, value in enumerate(val_rmse):
        gain = (best - value) / best if math.isfinite(best) else math.inf
        best = min(best, value)
        if history.eval_steps[k] <= WARMUP:  # only the best is kept
            assert lr[k + 1] == lr[k] and k + 1 < len(val_rmse)
            continue
        streak = 0 if gain > SCHEDULED["tol"] else streak + 1
        # ReduceLROnPlateau (patience 0): its own best moves only on a gain of at least PLATEAU
        if value < plateau_best * (1 - PLATEAU):
            plateau_best, expected = value, 1.0
        else:
            expected = SCHEDULED["lr_decay"]
        if k + 1 < len(lr):
            assert lr[k + 1] == pytest.approx(lr[k] * expected), k
        assert (streak >= SCHEDULED["patience"]) == (k == len(val_rmse) - 1), k  # stops at the first
    assert history.stopped_early and lr[0] == SCHEDULED["lr"] and lr[-1] < lr[0]
    assert history.best_step == history.eval_steps[int(np.argmin(val_rmse))]
    now = rmse(model.predict(val.users, val.items), val.ratings)
    assert abs(now - min(val_rmse)) < 1e-6  # the best parameters are back


def test_early_stopping_restores_the_best_state(split: Split, fitted: tuple[BiasedMF, History]) -> None:
    """After fit, the model's validation RMSE is the best recorded one, not the last one."""
    _, val, _ = split
    model, history = fitted
    now = rmse(model.predict(val.users, val.items), val.ratings)
    assert abs(now - min(history.val_rmse)) < 1e-6
    assert history.val_rmse[-1] > min(history.val_rmse) + 1e-6  # the last state was worse


def test_fit_keeps_global_mean(split: Split, fitted: tuple[BiasedMF, History]) -> None:
    """μ is fixed: it is a buffer, not a trained parameter."""
    model, _ = fitted
    assert float(model.global_mean) == pytest.approx(float(split[0].ratings.mean()))


def test_fit_beats_the_biases_baseline(split: Split, fitted: tuple[BiasedMF, History]) -> None:
    """On the test part, the fitted factors beat μ + b_u + b_i (which beats μ alone)."""
    train, _, test = split
    model, _ = fitted
    mf = rmse(model.predict(test.users, test.items), test.ratings)
    mu, bu, bi = fit_biases(train)
    biases = rmse(mu + bu[test.users] + bi[test.items], test.ratings)
    mean_only = rmse(np.full(len(test), mu), test.ratings)
    assert mf < 0.9 * biases < 0.9 * mean_only


def test_fit_without_validation(split: Split, fitted_without_val: tuple[BiasedMF, History]) -> None:
    """val=None: all max_steps steps run, train RMSE recorded at 10, 20, 30, 40 and the last step."""
    model, history = fitted_without_val
    train = split[0]
    assert len(history.loss) == 43
    assert history.eval_steps == [10, 20, 30, 40, 43]
    assert len(history.train_rmse) == 5 and history.val_rmse == []
    assert not history.stopped_early
    assert history.best_step == 43
    # the recorded train RMSE is the returned model's (nothing restored)
    now = rmse(model.predict(train.users, train.items), train.ratings)
    assert abs(now - history.train_rmse[-1]) < 1e-5
    assert history.train_rmse[-1] < history.train_rmse[0]


def test_first_loss_is_the_documented_objective(split: Split) -> None:
    """loss[0] = MSE + reg · mean over ratings of (‖p_u‖² + ‖q_i‖² + b_u² + b_i²), before any step."""
    train = split[0]
    model = new_model(train, dtype=torch.float64)
    with torch.no_grad():  # non-zero biases, so every term counts
        model.user_bias.weight.normal_(0.0, 0.3, generator=torch.Generator().manual_seed(0))
        model.item_bias.weight.normal_(0.0, 0.3, generator=torch.Generator().manual_seed(1))
    P = model.user_factors.weight.detach().numpy().copy()
    Q = model.item_factors.weight.detach().numpy().copy()
    bu = model.user_bias.weight.detach().numpy()[:, 0].copy()
    bi = model.item_bias.weight.detach().numpy()[:, 0].copy()
    u, i, r = train.users, train.items, train.ratings
    err = float(train.ratings.mean()) + bu[u] + bi[i] + (P[u] * Q[i]).sum(1) - r
    penalty = ((P[u] ** 2).sum(1) + (Q[i] ** 2).sum(1) + bu[u] ** 2 + bi[i] ** 2).mean()
    history = fit(model, train, None, **{**SETTINGS, "reg": 0.3, "max_steps": 2})
    assert history.loss[0] == pytest.approx(float((err**2).mean() + 0.3 * penalty), rel=1e-6)
    assert history.loss[1] < history.loss[0]


def test_fit_is_deterministic_and_works_in_float64(split: Split) -> None:
    """Same model seed, same data → the same losses; a float64 model trains as well."""
    train, val, _ = split
    runs = [fit(new_model(train), train, val, **{**SETTINGS, "max_steps": 15}).loss for _ in range(2)]
    assert runs[0] == runs[1]
    model64 = new_model(train, dtype=torch.float64)
    model64.load_state_dict(new_model(train).state_dict())  # the same start, copied into float64
    history = fit(model64, train, val, **{**SETTINGS, "max_steps": 15})
    assert model64.user_factors.weight.dtype == torch.float64
    assert history.loss[-1] < history.loss[0]
    np.testing.assert_allclose(history.loss, runs[0], rtol=1e-4)  # float64 agrees with float32


# --- a learning rate far too large -----------------------------------------------------------------


def test_absurd_lr_raises_divergence_error(split: Split) -> None:
    """lr = 1e10: the loss is inf at step 2 → DivergenceError (a ValueError) with the finite losses."""
    train, val, _ = split
    model = new_model(train)
    with pytest.raises(DivergenceError) as err:
        fit(model, train, val, **{**SETTINGS, "lr": 1e10})
    assert isinstance(err.value, ValueError)
    assert_bilingual(err)
    assert "lr=" in str(err.value)
    assert len(err.value.losses) == 1 and math.isfinite(err.value.losses[0])


def test_huge_lr_blows_up_without_error(split: Split) -> None:
    """lr = 1e6: the loss jumps by many orders of magnitude but stays finite, so fit returns quietly.

    This pins the current behaviour (DivergenceError only fires for NaN/inf); the restored "best"
    model is still useless. If fit learns to flag this, turn the test into a pytest.raises.
    """
    train, val, _ = split
    model = new_model(train)
    history = fit(model, train, val, **{**SETTINGS, "lr": 1e6, "max_steps": 20})
    assert all(math.isfinite(v) for v in history.loss)
    assert max(history.loss) > 1e6 * history.loss[0]
    predictions = model.predict(val.users, val.items)
    assert np.all(np.isfinite(predictions))
    assert abs(rmse(predictions, val.ratings) - min(history.val_rmse)) <= 1e-6 * min(history.val_rmse)
    assert min(history.val_rmse) > 1e3  # far worse than predicting the mean


# --- bad arguments ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "error", "name"),
    [
        pytest.param({"lr": 0}, ValueError, "lr", id="lr-0"),
        pytest.param({"lr": -0.1}, ValueError, "lr", id="lr-negative"),
        pytest.param({"lr": float("nan")}, ValueError, "lr", id="lr-nan"),
        pytest.param({"lr": "0.1"}, TypeError, "lr", id="lr-str"),
        pytest.param({"reg": -0.01}, ValueError, "reg", id="reg-negative"),
        pytest.param({"reg": float("inf")}, ValueError, "reg", id="reg-inf"),
        pytest.param({"reg": True}, ValueError, "reg", id="reg-bool"),
        pytest.param({"max_steps": 0}, ValueError, "max_steps", id="max_steps-0"),
        pytest.param({"max_steps": 10.0}, TypeError, "max_steps", id="max_steps-float"),
        pytest.param({"eval_every": 0}, ValueError, "eval_every", id="eval_every-0"),
        pytest.param({"patience": -1}, ValueError, "patience", id="patience-negative"),
        pytest.param({"tol": -1e-4}, ValueError, "tol", id="tol-negative"),
        pytest.param({"tol": 1.0}, ValueError, "tol", id="tol-1"),
        pytest.param({"lr_decay": 0}, ValueError, "lr_decay", id="lr_decay-0"),
        pytest.param({"lr_decay": 2}, ValueError, "lr_decay", id="lr_decay-2"),
        pytest.param({"lr_decay": "half"}, ValueError, "lr_decay", id="lr_decay-str"),
        pytest.param({"betas": (0.9,)}, ValueError, "betas", id="betas-one"),
        pytest.param({"betas": (1.0, 0.999)}, ValueError, "betas[0]", id="betas-1"),
    ],
)
def test_fit_bad_settings(split: Split, change: dict[str, Any], error: type, name: str) -> None:
    """Bad settings fail before any step: bilingual error, model untouched."""
    train, val, _ = split
    model = new_model(train)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(error) as err:
        fit(model, train, val, **{**SETTINGS, **change})
    assert_bilingual(err, name)
    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key])


@pytest.mark.parametrize(
    ("call", "error", "name"),
    [
        pytest.param(lambda m, t, v: fit(torch.nn.Linear(3, 1), t, v), TypeError, "model", id="model-Linear"),
        pytest.param(lambda m, t, v: fit(None, t, v), TypeError, "model", id="model-None"),
        pytest.param(lambda m, t, v: fit(m, t.to_dense(), v), TypeError, "train", id="train-matrix"),
        pytest.param(lambda m, t, v: fit(m, [(0, 0, 4.0)], v), TypeError, "train", id="train-list"),
        pytest.param(lambda m, t, v: fit(m, t.subset(np.zeros(0, dtype=np.int64)), v), TypeError, "train",
                     id="train-empty"),
        pytest.param(lambda m, t, v: fit(m, t, v.to_dense()), TypeError, "val", id="val-matrix"),
    ],
)
def test_fit_bad_objects(split: Split, call: Any, error: type, name: str) -> None:
    """model must be a BiasedMF, train and val non-empty Ratings."""
    train, val, _ = split
    with pytest.raises(error) as err:
        call(new_model(train), train, val)
    assert_bilingual(err, name)


def with_extra_rating(data: Ratings, user: int, item: int, n_users: int, n_items: int) -> Ratings:
    """`data` plus one rating, declared with the given numbers of users and items."""
    return Ratings(np.append(data.users, user), np.append(data.items, item), np.append(data.ratings, 4.0),
                   n_users, n_items)


@pytest.mark.parametrize(
    ("where", "user", "item", "name"),
    [("train", 60, 0, "users"), ("train", 0, 50, "items"), ("val", 60, 0, "users"), ("val", 0, 57, "items")],
)
def test_fit_index_out_of_range(split: Split, where: str, user: int, item: int, name: str) -> None:
    """A user or item index the model does not have (Ratings larger than the model) → ValueError."""
    train, val, _ = split
    model = new_model(train)  # 60 users, 50 items
    bigger = with_extra_rating(train if where == "train" else val, user, item, 61 if user == 60 else 60,
                               item + 1 if item >= 50 else 50)
    args = (bigger, val) if where == "train" else (train, bigger)
    with pytest.raises(ValueError, match="never seen") as err:
        fit(model, *args, **SETTINGS)
    assert_bilingual(err, name)


@pytest.mark.parametrize(
    ("model_size", "data_size"),
    [
        pytest.param((70, 50), (60, 50), id="model-has-more-users"),
        pytest.param((60, 50), (61, 50), id="ratings-declare-more-users"),
        pytest.param((60, 50), (60, 52), id="ratings-declare-more-items"),
    ],
)
def test_fit_with_sizes_that_differ_from_the_model(split: Split, model_size: tuple[int, int],
                                                   data_size: tuple[int, int]) -> None:
    """All indices valid, only the declared sizes differ → fit trains as usual."""
    train = split[0]
    model = BiasedMF(*model_size, 3, float(train.ratings.mean()))
    data = Ratings(train.users, train.items, train.ratings, *data_size)
    history = fit(model, data, None, **{**SETTINGS, "max_steps": 10})
    assert len(history.loss) == 10 and history.loss[-1] < history.loss[0]


# --- both trainers: users and items without training ratings, NaN in data or model ------------------

TRAINERS = {"fit": lambda m, t: fit(m, t, None, **{**SETTINGS, "max_steps": 20}),
            "fit_als": lambda m, t: fit_als(m, t, reg=0.05, sweeps=3)}


def with_unrated_user_and_item(train: Ratings) -> Ratings:
    """The same ratings, declaring one more user and one more item, neither with a rating."""
    return Ratings(train.users, train.items, train.ratings, train.n_users + 1, train.n_items + 1)


@pytest.mark.parametrize("trainer", list(TRAINERS))
def test_users_and_items_without_ratings_rest_on_the_mean_and_biases(split: Split, trainer: str) -> None:
    """Their factors and bias end at exactly 0 (even from a start of 1s and NaN), so a user without
    ratings is scored μ + b_i and an item without ratings μ + b_u, under both trainers."""
    data = with_unrated_user_and_item(split[0])
    user, item = data.n_users - 1, data.n_items - 1
    model = new_model(data)
    with torch.no_grad():
        model.user_bias.weight[user] = 1.0
        model.user_factors.weight[user] = 1.0
        model.item_factors.weight[item] = float("nan")  # never seen by the loss: set to 0, no error
    TRAINERS[trainer](model, data)
    for weight, row in ((model.user_factors.weight, user), (model.user_bias.weight, user),
                        (model.item_factors.weight, item), (model.item_bias.weight, item)):
        assert torch.all(weight[row] == 0)
    mu = float(model.global_mean)
    b_u = model.user_bias.weight[:, 0].double().detach().numpy()
    b_i = model.item_bias.weight[:, 0].double().detach().numpy()
    items, users = np.arange(data.n_items), np.arange(data.n_users)
    assert np.allclose(model.predict(np.full(data.n_items, user), items), mu + b_i, rtol=0, atol=1e-6)
    assert np.allclose(model.predict(users, np.full(data.n_users, item)), mu + b_u, rtol=0, atol=1e-6)
    assert np.abs(b_i[:-1]).max() > 0.01 and np.abs(b_u[:-1]).max() > 0.01  # the biases did train


def with_nan_rating(train: Ratings) -> Ratings:
    """A Ratings whose first rating became NaN after its checks ran (as a later edit of its array would)."""
    ratings = train.ratings.astype(np.float64)  # a copy
    ratings[0] = np.nan
    bad = Ratings(train.users, train.items, train.ratings, train.n_users, train.n_items)
    object.__setattr__(bad, "ratings", ratings)
    return bad


@pytest.mark.parametrize("trainer", list(TRAINERS))
@pytest.mark.parametrize("where", ["rating", "model"])
def test_nan_in_the_ratings_or_the_starting_model_raises(split: Split, trainer: str, where: str) -> None:
    """No NaN parameters come back silently: the first loss is NaN, and the error says where to look."""
    train = split[0]
    model = new_model(train)
    if where == "model":
        with torch.no_grad():
            model.user_bias.weight[int(train.users[0])] = float("nan")
    else:
        train = with_nan_rating(train)
    with pytest.raises(DivergenceError) as err:
        TRAINERS[trainer](model, train)
    assert isinstance(err.value, ValueError) and err.value.losses == []
    assert_bilingual(err)
    assert "before training starts" in str(err.value)


def test_parameters_gone_non_finite_after_a_step_raise(split: Split) -> None:
    """A step so large that the parameters overflow: the evaluation after it (here the only one) stops
    `fit` with an error that says what to do, instead of returning the broken model."""
    train = split[0]
    with pytest.raises(DivergenceError, match="After update 1 the training RMSE is nan") as err:
        fit(new_model(train), train, None, lr=1e30, max_steps=1)
    assert_bilingual(err, "lr")
    assert len(err.value.losses) == 1 and math.isfinite(err.value.losses[0])
    huge = Ratings(train.users, train.items, train.ratings * 1e160, train.n_users, train.n_items)
    model = BiasedMF(train.n_users, train.n_items, 2, float(huge.ratings.mean()), dtype=torch.float64)
    with pytest.raises(DivergenceError, match="extremely large values") as err:  # squares overflow
        fit_als(model, huge, reg=0.1, sweeps=2)
    assert_bilingual(err)


def test_empty_train_names_the_empty_ratings(split: Split) -> None:
    """An empty Ratings (e.g. an empty part of a split) is refused, saying that it is empty."""
    empty = split[0].subset(np.zeros(0, dtype=np.int64))
    with pytest.raises(TypeError, match="a Ratings with 0 ratings") as err:
        fit(new_model(split[0]), empty)
    assert_bilingual(err, "train")


def test_fit_biases_refuses_nan_ratings_and_gives_unrated_rows_zero(split: Split) -> None:
    with pytest.raises(DivergenceError) as err:
        fit_biases(with_nan_rating(split[0]))
    assert_bilingual(err)
    data = with_unrated_user_and_item(split[0])
    for reg in (0.0, 10.0):  # reg = 0: 0 ratings / 0 would be NaN
        _, user_bias, item_bias = fit_biases(data, reg=reg)
        assert user_bias[-1] == 0 and item_bias[-1] == 0
        assert np.isfinite(user_bias).all() and np.isfinite(item_bias).all()


def test_default_betas_follow_the_schedule(split: Split) -> None:
    """β1 0.7 while lr comes down on plateaus, torch's 0.9 at a fixed lr: the same runs as passing them."""
    from helpers.training import ADAM_BETAS, adam_betas

    assert adam_betas(True) == ADAM_BETAS == (0.7, 0.999) and adam_betas(False) == (0.9, 0.999)
    train, val, _ = split
    for settings, betas in ((SCHEDULED, ADAM_BETAS), (SETTINGS, (0.9, 0.999))):
        runs = []
        for extra in ({}, {"betas": betas}):
            model = new_model(train)
            runs.append(fit(model, train, val, **settings, **extra).val_rmse)
        assert runs[0] == runs[1]


def test_warm_up_keeps_a_small_set_from_stopping_at_its_first_rise() -> None:
    """Adam's first steps can raise the validation RMSE; the first 10 steps neither stop nor halve lr."""
    from helpers.training import WARMUP

    data, _ = make_synthetic(200, 300, 6_000, rank=5, seed=1)
    stars = Ratings(data.users, data.items, np.clip(np.round(data.ratings), 1, 5), data.n_users, data.n_items)
    train, val, _ = split_random(stars, (0.1, 0.1), seed=0)
    model = BiasedMF(train.n_users, train.n_items, 10, float(train.ratings.mean()), seed=0)
    history = fit(model, train, val, **{**SCHEDULED, "reg": 0.04})  # 07's setting (solution, exercise 4)
    assert history.val_rmse[1] > history.val_rmse[0]  # the rise, inside the warm-up
    assert history.eval_steps[1] <= WARMUP and history.lr[2] == SCHEDULED["lr"]  # lr untouched by it
    assert len(history.loss) > 10 * WARMUP and min(history.val_rmse) < 0.95 * history.val_rmse[0]


def test_the_rules_benchmark_prints_both_rules(capsys: pytest.CaptureFixture[str]) -> None:
    """benchmarks/fit_rules.py runs both rules on the smoke shape and prints one row each."""
    from benchmarks import fit_rules

    fit_rules.main(["--repeats", "1", "--shape", "smoke"])
    out = capsys.readouterr().out.splitlines()
    rows = [line for line in out if line.startswith("| ") and "---" not in line]
    assert [r.split(" | ")[0][2:] for r in rows[1:]] == list(fit_rules.RULES)
    for row in rows[1:]:
        steps, best = (int(x) for x in row.split(" | ")[1:3])
        assert 0 < best <= steps
