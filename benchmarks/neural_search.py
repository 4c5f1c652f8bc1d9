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
Then 12's implicit top-N task (`make_interactions(seed=0)`, 20 % of each user held out): weighted ALS
(`WALSObjective`, 15's space) and NeuMF (`NeuMFRankingObjective`, BCE with 4 negatives), both by the same
TPE search, chosen on validation NDCG@10 (carved from training), refit on all the training data, and
their test NDCG@10 compared with a paired bootstrap.
One torch thread. Notebook 16 prints the stored JSON as measured on this machine.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from helpers import bootstrap_ci, make_star_ratings, paired_bootstrap, per_user_scores, rmse_ci, split_random
from helpers.implicit import fit_wals, make_interactions, split_interactions_per_user
from helpers.tuning import (
    MFObjective,
    NeuMFRankingObjective,
    NeuralObjective,
    WALSObjective,
    quiet,
    rmse_on,
    search,
    train_mf,
)

MF_SPACE_15 = {"rank": (4, 32), "lr": (0.01, 0.3), "reg": (0.005, 0.2)}  # notebook 15's space
FIT_07 = dict(max_steps=500, eval_every=5, patience=4)
WALS_SPACE_15 = {"rank": (8, 32), "alpha": (0.1, 1.0), "reg": (5.0, 50.0)}  # notebook 15's space


def run_implicit(trials: int) -> dict:
    """Weighted ALS and NeuMF on 12's task, each tuned by TPE at `trials`; test NDCG@10 and the paired gap."""
    data, _ = make_interactions(seed=0)
    train, test = split_interactions_per_user(data, 0.2, seed=0)
    relevant: dict[int, set[int]] = {}
    for u, i in zip(test.users.tolist(), test.items.tolist(), strict=True):
        relevant.setdefault(u, set()).add(i)
    users = np.array(sorted(relevant))

    def scores(model) -> np.ndarray:
        top = model.top_n(users, 10, exclude=train)
        return per_user_scores(dict(zip(users.tolist(), top.tolist(), strict=True)), relevant, 10, "ndcg")

    rows, per_user = [], {}
    wals_objective = WALSObjective(train, space=WALS_SPACE_15)
    neumf_objective = NeuMFRankingObjective(train)
    for name, objective in (("weighted ALS", wals_objective), ("NeuMF", neumf_objective)):
        begin = time.perf_counter()
        study = search(objective, "tpe", trials, seed=0, tpe_startup=5)
        params = study.best_params
        if objective is wals_objective:
            model = fit_wals(train, rank=int(params["rank"]), alpha=float(params["alpha"]),
                             reg=float(params["reg"]), sweeps=10)
        else:
            model = neumf_objective.fit(params, train, epochs=int(study.best_trial.user_attrs["best_epoch"]))
        per_user[name] = scores(model)
        mean, low, high = bootstrap_ci(per_user[name], seed=0)
        rows.append({"model": name, "trials": trials, "best_val_ndcg": float(study.best_value),
                     "params": {k: (round(v, 4) if isinstance(v, float) else v) for k, v in params.items()},
                     "test_ndcg": mean, "test_low": low, "test_high": high,
                     "search_seconds": time.perf_counter() - begin})
        print(f"{name:18} best validation NDCG@10 {study.best_value:.4f}  test {mean:.4f} "
              f"[{low:.4f}, {high:.4f}]  {rows[-1]['search_seconds']:6.1f} s  {rows[-1]['params']}",
              flush=True)
    diff, low, high, _ = paired_bootstrap(per_user["NeuMF"], per_user["weighted ALS"], seed=0)
    print(f"NeuMF minus weighted ALS: {diff:+.4f} [{low:+.4f}, {high:+.4f}]", flush=True)
    return {"rows": rows, "neumf_minus_wals": [diff, low, high]}


def run(trials: int, only_fit: bool = False) -> list[dict]:
    """One row per model: best validation RMSE, chosen params, test RMSE and interval, seconds."""
    quiet()
    data, _ = make_star_ratings(seed=0)
    train, val, test = split_random(data, (0.1, 0.1), seed=0)
    rows = []
    objectives = {"dot product (fit)": MFObjective(train, val, space=MF_SPACE_15, **FIT_07),
                  "NeuMF": NeuralObjective(train, val, "neumf"),
                  "MLP": NeuralObjective(train, val, "mlp")}
    for name, objective in objectives.items():
        if only_fit and name != "dot product (fit)":
            continue
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
    parser.add_argument("--only-fit", action="store_true",
                        help="re-run only the dot-product (fit) row; --json keeps the other rows")
    args = parser.parse_args(argv)
    rows = run(args.trials, args.only_fit)
    if args.only_fit:
        if args.json:
            record = json.loads(args.json.read_text(encoding="utf-8"))
            record["rows"] = rows + [r for r in record["rows"] if r["model"] != rows[0]["model"]]
            first = record["date"].split(" (")[0]  # the date of the full run
            record["date"] = f"{first} (dot product (fit) re-run {time.strftime('%Y-%m-%d')})"
            args.json.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
        return
    implicit = run_implicit(args.trials)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        record = {"date": time.strftime("%Y-%m-%d"), "rows": rows, "implicit": implicit}
        args.json.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
