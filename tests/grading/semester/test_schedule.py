"""Assignments are the folders of source/; schedule.toml gives their dates, feeds the gradebook's due dates and
stops a release that comes before the assignments it requires are due (course/grading/semester/schedule.py).

Everything here works on gradebooks set up through nbgrader's API; nbgrader's own commands are replaced by a
recorder where a test only needs to know they were called, since each costs seconds.
"""
import datetime as dt

import pytest

from course import paths
from course.commands import handout
from course.commands import schedule as schedule_command
from course.grading.engine import database
from course.grading.semester import pipeline, schedule
from tests.grading.semester.conftest import CALENDAR
from tests.helpers import ROOT

UTC = dt.timezone.utc
NAMES = ["01_a", "02_b", "07_c"]


def gradebook(root):
    from nbgrader.api import Gradebook

    return Gradebook(database.db_url(root))


def give(root, assignment: str, student: str, **submission) -> None:
    with gradebook(root) as book:
        book.update_or_create_assignment(assignment)
        book.update_or_create_student(student)
        book.update_or_create_submission(assignment, student, **submission)


# --- the assignments ---------------------------------------------------------------------------------------

def test_the_assignments_are_the_source_folders_in_name_order(scheduled_course):
    assert paths.assignments(scheduled_course) == ("01_a", "02_b", "07_c")
    assert paths.ASSIGNMENTS == tuple(sorted(p.name for p in (ROOT / "source").iterdir() if p.is_dir()))
    (scheduled_course / "source" / "03_new").mkdir()
    assert paths.assignments(scheduled_course) == ("01_a", "02_b", "03_new", "07_c")


def test_assignment_may_name_several_by_spaces_commas_or_a_unique_start(scheduled_course):
    assert paths.choose("07_c 01", scheduled_course) == ["01_a", "07_c"]
    assert paths.choose("02_b,01_a", scheduled_course) == ["01_a", "02_b"]
    with pytest.raises(ValueError, match="'0' matches several; the assignments .* are: 01_a, 02_b, 07_c"):
        paths.choose("0", scheduled_course)
    with pytest.raises(ValueError, match="'99' is no assignment"):
        paths.choose("01 99", scheduled_course)
    assert pipeline.chosen(scheduled_course, None) == ["01_a", "02_b", "07_c"]
    assert pipeline.chosen(scheduled_course, ["07", "01_a,02"]) == ["01_a", "02_b", "07_c"]


def test_make_passes_assignment_and_force_to_release_handout_and_autograde():
    makefile = (ROOT / "Makefile").read_text()
    assert 'ASSIGNMENT_ARGS = $(if $(ASSIGNMENT),--assignment "$(ASSIGNMENT)")' in makefile
    for command in ("pipeline release $(ASSIGNMENT_ARGS)", "course.commands.handout $(ASSIGNMENT_ARGS)",
                    "pipeline autograde $(ASSIGNMENT_ARGS)", "-m course.commands.schedule"):
        assert command in makefile


# --- the file ----------------------------------------------------------------------------------------------

def test_times_are_read_in_the_files_time_zone(scheduled_course):
    calendar = schedule.load(scheduled_course)
    assert calendar.get("01_a").release == dt.datetime(2027, 4, 12, 7, 0, tzinfo=UTC)  # 09:00 CEST
    assert calendar.get("01_a").due == dt.datetime(2027, 4, 19, 21, 59, tzinfo=UTC)
    assert calendar.get("02_b").due == dt.datetime(2027, 4, 26, 23, 59, tzinfo=UTC)  # its own offset wins
    assert calendar.get("07_c").release == dt.datetime(2027, 6, 13, 22, 0, tzinfo=UTC)
    assert calendar.get("07_c").requires == ("02_b",) and calendar.get("02_b").release is None


@pytest.mark.parametrize("text, complaint", [
    ("[04_x]\ndue = 2027-01-01", r"\[04_x\] is no assignment \(the folders of source/ are: 01_a, 02_b, 07_c\)"),
    ("[01_a]\ndeadline = 2027-01-01", r"\[01_a\] has deadline; an assignment takes only due, release, requires, weight"),
    ('[01_a]\nweight = "2"', r"\[01_a\] weight = '2': a number, 0 or more"),
    ("[01_a]\nrelease = 2027-02-01\ndue = 2027-01-01", r"\[01_a\] is due before it is released"),
    ('[01_a]\ndue = "Monday"', r"\[01_a\] due is 'Monday': write a TOML date-time"),
    ('[07_c]\nrequires = ["02"]', r"\[07_c\] requires '02', which is no other assignment"),
    ('timezone = "Mars/Olympus"', r"'Mars/Olympus' is no IANA time zone"),
    ("[01_a\n", r"is not valid TOML"),
])
def test_a_wrong_schedule_is_refused_naming_what_to_fix(text, complaint):
    with pytest.raises(schedule.ScheduleError, match=complaint):
        schedule.parse(text, NAMES)


def test_the_courses_schedule_dates_every_assignment_and_holds_07_until_02_is_due():
    calendar = schedule.load(ROOT)
    for assignment in paths.ASSIGNMENTS:
        entry = calendar.get(assignment)
        assert entry.release and entry.due and entry.release < entry.due, assignment
    assert "02_padding_stride" in calendar.get("07_conv_backprop").requires


# --- the gradebook's due dates -------------------------------------------------------------------------------

def test_release_feeds_the_schedules_due_dates_into_the_gradebook(scheduled_course, monkeypatch):
    generated = []

    def generate(root, *args, check=True):  # nbgrader generate_assignment registers the assignment, no due date
        generated.append(args[1])
        with gradebook(root) as book:
            book.update_or_create_assignment(args[1])

    monkeypatch.setattr(pipeline, "nbgrader", generate)
    changed = pipeline.release(scheduled_course, ["01_a"])
    assert generated == ["01_a"]
    assert changed == ["01_a: due date none -> Mon 2027-04-19 23:59 CEST"]
    with gradebook(scheduled_course) as book:
        assert book.find_assignment("01_a").duedate == dt.datetime(2027, 4, 19, 21, 59)
        assert [a.name for a in book.assignments] == ["01_a"]  # the others are not touched
    assert pipeline.release(scheduled_course, ["01_a"]) == []  # nothing changed the second time
    (scheduled_course / schedule.FILE).write_text(CALENDAR.replace("due = 2027-04-19 ", "due = 2027-04-20 "))
    assert pipeline.release(scheduled_course, ["01_a"]) == ["01_a: due date Mon 2027-04-19 23:59 CEST -> "
                                                  "Tue 2027-04-20 23:59 CEST"]


# --- prerequisites -----------------------------------------------------------------------------------------

def test_an_assignment_is_held_until_what_it_requires_is_due_for_everyone(scheduled_course):
    calendar = schedule.load(scheduled_course)
    due = calendar.get("02_b").due
    before, after = due - dt.timedelta(minutes=1), due + dt.timedelta(minutes=1)
    [reason] = schedule.blockers(calendar, ["01_a", "07_c"], before)
    assert reason.startswith("07_c requires 02_b, which is due Tue 2027-04-27 01:59 CEST: releasing 07_c now")
    assert schedule.blockers(calendar, ["01_a", "07_c"], after) == []
    give(scheduled_course, "02_b", "s7", extension=dt.timedelta(hours=48))
    give(scheduled_course, "02_b", "s8", extension=dt.timedelta(hours=2))
    extensions = schedule.latest_extensions(scheduled_course)
    assert extensions == {"02_b": ("s7", dt.timedelta(hours=48))}
    [reason] = schedule.blockers(calendar, ["07_c"], after, extensions)
    assert "open until Thu 2027-04-29 01:59 CEST (s7's extension)" in reason
    assert schedule.blockers(calendar, ["07_c"], due + dt.timedelta(hours=48, minutes=1), extensions) == []
    [reason] = schedule.blockers(calendar, ["07_c"], after, grace=dt.timedelta(minutes=5))
    assert "(the grace period)" in reason


def test_release_and_handout_stop_with_the_reason_unless_forced(scheduled_course, monkeypatch, capsys):
    calling = []
    monkeypatch.setattr(pipeline, "nbgrader", lambda root, *args, check=True: calling.append(args))
    monkeypatch.setattr(schedule, "current_time", lambda: dt.datetime(2027, 4, 26, tzinfo=UTC))  # 02_b is open
    assert pipeline.main(["release", "--root", str(scheduled_course), "--assignment", "07"]) == 1
    assert calling == []
    err = capsys.readouterr().err
    assert "Not released:\n  07_c requires 02_b" in err and "FORCE=1" in err
    assert handout.main(["--root", str(scheduled_course), "--assignment", "01 07", "--output", str(scheduled_course / "h.zip")]) == 1
    assert "Not handed out:\n  07_c requires 02_b" in capsys.readouterr().err and not (scheduled_course / "h.zip").exists()
    assert pipeline.main(["release", "--root", str(scheduled_course), "--assignment", "01"]) == 0
    assert pipeline.main(["release", "--root", str(scheduled_course), "--assignment", "07", "--force"]) == 0
    assert [args[1] for args in calling] == ["01_a", "07_c"]


def test_a_handout_of_some_assignments_holds_only_their_notebooks():
    files = handout.contents(ROOT, ["03_pooling", "05_training_loop"])
    notebooks = sorted(path for path in files if path.startswith("release/"))
    assert notebooks == ["release/03_pooling/03_pooling.ipynb", "release/05_training_loop/05_training_loop.ipynb"]


def test_make_schedule_shows_dates_state_gradebook_and_extensions(scheduled_course, capsys):
    give(scheduled_course, "01_a", "s1", extension=dt.timedelta(hours=24))
    with gradebook(scheduled_course) as book:
        book.update_or_create_assignment("01_a", duedate="2027-04-18 10:00:00 UTC")
    assert schedule_command.main(["--root", str(scheduled_course), "--now", "2027-04-20T12:00:00+00:00"]) == 0
    out = capsys.readouterr().out
    lines = {line.split()[0]: line for line in out.splitlines() if line.startswith("0")}
    assert "Mon 2027-04-12 09:00 CEST  Mon 2027-04-19 23:59 CEST" in lines["01_a"] and "overdue" in lines["01_a"]
    assert lines["02_b"].endswith("open, due in 6 d 11 h")
    assert lines["07_c"].split()[-3:] == ["02", "not", "released"]
    assert "01_a: the gradebook has due date Sun 2027-04-18 12:00 CEST" in out
    assert "01_a: extensions given, the longest 24 h (s1)" in out
    assert "grace period after a due date: 0 min" in out
    assert "is released before" not in out
    (scheduled_course / schedule.FILE).write_text(CALENDAR.replace("release = 2027-06-14", "release = 2027-04-20"))
    assert schedule_command.main(["--root", str(scheduled_course), "--now", "2027-04-20T12:00:00+00:00"]) == 0
    assert ("07_c is released before 02_b is due: make release and make handout will refuse it until "
            "Tue 2027-04-27 01:59 CEST") in capsys.readouterr().out
