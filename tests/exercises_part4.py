"""Cases for the checkers of notebooks 12-13: right answers computed here, and diagnosed wrong ones."""

from __future__ import annotations

import numpy as np

from helpers import ranking_report
from helpers.implicit import fit_wals, make_interactions, split_interactions_per_user
from helpers.seeding import one_thread

# 12-1: α = 2 on the counts of section 3 of 12: user 3 played item 6 six times and item 1 never
ALPHA, PLAYED, NEVER = 2.0, 6, 0
C_RIGHT = ((1 + ALPHA * PLAYED, 1), (1 + ALPHA * NEVER, 0))

# 12-2, 12-3: fit_wals on 12's split with the settings of section 5 (α 0.3, reg 20, 10 sweeps)
train, test = split_interactions_per_user(make_interactions(seed=0)[0], 0.2, seed=0)
relevant: dict[int, set[int]] = {}
for u, i in zip(test.users.tolist(), test.items.tolist(), strict=True):
    relevant.setdefault(u, set()).add(i)
users = np.array(sorted(relevant))


def wals_report(rank: int, solver: str = "cholesky", cg_steps: int = 3, exclude=train) -> dict[str, float]:
    with one_thread():
        model = fit_wals(train, rank=rank, alpha=0.3, reg=20.0, sweeps=10, solver=solver, cg_steps=cg_steps)
    lists = model.top_n(users, 10, exclude=exclude)
    return ranking_report(dict(zip(users.tolist(), lists.tolist(), strict=True)), relevant, 10)


RANKS = [wals_report(rank) for rank in (2, 10, 32)]
RANKS_RIGHT = tuple(report["ndcg@10"] for report in RANKS)
CG_RIGHT = tuple(wals_report(10, "cg", steps)["ndcg@10"] for steps in (1, 2, 3))
NOT_EXCLUDED = wals_report(2, exclude=None)["ndcg@10"]

RIGHT = [
    ("12-1", C_RIGHT),
    ("12-2", RANKS_RIGHT),
    ("12-3", CG_RIGHT),
]
# (id, wrong answer, a phrase of the English message that names the mistake)
WRONG = [
    ("12-1", C_RIGHT[::-1], "order is swapped"),
    ("12-1", ((ALPHA * PLAYED, 1), (1, 0)), "not α·count"),
    ("12-1", ((1 + ALPHA * PLAYED, 1), (0, 0)), "not α·count"),
    ("12-1", ((1 + PLAYED, 1), (1, 0)), "α = 1"),
    ("12-1", ((1 + ALPHA * PLAYED, PLAYED), (1, 0)), "not the play count"),
    ("12-1", ((1 + ALPHA * PLAYED, 1), (1, 1)), "1 where there is"),
    ("12-1", (13, 1), "four numbers"),
    ("12-2", RANKS_RIGHT[::-1], "order is reversed"),
    ("12-2", (NOT_EXCLUDED, *RANKS_RIGHT[1:]), "not excluded"),
    ("12-2", (RANKS[0]["recall@10"], *RANKS_RIGHT[1:]), "recall or precision"),
    ("12-2", (0.1, 0.2, 0.3), "settings of section 5"),
    ("12-2", 0.43, "three numbers"),
    ("12-3", (CG_RIGHT[0], CG_RIGHT[1], 0.5), "settings of section 5"),
]
