"""One truth for grades: grades.csv and the Canvas and Moodle files carry the same number for every student and
assignment (auto + manual - late penalty, never below zero), a missing submission is 0 in all three and marked
missing in grades.csv, and schedule.toml's weights give each student's course total.

The gradebook is set up through nbgrader's API (tests/commands/test_lms.py's helper); nothing is graded.
"""
import csv
import datetime as dt

import pytest

from course.commands import lms
from course.grading.engine import database
from course.grading.semester import lms_grades, pipeline
from tests.commands.test_lms import gradebook_with

A, B = "01_convolution", "02_padding_stride"
# (student, assignment) -> (auto of 6, manual of 4 or None while ungraded, late penalty)
CLASS = {
    ("s001", A): (6.0, 3.5, None),
    ("s001", B): (4.0, 4.0, 1.0),
    ("s002", A): (2.0, None, None),  # a written answer waits: counted zero
    ("s003", B): (1.0, 0.5, 5.0),  # the penalty never takes it below zero
}
ROSTER = "id,name,email\ns001,Ann,a@x\ns002,Bo,b@x\ns003,Cy,c@x\ns004,Di,d@x\n"  # s004 handed in nothing


@pytest.fixture
def lms_graded_course(tmp_path, monkeypatch):
    monkeypatch.delenv(database.ENV_DB_URL, raising=False)
    root = tmp_path / "course"
    for name in (A, B):
        (root / "source" / name).mkdir(parents=True)
    (root / "roster.csv").write_text(ROSTER)
    (root / "schedule.toml").write_text(f"[{B}]\nweight = 2\n")
    gradebook_with(root, CLASS)
    from nbgrader.api import Gradebook

    with Gradebook(database.db_url(root)) as book:  # an extension given before s002 handed in 02: still missing
        book.update_or_create_submission(B, "s002", extension=dt.timedelta(hours=24))
    return root


def read(path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def test_grades_csv_and_the_lms_files_agree_row_by_row(lms_graded_course, capsys):
    assert pipeline.main(["grades", "--root", str(lms_graded_course)]) == 0
    assert lms.main(["--root", str(lms_graded_course), "grades", "--allow-ungraded"]) == 0
    with open(lms_graded_course / "grades.csv", newline="") as handle:
        grades = {(r["student"], r["assignment"]): r for r in csv.DictReader(handle)}
    students = ["s001", "s002", "s003", "s004"]
    assert set(grades) == {(s, a) for s in students for a in (A, B)}, "a student or assignment has no row"

    canvas, moodle = read(lms_graded_course / lms_grades.CANVAS_FILE), read(lms_graded_course / lms_grades.MOODLE_FILE)
    assert canvas[0][5:] == moodle[0][3:] == [A, B]
    for a, possible in zip((A, B), canvas[1][5:]):
        assert {float(r["auto_max"]) + float(r["manual_max"]) for k, r in grades.items() if k[1] == a} == \
            {float(possible)}
    canvas_rows = {row[2]: row[5:] for row in canvas[2:]}
    moodle_rows = {row[0]: row[3:] for row in moodle[1:]}
    assert list(canvas_rows) == list(moodle_rows) == students
    for student in students:
        for column, a in enumerate((A, B)):
            row = grades[(student, a)]
            total = max(0.0, float(row["auto_score"]) + float(row["manual_score"]) - float(row["late_penalty"]))
            assert float(row["total"]) == pytest.approx(total)
            assert canvas_rows[student][column] == moodle_rows[student][column] == lms_grades.number(total), \
                (student, a)

    missing = {k for k, r in grades.items() if r["missing"] == "True"}
    assert missing == {("s002", B), ("s003", A), ("s004", A), ("s004", B)}
    assert all(grades[k]["total"] == "0.0" for k in missing)
    assert (grades[("s001", B)]["total"], grades[("s003", B)]["total"], grades[("s002", A)]["total"]) == \
        ("7.0", "0.0", "2.0")

    # Course totals: 01 counts once, 02 twice (schedule.toml), each out of 10.
    expected = {"s001": (9.5 + 2 * 7.0, 30.0), "s002": (2.0, 30.0), "s003": (0.0, 30.0), "s004": (0.0, 30.0)}
    for (student, a), row in grades.items():
        assert (float(row["course_total"]), float(row["course_max"])) == expected[student]
        assert float(row["weight"]) == (2.0 if a == B else 1.0)
    # The printed table shows what was handed in; s004's zeros are in the files, not in it.
    table = pipeline.table(pipeline.class_scores(lms_graded_course, ["s004"]))
    assert "s001" in table and "s004" not in table
