"""The dot product and the neural models of notebook 16, each tuned by 15's TPE search at one budget.

    python -m benchmarks.neural_search              # 16 trials per model on 16's star ratings
    python -m benchmarks.neural_search --trials 4   # a quick try
    python -m benchmarks.neural_search --json benchmarks/results/neural_search.json

Data: `make_star_ratings(seed=0)` (07's data rounded and clipped to 1..5), `split_random(data,
(0.1, 0.1), seed=0)`. Every model is searched with a seeded TPE sampler (`tpe_startup=5`) at the same
number of trials, chosen on the validation RMSE, retrained, and its test RMSE (95 % bootstrap
interval over the ratings) measured once:
  dot product  `MFObjective` (`fit`, rank, lr, reg; the space of 15, 07's fit settings)
  NeuMF, MLP   `NeuralObjective` (`fit_neural`, embedding size dim, lr, reg; `NEURAL_SPACE`)
One torch thread. Notebook 16 prints the stored JSON as measured on this machine.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from helpers import make_star_ratings, rmse_ci, split_random
from helpers.tuning import MFObjective, NeuralObjective, quiet, rmse_on, search, train_mf

MF_SPACE_15 = {"rank": (4, 32), "lr": (0.01, 0.3), "reg": (0.005, 0.2)}  # notebook 15's space
FIT_07 = dict(max_steps=500, eval_every=5, patience=4)


def run(trials: int) -> list[dict]:
    """One row per model: best validation RMSE, chosen params, test RMSE and interval, seconds."""
    quiet()
    data, _ = make_star_ratings(seed=0)
    train, val, test = split_random(data, (0.1, 0.1), seed=0)
    rows = []
    objectives = {"dot product (fit)": MFObjective(train, val, space=MF_SPACE_15, **FIT_07),
                  "NeuMF": NeuralObjective(train, val, "neumf"),
                  "MLP": NeuralObjective(train, val, "mlp")}
    for name, objective in objectives.items():
        begin = time.perf_counter()
        study = search(objective, "tpe", trials, seed=0, tpe_startup=5)
        seconds = time.perf_counter() - begin
        params = study.best_params
        if isinstance(objective, MFObjective):
            model, _ = train_mf(params, train, val, **FIT_07)
            predicted = model.predict(test.users, test.items)
            assert abs(rmse_on(model, test) - float(np.sqrt(np.mean((predicted - test.ratings) ** 2)))) < 1e-4
        else:
            model, _ = objective.train_model(params)
            predicted = model.predict(test.users, test.items)
        value, low, high = rmse_ci(predicted, test.ratings)
        rows.append({"model": name, "trials": trials, "best_val_rmse": float(study.best_value),
                     "params": {k: (round(v, 4) if isinstance(v, float) else v) for k, v in params.items()},
                     "test_rmse": value, "test_low": low, "test_high": high, "search_seconds": seconds})
        print(f"{name:18} best validation {study.best_value:.4f}  test {value:.4f} [{low:.4f}, {high:.4f}]  "
              f"{seconds:6.1f} s  {rows[-1]['params']}", flush=True)
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=16, help="trials per model (default 16, as in 15)")
    parser.add_argument("--json", type=Path, help="write the rows to this JSON file")
    args = parser.parse_args(argv)
    rows = run(args.trials)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"date": time.strftime("%Y-%m-%d"), "rows": rows}, indent=1) + "\n",
                             encoding="utf-8")


if __name__ == "__main__":
    main()
