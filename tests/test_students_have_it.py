"""A released notebook speaks only of what a student has: the notebook, `course/` and the handout's `make` targets.

Students get the handout (course/commands/handout.py): no docs/, no instructor's commands, no CI, no
benchmark. A notebook that tells them to run `make bench`, read docs/figures.md or call `course.commands`,
or that prints the benchmark's `RESULT` lines, points at things they cannot see.
"""
import re

import nbformat
import pytest

from course.commands.handout import MAKEFILE
from course.paths import ASSIGNMENTS
from tests.helpers import ROOT

STUDENT_TARGETS = set(re.findall(r"^\.PHONY:(.*)$", MAKEFILE, re.MULTILINE)[0].split())
ELSEWHERE = {
    "the instructor's documentation": re.compile(r"\bdocs/"),
    "an instructor's command": re.compile(r"course\.commands\.(?!lab\b)\w+"),
    "the course's CI": re.compile(r"\bCI\b|continuous integration"),
    "a benchmark RESULT line": re.compile(r"\bRESULT\b"),
}


def mentions(text: str) -> list:
    found = [f"`make {target}`, not a target of the student's Makefile"
             for target in re.findall(r"`make ([a-z][\w-]*)", text) if target not in STUDENT_TARGETS]
    return found + [f"{what}: {match.group(0)!r}" for what, pattern in ELSEWHERE.items()
                    for match in pattern.finditer(text)]


def cell_texts(notebook):
    for cell in notebook.cells:
        yield cell.source
        for output in cell.get("outputs", []):
            yield output.get("text", "") + str(output.get("data", {}).get("text/plain", ""))


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_a_released_notebook_mentions_only_what_students_have(assignment):
    notebook = nbformat.read(str(ROOT / "release" / assignment / f"{assignment}.ipynb"), as_version=4)
    assert [problem for text in cell_texts(notebook) for problem in mentions(text)] == []


def test_the_scan_finds_what_students_lack():
    assert mentions("Run `make lab`, then `make data`.") == []
    assert mentions("`make bench` prints it (docs/figures.md)") == [
        "`make bench`, not a target of the student's Makefile", "the instructor's documentation: 'docs/'"]
    assert mentions("python -m course.commands.dropout_curves; course.commands.lab is fine") == [
        "an instructor's command: 'course.commands.dropout_curves'"]
    assert len(mentions('print(f"RESULT acc={acc}")\nchecked by the CI')) == 2
