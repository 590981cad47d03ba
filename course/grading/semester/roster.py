"""The class list, `roster.csv`: who a student is in the course, and who they are on the LMS.

An LMS names a submission after the student's LMS identity (Canvas: `smithjohn` and a user number,
Moodle: `John Smith` and a participant number), never after the course's student id that names
their folder in `submitted/`. The roster joins the two, and gives the grade exports the columns an
LMS matches students on. Columns (a header row, UTF-8):

    id,name,email,lms_id,section,login

`id`, `name` and `email` are required; `lms_id` (the Canvas user ID; leave it empty for
Moodle, whose folder numbers change from one assignment to the next), `section` and `login`
(Canvas's SIS Login ID) may be left out or empty.
"""
from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

ROSTER_FILE = "roster.csv"
REQUIRED = ("id", "name", "email")
OPTIONAL = ("lms_id", "section", "login")


class RosterError(ValueError):
    """roster.csv is missing or malformed; the message says what to fix."""


@dataclass(frozen=True)
class Student:
    id: str
    name: str
    email: str
    lms_id: str = ""
    section: str = ""
    login: str = ""


def squeezed(text: str) -> str:
    """Lower-case letters and digits only, accents dropped: how Canvas writes a name in a file name."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", plain.lower())


def name_keys(name: str) -> set[str]:
    """Every way an LMS may write this name, squeezed: `John van Dyke` is also `vandykejohn` and `dykejohnvan`.

    Canvas writes the sortable name (last name first), Moodle the full name; which words are the last
    name is unknown, so every rotation of the words counts.
    """
    words = [w for w in re.split(r"[\s,]+", name) if squeezed(w)]
    return {squeezed("".join(words[k:] + words[:k])) for k in range(len(words))} if words else set()


class Roster:
    def __init__(self, students: list[Student]):
        self.students = students
        self.by_id = {s.id: s for s in students}

    def __len__(self) -> int:
        return len(self.students)

    def get(self, student_id: str) -> Student | None:
        return self.by_id.get(student_id)

    def match(self, lms_id: str = "", name: str = "") -> tuple[Student | None, str]:
        """The roster's student for an LMS identity, and how they were found (or why not)."""
        if lms_id:
            found = [s for s in self.students if s.lms_id == lms_id]
            if len(found) == 1:
                return found[0], f"lms_id {lms_id}"
        # By name only among students whose lms_id does not say they are someone else.
        keys = name_keys(name)
        found = [s for s in self.students if keys & name_keys(s.name) and not (lms_id and s.lms_id)] if keys else []
        if len(found) == 1:
            return found[0], f"name {name!r}"
        if len(found) > 1:
            return None, f"{name!r} matches {len(found)} roster names ({', '.join(s.id for s in found)}): set lms_id"
        return None, f"{name!r} (LMS id {lms_id or 'none'}) is not on the roster"


def load(path: Path) -> Roster:
    """Read roster.csv, refusing duplicates and missing columns with the line to fix."""
    path = Path(path)
    if not path.is_file():
        raise RosterError(f"{path} not found: write the class list there, with the header "
                          f"{','.join(REQUIRED + OPTIONAL)} (docs/instructors.md, section 3)")
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        header = [h.strip() for h in reader.fieldnames or []]
        missing = [c for c in REQUIRED if c not in header]
        if missing:
            raise RosterError(f"{path}: the header lacks {', '.join(missing)} (it reads {','.join(header)})")
        students, seen = [], set()
        for line, row in enumerate(reader, 2):
            row = {(k or "").strip(): (v or "").strip() for k, v in row.items()}
            if not any(row.values()):
                continue
            student = Student(**{c: row.get(c, "") for c in REQUIRED + OPTIONAL})
            if not student.id or re.search(r"[\s/\\]", student.id):
                raise RosterError(f"{path}, line {line}: id {student.id!r} must be non-empty, without spaces or slashes")
            if student.id in seen:
                raise RosterError(f"{path}, line {line}: id {student.id} appears twice")
            seen.add(student.id)
            students.append(student)
    return Roster(students)
