"""`make extend STUDENT=s123 ASSIGNMENT=05_training_loop HOURS=48`: an extension for one student, and their late
penalty recomputed at once (course/grading/semester/extensions.py); HOURS=0 takes it back.

Only that student's submission of that assignment is written; `make grades` then writes grades.csv and the
LMS files with the new penalty.

`python -m course.commands.extend --student S --assignment A --hours H [--root COURSE]`
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .. import paths
from ..grading.semester import extensions, roster, schedule


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=paths.PROJECT_ROOT, help="the course folder")
    parser.add_argument("--student", required=True)
    parser.add_argument("--assignment", required=True, help="its name, or a start of it that names one")
    parser.add_argument("--hours", type=float, required=True, help="the extension in hours; 0 takes it back")
    args = parser.parse_args(argv)
    try:
        chosen = paths.choose(args.assignment, args.root)
        if len(chosen) != 1:
            raise extensions.ExtensionError(f"ASSIGNMENT={args.assignment!r}: name one assignment")
        change = extensions.extend(args.root, chosen[0], args.student, args.hours)
        calendar = schedule.load(args.root)
    except (ValueError, roster.RosterError) as error:
        print(error, file=sys.stderr)
        return 1
    print(change.text(calendar))
    print("No other student's data changed. `make grades` writes grades.csv and the LMS files with it.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
