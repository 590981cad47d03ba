"""Extensions: nbgrader's own (the submission's `extension` in the gradebook), given one student at a time.

Giving one moves that student's due date, then recomputes that submission's late penalty at once, with the
course's late policy (course/grading/semester/late.py, as nbgrader_config.py sets it up) from the scores
already in the gradebook: the notebook is not run again, and no other row of the gradebook is written. A
later regrade of the submission gives the same penalty: the grading engine passes the extension to the
worker (course/grading/engine/driver.py).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from ..engine import database
from ..engine.penalties import recompute
from . import late, roster, schedule

UTC = dt.timezone.utc


class ExtensionError(ValueError):
    """The extension cannot be given as asked; the message says what to do instead."""


@dataclass
class Change:
    student: str
    assignment: str
    extension_before: dt.timedelta | None
    extension_after: dt.timedelta | None
    due_before: dt.datetime | None
    due_after: dt.datetime | None
    submitted: dt.datetime | None
    late_before_s: float
    late_after_s: float
    penalty_before: float
    penalty_after: float

    def text(self, calendar: schedule.Schedule | None = None) -> str:
        calendar = calendar or schedule.Schedule()
        lines = [f"{self.student}/{self.assignment}: extension {_hours(self.extension_before)} -> "
                 f"{_hours(self.extension_after)}",
                 f"  due: {schedule.shown(self.due_before, calendar)} -> {schedule.shown(self.due_after, calendar)}"]
        if self.submitted is None:
            lines.append("  no submission time recorded (not handed in yet, or without timestamp.txt): "
                         "the extension counts once one is graded with a time")
        else:
            lines.append(f"  submitted {schedule.shown(self.submitted, calendar)}: {_late(self.late_before_s)} -> "
                         f"{_late(self.late_after_s)}")
            lines.append(f"  late penalty: {self.penalty_before:g} -> {self.penalty_after:g} points"
                         + ("" if self.penalty_before != self.penalty_after else " (unchanged)"))
        return "\n".join(lines)


def _hours(extension: dt.timedelta | None) -> str:
    return f"{extension.total_seconds() / 3600:g} h" if extension else "none"


def _late(seconds: float) -> str:
    if seconds <= 0:
        return "on time"
    minutes = round(seconds / 60)
    days = f"{minutes // 1440} d " if minutes >= 1440 else ""
    return f"{days}{minutes % 1440 // 60} h {minutes % 60} min late"


def _known_student(root: Path, gradebook, student: str) -> bool:
    from nbgrader.api import MissingEntry

    try:
        gradebook.find_student(student)
        return True
    except MissingEntry:
        pass
    path = Path(root) / roster.ROSTER_FILE
    on_roster = path.is_file() and any(s.id == student for s in roster.load(path).students)
    return on_roster or (Path(root) / "submitted" / student).is_dir()


def extend(root: Path, assignment: str, student: str, hours: float) -> Change:
    """Give `student` an extension of `hours` on `assignment` (0 takes it back) and recompute their late penalty."""
    from nbgrader.api import Gradebook, MissingEntry

    if hours < 0:
        raise ExtensionError(f"HOURS={hours:g}: an extension is 0 hours (none) or more")
    if not database.exists(root):
        raise ExtensionError(f"{root} has no gradebook yet: release the assignment first "
                             f"(make release ASSIGNMENT={assignment})")
    policy = late.course_policy(root)
    wanted = dt.timedelta(hours=hours) if hours else None
    with Gradebook(database.db_url(root)) as gradebook:
        try:
            due = gradebook.find_assignment(assignment).duedate
        except MissingEntry:
            raise ExtensionError(f"{assignment} is not in the gradebook yet: release it first "
                                 f"(make release ASSIGNMENT={assignment})") from None
        if due is None and wanted:  # nbgrader cannot add an extension to no due date (its duedate property fails)
            raise ExtensionError(f"{assignment} has no due date in the gradebook, so nothing is late: give it one "
                                 f"in schedule.toml and run make release ASSIGNMENT={assignment}")
        if not _known_student(root, gradebook, student):
            raise ExtensionError(f"{student} is no student of this course (not in the gradebook, "
                                 f"{roster.ROSTER_FILE} or submitted/): check the id")
        try:
            found = gradebook.find_submission(assignment, student)
            before, late_before = found.extension, found.total_seconds_late
            penalty_before = sum(notebook.late_submission_penalty or 0.0 for notebook in found.notebooks)
        except MissingEntry:
            before, late_before, penalty_before = None, 0.0, 0.0
            gradebook.update_or_create_student(student)
        submission = gradebook.update_or_create_submission(assignment, student, extension=wanted)
        penalty_after = recompute(gradebook, submission, policy) if submission.timestamp else penalty_before
        gradebook.db.commit()
        due_utc = due.replace(tzinfo=UTC) if due else None
        return Change(student, assignment, before, wanted,
                      due_utc + before if due_utc and before else due_utc,
                      due_utc + wanted if due_utc and wanted else due_utc,
                      submission.timestamp.replace(tzinfo=UTC) if submission.timestamp else None,
                      late_before, submission.total_seconds_late, penalty_before, penalty_after)
