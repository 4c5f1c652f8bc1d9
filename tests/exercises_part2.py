"""Cases for the checkers of notebooks 05-08: right answers computed here, and diagnosed wrong ones."""

from __future__ import annotations

import numpy as np
import torch

from helpers import (
    BiasedMF,
    Ratings,
    fit,
    fit_biases,
    fold_in,
    init_factors,
    make_synthetic,
    masked_squared_loss,
    ndcg_at_k,
    original_ratings,
    ranking_report,
    rmse,
    split_random,
)
from helpers.seeding import one_thread

# --- 05: the synthetic 60 × 40 data; fit_l2 as in the notebook, with a penalty weight per side ---
DATA05, _ = make_synthetic(60, 40, 900, rank=3, min_ratings=5, seed=0)


def split05(seed: int) -> tuple[Ratings, Ratings, np.ndarray]:
    train_data, test_data = split_random(DATA05, (0.2,), seed=seed)
    return train_data, test_data, train_data.to_dense()


def fit_l2(R: np.ndarray, rank: int, lam_p: float, lam_q: float, steps: int = 500) -> tuple[np.ndarray, ...]:
    """The notebook's fit_l2 (Adam, lr 0.05) in NumPy, Adam in its textbook form with m̂ and v̂."""
    mask = R != 0
    P, Q = (np.array(x) for x in init_factors(rank, *R.shape, seed=0))
    m = {"P": 0.0, "Q": 0.0}
    v = {"P": 0.0, "Q": 0.0}
    for step in range(1, steps + 1):
        E = (R - P.T @ Q) * mask
        grads = {"P": 2 * (lam_p * P - Q @ E.T), "Q": 2 * (lam_q * Q - P @ E)}
        for name, x in (("P", P), ("Q", Q)):
            m[name] = 0.9 * m[name] + 0.1 * grads[name]
            v[name] = 0.999 * v[name] + 0.001 * grads[name] ** 2
            m_hat, v_hat = m[name] / (1 - 0.9**step), v[name] / (1 - 0.999**step)
            x -= 0.05 * m_hat / (np.sqrt(v_hat) + 1e-8)
    return P, Q


def table05(seed: int) -> dict[tuple[int, float], tuple[float, float]]:
    train_data, test_data, R = split05(seed)
    table = {}
    for lam in (0.0, 1.0, 3.0):
        for r in (1, 2, 3, 5, 8):
            P, Q = fit_l2(R, r, lam, lam)
            R_hat = P.T @ Q
            table[r, lam] = (rmse(R_hat[train_data.users, train_data.items], train_data.ratings),
                             rmse(R_hat[test_data.users, test_data.items], test_data.ratings))
    return table


TABLE1 = table05(1)
BEST1 = min(TABLE1, key=lambda key: TABLE1[key][1])
_, TEST05, R05 = split05(0)
P0_best, Q0_best = fit_l2(R05, *BEST1, BEST1[1])  # that setting on the split of seed 0
BEST_ON_SEED0 = rmse((P0_best.T @ Q0_best)[TEST05.users, TEST05.items], TEST05.ratings)
P0, Q0 = fit_l2(R05, 3, 0.0, 0.0)
A_RANDOM = np.random.default_rng(1).normal(size=(3, 3))
COS, SIN = np.cos(0.5), np.sin(0.5)
A_ROT = np.array([[COS, -SIN, 0.0], [SIN, COS, 0.0], [0.0, 0.0, 1.0]])  # the rotation by t = 0.5


def norm_ratio(lam_p: float, lam_q: float, steps: int = 1000) -> float:
    P, Q = fit_l2(R05, 3, lam_p, lam_q, steps)
    return float(np.linalg.norm(P) / np.linalg.norm(Q))


RATIO_P_ONLY = norm_ratio(1.0, 0.0)

# --- 06 ---------------------------------------------------------------------------------------
R = original_ratings()
TOY = Ratings.from_dense(R)
P, Q = init_factors(2, TOY.n_users, TOY.n_items, seed=0)
same = BiasedMF(TOY.n_users, TOY.n_items, rank=2, global_mean=1.0, dtype=torch.float64)
with torch.no_grad():
    same.user_factors.weight.copy_(torch.tensor(P.T))
    same.item_factors.weight.copy_(torch.tensor(Q.T))
TRIPLE_MU1 = float(np.sum((TOY.ratings - same.predict(TOY.users, TOY.items)) ** 2))
DENSE_SHIFTED = masked_squared_loss(R - 1 * (R != 0), P, Q).item()
DIFF06 = TRIPLE_MU1 - DENSE_SHIFTED
TRIPLE_MU0 = masked_squared_loss(R, P, Q).item()

TRAIN06, TEST06 = split_random(DATA05, (0.2,), seed=0)
FIT06, VAL06 = split_random(TRAIN06, (0.15,), seed=1)


def biases_rmse(train: Ratings, test: Ratings, **kwargs: float) -> float:
    mu, bu, bi = fit_biases(train, **kwargs)
    return rmse(mu + bu[test.users] + bi[test.items], test.ratings)


BIASES06 = biases_rmse(FIT06, TEST06)
SIZES06 = ((400, 600), (800, 1200), (1600, 2400), (3200, 4800))
RATIOS06 = tuple(rows * cols / 100_000 for rows, cols in SIZES06)

# --- 07 ---------------------------------------------------------------------------------------
DATA07, TRUTH07 = make_synthetic(seed=0)
TRAIN07, VAL07, TEST07 = split_random(DATA07, (0.1, 0.1), seed=0)


def train07(rank: int = 10, reg: float = 0.04) -> tuple[BiasedMF, object, float]:
    mean = float(TRAIN07.ratings.mean())
    model = BiasedMF(DATA07.n_users, DATA07.n_items, rank=rank, global_mean=mean, seed=0)
    history = fit(model, TRAIN07, VAL07, lr=0.1, reg=reg, max_steps=500, eval_every=5, patience=2, tol=1e-4,
                  lr_decay=0.5)
    return model, history, rmse(model.predict(TEST07.users, TEST07.items), TEST07.ratings)


with one_thread():
    RUN5, RUN20, RUN_NOREG, RUN10 = train07(5), train07(20), train07(10, 0.0), train07(10)
RANKS07 = (min(RUN5[1].val_rmse), min(RUN20[1].val_rmse))  # chosen on validation data

NOISY, NOISY_TRUTH = make_synthetic(noise=1.0, seed=0)
NOISY_TRAIN, _, NOISY_TEST = split_random(NOISY, (0.1, 0.1), seed=0)
RATIO07 = rmse(np.full(len(NOISY_TEST), NOISY_TRAIN.ratings.mean()), NOISY_TEST.ratings) / NOISY_TRUTH.noise

# --- 08 ---------------------------------------------------------------------------------------
OLD, NEW, RELEVANT = [3, 1, 4, 5, 9], [1, 9, 3, 4, 5], {1, 9, 7}
W = 1 / np.log2(np.arange(2, 7))
NDCG_NEW = (W[0] + W[1]) / (W[0] + W[1] + W[2])  # hits at positions 1 and 2, 3 relevant items

MODEL08 = RUN10[0]
POPULARITY = np.bincount(TRAIN07.items, minlength=DATA07.n_items).astype(float)
relevant_by_user: dict[int, set[int]] = {}
for u, i, r in zip(TEST07.users, TEST07.items, TEST07.ratings, strict=True):
    if r >= 4.0:
        relevant_by_user.setdefault(int(u), set()).add(int(i))
rated_by_user: dict[int, list[int]] = {}
for u, i in zip(np.concatenate([TRAIN07.users, VAL07.users]), np.concatenate([TRAIN07.items, VAL07.items]),
                strict=True):
    rated_by_user.setdefault(int(u), []).append(int(i))
ALL_ITEMS = np.arange(DATA07.n_items)


def mixed_ndcg(a: float) -> float:
    lists = {}
    for u in relevant_by_user:
        s = MODEL08.predict(np.full(DATA07.n_items, u), ALL_ITEMS) + a * np.log(1 + POPULARITY)
        s[rated_by_user.get(u, [])] = -np.inf
        lists[u] = np.argsort(-s, kind="stable")[:10].tolist()
    return ranking_report(lists, relevant_by_user, 10)["ndcg@10"]


MIXED = {a: mixed_ndcg(a) for a in (0.0, 0.5, 1.0, 2.0, 4.0)}
BEST_A = max(MIXED, key=MIXED.get)


def fold_in_run(n: int) -> tuple[float, float, float]:
    rng = np.random.default_rng(7)
    true_p = rng.normal(0, np.std(TRUTH07.user_factors), TRUTH07.user_factors.shape[1])
    true_b = rng.normal(0, np.std(TRUTH07.user_bias))
    true_all = TRUTH07.mean + true_b + TRUTH07.item_bias + TRUTH07.item_factors @ true_p
    shown = rng.choice(np.argsort(-POPULARITY)[:300], n, replace=False)
    ratings_shown = true_all[shown] + rng.normal(0, TRUTH07.noise, n)
    predicted = fold_in(MODEL08, shown, ratings_shown).scores(MODEL08)
    unseen = ~np.isin(ALL_ITEMS, shown)
    baseline = float(MODEL08.global_mean) + MODEL08.item_bias.weight[:, 0].detach().double().numpy()
    return (rmse(predicted[unseen], true_all[unseen]), rmse(baseline[unseen], true_all[unseen]),
            rmse(predicted, true_all))


FOLDS = [fold_in_run(n) for n in (3, 15, 50)]
FOLD08 = tuple(f[0] for f in FOLDS)

# (id, a correct answer computed here from the exercise's data)
RIGHT = [
    ("05-1", (BEST1[0], BEST1[1], TABLE1[BEST1][1])),
    ("05-2", float(np.linalg.norm(A_ROT @ P0))),
    ("05-3", RATIO_P_ONLY),
    ("06-1", DIFF06),
    ("06-2", BIASES06),
    ("06-3", RATIOS06),
    ("07-1", RANKS07),
    ("07-2", min(RUN_NOREG[1].val_rmse)),
    ("07-3", RATIO07),
    ("08-1", (2 / 5, NDCG_NEW)),
    ("08-2", BEST_A),
    ("08-3", FOLD08),
]
# (id, wrong answer, a phrase of the English message that names the mistake)
WRONG = [
    ("05-1", (BEST1[1], BEST1[0], TABLE1[BEST1][1]), "swapped"),
    ("05-1", (*min(TABLE1, key=lambda key: TABLE1[key][0]), 0.1), "lowest training error"),
    ("05-1", (4, 1.0, 0.8), "Choose the rank"),
    ("05-1", (5, 0.0, 0.8), "smallest value in the test columns"),
    ("05-1", (*BEST1, TABLE1[BEST1][0]), "training one"),
    ("05-1", (*BEST1, BEST_ON_SEED0), "original split"),
    ("05-1", (*BEST1, 0.95), "the RMSE is off"),
    ("05-1", BEST1, "Answer with 3 numbers"),
    ("05-2", float(np.linalg.norm(A_RANDOM @ P0)), "random A"),
    ("05-2", float(np.linalg.norm(P0[:2])), "bottom-right"),
    ("05-2", float(np.linalg.norm(P0) ** 2), "square root"),
    ("05-2", float(np.linalg.norm(Q0)), "norm of Q"),
    ("05-2", 1.0, "np.linalg.norm(A @ P)"),
    ("05-2", True, "one number"),
    ("05-3", 1 / RATIO_P_ONLY, "reciprocal"),
    ("05-3", RATIO_P_ONLY**2, "squares"),
    ("05-3", norm_ratio(1.0, 1.0), "still penalized"),
    ("05-3", norm_ratio(0.0, 1.0), "on Q only"),
    ("05-3", norm_ratio(0.0, 0.0), "without regularization"),
    ("05-3", norm_ratio(1.0, 0.0, 500), "500 steps"),
    ("05-3", 0.5, "Train `fit_l2`"),
    ("06-1", -DIFF06, "sign is flipped"),
    ("06-1", 0, "not 0"),
    ("06-1", TRIPLE_MU0 - DENSE_SHIFTED, "still has μ = 0"),
    ("06-1", TRIPLE_MU1 - masked_squared_loss(R - 1, P, Q).item(), "also shifts the missing"),
    ("06-1", TRIPLE_MU1, "not a loss itself"),
    ("06-1", 5.0, "and subtract"),
    ("06-2", BIASES06**2, "mean squared error"),
    ("06-2", biases_rmse(TRAIN06, TEST06), "trained on `train_data`"),
    ("06-2", biases_rmse(FIT06, VAL06), "validation data"),
    ("06-2", biases_rmse(FIT06, TEST06, reg=0), "leave `reg` at its default"),
    ("06-2", rmse(np.full(len(TEST06), FIT06.ratings.mean()), TEST06.ratings), "global mean alone"),
    ("06-2", rmse(fit_biases(FIT06)[0] + fit_biases(FIT06)[2][TEST06.items], TEST06.ratings), "Only one"),
    ("06-2", 0.5, "Evaluate the prediction"),
    ("06-3", (0.6, *RATIOS06), "Leave out the 200 × 300"),
    ("06-3", tuple(1 / r for r in RATIOS06), "upside down"),
    ("06-3", RATIOS06[::-1], "reversed"),
    ("06-3", tuple(5 * r for r in RATIOS06), "20,000"),
    ("06-3", tuple(10 * r for r in RATIOS06), "cancels"),
    ("06-3", tuple(r * c / (100_000 + r + c) for r, c in SIZES06), "Adam update"),
    ("06-3", (1, 2, 3, 4), "divide them"),
    ("06-3", "2.4", "List the 4 ratios"),
    ("07-1", RANKS07[::-1], "swapped"),
    ("07-1", tuple(v * v for v in RANKS07), "mean squared error"),
    ("07-1", (RUN5[2], RUN20[2]), "Those are test RMSEs"),
    ("07-1", (RANKS07[0], min(RUN10[1].val_rmse)), "still that of rank 10"),
    ("07-1", (RANKS07[0], 0.9), "One of them is right"),
    ("07-1", (1.0, 1.0), "Change only `rank=`"),
    ("07-1", RANKS07[0], "the pair"),
    ("07-2", min(RUN_NOREG[1].val_rmse) ** 2, "mean squared error"),
    ("07-2", RUN_NOREG[2], "That is the test RMSE"),
    ("07-2", RUN_NOREG[1].train_rmse[-1], "training RMSE"),
    ("07-2", min(RUN10[1].val_rmse), "`reg=0.04`"),
    ("07-2", 0.9, "change only `reg`, to 0"),
    ("07-3", float(np.sqrt(2)), "formula predicts"),
    ("07-3", 2 * RATIO07, "not 0.5"),
    ("07-3", RATIO07**2, "mean squared error"),
    ("07-3", NOISY.ratings.std() / NOISY_TRUTH.noise, "Close, but"),
    ("07-3", rmse(np.full(len(TEST07), TRAIN07.ratings.mean()), TEST07.ratings) / 0.5, "original data"),
    ("07-3", 3.0, "divide the test RMSE"),
    ("08-1", (NDCG_NEW, 2 / 5), "swapped"),
    ("08-1", (2, NDCG_NEW), "not their count"),
    ("08-1", (2 / 3, NDCG_NEW), "That is recall"),
    ("08-1", (0.2, NDCG_NEW), "how many of the top 5"),
    ("08-1", (2 / 5, ndcg_at_k(OLD, RELEVANT, 5)), "before reordering"),
    ("08-1", (2 / 5, W[0] + W[1]), "That is the DCG"),
    ("08-1", (2 / 5, (W[0] + W[1]) / W.sum()), "not 5"),
    ("08-1", (2 / 5, 0.5), "NDCG@5 is off"),
    ("08-1", 2 / 5, "the pair"),
    ("08-2", 0.0, "predicted rating alone"),
    ("08-2", 4.0 if BEST_A != 4.0 else 1.0, "Another value of a"),
    ("08-2", 3.0, "Choose the value of a among"),
    ("08-2", MIXED[BEST_A], "not the NDCG@10"),
    ("08-2", "2", "the best value of a"),
    ("08-3", FOLD08[::-1], "reversed"),
    ("08-3", tuple(v * v for v in FOLD08), "mean squared error"),
    ("08-3", tuple(f[2] for f in FOLDS), "includes the items shown"),
    ("08-3", tuple(f[1] for f in FOLDS), "of μ + b_i alone"),
    ("08-3", (0.5, FOLD08[1], 0.5), "start again"),
    ("08-3", (0.5, 0.5, 0.5), "run it again"),
    ("08-3", FOLD08[:2], "List the 3 RMSEs"),
]
