"""A small scheduled course: three assignment folders, a schedule.toml and an empty gradebook."""
import shutil

import pytest

from course.grading.engine import database
from course.grading.semester import schedule
from tests.helpers import ROOT

CALENDAR = """
timezone = "Europe/Berlin"

[01_a]
release = 2027-04-12 09:00:00
due = 2027-04-19          # a date alone: its last minute

[02_b]
due = 2027-04-26T23:59:00Z

[07_c]
release = 2027-06-14
due = 2027-06-28 23:59:00
requires = ["02_b"]
"""


@pytest.fixture(scope="module")
def schedule_gradebook(tmp_path_factory):
    """An empty gradebook, made once (each costs seconds) and copied into each test's course."""
    from nbgrader.api import Gradebook

    path = tmp_path_factory.mktemp("schedule") / "gradebook.db"
    Gradebook(f"sqlite:///{path}").close()
    return path


@pytest.fixture
def scheduled_course(tmp_path, monkeypatch, schedule_gradebook):
    """A course of three assignment folders (in no particular creation order), a schedule and an empty gradebook."""
    monkeypatch.delenv(database.ENV_DB_URL, raising=False)
    root = tmp_path / "course"
    root.mkdir()
    shutil.copy2(schedule_gradebook, root / "gradebook.db")
    for name in ("07_c", "01_a", "02_b"):
        (root / "source" / name).mkdir(parents=True)
        (root / "source" / name / f"{name}.ipynb").write_text("{}")
    (root / "source" / ".ipynb_checkpoints").mkdir()
    (root / "source" / "notes.txt").write_text("not an assignment")
    shutil.copy2(ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
    (root / schedule.FILE).write_text(CALENDAR)
    return root
