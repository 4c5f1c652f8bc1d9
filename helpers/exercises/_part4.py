"""Checkers for notebooks 12-13: implicit feedback, weighted ALS, learning to rank."""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np

from ..seeding import one_thread
from ._core import _OK, Verdict, _as_floats, _close, _exercise
from ._part3 import _pairs

# --- 12 -----------------------------------------------------------------------------------------

# the play counts of section 3 of 12 (6 users x 8 items, 0 = no interaction)
_TINY_COUNTS = np.array([
    [5, 2, 0, 1, 0, 0, 0, 0],
    [3, 0, 4, 0, 0, 1, 0, 0],
    [8, 1, 2, 0, 0, 0, 0, 0],
    [2, 0, 0, 0, 3, 0, 6, 0],
    [0, 0, 0, 0, 1, 5, 0, 2],
    [4, 0, 0, 0, 0, 2, 3, 0],
])


@_exercise("12-1")
def _confidence_and_preference(answer: Any) -> Verdict:
    pairs = _pairs(answer)
    got = [tuple(f) if (f := _as_floats(pair, 2)) else None for pair in pairs] if pairs else []
    if len(got) != 2 or any(g is None for g in got):
        return (False, "((c, p) ユーザー 3・アイテム 6, (c, p) ユーザー 3・アイテム 1) の形で、"
                "数を 4 つ答えてください。",
                "Answer as ((c, p) for user 3, item 6, (c, p) for user 3, item 1): four numbers.")
    alpha = 2.0
    counts = [_TINY_COUNTS[3, 6], _TINY_COUNTS[3, 1]]
    expected = [(1 + alpha * n, float(n > 0)) for n in counts]
    if got == expected:
        return _OK
    if got == expected[::-1]:
        return (False, "順番が逆です。再生回数 6 の組（アイテム 6）を先に答えてください。",
                "The order is swapped: the pair with 6 plays (item 6) comes first.")
    (c1, p1), (c0, p0) = got  # type: ignore[misc]
    if c1 == alpha * counts[0] or c0 == 0:
        return (False, "確信度は α·count ではなく 1 + α·count です。インタラクションのない組も、"
                "確信度 1 で損失に入ります。",
                "The confidence is 1 + α·count, not α·count: pairs without an interaction enter the loss "
                "with confidence 1.")
    if c1 == 1 + counts[0]:
        return (False, "α = 1 で計算しています。この演習では α = 2 です。",
                "You used α = 1; this exercise has α = 2.")
    if p1 == counts[0]:
        return (False, "選好は再生回数ではありません。インタラクションがあれば 1、なければ 0 です。"
                "回数は確信度のほうに入ります。",
                "The preference is not the play count: it is 1 where there is an interaction and 0 "
                "elsewhere. The count goes into the confidence.")
    if (p1, p0) != (1.0, 0.0):
        return (False, "選好 p は、インタラクションがあれば 1、なければ 0 です。",
                "The preference p is 1 where there is an interaction and 0 elsewhere.")
    return (False, "確信度の式 c = 1 + α·count に、α = 2 と第 3 節の `counts` の値を入れてください。",
            "Put α = 2 and the value from section 3's `counts` into c = 1 + α·count.")


@cache
def _implicit_split() -> tuple[Any, Any, Any]:
    """data, train, test of 12: make_interactions(seed=0), 20% of each user held out with seed 0."""
    from ..implicit import make_interactions, split_interactions_per_user

    data, _ = make_interactions(seed=0)
    train, test = split_interactions_per_user(data, 0.2, seed=0)
    return data, train, test


@cache
def _wals_scores(rank: int, solver: str, cg_steps: int) -> dict[str, float]:
    """Test NDCG@10 (and the usual mistakes) of fit_wals with 12's settings, α 0.3 and reg 20.

    α = 0.3, reg = 20 is what section 4 of 12 chose on the validation data (asserted there).
    """
    from ..implicit import fit_wals
    from ..metrics import ranking_report

    _, train, test = _implicit_split()
    relevant: dict[int, set[int]] = {}
    for u, i in zip(test.users.tolist(), test.items.tolist(), strict=True):
        relevant.setdefault(u, set()).add(i)
    users = np.array(sorted(relevant))
    with one_thread():
        model = fit_wals(train, rank=rank, alpha=0.3, reg=20.0, sweeps=10, solver=solver,
                         cg_steps=cg_steps, seed=0)
    scores = {}
    for name, exclude in (("right", train), ("not excluded", None)):
        lists = model.top_n(users, 10, exclude=exclude)
        report = ranking_report(dict(zip(users.tolist(), lists.tolist(), strict=True)), relevant, 10)
        scores[name] = report["ndcg@10"]
        if name == "right":
            scores["recall"], scores["precision"] = report["recall@10"], report["precision@10"]
    return scores


def _three_ndcgs(answer: Any, runs: list[dict[str, float]], what_ja: str, what_en: str) -> Verdict:
    got = _as_floats(answer, 3)
    if got is None:
        return (False, f"{what_ja}のテストの NDCG@10 を、この順に 3 つの数で答えてください。",
                f"Give the test NDCG@10 {what_en} as three numbers, in this order.")
    right = [run["right"] for run in runs]
    if all(_close(g, e) for g, e in zip(got, right, strict=True)):
        return _OK
    if all(_close(g, e) for g, e in zip(got, right[::-1], strict=True)):
        return (False, "順番が逆です。問題文の順に並べてください。",
                "The order is reversed: list them in the order the exercise gives.")
    for g, run in zip(got, runs, strict=True):
        if _close(g, run["right"]):
            continue
        if _close(g, run["not excluded"]):
            return (False, "学習データでインタラクションしたアイテムを除かずに順位をつけています。"
                    "`top_n(..., exclude=train)` のように、学習データを除いてください。",
                    "The items the user interacted with in training were not excluded: rank with "
                    "`top_n(..., exclude=train)`.")
        if _close(g, run["recall"]) or _close(g, run["precision"]):
            return (False, "それは NDCG@10 ではなく、再現率か適合率です。`ranking_report(...)[\"ndcg@10\"]` を"
                    "答えてください。",
                    "That is recall or precision, not NDCG@10: give `ranking_report(...)[\"ndcg@10\"]`.")
        return (False, "値が違います。第 5 節と同じ設定（α 0.3、`reg` 20、10 回の反復、`seed=0`、"
                "学習データ全体で学習し、テストデータで評価）で、指定のところだけを変えてください。",
                "A value is off. Use the settings of section 5 (α 0.3, `reg` 20, 10 sweeps, `seed=0`, "
                "trained on the whole training data, scored on the test data) and change only what the "
                "exercise names.")
    return (False, "値を確かめてください。", "Check the values.")


@_exercise("12-2")
def _wals_ranks(answer: Any) -> Verdict:
    runs = [_wals_scores(rank, "cholesky", 3) for rank in (2, 10, 32)]
    return _three_ndcgs(answer, runs, "ランク 2、10、32 ", "at ranks 2, 10 and 32")


@_exercise("12-3")
def _wals_cg_steps(answer: Any) -> Verdict:
    runs = [_wals_scores(10, "cg", steps) for steps in (1, 2, 3)]
    return _three_ndcgs(answer, runs, "`cg_steps` 1、2、3 ", "at `cg_steps` 1, 2 and 3")
