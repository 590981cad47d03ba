"""Why students lost points: the messages of the failed checks, grouped so that one reason is one row.

Every test cell of this course explains a failure in words: the visible check's AssertionError, and the
hidden test's verdict (`course.grading.verdicts.trusted.fail_cell` puts it first in the cell's outputs).
They are read back from the graded notebooks in `autograded/<student>/<assignment>/`. Two students who
made the same mistake see different numbers (hidden inputs are drawn per student), different arrays and
their own variable names, so those are replaced by placeholders before grouping.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from ...verdicts.trusted import ERROR_NAME, is_test_cell

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
HIDDEN_PREFIX = "checked outside your notebook: "
# The lines of a visible check that show one student's own values (course.checks.check_value).
OWN_VALUES = re.compile(r"^\s*(input|expected|yours):")
LABEL = re.compile(r"^\s*[a-z][a-z ]*:")
NUMPY_SCALAR = re.compile(r"\b(?:np|numpy)\.\w+\(([^()]*)\)")
INNERMOST_BRACKETS = re.compile(r"\[[^\[\]]*\]")
QUOTED = re.compile(r"'[^'\n]*'|\"[^\"\n]*\"|`[^`\n]*`")
NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?(?![\w])", re.IGNORECASE)
SPACES = re.compile(r"\s+")
WITHOUT_MESSAGE = "lost its points without an error message (output on stderr, or a partial score)"


def normalise(message: str) -> str:
    """One reason for everyone who made this mistake: values, arrays and names become placeholders."""
    message = ANSI.sub("", message)
    hidden = message.startswith(HIDDEN_PREFIX)
    lines, skipping = [], False
    for line in message.removeprefix(HIDDEN_PREFIX).splitlines():
        if OWN_VALUES.match(line) or (skipping and not LABEL.match(line)):
            skipping = True  # an array's repr continues on the lines below its label
            continue
        skipping = False
        lines.append(line)
    text = " ".join(line.strip() for line in lines)
    text = NUMPY_SCALAR.sub(r"\1", text)
    while INNERMOST_BRACKETS.search(text):
        text = INNERMOST_BRACKETS.sub("\x00", text)
    text = QUOTED.sub("'…'", text)
    text = NUMBER.sub("N", text).replace("\x00", "[…]")
    text = SPACES.sub(" ", text).strip()
    return ("hidden test: " if hidden else "") + text


def messages(cell) -> list[str]:
    """`Name: message` of each error in a test cell's outputs, the hidden test's verdict first."""
    found = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            found.append(f"{output.get('evalue', '')}" if output.get("ename") in (ERROR_NAME, "AssertionError")
                         else f"{output.get('ename', 'Error')}: {output.get('evalue', '')}")
    return found


@dataclass
class Reason:
    text: str
    students: list = field(default_factory=list)
    example: str = ""  # one student's message, as they saw it


@dataclass
class ExerciseReasons:
    """The reasons for one test cell, most common first."""
    exercise: str
    reasons: list

    def top(self) -> Reason | None:
        return self.reasons[0] if self.reasons else None


def failed_cells(notebook_path: Path, scores: dict | None = None) -> dict:
    """grade_id -> the messages of each test cell that failed (has an error) or scored below its points."""
    notebook = nbformat.read(str(notebook_path), as_version=4)
    failed = {}
    for cell in notebook.cells:
        if not is_test_cell(cell):
            continue
        grade_id = cell.metadata.nbgrader.get("grade_id")
        found = messages(cell)
        points = float(cell.metadata.nbgrader.get("points", 0))
        lost = scores is not None and scores.get(grade_id) is not None and scores[grade_id] < points
        if found or lost:
            failed[grade_id] = found
    return failed


def graded_notebooks(root: Path, assignment: str) -> dict:
    """student -> the graded notebooks of one assignment."""
    found = {}
    for path in sorted((Path(root) / "autograded").glob(f"*/{assignment}/*.ipynb")):
        found.setdefault(path.parent.parent.name, []).append(path)
    return found


def assignment_reasons(root: Path, assignment: str, grades: dict | None = None) -> dict:
    """grade_id -> ExerciseReasons, from every graded notebook of `assignment`.

    `grades` ((assignment, student) -> {grade_id: score}, from the gradebook) also counts a cell that lost
    points without an error output (it wrote to stderr)."""
    groups: dict = {}
    for student, paths in graded_notebooks(root, assignment).items():
        scores = (grades or {}).get((assignment, student))
        for path in paths:
            for grade_id, found in failed_cells(path, scores).items():
                key = normalise(found[0]) if found else WITHOUT_MESSAGE
                reason = groups.setdefault(grade_id, {}).setdefault(key, Reason(key))
                reason.students.append((student, path))
                reason.example = reason.example or (ANSI.sub("", found[0]) if found else "")
    return {grade_id: ExerciseReasons(grade_id, sorted(found.values(), key=lambda r: (-len(r.students), r.text)))
            for grade_id, found in groups.items()}


def counts(reasons: ExerciseReasons) -> Counter:
    return Counter({reason.text: len(reason.students) for reason in reasons.reasons})
