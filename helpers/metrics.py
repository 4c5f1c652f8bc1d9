"""Error and ranking metrics: RMSE, MAE, precision@k, recall@k, NDCG@k (07, 08)."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

import numpy as np

from ._checks import bilingual, check_positive_int


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


def ranking_report(recommended: Mapping[int, Sequence[int]], relevant: Mapping[int, Collection[int]],
                   k: int, *, capped: bool = False) -> dict[str, float]:
    """Mean precision@k, recall@k and NDCG@k over the users that have relevant items. (08)

    Denominators as in `precision_at_k` (k) and `recall_at_k` (|relevant|, or min(|relevant|, k)
    with `capped=True`); lists from `top_n`, -1 padding included, are accepted as they are.
    """
    users = [u for u, items in relevant.items() if len(items) > 0]
    if not users:
        raise ValueError(bilingual("関連アイテムのあるユーザーがいません。", "No user has a relevant item."))
    missing = [u for u in users if u not in recommended]
    if missing:
        raise ValueError(bilingual(
            f"ユーザー {missing[0]} の推薦リストがありません。",
            f"No recommendations for user {missing[0]}.",
        ))
    recall = [recall_at_k(recommended[u], relevant[u], k, capped=capped) for u in users]
    return {
        f"precision@{k}": float(np.mean([precision_at_k(recommended[u], relevant[u], k) for u in users])),
        f"recall@{k}": float(np.mean(recall)),
        f"ndcg@{k}": float(np.mean([ndcg_at_k(recommended[u], relevant[u], k) for u in users])),
        "users": float(len(users)),
    }
