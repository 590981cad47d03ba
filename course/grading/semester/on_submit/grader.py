"""One round of the grading service: new submissions in, graded ones' feedback out.

A round records every new inbound submission in the queue, refuses what must not be graded, collects the
ready ones into submitted/ exactly as `nbgrader collect --update` would (so the instructor's own collect
finds nothing newer), grades the assignment on the course's engine (course.grading.engine.driver: the
sandbox, the trusted verdicts, the one gradebook writer, and a submission already recorded is skipped),
then generates and releases each student's feedback with nbgrader's own commands, in this process.
"""
from __future__ import annotations

import datetime
import shutil
import time
from collections.abc import Callable
from pathlib import Path

from nbgrader.coursedir import CourseDirectory

from ...engine import driver
from . import inbound, policy
from .queue import Queue, Row

QUEUE_FILE = Path("on_submit") / "queue.sqlite"
TRIES = 3  # a submission whose grading raised this often is marked failed, with the error
DUE_CHECK_S = 10.0  # how often graded submissions are checked for a due date that has passed


class Grader:
    def __init__(self, course: Path, exchange: Path, course_id: str, grade: Callable | None = None,
                 say: Callable = print, roster_ids: dict | None = None):
        self.root, self.say = Path(course), say
        self.roster_ids = dict(roster_ids or {})  # Unix name -> roster id, where a student's id is not a Unix name
        self.inbound = Path(exchange) / course_id / "inbound"
        self.config = policy.load(self.root)
        self.config.CourseDirectory.root = str(self.root)
        self.config.CourseDirectory.course_id = course_id
        self.config.Exchange.root = str(exchange)
        self.limits = policy.settings(self.config)
        self.coursedir = CourseDirectory(config=self.config)
        self.queue = Queue(self.root / QUEUE_FILE)
        self.grade = grade or self.grade_on_engine
        self._api = None
        self._due_checked = float("-inf")
        for name in self.queue.recover():
            say(f"{name}: was being graded when the service stopped; queued again")

    def warm(self) -> None:
        """Start the local Dask workers now, so the first submission does not wait for them."""
        from ...engine import clusters

        if clusters.kind() == "local":
            driver.client()

    # --- the round ----------------------------------------------------------------------------------
    def take_in(self, now: float | None = None) -> None:
        """Queue the new inbound submissions (the page calls it too: a round may be busy grading).

        What must not be graded is refused as it arrives, before it counts: a folder another student dropped
        under someone's name must neither supersede their waiting submission nor be held by their hourly limit."""
        added = set(self.queue.add(inbound.scan(self.inbound), now))
        for row in self.queue.rows(state="queued"):
            if row.name in added and not self.refused(row, now):
                self.say(f"{row.name}: queued")

    def round(self, now: float | None = None) -> int:
        """Take in new submissions and grade what may be graded now; returns how many were graded."""
        now = time.time() if now is None else now
        self.take_in(now)
        ready = [row for row in self.queue.ready(self.limits.per_hour, now) if not self.refused(row, now)]
        graded = []

        def finish(name: str, state: str, reason: str | None = None, scores: list | None = None,
                   withheld: bool = False) -> None:
            self.queue.finish(name, state, reason, scores, withheld)
            graded.extend([name] if state == "graded" else [])
            self.say(f"{name}: {state}{f' ({reason})' if reason else ''}")

        for assignment in dict.fromkeys(r.assignment for r in ready):
            rows = [r for r in ready if r.assignment == assignment]
            self.queue.start([r.name for r in rows], now)
            try:
                self.grade(assignment, rows, finish)
            except Exception as error:  # noqa: BLE001 (the queue must not stall: retried, then failed with the reason)
                self.say(f"grading {assignment} failed: {type(error).__name__}: {error}")
                self.queue.retry([r.name for r in rows], f"{type(error).__name__}: {error}", TRIES)
        if time.monotonic() - self._due_checked > DUE_CHECK_S:
            self._due_checked = time.monotonic()
            self.release_due()
        return len(graded)

    def refused(self, row: Row, now: float | None) -> bool:
        """Mark `row` refused, with the reason, when it must not be graded (checked again just before grading)."""
        why = self.refusal(row)
        if why:
            self.queue.finish(row.name, "refused", why, now=now)
            self.say(f"{row.name}: refused ({why})")
        return why is not None

    def refusal(self, row: Row) -> str | None:
        if not (self.root / "source" / row.assignment / f"{row.assignment}.ipynb").is_file():
            return f"{row.assignment} is not an assignment of this course"
        if self.student_id(row) not in self.students():
            return f"{row.student} is not a student of this course"
        folder = self.inbound / row.name
        if not folder.exists():
            return "the submission disappeared from the exchange before it was graded"
        return inbound.refusal(folder, row.student, self.limits.max_bytes)

    def student_id(self, row: Row) -> str:
        """The gradebook's id of the student who handed `row` in (the exchange names them by Unix name)."""
        return self.roster_ids.get(row.student, row.student)

    def students(self) -> set:
        from nbgrader.api import Gradebook

        with Gradebook(self.coursedir.db_url) as gradebook:
            return {s.id for s in gradebook.students}

    # --- grading on the course's engine ---------------------------------------------------------------
    def grade_on_engine(self, assignment: str, rows: list[Row], finish: Callable) -> None:
        """Collect, grade and release one assignment's rows, calling `finish` for each as soon as it is done.

        Each student's feedback is released as soon as the engine has written their result, while the
        workers go on grading the others."""
        collected = {}
        for row in rows:
            try:
                newest = collect(self.inbound / row.name, self.root / "submitted" / self.student_id(row) / assignment,
                                 self.coursedir.ignore, row.student, self.limits.max_bytes)
            except inbound.Refused as why:
                finish(row.name, "refused", str(why))
                continue
            if newest:
                collected[self.student_id(row)] = row
            else:
                finish(row.name, "superseded", "a later submission was already collected")
        if not collected:
            return

        def written(result: dict) -> None:
            row = collected.pop(result["student"], None) if result["assignment"] == assignment else None
            if row is not None:
                self.released(assignment, row, finish)

        report = driver.grade(self.root, [assignment], say=self.say, on_result=written)
        failed = {student: reason for a, student, reason in report.failed if a == assignment}
        for row in list(collected.values()):  # failed, or recorded unchanged by a run a kill interrupted
            if self.student_id(row) in failed:
                finish(row.name, "failed", failed[self.student_id(row)])
            else:
                self.released(assignment, row, finish)

    def released(self, assignment: str, row: Row, finish: Callable) -> None:
        problem = self.release_feedback(assignment, self.student_id(row))
        scores, due = exercise_scores(self.coursedir.db_url, assignment, self.student_id(row))
        now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
        finish(row.name, "graded" if problem is None else "failed", problem, scores,
               policy.hidden_until_due(self.config, due, now))

    def api(self):
        if self._api is None:
            from nbgrader.apps import NbGraderAPI

            self._api = NbGraderAPI(config=self.config)
        return self._api

    def release_feedback(self, assignment: str, student: str) -> str | None:
        """nbgrader's generate_feedback and release_feedback for one student; the problem, or None."""
        api = self.api()
        for verb, done in (("generated", lambda: api.generate_feedback(assignment, student, force=True)),
                           ("released", lambda: api.release_feedback(assignment, student))):
            result = done()
            if not result["success"]:
                return f"feedback could not be {verb}: {result.get('error') or result.get('log')}"
        return None

    def release_due(self) -> None:
        """Full feedback for the newest graded submission of each work whose due date has now passed."""
        now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
        newest = {}
        for row in self.queue.rows(state="graded"):
            newest[(row.student, row.assignment)] = row
        for row in newest.values():
            if not row.withheld:
                continue
            _, due = exercise_scores(self.coursedir.db_url, row.assignment, self.student_id(row))
            if policy.hidden_until_due(self.config, due, now):
                continue
            if self.release_feedback(row.assignment, self.student_id(row)) is None:
                self.queue.unwithhold(row.name)
                self.say(f"{row.name}: due date passed, full feedback released")


def collect(source: Path, destination: Path, ignore, student: str, max_bytes: int) -> bool:
    """Copy one inbound submission into submitted/ unless an equal or newer one is there; False if newer.

    Links are copied as links, never followed, and the copy is checked again: a student who swaps a file
    for a link after the first check gets a refusal, not the file the link points to."""
    from nbgrader.utils import parse_utc

    here = destination / "timestamp.txt"
    new = parse_utc(source.name.rsplit("+", 2)[1])
    if here.is_file():
        existing = parse_utc(here.read_text().strip())
        if existing > new:
            return False
        if existing == new:
            return True
    partial = destination.with_name(f".{destination.name}.collecting")
    shutil.rmtree(partial, ignore_errors=True)
    destination.parent.mkdir(parents=True, exist_ok=True)
    if source.is_symlink():
        raise inbound.Refused("the submission is a link")
    shutil.copytree(source, partial, symlinks=True, ignore=shutil.ignore_patterns(*ignore))
    why = inbound.refusal(partial, None, max_bytes)
    if why:
        shutil.rmtree(partial, ignore_errors=True)
        raise inbound.Refused(why)
    if destination.exists():
        shutil.rmtree(destination)
    partial.rename(destination)
    return True


def exercise_scores(db_url: str, assignment: str, student: str) -> tuple[list, datetime.datetime | None]:
    """Each graded cell's points from the gradebook (None: a written answer waiting for a person), and the due date."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(db_url) as gradebook:
        try:
            submission = gradebook.find_submission(assignment, student)
        except MissingEntry:
            return [], None
        scores = [{"exercise": grade.name, "notebook": notebook.name, "score": grade.score, "max": grade.max_score,
                   "written": grade.cell.cell_type == "markdown", "waits": bool(grade.needs_manual_grade)}
                  for notebook in submission.notebooks for grade in notebook.grades]
        return scores, submission.duedate
