"""Benchmarks of the series' trainers against each other and against peer libraries.

Run `make bench` (or `python -m benchmarks.run --help`); see benchmarks/README.md. Nothing here
is needed by the notebooks: peers (Surprise, implicit) and the numba kernel are optional extras
from requirements-bench.txt, and every row that needs a missing one is skipped with a note.
"""
