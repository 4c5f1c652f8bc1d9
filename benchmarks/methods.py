"""The trainers under test. Each takes the split and the settings and returns a `Trace`.

A trace records, after every step (epoch, sweep), the training time spent so far (evaluation
excluded) and the validation and test RMSEs. The four full-batch Adam trainers (dense, gather +
autograd, fast, fused) minimize the same loss, `helpers.fit`'s, from the same initial model, so
their RMSE curves agree to rounding and only the cost of a step tells them apart.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import partial
from typing import Any

import numpy as np
import torch

from helpers import BiasedMF, Ratings, rmse
from helpers.datasets import DENSE_LIMIT_BYTES
from helpers.training import _als_sweep, _SparseBatch

from . import fused
from .data import RANK, Split

SVD_EPOCHS = (1, 2, 3, 5, 8, 12, 20)  # Surprise: one fit per length; 20 = its default n_epochs


@dataclass
class Settings:
    """Budgets and hyperparameters of one run (per shape)."""

    lr: float = 0.1  # full-batch Adam: helpers.fit's defaults
    reg: float = 0.04
    max_steps: int = 300
    patience: int = 20  # evaluations without a better validation RMSE before stopping
    eval_every: int = 1  # full-batch steps between evaluations
    time_s: float = 30.0  # training-time cap of one method (evaluation not counted)
    sweeps: int = 15  # ALS
    als_patience: int = 2  # sweeps, as fit_als
    epochs: int = 8  # mini-batch Adam
    batch: int = 50_000
    batch_lr: float = 0.02
    evals_per_epoch: int = 4
    batch_patience_epochs: int = 2
    svd_epochs: tuple[int, ...] = SVD_EPOCHS
    implicit_iterations: int = 5
    threads: int = 1


@dataclass
class Trace:
    """What one method did: a row of the table is computed from this."""

    method: str
    unit: str = "step"  # what `step_s` is the time of: step, epoch, sweep, iteration
    status: str = "ok"  # ok | skipped | refused | diverged
    note: str = ""
    full_batch: bool = False  # a step reads every training rating once: compared with the bound
    setup_s: float = 0.0  # building the data structures from the arrays, before the first step
    steps: list[float] = field(default_factory=list)  # steps (epochs, sweeps) done at each record
    times: list[float] = field(default_factory=list)  # training seconds so far at each record
    val: list[float] = field(default_factory=list)
    test: list[float] = field(default_factory=list)
    step_s: float = math.nan  # median seconds of one step (epoch, sweep, iteration)
    rss_base: int = 0
    rss_peak: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class Evaluator:
    """Validation and test RMSEs of a model, in float64."""

    def __init__(self, split: Split) -> None:
        self.parts = [(*_indices(part), np.asarray(part.ratings, dtype=np.float64))
                      for part in (split.val, split.test)]

    @torch.no_grad()
    def model(self, model: BiasedMF) -> tuple[float, float]:
        val, test = (rmse(model(u, i).double().numpy(), y) for u, i, y in self.parts)
        return val, test

    def arrays(self, mu: float, bu: np.ndarray, bi: np.ndarray, P: np.ndarray,
               Q: np.ndarray) -> tuple[float, float]:
        """For models held as NumPy arrays (Surprise); no clipping to the rating scale, as ours."""
        out = []
        for u_t, i_t, y in self.parts:
            u, i = u_t.numpy(), i_t.numpy()
            out.append(rmse(mu + bu[u] + bi[i] + np.einsum("nk,nk->n", P[u], Q[i]), y))
        return out[0], out[1]


def new_model(train: Ratings) -> BiasedMF:
    """The same initial model for every torch trainer: rank 10, μ = mean training rating, seed 0."""
    mean = float(np.mean(train.ratings, dtype=np.float64))
    return BiasedMF(train.n_users, train.n_items, RANK, mean, seed=0)


def weights_of(model: BiasedMF) -> list[torch.Tensor]:
    return [model.user_factors.weight, model.item_factors.weight, model.user_bias.weight,
            model.item_bias.weight]


def _indices(part: Ratings) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.as_tensor(part.users, dtype=torch.int64), torch.as_tensor(part.items, dtype=torch.int64)


def _tensors(part: Ratings) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    return *_indices(part), torch.as_tensor(part.ratings, dtype=torch.float32)


class Recorder:
    """Runs timed steps, records the RMSEs after each, and decides when to stop."""

    def __init__(self, trace: Trace, settings: Settings, evaluate: Callable[[], tuple[float, float]],
                 patience: int | None = None) -> None:
        self.trace, self.settings, self.evaluate = trace, settings, evaluate
        self.patience = settings.patience if patience is None else patience
        self.elapsed, self.best, self.waited = 0.0, math.inf, 0
        self.durations: list[float] = []

    def timed(self, step: Callable[[], Any]) -> Any:
        start = time.perf_counter()
        value = step()
        self.durations.append(time.perf_counter() - start)
        self.elapsed += self.durations[-1]
        return value

    def record(self, steps: float) -> bool:
        """Record after `steps` steps; True when it is time to stop (patience or time budget)."""
        val, test = self.evaluate()
        trace = self.trace
        trace.steps.append(steps)
        trace.times.append(self.elapsed)
        trace.val.append(val)
        trace.test.append(test)
        if not (math.isfinite(val) and math.isfinite(test)):
            trace.status, trace.note = "diverged", f"non-finite RMSE after {steps:g} {trace.unit}s"
            return True
        if val < self.best:
            self.best, self.waited = val, 0
        else:
            self.waited += 1
        out_of_time = self.elapsed >= self.settings.time_s
        if out_of_time and self.waited < self.patience:
            trace.note = f"stopped by the {self.settings.time_s:g} s budget"
        return self.waited >= self.patience or out_of_time

    def finish(self, per_step: list[float] | None = None) -> Trace:
        durations = self.durations if per_step is None else per_step
        self.trace.step_s = statistics.median(durations) if durations else math.nan
        return self.trace


def _full_batch_adam(trace: Trace, split: Split, settings: Settings, model: BiasedMF,
                     loss_and_grads: Callable[[], float]) -> Trace:
    """Adam on the full training set; `loss_and_grads` sets the `.grad` of the weights."""
    evaluator = Evaluator(split)
    opt = torch.optim.Adam(weights_of(model), lr=settings.lr)
    recorder = Recorder(trace, settings, lambda: evaluator.model(model))

    def step() -> float:
        value = loss_and_grads()
        opt.step()
        return value

    for k in range(1, settings.max_steps + 1):
        loss = recorder.timed(step)
        if not math.isfinite(loss):
            trace.status, trace.note = "diverged", f"loss {loss} at step {k}"
            break
        if (k % settings.eval_every == 0 or k == settings.max_steps) and recorder.record(k):
            break
    return recorder.finish()


def _refusal(err: MemoryError) -> str:
    """"refused (needs X GiB)" from `Ratings.to_dense`'s message (its English line)."""
    english = str(err).splitlines()[-1]
    return "refused (needs " + english.split(" needs ", 1)[1].split(",", 1)[0] + ")"


def dense_refusal(n_users: int, n_items: int, max_bytes: int = DENSE_LIMIT_BYTES) -> str | None:
    """What the dense method says at this shape: "refused (needs X GiB)", or None if it would run.

    Asks `Ratings.to_dense` itself (it checks the size before allocating anything) but only when
    the matrix is over the limit, so that this never builds one.
    """
    if n_users * n_items * 4 <= max_bytes:
        return None
    empty = Ratings(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), n_users, n_items)
    try:
        empty.to_dense(np.float32, max_bytes=max_bytes)
    except MemoryError as err:
        return _refusal(err)
    raise AssertionError("to_dense built a matrix over its limit")


LossAndGrads = Callable[[], float]


def dense_step(train: Ratings, reg: float) -> tuple[BiasedMF, LossAndGrads]:
    """Notebook 03's form at scale: the masked squared loss on the dense users × items matrix, autograd.

    With biases and the per-rating penalty, so that it is `helpers.fit`'s loss. Raises
    `Ratings.to_dense`'s MemoryError (with the size it would need) above 2 GiB.
    """
    R = torch.from_numpy(train.to_dense(np.float32))
    users, items = _indices(train)
    # A separate mask rather than R != 0: a continuous synthetic rating may be 0 (or near it).
    mask = torch.zeros(R.shape, dtype=torch.float32)
    mask[users, items] = 1.0
    nu = torch.bincount(users, minlength=train.n_users).float()
    ni = torch.bincount(items, minlength=train.n_items).float()
    n = len(train)
    model = new_model(train)
    P, Q, bu, bi = weights_of(model)

    def loss_and_grads() -> float:
        pred = model.global_mean + bu + bi.T + P @ Q.T
        penalty = nu @ (P.square().sum(1) + bu[:, 0].square()) + ni @ (Q.square().sum(1) + bi[:, 0].square())
        loss = ((R - pred) * mask).square().sum() / n + reg * penalty / n
        for w in (P, Q, bu, bi):
            w.grad = None
        loss.backward()
        return loss.item()

    return model, loss_and_grads


def _gathered_loss(model: BiasedMF, u: torch.Tensor, i: torch.Tensor, y: torch.Tensor,
                   reg: float) -> torch.Tensor:
    """MSE + reg · mean over the ratings of ‖p_u‖² + ‖q_i‖² + b_u² + b_i², on gathered rows."""
    pu, qi = model.user_factors(u), model.item_factors(i)
    bu, bi = model.user_bias(u)[:, 0], model.item_bias(i)[:, 0]
    err = model.global_mean + bu + bi + (pu * qi).sum(-1) - y
    penalty = pu.square().sum(-1) + qi.square().sum(-1) + bu.square() + bi.square()
    return err.square().mean() + reg * penalty.mean()


def gather_step(train: Ratings, reg: float) -> tuple[BiasedMF, LossAndGrads]:
    """The "naive PyTorch": gather every training rating's rows, MSE + per-rating L2, backward."""
    u, i, y = _tensors(train)
    model = new_model(train)
    weights = weights_of(model)

    def loss_and_grads() -> float:
        loss = _gathered_loss(model, u, i, y, reg)
        for w in weights:
            w.grad = None
        loss.backward()
        return loss.item()

    return model, loss_and_grads


def fast_step(train: Ratings, reg: float) -> tuple[BiasedMF, LossAndGrads]:
    """`helpers.fit`'s step: sparse products set the four gradients (`_SparseBatch`)."""
    model = new_model(train)
    batch = _SparseBatch(train, (model.n_users, model.n_items), torch.float32)
    return model, lambda: batch.loss_and_grads(model, reg)


def fused_step(train: Ratings, reg: float) -> tuple[BiasedMF, LossAndGrads]:
    """The same gradients from the fused numba kernel of benchmarks/fused.py."""
    model = new_model(train)
    batch = fused.FusedBatch(train, (model.n_users, model.n_items), torch.float32)
    return model, lambda: batch.loss_and_grads(model, reg)


# The full-batch methods: their label and how to build (model, loss_and_grads).
FULL_BATCH: dict[str, tuple[str, Callable[[Ratings, float], tuple[BiasedMF, LossAndGrads]]]] = {
    "dense": ("dense masked + autograd", dense_step),
    "gather": ("gather + autograd", gather_step),
    "fast": ("fast (helpers.fit)", fast_step),
    "fused": ("fused kernel (numba)", fused_step),
}


def full_batch(name: str, split: Split, settings: Settings) -> Trace:
    """Full-batch Adam with one of the FULL_BATCH steps; a refusal or a missing package is noted."""
    label, build = FULL_BATCH[name]
    trace = Trace(label, full_batch=True)
    if name == "fused" and fused.missing():
        trace.status, trace.note = "skipped", fused.missing() or ""
        return trace
    start = time.perf_counter()
    try:
        model, loss_and_grads = build(split.train, settings.reg)
    except MemoryError as err:  # the dense form at a large shape: nothing was allocated
        trace.status, trace.note = "refused", _refusal(err)
        return trace
    trace.setup_s = time.perf_counter() - start
    if name == "fused":
        start = time.perf_counter()
        loss_and_grads()  # compiles the kernel, or loads it from numba's cache on disk
        trace.note = f"JIT/cache load {time.perf_counter() - start:.1f} s not counted"
    return _full_batch_adam(trace, split, settings, model, loss_and_grads)


@torch.no_grad()
def als(split: Split, settings: Settings) -> Trace:
    """`helpers.fit_als`'s sweep (users' ridge regressions, then the items'), timed sweep by sweep."""
    trace = Trace("ALS (helpers.fit_als)", unit="sweep")
    start = time.perf_counter()
    model = new_model(split.train)
    batch = _SparseBatch(split.train, (model.n_users, model.n_items), torch.float32)
    trace.setup_s = time.perf_counter() - start
    evaluator = Evaluator(split)
    recorder = Recorder(trace, settings, lambda: evaluator.model(model), patience=settings.als_patience)
    for k in range(1, settings.sweeps + 1):  # fit_als's sweep, without its training-loss bookkeeping
        recorder.timed(lambda: _als_sweep(batch, model, settings.reg))
        if recorder.record(k):
            break
    return recorder.finish()


def minibatch_adam(split: Split, settings: Settings) -> Trace:
    """Shuffled mini-batches of gathered ratings, autograd, Adam: the usual deep-learning recipe."""
    trace = Trace(f"mini-batch Adam ({settings.batch // 1000}k, lr {settings.batch_lr:g})", unit="epoch")
    start = time.perf_counter()
    u, i, y = _tensors(split.train)
    model = new_model(split.train)
    trace.setup_s = time.perf_counter() - start
    evaluator = Evaluator(split)
    weights = weights_of(model)
    opt = torch.optim.Adam(weights, lr=settings.batch_lr)
    generator = torch.Generator().manual_seed(0)
    recorder = Recorder(trace, settings, lambda: evaluator.model(model),
                        patience=settings.batch_patience_epochs * settings.evals_per_epoch)
    n, size = len(u), settings.batch
    n_batches = math.ceil(n / size)
    marks = {round(n_batches * k / settings.evals_per_epoch) for k in range(1, settings.evals_per_epoch + 1)}
    epoch_times: list[float] = []

    def step(index: torch.Tensor) -> None:
        loss = _gathered_loss(model, u[index], i[index], y[index], settings.reg)
        for w in weights:
            w.grad = None
        loss.backward()
        opt.step()

    for epoch in range(settings.epochs):
        epoch_start = recorder.elapsed
        order = recorder.timed(lambda: torch.randperm(n, generator=generator))
        for b in range(n_batches):
            recorder.timed(lambda b=b, order=order: step(order[b * size:(b + 1) * size]))
            if b + 1 in marks and recorder.record(epoch + (b + 1) / n_batches):
                # a partial epoch's time, scaled to a whole one, when no epoch was completed
                epoch_times.append((recorder.elapsed - epoch_start) * n_batches / (b + 1))
                return recorder.finish(epoch_times if b + 1 == n_batches or len(epoch_times) == 1
                                       else epoch_times[:-1])
        epoch_times.append(recorder.elapsed - epoch_start)
    return recorder.finish(epoch_times)


METHODS: dict[str, Callable[[Split, Settings], Trace]] = {
    **{name: partial(full_batch, name) for name in FULL_BATCH},
    "als": als,
    "minibatch": minibatch_adam,
}
