"""The hub's Unix accounts: the instructor, the graders (TAs), one per student of roster.csv (run as root).

A student's roster id is what people read (gradebook, formgrader, grades, LMS files); their Unix name
is derived from it (`unix_names`): the id itself when it is already a safe Unix name, else `s` and
the id lower-cased and cleaned (`2024-0017` becomes `s2024-0017`), with a short hash added on a
collision. The hub's collector (course.commands.hub.exchange) maps the Unix name back to the id. An
existing account is only reused when this course made it (it belongs to the course's group);
anything else is refused before any account is touched.

Accounts are for the hub only: their Unix password is locked and their login shell is nologin, so
nobody logs in to the machine itself (SSH, `su`); the hub checks its own password file (`logins`,
scrypt hashes, root only; course.commands.hub.login). New accounts get a random hub password, also
written in clear to a root-only hand-out file. Homes are mode 700: students cannot read each other's work.
"""
from __future__ import annotations

import datetime
import grp
import hashlib
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
NOLOGIN = next((p for p in ("/usr/sbin/nologin", "/sbin/nologin") if os.path.exists(p)), "/usr/sbin/nologin")


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


def unix_names(ids, previous: dict | None = None, reserved=()) -> dict:
    """roster id -> a safe Unix name, stable across runs (`previous`), unique among the ids and `reserved`."""
    previous = previous or {}
    names, taken = {}, set(reserved) | {i for i in ids if SAFE_NAME.match(i)}
    for student_id in ids:
        if student_id in previous:
            names[student_id] = previous[student_id]
        elif SAFE_NAME.match(student_id):
            names[student_id] = student_id
    taken |= set(names.values())
    for student_id in ids:
        if student_id in names:
            continue
        name = ("s" + re.sub(r"[^a-z0-9_-]", "_", student_id.lower()))[:32]
        if name in taken:
            name = f"{name[:25]}-{hashlib.sha256(student_id.encode()).hexdigest()[:6]}"
        if name in taken:
            raise AccountError(f"no free Unix name for the student id {student_id!r}: rename it in the roster")
        names[student_id] = name
        taken.add(name)
    return names


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


def _group(group: str) -> None:
    try:
        grp.getgrnam(group)
    except KeyError:
        _run("groupadd", "--system", group)


def ensure(accounts: dict, group: str, homes: Path, passwords: Path, extra_groups=()) -> list[str]:
    """Create the missing accounts (name -> full name) in `group` (and `extra_groups`); returns the names created.

    Refuses everything first if any name is unsafe or foreign. Every account, old or new, gets a locked Unix
    password and nologin as its shell. New accounts' hub passwords are added to `passwords` (mode 600, root's,
    one `name:password` a line) and, hashed, to the `logins` file beside it."""
    refuse_foreign(list(accounts), group)
    for name in (group, *extra_groups):
        _group(name)
    homes = Path(homes)
    homes.mkdir(parents=True, exist_ok=True)
    created = []
    for name, full_name in accounts.items():
        if not _exists(name):
            comment = re.sub(r"[:,\n]", " ", full_name)[:100]
            _run("useradd", "--create-home", "--home-dir", str(homes / name), "--shell", NOLOGIN,
                 "--comment", comment, "--groups", group, name)
            created.append(name)
        _run("usermod", "--lock", "--expiredate", "", "--shell", NOLOGIN, "--append", "--groups",
             ",".join((group, *extra_groups)), name)
        home = Path(pwd.getpwnam(name).pw_dir)
        if not home.is_dir():  # a student dropped earlier, back on the roster: their old home is in the archive
            home.mkdir(parents=True)
            shutil.chown(home, name, pwd.getpwnam(name).pw_gid)
        os.chmod(home, 0o700)
    known = read_passwords(passwords)
    known.update({name: secrets.token_urlsafe(12) for name in created})
    _write_private(passwords, known)
    logins = read_passwords(logins_file(passwords))
    logins.update({name: hash_password(known[name]) for name in accounts if name in known and name not in logins})
    _write_private(logins_file(passwords), logins)
    return created


def logins_file(passwords: Path) -> Path:
    return Path(passwords).with_name("logins")


def hash_password(password: str, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1)
    return f"scrypt${salt.hex()}${digest.hex()}"


def password_matches(password: str, stored: str) -> bool:
    kind, _, rest = stored.partition("$")
    salt, _, _ = rest.partition("$")
    if kind != "scrypt" or not salt:
        return False
    return secrets.compare_digest(hash_password(password, bytes.fromhex(salt)), stored)


def _write_private(path: Path, entries: dict) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write("".join(f"{n}:{p}\n" for n, p in sorted(entries.items())))
    os.chmod(path, 0o600)


def drop(names, group: str, passwords: Path, archive: Path) -> list[Path]:
    """Students who left: processes stopped, account locked and expired, hub login removed, home archived.

    The account stays (its uid still owns its submissions in the exchange); nothing of the course's is
    deleted. Returns the archives written (root only)."""
    archive = Path(archive)
    archive.mkdir(mode=0o700, parents=True, exist_ok=True)
    logins = read_passwords(logins_file(passwords))
    written = []
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    for name in names:
        logins.pop(name, None)
        if not (_exists(name) and _member(name, group)):
            continue
        subprocess.run(["pkill", "-KILL", "-u", name], capture_output=True)
        _run("usermod", "--lock", "--expiredate", "1", "--shell", NOLOGIN, name)
        home = Path(pwd.getpwnam(name).pw_dir)
        if home.is_dir():
            target = archive / f"{name}-{stamp}.tar.gz"
            _run("tar", "--create", "--gzip", "--file", str(target), "--directory", str(home.parent), home.name)
            os.chmod(target, 0o600)
            shutil.rmtree(home)
            written.append(target)
    _write_private(logins_file(passwords), logins)
    return written


def read_passwords(passwords: Path) -> dict:
    if not Path(passwords).is_file():
        return {}
    return dict(line.split(":", 1) for line in Path(passwords).read_text().splitlines() if ":" in line)


def remove(names, group: str) -> None:
    """Delete accounts this course made (members of `group`) with their homes; others are left alone."""
    for name in names:
        if _exists(name) and _member(name, group):
            subprocess.run(["pkill", "-KILL", "-u", name], capture_output=True)
            home_left = Path(pwd.getpwnam(name).pw_dir).is_dir()  # a dropped student's is archived already
            _run("userdel", *(["--remove"] if home_left else []), name)


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
