"""Data-parallel training (11): the same numbers as one process, early bilingual errors, no hangs."""

from __future__ import annotations

import errno
import socket
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from helpers import BiasedMF, Ratings, distributed, fit, make_synthetic, split_random
from helpers.distributed import (
    _launch,
    split_shards,
    train_data_parallel,
    weighted_loss_and_grads,
    worker_env,
    write_shards,
)
from tests.bilingual import assert_bilingual

DATA, _ = make_synthetic(n_users=60, n_items=40, n_ratings=800, rank=3, seed=0)
TRAIN = split_random(DATA, (0.2,), seed=0)[0]
MEAN = float(TRAIN.ratings.mean())


def _model(dtype: torch.dtype = torch.float64) -> BiasedMF:
    return BiasedMF(TRAIN.n_users, TRAIN.n_items, 3, MEAN, seed=0, dtype=dtype)


def busy_port_first(monkeypatch: pytest.MonkeyPatch) -> tuple[socket.socket, list[int]]:
    """Make `_free_port` hand out a port another socket listens on, then free ones; record them."""
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    real, given = distributed._free_port, []

    def ports() -> int:
        given.append(busy.getsockname()[1] if not given else real())
        return given[-1]

    monkeypatch.setattr(distributed, "_free_port", ports)
    return busy, given


def test_port_clash_is_detected_by_errno(monkeypatch: pytest.MonkeyPatch) -> None:
    """The port taken between probe and bind: EADDRINUSE is caught (no log text read), a new port tried."""
    busy, given = busy_port_first(monkeypatch)
    with busy, distributed._listening_socket() as sock:
        assert len(given) == 2 and given[0] == busy.getsockname()[1]
        assert sock.getsockname()[1] == given[1] != given[0]
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        monkeypatch.setattr(distributed, "_free_port", lambda: other.getsockname()[1])
        with pytest.raises(OSError) as err:  # every try clashes: the error itself, after 3 tries
            distributed._listening_socket()
        assert err.value.errno == errno.EADDRINUSE


def test_two_processes_match_one_process(monkeypatch: pytest.MonkeyPatch) -> None:
    busy, given = busy_port_first(monkeypatch)  # the first port is taken: the launch still succeeds
    with busy:
        result = train_data_parallel(TRAIN, world_size=2, rank=3, steps=30, dtype=torch.float64)
    assert len(given) == 2
    single = _model()
    history = fit(single, TRAIN, None, max_steps=30)
    np.testing.assert_allclose(result.loss, history.loss, rtol=1e-12, atol=0)
    for name, value in single.state_dict().items():
        np.testing.assert_allclose(result.model.state_dict()[name].numpy(), value.numpy(),
                                   rtol=0, atol=1e-12, err_msg=name)
    assert result.max_gap == 0.0  # the workers took identical steps
    assert sum(result.shard_sizes) == len(TRAIN) and min(result.shard_sizes) > 0
    assert result.floats_per_step == 1 + (TRAIN.n_users + TRAIN.n_items) * (3 + 1)
    assert result.model.global_mean.item() == MEAN and result.model.global_mean.dtype == torch.float64


def test_rows_without_ratings_stay_at_zero_as_in_fit() -> None:
    """A user and an item with no training rating: 0 in every worker, as `fit` leaves them."""
    keep = (TRAIN.users != 5) & (TRAIN.items != 7)
    train = TRAIN.subset(keep)
    result = train_data_parallel(train, world_size=2, rank=3, steps=10, dtype=torch.float64)
    single = BiasedMF(train.n_users, train.n_items, 3, float(train.ratings.mean()), seed=0,
                      dtype=torch.float64)
    fit(single, train, None, max_steps=10)
    for name, value in single.state_dict().items():
        np.testing.assert_allclose(result.model.state_dict()[name].numpy(), value.numpy(),
                                   rtol=0, atol=1e-12, err_msg=name)
    model = result.model
    assert model.user_factors.weight[5].abs().max() == 0 and model.user_bias.weight[5, 0] == 0
    assert model.item_factors.weight[7].abs().max() == 0 and model.item_bias.weight[7, 0] == 0


@pytest.mark.parametrize("by", ["user", "rating"])
@pytest.mark.parametrize("world_size", [1, 2, 3, 5])
def test_weighted_shards_sum_to_the_full_batch(by: str, world_size: int) -> None:
    shards = split_shards(TRAIN, world_size, by)
    assert sum(len(s) for s in shards) == len(TRAIN)
    if by == "user":  # each user lives in exactly one shard
        owners = [set(s.users.tolist()) for s in shards]
        assert sum(len(o) for o in owners) == len(set().union(*owners))
    model = _model()
    with torch.no_grad():  # move away from the initial point (zero biases)
        model.user_bias.weight.normal_(0, 0.3, generator=torch.Generator().manual_seed(1))
    full = weighted_loss_and_grads(model, TRAIN, len(TRAIN), reg=0.1)
    parts = sum(weighted_loss_and_grads(model, s, len(TRAIN), reg=0.1) for s in shards)
    np.testing.assert_allclose(parts.numpy(), full.numpy(), rtol=1e-12, atol=1e-15)


def test_worker_env_has_the_torchrun_variables() -> None:
    env = worker_env(3, 4, "10.0.0.1", 29500)
    assert env == {"RANK": "3", "WORLD_SIZE": "4", "LOCAL_RANK": "3", "MASTER_ADDR": "10.0.0.1",
                   "MASTER_PORT": "29500"}
    assert worker_env(3, 4, "10.0.0.1", 29500, local_rank=1)["LOCAL_RANK"] == "1"


TINY = Ratings(np.array([0, 1, 2, 0]), np.array([0, 1, 0, 1]), np.array([3.0, 4.0, 5.0, 2.0]), 3, 2)


@pytest.mark.parametrize(("kwargs", "error", "names", "text"), [
    pytest.param({"world_size": 0}, ValueError, ["world_size"], "at least 1", id="world-size-0"),
    pytest.param({"world_size": -2}, ValueError, ["world_size"], "at least 1", id="world-size-negative"),
    pytest.param({"world_size": 1.5}, TypeError, ["world_size"], "positive integer", id="world-size-float"),
    pytest.param({"world_size": "2"}, TypeError, ["world_size"], "positive integer", id="world-size-str"),
    pytest.param({"world_size": True}, TypeError, ["world_size"], "positive integer", id="world-size-bool"),
    pytest.param({"world_size": 4}, ValueError, ["world_size"], "Shard 3 holds no ratings", id="empty-shard"),
    pytest.param({"world_size": 5, "shard_by": "rating"}, ValueError, ["world_size"], "only 4 ratings",
                 id="more-shards-than-ratings"),
    pytest.param({"shard_by": "item"}, ValueError, ["shard_by"], "must be", id="shard-by"),
    pytest.param({"steps": 0}, ValueError, ["steps"], "at least 1", id="steps"),
    pytest.param({"lr": -0.1}, ValueError, ["lr"], "greater than 0", id="lr"),
    pytest.param({"dtype": torch.int64}, TypeError, ["dtype"], "float32", id="dtype"),
    pytest.param({"timeout": 0}, ValueError, ["timeout"], "greater than 0", id="timeout"),
])
def test_bad_input_fails_early(kwargs: dict, error: type, names: list[str], text: str,
                               monkeypatch: pytest.MonkeyPatch) -> None:
    def no_process(*args: object, **kwargs: object) -> None:
        raise AssertionError("a worker was started before the input was checked")

    monkeypatch.setattr(distributed.subprocess, "Popen", no_process)
    with pytest.raises(error, match=text) as err:
        train_data_parallel(TINY, **kwargs)
    assert_bilingual(err, *names)


@pytest.mark.parametrize("train", [None, TINY.to_dense(), TINY.subset(np.array([], dtype=int))],
                         ids=["None", "matrix", "empty"])
def test_bad_train_fails_early(train: object) -> None:
    with pytest.raises(TypeError, match="non-empty Ratings") as err:
        train_data_parallel(train)  # type: ignore[arg-type]
    assert_bilingual(err, "train")


def _prepared(tmp_path: Path) -> Path:
    assert write_shards(TINY, tmp_path, world_size=2, rank=2, steps=5, dtype=torch.float64) == [3, 1]
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["config.json", "shard_0.npz", "shard_1.npz", "unrated.npz"]
    return tmp_path


def test_failing_worker_is_an_error_not_a_hang(tmp_path: Path) -> None:
    directory = _prepared(tmp_path)
    (directory / "shard_1.npz").unlink()  # worker 1 cannot read its shard; worker 0 waits for it
    start = time.perf_counter()
    with pytest.raises(RuntimeError, match=r"(?s)Worker 1 failed.*shard_1\.npz") as err:
        _launch(directory, 2, timeout=60)
    assert_bilingual(err)
    assert time.perf_counter() - start < 50  # worker 0 was stopped, not waited for (gloo waits 120 s)
    assert not (directory / "result_0.npz").exists()


def test_time_limit_stops_the_workers(tmp_path: Path) -> None:
    with pytest.raises(TimeoutError, match="within 0.2 s") as err:
        _launch(_prepared(tmp_path), 2, timeout=0.2)
    assert_bilingual(err, "timeout")
