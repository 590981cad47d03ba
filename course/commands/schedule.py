"""`make schedule`: the course's calendar (schedule.toml) as a table, with where each assignment stands now.

Beside the file's release and due dates it shows what the gradebook holds where that differs (a due date typed
in formgrader, or a schedule edited since the last release), the longest extension on each assignment, and the
grace period of nbgrader_config.py.

`python -m course.commands.schedule [--root COURSE] [--now 2027-05-01T12:00+02:00]`
"""
from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from .. import paths
from ..grading.semester import late, schedule


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=paths.PROJECT_ROOT, help="the course folder")
    parser.add_argument("--now", type=dt.datetime.fromisoformat, help="show the course as at this time (ISO 8601)")
    args = parser.parse_args(argv)
    now = args.now or dt.datetime.now(schedule.UTC)
    now = now if now.tzinfo else now.replace(tzinfo=schedule.UTC)
    try:
        calendar = schedule.load(args.root)
    except schedule.ScheduleError as error:
        print(error, file=sys.stderr)
        return 1
    if calendar is None:
        print(f"No {schedule.FILE} in {args.root}: due dates are only what formgrader holds. "
              "docs/instructors.md, section 2, shows how to write one.", file=sys.stderr)
        return 1
    print(schedule.table(calendar, paths.assignments(args.root), now, schedule.gradebook_due_dates(args.root),
                         schedule.latest_extensions(args.root)))
    policy = late.course_policy(args.root)
    grace = getattr(policy, "grace", None)
    print(f"now: {schedule.shown(now, calendar)}; grace period after a due date: "
          + (f"{grace.total_seconds() / 60:g} min" if grace is not None else "none")
          + " (c.PerDayPenalty.grace_minutes in nbgrader_config.py)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
