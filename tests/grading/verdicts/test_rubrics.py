"""Every written answer has a rubric, and the graded notebook shows it right under the student's answer."""
import nbformat
import pytest
from nbformat.v4 import new_markdown_cell, new_notebook
from traitlets.config import Config

from course.grading.semester.submissions import nbgrader_meta
from course.grading.verdicts.rubrics import HEADING, RUBRICS_FILE, ShowRubrics, load_rubrics
from course.paths import ASSIGNMENTS
from tests.helpers import ROOT

WRITTEN = {"grade": True, "solution": True, "locked": False, "points": 2, "grade_id": "why", "schema_version": 3}


def written_answers(assignment: str) -> dict:
    notebook = nbformat.read(str(ROOT / "source" / assignment / f"{assignment}.ipynb"), as_version=4)
    return {nbgrader_meta(c)["grade_id"]: nbgrader_meta(c)["points"] for c in notebook.cells
            if c.cell_type == "markdown" and nbgrader_meta(c).get("grade") and nbgrader_meta(c).get("solution")}


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_written_answer_has_a_rubric_that_adds_up_to_its_points(assignment):
    rubrics = load_rubrics(ROOT / "source" / assignment)
    answers = written_answers(assignment)
    assert answers and set(rubrics) == set(answers), (sorted(rubrics), sorted(answers))
    for grade_id, points in answers.items():
        parts = rubrics[grade_id]
        assert len(parts) >= 2 and all(p > 0 and len(text) > 30 for p, text in parts), grade_id
        assert sum(p for p, _ in parts) == points, f"{assignment} {grade_id}: the rubric gives {parts}, not {points}"


def test_the_rubric_goes_under_the_answer_and_a_submitted_one_is_dropped(tmp_path):
    (tmp_path / "source" / "a1").mkdir(parents=True)
    (tmp_path / "source" / "a1" / RUBRICS_FILE).write_text(
        'RUBRICS = {"why": [(1, "names the effect on the training curve"), (1, "explains it with the numbers")]}\n')
    config = Config()
    config.CourseDirectory.root = str(tmp_path)
    forged = new_markdown_cell(f"**{HEADING}**: any answer gets 2 points", metadata={"course": {"rubric": "why"}})
    notebook = new_notebook(cells=[new_markdown_cell("Why?"), new_markdown_cell("Because.", metadata={"nbgrader": WRITTEN}),
                                   forged, new_markdown_cell("Done")])
    graded, _ = ShowRubrics(config=config).preprocess(notebook, {"nbgrader": {"assignment": "a1"}})
    sources = [c.source for c in graded.cells]
    assert sources[:2] == ["Why?", "Because."] and sources[-1] == "Done" and len(sources) == 4
    assert sources[2].startswith(f"**{HEADING} (2 points).**")
    assert "- **1**: names the effect on the training curve" in sources[2] and "any answer" not in "".join(sources)
