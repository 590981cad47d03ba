"""`make clean`: remove what the course's commands generate; a real course's data only with FORCE=1.

The demo round's folder, the class report (`make report` makes it again), the handout and caches go at
once. Students' work and grades (submissions, autograded and feedback folders, LMS downloads, grade
files) and a gradebook holding students or due dates are listed and kept unless `--force` is given:
losing them mid-semester cannot be undone.
"""
import argparse
import shutil
import sqlite3
import sys
from pathlib import Path

from ..paths import PROJECT_ROOT

GENERATED = ["demo", "handout", "reports", ".pytest_cache"]
COURSE_FOLDERS = ["submitted", "autograded", "feedback", "downloaded"]
GRADE_FILES = ["grades.csv", "grades-canvas.csv", "grades-moodle.csv"]
GRADEBOOK = "gradebook.db"
KEEP = {"README.md"}  # autograded/README.md is part of the repository


def _entries(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.name not in KEEP) if folder.is_dir() else []


def _gradebook_holds(path: Path) -> str:
    """What in the gradebook is worth keeping, in words ('' when nothing)."""
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            students = db.execute("SELECT count(*) FROM student").fetchone()[0]
            due = db.execute("SELECT count(*) FROM assignment WHERE duedate IS NOT NULL").fetchone()[0]
    except sqlite3.Error:
        return "a gradebook this command cannot read"
    held = [f"{students} student(s)" if students else "", f"{due} due date(s)" if due else ""]
    return " and ".join(h for h in held if h)


def course_data(root: Path) -> list[str]:
    """The real course's data under `root`, one line each."""
    found = []
    for name in COURSE_FOLDERS:
        entries = _entries(root / name)
        if entries:
            found.append(f"{name}/ ({len(entries)} entries: {', '.join(p.name for p in entries[:5])}"
                         f"{', ...' if len(entries) > 5 else ''})")
    found += [name for name in GRADE_FILES if (root / name).exists()]
    if (root / GRADEBOOK).exists() and (held := _gradebook_holds(root / GRADEBOOK)):
        found.append(f"{GRADEBOOK} ({held})")
    return found


def clean(root: Path, force: bool) -> int:
    for name in GENERATED:
        shutil.rmtree(root / name, ignore_errors=True)
    kept = course_data(root)
    if kept and not force:
        print("make clean keeps the course's data; it would delete:", *kept, sep="\n  ", file=sys.stderr)
        print("Export the grades first if you need them, then run `make clean FORCE=1` to delete these.",
              file=sys.stderr)
        return 1
    for name in COURSE_FOLDERS:
        for path in _entries(root / name):
            shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()
    for name in [*GRADE_FILES, GRADEBOOK]:
        (root / name).unlink(missing_ok=True)
    if kept:
        print("deleted:", *kept, sep="\n  ")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=PROJECT_ROOT)
    parser.add_argument("--force", action="store_true", help="also delete submissions, grades and the gradebook")
    args = parser.parse_args(argv)
    return clean(args.root.resolve(), args.force)


if __name__ == "__main__":
    sys.exit(main())
