"""The Dask grading engine: same gradebook as serial nbgrader, incremental, resumable, and robust to lost processes.

One small class of 01_convolution (solutions, the blank release, a late
submission, a file that is not a notebook, one with a grade already given by
hand) is graded by plain serial `nbgrader autograde` in one copy of the course
and by the engine in another; the fault tests regrade the engine's copy.
"""
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import pytest

from course.grading.engine import driver, ledger
from course.grading.run.execute import TRAILING_NOTE
from course.grading.semester import pipeline
from course.grading.semester.submissions import fill, nbgrader_meta, solution_answers
from tests.helpers import ROOT, copy_course

pytestmark = [pytest.mark.pipeline, pytest.mark.slow]
A = "01_convolution"
STUDENTS = ("s_blank", "s_broken", "s_late", "s_solution")
HAND_GRADED = "s_solution"


def build(course: Path) -> None:
    """The class, and a due date and a grade given by hand before autograding, as a real course would have."""
    from nbgrader.api import Gradebook

    pipeline.release(course, [A])
    release = course / "release" / A / f"{A}.ipynb"
    solutions = solution_answers(course / "source" / A / f"{A}.ipynb")
    submitted = course / "submitted"
    fill(release, solutions, submitted / "s_solution" / A / f"{A}.ipynb")
    _insert_cell(submitted / "s_solution" / A / f"{A}.ipynb", THREADS_CELL)
    fill(release, {}, submitted / "s_blank" / A / f"{A}.ipynb")
    fill(release, solutions, submitted / "s_late" / A / f"{A}.ipynb")
    (submitted / "s_late" / A / "timestamp.txt").write_text("2031-01-02 10:00:00.000000 UTC")
    (submitted / "s_solution" / A / "timestamp.txt").write_text("2030-12-31 10:00:00.000000 UTC")
    broken = submitted / "s_broken" / A / f"{A}.ipynb"
    broken.parent.mkdir(parents=True)
    broken.write_text("{ not a notebook")
    with Gradebook(ledger.db_url(course)) as gradebook:
        gradebook.update_or_create_assignment(A, duedate="2031-01-01 00:00:00 UTC")
        gradebook.update_or_create_student(HAND_GRADED)
        gradebook.update_or_create_submission(A, HAND_GRADED)
        written = [c for c in gradebook.find_notebook(A, A).grade_cells if c.cell_type == "markdown"][0]
        grade = gradebook.find_grade(written.name, A, A, HAND_GRADED)
        grade.manual_score = 1.0
        comment = gradebook.find_comment(written.name, A, A, HAND_GRADED)
        comment.manual_comment = "good explanation"
        gradebook.db.commit()


THREADS_CELL = "import os, torch\nprint('threads', torch.get_num_threads(), os.environ.get('OMP_NUM_THREADS'))"


def _insert_cell(path: Path, code: str) -> None:
    """A cell of the student's own, before the first graded cell (the grader skips cells after the last one)."""
    notebook = nbformat.read(str(path), as_version=4)
    first = next(i for i, cell in enumerate(notebook.cells) if nbgrader_meta(cell).get("grade"))
    notebook.cells.insert(first, nbformat.v4.new_code_cell(code))
    nbformat.write(notebook, str(path))


def dump(course: Path) -> dict:
    """Everything autograde writes or must keep, submission by submission and cell by cell."""
    from nbgrader.api import Gradebook

    result = {}
    with Gradebook(ledger.db_url(course)) as gradebook:
        for student in gradebook.students:
            for submission in student.submissions:
                cells = {}
                for notebook in submission.notebooks:
                    for grade in notebook.grades:
                        cells[grade.name] = (grade.auto_score, grade.manual_score, grade.extra_credit,
                                             grade.needs_manual_grade)
                    for comment in notebook.comments:
                        cells["comment:" + comment.name] = (comment.auto_comment, comment.manual_comment)
                    cells["late_penalty:" + notebook.name] = notebook.late_submission_penalty
                result[(student.id, submission.assignment.name)] = {
                    "timestamp": submission.timestamp if (course / "submitted" / student.id / A / "timestamp.txt").exists()
                    else "none given", "needs_manual_grade": submission.needs_manual_grade,
                    "score": submission.score, "cells": cells}
    files = sorted(str(p.relative_to(course / "autograded")) for p in (course / "autograded").rglob("*") if p.is_file())
    return {"gradebook": result, "autograded": files}


def ledger_rows(course: Path) -> list:
    with sqlite3.connect(course / "gradebook.db") as db:
        return db.execute(f"SELECT assignment, student, content_hash FROM {ledger.TABLE} ORDER BY student").fetchall()


def run(course: Path, **kwargs) -> driver.Report:
    done = []
    pipeline.autograde(course, [A], report=done, **kwargs)
    return done[0]


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    course = copy_course(tmp_path_factory.mktemp("serial") / "course", [A])
    build(course)
    pipeline.nbgrader(course, "autograde", A, "--force", check=False)
    return dump(course)


@pytest.fixture(scope="module")
def engine_graded(tmp_path_factory):
    course = copy_course(tmp_path_factory.mktemp("engine") / "course", [A])
    build(course)
    report = run(course)
    shutil.copytree(course, course.parent / "as_graded")  # for the tests that start from this state (hand_graded)
    return course, report, dump(course)


def test_the_gradebook_ends_up_exactly_as_serial_nbgrader_leaves_it(serial, engine_graded):
    course, report, state = engine_graded
    assert report.graded == len(STUDENTS) and not report.failed
    assert set(state["gradebook"]) == {(s, A) for s in STUDENTS}
    for key in serial["gradebook"]:
        assert state["gradebook"][key] == serial["gradebook"][key], key
    assert state == serial


def test_grades_given_by_hand_are_kept_and_late_work_is_recorded(engine_graded):
    _, _, state = engine_graded
    hand = state["gradebook"][(HAND_GRADED, A)]["cells"]
    by_hand = [name for name, value in hand.items() if not name.startswith(("comment:", "late_penalty:"))
               and value[1] == 1.0]
    assert len(by_hand) == 1, hand
    assert hand[by_hand[0]][3] is True, "a cell graded by hand and then autograded again waits for review"
    assert hand["comment:" + by_hand[0]][1] == "good explanation"
    late = state["gradebook"][("s_late", A)]
    assert str(late["timestamp"]).startswith("2031-01-02 10:00:00")


def test_each_task_limits_torch_and_blas_threads_inside_the_sandbox_too(engine_graded):
    """One single-threaded worker per core: the student's kernel, in the sandbox, sees one thread (on a machine
    with more cores torch would take them all and two workers would fight over them)."""
    course, _, _ = engine_graded
    notebook = nbformat.read(str(course / "autograded" / HAND_GRADED / A / f"{A}.ipynb"), as_version=4)
    printed = [o.get("text", "") for c in notebook.cells if c.source == THREADS_CELL for o in c.outputs]
    assert printed == ["threads 1 1\n"], printed


def test_every_cell_up_to_the_last_graded_one_runs_and_none_after_it(engine_graded):
    """The demonstrations after the last graded code cell cannot change a grade, so grading skips them."""
    course, _, _ = engine_graded
    notebook = nbformat.read(str(course / "autograded" / HAND_GRADED / A / f"{A}.ipynb"), as_version=4)
    code = [(i, cell) for i, cell in enumerate(notebook.cells) if cell.cell_type == "code"]
    last = max(i for i, cell in code if nbgrader_meta(cell).get("grade") or nbgrader_meta(cell).get("solution"))
    ran = [i for i, cell in code if cell.execution_count is not None]
    assert ran == [i for i, _ in code if i <= last], (ran, last)
    trailing = [cell for i, cell in code if i > last]
    assert trailing, f"{A} has no demonstration after its last graded cell: this test proves nothing"
    assert all([o.get("text") for o in cell.outputs] == [TRAILING_NOTE] for cell in trailing)


def test_the_broken_submission_is_listed_and_scores_zero(engine_graded):
    _, report, state = engine_graded
    assert any(a == A and s == "s_broken" and "not a valid notebook" in why for a, s, why in report.problems)
    assert {s for _, s, _ in report.problems} == {"s_broken"}
    assert state["gradebook"][("s_broken", A)]["score"] == 0.0


def test_a_second_run_skips_what_did_not_change_and_regrades_what_did(engine_graded):
    course, _, state = engine_graded
    again = run(course)
    assert (again.graded, again.skipped) == (0, len(STUDENTS))
    notebook = course / "submitted" / "s_blank" / A / f"{A}.ipynb"
    original = notebook.read_bytes()
    notebook.write_bytes(original.replace(b'"cells": [', b'"cells": [\n', 1))
    try:
        changed = run(course)
        assert (changed.graded, changed.skipped) == (1, len(STUDENTS) - 1)
        assert [t["student"] for t in changed.timings] == ["s_blank"]
    finally:
        notebook.write_bytes(original)
    one = run(course, student="s_late")
    assert (one.graded, one.skipped) == (1, 0) and [t["student"] for t in one.timings] == ["s_late"]
    assert dump(course) == state


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{path} no longer holds {old!r}: this test proves nothing"
    path.write_text(text.replace(old, new, 1))


def test_only_what_can_change_an_autograded_score_is_a_new_course_version(tmp_path):
    """A probe or a test cell is; a rubric's wording, the late policy, a comment in nbgrader_config.py and the
    wording of the notebook's instructions are not (the late policy has a version of its own)."""
    course = copy_course(tmp_path / "course", [A])
    version = lambda: driver.bundle(course, A)["version"]  # noqa: E731
    before = version()
    _edit(course / "source" / A / "rubrics.py", "says that each output", "explains that each output")
    _edit(course / "nbgrader_config.py", "percent_per_day = 10.0", "percent_per_day = 25.0")
    _edit(course / "nbgrader_config.py", "# Huge outputs", "# Very long outputs")
    notebook = nbformat.read(str(course / "source" / A / f"{A}.ipynb"), as_version=4)
    text = next(c for c in notebook.cells if c.cell_type == "markdown" and not nbgrader_meta(c))
    text.source += "\nOne more sentence of instructions."
    nbformat.write(notebook, str(course / "source" / A / f"{A}.ipynb"))
    assert version() == before
    assert driver.bundle(course, A)["rubrics"] != driver.bundle(copy_course(tmp_path / "c2", [A]), A)["rubrics"]
    with open(course / "source" / A / "probes.py", "a") as handle:
        handle.write("\nTOLERANCE_NOTE = 'changed'\n")
    assert version() != before
    changed = version()
    _edit(course / "nbgrader_config.py", "c.LimitOutput.max_lines = 200", "c.LimitOutput.max_lines = 100")
    assert version() != changed
    test_cell = next(c for c in notebook.cells if c.cell_type == "code" and nbgrader_meta(c).get("grade")
                     and not nbgrader_meta(c).get("solution"))
    test_cell.source += "\nassert True"
    nbformat.write(notebook, str(course / "source" / A / f"{A}.ipynb"))
    assert version() not in (before, changed)


def test_a_result_delivered_twice_counts_once(engine_graded):
    course, _, state = engine_graded
    results = []
    assert driver.grade(course, [A], ["s_blank"], on_result=results.append).graded == 1
    report, written = driver.Report(), set()
    with ledger.Ledger(course) as book:
        for _ in range(2):
            driver._collect(book, results[0], report, written, lambda r: None)
        book.write(results[0])  # even written again behind the engine's back, nothing is added
    assert report.graded == 1 and len(ledger_rows(course)) == len(STUDENTS)
    assert dump(course) == state


def test_a_worker_killed_mid_task_loses_nothing_and_doubles_nothing(engine_graded):
    course, _, state = engine_graded
    client = driver.client()
    done = {}
    thread = threading.Thread(target=lambda: done.update(report=run(course, force=True)))
    thread.start()
    killed = victim = None
    deadline = time.time() + 120
    while killed is None and time.time() < deadline and thread.is_alive():
        time.sleep(2)  # let a task get well into nbgrader
        busy = {address: keys for address, keys in client.processing().items() if keys}
        if busy:
            address, keys = next(iter(busy.items()))
            pid = client.run(os.getpid, workers=[address])[address]
            os.kill(pid, signal.SIGKILL)
            killed, victim = pid, str(keys[0]).split("-")[2]
    thread.join(600)
    assert killed is not None, "no task was ever seen running"
    report = done["report"]
    assert report.graded == len(STUDENTS) and not report.failed, report.reasons()
    assert [t["worker_pid"] != killed for t in report.timings if t["student"] == victim] == [True]
    assert len(ledger_rows(course)) == len(STUDENTS)
    assert dump(course) == state


def test_a_killed_driver_resumes_where_it_stopped(engine_graded, tmp_path):
    """kill -9 of the driver (and its local cluster) after its first result; the rerun grades only the rest."""
    _, _, state = engine_graded
    course = copy_course(tmp_path / "course", [A])
    build(course)
    process = subprocess.Popen([sys.executable, "-m", "course.grading.semester.pipeline", "autograde", "--root", str(course),
                               "--assignment", A], cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                              env=pipeline.nbgrader_env())
    deadline, written = time.time() + 300, 0
    while time.time() < deadline and process.poll() is None and not written:
        time.sleep(0.1)
        try:
            written = len(ledger_rows(course))
        except sqlite3.OperationalError:  # the ledger table is not there yet, or the driver is writing
            continue
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert 0 < written < len(STUDENTS), f"the driver was to be killed mid-run ({written} results written)"
    with sqlite3.connect(course / "gradebook.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    kept = len(ledger_rows(course))
    rerun = run(course)
    assert (rerun.graded, rerun.skipped) == (len(STUDENTS) - kept, kept) and not rerun.failed
    assert len(ledger_rows(course)) == len(STUDENTS)
    assert not list((course / "autograded").glob("*/.*"))
    assert dump(course) == state


def test_an_unchanged_rerun_over_two_assignments_grades_nothing(tmp_path):
    """Two assignments in one run: each task gets its own assignment's bundle, so each ledger row holds its
    own course version and an unchanged rerun grades nothing. One submission per assignment is enough:
    a task given the other assignment's bundle would grade against the wrong notebook and version."""
    both = [A, "02_padding_stride"]
    course = copy_course(tmp_path / "course", both)
    pipeline.release(course, both)
    for assignment in both:
        release = course / "release" / assignment / f"{assignment}.ipynb"
        fill(release, solution_answers(course / "source" / assignment / f"{assignment}.ipynb"),
             course / "submitted" / "s_solution" / assignment / f"{assignment}.ipynb")
    first = []
    pipeline.autograde(course, both, report=first)
    assert (first[0].graded, first[0].skipped) == (2, 0), first[0].summary()
    assert not first[0].failed and not first[0].problems, first[0].reasons()
    with sqlite3.connect(course / "gradebook.db") as db:
        versions = dict(db.execute(f"SELECT assignment || '/' || student, course_version FROM {ledger.TABLE}"))
    assert versions == {f"{a}/s_solution": driver.bundle(course, a)["version"] for a in both}
    assert len(set(versions.values())) == 2
    for assignment in both:
        assert sum(v or 0 for v in pipeline.cell_scores(course, assignment, "s_solution").values()) > 0, assignment
    again = []
    pipeline.autograde(course, both, report=again)
    assert (again[0].graded, again[0].skipped) == (0, 2), again[0].summary()


@pytest.mark.postgres
def test_a_postgresql_gradebook_ends_up_exactly_as_the_sqlite_one(engine_graded, postgres_url, tmp_path, monkeypatch):
    """COURSE_DB_URL moves the whole gradebook, the engine's ledger with it, to a PostgreSQL server."""
    _, _, state = engine_graded
    monkeypatch.setenv("COURSE_DB_URL", postgres_url)
    course = copy_course(tmp_path / "course", [A])
    build(course)
    report = run(course)
    assert report.graded == len(STUDENTS) and not report.failed, report.reasons()
    assert not (course / "gradebook.db").exists(), "nothing may fall back to SQLite beside the course"
    assert dump(course) == state
    again = run(course)
    assert (again.graded, again.skipped) == (0, len(STUDENTS))
    results = []
    assert driver.grade(course, [A], ["s_blank"], on_result=results.append).graded == 1
    with ledger.Ledger(course) as book:
        book.write(results[0])  # the same result twice: the ledger's upsert keeps one row
        rows = book.db.execute(ledger.text(f"SELECT student FROM {ledger.TABLE}")).scalars().all()
    assert sorted(rows) == sorted(STUDENTS)
    assert dump(course) == state


def test_a_running_cluster_named_by_course_scheduler_does_the_grading(engine_graded, tmp_path, monkeypatch):
    """COURSE_SCHEDULER=tcp://HOST:PORT: the engine starts no cluster of its own and grades on that one."""
    from distributed import Client, LocalCluster

    from course.grading.engine import clusters

    _, _, state = engine_graded
    course = copy_course(tmp_path / "course", [A])
    build(course)
    with LocalCluster(n_workers=1, threads_per_worker=1, host="127.0.0.1", dashboard_address="127.0.0.1:0") as outside, \
            Client(outside) as watcher:
        monkeypatch.setenv("COURSE_SCHEDULER", outside.scheduler_address)
        theirs = set(watcher.run(os.getpid).values())
        try:
            report = driver.grade(course, [A], ["s_solution", "s_blank"])
        finally:
            clusters.close_all()
    assert report.graded == 2 and report.workers == 1, report.summary()
    assert {t["worker_pid"] for t in report.timings} <= theirs
    assert {k: v for k, v in dump(course)["gradebook"].items() if k[0] in {"s_solution", "s_blank"}} == {
        k: v for k, v in state["gradebook"].items() if k[0] in {"s_solution", "s_blank"}}


def hand_part(course: Path) -> dict:
    """What the TAs own in the gradebook: manual scores, extra credit and review flags; manual comments."""
    return {key: {name: value[1] if name.startswith("comment:") else value[1:]
                  for name, value in entry["cells"].items() if not name.startswith("late_penalty:")}
            for key, entry in dump(course)["gradebook"].items()}


@pytest.fixture
def hand_graded(engine_graded, tmp_path):
    """A copy of the graded class after a TA's pass: s_solution's and s_late's written answers scored and
    commented, one autograded score of s_solution overridden, every flag cleared.
    (course, written answer's cell, overridden cell)."""
    from nbgrader.api import Gradebook

    course = tmp_path / "course"
    shutil.copytree(engine_graded[0].parent / "as_graded", course)
    with Gradebook(ledger.db_url(course)) as gradebook:
        cells = gradebook.find_notebook(A, A).grade_cells
        written = next(c.name for c in cells if c.cell_type == "markdown")
        tested = next(c.name for c in cells if c.cell_type == "code" and
                      gradebook.find_grade(c.name, A, A, HAND_GRADED).auto_score)
        for student, cell, score in ((HAND_GRADED, written, 0.75), ("s_late", written, 0.5), (HAND_GRADED, tested, 0.25)):
            grade = gradebook.find_grade(cell, A, A, student)
            grade.manual_score, grade.needs_manual_grade = score, False
            comment = gradebook.find_comment(cell, A, A, student) if cell == written else None
            if comment is not None:
                comment.manual_comment = f"{student}: read by a TA"
        gradebook.db.commit()
    return course, written, tested


def _regraded(report: driver.Report) -> list:
    return sorted(t["student"] for t in report.timings)


def test_a_rubric_wording_edit_regrades_nothing_and_shows_the_new_wording(hand_graded):
    course, written, _ = hand_graded
    before, hand = dump(course), hand_part(course)
    _edit(course / "source" / A / "rubrics.py", "says that each output is the mean",
          "explains that every output is the average")
    report = run(course)
    assert _regraded(report) == [] and report.skipped == len(STUDENTS), report.summary()
    assert report.rubrics_refreshed == len(STUDENTS)
    assert dump(course) == before and hand_part(course) == hand
    graded = nbformat.read(str(course / "autograded" / HAND_GRADED / A / f"{A}.ipynb"), as_version=4)
    shown = [c.source for c in graded.cells if c.get("metadata", {}).get("course", {}).get("rubric") == written]
    assert len(shown) == 1 and "explains that every output is the average" in shown[0], shown


def test_a_new_late_percentage_recomputes_late_penalties_only(hand_graded):
    from course.grading.semester.late import PerDayPenalty

    course, _, _ = hand_graded
    before, hand = dump(course), hand_part(course)
    _edit(course / "nbgrader_config.py", "percent_per_day = 10.0", "percent_per_day = 25.0")
    report = run(course)
    assert _regraded(report) == [] and report.skipped == len(STUDENTS), report.summary()
    assert report.penalties_recomputed == len(STUDENTS)
    after = dump(course)
    assert hand_part(course) == hand
    late = before["gradebook"][("s_late", A)]["cells"]
    auto = sum(v[0] or 0 for name, v in late.items() if not name.startswith(("comment:", "late_penalty:")))
    penalty = after["gradebook"][("s_late", A)]["cells"].pop(f"late_penalty:{A}")
    assert penalty == PerDayPenalty(percent_per_day=25.0).late_submission_penalty("s_late", auto, 34 * 3600) > 0
    assert late.pop(f"late_penalty:{A}") == PerDayPenalty().late_submission_penalty("s_late", auto, 34 * 3600)
    assert after == before, "nothing but s_late's late penalty changed"
    assert run(course).penalties_recomputed == 0


def test_a_changed_probe_regrades_the_assignment_and_reopens_only_changed_answers(hand_graded):
    """Everyone of the assignment is autograded again; s_late resubmitted a new written answer at the same time,
    so that answer (and only it) waits for review again, its score and comment still there."""
    course, written, tested = hand_graded
    hand = hand_part(course)
    with open(course / "source" / A / "probes.py", "a") as handle:
        handle.write("\nTOLERANCE_NOTE = 'changed'\n")
    resubmitted = course / "submitted" / "s_late" / A / f"{A}.ipynb"
    notebook = nbformat.read(str(resubmitted), as_version=4)
    next(c for c in notebook.cells if nbgrader_meta(c).get("grade_id") == written).source += "\nOne more thought."
    nbformat.write(notebook, str(resubmitted))
    report = run(course)
    assert _regraded(report) == sorted(STUDENTS) and report.skipped == 0, report.summary()
    now = hand_part(course)
    assert now[("s_late", A)][written] == (0.5, None, True)
    now[("s_late", A)][written] = hand[("s_late", A)][written]
    assert now == hand
    assert now[(HAND_GRADED, A)][written][2] is False and now[(HAND_GRADED, A)][tested][2] is False
