"""`make all`'s demo round runs in demo/ and leaves a real course exactly as it was."""
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

from course.commands import demo as demo_round
from course.commands import lms
from course.grading.engine import database
from course.grading.semester import demo, pipeline
from course.grading.semester.submissions import fill, solution_answers
from tests.helpers import copy_course

A = "01_convolution"


def snapshot(course: Path) -> dict:
    """Every file of the course outside demo/, as bytes."""
    return {str(p.relative_to(course)): p.read_bytes() for p in sorted(course.rglob("*"))
            if p.is_file() and demo.FOLDER not in p.relative_to(course).parts[:1]}


@pytest.mark.sandbox
@pytest.mark.slow
def test_the_demo_round_leaves_a_real_course_byte_for_byte(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv(database.ENV_DB_URL, raising=False)
    course = copy_course(tmp_path / "course", [A])
    pipeline.release(course, [A])
    fill(course / "release" / A / f"{A}.ipynb", solution_answers(course / "source" / A / f"{A}.ipynb"),
         course / "submitted" / "s123" / A / f"{A}.ipynb")
    assert pipeline.autograde(course, [A]) == []
    with Gradebook(database.db_url(course)) as gradebook:  # a TA grades every written answer
        for grade in gradebook.find_submission_notebook(A, A, "s123").grades:
            if grade.needs_manual_grade:
                grade.manual_score, grade.needs_manual_grade = grade.max_score, False
                gradebook.find_comment(grade.name, A, A, "s123").manual_comment = "a TA's comment"
        gradebook.db.commit()
    pipeline.feedback(course, [A])
    pipeline.write_grades_csv(pipeline.scores(course), course / "grades.csv")
    assert lms.main(["--root", str(course), "grades"]) == 0
    before = snapshot(course)
    assert {"gradebook.db", "grades.csv", "grades-canvas.csv"} <= set(before)
    assert any(name.startswith("feedback/s123/") for name in before)

    shared = tmp_path / "shared.db"  # a course on a gradebook server: the demo must not write there either
    monkeypatch.setenv(database.ENV_DB_URL, f"sqlite:///{shared}")
    assert demo_round.main(["--root", str(course), "--assignment", A]) == 0
    assert "Demo class graded exactly as expected." in capsys.readouterr().out
    assert not shared.exists()
    assert snapshot(course) == before
    made = course / demo.FOLDER
    assert {p.name for p in (made / "submitted").iterdir()} == set(demo.STUDENTS)
    assert (made / "gradebook.db").is_file() and (made / "grades-canvas.csv").is_file()


def test_a_demo_folder_the_round_did_not_make_is_left_alone(tmp_path):
    course = copy_course(tmp_path / "course", [A])
    mine = course / demo.FOLDER / "notes.txt"
    mine.parent.mkdir()
    mine.write_text("an instructor's own demo/ folder")
    with pytest.raises(demo.NotTheDemo, match="move it away"):
        demo.prepare(course, [A])
    assert mine.read_text() == "an instructor's own demo/ folder"
