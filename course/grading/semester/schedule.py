"""The course's calendar, `schedule.toml` beside `nbgrader_config.py`: release and due date of each assignment,
and the assignments each one builds on.

It lives in git, so `make clean` cannot lose it, and a person reads it as easily as the code does. Due dates
reach the gradebook (where nbgrader and the late penalty read them) when the assignment is released
(`feed`); releasing an assignment before the assignments it builds on are due is refused (`blockers`),
because it may show their answers. Times without an offset are in the file's `timezone` (UTC unless set);
a date without a time means the start of that day for a release and its last minute for a due date.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import tomllib

from ... import paths
from ..engine import database

FILE = "schedule.toml"
KEYS = {"release", "due", "requires", "weight"}
UTC = dt.timezone.utc


class ScheduleError(ValueError):
    """schedule.toml cannot be used as it is; the message names the line to fix."""


@dataclass(frozen=True)
class Entry:
    assignment: str
    release: dt.datetime | None = None  # aware, UTC
    due: dt.datetime | None = None
    requires: tuple[str, ...] = ()
    weight: float = 1.0  # in the course total (grades.csv)


@dataclass
class Schedule:
    timezone: str = "UTC"
    entries: dict[str, Entry] = field(default_factory=dict)

    def get(self, assignment: str) -> Entry:
        return self.entries.get(assignment) or Entry(assignment)

    def weights(self) -> dict[str, float]:
        return {a: e.weight for a, e in self.entries.items()}


def _moment(value, zone: dt.tzinfo, end_of_day: bool, where: str) -> dt.datetime:
    if isinstance(value, dt.datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=zone)
    elif isinstance(value, dt.date):
        clock = dt.time(23, 59) if end_of_day else dt.time(0, 0)
        moment = dt.datetime.combine(value, clock, tzinfo=zone)
    else:
        raise ScheduleError(f"{where} is {value!r}: write a TOML date-time without quotes, e.g. 2027-04-19 23:59:00")
    return moment.astimezone(UTC)


def parse(text: str, known, where: str = FILE) -> Schedule:
    """The schedule in `text`, checked against the course's assignments `known`."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ScheduleError(f"{where} is not valid TOML: {error}") from None
    timezone = data.pop("timezone", "UTC")
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ScheduleError(f"{where}: timezone = {timezone!r} is no IANA time zone (e.g. \"Europe/Berlin\")") from None
    known = list(known)
    entries = {}
    for name, table in data.items():
        if name not in known:
            raise ScheduleError(f"{where}: [{name}] is no assignment (the folders of source/ are: {', '.join(known)})")
        if not isinstance(table, dict) or set(table) - KEYS:
            extra = sorted(set(table) - KEYS) if isinstance(table, dict) else [name]
            raise ScheduleError(f"{where}: [{name}] has {', '.join(extra)}; an assignment takes only "
                                f"{', '.join(sorted(KEYS))}")
        release = _moment(table["release"], zone, False, f"[{name}] release") if "release" in table else None
        due = _moment(table["due"], zone, True, f"[{name}] due") if "due" in table else None
        if release and due and due <= release:
            raise ScheduleError(f"{where}: [{name}] is due before it is released")
        requires = table.get("requires", [])
        if isinstance(requires, str):
            requires = [requires]
        for other in requires:
            if other not in known or other == name:
                raise ScheduleError(f"{where}: [{name}] requires {other!r}, which is no other assignment")
        weight = table.get("weight", 1.0)
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or weight < 0:
            raise ScheduleError(f"{where}: [{name}] weight = {weight!r}: a number, 0 or more")
        entries[name] = Entry(name, release, due, tuple(requires), float(weight))
    return Schedule(timezone, {a: entries[a] for a in known if a in entries})


def load(root: Path = paths.PROJECT_ROOT) -> Schedule | None:
    """The course's schedule, or None when it has no schedule.toml."""
    path = Path(root) / FILE
    if not path.is_file():
        return None
    return parse(path.read_text(encoding="utf-8"), paths.assignments(root), path.name)


def latest_extensions(root: Path) -> dict[str, tuple[str, dt.timedelta]]:
    """assignment -> (student, extension) of the longest extension given on it, from the gradebook."""
    if not database.exists(root):
        return {}
    from nbgrader.api import Assignment, Gradebook, SubmittedAssignment

    found: dict[str, tuple[str, dt.timedelta]] = {}
    with Gradebook(database.db_url(root)) as gradebook:
        rows = (gradebook.db.query(Assignment.name, SubmittedAssignment.student_id, SubmittedAssignment.extension)
                .join(SubmittedAssignment, SubmittedAssignment.assignment_id == Assignment.id)
                .filter(SubmittedAssignment.extension.isnot(None)))
        for assignment, student, extension in rows:
            if assignment not in found or extension > found[assignment][1]:
                found[assignment] = (student, extension)
    return found


def shown(moment: dt.datetime | None, schedule: Schedule) -> str:
    if moment is None:
        return "-"
    local = moment.astimezone(ZoneInfo(schedule.timezone))
    return local.strftime("%a %Y-%m-%d %H:%M ") + (local.tzname() or "")


def blockers(schedule: Schedule, assignments, now: dt.datetime, extensions=None,
             grace: dt.timedelta = dt.timedelta()) -> list[str]:
    """Why each of `assignments` may not be released at `now`: an assignment it requires is not yet due for
    every student (its due date, the longest extension on it, and the grace period all passed)."""
    extensions = extensions or {}
    reasons = []
    for assignment in assignments:
        for other in schedule.get(assignment).requires:
            due = schedule.get(other).due
            if due is None:
                reasons.append(f"{assignment} requires {other}, which has no due date in {FILE}")
                continue
            student, extra = extensions.get(other, (None, dt.timedelta()))
            closes = due + extra + grace
            if now < closes:
                why = [f"{student}'s extension"] * bool(student and extra) + ["the grace period"] * bool(grace)
                until = f" and open until {shown(closes, schedule)} ({' and '.join(why)})" if closes != due else ""
                reasons.append(f"{assignment} requires {other}, which is due {shown(due, schedule)}{until}: "
                               f"releasing {assignment} now could show {other}'s answers")
    return reasons


def feed(root: Path, schedule: Schedule, assignments) -> list[str]:
    """Write the schedule's due dates of `assignments` into the gradebook; a line for each one that changed."""
    from nbgrader.api import Gradebook, MissingEntry

    changed = []
    with Gradebook(database.db_url(root)) as gradebook:
        for assignment in assignments:
            due = schedule.get(assignment).due
            if due is None:
                continue
            try:
                before = gradebook.find_assignment(assignment).duedate
            except MissingEntry:
                before = None
            wanted = due.replace(tzinfo=None)  # nbgrader keeps naive UTC
            if before != wanted:
                gradebook.update_or_create_assignment(assignment, duedate=wanted)
                was = shown(before.replace(tzinfo=UTC), schedule) if before else "none"
                changed.append(f"{assignment}: due date {was} -> {shown(due, schedule)}")
    return changed


def gradebook_due_dates(root: Path) -> dict[str, dt.datetime]:
    if not database.exists(root):
        return {}
    from nbgrader.api import Gradebook

    with Gradebook(database.db_url(root)) as gradebook:
        return {a.name: a.duedate.replace(tzinfo=UTC) for a in gradebook.assignments if a.duedate}


def _state(entry: Entry, now: dt.datetime) -> str:
    if entry.release and now < entry.release:
        return "not released"
    if entry.due is None:
        return "released" if entry.release else "-"
    if now < entry.due:
        left = entry.due - now
        return f"open, due in {left.days} d {left.seconds // 3600} h" if left.days else \
            f"open, due in {left.seconds // 3600} h {left.seconds % 3600 // 60} min"
    return "overdue"


def table(schedule: Schedule, known, now: dt.datetime, in_gradebook: dict | None = None,
          extensions: dict | None = None) -> str:
    """One line per assignment: release, due, what it requires, where it stands at `now`, and what the gradebook
    says where it differs from the file."""
    in_gradebook, extensions = in_gradebook or {}, extensions or {}
    rows = [("assignment", "release", "due", "requires", "now")]
    notes = []
    for assignment in known:
        entry = schedule.get(assignment)
        rows.append((assignment, shown(entry.release, schedule), shown(entry.due, schedule),
                     ", ".join(a[:2] for a in entry.requires) or "-", _state(entry, now)))
        booked = in_gradebook.get(assignment)
        if entry.due and booked and booked != entry.due:
            notes.append(f"{assignment}: the gradebook has due date {shown(booked, schedule)}; "
                         f"`make release ASSIGNMENT={assignment}` writes {FILE}'s")
        for other in entry.requires:
            due = schedule.get(other).due
            if entry.release and (due is None or due > entry.release):
                notes.append(f"{assignment} is released before {other} is due: make release and make handout will "
                             f"refuse it until {shown(due, schedule) if due else other + ' has a due date'}")
        if assignment in extensions:
            student, extra = extensions[assignment]
            notes.append(f"{assignment}: extensions given, the longest {extra.total_seconds() / 3600:g} h ({student})")
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
    return "\n".join(lines + notes)


def current_time() -> dt.datetime:
    return dt.datetime.now(UTC)


def release_blockers(root: Path, assignments, now: dt.datetime | None = None) -> list[str]:
    """`blockers` for the course at `root`: its schedule, the extensions in its gradebook, its grace period."""
    found = load(root)
    if found is None:
        return []
    from . import late

    grace = getattr(late.course_policy(root), "grace", dt.timedelta())
    return blockers(found, assignments, now or current_time(), latest_extensions(root), grace)


def refusal(reasons: list[str], what: str) -> str:
    return "\n  ".join([f"Not {what}:", *reasons]) + (
        "\nWait until then, leave it out of ASSIGNMENT=..., or add FORCE=1 to go ahead anyway.")
