"""Ratings as (user, item, rating) triples: the synthetic data set and the splitters (06, 07)."""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._checks import bilingual, check_matrix, check_positive_float, check_positive_int, check_seed

DENSE_LIMIT_BYTES = 2**31  # the most `Ratings.to_dense` will allocate unless told otherwise


@dataclass(frozen=True)
class Ratings:
    """Observed ratings as parallel arrays; `users[k]` rated `items[k]` with `ratings[k]`. (06)

    Users and items are contiguous indices `0..n_users-1`, `0..n_items-1`. For a loaded file,
    `user_ids[u]` / `item_ids[i]` give the raw id of index `u` / `i` in the file. `timestamps[k]`,
    when given, is the time of rating k (any finite int or float unit: seconds in MovieLens,
    days in `helpers.temporal`); every split and subset carries it along (14). The fields are
    checked when the object is made (equal lengths, indices in range, finite ratings and times);
    a bad field raises a bilingual ValueError or TypeError that says what to do.
    """

    users: np.ndarray
    items: np.ndarray
    ratings: np.ndarray
    n_users: int
    n_items: int
    user_ids: np.ndarray | None = None
    item_ids: np.ndarray | None = None
    timestamps: np.ndarray | None = None

    def __post_init__(self) -> None:
        """Check the fields here, not deep in a trainer: a few passes, no copy of clean arrays.

        int32 and int64 index arrays are kept as they are; other integer dtypes (uint8, int16,
        big-endian …) and integer-valued float arrays become int64, the indices torch accepts.
        """
        n_users = check_positive_int(self.n_users, "n_users", "ユーザー数", "number of users")
        n_items = check_positive_int(self.n_items, "n_items", "アイテム数", "number of items")
        users, items = _index_array(self.users, "users"), _index_array(self.items, "items")
        ratings = _rating_array(self.ratings)
        if not users.size == items.size == ratings.size:
            raise ValueError(bilingual(
                f"`users`, `items`, `ratings` の長さが違います（{users.size}, {items.size}, "
                f"{ratings.size}）。k 番目の要素どうしで 1 つの評価値を表すので"
                "（ユーザー users[k] がアイテム items[k] に評価値 ratings[k] を付けた）、"
                "同じ長さにしてください。",
                f"`users`, `items` and `ratings` have different lengths ({users.size}, {items.size}, "
                f"{ratings.size}). Entry k of each describes one rating (user users[k] gave item items[k] "
                "the rating ratings[k]), so they must have the same length.",
            ))
        for name, value, size in (("users", users, n_users), ("items", items, n_items)):
            _check_range(value, name, size)
        for name, ids, size in (("user_ids", self.user_ids, n_users), ("item_ids", self.item_ids, n_items)):
            if ids is not None and (np.ndim(ids) != 1 or len(ids) != size):
                raise ValueError(bilingual(
                    f"`{name}` は番号ごとに元の ID を 1 つ持つ長さ {size} の 1 次元配列にしてください"
                    f"（形状 {np.shape(ids)} が渡されました）。対応がなければ省いてください（None）。",
                    f"`{name}` must be a 1-D array of length {size}, the raw id of each index; got shape "
                    f"{np.shape(ids)}. Leave it out (None) when there is no mapping.",
                ))
        fields = [("users", users), ("items", items), ("ratings", ratings), ("n_users", n_users),
                  ("n_items", n_items)]
        if self.timestamps is not None:
            fields.append(("timestamps", _timestamp_array(self.timestamps, ratings.size)))
        for name, value in fields:
            object.__setattr__(self, name, value)

    def __len__(self) -> int:
        return int(self.ratings.size)

    def subset(self, index: np.ndarray) -> Ratings:
        """The ratings at `index` (an index array or boolean mask), same users and items."""
        times = None if self.timestamps is None else self.timestamps[index]
        return Ratings(self.users[index], self.items[index], self.ratings[index], self.n_users,
                       self.n_items, self.user_ids, self.item_ids, times)

    @property
    def scale(self) -> tuple[float, float]:
        """(lowest, highest) rating in the data: the rating scale comes from data, not a constant."""
        if len(self) == 0:
            raise ValueError(bilingual(
                "評価値が 1 つもないので、評価の範囲（最小と最大）がありません。評価値のある Ratings で"
                "呼んでください（分割の一部が空なら、割合を大きくしてください）。",
                "There are no ratings, so there is no rating scale (lowest and highest). Call it on a "
                "Ratings with ratings (if a part of a split is empty, give it a larger fraction).",
            ))
        return float(self.ratings.min()), float(self.ratings.max())

    def to_dense(self, dtype: Any = np.float64, *, max_bytes: int = DENSE_LIMIT_BYTES) -> np.ndarray:
        """The users × items matrix with 0 at missing entries (small data only). (06, 10)

        Refuses, with the size it would need, when that exceeds `max_bytes` (2 GiB by default):
        at MovieLens-25M shape the matrix alone would take tens of gigabytes.
        """
        dtype = np.dtype(dtype)
        needed = self.n_users * self.n_items * dtype.itemsize
        if needed > max_bytes:
            raise MemoryError(bilingual(
                f"密な行列 {self.n_users:,} × {self.n_items:,}（{dtype.name}）には {needed / 2**30:,.1f} GiB "
                f"必要で、上限 {max_bytes / 2**30:,.1f} GiB を超えます。密な形は小さなデータ専用です。"
                "三つ組のまま学習する `fit` か `fit_als` を使ってください。",
                f"A dense {self.n_users:,} × {self.n_items:,} matrix ({dtype.name}) needs "
                f"{needed / 2**30:,.1f} GiB, over the limit of {max_bytes / 2**30:,.1f} GiB. The dense form "
                "is for small data only: train on the triples with `fit` or `fit_als` instead.",
            ))
        R = np.zeros((self.n_users, self.n_items), dtype=dtype)
        R[self.users, self.items] = self.ratings
        return R

    @classmethod
    def from_dense(cls, R: Any) -> Ratings:
        """Triples from a matrix whose 0 entries are missing, in row-major order. (06)"""
        R = check_matrix(R, "R")
        users, items = np.nonzero(R)
        return cls(users.astype(np.int64), items.astype(np.int64), R[users, items], *R.shape)


_KEPT_INDEX_DTYPES = (np.dtype(np.int32), np.dtype(np.int64))  # native byte order: torch indexes with them


def _index_array(value: Any, name: str) -> np.ndarray:
    """`value` as a 1-D int32 or int64 array (no copy when it already is one); range checked later."""
    arr = np.asarray(value)
    if arr.dtype.kind not in "iuf":  # integers, unsigned integers, floats; not bool, str, object
        raise TypeError(bilingual(
            f"`{name}` は 0 から数えた整数の番号の配列にしてください（dtype {arr.dtype} が渡されました）。"
            "ID が文字列などなら `ids, index = np.unique(raw, return_inverse=True)` で"
            "番号に変換してください。",
            f"`{name}` must be an array of integer indices counted from 0; got dtype {arr.dtype}. "
            "For string or other raw ids, use `ids, index = np.unique(raw, return_inverse=True)`.",
        ))
    _check_1d(arr, name)
    if arr.dtype.kind == "f":
        whole = np.isfinite(arr) & (arr == np.floor(arr))
        if not whole.all():
            pos = int(np.argmin(whole))
            raise ValueError(bilingual(
                f"`{name}` は整数の番号にしてください。整数でない値が {int((~whole).sum())} 個あり、"
                f"最初は位置 {pos} の {arr[pos].item()} です。番号の列を取り違えていないか、"
                "NaN の行が混じっていないか確かめてください。",
                f"`{name}` must hold integer indices; {int((~whole).sum())} value(s) are not integers, "
                f"the first at position {pos}: {arr[pos].item()}. Check that this is the index column "
                "and that no row with NaN slipped in.",
            ))
    if arr.dtype not in _KEPT_INDEX_DTYPES:
        arr = arr.astype(np.int64)
    return arr


def _check_range(arr: np.ndarray, name: str, size: int) -> None:
    """Require 0 <= arr < size (`size` is n_users or n_items)."""
    # One pass: seen as unsigned (a free view) a negative index is huge, so max() < size checks both ends.
    if arr.size == 0 or arr.view(arr.dtype.str.replace("i", "u")).max() < size:
        return
    size_name = "n_users" if name == "users" else "n_items"
    bad = np.flatnonzero((arr < 0) | (arr >= size))
    pos, value = int(bad[0]), arr[bad[0]].item()
    if arr.min() < 0:
        hint_ja = "負の番号は使えません。その評価値を除くか、番号を振り直してください。"
        hint_en = "Negative indices are not allowed: drop those ratings or renumber."
    elif arr.min() >= 1 and arr.max() == size:
        hint_ja = "1 から数えた ID ではありませんか。1 を引くか `np.unique(raw, return_inverse=True)` で"
        hint_ja += "振り直してください。"
        hint_en = "Are these ids counted from 1? Subtract 1, or renumber with "
        hint_en += "`np.unique(raw, return_inverse=True)`."
    else:
        hint_ja = f"`{size_name}` を {int(arr.max()) + 1} 以上にするか、その評価値を除いてください。"
        hint_en = f"Raise `{size_name}` to at least {int(arr.max()) + 1}, or drop those ratings."
    raise ValueError(bilingual(
        f"`{name}` の番号は 0 以上 `{size_name}`={size} 未満にしてください。範囲外の値が {bad.size} 個あり、"
        f"最初は位置 {pos} の {value} です。{hint_ja}",
        f"`{name}` must hold indices from 0 to `{size_name}` - 1 = {size - 1}; {bad.size} value(s) are "
        f"outside, the first at position {pos}: {value}. {hint_en}",
    ))


def _rating_array(value: Any) -> np.ndarray:
    """`value` as a 1-D array of finite real numbers (no copy)."""
    arr = np.asarray(value)
    if arr.dtype.kind not in "iuf":
        raise TypeError(bilingual(
            f"`ratings` は実数の配列にしてください（dtype {arr.dtype} が渡されました）。",
            f"`ratings` must be an array of real numbers; got dtype {arr.dtype}.",
        ))
    _check_1d(arr, "ratings")
    # One cheap pass: a sum is finite unless some value is NaN or ±inf (or it overflows; then look closer).
    if arr.dtype.kind == "f" and not np.isfinite(arr.sum()):
        bad = np.flatnonzero(~np.isfinite(arr))
        if bad.size:
            pos = int(bad[0])
            raise ValueError(bilingual(
                f"`ratings` に NaN または無限大が {bad.size} 個あります"
                f"（最初は位置 {pos} の {arr[pos].item()}）。"
                "評価値は有限の数にしてください。欠けた評価値は三つ組ごと除いてください"
                "（例: `keep = np.isfinite(ratings)` で users, items, ratings をそろえて絞る）。",
                f"`ratings` contains {bad.size} NaN or infinite value(s), the first at position {pos}: "
                f"{arr[pos].item()}. Ratings must be finite; drop a missing rating with its user and item "
                "(e.g. `keep = np.isfinite(ratings)`, then index users, items and ratings with it).",
            ))
    return arr


def _timestamp_array(value: Any, size: int) -> np.ndarray:
    """`value` as a 1-D array of `size` finite real times (no copy); ints stay ints. (14)"""
    arr = np.asarray(value)
    if arr.dtype.kind not in "iuf":
        raise TypeError(bilingual(
            f"`timestamps` は時刻（整数か実数）の配列にしてください（dtype {arr.dtype} が渡されました）。"
            "日時の文字列や datetime なら、エポック秒（1970 年 1 月 1 日からの秒数）などの数に"
            "変換してください。時刻がなければ省いてください（None）。",
            f"`timestamps` must be an array of times (integers or reals); got dtype {arr.dtype}. Turn date "
            "strings or datetimes into numbers such as seconds since 1 January 1970. Leave it out (None) "
            "when there are no times.",
        ))
    _check_1d(arr, "timestamps")
    if arr.size != size:
        raise ValueError(bilingual(
            f"`timestamps` の長さ {arr.size} が評価値の数 {size} と違います。k 番目の要素は"
            "評価値 ratings[k] の時刻なので、同じ長さにしてください。",
            f"`timestamps` has length {arr.size} but there are {size} ratings. Entry k is the time of "
            "rating ratings[k], so they must have the same length.",
        ))
    if arr.dtype.kind == "f" and arr.size and not np.isfinite(arr).all():
        bad = np.flatnonzero(~np.isfinite(arr))
        raise ValueError(bilingual(
            f"`timestamps` に NaN または無限大が {bad.size} 個あります（最初は位置 {int(bad[0])} の "
            f"{arr[bad[0]].item()}）。時刻は有限の数にしてください。時刻の欠けた評価値は除いてください。",
            f"`timestamps` contains {bad.size} NaN or infinite value(s), the first at position "
            f"{int(bad[0])}: {arr[bad[0]].item()}. Times must be finite; drop the ratings without a time.",
        ))
    return arr


def _check_1d(arr: np.ndarray, name: str) -> None:
    if arr.ndim != 1:
        raise ValueError(bilingual(
            f"`{name}` は 1 次元の配列にしてください（{arr.ndim} 次元、形状 {arr.shape} が渡されました）。",
            f"`{name}` must be a 1-D array; got {arr.ndim} dimensions, shape {arr.shape}.",
        ))


@dataclass(frozen=True)
class SyntheticTruth:
    """The model that generated a synthetic data set: mean + biases + factors, and the noise. (07)"""

    mean: float
    user_bias: np.ndarray
    item_bias: np.ndarray
    user_factors: np.ndarray
    item_factors: np.ndarray
    noise: float

    def predict(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        """The noise-free rating of each (user, item) pair: the best possible prediction."""
        dots = np.einsum("nk,nk->n", self.user_factors[users], self.item_factors[items])
        return self.mean + self.user_bias[users] + self.item_bias[items] + dots


def make_synthetic(
    n_users: int = 943,
    n_items: int = 1682,
    n_ratings: int = 100_000,
    rank: int = 10,
    *,
    mean: float = 3.5,
    noise: float = 0.5,
    user_bias_std: float = 0.4,
    item_bias_std: float = 0.5,
    min_ratings: int = 5,
    zipf: float = 1.0,
    seed: int = 0,
) -> tuple[Ratings, SyntheticTruth]:
    """A MovieLens-like data set with known ground truth (defaults: the shape of ml-100k). (07)

    rating = mean + user bias + item bias + user·item factors + N(0, noise²), continuous (not
    rounded or clipped, so `noise` is exactly the floor no model can beat on average). The
    signal (biases + factors) has a standard deviation of about 1. Activity is long-tailed:
    users and items are drawn with Zipf-like weights 1/rank**zipf, and every user and every item
    gets at least `min_ratings` ratings. No (user, item) pair appears twice.
    """
    n_users = check_positive_int(n_users, "n_users", "ユーザー数", "number of users")
    n_items = check_positive_int(n_items, "n_items", "アイテム数", "number of items")
    n_ratings = check_positive_int(n_ratings, "n_ratings", "評価値の数", "number of ratings")
    rank = check_positive_int(rank, "rank", "ランク", "rank")
    min_ratings = check_positive_int(min_ratings, "min_ratings", "最低評価数", "minimum ratings")
    noise = check_positive_float(noise, "noise", "ノイズの標準偏差", "noise standard deviation")
    seed = check_seed(seed)
    floor = (n_users + n_items) * min_ratings  # at most this many pairs in the minimum
    if min_ratings > min(n_users, n_items) or not floor <= n_ratings <= n_users * n_items // 2:
        raise ValueError(bilingual(
            f"`n_ratings`={n_ratings} は {floor}（(ユーザー数 + アイテム数) × `min_ratings`）以上、"
            f"{n_users * n_items // 2}（行列の半分）以下にしてください。`min_ratings` は"
            "ユーザー数とアイテム数以下にしてください。",
            f"`n_ratings`={n_ratings} must lie between {floor} ((users + items) × `min_ratings`) and "
            f"{n_users * n_items // 2} (half the matrix), and `min_ratings` may not exceed the "
            "numbers of users and items.",
        ))
    for name, value in (("mean", mean), ("user_bias_std", user_bias_std),
                        ("item_bias_std", item_bias_std), ("zipf", zipf)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value) \
                or (name != "mean" and value < 0):
            raise ValueError(bilingual(
                f"`{name}` は有限の数{'' if name == 'mean' else '（0 以上）'}にしてください"
                f"（{value!r} が渡されました）。",
                f"`{name}` must be a finite number{'' if name == 'mean' else ' ≥ 0'}; got {value!r}.",
            ))
    signal_var = 1.0 - user_bias_std**2 - item_bias_std**2
    if signal_var <= 0:
        raise ValueError(bilingual(
            "`user_bias_std`² + `item_bias_std`² は 1 未満にしてください（信号の分散は約 1）。",
            "`user_bias_std`² + `item_bias_std`² must be below 1 (the signal's variance is about 1).",
        ))
    rng = np.random.default_rng(seed)
    truth = draw_truth(rng, n_users, n_items, rank, mean, noise, user_bias_std, item_bias_std)
    codes = _sample_pairs(rng, n_users, n_items, n_ratings, min_ratings, zipf)
    users, items = codes // n_items, codes % n_items
    ratings = truth.predict(users, items) + rng.normal(0.0, noise, codes.size)
    return Ratings(users, items, ratings, n_users, n_items), truth


def draw_truth(rng: np.random.Generator, n_users: int, n_items: int, rank: int, mean: float, noise: float,
               user_bias_std: float, item_bias_std: float) -> SyntheticTruth:
    """The ground truth of `make_synthetic`, drawn from `rng` (also used by the 25M-like benchmark)."""
    # Factor entries ~ N(0, s²) so that a dot product of `rank` terms has variance signal_var.
    s = ((1.0 - user_bias_std**2 - item_bias_std**2) / rank) ** 0.25
    return SyntheticTruth(
        mean=float(mean),
        user_bias=rng.normal(0.0, user_bias_std, n_users),
        item_bias=rng.normal(0.0, item_bias_std, n_items),
        user_factors=rng.normal(0.0, s, (n_users, rank)),
        item_factors=rng.normal(0.0, s, (n_items, rank)),
        noise=noise,
    )


def _zipf_weights(rng: np.random.Generator, n: int, exponent: float) -> np.ndarray:
    weights = rng.permutation(1.0 / np.arange(1, n + 1) ** exponent)
    return weights / weights.sum()


def _sample_pairs(rng: np.random.Generator, n_users: int, n_items: int, n_ratings: int,
                  min_ratings: int, zipf: float) -> np.ndarray:
    """Distinct pair codes user * n_items + item: a minimum per user and item, then long-tailed."""
    # The minimum: each user gets `min_ratings` random items, each item `min_ratings` random users.
    user_picks = np.argpartition(rng.random((n_users, n_items)), min_ratings, axis=1)[:, :min_ratings]
    item_picks = np.argpartition(rng.random((n_items, n_users)), min_ratings, axis=1)[:, :min_ratings]
    codes = np.union1d(np.repeat(np.arange(n_users), min_ratings) * n_items + user_picks.ravel(),
                       item_picks.ravel() * n_items + np.repeat(np.arange(n_items), min_ratings))
    # The rest: pairs drawn with Zipf-like user and item weights, duplicates dropped.
    user_w, item_w = _zipf_weights(rng, n_users, zipf), _zipf_weights(rng, n_items, zipf)
    # Which pairs are taken: one flag per pair up to 64 M pairs (the 1M shape has 22 M), else a set
    # lookup. Same pairs either way; the flags make the many rounds of a steep Zipf draw cheap.
    taken = None
    if n_users * n_items <= 1 << 26:
        taken = np.zeros(n_users * n_items, dtype=bool)
        taken[codes] = True
    while codes.size < n_ratings:
        need = n_ratings - codes.size
        new = rng.choice(n_users, 2 * need, p=user_w) * n_items + rng.choice(n_items, 2 * need, p=item_w)
        new = new[~taken[new]] if taken is not None else new[~np.isin(new, codes)]
        _, first = np.unique(new, return_index=True)
        added = new[np.sort(first)][:need]
        codes = np.concatenate([codes, added])
        if taken is not None:
            taken[added] = True
    return rng.permutation(codes)


def _check_fraction(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 < value < 1:
        raise ValueError(bilingual(
            f"`{name}` の割合は 0 より大きく 1 より小さい数にしてください（{value!r} が渡されました）。"
            "例: 0.1。",
            f"The fraction `{name}` must be a number strictly between 0 and 1; got {value!r}. "
            "Example: 0.1.",
        ))
    return float(value)


def _check_ratings(data: Any) -> Ratings:
    if not isinstance(data, Ratings):
        raise TypeError(bilingual(
            f"`data` には Ratings を渡してください（{type(data).__name__} が渡されました）。"
            "行列からは `Ratings.from_dense(R)` で作れます。",
            f"`data` must be a Ratings object; got {type(data).__name__}. "
            "From a matrix, use `Ratings.from_dense(R)`.",
        ))
    if len(data) == 0:
        raise ValueError(bilingual(
            "`data` に評価値がありません。評価値が 1 つ以上ある Ratings を渡してください。",
            "`data` holds no ratings; pass a Ratings with at least one rating.",
        ))
    return data


def split_random(data: Ratings, fractions: tuple[float, ...] = (0.1, 0.1), *,
                 seed: int = 0) -> tuple[Ratings, ...]:
    """Shuffle and split: (rest, part 1, part 2, …) with `fractions` of the ratings in the parts. (05, 07)

    The default gives (train 80%, validation 10%, test 10%). Users or items may end up with no
    training rating; the trainers leave their bias and factors at 0, so their predictions rest
    on μ and the other side's bias alone.
    """
    data = _check_ratings(data)
    if isinstance(fractions, numbers.Real):
        fractions = (fractions,)
    if isinstance(fractions, (str, bytes)) or not hasattr(fractions, "__iter__") or len(fractions) == 0:
        raise ValueError(bilingual(
            f"`fractions` には割合の数かタプルを渡してください（{fractions!r} が渡されました）。"
            "例: (0.1, 0.1)。",
            f"`fractions` must be a number or a non-empty tuple of numbers; got {fractions!r}. "
            "Example: (0.1, 0.1).",
        ))
    fractions = tuple(_check_fraction(f, "fractions") for f in fractions)
    if sum(fractions) >= 1:
        raise ValueError(bilingual(
            f"`fractions` の合計 {sum(fractions):g} は 1 未満にしてください（残りが学習データになります）。",
            f"`fractions` sum to {sum(fractions):g}; they must sum below 1 (the rest is training data).",
        ))
    order = np.random.default_rng(check_seed(seed)).permutation(len(data))
    bounds = np.cumsum([0] + [round(f * len(data)) for f in fractions])
    parts = [order[bounds[k]:bounds[k + 1]] for k in range(len(fractions))]
    rest = order[bounds[-1]:]
    return (data.subset(np.sort(rest)), *(data.subset(np.sort(p)) for p in parts))


def split_per_user(data: Ratings, fraction: float = 0.2, *, seed: int = 0) -> tuple[Ratings, Ratings]:
    """Hold out `fraction` of each user's ratings: (train, held_out). (07)

    Every user with n ≥ 2 ratings keeps at least one in training and holds out
    max(1, round(fraction · n)) of them, at most n − 1. A user with a single rating keeps it in
    training (there is nothing to hold out without losing the user).
    """
    data = _check_ratings(data)
    fraction = _check_fraction(fraction, "fraction")
    rng = np.random.default_rng(check_seed(seed))
    order = rng.permutation(len(data))
    order = order[np.argsort(data.users[order], kind="stable")]  # grouped by user, random inside
    counts = np.bincount(data.users, minlength=data.n_users)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    n_out = np.where(counts >= 2, np.clip(np.round(fraction * counts), 1, counts - 1), 0).astype(int)
    rank_in_user = np.arange(len(data)) - np.repeat(starts, counts)
    held = np.zeros(len(data), dtype=bool)
    held[order] = rank_in_user < np.repeat(n_out, counts)
    return data.subset(~held), data.subset(held)


def split_leave_one_out(data: Ratings, *, seed: int = 0) -> tuple[Ratings, Ratings]:
    """Hold out one random interaction of every user who has at least 2: (train, held_out). (13)

    The protocol of the sampled metrics (He et al. 2017, Krichene & Rendle 2020), which hold out each
    user's latest interaction; without timestamps, a random one (seeded). A user with a single
    interaction keeps it in training. Refuses data in which no user has 2, as the held-out part
    would be empty.
    """
    data = _check_ratings(data)
    counts = np.bincount(data.users, minlength=data.n_users)
    if counts.max() < 2:
        raise ValueError(bilingual(
            "2 つ以上のインタラクションを持つユーザーがいないので、取り置く（テストに回す）ものがありません。"
            "各ユーザーは学習に 1 つ残す必要があります。",
            "No user has 2 or more interactions, so nothing can be held out: each user must keep one "
            "for training.",
        ))
    rng = np.random.default_rng(check_seed(seed))
    order = rng.permutation(len(data))
    order = order[np.argsort(data.users[order], kind="stable")]  # grouped by user, random inside
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    held = np.zeros(len(data), dtype=bool)
    held[order[starts[counts >= 2]]] = True  # the first of each user's random order
    return data.subset(~held), data.subset(held)
