"""The one writer: results from the workers go into the course gradebook here, and only here.

SQLite takes one writer at a time, so workers never open the course
gradebook; the driver writes each result in a single transaction, together
with a row in a small table of its own (`course_grading_ledger`, in the same
database) that records which content and course version were graded. That row
makes grading resumable (a rerun skips what is recorded) and idempotent (a
result delivered twice changes nothing the second time).

A result is written as nbgrader's own autograde would leave the gradebook:
scores and comments of the autograded cells, the manual-grading flags (a cell
already graded by hand is flagged for review again, as nbgrader does), the
submission's timestamp and late penalty; manual scores are never touched.
"""
from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path

from sqlalchemy import text

TABLE = "course_grading_ledger"
SCHEMA = f"""CREATE TABLE IF NOT EXISTS {TABLE} (
    assignment TEXT NOT NULL, student TEXT NOT NULL, content_hash TEXT NOT NULL, course_version TEXT NOT NULL,
    graded_at REAL NOT NULL, task_s REAL, problems TEXT, PRIMARY KEY (assignment, student))"""
# Per-student tables that a template gradebook must not carry (other students' data, and this ledger).
STUDENT_TABLES = ("comment", "grade", "submitted_notebook", "submitted_assignment", "student", TABLE)


def db_url(root: Path) -> str:
    return f"sqlite:///{Path(root) / 'gradebook.db'}"


def template(root: Path) -> bytes:
    """The course gradebook with every assignment's definition and no student in it, as bytes."""
    source = sqlite3.connect(Path(root) / "gradebook.db")
    scratch = Path(tempfile.mkdtemp(prefix="course-template-"))
    try:
        copy = sqlite3.connect(scratch / "template.db")
        with copy:
            source.backup(copy)
        tables = {row[0] for row in copy.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        with copy:
            for table in STUDENT_TABLES:
                if table in tables:
                    copy.execute(f"DELETE FROM {table}")
        copy.execute("VACUUM")
        copy.close()
        return (scratch / "template.db").read_bytes()
    finally:
        source.close()
        shutil.rmtree(scratch, ignore_errors=True)


class Ledger:
    """The course gradebook, open for the whole run, written one result per transaction."""

    def __init__(self, root: Path):
        from nbgrader.api import Gradebook

        self.root = Path(root)
        self.gradebook = Gradebook(db_url(root))
        self.db = self.gradebook.db
        self.db.execute(text(SCHEMA))
        self.db.commit()
        self.write_seconds: list[float] = []

    def close(self) -> None:
        self.gradebook.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def recorded(self) -> dict:
        """(assignment, student) -> (content hash, course version) of what was last written."""
        rows = self.db.execute(text(f"SELECT assignment, student, content_hash, course_version FROM {TABLE}"))
        return {(a, s): (h, v) for a, s, h, v in rows}

    def task_seconds(self) -> dict:
        """assignment -> mean task time of earlier runs, to submit the longest first."""
        rows = self.db.execute(text(f"SELECT assignment, AVG(task_s) FROM {TABLE} GROUP BY assignment"))
        return {a: s for a, s in rows if s is not None}

    def extension(self, assignment: str, student: str):
        from nbgrader.api import MissingEntry

        try:
            return self.gradebook.find_submission(assignment, student).extension
        except MissingEntry:
            return None

    def duedate(self, assignment: str):
        from nbgrader.api import MissingEntry

        try:
            return self.gradebook.find_assignment(assignment).duedate
        except MissingEntry:
            return None

    def write(self, result: dict) -> None:
        """Record one result: the autograded files first, then the gradebook and the ledger in one transaction."""
        start = time.perf_counter()
        assignment, student = result["assignment"], result["student"]
        try:
            if result["submission"] is not None:
                write_folder(self.root / "autograded" / student / assignment, result["files"])
                self._grades(assignment, student, result["submission"])
            self.db.execute(text(f"INSERT OR REPLACE INTO {TABLE} VALUES (:a, :s, :h, :v, :t, :d, :p)"),
                            {"a": assignment, "s": student, "h": result["hash"], "v": result["version"],
                             "t": time.time(), "d": result["timing"]["task_s"], "p": "\n".join(result["problems"])})
            self.db.commit()
        except BaseException:
            self.db.rollback()
            raise
        self.write_seconds.append(time.perf_counter() - start)

    def _grades(self, assignment: str, student: str, submission: dict) -> None:
        import warnings

        from nbgrader.api import MissingEntry, Student, SubmittedAssignment

        warnings.filterwarnings("ignore", message=".*not in session.*")  # nbgrader's own add_submission, harmless
        gradebook = self.gradebook
        if not self.db.query(Student).filter(Student.id == student).count():
            self.db.add(Student(id=student))
            self.db.flush()
        try:
            record = gradebook.find_submission(assignment, student)
        except MissingEntry:
            record = gradebook.add_submission(assignment, student)  # commits, as nbgrader's own does
        assert isinstance(record, SubmittedAssignment)
        if submission["timestamp"]:
            from nbgrader.utils import parse_utc

            record.timestamp = parse_utc(submission["timestamp"])
        by_name = {notebook.name: notebook for notebook in record.notebooks}
        for notebook in submission["notebooks"]:
            target = by_name[notebook["name"]]
            grades = {grade.name: grade for grade in target.grades}
            comments = {comment.name: comment for comment in target.comments}
            for name, graded in notebook["grades"].items():
                grade = grades[name]
                if notebook["processed"]:
                    grade.auto_score = graded["auto_score"]
                    grade.needs_manual_grade = graded["needs_manual_grade"] or grade.manual_score is not None
                elif graded["cell_type"] == "code":  # zeroed before grading, never reached by nbgrader
                    grade.auto_score = graded["auto_score"]
                    grade.needs_manual_grade = graded["needs_manual_grade"]
            if notebook["processed"]:
                for name, comment in notebook["comments"].items():
                    comments[name].auto_comment = comment
                target.late_submission_penalty = notebook["late_submission_penalty"]


def write_folder(destination: Path, files: dict) -> None:
    """Replace `destination` with exactly `files`, atomically: a reader sees the old folder or the new one."""
    destination = Path(destination)
    if not files:  # nbgrader removes the folder of a submission it failed to grade
        shutil.rmtree(destination, ignore_errors=True)
        return
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=f".{destination.name}.partial-", dir=destination.parent))
    for relative, data in files.items():
        path = partial / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    os.chmod(partial, 0o755)
    old = None
    if destination.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{destination.name}.old-", dir=destination.parent))
        os.rename(destination, old / "x")
    os.rename(partial, destination)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
