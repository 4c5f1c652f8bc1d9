"""Tests of `helpers.tuning` (Optuna search, 15) and of the `callback` hook of `fit` and `fit_als`."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import optuna
import pytest
import torch

from helpers import tuning
from helpers.datasets import Ratings, make_synthetic, split_random
from helpers.implicit import make_interactions
from helpers.models import BiasedMF
from helpers.training import fit, fit_als
from tests.bilingual import assert_bilingual

matplotlib.use("Agg")
tuning.quiet()

Split = tuple[Ratings, Ratings, Ratings]
SPACE = {"rank": (2, 16), "lr": (0.01, 0.3), "reg": (0.001, 0.3)}
SMALL = {"max_steps": 60, "eval_every": 5, "patience": 3}


@pytest.fixture(scope="module")
def split() -> Split:
    """A small synthetic set (100 users × 80 items, 2000 ratings, rank 3), split 80/10/10."""
    data, _ = make_synthetic(100, 80, 2000, rank=3, seed=0)
    return split_random(data, (0.1, 0.1), seed=0)


@pytest.fixture(autouse=True)
def one_thread() -> Any:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def new_model(train: Ratings) -> BiasedMF:
    return BiasedMF(train.n_users, train.n_items, 3, float(train.ratings.mean()), seed=0)


def trials(study: optuna.Study) -> list[tuple[Any, ...]]:
    return [(t.state, t.value, t.params, t.user_attrs.get("steps")) for t in study.trials]


# --- the callback of fit and fit_als -----------------------------------------------------------------


@pytest.mark.parametrize("trainer", ["fit", "fit_als"])
def test_callback_that_never_stops_changes_nothing(split: Split, trainer: str) -> None:
    """callback=None and a callback returning False give bit-identical histories and parameters."""
    train, val, _ = split
    run = (lambda m, **kw: fit(m, train, val, lr=0.1, reg=0.04, **SMALL, **kw)) if trainer == "fit" \
        else (lambda m, **kw: fit_als(m, train, val, reg=0.04, sweeps=8, **kw))
    seen: list[tuple[int, float]] = []
    plain, watched = new_model(train), new_model(train)
    h0 = run(plain)
    h1 = run(watched, callback=lambda step, value: seen.append((step, value)))  # returns None: go on
    assert h0 == h1 and not h1.stopped_by_callback
    assert seen == list(zip(h1.eval_steps, h1.val_rmse, strict=True))
    for name, tensor in plain.state_dict().items():
        assert torch.equal(tensor, watched.state_dict()[name]), name


@pytest.mark.parametrize("trainer", ["fit", "fit_als"])
def test_callback_returning_true_stops_training(split: Split, trainer: str) -> None:
    train, val, _ = split
    stop_at = 15 if trainer == "fit" else 3
    model = new_model(train)
    callback = lambda step, value: step >= stop_at  # noqa: E731
    if trainer == "fit":
        history = fit(model, train, val, lr=0.1, reg=0.04, max_steps=200, eval_every=5, patience=50,
                      callback=callback)
    else:
        history = fit_als(model, train, val, reg=0.04, sweeps=20, patience=50, callback=callback)
    assert history.stopped_by_callback and not history.stopped_early
    assert history.eval_steps[-1] == stop_at and len(history.loss) == stop_at


def test_callback_errors_are_bilingual(split: Split) -> None:
    train, val, _ = split
    with pytest.raises(TypeError) as err:
        fit(new_model(train), train, val, callback=3)
    assert_bilingual(err, "callback")
    with pytest.raises(ValueError) as err:
        fit(new_model(train), train, None, callback=lambda s, v: False)
    assert_bilingual(err, "callback", "val")


# --- search: samplers, determinism, pruning ----------------------------------------------------------


def test_grid_points_fit_the_budget() -> None:
    grid = tuning.grid_points({"rank": (2, 64), "lr": (0.003, 0.3), "reg": (0.001, 0.3)}, 20)
    assert [len(v) for v in grid.values()] == [3, 3, 2]  # 18 ≤ 20 < 24
    assert all(isinstance(r, int) for r in grid["rank"])
    assert 0.003 < min(grid["lr"]) and max(grid["lr"]) < 0.3  # middles of the parts, not the ends
    assert np.isclose(grid["lr"][1], 0.03)  # the geometric middle of 0.003..0.3
    assert [len(v) for v in tuning.grid_points({"lr": (0.01, 1.0)}, 1).values()] == [1]


@pytest.mark.parametrize("sampler", tuning.SAMPLERS)
def test_seeded_search_is_reproducible(split: Split, sampler: str) -> None:
    train, val, _ = split
    objective = tuning.MFObjective(train, val, space=SPACE, **SMALL)
    first = tuning.search(objective, sampler, 6, seed=3, tpe_startup=3)
    second = tuning.search(objective, sampler, 6, seed=3, tpe_startup=3)
    assert trials(first) == trials(second)
    assert len(first.trials) <= 6 and first.best_value == min(t.value for t in first.trials)
    if sampler == "grid":
        assert len(first.trials) == 6  # 3 × 2 × 1 points fit a budget of 6
        assert len({tuple(t.params.values()) for t in first.trials}) == 6


def test_best_params_retrain_to_the_best_value(split: Split) -> None:
    """`train_mf` with the best params gives back the trial's model: retrain, then test once."""
    train, val, test = split
    objective = tuning.MFObjective(train, val, space=SPACE, **SMALL)
    study = tuning.search(objective, "random", 4, seed=0)
    model, history = tuning.train_mf(study.best_params, train, val, **SMALL)
    assert min(history.val_rmse) == study.best_value
    assert np.isfinite(tuning.rmse_on(model, test))


def test_pruning_stops_bad_trials_and_saves_steps(split: Split) -> None:
    train, val, _ = split
    objective = tuning.MFObjective(train, val, space=SPACE, max_steps=100, eval_every=5, patience=50)
    full = tuning.search(objective, "random", 12, seed=0)
    pruned = tuning.search(objective, "random", 12, seed=0, prune=True, pruner_startup=3)
    done = tuning.summary(pruned)
    assert done["pruned"] >= 1 and done["complete"] + done["pruned"] + done["diverged"] == 12
    assert tuning.steps_run(full) == 12 * 100  # patience 50: no trial stops on its own
    assert done["steps"] == tuning.steps_run(pruned) < tuning.steps_run(full)
    for trial in pruned.trials:
        assert trial.user_attrs["steps"] == (100 if trial.state == optuna.trial.TrialState.COMPLETE
                                             else max(trial.intermediate_values))
    # the same settings are drawn (same seed): the first trials, before any pruning, agree
    assert [t.params for t in pruned.trials] == [t.params for t in full.trials]


def test_diverging_setting_is_pruned_without_stderr(split: Split, capfd: pytest.CaptureFixture[str]) -> None:
    train, val, _ = split
    objective = tuning.MFObjective(train, val, space={"lr": (1e25, 1e30)}, **SMALL)  # float32 overflows
    study = tuning.search(objective, "random", 2, seed=0)
    assert tuning.summary(study)["diverged"] == 2 and all(t.user_attrs["steps"] >= 1 for t in study.trials)
    assert capfd.readouterr().err == ""


def test_wals_objective_maximizes_validation_ndcg() -> None:
    data, _ = make_interactions(120, 150, 3000, rank=4, seed=0)
    objective = tuning.WALSObjective(data, space={"alpha": (0.1, 3.0), "reg": (1.0, 30.0)}, sweeps=3)
    study = tuning.search(objective, "tpe", 3, seed=0)
    assert study.direction == optuna.study.StudyDirection.MAXIMIZE
    assert all(0.0 < t.value < 1.0 for t in study.trials)
    assert study.best_value == objective.ndcg(study.best_params)
    assert tuning.steps_run(study) == 9  # sweeps


@pytest.mark.parametrize("space, error, names", [
    ({}, TypeError, ["space"]),
    ([("lr", (0.1, 1.0))], TypeError, ["space"]),
    ({"alpha": (0.1, 1.0)}, ValueError, []),
    ({"lr": (0.0, 1.0)}, ValueError, []),
    ({"lr": (1.0, 0.1)}, ValueError, []),
    ({"lr": (0.1,)}, ValueError, []),
    ({"rank": (2.0, 8.0)}, ValueError, []),
])
def test_bad_search_space_is_refused(split: Split, space: Any, error: type, names: list[str]) -> None:
    train, val, _ = split
    with pytest.raises(error) as err:
        tuning.MFObjective(train, val, space=space)
    assert_bilingual(err, *names)


def test_bad_budget_or_sampler_is_refused(split: Split) -> None:
    train, val, _ = split
    objective = tuning.MFObjective(train, val, space=SPACE, **SMALL)
    with pytest.raises(ValueError) as err:
        tuning.search(objective, "tpe", 0)
    assert_bilingual(err, "n_trials")
    with pytest.raises(ValueError) as err:
        tuning.search(objective, "bayes", 5)
    assert_bilingual(err, "sampler")


# --- a study in an SQLite file survives a restart (README) -------------------------------------------


def test_sqlite_study_resumes(split: Split, tmp_path: Path) -> None:
    """README's one-line change: storage=sqlite file, study_name, load_if_exists=True."""
    train, val, _ = split
    objective = tuning.MFObjective(train, val, space=SPACE, **SMALL)
    storage = f"sqlite:///{tmp_path / 'optuna.db'}"
    study = optuna.create_study(storage=storage, study_name="mf", load_if_exists=True,
                                sampler=optuna.samplers.RandomSampler(seed=0))
    study.optimize(objective, n_trials=2)
    del study  # a restart: only the file is left
    study = optuna.create_study(storage=storage, study_name="mf", load_if_exists=True,
                                sampler=optuna.samplers.RandomSampler(seed=1))
    assert len(study.trials) == 2
    study.optimize(objective, n_trials=2)
    assert len(study.trials) == 4 and len({t.number for t in study.trials}) == 4
    again = optuna.load_study(study_name="mf", storage=storage)
    assert [t.value for t in again.trials] == [t.value for t in study.trials]


# --- tuning on test ----------------------------------------------------------------------------------


def test_choosing_on_test_looks_better_than_choosing_on_validation(split: Split) -> None:
    train, val, test = split
    data, truth = make_synthetic(100, 80, 2000, rank=3, seed=0)
    pool = tuning.config_pool(train, val, test, 8, space=SPACE, truth=truth, **SMALL)
    assert len(pool.params) == 8 and pool.fresh_rmse is not None
    assert (pool.fresh_rmse > truth.noise).all()  # nobody beats the noise on new ratings
    result = tuning.tuned_on_test_optimism(pool, 4, repeats=30, seed=0)
    assert (result.gap >= 0).all() and result.gap.shape == (30,)
    for chosen in (result.chosen_on_test, result.chosen_on_val):
        assert np.isin(chosen, pool.test_rmse).all() and chosen.min() >= pool.test_rmse.min()
    with pytest.raises(ValueError) as err:
        tuning.tuned_on_test_optimism(pool, 9)
    assert_bilingual(err, "n")


# --- plots from optuna.visualization.matplotlib, offline and quiet -----------------------------------


def test_plots_work_offline_and_quietly(split: Split) -> None:
    import matplotlib.pyplot as plt
    from optuna.visualization import matplotlib as vis

    train, val, _ = split
    study = tuning.search(tuning.MFObjective(train, val, space=SPACE, **SMALL), "random", 8, seed=0)
    with pytest.warns(optuna.exceptions.ExperimentalWarning):
        vis.plot_optimization_history(study)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with tuning.no_experimental_warning():
            vis.plot_optimization_history(study)
            vis.plot_param_importances(study)  # PedAnova by default: no scikit-learn needed
            vis.plot_contour(study, params=["lr", "reg"])
    plt.close("all")


def test_neural_objective_runs_a_seeded_search_and_refuses_bad_kinds() -> None:
    """NeuralObjective (16): two TPE searches with one seed agree; its model is refit to the same RMSE."""
    from helpers import make_star_ratings
    from helpers.tuning import NeuralObjective

    data, _ = make_star_ratings(n_users=120, n_items=90, n_ratings=3000, seed=0)
    train, val, _ = split_random(data, (0.1, 0.1), seed=0)
    objective = NeuralObjective(train, val, "mlp", epochs=3)
    first, second = (tuning.search(objective, "tpe", 3, seed=0) for _ in range(2))
    assert [t.params for t in first.trials] == [t.params for t in second.trials]
    assert first.best_value == second.best_value
    _, history = objective.train_model(first.best_params)
    assert min(history.val_rmse) == pytest.approx(first.best_value)
    with pytest.raises(ValueError, match="kind"):
        NeuralObjective(train, val, "autorec")


def test_neumf_ranking_objective_keeps_the_best_epoch_for_the_refit() -> None:
    """NeuMFRankingObjective (16): validation NDCG on a split carved from train; best epoch stored."""
    from helpers.implicit import split_interactions_per_user
    from helpers.tuning import NeuMFRankingObjective

    data, _ = make_interactions(n_users=120, n_items=150, n_interactions=2400, seed=0)
    train, _ = split_interactions_per_user(data, 0.2, seed=0)
    objective = NeuMFRankingObjective(train, epochs=3)
    study = tuning.search(objective, "tpe", 2, seed=0)
    best = study.best_trial
    assert 1 <= best.user_attrs["best_epoch"] <= best.user_attrs["steps"] <= 3
    assert 0.0 < study.best_value <= 1.0
    assert len(objective.fit_train) + len(objective.val) == len(train)
