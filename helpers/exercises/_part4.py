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
    from ..metrics import held_out_items, ranking_report

    _, train, test = _implicit_split()
    relevant = held_out_items(test)
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
            return (False, "それは NDCG@10 ではなく、再現率か適合率です。"
                    "`ranking_report(...)[\"ndcg@10\"]` を答えてください。",
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


# --- 13 -----------------------------------------------------------------------------------------


def _softplus(x: float) -> float:
    """log(1 + e^x) = −log σ(−x)."""
    return float(np.logaddexp(0.0, x))


@_exercise("13-1")
def _bpr_and_bce_loss(answer: Any) -> Verdict:
    got = _as_floats(answer, 2)
    if got is None:
        return (False, "(BPR の損失, BCE の損失) の形で、数を 2 つ答えてください。",
                "Answer as (BPR loss, BCE loss): two numbers.")
    x_i, x_j = 2.0, 0.5
    bpr, bce = _softplus(-(x_i - x_j)), _softplus(-x_i) + _softplus(x_j)
    if _close(got[0], bpr) and _close(got[1], bce):
        return _OK
    if _close(got[0], bce) and _close(got[1], bpr):
        return (False, "順番が逆です。BPR の損失を先に答えてください。",
                "The order is swapped: the BPR loss comes first.")
    if _close(got[0], bpr / np.log(2)) or _close(got[1], bce / np.log(2)):
        return (False, "2 を底とする対数になっています。自然対数（`np.log`）で計算してください。",
                "That is a base-2 logarithm; use the natural logarithm (`np.log`).")
    if _close(got[0], 1 / (1 + np.exp(-(x_i - x_j)))):
        return (False, "それは確率 σ(x_ui − x_uj) です。損失はその対数にマイナスをつけたものです。",
                "That is the probability σ(x_ui − x_uj); the loss is minus its logarithm.")
    if _close(got[0], _softplus(x_i - x_j)):
        return (False, "BPR の損失の符号が逆です。σ の中は x_ui − x_uj で、好まれるべき i が先です。",
                "The BPR loss has the sign flipped: inside σ is x_ui − x_uj, with the preferred i first.")
    if not _close(got[0], bpr):
        return (False, "BPR の損失は −log σ(x_ui − x_uj) = log(1 + exp(−(x_ui − x_uj))) です。",
                "The BPR loss is −log σ(x_ui − x_uj) = log(1 + exp(−(x_ui − x_uj))).")
    if _close(got[1], _softplus(-x_i)) or _close(got[1], _softplus(x_j)):
        return (False, "BCE の損失は 2 つの項の和です。"
                "i を 1 とする項と、j を 0 とする項の両方を足してください。",
                "The BCE loss is a sum of 2 terms: add the term for i as a 1 and the term for j as a 0.")
    return (False, "BCE の損失は −log σ(x_ui) − log σ(−x_uj) です。σ(−x) = 1 − σ(x) に気をつけてください。",
            "The BCE loss is −log σ(x_ui) − log σ(−x_uj); mind that σ(−x) = 1 − σ(x).")


@cache
def _wals_12() -> Any:
    """Weighted ALS of 12 and 13 (rank 10, α 0.3, reg 20, 10 sweeps, seed 0) on 12's training data."""
    from ..implicit import fit_wals

    _, train, _ = _implicit_split()
    with one_thread():
        return fit_wals(train, rank=10, alpha=0.3, reg=20.0, sweeps=10, seed=0)


@cache
def _sampled_hit_rates(n_negatives: int) -> dict[str, tuple[float, float]]:
    """(popularity, weighted ALS) sampled hit rate@10 among n_negatives: per user then mean, and per pair."""
    from ..metrics import sampled_ranks

    _, train, test = _implicit_split()
    counts = np.bincount(train.items, minlength=train.n_items).astype(float)
    scorers = (lambda users: np.broadcast_to(counts, (len(users), train.n_items)), _wals_12().scores)
    users = np.unique(test.users)
    per_pair = [(sampled_ranks(score, test, train, n_negatives=n_negatives, seed=0) < 10).astype(float)
                for score in scorers]
    per_user = [(np.bincount(test.users, hits, minlength=train.n_users)[users]
                 / np.bincount(test.users, minlength=train.n_users)[users]).mean() for hits in per_pair]
    return {"per user": (per_user[0], per_user[1]),
            "per pair": (float(per_pair[0].mean()), float(per_pair[1].mean()))}


@_exercise("13-2")
def _sampled_500(answer: Any) -> Verdict:
    got = _as_floats(answer, 2)
    if got is None:
        return (False, "(人気順, 重み付き ALS) のヒット率@10 を、数 2 つで答えてください。",
                "Answer with two numbers: the hit rates@10 of (popularity, weighted ALS).")
    right = _sampled_hit_rates(500)["per user"]
    if all(_close(g, e) for g, e in zip(got, right, strict=True)):
        return _OK
    if all(_close(g, e) for g, e in zip(got, right[::-1], strict=True)):
        return (False, "順番が逆です。人気順を先に答えてください。",
                "The order is swapped: popularity comes first.")
    if all(_close(g, e) for g, e in zip(got, _sampled_hit_rates(500)["per pair"], strict=True)):
        return (False, "それはテストのインタラクション全体での平均です。"
                "第 4 節と同じく、ユーザーごとに平均してから"
                "全体で平均してください。",
                "That is the mean over all test interactions; as in section 4, average per user first, "
                "then over users.")
    if all(_close(g, e) for g, e in zip(got, _sampled_hit_rates(100)["per user"], strict=True)):
        return (False, "それは負例 100 個のときの値です。`n_negatives=500` にしてください。",
                "Those are the values with 100 negatives; set `n_negatives=500`.")
    return (False, "第 4 節の `sampled_hits(score, test, train, n_negatives=500)` を使い、ユーザーごとに"
            "平均してから全体で平均してください。",
            "Use section 4's `sampled_hits(score, test, train, n_negatives=500)`, average per user, then "
            "over users.")


_STRENGTHS = (0.0, 0.01, 0.02, 0.05, 0.1, 0.2)


@cache
def _penalty_curve() -> tuple[list[tuple[float, float]], float]:
    """[(NDCG@10, long-tail share)] of weighted ALS with 13's popularity penalty, and the truth's share."""
    from ..implicit import make_interactions
    from ..metrics import held_out_items, long_tail_share, ranking_report

    data, train, test = _implicit_split()
    truth = make_interactions(seed=0)[1]
    counts = np.bincount(train.items, minlength=train.n_items)
    relevant = held_out_items(test)
    users = np.array(sorted(relevant))
    row_of = np.full(train.n_users, -1)
    row_of[users] = np.arange(len(users))
    had = row_of[train.users] >= 0
    curve = []
    for strength in _STRENGTHS:
        adjusted = _wals_12().scores(users) - strength * np.log1p(counts)
        adjusted[row_of[train.users[had]], train.items[had]] = -np.inf
        top = np.argsort(-adjusted, axis=1, kind="stable")[:, :10]
        ndcg = ranking_report(dict(zip(users.tolist(), top.tolist(), strict=True)), relevant, 10)["ndcg@10"]
        curve.append((ndcg, long_tail_share(top, counts)))
    return curve, long_tail_share(truth.top_n(users, 10, exclude=train), counts)


@_exercise("13-3")
def _penalty_strength(answer: Any) -> Verdict:
    got = _as_floats(answer, 2)
    if got is None:
        return (False, "(s, NDCG@10) の形で、数を 2 つ答えてください。",
                "Answer as (s, NDCG@10): two numbers.")
    curve, target = _penalty_curve()
    first = next(k for k, (_, tail) in enumerate(curve) if tail >= target)
    s, value = got
    if s == _STRENGTHS[first] and _close(value, curve[first][0]):
        return _OK
    if s not in _STRENGTHS:
        return (False, "s は `strengths` の値のどれかで答えてください。",
                "Give s as one of the values in `strengths`.")
    k = _STRENGTHS.index(s)
    if curve[k][1] < target:
        return (False, f"s = {s} では、ロングテールの割合がまだ真の確率の順の値に届いていません。",
                f"At s = {s} the long-tail share has not yet reached that of the true probabilities.")
    if k > first:
        return (False, "その s でも届いていますが、もっと弱い罰則で先に届きます。"
                "初めて届く s を答えてください。",
                "It has reached it at that s, but a weaker penalty reaches it first: give the first s.")
    if _close(value, curve[k][1]):
        return (False, "2 つ目の数はロングテールの割合ではなく、そのときの NDCG@10 です。",
                "The second number is the NDCG@10 there, not the long-tail share.")
    return (False, "s は合っています。その s での NDCG@10 を確かめてください。",
            "The s is right; check the NDCG@10 at that s.")
