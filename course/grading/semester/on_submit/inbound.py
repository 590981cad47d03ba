"""The exchange's inbound folder as the grading service sees it.

nbgrader's submit names each submission `<student>+<assignment>+<UTC time>+<random>`, and anyone may drop a
folder there (mode 733). So a name proves nothing: the folder must belong to the student it names, and it
must hold only that student's own regular files. Anything else is refused before a byte of it is copied,
since the service reads as the instructor and would otherwise follow a link into the course or another
student's work.
"""
from __future__ import annotations

import os
import pwd
import stat
from dataclasses import dataclass
from pathlib import Path


class Refused(Exception):
    """A submission that must not be graded; the message is the reason the student reads."""


@dataclass(frozen=True)
class Entry:
    name: str
    student: str
    assignment: str
    timestamp: str

    @classmethod
    def parse(cls, name: str) -> Entry | None:
        parts = name.rsplit("+", 3)
        if len(parts) != 4 or not all(parts):
            return None
        return cls(name, parts[0], parts[1], parts[2])


def scan(inbound: Path) -> list[Entry]:
    """The submissions in `inbound` whose names nbgrader could have made (oldest first by name's time)."""
    try:
        names = os.listdir(inbound)
    except FileNotFoundError:
        return []
    entries = [e for e in map(Entry.parse, names) if e is not None]
    return sorted(entries, key=lambda e: (e.timestamp, e.name))


def _owner(info: os.stat_result) -> str | None:
    try:
        return pwd.getpwuid(info.st_uid).pw_name
    except KeyError:
        return None


def refusal(folder: Path, student: str | None, max_bytes: int) -> str | None:
    """Why the submission folder must not be graded (None when it may): owner, links, special files, size.

    With `student` None the owners are not checked (the service's own copy of a submission)."""
    info = os.lstat(folder)
    if not stat.S_ISDIR(info.st_mode):
        return "the submission is not a folder nbgrader's submit made"
    if student is not None and _owner(info) != student:
        return f"the submission names {student} but was handed in by {_owner(info) or info.st_uid}"
    total = 0
    for here, dirs, files in os.walk(folder):
        for name in dirs + files:
            path = Path(here) / name
            entry = os.lstat(path)
            relative = path.relative_to(folder)
            if stat.S_ISLNK(entry.st_mode):
                return f"{relative} is a link: a submission may hold only files"
            if not (stat.S_ISREG(entry.st_mode) or stat.S_ISDIR(entry.st_mode)):
                return f"{relative} is not a regular file"
            if student is not None and _owner(entry) != student:
                return f"{relative} does not belong to {student}"
            total += entry.st_size if stat.S_ISREG(entry.st_mode) else 0
    if total > max_bytes:
        return (f"the submission is {total / 2**20:.1f} MiB, over the course's limit of {max_bytes / 2**20:.1f} MiB: "
                "remove large outputs or data files and submit again")
    return None
