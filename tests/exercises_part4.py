"""Cases for the checkers of notebooks 12-13: right answers computed here, and diagnosed wrong ones."""

from __future__ import annotations

import numpy as np

from helpers import long_tail_share, ranking_report, sampled_ranks
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

# 13-1: the losses of one triple, from the definitions
X_I, X_J = 2.0, 0.5
LOSS_RIGHT = (-np.log(1 / (1 + np.exp(-(X_I - X_J)))),
              -np.log(1 / (1 + np.exp(-X_I))) - np.log(1 - 1 / (1 + np.exp(-X_J))))

# 13-2: sampled hit rate@10 of popularity and weighted ALS among 500 negatives, per user then mean
WALS = fit_wals(train, rank=10, alpha=0.3, reg=20.0, sweeps=10)
COUNTS = np.bincount(train.items, minlength=train.n_items)


def sampled_hit_rates(n_negatives: int, per_user: bool = True) -> tuple[float, float]:
    out = []
    for score in (lambda u: np.broadcast_to(COUNTS.astype(float), (len(u), train.n_items)), WALS.scores):
        hits = (sampled_ranks(score, test, train, n_negatives=n_negatives, seed=0) < 10).astype(float)
        if per_user:
            hits = np.bincount(test.users, hits)[users] / np.bincount(test.users)[users]
        out.append(float(hits.mean()))
    return out[0], out[1]


SAMPLED_RIGHT = sampled_hit_rates(500)


# 13-3: the popularity penalty of section 5 of 13: the first strength whose long-tail share reaches
# the truth's
def penalised(strength: float) -> np.ndarray:
    adjusted = WALS.scores(users) - strength * np.log1p(COUNTS)
    for row, u in enumerate(users.tolist()):
        adjusted[row, train.items[train.users == u]] = -np.inf
    return np.argsort(-adjusted, axis=1, kind="stable")[:, :10]


def ndcg(top: np.ndarray) -> float:
    return ranking_report(dict(zip(users.tolist(), top.tolist(), strict=True)), relevant, 10)["ndcg@10"]


TRUTH_TAIL = long_tail_share(make_interactions(seed=0)[1].top_n(users, 10, exclude=train), COUNTS)
STRENGTHS = (0.0, 0.01, 0.02, 0.05, 0.1, 0.2)
TAILS = {s: long_tail_share(penalised(s), COUNTS) for s in STRENGTHS}
FIRST = next(s for s in STRENGTHS if TAILS[s] >= TRUTH_TAIL)
BELOW = max(s for s in STRENGTHS if TAILS[s] < TRUTH_TAIL)
PENALTY_RIGHT = (FIRST, ndcg(penalised(FIRST)))

RIGHT += [
    ("13-1", LOSS_RIGHT),
    ("13-2", SAMPLED_RIGHT),
    ("13-3", PENALTY_RIGHT),
]
WRONG += [
    ("13-1", LOSS_RIGHT[::-1], "order is swapped"),
    ("13-1", (LOSS_RIGHT[0] / np.log(2), LOSS_RIGHT[1] / np.log(2)), "base-2"),
    ("13-1", (1 / (1 + np.exp(-(X_I - X_J))), LOSS_RIGHT[1]), "probability"),
    ("13-1", (np.log1p(np.exp(X_I - X_J)), LOSS_RIGHT[1]), "sign flipped"),
    ("13-1", (LOSS_RIGHT[0], np.log1p(np.exp(-X_I))), "sum of 2 terms"),
    ("13-1", (LOSS_RIGHT[0], 2.5), "σ(−x) = 1 − σ(x)"),
    ("13-1", 0.2, "two numbers"),
    ("13-2", SAMPLED_RIGHT[::-1], "order is swapped"),
    ("13-2", sampled_hit_rates(500, per_user=False), "average per user first"),
    ("13-2", sampled_hit_rates(100), "100 negatives"),
    ("13-2", (0.1, 0.2), "n_negatives=500"),
    ("13-3", (BELOW, ndcg(penalised(BELOW))), "not yet reached"),
    ("13-3", (0.2, ndcg(penalised(0.2))), "reaches it first"),
    ("13-3", (FIRST, TAILS[FIRST]), "not the long-tail share"),
    ("13-3", (FIRST, 0.3), "check the NDCG@10"),
    ("13-3", (0.07, 0.4), "one of the values"),
]
