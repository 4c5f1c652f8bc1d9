"""Read MovieLens rating files that the reader already has; never download. (07)

Formats (chosen from the file name, or given as `fmt`):
- "ml-100k": `u.data`, tab-separated `user item rating timestamp`, no header;
- "ml-1m": `ratings.dat`, `user::item::rating::timestamp`, no header;
- "ml-latest": `ratings.csv` (ml-latest, ml-latest-small, ml-25m …), `userId,movieId,rating,timestamp`
  with a header line.
A UTF-8 byte-order mark at the start (spreadsheet programs write one) is skipped. The fourth
column, the time of the rating in seconds since 1 January 1970, is kept as `Ratings.timestamps` (14).
"""

from __future__ import annotations

import codecs
import io
import math
import warnings
from pathlib import Path

import numpy as np

from ._checks import bilingual
from .datasets import Ratings

FORMATS = {
    "ml-100k": {"file": "u.data", "sep": "\t", "header": False},
    "ml-1m": {"file": "ratings.dat", "sep": "::", "header": False},
    "ml-latest": {"file": "ratings.csv", "sep": ",", "header": True},
}
DOWNLOAD_PAGE = "https://grouplens.org/datasets/movielens/"
DUPLICATE_POLICIES = ("error", "last")


def _format_of(path: Path, fmt: str | None) -> str:
    if fmt is None:
        for name, spec in FORMATS.items():
            if path.name == spec["file"]:
                return name
        known = ", ".join(f"{spec['file']} ({name})" for name, spec in FORMATS.items())
        raise ValueError(bilingual(
            f"{path.name} の形式がわかりません。ファイル名は {known} のどれかにするか、"
            f"`fmt` に {sorted(FORMATS)} のどれかを指定してください。",
            f"Unknown format for {path.name}: name the file one of {known}, or pass `fmt` as one of "
            f"{sorted(FORMATS)}.",
        ))
    if fmt not in FORMATS:
        raise ValueError(bilingual(
            f"`fmt`={fmt!r} は未対応の形式です。{sorted(FORMATS)} のどれかを指定してください。",
            f"Unknown format `fmt`={fmt!r}; use one of {sorted(FORMATS)}.",
        ))
    return fmt


def load_movielens(path: str | Path, fmt: str | None = None, *,
                   duplicates: str = "error") -> Ratings:
    """Load a MovieLens ratings file into `Ratings`, mapping raw ids to contiguous indices. (07)

    `user_ids` / `item_ids` of the result keep the mapping (index → raw id; ids sorted,
    numerically when they are integers, so in ml-100k user id 1 is index 0).
    A (user, item) pair that appears more than once: with `duplicates="error"` (the default;
    real MovieLens files have none, so a duplicate means a damaged or merged file) it raises
    and names both lines; with `duplicates="last"` the later line is kept.
    `timestamps` holds each rating's time (int64 seconds, as in the file; used by 14's temporal
    splits); a file in which some line has no number in the fourth column loads without them (None).
    """
    path = Path(path)
    fmt = _format_of(path, fmt)
    if duplicates not in DUPLICATE_POLICIES:
        raise ValueError(bilingual(
            f"`duplicates`={duplicates!r} は使えません。{DUPLICATE_POLICIES} のどちらかにしてください。",
            f"`duplicates`={duplicates!r} is not a policy; use one of {DUPLICATE_POLICIES}.",
        ))
    if not path.is_file():
        spec = FORMATS[fmt]
        raise FileNotFoundError(bilingual(
            f"{path} が見つかりません。MovieLens は {DOWNLOAD_PAGE} から自分でダウンロードして展開し、"
            f"{spec['file']} のパスを渡してください（例: data/{fmt}/{spec['file']}）。"
            "このシリーズがダウンロードすることはありません。",
            f"{path} not found. Download MovieLens yourself from {DOWNLOAD_PAGE}, unpack it and pass "
            f"the path of {spec['file']} (e.g. data/{fmt}/{spec['file']}). This series never "
            "downloads anything.",
        ))
    spec = FORMATS[fmt]
    fast = _parse_fast(path, spec)
    if fast is not None:  # the common case: a clean file, parsed by NumPy's C reader
        users_raw, items_raw, ratings, times, line_numbers = fast
        user_ids, users_arr = np.unique(users_raw, return_inverse=True)
        item_ids, items_arr = np.unique(items_raw, return_inverse=True)
    else:  # anything unusual: line by line, so that an error can name the line
        users_arr, items_arr, ratings, times, line_numbers, user_ids, item_ids = _parse_lines(path, fmt, spec)
    keep = _apply_duplicate_policy(path, users_arr, items_arr, len(item_ids), line_numbers, duplicates)
    return Ratings(users_arr[keep], items_arr[keep], ratings[keep], len(user_ids), len(item_ids),
                   user_ids, item_ids, None if times is None else _as_times(times[keep]))


def _as_times(times: np.ndarray) -> np.ndarray:
    """Times as int64 when they are all whole numbers (MovieLens: seconds), else float64."""
    whole = times.size == 0 or bool((times == np.round(times)).all() and np.abs(times).max() < 2**62)
    return times.astype(np.int64) if whole else times.astype(np.float64)


def _parse_fast(path: Path, spec: dict) -> tuple[np.ndarray, ...] | None:
    """(users, items, ratings, timestamps, line numbers) for a clean file with integer ids; None otherwise.

    Pure Python takes about a minute for the 25 million lines of ml-25m; NumPy's reader a
    fraction of that. Any surprise (text ids, a blank or short line, a non-finite rating or
    timestamp) returns None, and the line-by-line parser then reports it with its line number.
    """
    raw = path.read_bytes().removeprefix(codecs.BOM_UTF8)  # spreadsheet programs write one
    sep = spec["sep"]
    if sep == "::":  # NumPy's reader takes one-character separators only
        raw, sep = raw.replace(b"::", b"\t"), "\t"
    header = int(spec["header"])
    lines = raw.count(b"\n") + (0 if raw.endswith(b"\n") or not raw else 1) - header
    if lines <= 0:
        return None
    try:
        with warnings.catch_warnings():  # "input contained no data": handled below, by the row count
            warnings.filterwarnings("ignore", message=".*input contained no data", category=UserWarning)
            table = np.loadtxt(io.BytesIO(raw), delimiter=sep, skiprows=header, usecols=(0, 1, 2, 3),
                               dtype=np.float64, ndmin=2, encoding="utf-8")
    except ValueError:
        return None
    ids = table[:, :2]
    if len(table) != lines or not np.isfinite(table).all() or not (ids == np.round(ids)).all():
        return None
    return (ids[:, 0].astype(np.int64), ids[:, 1].astype(np.int64), table[:, 2], table[:, 3],
            np.arange(1 + header, len(table) + 1 + header))


def _parse_lines(path: Path, fmt: str, spec: dict) -> tuple:
    """The careful parser: one line at a time, with an error that names the line."""
    users: list[str] = []
    items: list[str] = []
    values: list[float] = []
    times: list[float] | None = []  # None once a line has no number in the fourth column
    line_numbers: list[int] = []
    with path.open(encoding="utf-8-sig", errors="replace") as handle:  # -sig: skip a byte-order mark
        for number, line in enumerate(handle, start=1):
            text = line.rstrip("\r\n")
            if not text.strip() or (spec["header"] and number == 1):
                continue
            fields = text.split(spec["sep"])
            if len(fields) < 3:
                raise ValueError(bilingual(
                    f"{path} の {number} 行目の形式が正しくありません（{fmt} 形式では "
                    f"{spec['sep']!r} 区切りで 3 列以上が必要です）: {text!r}",
                    f"{path}, line {number}: malformed for {fmt} (needs at least 3 fields separated "
                    f"by {spec['sep']!r}): {text!r}",
                ))
            try:
                rating = float(fields[2])
            except ValueError:
                rating = math.nan
            if not math.isfinite(rating):
                raise ValueError(bilingual(
                    f"{path} の {number} 行目の評価値 {fields[2]!r} が数値ではありません: {text!r}",
                    f"{path}, line {number}: the rating {fields[2]!r} is not a number: {text!r}",
                ))
            if times is not None:
                times = _append_time(times, fields)
            users.append(fields[0].strip())
            items.append(fields[1].strip())
            values.append(rating)
            line_numbers.append(number)
    if not values:
        raise ValueError(bilingual(
            f"{path} に評価値の行がありません（空のファイルです）。ダウンロードと展開をやり直してください。",
            f"{path} holds no rating lines (the file is empty); download and unpack it again.",
        ))
    user_ids, users_arr = np.unique(_as_ids(users), return_inverse=True)
    item_ids, items_arr = np.unique(_as_ids(items), return_inverse=True)
    times_arr = None if times is None else np.array(times, dtype=np.float64)
    return users_arr, items_arr, np.array(values), times_arr, np.array(line_numbers), user_ids, item_ids


def _append_time(times: list[float], fields: list[str]) -> list[float] | None:
    """`times` with this line's fourth field added; None when it is missing or not a finite number."""
    try:
        value = float(fields[3])
    except (IndexError, ValueError):
        return None
    if not math.isfinite(value):
        return None
    times.append(value)
    return times


def _as_ids(raw: list[str]) -> np.ndarray:
    """Raw ids as integers when they all are (MovieLens ids are), else as strings."""
    try:
        return np.array(raw, dtype=np.int64)
    except ValueError:
        return np.array(raw)


def _apply_duplicate_policy(path: Path, users: np.ndarray, items: np.ndarray, n_items: int,
                            line_numbers: np.ndarray, duplicates: str) -> np.ndarray:
    """Indices of the rows to keep."""
    codes = users.astype(np.int64) * n_items + items
    # Last occurrence of each pair: unique on the reversed array gives first-from-the-end.
    _, last_rev = np.unique(codes[::-1], return_index=True)
    keep = np.sort(codes.size - 1 - last_rev)
    if keep.size < codes.size and duplicates == "error":
        dropped = np.setdiff1d(np.arange(codes.size), keep)[0]
        later = int(np.flatnonzero(codes == codes[dropped])[-1])
        first_line, second_line = line_numbers[dropped], line_numbers[later]
        raise ValueError(bilingual(
            f"{path} の {first_line} 行目と {second_line} 行目が同じ (ユーザー, アイテム) の組です。"
            "壊れたファイルか、複数のファイルを結合したものかもしれません。後の行を採用するには "
            "`duplicates=\"last\"` を指定してください。",
            f"{path}: lines {first_line} and {second_line} rate the same (user, item) pair. The file "
            "may be damaged or merged from several files; to keep the later line, pass "
            "`duplicates=\"last\"`.",
        ))
    return keep
