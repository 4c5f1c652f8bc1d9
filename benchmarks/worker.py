"""One benchmark process: load the cached split, run the named methods, print their traces as JSON.

`benchmarks.run` starts one of these per method so that each one's peak memory is its own;
`--smoke` runs all methods in one to stay fast. Not meant to be run by hand, but it can be:
    python -m benchmarks.worker --data build/bench/1m_....npz --methods fast
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable
from pathlib import Path

import torch

from . import machine
from .data import Split, load
from .methods import METHODS, Settings, Trace
from .peers import PEERS

ALL: dict[str, Callable[[Split, Settings], Trace]] = {**METHODS, **PEERS}
MARK = "BENCH-TRACE "  # prefix of the lines that carry results (anything else is left as is)


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None  # JSON has no NaN


def _warm_up_torch() -> None:
    """Import what torch imports on an optimizer's first step (~800 modules, ~75 MB), so that the
    baseline includes it and Δ RSS is the method's own memory."""
    weight = torch.nn.Parameter(torch.zeros(1))
    weight.grad = torch.ones(1)
    torch.optim.Adam([weight]).step()


def run(path: Path, names: list[str], settings: Settings) -> list[Trace]:
    torch.set_num_threads(settings.threads)
    _warm_up_torch()
    split = load(path)
    traces = []
    for name in names:
        base = machine.rss_now()  # after importing torch (and its optimizers) and loading the data
        trace = ALL[name](split, settings)
        trace.rss_base, trace.rss_peak = base, machine.rss_peak()
        traces.append(trace)
        out = trace.as_dict()
        out["step_s"] = _finite(trace.step_s)
        print(MARK + json.dumps(out), flush=True)
    return traces


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--methods", required=True, help=f"comma-separated, from {', '.join(ALL)}")
    parser.add_argument("--settings", default="{}", help="JSON of benchmarks.methods.Settings fields")
    args = parser.parse_args(argv)
    names = args.methods.split(",")
    unknown = [n for n in names if n not in ALL]
    if unknown:
        sys.exit(f"unknown method(s) {unknown}; choose from {list(ALL)}")
    fields = json.loads(args.settings)
    if "svd_epochs" in fields:
        fields["svd_epochs"] = tuple(fields["svd_epochs"])
    run(args.data, names, Settings(**fields))


if __name__ == "__main__":
    main()
