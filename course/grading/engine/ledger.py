"""The one writer: results from the workers go into the course gradebook here, and only here.

SQLite takes one writer at a time, so workers never open the course
gradebook; the driver writes each result in a single transaction, together
with a row in a small table of its own (`course_grading_ledger`, in the same
database) that records which content and course version were graded. That row
makes grading resumable (a rerun skips what is recorded) and idempotent (a
result delivered twice changes nothing the second time).

A result is written as nbgrader's own autograde would leave the gradebook:
scores and comments of the autograded cells, the manual-grading flags, the
submission's timestamp and late penalty; manual scores and comments are never
touched. Unlike nbgrader, a regrade re-opens a cell graded by hand only when
what the grader judged changed (`_Answers`): a written answer with the same
text keeps its review as the TA left it.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

from sqlalchemy import text

from . import database

TABLE = "course_grading_ledger"
SCHEMA = f"""CREATE TABLE IF NOT EXISTS {TABLE} (
    assignment TEXT NOT NULL, student TEXT NOT NULL, content_hash TEXT NOT NULL, course_version TEXT NOT NULL,
    graded_at REAL NOT NULL, task_s REAL, problems TEXT, penalty_version TEXT, rubric_version TEXT,
    PRIMARY KEY (assignment, student))"""
# Columns a ledger written before them lacks: added when the course gradebook is opened.
ADDED_COLUMNS = ("penalty_version", "rubric_version")
# The same statement on SQLite and PostgreSQL: a result delivered twice overwrites its own row.
UPSERT = text(f"""INSERT INTO {TABLE} (assignment, student, content_hash, course_version, graded_at, task_s,
    problems, penalty_version, rubric_version) VALUES (:a, :s, :h, :v, :t, :d, :p, :pv, :rv)
    ON CONFLICT (assignment, student) DO UPDATE SET content_hash = excluded.content_hash,
    course_version = excluded.course_version, graded_at = excluded.graded_at, task_s = excluded.task_s,
    problems = excluded.problems, penalty_version = excluded.penalty_version,
    rubric_version = excluded.rubric_version""")
# Per-student tables that a template gradebook must not carry (other students' data, and this ledger).
STUDENT_TABLES = ("comment", "grade", "submitted_notebook", "submitted_assignment", "student", TABLE)


def db_url(root: Path) -> str:
    return database.db_url(root)


def template(root: Path) -> bytes:
    """The course gradebook with every assignment's definition and no student in it, as SQLite bytes.

    Whatever server the course gradebook is on, a worker grades in a scratch SQLite copy of this."""
    from nbgrader.api import Base, Gradebook
    from sqlalchemy import select

    scratch = Path(tempfile.mkdtemp(prefix="course-template-"))
    source = database.engine(db_url(root))
    try:
        with Gradebook(f"sqlite:///{scratch / 'template.db'}") as empty:
            target = empty.db.get_bind()
            tables = [t for t in Base.metadata.sorted_tables if t.name not in STUDENT_TABLES]
            with source.connect() as reading, target.begin() as writing:
                for table in reversed(tables):  # a new gradebook holds a default course row
                    writing.execute(table.delete())
                for table in tables:
                    rows = [dict(row._mapping) for row in reading.execute(select(table))]
                    if rows:
                        writing.execute(table.insert(), rows)
        return (scratch / "template.db").read_bytes()
    finally:
        source.dispose()
        shutil.rmtree(scratch, ignore_errors=True)


class Ledger:
    """The course gradebook, open for the whole run, written one result per transaction."""

    def __init__(self, root: Path):
        from nbgrader.api import Gradebook

        self.root = Path(root)
        self.gradebook = Gradebook(db_url(root))
        self.db = self.gradebook.db
        self.sqlite = database.is_sqlite(db_url(root))
        if self.sqlite:
            # WAL: a commit appends to the log instead of syncing a rollback journal and the database
            # (a few ms, not tens); NORMAL still keeps the database consistent across a power cut,
            # which can only lose the last results, and a rerun grades those again.
            self.db.execute(text("PRAGMA journal_mode=WAL"))
            self.db.execute(text("PRAGMA synchronous=NORMAL"))
        self.db.execute(text(SCHEMA))
        from sqlalchemy import inspect

        present = {column["name"] for column in inspect(self.db.connection()).get_columns(TABLE)}
        for column in ADDED_COLUMNS:
            if column not in present:
                self.db.execute(text(f"ALTER TABLE {TABLE} ADD COLUMN {column} TEXT"))
        self.db.commit()
        self.trash: list[Path] = []  # replaced autograded folders, removed when the run ends
        self.write_seconds: list[float] = []
        self._recorded: dict | None = None
        self._extensions: dict | None = None
        self._dues: dict = {}
        self._layouts: dict = {}

    def close(self) -> None:
        self.gradebook.close()
        for folder in self.trash:
            shutil.rmtree(folder, ignore_errors=True)
        self.trash.clear()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def recorded(self) -> dict:
        """(assignment, student) -> (content hash, course version, penalty version, rubric version) of what
        was last written.

        Read from the table once per run; `write` keeps it up to date."""
        if self._recorded is None:
            rows = self.db.execute(text(f"SELECT assignment, student, content_hash, course_version, penalty_version, "
                                        f"rubric_version FROM {TABLE}"))
            self._recorded = {(a, s): tuple(versions) for a, s, *versions in rows}
        return self._recorded

    def task_seconds(self) -> dict:
        """assignment -> mean task time of earlier runs, to submit the longest first."""
        rows = self.db.execute(text(f"SELECT assignment, AVG(task_s) FROM {TABLE} GROUP BY assignment"))
        return {a: s for a, s in rows if s is not None}

    def extension(self, assignment: str, student: str):
        """The extension given to this submission, if any (all of them read in one query per run)."""
        if self._extensions is None:
            from nbgrader.api import Assignment, SubmittedAssignment

            rows = (self.db.query(Assignment.name, SubmittedAssignment.student_id, SubmittedAssignment.extension)
                    .join(SubmittedAssignment, SubmittedAssignment.assignment_id == Assignment.id))
            self._extensions = {(a, s): e for a, s, e in rows}
        return self._extensions.get((assignment, student))

    def duedate(self, assignment: str):
        from nbgrader.api import MissingEntry

        if assignment not in self._dues:
            try:
                self._dues[assignment] = self.gradebook.find_assignment(assignment).duedate
            except MissingEntry:
                self._dues[assignment] = None
        return self._dues[assignment]

    def write(self, result: dict) -> None:
        """Record one result: the autograded files first, then the gradebook and the ledger in one transaction."""
        start = time.perf_counter()
        assignment, student = result["assignment"], result["student"]
        try:
            if not self.sqlite:
                # As with SQLite's WAL above: the commit does not wait for the server's disk. A crash can lose
                # the last results, never the database's consistency, and a rerun grades those again.
                self.db.execute(text("SET LOCAL synchronous_commit TO OFF"))
            if result["submission"] is not None:
                # The grades first, in the open transaction: they compare the answers with the graded notebook
                # that the new files replace.
                self._grades(assignment, student, result["submission"], result)
                write_folder(self.root / "autograded" / student / assignment, result["files"], self.trash)
            versions = (result["hash"], result["version"], result.get("penalty_version"), result.get("rubric_version"))
            self.db.execute(UPSERT, {"a": assignment, "s": student, "h": versions[0], "v": versions[1],
                                     "t": time.time(), "d": result["timing"]["task_s"],
                                     "p": "\n".join(result["problems"]), "pv": versions[2], "rv": versions[3]})
            self.db.commit()
        except BaseException:
            self.db.rollback()
            raise
        self.recorded()[(assignment, student)] = versions
        self.write_seconds.append(time.perf_counter() - start)

    def recompute_penalty(self, assignment: str, student: str, policy, version: str) -> bool:
        """The submission's late penalty recomputed from the scores in the gradebook, as autograde would assign it;
        nothing else of the gradebook is written. Whether the penalty changed."""
        from nbgrader.api import MissingEntry

        from .penalties import recompute

        try:
            submission = self.gradebook.find_submission(assignment, student)
            before = [notebook.late_submission_penalty for notebook in submission.notebooks]
            recompute(self.gradebook, submission, policy)
            changed = before != [notebook.late_submission_penalty for notebook in submission.notebooks]
        except MissingEntry:  # recorded, but nothing nbgrader could grade: no penalty either
            changed = False
        self._set_version(assignment, student, "penalty_version", version)
        return changed

    def show_rubrics(self, assignment: str, student: str, rubric_texts: dict, version: str) -> None:
        """The submission's graded notebooks with the rubrics' current wording (the gradebook is not touched)."""
        import nbformat

        from ..verdicts.rubrics import place

        for path in sorted((self.root / "autograded" / student / assignment).glob("*.ipynb")):
            notebook = nbformat.read(str(path), as_version=4)
            partial = path.with_name(f".{path.name}.partial")
            nbformat.write(place(notebook, rubric_texts), str(partial))
            os.replace(partial, path)
        self._set_version(assignment, student, "rubric_version", version)

    def _set_version(self, assignment: str, student: str, column: str, version: str) -> None:
        self.db.execute(text(f"UPDATE {TABLE} SET {column} = :v WHERE assignment = :a AND student = :s"),
                        {"v": version, "a": assignment, "s": student})
        self.db.commit()
        index = {"penalty_version": 2, "rubric_version": 3}[column]
        row = list(self.recorded()[(assignment, student)])
        row[index] = version
        self.recorded()[(assignment, student)] = tuple(row)

    def _grades(self, assignment: str, student: str, submission: dict, result: dict) -> None:
        """The submission's cells updated in a few statements: the ORM would load every grade, comment and
        notebook one by one, each with the score subqueries nbgrader attaches to them."""
        import warnings

        from sqlalchemy import DateTime, bindparam

        warnings.filterwarnings("ignore", message=".*not in session.*")  # nbgrader's own add_submission, harmless
        found = self.db.execute(text(
            "SELECT sa.id FROM submitted_assignment sa JOIN assignment a ON sa.assignment_id = a.id "
            "WHERE a.name = :a AND sa.student_id = :s"), {"a": assignment, "s": student}).scalar()
        if found is None:
            found, notebooks, grades, comments = self._new_submission(assignment, student)
        else:
            notebooks, grades, comments = self._rows(found)
        if submission["timestamp"]:
            from nbgrader.utils import parse_utc

            self.db.execute(text("UPDATE submitted_assignment SET timestamp = :t WHERE id = :id")
                            .bindparams(bindparam("t", type_=DateTime())),
                            {"t": parse_utc(submission["timestamp"]), "id": found})
        grade_rows, comment_rows, penalties = [], [], []
        same_files = self.recorded().get((assignment, student), (None,))[0] == result["hash"]
        for notebook in submission["notebooks"]:
            target = notebooks[notebook["name"]]
            answers = _Answers(self.root / "autograded" / student / assignment, notebook["name"], result["files"])
            for name, graded in notebook["grades"].items():
                id_, manual, auto_before, flag_before = grades[(target, name)]
                if notebook["processed"]:
                    flag = graded["needs_manual_grade"] or manual is not None
                    if manual is not None and graded["auto_score"] == auto_before and answers.unchanged(name, same_files):
                        flag = bool(flag_before)  # what the grader judged is what it was: their review stands
                    grade_rows.append({"id": id_, "score": graded["auto_score"], "manual": flag})
                elif graded["cell_type"] == "code":  # zeroed before grading, never reached by nbgrader
                    grade_rows.append({"id": id_, "score": graded["auto_score"],
                                       "manual": graded["needs_manual_grade"]})
            if notebook["processed"]:
                comment_rows += [{"id": comments[(target, name)], "comment": comment}
                                 for name, comment in notebook["comments"].items()]
                penalties.append({"id": target, "penalty": notebook["late_submission_penalty"]})
        if grade_rows:
            self.db.execute(text("UPDATE grade SET auto_score = :score, needs_manual_grade = :manual "
                                 "WHERE id = :id"), grade_rows)
        if comment_rows:
            self.db.execute(text("UPDATE comment SET auto_comment = :comment WHERE id = :id"), comment_rows)
        if penalties:
            self.db.execute(text("UPDATE submitted_notebook SET late_submission_penalty = :penalty "
                                 "WHERE id = :id"), penalties)
        self.db.expire_all()  # the session's objects, if any were loaded, now read what was written


    def _rows(self, found: str) -> tuple:
        """An earlier submission's rows: notebook name -> id, (notebook, cell) -> (grade id, manual score, auto score,
        needs manual grade) and (notebook, cell) -> comment id."""
        notebooks = {name: id_ for id_, name in self.db.execute(text(
            "SELECT sn.id, n.name FROM submitted_notebook sn JOIN notebook n ON sn.notebook_id = n.id "
            "WHERE sn.assignment_id = :id"), {"id": found})}
        cells = "JOIN base_cell c ON x.cell_id = c.id JOIN submitted_notebook sn ON x.notebook_id = sn.id " \
                "WHERE sn.assignment_id = :id"
        grades = {(nb, name): tuple(values) for nb, name, *values in self.db.execute(text(
            f"SELECT x.notebook_id, c.name, x.id, x.manual_score, x.auto_score, x.needs_manual_grade FROM grade x "
            f"{cells}"), {"id": found})}
        comments = {(nb, name): id_ for id_, nb, name in self.db.execute(text(
            f"SELECT x.id, x.notebook_id, c.name FROM comment x {cells}"), {"id": found})}
        return notebooks, grades, comments

    def _new_submission(self, assignment: str, student: str) -> tuple:
        """nbgrader's `add_submission` in a few statements, in the result's transaction: a submission mirrors
        its assignment, one grade per graded or task cell and one comment per answer or task cell, each
        notebook with them. (The ORM version costs tens of ms a submission, object by object, and commits.)"""
        from nbgrader.api import Comment, Grade, Student, SubmittedAssignment, SubmittedNotebook, new_uuid

        if self.db.execute(Student.__table__.select().where(Student.__table__.c.id == student)).first() is None:
            self.db.execute(Student.__table__.insert(), {"id": student})
        assignment_id, notebooks = self._layout(assignment)
        submission = new_uuid()
        self.db.execute(SubmittedAssignment.__table__.insert(),
                        {"id": submission, "assignment_id": assignment_id, "student_id": student})
        rows = {SubmittedNotebook: [], Grade: [], Comment: []}
        by_name, grades, comments = {}, {}, {}
        for notebook_id, name, graded, commented in notebooks:
            target = by_name[name] = new_uuid()
            rows[SubmittedNotebook].append({"id": target, "assignment_id": submission, "notebook_id": notebook_id})
            for cell, cell_name in graded:
                grades[(target, cell_name)] = (new_uuid(), None, None, None)
                rows[Grade].append({"id": grades[(target, cell_name)][0], "notebook_id": target, "cell_id": cell})
            for cell, cell_name in commented:
                comments[(target, cell_name)] = new_uuid()
                rows[Comment].append({"id": comments[(target, cell_name)], "notebook_id": target, "cell_id": cell})
        for table, values in rows.items():
            if values:
                self.db.execute(table.__table__.insert(), values)
        return submission, by_name, grades, comments

    def _layout(self, assignment: str) -> tuple:
        """(assignment id, [(notebook id, name, graded cells, commented cells)]), cells as (id, name); read once."""
        if assignment not in self._layouts:
            found = self.gradebook.find_assignment(assignment)
            self._layouts[assignment] = (found.id, [
                (nb.id, nb.name, [(c.id, c.name) for c in [*nb.grade_cells, *nb.task_cells]],
                 [(c.id, c.name) for c in [*nb.solution_cells, *nb.task_cells]]) for nb in found.notebooks])
        return self._layouts[assignment]


class _Answers:
    """Whether a cell graded by hand shows the grader what they judged: a written answer (a graded cell that is
    also a solution cell) its same text in the graded notebook being replaced and in the new one; any other
    cell (an autograded cell whose score was changed by hand) the same submitted files. Read only when asked."""

    def __init__(self, folder: Path, notebook: str, files: dict):
        self.old_path, self.new_bytes = Path(folder) / f"{notebook}.ipynb", files.get(f"{notebook}.ipynb")
        self._texts = None

    def unchanged(self, grade_id: str, same_files: bool) -> bool:
        if self._texts is None:
            self._texts = (_answer_texts(self.old_path.read_bytes() if self.old_path.is_file() else None),
                           _answer_texts(self.new_bytes))
        old, new = self._texts
        if grade_id in old or grade_id in new:
            return old.get(grade_id) is not None and old.get(grade_id) == new.get(grade_id)
        return same_files and self.old_path.is_file()


def _answer_texts(data: bytes | None) -> dict:
    """grade_id -> text of each written answer (graded and solution cell) of a graded notebook's bytes."""
    import json

    try:
        cells = json.loads(data)["cells"] if data else []
    except (ValueError, KeyError, TypeError):
        return {}
    texts = {}
    for cell in cells:
        meta = cell.get("metadata", {}).get("nbgrader", {}) if isinstance(cell, dict) else {}
        if meta.get("grade") and meta.get("solution") and meta.get("grade_id"):
            source = cell.get("source", "")
            texts[meta["grade_id"]] = "".join(source) if isinstance(source, list) else source
    return texts


def write_folder(destination: Path, files: dict, trash: list | None = None) -> None:
    """Replace `destination` with exactly `files`, atomically: a reader sees the old folder or the new one.

    The old folder goes to `trash` when given (the caller removes it later, off the write path)."""
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
    if old is not None and trash is not None:
        trash.append(old)
    elif old is not None:
        shutil.rmtree(old, ignore_errors=True)
