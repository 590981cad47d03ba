"""The course's late policy: a share of the notebook's score per started day after the due date.

nbgrader's own LateSubmissionPlugin knows only "no penalty" and "zero"; a course
that accepts late work usually takes a fixed share per day instead. The penalty is
computed when the notebook is autograded, from its autograded score and the
submission's `timestamp.txt` against the assignment's due date in the gradebook,
and nbgrader caps it at the score. `nbgrader_config.py` switches it on
(`c.PerDayPenalty.percent_per_day`, 10 by default; 0 turns penalties off).
"""
import math

from nbgrader.plugins import LateSubmissionPlugin
from traitlets import Float


class PerDayPenalty(LateSubmissionPlugin):
    """`percent_per_day` of the score for every started day late: 1 s late already costs one day's share."""

    percent_per_day = Float(10.0, help="Percent of the notebook's score lost per started day late.").tag(config=True)

    def late_submission_penalty(self, student_id: str, score: float, total_seconds_late: float) -> float | None:
        if total_seconds_late <= 0 or self.percent_per_day <= 0:
            return None
        days = math.ceil(total_seconds_late / 86400)
        return min(score, round(score * self.percent_per_day / 100 * days, 4))
