"""The exchange's release keeps to schedule.toml (course/grading/semester/release_gate.py): what the hub's
formgrader releases waits for its prerequisites' due dates and takes its own due date from the schedule."""
import datetime as dt
import runpy

import pytest
from nbgrader.auth import Authenticator
from nbgrader.coursedir import CourseDirectory
from nbgrader.exchange import ExchangeError
from traitlets.config import Config

from course.grading.semester import release_gate, schedule
from tests.grading.semester.test_schedule import UTC, gradebook
from tests.helpers import ROOT


def release(root, exchange, assignment: str, force: bool = False) -> None:
    config = Config()
    config.CourseDirectory.root = str(root)
    config.CourseDirectory.course_id = "course"
    config.CourseDirectory.assignment_id = assignment
    config.Exchange.root = str(exchange)
    config.ScheduledReleaseAssignment.force = force
    (root / "release" / assignment).mkdir(parents=True, exist_ok=True)
    (root / "release" / assignment / f"{assignment}.ipynb").write_text("{}")
    coursedir = CourseDirectory(config=config)
    release_gate.ScheduledReleaseAssignment(coursedir=coursedir, authenticator=Authenticator(config=config),
                                            config=config).start()


def test_the_course_config_names_the_gate_as_the_exchanges_release():
    config = runpy.run_path(str(ROOT / "nbgrader_config.py"), init_globals={"get_config": Config})["c"]
    assert config.ExchangeFactory.release_assignment == \
        "course.grading.semester.release_gate.ScheduledReleaseAssignment"


def test_formgraders_release_waits_for_prerequisites_and_feeds_the_due_date(scheduled_course, tmp_path, monkeypatch):
    exchange = tmp_path / "exchange"
    monkeypatch.setattr(schedule, "current_time", lambda: dt.datetime(2027, 4, 26, tzinfo=UTC))  # 02_b is open
    with pytest.raises(ExchangeError, match=r"07_c is not released:\n  07_c requires 02_b.*\n.*force=True"):
        release(scheduled_course, exchange, "07_c")
    assert not (exchange / "course" / "outbound" / "07_c").exists()

    release(scheduled_course, exchange, "01_a")
    assert (exchange / "course" / "outbound" / "01_a" / "01_a.ipynb").is_file()
    with gradebook(scheduled_course) as book:
        assert book.find_assignment("01_a").duedate == dt.datetime(2027, 4, 19, 21, 59)  # 23:59 in Berlin, as UTC

    release(scheduled_course, exchange, "07_c", force=True)
    assert (exchange / "course" / "outbound" / "07_c" / "07_c.ipynb").is_file()
