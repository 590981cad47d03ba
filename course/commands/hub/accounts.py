"""The hub's Unix accounts: one for the instructor, one per student of roster.csv (run as root).

A student's id is their Unix user name, their JupyterHub name and their gradebook id all at
once, because nbgrader's exchange names a submission after the Unix user who made it. So an
id must be a safe Unix name, and an existing account is only reused when this course made it
(it belongs to the course's group); anything else is refused before any account is touched.
New accounts get a random password, written to a root-only file outside the repository;
existing accounts keep theirs. Homes are mode 700: students cannot read each other's work.
"""
from __future__ import annotations

import grp
import json
import os
import pwd
import re
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

SAFE_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")


class AccountError(RuntimeError):
    """An account cannot be made or reused safely; the message says which and why."""


def unsafe(names) -> list[str]:
    """Why each unusable name is unusable (empty when all are fine)."""
    problems = []
    for name in names:
        if not SAFE_NAME.match(name):
            problems.append(f"{name!r} is not a safe Unix user name (a lower-case letter, then at most 31 "
                            "lower-case letters, digits, '_' or '-')")
    return problems


def _exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def _member(name: str, group: str) -> bool:
    try:
        entry = grp.getgrnam(group)
    except KeyError:
        return False
    return name in entry.gr_mem or pwd.getpwnam(name).pw_gid == entry.gr_gid


def refuse_foreign(names, group: str) -> None:
    """Refuse ids that are unsafe, or that name an account this course did not make (root, daemon, a colleague)."""
    problems = unsafe(names)
    problems += [f"{name!r} is an existing account outside the group {group}: the course will not take it over"
                 for name in names if SAFE_NAME.match(name) and _exists(name) and not _member(name, group)]
    if problems:
        raise AccountError("Refusing to create or change any account:\n  " + "\n  ".join(problems))


def _run(*argv: str, stdin: str | None = None) -> None:
    result = subprocess.run(argv, input=stdin, capture_output=True, text=True)
    if result.returncode != 0:
        raise AccountError(f"`{' '.join(argv)}` failed: {result.stderr.strip() or result.stdout.strip()}")


def ensure(accounts: dict, group: str, homes: Path, passwords: Path) -> list[str]:
    """Create the missing accounts (name -> full name) in `group`; returns the names created.

    Refuses everything first if any name is unsafe or foreign. The new passwords are added to `passwords`
    (mode 600, root's), one `name:password` a line."""
    refuse_foreign(list(accounts), group)
    try:
        grp.getgrnam(group)
    except KeyError:
        _run("groupadd", "--system", group)
    homes = Path(homes)
    homes.mkdir(parents=True, exist_ok=True)
    created = []
    for name, full_name in accounts.items():
        if not _exists(name):
            comment = re.sub(r"[:,\n]", " ", full_name)[:100]
            _run("useradd", "--create-home", "--home-dir", str(homes / name), "--shell", "/bin/bash",
                 "--comment", comment, "--groups", group, name)
            created.append(name)
        os.chmod(pwd.getpwnam(name).pw_dir, 0o700)
    if created:
        fresh = {name: secrets.token_urlsafe(12) for name in created}
        _run("chpasswd", stdin="".join(f"{n}:{p}\n" for n, p in fresh.items()))
        known = read_passwords(passwords)
        known.update(fresh)
        passwords.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(passwords, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write("".join(f"{n}:{p}\n" for n, p in sorted(known.items())))
        os.chmod(passwords, 0o600)
    return created


def read_passwords(passwords: Path) -> dict:
    if not Path(passwords).is_file():
        return {}
    return dict(line.split(":", 1) for line in Path(passwords).read_text().splitlines() if ":" in line)


def remove(names, group: str) -> None:
    """Delete accounts this course made (members of `group`) with their homes; others are left alone."""
    for name in names:
        if _exists(name) and _member(name, group):
            subprocess.run(["pkill", "-KILL", "-u", name], capture_output=True)
            _run("userdel", "--remove", name)


def as_user(name: str, argv: list, **kwargs) -> subprocess.CompletedProcess:
    """Run `argv` as the Unix user `name` (root only), with that user's HOME."""
    return subprocess.run([shutil.which("runuser") or "/usr/sbin/runuser", "-u", name, "--", *argv], **kwargs)


def import_students(students: list[dict], course: Path, instructor: str) -> None:
    """Put the students into the course gradebook, as the instructor so the gradebook stays theirs."""
    result = as_user(instructor, [sys.executable, "-m", "course.commands.hub.accounts", "gradebook"],
                     input=json.dumps(students), cwd=course, capture_output=True, text=True,
                     env=dict(os.environ, HOME=pwd.getpwnam(instructor).pw_dir))
    if result.returncode != 0:
        raise AccountError(f"importing the roster into the gradebook failed:\n{result.stdout}{result.stderr}")


def _gradebook_main() -> int:
    """Reads [{id, name, email}] on stdin; writes them into the gradebook of the course in the working directory."""
    from nbgrader.api import Gradebook

    from course.grading.engine import database

    students = json.load(sys.stdin)
    with Gradebook(database.db_url(Path.cwd())) as gradebook:
        for student in students:
            first, _, last = student["name"].rpartition(" ")
            gradebook.update_or_create_student(student["id"], first_name=first or last, last_name=last if first else "",
                                               email=student["email"] or None)
    return 0


if __name__ == "__main__":
    if sys.argv[1:] == ["gradebook"]:
        sys.exit(_gradebook_main())
    print("usage: python -m course.commands.hub.accounts gradebook < students.json (used by course.commands.hub.manage)",
          file=sys.stderr)
    sys.exit(2)
