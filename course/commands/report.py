"""`make report`: the instructor's class report, `reports/index.html` and one page per assignment.

Reads the gradebook (COURSE_DB_URL or gradebook.db), the grading ledger and `autograded/`; changes none
of them. The report names students, so its folder is readable by the account that wrote it only, and
it is never part of the students' handout. docs/instructors.md (section "The class report") explains
each figure and how to read a pair of similar submissions.

`python -m course.commands.report [--root COURSE] [--output FOLDER] [--assignment A ...] [--no-similarity]`
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tqdm import tqdm

from ..grading.engine import database
from ..grading.semester.report import render
from ..paths import PROJECT_ROOT


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=PROJECT_ROOT, help="the course folder")
    parser.add_argument("--output", type=Path, help="where to write it (default: ROOT/reports)")
    parser.add_argument("--no-similarity", action="store_true", help="skip the similar-submissions check")
    parser.add_argument("--assignment", action="append", help="only these assignments (default: every graded one)")
    args = parser.parse_args(argv)
    url = database.db_url(args.root)
    if database.is_sqlite(url) and not (args.root / "gradebook.db").is_file():
        print(f"no gradebook in {args.root}: grade first (`make autograde`), or set {database.ENV_DB_URL}",
              file=sys.stderr)
        return 1
    output = args.output or args.root / "reports"
    print(f"class report from {database.shown(url)} and {args.root / 'autograded'}:")
    index = render.write(args.root, output, similar=not args.no_similarity, progress=True, say=tqdm.write,
                         assignments=args.assignment)
    print(f"report written to {index} (readable by this account only; open it in a browser, or in "
          f"JupyterLab's file browser on the instructor's hub server)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
