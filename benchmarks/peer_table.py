"""The peer table: the series' trainers against LIBMF, cmfrec, cornac and Surprise, tuned alike.

    python -m benchmarks.run --tables peers                 # 1M-like, 1 and 2 threads (part of make bench)
    python -m benchmarks.run --tables peers --large         # 25M-like (part of make bench-large)
    python -m benchmarks.run --tables peers --smoke         # tiny shape: does every row run

Every method trains on the same split as the ratings table (`benchmarks.data`), at rank 10, with
the same thread count, in a worker process of its own (so its peak memory, VmHWM, is its own).

Tuning, the same small budget for every method: 4 values of its L2 regularization (`GRIDS`), its
learning rate at the library's default, each run for the method's pass budget; the value with the
best validation RMSE is kept. Its curve is then traced: test RMSE against wall time.
- Ours (`fast_als`, `fit_als`, `fit`) run pass by pass; time is setup + training so far, evaluation
  excluded, and the tuning run of the kept value is its curve (early stopping as `fit_als`/`fit`).
- The peers have no per-pass hook: their curve is refits with 1, 2, 3, 4, 6, 8, … passes (fixed seeds:
  with one thread a k-pass fit is the first k passes of a longer one), each timed as the whole call,
  its own set-up included; the validation RMSE at the largest budget picks the value. The time to a
  target is then narrowed by bisection to the first pass count that reaches it.

Best test RMSE: the test RMSE where the validation RMSE was best. Time to best: the wall time of the
first point whose test RMSE is at or below it. "ours →": the time our trainer needs to reach the
same test RMSE, from its own curve.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import importlib.util
import io
import json
import math
import re
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from helpers import rmse
from helpers.training import WARMUP, EarlyStopping, History, _als_sweep, _SparseBatch, fit_biases

from . import fast_als, machine
from .data import RANK, ROOT, Split, load
from .methods import new_model, weights_of

MARK = "PEER-TRACE "
RESULTS = ROOT / "benchmarks" / "results"
DASH = "—"

# 4 values of each method's L2 regularization (its own form: see LABELS' notes)
GRIDS: dict[str, tuple[float, ...]] = {
    "fast_als": (0.5, 1.0, 2.0, 4.0),
    "fit_als": (0.005, 0.01, 0.02, 0.04),
    "fit": (0.005, 0.01, 0.02, 0.04),
    "libmf": (0.005, 0.01, 0.02, 0.05),
    "libmf_centred": (0.005, 0.01, 0.02, 0.05),
    "cmfrec": (0.5, 1.0, 2.0, 4.0),
    "cornac": (0.005, 0.01, 0.02, 0.05),
    "surprise": (0.01, 0.02, 0.05, 0.1),
}
LABELS = {
    "fast_als": "ours: compiled ALS (benchmarks/fast_als.py)",
    "fit_als": "ours: helpers.fit_als",
    "fit": "ours: helpers.fit (Adam, lr 0.1)",
    "libmf": "LIBMF 0.9.2 (SGD) on a biases baseline's residuals",
    "libmf_centred": "LIBMF 0.9.2 (SGD) on mean-centred ratings",
    "cmfrec": "cmfrec 3.5.1 (ALS-CG, biases)",
    "cornac": "cornac 3.0.1 MF (SGD, biases)",
    "surprise": "Surprise 1.1.5 SVD (10 factors)",
}
REG_FORM = {  # what the regularization multiplies, for the footnote
    "fast_als": "λ·‖x_u‖² per row", "fit_als": "λ·n_u·‖x_u‖² (per rating)", "fit": "λ per rating (mean)",
    "libmf": "λ per update", "libmf_centred": "λ per update", "cmfrec": "λ·‖x_u‖² per row",
    "cornac": "λ per update", "surprise": "λ per update",
}
ORDER = list(GRIDS)
OURS = ("fast_als", "fit_als", "fit")
PACKAGES = {"libmf": "libmf", "libmf_centred": "libmf", "cmfrec": "cmfrec", "cornac": "cornac",
            "surprise": "surprise", "fast_als": "numba"}
REFIT_SCHEDULE = (1, 2, 3, 4, 6, 8, 11, 16, 22, 32, 45, 64, 90, 128)


@dataclass
class Budget:
    """Pass budgets of one shape."""

    als_sweeps: int = 15
    als_patience: int = 2
    adam_steps: int = 500  # helpers.fit's defaults: evaluated every 5 steps, lr halved on a plateau,
    adam_eval_every: int = 5  # stopped after `adam_patience` gains of at most `adam_tol`
    adam_patience: int = 2
    adam_tol: float = 1e-4
    libmf_iters: int = 64
    cornac_epochs: int = 90
    surprise_epochs: int = 45
    threads: int = 1
    skip: dict[str, str] = field(default_factory=dict)


BUDGETS = {
    "smoke": Budget(als_sweeps=3, adam_steps=20, libmf_iters=4, cornac_epochs=4, surprise_epochs=3),
    "1m": Budget(),
    "25m": Budget(adam_steps=300, libmf_iters=48, cornac_epochs=64,
                  skip={"surprise": "not run at this shape: about 20 s per epoch in one thread and a "
                                    "trainset of Python tuples several GB (see the ratings table)",
                        "fit": "not run at this shape: about 1 s per step, 4 × up to 300 steps; the ratings "
                               "table has its curve"}),
}


@dataclass
class Point:
    passes: int
    seconds: float
    val: float
    test: float


@dataclass
class Result:
    key: str
    method: str
    status: str = "ok"
    note: str = ""
    unit: str = "pass"
    prep_s: float = 0.0  # untimed conversion before the fits (cornac's Dataset, Surprise's trainset)
    grid: list[tuple[float, float]] = field(default_factory=list)  # (reg, validation RMSE)
    reg: float | None = None
    points: list[Point] = field(default_factory=list)
    pass_s: float = math.nan
    extra: dict[str, float] = field(default_factory=dict)
    rss_base: int = 0
    rss_peak: int = 0


# --- evaluation --------------------------------------------------------------------------------------


class Scorer:
    """Validation and test RMSEs of predictions μ + b_u + b_i + p_u·q_i, in float64."""

    def __init__(self, split: Split) -> None:
        self.parts = [(p.users.astype(np.int64), p.items.astype(np.int64), p.ratings.astype(np.float64))
                      for p in (split.val, split.test)]

    def arrays(self, mu: float, bu: np.ndarray, bi: np.ndarray, P: np.ndarray, Q: np.ndarray
               ) -> tuple[float, float]:
        out = [rmse(mu + bu[u] + bi[i] + np.einsum("nk,nk->n", P[u], Q[i], dtype=np.float64), y)
               for u, i, y in self.parts]
        return out[0], out[1]


# --- our trainers: pass by pass ---------------------------------------------------------------------


class Stopper:
    def __init__(self, patience: int) -> None:
        self.patience, self.best, self.waited = patience, math.inf, 0

    def stop(self, val: float) -> bool:
        if val < self.best:
            self.best, self.waited = val, 0
        else:
            self.waited += 1
        return self.waited >= self.patience or not math.isfinite(val)


def run_fast_als(split: Split, reg: float, budget: Budget, scorer: Scorer) -> list[Point]:
    tr = split.train
    start = time.perf_counter()
    model = fast_als.FastALS.build(tr.users, tr.items, tr.ratings, tr.n_users, tr.n_items, RANK, reg)
    elapsed = time.perf_counter() - start
    points, stopper = [], Stopper(budget.als_patience)
    for k in range(1, budget.als_sweeps + 1):
        start = time.perf_counter()
        model.sweep()
        elapsed += time.perf_counter() - start
        val, test = (model.rmse(u, i, y) for u, i, y in scorer.parts)
        points.append(Point(k, elapsed, val, test))
        if stopper.stop(val):
            break
    return points


@torch.no_grad()
def _model_rmses(model: Any, scorer: Scorer) -> tuple[float, float]:
    P, Q = model.user_factors.weight.numpy(), model.item_factors.weight.numpy()
    bu, bi = model.user_bias.weight[:, 0].numpy(), model.item_bias.weight[:, 0].numpy()
    return scorer.arrays(float(model.global_mean), bu, bi, P, Q)


def run_fit_als(split: Split, reg: float, budget: Budget, scorer: Scorer) -> list[Point]:
    """`helpers.fit_als`'s sweep, timed sweep by sweep (its loss bookkeeping left out, as in the ratings
    table)."""
    start = time.perf_counter()
    model = new_model(split.train)
    batch = _SparseBatch(split.train, (model.n_users, model.n_items), torch.float32)
    elapsed = time.perf_counter() - start
    points, stopper = [], Stopper(budget.als_patience)
    for k in range(1, budget.als_sweeps + 1):
        start = time.perf_counter()
        _als_sweep(batch, model, reg)
        elapsed += time.perf_counter() - start
        points.append(Point(k, elapsed, *_model_rmses(model, scorer)))
        if stopper.stop(points[-1].val):
            break
    return points


def run_fit(split: Split, reg: float, budget: Budget, scorer: Scorer) -> list[Point]:
    """`helpers.fit`'s loop with its default rule (full-batch Adam, lr 0.1, evaluated every 5 steps,
    lr halved on a plateau, stopped after 2 gains of at most 0.01 %), evaluation untimed."""
    start = time.perf_counter()
    model = new_model(split.train)
    batch = _SparseBatch(split.train, (model.n_users, model.n_items), torch.float32)
    rule, history = EarlyStopping(budget.adam_patience, budget.adam_tol, WARMUP, lr_decay=0.5), History()
    opt = rule.adam(weights_of(model), 0.1, validated=True)
    elapsed = time.perf_counter() - start
    points = []
    for k in range(1, budget.adam_steps + 1):
        start = time.perf_counter()
        batch.loss_and_grads(model, reg)
        opt.step()
        elapsed += time.perf_counter() - start
        if k % budget.adam_eval_every == 0 or k == budget.adam_steps:
            points.append(Point(k, elapsed, *_model_rmses(model, scorer)))
            if not math.isfinite(points[-1].val):
                break
            rule.update(k, points[-1].val, model, history)
            if history.stopped_early:
                break
    return points


INCREMENTAL: dict[str, Callable[[Split, float, Budget, Scorer], list[Point]]] = {
    "fast_als": run_fast_als, "fit_als": run_fit_als, "fit": run_fit}


# --- the peers: refits -------------------------------------------------------------------------------


class Peer:
    """A peer library: `fit(reg, passes)` trains from scratch and returns (seconds, val, test)."""

    unit = "epoch"
    max_passes = 0

    def __init__(self, split: Split, budget: Budget, scorer: Scorer) -> None:
        self.split, self.budget, self.scorer = split, budget, scorer
        self.threads = budget.threads
        self.extra: dict[str, float] = {}

    def fit(self, reg: float, passes: int) -> tuple[float, float, float]:
        raise NotImplementedError


def _quiet_import(module: str) -> Any:
    """Import a peer that prints or warns at import time (libmf's wrapper does both)."""
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return importlib.import_module(module)


class LibMF(Peer):
    """LIBMF through its PyPI wrapper (mf.MF): L1 off, L2 = reg, eta 0.1 (its default), our thread count.

    LIBMF has no biases. `baseline=True`: it factorizes the residuals of `fit_biases` (its reg tuned
    on validation, its time in extra["baseline_s"]) and the baseline is added back; False: ratings
    minus their mean. Predictions are μ + b + P[u]·Q[i] from its factors (its predict() expects
    column-major input), checked against the wrapper's own predict on Fortran-ordered input.
    """

    unit = "iteration"

    def __init__(self, split: Split, budget: Budget, scorer: Scorer, baseline: bool) -> None:
        super().__init__(split, budget, scorer)
        self.max_passes = budget.libmf_iters
        self.mf = _quiet_import("libmf.mf")
        tr = split.train
        start = time.perf_counter()
        if baseline:
            best = None
            for breg in (1.0, 5.0, 10.0, 25.0):
                mu, bu, bi = fit_biases(tr, reg=breg)
                val = rmse(mu + bu[split.val.users] + bi[split.val.items], split.val.ratings)
                if best is None or val < best[0]:
                    best = (val, breg, mu, bu, bi)
            assert best is not None
            _, self.extra["baseline_reg"], mu, bu, bi = best
            self.mu, self.bu, self.bi = float(mu), bu.astype(np.float32), bi.astype(np.float32)
            self.extra["baseline_s"] = time.perf_counter() - start
        else:
            self.mu = float(np.mean(tr.ratings, dtype=np.float64))
            self.bu = np.zeros(tr.n_users, np.float32)
            self.bi = np.zeros(tr.n_items, np.float32)
        start = time.perf_counter()
        residual = tr.ratings - self.mu - self.bu[tr.users] - self.bi[tr.items]
        self.X = np.column_stack([tr.users, tr.items, residual]).astype(np.float32)  # the wrapper's input
        self.extra["conversion_s"] = time.perf_counter() - start
        self.checked = False
        self.build = libmf_build()

    def fit(self, reg: float, passes: int) -> tuple[float, float, float]:
        model = self.mf.MF(k=RANK, nr_threads=self.threads, nr_iters=passes, lambda_p1=0.0, lambda_q1=0.0,
                           lambda_p2=reg, lambda_q2=reg, quiet=True)
        start = time.perf_counter()
        model.fit(self.X)
        seconds = time.perf_counter() - start
        P, Q = model.p_factors(), model.q_factors()
        if not self.checked:  # our P[u]·Q[i] equals its predict() given column-major (u, i) pairs
            users, items = self.split.val.users[:1000], self.split.val.items[:1000]
            theirs = model.predict(np.asfortranarray(np.column_stack([users, items]).astype(np.float32)))
            ours = np.einsum("nk,nk->n", P[users], Q[items])
            if not np.allclose(theirs, ours, atol=1e-4):
                raise AssertionError("LIBMF's predict() disagrees with P·Q from its factors")
            self.checked = True
        return (seconds, *self.scorer.arrays(self.mu, self.bu, self.bi, P, Q))


def libmf_build() -> str:
    """Which LIBMF build this is: the flags `make bench` wrote beside its stamp, and whether the compiled
    library calls OpenMP (a plain `pip install libmf` has neither SIMD nor OpenMP)."""
    spec = importlib.util.find_spec("libmf")
    library = next(Path(spec.origin).parent.parent.glob("libmf*.so"), None) if spec and spec.origin else None
    openmp = library is not None and b"GOMP_parallel" in library.read_bytes()
    stamp = Path(sys.prefix) / ".libmf-build"
    flags = stamp.read_text().strip() if stamp.exists() else "flags unknown (not built by make bench)"
    return f"build: {flags}; OpenMP {'linked' if openmp else 'absent'}"


class CMFrec(Peer):
    """cmfrec's CMF: method="als", use_cg=True, user_bias and item_bias, use_float, its other defaults."""

    unit = "sweep"

    def __init__(self, split: Split, budget: Budget, scorer: Scorer) -> None:
        super().__init__(split, budget, scorer)
        self.max_passes = budget.als_sweeps
        import scipy.sparse

        self.cmfrec = _quiet_import("cmfrec")
        tr = split.train
        # a COO matrix keeps our indices (a DataFrame would be re-indexed)
        self.X = scipy.sparse.coo_matrix((tr.ratings, (tr.users, tr.items)), shape=(tr.n_users, tr.n_items))

    def fit(self, reg: float, passes: int) -> tuple[float, float, float]:
        model = self.cmfrec.CMF(k=RANK, lambda_=reg, method="als", use_cg=True, user_bias=True,
                                item_bias=True, use_float=True, niter=passes, nthreads=self.threads,
                                verbose=False, random_state=0)
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(self.X)
        seconds = time.perf_counter() - start
        return (seconds, *self.scorer.arrays(float(model.glob_mean_), model.user_bias_, model.item_bias_,
                                             model.A_, model.B_))


class Cornac(Peer):
    """cornac's MF (biased SGD, lr 0.01 its default): triples shuffled once (it does not reshuffle),
    its Dataset built before the fits (prep, untimed), fit() timed alone."""

    def __init__(self, split: Split, budget: Budget, scorer: Scorer) -> None:
        super().__init__(split, budget, scorer)
        self.max_passes = budget.cornac_epochs
        self.models = _quiet_import("cornac.models")
        from cornac.data import Dataset

        tr = split.train
        start = time.perf_counter()
        order = np.random.default_rng(0).permutation(len(tr))
        triples = list(zip(tr.users[order].tolist(), tr.items[order].tolist(),
                           tr.ratings[order].astype(np.float64).tolist(), strict=True))
        self.data = Dataset.from_uir(triples, seed=0)
        self.users = np.array([self.data.uid_map[u] for u in range(tr.n_users)])  # our id → cornac's
        self.items = np.array([self.data.iid_map[i] for i in range(tr.n_items)])
        self.prep_s = time.perf_counter() - start

    def fit(self, reg: float, passes: int) -> tuple[float, float, float]:
        model = self.models.MF(k=RANK, max_iter=passes, learning_rate=0.01, lambda_reg=reg, use_bias=True,
                               num_threads=self.threads, seed=0, verbose=False)
        start = time.perf_counter()
        model.fit(self.data)
        seconds = time.perf_counter() - start
        P, Q = model.u_factors[self.users], model.i_factors[self.items]
        return (seconds, *self.scorer.arrays(float(model.global_mean), model.u_biases[self.users],
                                             model.i_biases[self.items], P, Q))


class SurpriseSVD(Peer):
    """Surprise's SVD with 10 factors (lr 0.005 its default), on the trainset of benchmarks.peers."""

    def __init__(self, split: Split, budget: Budget, scorer: Scorer) -> None:
        super().__init__(split, budget, scorer)
        self.max_passes = budget.surprise_epochs
        from .peers import _trainset

        start = time.perf_counter()
        self.trainset = _trainset(split)
        self.prep_s = time.perf_counter() - start

    def fit(self, reg: float, passes: int) -> tuple[float, float, float]:
        from surprise import SVD

        algo = SVD(n_factors=RANK, n_epochs=passes, reg_all=reg, random_state=0)
        start = time.perf_counter()
        algo.fit(self.trainset)
        seconds = time.perf_counter() - start
        return (seconds, *self.scorer.arrays(self.trainset.global_mean, algo.bu, algo.bi, algo.pu, algo.qi))


PEERS: dict[str, Callable[[Split, Budget, Scorer], Peer]] = {
    "libmf": lambda *a: LibMF(*a, baseline=True),
    "libmf_centred": lambda *a: LibMF(*a, baseline=False),
    "cmfrec": CMFrec,
    "cornac": Cornac,
    "surprise": SurpriseSVD,
}


def _schedule(max_passes: int) -> list[int]:
    return sorted({k for k in REFIT_SCHEDULE if k < max_passes} | {max_passes})


def reaches(test: float, target: float) -> bool:
    """Test RMSE `test` counts as reaching `target` at the table's precision (4 decimals): a curve that
    still creeps down in the 5th decimal has reached its value where the table could tell."""
    return round(test, 4) <= round(target, 4)


def trace_peer(peer: Peer, reg: float) -> list[Point]:
    """Refits along the schedule, then bisection between the last point above the best test RMSE and the
    first reaching it, so that the time to the best is that of the fewest passes reaching it."""
    points = {k: Point(k, *peer.fit(reg, k)) for k in _schedule(peer.max_passes)}
    target = min(points.values(), key=lambda p: p.val).test
    ks = sorted(points)
    first = next(k for k in ks if reaches(points[k].test, target))
    below = max((k for k in ks if k < first), default=0)
    while first - below > 1:
        mid = (first + below) // 2
        points[mid] = Point(mid, *peer.fit(reg, mid))
        if reaches(points[mid].test, target):
            first = mid
        else:
            below = mid
    return [points[k] for k in sorted(points)]


# --- one method in a worker --------------------------------------------------------------------------


def run_method(key: str, split: Split, budget: Budget) -> Result:
    result = Result(key, LABELS[key])
    package = PACKAGES.get(key)
    if key in budget.skip:
        result.status, result.note = "skipped", budget.skip[key]
        return result
    if key == "surprise" and budget.threads > 1:
        result.status, result.note = "skipped", "single-threaded: its row is in the 1-thread table"
        return result
    if package and importlib.util.find_spec(package) is None:
        result.status = "skipped"
        result.note = f"{package} not installed (pip install -r requirements-bench.txt)"
        return result
    scorer = Scorer(split)
    if key == "fast_als":  # compile, or load numba's cache, outside the timings
        start = time.perf_counter()
        fast_als.kernels()
        warm = fast_als.FastALS.build(np.array([0, 1]), np.array([0, 1]), np.array([1.0, 2.0], np.float32),
                                      2, 2, RANK, 1.0)
        warm.sweep()
        result.note = f"JIT/cache load {time.perf_counter() - start:.1f} s not counted"
    if key in INCREMENTAL:
        result.unit = {"fit": "step"}.get(key, "sweep")
        runs = {reg: INCREMENTAL[key](split, reg, budget, scorer) for reg in GRIDS[key]}
        result.grid = [(reg, min(p.val for p in pts)) for reg, pts in runs.items()]
        result.reg = min(result.grid, key=lambda g: g[1])[0]
        result.points = runs[result.reg]
        first = result.points[0]
        per = np.diff([p.seconds for p in result.points]) / np.diff([p.passes for p in result.points])
        result.pass_s = float(np.median(per)) if per.size else first.seconds / first.passes
        return result
    peer = PEERS[key](split, budget, scorer)
    result.unit, result.prep_s = peer.unit, getattr(peer, "prep_s", 0.0)
    finals = {reg: peer.fit(reg, peer.max_passes) for reg in GRIDS[key]}
    result.grid = [(reg, val) for reg, (_, val, _) in finals.items()]
    result.reg = min(result.grid, key=lambda g: g[1])[0]
    result.points = trace_peer(peer, result.reg)
    one = next(p for p in result.points if p.passes == 1)
    last = result.points[-1]
    slope = (last.seconds - one.seconds) / (last.passes - 1) if last.passes > 1 else 0.0
    # The time per pass is the slope between refits; when a pass costs less than the timing noise (the
    # smoke shape's millisecond fits), the slope can come out ≤ 0: then the whole last fit per pass,
    # fixed cost included, an upper bound.
    result.pass_s = slope if slope > 0 else last.seconds / last.passes
    result.extra = dict(peer.extra, fixed_s=max(0.0, one.seconds - result.pass_s))
    if isinstance(peer, LibMF):
        result.note = peer.build
    return result


def worker(path: Path, names: list[str], budget: Budget) -> None:
    torch.set_num_threads(budget.threads)
    split = load(path)
    for key in names:
        base = machine.rss_now()
        try:
            result = run_method(key, split, budget)
        except Exception as err:  # a peer that fails is a row that says so, not a lost table
            result = Result(key, LABELS[key], "failed", f"{type(err).__name__}: {err}")
        result.rss_base, result.rss_peak = base, machine.rss_peak()
        print(MARK + json.dumps(asdict(result)), flush=True)


# --- the table and the plot --------------------------------------------------------------------------

COLUMNS = ["trainer", "reg (of 4)", "prep s", "per", "s/pass", "passes", "t→best s", "test RMSE", "/σ",
           "peak RSS MB", "ours → s", "× ours", "ours → +0.1% s", "fit_als → s", "note"]
NEAR = 1.001  # "within 0.1 %" of a row's test RMSE
TEXT = ("trainer", "per", "note")


def _num(value: float | None, digits: int = 3) -> str:
    if value is None or not math.isfinite(value) or value <= 0:
        return DASH
    return f"{value:.{digits}g}" if value < 10 ** digits else f"{value:.0f}"


def best_point(result: dict[str, Any]) -> dict[str, Any]:
    return min(result["points"], key=lambda p: p["val"])


def time_to(result: dict[str, Any], target: float) -> dict[str, Any] | None:
    """The point with the fewest passes whose test RMSE reaches `target` (at 4 decimals, `reaches`)."""
    ordered = sorted(result["points"], key=lambda p: p["passes"])
    return next((p for p in ordered if reaches(p["test"], target)), None)


def summary(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per row: best test RMSE, its time, and our trainers' times to the same RMSE (None: never)."""
    ok = {r["key"]: r for r in results if r["status"] == "ok" and r["points"]}
    rows = []
    for r in results:
        row: dict[str, Any] = {"key": r["key"], "method": r["method"], "status": r["status"]}
        if r["key"] in ok:
            best = best_point(r)
            reach = time_to(r, best["test"])
            row.update(test=best["test"], seconds=reach["seconds"] if reach else None,
                       passes=reach["passes"] if reach else None)
            for ours in ("fast_als", "fit_als"):  # left out when that trainer did not run (no numba)
                if ours in ok:
                    mine = time_to(ok[ours], best["test"])
                    row[f"{ours}_s"] = mine["seconds"] if mine else None
            if "fast_als" in ok:
                near = time_to(ok["fast_als"], NEAR * best["test"])
                row["fast_als_near_s"] = near["seconds"] if near else None
        rows.append(row)
    return rows


def _reach(row: dict[str, Any], key: str) -> str:
    """A time, "never", or a dash when that trainer did not run."""
    return DASH if key not in row else "never" if row[key] is None else _num(row[key])


def table(results: list[dict[str, Any]], noise: float) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |",
             "|" + "|".join("---" if c in TEXT else "---:" for c in COLUMNS) + "|"]
    for r, s in zip(results, summary(results), strict=True):
        cells = {c: DASH for c in COLUMNS}
        cells["trainer"], cells["note"] = r["method"], r["note"]
        if r["status"] == "ok" and r["points"]:
            ours = s.get("fast_als_s")

            cells.update({
                "reg (of 4)": f"{r['reg']:g}", "prep s": _num(r["prep_s"]) if r["prep_s"] else DASH,
                "per": r["unit"], "s/pass": _num(r["pass_s"]), "passes": str(s["passes"]),
                "t→best s": _num(s["seconds"]), "test RMSE": f"{s['test']:.4f}",
                "/σ": f"{s['test'] / noise:.4f}",
                "peak RSS MB": _num(r["rss_peak"] / 2**20, 4),
                "ours → s": _reach(s, "fast_als_s"),
                "× ours": DASH if ours is None or r["key"] == "fast_als" else f"{s['seconds'] / ours:.2f}",
                "ours → +0.1% s": _reach(s, "fast_als_near_s"),
                "fit_als → s": _reach(s, "fit_als_s"),
            })
            extra = r["extra"]
            if "conversion_s" in extra:
                cells["note"] = "; ".join(filter(None, [
                    cells["note"], f"wrapper conversion {extra['conversion_s']:.3g} s (not in t→best)",
                    f"fixed {extra['fixed_s']:.3g} s + {r['pass_s']:.3g} s/iteration in its fit()",
                    f"biases baseline {extra['baseline_s']:.3g} s (reg {extra['baseline_reg']:g}; "
                    "not in t→best)" if "baseline_s" in extra else ""]))
        elif not r["note"].startswith(r["status"]):
            cells["note"] = f"{r['status']}: {r['note']}"
        lines.append("| " + " | ".join(cells[c] for c in COLUMNS) + " |")
    return "\n".join(lines)


def footnotes(budget: Budget) -> str:
    grids = "; ".join(f"{k} {', '.join(f'{v:g}' for v in GRIDS[k])} ({REG_FORM[k]})" for k in ORDER)
    return "\n".join([
        f"- Grids (4 values each, best validation RMSE kept): {grids}. Learning rates: each library's "
        "default (LIBMF eta 0.1 with its adaptive steps, cornac 0.01, Surprise 0.005; fit: Adam lr 0.1).",
        f"- Budgets: ALS {budget.als_sweeps} sweeps (patience {budget.als_patience}), fit "
        f"{budget.adam_steps} steps (evaluated every {budget.adam_eval_every}; helpers.fit's default rule: "
        f"lr halved when a gain is under 0.1 %, stopped after {budget.adam_patience} gains of at most "
        f"{budget.adam_tol:g}), LIBMF "
        f"{budget.libmf_iters} iterations, cornac {budget.cornac_epochs} epochs, Surprise "
        f"{budget.surprise_epochs} epochs.",
        "- test RMSE: where the validation RMSE was best; /σ: over the noise floor. t→best s: wall time of "
        "the fewest passes reaching it — ours: setup + training (evaluation excluded); peers: the whole "
        "fit() call of a refit with that many passes (bisected). prep s: conversion before fit(), untimed. "
        "ours → s: our compiled ALS's time to the same test RMSE; × ours: the row's time / that; "
        "ours → +0.1% s: its time to within 0.1 % of it. fit_als → s: helpers.fit_als's time to the same "
        "RMSE.",
        f"- Threads: {budget.threads} for every library (torch, numba, OpenMP, BLAS; LIBMF nr_threads, "
        "cmfrec nthreads, cornac num_threads); Surprise is single-threaded. peak RSS MB: the worker's VmHWM.",
    ])


def plot(runs: list[dict[str, Any]], shape_label: str, path: Path) -> None:
    """Test RMSE against wall time, one panel per thread count."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from helpers.plotting import use_japanese_font

    use_japanese_font()
    fig, axes = plt.subplots(1, len(runs), figsize=(6.2 * len(runs), 4.4), squeeze=False, sharey=True)
    for ax, run in zip(axes[0], runs, strict=True):
        floor = run["noise"]
        for r in run["results"]:
            if r["status"] != "ok" or not r["points"]:
                continue
            pts = sorted(r["points"], key=lambda p: p["passes"])
            style = "-" if r["key"] in OURS else "--"
            color = plt.get_cmap("tab10")(ORDER.index(r["key"]))  # one colour per method in every figure
            ax.plot([p["seconds"] for p in pts], [p["test"] for p in pts], style, marker=".", color=color,
                    label=r["method"])
        ax.axhline(floor, color="gray", lw=0.8)
        ax.set_xscale("log")
        ax.set_ylim(floor * 0.98, floor * 1.4)
        ax.set_xlabel("経過時間（秒、対数） / wall time (s, log scale)")
        ax.set_title(f"{shape_label}: {run['threads']} スレッド / thread(s)")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("テスト RMSE / test RMSE")
    handles = {}  # every method that has a line in any panel (Surprise runs at 1 thread only)
    for ax in axes[0]:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.setdefault(label, handle)
    axes[0][-1].legend(list(handles.values()), list(handles), fontsize=7, loc="upper right")
    fig.suptitle("benchmarks/README.md の 2 コアのマシンで測定 / measured on the 2-core machine of "
                 "benchmarks/README.md", fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def bench(shape_key: str, split_path: Path, noise: float, shape_label: str, threads_list: list[int],
          smoke: bool, names: list[str], run_worker: Callable[..., list[dict[str, Any]]]) -> dict[str, Any]:
    """Run every method at each thread count, print the tables, save the plot (not for --smoke)."""
    runs = []
    for threads in threads_list:
        budget = dataclasses.replace(BUDGETS[shape_key], threads=threads)
        results: list[dict[str, Any]] = []
        for group in ([names] if smoke else [[n] for n in names]):
            print(f"[peers {shape_key} t{threads}] {','.join(group)} ...", file=sys.stderr, flush=True)
            results += run_worker(split_path, group, budget)
        print(f"\n### {shape_label}, {threads} thread(s)\n")
        print(table(results, noise))
        print(footnotes(budget), flush=True)
        runs.append({"threads": threads, "noise": noise, "results": results, "summary": summary(results),
                     "budget": asdict(budget)})
    out = {"shape": shape_key, "label": shape_label, "machine": machine.describe(), "runs": runs,
           "date": time.strftime("%Y-%m-%d")}
    stored = RESULTS / f"peers_{shape_key}.json"
    if not smoke and set(names) != set(ORDER) and stored.exists():
        out = merge(json.loads(stored.read_text()), out)  # a re-run of some rows replaces only those
        for run in out["runs"]:
            print(f"\n### {shape_label}, {run['threads']} thread(s), merged with {stored.name}\n")
            print(table(run["results"], noise))
    if not smoke:
        plot(out["runs"], shape_label, RESULTS / f"peers_{shape_key}.png")
        (RESULTS / f"peers_{shape_key}.json").write_text(json.dumps(out, indent=1, default=str) + "\n")
    return out


def merge(stored: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """`stored` with the rows of `new` put in place of the same methods at the same thread counts."""
    for run in new["runs"]:
        old = next((r for r in stored["runs"] if r["threads"] == run["threads"]), None)
        if old is None:
            stored["runs"].append(run)
            continue
        fresh = {r["key"]: r for r in run["results"]}
        old["results"] = [fresh.pop(r["key"], r) for r in old["results"]] + list(fresh.values())
        old["budget"] = run["budget"]  # the code's budgets now (the rows not re-run kept theirs)
        old["summary"] = summary(old["results"])
    rerun = {r["key"] for run in new["runs"] for r in run["results"]}
    stored["date"] = rerun_note(stored["date"], new["date"][:10], rerun)
    return stored


def rerun_note(date: str, day: str, keys: set[str]) -> str:
    """`date` of a stored result with `keys` noted as re-run on `day`: one note per day, no repeats."""
    base = date.split(" (rows re-run ")[0]
    notes: dict[str, set[str]] = {}
    for when, which in re.findall(r"\(rows re-run (\S+): ([^)]*)\)", date):
        notes.setdefault(when, set()).update(which.split(", "))
    notes.setdefault(day, set()).update(keys)
    return base + "".join(f" (rows re-run {when}: {', '.join(sorted(which))})"
                          for when, which in sorted(notes.items()))


def render(path: Path) -> str:
    """The tables of a stored result (benchmarks/results/peers_*.json), as printed by the run."""
    stored = json.loads(path.read_text())
    parts = []
    for run in stored["runs"]:
        budget = Budget(**run["budget"])
        parts += [f"### {stored['label']}, {run['threads']} thread(s)\n", table(run["results"], run["noise"]),
                  footnotes(budget), ""]
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> None:
    """A worker (--data, --methods, --settings: JSON of Budget, as benchmarks.worker), or --render FILE."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path)
    parser.add_argument("--methods", help=f"comma-separated, from {', '.join(ORDER)}")
    parser.add_argument("--settings", default="{}")
    parser.add_argument("--render", type=Path, help="print the tables of a stored peers_*.json instead")
    args = parser.parse_args(argv)
    if args.render:
        print(render(args.render))
        return
    if args.data is None or args.methods is None:
        parser.error("a worker needs --data and --methods")
    worker(args.data, args.methods.split(","), Budget(**json.loads(args.settings)))


if __name__ == "__main__":
    main()
