"""Hyperparameter search with Optuna: objectives, three samplers at one budget, pruning, tuning on test (15).

Searches choose on a validation split and report the test split once, for the chosen setting only.
Every search space is a dict name → (low, high), searched on a log scale (integers when both
bounds are integers). Studies are in memory by default; pass `storage="sqlite:///build/optuna.db"`,
a `study_name` and `load_if_exists=True` to `make_study` (or `optuna.create_study`) so that a long
search survives a restart (README).

Reproducible: seeded samplers, seeded models, one torch thread (as `setup_notebook`).
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import optuna
import torch

from ._checks import bilingual, check_positive_int, check_seed
from .datasets import Ratings
from .models import BiasedMF
from .training import DivergenceError, History, _rmse, _triples, fit

# rank, learning rate and L2 weight of `fit` (07): wide enough that the corners are bad
MF_SPACE: dict[str, tuple[float, float]] = {"rank": (2, 64), "lr": (0.003, 0.3), "reg": (0.001, 0.3)}
# rank, confidence weight α and L2 weight of `fit_wals` (12)
WALS_SPACE: dict[str, tuple[float, float]] = {"rank": (4, 32), "alpha": (0.03, 3.0), "reg": (1.0, 100.0)}
SAMPLERS = ("grid", "random", "tpe")


def quiet() -> None:
    """Only warnings and errors from Optuna, not one log line per trial. (15)"""
    optuna.logging.set_verbosity(optuna.logging.WARNING)


@contextmanager
def no_experimental_warning() -> Iterator[None]:
    """Silence Optuna's ExperimentalWarning, raised by every `optuna.visualization.matplotlib` plot. (15)"""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
        yield


def check_space(space: Any, allowed: tuple[str, ...]) -> dict[str, tuple[float, float]]:
    """A search space: a non-empty dict of known names → (low, high), 0 < low < high. (15)"""
    if not isinstance(space, dict) or not space:
        raise TypeError(bilingual(
            f"探索空間 `space` は {{名前: (下限, 上限)}} の空でない dict にしてください"
            f"（{type(space).__name__} が渡されました）。例: {{'rank': (2, 64), 'lr': (0.003, 0.3)}}。",
            f"The search space `space` must be a non-empty dict {{name: (low, high)}}; got "
            f"{type(space).__name__}. Example: {{'rank': (2, 64), 'lr': (0.003, 0.3)}}.",
        ))
    checked = {}
    for name, bounds in space.items():
        if name not in allowed:
            raise ValueError(bilingual(
                f"探索空間に知らない名前 {name!r} があります。使えるのは {list(allowed)} です。",
                f"The search space has an unknown name {name!r}; use some of {list(allowed)}.",
            ))
        ok = isinstance(bounds, (tuple, list)) and len(bounds) == 2 and all(
            isinstance(b, numbers.Real) and not isinstance(b, bool) and math.isfinite(b) for b in bounds)
        if not ok or not 0 < bounds[0] < bounds[1]:
            raise ValueError(bilingual(
                f"探索空間の {name!r} は (下限, 上限) で 0 < 下限 < 上限 の有限の数にしてください"
                f"（{bounds!r} が渡されました）。対数スケールで探すので 0 は使えません。",
                f"The search space's {name!r} must be (low, high) with finite 0 < low < high; got "
                f"{bounds!r}. It is searched on a log scale, so 0 is not allowed.",
            ))
        if name == "rank" and not all(isinstance(b, numbers.Integral) for b in bounds):
            raise ValueError(bilingual(
                f"ランク 'rank' の範囲は整数にしてください（{bounds!r} が渡されました）。",
                f"The range of 'rank' must be integers; got {bounds!r}.",
            ))
        checked[name] = (bounds[0], bounds[1])
    return checked


def _check_budget(n_trials: Any) -> int:
    return check_positive_int(n_trials, "n_trials", "試行の数（予算）", "number of trials, the budget")


def suggest(trial: optuna.Trial, space: dict[str, tuple[float, float]]) -> dict[str, Any]:
    """Draw one setting from `space` through the trial, every range on a log scale. (15)"""
    params: dict[str, Any] = {}
    for name, (low, high) in space.items():
        if isinstance(low, numbers.Integral) and isinstance(high, numbers.Integral):
            params[name] = trial.suggest_int(name, int(low), int(high), log=True)
        else:
            params[name] = trial.suggest_float(name, float(low), float(high), log=True)
    return params


def grid_points(space: dict[str, tuple[float, float]], n_trials: int) -> dict[str, list[Any]]:
    """A log-spaced grid with at most `n_trials` points: one more value per name in turn while it fits. (15)

    20 trials over 3 names give 3 × 3 × 2 = 18 points. A range cut into n equal parts on the log
    scale gets the middles of the parts (n = 1: the geometric middle), not its ends, which a wide
    range makes bad. Integer ranges are rounded (duplicates dropped).
    """
    n_trials = _check_budget(n_trials)
    counts = dict.fromkeys(space, 1)
    grew = True
    while grew:
        grew = False
        for name in space:
            if math.prod(counts.values()) // counts[name] * (counts[name] + 1) <= n_trials:
                counts[name] += 1
                grew = True
    grid: dict[str, list[Any]] = {}
    for name, (low, high) in space.items():
        values = low * (high / low) ** ((np.arange(counts[name]) + 0.5) / counts[name])
        if isinstance(low, numbers.Integral) and isinstance(high, numbers.Integral):
            grid[name] = sorted({int(round(v)) for v in values})
        else:
            grid[name] = [float(v) for v in values]
    return grid


def make_study(sampler: str, space: dict[str, tuple[float, float]], n_trials: int, *, seed: int = 0,
               prune: bool = False, direction: str = "minimize", tpe_startup: int = 10,
               pruner_startup: int = 5, pruner_warmup: int = 0, **create: Any) -> optuna.Study:
    """An Optuna study with a seeded "grid", "random" or "tpe" sampler; a MedianPruner if `prune`. (15)

    "grid" runs `grid_points(space, n_trials)`; "tpe" draws its first `tpe_startup` trials at random.
    The pruner stops a trial whose validation score at a step is worse than the median of the earlier
    trials at that step, after `pruner_startup` whole trials and `pruner_warmup` steps. `create`
    goes to `optuna.create_study` (storage, study_name, load_if_exists).
    """
    if sampler not in SAMPLERS:
        raise ValueError(bilingual(
            f"`sampler` は {list(SAMPLERS)} のどれかにしてください（{sampler!r} が渡されました）。",
            f"`sampler` must be one of {list(SAMPLERS)}; got {sampler!r}.",
        ))
    seed, n_trials = check_seed(seed), _check_budget(n_trials)
    chosen: optuna.samplers.BaseSampler
    if sampler == "grid":
        chosen = optuna.samplers.GridSampler(grid_points(space, n_trials), seed=seed)
    elif sampler == "random":
        chosen = optuna.samplers.RandomSampler(seed=seed)
    else:
        chosen = optuna.samplers.TPESampler(seed=seed, n_startup_trials=tpe_startup)
    pruner = (optuna.pruners.MedianPruner(n_startup_trials=pruner_startup, n_warmup_steps=pruner_warmup)
              if prune else optuna.pruners.NopPruner())
    return optuna.create_study(direction=direction, sampler=chosen, pruner=pruner, **create)


def train_mf(params: dict[str, Any], train: Ratings, val: Ratings, *, max_steps: int = 300,
             eval_every: int = 10, patience: int = 3, seed: int = 0,
             callback: Any = None) -> tuple[BiasedMF, History]:
    """`BiasedMF` with `params` (rank, lr, reg; missing ones at 07's 10, 0.1, 0.04) fitted by `fit`. (15)

    The model is seeded, so the same params give the same model: retrain the chosen setting with it
    and score the test split once.
    """
    model = BiasedMF(train.n_users, train.n_items, int(params.get("rank", 10)),
                     global_mean=float(train.ratings.mean()), seed=seed)
    history = fit(model, train, val, lr=float(params.get("lr", 0.1)), reg=float(params.get("reg", 0.04)),
                  max_steps=max_steps, eval_every=eval_every, patience=patience, callback=callback)
    return model, history


@torch.no_grad()
def rmse_on(model: BiasedMF, data: Ratings) -> float:
    """RMSE of a `BiasedMF` on a Ratings split (as `fit` measures it). (15)"""
    return _rmse(model, *_triples(data, "data", model.global_mean.dtype))


class MFObjective:
    """Optuna objective: the best validation RMSE of `train_mf` for the trial's (rank, lr, reg). (15)

    Each evaluation reports the validation RMSE to the trial (`trial.report`); when the study's
    pruner says so (`trial.should_prune()`), `fit`'s callback stops training and the trial ends as
    pruned. The steps a trial ran are kept in `trial.user_attrs["steps"]` (`steps_run`). A setting
    that diverges (`DivergenceError`) ends as pruned too, marked `user_attrs["diverged"]`: no score,
    and no warning on stderr as a failed trial would print. The test split is never seen here.
    """

    direction = "minimize"

    def __init__(self, train: Ratings, val: Ratings, *, space: dict[str, tuple[float, float]] | None = None,
                 max_steps: int = 300, eval_every: int = 10, patience: int = 3, seed: int = 0) -> None:
        self.space = check_space(MF_SPACE if space is None else space, ("rank", "lr", "reg"))
        self.train, self.val = train, val
        self.max_steps = check_positive_int(max_steps, "max_steps", "最大ステップ数", "maximum steps")
        self.eval_every = check_positive_int(eval_every, "eval_every", "評価の間隔", "evaluation interval")
        self.patience = check_positive_int(patience, "patience", "早期終了までの評価回数",
                                           "evaluations to wait")
        self.seed = check_seed(seed)

    def __call__(self, trial: optuna.Trial) -> float:
        params = suggest(trial, self.space)

        def report(step: int, val_rmse: float) -> bool:
            trial.report(val_rmse, step)
            return trial.should_prune()

        try:
            _, history = train_mf(params, self.train, self.val, max_steps=self.max_steps,
                                  eval_every=self.eval_every, patience=self.patience, seed=self.seed,
                                  callback=report)
        except DivergenceError as err:
            trial.set_user_attr("steps", len(err.losses) + 1)
            trial.set_user_attr("diverged", True)
            raise optuna.TrialPruned() from None
        trial.set_user_attr("steps", len(history.loss))
        trial.set_user_attr("best_step", history.best_step)
        if history.stopped_by_callback:
            raise optuna.TrialPruned()
        return min(history.val_rmse)


class WALSObjective:
    """Optuna objective: validation NDCG@k of `fit_wals` for the trial's (rank, alpha, reg). (15)

    The validation split is carved from the training interactions (`val_fraction` of each user's,
    `split_interactions_per_user`, seed `split_seed`), as 12 chose α and reg; the test split is never
    seen here. Training interactions are excluded from the ranked lists. Steps = sweeps.
    """

    direction = "maximize"

    def __init__(self, train: Ratings, *, space: dict[str, tuple[float, float]] | None = None,
                 sweeps: int = 10, k: int = 10, val_fraction: float = 0.2, split_seed: int = 1,
                 seed: int = 0) -> None:
        from .implicit import split_interactions_per_user

        self.space = check_space(WALS_SPACE if space is None else space, ("rank", "alpha", "reg"))
        self.sweeps = check_positive_int(sweeps, "sweeps", "スイープ数", "number of sweeps")
        self.k = check_positive_int(k, "k", "上位件数", "list length")
        self.seed = check_seed(seed)
        self.fit_train, self.val = split_interactions_per_user(train, val_fraction, seed=split_seed)

    def ndcg(self, params: dict[str, Any]) -> float:
        """Validation NDCG@k of `fit_wals` with `params`, trained on the rest of the training split."""
        return wals_ndcg(params, self.fit_train, self.val, k=self.k, sweeps=self.sweeps, seed=self.seed)

    def __call__(self, trial: optuna.Trial) -> float:
        value = self.ndcg(suggest(trial, self.space))
        trial.set_user_attr("steps", self.sweeps)
        return value


def wals_ndcg(params: dict[str, Any], train: Ratings, heldout: Ratings, *, k: int = 10, sweeps: int = 10,
              seed: int = 0) -> float:
    """NDCG@k on `heldout` of `fit_wals(train)` with `params` (missing: 12's rank 10, α 0.3, reg 20). (15)

    Every user with a held-out interaction is ranked over all items, training ones excluded, as in 12.
    """
    from .implicit import fit_wals
    from .metrics import held_out_items, ranking_report

    k = check_positive_int(k, "k", "上位件数", "list length")
    relevant = held_out_items(heldout)
    users = np.array(sorted(relevant), dtype=np.int64)
    model = fit_wals(train, rank=int(params.get("rank", 10)), alpha=float(params.get("alpha", 0.3)),
                     reg=float(params.get("reg", 20.0)), sweeps=sweeps, seed=seed)
    top = model.top_n(users, k, exclude=train)
    return ranking_report(dict(zip(users.tolist(), top.tolist(), strict=True)), relevant, k)[f"ndcg@{k}"]


def search(objective: Any, sampler: str = "tpe", n_trials: int = 20, *,
           seed: int = 0, prune: bool = False, **study: Any) -> optuna.Study:
    """Run `n_trials` of `objective` (fewer for a grid that has fewer points) on one torch thread. (15)

    `study` goes to `make_study` (tpe_startup, pruner_startup, pruner_warmup, storage, …).
    """
    n_trials = _check_budget(n_trials)
    made = make_study(sampler, objective.space, n_trials, seed=seed, prune=prune,
                      direction=objective.direction, **study)
    if sampler == "grid":
        n_trials = min(n_trials, math.prod(len(v) for v in grid_points(objective.space, n_trials).values()))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        made.optimize(objective, n_trials=n_trials)
    finally:
        torch.set_num_threads(threads)
    return made


def steps_run(study: optuna.Study) -> int:
    """Training steps (or sweeps) of all the study's trials together, pruned and failed ones included. (15)"""
    return int(sum(t.user_attrs.get("steps", 0) for t in study.trials))


def summary(study: optuna.Study) -> dict[str, Any]:
    """Best value and params; trials complete, pruned (diverged ones apart) and diverged; steps run. (15)"""
    states = [t.state for t in study.trials]
    diverged = sum(bool(t.user_attrs.get("diverged")) for t in study.trials)
    complete = states.count(optuna.trial.TrialState.COMPLETE)
    return {  # no complete trial: no best (None)
        "best_value": study.best_value if complete else None,
        "best_params": study.best_params if complete else None,
        "complete": complete,
        "pruned": states.count(optuna.trial.TrialState.PRUNED) - diverged,
        "diverged": diverged,
        "steps": steps_run(study),
    }


# --- tuning on test: how much the best of N test scores overstates -------------------------------


@dataclass
class ConfigPool:
    """Settings drawn at random and trained once: each one's validation and test RMSE. (15)

    `fresh_rmse`, with the data's `SyntheticTruth`, is the expected RMSE on new ratings of the
    test pairs: sqrt(mean (prediction − true value)² + noise²), what the test RMSE estimates.
    """

    params: list[dict[str, Any]]
    val_rmse: np.ndarray
    test_rmse: np.ndarray
    fresh_rmse: np.ndarray | None


def config_pool(train: Ratings, val: Ratings, test: Ratings, n: int = 40, *,
                space: dict[str, tuple[float, float]] | None = None, truth: Any = None, seed: int = 0,
                max_steps: int = 300, eval_every: int = 10, patience: int = 3) -> ConfigPool:
    """Train `n` random settings (log-uniform in `space`, seeded) and score each on val and test. (15)"""
    space = check_space(MF_SPACE if space is None else space, ("rank", "lr", "reg"))
    n = check_positive_int(n, "n", "設定の数", "number of settings")
    rng = np.random.default_rng(check_seed(seed))
    params, val_rmse, test_rmse, fresh = [], [], [], []
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for _ in range(n):
            setting: dict[str, Any] = {}
            for name, (low, high) in space.items():
                value = math.exp(rng.uniform(math.log(low), math.log(high)))
                integer = isinstance(low, numbers.Integral) and isinstance(high, numbers.Integral)
                setting[name] = min(int(high), max(int(low), round(value))) if integer else value
            try:
                model, history = train_mf(setting, train, val, max_steps=max_steps, eval_every=eval_every,
                                          patience=patience, seed=seed)
            except DivergenceError:
                continue
            params.append(setting)
            val_rmse.append(min(history.val_rmse))
            test_rmse.append(rmse_on(model, test))
            if truth is not None:
                predicted = model.predict(test.users, test.items)
                error = np.mean((predicted - truth.predict(test.users, test.items)) ** 2)
                fresh.append(math.sqrt(error + truth.noise ** 2))
    finally:
        torch.set_num_threads(threads)
    return ConfigPool(params, np.array(val_rmse), np.array(test_rmse),
                      np.array(fresh) if truth is not None else None)


@dataclass
class Optimism:
    """Per repeat: test RMSE of the best of N chosen on test, and of the one chosen on validation. (15)"""

    chosen_on_test: np.ndarray  # min over the N of the test RMSE: what tuning on test reports
    chosen_on_val: np.ndarray  # test RMSE of the setting with the best validation RMSE: the honest report
    fresh_of_test_choice: np.ndarray | None  # expected RMSE on new ratings of the setting chosen on test
    fresh_of_val_choice: np.ndarray | None  # the same for the setting chosen on validation

    @property
    def gap(self) -> np.ndarray:
        """How much better the tuned-on-test score looks than the honest one (≥ 0), per repeat."""
        return self.chosen_on_val - self.chosen_on_test


def tuned_on_test_optimism(pool: ConfigPool, n: int = 20, *, repeats: int = 200, seed: int = 0) -> Optimism:
    """Draw `n` of the pool's settings `repeats` times; pick the best by test and by validation RMSE. (15)

    Repeats share the pool (and its one test split), so their spread shows how one search of N may
    go, not an interval for a new data set.
    """
    n = check_positive_int(n, "n", "選ぶ設定の数 N", "settings per search N")
    repeats = check_positive_int(repeats, "repeats", "繰り返しの回数", "number of repeats")
    if n > len(pool.val_rmse):
        raise ValueError(bilingual(
            f"`n`={n} がプールの設定の数 {len(pool.val_rmse)} を超えています。`n` を減らすか、"
            "`config_pool` でもっと多く学習してください。",
            f"`n`={n} exceeds the pool's {len(pool.val_rmse)} settings: lower `n` or train more "
            "with `config_pool`.",
        ))
    rng = np.random.default_rng(check_seed(seed))
    on_test, on_val, fresh_test, fresh_val = [], [], [], []
    for _ in range(repeats):
        pick = rng.choice(len(pool.val_rmse), size=n, replace=False)
        by_test, by_val = pick[np.argmin(pool.test_rmse[pick])], pick[np.argmin(pool.val_rmse[pick])]
        on_test.append(pool.test_rmse[by_test])
        on_val.append(pool.test_rmse[by_val])
        if pool.fresh_rmse is not None:
            fresh_test.append(pool.fresh_rmse[by_test])
            fresh_val.append(pool.fresh_rmse[by_val])
    known = pool.fresh_rmse is not None
    return Optimism(np.array(on_test), np.array(on_val), np.array(fresh_test) if known else None,
                    np.array(fresh_val) if known else None)


# rank-like size, learning rate and L2 weight of the neural models of 16 (`fit_neural`)
NEURAL_SPACE: dict[str, tuple[float, float]] = {"dim": (8, 64), "lr": (0.001, 0.03), "reg": (0.0001, 0.1)}
NEURAL_KINDS = ("neumf", "mlp")


class NeuralObjective:
    """Optuna objective: the best validation RMSE of a 16 model (NeuMF or MLP) fitted by `fit_neural`. (16)

    The trial's `dim` sets the embedding size (NeuMF: both branches) and the hidden layers
    (2·dim, dim); `lr` and `reg` go to `fit_neural` (mini-batches of `batch_size`, early stopping on
    the validation RMSE after `patience` epochs). Steps = epochs run. No pruning: `fit_neural` has no
    callback. The test split is never seen here.
    """

    direction = "minimize"

    def __init__(self, train: Ratings, val: Ratings, kind: str = "neumf", *,
                 space: dict[str, tuple[float, float]] | None = None, batch_size: int = 4096,
                 epochs: int = 30, patience: int = 3, seed: int = 0) -> None:
        if kind not in NEURAL_KINDS:
            raise ValueError(bilingual(
                f"`kind` は {list(NEURAL_KINDS)} のどれかにしてください（{kind!r} が渡されました）。",
                f"`kind` must be one of {list(NEURAL_KINDS)}; got {kind!r}.",
            ))
        self.kind = kind
        self.space = check_space(NEURAL_SPACE if space is None else space, ("dim", "lr", "reg"))
        self.train, self.val = train, val
        self.batch_size = check_positive_int(batch_size, "batch_size", "バッチサイズ", "batch size")
        self.epochs = check_positive_int(epochs, "epochs", "エポック数", "number of epochs")
        self.patience = check_positive_int(patience, "patience", "待つエポック数", "patience")
        self.seed = check_seed(seed)

    def model(self, params: dict[str, Any]) -> torch.nn.Module:
        """The untrained model for `params` (dim, lr, reg; missing dim: 16)."""
        from .neural import MLPRating, NeuMF

        dim, mean = int(params.get("dim", 16)), float(self.train.ratings.mean())
        n_users, n_items = self.train.n_users, self.train.n_items
        if self.kind == "neumf":
            return NeuMF(n_users, n_items, gmf_dim=dim, mlp_dim=dim, hidden=(2 * dim, dim), global_mean=mean,
                         seed=self.seed)
        return MLPRating(n_users, n_items, dim=dim, hidden=(2 * dim, dim), global_mean=mean, seed=self.seed)

    def train_model(self, params: dict[str, Any]) -> tuple[torch.nn.Module, Any]:
        """Fit the model for `params` as a trial does: the same params give the same model."""
        from .neural import fit_neural

        model = self.model(params)
        history = fit_neural(model, self.train, self.val, lr=float(params.get("lr", 1e-3)),
                             reg=float(params.get("reg", 0.0)), batch_size=self.batch_size,
                             epochs=self.epochs, patience=self.patience, seed=self.seed)
        return model, history

    def __call__(self, trial: optuna.Trial) -> float:
        _, history = self.train_model(suggest(trial, self.space))
        trial.set_user_attr("steps", len(history.val_rmse))
        return float(min(history.val_rmse))


# embedding size, learning rate and L2 weight of NeuMF trained on interactions (16, 12's task)
NEUMF_IMPLICIT_SPACE: dict[str, tuple[float, float]] = {"dim": (8, 64), "lr": (0.001, 0.03),
                                                        "reg": (0.00001, 0.01)}


class NeuMFRankingObjective:
    """Optuna objective: validation NDCG@k of NeuMF trained on interactions (`fit_neural_implicit`). (16)

    As `WALSObjective`: the validation split is carved from the training interactions
    (`val_fraction` of each user's, seed `split_seed`); the test split is never seen here. `dim` sets
    both branches' embedding size and the hidden layers (2·dim, dim); BCE with `n_negatives` uniform
    negatives; at most `epochs`, stopping after `patience` without a better NDCG. The best epoch is
    kept in `trial.user_attrs["best_epoch"]` so the chosen setting can be refit on all the training data.
    """

    direction = "maximize"

    def __init__(self, train: Ratings, *, space: dict[str, tuple[float, float]] | None = None,
                 epochs: int = 15, patience: int = 2, n_negatives: int = 4, k: int = 10,
                 val_fraction: float = 0.2, split_seed: int = 1, seed: int = 0) -> None:
        from .implicit import split_interactions_per_user

        self.space = check_space(NEUMF_IMPLICIT_SPACE if space is None else space, ("dim", "lr", "reg"))
        self.epochs = check_positive_int(epochs, "epochs", "エポック数", "number of epochs")
        self.patience = check_positive_int(patience, "patience", "待つエポック数", "patience")
        self.n_negatives = check_positive_int(n_negatives, "n_negatives", "負例の数", "number of negatives")
        self.k = check_positive_int(k, "k", "上位件数", "list length")
        self.seed = check_seed(seed)
        self.fit_train, self.val = split_interactions_per_user(train, val_fraction, seed=split_seed)

    def fit(self, params: dict[str, Any], train: Ratings, *, epochs: int | None = None,
            validation: Ratings | None = None) -> Any:
        """NeuMF for `params` trained on `train` (with early stopping when `validation` is given)."""
        from .neural import NeuMF, fit_neural_implicit

        dim = int(params.get("dim", 16))
        model = NeuMF(train.n_users, train.n_items, gmf_dim=dim, mlp_dim=dim, hidden=(2 * dim, dim),
                      seed=self.seed)
        return fit_neural_implicit(model, train, loss="bce", n_negatives=self.n_negatives,
                                   lr=float(params.get("lr", 3e-3)), reg=float(params.get("reg", 1e-3)),
                                   epochs=epochs or self.epochs, seed=self.seed, validation=validation,
                                   k=self.k, patience=self.patience if validation is not None else None)

    def __call__(self, trial: optuna.Trial) -> float:
        ranker = self.fit(suggest(trial, self.space), self.fit_train, validation=self.val)
        trial.set_user_attr("steps", len(ranker.val_ndcg))
        trial.set_user_attr("best_epoch", ranker.best_epoch)
        return float(max(ranker.val_ndcg))
