"""The implicit-feedback table: our weighted ALS (`helpers.implicit.fit_wals`) against the `implicit` library.

    python -m benchmarks.run --tables implicit            # 100k- and 1M-like interactions
    python -m benchmarks.run --tables implicit --large    # 25M-like (chunked generator)

Data: `helpers.implicit.make_interactions` at the 100k-/1M-like shapes, `benchmarks.data.
make_interactions_chunked` (same model) at the 25M-like shape; 20 % of each user's interactions
held out (`split_interactions_per_user`, seed 0). Every row factorizes the same training counts with
the same rank, α, reg and number of iterations, in float32, and is evaluated after every iteration
(evaluation not timed): NDCG@10 with the training items excluded and every other item ranked, over
all test users (100k, 1M) or 1,000 sampled ones (25M-like). Each method runs in a worker process of
its own (this module's `main`), so that its peak memory (VmHWM) is its own.

Conventions matched (implicit 0.7.3, implicit/cpu/als.py and _als.pyx): implicit reads the value
of the user × item matrix, times its own `alpha`, as the confidence c_ui itself (A_u = YᵀY + reg·I
+ Σ (c_ui − 1) y_i y_iᵀ, b_u = Σ c_ui y_i): it does not add the 1. Ours is c_ui = 1 + α·count. So
implicit gets the matrix 1 + α·count and alpha = 1.0 (its multiplication is then skipped); its reg
is added to each row's YᵀY unscaled, as ours. CG: 3 steps per half-sweep warm-started from the
current factors, in both. The one difference is the start: implicit draws users and items uniform
in [0, 0.01), ours starts users at 0 and items N(0, 0.01²) (`fit_wals`). The implicit rows run twice:
from ours ("same start": then both compute the same iterates, to float32 rounding) and from its own
(the library as a user would call it; all-positive factors start nearly collinear and converge slower).
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import json
import math
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from helpers.datasets import Ratings
from helpers.implicit import (
    WALSModel,
    _wals_sweeps,
    make_interactions,
    popularity_top_n,
    split_interactions_per_user,
)
from helpers.metrics import ranking_report

from . import machine
from .data import CACHE_DIR, make_interactions_chunked

CACHE_VERSION = 1
MARK = "IMPLICIT-TRACE "
WITHIN = 0.98  # the NDCG target: 98 % of the best NDCG@10 any row reached


@dataclass(frozen=True)
class Shape:
    key: str
    label: str
    n_users: int
    n_items: int
    n_interactions: int
    chunked: bool = False


SHAPES: dict[str, Shape] = {
    "smoke": Shape("smoke", "smoke 300 x 200 interactions", 300, 200, 6_000),
    "100k": Shape("100k", "MovieLens-100k-like interactions", 943, 1_682, 100_000),
    "1m": Shape("1m", "MovieLens-1M-like interactions", 6_040, 3_706, 1_000_209),
    "25m": Shape("25m", "MovieLens-25M-like interactions", 162_541, 59_047, 25_000_095, chunked=True),
}


@dataclass
class Settings:
    """The same for every row: rank, α, reg (the notebook's, picked at 100k), iterations, evaluation."""

    rank: int = 10
    alpha: float = 0.3
    reg: float = 20.0
    iterations: int = 15
    cg_steps: int = 3
    k: int = 10
    eval_users: int = 0  # 0: every test user; else this many, sampled with seed 0
    bpr_epochs: int = 0  # 0: no BPR row
    threads: int = 1


SETTINGS = {
    "smoke": Settings(iterations=3, bpr_epochs=1),
    "100k": Settings(bpr_epochs=20),
    "1m": Settings(bpr_epochs=20),
    "25m": Settings(eval_users=1_000, bpr_epochs=1),
}


@dataclass
class Trace:
    method: str
    key: str
    status: str = "ok"  # ok | skipped | failed
    note: str = ""
    unit: str = "iteration"
    setup_s: float = 0.0
    iterations: list[int] = field(default_factory=list)
    times: list[float] = field(default_factory=list)  # training seconds so far, evaluation excluded
    ndcg: list[float] = field(default_factory=list)
    step_s: float = math.nan  # median seconds of one iteration (epoch)
    rss_base: int = 0
    rss_peak: int = 0


# --- data --------------------------------------------------------------------------------------


def cache_path(shape: Shape, cache_dir: Path = CACHE_DIR) -> Path:
    return cache_dir / (f"implicit_{shape.key}_{shape.n_users}x{shape.n_items}_{shape.n_interactions}"
                        f"_seed0_v{CACHE_VERSION}.npz")


def generate(shape: Shape) -> tuple[Ratings, Ratings]:
    """(train, test): `make_interactions` (chunked at 25M-like), seed 0, 20 % per user held out (seed 0)."""
    make = make_interactions_chunked if shape.chunked else make_interactions
    data, _ = make(shape.n_users, shape.n_items, shape.n_interactions, seed=0)
    return split_interactions_per_user(data, 0.2, seed=0)


def ensure(shape: Shape, cache_dir: Path = CACHE_DIR) -> Path:
    """The cached split of `shape` (int32 arrays in an uncompressed .npz), generated on first use."""
    path = cache_path(shape, cache_dir)
    if path.exists():
        return path
    print(f"generating {shape.label} ({shape.n_interactions:,} interactions) into {path} ...",
          file=sys.stderr, flush=True)
    started = time.perf_counter()
    train, test = generate(shape)
    arrays: dict[str, np.ndarray] = {"shape": np.array([train.n_users, train.n_items])}
    for name, part in (("train", train), ("test", test)):
        arrays[f"{name}_users"] = part.users.astype(np.int32)
        arrays[f"{name}_items"] = part.items.astype(np.int32)
        arrays[f"{name}_counts"] = part.ratings.astype(np.int32)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.{os.getpid()}.tmp.npz")
    np.savez(partial, **arrays)
    partial.replace(path)
    print(f"generated in {time.perf_counter() - started:.0f} s (peak RSS "
          f"{machine.rss_peak() / 2**20:.0f} MB)", file=sys.stderr, flush=True)
    return path


def load(path: Path) -> tuple[Ratings, Ratings]:
    with np.load(path) as f:
        n_users, n_items = (int(v) for v in f["shape"])
        return tuple(Ratings(f[f"{p}_users"], f[f"{p}_items"], f[f"{p}_counts"], n_users, n_items)
                     for p in ("train", "test"))  # type: ignore[return-value]


# --- evaluation ----------------------------------------------------------------------------------


class Evaluator:
    """NDCG@k of factor tables over the test users (all, or a sample), training items excluded."""

    def __init__(self, train: Ratings, test: Ratings, k: int, eval_users: int) -> None:
        users = np.unique(test.users)
        if eval_users and eval_users < users.size:
            users = np.sort(np.random.default_rng(0).choice(users, eval_users, replace=False))
        self.users, self.k = users, k
        keep = np.isin(test.users, users)
        self.relevant: dict[int, set[int]] = {}
        for u, i in zip(test.users[keep].tolist(), test.items[keep].tolist(), strict=True):
            self.relevant.setdefault(u, set()).add(i)
        self.exclude = train.subset(np.isin(train.users, users))  # only the sampled users' rows

    def lists(self, top: np.ndarray) -> float:
        return ranking_report(dict(zip(self.users.tolist(), top.tolist(), strict=True)), self.relevant,
                              self.k)[f"ndcg@{self.k}"]

    def factors(self, user_factors: np.ndarray, item_factors: np.ndarray) -> float:
        model = WALSModel(np.asarray(user_factors), np.asarray(item_factors), [], [])
        return self.lists(model.top_n(self.users, self.k, exclude=self.exclude))


# --- the methods ---------------------------------------------------------------------------------


def ours(solver: str, train: Ratings, evaluator: Evaluator, settings: Settings) -> Trace:
    """`fit_wals`'s sweeps (its own generator), evaluated between sweeps."""
    trace = Trace(f"ours: fit_wals, {'exact (Cholesky)' if solver == 'cholesky' else 'CG, 3 steps'}",
                  key="wals" if solver == "cholesky" else "wals_cg")
    sweeps = _wals_sweeps(train, settings.rank, settings.alpha, settings.reg, solver, settings.cg_steps,
                          seed=0, dtype=torch.float32)
    for k in range(1, settings.iterations + 1):
        start = time.perf_counter()
        X, Y, seconds = next(sweeps)
        if k == 1:  # the first next() also builds the CSR views (and the exact solver's block plan)
            trace.setup_s = time.perf_counter() - start - seconds
        _record(trace, evaluator, k, seconds, X.numpy(), Y.numpy())
    return _finish(trace)


def implicit_als(use_cg: bool, same_start: bool, train: Ratings, evaluator: Evaluator,
                 settings: Settings) -> Trace:
    """implicit's CPU ALS on the matrix 1 + α·count with alpha = 1.0 (see the module text); `same_start`:
    from `fit_wals`' initial factors instead of its own."""
    start_text = "same start as ours" if same_start else "its own start"
    key = ("implicit_cg" if use_cg else "implicit") + ("_same" if same_start else "")
    trace = Trace(f"implicit {_implicit_version()}: ALS, {'CG, 3 steps' if use_cg else 'exact (Cholesky)'}, "
                  f"{start_text}", key=key)
    if importlib.util.find_spec("implicit") is None:
        trace.status, trace.note = "skipped", "implicit not installed (pip install -r requirements-bench.txt)"
        return trace
    import scipy.sparse
    from implicit.cpu.als import AlternatingLeastSquares
    from threadpoolctl import threadpool_limits

    start = time.perf_counter()
    confidence = (1.0 + settings.alpha * train.ratings.astype(np.float64)).astype(np.float32)
    user_items = scipy.sparse.csr_matrix((confidence, (train.users, train.items)),
                                         shape=(train.n_users, train.n_items))
    model = AlternatingLeastSquares(factors=settings.rank, regularization=settings.reg, alpha=1.0,
                                    dtype=np.float32, use_cg=use_cg, iterations=settings.iterations,
                                    num_threads=settings.threads, random_state=0)
    model.cg_steps = settings.cg_steps
    if same_start:  # fit_wals' start: users 0, items 0.01 · N(0, 1) from torch's generator with seed 0
        generator = torch.Generator().manual_seed(0)
        model.item_factors = (0.01 * torch.randn(train.n_items, settings.rank, generator=generator,
                                                 dtype=torch.float32)).numpy()
        model.user_factors = np.zeros((train.n_users, settings.rank), dtype=np.float32)
    trace.setup_s = time.perf_counter() - start

    def callback(iteration: int, elapsed: float, _loss: Any) -> None:  # after each iteration, untimed
        _record(trace, evaluator, iteration + 1, elapsed, model.user_factors, model.item_factors)

    with threadpool_limits(limits=settings.threads):
        model.fit(user_items, show_progress=False, callback=callback)
    return _finish(trace)


def bpr(train: Ratings, evaluator: Evaluator, settings: Settings) -> Trace:
    """`helpers.bpr.fit_bpr` (rank as the others, its other defaults) for `bpr_epochs`: time per epoch."""
    trace = Trace(f"ours: fit_bpr, {settings.bpr_epochs} epochs (defaults)", key="bpr", unit="epoch")
    try:
        from helpers.bpr import fit_bpr
    except ImportError as err:
        trace.status, trace.note = "skipped", f"helpers.bpr not available ({err})"
        return trace
    model = fit_bpr(train, rank=settings.rank, epochs=settings.bpr_epochs, seed=0)
    seconds = list(model.epoch_seconds)
    trace.iterations, trace.times = list(range(1, len(seconds) + 1)), list(np.cumsum(seconds).tolist())
    trace.ndcg = [math.nan] * (len(seconds) - 1) + [evaluator.lists(model.top_n(evaluator.users, settings.k,
                                                                                 exclude=evaluator.exclude))]
    trace.note = "NDCG after the last epoch only; not tuned here"
    return _finish(trace)


def _implicit_version() -> str:
    try:
        from importlib.metadata import version
        return version("implicit")
    except Exception:  # not installed
        return ""


def _record(trace: Trace, evaluator: Evaluator, k: int, seconds: float, X: np.ndarray, Y: np.ndarray) -> None:
    trace.iterations.append(k)
    trace.times.append((trace.times[-1] if trace.times else 0.0) + seconds)
    trace.ndcg.append(evaluator.factors(X, Y))


def _finish(trace: Trace) -> Trace:
    steps = np.diff([0.0, *trace.times])
    trace.step_s = float(statistics.median(steps)) if len(steps) else math.nan
    return trace


METHODS: dict[str, Callable[[Ratings, Evaluator, Settings], Trace]] = {
    "wals": lambda *a: ours("cholesky", *a),
    "wals_cg": lambda *a: ours("cg", *a),
    "implicit_same": lambda *a: implicit_als(False, True, *a),
    "implicit_cg_same": lambda *a: implicit_als(True, True, *a),
    "implicit": lambda *a: implicit_als(False, False, *a),
    "implicit_cg": lambda *a: implicit_als(True, False, *a),
    "bpr": bpr,
}
# ours against implicit with the same solver: from the same start, and from implicit's own
PARTNER = {"wals": ("implicit_same", "implicit"), "wals_cg": ("implicit_cg_same", "implicit_cg")}
ALS_ROWS = ("wals", "wals_cg", "implicit_same", "implicit_cg_same", "implicit", "implicit_cg")


def run_methods(path: Path, names: list[str], settings: Settings) -> list[Trace]:
    """In a worker: load the split, run the named methods one after the other, print their traces."""
    torch.set_num_threads(settings.threads)
    train, test = load(path)
    evaluator = Evaluator(train, test, settings.k, settings.eval_users)
    traces = []
    for name in names:
        base = machine.rss_now()
        if name == "bpr" and not settings.bpr_epochs:
            continue
        trace = METHODS[name](train, evaluator, settings)
        trace.rss_base, trace.rss_peak = base, machine.rss_peak()
        traces.append(trace)
        out = dataclasses.asdict(trace)
        out["step_s"] = trace.step_s if math.isfinite(trace.step_s) else None
        out["ndcg"] = [v if math.isfinite(v) else None for v in trace.ndcg]
        print(MARK + json.dumps(out), flush=True)
    return traces


# --- the table -----------------------------------------------------------------------------------

COLUMNS = ["implementation", "setup s", "per", "s/iter", "× implicit time", "it→target", "s→target",
           "NDCG@10", "× implicit NDCG", "× implicit NDCG, its start", "peak RSS MB", "Δ RSS MB", "note"]
TEXT = ("implementation", "per", "note")
DASH = "—"


def _num(value: float | None, digits: int = 3) -> str:
    if value is None or not math.isfinite(value) or value <= 0:
        return DASH
    return f"{value:.{digits}g}" if value < 10 ** digits else f"{value:.0f}"


def target(traces: list[dict[str, Any]]) -> float | None:
    """WITHIN × the best NDCG@10 of any ALS row at any iteration."""
    best = [v for t in traces if t["key"] in ALS_ROWS for v in t["ndcg"] if v is not None]
    return WITHIN * max(best) if best else None


def table(traces: list[dict[str, Any]]) -> str:
    """A Markdown table: one row per method, ratios against implicit's row with the same solver."""
    goal = target(traces)
    by_key = {t["key"]: t for t in traces if t["status"] == "ok"}
    lines = ["| " + " | ".join(COLUMNS) + " |",
             "|" + "|".join("---" if c in TEXT else "---:" for c in COLUMNS) + "|"]
    for t in traces:
        cells = {c: DASH for c in COLUMNS}
        cells["implementation"], cells["note"] = t["method"], t["note"]
        if t["status"] == "ok":
            final = t["ndcg"][-1] if t["ndcg"] else None
            cells.update({"setup s": _num(t["setup_s"]), "per": t["unit"], "s/iter": _num(t["step_s"]),
                          "NDCG@10": f"{final:.4f}" if final is not None else DASH,
                          "peak RSS MB": _num(t["rss_peak"] / 2**20, 4),
                          "Δ RSS MB": _num((t["rss_peak"] - t["rss_base"]) / 2**20, 4)})
            same, own = (by_key.get(key) for key in PARTNER.get(t["key"], ("", "")))
            if same and same["step_s"] and t["step_s"]:
                cells["× implicit time"] = f"{t['step_s'] / same['step_s']:.2f}"
            for column, partner in (("× implicit NDCG", same), ("× implicit NDCG, its start", own)):
                if partner and partner["ndcg"] and final is not None:
                    cells[column] = f"{final / partner['ndcg'][-1]:.4f}"
            if goal is not None and t["key"] in ALS_ROWS:
                reach = next((j for j, v in enumerate(t["ndcg"]) if v is not None and v >= goal), None)
                cells["it→target"] = "never" if reach is None else str(t["iterations"][reach])
                cells["s→target"] = DASH if reach is None else _num(t["times"][reach])
        elif not t["note"].startswith(t["status"]):
            cells["note"] = f"{t['status']}: {t['note']}"
        lines.append("| " + " | ".join(cells[c] for c in COLUMNS) + " |")
    return "\n".join(lines)


def footnotes(settings: Settings, goal: float | None, popularity: float, n_eval: int) -> str:
    users = "all test users" if not settings.eval_users else f"{n_eval:,} test users sampled with seed 0"
    return "\n".join([
        f"- Same training data, rank {settings.rank}, α {settings.alpha:g} (confidence 1 + α·count), reg "
        f"{settings.reg:g}, {settings.iterations} iterations, float32; CG: {settings.cg_steps} steps per "
        "half-sweep, warm-started. implicit gets the matrix 1 + α·count with alpha=1.0 (it uses the value as "
        "the confidence itself).",
        f"- NDCG@10 after the last iteration over {users}, training items excluded, all other items ranked; "
        f"popularity scores {popularity:.4f}. Target: {WITHIN:.0%} of the best NDCG@10 of any ALS row at any "
        f"iteration = {goal:.4f}; it→target, s→target: the first iteration reaching it and the training "
        "time until then (evaluation and setup excluded)." if goal is not None else
        f"- NDCG@10 over {users}; popularity scores {popularity:.4f}.",
        "- s/iter: median seconds of one iteration (users' then items' half-sweep); × implicit: ours / "
        "implicit's row with the same solver and the same start (time, final NDCG@10), and / its row from "
        "its own start (NDCG@10). peak RSS MB: the worker process's VmHWM "
        "(its own process per method); Δ: minus its RSS after loading the data.",
        f"- Threads: {settings.threads} (torch, BLAS and implicit's num_threads).",
    ])


def bench(shape_key: str, names: list[str], threads: int, cache: Path, smoke: bool,
          run_worker: Callable[..., list[dict[str, Any]]]) -> dict[str, Any]:
    """Generate (or load) the split of one shape, run every method in a worker, print the table."""
    shape = SHAPES[shape_key]
    path = ensure(shape, cache)
    settings = dataclasses.replace(SETTINGS[shape_key], threads=threads)
    traces: list[dict[str, Any]] = []
    groups = [names] if smoke else [[n] for n in names]
    for group in groups:
        print(f"[implicit {shape_key}] {','.join(group)} ...", file=sys.stderr, flush=True)
        traces += run_worker(path, group, settings, "benchmarks.implicit_bench", MARK,
                             lambda name, status, note: dataclasses.asdict(Trace(name, name, status, note)))
    train, test = load(path)
    evaluator = Evaluator(train, test, settings.k, settings.eval_users)
    popularity = evaluator.lists(popularity_top_n(train, evaluator.users, settings.k,
                                                  exclude=evaluator.exclude))
    print(f"\n### {shape.label}: {shape.n_users:,} users × {shape.n_items:,} items, {shape.n_interactions:,} "
          f"interactions (train/test {len(train):,}/{len(test):,})\n")
    print(table(traces))
    print(footnotes(settings, target(traces), popularity, evaluator.users.size), flush=True)
    return {"shape": dataclasses.asdict(shape), "settings": dataclasses.asdict(settings), "traces": traces,
            "popularity_ndcg": popularity}


def main(argv: list[str] | None = None) -> None:
    """A worker: `--data`, `--methods`, `--settings` as `benchmarks.worker`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--methods", required=True, help=f"comma-separated, from {', '.join(METHODS)}")
    parser.add_argument("--settings", default="{}")
    args = parser.parse_args(argv)
    run_methods(args.data, args.methods.split(","), Settings(**json.loads(args.settings)))


if __name__ == "__main__":
    main()
