"""nbgrader's release to the exchange, held to `schedule.toml`: the hub's formgrader and `nbgrader
release_assignment` refuse an assignment whose prerequisites are not yet due, and a released assignment
takes its due date from the schedule, as `make release` does for the handout route.

`nbgrader_config.py` names this class as the exchange's release; `--ScheduledReleaseAssignment.force=True`
releases anyway."""
from __future__ import annotations

from pathlib import Path

from nbgrader.exchange.default.release_assignment import ExchangeReleaseAssignment
from traitlets import Bool

from . import schedule


class ScheduledReleaseAssignment(ExchangeReleaseAssignment):
    force = Bool(False, help="Release even when an assignment it requires is not yet due.").tag(config=True)

    @property
    def course_root(self) -> Path:
        return Path(self.coursedir.root)

    def init_src(self):
        super().init_src()
        reasons = [] if self.force else schedule.release_blockers(self.course_root, [self.coursedir.assignment_id])
        if reasons:
            self.fail("\n  ".join([f"{self.coursedir.assignment_id} is not released:", *reasons])
                      + "\nWait until then, or release anyway from a terminal: nbgrader release_assignment "
                      f"{self.coursedir.assignment_id} --ScheduledReleaseAssignment.force=True")

    def copy_files(self):
        super().copy_files()
        calendar = schedule.load(self.course_root)
        if calendar is not None:
            for line in schedule.feed(self.course_root, calendar, [self.coursedir.assignment_id]):
                self.log.info(line)
