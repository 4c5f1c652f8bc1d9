"""Exercises that check themselves: `check("01-1", answer)` prints a verdict in both languages.

The checkers live in `_part1` (notebooks 01-04), `_part2` (05-08), `_part3` (09-11),
`_part4` (12-13) and `_part5` (14-16);
the shared parsing of answers and the registry are in `_core`.

Each checker computes the expected value from the exercise's own data (no copied answer key)
and, for a wrong answer, says what kind of wrong it is — a swapped shape, a flipped sign, a
count from 1 — without giving the answer away. `check` never raises at the student.
"""

from __future__ import annotations

from typing import Any

from .._checks import bilingual
from . import _part1, _part2, _part3, _part4, _part5  # noqa: F401  (importing registers their checkers)
from ._core import _CHECKERS

NOT_ANSWERED = ("未回答です。`answer` に答えを入れて、もう一度実行してください。\n"
                "Not answered yet: put your answer in `answer` and run the cell again.")


def check(exercise_id: str, answer: Any) -> bool | None:
    """Print the verdict on `answer`; return True (correct), False (not yet) or None (no answer)."""
    checker = _CHECKERS.get(exercise_id) if isinstance(exercise_id, str) else None
    if checker is None:
        print(bilingual(
            f"演習 {exercise_id!r} はありません。番号は {', '.join(sorted(_CHECKERS))} のどれかです。",
            f"There is no exercise {exercise_id!r}; the ids are {', '.join(sorted(_CHECKERS))}.",
        ))
        return False
    if answer is None:
        print(NOT_ANSWERED)
        return None
    try:
        correct, ja, en = checker(answer)
    except Exception as err:  # a checker must never hand a traceback to the student
        correct = False
        ja = f"この答えは確かめられませんでした（{type(err).__name__}）。問題が求める形で答えてください。"
        en = (f"This answer could not be checked ({type(err).__name__}); "
              "answer in the form the exercise asks for.")
    print(f"{exercise_id} {'正解 / correct' if correct else 'まだです / not yet'}\n{ja}\n{en}")
    return correct


def exercise_ids() -> list[str]:
    """Every exercise that has a checker, in order."""
    return sorted(_CHECKERS)


