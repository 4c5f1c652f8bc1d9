"""Benchmark for Part II: the models of notebook 07 on the synthetic 100k set.

Prints one table: test RMSE, its ratio to the noise floor, and training wall time (median of
`--repeats` runs, one torch thread, this machine). Run: .venv/bin/python benchmarks/part2_synthetic_100k.py
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

from helpers import BiasedMF, fit, fit_biases, make_synthetic, rmse, split_random


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(1)
    data, truth = make_synthetic(seed=0)
    train, val, test = split_random(data, (0.1, 0.1), seed=0)
    rows = []

    rows.append(("global mean", rmse(np.full(len(test), train.ratings.mean()), test.ratings), 0.0, "-"))

    times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        mu, bu, bi = fit_biases(train, reg=3)
        times.append(time.perf_counter() - start)
    rows.append(("biases only", rmse(mu + bu[test.users] + bi[test.items], test.ratings),
                 statistics.median(times), "10 sweeps"))

    times, steps = [], ""
    for _ in range(args.repeats):
        model = BiasedMF(data.n_users, data.n_items, rank=10, global_mean=float(train.ratings.mean()), seed=0)
        start = time.perf_counter()
        history = fit(model, train, val, lr=0.1, reg=0.04, max_steps=500, eval_every=5, patience=4)
        times.append(time.perf_counter() - start)
        steps = f"{len(history.loss)} steps (best {history.best_step})"
    rows.append(("biased MF (r=10)", rmse(model.predict(test.users, test.items), test.ratings),
                 statistics.median(times), steps))
    rows.append(("true model", rmse(truth.predict(test.users, test.items), test.ratings), 0.0, "-"))

    print(f"synthetic 100k: {data.n_users} x {data.n_items}, {len(data):,} ratings, noise {truth.noise}; "
          f"train/val/test {len(train):,}/{len(val):,}/{len(test):,}; torch threads 1")
    print(f"{'model':18s} | {'test RMSE':>9s} | {'/ noise':>7s} | {'train s':>7s} | note")
    for name, value, seconds, note in rows:
        print(f"{name:18s} | {value:9.4f} | {value / truth.noise:7.3f} | {seconds:7.3f} | {note}")


if __name__ == "__main__":
    main()
