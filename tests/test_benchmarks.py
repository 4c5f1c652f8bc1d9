"""The benchmarks stay runnable: a smoke-sized run, the dense refusal, the generator, the fused kernel.

No timing is asserted: the numbers depend on the machine and its load.
"""

from __future__ import annotations

import math
import subprocess
import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import torch

from benchmarks import report
from benchmarks.data import Split, _draw_items, make_interactions_chunked, make_synthetic_chunked
from benchmarks.methods import Settings, dense_refusal, full_batch
from helpers import BiasedMF, Ratings, make_synthetic
from helpers.implicit import ImplicitTruth, make_interactions, wals_half_sweep
from helpers.training import _SparseBatch

ROOT = Path(__file__).resolve().parent.parent
# Cells that stand for "no value" rather than a number: a dash, or Surprise's RMSE never reached.
NOT_A_VALUE = {report.DASH, "never"}
TEXT_COLUMNS = {"method", "per", "note"}
METHODS = ["dense masked", "gather + autograd", "fast (helpers.fit)", "fused kernel", "ALS",
           "mini-batch Adam", "Surprise SVD (defaults", "Surprise SVD (10", "implicit ALS"]
INSTALL = "(pip install -r requirements-bench.txt)"


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The output of `python -m benchmarks.run --smoke` (its data cached in a temporary folder)."""
    cache = tmp_path_factory.mktemp("bench")
    done = subprocess.run([sys.executable, "-m", "benchmarks.run", "--smoke", "--cache", str(cache)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_smoke_table_has_every_column_and_finite_positive_values(smoke: str) -> None:
    rows = report.parse_table(smoke)
    assert [list(r) for r in rows] == [report.COLUMNS] * len(rows)
    for prefix in METHODS:
        assert sum(r["method"].startswith(prefix) for r in rows) == 1, prefix
    for r in rows:
        for column, cell in r.items():
            if column in TEXT_COLUMNS or cell in NOT_A_VALUE:
                continue
            value = float(cell)
            assert math.isfinite(value) and value > 0, (r["method"], column, cell)


def test_smoke_rows_are_measured_or_skipped_with_a_reason(smoke: str) -> None:
    rows = {r["method"]: r for r in report.parse_table(smoke)}
    fast = rows["fast (helpers.fit)"]
    for column in ("t→2% s", "n→2%", "test RMSE", "/σ", "ms/step", "step/bound", "peak RSS MB"):
        assert fast[column] not in NOT_A_VALUE, column
    for name, r in rows.items():
        measured = r["ms/step"] not in NOT_A_VALUE
        # a row without numbers says why: a package not installed (CI runs without requirements-bench.txt)
        assert measured or "not installed" in r["note"], (name, r["note"])


def test_dense_form_refuses_the_25m_shape_with_its_size() -> None:
    assert dense_refusal(162_541, 59_047) == "refused (needs 35.8 GiB)"
    assert dense_refusal(6_040, 3_706) is None  # 1M-like: 90 MB, it runs
    empty = Ratings(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), 162_541, 59_047)
    trace = full_batch("dense", Split(empty, empty, empty, 0.5), Settings())  # allocates nothing
    assert (trace.status, trace.note) == ("refused", "refused (needs 35.8 GiB)")


def test_chunked_generator_draws_the_same_model_without_a_users_by_items_array() -> None:
    n_users, n_items, n_ratings = 2_000, 1_500, 30_000
    tracemalloc.start()  # NumPy reports its allocations to tracemalloc
    data, truth = make_synthetic_chunked(n_users, n_items, n_ratings, rank=4, seed=3, chunk=5_000)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < n_users * n_items  # not even a boolean users × items array
    assert len(data) == n_ratings
    codes = data.users.astype(np.int64) * n_items + data.items
    assert np.unique(codes).size == n_ratings
    assert np.bincount(data.users, minlength=n_users).min() >= 5
    assert np.bincount(data.items, minlength=n_items).min() >= 5
    _, expected = make_synthetic(n_users, n_items, n_ratings, rank=4, seed=3)
    for name in ("user_bias", "item_bias", "user_factors", "item_factors"):
        assert np.array_equal(getattr(truth, name), getattr(expected, name)), name
    residual = data.ratings - truth.predict(data.users, data.items)
    assert abs(residual.std() - 0.5) < 0.02
    assert abs(data.ratings.std() - math.sqrt(1 + 0.25)) < 0.1  # signal ≈ 1, noise 0.5


def test_fused_kernel_gradients_equal_the_sparse_products() -> None:
    pytest.importorskip("numba", reason=f"numba not installed {INSTALL}")
    from benchmarks.fused import FusedBatch

    data = make_synthetic(50, 40, 700, rank=3, seed=2)[0]
    models = [BiasedMF(50, 40, 3, global_mean=3.0, init_std=0.5, dtype=torch.float64) for _ in range(2)]
    with torch.no_grad():  # non-zero biases, so every term is exercised
        models[0].user_bias.weight.normal_(0, 0.3)
        models[0].item_bias.weight.normal_(0, 0.3)
    models[1].load_state_dict(models[0].state_dict())
    expected = _SparseBatch(data, (50, 40), torch.float64).loss_and_grads(models[0], reg=0.1)
    loss = FusedBatch(data, (50, 40), torch.float64).loss_and_grads(models[1], reg=0.1)
    assert loss == pytest.approx(expected, rel=1e-12)
    for a, b in zip(models[0].parameters(), models[1].parameters(), strict=True):
        assert torch.allclose(a.grad, b.grad, rtol=1e-10, atol=1e-13)


def test_surprise_fit_is_deterministic_so_k_epoch_fits_trace_one_run() -> None:
    """The trace of Surprise's SVD rests on this: same random_state, same epochs → same model."""
    pytest.importorskip("surprise", reason=f"scikit-surprise not installed {INSTALL}")
    from surprise import SVD

    from benchmarks.data import SHAPES, generate
    from benchmarks.peers import _trainset

    trainset = _trainset(generate(SHAPES["smoke"]))
    fits = [SVD(n_factors=5, n_epochs=3, random_state=0).fit(trainset) for _ in range(2)]
    assert np.array_equal(fits[0].pu, fits[1].pu) and np.array_equal(fits[0].bi, fits[1].bi)


def test_report_picks_the_best_by_validation_and_the_first_time_within_2_percent() -> None:
    trace = {"method": "m", "unit": "step", "status": "ok", "note": "", "full_batch": True, "setup_s": 0.1,
             "steps": [1, 2, 3, 4], "times": [0.1, 0.2, 0.3, 0.4], "val": [1.0, 0.6, 0.5, 0.55],
             "test": [1.0, 0.61, 0.52, 0.5], "step_s": 0.1, "rss_base": 2**20, "rss_peak": 3 * 2**20}
    ctx = report.Context(noise=0.5, bound_s=0.05, svd_rmse=0.6, svd_time=2.0)
    cells = dict(zip(report.COLUMNS, report.row(trace, ctx), strict=True))
    assert cells["test RMSE"] == "0.5200"  # at the best validation RMSE, not the lowest test RMSE
    assert (cells["t→2% s"], cells["n→2%"]) == ("0.3", "3")
    assert (cells["t→SVD s"], cells["× SVD"]) == ("0.3", "6.67")
    assert (cells["step/bound"], cells["Δ RSS MB"]) == ("2", "2")


def test_memory_script_measures_each_task_in_its_own_process(tmp_path: Path) -> None:
    """`benchmarks.memory_25m` at the smoke shape and rank 4, top_n in blocks of 64 users: one row
    per task with finite positive numbers, peak RSS at least the task's own Δ."""
    done = subprocess.run([sys.executable, "-m", "benchmarks.memory_25m", "--shape", "smoke", "--rank", "4",
                           "--users-chunk", "64", "--cache", str(tmp_path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    rows = {r["method"]: r for r in report.parse_table(done.stdout)}
    assert list(rows) == ["als", "top_n"]
    for r in rows.values():
        assert r["users"] == "200"
        values = [float(r[c]) for c in ("time s", "peak RSS MB", "Δ RSS MB")]
        assert all(math.isfinite(v) and v >= 0 for v in values), r
        assert values[1] >= values[2] and values[1] > 0


# --- the implicit-feedback table (benchmarks/implicit_bench.py) and its 25M-like generator ---------

IMPLICIT_ROWS = ["ours: fit_wals, exact", "ours: fit_wals, CG"] + ["implicit"] * 4 + ["ours: fit_bpr"]


def test_smoke_has_the_implicit_table_measured_or_skipped_with_a_reason(smoke: str) -> None:
    rows = report.parse_table(smoke, first="implementation")
    assert len(rows) == len(IMPLICIT_ROWS)
    for prefix, r in zip(IMPLICIT_ROWS, rows, strict=True):
        assert r["implementation"].startswith(prefix), r
        if r["s/iter"] == report.DASH:  # only a missing package may leave a row empty
            assert "not installed" in r["note"] or "not available" in r["note"], r
            continue
        for column in ("s/iter", "NDCG@10", "peak RSS MB"):
            value = float(r[column])
            assert math.isfinite(value) and value > 0, (r["implementation"], column)
    ours = rows[0]
    assert 0 < float(ours["NDCG@10"]) < 1 and ours["it→target"] not in NOT_A_VALUE


def test_chunked_interactions_equal_make_interactions_in_truth_and_activity() -> None:
    """Same seed: the same truth and the same number of interactions per user; picks distinct, sorted,
    counts ≥ 1, and never a users × items array (blocks of 64 users here)."""
    shape = (600, 500, 12_000)
    expected, truth_expected = make_interactions(*shape, rank=4, seed=2)
    tracemalloc.start()
    data, truth = make_interactions_chunked(*shape, rank=4, seed=2, block_bytes=64 * 500 * 8, chunk=1_000)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 600 * 500 * 8 / 2  # half a float64 users × items array
    for name in ("user_factors", "item_factors", "popularity"):
        assert np.array_equal(getattr(truth, name), getattr(truth_expected, name)), name
    assert np.array_equal(np.bincount(data.users, minlength=600), np.bincount(expected.users, minlength=600))
    codes = data.users.astype(np.int64) * 500 + data.items
    assert np.all(np.diff(codes) > 0)  # sorted by user, then item, no repeat
    assert data.ratings.min() >= 1
    assert data.ratings.mean() == pytest.approx(expected.ratings.mean(), rel=0.05)


def _gumbel_counts(truth: ImplicitTruth, per_user: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Picks per item as make_interactions draws them: the per_user[u] largest of logit + Gumbel noise."""
    keys = truth._block_scores(np.arange(truth.n_users))
    keys = keys + rng.gumbel(size=keys.shape)
    picked = np.concatenate([np.argsort(-row)[:n] for row, n in zip(keys, per_user, strict=True)])
    return np.bincount(picked, minlength=truth.n_items)


def test_chunked_sampler_has_the_law_of_the_gumbel_top_n() -> None:
    """Fixed truth, 400 draws each: how often each item is picked (summed over users) agrees within
    4.5 standard errors for every item; heavy users (half the catalogue) go through the extra rounds.
    The same check catches a sampler that ignores taste (β = 0)."""
    data, truth = make_interactions(40, 30, 300, rank=3, seed=0)
    per_user = np.bincount(data.users, minlength=40)
    assert per_user.max() == 15  # some users pick half the items
    reps = 400
    gumbel = np.array([_gumbel_counts(truth, per_user, np.random.default_rng(r)) for r in range(reps)])
    def z_scores(model: ImplicitTruth) -> np.ndarray:
        ours = np.array([np.bincount(_draw_items(np.random.default_rng(10_000 + r), model, per_user),
                                     minlength=30) for r in range(reps)])
        return (ours.mean(0) - gumbel.mean(0)) / np.sqrt((ours.var(0) + gumbel.var(0)) / reps + 1e-12)
    assert np.abs(z_scores(truth)).max() < 4.5
    tasteless = ImplicitTruth(truth.user_factors, truth.item_factors, truth.popularity, 1.0, 0.0, 1.0)
    assert np.abs(z_scores(tasteless)).max() > 4.5


def test_implicit_solves_our_half_sweep_with_confidence_one_plus_alpha_count() -> None:
    """The convention the implicit table relies on: implicit 0.7's exact solver, given the matrix
    1 + α·count (and alpha=1.0), returns our users' half-sweep to float32 rounding."""
    pytest.importorskip("implicit", reason=f"implicit not installed {INSTALL}")
    import scipy.sparse
    from implicit.cpu import _als

    data, _ = make_interactions(80, 60, 1_500, rank=4, seed=1)
    Y = np.random.default_rng(0).normal(0, 0.3, (60, 5)).astype(np.float32)
    ours = wals_half_sweep(data, Y, alpha=0.3, reg=20.0)
    values = (1 + 0.3 * data.ratings).astype(np.float32)
    confidence = scipy.sparse.csr_matrix((values, (data.users, data.items)), shape=(80, 60))
    theirs = np.zeros((80, 5), dtype=np.float32)
    _als.least_squares(confidence, theirs, Y, 20.0, num_threads=1)
    assert np.allclose(theirs, ours, atol=1e-5)
