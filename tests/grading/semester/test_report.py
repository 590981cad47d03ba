"""The class report on 60 really graded students of 01_convolution (tests/grading/report_class.py).

Its numbers are checked against nbgrader's own Gradebook API, its reasons against the mistakes planted,
its similar pairs against the copies planted, and its pages in headless Chromium.
"""
import os
import re
import shutil
import subprocess
import tempfile
from html import escape
from pathlib import Path

import numpy as np
import pytest

from course.grading.engine import database
from course.grading.semester import demo
from course.grading.semester.report import reasons, render, similarity, statistics
from course.grading.verdicts import catalogues
from tests.grading import report_class
from tests.helpers import ROOT

pytestmark = pytest.mark.pipeline
ASSIGNMENT = report_class.ASSIGNMENT


@pytest.fixture(scope="module")
def written_report(report_course):
    """The report of 01_convolution, in a folder every account may enter (so that only the report's own
    modes keep another account out)."""
    course, planted = report_course
    shared = Path(tempfile.mkdtemp(prefix="report-", dir="/tmp"))
    os.chmod(shared, 0o755)
    render.write(course, shared / "reports", say=lambda line: None, assignments=[ASSIGNMENT])
    yield course, planted, shared / "reports"
    shutil.rmtree(shared, ignore_errors=True)


def gradebook_scores(course) -> dict:
    """(student, grade_id) -> score, and grade_id -> max score, through nbgrader's ORM."""
    from nbgrader.api import Gradebook

    found, maxima = {}, {}
    with Gradebook(database.db_url(course)) as gradebook:
        for submission in gradebook.assignment_submissions(ASSIGNMENT):
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    maxima[grade.name] = grade.max_score
                    waiting = grade.auto_score is None and grade.manual_score is None and grade.needs_manual_grade
                    found[(submission.student.id, grade.name)] = None if waiting else grade.score
        students = [s.id for s in gradebook.students]
    return found, maxima, students


def test_the_reports_numbers_are_the_gradebooks(written_report):
    course, _, output = written_report
    found, maxima, students = gradebook_scores(course)
    submitted = sorted({s for s, _ in found})
    assert len(submitted) >= report_class.SIZE
    figures = {f.name: f for f in statistics.course_figures(statistics.read(course))}[ASSIGNMENT]
    assert sorted(figures.totals) == submitted and figures.students == len(students)
    for student in submitted:
        assert figures.totals[student] == pytest.approx(sum(v or 0 for (s, _), v in found.items() if s == student))
    page = (output / f"{ASSIGNMENT}.html").read_text()
    assert {e.exercise.name for e in figures.exercises} == set(maxima)
    for exercise in figures.exercises:
        name = exercise.exercise.name
        scores = np.array([found[(s, name)] for s in submitted if found[(s, name)] is not None])
        assert exercise.exercise.max_score == maxima[name]
        assert len(exercise.scores) == len(scores) and exercise.waiting == len(submitted) - len(scores)
        if len(scores):
            assert exercise.mean == pytest.approx(scores.mean()) and exercise.median == pytest.approx(np.median(scores))
            assert exercise.full == pytest.approx(np.mean(scores >= maxima[name]))
            assert exercise.zero == pytest.approx(np.mean(scores <= 0))
            assert f"<td>{scores.mean():.2f}</td><td>{np.median(scores):.2f}</td>" in page
    assert f"{len(submitted)} of {len(students)} students handed it in" in page


def test_the_most_common_reason_is_the_mistake_planted_most_often(written_report):
    course, planted, output = written_report
    found = reasons.assignment_reasons(course, ASSIGNMENT)
    page = (output / f"{ASSIGNMENT}.html").read_text()
    checked = 0
    for cell in {c for m in catalogues.mistakes(ASSIGNMENT, course) for c in catalogues.lost_cells(m)}:
        made = [m for m in catalogues.mistakes(ASSIGNMENT, course) if cell in catalogues.lost_cells(m)]
        most = max(made, key=lambda m: len(planted["mistakes"][m["name"]]))
        expected = set(planted["mistakes"][most["name"]])
        assert len(expected) > len(planted["blank"]), "the blank notebooks must not outnumber the planted mistake"
        top = found[cell].top()
        listed = {s for s, _ in top.students} - set(demo.STUDENTS)
        # two mistakes may fail a check with the same message (a wrong shape is a wrong shape): then they share it
        same_cell = {s for m in made for s in planted["mistakes"][m["name"]]}
        assert expected <= listed <= same_cell, (cell, top.text, sorted(listed ^ expected))
        assert f"<tr><td>{len(top.students)}</td><td class=l>{escape(top.text)}</td>" in page
        checked += 1
    assert checked == 3


def test_messages_that_differ_in_values_and_names_group_together():
    one = ("\u274c convolution2d, case 1 of 3: not yet right\n   input:    [[0 1]\n [2 3]], [[1]]\n"
           "   yours:    np.float64(2.0)\n   hint:     do not flip it")
    two = "\u274c convolution2d, case 3 of 3: not yet right\n   expected: [[4 5]]\n   hint:     do not flip it"
    assert reasons.normalise(one) == reasons.normalise(two) == "\u274c convolution2d, case N of N: not yet right hint: do not flip it"
    assert reasons.normalise("checked outside your notebook: shape 3\u00d73 instead of 4\u00d74") == \
        "hidden test: shape N\u00d7N instead of N\u00d7N"
    assert reasons.normalise("NameError: name 'kernal' is not defined") == reasons.normalise("NameError: name 'imgs' is not defined")
    assert reasons.normalise("wrong values") != reasons.normalise("wrong shape")


def test_a_planted_copy_is_flagged_and_independent_answers_are_not(written_report):
    course, planted, output = written_report
    pairs = similarity.assignment_pairs(course, ASSIGNMENT)
    assert {(p.first, p.second) for p in pairs} == planted["copies"]
    assert all(p.similarity >= similarity.THRESHOLD and "<mark>" in p.code[0] + p.code[1] for p in pairs)
    page = (output / f"{ASSIGNMENT}.html").read_text()
    for first, second in planted["copies"]:
        assert f"<h3>{first} and {second}:" in page
    assert "fair1 and" not in page and "and fair2" not in page


def test_the_report_renders_in_chromium_with_every_picture_loaded(written_report):
    from playwright.sync_api import sync_playwright

    from tests.browser.session import CHROMIUM, launch_chromium

    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is absent (apt-get install chromium)")
    _, _, output = written_report
    pages = sorted(output.glob("*.html"))
    assert [p.name for p in pages] == [f"{ASSIGNMENT}.html", "index.html"]
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            page = browser.new_page()
            for path in pages:
                assert "<script" not in path.read_text(), "the report must read without JavaScript"
                page.goto(path.as_uri())
                images = page.eval_on_selector_all("img", "all => all.map(i => [i.getAttribute('src'), i.complete "
                                                          "&& i.naturalWidth > 0])")
                assert images and all(loaded for _, loaded in images), (path.name, images)
                links = page.eval_on_selector_all("a[href]", "all => all.map(a => a.getAttribute('href'))")
                for link in links:
                    assert (path.parent / link).is_file(), f"{path.name} links to missing {link}"
        finally:
            browser.close()


def test_another_account_cannot_read_the_report(written_report):
    if os.geteuid() != 0:
        pytest.skip("switching to another account needs root (as in CI)")
    _, _, output = written_report
    control = output.parent / "control.txt"
    control.write_text("anyone may read this")
    os.chmod(control, 0o644)
    code = ("import sys\nfor p in sys.argv[1:]:\n    try:\n        open(p).read(); print(p, 'read')\n"
            "    except PermissionError:\n        print(p, 'denied')")
    nobody = 65534
    result = subprocess.run(["/usr/bin/python3", "-I", "-c", code, str(control), str(output / "index.html"),
                             str(output / "img" / "scores.png")], capture_output=True, text=True, check=True, cwd="/",
                            preexec_fn=lambda: (os.setgid(nobody), os.setuid(nobody)))
    assert result.stdout.split("\n")[0].endswith("read"), result.stdout  # the folder above is open to all
    assert re.findall(r"(\S+) denied", result.stdout) == [str(output / "index.html"), str(output / "img" / "scores.png")]


def test_make_report_refuses_a_course_without_a_gradebook(tmp_path, monkeypatch):
    from course.commands import report

    monkeypatch.delenv(database.ENV_DB_URL, raising=False)
    assert report.main(["--root", str(tmp_path)]) == 1
    assert not (tmp_path / "reports").exists()
    assert (ROOT / ".gitignore").read_text().count("\nreports/\n") == 1
