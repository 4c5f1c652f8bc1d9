"""`helpers.fit`'s earlier and current default rules, timed side by side on the same data.

    python -m benchmarks.fit_rules              # 1M-like (benchmarks' cache), 3 runs of each rule
    python -m benchmarks.fit_rules --repeats 1 --shape smoke  # a quick try

The current default (notebook 07, section 4) halves the learning rate on a plateau and stops after 2
evaluations gaining 0.01 % or less; the earlier one kept the learning rate and waited 4 evaluations
without a new best (`patience=4, tol=0, lr_decay=1`). Both run the whole `fit` call (evaluation
included) with the peer table's tuned reg (0.01) and rank 10, one torch thread, alternating runs so that
a change of load hits both; the table gives the steps, the RMSEs and the median seconds.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from helpers import fit, rmse

from .data import SHAPES, ensure, load
from .methods import new_model

RULES = {"earlier (patience 4, fixed lr)": dict(patience=4, tol=0.0, lr_decay=1.0),
         "default (07, section 4)": {}}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs of each rule (default 3)")
    parser.add_argument("--reg", type=float, default=0.01, help="regularization (default 0.01)")
    parser.add_argument("--shape", choices=list(SHAPES), default="1m", help="data shape (default 1m)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    shape = SHAPES[args.shape]
    split = load(ensure(shape))
    rows: dict[str, dict] = {name: {"seconds": []} for name in RULES}
    for _ in range(args.repeats):
        for name, rule in RULES.items():
            model = new_model(split.train)
            start = time.perf_counter()
            history = fit(model, split.train, split.val, lr=0.1, reg=args.reg, **rule)
            rows[name]["seconds"].append(time.perf_counter() - start)
            test = rmse(model.predict(split.test.users, split.test.items), split.test.ratings)
            rows[name].update(steps=len(history.loss), best=history.best_step, val=min(history.val_rmse),
                              test=test)
    print(f"{shape.label}, reg {args.reg:g}, rank 10, 1 thread, median of {args.repeats} run(s)\n")
    print("| rule | steps | best step | validation RMSE | test RMSE | seconds (median) |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, row in rows.items():
        print(f"| {name} | {row['steps']} | {row['best']} | {row['val']:.4f} | {row['test']:.4f} | "
              f"{statistics.median(row['seconds']):.2f} |")


if __name__ == "__main__":
    main()
