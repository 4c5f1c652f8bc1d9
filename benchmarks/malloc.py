"""Does glibc's malloc configuration change the step time? Measures it in fresh processes.

glibc serves blocks above its mmap threshold (dynamic, at most 32 MiB) with mmap and unmaps them
on free, and trims the top of the heap above its trim threshold; a trainer whose temporaries
are that large then page-faults them back in on every step. The settings are read once, at
process start (environment variables or GLIBC_TUNABLES), so each variant runs in a new process:

    python -m benchmarks.malloc                      # gather + autograd, 1M-like shape
    python -m benchmarks.malloc --methods gather,fast,dense --repeats 3

Prints, per variant, the median and best step time and the minor page faults per step.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

from . import machine
from .data import CACHE_DIR, ROOT, SHAPES, cache_path, ensure, load
from .methods import FULL_BATCH, weights_of

BIG = str(1 << 40)
VARIANTS: dict[str, dict[str, str]] = {
    "glibc defaults": {},
    "MMAP_THRESHOLD_=32MiB, TRIM_THRESHOLD_=1TiB": {"MALLOC_MMAP_THRESHOLD_": str(32 << 20),
                                                    "MALLOC_TRIM_THRESHOLD_": BIG},
    "MMAP_THRESHOLD_=1GiB (above the 32 MiB cap)": {"MALLOC_MMAP_THRESHOLD_": str(1 << 30)},
    "TOP_PAD_=1GiB": {"MALLOC_TOP_PAD_": str(1 << 30)},
    "TUNABLES mmap_threshold=32MiB:trim_threshold=1TiB": {
        "GLIBC_TUNABLES": f"glibc.malloc.mmap_threshold={32 << 20}:glibc.malloc.trim_threshold={BIG}"},
    "TUNABLES mmap_threshold=1GiB:trim_threshold=1TiB": {
        "GLIBC_TUNABLES": f"glibc.malloc.mmap_threshold={1 << 30}:glibc.malloc.trim_threshold={BIG}"},
    "MMAP_MAX_=0, TRIM_THRESHOLD_=1TiB (tuned)": machine.MALLOC_TUNED,
}


def child(path: Path, method: str, steps: int, threads: int) -> dict[str, float]:
    """Time `steps` full-batch Adam steps (after 3 to warm up) in this process."""
    torch.set_num_threads(threads)
    split = load(path)
    model, loss_and_grads = FULL_BATCH[method][1](split.train, 0.04)
    opt = torch.optim.Adam(weights_of(model), lr=0.1)
    times = []
    for k in range(steps + 3):
        if k == 3:
            faults = machine.minor_faults()
        start = time.perf_counter()
        loss_and_grads()
        opt.step()
        times.append(time.perf_counter() - start)
    times = times[3:]
    return {"median_ms": statistics.median(times) * 1e3, "min_ms": min(times) * 1e3,
            "faults_per_step": (machine.minor_faults() - faults) / steps,
            "peak_mb": machine.rss_peak() / 2**20}


SIZES_MIB = (8, 48, 800)  # below the 32 MiB cap, above it, a 25M-shape temporary


def served_by_mmap() -> dict[str, bool]:
    """For each size in SIZES_MIB: does a fresh malloc of it come from mmap (True) or the heap?

    Asks glibc itself (mallinfo2's bytes in mmapped blocks before and after), so it shows which
    settings took effect rather than which were written.
    """
    import ctypes

    class MallInfo2(ctypes.Structure):
        _fields_ = [(name, ctypes.c_size_t) for name in ("arena", "ordblks", "smblks", "hblks", "hblkhd",
                                                          "usmblks", "fsmblks", "uordblks", "fordblks",
                                                          "keepcost")]

    libc = ctypes.CDLL(None)
    libc.mallinfo2.restype = MallInfo2
    libc.malloc.restype = ctypes.c_void_p
    out = {}
    for mib in SIZES_MIB:
        before = libc.mallinfo2().hblkhd
        block = libc.malloc(mib << 20)
        out[f"{mib} MiB"] = libc.mallinfo2().hblkhd - before >= mib << 20
        libc.free(ctypes.c_void_p(block))
    return out


def check(variant: dict[str, str]) -> dict[str, bool]:
    """`served_by_mmap` in a fresh process with the variant's environment."""
    command = [sys.executable, "-c", "import json; from benchmarks.malloc import served_by_mmap; "
               "print(json.dumps(served_by_mmap()))"]
    env = machine.worker_env(1, variant)
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.splitlines()[-1])


def measure(path: Path, method: str, variant: dict[str, str], steps: int, threads: int) -> dict[str, float]:
    env = machine.worker_env(threads, variant)
    command = [sys.executable, "-m", "benchmarks.malloc", "--child", "--data", str(path), "--methods", method,
               "--steps", str(steps), "--threads", str(threads)]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", default="1m", choices=list(SHAPES))
    parser.add_argument("--methods", default="gather")
    parser.add_argument("--steps", type=int, default=15)
    parser.add_argument("--repeats", type=int, default=2, help="runs of each variant, interleaved")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--cache", type=Path, default=CACHE_DIR)
    parser.add_argument("--check-only", action="store_true", help="only show which settings take effect")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.data, args.methods, args.steps, args.threads)))
        return
    print("Where a fresh malloc of each size comes from (glibc's own count, mallinfo2):")
    print("| malloc setting | " + " | ".join(f"{mib} MiB" for mib in SIZES_MIB) + " |")
    print("|---|" + "---|" * len(SIZES_MIB))
    for name, variant in VARIANTS.items():
        print(f"| {name} | " + " | ".join("mmap" if v else "heap" for v in check(variant).values()) + " |")
    if args.check_only:
        return
    path = cache_path(SHAPES[args.shape], args.cache)
    if not path.exists():
        ensure(SHAPES[args.shape], args.cache)
    for method in args.methods.split(","):
        runs: dict[str, list[dict[str, float]]] = {name: [] for name in VARIANTS}
        for _ in range(args.repeats):  # interleaved, so that others' load on the machine hits all alike
            for name, variant in VARIANTS.items():
                runs[name].append(measure(path, method, variant, args.steps, args.threads))
        print(f"\n{FULL_BATCH[method][0]}, {args.shape} shape, {args.steps} steps × {args.repeats} runs, "
              f"threads {args.threads}")
        print("| malloc setting | median ms/step | best ms/step | minor faults/step | peak RSS MB |")
        print("|---|---:|---:|---:|---:|")
        for name, results in runs.items():
            median = statistics.median(r["median_ms"] for r in results)
            best = min(r["min_ms"] for r in results)
            faults = statistics.median(r["faults_per_step"] for r in results)
            peak = max(r["peak_mb"] for r in results)
            print(f"| {name} | {median:.1f} | {best:.1f} | {faults:.0f} | {peak:.0f} |", flush=True)


if __name__ == "__main__":
    main()
