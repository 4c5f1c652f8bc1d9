"""Peer libraries from requirements-bench.txt: Surprise's SVD and implicit's ALS.

Both are optional: without the package, the row says so and is skipped.
"""

from __future__ import annotations

import importlib.util
import statistics
import time
from collections import defaultdict

import numpy as np

from .data import RANK, Split
from .methods import Evaluator, Settings, Trace

SVD_LABEL = "Surprise SVD (defaults, 100 factors)"


def _missing(module: str, package: str) -> str | None:
    if importlib.util.find_spec(module) is None:
        return f"{package} not installed (pip install -r requirements-bench.txt)"
    return None


def _trainset(split: Split) -> object:
    """A Surprise Trainset whose inner ids are our indices (no pandas, no raw-id dictionaries to look up).

    Surprise's SGD walks `ur` user by user in insertion order, each user's ratings in data order,
    as its own `Dataset.load_from_df(...).build_full_trainset()` would. `ir` (item → ratings) is
    left empty: SVD never reads it, and at scale it would double the memory.
    """
    from surprise import Trainset

    train = split.train
    ur: defaultdict[int, list[tuple[int, float]]] = defaultdict(list)
    for u, i, r in zip(train.users.tolist(), train.items.tolist(), train.ratings.tolist(), strict=True):
        ur[u].append((i, r))
    identity_users = {u: u for u in range(train.n_users)}
    identity_items = {i: i for i in range(train.n_items)}
    trainset = Trainset(ur, defaultdict(list), train.n_users, train.n_items, len(train), train.scale,
                        identity_users, identity_items)
    _ = trainset.global_mean  # computed lazily by Surprise: do it now, outside the timed fits
    return trainset


def surprise_svd(split: Split, settings: Settings, n_factors: int = 100) -> Trace:
    """Surprise's SVD (SGD, lr 0.005, reg 0.02, 20 epochs), traced by refitting with n_epochs = k.

    Surprise has no per-epoch hook, but with a fixed random_state its SGD visits the ratings in
    a fixed order with a constant learning rate, so a fit of k epochs is the first k epochs of a
    longer one: fitting k = 1, 2, 3, 5, 8, 12, 20 gives the curve, each point's time being that
    fit's own wall time. The time per epoch is the 20-epoch fit's time / 20.
    """
    trace = Trace(SVD_LABEL if n_factors == 100 else f"Surprise SVD ({n_factors} factors)", unit="epoch")
    reason = _missing("surprise", "scikit-surprise")
    if reason:
        trace.status, trace.note = "skipped", reason
        return trace
    from surprise import SVD

    start = time.perf_counter()
    trainset = _trainset(split)
    trace.setup_s = time.perf_counter() - start
    evaluator = Evaluator(split)
    for epochs in settings.svd_epochs:
        algo = SVD(n_factors=n_factors, n_epochs=epochs, random_state=0)
        start = time.perf_counter()
        algo.fit(trainset)
        seconds = time.perf_counter() - start
        val, test = evaluator.arrays(trainset.global_mean, algo.bu, algo.bi, algo.pu, algo.qi)
        trace.steps.append(epochs)
        trace.times.append(seconds)
        trace.val.append(val)
        trace.test.append(test)
    trace.step_s = trace.times[-1] / trace.steps[-1]
    return trace


def surprise_svd10(split: Split, settings: Settings) -> Trace:
    return surprise_svd(split, settings, n_factors=RANK)


def implicit_als(split: Split, settings: Settings) -> Trace:
    """implicit's ALS, for time per iteration only: an implicit-feedback model, its RMSE means nothing here.

    It factorizes a confidence-weighted 0/1 matrix (here: 1 for every training rating), so its
    scores are not ratings; only its speed on the same sparsity pattern is comparable.
    """
    trace = Trace(f"implicit ALS ({RANK} factors; timing only)", unit="iteration")
    reason = _missing("implicit", "implicit")
    if reason:
        trace.status, trace.note = "skipped", reason
        return trace
    import scipy.sparse
    from implicit.cpu.als import AlternatingLeastSquares

    start = time.perf_counter()
    train = split.train
    ones = np.ones(len(train), dtype=np.float32)
    user_items = scipy.sparse.csr_matrix((ones, (train.users, train.items)),
                                         shape=(train.n_users, train.n_items))
    model = AlternatingLeastSquares(factors=RANK, iterations=settings.implicit_iterations,
                                    num_threads=settings.threads, random_state=0)
    trace.setup_s = time.perf_counter() - start
    seconds: list[float] = []
    model.fit(user_items, show_progress=False, callback=lambda _it, elapsed, _loss: seconds.append(elapsed))
    trace.step_s = statistics.median(seconds)
    trace.status, trace.note = "timing", "implicit feedback: RMSE not comparable"
    return trace


PEERS = {"svd": surprise_svd, "svd10": surprise_svd10, "implicit": implicit_als}
