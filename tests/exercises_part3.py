"""Cases for the checkers of notebooks 09-11: right answers computed here, and diagnosed wrong ones."""

from __future__ import annotations

import numpy as np
import torch

from helpers import BiasedMF, fit_als, init_factors, make_synthetic, rmse, split_random
from helpers.distributed import split_shards
from helpers.seeding import one_thread

train, val, test = split_random(make_synthetic(seed=0)[0], (0.1, 0.1), seed=0)
MU = float(train.ratings.mean())

# 09-1: a sixth user with one rating; Q_u is one column q, and q qᵀ has rank 1 unless q = 0
Q6 = init_factors(2, 6, 4, seed=0)[1]
RANK_ONE = int(np.linalg.matrix_rank(np.outer(Q6[:, 2], Q6[:, 2])))

# 09-3: fit_als exactly as in section 4 of 09, reg changed
ALS = {}
with one_thread():  # as in the notebooks: the same digits, and fast on a busy machine
    for reg in (0.02, 0.1):
        model = BiasedMF(train.n_users, train.n_items, rank=10, global_mean=MU, seed=0)
        history = fit_als(model, train, val, reg=reg, sweeps=30, patience=2)
        ALS[reg] = (rmse(model.predict(test.users, test.items), test.ratings), history.best_step,
                    min(history.val_rmse), len(history.loss))
ALS_RIGHT = ((ALS[0.02][0], ALS[0.02][1]), (ALS[0.1][0], ALS[0.1][1]))


# 10-2: train_minibatch of section 5 of 10, batch size 8000
def minibatch_curve(lr: float) -> list[float]:
    u, i = torch.as_tensor(train.users), torch.as_tensor(train.items)
    y = torch.as_tensor(train.ratings, dtype=torch.float32)
    model = BiasedMF(train.n_users, train.n_items, rank=10, global_mean=MU, seed=0)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    shuffle = torch.Generator().manual_seed(0)
    curve = []
    for _ in range(5):
        for batch in torch.randperm(len(y), generator=shuffle).split(8000):
            n_u = torch.bincount(u[batch], minlength=train.n_users).float()
            n_i = torch.bincount(i[batch], minlength=train.n_items).float()
            P, Q = model.user_factors.weight, model.item_factors.weight
            bu, bi = model.user_bias.weight[:, 0], model.item_bias.weight[:, 0]
            reg = n_u @ (P.square().sum(1) + bu.square()) + n_i @ (Q.square().sum(1) + bi.square())
            loss = (model(u[batch], i[batch]) - y[batch]).square().mean() + 0.04 * reg / len(batch)
            model.zero_grad()
            loss.backward()
            opt.step()
        curve.append(rmse(model.predict(val.users, val.items), val.ratings))
    return curve


with one_thread():
    CURVES = {lr: minibatch_curve(lr) for lr in (0.005, 0.02, 0.05)}
MB_RIGHT = (CURVES[0.005][-1], CURVES[0.05][-1])


# 10-4: the table of section 7 of 10 at rank 128, in GiB
def table_25m(r: int, unit: float = 2**30, nbytes: int = 4, d_side: int = 1, copies: int = 4) -> list[float]:
    m, n, N = 162_541, 59_047, 25_000_095
    rows = [m * n * 4, 5 * m * n * 4, N * 20, 3 * N * r * nbytes, 6 * N * 4 + (m + n + 2) * 4,
            m * (r + d_side) ** 2 * nbytes, copies * (m + n) * (r + 1) * nbytes]
    return [v / unit for v in rows]


MEM_RIGHT = table_25m(128)


def with_row(k: int, value: float) -> list[float]:
    rows = list(MEM_RIGHT)
    rows[k] = value
    return rows


# 11-1 and 11-2: shard sizes
SIZES3 = tuple([len(s) for s in split_shards(train, 3, by)] for by in ("user", "rating"))
HALF = train.n_users // 2
BEFORE = (int((train.users < HALF).sum()), int((train.users >= HALF).sum()))
rank_by_activity = np.empty(train.n_users, dtype=np.int64)  # new number of each user: most ratings first
rank_by_activity[np.argsort(-np.bincount(train.users, minlength=train.n_users), kind="stable")] = \
    np.arange(train.n_users)
renumbered = rank_by_activity[train.users]
AFTER = (int((renumbered < HALF).sum()), int((renumbered >= HALF).sum()))
backwards = np.sort(np.bincount(train.users, minlength=train.n_users))
BACKWARDS = (int(backwards[:HALF].sum()), int(backwards[HALF:].sum()))
THIRDS = [int(((train.users >= lo) & (train.users < hi)).sum())
          for lo, hi in ((0, 315), (315, 629), (629, train.n_users))]  # contiguous ranges of users


# 11-3: by brute force over ranks and K
def fits(r: int) -> bool:
    return 3 * 4 * (100_000_000 + 10_000_000) * (r + 1) <= 80e9


LARGEST_RANK = max(r for r in range(1, 500) if fits(r))
SMALLEST_K = min(k for k in range(1, 100) if 3 * 4 * 129 * (-(-100_000_000 // k) + 10_000_000) < 80e9)
# 11-4: 10,000 user rows and 10,000 item rows, 129 float32 numbers each
TOUCHED = 2 * 10_000 * (128 + 1) * 4

# (id, a correct answer computed here from the exercise's data)
RIGHT = [
    ("09-1", RANK_ONE),
    ("09-3", ALS_RIGHT),
    ("10-2", MB_RIGHT),
    ("10-4", MEM_RIGHT),
    ("11-1", SIZES3),
    ("11-2", (BEFORE, AFTER)),
    ("11-3", (LARGEST_RANK, SMALLEST_K)),
    ("11-4", TOUCHED),
]
# (id, wrong answer, a phrase of the English message that names the mistake)
WRONG = [
    ("09-1", 2, "size of the"),
    ("09-1", 0, "zero matrix"),
    ("09-1", 5, "matrix_rank"),
    ("09-1", "1", "one integer"),
    ("09-3", ALS_RIGHT[::-1], "order is swapped"),
    ("09-3", ((ALS[0.02][0], ALS[0.02][3]), ALS_RIGHT[1]), "number of sweeps run"),
    ("09-3", ((ALS[0.02][0], 5), ALS_RIGHT[1]), "smallest validation"),
    ("09-3", ((ALS[0.02][2], ALS[0.02][1]), ALS_RIGHT[1]), "validation data"),
    ("09-3", (ALS_RIGHT[0], (ALS[0.1][0] ** 2, ALS[0.1][1])), "mean squared"),
    ("09-3", ((0.9, 11), ALS_RIGHT[1]), "settings of section 4"),
    ("09-3", (0.63, 11), "Answer as"),
    ("10-2", MB_RIGHT[::-1], "order is swapped"),
    ("10-2", (MB_RIGHT[0], CURVES[0.02][-1]), "learning rate 0.02"),
    ("10-2", (CURVES[0.005][0], CURVES[0.05][0]), "earlier epoch"),
    ("10-2", tuple(v * v for v in MB_RIGHT), "square root"),
    ("10-2", (1.0, 1.0), "train_minibatch(8000, lr)"),
    ("10-2", ((MB_RIGHT[0], 0.5), (MB_RIGHT[1], 0.5)), "(RMSE, seconds)"),
    ("10-2", "1.0", "two numbers"),
    ("10-4", table_25m(10), "still the table at rank 10"),
    ("10-4", table_25m(128, unit=1e9), "GiB"),
    ("10-4", table_25m(128, unit=1), "Those are bytes"),
    ("10-4", table_25m(128, nbytes=8), "float64"),
    ("10-4", table_25m(128, d_side=0), "normal equations"),
    ("10-4", table_25m(128, copies=3), "4 copies"),
    ("10-4", with_row(0, 1.0), "does not depend on the rank"),
    ("10-4", with_row(3, table_25m(10)[3]), "is still at rank 10"),
    ("10-4", with_row(3, 1.0), "into the formula"),
    # single rows typed as printed, to 2 decimals: the same tolerance as for the whole table
    ("10-4", with_row(3, round(table_25m(10)[3], 2)), "is still at rank 10"),  # row (b) at rank 10: 2.79
    ("10-4", with_row(5, round(table_25m(128, d_side=0)[5], 2)), "normal equations"),
    ("10-4", with_row(6, round(table_25m(128, copies=3)[6], 2)), "4 copies"),
    ("10-4", MEM_RIGHT[:6], "List the values"),
    ("11-1", SIZES3[::-1], "order is swapped"),
    ("11-1", ([1, 2, 3], SIZES3[1]), "add up"),
    ("11-1", (sorted(SIZES3[0]), SIZES3[1]), "out of order"),
    ("11-1", (THIRDS, SIZES3[1]), "contiguous ranges"),
    ("11-1", (SIZES3[1], SIZES3[1]), "Print `shard_sizes`"),
    ("11-1", ([40848, 39152], [40000, 40000]), "Answer as"),
    ("11-2", (AFTER, BEFORE), "order is swapped"),
    ("11-2", ((1, 2), AFTER), "add up"),
    ("11-2", (BEFORE[::-1], AFTER), "halves are swapped"),
    ("11-2", ((40000, 40000), AFTER), "original numbers are off"),
    ("11-2", (BEFORE, AFTER[::-1]), "After renumbering"),
    ("11-2", (BEFORE, BACKWARDS), "wrong way"),
    ("11-2", (BEFORE, (50000, 30000)), "most first"),
    ("11-2", (40547, 39453), "Answer as"),
    ("11-3", (SMALLEST_K, LARGEST_RANK), "order is swapped"),
    ("11-3", (64, SMALLEST_K), "GiB"),
    ("11-3", (180, SMALLEST_K), "Adam's state is missing"),
    ("11-3", (44, SMALLEST_K), "no gradients"),
    ("11-3", (65, SMALLEST_K), "item table is missing"),
    ("11-3", (29, SMALLEST_K), "float64"),
    ("11-3", (60, SMALLEST_K), "r + 1 numbers"),
    ("11-3", (100, SMALLEST_K), "exceed 80 GB"),
    ("11-3", (10, SMALLEST_K), "larger rank still fits"),
    ("11-3", (LARGEST_RANK, 1), "at rank 128 too"),
    ("11-3", (LARGEST_RANK, 2), "whole item table"),
    ("11-3", (LARGEST_RANK, 7), "float64"),
    ("11-3", (LARGEST_RANK, 10), "smaller K"),
    ("11-3", (59.0, 3.0), "two integers"),
    ("11-4", TOUCHED / 2, "one table only"),
    ("11-4", TOUCHED * 8, "number of bits"),
    ("11-4", TOUCHED * 2, "float64"),
    ("11-4", 2 * 10_000 * 128 * 4, "bias term"),
    ("11-4", TOUCHED + 2 * 10_000 * 8, "not the row numbers"),
    ("11-4", TOUCHED / 1e6, "Wrong unit"),
    ("11-4", TOUCHED * 4, "counts bits, and one table"),
    ("11-4", 1234.0, "Multiply the number"),
    ("11-4", "10 MB", "one number of bytes"),
]
