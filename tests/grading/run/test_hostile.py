"""Hostile submissions gain nothing, and the rest of the class is graded as if they were not there.

One class is autograded twice in a temporary copy of the course: a good
student, a blank one, and one student per entry of tests/grading/run/hostile_catalogue.py.
Cells get a short time limit and the sandbox a small memory limit, so the
loops and the memory hog end quickly. Everything here needs bubblewrap.
"""
import json
import os
import re
import shutil
import sqlite3
from pathlib import Path

import nbformat
import pytest

from course.grading.semester import pipeline
from course.grading.semester.submissions import fill, graded_cells, solution_answers
from tests.grading.run import hostile_catalogue as hostile
from tests.helpers import copy_course

pytestmark = [pytest.mark.pipeline, pytest.mark.sandbox, pytest.mark.slow,
              pytest.mark.skipif(shutil.which("bwrap") is None,
                                 reason="bubblewrap (bwrap) is not installed: hostile code would run unsandboxed")]

A = hostile.ASSIGNMENT
ENTRIES = {entry["name"]: entry for entry in hostile.HOSTILE}
TEST_ENV = {"COURSE_CELL_TIMEOUT": "10", "COURSE_SANDBOX_MEMORY_MB": "1536", "COURSE_SANDBOX_PROCESSES": "64"}
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def build_class(course: Path) -> None:
    release = course / "release" / A / f"{A}.ipynb"
    solutions = solution_answers(course / "source" / A / f"{A}.ipynb")
    submitted = course / "submitted"
    fill(release, solutions, submitted / hostile.GOOD / A / f"{A}.ipynb")
    fill(release, {}, submitted / hostile.BLANK / A / f"{A}.ipynb")
    for entry in hostile.HOSTILE:
        folder = submitted / entry["name"] / A
        folder.mkdir(parents=True)
        filename = entry.get("filename", f"{A}.ipynb")
        if filename is None:
            continue
        base = solutions if entry["base"] == "solution" else {}
        path = fill(release, dict(base, **entry["answers"]), folder / filename)
        if "edit" in entry:
            edited = entry["edit"](json.loads(path.read_text()))
            if isinstance(edited, bytes):
                path.write_bytes(edited)
            else:
                path.write_text(hostile.as_json_text(edited))


def autograde(course: Path) -> tuple[str, list]:
    """One grading round of the whole class through the engine, every submission regraded: each task's
    nbgrader log, then the reasons the engine reports for submissions it could not grade normally."""
    done = []
    reasons = pipeline.autograde(course, [A], force=True, report=done)
    report = done[0]
    assert report.graded == len(list((course / "submitted").iterdir())) and not report.failed, report.reasons()
    logs = [f"--- {student}\n{log}" for (_, student), log in sorted(report.logs.items())]
    return "\n".join(logs + ["--- reasons reported by the engine"] + reasons), reasons


def grades(course: Path) -> dict:
    students = [p.name for p in (course / "submitted").iterdir()]
    result = {}
    for student in students:
        try:
            result[student] = pipeline.cell_scores(course, A, student)
        except Exception:  # noqa: BLE001 (MissingEntry: nothing recorded for this student)
            result[student] = None
    return result


def snapshot(folder: Path) -> dict:
    return {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file() and not p.is_symlink()}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    saved = {k: os.environ.get(k) for k in TEST_ENV}
    os.environ.update(TEST_ENV)
    try:
        course = copy_course(tmp_path_factory.mktemp("hostile") / "course", [A])
        pipeline.release(course, [A])
        build_class(course)
        before = {"submitted": snapshot(course / "submitted"), "source": snapshot(course / "source")}
        first_log, reasons = autograde(course)
        first = grades(course)
        after_first = {"good": snapshot(course / "autograded" / hostile.GOOD)}
        second_log, _ = autograde(course)
        second = grades(course)
        feedback_log = pipeline.nbgrader(course, "generate_feedback", A, "--force", check=False)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return {"course": course, "log": first_log, "reasons": reasons, "second_log": second_log, "first": first, "second": second,
            "before": before, "after_first": after_first,
            "feedback_log": feedback_log.stdout + feedback_log.stderr}


def outputs_text(course: Path, student: str, grade_id: str | None = None) -> str:
    """Every output of the student's autograded notebook (or of one cell), as plain text."""
    path = course / "autograded" / student / A / f"{A}.ipynb"
    if not path.is_file():
        return ""
    texts = []
    for cell in nbformat.read(str(path), as_version=4).cells:
        if grade_id and cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") != grade_id:
            continue
        for output in cell.get("outputs", []):
            if output.output_type == "stream":
                texts.append(output.text)
            elif output.output_type == "error":
                texts.append(f"{output.ename}: {output.evalue}\n" + "\n".join(output.traceback))
            else:
                texts.append(str(output.get("data", {}).get("text/plain", "")))
    return ANSI.sub("", "\n".join(texts))


def test_good_student_gets_full_marks_and_blank_gets_zero(graded):
    points = graded_cells(graded["course"] / "source" / A / f"{A}.ipynb")
    assert points == hostile.FULL
    got = graded["first"]
    assert {cell: got[hostile.GOOD][cell] for cell in points} == points, graded["log"][-5000:]
    assert {cell: got[hostile.BLANK][cell] for cell in points} == {cell: 0.0 for cell in points}


@pytest.mark.parametrize("name", list(ENTRIES))
def test_hostile_submission_scores_exactly_what_it_earned(graded, name):
    entry = ENTRIES[name]
    got = graded["first"][name]
    if entry["expect"] is None:
        assert got is None or not any(got.values()), got
        return
    assert got is not None, f"{name} has no grades at all"
    expected = {cell: entry["expect"].get(cell, 0.0) for cell in hostile.FULL}
    assert {cell: got[cell] for cell in hostile.FULL} == expected, outputs_text(graded["course"], name)[-3000:]


@pytest.mark.parametrize("name", list(ENTRIES))
def test_the_reason_is_visible_in_feedback_or_log(graded, name):
    entry = ENTRIES[name]
    course = graded["course"]
    text = outputs_text(course, name)
    html = course / "feedback" / name / A / f"{A}.html"
    if html.is_file():
        text += ANSI.sub("", html.read_text())
    text += graded["log"]
    assert re.search(entry["reason"], text, re.DOTALL), f"no {entry['reason']!r} for {name}"


UNREADABLE = ["h19_not_json", "h20_wrong_name", "h21_empty_file", "h22_empty_folder"]


@pytest.mark.parametrize("name", UNREADABLE)
def test_a_submission_nbgrader_cannot_process_is_listed_with_its_reason(graded, name):
    """Not only somewhere in a log: the engine's own list of problems names the student and says why."""
    mine = [line for line in graded["reasons"] if line.startswith(f"{A}: {name}: ")]
    assert any(re.search(ENTRIES[name]["reason"], line) for line in mine), (name, graded["reasons"])


def test_only_submissions_that_failed_are_listed(graded):
    listed = {line.split(": ")[1] for line in graded["reasons"]}
    assert hostile.GOOD not in listed and hostile.BLANK not in listed
    assert set(UNREADABLE) <= listed


def test_regrading_gives_identical_grades(graded):
    assert graded["first"] == graded["second"]


def test_gradebook_is_intact(graded):
    course = graded["course"]
    with sqlite3.connect(course / "gradebook.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert pipeline.cell_scores(course, A, hostile.GOOD)["test_convolution2d"] == 3.0


def test_other_students_files_and_the_source_are_untouched(graded):
    course = graded["course"]
    assert snapshot(course / "submitted") == graded["before"]["submitted"]
    assert snapshot(course / "source") == graded["before"]["source"]
    assert b"PWNED" not in (course / "autograded" / hostile.GOOD / A / f"{A}.ipynb").read_bytes()
    for top in ("autograded", "feedback", "source", "release", "gradebook.db"):
        for path in [course / top, *(course / top).rglob("*")]:
            if path.is_file() and "h06_write_gradebook_and_others" not in path.parts:
                assert b"PWNED" not in path.read_bytes(), f"{path} was written by another student's code"
    writes = outputs_text(course, "h06_write_gradebook_and_others", "by_hand")
    assert "wrote" not in writes and "writable" not in writes, writes


def test_no_secret_reaches_a_students_folders(graded):
    course = graded["course"]
    probes = (course / "source" / A / "probes.py").read_text()
    for top in ("autograded", "feedback", "release"):
        for path in (course / top).rglob("*"):
            assert not path.is_symlink(), f"{path} is a link"
            assert path.name != "probes.py", f"{path}: the probes left source/"
            if path.is_file():
                assert "def collect_convolution" not in path.read_text(errors="replace"), path
    seen = outputs_text(course, "h05_read_source", "by_hand")  # what its own code printed and raised
    assert "FileNotFoundError" in seen and "BEGIN HIDDEN TESTS" not in seen and "correlate2d(_img" not in seen
    assert re.search(r"'01_convolution\.ipynb': (0|'PermissionError')", seen), "the graded notebook must be masked"
    assert "'h05_read_source'" in seen and "a_good" not in seen.split("the class:")[-1].split("\n")[0]
    assert probes.splitlines()[0] not in seen


def test_sandbox_checks_are_not_skipped_silently(graded):
    assert "UNSANDBOXED" not in graded["log"]


def test_without_the_trusted_verdicts_these_attacks_would_score(tmp_path, monkeypatch):
    """The catalogue is not a straw man: with only the in-kernel hidden tests, patching wins points."""
    for key, value in TEST_ENV.items():
        monkeypatch.setenv(key, value)
    # h03 rebinds `set` to blind a check of the names a function uses; the hidden test now watches the calls
    # (course.calls), which that does not blind, so h03 scores nothing even here and is no longer listed.
    chosen = ["h01_numpy_allclose", "h02_scipy_and_checker", "h04_traceback_display"]
    monkeypatch.setattr(hostile, "HOSTILE", [ENTRIES[name] for name in chosen])
    course = copy_course(tmp_path / "course", [A])
    pipeline.release(course, [A])
    build_class(course)
    for student in (hostile.GOOD, hostile.BLANK):
        shutil.rmtree(course / "submitted" / student)
    pipeline.nbgrader(course, "autograde", A, "--force", "--TrustedVerdicts.enabled=False")
    total = {name: sum(pipeline.cell_scores(course, A, name)[cell] for cell in hostile.FULL) for name in chosen}
    earned = {name: sum(ENTRIES[name]["expect"].values()) for name in chosen}
    assert all(total[name] > earned[name] for name in chosen), (total, earned)
