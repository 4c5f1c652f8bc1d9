"""Checks of the repository around the notebooks: README, pins, set-up, work copy."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat

from tools.series import series_notebooks
from tools.workcopy import sync_copy

REQUIRED_PINS = ["torch", "numpy", "matplotlib", "matplotlib-fontja", "jupyterlab", "ipykernel",
                 "nbval", "pytest", "hypothesis", "ruff",
                 "jupyterlab-language-pack-ja-jp"]  # the lab in Japanese (README, e2e/test_lab_japanese.py)


def requirement_lines() -> list[str]:
    lines = Path("requirements.txt").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def test_requirements_are_exact_public_pins() -> None:
    lines = requirement_lines()
    for line in lines:
        assert re.fullmatch(r"[A-Za-z0-9_.\-]+==[0-9][0-9A-Za-z.]*", line), f"not an exact public pin: {line}"
    names = {line.split("==")[0].lower() for line in lines}
    assert set(REQUIRED_PINS) <= names, set(REQUIRED_PINS) - names
    assert "torch==2.13.0" in lines


def test_environment_yml_delegates_to_requirements() -> None:
    text = Path("environment.yml").read_text(encoding="utf-8")
    assert "python=3.11" in text and "-r requirements.txt" in text
    # one list: no package pinned here besides python and pip
    deps = re.findall(r"^\s+- ([A-Za-z][\w\-]*)", text.split("dependencies:", 1)[1], flags=re.M)
    assert set(deps) <= {"python", "pip"}, deps


def test_readme_lists_every_notebook_with_its_time() -> None:
    readme = Path("README.md").read_text(encoding="utf-8")
    for path in series_notebooks():
        minutes = nbformat.read(path, as_version=4).metadata["series"]["minutes"]
        row = next((line for line in readme.splitlines()
                    if line.startswith("| ") and f"(notebooks/{path.name})" in line), None)  # a table row
        assert row is not None, f"README: no contents row for {path.name}"
        assert row.rstrip().endswith(f"| {minutes} min |"), f"README: time for {path.name} != {minutes} min"


def test_lab_binds_localhost_and_keeps_the_token() -> None:
    makefile = Path("Makefile").read_text(encoding="utf-8")
    lab = makefile.split("\nlab:", 1)[1].split("\n\n", 1)[0]
    assert "--ServerApp.ip=127.0.0.1" in lab
    assert "token" not in lab.replace("?token=...", ""), "make lab must not touch the token setting"
    assert "--ServerApp.root_dir=$(WORK)" in lab and "00_index.ipynb" in lab


def test_work_copy_is_ignored_by_git() -> None:
    ignored = Path(".gitignore").read_text(encoding="utf-8").splitlines()
    assert "my-notebooks/" in ignored and ".venv/" in ignored


def test_work_copy_never_overwrites(tmp_path: Path) -> None:
    source, copy = tmp_path / "notebooks", tmp_path / "mine"
    source.mkdir()
    (source / "00_index.ipynb").write_text("original 0")
    (source / "01_a.ipynb").write_text("original 1")
    assert [p.name for p in sync_copy(source, copy)] == ["00_index.ipynb", "01_a.ipynb"]
    (copy / "01_a.ipynb").write_text("student's edits")
    (source / "02_b.ipynb").write_text("added later")
    assert [p.name for p in sync_copy(source, copy)] == ["02_b.ipynb"]
    assert (copy / "01_a.ipynb").read_text() == "student's edits"


def test_notebook_links_point_to_existing_files() -> None:
    """Every relative link in a markdown cell points to a file that exists (no links to future notebooks)."""
    for path in series_notebooks():
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type != "markdown":
                continue
            for target in re.findall(r"\]\(([^)\s]+)\)", cell.source):
                if "://" in target or target.startswith("#"):
                    continue
                assert (path.parent / target.split("#")[0]).exists(), f"{path.name}: broken link {target}"


def test_readme_and_contributing_links_point_to_existing_files() -> None:
    """README links CONTRIBUTING.md (change, test, have a notebook read); no relative link is broken."""
    readme = Path("README.md").read_text(encoding="utf-8")
    assert "](CONTRIBUTING.md)" in readme, "README: no link to CONTRIBUTING.md"
    for name in ("README.md", "CONTRIBUTING.md"):
        text = Path(name).read_text(encoding="utf-8")
        text = re.sub(r"```.*?```", "", text, flags=re.S)  # links only, not code blocks
        for target in re.findall(r"\]\(([^)\s#]+)", text):
            if "://" not in target:
                assert Path(target).exists(), f"{name}: broken link {target}"


def test_contributing_has_both_languages_and_every_step() -> None:
    text = Path("CONTRIBUTING.md").read_text(encoding="utf-8")
    japanese, _, english = text.partition("\n## English\n")
    assert "\n## 日本語\n" in japanese and english, "CONTRIBUTING.md: a Japanese section, then an English one"
    for command in ("make notebooks", "tools.execute", "make lint", "make test", "make e2e",
                    "NBVAL_IGNORE_OUTPUT"):
        assert command in japanese and command in english, f"CONTRIBUTING.md: {command} in both languages"
    assert "定性的な主張" in japanese and "every qualitative claim" in english


def test_teachers_guide_covers_every_notebook_with_its_time() -> None:
    guide = Path("docs/teaching.md").read_text(encoding="utf-8")
    for path in series_notebooks()[1:]:  # 01 onwards; 00 is the contents page
        minutes = nbformat.read(path, as_version=4).metadata["series"]["minutes"]
        heading = next((line for line in guide.splitlines()
                        if line.startswith("### ") and f"(../notebooks/{path.name})" in line), None)
        assert heading is not None, f"docs/teaching.md: no section for {path.name}"
        assert heading.endswith(f"{minutes} 分 / {minutes} min"), f"docs/teaching.md: time for {path.name}"
    for target in re.findall(r"\]\(([^)\s#]+)", guide):
        if "://" not in target:
            assert (Path("docs") / target).exists(), f"docs/teaching.md: broken link {target}"


def test_teachers_guide_marks_exactly_the_checked_exercises() -> None:
    """A ✓ in an exercise table of docs/teaching.md <=> the notebook has `check("NN-k", answer)`."""
    from helpers.exercises import exercise_ids

    marked = set()
    for section in re.split(r"(?m)^(?=### \[)", Path("docs/teaching.md").read_text(encoding="utf-8")):
        number = re.match(r"### \[(\d\d)\.", section)
        if number:
            marked |= {f"{number.group(1)}-{k}" for k in re.findall(r"(?m)^\| (\d) ✓ \|", section)}
    assert marked == set(exercise_ids())
