"""The LMS route, for courses without a JupyterHub: submissions in from Canvas or Moodle, grades back out.

`make collect-lms ZIP=download.zip [ASSIGNMENT=01_convolution]` imports the LMS's bulk download of
an assignment's submissions into `submitted/` (course/grading/semester/lms_collect.py) and prints what became
of every file. `make grades` ends with `grades`, which writes grades-canvas.csv and grades-moodle.csv
for the LMS's grade import (course/grading/semester/lms_grades.py), and refuses while written answers wait.

`python -m course.commands.lms collect ZIP [--assignment A] [--lms canvas|moodle] [--zip-times]`
`python -m course.commands.lms grades [--allow-ungraded]`
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .. import paths
from ..grading.semester import lms_collect, lms_grades
from ..grading.semester import roster as roster_module
from ..paths import PROJECT_ROOT


def collect(args) -> int:
    report = lms_collect.collect(args.zip, args.root, paths.assignments(args.root), args.assignment,
                                 args.lms, args.zip_times, args.timezone)
    print(report.text())
    return 0


def grades(args) -> int:
    path = args.root / roster_module.ROSTER_FILE
    roster = roster_module.load(path) if path.is_file() else None
    try:
        done = lms_grades.write(args.root, paths.assignments(args.root), roster, allow_ungraded=args.allow_ungraded)
    except lms_grades.UngradedWork as waiting:
        stale = [p for p in (args.root / lms_grades.CANVAS_FILE, args.root / lms_grades.MOODLE_FILE) if p.exists()]
        for p in stale:  # an older export must not be uploaded by mistake in place of the missing one
            p.unlink()
        print(f"Not writing the LMS grade files: {len(waiting.pending)} submissions have written answers that "
              f"still wait for manual grading in formgrader:", *(f"{s}/{a}" for s, a in waiting.pending),
              sep="\n  ", file=sys.stderr)
        print("Grade them (make lab, then Formgrader), or write the files anyway with make grades UNGRADED=1 "
              "(ungraded answers then count zero)." + (f" Removed the older {', '.join(p.name for p in stale)}."
                                                        if stale else ""), file=sys.stderr)
        return 1
    if roster is None:
        print(f"No {path.name}: the LMS files carry only the course's student ids (as SIS User ID and ID number);"
              " docs/instructors.md, section 3, describes the roster.", file=sys.stderr)
    elif done["not_on_roster"]:
        print(f"Not on {path.name} (exported by id alone): {', '.join(done['not_on_roster'])}", file=sys.stderr)
    if done["pending"]:
        print("WARNING: written answers still ungraded (counted zero): "
              + ", ".join(f"{s}/{a}" for s, a in done["pending"]), file=sys.stderr)
    for student, assignment, penalty in done["late"]:
        print(f"late penalty: {student}/{assignment} loses {lms_grades.number(penalty)} points")
    print("LMS grade import files written: " + ", ".join(str(p) for p in done["files"]))
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=PROJECT_ROOT, help="the course folder")
    steps = parser.add_subparsers(dest="step", required=True)
    one = steps.add_parser("collect", help="import an LMS's bulk download of submissions")
    one.add_argument("zip", type=Path)
    one.add_argument("--assignment", help="default: the one assignment whose notebooks the download holds")
    one.add_argument("--lms", choices=sorted(lms_collect.PATTERNS), help="default: told by the file names")
    one.add_argument("--zip-times", action="store_true",
                     help="take each upload's time stored in the zip as its submission time (timestamp.txt)")
    one.add_argument("--timezone", default="UTC", help="the zone of the zip's times (default UTC)")
    two = steps.add_parser("grades", help="write grades-canvas.csv and grades-moodle.csv")
    two.add_argument("--allow-ungraded", action="store_true", help="write them although written answers wait")
    args = parser.parse_args(argv)
    args.root = args.root.resolve()
    try:
        return collect(args) if args.step == "collect" else grades(args)
    except (lms_collect.CollectError, roster_module.RosterError) as error:
        print(error, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
