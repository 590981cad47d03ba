"""The instructor's semester as functions: release, autograde, feedback, grades.

Each step calls the real `nbgrader` command in a course folder (the project,
or a temporary copy in the tests) and reads results from the gradebook, never
from log text. `python -m course.grading.semester.pipeline STEP` runs one step from the shell.
"""
import argparse
import csv
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from ... import paths
from ...paths import PROJECT_ROOT
from ..engine import database
from ..run import sandbox
from . import roster, schedule


class NbgraderError(RuntimeError):
    """An nbgrader command failed; the message carries its log."""


def nbgrader_env() -> dict:
    """nbgrader calls `alembic` by name, so the venv's bin/ must lead PATH."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def nbgrader(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run `nbgrader ARGS` in the course folder `root`."""
    result = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=root, env=nbgrader_env(),
                            capture_output=True, text=True)
    if check and result.returncode != 0:
        raise NbgraderError(f"`nbgrader {' '.join(args)}` failed in {root}:\n{result.stdout}\n{result.stderr}")
    return result


def new_course(destination: Path, assignments=None, source_root: Path = PROJECT_ROOT) -> Path:
    """A course folder of its own: the configuration and each assignment's source folder, copied.

    Its gradebook, `submitted/` and every file grading writes stay inside it (the demo round, the
    benchmark and the tests grade in such copies, never in the instructor's course)."""
    destination, source_root = Path(destination), Path(source_root)
    destination.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source_root / "nbgrader_config.py", destination / "nbgrader_config.py")
    names = assignments or sorted(p.name for p in (source_root / "source").iterdir() if p.is_dir())
    for name in names:
        shutil.copytree(source_root / "source" / name, destination / "source" / name,
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    return destination


def release(root: Path = PROJECT_ROOT, assignments=None) -> list[str]:
    """Regenerate `release/` from `source/`, register the assignments in the gradebook with the due dates of the
    course's schedule.toml if it has one; returns a line for each due date that changed."""
    chosen = present(root, assignments)
    for assignment in chosen:
        nbgrader(root, "generate_assignment", assignment, "--force")
    calendar = schedule.load(root)
    return schedule.feed(root, calendar, chosen) if calendar else []


def autograde(root: Path = PROJECT_ROOT, assignments=None, student: str | None = None,
              say=lambda line: None, *, force: bool = False, progress: bool = False, report: list | None = None,
              dask_client=None) -> list[str]:
    """Grade the submissions in `submitted/` (or one student's) that changed since they were last graded.

    The work runs in parallel on Dask (course.grading.engine.driver). A submission nbgrader cannot process
    (not JSON, wrongly named, ...) must not stop the rest of the class: it scores zero, and the
    problems come back as lines for the instructor to read. `report`, when given, receives the
    engine's Report (counts, timings, logs).
    """
    from ..engine import driver

    done = driver.grade(root, present(root, assignments), [student] if student else None, force=force,
                        progress=progress, say=say, dask_client=dask_client)
    if report is not None:
        report.append(done)
    return done.reasons()


def feedback(root: Path = PROJECT_ROOT, assignments=None) -> None:
    """Write feedback HTML to `feedback/<student>/<assignment>/`."""
    for assignment in present(root, assignments):
        if any((root / "autograded").glob(f"*/{assignment}")):
            nbgrader(root, "generate_feedback", assignment, "--force")


def present(root: Path, assignments=None) -> list:
    """Of `assignments` (all of the course's when None), those whose source notebook exists in `root`."""
    assignments = paths.assignments(root) if assignments is None else assignments
    return [a for a in assignments if (Path(root) / "source" / a / f"{a}.ipynb").is_file()]


@dataclass
class Score:
    student: str
    assignment: str
    auto: float
    auto_max: float
    manual: float
    manual_max: float
    needs_manual_grade: bool
    late_penalty: float = 0.0
    extension_hours: float = 0.0
    missing: bool = False  # no graded submission: it counts zero

    @property
    def total(self) -> float:
        return self.auto + self.manual

    @property
    def points(self) -> float:
        """What the student gets: less the late penalty, never below zero (as in the LMS files)."""
        return max(0.0, self.total - self.late_penalty)


def scores(root: Path = PROJECT_ROOT) -> list[Score]:
    """Per student and assignment, straight from the gradebook."""
    from nbgrader.api import Gradebook

    rows = []
    with Gradebook(database.db_url(root)) as gradebook:
        for assignment in gradebook.assignments:
            for submission in assignment.submissions:
                auto = auto_max = manual = manual_max = penalty = 0.0
                graded = False
                for notebook in submission.notebooks:
                    penalty += notebook.late_submission_penalty or 0.0
                    for grade in notebook.grades:
                        graded = graded or grade.auto_score is not None or grade.manual_score is not None
                        points = grade.score or 0.0
                        if grade.cell.cell_type == "code":
                            auto, auto_max = auto + points, auto_max + grade.max_score
                        else:
                            manual, manual_max = manual + points, manual_max + grade.max_score
                extension = submission.extension.total_seconds() / 3600 if submission.extension else 0.0
                rows.append(Score(submission.student.id, assignment.name, auto, auto_max, manual, manual_max,
                                  submission.needs_manual_grade and graded, penalty, extension, not graded))
    return sorted(rows, key=lambda s: (s.student, s.assignment))


def class_scores(root: Path = PROJECT_ROOT, students=()) -> list[Score]:
    """`scores`, plus a zero row marked missing for each student (of the gradebook, and `students`) without a
    graded submission of an assignment someone has handed in: what grades.csv and the LMS files both write."""
    from nbgrader.api import Gradebook

    rows = scores(root)
    with Gradebook(database.db_url(root)) as gradebook:
        everyone = {s.id for s in gradebook.students} | set(students)
    maxima: dict = {}
    for row in rows:
        if not row.missing:
            auto_max, manual_max = maxima.get(row.assignment, (0.0, 0.0))
            maxima[row.assignment] = (max(row.auto_max, auto_max), max(row.manual_max, manual_max))
    have = {(r.student, r.assignment) for r in rows}
    rows = [r for r in rows if r.assignment in maxima]
    rows += [Score(student, a, 0.0, auto_max, 0.0, manual_max, False, missing=True)
             for a, (auto_max, manual_max) in maxima.items() for student in everyone if (student, a) not in have]
    return sorted(rows, key=lambda s: (s.student, s.assignment))


def course_totals(rows: list[Score], weights: dict | None = None) -> dict:
    """student -> (weighted points, weighted maximum): each assignment's total times its weight (1 unless set)."""
    weights = weights or {}
    totals: dict = {}
    for row in rows:
        weight = weights.get(row.assignment, 1.0)
        got, best = totals.get(row.student, (0.0, 0.0))
        totals[row.student] = (got + weight * row.points, best + weight * (row.auto_max + row.manual_max))
    return totals


def cell_scores(root: Path, assignment: str, student: str) -> dict:
    """grade_id -> score (None while it waits for a human) for one submission."""
    from nbgrader.api import Gradebook

    with Gradebook(database.db_url(root)) as gradebook:
        submission = gradebook.find_submission(assignment, student)
        return {grade.name: grade.score for notebook in submission.notebooks for grade in notebook.grades}


def write_grades_csv(rows: list[Score], path: Path, weights: dict | None = None) -> Path:
    path = Path(path)
    totals = course_totals(rows, weights)
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", "assignment", "auto_score", "auto_max", "manual_score", "manual_max",
                         "needs_manual_grade", "late_penalty", "total", "extension_hours", "missing", "weight",
                         "course_total", "course_max"])
        for row in rows:
            writer.writerow([row.student, row.assignment, row.auto, row.auto_max, row.manual, row.manual_max,
                             row.needs_manual_grade, row.late_penalty, row.points, row.extension_hours, row.missing,
                             (weights or {}).get(row.assignment, 1.0), *(round(v, 4) for v in totals[row.student])])
    return path


def table(rows: list[Score]) -> str:
    """Students down, assignments across: autograded points, with * where a written answer waits."""
    rows = [r for r in rows if not r.missing]
    students = sorted({r.student for r in rows})
    assignments = sorted({r.assignment for r in rows})
    by_key = {(r.student, r.assignment): r for r in rows}
    width = max([len(a) for a in assignments] + [11])
    lines = ["student".ljust(10) + "".join(a.rjust(width + 2) for a in assignments) + "total".rjust(14)]
    for student in students:
        cells, got, best = [], 0.0, 0.0
        for assignment in assignments:
            row = by_key.get((student, assignment))
            if row is None:
                cells.append("-".rjust(width + 2))
                continue
            mark = "*" if row.needs_manual_grade else " "
            cells.append(f"{row.auto:g}/{row.auto_max:g}{mark}".rjust(width + 2))
            got, best = got + row.auto, best + row.auto_max
        lines.append(student.ljust(10) + "".join(cells) + f"{got:g}/{best:g}".rjust(14))
    lines.append("(autograded points; * = a written answer waits for manual grading in formgrader)")
    return "\n".join(lines)


def chosen(root: Path, named: list[str] | None) -> list[str]:
    """The assignments `--assignment` names (each value a list, as `make ... ASSIGNMENT="03 05"` passes it), else all."""
    return paths.choose(" ".join(named), root) if named else list(paths.assignments(root))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=["release", "autograde", "feedback", "grades"])
    parser.add_argument("--root", type=Path, default=PROJECT_ROOT)
    parser.add_argument("--assignment", action="append",
                        help="limit to these assignments (names or their starts, separated by spaces or commas)")
    parser.add_argument("--student", help="autograde: regrade this student only")
    parser.add_argument("--force", action="store_true", help="autograde: regrade even unchanged submissions; "
                        "release: even before the assignments it requires are due")
    args = parser.parse_args(argv)
    try:
        assignments = chosen(args.root, args.assignment)
    except ValueError as error:
        print(error, file=sys.stderr)
        return 2
    try:
        if args.step == "release":
            blocked = schedule.release_blockers(args.root, present(args.root, assignments))
            if blocked and not args.force:
                print(schedule.refusal(blocked, "released"), file=sys.stderr)
                return 1
            changed = release(args.root, assignments)
            print(f"release/ regenerated for {', '.join(present(args.root, assignments))}", *changed, sep="\n  ")
            if changed:
                print("`make autograde` regrades the submissions of an assignment whose due date changed.")
        elif args.step == "autograde":
            sandbox.require()
            if sandbox.sandbox_off():
                print(f"WARNING: {sandbox.UNSANDBOXED_WARNING}", file=sys.stderr, flush=True)
            done = []
            problems = autograde(args.root, assignments, args.student, force=args.force, progress=True,
                                 report=done)
            print(table(scores(args.root)))
            if problems:
                print("\nSome submissions could not be graded normally (they score what they earned; see the "
                      "lines below and the notebooks in autograded/):", *problems, sep="\n  ", file=sys.stderr)
            print(done[0].summary())
            if done[0].stopped:
                return 130
        elif args.step == "feedback":
            feedback(args.root, assignments)
            print(f"feedback HTML written under {args.root / 'feedback'}")
        else:
            path = args.root / roster.ROSTER_FILE
            listed = [s.id for s in roster.load(path).students] if path.is_file() else []
            rows = class_scores(args.root, listed)
            print(table(rows))
            calendar = schedule.load(args.root)
            written = write_grades_csv(rows, args.root / "grades.csv", calendar.weights() if calendar else None)
            print(f"grades written to {written}")
    except (NbgraderError, sandbox.SandboxUnavailable, schedule.ScheduleError, roster.RosterError) as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
