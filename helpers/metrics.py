"""Error and ranking metrics (07, 08, 12, 13).

RMSE and MAE (07); precision@k, recall@k, NDCG@k and `ranking_report` (08); hit rate, MRR, catalogue
coverage and the mean popularity of what is recommended (12); per-user scores, bootstrap intervals
over users and a paired bootstrap comparison of two models (13); novelty, the long-tail share of the
lists and the sampled metrics (rank the held-out item among sampled negatives) (13).
"""

from __future__ import annotations

import numbers
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import numpy as np

from ._checks import bilingual, check_positive_int, check_seed


def _pair(predicted: Any, actual: Any) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(predicted, dtype=np.float64).ravel()
    a = np.asarray(actual, dtype=np.float64).ravel()
    if p.size == 0 or p.shape != a.shape:
        raise ValueError(bilingual(
            f"`predicted` と `actual` は同じ長さの空でない配列にしてください（{p.size} 個と {a.size} 個）。",
            f"`predicted` and `actual` must be non-empty and of equal length ({p.size} and {a.size}).",
        ))
    if not (np.isfinite(p).all() and np.isfinite(a).all()):
        raise ValueError(bilingual(
            "`predicted` か `actual` に NaN または無限大があります。学習が発散していないか確かめてください。",
            "`predicted` or `actual` contains NaN or infinity; check that training did not diverge.",
        ))
    return p, a


def rmse(predicted: Any, actual: Any) -> float:
    """Root mean squared error, in the units of the ratings. (04, 07)"""
    p, a = _pair(predicted, actual)
    return float(np.sqrt(np.mean((p - a) ** 2)))


def mae(predicted: Any, actual: Any) -> float:
    """Mean absolute error. (07)"""
    p, a = _pair(predicted, actual)
    return float(np.mean(np.abs(p - a)))


def _top(recommended: Sequence[int], k: int) -> list[int | None]:
    """The first k entries; a negative entry (top_n's -1 padding) is an empty slot, None."""
    k = check_positive_int(k, "k", "上位の件数", "cut-off")
    top = [None if item < 0 else item for item in list(recommended)[:k]]
    items = [item for item in top if item is not None]
    if len(set(items)) < len(items):
        raise ValueError(bilingual(
            "`recommended` に同じアイテムが2回以上あります。推薦リストの各アイテムは1回だけにしてください。",
            "`recommended` lists an item more than once; a recommendation list holds each item once.",
        ))
    return top


def _check_relevant(relevant: Collection[int], what_ja: str, what_en: str) -> None:
    if not relevant:
        raise ValueError(bilingual(
            f"`relevant` が空なので{what_ja}を定義できません。関連アイテムのないユーザーは除いてください。",
            f"{what_en} is undefined when `relevant` is empty; leave out users with no relevant item.",
        ))


def precision_at_k(recommended: Sequence[int], relevant: Collection[int], k: int) -> float:
    """Hits among the first k recommendations / k. (08)

    The denominator is k even when the list is shorter or ends in empty slots: a negative entry
    (the -1 that `top_n` pads with) counts as a slot holding no item.
    """
    top = _top(recommended, k)
    return sum(item in relevant for item in top) / k


def recall_at_k(recommended: Sequence[int], relevant: Collection[int], k: int, *,
                capped: bool = False) -> float:
    """Hits among the first k recommendations / |relevant|, or / min(|relevant|, k) if `capped`. (08)

    With more than k relevant items the plain recall cannot reach 1; `capped=True` (used e.g. by
    Liang et al. 2018, VAE-CF) scores a list of k hits as 1. Negative entries are empty slots.
    """
    top = _top(recommended, k)
    _check_relevant(relevant, "再現率", "Recall")
    return sum(item in relevant for item in top) / (min(len(relevant), k) if capped else len(relevant))


def ndcg_at_k(recommended: Sequence[int], relevant: Collection[int], k: int) -> float:
    """Normalized discounted cumulative gain with binary relevance: DCG / ideal DCG. (08)

    DCG = Σ over hits at position j = 1..k of 1 / log2(j + 1); the ideal puts min(|relevant|, k)
    hits first. A negative entry is an empty slot: it keeps its position and is never a hit.
    """
    top = _top(recommended, k)
    _check_relevant(relevant, "NDCG", "NDCG")
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    dcg = sum(discounts[j] for j, item in enumerate(top) if item in relevant)
    ideal = discounts[: min(k, len(relevant))].sum()
    return float(dcg / ideal)


def _report_users(recommended: Mapping[int, Sequence[int]],
                  relevant: Mapping[int, Collection[int]]) -> list[int]:
    """The users that have relevant items, in the order of `relevant`; each must have a list."""
    users = [u for u, items in relevant.items() if len(items) > 0]
    if not users:
        raise ValueError(bilingual("関連アイテムのあるユーザーがいません。", "No user has a relevant item."))
    missing = [u for u in users if u not in recommended]
    if missing:
        raise ValueError(bilingual(
            f"ユーザー {missing[0]} の推薦リストがありません。",
            f"No recommendations for user {missing[0]}.",
        ))
    return users


def ranking_report(recommended: Mapping[int, Sequence[int]], relevant: Mapping[int, Collection[int]],
                   k: int, *, capped: bool = False, extra: bool = False) -> dict[str, float]:
    """Mean precision@k, recall@k and NDCG@k over the users that have relevant items. (08)

    Denominators as in `precision_at_k` (k) and `recall_at_k` (|relevant|, or min(|relevant|, k)
    with `capped=True`); lists from `top_n`, -1 padding included, are accepted as they are.
    `extra=True` (12) adds the mean `hit_rate@k` and `mrr@k` before "users".
    """
    users = _report_users(recommended, relevant)
    names = ("precision", "recall", "ndcg") + (("hit_rate", "mrr") if extra else ())
    report = {f"{name}@{k}": float(np.mean(_scores_of(name, users, recommended, relevant, k, capped)))
              for name in names}
    report["users"] = float(len(users))
    return report


# --- beyond 08: hit rate, MRR, coverage, popularity of what is recommended (12) ------------------


def held_out_items(data: Any) -> dict[int, set[int]]:
    """user -> the set of that user's items in `data` (a held-out split), as `ranking_report` expects. (12)"""
    relevant: dict[int, set[int]] = {}
    for u, i in zip(data.users.tolist(), data.items.tolist(), strict=True):
        relevant.setdefault(u, set()).add(i)
    return relevant


def hit_rate_at_k(recommended: Sequence[int], relevant: Collection[int], k: int) -> float:
    """1 if any relevant item is among the first k recommendations, else 0. (12)

    Averaged over users this is the share of users with at least one hit. Negative entries are
    empty slots; an empty `relevant` is refused, as for recall and NDCG.
    """
    top = _top(recommended, k)
    _check_relevant(relevant, "ヒット率", "Hit rate")
    return float(any(item in relevant for item in top))


def mrr_at_k(recommended: Sequence[int], relevant: Collection[int], k: int) -> float:
    """Reciprocal rank 1/j of the first relevant item at position j ≤ k, 0 if none. (12)

    Averaged over users this is the mean reciprocal rank (MRR@k). An empty slot (negative entry)
    keeps its position, as in `ndcg_at_k`.
    """
    top = _top(recommended, k)
    _check_relevant(relevant, "MRR", "MRR")
    for j, item in enumerate(top, start=1):
        if item in relevant:
            return 1.0 / j
    return 0.0


def _lists(recommended_lists: Any, k: int | None) -> list[np.ndarray]:
    """Each user's list (a Mapping's values or the rows of an array), cut at k, empty slots dropped."""
    if k is not None:
        k = check_positive_int(k, "k", "上位の件数", "cut-off")
    is_map = isinstance(recommended_lists, Mapping)
    rows = list(recommended_lists.values()) if is_map else list(recommended_lists)
    if not rows:
        raise ValueError(bilingual(
            "`recommended_lists` が空です。ユーザーごとの推薦リストを 1 つ以上渡してください。",
            "`recommended_lists` is empty; pass at least one user's recommendation list.",
        ))
    lists = []
    for row in rows:
        array = np.asarray(row).ravel()[:k]
        if array.size and not np.issubdtype(array.dtype, np.integer):
            raise TypeError(bilingual(
                f"`recommended_lists` の要素はアイテム番号（整数）にしてください（dtype {array.dtype}）。",
                f"`recommended_lists` must hold item ids (integers); got dtype {array.dtype}.",
            ))
        lists.append(array[array >= 0].astype(np.int64))
    return lists


def coverage(recommended_lists: Any, n_items: int, *, k: int | None = None) -> float:
    """Catalogue coverage: distinct items in any user's list (first k if given) / n_items. (12)

    `recommended_lists` is a {user: list} mapping (as for `ranking_report`), a 2-D array from
    `top_n`, or a list of lists; negative entries (padding) are empty slots. Popularity, which shows
    everyone the same list, covers about k / n_items of the catalogue.
    """
    n_items = check_positive_int(n_items, "n_items", "アイテム数", "number of items")
    items = np.concatenate(_lists(recommended_lists, k))
    if items.size and items.max() >= n_items:
        raise ValueError(bilingual(
            f"`recommended_lists` にアイテム {int(items.max())} がありますが、`n_items` は {n_items} です。",
            f"`recommended_lists` holds item {int(items.max())} but `n_items` is {n_items}.",
        ))
    return float(np.unique(items).size / n_items)


def mean_popularity(recommended_lists: Any, item_counts: Any, *, k: int | None = None) -> float:
    """Average recommendation popularity: the mean over users of their list's mean `item_counts`. (12)

    `item_counts[i]` is item i's popularity in training, e.g. `np.bincount(train.items,
    minlength=n_items)` (counts) or that divided by the number of users (the share of users who
    chose it); the result is in the same unit. Empty slots are skipped; a user whose list is all
    empty slots is left out (Abdollahpouri et al. 2019). Compare it with the catalogue's mean,
    `item_counts.mean()`: well above it means the model favours popular items (popularity bias).
    """
    counts = np.asarray(item_counts, dtype=np.float64).ravel() if np.ndim(item_counts) else np.empty(0)
    if counts.size == 0 or not np.isfinite(counts).all() or (counts < 0).any():
        raise ValueError(bilingual(
            "`item_counts` はアイテムごとの学習データでの人気度（0 以上の有限の数）を並べた"
            "空でない配列にしてください。",
            "`item_counts` must be a non-empty array of each item's training popularity (finite, ≥ 0).",
        ))
    lists = [items for items in _lists(recommended_lists, k) if items.size]
    if not lists:
        raise ValueError(bilingual(
            "`recommended_lists` のリストがすべて空（-1 だけ）なので、平均人気度を定義できません。",
            "Every list in `recommended_lists` is empty (only -1), so the mean popularity is undefined.",
        ))
    top = max(int(items.max()) for items in lists)
    if top >= counts.size:
        raise ValueError(bilingual(
            f"`recommended_lists` にアイテム {top} がありますが、`item_counts` は {counts.size} 個です。",
            f"`recommended_lists` holds item {top} but `item_counts` has only {counts.size} entries.",
        ))
    return float(np.mean([counts[items].mean() for items in lists]))


# --- variance over users: per-user scores and bootstrap intervals (13) ---------------------------

_PER_USER = {
    "precision": lambda rec, rel, k, capped: precision_at_k(rec, rel, k),
    "recall": lambda rec, rel, k, capped: recall_at_k(rec, rel, k, capped=capped),
    "ndcg": lambda rec, rel, k, capped: ndcg_at_k(rec, rel, k),
    "hit_rate": lambda rec, rel, k, capped: hit_rate_at_k(rec, rel, k),
    "mrr": lambda rec, rel, k, capped: mrr_at_k(rec, rel, k),
}


def per_user_scores(recommended: Mapping[int, Sequence[int]], relevant: Mapping[int, Collection[int]],
                    k: int, metric: str = "ndcg", *, capped: bool = False) -> np.ndarray:
    """One score per user with relevant items, in the order of `relevant` (as `ranking_report`). (13)

    `metric` is "precision", "recall", "ndcg", "hit_rate" or "mrr"; the mean of the result is the
    corresponding `ranking_report` entry. Two models scored with the same `relevant` give arrays
    over the same users in the same order, as `paired_bootstrap` needs.
    """
    if metric not in _PER_USER:
        raise ValueError(bilingual(
            f"`metric` は {', '.join(map(repr, _PER_USER))} のどれかにしてください"
            f"（{metric!r} が渡されました）。",
            f"`metric` must be one of {', '.join(map(repr, _PER_USER))}; got {metric!r}.",
        ))
    check_positive_int(k, "k", "上位の件数", "cut-off")
    users = _report_users(recommended, relevant)
    return np.array(_scores_of(metric, users, recommended, relevant, k, capped), dtype=np.float64)


def _scores_of(metric: str, users: list[int], recommended: Mapping[int, Sequence[int]],
               relevant: Mapping[int, Collection[int]], k: int, capped: bool) -> list[float]:
    """`metric` (a key of `_PER_USER`) for each of `users`: what `ranking_report` averages."""
    score = _PER_USER[metric]
    return [score(recommended[u], relevant[u], k, capped) for u in users]


def _check_scores(values: Any, name: str) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1 or array.size == 0 or not np.isfinite(array).all():
        raise ValueError(bilingual(
            f"`{name}` はユーザーごとのスコアを並べた、空でない有限の 1 次元配列にしてください"
            f"（形状 {array.shape}）。`per_user_scores` の結果を渡せます。",
            f"`{name}` must be a non-empty, finite 1-D array of per-user scores (got shape {array.shape}); "
            "`per_user_scores` gives one.",
        ))
    return array


def _bootstrap_means(values: np.ndarray, n_boot: int, level: float, seed: int) -> np.ndarray:
    """Means of `n_boot` resamples of `values` (users drawn with replacement), in bounded blocks."""
    check_positive_int(n_boot, "n_boot", "リサンプリングの回数", "number of resamples")
    if isinstance(level, bool) or not isinstance(level, numbers.Real) or not 0.0 < level < 1.0:
        raise ValueError(bilingual(
            f"`level`（信頼水準）は 0 と 1 の間の数にしてください（{level!r} が渡されました）。例: 0.95。",
            f"`level` (confidence level) must be a number strictly between 0 and 1; got {level!r}. "
            "E.g. 0.95.",
        ))
    rng = np.random.default_rng(seed)
    n = values.size
    block = max(1, 2**22 // n)  # about 4M indices (32 MiB) at a time
    means = np.empty(n_boot)
    for start in range(0, n_boot, block):
        stop = min(start + block, n_boot)
        means[start:stop] = values[rng.integers(0, n, size=(stop - start, n))].mean(axis=1)
    return means


def bootstrap_ci(values: Any, *, n_boot: int = 1000, level: float = 0.95,
                 seed: int = 0) -> tuple[float, float, float]:
    """(mean, low, high): the mean of per-user scores and its percentile bootstrap interval over users. (13)

    Users are drawn with replacement `n_boot` times (seeded: the same seed gives the same interval);
    low and high are the (1 - level)/2 and (1 + level)/2 quantiles of the resampled means. The
    width shrinks like 1/√(number of users): 4× the users, about half the width.
    """
    array = _check_scores(values, "values")
    means = _bootstrap_means(array, n_boot, level, seed)
    low, high = np.quantile(means, [(1 - level) / 2, (1 + level) / 2])
    return float(array.mean()), float(low), float(high)


def paired_bootstrap(a: Any, b: Any, *, n_boot: int = 1000, level: float = 0.95,
                     seed: int = 0) -> tuple[float, float, float, float]:
    """(mean a - b, low, high, share of resampled differences ≤ 0): two models on the same users. (13)

    `a` and `b` are per-user scores of two models over the same users in the same order (from
    `per_user_scores` with the same `relevant`). Resampling users together keeps what the two share
    (some users are easy for every model), so the interval of the difference is much narrower than
    two separate intervals suggest. The last value is a one-sided bootstrap p-value for "a beats b":
    small (e.g. < 0.025) when the whole interval lies above 0.

    Why 0.002 can be noise: per-user NDCG@10 spreads widely (standard deviation 0.26 for the true
    probabilities and 0.22 for popularity on `make_interactions()`'s 943 users), so one model's mean
    has a standard error near 0.25 / √943 ≈ 0.008. Pairing removes what users share, but even if the
    per-user differences of two similar models spread by only 0.1, their mean has a standard error
    of 0.1 / √943 ≈ 0.003: a gap of 0.002 lies inside the interval, and another split or seed may
    reverse it.
    """
    x = _check_scores(a, "a")
    y = _check_scores(b, "b")
    if x.shape != y.shape:
        raise ValueError(bilingual(
            f"`a` と `b` は同じユーザーのスコアにしてください（{x.size} 人と {y.size} 人）。",
            f"`a` and `b` must score the same users ({x.size} and {y.size} values).",
        ))
    diff = x - y
    means = _bootstrap_means(diff, n_boot, level, seed)
    low, high = np.quantile(means, [(1 - level) / 2, (1 + level) / 2])
    return float(diff.mean()), float(low), float(high), float(np.mean(means <= 0))


# --- beyond accuracy and sampled evaluation (13) -------------------------------------------------


def _item_counts(item_counts: Any) -> np.ndarray:
    """Training popularity per item as a float array: non-empty, finite, ≥ 0, not all 0."""
    counts = np.asarray(item_counts, dtype=np.float64).ravel() if np.ndim(item_counts) else np.empty(0)
    if counts.size == 0 or not np.isfinite(counts).all() or (counts < 0).any() or counts.sum() == 0:
        raise ValueError(bilingual(
            "`item_counts` はアイテムごとの学習データでのインタラクション数（0 以上の有限の数、"
            "合計が正）を並べた空でない配列にしてください。"
            "例: `np.bincount(train.items, minlength=n_items)`。",
            "`item_counts` must be a non-empty array of each item's training interactions (finite, ≥ 0, "
            "with a positive sum), e.g. `np.bincount(train.items, minlength=n_items)`.",
        ))
    return counts


def _nonempty_lists(recommended_lists: Any, k: int | None, n_items: int, what_ja: str,
                    what_en: str) -> list[np.ndarray]:
    """The users' lists (empty slots dropped), all-empty lists left out; items must be < n_items."""
    lists = [items for items in _lists(recommended_lists, k) if items.size]
    if not lists:
        raise ValueError(bilingual(
            f"`recommended_lists` のリストがすべて空（-1 だけ）なので、{what_ja}を定義できません。",
            f"Every list in `recommended_lists` is empty (only -1), so {what_en} is undefined.",
        ))
    top = max(int(items.max()) for items in lists)
    if top >= n_items:
        raise ValueError(bilingual(
            f"`recommended_lists` にアイテム {top} がありますが、`item_counts` は {n_items} 個です。",
            f"`recommended_lists` holds item {top} but `item_counts` has only {n_items} entries.",
        ))
    return lists


def novelty(recommended_lists: Any, item_counts: Any, *, k: int | None = None) -> float:
    """Mean self-information −log2 p_i of the recommended items, in bits (Zhou et al. 2010). (13)

    p_i = (count_i + 1) / (Σ counts + n_items): item i's share of the training interactions, with one
    added to every count so that an item never seen in training has a finite value (log2 of about
    interactions + items bits). Averaged over each user's list (first k if given; empty slots skipped),
    then over users, as `mean_popularity`. Higher = less popular items. Zhou et al. divide by the
    number of users instead of the interactions, which adds the same constant to every model.
    """
    counts = _item_counts(item_counts)
    lists = _nonempty_lists(recommended_lists, k, counts.size, "新規性", "novelty")
    bits = -np.log2((counts + 1.0) / (counts.sum() + counts.size))
    return float(np.mean([bits[items].mean() for items in lists]))


def _check_share(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0.0 < value < 1.0:
        raise ValueError(bilingual(
            f"`{name}`（割合）は 0 と 1 の間の数にしてください（{value!r} が渡されました）。例: 0.2。",
            f"`{name}` (a share) must be a number strictly between 0 and 1; got {value!r}. E.g. 0.2.",
        ))
    return float(value)


def head_items(item_counts: Any, *, head_share: float = 0.2) -> np.ndarray:
    """The short head as a boolean mask: the most popular items holding `head_share` of the interactions. (13)

    Items are sorted by training count (ties: lower index first) and taken until their counts reach
    `head_share` of the total (the item that crosses it is in the head); every other item is the
    long tail (20% is a common choice in the popularity-bias literature).
    """
    counts = _item_counts(item_counts)
    head_share = _check_share(head_share, "head_share")
    order = np.argsort(-counts, kind="stable")
    before = np.concatenate([[0.0], np.cumsum(counts[order])[:-1]])  # what the items before hold
    mask = np.zeros(counts.size, dtype=bool)
    mask[order[before < head_share * counts.sum()]] = True
    return mask


def long_tail_share(recommended_lists: Any, item_counts: Any, *, head_share: float = 0.2,
                    k: int | None = None) -> float:
    """Mean share of each user's list (first k) that lies in the long tail, outside `head_items`. (13)

    The average percentage of long-tail items, APLT (Abdollahpouri et al. 2019): per user the
    tail items over the list's items (empty slots skipped), then the mean over users.
    """
    tail = ~head_items(item_counts, head_share=head_share)
    lists = _nonempty_lists(recommended_lists, k, tail.size, "ロングテールの割合", "the long-tail share")
    return float(np.mean([tail[items].mean() for items in lists]))


def _seen_codes(seen: Sequence[Any], n_items: int) -> np.ndarray:
    """Sorted distinct codes user · n_items + item of every interaction in the `seen` Ratings."""
    codes = [np.asarray(part.users, dtype=np.int64) * n_items + np.asarray(part.items, dtype=np.int64)
             for part in seen]
    return np.unique(np.concatenate(codes))


def _seen_per_row(codes: np.ndarray, users: np.ndarray, n_items: int) -> tuple[np.ndarray, np.ndarray]:
    """(row, item) of every seen item of each row's user: codes is sorted user · n_items + item."""
    first = np.searchsorted(codes, users * n_items)
    last = np.searchsorted(codes, (users + 1) * n_items)
    counts = last - first
    row = np.repeat(np.arange(users.size), counts)
    offset = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    return row, codes[np.repeat(first, counts) + offset] % n_items


def _draw_distinct(rng: np.random.Generator, users: np.ndarray, n: int, n_items: int, codes: np.ndarray,
                   log_weights: np.ndarray | None = None) -> np.ndarray:
    """n distinct items per row not seen by the row's user, uniform or ∝ exp(log_weights), in blocks.

    Random keys (Gumbel keys log w + G for weights): the n best keys of a row, seen items barred,
    are a draw without replacement. The caller checks that each user has n items to draw from.
    """
    out = np.empty((users.size, n), dtype=np.int64)
    rows = max(1, 2**22 // n_items)
    for start in range(0, users.size, rows):
        block = users[start:start + rows]
        if log_weights is None:
            keys = rng.random((block.size, n_items))
        else:
            keys = -(log_weights + rng.gumbel(size=(block.size, n_items)))
        row, item = _seen_per_row(codes, block, n_items)
        keys[row, item] = np.inf
        out[start:start + rows] = np.argpartition(keys, n - 1, axis=1)[:, :n] if n < n_items \
            else np.argsort(keys, axis=1)
    return out


def _check_seen(value: Any, name: str) -> Any:
    if not all(hasattr(value, field) for field in ("users", "items", "n_users", "n_items")):
        raise TypeError(bilingual(
            f"`{name}` には Ratings を渡してください（{type(value).__name__} が渡されました）。",
            f"`{name}` must be a Ratings object; got {type(value).__name__}.",
        ))
    return value


def sampled_ranks(score: Any, test: Any, exclude: Any, *, n_negatives: int = 100,
                  seed: int = 0) -> np.ndarray:
    """Rank (0 = first) of each held-out (user, item) of `test` among it and `n_negatives` sampled items. (13)

    The negatives of a pair are drawn uniformly, without replacement, from the items its user has
    neither in `exclude` (the training data) nor in `test`; seeded (by (seed, 13), so a scorer seeded
    with `seed` draws other numbers). `score(users)` returns the
    scores of all items for each of `users`, shape (len(users), n_items), e.g. `model.scores`.
    A negative with the same score as the held-out item ranks above it when its index is lower,
    as in `top_n`. Refuses when a user has fewer than `n_negatives` items left to draw from.
    """
    test, exclude = _check_seen(test, "test"), _check_seen(exclude, "exclude")
    n_items = int(test.n_items)
    n_negatives = check_positive_int(n_negatives, "n_negatives", "負例の数", "number of negatives")
    # (seed, 13), not seed: a random scorer made with np.random.default_rng(seed) would draw the very
    # keys that chose the negatives (the lowest keys), and rank every held-out item first
    rng = np.random.default_rng((check_seed(seed), 13))
    users, items = np.asarray(test.users, dtype=np.int64), np.asarray(test.items, dtype=np.int64)
    if users.size == 0:
        raise ValueError(bilingual("`test` にインタラクションがありません。",
                                   "`test` holds no interactions."))
    codes = _seen_codes([exclude, test], n_items)
    left = n_items - np.bincount(codes // n_items, minlength=int(test.n_users))[users]
    if (left < n_negatives).any():
        bad = int(np.argmin(left))
        raise ValueError(bilingual(
            f"ユーザー {users[bad]} が触れていないアイテムは {left[bad]} 個しかなく、"
            f"`n_negatives`={n_negatives} 個の異なる負例を選べません。`n_negatives` を減らしてください。",
            f"User {users[bad]} has only {left[bad]} items they never interacted with, fewer than "
            f"`n_negatives`={n_negatives} distinct negatives; use fewer.",
        ))
    negatives = _draw_distinct(rng, users, n_negatives, n_items, codes)
    ranks = np.empty(users.size, dtype=np.int64)
    rows = max(1, 2**22 // n_items)
    for start in range(0, users.size, rows):
        stop = min(start + rows, users.size)
        block = np.asarray(score(users[start:stop]), dtype=np.float64)
        if block.shape != (stop - start, n_items):
            raise ValueError(bilingual(
                f"`score` は (ユーザー数, {n_items}) の配列を返す関数にしてください（形状 {block.shape}）。",
                f"`score` must return an array of shape (number of users, {n_items}); got {block.shape}.",
            ))
        if np.isnan(block).any():
            raise ValueError(bilingual(
                "`score` の返したスコアに NaN があります。学習が発散していないか確かめてください。",
                "`score` returned NaN; check that training did not diverge.",
            ))
        here = np.arange(stop - start)[:, None]
        positive = block[here[:, 0], items[start:stop]][:, None]
        negative_scores = block[here, negatives[start:stop]]
        above = (negative_scores > positive) \
            | ((negative_scores == positive) & (negatives[start:stop] < items[start:stop, None]))
        ranks[start:stop] = above.sum(axis=1)
    return ranks


def sampled_metrics(score: Any, test: Any, exclude: Any, *, n_negatives: int = 100, k: int = 10,
                    seed: int = 0) -> dict[str, float]:
    """Hit rate@k and NDCG@k of each held-out item among `n_negatives` sampled ones, averaged over pairs. (13)

    The "sampled metrics" of Krichene & Rendle (2020), from `sampled_ranks`: a pair scores a hit when
    its rank r (0 = first) is below k, and NDCG 1 / log2(r + 2) then (one relevant item), else 0.
    k may not exceed the n_negatives + 1 candidates. "pairs" is the number of held-out pairs.
    """
    k = check_positive_int(k, "k", "上位の件数", "cut-off")
    n_negatives = check_positive_int(n_negatives, "n_negatives", "負例の数", "number of negatives")
    if k > n_negatives + 1:
        raise ValueError(bilingual(
            f"`k`={k} は候補の数（正例 1 つ + `n_negatives`={n_negatives}）を超えています。",
            f"`k`={k} exceeds the {n_negatives + 1} candidates (the held-out item + `n_negatives`).",
        ))
    ranks = sampled_ranks(score, test, exclude, n_negatives=n_negatives, seed=seed)
    hit = ranks < k
    return {f"hit_rate@{k}": float(hit.mean()),
            f"ndcg@{k}": float(np.where(hit, 1.0 / np.log2(ranks + 2.0), 0.0).mean()),
            "pairs": float(ranks.size)}
