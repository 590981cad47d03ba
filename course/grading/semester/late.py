"""The course's late policy: a share of the notebook's score per started day after the due date.

nbgrader's own LateSubmissionPlugin knows only "no penalty" and "zero"; a course
that accepts late work usually takes a fixed share per day instead. The penalty is
computed when the notebook is autograded, from its autograded score and the
submission's `timestamp.txt` against the assignment's due date in the gradebook,
and nbgrader caps it at the score. `nbgrader_config.py` switches it on
(`c.PerDayPenalty.percent_per_day`, 10 by default; 0 turns penalties off) and sets the grace period
(`c.PerDayPenalty.grace_minutes`): work that late costs nothing, and later work counts its days from the
end of the grace period.
"""
import datetime as dt
import math

from nbgrader.plugins import LateSubmissionPlugin
from traitlets import Float

from ..engine.penalties import policy as course_policy  # noqa: F401 (the policy as nbgrader_config.py sets it up)


class PerDayPenalty(LateSubmissionPlugin):
    """`percent_per_day` of the score for every started day late: 1 s late already costs one day's share."""

    percent_per_day = Float(10.0, help="Percent of the notebook's score lost per started day late.").tag(config=True)
    grace_minutes = Float(0.0, help="Minutes after the due date (and any extension) that cost nothing.").tag(config=True)

    @property
    def grace(self) -> dt.timedelta:
        return dt.timedelta(minutes=max(0.0, self.grace_minutes))

    def late_submission_penalty(self, student_id: str, score: float, total_seconds_late: float) -> float | None:
        late = total_seconds_late - self.grace.total_seconds()
        if late <= 0 or self.percent_per_day <= 0:
            return None
        days = math.ceil(late / 86400)
        return min(score, round(score * self.percent_per_day / 100 * days, 4))
