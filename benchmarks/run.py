"""Benchmark the series' trainers and peer libraries on MovieLens-like synthetic data; print tables.

    python -m benchmarks.run              # 100k- and 1M-like shapes (make bench)
    python -m benchmarks.run --large      # the 25M-like shape (make bench-large)
    python -m benchmarks.run --smoke      # tiny shape, few steps: checks that everything runs
    python -m benchmarks.run --tables implicit   # only the implicit-feedback table (implicit_bench.py)

Each method runs in a fresh worker process (benchmarks.worker) on the same cached split, so its
peak memory is its own; --smoke runs all of them in one worker to stay fast.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from . import implicit_bench, machine, peer_table, report
from .data import CACHE_DIR, RANK, ROOT, SHAPES, Shape, cache_path, ensure
from .methods import FULL_BATCH, Settings
from .peers import SVD_LABEL
from .worker import MARK

ORDER = ["dense", "gather", "fast", "fused", "als", "minibatch", "svd", "svd10", "implicit"]
SETTINGS = {
    "smoke": Settings(max_steps=15, patience=5, time_s=5, sweeps=3, epochs=2, batch=1_000,
                      svd_epochs=(1, 2), implicit_iterations=2),
    # mini-batch: batch size and lr picked by a small sweep at 1M (batch 10k-100k, lr 0.01-0.1)
    "100k": Settings(time_s=20, batch=2_000, batch_lr=0.01, epochs=12),
    "1m": Settings(time_s=30, batch=10_000, batch_lr=0.01, epochs=12),
    "25m": Settings(max_steps=150, patience=6, eval_every=2, time_s=180, sweeps=8, epochs=4, batch=100_000,
                    batch_lr=0.01, implicit_iterations=3),
}
# Not run at the 25M-like shape, and why (the dense form runs: it refuses, with its size).
LARGE_SKIPS = {
    "gather": "not run at this shape: each gathered n × rank temporary is 0.8 GB and autograd keeps "
              "several (over the 4 GB target)",
    "svd": "not run at this shape: at ~25× its 1M time (~20 s per epoch) the refits of its curve (51 epochs) "
           "would take ~20 min, and its trainset of Python tuples several GB",
    "svd10": "not run at this shape (see above)",
}
# Row labels of methods that are skipped before a worker could name them.
LABELS = {**{name: label for name, (label, _) in FULL_BATCH.items()},
          "svd": SVD_LABEL, "svd10": f"Surprise SVD ({RANK} factors)"}
WORKER_TIMEOUT_S = 3600


def _python() -> str:
    return sys.executable


def ensure_data(shape: Shape, cache_dir: Path) -> Path:
    """The cached split of `shape`, generated on first use (1M-like: ~30 s; 25M-like: ~2 min)."""
    path = cache_path(shape, cache_dir)
    if not path.exists():
        print(f"generating {shape.label} ({shape.n_ratings:,} ratings) into {path} ...", file=sys.stderr,
              flush=True)
        ensure(shape, cache_dir)
    return path


def run_worker(path: Path, names: list[str], settings: Any, env: dict[str, str],
               module: str = "benchmarks.worker", mark: str = MARK, stub: Any = None) -> list[dict[str, Any]]:
    """Run methods in one worker process (`module`, printing `mark` + JSON lines); a crashed worker gives
    a "failed" trace (`stub(name, status, note)`) with its last words."""
    stub = stub or _stub
    fields = dataclasses.asdict(settings)
    command = [_python(), "-m", module, "--data", str(path), "--methods", ",".join(names),
               "--settings", json.dumps(fields)]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=WORKER_TIMEOUT_S)
    traces = [json.loads(line[len(mark):]) for line in done.stdout.splitlines() if line.startswith(mark)]
    if done.stderr.strip():
        sys.stderr.write(done.stderr)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        seen = {t["method"] for t in traces}
        note = f"worker exit {done.returncode}: {last}"
        traces += [stub(name, "failed", note) for name in names[len(seen):]]
    for trace in traces:
        if "step_s" in trace:
            trace["step_s"] = float("nan") if trace["step_s"] is None else trace["step_s"]
    return traces


def _stub(name: str, status: str, note: str) -> dict[str, Any]:
    return {"method": name, "unit": "step", "status": status, "note": note, "full_batch": False,
            "setup_s": 0.0, "steps": [], "times": [], "val": [], "test": [], "step_s": float("nan"),
            "rss_base": 0, "rss_peak": 0}


def _split_sizes(path: Path) -> tuple[dict[str, int], float]:
    with np.load(path) as f:
        return {p: int(f[f"{p}_ratings"].shape[0]) for p in ("train", "val", "test")}, float(f["noise"])


def bench_shape(shape: Shape, names: list[str], args: argparse.Namespace,
                env: dict[str, str]) -> dict[str, Any]:
    """Run every method on one shape and print its table."""
    path = ensure_data(shape, args.cache)
    bandwidth = machine.copy_bandwidth()  # per shape: others' load on the machine varies
    sizes, noise = _split_sizes(path)
    settings = dataclasses.replace(SETTINGS[shape.key], threads=args.threads)
    if args.time_budget:
        settings = dataclasses.replace(settings, time_s=args.time_budget)
    skips = LARGE_SKIPS if shape.chunked else {}
    traces: list[dict[str, Any]] = []
    if args.smoke:  # one process for all: memory is then cumulative, said in the footnote
        traces = run_worker(path, [n for n in names if n not in skips], settings, env)
    else:
        for name in names:
            if name in skips:
                traces.append(_stub(LABELS.get(name, name), "skipped", skips[name]))
                continue
            print(f"[{shape.key}] {name} ...", file=sys.stderr, flush=True)
            started = time.perf_counter()
            traces += run_worker(path, [name], settings, env)
            print(f"[{shape.key}] {name} done in {time.perf_counter() - started:.0f} s", file=sys.stderr,
                  flush=True)
    bound = machine.step_bound(sizes["train"], RANK, bandwidth)
    ctx = report.svd_context(traces, noise, bound)
    print(f"\n### {shape.label}: {shape.n_users:,} users × {shape.n_items:,} items, {shape.n_ratings:,} "
          f"ratings (train/val/test {sizes['train']:,}/{sizes['val']:,}/{sizes['test']:,}), rank {RANK}, "
          f"σ = {noise}\n")
    print(report.table(traces, ctx))
    print(footnotes(ctx, settings, bandwidth, args), flush=True)
    return {"shape": dataclasses.asdict(shape), "sizes": sizes, "context": dataclasses.asdict(ctx),
            "bandwidth": bandwidth,
            "settings": dataclasses.asdict(settings), "traces": traces}


def bench_peers(key: str, args: argparse.Namespace) -> dict[str, Any]:
    """The peer table of one shape at each of --peer-threads (a worker per method and thread count)."""
    path = ensure_data(SHAPES[key], args.cache)
    _, noise = _split_sizes(path)
    malloc = machine.MALLOC_TUNED if args.malloc == "tuned" else None

    def worker(split_path: Path, names: list[str], budget: Any) -> list[dict[str, Any]]:
        env = machine.worker_env(budget.threads, malloc)
        return run_worker(split_path, names, budget, env, "benchmarks.peer_table", peer_table.MARK,
                          lambda name, status, note: dataclasses.asdict(
                              peer_table.Result(name, peer_table.LABELS.get(name, name), status, note)))

    return peer_table.bench(key, path, noise, SHAPES[key].label, args.peer_thread_counts, args.smoke,
                            args.peer_method_names, worker)


def footnotes(ctx: report.Context, settings: Settings, bandwidth: float, args: argparse.Namespace) -> str:
    """The notes printed under each table: what every column means and how it was measured."""
    svd = (f"{ctx.svd_rmse:.4f}, reached by Surprise after {ctx.svd_time:.3g} s" if ctx.svd_rmse is not None
           else "n/a: Surprise not run")
    memory = ("all methods ran in ONE process (--smoke), so peak RSS is cumulative" if args.smoke
              else "each method ran in a fresh process")
    bound = f"{ctx.bound_s * 1e3:.3g} ms" if ctx.bound_s else "n/a"
    notes = [
        "test RMSE: at the evaluation with the best validation RMSE (early stopping); /σ: divided by the "
        "noise "
        "floor σ. t→2% s, n→2%: training time (evaluation and setup excluded) and steps (epochs, sweeps) "
        "until the test RMSE first came within 2 % of that value. setup s: building the method's data "
        "structures from the arrays.",
        "ms/step: median time of one unit of `per`: full-batch step, mini-batch epoch, ALS sweep, Surprise "
        "epoch (its 20-epoch fit's time / 20), implicit iteration.",
        f"step/bound (full-batch methods): step time / (2 × training ratings × {RANK} factors × 4 bytes / "
        f"copy bandwidth) = {bound}, the time to read the gathered factor rows once; copy bandwidth: torch "
        f"y.copy_(x) on 64 MB of float32, (read + written) / median time = {bandwidth / 1e9:.1f} GB/s.",
        "peak RSS MB: the worker's peak resident memory (VmHWM); Δ RSS MB: that minus its RSS after "
        "importing torch (and what an optimizer step imports) and loading the data; a peer library's "
        f"import counts in Δ; {memory}.",
        f"t→SVD s, × SVD: time to reach the test RMSE of Surprise's SVD with its defaults after its 20 "
        f"epochs ({svd}), and Surprise's time divided by it. Surprise has no per-epoch hook: its curve is "
        f"refits with the same random_state and n_epochs = {', '.join(map(str, settings.svd_epochs))} (its "
        "SGD visits the ratings in a fixed order at a constant rate, so a k-epoch fit is the first k "
        "epochs of a longer one), each point timed as that whole fit. No method clips predictions.",
        f"Full-batch Adam: lr {settings.lr:g}, reg {settings.reg:g} (helpers.fit's defaults), all from the "
        "same initial model, so their curves agree and only the step cost differs. Budget per method: "
        f"{settings.time_s:g} s of training or {settings.max_steps} steps, evaluated every "
        f"{settings.eval_every}; patience {settings.patience} evaluations (ALS: {settings.als_patience} "
        f"sweeps; mini-batch: {settings.batch_patience_epochs} epochs, evaluated "
        f"{settings.evals_per_epoch}× per epoch). implicit factorizes implicit feedback: its time per "
        "iteration only.",
        f"Threads: torch {args.threads} (OMP/OpenBLAS/MKL/numba likewise; Surprise is single-threaded; "
        f"implicit num_threads={args.threads}). Workers' malloc: {_malloc_text(args)}.",
    ]
    return "\n" + "\n".join(textwrap.fill(note, 110, initial_indent="- ", subsequent_indent="  ")
                            for note in notes)


def _malloc_text(args: argparse.Namespace) -> str:
    if args.malloc == "tuned":
        return " ".join(f"{k}={v}" for k, v in machine.MALLOC_TUNED.items())
    inherited = {k: os.environ[k] for k in machine.MALLOC_KEYS if k in os.environ}
    return " ".join(f"{k}={v}" for k, v in inherited.items()) or "glibc defaults"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--smoke", action="store_true",
                      help="tiny shape and budgets, all methods in one worker")
    mode.add_argument("--large", action="store_true", help="the 25M-like shape only")
    mode.add_argument("--shapes", help=f"comma-separated, from {', '.join(SHAPES)} (default: 100k,1m)")
    parser.add_argument("--methods", default=",".join(ORDER), help="comma-separated (default: all)")
    parser.add_argument("--tables", default="ratings,implicit,peers",
                        help="comma-separated, from ratings, implicit, peers (default: all three; peers: "
                             "1M- and 25M-like shapes only)")
    parser.add_argument("--peer-methods", default=",".join(peer_table.ORDER),
                        help="the peer table's rows, comma-separated (default: all)")
    parser.add_argument("--peer-threads", default="1,2",
                        help="thread counts of the peer table, comma-separated (default 1,2; --smoke: 1)")
    parser.add_argument("--implicit-methods", default=",".join(implicit_bench.METHODS),
                        help="the implicit table's rows, comma-separated (default: all)")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch (and BLAS, numba, implicit) threads (default 1)")
    parser.add_argument("--malloc", choices=["tuned", "inherit"], default="tuned",
                        help="workers' glibc malloc settings: tuned (see machine.MALLOC_TUNED) or this "
                             "process's environment")
    parser.add_argument("--time-budget", type=float, help="override the training-time cap per method (s)")
    parser.add_argument("--cache", type=Path, default=CACHE_DIR, help=f"data cache (default {CACHE_DIR})")
    parser.add_argument("--json", type=Path, help="also write every trace to this JSON file")
    args = parser.parse_args(argv)
    args.shape_keys = (["smoke"] if args.smoke else ["25m"] if args.large else
                       (args.shapes or "100k,1m").split(","))
    args.method_names = args.methods.split(",")
    args.table_names = args.tables.split(",")
    args.implicit_names = args.implicit_methods.split(",")
    args.peer_method_names = args.peer_methods.split(",")
    args.peer_thread_counts = [1] if args.smoke else [int(t) for t in args.peer_threads.split(",")]
    bad = [k for k in args.shape_keys if k not in SHAPES] + [m for m in args.method_names if m not in ORDER] \
        + [t for t in args.table_names if t not in ("ratings", "implicit", "peers")] \
        + [m for m in args.peer_method_names if m not in peer_table.ORDER] \
        + [m for m in args.implicit_names if m not in implicit_bench.METHODS]
    if bad:
        parser.error(f"unknown shape or method: {bad}")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    env = machine.worker_env(args.threads, machine.MALLOC_TUNED if args.malloc == "tuned" else None)
    print(f"# Benchmarks ({time.strftime('%Y-%m-%d %H:%M')}): {machine.describe()}")
    results = [bench_shape(SHAPES[key], args.method_names, args, env) for key in args.shape_keys
               if "ratings" in args.table_names]
    if "implicit" in args.table_names:
        print("\n## Implicit feedback: weighted ALS, ours and implicit's (benchmarks/implicit_bench.py)")

        def worker(path: Path, names: list[str], settings: Any, module: str, mark: str,
                   stub: Any) -> list[dict[str, Any]]:
            return run_worker(path, names, settings, env, module, mark, stub)

        results += [implicit_bench.bench(key, args.implicit_names, args.threads, args.cache, args.smoke,
                                         worker) for key in args.shape_keys if key in implicit_bench.SHAPES]
    if "peers" in args.table_names:
        print("\n## Against the fastest peers: LIBMF, cmfrec, cornac, Surprise (benchmarks/peer_table.py)")
        results += [bench_peers(key, args) for key in args.shape_keys if key in ("smoke", "1m", "25m")]
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"machine": machine.describe(), "results": results}, indent=1,
                                        default=str))


if __name__ == "__main__":
    main()
