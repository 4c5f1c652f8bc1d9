"""Checkers for notebooks 05-08: ratings at scale, biases, evaluation, ranking.

The expected values are computed from each notebook's own data, seeds and settings; the costly
ones (training runs) once per session, through `functools.cache`.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np

from ..data import init_factors, original_ratings
from ..datasets import Ratings, make_synthetic, split_random
from ..metrics import ndcg_at_k, precision_at_k, rmse
from ..seeding import one_thread
from ._core import _MSE, _OK, _TYPE_FLOAT, Verdict, _all_close, _as_float, _as_floats, _close, _exercise

# --- 05: overfitting and regularization ---------------------------------------------------------

_RANKS, _LAMBDAS = (1, 2, 3, 5, 8), (0.0, 1.0, 3.0)


@cache
def _data05(split_seed: int) -> tuple[Ratings, Ratings, np.ndarray]:
    """Notebook 05's synthetic data split with `split_seed`: (training, test, dense training R)."""
    data, _ = make_synthetic(60, 40, 900, rank=3, min_ratings=5, seed=0)
    train_data, test_data = split_random(data, (0.2,), seed=split_seed)
    return train_data, test_data, train_data.to_dense()


@cache
def _fit_l2(split_seed: int, rank: int, lam_p: float, lam_q: float,
            steps: int = 500) -> tuple[np.ndarray, np.ndarray]:
    """Notebook 05's `fit_l2` (Adam, lr 0.05, seed 0) with a penalty weight per side.

    Written out in NumPy (the gradient by hand, Adam as torch computes it) so that a checker
    answers in a fraction of a second; it agrees with the notebook's autograd version to about
    1e-15 over 1000 steps.
    """
    R = _data05(split_seed)[2]
    mask = R != 0
    P, Q = (np.array(x, dtype=np.float64) for x in init_factors(rank, *R.shape, seed=0))
    lr, beta1, beta2, eps = 0.05, 0.9, 0.999, 1e-8
    moments = [[np.zeros_like(P), np.zeros_like(P)], [np.zeros_like(Q), np.zeros_like(Q)]]
    for t in range(1, steps + 1):
        E = (R - P.T @ Q) * mask
        grads = (-2 * Q @ E.T + 2 * lam_p * P, -2 * P @ E + 2 * lam_q * Q)
        for x, g, (m, v) in zip((P, Q), grads, moments, strict=True):
            m *= beta1
            m += (1 - beta1) * g
            v *= beta2
            v += (1 - beta2) * g * g
            x -= (lr / (1 - beta1**t)) * m / (np.sqrt(v) / np.sqrt(1 - beta2**t) + eps)
    return P, Q


def _errors05(split_seed: int, P: np.ndarray, Q: np.ndarray) -> tuple[float, float]:
    train_data, test_data, _ = _data05(split_seed)
    R_hat = P.T @ Q
    return (rmse(R_hat[train_data.users, train_data.items], train_data.ratings),
            rmse(R_hat[test_data.users, test_data.items], test_data.ratings))


@cache
def _table05(split_seed: int) -> dict[tuple[int, float], tuple[float, float]]:
    return {(r, lam): _errors05(split_seed, *_fit_l2(split_seed, r, lam, lam))
            for lam in _LAMBDAS for r in _RANKS}


@_exercise("05-1")
def _best_on_new_split(answer: Any) -> Verdict:
    table = _table05(1)
    best = min(table, key=lambda key: table[key][1])
    values = _as_floats(answer, 3)
    if values is None:
        return (False, "(いちばん良いランク, その λ, そのテストの RMSE) の 3 つを、この順に答えてください。",
                "Answer with 3 numbers in this order: (best rank, its λ, its test RMSE).")
    rank, lam, error = values
    if (rank, lam) == (best[1], best[0]) and (lam, rank) in table:
        return (False, "ランクと λ の順序が逆です。(ランク, λ, テストの RMSE) の順にしてください。",
                "The rank and λ are swapped: give (rank, λ, test RMSE) in this order.")
    if (rank, lam) not in table:
        return (False, "ランクは 1、2、3、5、8、λ は 0、1、3 の中から、第 2 節の表のとおりに選びます。",
                "Choose the rank among 1, 2, 3, 5, 8 and λ among 0, 1, 3, as in the table of section 2.")
    key = (int(rank), lam)
    if key != best:
        if key == min(table, key=lambda k: table[k][0]):
            return (False, "それは学習データの誤差がいちばん小さい設定です。テストの誤差で選んでください。",
                    "That setting has the lowest training error; choose by the test error.")
        return (False, "表のテストの列（各 λ の右側）でいちばん小さい値を探してください。",
                "Look for the smallest value in the test columns of the table (the right one for each λ).")
    if _close(error, table[best][1]):
        return _OK
    if _close(error, table[best][0]):
        return (False, "設定は正しいのですが、RMSE は学習データのものです。テストの RMSE を答えてください。",
                "The setting is right, but that RMSE is the training one; give the test RMSE.")
    if _close(error, _table05(0)[best][1]):
        return (False, "設定は正しいのですが、RMSE は元の分け方（seed=0）のものです。",
                "The setting is right, but that RMSE comes from the original split (seed=0).")
    return (False, "設定は正しいのですが、RMSE が違います。seed=1 で作り直した表の値を答えてください。",
            "The setting is right, but the RMSE is off; give the value from the table rebuilt with seed=1.")


def _random_a05() -> np.ndarray:
    return np.random.default_rng(1).normal(size=(3, 3))  # section 3's A


@_exercise("05-2")
def _rotation_keeps_norm(answer: Any) -> Verdict:
    # P of section 3 (λ = 0, 500 steps) or, run to the end of the notebook, P of its last cell (λ = 1).
    Ps = [_fit_l2(0, 3, 0.0, 0.0)[0], _fit_l2(0, 3, 1.0, 1.0, 1000)[0]]
    value = _as_float(answer)
    if value is None:
        return (False, "数ひとつ、回転行列 A での ‖AP‖_F の値で答えてください。",
                "Answer with one number: the value of ‖AP‖_F for the rotation A.")
    if any(_close(value, np.linalg.norm(P)) for P in Ps):
        return _OK
    if any(_close(value, np.linalg.norm(_random_a05() @ P)) for P in Ps):
        return (False, "それは第 3 節のランダムな A での値です。回転行列を組み立てて A にしてください。",
                "That is the value for the random A of section 3; build the rotation matrix as A.")
    if any(_close(value, np.linalg.norm(P[:2])) for P in Ps):
        return (False, "右下の要素が 0 のままです。1 にしてください（0 では A は可逆になりません）。",
                "The bottom-right entry is still 0; make it 1 (with 0, A is not invertible).")
    if any(_close(value, np.linalg.norm(P) ** 2) for P in Ps):
        return (False, "フロベニウスノルムは二乗和の平方根です。二乗したままになっていませんか。",
                "The Frobenius norm is the square root of the sum of squares; did you leave it squared?")
    Qs = [_fit_l2(0, 3, 0.0, 0.0)[1], _fit_l2(0, 3, 1.0, 1.0, 1000)[1]]
    if any(_close(value, np.linalg.norm(Q)) for Q in Qs):
        return (False, "それは Q のノルムです。A を掛けた P のノルムを答えてください。",
                "That is the norm of Q; give the norm of P multiplied by A.")
    return (False, "`np.linalg.norm(A @ P)` を、回転行列 A と第 3 節の P で計算してください。",
            "Compute `np.linalg.norm(A @ P)` with the rotation A and the P of section 3.")


@_exercise("05-3")
def _penalty_on_p_only(answer: Any) -> Verdict:
    def ratio(P: np.ndarray, Q: np.ndarray) -> float:
        return float(np.linalg.norm(P) / np.linalg.norm(Q))

    expected = ratio(*_fit_l2(0, 3, 1.0, 0.0, 1000))
    value = _as_float(answer)
    if value is None:
        return _TYPE_FLOAT
    if _close(value, expected):
        return _OK
    if _close(value, 1 / expected):
        return (False, "逆数になっています。‖P‖_F を ‖Q‖_F で割ってください。",
                "That is the reciprocal: divide ‖P‖_F by ‖Q‖_F.")
    if _close(value, expected**2):
        return (False, "ノルムの比です。二乗したノルムどうしの比になっていませんか。",
                "The ratio of the norms is asked for, not of their squares.")
    if _close(value, ratio(*_fit_l2(0, 3, 1.0, 1.0, 1000)), 1e-2):
        return (False, "正則化の項に Q の部分がまだ残っています。その部分を消してください。",
                "Q is still penalized; remove Q's part from the penalty.")
    if _close(value, ratio(*_fit_l2(0, 3, 0.0, 1.0, 1000))):
        return (False, "正則化の項が Q の部分だけになっています。P の部分のほうを残してください。",
                "The penalty is on Q only; keep it on P instead.")
    if _close(value, ratio(*_fit_l2(0, 3, 0.0, 0.0, 1000))):
        return (False, "それは正則化なし（λ = 0）の比です。λ = 1 で P を正則化してください。",
                "That is the ratio without regularization (λ = 0); penalize P with λ = 1.")
    if _close(value, ratio(*_fit_l2(0, 3, 1.0, 0.0, 500))):
        return (False, "500 ステップ（`fit_l2` の既定）の値です。第 3 節と同じ 1000 ステップにしてください。",
                "That is after 500 steps (the default of `fit_l2`); use 1000 steps as in section 3.")
    return (False, "正則化の項を `lam * Pt.square().sum()` だけにした `fit_l2` を "
                   "λ = 1、1000 ステップで学習し、比を計算してください。",
            "Train `fit_l2` with the penalty `lam * Pt.square().sum()` alone, λ = 1 and 1000 steps, "
            "and compute the ratio.")


# --- 06: biases and embeddings ------------------------------------------------------------------


def _losses06() -> dict[str, float]:
    """Section 4's losses: over triples with μ = 0, 1, and the dense masked loss of shifted R's."""
    from ..training import masked_squared_loss

    R = original_ratings()
    toy = Ratings.from_dense(R)
    P, Q = init_factors(2, toy.n_users, toy.n_items, seed=0)
    dots = np.einsum("kn,kn->n", P[:, toy.users], Q[:, toy.items])
    return {
        "triples, mu 0": float(np.sum((toy.ratings - dots) ** 2)),
        "triples, mu 1": float(np.sum((toy.ratings - 1.0 - dots) ** 2)),
        "dense, shifted": float(masked_squared_loss(R - 1 * (R != 0), P, Q)),
        "dense, R - 1": float(masked_squared_loss(R - 1, P, Q)),
    }


@_exercise("06-1")
def _shifted_mean(answer: Any) -> Verdict:
    loss = _losses06()
    expected = loss["triples, mu 1"] - loss["dense, shifted"]
    value = _as_float(answer)
    if value is None:
        return (False, "数ひとつ、(三つ組の損失 − 密行列の損失) の差で答えてください。",
                "Answer with one number: the difference (loss over triples − dense loss).")
    if _close(value, expected):
        return _OK
    if _close(value, -expected):
        return (False, "符号が逆です。三つ組の損失から密行列の損失を引いてください。",
                "The sign is flipped: subtract the dense loss from the loss over triples.")
    if abs(value) < 1e-9:
        return (False, "差は 0 ではありません。2 つの損失を両方表示して比べてください。",
                "The difference is not 0: print both losses and compare them.")
    if _close(value, loss["triples, mu 0"] - loss["dense, shifted"]):
        return (False, "三つ組の損失が μ = 0 のままです。`same.global_mean` を 1 "
                       "にしてから計算し直してください。",
                "The loss over triples still has μ = 0; set `same.global_mean` to 1 and compute it again.")
    if _close(value, loss["triples, mu 1"] - loss["dense, R - 1"]):
        return (False, "`R - 1` は欠損値の 0 まで -1 にずらし、観測値として数えてしまいます。"
                "`R - 1 * (R != 0)` と比べてください。",
                "`R - 1` also shifts the missing 0s to -1, which then count as observed; "
                "compare with `R - 1 * (R != 0)`.")
    if any(_close(value, v) for v in loss.values()):
        return (False, "損失そのものではなく、2 つの損失の差を答えてください。",
                "Give the difference between the two losses, not a loss itself.")
    return (False, "第 4 節の `same` で μ = 1 にした三つ組の損失と、`masked_squared_loss(R - 1 * (R != 0), "
                   "P, Q)` "
            "を、同じ P, Q（seed=0）で計算して引き算してください。",
            "Compute the loss over triples with μ = 1 (the `same` model of section 4) and "
            "`masked_squared_loss(R - 1 * (R != 0), P, Q)` with the same P, Q (seed=0), and subtract.")


@cache
def _data06() -> tuple[Ratings, Ratings, Ratings, Ratings]:
    """Section 6's data: (training, test, fit, validation)."""
    data, _ = make_synthetic(60, 40, 900, rank=3, min_ratings=5, seed=0)
    train_data, test_data = split_random(data, (0.2,), seed=0)
    fit_data, val_data = split_random(train_data, (0.15,), seed=1)
    return train_data, test_data, fit_data, val_data


@_exercise("06-2")
def _biases_only(answer: Any) -> Verdict:
    from ..training import fit_biases

    train_data, test_data, fit_data, val_data = _data06()
    mu, bu, bi = fit_biases(fit_data)
    u, i, y = test_data.users, test_data.items, test_data.ratings
    expected = rmse(mu + bu[u] + bi[i], y)
    value = _as_float(answer)
    if value is None:
        return _TYPE_FLOAT
    if _close(value, expected):
        return _OK
    if _close(value, expected**2):
        return _MSE
    mu_t, bu_t, bi_t = fit_biases(train_data)
    if _close(value, rmse(mu_t + bu_t[u] + bi_t[i], y)):
        return (False, "`train_data` で学習しています。第 6 節と同じ `fit_data` で作ってください。",
                "That was trained on `train_data`; build it on `fit_data`, as in section 6.")
    if _close(value, rmse(mu + bu[val_data.users] + bi[val_data.items], val_data.ratings)):
        return (False, "それは検証データでの RMSE です。テストデータで測ってください。",
                "That is the RMSE on the validation data; measure it on the test data.")
    mu_0, bu_0, bi_0 = fit_biases(fit_data, reg=0)
    if _close(value, rmse(mu_0 + bu_0[u] + bi_0[i], y)):
        return (False, "`reg=0` になっています。`reg` は既定値のままにしてください。",
                "That uses `reg=0`; leave `reg` at its default.")
    if _close(value, rmse(np.full(len(y), mu), y)):
        return (False, "それは全体平均だけの予測です。b_u + b_i も足してください。",
                "That is the global mean alone; add b_u + b_i as well.")
    if _close(value, rmse(mu + bu[u], y)) or _close(value, rmse(mu + bi[i], y)):
        return (False, "バイアス項が片方しか入っていません。予測は μ + b_u + b_i です。",
                "Only one of the bias terms is in; the prediction is μ + b_u + b_i.")
    return (False, "`mu, user_bias, item_bias = fit_biases(fit_data)` の予測 μ + b_u + b_i を、"
            "テストデータの組について `rmse` で評価してください。",
            "Evaluate the prediction μ + b_u + b_i from `mu, user_bias, item_bias = "
            "fit_biases(fit_data)` "
            "on the test pairs with `rmse`.")


_SIZES06 = ((400, 600), (800, 1200), (1600, 2400), (3200, 4800))


@_exercise("06-3")
def _multiplication_ratios(answer: Any) -> Verdict:
    rank, n_obs = 10, 100_000
    dense = np.array([rows * cols * rank for rows, cols in _SIZES06], dtype=float)
    expected = dense / (n_obs * rank)
    try:
        count = len(answer)
    except TypeError:
        count = 0
    if count == 5 and _as_floats(answer, 5) is not None:
        return (False, "200 × 300 の大きさは除いて、残りの 4 つの比を答えてください。",
                "Leave out the 200 × 300 size and give the other 4 ratios.")
    values = _as_floats(answer, 4)
    if values is None:
        return (False, "400 × 600 から 3200 × 4800 までの 4 つの比（密行列 ÷ 三つ組）を、"
                       "小さい行列から順に並べてください。",
                "List the 4 ratios (dense ÷ triples) from 400 × 600 to 3200 × 4800, smallest matrix first.")
    if _all_close(values, expected):
        return _OK
    if _all_close(values, 1 / expected):
        return (False, "比が逆です。密行列の回数を三つ組の回数で割ってください。",
                "The ratio is upside down: divide the dense count by the triple count.")
    if _all_close(values, expected[::-1]):
        return (False, "順序が逆です。小さい行列から順に並べてください。",
                "The order is reversed: list them from the smallest matrix up.")
    if _all_close(values, dense / (20_000 * rank)):
        return (False, "観測値が 20,000 件のままです。100,000 件で計算してください。",
                "That still uses 20,000 observed entries; use 100,000.")
    if _all_close(values, expected * rank) or _all_close(values, expected / rank):
        return (False, "ランク r は両方の回数に掛かるので、比では消えます。片方だけに掛けていませんか。",
                "The rank r multiplies both counts and cancels in the ratio; did you apply it to one side "
                "only?")
    with_adam = dense / ((n_obs + np.array([r + c for r, c in _SIZES06])) * rank)
    if _all_close(values, with_adam):
        return (False, "表の三つ組の回数は、観測値の数 × r だけです。Adam の更新の分は入れません。",
                "The table counts n_obs × r for the triples only; leave out the Adam update.")
    return (False, "密行列は rows × cols × r、三つ組は観測値の数 × r 回です。"
                   "各大きさで割り算してください。",
            "The dense method does rows × cols × r multiplications, the triples n_obs × r; "
            "divide them for each size.")


# --- 07: evaluation at scale; 08: recommendation and ranking -----------------------------------


@cache
def _data07(noise: float = 0.5) -> tuple[Ratings, Ratings, Ratings, Any]:
    """Notebook 07's synthetic data and split: (training, validation, test, truth)."""
    data, truth = make_synthetic(noise=noise, seed=0)
    train, val, test = split_random(data, (0.1, 0.1), seed=0)
    return train, val, test, truth


@cache
def _mf07(rank: int = 10, reg: float = 0.04) -> tuple[Any, Any]:
    """Section 4's `BiasedMF` and `fit` with another rank or reg: (model, history)."""
    from ..models import BiasedMF
    from ..training import fit

    train, val, _, _ = _data07()
    model = BiasedMF(train.n_users, train.n_items, rank=rank, global_mean=float(train.ratings.mean()), seed=0)
    with one_thread():  # as the notebooks train: the same digits, whatever the caller had set
        history = fit(model, train, val, lr=0.1, reg=reg, max_steps=500, eval_every=5, patience=2, tol=1e-4,
                      lr_decay=0.5)
    return model, history


def _test_rmse07(model: Any) -> float:
    test = _data07()[2]
    return rmse(model.predict(test.users, test.items), test.ratings)


def _best_val07(rank: int = 10, reg: float = 0.04) -> float:
    return min(_mf07(rank, reg)[1].val_rmse)


_CHOOSE_ON_VAL = ("テストデータは選んだモデルを最後に一度だけ測るためのものです。"
                  "設定は検証データで比べるので、`min(history.val_rmse)` で答えてください。",
                  "The test data is for measuring the chosen model once, at the end; settings are "
                  "compared on the validation data, so answer with `min(history.val_rmse)`.")

@_exercise("07-1")
def _other_ranks(answer: Any) -> Verdict:
    expected = [_best_val07(rank) for rank in (5, 20)]
    values = _as_floats(answer, 2)
    if values is None:
        return (False, "(ランク 5 の検証データでの最良の RMSE, ランク 20 の同じ値) の組で答えてください。",
                "Answer with the pair (best validation RMSE at rank 5, the same at rank 20).")
    if _all_close(values, expected):
        return _OK
    if _all_close(values, expected[::-1]):
        return (False, "順序が逆です。ランク 5 を先にしてください。", "The order is swapped: rank 5 first.")
    if _all_close(values, np.square(expected)):
        return _MSE
    if _all_close(values, [_test_rmse07(_mf07(rank)[0]) for rank in (5, 20)]):
        return (False, "それはテストデータでの RMSE です。" + _CHOOSE_ON_VAL[0],
                "Those are test RMSEs. " + _CHOOSE_ON_VAL[1])
    if any(_close(v, _best_val07(10)) for v in values):
        return (False, "片方がランク 10 のままの値です。`BiasedMF(..., rank=...)` "
                       "を変えて学習し直してください。",
                "One value is still that of rank 10; change `BiasedMF(..., rank=...)` and train again.")
    if _close(values[0], expected[0]) or _close(values[1], expected[1]):
        return (False, "片方は合っています。もう片方のランクでも、ほかの設定はそのままで学習してください。",
                "One of them is right; train the other rank with every other setting unchanged.")
    return (False, "第 4 節のセルで `rank=` だけを変えて学習し、`min(history.val_rmse)` を求めてください。",
            "Change only `rank=` in the cell of section 4, train, and compute `min(history.val_rmse)`.")


@_exercise("07-2")
def _no_regularization(answer: Any) -> Verdict:
    model, history = _mf07(10, 0.0)
    expected = min(history.val_rmse)
    value = _as_float(answer)
    if value is None:
        return _TYPE_FLOAT
    if _close(value, expected):
        return _OK
    if _close(value, expected**2):
        return _MSE
    if _close(value, _test_rmse07(model)):
        return (False, "それはテストデータでの RMSE です。" + _CHOOSE_ON_VAL[0],
                "That is the test RMSE. " + _CHOOSE_ON_VAL[1])
    if any(_close(value, v) for v in history.train_rmse):
        return (False, "それは学習データでの RMSE です。検証データで測ってください。",
                "That is a training RMSE; measure on the validation data.")
    if _close(value, _best_val07(10, 0.04)):
        return (False, "それは `reg=0.04` のときの値です。`reg=0` で学習し直してください。",
                "That is the value with `reg=0.04`; train again with `reg=0`.")
    return (False, "第 4 節の `fit(...)` で `reg=0` とだけ変え、`min(history.val_rmse)` を求めてください。",
            "In the `fit(...)` of section 4, change only `reg`, to 0, and compute `min(history.val_rmse)`.")


@_exercise("07-3")
def _noisier_floor(answer: Any) -> Verdict:
    train, _, test, truth = _data07(1.0)
    predicted = np.full(len(test), train.ratings.mean())
    expected = rmse(predicted, test.ratings) / truth.noise
    value = _as_float(answer)
    if value is None:
        return _TYPE_FLOAT
    if _close(value, expected, 2e-3):
        return _OK
    if _close(value, np.sqrt(1 + truth.noise**2) / truth.noise, 1e-3):
        return (False, "それは式からの予想の値です。第 5 節と同じ手順で、データから計算してください。",
                "That is the value the formula predicts; now compute it from the data as in section 5.")
    if _close(value, 2 * expected, 1e-2):
        return (False, "ノイズの下限は 0.5 ではなく、新しいデータの `truth.noise` です。",
                "The noise floor is now the new data's `truth.noise`, not 0.5.")
    if _close(value, expected**2, 1e-2):
        return _MSE
    if _close(value, expected, 1e-2):
        return (False, "近いのですが、第 5 節の手順とは違います。第 2 節の分け方で、"
                       "学習データの平均をテストデータで評価してください。",
                "Close, but not section 5's procedure: with the split of section 2, "
                "evaluate the training mean on the test data.")
    train5, _, test5, truth5 = _data07()
    if _close(value, rmse(np.full(len(test5), train5.ratings.mean()), test5.ratings) / truth5.noise, 1e-2):
        return (False, "それは元のデータ（noise=0.5）の比です。`make_synthetic(noise=1.0)` "
                       "で作り直してください。",
                "That is the ratio for the original data (noise=0.5); make the data again with "
                "`make_synthetic(noise=1.0)`.")
    return (False, "`make_synthetic(noise=1.0, seed=0)` を第 2 節と同じく分け、全体平均の予測のテストの RMSE "
                   "を "
            "`truth.noise` で割ってください。",
            "Split `make_synthetic(noise=1.0, seed=0)` as in section 2, and divide the test RMSE of "
            "the global-mean prediction by `truth.noise`.")


@_exercise("08-1")
def _reordered_list(answer: Any) -> Verdict:
    old, new, relevant, k = [3, 1, 4, 5, 9], [1, 9, 3, 4, 5], {1, 9, 7}, 5
    precision, ndcg = precision_at_k(new, relevant, k), ndcg_at_k(new, relevant, k)
    pair = _as_floats(answer, 2)
    if pair is None:
        return (False, "(適合率@5, NDCG@5) の組で答えてください。",
                "Answer with the pair (precision@5, NDCG@5).")
    got_precision, got_ndcg = pair
    if _close(got_precision, ndcg) and _close(got_ndcg, precision):
        return (False, "順序が逆です。適合率@5 を先にしてください。",
                "The order is swapped: precision@5 first.")
    if not _close(got_precision, precision):
        if _close(got_precision, precision * k):
            return (False, "適合率は当たりの数ではなく、上位 5 件に占める割合です。",
                    "Precision is the share of hits in the top 5, not their count.")
        if _close(got_precision, 2 / len(relevant)):
            return (False, "それは再現率です。適合率は上位の件数 k で割ります。",
                    "That is recall; precision divides by the cut-off k.")
        return (False, "適合率@5 が違います。上位 5 件のうち当たりはいくつですか。",
                "precision@5 is off: how many of the top 5 are hits?")
    if _close(got_ndcg, ndcg):
        return _OK
    if _close(got_ndcg, ndcg_at_k(old, relevant, k)):
        return (False, "NDCG@5 は並べ替える前のリストのものです。当たりの順位が変わりました。",
                "That NDCG@5 is for the list before reordering; the hits have moved.")
    discounts = 1 / np.log2(np.arange(2, k + 2))
    dcg = discounts[0] + discounts[1]
    if _close(got_ndcg, dcg):
        return (False, "DCG のままです。理想の並びでの値 IDCG で割ってください。",
                "That is the DCG; divide it by the ideal DCG.")
    if _close(got_ndcg, dcg / discounts.sum()):
        return (False, "IDCG は関連アイテムの数（3 つ）までの重みの和です。5 位まで足していませんか。",
                "The ideal DCG sums the weights of as many positions as there are relevant items (3), not 5.")
    return (False, "NDCG@5 が違います。当たりの順位 j ごとに 1 / log₂(j + 1) を足し、IDCG "
                   "で割ってください。",
            "NDCG@5 is off: add 1 / log₂(j + 1) for each hit at position j and divide by the ideal DCG.")


_MIX_A = (0.0, 0.5, 1.0, 2.0, 4.0)


@cache
def _mixed_ndcg() -> dict[float, float]:
    """NDCG@10 of model scores + a · log(1 + training ratings), ranking all unseen items (08, section 3)."""
    from ..recommend import scores

    train, val, test, _ = _data07()
    model, _ = _mf07()
    k = 10
    relevant: dict[int, set[int]] = {}
    for u, i, r in zip(test.users.tolist(), test.items.tolist(), test.ratings.tolist(), strict=True):
        if r >= 4.0:
            relevant.setdefault(u, set()).add(i)
    users = np.array(sorted(relevant))
    row_of = np.full(train.n_users, -1)
    row_of[users] = np.arange(users.size)
    seen_users = np.concatenate([train.users, val.users])
    seen_items = np.concatenate([train.items, val.items])
    keep = row_of[seen_users] >= 0
    blocked = np.zeros((users.size, train.n_items), dtype=bool)
    blocked[row_of[seen_users[keep]], seen_items[keep]] = True
    base = scores(model, users)
    popularity = np.log1p(np.bincount(train.items, minlength=train.n_items).astype(float))
    is_relevant = np.zeros_like(blocked)
    for row, u in enumerate(users.tolist()):
        is_relevant[row, list(relevant[u])] = True
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    ideal = np.cumsum(discounts)[np.minimum(is_relevant.sum(axis=1), k) - 1]
    result = {}
    for a in _MIX_A:  # NDCG@k as `ndcg_at_k` computes it, for every user at once
        s = np.where(blocked, -np.inf, base + a * popularity)
        top = np.argpartition(-s, k, axis=1)[:, :k]
        top = np.take_along_axis(top, np.argsort(-np.take_along_axis(s, top, axis=1), axis=1), axis=1)
        hits = np.take_along_axis(is_relevant, top, axis=1)
        result[a] = float(np.mean(hits @ discounts / ideal))
    return result


@_exercise("08-2")
def _popularity_mix(answer: Any) -> Verdict:
    ndcg = _mixed_ndcg()
    best = max(ndcg, key=ndcg.get)
    value = _as_float(answer)
    if value is None:
        return (False, "いちばん良い a の値をひとつ、数で答えてください。",
                "Answer with one number: the best value of a.")
    if value not in ndcg:
        return (False, "a は 0、0.5、1、2、4 の中から選び、NDCG@10 ではなく a の値を答えてください。",
                "Choose the value of a among 0, 0.5, 1, 2 and 4, and give a itself, not the NDCG@10.")
    if value == best:
        return _OK
    if value == 0:
        return (False, "a = 0 は予測評価値だけのスコアです。a を変えて NDCG@10 を比べましたか。",
                "a = 0 is the predicted rating alone; did you compare NDCG@10 across the values of a?")
    return (False, "それより NDCG@10 の高い a があります。a ごとの NDCG@10 を並べて表示してください。",
            "Another value of a has a higher NDCG@10; print the NDCG@10 of every value of a side by side.")


@cache
def _fold_in_rmses(n: int) -> tuple[float, float, float]:
    """Section 6 of 08 with `n` shown ratings: RMSE of the fold-in on unseen items,
    of μ + b_i, on all items."""
    from ..recommend import fold_in

    train, _, _, truth = _data07()
    model, _ = _mf07()
    popularity = np.bincount(train.items, minlength=train.n_items).astype(float)
    rng = np.random.default_rng(7)
    true_p = rng.normal(0, np.std(truth.user_factors), truth.user_factors.shape[1])
    true_b = rng.normal(0, np.std(truth.user_bias))
    true_all = truth.mean + true_b + truth.item_bias + truth.item_factors @ true_p
    shown = rng.choice(np.argsort(-popularity)[:300], n, replace=False)
    ratings_shown = true_all[shown] + rng.normal(0, truth.noise, shown.size)
    predicted = fold_in(model, shown, ratings_shown).scores(model)
    unseen = np.setdiff1d(np.arange(train.n_items), shown)
    baseline = float(model.global_mean) + model.item_bias.weight[:, 0].detach().double().numpy()
    return (rmse(predicted[unseen], true_all[unseen]), rmse(baseline[unseen], true_all[unseen]),
            rmse(predicted, true_all))


@_exercise("08-3")
def _fold_in_counts(answer: Any) -> Verdict:
    runs = [_fold_in_rmses(n) for n in (3, 15, 50)]
    expected = [r[0] for r in runs]
    values = _as_floats(answer, 3)
    if values is None:
        return (False, "見せる評価が 3、15、50 件のときの RMSE を、この順に 3 つ並べてください。",
                "List the 3 RMSEs for 3, 15 and 50 shown ratings, in this order.")
    if _all_close(values, expected):
        return _OK
    if _all_close(values, expected[::-1]):
        return (False, "順序が逆です。3 件のときを先にしてください。",
                "The order is reversed: 3 ratings first.")
    if _all_close(values, np.square(expected)):
        return _MSE
    if _all_close(values, [r[2] for r in runs]):
        return (False, "見せたアイテムも RMSE に含めています。"
                       "見せなかったアイテム（`unseen`）だけで測ってください。",
                "That includes the items shown; measure on the items not shown (`unseen`) only.")
    if _all_close(values, [r[1] for r in runs], 1e-2):
        return (False, "それは μ + b_i だけの予測の RMSE です。フォールドインした予測で測ってください。",
                "Those are RMSEs of μ + b_i alone; measure the folded-in predictions.")
    if _close(values[1], expected[1]):
        return (False, "15 件のときは合っています。ほかの数でも `rng = np.random.default_rng(7)` "
                       "からやり直しましたか。",
                "The value for 15 is right; for the other counts, did you start again from "
                "`rng = np.random.default_rng(7)`?")
    return (False, "第 6 節のセルで 15 を 3、50 に変え、`rng` の作り直しから実行し直してください。",
            "In the cell of section 6, change 15 to 3 and to 50, and run it again from "
            "the creation of `rng`.")
