"""Checkers for notebooks 09-11: ALS, speed and memory, beyond one machine."""

from __future__ import annotations

import math
from functools import cache, lru_cache
from typing import Any

import numpy as np

from ..data import init_factors, original_ratings
from ..seeding import one_thread
from ._core import _MSES, _OK, _TYPE_INT, Verdict, _as_float, _as_floats, _as_int, _close, _exercise


@lru_cache(maxsize=1)
def _synthetic() -> tuple[Any, Any, Any]:
    """train, val, test of 07, 09, 10 and 11: make_synthetic(seed=0), split 80/10/10 with seed 0."""
    from ..datasets import make_synthetic, split_random

    data, _ = make_synthetic(seed=0)
    return split_random(data, (0.1, 0.1), seed=0)


def _sized(value: Any) -> bool:
    """A tuple, list or array that `len` and iteration work on (not a string or a mapping)."""
    return not isinstance(value, (str, bytes, dict)) and hasattr(value, "__len__")


def _pairs(answer: Any) -> list[tuple[Any, Any]] | None:
    """((a, b), (c, d)) as a list of two pairs, or None."""
    if not _sized(answer) or len(answer) != 2:
        return None
    pairs = []
    for item in answer:
        if not _sized(item) or len(item) != 2:
            return None
        pairs.append(tuple(item))
    return pairs


# --- 09 -----------------------------------------------------------------------------------------


@_exercise("09-1")
def _rank_with_one_rating(answer: Any) -> Verdict:
    R = np.vstack([original_ratings(), [0.0, 0.0, 4.0, 0.0]])  # a new user who rated one item
    _, Q = init_factors(2, *R.shape, seed=0)
    Qu = Q[:, R[-1] != 0]
    expected, r = int(np.linalg.matrix_rank(Qu @ Qu.T)), Q.shape[0]
    value = _as_int(answer)
    if value is None:
        return _TYPE_INT
    if value == expected:
        return _OK
    if value == r:
        return (False, "それは r × r という行列の大きさで、ランクではありません。"
                "ランクは一次独立な列の数です。Q_u の列がいくつあるかから考えてください。",
                "That is the size of the r × r matrix, not its rank. The rank is the number of linearly "
                "independent columns: think about how many columns Q_u has.")
    if value == 0:
        return (False, "ランク 0 はゼロ行列です。q_i q_iᵀ はゼロではありません。",
                "Rank 0 would be the zero matrix, and q_i q_iᵀ is not zero.")
    return (False, "`np.linalg.matrix_rank(Qu @ Qu.T)` で確かめてください。ランクは r と評価の数の"
            "小さいほうを超えません。",
            "Check with `np.linalg.matrix_rank(Qu @ Qu.T)`: the rank cannot exceed the smaller of r "
            "and the number of ratings.")


@lru_cache(maxsize=1)
def _als_runs() -> dict[float, tuple[float, int, list[float]]]:
    """reg -> (test RMSE, sweeps to the best validation RMSE, validation RMSE after every sweep).

    fit_als as in section 4 of 09 (rank 10, seed 0, at most 30 sweeps), but without stopping early,
    so the whole curve is known: where it has flattened out (reg 0.1), early stopping ends at a
    sweep that depends on rounding, so any sweep on the flat part is accepted.
    """
    from ..metrics import rmse
    from ..models import BiasedMF
    from ..training import fit_als

    train, val, test = _synthetic()
    runs = {}
    for reg in (0.02, 0.1):
        model = BiasedMF(train.n_users, train.n_items, rank=10, global_mean=float(train.ratings.mean()),
                         seed=0)
        with one_thread():
            history = fit_als(model, train, val, reg=reg, sweeps=30, patience=30)  # restores the best
        runs[reg] = (rmse(model.predict(test.users, test.items), test.ratings), history.best_step,
                     list(history.val_rmse))
    return runs


@_exercise("09-3")
def _als_reg(answer: Any) -> Verdict:
    pairs = _pairs(answer)
    got = [(_as_float(a), _as_int(b)) for a, b in pairs] if pairs else []
    if len(got) != 2 or any(a is None or b is None for a, b in got):
        return (False, "((reg 0.02 のテストの RMSE, 反復回数), (reg 0.1 のテストの RMSE, 反復回数)) の形で、"
                "反復回数は整数で答えてください。",
                "Answer as ((test RMSE, sweeps) at reg 0.02, (test RMSE, sweeps) at reg 0.1), "
                "the sweeps as integers.")
    runs = _als_runs()

    def sweeps_ok(reg: float, sweeps: int) -> bool:  # on the flat part of the validation curve
        curve = runs[reg][2]
        return 1 <= sweeps <= len(curve) and curve[sweeps - 1] - min(curve) <= 1e-5

    regs = (0.02, 0.1)
    if all(_close(a, runs[reg][0]) and sweeps_ok(reg, b) for (a, b), reg in zip(got, regs, strict=True)):
        return _OK
    if all(_close(a, runs[reg][0]) for (a, _), reg in zip(got[::-1], regs, strict=True)):
        return (False, "順番が逆です。reg 0.02 の組を先に、reg 0.1 の組をあとに並べてください。",
                "The order is swapped: the pair for reg 0.02 comes first, then reg 0.1.")
    for (value, sweeps), reg in zip(got, regs, strict=True):
        test_rmse, best, curve = runs[reg]
        if _close(value, test_rmse):
            if not sweeps_ok(reg, sweeps):
                if sweeps == best + 2:
                    return (False, f"それは reg {reg} で実行した反復の回数です。早期終了は最良の反復のあとも "
                            "`patience` 回だけ続けます。答えるのは最良の反復 `history.best_step` です。",
                            f"That is the number of sweeps run at reg {reg}: early stopping goes on for "
                            "`patience` sweeps after the best one. Give the best sweep, `history.best_step`.")
                return (False, f"reg {reg} の反復回数が違います。検証データの RMSE がいちばん小さくなった反復"
                        "（`history.best_step`）を答えてください。",
                        f"The sweeps at reg {reg} are off: give the sweep with the smallest validation "
                        "RMSE (`history.best_step`).")
            continue
        if any(_close(value, v) for v in curve):
            return (False, f"reg {reg} の RMSE は検証データのものです。"
                    "早期終了のあとのモデルで、テストデータの RMSE を計算してください。",
                    f"The RMSE at reg {reg} is on the validation data: compute the test RMSE of the model "
                    "after early stopping.")
        if _close(value, test_rmse**2):
            return (False, f"reg {reg} の値は平均二乗誤差です。平方根をとってください。",
                    f"The value at reg {reg} is a mean squared error: take the square root.")
        return (False, f"reg {reg} のテストの RMSE が違います。第 4 節と同じ設定（ランク 10、シード 0、"
                "`sweeps=30`、`patience=2`）で、`reg` だけを変えて `fit_als` を実行してください。",
                f"The test RMSE at reg {reg} is off. Run `fit_als` with the settings of section 4 "
                "(rank 10, seed 0, `sweeps=30`, `patience=2`), changing only `reg`.")
    return (False, "`history.best_step` と、テストデータの RMSE を確かめてください。",
            "Check `history.best_step` and the RMSE on the test data.")


# --- 10 -----------------------------------------------------------------------------------------


@cache
def _minibatch_curve(lr: float) -> list[float]:
    """Validation RMSE after each of 5 epochs of train_minibatch(8000, lr), section 5 of 10."""
    import torch

    from ..metrics import rmse
    from ..models import BiasedMF

    train, val, _ = _synthetic()
    u, i = torch.as_tensor(train.users), torch.as_tensor(train.items)
    y = torch.as_tensor(train.ratings, dtype=torch.float32)
    with one_thread():
        model = BiasedMF(train.n_users, train.n_items, rank=10, global_mean=float(train.ratings.mean()),
                         seed=0)  # biases at 0, as after train_minibatch zeroes them
        opt = torch.optim.Adam(model.parameters(), lr=lr)
        shuffle = torch.Generator().manual_seed(0)
        P, Q = model.user_factors.weight, model.item_factors.weight
        b_u, b_i = model.user_bias.weight[:, 0], model.item_bias.weight[:, 0]
        curve = []
        for _ in range(5):
            for batch in torch.randperm(len(y), generator=shuffle).split(8000):
                users, items, ratings = u[batch], i[batch], y[batch]  # gather_step of section 2
                n_u = torch.bincount(users, minlength=model.n_users).to(ratings.dtype)
                n_i = torch.bincount(items, minlength=model.n_items).to(ratings.dtype)
                penalty = (n_u @ (P.square().sum(1) + b_u.square())
                           + n_i @ (Q.square().sum(1) + b_i.square())) / len(ratings)
                loss = (model(users, items) - ratings).square().mean() + 0.04 * penalty
                model.zero_grad()
                loss.backward()
                opt.step()
            curve.append(rmse(model.predict(val.users, val.items), val.ratings))
    return curve


@_exercise("10-2")
def _minibatch_lr(answer: Any) -> Verdict:
    values = _as_floats(answer, 2)
    if values is None:
        pairs = _pairs(answer)
        if pairs and all(_as_floats(p, 2) is not None for p in pairs):
            return (False, "`curve` の各要素は (RMSE, 秒) の組です。"
                    "5 エポック後の組から RMSE だけを取り出してください。",
                    "Each entry of `curve` is a pair (RMSE, seconds): take only the RMSE from the pair "
                    "after the 5th epoch.")
        return (False, "(学習率 0.005 のときの RMSE, 学習率 0.05 のときの RMSE) の、"
                "数 2 つで答えてください。",
                "Answer with two numbers: (RMSE at learning rate 0.005, RMSE at learning rate 0.05).")
    curves = {lr: _minibatch_curve(lr) for lr in (0.005, 0.05)}
    expected = [curves[0.005][-1], curves[0.05][-1]]
    if all(_close(v, e) for v, e in zip(values, expected, strict=True)):
        return _OK
    if all(_close(v, e) for v, e in zip(values, expected[::-1], strict=True)):
        return (False, "順番が逆です。学習率 0.005 の RMSE を先に並べてください。",
                "The order is swapped: the RMSE at learning rate 0.005 comes first.")
    if any(_close(v, _minibatch_curve(0.02)[-1]) for v in values):  # computed only when needed
        return (False, "第 5 節の学習率 0.02 の結果が入っています。"
                "学習率を 0.005 と 0.05 に変えて学習し直してください。",
                "That includes the result at section 5's learning rate 0.02: train again with the learning "
                "rate at 0.005 and at 0.05.")
    if all(any(_close(v, c) for c in curves[lr][:-1]) for v, lr in zip(values, (0.005, 0.05), strict=True)):
        return (False, "途中のエポックの値です。5 エポック後、つまり `curve` の最後の値を使ってください。",
                "Those are values from an earlier epoch: use the one after 5 epochs, the last of `curve`.")
    if all(_close(v, e**2) for v, e in zip(values, expected, strict=True)):
        return _MSES
    return (False, "`train_minibatch(8000, lr)` を学習率ごとに呼び、"
            "返ったリストの最後の組の RMSE（検証データ）を使ってください。",
            "Call `train_minibatch(8000, lr)` for each learning rate and take the RMSE (validation data) "
            "from the last pair of the list it returns.")


_ROWS_25M = (("(a) 密な行列ひとつ", "(a) one dense matrix"),
             ("(a) 密な形の 5 つの行列", "(a) five dense matrices"),
             ("三つ組", "triples"), ("(b) gather", "(b) gather"), ("(c) 疎行列", "(c) sparse"),
             ("(d) ALS", "(d) ALS"), ("パラメータと Adam", "parameters + Adam"))


def _memory_25m(r: int, *, bias: int = 1, copies: int = 4, nbytes: int = 4,
                unit: float = 2**30) -> list[float]:
    """The table of section 7 of 10 at rank r, in `unit` (GiB): the same formulas, row by row."""
    m, n_items, N = 162_541, 59_047, 25_000_095
    tables = (m + n_items) * (r + bias) * nbytes
    sizes = [m * n_items * 4, 5 * m * n_items * 4, N * (8 + 8 + 4), 3 * N * r * nbytes,
             6 * N * 4 + (m + n_items + 2) * 4, m * (r + bias) ** 2 * nbytes, copies * tables]
    return [s / unit for s in sizes]


@_exercise("10-4")
def _memory_rank_128(answer: Any) -> Verdict:
    values = _as_floats(answer, len(_ROWS_25M))
    if values is None:
        return (False, "第 7 節の表の 7 行の値を、表の順に GiB で並べてください（例: "
                "`[size / GiB for size in need.values()]`）。",
                "List the values of the 7 rows of section 7's table, in GiB, in the table's order "
                "(e.g. `[size / GiB for size in need.values()]`).")

    def near(value: float, expected: float) -> bool:  # a value printed to 2 decimals is accepted
        return abs(value - expected) <= 0.005 + 1e-3 * expected

    def close_all(expected: list[float]) -> bool:
        return all(near(v, e) for v, e in zip(values, expected, strict=True))

    if close_all(_memory_25m(128)):
        return _OK
    if close_all(_memory_25m(10)):
        return (False, "ランク 10 の表のままです。`r = 128` にして計算し直してください。",
                "That is still the table at rank 10: set `r = 128` and compute again.")
    if close_all(_memory_25m(128, unit=1e9)):
        return (False, "単位が GB（10⁹ バイト）になっています。この表は GiB（2³⁰ バイト）です。",
                "Those are GB (10⁹ bytes); this table uses GiB (2³⁰ bytes).")
    if min(values) > 1e6:
        return (False, "バイトのままです。GiB（2³⁰ バイト）で割ってください。",
                "Those are bytes: divide by a GiB (2³⁰ bytes).")
    if close_all(_memory_25m(128, nbytes=8)):
        return (False, "float64（8 バイト）で数えています。この表は float32、数ひとつ 4 バイトです。",
                "That counts float64 (8 bytes); the table is float32, 4 bytes per number.")
    expected = _memory_25m(128)
    for k, ((ja, en), value) in enumerate(zip(_ROWS_25M, values, strict=True)):
        if near(value, expected[k]):
            continue
        if k == 5 and near(value, _memory_25m(128, bias=0)[5]):
            return (False, "(d) の行で、正規方程式の大きさは (r + 1)² です"
                    "（バイアス項の分の 1 を忘れずに）。",
                    "In row (d), the normal equations have (r + 1)² entries (do not forget the 1 for the "
                    "bias term).")
        if k == 6 and any(near(value, _memory_25m(128, copies=c)[6]) for c in (1, 2, 3)):
            return (False, "最後の行は、パラメータ、勾配、Adam の 2 つのモーメントの 4 つ分です。",
                    "The last row counts 4 copies: the parameters, the gradients and Adam's two moments.")
        if near(value, _memory_25m(10)[k]):
            return (False, f"「{ja}」の行がランク 10 のままです。"
                    "ランクを使う式を 128 で計算し直してください。",
                    f"The row '{en}' is still at rank 10: compute its formula again with rank 128.")
        if k in (0, 1, 2, 4):
            return (False, f"「{ja}」の行はランクによらないので、第 7 節の値のままのはずです。",
                    f"The row '{en}' does not depend on the rank, so it keeps its value from section 7.")
        return (False, f"「{ja}」の行が違います。第 7 節の式に `r = 128` を入れて計算し直してください。",
                f"The row '{en}' is off: put `r = 128` into the formula of section 7 and compute it again.")
    return (False, "第 7 節の式に `r = 128` を入れて、7 行すべてを計算し直してください。",
            "Put `r = 128` into the formulas of section 7 and compute all 7 rows again.")


# --- 11 -----------------------------------------------------------------------------------------


def _int_lists(answer: Any, lengths: tuple[int, ...]) -> list[list[int]] | None:
    if not _sized(answer) or len(answer) != len(lengths):
        return None
    out = []
    for item, n in zip(answer, lengths, strict=True):
        if not _sized(item) or len(item) != n:
            return None
        ints = [_as_int(v) for v in item]
        if any(v is None for v in ints):
            return None
        out.append(ints)
    return out


@_exercise("11-1")
def _shard_sizes_three(answer: Any) -> Verdict:
    from ..distributed import split_shards

    sizes = _int_lists(answer, (3, 3))
    if sizes is None:
        return (False, "(ユーザーで分けたときのシャードの大きさ 3 つ, 評価値で分けたときの 3 つ) の形で、"
                "例えば `(result_user.shard_sizes, result_rating.shard_sizes)` と答えてください。",
                "Answer as (the 3 shard sizes split by user, the 3 split by rating), e.g. "
                "`(result_user.shard_sizes, result_rating.shard_sizes)`.")
    train, _, _ = _synthetic()
    expected = [[len(s) for s in split_shards(train, 3, by)] for by in ("user", "rating")]
    if sizes == expected:
        return _OK
    if sizes == expected[::-1]:
        return (False, "順番が逆です。ユーザーで分けた大きさを先に並べてください。",
                "The order is swapped: the sizes split by user come first.")
    if any(sum(s) != len(train) for s in sizes):
        return (False, "シャードの大きさの和が、学習データの評価値の数になっていません。どの評価値もちょうど"
                "ひとつのシャードに入ります。",
                "The shard sizes do not add up to the number of training ratings: every rating goes to "
                "exactly one shard.")
    if sizes[1] == expected[1] and sorted(sizes[0]) == sorted(expected[0]):
        return (False, "ユーザーで分けた大きさの並びが違います。"
                "シャード k = 0, 1, 2 の順に並べてください。",
                "The sizes split by user are out of order: list them for shards k = 0, 1, 2.")
    thirds = np.array_split(np.arange(train.n_users), 3)
    if sizes[0] == [int(np.isin(train.users, t).sum()) for t in thirds]:
        return (False, "ユーザー番号の連続した区間で分けています。シャード k は、番号を 3 で割った余りが "
                "k のユーザーです（`split_shards`）。",
                "That splits the user numbers into contiguous ranges; shard k holds the users whose "
                "number leaves remainder k when divided by 3 (`split_shards`).")
    return (False, "`train_data_parallel(..., world_size=3)` の `shard_sizes`、または "
            "`split_shards(train, 3, by)` の各シャードの `len` を表示してください。",
            "Print `shard_sizes` of `train_data_parallel(..., world_size=3)`, or the `len` of each shard "
            "of `split_shards(train, 3, by)`.")


@_exercise("11-2")
def _halves(answer: Any) -> Verdict:
    sizes = _int_lists(answer, (2, 2))
    if sizes is None:
        return (False, "((前半の大きさ, 後半の大きさ), (番号を付け直したあとの前半, 後半)) の形で、"
                "整数で答えてください。",
                "Answer as ((first half, second half), (first half, second half) after renumbering), "
                "with integers.")
    train, _, _ = _synthetic()
    half, counts = train.n_users // 2, np.bincount(train.users, minlength=train.n_users)
    before = [int(counts[:half].sum()), int(counts[half:].sum())]
    busiest_first = np.sort(counts)[::-1]  # renumbered: the most ratings get the smallest numbers
    after = [int(busiest_first[:half].sum()), int(busiest_first[half:].sum())]
    quietest_first = np.sort(counts)
    backwards = [int(quietest_first[:half].sum()), int(quietest_first[half:].sum())]
    if sizes == [before, after]:
        return _OK
    if any(sum(s) != len(train) for s in sizes):
        return (False, "2 つのシャードの大きさの和が、学習データの評価値の数になっていません。",
                "The two shard sizes do not add up to the number of training ratings.")
    if sizes == [after, before]:
        return (False, "順番が逆です。元の番号での大きさを先に並べてください。",
                "The order is swapped: the sizes with the original numbers come first.")
    if sizes[0] != before:
        if sizes[0] == before[::-1]:
            return (False, "前半と後半が入れ替わっています。番号の小さいユーザーの側を先に並べてください。",
                    "The halves are swapped: the users with the smaller numbers come first.")
        return (False, "元の番号での大きさが違います。`train.users < train.n_users // 2` で分けてください。",
                "The sizes with the original numbers are off: split with `train.users < train.n_users // 2`.")
    if sizes[1] == after[::-1]:
        return (False, "番号を付け直したあとの前半と後半が入れ替わっています。"
                "小さい番号の側を先に並べてください。",
                "After renumbering, the halves are swapped: the smaller numbers come first.")
    if sizes[1] == backwards:
        return (False, "付け直した番号の順が逆です。評価の多いユーザーほど小さい番号にします"
                "（`np.argsort` は小さい順に並べます）。",
                "The renumbering runs the wrong way: the users with the most ratings get the smallest "
                "numbers (`np.argsort` sorts in increasing order).")
    return (False, "番号を付け直したあとの大きさが違います。評価数 `np.bincount(train.users)` の多い順に"
            "ユーザーを並べ、前半と後半に分けてください。",
            "The sizes after renumbering are off: order the users by their number of ratings, "
            "`np.bincount(train.users)`, most first, and split them into halves.")


_CATALOGUE = (100_000_000, 10_000_000)  # the hypothetical catalogue of section 5 of 11


def _largest_rank(*, adam: int = 3, nbytes: int = 4, bias: int = 1, items: bool = True,
                  limit: float = 80e9) -> int:
    """The largest rank whose tables (and Adam's state) fit in `limit` bytes, as in section 5 of 11."""
    rows = _CATALOGUE[0] + (_CATALOGUE[1] if items else 0)
    r = 0
    while adam * nbytes * rows * (r + 1 + bias) <= limit:
        r += 1
    return r


def _smallest_k(*, adam: int = 3, nbytes: int = 4, items: bool = True, limit: float = 80e9) -> int:
    """The fewest processes over which the user table must be split, rank 128, each under `limit`."""
    n_users, n_items = _CATALOGUE
    k = 1
    while adam * nbytes * (128 + 1) * (math.ceil(n_users / k) + (n_items if items else 0)) >= limit:
        k += 1
    return k


@_exercise("11-3")
def _fit_in_80_gb(answer: Any) -> Verdict:
    pair = _as_floats(answer, 2)
    ints = [_as_int(v) for v in answer] if pair is not None else []
    if pair is None or any(v is None for v in ints):
        return (False, "(いちばん大きなランク, いちばん小さな K) の、整数 2 つで答えてください。",
                "Answer with two integers: (the largest rank, the smallest K).")
    rank, k = ints
    want_rank, want_k = _largest_rank(), _smallest_k()
    if (rank, k) == (want_rank, want_k):
        return _OK
    if (k, rank) == (want_rank, want_k):
        return (False, "順番が逆です。ランクを先に、K をあとに並べてください。",
                "The order is swapped: the rank first, then K.")
    if rank != want_rank:
        mistakes = (
            (_largest_rank(limit=80 * 2**30),
             "80 GB を GiB として計算しています。第 5 節では 1 GB = 10⁹ バイトです。",
             "That treats 80 GB as GiB; section 5 uses 1 GB = 10⁹ bytes."),
            (_largest_rank(adam=1),
             "Adam の状態を忘れています。パラメータと 2 つのモーメントで 3 倍です。",
             "Adam's state is missing: the parameters and two moments make 3 times as much."),
            (_largest_rank(adam=4),
             "第 5 節の計算は、パラメータと Adam の 2 つのモーメントの 3 倍です（勾配は数えません）。",
             "Section 5 counts 3 times the tables: the parameters and Adam's two moments (no gradients)."),
            (_largest_rank(items=False),
             "アイテムの表を忘れています。行の数はユーザー数とアイテム数の和です。",
             "The item table is missing: the rows are the users plus the items."),
            (_largest_rank(nbytes=8),
             "float64 で数えています。float32 は数ひとつ 4 バイトです。",
             "That counts float64; float32 takes 4 bytes per number."),
            (_largest_rank(bias=0),
             "そのランクでは収まりません。各行には潜在因子 r 個とバイアス項ひとつ、つまり r + 1 個の数が"
             "あります。また、割り切れないときは切り捨てます。",
             "At that rank the tables do not fit: each row holds r latent factors and one bias term, "
             "r + 1 numbers; and round down when it does not divide evenly."),
        )
        for wrong, ja, en in mistakes:
            if rank == wrong and wrong != want_rank:
                return (False, ja, en)
        if rank > want_rank:
            return (False, "そのランクでは、Adam の状態を入れた表が 80 GB を超えます。",
                    "At that rank the tables with Adam's state exceed 80 GB.")
        return (False, "もっと大きなランクでも 80 GB に収まります。"
                "3 × 4 × (n_users + n_items) × (r + 1) ≤ 80 × 10⁹ を解いてください。",
                "A larger rank still fits in 80 GB: solve 3 × 4 × (n_users + n_items) × (r + 1) ≤ 80 × 10⁹.")
    mistakes = (
        (_smallest_k(adam=1),
         "Adam の状態を忘れています。ランク 128 でも、パラメータと 2 つのモーメントで 3 倍です。",
         "Adam's state is missing: at rank 128 too, the parameters and two moments make 3 times as much."),
        (_smallest_k(items=False), "各プロセスは、分けたユーザーの表に加えて、アイテムの表を丸ごと持ちます。",
         "Every process also holds the whole item table, besides its part of the user table."),
        (_smallest_k(nbytes=8), "float64 で数えています。float32 は数ひとつ 4 バイトです。",
         "That counts float64; float32 takes 4 bytes per number."),
    )
    for wrong, ja, en in mistakes:
        if k == wrong and wrong != want_k:
            return (False, ja, en)
    if k < want_k:
        return (False, "その K では、プロセスひとつあたりがまだ 80 GB 以上です。",
                "With that K, each process still needs 80 GB or more.")
    return (False, "もっと小さな K でも、プロセスひとつあたりが 80 GB を切ります。",
            "A smaller K already brings each process under 80 GB.")


def _touched_bytes(*, tables: int = 2, bias: int = 1, nbytes: int = 4, bits: int = 1, ids: int = 0) -> int:
    """Bytes of the gradients of the rows a batch of 10,000 ratings touches, rank 128 (11, exercise 4)."""
    B, r = 10_000, 128
    return tables * B * ((r + bias) * nbytes * bits + ids)


@_exercise("11-4")
def _touched_rows(answer: Any) -> Verdict:
    value = _as_float(answer)
    if value is None:
        return (False, "バイト数を数ひとつで答えてください。", "Answer with one number of bytes.")
    expected = _touched_bytes()
    if _close(value, expected):
        return _OK
    if value > 0 and any(_close(value * unit, expected) for unit in (1e3, 1e6, 1e9, 2**10, 2**20, 2**30)):
        return (False, "単位が違います。MB や GB ではなく、バイトで答えてください。",
                "Wrong unit: answer in bytes, not MB or GB.")
    mistakes = (
        (_touched_bytes(tables=1),
         "表がひとつ分だけです。バッチはユーザーの行とアイテムの行の両方に触れます。",
         "That is one table only: a batch touches user rows and item rows."),
        (_touched_bytes(bits=8), "それはビット数です。1 バイトは 8 ビットです。",
         "That is a number of bits; a byte is 8 bits."),
        (_touched_bytes(nbytes=8), "float64 で数えています。float32 は数ひとつ 4 バイトです。",
         "That counts float64; float32 takes 4 bytes per number."),
        (_touched_bytes(bias=0), "各行にはバイアス項もあり、数は r + 1 個です（第 5 節と同じ数え方）。",
         "Each row also carries its bias term: r + 1 numbers (counted as in section 5)."),
        (_touched_bytes(ids=8), "勾配の値だけを数えてください（行の番号は数えません）。",
         "Count the gradient values only (not the row numbers)."),
        (_touched_bytes(tables=1, bits=8), "ビット数で、しかも表がひとつ分だけです。",
         "That counts bits, and one table only."),
    )
    for wrong, ja, en in mistakes:
        if _close(value, wrong):
            return (False, ja, en)
    return (False, "触れた行の数 × 行ごとの数の個数 × 数ひとつのバイト数、を計算してください。",
            "Multiply the number of touched rows by the numbers per row and by the bytes per number.")
