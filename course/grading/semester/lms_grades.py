"""The grades in the import formats of Canvas and Moodle, read from the gradebook.

One number per student and assignment: autograded plus manual points, less the late penalty, the `total`
of grades.csv (both come from pipeline.class_scores); 0 where the student has no graded submission. The
gradebook's `score` (nbgrader 0.9) is the sum of the cells' scores and does not subtract
`late_submission_penalty`; nbgrader's own CSV export subtracts it, floored at zero, and so do these.
A file meant for upload must not carry half-graded work, so writing them is refused while any
submission still `needs_manual_grade`, unless the caller says otherwise.
"""
from __future__ import annotations

import csv
from pathlib import Path

from . import pipeline
from . import roster as roster_module

CANVAS_FILE = "grades-canvas.csv"
MOODLE_FILE = "grades-moodle.csv"
# What Canvas's gradebook import reads to find a student (its own export writes the same five first).
CANVAS_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
# Moodle's CSV import maps one column to a user field: "Email address" -> useremail, or "ID number" -> useridnumber.
MOODLE_COLUMNS = ["ID number", "Email address", "Full name"]


class UngradedWork(RuntimeError):
    """Written answers still wait for manual grading; `pending` names the submissions."""

    def __init__(self, pending: list[tuple[str, str]]):
        self.pending = pending
        super().__init__("written answers still wait for manual grading in formgrader: "
                         + ", ".join(f"{student}/{assignment}" for student, assignment in pending))


def number(value: float) -> str:
    return f"{round(value, 2):g}"


def _students(rows: list, roster) -> tuple[list, list[str]]:
    """Roster order, then gradebook students the roster lacks (exported by id alone, and named)."""
    listed = list(roster.students) if roster else []
    known = {s.id for s in listed}
    missing = sorted({r.student for r in rows} - known)
    return listed + [roster_module.Student(id=s, name="", email="") for s in missing], missing


def write(root: Path, assignments, roster=None, allow_ungraded: bool = False) -> dict:
    """Write grades-canvas.csv and grades-moodle.csv in `root`; returns what was written and who was missing."""
    root = Path(root)
    rows = pipeline.class_scores(root, [s.id for s in roster.students] if roster else ())
    pending = [(r.student, r.assignment) for r in rows if r.needs_manual_grade]
    if pending and not allow_ungraded:
        raise UngradedWork(pending)
    order = list(assignments)
    columns = sorted({r.assignment for r in rows}, key=lambda a: (order.index(a) if a in order else len(order), a))
    by_key = {(r.student, r.assignment): r for r in rows}
    maxima = {a: max(r.auto_max + r.manual_max for r in rows if r.assignment == a) for a in columns}
    students, not_on_roster = _students(rows, roster)

    def cells(student_id: str) -> list[str]:
        # A missing submission is a 0 here as in grades.csv (pipeline.class_scores), so the LMS holds no stale number.
        return [number(by_key[(student_id, a)].points) if (student_id, a) in by_key else "0" for a in columns]

    canvas, moodle = root / CANVAS_FILE, root / MOODLE_FILE
    with open(canvas, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(CANVAS_COLUMNS + columns)
        writer.writerow(["Points Possible", "", "", "", ""] + [number(maxima[a]) for a in columns])
        for s in students:
            writer.writerow([s.name, s.lms_id, s.id, s.login, s.section] + cells(s.id))
    with open(moodle, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(MOODLE_COLUMNS + columns)
        for s in students:
            writer.writerow([s.id, s.email, s.name] + cells(s.id))
    return {"files": [canvas, moodle], "not_on_roster": not_on_roster, "pending": pending, "assignments": columns,
            "late": [(r.student, r.assignment, r.late_penalty) for r in rows if r.late_penalty]}
