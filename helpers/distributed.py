"""Data-parallel training with torch.distributed: shards of ratings, one all-reduce per step (11).

Each worker process holds one shard of the training ratings. Its loss and gradient, weighted by
n_shard / n_total, sum over the shards to exactly the full-batch loss and gradient of `fit`; one
all-reduce (SUM) per step gives every worker that sum, so every worker takes the same Adam step.
The worker is `python -m helpers.distributed DIR`, configured like torchrun configures it
(RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT), so the same code runs on several machines. As with
torchrun, the launcher itself holds the rendezvous store (a TCPStore on a port it has bound), so
no worker has to claim a port that another program may take first.
"""

from __future__ import annotations

import errno
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import numpy as np
import torch

from ._checks import bilingual, check_positive_float, check_positive_int, check_reg, check_seed
from .datasets import Ratings
from .models import BiasedMF
from .training import _SparseBatch

_WEIGHTS = ("user_factors.weight", "item_factors.weight", "user_bias.weight", "item_bias.weight")


@dataclass
class ParallelResult:
    """What `train_data_parallel` returns: worker 0's model, its loss trace, facts about the run. (11)"""

    model: BiasedMF
    loss: list[float]  # the full-batch loss before each step, as all-reduced
    shard_sizes: list[int]  # ratings per worker
    max_gap: float  # largest |difference| between any worker's parameters and worker 0's
    floats_per_step: int  # numbers each worker contributes to the all-reduce per step


def split_shards(train: Ratings, world_size: int, by: str = "user") -> list[Ratings]:
    """Shard k holds the ratings of users u with u mod world_size = k ("user"), or every
    world_size-th rating ("rating"). Raises a bilingual error for an empty shard. (11)"""
    if not isinstance(train, Ratings) or len(train) == 0:
        raise TypeError(bilingual(
            f"`train` には空でない Ratings を渡してください（{type(train).__name__} が渡されました）。",
            f"`train` must be a non-empty Ratings object; got {type(train).__name__}.",
        ))
    world_size = check_positive_int(world_size, "world_size", "プロセス数", "number of processes")
    if by not in ("user", "rating"):
        raise ValueError(bilingual(
            f"`shard_by` は \"user\" か \"rating\" にしてください（{by!r} が渡されました）。",
            f"`shard_by` must be \"user\" or \"rating\"; got {by!r}.",
        ))
    key = train.users if by == "user" else np.arange(len(train))
    shards = [train.subset(np.flatnonzero(key % world_size == k)) for k in range(world_size)]
    for k, shard in enumerate(shards):
        if len(shard) == 0 and by == "user":
            raise ValueError(bilingual(
                f"シャード {k} に評価値がありません（番号を {world_size} で割った余りが {k} のユーザーが"
                "学習データにいません）。`world_size` を減らすか、shard_by=\"rating\" で評価値ごとに"
                "分けてください。",
                f"Shard {k} holds no ratings: no user in the training data has an index u with "
                f"u mod {world_size} = {k}. Use a smaller `world_size`, or shard_by=\"rating\" "
                "to split by rating.",
            ))
        if len(shard) == 0:
            raise ValueError(bilingual(
                f"シャード {k} に評価値がありません（評価値は {len(train)} 個だけです）。"
                f"`world_size` を {len(train)} 以下にしてください。",
                f"Shard {k} holds no ratings (there are only {len(train)} ratings). "
                f"Use a `world_size` of at most {len(train)}.",
            ))
    return shards


def weighted_loss_and_grads(model: BiasedMF, shard: Ratings | _SparseBatch, n_total: int, *,
                            reg: float = 0.04) -> torch.Tensor:
    """[loss, gradients of the four tables] of one shard, times n_shard / n_total, as one flat
    vector: the buffer each worker all-reduces. Summed over shards: the full-batch values. (11)"""
    batch = shard if isinstance(shard, _SparseBatch) else \
        _SparseBatch(shard, (model.n_users, model.n_items), model.global_mean.dtype)
    loss = batch.loss_and_grads(model, reg)
    weights = [model.get_parameter(name) for name in _WEIGHTS]
    flat = torch.cat([torch.tensor([loss], dtype=weights[0].dtype)] + [w.grad.ravel() for w in weights])
    return flat * (batch.n / n_total)


def worker_env(worker: int, world_size: int, master_addr: str, master_port: int,
               local_rank: int | None = None) -> dict[str, str]:
    """The variables torchrun sets for one process; env:// rendezvous reads them. (11)

    RANK is torch's word for the process number (not the rank of the factorization);
    LOCAL_RANK is the number among the processes of the same machine.
    """
    return {"RANK": str(worker), "WORLD_SIZE": str(world_size),
            "LOCAL_RANK": str(worker if local_rank is None else local_rank),
            "MASTER_ADDR": master_addr, "MASTER_PORT": str(master_port)}


def write_shards(train: Ratings, directory: str | Path, *, world_size: int = 2, rank: int = 10,
                 lr: float = 0.1, reg: float = 0.04, steps: int = 100, seed: int = 0,
                 shard_by: str = "user", dtype: torch.dtype = torch.float32) -> list[int]:
    """Write config.json, shard_K.npz (K = 0, 1, ...) and unrated.npz into `directory`: the input of
    `python -m helpers.distributed DIR`, run by `train_data_parallel` or torchrun. Returns the
    shard sizes. μ is the mean of all of `train`, computed here once for every worker. (11)"""
    shards = split_shards(train, world_size, shard_by)
    config = {"n_users": train.n_users, "n_items": train.n_items,
              "rank": check_positive_int(rank, "rank", "ランク", "rank"),
              "global_mean": float(train.ratings.mean()),
              "lr": check_positive_float(lr, "lr", "学習率", "learning rate"),
              "reg": check_reg(reg, allow_zero=True),
              "steps": check_positive_int(steps, "steps", "ステップ数", "number of steps"),
              "seed": check_seed(seed), "dtype": str(dtype).removeprefix("torch."), "n_total": len(train)}
    if dtype not in (torch.float32, torch.float64):
        raise TypeError(bilingual(
            f"`dtype` は torch.float32 か torch.float64 にしてください（{dtype!r} が渡されました）。",
            f"`dtype` must be torch.float32 or torch.float64; got {dtype!r}.",
        ))
    directory = Path(directory)
    (directory / "config.json").write_text(json.dumps(config))
    for k, shard in enumerate(shards):
        np.savez(directory / f"shard_{k}.npz", users=shard.users, items=shard.items, ratings=shard.ratings)
    # Users and items with no rating in any shard start (and stay) at 0, as in `fit`: a worker
    # cannot tell from its own shard alone, so the launcher, which sees all of `train`, lists them.
    np.savez(directory / "unrated.npz",
             users=np.flatnonzero(np.bincount(train.users, minlength=train.n_users) == 0),
             items=np.flatnonzero(np.bincount(train.items, minlength=train.n_items) == 0))
    return [len(shard) for shard in shards]


def train_data_parallel(train: Ratings, *, world_size: int = 2, rank: int = 10, lr: float = 0.1,
                        reg: float = 0.04, steps: int = 100, seed: int = 0, shard_by: str = "user",
                        dtype: torch.dtype = torch.float32, timeout: float = 300.0) -> ParallelResult:
    """Full-batch Adam as in `fit` (no early stopping), in `world_size` processes on this machine. (11)"""
    timeout = check_positive_float(timeout, "timeout", "待ち時間の上限（秒）", "time limit in seconds")
    with tempfile.TemporaryDirectory(prefix="mf-ddp-") as tmp:
        sizes = write_shards(train, tmp, world_size=world_size, rank=rank, lr=lr, reg=reg, steps=steps,
                             seed=seed, shard_by=shard_by, dtype=dtype)
        _launch(Path(tmp), world_size, timeout)
        results = []
        for k in range(world_size):
            with np.load(Path(tmp) / f"result_{k}.npz") as f:
                results.append(dict(f))
    model = BiasedMF(train.n_users, train.n_items, rank, float(train.ratings.mean()), seed=seed, dtype=dtype)
    loaded = model.load_state_dict({name: torch.from_numpy(results[0][name]) for name in _WEIGHTS},
                                   strict=False)  # global_mean is a buffer, already set above
    assert not loaded.unexpected_keys and loaded.missing_keys == ["global_mean"], loaded
    gap = max(float(np.abs(r[name] - results[0][name]).max()) for r in results for name in _WEIGHTS)
    return ParallelResult(model, results[0]["loss"].tolist(), sizes, gap, int(results[0]["floats_per_step"]))


def _free_port() -> int:
    # Port 0 asks the OS for any free port; a fixed port could clash with another run.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _listening_socket(attempts: int = 3) -> socket.socket:
    """A socket listening on a free loopback port; another program may take the port between
    `_free_port` and this bind: that shows as EADDRINUSE (the errno, not a message), and we retry."""
    for attempt in range(attempts):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a port left in TIME_WAIT is fine
        try:
            sock.bind(("127.0.0.1", _free_port()))
            sock.listen()
            return sock
        except OSError as err:
            sock.close()
            if err.errno != errno.EADDRINUSE or attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


def _launch(directory: Path, world_size: int, timeout: float) -> None:
    """Start the workers as torchrun would on one machine; raise if one fails or time runs out."""
    import torch.distributed as dist

    procs, logs = [], []
    sock = _listening_socket()
    port = sock.getsockname()[1]
    # The launcher hosts the rendezvous store, like torchrun's agent; the store owns the socket now.
    store = dist.TCPStore("127.0.0.1", port, world_size, is_master=True, wait_for_workers=False,
                          master_listen_fd=sock.detach())
    # The workers must import this package even when it is not installed: put its parent first.
    paths = [str(Path(__file__).resolve().parent.parent), os.environ.get("PYTHONPATH", "")]
    # TORCHELASTIC_USE_AGENT_STORE (set by torchrun too): worker 0 joins the store, does not host it.
    extra = {"OMP_NUM_THREADS": "1", "PYTHONPATH": os.pathsep.join(p for p in paths if p),
             "TORCHELASTIC_USE_AGENT_STORE": "True"}
    if "GLOO_SOCKET_IFNAME" not in os.environ and sys.platform in ("linux", "darwin"):
        extra["GLOO_SOCKET_IFNAME"] = "lo" if sys.platform == "linux" else "lo0"  # stay on loopback
    try:
        for k in range(world_size):
            # Each worker writes into its own log file, never into the notebook's output.
            logs.append(open(directory / f"worker_{k}.log", "wb"))  # noqa: SIM115 (closed below)
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "helpers.distributed", str(directory)],
                env=os.environ | extra | worker_env(k, world_size, "127.0.0.1", port),
                stdin=subprocess.DEVNULL, stdout=logs[-1], stderr=subprocess.STDOUT))
        deadline = time.monotonic() + timeout
        while (codes := [p.poll() for p in procs]) != [0] * world_size:
            failed = [k for k, code in enumerate(codes) if code not in (None, 0)]
            if failed:  # the others would wait for it forever: stop them (finally) and report
                k = failed[0]
                tail = (directory / f"worker_{k}.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(bilingual(
                    f"ワーカー {k} が終了コード {codes[k]} で失敗しました。その出力の最後を下に示します。",
                    f"Worker {k} failed with exit code {codes[k]}. The end of its output:\n{tail}",
                ))
            if time.monotonic() > deadline:
                raise TimeoutError(bilingual(
                    f"ワーカーが {timeout} 秒以内に終わりませんでした。`timeout` を増やしてください。",
                    f"The workers did not finish within {timeout} s; raise `timeout`.",
                ))
            time.sleep(0.02)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
            p.wait()
        for log in logs:
            log.close()
        del store  # closes the port


def _worker(directory: Path) -> None:
    """One worker: rendezvous via env:// (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT), train, save."""
    import torch.distributed as dist

    torch.set_num_threads(1)  # the workers share the machine's cores; one thread keeps digits fixed
    worker, world_size = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    cfg = json.loads((directory / "config.json").read_text())
    with np.load(directory / f"shard_{worker}.npz") as f:
        shard = Ratings(f["users"], f["items"], f["ratings"], cfg["n_users"], cfg["n_items"])
    dtype = getattr(torch, cfg["dtype"])
    # The same seed everywhere: every worker starts from the same parameters.
    model = BiasedMF(cfg["n_users"], cfg["n_items"], cfg["rank"], cfg["global_mean"], seed=cfg["seed"],
                     dtype=dtype)
    with np.load(directory / "unrated.npz") as f, torch.no_grad():
        for table, index in (("user", f["users"]), ("item", f["items"])):
            model.get_parameter(f"{table}_factors.weight")[index] = 0.0
            model.get_parameter(f"{table}_bias.weight")[index] = 0.0
    weights = [model.get_parameter(name) for name in _WEIGHTS]
    batch = _SparseBatch(shard, (model.n_users, model.n_items), dtype)
    opt = torch.optim.Adam(weights, lr=cfg["lr"])
    dist.init_process_group("gloo", init_method="env://", rank=worker, world_size=world_size,
                            timeout=timedelta(seconds=120))
    try:
        losses = []
        for _ in range(cfg["steps"]):
            flat = weighted_loss_and_grads(model, batch, cfg["n_total"], reg=cfg["reg"])
            dist.all_reduce(flat, op=dist.ReduceOp.SUM)  # one message per step: loss and all gradients
            losses.append(float(flat[0]))
            for w, g in zip(weights, flat[1:].split([w.numel() for w in weights]), strict=True):
                w.grad = g.view_as(w)
            opt.step()
    finally:
        dist.destroy_process_group()
    np.savez(directory / f"result_{worker}.npz", loss=np.array(losses), floats_per_step=flat.numel(),
             **{name: w.detach().numpy() for name, w in zip(_WEIGHTS, weights, strict=True)})


def _main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m helpers.distributed DIR  (with RANK, WORLD_SIZE, MASTER_ADDR, "
              "MASTER_PORT set, e.g. by torchrun)", file=sys.stderr)
        return 2
    _worker(Path(argv[0]))
    return 0


if __name__ == "__main__":
    code = _main(sys.argv[1:])
    sys.stdout.flush()
    sys.stderr.flush()
    # The results are written and closed; skip the interpreter's clean-up of torch's many modules,
    # which takes a second or more once torch.optim has loaded torch._dynamo.
    os._exit(code)
