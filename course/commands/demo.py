"""`make all`'s grading round on the demo class, in `demo/`: release, autograde, feedback, grades, LMS files, check.

Everything it writes stays in `demo/`, a course folder of its own with its own SQLite gradebook; the
instructor's `gradebook.db` (or the server COURSE_DB_URL names), `submitted/`, `autograded/`, `feedback/`
and grade files are never opened for writing, so it can be run in the middle of a semester.
"""
import argparse
import sys
from pathlib import Path

from ..grading.semester import demo, pipeline
from ..paths import ASSIGNMENTS, PROJECT_ROOT
from . import lms


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=PROJECT_ROOT, help="the course beside which demo/ is made")
    parser.add_argument("--assignment", action="append", help="limit to these assignments")
    args = parser.parse_args(argv)
    chosen = args.assignment or ASSIGNMENTS
    try:
        where = demo.prepare(args.root, chosen)
    except demo.NotTheDemo as error:
        print(error, file=sys.stderr)
        return 1
    print(f"demo class (alice, bob, carol) in {where}/submitted")
    only = [f"--assignment={a}" for a in pipeline.present(where, chosen)]
    for step in ("autograde", "feedback", "grades"):
        if pipeline.main([step, "--root", str(where), *only]) != 0:
            return 1
    # Nobody grades the demo class's written answers, so its LMS files are written regardless.
    if lms.main(["--root", str(where), "grades", "--allow-ungraded"]) != 0:
        return 1
    return 0 if demo.check(where) else 1


if __name__ == "__main__":
    sys.exit(main())
