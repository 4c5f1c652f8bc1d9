"""Checkers for notebooks 14-16: time and evaluation protocols, hyperparameter search, neural models."""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np

from ..seeding import one_thread
from ._core import _OK, Verdict, _as_float, _as_floats, _close, _exercise
from ._part3 import _synthetic

# --- 14 -----------------------------------------------------------------------------------------


@cache
def _timed_data() -> Any:
    """The data of 14: make_synthetic_timed(seed=0)."""
    from ..temporal import make_synthetic_timed

    return make_synthetic_timed(seed=0)[0]


def _new_shares(train: Any, test: Any) -> tuple[float, float]:
    """Shares of test ratings whose user / item has no training rating."""
    seen_users = np.bincount(train.users, minlength=train.n_users) > 0
    seen_items = np.bincount(train.items, minlength=train.n_items) > 0
    return float((~seen_users[test.users]).mean()), float((~seen_items[test.items]).mean())


@_exercise("14-1")
def _new_user_share(answer: Any) -> Verdict:
    value = _as_float(answer)
    if value is None:
        return (False, "割合を数ひとつ（0 から 1）で答えてください。",
                "Answer with one number, a share from 0 to 1.")
    from ..temporal import split_temporal

    train, _, test = split_temporal(_timed_data(), 0.1, 0.1)
    users, items = _new_shares(train, test)
    if _close(value, users, rtol=2e-3):
        return _OK
    if _close(value, 100 * users, rtol=2e-3):
        return (False, "百分率になっています。0 から 1 の割合で答えてください。",
                "That is a percentage; answer with a share from 0 to 1.")
    if _close(value, items, rtol=2e-3):
        return (False, "それは新しいアイテムの割合です。学習データにいないユーザーを数えてください。",
                "That is the share of new items; count the users missing from the training data.")
    if _close(value, 1 - users, rtol=2e-3):
        return (False, "それは学習データにいるユーザーの割合です。いないほうを数えてください。",
                "That is the share of users who are in the training data; count those who are not.")
    return (False, "`np.bincount(train.users, minlength=data.n_users) > 0` で学習データにいるユーザーを調べ、"
            "テストの評価値のうちそうでないものの割合を求めてください。",
            "Find the users in the training data with "
            "`np.bincount(train.users, minlength=data.n_users) > 0`, then the share of test ratings "
            "whose user is not among them.")


@cache
def _biased_mf_temporal(test_fraction: float) -> tuple[float, float, float]:
    """(test RMSE, share of new users, best validation RMSE) of BiasedMF on split_temporal(data, f, 0.1)."""
    from ..metrics import rmse
    from ..models import BiasedMF
    from ..temporal import split_temporal
    from ..training import fit

    data = _timed_data()
    train, val, test = split_temporal(data, test_fraction, 0.1)
    model = BiasedMF(data.n_users, data.n_items, rank=10, global_mean=float(train.ratings.mean()), seed=0)
    with one_thread():
        history = fit(model, train, val, lr=0.1, reg=0.04)
    return (rmse(model.predict(test.users, test.items), test.ratings), _new_shares(train, test)[0],
            min(history.val_rmse))


@_exercise("14-2")
def _temporal_twenty(answer: Any) -> Verdict:
    got = _as_floats(answer, 2)
    if got is None:
        return (False, "(テストの RMSE, 新しいユーザーの割合) の形で、数を 2 つ答えてください。",
                "Answer as (test RMSE, share of new users): two numbers.")
    test_rmse, share, val_rmse = _biased_mf_temporal(0.2)
    if _close(got[0], test_rmse) and _close(got[1], share, rtol=2e-3):
        return _OK
    if _close(got[1], test_rmse) and _close(got[0], share, rtol=2e-3):
        return (False, "順番が逆です。RMSE を先に答えてください。",
                "The order is swapped: the RMSE comes first.")
    if _close(got[0], _biased_mf_temporal(0.1)[0]) or _close(got[1], _biased_mf_temporal(0.1)[1], rtol=2e-3):
        return (False, "それはテストが 10% のときの値です。"
                "`split_temporal(data, 0.2, 0.1)` で分け直してください。",
                "That is the value with a 10% test; split again with `split_temporal(data, 0.2, 0.1)`.")
    if _close(got[0], val_rmse):
        return (False, "それは検証データの RMSE です。テストデータで測ってください。",
                "That is the validation RMSE; measure on the test data.")
    if not _close(got[0], test_rmse):
        return (False, "RMSE が違います。第 3 節と同じ設定（ランク 10、`lr=0.1`、`reg=0.04`、`seed=0`、"
                "検証データで早期終了）で学習してください。",
                "The RMSE is off: train with the settings of section 3 (rank 10, `lr=0.1`, `reg=0.04`, "
                "`seed=0`, early stopping on the validation data).")
    return (False, "新しいユーザーの割合が違います。"
            "演習 1 と同じ数え方で、新しい分割について数えてください。",
            "The share of new users is off: count it as in exercise 1, on the new split.")


@cache
def _time_bias_random(n_bins: int) -> float:
    """Test RMSE of TimeBiasedMF with `n_bins` on 14's random split, settings of section 3."""
    from ..datasets import split_random
    from ..metrics import rmse
    from ..temporal import TimeBiasedMF, fit_timed

    data = _timed_data()
    train, val, test = split_random(data, (0.1, 0.1), seed=0)
    model = TimeBiasedMF(data.n_users, data.n_items, rank=10, n_bins=n_bins,
                         t_min=float(train.timestamps.min()), t_max=float(train.timestamps.max()),
                         global_mean=float(train.ratings.mean()), seed=0)
    with one_thread():
        fit_timed(model, train, val, lr=0.1, reg=0.04, bin_reg=10.0)
    return rmse(model.predict(test.users, test.items, test.timestamps), test.ratings)


@_exercise("14-3")
def _time_bins(answer: Any) -> Verdict:
    got = _as_floats(answer, 2)
    if got is None:
        return (False, "(n_bins=1 のテストの RMSE, n_bins=30 のテストの RMSE) の形で、"
                "数を 2 つ答えてください。",
                "Answer as (test RMSE with n_bins=1, test RMSE with n_bins=30): two numbers.")
    one, thirty = _time_bias_random(1), _time_bias_random(30)
    if _close(got[0], one) and _close(got[1], thirty):
        return _OK
    if _close(got[0], thirty) and _close(got[1], one):
        return (False, "順番が逆です。n_bins=1 を先に答えてください。",
                "The order is swapped: n_bins=1 comes first.")
    if any(_close(g, _time_bias_random(10)) for g in got):
        return (False, "それは第 3 節の n_bins=10 の値です。`n_bins` を 1 と 30 に変えてください。",
                "That is section 3's value with n_bins=10; set `n_bins` to 1 and to 30.")
    return (False, "第 3 節と同じ設定（`split_random(data, (0.1, 0.1), seed=0)`、ランク 10、`lr=0.1`、"
            "`reg=0.04`、`bin_reg=10.0`）で、`n_bins` だけを変えてください。",
            "Use the settings of section 3 (`split_random(data, (0.1, 0.1), seed=0)`, rank 10, `lr=0.1`, "
            "`reg=0.04`, `bin_reg=10.0`) and change only `n_bins`.")


# --- 15 -----------------------------------------------------------------------------------------

_SPACE_15 = {"rank": (4, 32), "lr": (0.01, 0.3), "reg": (0.005, 0.2)}  # the space of section 2 of 15


@_exercise("15-1")
def _grid_size(answer: Any) -> Verdict:
    from ..tuning import grid_points

    value = _as_float(answer)
    if value is None or value != int(value):
        return (False, "点の数を整数ひとつで答えてください。",
                "Answer with one integer, the number of points.")
    grid = grid_points(_SPACE_15, 30)
    size = int(np.prod([len(values) for values in grid.values()]))
    if value == size:
        return _OK
    if value == 30:
        return (False, "30 は予算（上限）です。`grid_points` はその中に収まる組み合わせだけを作ります。"
                "各ハイパーパラメータの値の数を掛け合わせてください。",
                "30 is the budget, an upper limit: `grid_points` makes only the combinations that fit in it. "
                "Multiply the numbers of values of each hyperparameter.")
    return (False, "`grid_points(space, 30)` の各リストの長さを掛け合わせてください。",
            "Multiply the lengths of the lists that `grid_points(space, 30)` returns.")


@cache
def _random_search_8() -> tuple[int, float]:
    """(total steps, best validation RMSE) of 15's random search, budget 8, seed 0, no pruning."""
    from ..tuning import MFObjective, quiet, search, steps_run

    quiet()
    train, val, _ = _synthetic()
    objective = MFObjective(train, val, space=_SPACE_15, max_steps=500, eval_every=5, patience=4)
    study = search(objective, "random", 8, seed=0, prune=False)
    return steps_run(study), float(study.best_value)


@_exercise("15-2")
def _random_search(answer: Any) -> Verdict:
    got = _as_floats(answer, 2)
    if got is None:
        return (False, "(全体のステップ数, 最良の検証データの RMSE) の形で、数を 2 つ答えてください。",
                "Answer as (total steps, best validation RMSE): two numbers.")
    steps, best = _random_search_8()
    if got[0] == steps and _close(got[1], best):
        return _OK
    if _close(got[0], best) and got[1] == steps:
        return (False, "順番が逆です。ステップ数を先に答えてください。",
                "The order is swapped: the number of steps comes first.")
    if got[0] != steps and _close(got[1], best):
        return (False, "ステップ数が違います。"
                "`steps_run(study)` で、すべての試行のステップ数を足してください。",
                "The number of steps is off: `steps_run(study)` adds up every trial's steps.")
    return (False, "`search(objective, \"random\", 8, seed=0, prune=False)` を、第 2 節の `objective` で"
            "実行し、`steps_run(study)` と `study.best_value` を答えてください。",
            "Run `search(objective, \"random\", 8, seed=0, prune=False)` with section 2's `objective` and "
            "give `steps_run(study)` and `study.best_value`.")


# --- 16 -----------------------------------------------------------------------------------------


@_exercise("16-1")
def _sigmoid_range_value(answer: Any) -> Verdict:
    value = _as_float(answer)
    if value is None:
        return (False, "数ひとつで答えてください。", "Answer with one number.")
    low, high, x = 0.5, 5.5, 2.0
    sigma = 1 / (1 + np.exp(-x))
    if _close(value, low + (high - low) * sigma):
        return _OK
    if _close(value, sigma):
        return (False, "それは σ(2) です。範囲の幅を掛けて、下限を足してください。",
                "That is σ(2); multiply by the width of the range and add the lower end.")
    if _close(value, (high - low) * sigma):
        return (False, "下限 0.5 を足し忘れています。", "You forgot to add the lower end, 0.5.")
    if _close(value, 1 + 4 * sigma):
        return (False, "範囲が 1〜5 になっています。この演習の範囲は 0.5〜5.5 です。",
                "You used the range 1–5; this exercise's range is 0.5–5.5.")
    return (False, "low + (high − low)·σ(x) に、low = 0.5、high = 5.5、x = 2.0 を入れてください。",
            "Put low = 0.5, high = 5.5 and x = 2.0 into low + (high − low)·σ(x).")


@cache
def _star_out_of_range() -> float:
    """Share of test predictions outside 1..5 of BiasedMF fitted by `fit` on 16's star ratings."""
    from ..datasets import split_random
    from ..models import BiasedMF
    from ..neural import make_star_ratings, out_of_range_share
    from ..training import fit

    data, _ = make_star_ratings(seed=0)
    train, val, test = split_random(data, (0.1, 0.1), seed=0)
    model = BiasedMF(data.n_users, data.n_items, rank=10, global_mean=float(train.ratings.mean()), seed=0)
    with one_thread():
        fit(model, train, val, lr=0.1, reg=0.04)
    return out_of_range_share(model.predict(test.users, test.items), 1, 5)


@_exercise("16-2")
def _out_of_range(answer: Any) -> Verdict:
    value = _as_float(answer)
    if value is None:
        return (False, "割合を数ひとつ（0 から 1）で答えてください。",
                "Answer with one number, a share from 0 to 1.")
    share = _star_out_of_range()
    if _close(value, share, rtol=2e-3):
        return _OK
    if _close(value, 100 * share, rtol=2e-3):
        return (False, "百分率になっています。0 から 1 の割合で答えてください。",
                "That is a percentage; answer with a share from 0 to 1.")
    if _close(value, 1 - share, rtol=2e-3):
        return (False, "それは範囲の中にある予測の割合です。外にあるほうを数えてください。",
                "That is the share inside the range; count the predictions outside it.")
    return (False, "`out_of_range_share(predicted, 1, 5)` を、クリップする前の予測で計算してください。",
            "Compute `out_of_range_share(predicted, 1, 5)` on the predictions before clipping.")
