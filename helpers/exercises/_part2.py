"""Checkers for notebooks 05-08: ratings at scale, biases, evaluation, ranking."""

from __future__ import annotations
