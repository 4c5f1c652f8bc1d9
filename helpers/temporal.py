"""Time in recommender data: ratings with timestamps and known truth, temporal splits, a time-aware bias (14).

`make_synthetic_timed` draws ratings over `days` days (default 210, about the 7 months of ml-100k)
from a model that changes with time, and keeps that model (`TimedTruth`):

- items arrive: a share `new_items` of the catalogue is released during the span (the rest before
  it), and no item is rated before its release;
- popularity rises and fades: item i is picked at day t with weight
  w_i · (floor + (1 − floor) · (a/τ_i) · e^(1 − a/τ_i)), a = t − release_i ≥ 0, which peaks τ_i days
  after release (τ_i log-normal around `lifetime` days) and then fades to the `floor`; w_i are the
  Zipf-like weights of `make_synthetic`;
- users come and go: user u rates only inside an active window of days [start_u, end_u); which
  items: n_u distinct ones, drawn without replacement with chance ∝ their weight summed over the
  window; when: a day inside the window ∝ the item's weight on that day, plus a uniform time of day;
- taste drifts: p_u(t) = p_u + (t / days) · d_u, with d_u·q_i of standard deviation `taste_drift` ×
  that of p_u·q_i;
- item biases drift: b_i(t) = b_i + walk_i(⌊t⌋), a daily random walk from 0 whose standard deviation
  after `days` days is `item_drift` (what a timeSVD++-style bias by time bin, `TimeBiasedMF`, can track).

rating = μ + b_u + b_i(t) + p_u(t)·q_i + N(0, noise²), continuous as in `make_synthetic`, whose
outputs stay as they were (this module only adds). Which items are picked does not depend on the
rating, so the noise is the floor at every time: `TimedTruth.predict` is the best possible prediction.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from ._checks import bilingual, check_positive_float, check_positive_int, check_reg, check_seed
from .datasets import Ratings, _check_fraction, _check_ratings, _zipf_weights, draw_truth
from .implicit import _activity
from .metrics import _bootstrap_means, _pair
from .models import check_index
from .training import WARMUP, DivergenceError, EarlyStopping, History, _check_loss

# --- synthetic data with time and known truth -----------------------------------------------------


@dataclass(frozen=True)
class TimedTruth:
    """The model behind `make_synthetic_timed`: the truth at every time t (in days). (14)"""

    mean: float
    user_bias: np.ndarray
    item_bias: np.ndarray  # b_i, the bias at day 0
    user_factors: np.ndarray  # p_u, the taste at day 0
    item_factors: np.ndarray
    user_drift: np.ndarray  # d_u: p_u(t) = p_u + (t / days) · d_u
    item_bias_walk: np.ndarray  # (n_items, days): b_i(t) = b_i + item_bias_walk[i, ⌊t⌋]
    release: np.ndarray  # day of release of each item (negative: before the span)
    lifetime: np.ndarray  # τ_i: days from release to the peak of popularity
    popularity: np.ndarray  # w_i: Zipf-like weights, summing to 1
    floor: float
    user_start: np.ndarray  # first active day of each user
    user_end: np.ndarray  # the day after the last active day
    noise: float
    days: int

    def _day(self, times: Any) -> np.ndarray:
        return np.clip(np.floor(np.asarray(times, dtype=np.float64)), 0, self.days - 1).astype(np.int64)

    def item_bias_at(self, items: Any, times: Any) -> np.ndarray:
        """b_i(t) = b_i + walk_i(⌊t⌋): each item's bias at each time (clipped to the span). (14)"""
        items = np.asarray(items, dtype=np.int64)
        return self.item_bias[items] + self.item_bias_walk[items, self._day(times)]

    def popularity_at(self, times: Any) -> np.ndarray:
        """Each item's chance to be picked at each time: (len(times), n_items), rows summing to 1. (14)"""
        day = self._day(np.atleast_1d(times))
        rate = self.popularity * _lifetime_curve(day[:, None] - self.release, self.lifetime, self.floor)
        return rate / rate.sum(axis=1, keepdims=True)

    def predict(self, users: Any, items: Any, times: Any) -> np.ndarray:
        """The noise-free rating of each (user, item, time): the best possible prediction. (14)"""
        users, items = np.asarray(users, dtype=np.int64), np.asarray(items, dtype=np.int64)
        t = np.asarray(times, dtype=np.float64)
        taste = self.user_factors[users] + (t / self.days)[:, None] * self.user_drift[users]
        dots = np.einsum("nk,nk->n", taste, self.item_factors[items])
        return self.mean + self.user_bias[users] + self.item_bias_at(items, t) + dots


def _lifetime_curve(age: np.ndarray, lifetime: np.ndarray, floor: float) -> np.ndarray:
    """floor + (1 − floor)·(a/τ)·e^(1 − a/τ) for age a ≥ 0 (peak 1 at a = τ), 0 before release."""
    x = np.maximum(age, 0) / lifetime
    return np.where(age >= 0, floor + (1.0 - floor) * x * np.exp(1.0 - x), 0.0)


def _check_share(value: Any, name: str, *, allow_zero: bool = True, upper: float = 1.0) -> float:
    ok = not isinstance(value, bool) and isinstance(value, numbers.Real) and math.isfinite(value) \
        and (value >= 0 if allow_zero else value > 0) and value <= upper
    if not ok:
        raise ValueError(bilingual(
            f"`{name}` は 0 以上 {upper:g} 以下の数にしてください（{value!r} が渡されました）。",
            f"`{name}` must be a number from 0 to {upper:g}; got {value!r}.",
        ))
    return float(value)


def make_synthetic_timed(
    n_users: int = 943,
    n_items: int = 1682,
    n_ratings: int = 100_000,
    rank: int = 10,
    *,
    days: int = 210,
    mean: float = 3.5,
    noise: float = 0.5,
    user_bias_std: float = 0.4,
    item_bias_std: float = 0.5,
    new_items: float = 0.4,
    lifetime: float = 20.0,
    floor: float = 0.2,
    window: float = 50.0,
    taste_drift: float = 0.5,
    item_drift: float = 0.5,
    min_ratings: int = 5,
    zipf: float = 1.0,
    seed: int = 0,
) -> tuple[Ratings, TimedTruth]:
    """Ratings with timestamps (days, float) and the truth at each time; ml-100k-like shape. (14)

    See the module's docstring for the model. Users: activity as in `make_interactions` (12) (at least
    `min_ratings` each, log-normal shares, at most a quarter of the catalogue), first day uniform
    over the span, window length 1 + exponential with mean `window` days, cut at the span's end.
    Items: released uniformly over [−2·days, 0) or, a share `new_items` of them, over [0, days);
    peak τ_i = `lifetime` · log-normal(0, 0.5). Returned in order of time; seeded.
    """
    n_users = check_positive_int(n_users, "n_users", "ユーザー数", "number of users")
    n_items = check_positive_int(n_items, "n_items", "アイテム数", "number of items")
    n_ratings = check_positive_int(n_ratings, "n_ratings", "評価値の数", "number of ratings")
    rank = check_positive_int(rank, "rank", "ランク", "rank")
    days = check_positive_int(days, "days", "期間の日数", "days in the span")
    min_ratings = check_positive_int(min_ratings, "min_ratings", "最低評価数", "minimum ratings")
    noise = check_positive_float(noise, "noise", "ノイズの標準偏差", "noise standard deviation")
    lifetime = check_positive_float(lifetime, "lifetime", "人気の山までの日数", "days to the peak")
    window = check_positive_float(window, "window", "活動期間の平均日数", "mean active days")
    new_items = _check_share(new_items, "new_items")
    floor = _check_share(floor, "floor")
    for name, value in (("user_bias_std", user_bias_std), ("item_bias_std", item_bias_std),
                        ("taste_drift", taste_drift), ("item_drift", item_drift), ("zipf", zipf)):
        _check_share(value, name, upper=math.inf)
    if isinstance(mean, bool) or not isinstance(mean, numbers.Real) or not math.isfinite(mean):
        raise ValueError(bilingual(f"`mean` は有限の数にしてください（{mean!r} が渡されました）。",
                                   f"`mean` must be a finite number; got {mean!r}."))
    if user_bias_std**2 + item_bias_std**2 >= 1:
        raise ValueError(bilingual(
            "`user_bias_std`² + `item_bias_std`² は 1 未満にしてください（信号の分散は約 1）。",
            "`user_bias_std`² + `item_bias_std`² must be below 1 (the signal's variance is about 1).",
        ))
    cap = n_items // 4
    if min_ratings > cap or not n_users * min_ratings <= n_ratings <= n_users * cap:
        raise ValueError(bilingual(
            f"`n_ratings`={n_ratings} は {n_users * min_ratings}（ユーザー数 × `min_ratings`）以上、"
            f"{n_users * cap}（ユーザー数 × アイテム数の 4 分の 1）以下にしてください。"
            f"`min_ratings` はアイテム数の 4 分の 1（{cap}）以下にしてください。",
            f"`n_ratings`={n_ratings} must lie between {n_users * min_ratings} (users × `min_ratings`) and "
            f"{n_users * cap} (users × a quarter of the items), and `min_ratings` may not exceed a quarter "
            f"of the items ({cap}).",
        ))
    seed = check_seed(seed)
    rng = np.random.default_rng(seed)
    static = draw_truth(rng, n_users, n_items, rank, mean, noise, user_bias_std, item_bias_std)
    factor_std = ((1.0 - user_bias_std**2 - item_bias_std**2) / rank) ** 0.25
    user_drift = rng.normal(0.0, taste_drift * factor_std, (n_users, rank))
    walk = np.cumsum(rng.normal(0.0, item_drift / math.sqrt(days), (n_items, days)), axis=1)
    is_new = rng.random(n_items) < new_items
    release = np.where(is_new, rng.integers(0, days, n_items), rng.integers(-2 * days, 0, n_items))
    peak = lifetime * rng.lognormal(0.0, 0.5, n_items)
    weights = _zipf_weights(rng, n_items, zipf)
    start = rng.integers(0, days, n_users)
    end = np.minimum(start + 1 + np.floor(rng.exponential(window, n_users)).astype(np.int64), days)
    counts = _activity(rng, n_users, n_ratings, min_ratings, cap, 1.0)
    truth = TimedTruth(static.mean, static.user_bias, static.item_bias, static.user_factors,
                       static.item_factors, user_drift, walk, release, peak, weights, floor, start, end,
                       noise, days)
    # Daily weights of every item and their running sums: cum[i, d] = weight of days 0..d-1.
    age = np.arange(days)[None, :] - release[:, None]
    daily = weights[:, None] * _lifetime_curve(age, peak[:, None], floor)
    cum = np.concatenate([np.zeros((n_items, 1)), np.cumsum(daily, axis=1)], axis=1)
    # Which items: n_u distinct ones ∝ weight over the user's window (Gumbel keys, top n_u).
    mass = cum[:, end].T - cum[:, start].T  # (users, items)
    with np.errstate(divide="ignore"):
        keys = np.log(mass) + rng.gumbel(size=mass.shape)
    available = (mass > 0).sum(axis=1)
    counts = np.minimum(counts, available)  # only for tiny catalogues: never at the default shape
    order = np.argsort(-keys, axis=1, kind="stable")
    chosen = np.arange(n_items)[None, :] < counts[:, None]
    users = np.repeat(np.arange(n_users), counts)
    items = order[chosen]
    # When: a day in the window ∝ the item's daily weight (inverse of cum), then a time of day.
    low, high = cum[items, start[users]], cum[items, end[users]]
    target = low + rng.random(items.size) * (high - low)
    offset = cum[:, -1].max() * 2 + 1.0  # rows shifted apart so that one sorted search serves all
    flat = (cum + np.arange(n_items)[:, None] * offset).ravel()
    day = np.searchsorted(flat, target + items * offset, side="right") - 1 - items * (days + 1)
    day = np.clip(day, start[users], end[users] - 1)  # rounding at a window's edge only
    times = day + rng.random(items.size)
    ratings = truth.predict(users, items, times) + rng.normal(0.0, noise, items.size)
    by_time = np.argsort(times, kind="stable")
    data = Ratings(users[by_time], items[by_time], ratings[by_time], n_users, n_items,
                   timestamps=times[by_time])
    return data, truth


# --- temporal splits -------------------------------------------------------------------------------


def _timed(data: Any) -> Ratings:
    data = _check_ratings(data)
    if data.timestamps is None:
        raise ValueError(bilingual(
            "`data` に時刻（`timestamps`）がないので、時間で分割できません。時刻つきのデータ"
            "（`load_movielens` で読んだ MovieLens か `make_synthetic_timed`）を渡すか、時刻なしなら "
            "`split_random` を使ってください。",
            "`data` has no times (`timestamps`), so it cannot be split by time. Pass data with times "
            "(MovieLens read by `load_movielens`, or `make_synthetic_timed`), or use `split_random` "
            "for data without times.",
        ))
    return data


def split_temporal(data: Ratings, test_fraction: float = 0.1,
                   val_fraction: float = 0.1) -> tuple[Ratings, Ratings, Ratings]:
    """Global time split: (train, validation, test) = the earliest ratings, the next, the latest. (14)

    The last `test_fraction` of the ratings in time order are the test part, the `val_fraction` before
    them validation, the rest training: every training time ≤ every validation time ≤ every test
    time, as when a model trained today is used tomorrow. Equal times are ordered by position in
    `data`. Users and items that first appear later have no training rating (cold start).
    """
    data = _timed(data)
    test_fraction = _check_fraction(test_fraction, "test_fraction")
    val_fraction = _check_fraction(val_fraction, "val_fraction")
    if test_fraction + val_fraction >= 1:
        raise ValueError(bilingual(
            f"`test_fraction` + `val_fraction` = {test_fraction + val_fraction:g} は 1 未満にしてください"
            "（残りが学習データになります）。",
            f"`test_fraction` + `val_fraction` = {test_fraction + val_fraction:g} must be below 1 (the "
            "rest is training data).",
        ))
    order = np.argsort(data.timestamps, kind="stable")
    n_test, n_val = round(test_fraction * len(data)), round(val_fraction * len(data))
    cut_val, cut_test = len(data) - n_test - n_val, len(data) - n_test
    return tuple(data.subset(np.sort(order[a:b]))
                 for a, b in ((0, cut_val), (cut_val, cut_test), (cut_test, len(data))))


def split_leave_last_out(data: Ratings) -> tuple[Ratings, Ratings, Ratings]:
    """Per user: (train, validation, test) = all but the last two, the one before last, the last. (14)

    The protocol of many sequential and top-N papers. A user with 3 or more ratings gives one to each
    part, a user with 2 gives the last to test and one to training, a user with 1 keeps it in training.
    Equal times of a user are ordered by position in `data`. Other users' later ratings stay in
    training, so the future still leaks in, unlike `split_temporal`.
    """
    data = _timed(data)
    counts = np.bincount(data.users, minlength=data.n_users)
    if counts.max() < 2:
        raise ValueError(bilingual(
            "2 つ以上の評価値を持つユーザーがいないので、最後の評価値を取り置けません"
            "（各ユーザーは学習に 1 つ残す必要があります）。",
            "No user has 2 or more ratings, so no last rating can be held out (each user must keep one "
            "for training).",
        ))
    order = np.lexsort((np.arange(len(data)), data.timestamps, data.users))  # by user, then time
    last = np.cumsum(counts)[counts >= 2] - 1  # positions in `order` of each user's last rating
    before = np.cumsum(counts)[counts >= 3] - 2
    part = np.zeros(len(data), dtype=np.int8)  # 0 train, 1 validation, 2 test
    part[order[before]], part[order[last]] = 1, 2
    return data.subset(part == 0), data.subset(part == 1), data.subset(part == 2)


# --- a time-aware bias: item bias by time bin (Koren 2009, timeSVD++) -------------------------------


class TimeBiasedMF(nn.Module):
    """r̂_ui(t) = μ + b_u + b_i + b_{i,Bin(t)} + p_u·q_i: `BiasedMF` with an item bias per time bin. (14)

    Bin(t) cuts [t_min, t_max] (the training span) into `n_bins` equal bins; a time outside it goes
    to the nearest bin, so after training the model predicts with each item's latest bin. The bin
    biases start at 0, the rest as in `BiasedMF`; train with `fit_timed`.
    """

    def __init__(self, n_users: int, n_items: int, rank: int, n_bins: int, t_min: float, t_max: float,
                 global_mean: float = 0.0, *, init_std: float = 0.1, seed: int = 0,
                 dtype: torch.dtype = torch.float32) -> None:
        super().__init__()
        self.n_users = check_positive_int(n_users, "n_users", "ユーザー数", "number of users")
        self.n_items = check_positive_int(n_items, "n_items", "アイテム数", "number of items")
        self.rank = check_positive_int(rank, "rank", "ランク", "rank")
        self.n_bins = check_positive_int(n_bins, "n_bins", "時間の区間の数", "number of time bins")
        ok = all(not isinstance(t, bool) and isinstance(t, numbers.Real) and math.isfinite(t)
                 for t in (t_min, t_max))
        if not ok or not t_min < t_max:
            raise ValueError(bilingual(
                f"`t_min` < `t_max` の有限の数にしてください（{t_min!r}, {t_max!r} が渡されました）。"
                "ふつうは学習データの時刻の最小と最大です。",
                f"`t_min` and `t_max` must be finite numbers with `t_min` < `t_max`; got {t_min!r}, "
                f"{t_max!r}. Usually the earliest and latest training times.",
            ))
        self.t_min, self.t_max = float(t_min), float(t_max)
        generator = torch.Generator().manual_seed(check_seed(seed))
        self.register_buffer("global_mean", torch.tensor(float(global_mean), dtype=dtype))
        self.user_bias = nn.Embedding(n_users, 1, dtype=dtype)
        self.item_bias = nn.Embedding(n_items, 1, dtype=dtype)
        self.item_bin_bias = nn.Embedding(n_items * self.n_bins, 1, dtype=dtype)  # row i·n_bins + bin
        self.user_factors = nn.Embedding(n_users, rank, dtype=dtype)
        self.item_factors = nn.Embedding(n_items, rank, dtype=dtype)
        with torch.no_grad():
            for bias in (self.user_bias, self.item_bias, self.item_bin_bias):
                bias.weight.zero_()
            self.user_factors.weight.normal_(0.0, init_std, generator=generator)
            self.item_factors.weight.normal_(0.0, init_std, generator=generator)

    def bin_of(self, times: torch.Tensor) -> torch.Tensor:
        """Bin(t) in 0..n_bins-1: equal bins over [t_min, t_max], times outside to the nearest."""
        width = (self.t_max - self.t_min) / self.n_bins
        return torch.clamp(torch.floor((times.double() - self.t_min) / width), 0, self.n_bins - 1).long()

    def forward(self, users: torch.Tensor, items: torch.Tensor, times: torch.Tensor) -> torch.Tensor:
        """Predicted ratings of the triples (users[k], items[k], times[k])."""
        dots = (self.user_factors(users) * self.item_factors(items)).sum(-1)
        bins = self.item_bin_bias(items * self.n_bins + self.bin_of(times))[:, 0]
        return self.global_mean + self.user_bias(users)[:, 0] + self.item_bias(items)[:, 0] + bins + dots

    @torch.no_grad()
    def predict(self, users: Any, items: Any, times: Any) -> np.ndarray:
        """Predictions at the given times as a float64 NumPy array, after checking the indices. (14)"""
        u = torch.as_tensor(check_index(users, "users", self.n_users))
        i = torch.as_tensor(check_index(items, "items", self.n_items))
        t = torch.as_tensor(np.atleast_1d(np.asarray(times, dtype=np.float64)))
        if t.shape != u.shape or u.shape != i.shape:
            raise ValueError(bilingual(
                f"`users`, `items`, `times` は同じ長さにしてください（{u.numel()}, {i.numel()}, "
                f"{t.numel()}）。",
                f"`users`, `items` and `times` must have the same length ({u.numel()}, {i.numel()}, "
                f"{t.numel()}).",
            ))
        return self(u, i, t).double().numpy()


def _timed_tensors(data: Any, name: str, model: TimeBiasedMF) -> tuple[torch.Tensor, ...]:
    if not isinstance(data, Ratings) or len(data) == 0 or data.timestamps is None:
        raise TypeError(bilingual(
            f"`{name}` には時刻（`timestamps`）つきの空でない Ratings を渡してください。",
            f"`{name}` must be a non-empty Ratings with times (`timestamps`).",
        ))
    check_index(data.users, "users", model.n_users)
    check_index(data.items, "items", model.n_items)
    dtype = model.global_mean.dtype
    return (torch.as_tensor(data.users, dtype=torch.int64), torch.as_tensor(data.items, dtype=torch.int64),
            torch.as_tensor(np.asarray(data.timestamps, dtype=np.float64)),
            torch.as_tensor(data.ratings, dtype=dtype))


def fit_timed(model: TimeBiasedMF, train: Ratings, val: Ratings | None = None, *, lr: float = 0.1,
              reg: float = 0.04, bin_reg: float = 10.0, max_steps: int = 500, eval_every: int = 5,
              patience: int = 2, tol: float = 1e-4, lr_decay: float = 0.5) -> History:
    """Full-batch Adam on a `TimeBiasedMF` with early stopping on the validation RMSE, as `fit`. (14)

    Loss = `fit`'s loss (mean squared error + reg · mean over the training ratings of
    ‖p_u‖² + ‖q_i‖² + b_u² + b_i²) + bin_reg · Σ b_{i,bin}² / (number of training ratings). The bin
    biases get a fixed ridge, not one per rating: a bin with n ratings is shrunk by n / (n + bin_reg),
    so a bin with a few ratings stays near 0 (a per-rating weight would shrink every bin alike and fit
    the noise of small ones). Users and items without a training rating keep factors and biases 0,
    as in `fit`. Every `eval_every` steps the RMSEs are recorded; the learning rate, the stopping,
    the restored best parameters and Adam's betas follow `fit`'s rule (`patience`, `tol`,
    `lr_decay`). On the CPU; the gradients are written out (index_add_), which is several times
    faster than autograd here.
    """
    if not isinstance(model, TimeBiasedMF):
        raise TypeError(bilingual(
            f"`model` には TimeBiasedMF を渡してください（{type(model).__name__} が渡されました）。"
            "BiasedMF なら `fit` を使ってください。",
            f"`model` must be a TimeBiasedMF; got {type(model).__name__}. For a BiasedMF use `fit`.",
        ))
    lr = check_positive_float(lr, "lr", "学習率", "learning rate")
    reg = check_reg(reg, allow_zero=True)
    bin_reg = check_reg(bin_reg, allow_zero=True, name="bin_reg")
    max_steps = check_positive_int(max_steps, "max_steps", "最大ステップ数", "maximum steps")
    eval_every = check_positive_int(eval_every, "eval_every", "評価の間隔", "evaluation interval")
    stopping = EarlyStopping(patience, tol, WARMUP, lr_decay=lr_decay)
    users, items, times, ratings = _timed_tensors(train, "train", model)
    held = None if val is None else _timed_tensors(val, "val", model)
    slots = items * model.n_bins + model.bin_of(times)  # each rating's row of item_bin_bias
    P, Q = model.user_factors.weight, model.item_factors.weight
    bu, bi, bt = model.user_bias.weight, model.item_bias.weight, model.item_bin_bias.weight
    n = len(ratings)
    user_n = torch.bincount(users, minlength=model.n_users).to(P.dtype)[:, None]
    item_n = torch.bincount(items, minlength=model.n_items).to(P.dtype)[:, None]
    with torch.no_grad():  # no training rating: factors and biases 0, and they stay there (gradient 0)
        for count, tables in ((user_n, (P, bu)), (item_n, (Q, bi))):
            for table in tables:
                table[count[:, 0] == 0] = 0.0
    params = [P, Q, bu, bi, bt]
    opt = stopping.adam(params, lr, validated=held is not None)
    history = History()
    for step in range(1, max_steps + 1):
        with torch.no_grad():
            p, q = P[users], Q[items]
            err = model.global_mean + bu[users, 0] + bi[items, 0] + bt[slots, 0] + (p * q).sum(-1) - ratings
            value = float(err.square().mean() + reg * ((user_n * (P.square() + bu.square())).sum()
                                                      + (item_n * (Q.square() + bi.square())).sum()) / n
                          + bin_reg * bt.square().sum() / n)
            _check_loss(value, step, history.loss, lr)
            history.loss.append(value)
            g = (2.0 / n) * err  # d(mean squared error) / d(prediction)
            # one index_add_ per table of rows: [factors, bias] of users, then of items
            rank, shrink_u, shrink_i = P.shape[1], (2 * reg / n) * user_n, (2 * reg / n) * item_n
            col = g[:, None]
            gu = P.new_zeros(P.shape[0], rank + 1).index_add_(0, users, torch.cat([col * q, col], 1))
            gi = Q.new_zeros(Q.shape[0], rank + 1).index_add_(0, items, torch.cat([col * p, col], 1))
            P.grad, bu.grad = gu[:, :rank] + shrink_u * P, gu[:, rank:] + shrink_u * bu
            Q.grad, bi.grad = gi[:, :rank] + shrink_i * Q, gi[:, rank:] + shrink_i * bi
            bt.grad = torch.zeros_like(bt).index_add_(0, slots, g[:, None]) + (2 * bin_reg / n) * bt
        opt.step()
        if step % eval_every and step != max_steps:
            continue
        with torch.no_grad():
            history.eval_steps.append(step)
            history.train_rmse.append(float((model(users, items, times) - ratings).square().mean().sqrt()))
            if not math.isfinite(history.train_rmse[-1]):
                raise DivergenceError(bilingual(
                    f"{step} 回目の更新の後、学習データの RMSE が {history.train_rmse[-1]} になりました。"
                    "学習率 `lr` を下げてください。",
                    f"After update {step} the training RMSE is {history.train_rmse[-1]}. Lower the "
                    "learning rate `lr`.",
                ), history.loss)
            if held is None:
                stopping.record_lr(history)
                continue
            current = float((model(*held[:3]) - held[3]).square().mean().sqrt())
            stopping.update(step, current, model, history)
            if history.stopped_early:
                break
    stopping.restore(model, history)
    return history


# --- evaluation -----------------------------------------------------------------------------------


def rmse_ci(predicted: Any, actual: Any, *, n_boot: int = 1000, level: float = 0.95,
            seed: int = 0) -> tuple[float, float, float]:
    """(RMSE, low, high): the RMSE and its percentile bootstrap interval over the ratings. (14)

    The ratings are drawn with replacement `n_boot` times (seeded); the interval's ends are the square
    roots of the quantiles of the resampled mean squared errors.
    """
    p, a = _pair(predicted, actual)
    squared = (p - a) ** 2
    means = _bootstrap_means(squared, n_boot, level, check_seed(seed))
    low, high = np.quantile(means, [(1 - level) / 2, (1 + level) / 2])
    return math.sqrt(squared.mean()), math.sqrt(low), math.sqrt(high)
