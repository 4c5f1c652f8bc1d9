"""The self-checking exercises: right answers pass, each diagnosed kind of wrong answer gets its message."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import torch

from helpers.exercises import NOT_ANSWERED, check, exercise_ids
from tests import exercises_part1, exercises_part2, exercises_part3, exercises_part4, exercises_part5
from tests.bilingual import EN_RE, JA_RE

# Each part's cases live beside the others (tests/exercises_partN.py), one file per part of the series.
PARTS = (exercises_part1, exercises_part2, exercises_part3, exercises_part4, exercises_part5)
RIGHT = [case for part in PARTS for case in part.RIGHT]
WRONG = [case for part in PARTS for case in part.WRONG]

def verdict(capsys: pytest.CaptureFixture[str], exercise: str, answer: object) -> tuple[object, str]:
    result = check(exercise, answer)
    return result, capsys.readouterr().out


@pytest.mark.parametrize(("exercise", "answer"), RIGHT, ids=[r[0] for r in RIGHT])
def test_right_answers_pass(capsys, exercise, answer) -> None:
    result, out = verdict(capsys, exercise, answer)
    assert result is True
    assert "correct" in out and JA_RE.search(out) and EN_RE.search(out)


@pytest.mark.parametrize(("exercise", "answer", "phrase"), WRONG,
                         ids=[f"{w[0]}-{w[2]}" for w in WRONG])
def test_each_kind_of_wrong_answer_gets_its_message(capsys, exercise, answer, phrase) -> None:
    result, out = verdict(capsys, exercise, answer)
    assert result is False
    assert phrase in out, out
    assert JA_RE.search(out), out
    right = dict(RIGHT)[exercise]
    assert str(right) not in out.replace(exercise, ""), "the message must not give the answer away"


@pytest.mark.parametrize("exercise", [r[0] for r in RIGHT])
def test_none_is_not_answered(capsys, exercise) -> None:
    result, out = verdict(capsys, exercise, None)
    assert result is None
    assert out.strip() == NOT_ANSWERED


@pytest.mark.parametrize("exercise", ["99-9", "1-1", None, 3])
def test_unknown_exercise_is_a_message_not_an_error(capsys, exercise) -> None:
    result, out = verdict(capsys, exercise, 1)
    assert result is False
    assert "01-1" in out and JA_RE.search(out) and EN_RE.search(out)


@pytest.mark.parametrize("answer", [object(), [[1, 2], "x"], {"a": 1}, np.ones(3), torch.ones(2, 2)])
def test_answers_of_any_type_never_raise(capsys, answer) -> None:
    for exercise in exercise_ids():
        result, out = verdict(capsys, exercise, answer)
        assert result is False, (exercise, out)
        assert JA_RE.search(out) and EN_RE.search(out)


def test_every_checker_is_tested_and_used_in_its_notebook() -> None:
    assert sorted(dict(RIGHT)) == exercise_ids()
    used = set()
    for path in Path("notebooks").glob("[0-9][0-9]_*.ipynb"):
        used |= set(re.findall(r'check\(\\"(\d\d-\d+)\\"', path.read_text(encoding="utf-8")))
    assert used == set(exercise_ids())
