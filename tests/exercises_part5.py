"""Cases for the checkers of notebooks 14-16: right answers computed here, and diagnosed wrong ones."""

from __future__ import annotations

import numpy as np

from helpers import (
    BiasedMF,
    TimeBiasedMF,
    fit,
    fit_timed,
    make_synthetic,
    make_synthetic_timed,
    rmse,
    split_random,
    split_temporal,
)
from helpers.seeding import one_thread

DATA = make_synthetic_timed(seed=0)[0]


def new_shares(train, test) -> tuple[float, float]:
    seen_u = np.bincount(train.users, minlength=DATA.n_users) > 0
    seen_i = np.bincount(train.items, minlength=DATA.n_items) > 0
    return float((~seen_u[test.users]).mean()), float((~seen_i[test.items]).mean())


# 14-1: the share of the temporal test from users without a training rating
TR, _, TE = split_temporal(DATA, 0.1, 0.1)
NEW_USERS, NEW_ITEMS = new_shares(TR, TE)


# 14-2: BiasedMF on the last 20% as test, settings of section 3 of 14
def temporal_mf(test_fraction: float) -> tuple[float, float]:
    train, val, test = split_temporal(DATA, test_fraction, 0.1)
    model = BiasedMF(DATA.n_users, DATA.n_items, rank=10, global_mean=float(train.ratings.mean()), seed=0)
    with one_thread():
        fit(model, train, val, lr=0.1, reg=0.04)
    return rmse(model.predict(test.users, test.items), test.ratings), new_shares(train, test)[0]


TWENTY, TEN = temporal_mf(0.2), temporal_mf(0.1)


# 14-3: TimeBiasedMF with 1 and 30 bins on the random split
def time_bias(n_bins: int) -> float:
    train, val, test = split_random(DATA, (0.1, 0.1), seed=0)
    model = TimeBiasedMF(DATA.n_users, DATA.n_items, rank=10, n_bins=n_bins,
                         t_min=float(train.timestamps.min()), t_max=float(train.timestamps.max()),
                         global_mean=float(train.ratings.mean()), seed=0)
    with one_thread():
        fit_timed(model, train, val, lr=0.1, reg=0.04, bin_reg=10.0)
    return rmse(model.predict(test.users, test.items, test.timestamps), test.ratings)


BINS = (time_bias(1), time_bias(30))

RIGHT = [
    ("14-1", NEW_USERS),
    ("14-2", TWENTY),
    ("14-3", BINS),
]
# (id, wrong answer, a phrase of the English message that names the mistake)
WRONG = [
    ("14-1", 100 * NEW_USERS, "percentage"),
    ("14-1", NEW_ITEMS, "share of new items"),
    ("14-1", 1 - NEW_USERS, "who are in the training data"),
    ("14-1", 0.5, "then the share of test ratings"),
    ("14-1", (1, 2), "one number"),
    ("14-2", TWENTY[::-1], "order is swapped"),
    ("14-2", TEN, "10% test"),
    ("14-2", (0.5, TWENTY[1]), "settings of section 3"),
    ("14-2", (TWENTY[0], 0.3), "share of new users is off"),
    ("14-3", BINS[::-1], "order is swapped"),
    ("14-3", (time_bias(10), BINS[1]), "n_bins=10"),
    ("14-3", (0.7, 0.8), "change only `n_bins`"),
]

# 15-1: the grid of section 2 of 15 at a budget of 30
from helpers.tuning import MFObjective, grid_points, quiet, search, steps_run  # noqa: E402

SPACE_15 = {"rank": (4, 32), "lr": (0.01, 0.3), "reg": (0.005, 0.2)}
GRID_30 = int(np.prod([len(v) for v in grid_points(SPACE_15, 30).values()]))

# 15-2: random search, budget 8, seed 0, no pruning, on 07's split
quiet()
TRAIN_07, VAL_07, _ = split_random(make_synthetic(seed=0)[0], (0.1, 0.1), seed=0)
STUDY = search(MFObjective(TRAIN_07, VAL_07, space=SPACE_15, max_steps=500, eval_every=5, patience=4),
               "random", 8, seed=0, prune=False)
SEARCH_RIGHT = (steps_run(STUDY), STUDY.best_value)

RIGHT += [
    ("15-1", GRID_30),
    ("15-2", SEARCH_RIGHT),
]
WRONG += [
    ("15-1", 30, "is the budget"),
    ("15-1", GRID_30 + 1, "Multiply the lengths"),
    ("15-1", 2.5, "one integer"),
    ("15-2", SEARCH_RIGHT[::-1], "order is swapped"),
    ("15-2", (SEARCH_RIGHT[0] + 5, SEARCH_RIGHT[1]), "adds up every trial"),
    ("15-2", (100, 0.7), "section 2's `objective`"),
]

# 16-1, 16-2: sigmoid_range by its definition; the out-of-range share of 16's dot product trained by fit
from helpers.neural import make_star_ratings, out_of_range_share  # noqa: E402

SIG = 1 / (1 + np.exp(-2.0))
STARS = make_star_ratings(seed=0)[0]
S_TRAIN, S_VAL, S_TEST = split_random(STARS, (0.1, 0.1), seed=0)
S_MODEL = BiasedMF(STARS.n_users, STARS.n_items, rank=10, global_mean=float(S_TRAIN.ratings.mean()), seed=0)
with one_thread():
    fit(S_MODEL, S_TRAIN, S_VAL, lr=0.1, reg=0.04)
OUTSIDE = out_of_range_share(S_MODEL.predict(S_TEST.users, S_TEST.items), 1, 5)

RIGHT += [
    ("16-1", 0.5 + 5 * SIG),
    ("16-2", OUTSIDE),
]
WRONG += [
    ("16-1", SIG, "That is σ(2)"),
    ("16-1", 5 * SIG, "lower end, 0.5"),
    ("16-1", 1 + 4 * SIG, "range 1–5"),
    ("16-1", 3.0, "Put low = 0.5"),
    ("16-2", 100 * OUTSIDE, "percentage"),
    ("16-2", 1 - OUTSIDE, "inside the range"),
    ("16-2", 0.3, "before clipping"),
]
