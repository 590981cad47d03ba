"""Per-exercise and per-assignment figures, read straight from the gradebook (SQLite or PostgreSQL).

nbgrader's formgrader shows means only; an instructor deciding what to re-teach needs the spread:
how many got full marks or nothing, whether an exercise separates strong from weak students
(discrimination) and how each fifth of the class did. One query reads every grade of the course,
so 500 students x 7 assignments take seconds, not one ORM round trip per cell.
"""
from __future__ import annotations

import json
import statistics as stats
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
from sqlalchemy import text

from ...engine import database, ledger

FIFTHS = 5


@dataclass
class Exercise:
    """One graded cell of an assignment: a test cell (autograded) or a written answer (graded by hand)."""
    name: str
    notebook: str
    max_score: float
    cell_type: str


@dataclass
class ExerciseFigures:
    exercise: Exercise
    scores: list  # one per submission that has a score (a written answer waiting has none)
    mean: float
    median: float
    full: float  # shares of the submissions
    zero: float
    missing: float  # share of the class (students in the gradebook) with no submission
    waiting: int
    discrimination: float | None  # None: too few submissions, or every score the same
    fifths: list  # mean share of the points for each fifth of the class, weakest first


@dataclass
class AssignmentFigures:
    name: str
    duedate: datetime | None
    max_score: float
    totals: dict  # student -> points (written answers still waiting count as 0)
    exercises: list = field(default_factory=list)
    late: list = field(default_factory=list)  # (student, seconds late)
    grading_seconds: list = field(default_factory=list)
    waiting: int = 0  # written answers still waiting for a human
    students: int = 0  # the class size: students in the gradebook


@dataclass
class Gradebook:
    """The rows the report needs, in plain Python: one scan of the database."""
    students: list
    assignments: list  # (name, duedate) in due-date order, then by name
    cells: dict  # assignment -> [Exercise] in notebook order
    grades: dict  # (assignment, student) -> {cell name: score or None}
    submitted: dict  # (assignment, student) -> (timestamp, extension)
    task_seconds: dict  # (assignment, student) -> seconds the grading task took


GRADES = text("""
SELECT a.name, sa.student_id, bc.name, gc.max_score, gc.cell_type, g.auto_score, g.manual_score, g.extra_credit,
       g.needs_manual_grade
FROM grade g JOIN grade_cells gc ON gc.id = g.cell_id JOIN base_cell bc ON bc.id = gc.id
JOIN submitted_notebook sn ON sn.id = g.notebook_id JOIN submitted_assignment sa ON sa.id = sn.assignment_id
JOIN assignment a ON a.id = sa.assignment_id""")
CELLS = text("""
SELECT a.name, n.name, bc.name, gc.max_score, gc.cell_type
FROM grade_cells gc JOIN base_cell bc ON bc.id = gc.id JOIN notebook n ON n.id = bc.notebook_id
JOIN assignment a ON a.id = n.assignment_id ORDER BY a.name, n.name""")
SUBMISSIONS = text("""SELECT a.name, sa.student_id, sa.timestamp, sa.extension FROM submitted_assignment sa
JOIN assignment a ON a.id = sa.assignment_id""")


def _timestamp(value):
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def _interval(value):
    """An extension as seconds (SQLite keeps nbgrader's Interval as a date after the epoch)."""
    if value is None:
        return 0.0
    if hasattr(value, "total_seconds"):
        return value.total_seconds()
    return (_timestamp(value) - datetime(1970, 1, 1)).total_seconds()


def read(root: Path) -> Gradebook:
    """Everything the statistics need, from the gradebook at database.db_url(root)."""
    engine = database.engine(database.db_url(root))
    try:
        with engine.connect() as db:
            students = sorted(row[0] for row in db.execute(text("SELECT id FROM student")))
            assignments = [(name, _timestamp(due)) for name, due in
                           db.execute(text("SELECT name, duedate FROM assignment"))]
            cells = {}
            for assignment, notebook, cell, max_score, cell_type in db.execute(CELLS):
                cells.setdefault(assignment, []).append(Exercise(cell, notebook, float(max_score), cell_type))
            grades = {}
            for assignment, student, cell, _, _, auto, manual, extra, needs in db.execute(GRADES):
                score = manual if manual is not None else auto
                if score is None and not needs:
                    score = 0.0
                if score is not None:
                    score = float(score) + float(extra or 0.0)
                grades.setdefault((assignment, student), {})[cell] = score
            submitted = {(a, s): (_timestamp(t), _interval(e)) for a, s, t, e in db.execute(SUBMISSIONS)}
            task_seconds = {}
            if ledger.TABLE in _tables(engine):
                task_seconds = {(a, s): float(t) for a, s, t in db.execute(
                    text(f"SELECT assignment, student, task_s FROM {ledger.TABLE}")) if t is not None}
    finally:
        engine.dispose()
    assignments.sort(key=lambda pair: (pair[1] is None, pair[1] or datetime.max, pair[0]))
    for assignment, exercises in cells.items():
        order = release_order(root, assignment)
        exercises.sort(key=lambda e: (e.notebook, order.get((e.notebook, e.name), len(order))))
    return Gradebook(students, assignments, cells, grades, submitted, task_seconds)


def _tables(engine) -> set:
    from sqlalchemy import inspect

    return set(inspect(engine).get_table_names())


def release_order(root: Path, assignment: str) -> dict:
    """(notebook, grade_id) -> position in the released notebook: the gradebook keeps no cell order."""
    order = {}
    for path in sorted((Path(root) / "release" / assignment).glob("*.ipynb")):
        cells = json.loads(path.read_text()).get("cells", [])
        for index, cell in enumerate(cells):
            grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
            if grade_id:
                order[(path.stem, grade_id)] = index
    return order


def discrimination(scores: np.ndarray, rest: np.ndarray) -> float | None:
    """Pearson correlation of an exercise's score with the rest of the assignment."""
    if len(scores) < 3 or np.ptp(scores) == 0 or np.ptp(rest) == 0:
        return None
    return float(np.corrcoef(scores, rest)[0, 1])


def fifths(scores: np.ndarray, totals: np.ndarray, max_score: float) -> list:
    """Mean share of the exercise's points in each fifth of the class ranked by assignment total."""
    if len(scores) == 0 or max_score <= 0:
        return []
    order = np.argsort(totals, kind="stable")
    return [float(np.mean(scores[group]) / max_score) if len(group) else float("nan")
            for group in np.array_split(order, FIFTHS)]


def assignment_figures(book: Gradebook, assignment: str, duedate) -> AssignmentFigures:
    exercises = book.cells.get(assignment, [])
    students = sorted(s for (a, s) in book.grades if a == assignment)
    table = np.array([[book.grades[(assignment, s)].get(e.name) for e in exercises] for s in students],
                     dtype=float).reshape(len(students), len(exercises))
    points = np.nan_to_num(table, nan=0.0)
    totals = points.sum(axis=1)
    figures = AssignmentFigures(assignment, duedate, sum(e.max_score for e in exercises),
                                dict(zip(students, totals.tolist())), students=len(book.students))
    for column, exercise in enumerate(exercises):
        known = ~np.isnan(table[:, column])
        scores = table[known, column]
        rest = totals[known] - scores
        figures.exercises.append(ExerciseFigures(
            exercise, scores.tolist(),
            mean=float(np.mean(scores)) if len(scores) else float("nan"),
            median=float(np.median(scores)) if len(scores) else float("nan"),
            full=float(np.mean(scores >= exercise.max_score)) if len(scores) else float("nan"),
            zero=float(np.mean(scores <= 0)) if len(scores) else float("nan"),
            missing=1 - len(students) / len(book.students) if book.students else 0.0,
            waiting=int((~known).sum()),
            discrimination=discrimination(scores, rest),
            fifths=fifths(scores, totals[known], exercise.max_score)))
    figures.waiting = sum(e.waiting for e in figures.exercises)
    for student in students:
        timestamp, extension = book.submitted.get((assignment, student), (None, 0.0))
        if timestamp is not None and duedate is not None:
            late = (timestamp - duedate).total_seconds() - extension
            if late > 0:
                figures.late.append((student, late))
        if (assignment, student) in book.task_seconds:
            figures.grading_seconds.append(book.task_seconds[(assignment, student)])
    return figures


def course_figures(book: Gradebook) -> list:
    """The figures of every assignment with graded cells, in due-date order."""
    return [assignment_figures(book, name, due) for name, due in book.assignments if book.cells.get(name)]


def completion(book: Gradebook, figures: list) -> list:
    """(assignment, share of the class that handed it in), in due-date order."""
    size = len(book.students) or 1
    return [(f.name, len(f.totals) / size) for f in figures]


def summary(values: list) -> str:
    if not values:
        return "-"
    return f"mean {stats.mean(values):.1f} s, median {stats.median(values):.1f} s, max {max(values):.1f} s"
