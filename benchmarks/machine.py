"""What the benchmark needs to know about the machine: copy bandwidth, memory, environment."""

from __future__ import annotations

import os
import platform
import resource
import statistics
import time

import torch

from .data import ROOT

# glibc returns freed blocks above its mmap threshold to the OS at once, so every step of a
# trainer with large temporaries page-faults them back in. M_MMAP_MAX=0 keeps every block on the
# heap (the threshold itself cannot go above 32 MiB: larger values are ignored) and a large trim
# threshold keeps freed heap memory for reuse. Read at process start only, hence set for the
# workers (and by the Makefile), never from inside a running interpreter. See README.md.
MALLOC_TUNED = {"MALLOC_MMAP_MAX_": "0", "MALLOC_TRIM_THRESHOLD_": str(1 << 40)}
MALLOC_KEYS = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_", "MALLOC_MMAP_MAX_",
               "GLIBC_TUNABLES")
THREAD_KEYS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")


def copy_bandwidth(megabytes: int = 64, repeats: int = 15) -> float:
    """Bytes per second of `y.copy_(x)` on float32 tensors: (bytes read + written) / median time."""
    x = torch.rand(megabytes * 2**20 // 4)
    y = torch.empty_like(x)
    y.copy_(x)  # fault in both buffers first
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        y.copy_(x)
        times.append(time.perf_counter() - start)
    return 2 * x.numel() * 4 / statistics.median(times)


def step_bound(n_train: int, rank: int, bandwidth: float) -> float:
    """Seconds to read the gathered user and item factor rows once: 2 · n · rank · 4 bytes / bandwidth."""
    return 2 * n_train * rank * 4 / bandwidth


def _status_kib(field: str) -> int | None:
    """A "VmXXX: N kB" line of /proc/self/status, in KiB (None where there is no /proc)."""
    try:
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith(field + ":"))
    except (OSError, StopIteration):
        return None


def rss_now() -> int:
    """Resident set size of this process now, in bytes (Linux: VmRSS)."""
    kib = _status_kib("VmRSS")
    return rss_peak() if kib is None else kib * 1024


def rss_peak() -> int:
    """Peak resident set size of this process so far, in bytes.

    Linux: VmHWM, the high-water mark of this program's own memory. Not ru_maxrss: that one
    survives exec, so a worker would report the RSS of the runner that started it when larger.
    Elsewhere ru_maxrss (KiB on Linux, bytes on macOS).
    """
    kib = _status_kib("VmHWM")
    if kib is not None:
        return kib * 1024
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if platform.system() == "Darwin" else peak * 1024


def minor_faults() -> int:
    """Minor page faults of this process so far (each is a page handed back in by the kernel)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def worker_env(threads: int, malloc: dict[str, str] | None) -> dict[str, str]:
    """The environment of a worker: this one, thread counts pinned, malloc settings replaced (None: kept)."""
    env = dict(os.environ)
    if malloc is not None:
        env = {k: v for k, v in env.items() if k not in MALLOC_KEYS} | malloc
    env.update({key: str(threads) for key in THREAD_KEYS})
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    return env


def describe() -> str:
    """One line about the machine: CPU model, cores, memory, versions."""
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            model = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (f"{model}, {os.cpu_count()} cores, {memory:.0f} GiB; Python {platform.python_version()}, "
            f"torch {torch.__version__}")
