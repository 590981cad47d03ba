"""`make bench-report`: how well the class report's similarity check separates copies, and how fast the report is.

Prints, asserts nothing:

1. calibration: on a generated class of each assignment (course.grading.semester.report.calibration:
   catalogue answers plus each student's own code, and planted copies of another student's distinctive
   answer, renamed, recommented and reordered), the similarity of every planted pair and of the most
   similar independent pairs; recall on planted copies and false pairs at several thresholds, the one in
   use (similarity.THRESHOLD) marked; and the pairs flagged in a class of catalogue answers only
   (the solutions and fair answers, no copies), which must be none;
2. the similarity check of 500 generated submissions of one assignment, timed;
3. the statistics (gradebook read, figures, every plot and page) of 500 students x 7 assignments, timed
   on a synthesised SQLite gradebook: the released notebooks' graded cells with random scores, late
   submissions, written answers waiting and grading-ledger rows (no graded notebooks, so no reasons).

`python -m course.commands.bench_report [--students 500] [--class-size 60] [--seeds 3]`
"""
from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import nbformat
from sqlalchemy import text

from ..grading.engine import database, ledger
from ..grading.semester.report import calibration, render, similarity
from ..grading.semester.submissions import nbgrader_meta
from ..paths import ASSIGNMENTS, PROJECT_ROOT

THRESHOLDS = (0.4, 0.5, 0.6, 0.7, 0.8)


def calibrate(assignment: str, size: int, seed: int, known: bool) -> tuple:
    """(similarities of the planted pairs, similarities of every other pair found) on one generated class."""
    students = calibration.generated_class(PROJECT_ROOT, assignment, size, max(1, size // 10), seed)
    found = similarity.compare(calibration.sources(students), similarity.boilerplate(PROJECT_ROOT, assignment, known),
                               threshold=0.0)
    by_pair = {(p.first, p.second): p.similarity for p in found}
    planted = calibration.planted(students)
    return [by_pair.get(pair, 0.0) for pair in planted], [v for k, v in by_pair.items() if k not in planted]


def catalogue_only(assignment: str, size: int, seed: int, mistakes: bool, known: bool) -> int:
    """Pairs flagged among students who hand in catalogue answers only: correct ones (solutions, fair
    answers), and with `mistakes` the catalogued mistakes too."""
    rng = random.Random(seed)
    pool = calibration.answer_pool(PROJECT_ROOT, assignment, mistakes)
    codes = {f"c{n:03d}": "\n\n".join(rng.choice(pool[c]) for c in sorted(pool)) for n in range(size)}
    return len(similarity.compare(codes, similarity.boilerplate(PROJECT_ROOT, assignment, known)))


def synthetic_gradebook(root: Path, students: int, seed: int = 0) -> None:
    """A SQLite gradebook of `students` x every released assignment, written with bulk inserts."""
    from nbgrader.api import Gradebook

    rng = random.Random(seed)
    start = datetime(2026, 9, 1)
    cells = {}
    with Gradebook(database.db_url(root)) as gradebook:
        for week, assignment in enumerate(ASSIGNMENTS):
            path = PROJECT_ROOT / "release" / assignment / f"{assignment}.ipynb"
            gradebook.update_or_create_assignment(assignment, duedate=start + timedelta(weeks=2 * week + 2))
            gradebook.update_or_create_notebook(assignment, assignment)
            for cell in nbformat.read(str(path), as_version=4).cells:
                meta = nbgrader_meta(cell)
                if meta.get("grade"):
                    made = gradebook.update_or_create_grade_cell(meta["grade_id"], assignment, assignment,
                                                                 max_score=float(meta["points"]),
                                                                 cell_type=cell.cell_type)
                    cells.setdefault(assignment, []).append((made.id, float(meta["points"]), cell.cell_type))
        due = {a.name: a.duedate for a in gradebook.assignments}
        notebooks = {a.name: a.notebooks[0].id for a in gradebook.assignments}
        assignment_ids = {a.name: a.id for a in gradebook.assignments}
    engine = database.engine(database.db_url(root))
    rows = {"student": [], "submitted_assignment": [], "submitted_notebook": [], "grade": [], ledger.TABLE: []}
    for number in range(students):
        student = f"s{number:04d}"
        rows["student"].append({"id": student})
        skill = rng.random()
        for assignment in ASSIGNMENTS:
            if rng.random() < 0.05 + 0.1 * ASSIGNMENTS.index(assignment) / len(ASSIGNMENTS):
                continue  # did not hand it in
            sa, sn = uuid.uuid4().hex, uuid.uuid4().hex
            late = timedelta(hours=rng.uniform(1, 60)) if rng.random() < 0.08 else -timedelta(hours=rng.uniform(1, 90))
            rows["submitted_assignment"].append({"id": sa, "assignment_id": assignment_ids[assignment],
                                                 "student_id": student, "timestamp": due[assignment] + late})
            rows["submitted_notebook"].append({"id": sn, "assignment_id": sa, "notebook_id": notebooks[assignment],
                                               "flagged": False})
            for cell, points, kind in cells[assignment]:
                waiting = kind == "markdown" and rng.random() < 0.3
                score = None if waiting else points * (rng.random() < 0.35 + 0.6 * skill)
                rows["grade"].append({"id": uuid.uuid4().hex, "notebook_id": sn, "cell_id": cell,
                                      "auto_score": None if kind == "markdown" else score,
                                      "manual_score": score if kind == "markdown" else None,
                                      "needs_manual_grade": waiting})
            rows[ledger.TABLE].append({"assignment": assignment, "student": student, "content_hash": "-",
                                "course_version": "-", "graded_at": 0.0, "task_s": rng.uniform(1, 20)})
    with engine.begin() as db:
        db.execute(text(ledger.SCHEMA))
        for table, values in rows.items():
            if values:
                columns = ", ".join(values[0])
                db.execute(text(f"INSERT INTO {table} ({columns}) VALUES ({', '.join(':' + c for c in values[0])})"),
                           values)
    engine.dispose()


def calibration_table(args, known: bool) -> None:
    planted, independent, correct_pairs, catalogue_pairs = [], [], 0, 0
    for assignment in ASSIGNMENTS:
        for seed in range(args.seeds):
            found = calibrate(assignment, args.class_size, seed, known)
            planted += found[0]
            independent += found[1]
            correct_pairs += catalogue_only(assignment, args.class_size, seed, False, known)
            catalogue_pairs += catalogue_only(assignment, args.class_size, seed, True, known)
    print(f"    planted pairs: {len(planted)}, lowest similarities {sorted(round(float(v), 2) for v in planted)[:5]}")
    print(f"    independent pairs with shared uncommon code: {len(independent)}, highest "
          f"{sorted((round(float(v), 2) for v in independent), reverse=True)[:5]}")
    for threshold in THRESHOLDS:
        mark = "  <- in use" if threshold == similarity.THRESHOLD else ""
        print(f"    threshold {threshold:.2f}: recall {sum(v >= threshold for v in planted) / len(planted):.1%} "
              f"({sum(v >= threshold for v in planted)}/{len(planted)}), false pairs "
              f"{sum(v >= threshold for v in independent)}{mark}")
    classes = f"{args.seeds} x {len(ASSIGNMENTS)} classes of {args.class_size}"
    print(f"    classes of independent correct answers only (solutions and fair answers drawn per exercise, "
          f"no copies; {classes}): {correct_pairs} pairs flagged")
    print(f"    the same with the catalogued mistakes drawn too ({classes}): {catalogue_pairs} pairs flagged", flush=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=500)
    parser.add_argument("--class-size", type=int, default=60, help="generated class per assignment for calibration")
    parser.add_argument("--seeds", type=int, default=3, help="generated classes per assignment")
    parser.add_argument("--assignment", default="03_pooling", help="the assignment of the 500-submission timing")
    args = parser.parse_args(argv)

    print(f"1. calibration: {args.seeds} generated classes of {args.class_size} per assignment, "
          f"{max(1, args.class_size // 10)} planted copies in each")
    for known in (True, False):
        print("  boilerplate: the release and the catalogues' answers (as make report does)" if known else
              "  boilerplate: the release only (the catalogues' answers compared like any code)")
        calibration_table(args, known)

    students = calibration.generated_class(PROJECT_ROOT, args.assignment, args.students, args.students // 10, 7)
    started = time.perf_counter()
    found = similarity.compare(calibration.sources(students), similarity.boilerplate(PROJECT_ROOT, args.assignment))
    seconds = time.perf_counter() - started
    planted_pairs = calibration.planted(students)
    hits = sum((p.first, p.second) in planted_pairs for p in found)
    print(f"2. similarity of {args.students} submissions of {args.assignment}: {seconds:.1f} s; "
          f"{hits}/{len(planted_pairs)} planted copies found, {len(found) - hits} other pairs listed")

    scratch = Path(tempfile.mkdtemp(prefix="bench-report-"))
    try:
        shutil.copytree(PROJECT_ROOT / "release", scratch / "release")
        started = time.perf_counter()
        synthetic_gradebook(scratch, args.students)
        built = time.perf_counter() - started
        started = time.perf_counter()
        render.write(scratch, scratch / "reports", similar=False, say=lambda line: None)
        seconds = time.perf_counter() - started
        print(f"3. statistics of {args.students} students x {len(ASSIGNMENTS)} assignments (synthesised gradebook "
              f"rows, built in {built:.1f} s): {seconds:.1f} s for the gradebook read, figures, "
              f"{len(list((scratch / 'reports' / 'img').glob('*.png')))} plots and the pages")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
