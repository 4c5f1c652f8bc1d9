"""Checkers for notebooks 09-11: ALS, speed and memory, beyond one machine."""

from __future__ import annotations
