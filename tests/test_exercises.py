"""The self-checking exercises: right answers pass, each diagnosed kind of wrong answer gets its message."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import torch

from helpers import init_factors, observed_mask, original_ratings, train
from helpers.exercises import NOT_ANSWERED, check, exercise_ids
from tests.bilingual import EN_RE, JA_RE

R = original_ratings()
P, Q = init_factors(2, 5, 4, seed=0)
GAP = float(((torch.tensor(P, dtype=torch.float32).T @ torch.tensor(Q, dtype=torch.float32)).double()
             - torch.tensor(P).T @ torch.tensor(Q)).abs().max())

LOSSES = {lr: train(R, P, Q, lr=lr, steps=100).losses[-1] for lr in (0.02, 0.05, 0.1, 0.2, 0.5)}
FITS = [train(R, P, Q, lr=0.05, steps=s).reconstruction() for s in (100, 300, 1000)]
OBS = R != 0
RMSES = tuple(float(np.sqrt(np.mean((R[OBS] - f[OBS]) ** 2))) for f in FITS)

# (id, a correct answer computed here from the exercise's data)
RIGHT = [
    ("01-1", int(np.argmin(observed_mask(R).sum(axis=0)))),
    ("01-3", int((R != 0).sum())),
    ("01-4", ((3, 5), (3, 4), (5, 4))),
    ("02-1", GAP),
    ("02-2", torch.func.grad(lambda x: (2.0 * x - 3) ** 2)(torch.tensor(1.0)).item()),  # df/dx, a = 2
    ("02-3", tuple((torch.zeros(2, 4).T @ torch.zeros(2, 5)).shape)),
    ("03-1", (float((4 - 1) ** 2), -2.0 * 1 * (4 - 1))),
    ("03-3", [lr for lr, loss in LOSSES.items() if loss < 2]),
    ("04-3", RMSES),
]
# (id, wrong answer, a phrase of the English message that names the mistake)
WRONG = [
    ("01-1", 3, "count from 0"),
    ("01-1", 0, "smallest value"),
    ("01-1", "2", "one integer"),
    ("01-3", 20, "counts every entry"),
    ("01-3", 5, "missing entries"),
    ("01-3", 14, "Count the result"),
    ("01-4", ((5, 3), (3, 4), (5, 4)), "swapped"),
    ("01-4", ((3, 5), (3, 4), (4, 4)), "wrong"),
    ("01-4", (3, 5), "as tuples"),
    ("02-1", 0.0, "same precision"),
    ("02-1", -GAP, "absolute"),
    ("02-1", GAP * 100, "size is off"),
    ("02-2", 4.0, "sign is flipped"),
    ("02-2", -2.0, "chain rule"),
    ("02-2", 1.0, "Print `x.grad`"),
    ("02-3", (5, 4), "swapped"),
    ("02-3", "4x5", "as tuples"),
    ("03-1", (3.0, -6.0), "square the error"),
    ("03-1", (9.0, 6.0), "sign is flipped"),
    ("03-1", (9.0, -3.0), "factor 2"),
    ("03-1", (9.0, -1.0), "masked_loss_grad"),
    ("03-1", 9.0, "the pair"),
    ("03-3", list(LOSSES), "2 or more"),
    ("03-3", [max(LOSSES, key=LOSSES.get)], "2 or more"),
    ("03-3", [min(LOSSES, key=LOSSES.get)], "missed"),
    ("03-3", [0.3], "Choose among"),
    ("03-3", "0.2", "a list of learning rates"),
    ("04-3", tuple(v * v for v in RMSES), "square root"),
    ("04-3", tuple(float(np.sqrt(np.mean((R - f) ** 2))) for f in FITS), "missing entries"),
    ("04-3", (1.0, 2.0, 3.0), "rmse_observed"),
    ("04-3", RMSES[:2], "three RMSEs"),
]


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
