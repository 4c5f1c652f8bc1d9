"""Peak memory and time of one ALS sweep and of top-N for every user, at the 25M-like shape.

    python -m benchmarks.memory_25m                  # 162,541 users × 59,047 items, rank 64
    python -m benchmarks.memory_25m --rank 128 --threads 2
    python -m benchmarks.memory_25m --small          # the 1M-like shape, to try it out
    python -m benchmarks.memory_25m --users-chunk 20000   # top_n called on 20,000 users at a time

The data are `benchmarks.data`'s (the chunked generator, cached in build/bench; the 25M-like set
takes a few minutes the first time). Each task runs in a fresh process of its own, like
`benchmarks.worker`, so that its peak resident memory (VmHWM) is its own:
  als    fit_als(model, train, sweeps=1) without validation data: its setup, one sweep, its RMSE
  top_n  helpers.top_n(model, every user, k=10, exclude=train) with a random model
Both use a float32 `BiasedMF` of the given rank, made inside the measurement.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from helpers import BiasedMF, fit_als, top_n

from . import machine
from .data import CACHE_DIR, ROOT, SHAPES, load
from .run import ensure_data
from .worker import _warm_up_torch

MARK = "MEMORY-RESULT "  # prefix of the line that carries a task's result
TASKS = {"als": "fit_als, 1 sweep (setup + sweep + RMSE)", "top_n": "top_n, every user, k=10, exclude=train"}
COLUMNS = ["method", "what", "users", "time s", "peak RSS MB", "Δ RSS MB"]
TIMEOUT_S = 3600


def measure(task: str, path: Path, rank: int, users_chunk: int | None, threads: int) -> dict[str, Any]:
    """Run one task in this process; its peak RSS and its RSS before it (data loaded, torch warm)."""
    torch.set_num_threads(threads)
    _warm_up_torch()  # what an optimizer step imports counts in the baseline, not in the task
    train = load(path).train
    base = machine.rss_now()
    start = time.perf_counter()
    model = BiasedMF(train.n_users, train.n_items, rank, float(train.ratings.mean()), seed=0)
    if task == "als":
        fit_als(model, train, sweeps=1)
    else:
        users = np.arange(train.n_users)
        chunk = users_chunk or len(users)  # default: one call for every user
        lists = [top_n(model, users[s:s + chunk], k=10, exclude=train) for s in range(0, len(users), chunk)]
        assert sum(len(block) for block in lists) == len(users)
    return {"task": task, "seconds": time.perf_counter() - start, "rss_base": base,
            "rss_peak": machine.rss_peak(), "users": train.n_users}


def run_task(task: str, path: Path, args: argparse.Namespace) -> dict[str, Any]:
    """One task in a fresh process; a crash gives a row with its last words instead of numbers."""
    command = [sys.executable, "-m", "benchmarks.memory_25m", "--task", task, "--data", str(path),
               "--rank", str(args.rank), "--threads", str(args.threads)]
    if args.users_chunk:
        command += ["--users-chunk", str(args.users_chunk)]
    # glibc's default malloc (no tuning): the memory a user running the helpers would see
    done = subprocess.run(command, cwd=ROOT, env=machine.worker_env(args.threads, None),
                          capture_output=True, text=True, timeout=TIMEOUT_S)
    for line in done.stdout.splitlines():
        if line.startswith(MARK):
            return json.loads(line[len(MARK):])
    last = (done.stderr.strip().splitlines() or ["no output"])[-1]
    return {"task": task, "failed": f"exit {done.returncode}: {last}"}


def table(results: list[dict[str, Any]]) -> str:
    """A Markdown table, one row per task (parsed by `benchmarks.report.parse_table`)."""
    lines = ["| " + " | ".join(COLUMNS) + " |", "|---|---|" + "---:|" * (len(COLUMNS) - 2)]
    for r in results:
        if "failed" in r:
            cells = [r["task"], f"failed ({r['failed']})", "—", "—", "—", "—"]
        else:
            cells = [r["task"], TASKS[r["task"]], f"{r['users']:,}", f"{r['seconds']:.3g}",
                     f"{r['rss_peak'] / 2**20:.0f}", f"{(r['rss_peak'] - r['rss_base']) / 2**20:.0f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--rank", type=int, default=64, help="the model's rank (default 64)")
    parser.add_argument("--shape", choices=list(SHAPES), default="25m", help="data shape (default 25m)")
    parser.add_argument("--small", action="store_const", const="1m", dest="shape",
                        help="the 1M-like shape (same as --shape 1m)")
    parser.add_argument("--users-chunk", type=int, help="call top_n on this many users at a time "
                                                        "(default: all users in one call)")
    parser.add_argument("--tasks", default=",".join(TASKS), help=f"comma-separated, from {', '.join(TASKS)}")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    parser.add_argument("--cache", type=Path, default=CACHE_DIR, help=f"data cache (default {CACHE_DIR})")
    parser.add_argument("--task", choices=list(TASKS), help=argparse.SUPPRESS)  # inside a task's process
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.task_names = args.tasks.split(",")
    if any(t not in TASKS for t in args.task_names):
        parser.error(f"unknown task in {args.tasks!r}; choose from {list(TASKS)}")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.task:  # a task's own process
        result = measure(args.task, args.data, args.rank, args.users_chunk, args.threads)
        print(MARK + json.dumps(result), flush=True)
        return
    shape = SHAPES[args.shape]
    path = ensure_data(shape, args.cache)
    results = []
    for task in args.task_names:
        print(f"[{shape.key}] {task} ...", file=sys.stderr, flush=True)
        results.append(run_task(task, path, args))
    print(f"# Memory ({time.strftime('%Y-%m-%d %H:%M')}): {machine.describe()}\n")
    print(f"### {shape.label}: {shape.n_users:,} users × {shape.n_items:,} items, {shape.n_ratings:,} "
          f"ratings (80 % train), rank {args.rank}, float32, torch threads {args.threads}\n")
    print(table(results))
    print("\n- peak RSS MB: the task process's peak resident memory (VmHWM); Δ RSS MB: that minus its RSS "
          "after importing torch and loading the data, i.e. what the task itself added (the model included).")


if __name__ == "__main__":
    main()
