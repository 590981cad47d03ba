"""Grading on submit without a hub: the queue's order and limits, the refusals, the hidden-test policy, and the
fault tests (the service killed mid-grade, submissions arriving while it is down).

The fault tests run the real Grader and queue in a child process, with a stand-in for the engine that logs
each start and finish, so a SIGKILL can land in the middle of a grade. That the engine never grades a
recorded submission twice is checked on the hub (tests/hub/test_on_submit.py).
"""
from __future__ import annotations

import datetime
import getpass
import os
import pwd
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from course.grading.semester.on_submit import inbound, policy
from course.grading.semester.on_submit.queue import HOUR, Queue
from tests.helpers import ROOT

ME = getpass.getuser()


def entry(student: str, assignment: str, minute: int) -> inbound.Entry:
    return inbound.Entry(f"{student}+{assignment}+2026-01-01 10:{minute:02d}:00.000000 UTC+x{minute}", student,
                         assignment, f"2026-01-01 10:{minute:02d}:00.000000 UTC")


def test_the_hourly_limit_holds_the_sixth_until_the_window_allows(tmp_path):
    queue = Queue(tmp_path / "q.sqlite")
    start = 1_000_000.0
    for n in range(6):
        queue.add([entry("s1", "01", n)], now=start + n)
        ready = queue.ready(per_hour=5, now=start + n)
        if n < 5:
            assert [r.name for r in ready] == [entry("s1", "01", n).name]
            queue.start([ready[0].name], now=start + n)
            queue.finish(ready[0].name, "graded", now=start + n)
    assert ready == [], "the sixth submission within the hour was graded"
    held = queue.rows(state="held")
    assert len(held) == 1 and held[0].not_before == start + HOUR and "5 submissions" in held[0].reason
    assert queue.ready(per_hour=5, now=start + HOUR - 1) == []
    assert [r.name for r in queue.ready(per_hour=5, now=start + HOUR + 1)] == [held[0].name]
    # Another student, or another assignment, is not held by s1's count.
    queue.add([entry("s2", "01", 7), entry("s1", "02", 8)], now=start + 10)
    assert {r.student + r.assignment for r in queue.ready(per_hour=5, now=start + 10)} == {"s201", "s102"}


def test_a_later_submission_supersedes_a_waiting_one_and_positions_count_from_one(tmp_path):
    queue = Queue(tmp_path / "q.sqlite")
    queue.add([entry("s1", "01", 1), entry("s2", "01", 2), entry("s1", "01", 3)], now=5.0)
    assert [queue.position(e.name) for e in (entry("s1", "01", 1), entry("s2", "01", 2))] == [1, 2]
    ready = queue.ready(per_hour=5, now=6.0)
    assert [r.name for r in ready] == [entry("s2", "01", 2).name, entry("s1", "01", 3).name]
    older = queue.rows(state="superseded")
    assert [r.name for r in older] == [entry("s1", "01", 1).name] and "later submission" in older[0].reason
    queue.start([ready[0].name])
    assert queue.recover() == [ready[0].name] and queue.rows(state="grading") == []
    assert queue.add([entry("s2", "01", 2)]) == [], "a known submission was queued again"


def test_refusals_name_the_reason(tmp_path):
    good = tmp_path / "good"
    good.mkdir()
    (good / "a.ipynb").write_text("{}")
    assert inbound.refusal(good, ME, 1000) is None
    assert "over the course's limit" in inbound.refusal(good, ME, 1)
    assert "handed in by" in inbound.refusal(good, "someone-else", 1000)
    (good / "secret").symlink_to("/etc/hostname")
    assert "secret is a link" in inbound.refusal(good, ME, 1000)
    assert inbound.Entry.parse("no-plus-signs") is None
    assert inbound.Entry.parse("a+01+2026-01-01 10:00:00 UTC+rnd").student == "a"


def test_hidden_tests_are_withheld_but_visible_checks_are_kept():
    visible = 'checks.check_value("shape", s, (2, 2))'
    cell = nbformat.v4.new_code_cell("\n".join([visible, "### BEGIN HIDDEN TESTS", "print('\u2705 secret: 42')",
                                                "assert False, 'the hidden answer is 42'", "### END HIDDEN TESTS"]))
    hidden_error = nbformat.v4.new_output("error", ename="AssertionError", evalue="the hidden answer is 42",
                                          traceback=["Cell In[3], line 4", "AssertionError: the hidden answer is 42"])
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="\u2705 shape: correct\n\u2705 secret: 42\n"),
                    hidden_error]
    assert policy.withhold(cell, "until the due date")
    shown = nbformat.writes(nbformat.v4.new_notebook(cells=[cell]))
    assert "42" not in shown and "BEGIN HIDDEN" not in shown
    assert "shape: correct" in shown and visible in cell.source and "withheld until the due date" in shown
    visible_error = nbformat.v4.new_output("error", ename="AssertionError", evalue="shape wrong",
                                           traceback=["Cell In[3], line 1", "AssertionError: shape wrong"])
    again = nbformat.v4.new_code_cell("\n".join([visible, "### BEGIN HIDDEN TESTS", "pass", "### END HIDDEN TESTS"]))
    again.outputs = [visible_error]
    policy.withhold(again, "until the due date")
    assert again.outputs[0]["evalue"] == "shape wrong", "a visible check's failure was withheld"
    assert not policy.withhold(nbformat.v4.new_code_cell(visible), "until the due date")


def test_the_policy_follows_the_due_date_and_the_setting():
    from traitlets.config import Config

    now = datetime.datetime(2026, 1, 2)
    config = Config()
    for setting, before, after, undated in (("until_due", True, False, True), ("points_only", True, True, True),
                                            ("everything", False, False, False)):
        config.WithholdHiddenTests.policy = setting
        assert policy.hidden_until_due(config, now + datetime.timedelta(hours=1), now) is before, setting
        assert policy.hidden_until_due(config, now - datetime.timedelta(hours=1), now) is after, setting
        assert policy.hidden_until_due(config, None, now) is undated, setting
    assert policy.settings(policy.load(ROOT)).per_hour == 5


# --- the fault tests -----------------------------------------------------------------------------------
ASSIGNMENTS = ("01_convolution", "02_padding_stride", "03_pooling")


def run_service(course: str, exchange: str, log: str, stall: str) -> None:
    """The child process: the real Grader, with an engine stand-in that stalls while the `stall` file exists."""
    from course.grading.semester.on_submit.grader import Grader

    def grade(assignment, rows, finish):
        for row in rows:
            with open(log, "a") as handle:
                handle.write(f"start {row.name}\n")
            while Path(stall).exists():
                time.sleep(0.05)
            with open(log, "a") as handle:
                handle.write(f"done {row.name}\n")
            finish(row.name, "graded", None, [], False)

    grader = Grader(Path(course), Path(exchange), "test-course", grade=grade, say=lambda line: None)
    while True:
        grader.round()
        time.sleep(0.1)


@pytest.fixture
def queue_course(tmp_path):
    from nbgrader.api import Gradebook

    from course.grading.engine import database

    root = tmp_path / "course"
    for assignment in ASSIGNMENTS:
        (root / "source" / assignment).mkdir(parents=True)
        (root / "source" / assignment / f"{assignment}.ipynb").write_text("{}")
    (root / "nbgrader_config.py").write_text((ROOT / "nbgrader_config.py").read_text())
    with Gradebook(database.db_url(root)) as gradebook:
        gradebook.update_or_create_student(ME)
    (tmp_path / "exchange" / "test-course" / "inbound").mkdir(parents=True)
    return root


def submit(exchange: Path, assignment: str) -> str:
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f UTC")
    name = f"{ME}+{assignment}+{stamp}+{secrets.token_hex(6)}"
    (exchange / "test-course" / "inbound" / name).mkdir()
    (exchange / "test-course" / "inbound" / name / f"{assignment}.ipynb").write_text("{}")
    return name


def start(course: Path, log: Path, stall: Path) -> subprocess.Popen:
    code = ("import sys; from tests.grading.semester.test_on_submit import run_service; "
            "run_service(*sys.argv[1:])")
    return subprocess.Popen([sys.executable, "-c", code, str(course), str(course.parent / "exchange"), str(log),
                             str(stall)], cwd=ROOT, start_new_session=True)


def wait(condition, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def test_killed_mid_grade_and_restarted_it_grades_everything_once(queue_course):
    course = queue_course
    exchange, log, stall = course.parent / "exchange", course.parent / "log.txt", course.parent / "stall"
    log.touch()
    stall.touch()
    first = submit(exchange, ASSIGNMENTS[0])
    service = start(course, log, stall)
    try:
        wait(lambda: f"start {first}" in log.read_text(), "the service never started grading")
        os.killpg(service.pid, signal.SIGKILL)
        service.wait()
        arrived = [submit(exchange, a) for a in ASSIGNMENTS[1:]]  # while the service is down
        stall.unlink()
        service = start(course, log, stall)
        queue = Queue(course / "on_submit" / "queue.sqlite")
        wait(lambda: len(queue.rows(state="graded")) == 3, f"not all graded: {queue.rows()}")
    finally:
        os.killpg(service.pid, signal.SIGKILL)
        service.wait()
    lines = log.read_text().splitlines()
    for name in (first, *arrived):
        assert lines.count(f"done {name}") == 1, f"{name} finished {lines.count(f'done {name}')} times:\n{lines}"
    assert lines.count(f"start {first}") == 2, "the interrupted grade was not taken up again"
    assert all(lines.count(f"start {name}") == 1 for name in arrived)
    assert {r.name: r.tries for r in queue.rows()}[first] == 2


def test_the_page_says_when_a_held_submission_will_be_graded_and_what_waits_for_a_person(tmp_path):
    from course.commands.hub import grading_service

    queue = Queue(tmp_path / "q.sqlite")
    queue.add([entry("s1", "01", 1), entry("s1", "02", 2)], now=0.0)
    queue.start([entry("s1", "01", 1).name])
    queue.finish(entry("s1", "01", 1).name, "graded", scores=[
        {"exercise": "test_a", "score": 1.0, "max": 2.0, "waits": False},
        {"exercise": "essay", "score": None, "max": 1.0, "waits": True}], withheld=True)
    with queue._db() as db:
        db.execute("UPDATE submissions SET state = 'held', not_before = ? WHERE name = ?",
                   (1_800_000_000.0, entry("s1", "02", 2).name))
    states = [grading_service.describe(r, queue.position(r.name)) for r in queue.rows(student="s1")]
    html = grading_service.page("s1", states, "/services/grading/")
    assert "held until 2027-01-15 08:00 UTC" in html
    assert "test_a</td><td>1 / 2" in html and "essay</td><td>waits for a person" in html
    assert "withheld until the due date" in html and "/services/grading/feedback/01" in html


def test_a_grade_that_raises_is_retried_then_failed_with_the_reason(queue_course):
    from course.grading.semester.on_submit.grader import TRIES, Grader

    calls = []

    def broken(assignment, rows, finish):
        calls.append(assignment)
        raise OSError("the gradebook is on a full disk")

    name = submit(queue_course.parent / "exchange", ASSIGNMENTS[0])
    grader = Grader(queue_course, queue_course.parent / "exchange", "test-course", grade=broken, say=lambda line: None)
    grader.round()
    assert grader.queue.rows()[0].state == "queued", "one error must not fail a submission"
    for _ in range(TRIES - 1):
        grader.round()
    row = grader.queue.rows()[0]
    assert (row.name, row.state, row.tries, len(calls)) == (name, "failed", TRIES, TRIES)
    assert "full disk" in row.reason


def test_a_link_slipped_in_after_the_check_is_refused_at_the_copy(tmp_path):
    from course.grading.semester.on_submit.grader import collect

    source = tmp_path / "inbound" / f"{ME}+01+2026-01-01 10:00:00.000000 UTC+abc"
    source.mkdir(parents=True)
    (source / "timestamp.txt").write_text("2026-01-01 10:00:00.000000 UTC")
    (source / "01.ipynb").symlink_to(ROOT / "nbgrader_config.py")
    with pytest.raises(inbound.Refused, match="01.ipynb is a link"):
        collect(source, tmp_path / "submitted" / ME / "01", [], ME, 10**6)
    assert not (tmp_path / "submitted" / ME / "01").exists()
    (source / "01.ipynb").unlink()
    (source / "01.ipynb").write_text("{}")
    assert collect(source, tmp_path / "submitted" / ME / "01", [], ME, 10**6)
    assert (tmp_path / "submitted" / ME / "01" / "01.ipynb").read_text() == "{}"


def test_a_student_whose_id_is_not_their_unix_name_is_collected_and_released_under_the_id(queue_course, monkeypatch):
    """A student number (2024001) has the Unix name the hub derived from it; the exchange names the Unix name."""
    from nbgrader.api import Gradebook

    from course.grading.engine import database
    from course.grading.semester.on_submit import grader as grader_module

    with Gradebook(database.db_url(queue_course)) as gradebook:
        gradebook.update_or_create_student("2024001")
    exchange, released = queue_course.parent / "exchange", []

    def engine(root, assignments, say, on_result):
        for student in sorted(os.listdir(root / "submitted")):
            on_result({"student": student, "assignment": assignments[0]})
        return type("Report", (), {"failed": []})()

    monkeypatch.setattr(grader_module.driver, "grade", engine)
    monkeypatch.setattr(grader_module.Grader, "released", lambda self, assignment, row, finish: (
        released.append((self.student_id(row), assignment)), finish(row.name, "graded")))
    submit(exchange, ASSIGNMENTS[0])
    grader_module.Grader(queue_course, exchange, "test-course", say=lambda line: None,
                         roster_ids={ME: "2024001"}).round()
    assert released == [("2024001", ASSIGNMENTS[0])]
    assert (queue_course / "submitted" / "2024001" / ASSIGNMENTS[0] / f"{ASSIGNMENTS[0]}.ipynb").is_file()
    assert not (queue_course / "submitted" / ME).exists()


def test_a_folder_dropped_under_a_students_name_by_another_is_refused_on_arrival_and_supersedes_nothing(queue_course):
    if os.geteuid() != 0:
        pytest.skip("handing a folder to another account needs root")
    from course.grading.semester.on_submit.grader import Grader

    exchange = queue_course.parent / "exchange"
    own, forged = submit(exchange, ASSIGNMENTS[0]), submit(exchange, ASSIGNMENTS[0])  # the forged one is newer
    nobody = pwd.getpwnam("nobody")
    folder = exchange / "test-course" / "inbound" / forged
    for path in [folder, *folder.rglob("*")]:
        os.chown(path, nobody.pw_uid, nobody.pw_gid)
    grader = Grader(queue_course, exchange, "test-course", say=lambda line: None,
                    grade=lambda assignment, rows, finish: [finish(r.name, "graded") for r in rows])
    grader.take_in()
    assert {r.name: r.state for r in grader.queue.rows()} == {own: "queued", forged: "refused"}
    grader.round()
    assert {r.name: r.state for r in grader.queue.rows()} == {own: "graded", forged: "refused"}
