"""The course's late policy (course/grading/semester/late.py): 10% of the score per started day, never more than the score."""
import pytest

from course.grading.semester.late import PerDayPenalty
from tests.helpers import ROOT

DAY = 86400


@pytest.mark.parametrize("seconds_late, penalty", [
    (0, None),  # on time
    (1, 0.8),  # one second late: a started day
    (DAY, 0.8),
    (DAY + 1, 1.6),  # into the second day
    (25 * DAY, 8.0),  # capped at the score
])
def test_each_started_day_costs_ten_percent_of_the_score(seconds_late, penalty):
    assert PerDayPenalty().late_submission_penalty("s1", 8.0, seconds_late) == penalty


def test_the_share_is_configurable_and_zero_turns_it_off():
    assert PerDayPenalty(percent_per_day=25.0).late_submission_penalty("s1", 4.0, 2 * DAY) == 2.0
    assert PerDayPenalty(percent_per_day=0.0).late_submission_penalty("s1", 4.0, 2 * DAY) is None


def test_nbgrader_config_switches_it_on():
    from traitlets.config import Config, PyFileConfigLoader

    config = Config()
    loader = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT))
    config.merge(loader.load_config())
    assert config.AssignLatePenalties.plugin_class is PerDayPenalty
    assert config.PerDayPenalty.percent_per_day == 10.0


@pytest.mark.parametrize("seconds_late, penalty", [
    (15 * 60, None),  # within the grace period
    (15 * 60 + 1, 0.8),  # past it: the first started day counts from its end
    (DAY + 15 * 60, 0.8),
    (DAY + 15 * 60 + 1, 1.6),
])
def test_work_within_the_grace_period_costs_nothing_and_later_days_count_from_its_end(seconds_late, penalty):
    assert PerDayPenalty(grace_minutes=15.0).late_submission_penalty("s1", 8.0, seconds_late) == penalty


def test_the_course_policy_is_read_from_nbgrader_config(tmp_path):
    from course.grading.semester.late import course_policy

    config = (ROOT / "nbgrader_config.py").read_text()
    assert "c.PerDayPenalty.grace_minutes = 0\n" in config
    (tmp_path / "nbgrader_config.py").write_text(config.replace("grace_minutes = 0", "grace_minutes = 30")
                                                 .replace("percent_per_day = 10.0", "percent_per_day = 20.0"))
    policy = course_policy(tmp_path)
    assert isinstance(policy, PerDayPenalty) and policy.percent_per_day == 20.0
    assert policy.grace.total_seconds() == 30 * 60
