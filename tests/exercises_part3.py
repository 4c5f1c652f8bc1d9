"""Cases for the checkers of notebooks 09-11: right answers computed here, and diagnosed wrong ones."""

from __future__ import annotations

# (id, a correct answer computed here from the exercise's data)
RIGHT: list[tuple[str, object]] = []
# (id, wrong answer, a phrase of the English message that names the mistake)
WRONG: list[tuple[str, object, str]] = []
