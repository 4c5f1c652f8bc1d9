"""Shared check for the tests: an error message is bilingual and names the arguments."""

from __future__ import annotations

import re

import pytest

JA_RE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")  # kana / kanji
EN_RE = re.compile(r"\b[A-Za-z]{4,}\b")  # an English word


def assert_bilingual(err: pytest.ExceptionInfo[BaseException], *names: str) -> None:
    """The message has Japanese and English text and names each argument as `name`."""
    message = str(err.value)
    assert JA_RE.search(message), f"no Japanese in: {message!r}"
    assert EN_RE.search(message), f"no English in: {message!r}"
    for name in names:
        assert f"`{name}`" in message, f"`{name}` not named in: {message!r}"
