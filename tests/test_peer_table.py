"""The peer table (benchmarks/peer_table.py): its rows run or say why not, its bookkeeping is right,
the compiled ALS solves what `helpers.fit_als` solves, and LIBMF's RMSE is what its own predict() gives.

The smoke run of every table is `tests/test_benchmarks.py`'s fixture; it is run again here only for
the peer table (about 10 s). No timing is asserted.
"""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from benchmarks import peer_table, report
from benchmarks.data import SHAPES, generate
from helpers import BiasedMF, make_synthetic
from helpers.training import _als_sweep, _SparseBatch

ROOT = Path(__file__).resolve().parent.parent
INSTALL = "(pip install -r requirements-bench.txt)"


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> str:
    cache = tmp_path_factory.mktemp("bench")
    done = subprocess.run([sys.executable, "-m", "benchmarks.run", "--smoke", "--tables", "peers",
                           "--cache", str(cache)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_every_peer_row_is_measured_or_skipped_with_the_reason(smoke: str) -> None:
    rows = report.parse_table(smoke, first="trainer")
    assert [r["trainer"] for r in rows] == [peer_table.LABELS[k] for k in peer_table.ORDER]
    for r in rows:
        if r["test RMSE"] == report.DASH:  # only a missing package may leave a row empty
            assert "not installed" in r["note"] and INSTALL in r["note"], r
            continue
        for column in ("s/pass", "t→best s", "test RMSE", "/σ", "peak RSS MB"):
            value = float(r[column])
            assert math.isfinite(value) and value > 0, (r["trainer"], column)
        assert float(r["reg (of 4)"]) in peer_table.GRIDS[next(k for k, v in peer_table.LABELS.items()
                                                               if v == r["trainer"])]
    ours = {r["trainer"]: r for r in rows}[peer_table.LABELS["fit_als"]]
    assert ours["test RMSE"] != report.DASH  # ours needs nothing from requirements-bench.txt


def _result(key: str, points: list[tuple[int, float, float, float]]) -> dict:
    return {"key": key, "method": key, "status": "ok", "points": [
        {"passes": k, "seconds": s, "val": v, "test": t} for k, s, v, t in points]}


def test_summary_takes_the_test_rmse_at_the_best_validation_and_the_first_point_reaching_it() -> None:
    peer = _result("cmfrec", [(1, 1.0, 0.9, 0.9), (2, 2.0, 0.6, 0.61), (4, 4.0, 0.55, 0.56),
                              (8, 8.0, 0.56, 0.555)])
    ours = _result("fast_als", [(1, 0.1, 0.8, 0.8), (2, 0.2, 0.58, 0.57), (3, 0.3, 0.55, 0.559)])
    rows = {r["key"]: r for r in peer_table.summary([peer, ours])}
    assert rows["cmfrec"]["test"] == 0.56  # at the best validation RMSE, not the lowest test RMSE
    assert (rows["cmfrec"]["passes"], rows["cmfrec"]["seconds"]) == (4, 4.0)
    assert rows["cmfrec"]["fast_als_s"] == 0.3  # ours first reaches 0.56 at its third sweep
    assert "fit_als_s" not in rows["fast_als"]  # no fit_als row: nothing to compare (a dash, not "never")


class _FakePeer(peer_table.Peer):
    """Test RMSE falls with passes until 7, then stays: bisection must find 7 exactly."""

    def __init__(self) -> None:
        self.max_passes, self.calls = 16, []

    def fit(self, reg: float, passes: int) -> tuple[float, float, float]:
        self.calls.append(passes)
        error = 0.5 + 0.1 * max(0, 7 - passes)
        return passes * 0.01, error, error


def test_refit_trace_bisects_to_the_fewest_passes_reaching_the_best() -> None:
    peer = _FakePeer()
    points = peer_table.trace_peer(peer, reg=1.0)
    reach = peer_table.time_to({"points": [vars(p) for p in points]}, 0.5)
    assert reach is not None and reach["passes"] == 7
    assert sorted(set(peer.calls)) == [p.passes for p in points]  # each point is one refit
    assert 7 in peer.calls and 5 not in peer.calls  # 6 → 8 bracketed it: only 7 was added


def test_compiled_als_sweep_equals_helpers_fit_als_sweep() -> None:
    """With the per-rating regularization (scaled=True) one sweep solves the same ridge problems as
    `helpers.fit_als`, to float32 rounding, from the same item factors."""
    pytest.importorskip("numba", reason=f"numba not installed {INSTALL}")
    from benchmarks.fast_als import FastALS

    data = make_synthetic(60, 45, 900, rank=3, seed=4)[0]
    model = BiasedMF(60, 45, 3, global_mean=float(np.mean(data.ratings)), seed=1)
    with torch.no_grad():
        model.item_bias.weight.normal_(0, 0.3)
    fast = FastALS.build(data.users, data.items, data.ratings, 60, 45, rank=3, reg=0.05, scaled=True)
    fast.mu = float(model.global_mean)
    fast.V[:, 1:4] = model.item_factors.weight.detach().numpy()
    fast.bi[:] = model.item_bias.weight.detach().numpy()[:, 0]
    _als_sweep(_SparseBatch(data, (60, 45), torch.float32), model, 0.05)
    fast.sweep()
    np.testing.assert_allclose(fast.U[:, 1:4], model.user_factors.weight.detach().numpy(), atol=2e-4)
    np.testing.assert_allclose(fast.V[:, 1:4], model.item_factors.weight.detach().numpy(), atol=2e-4)
    np.testing.assert_allclose(fast.bu, model.user_bias.weight.detach().numpy()[:, 0], atol=2e-4)
    np.testing.assert_allclose(fast.bi, model.item_bias.weight.detach().numpy()[:, 0], atol=2e-4)
    assert (fast.U[:, 0] == 1).all() and (fast.U[:, 4:] == 0).all()  # the bias column and the padding


def test_libmf_rmse_equals_its_own_predict_on_column_major_pairs() -> None:
    """LIBMF's wrapper reads the (u, i) pairs of predict() column-major: C-order input gives other
    numbers. The table scores μ + b + P[u]·Q[i] from its factors; this is the direct check."""
    pytest.importorskip("libmf", reason=f"libmf not installed {INSTALL}")
    split = generate(SHAPES["smoke"])
    budget = peer_table.Budget(libmf_iters=5)
    scorer = peer_table.Scorer(split)
    peer = peer_table.LibMF(split, budget, scorer, baseline=False)
    model = peer.mf.MF(k=4, nr_threads=1, nr_iters=5, lambda_p1=0.0, lambda_q1=0.0, quiet=True)
    model.fit(peer.X)
    P, Q = model.p_factors(), model.q_factors()
    test = split.test
    pairs = np.column_stack([test.users, test.items]).astype(np.float32)
    theirs = model.predict(np.asfortranarray(pairs)) + peer.mu
    direct = np.sqrt(np.mean((theirs - test.ratings) ** 2))
    reported = peer_table.Scorer(split).arrays(peer.mu, peer.bu, peer.bi, P, Q)[1]
    assert reported == pytest.approx(direct, rel=1e-5)
    wrong = model.predict(np.ascontiguousarray(pairs)) + peer.mu
    assert not np.allclose(wrong, theirs)  # why the table never calls predict() on C-order input


def test_a_rerun_of_some_rows_replaces_only_those_rows() -> None:
    def run(threads: int, keys: list[str], seconds: float) -> dict:
        return {"threads": threads, "noise": 0.5, "budget": {},
                "results": [_result(k, [(1, seconds, 0.6, 0.6)]) for k in keys]}

    stored = {"date": "2026-12-01", "runs": [run(1, ["fast_als", "cmfrec"], 1.0), run(2, ["fast_als"], 1.0)]}
    merged = peer_table.merge(stored, {"date": "2026-12-05", "runs": [run(1, ["cmfrec"], 2.0)]})
    rows = {r["key"]: r for r in merged["runs"][0]["results"]}
    assert [r["key"] for r in merged["runs"][0]["results"]] == ["fast_als", "cmfrec"]  # order kept
    assert rows["cmfrec"]["points"][0]["seconds"] == 2.0 and rows["fast_als"]["points"][0]["seconds"] == 1.0
    assert merged["runs"][1]["results"][0]["points"][0]["seconds"] == 1.0  # the other thread count untouched
    assert "rows re-run 2026-12-05: cmfrec" in merged["date"]


@pytest.mark.parametrize("shape", ["1m", "25m"])
def test_stored_results_render_the_tables_in_the_benchmarks_readme(shape: str) -> None:
    """benchmarks/README.md shows the tables of the stored results: they cannot drift apart."""
    stored = ROOT / "benchmarks" / "results" / f"peers_{shape}.json"
    if not stored.exists():
        pytest.fail(f"{stored} missing: run make bench (1m) / make bench-large (25m)")
    readme = (ROOT / "benchmarks" / "README.md").read_text(encoding="utf-8")
    tables = [line for line in peer_table.render(stored).splitlines() if line.startswith("| ")]
    assert tables and all(line in readme for line in tables)
    assert (ROOT / "benchmarks" / "results" / f"peers_{shape}.png").exists()


def test_the_fit_row_follows_helpers_fit_default_rule() -> None:
    """The `fit` row replays `helpers.fit` with its defaults: the same evaluations, the same stop."""
    from benchmarks.data import Split
    from benchmarks.methods import new_model
    from helpers import fit, split_random

    data, _ = make_synthetic(300, 200, 12_000, rank=10, seed=2)
    split = Split(*split_random(data, (0.1, 0.1), seed=0), noise=0.5)
    points = peer_table.run_fit(split, 0.04, peer_table.Budget(adam_steps=300), peer_table.Scorer(split))
    model = new_model(split.train)
    history = fit(model, split.train, split.val, reg=0.04, max_steps=300)
    assert [p.passes for p in points] == history.eval_steps and history.stopped_early
    np.testing.assert_allclose([p.val for p in points], history.val_rmse, rtol=1e-5)


def test_rerun_notes_keep_one_note_per_day() -> None:
    """Re-running rows on the same day again does not repeat the note in the stored date."""
    date = peer_table.rerun_note("2026-12-01", "2026-12-05", {"fit"})
    date = peer_table.rerun_note(date, "2026-12-05", {"fit", "cmfrec"})
    date = peer_table.rerun_note(date, "2026-12-06", {"fit"})
    assert date == "2026-12-01 (rows re-run 2026-12-05: cmfrec, fit) (rows re-run 2026-12-06: fit)"


def test_the_compiled_als_profile_prints_its_bound(capsys: pytest.CaptureFixture[str]) -> None:
    """`python -m benchmarks.fast_als SHAPE` times a sweep at 1 and 2 threads against the bound."""
    pytest.importorskip("numba", reason=f"numba not installed {INSTALL}")
    from benchmarks import fast_als

    fast_als.profile("smoke", repeats=1)
    out = capsys.readouterr().out
    assert "copy bandwidth" in out and out.count("× the gather bound") == 2
