"""From traces to table rows: time to within 2 % of the best, ratios against Surprise, the bound."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

WITHIN = 1.02  # "within 2 % of the best test RMSE"
SVD_DEFAULTS = "Surprise SVD (defaults, 100 factors)"  # peers.SVD_LABEL (not imported: report stays light)
DASH = "—"
COLUMNS = ["method", "setup s", "t→2% s", "n→2%", "test RMSE", "/σ", "per", "ms/step", "step/bound",
           "peak RSS MB", "Δ RSS MB", "t→SVD s", "× SVD", "note"]


@dataclass(frozen=True)
class Context:
    """What the rows are compared with: σ, the step bound, Surprise's final RMSE and its time."""

    noise: float
    bound_s: float | None  # 2 · n_train · rank · 4 bytes / copy bandwidth
    svd_rmse: float | None  # test RMSE of Surprise's SVD with its defaults after its 20 epochs
    svd_time: float | None  # Surprise's time to first reach that RMSE


def best_index(trace: dict[str, Any]) -> int:
    """The record with the best validation RMSE: the model one would keep (early stopping)."""
    return min(range(len(trace["val"])), key=trace["val"].__getitem__)


def first_reaching(trace: dict[str, Any], target: float) -> int | None:
    """The first record whose test RMSE is at or below `target`."""
    return next((k for k, value in enumerate(trace["test"]) if value <= target), None)


def svd_context(traces: list[dict[str, Any]], noise: float, bound_s: float | None) -> Context:
    svd = next((t for t in traces if t["method"] == SVD_DEFAULTS and t["status"] == "ok" and t["test"]), None)
    if svd is None:
        return Context(noise, bound_s, None, None)
    final = svd["test"][-1]
    return Context(noise, bound_s, final, svd["times"][first_reaching(svd, final)])


def _num(value: float | None, digits: int = 3) -> str:
    """A positive number with `digits` significant digits, or a dash."""
    if value is None or not math.isfinite(value) or value <= 0:
        return DASH
    return f"{value:.{digits}g}" if value < 10 ** digits else f"{value:.0f}"


def row(trace: dict[str, Any], ctx: Context) -> list[str]:
    """One table row (strings) for a trace."""
    mb = 2**20
    ok = trace["status"] in ("ok", "timing")
    cells = {c: DASH for c in COLUMNS}
    cells["method"] = trace["method"]
    note, status = trace["note"], trace["status"]
    cells["note"] = note if ok or note.startswith(status) else f"{status}: {note}"
    if ok:
        cells["setup s"] = _num(trace["setup_s"])
        cells["per"] = trace["unit"]
        cells["ms/step"] = _num(trace["step_s"] * 1e3 if trace["step_s"] else None)
        cells["peak RSS MB"] = _num(trace["rss_peak"] / mb, 4)
        cells["Δ RSS MB"] = _num((trace["rss_peak"] - trace["rss_base"]) / mb, 4)
        if trace["full_batch"] and ctx.bound_s and trace["step_s"]:
            cells["step/bound"] = _num(trace["step_s"] / ctx.bound_s)
    if ok and trace["test"]:
        best = trace["test"][best_index(trace)]
        k = first_reaching(trace, WITHIN * best)
        cells["t→2% s"] = _num(trace["times"][k])
        cells["n→2%"] = _num(trace["steps"][k], 4)
        cells["test RMSE"] = f"{best:.4f}"
        cells["/σ"] = f"{best / ctx.noise:.3f}"
        if ctx.svd_rmse is not None:
            reach = first_reaching(trace, ctx.svd_rmse)
            if reach is None:
                cells["t→SVD s"] = "never"
            else:
                cells["t→SVD s"] = _num(trace["times"][reach])
                cells["× SVD"] = _num(ctx.svd_time / trace["times"][reach])
    return [cells[c] for c in COLUMNS]


def table(traces: list[dict[str, Any]], ctx: Context) -> str:
    """A Markdown table of all traces."""
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "|".join("---" if c in ("method", "per", "note")
                                                              else "---:" for c in COLUMNS) + "|"]
    lines += ["| " + " | ".join(row(t, ctx)) + " |" for t in traces]
    return "\n".join(lines)


def parse_table(text: str, first: str = "method") -> list[dict[str, str]]:
    """The rows of a table printed by `table`, as dicts by column (for tests and tools); `first`: the
    header's first cell, which tells the tables apart ("implementation": benchmarks.implicit_bench's)."""
    rows = []
    header: list[str] | None = None
    for line in text.splitlines():
        if not line.startswith("| "):
            header = None if not line.startswith("|") else header
            continue
        cells = [c.strip() for c in line.strip()[1:-1].split(" | ")]
        if cells[0] == first:
            header = cells
        elif header is not None:
            rows.append(dict(zip(header, cells, strict=True)))
    return rows
