"""`make extend`: nbgrader's extension for one student, their late penalty recomputed without running the
notebook, shown in grades.csv and the LMS files, and no other student's data touched.

The course is a gradebook set up through nbgrader's API (grading notebooks would cost minutes): one assignment
with a test cell worth 6 and a written answer worth 4, due 2027-05-31 22:00 UTC, and a second assignment.
"""
import csv
import datetime as dt
import shutil
import sqlite3

import pytest

from course.commands import extend
from course.grading.engine import database
from course.grading.semester import late, lms_grades, pipeline
from tests.helpers import ROOT

A, B = "05_training_loop", "01_convolution"
DUE = dt.datetime(2027, 5, 31, 22, 0)
# student -> (assignment, hours late, auto score, manual score)
CLASS = {"s123": [(A, 10, 6.0, 3.0), (B, 10, 6.0, 3.0)], "s124": [(A, 30, 5.0, 4.0)], "s125": [(A, -1, 6.0, 4.0)],
         "s127": [(A, 30, 5.0, None)]}  # as the grading worker's scratch gradebook holds it: no manual score


@pytest.fixture(scope="module")
def extension_template(tmp_path_factory):
    """The extension_course, made once per module (a new gradebook costs seconds); each test gets a copy."""
    from nbgrader.api import Gradebook

    root = tmp_path_factory.mktemp("extend") / "course"
    for name in (A, B):
        (root / "source" / name).mkdir(parents=True)
    shutil.copy2(ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
    (root / "roster.csv").write_text("id,name,email\ns126,Noor Late,noor@uni.example\n")
    policy = late.course_policy(root)
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as book:
        for name in (A, B):
            book.add_assignment(name, duedate=DUE)
            book.add_notebook(name, name)
            book.add_grade_cell("test", name, name, max_score=6, cell_type="code")
            book.add_grade_cell("written", name, name, max_score=4, cell_type="markdown")
        for student, submissions in CLASS.items():
            book.update_or_create_student(student)
            for name, hours, auto, manual in submissions:
                submission = book.update_or_create_submission(name, student, timestamp=DUE + dt.timedelta(hours=hours))
                for cell, field, score in (("test", "auto_score", auto), ("written", "manual_score", manual)):
                    grade = book.find_grade(cell, name, name, student)
                    setattr(grade, field, score)
                    grade.needs_manual_grade = False
                seconds = submission.total_seconds_late  # the penalty as autograde left it
                submission.notebooks[0].late_submission_penalty = \
                    policy.late_submission_penalty(student, auto, seconds) if seconds else None
                book.db.commit()
    return root


@pytest.fixture
def extension_course(extension_template, tmp_path, monkeypatch):
    monkeypatch.delenv(database.ENV_DB_URL, raising=False)
    return shutil.copytree(extension_template, tmp_path / "course")


def dump(root) -> set:
    """Every row of every table of the gradebook, as (table, row)."""
    with sqlite3.connect(root / "gradebook.db") as db:
        tables = [t for (t,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {(t, row) for t in tables for row in db.execute(f"SELECT * FROM {t}")}


def rows_of(root, student: str, assignment: str) -> set:
    with sqlite3.connect(root / "gradebook.db") as db:
        [(submission,)] = db.execute("SELECT sa.id FROM submitted_assignment sa JOIN assignment a ON "
                                     "sa.assignment_id = a.id WHERE a.name = ? AND sa.student_id = ?",
                                     (assignment, student))
        notebooks = {n for (n,) in db.execute("SELECT id FROM submitted_notebook WHERE assignment_id = ?",
                                              (submission,))}
    return {submission} | notebooks


def scores(root) -> dict:
    return {(r.student, r.assignment): r for r in pipeline.scores(root)}


def read_csv(path) -> list[dict]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_an_extension_recomputes_that_students_penalty_only_and_shows_in_grades(extension_course, capsys):
    before = dump(extension_course)
    assert scores(extension_course)[("s123", A)].late_penalty == pytest.approx(0.6)
    assert extend.main(["--root", str(extension_course), "--student", "s123", "--assignment", "05", "--hours", "48"]) == 0
    out = capsys.readouterr().out
    assert "s123/05_training_loop: extension none -> 48 h" in out
    assert "due: Mon 2027-05-31 22:00 UTC -> Wed 2027-06-02 22:00 UTC" in out
    assert "10 h 0 min late -> on time" in out and "late penalty: 0.6 -> 0 points" in out
    after = dump(extension_course)
    touched = rows_of(extension_course, "s123", A)
    changed = before ^ after
    assert changed and all(row[0] in touched for _, row in changed), "a row of another submission changed"
    assert {table for table, _ in changed} == {"submitted_assignment", "submitted_notebook"}

    found = scores(extension_course)
    assert (found[("s123", A)].late_penalty, found[("s123", A)].points, found[("s123", A)].extension_hours) == \
        (0.0, 9.0, 48.0)
    assert found[("s123", B)].late_penalty == pytest.approx(0.6)  # the other assignment keeps its penalty
    pipeline.write_grades_csv(pipeline.scores(extension_course), extension_course / "grades.csv")
    line = next(r for r in read_csv(extension_course / "grades.csv") if (r["student"], r["assignment"]) == ("s123", A))
    assert (line["late_penalty"], line["total"], line["extension_hours"]) == ("0.0", "9.0", "48.0")
    lms_grades.write(extension_course, [B, A])
    moodle = {r["ID number"]: r for r in read_csv(extension_course / lms_grades.MOODLE_FILE)}
    assert (moodle["s123"][A], moodle["s123"][B], moodle["s124"][A]) == ("9", "8.4", "8")


def test_a_shorter_extension_leaves_fewer_late_days_and_zero_takes_it_back(extension_course, capsys):
    args = ["--root", str(extension_course), "--student", "s124", "--assignment", A, "--hours"]
    assert scores(extension_course)[("s124", A)].late_penalty == pytest.approx(1.0)  # 30 h: two days of 10% of 5
    assert extend.main([*args, "24"]) == 0
    assert "1 d 6 h 0 min late -> 6 h 0 min late" in capsys.readouterr().out
    assert scores(extension_course)[("s124", A)].late_penalty == pytest.approx(0.5)
    assert extend.main([*args, "0"]) == 0
    assert "extension 24 h -> none" in capsys.readouterr().out
    assert scores(extension_course)[("s124", A)].late_penalty == pytest.approx(1.0)


def test_a_student_who_has_not_submitted_gets_the_extension_for_later(extension_course, capsys):
    assert extend.main(["--root", str(extension_course), "--student", "s126", "--assignment", A, "--hours", "72"]) == 0
    assert "no submission time recorded (not handed in yet" in capsys.readouterr().out
    from course.grading.engine.ledger import Ledger

    with Ledger(extension_course) as book:  # what the engine hands the worker when it grades the submission
        assert book.extension(A, "s126") == dt.timedelta(hours=72)


@pytest.mark.parametrize("args, complaint", [
    (["--student", "s999", "--assignment", A, "--hours", "48"], "s999 is no student of this course"),
    (["--student", "s123", "--assignment", "0", "--hours", "48"], "'0' matches several"),
    (["--student", "s123", "--assignment", A, "--hours", "-2"], "an extension is 0 hours (none) or more"),
])
def test_a_wrong_request_changes_nothing_and_says_why(extension_course, capsys, args, complaint):
    before = dump(extension_course)
    assert extend.main(["--root", str(extension_course), *args]) == 1
    assert complaint in capsys.readouterr().err
    assert dump(extension_course) == before


def test_an_unreleased_assignment_is_refused(extension_course, capsys):
    (extension_course / "source" / "03_pooling").mkdir()
    assert extend.main(["--root", str(extension_course), "--student", "s123", "--assignment", "03", "--hours", "1"]) == 1
    assert "03_pooling is not in the gradebook yet: release it first" in capsys.readouterr().err


def test_make_extend_passes_its_three_settings():
    makefile = (ROOT / "Makefile").read_text()
    assert ('-m course.commands.extend --student "$(STUDENT)" --assignment "$(ASSIGNMENT)" --hours "$(HOURS)"'
            in makefile)


def test_the_recomputed_penalty_is_the_one_nbgrader_itself_assigns(extension_course):
    import nbformat
    from nbgrader.preprocessors import AssignLatePenalties
    from traitlets.config import PyFileConfigLoader

    assert extend.main(["--root", str(extension_course), "--student", "s127", "--assignment", A, "--hours", "12"]) == 0
    ours = scores(extension_course)[("s127", A)].late_penalty
    assert ours == pytest.approx(0.5)  # 18 h late: one day, 10% of 5
    config = PyFileConfigLoader("nbgrader_config.py", path=str(extension_course)).load_config()
    resources = {"nbgrader": {"notebook": A, "assignment": A, "student": "s127", "db_url": database.db_url(extension_course)}}
    AssignLatePenalties(config=config).preprocess(nbformat.v4.new_notebook(), resources)  # autograde's last step
    assert scores(extension_course)[("s127", A)].late_penalty == ours


def test_without_a_gradebook_nothing_is_made(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv(database.ENV_DB_URL, raising=False)
    (tmp_path / "source" / A).mkdir(parents=True)
    assert extend.main(["--root", str(tmp_path), "--student", "s1", "--assignment", A, "--hours", "1"]) == 1
    assert "has no gradebook yet: release the assignment first" in capsys.readouterr().err
    assert not (tmp_path / "gradebook.db").exists()


def test_without_a_due_date_it_is_refused(extension_course, capsys):
    with sqlite3.connect(extension_course / "gradebook.db") as db:
        db.execute("UPDATE assignment SET duedate = NULL WHERE name = ?", (A,))
    before = dump(extension_course)
    assert extend.main(["--root", str(extension_course), "--student", "s124", "--assignment", A, "--hours", "5"]) == 1
    assert f"{A} has no due date in the gradebook, so nothing is late" in capsys.readouterr().err
    assert dump(extension_course) == before
