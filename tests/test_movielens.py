"""Tests of `helpers.movielens.load_movielens` on small files written in the three formats."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from helpers.datasets import Ratings
from helpers.movielens import load_movielens
from tests.bilingual import assert_bilingual

# (user, item, rating, timestamp); raw ids 1, 2, 10 must sort numerically, not as text.
ROWS = [(10, 5, 4, 881250949), (1, 20, 3, 891717742), (2, 5, 1, 878887116), (1, 5, 5, 880606923),
        (10, 100, 2, 886397596)]
CSV_ROWS = [(10, 5, 4.5, 1), (1, 20, 3.0, 2), (2, 5, 0.5, 3), (1, 5, 5.0, 4), (10, 100, 3.5, 5)]


def write(path: Path, lines: list[str]) -> Path:
    """Write the lines, one per line, and return the path."""
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def ml100k(tmp_path: Path, rows: list[tuple] = ROWS, name: str = "u.data") -> Path:
    return write(tmp_path / name, ["\t".join(map(str, row)) for row in rows])


def ml1m(tmp_path: Path, rows: list[tuple] = ROWS, name: str = "ratings.dat") -> Path:
    return write(tmp_path / name, ["::".join(map(str, row)) for row in rows])


def mllatest(tmp_path: Path, rows: list[tuple] = CSV_ROWS, name: str = "ratings.csv") -> Path:
    return write(tmp_path / name, ["userId,movieId,rating,timestamp"] + [",".join(map(str, r)) for r in rows])


def timed(data: Ratings) -> set[tuple[int, int, float, int]]:
    """The ratings as (raw user id, raw item id, rating, timestamp)."""
    assert data.user_ids is not None and data.item_ids is not None and data.timestamps is not None
    return {(int(data.user_ids[u]), int(data.item_ids[i]), float(r), int(t))
            for u, i, r, t in zip(data.users, data.items, data.ratings, data.timestamps, strict=True)}


def triples(data: Ratings) -> set[tuple[int, int, float]]:
    """The ratings as (raw user id, raw item id, rating)."""
    assert data.user_ids is not None and data.item_ids is not None
    return {(int(data.user_ids[u]), int(data.item_ids[i]), float(r))
            for u, i, r in zip(data.users, data.items, data.ratings, strict=True)}


# --- the three formats -----------------------------------------------------------------------------


@pytest.mark.parametrize("writer", [ml100k, ml1m], ids=["ml-100k", "ml-1m"])
def test_integer_star_formats(tmp_path: Path, writer) -> None:
    """u.data and ratings.dat: ids → contiguous indices sorted numerically, mapping kept."""
    data = load_movielens(writer(tmp_path))
    assert isinstance(data, Ratings)
    assert len(data) == 5
    assert (data.n_users, data.n_items) == (3, 3)
    assert data.user_ids.tolist() == [1, 2, 10]  # numeric order: 10 after 2
    assert data.item_ids.tolist() == [5, 20, 100]
    assert triples(data) == {(u, i, float(r)) for u, i, r, _ in ROWS}
    assert timed(data) == {(u, i, float(r), t) for u, i, r, t in ROWS}  # the timestamps are kept (14)
    assert data.timestamps.dtype == np.int64 and data.timestamps[0] == 881250949
    assert data.scale == (1.0, 5.0)
    # index → raw id, and the first line (user 10, item 5) maps to indices (2, 0)
    assert (data.users[0], data.items[0], data.ratings[0]) == (2, 0, 4.0)
    assert data.users.min() == 0 and data.items.min() == 0


def test_csv_format_with_half_stars(tmp_path: Path) -> None:
    """ratings.csv: the header is skipped, half-star ratings 0.5–5 are kept as they are."""
    data = load_movielens(mllatest(tmp_path))
    assert len(data) == 5
    assert data.user_ids.tolist() == [1, 2, 10]
    assert data.item_ids.tolist() == [5, 20, 100]
    assert triples(data) == {(u, i, r) for u, i, r, _ in CSV_ROWS}
    assert timed(data) == set(CSV_ROWS)
    assert data.timestamps.dtype == np.int64
    assert data.scale == (0.5, 5.0)
    assert 3.5 in data.ratings.tolist()


@pytest.mark.parametrize(
    ("writer", "fmt"),
    [(ml100k, "ml-100k"), (ml1m, "ml-1m"), (mllatest, "ml-latest")],
    ids=["ml-100k", "ml-1m", "ml-latest"],
)
def test_format_given_explicitly(tmp_path: Path, writer, fmt: str) -> None:
    """With `fmt=` any file name works, as a str or a Path."""
    path = writer(tmp_path, name="my-ratings.txt")
    for where in (path, str(path)):
        data = load_movielens(where, fmt=fmt)
        assert len(data) == 5 and data.user_ids.tolist() == [1, 2, 10]
        assert data.timestamps.tolist() == [row[3] for row in (CSV_ROWS if fmt == "ml-latest" else ROWS)]


def test_fmt_overrides_the_file_name(tmp_path: Path) -> None:
    """A tab-separated file named ratings.csv is read as ml-100k when told so (no header skipped)."""
    data = load_movielens(ml100k(tmp_path, name="ratings.csv"), fmt="ml-100k")
    assert len(data) == 5
    assert data.timestamps.tolist() == [row[3] for row in ROWS]


def test_blank_lines_are_ignored(tmp_path: Path) -> None:
    """Trailing blank lines (and a blank line in the middle) are skipped; CRLF endings are fine."""
    lines = ["\t".join(map(str, row)) for row in ROWS]
    path = tmp_path / "u.data"
    path.write_text("\r\n".join(lines[:2] + [""] + lines[2:]) + "\r\n\n  \n\n", encoding="utf-8")
    data = load_movielens(path)
    assert len(data) == 5
    assert timed(data) == {(u, i, float(r), t) for u, i, r, t in ROWS}


def test_single_user_and_item(tmp_path: Path) -> None:
    """One line is enough."""
    data = load_movielens(ml100k(tmp_path, [(7, 9, 3, 0)]))
    assert (len(data), data.n_users, data.n_items) == (1, 1, 1)
    assert data.user_ids.tolist() == [7] and data.item_ids.tolist() == [9]
    assert data.timestamps.tolist() == [0]


@pytest.mark.parametrize("careful", [False, True], ids=["fast", "careful"])
def test_timestamps_follow_their_ratings_through_splits(tmp_path: Path, careful: bool, monkeypatch) -> None:
    """Each rating keeps its own time through a split (subset), in both readers. (14)"""
    import helpers.movielens as movielens
    from helpers.datasets import split_random

    if careful:
        monkeypatch.setattr(movielens, "_parse_fast", lambda *args: None)
    data = load_movielens(ml1m(tmp_path))
    rest, part = split_random(data, 0.4, seed=1)
    assert len(rest) + len(part) == 5
    assert timed(rest) | timed(part) == {(u, i, float(r), t) for u, i, r, t in ROWS}


@pytest.mark.parametrize("lines", [["1\t2\t3", "2\t2\t4"], ["1\t2\t3\t5", "2\t2\t4\tyesterday"],
                                   ["1\t2\t3\t5", "2\t2\t4\tnan"]],
                         ids=["three-columns", "text-time", "nan-time"])
def test_files_without_usable_times_load_without_timestamps(tmp_path: Path, lines: list[str]) -> None:
    """A line with no number in the fourth column: the ratings load as before, `timestamps` is None."""
    data = load_movielens(write(tmp_path / "u.data", lines))
    assert len(data) == 2 and data.timestamps is None
    assert triples(data) == {(1, 2, 3.0), (2, 2, 4.0)}


def test_fractional_times_stay_floats(tmp_path: Path) -> None:
    """Times that are not whole numbers are kept as float64, not truncated."""
    data = load_movielens(write(tmp_path / "u.data", ["1\t2\t3\t5.5", "2\t2\t4\t7"]))
    assert data.timestamps.dtype == np.float64 and data.timestamps.tolist() == [5.5, 7.0]


# --- bad input -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "fmt", "expected_file"),
    [("u.data", None, "u.data"), ("ratings.dat", None, "ratings.dat"), ("ratings.csv", None, "ratings.csv"),
     ("elsewhere.tsv", "ml-100k", "u.data")],
)
def test_missing_file(tmp_path: Path, name: str, fmt: str | None, expected_file: str) -> None:
    """No file → FileNotFoundError pointing to grouplens.org, naming the file, never downloading."""
    with pytest.raises(FileNotFoundError) as err:
        load_movielens(tmp_path / name, fmt=fmt)
    assert_bilingual(err)
    message = str(err.value)
    assert "grouplens.org" in message
    assert expected_file in message
    assert "never downloads" in message
    assert not (tmp_path / name).exists()


def test_empty_file(tmp_path: Path) -> None:
    """An empty file → ValueError that says so."""
    path = write(tmp_path / "u.data", [])
    with pytest.raises(ValueError, match="empty") as err:
        load_movielens(path)
    assert_bilingual(err)
    assert str(path) in str(err.value)


def test_csv_with_header_only(tmp_path: Path) -> None:
    """A ratings.csv with only its header (and blank lines) holds no ratings."""
    path = write(tmp_path / "ratings.csv", ["userId,movieId,rating,timestamp", "", ""])
    with pytest.raises(ValueError, match="no rating lines") as err:
        load_movielens(path)
    assert_bilingual(err)


@pytest.mark.parametrize(
    ("lines", "line_no", "shown"),
    [
        pytest.param(["1\t2\t3\t4", "1\t3", "2\t2\t5\t0"], 2, "1\\t3", id="too-few-fields"),
        pytest.param(["1\t2\t3\t4", "2\t2\t4\t0", "1 3 4 5"], 3, "1 3 4 5", id="wrong-separator"),
    ],
)
def test_malformed_line(tmp_path: Path, lines: list[str], line_no: int, shown: str) -> None:
    """A line with fewer than 3 fields: the message names the file, the line number and the line."""
    path = write(tmp_path / "u.data", lines)
    with pytest.raises(ValueError, match="malformed") as err:
        load_movielens(path)
    assert_bilingual(err)
    message = str(err.value)
    assert str(path) in message
    assert f"line {line_no}" in message and f"{line_no} 行目" in message
    assert shown in message


def test_malformed_line_in_csv_counts_the_header(tmp_path: Path) -> None:
    """Line numbers are the file's: the header is line 1."""
    path = write(tmp_path / "ratings.csv", ["userId,movieId,rating,timestamp", "1,2,3.5,0", "1;3;4;0"])
    with pytest.raises(ValueError, match="line 3") as err:
        load_movielens(path)
    assert_bilingual(err)
    assert "1;3;4;0" in str(err.value)


@pytest.mark.parametrize("bad", ["abc", "nan", "inf", ""])
def test_rating_not_a_number(tmp_path: Path, bad: str) -> None:
    """A rating that is not a finite number: the message names the line and shows the value."""
    path = write(tmp_path / "ratings.dat", ["1::2::3::0", "1::3::4::0", f"2::2::{bad}::0"])
    with pytest.raises(ValueError, match="not a number") as err:
        load_movielens(path)
    assert_bilingual(err)
    message = str(err.value)
    assert "line 3" in message and "3 行目" in message
    assert repr(bad) in message


def test_unknown_file_name(tmp_path: Path) -> None:
    """other.txt without `fmt`: the format cannot be guessed; the known names are listed."""
    path = ml100k(tmp_path, name="other.txt")
    with pytest.raises(ValueError, match="Unknown format") as err:
        load_movielens(path)
    assert_bilingual(err, "fmt")
    message = str(err.value)
    assert "other.txt" in message
    for known in ("u.data", "ratings.dat", "ratings.csv"):
        assert known in message


@pytest.mark.parametrize("fmt", ["ml-20x", "ML-100K", "csv"])
def test_unknown_fmt(tmp_path: Path, fmt: str) -> None:
    """An unknown `fmt` is refused, listing the known ones."""
    path = ml100k(tmp_path)
    with pytest.raises(ValueError, match="Unknown format") as err:
        load_movielens(path, fmt=fmt)
    assert_bilingual(err, "fmt")
    message = str(err.value)
    assert repr(fmt) in message and "ml-100k" in message and "ml-latest" in message


def test_duplicate_pair_is_an_error_by_default(tmp_path: Path) -> None:
    """The same (user, item) twice → names both line numbers and the way out, duplicates="last"."""
    path = ml100k(tmp_path, [(1, 5, 3, 0), (2, 5, 4, 0), (3, 6, 2, 0), (1, 5, 1, 0), (3, 7, 5, 0)])
    with pytest.raises(ValueError, match="lines 1 and 4") as err:
        load_movielens(path)
    assert_bilingual(err)
    message = str(err.value)
    assert str(path) in message
    assert "1 行目と 4 行目" in message
    assert 'duplicates="last"' in message


def test_duplicate_pair_in_csv_uses_file_line_numbers(tmp_path: Path) -> None:
    """With a header and blank lines, the reported numbers are still the file's line numbers."""
    path = write(tmp_path / "ratings.csv", ["userId,movieId,rating,timestamp", "1,5,3.0,0", "", "2,5,4.0,0",
                                            "1,5,4.5,0"])
    with pytest.raises(ValueError, match="lines 2 and 5"):
        load_movielens(path)


def test_duplicates_last_keeps_the_later_line(tmp_path: Path) -> None:
    """duplicates="last": the later rating wins and the count drops by one per duplicate."""
    path = ml100k(tmp_path, [(1, 5, 3, 0), (2, 5, 4, 1), (3, 6, 2, 2), (1, 5, 1, 3), (3, 7, 5, 4)])
    data = load_movielens(path, duplicates="last")
    assert len(data) == 4
    assert (data.n_users, data.n_items) == (3, 3)
    assert triples(data) == {(1, 5, 1.0), (2, 5, 4.0), (3, 6, 2.0), (3, 7, 5.0)}
    assert timed(data) == {(1, 5, 1.0, 3), (2, 5, 4.0, 1), (3, 6, 2.0, 2), (3, 7, 5.0, 4)}  # the later time
    codes = data.users * data.n_items + data.items
    assert np.unique(codes).size == len(data)


@pytest.mark.parametrize("policy", ["first", "Last", None, "ignore"])
def test_unknown_duplicates_policy(tmp_path: Path, policy: object) -> None:
    """Only "error" and "last" are policies."""
    with pytest.raises(ValueError, match="not a policy") as err:
        load_movielens(ml100k(tmp_path), duplicates=policy)
    assert_bilingual(err, "duplicates")


@pytest.mark.parametrize("writer", [ml100k, ml1m, mllatest], ids=["ml-100k", "ml-1m", "ml-latest"])
def test_fast_reader_agrees_with_the_line_by_line_reader(tmp_path: Path, writer, monkeypatch) -> None:
    """Clean files go through NumPy's reader; the result equals the careful parser's, field by field."""
    import helpers.movielens as movielens

    rng = np.random.default_rng(0)
    codes = rng.choice(300 * 200, 2000, replace=False)
    rows = [(int(c // 200) + 1, int(c % 200) * 7 + 3, float(rng.integers(1, 11)) / 2,
             int(rng.integers(8 * 10**8, 16 * 10**8))) for c in codes]
    path = writer(tmp_path, rows)
    assert movielens._parse_fast(path, movielens.FORMATS[movielens._format_of(path, None)]) is not None
    fast = load_movielens(path)
    monkeypatch.setattr(movielens, "_parse_fast", lambda *args: None)
    careful = load_movielens(path)
    assert fast.timestamps.dtype == careful.timestamps.dtype == np.int64
    for field in ("users", "items", "ratings", "user_ids", "item_ids", "timestamps"):
        np.testing.assert_array_equal(getattr(fast, field), getattr(careful, field))
    assert (fast.n_users, fast.n_items) == (careful.n_users, careful.n_items)


@pytest.mark.parametrize("extra", ["\n", "# a comment\n", "7,8\n", "u1,5,3.0,1\n", "1.5,2,3.0,1\n"],
                         ids=["blank", "comment", "short", "text-id", "fraction-id"])
def test_unusual_files_take_the_careful_reader(tmp_path: Path, extra: str) -> None:
    import helpers.movielens as movielens

    path = mllatest(tmp_path)
    path.write_text(path.read_text(encoding="utf-8") + extra, encoding="utf-8")
    assert movielens._parse_fast(path, movielens.FORMATS["ml-latest"]) is None


@pytest.mark.parametrize("careful", [False, True], ids=["fast", "careful"])
@pytest.mark.parametrize("writer", [ml100k, ml1m, mllatest], ids=["ml-100k", "ml-1m", "ml-latest"])
def test_byte_order_mark_is_skipped(tmp_path: Path, writer, careful: bool, monkeypatch) -> None:
    """A file saved by a spreadsheet program starts with a UTF-8 byte-order mark: ids stay intact."""
    import helpers.movielens as movielens

    path = writer(tmp_path)
    plain = load_movielens(path)
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    if careful:  # the line-by-line reader (taken for any unusual file) skips it too
        monkeypatch.setattr(movielens, "_parse_fast", lambda *args: None)
    else:
        assert movielens._parse_fast(path, movielens.FORMATS[movielens._format_of(path, None)]) is not None
    data = load_movielens(path)
    assert data.user_ids.dtype.kind == "i" and data.user_ids.tolist() == [1, 2, 10]
    for field in ("users", "items", "ratings", "user_ids", "item_ids", "timestamps"):
        np.testing.assert_array_equal(getattr(data, field), getattr(plain, field))
