"""Cases for the checkers of notebooks 01-04: right answers computed here, and diagnosed wrong ones."""

from __future__ import annotations

import numpy as np
import torch

from helpers import init_factors, observed_mask, original_ratings, train

R = original_ratings()
P, Q = init_factors(2, 5, 4, seed=0)
GAP = float(((torch.tensor(P, dtype=torch.float32).T @ torch.tensor(Q, dtype=torch.float32)).double()
             - torch.tensor(P).T @ torch.tensor(Q)).abs().max())

LOSSES = {lr: train(R, P, Q, lr=lr, steps=100).losses[-1] for lr in (0.02, 0.05, 0.1, 0.2, 0.5)}
FITS = [train(R, P, Q, lr=0.05, steps=s).reconstruction() for s in (100, 300, 1000)]
OBS = R != 0
RMSES = tuple(float(np.sqrt(np.mean((R[OBS] - f[OBS]) ** 2))) for f in FITS)

# (id, a correct answer computed here from the exercise's data)
RIGHT = [
    ("01-1", int(np.argmin(observed_mask(R).sum(axis=0)))),
    ("01-3", int((R != 0).sum())),
    ("01-4", ((3, 5), (3, 4), (5, 4))),
    ("02-1", GAP),
    ("02-2", torch.func.grad(lambda x: (2.0 * x - 3) ** 2)(torch.tensor(1.0)).item()),  # df/dx, a = 2
    ("02-3", tuple((torch.zeros(2, 4).T @ torch.zeros(2, 5)).shape)),
    ("03-1", (float((4 - 1) ** 2), -2.0 * 1 * (4 - 1))),
    ("03-3", [lr for lr, loss in LOSSES.items() if loss < 2]),
    ("04-3", RMSES),
]
# (id, wrong answer, a phrase of the English message that names the mistake)
WRONG = [
    ("01-1", 3, "count from 0"),
    ("01-1", 0, "smallest value"),
    ("01-1", "2", "one integer"),
    ("01-3", 20, "counts every entry"),
    ("01-3", 5, "missing entries"),
    ("01-3", 14, "Count the result"),
    ("01-4", ((5, 3), (3, 4), (5, 4)), "swapped"),
    ("01-4", ((3, 5), (3, 4), (4, 4)), "wrong"),
    ("01-4", (3, 5), "as tuples"),
    ("02-1", 0.0, "same precision"),
    ("02-1", -GAP, "absolute"),
    ("02-1", GAP * 100, "size is off"),
    ("02-2", 4.0, "sign is flipped"),
    ("02-2", -2.0, "chain rule"),
    ("02-2", 1.0, "Print `x.grad`"),
    ("02-3", (5, 4), "swapped"),
    ("02-3", "4x5", "as tuples"),
    ("03-1", (3.0, -6.0), "square the error"),
    ("03-1", (9.0, 6.0), "sign is flipped"),
    ("03-1", (9.0, -3.0), "factor 2"),
    ("03-1", (9.0, -1.0), "masked_loss_grad"),
    ("03-1", 9.0, "the pair"),
    ("03-3", list(LOSSES), "2 or more"),
    ("03-3", [max(LOSSES, key=LOSSES.get)], "2 or more"),
    ("03-3", [min(LOSSES, key=LOSSES.get)], "missed"),
    ("03-3", [0.3], "Choose among"),
    ("03-3", "0.2", "a list of learning rates"),
    ("04-3", tuple(v * v for v in RMSES), "square root"),
    ("04-3", tuple(float(np.sqrt(np.mean((R - f) ** 2))) for f in FITS), "missing entries"),
    ("04-3", (1.0, 2.0, 3.0), "rmse_observed"),
    ("04-3", RMSES[:2], "three RMSEs"),
]
