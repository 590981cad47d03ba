"""The outputs a written answer refers to are the student's own, and only where the source notebook says so."""
import nbformat
import pytest
from nbconvert.preprocessors import ClearOutputPreprocessor
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
from traitlets.config import Config

from course.grading.verdicts.submitted_outputs import FLAG, NOTE, STASH, KeepSubmittedOutputs, ShowSubmittedOutputs, kept_cell_ids
from course.paths import ASSIGNMENTS
from tests.helpers import ROOT

TEST_CELL = {"nbgrader": {"grade": True, "solution": False, "locked": True, "points": 1, "grade_id": "test_x",
                          "schema_version": 3}}


def source_notebook():
    curves = new_code_cell("train_and_plot()", metadata={"course": {FLAG: True}}, id="curves")
    other = new_code_cell("print(1)", id="other")
    test = new_code_cell("assert x == 1", metadata=dict(TEST_CELL, course={FLAG: True}), id="test")
    answer = new_markdown_cell("What do your curves show?", id="answer")
    return new_notebook(cells=[curves, other, test, answer])


def said(text):
    return new_output("stream", name="stdout", text=text)


@pytest.fixture()
def course(tmp_path):
    (tmp_path / "source" / "a1").mkdir(parents=True)
    nbformat.write(source_notebook(), str(tmp_path / "source" / "a1" / "a1.ipynb"))
    config = Config()
    config.CourseDirectory.root = str(tmp_path)
    return config


def grade(config, submitted):
    """Sanitize (keep, clear) then 'execute' (every code cell prints 'rerun') then show, as autograde does."""
    resources = {"nbgrader": {"assignment": "a1", "notebook": "a1", "student": "s1"}}
    nb, _ = KeepSubmittedOutputs(config=config).preprocess(submitted, resources)
    nb, _ = ClearOutputPreprocessor().preprocess(nb, {})
    nb = nbformat.reads(nbformat.writes(nb), as_version=4)  # written to disk between the two passes
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [said("rerun in fast mode\n")]
    nb, _ = ShowSubmittedOutputs(config=config).preprocess(nb, resources)
    return {cell.get("id"): [o.get("text") for o in cell.get("outputs", [])] for cell in nb.cells}


def test_a_marked_cell_shows_the_students_run_under_a_note_and_the_others_the_rerun(course):
    submitted = source_notebook()
    submitted.cells[0].outputs = [said("val_acc 0.8123 after epoch 3\n")]
    submitted.cells[1].outputs = [said("1\n")]
    got = grade(course, submitted)
    assert got["curves"] == [NOTE, "val_acc 0.8123 after epoch 3\n"]
    assert got["other"] == ["rerun in fast mode\n"]


def test_nothing_submitted_leaves_the_rerun(course):
    assert grade(course, source_notebook())["curves"] == ["rerun in fast mode\n"]


def test_a_submission_cannot_keep_outputs_in_a_test_cell_or_smuggle_them_in_metadata(course):
    submitted = source_notebook()
    submitted.cells[2].outputs = [said("forged pass\n")]
    submitted.cells[1].metadata[STASH] = [said("forged\n")]
    submitted.cells[1].metadata["course"] = {FLAG: True}
    got = grade(course, submitted)
    assert got["test"] == ["rerun in fast mode\n"] and got["other"] == ["rerun in fast mode\n"]


def test_an_oversized_output_is_dropped(course):
    course.KeepSubmittedOutputs.max_bytes = 100
    submitted = source_notebook()
    submitted.cells[0].outputs = [said("x" * 1000)]
    assert grade(course, submitted)["curves"] == ["rerun in fast mode\n"]


@pytest.mark.parametrize("assignment", [a for a in ASSIGNMENTS if a >= "04"])
def test_every_written_answer_about_a_run_has_its_outputs_marked(assignment):
    """04 to 06 ask about the student's own confidences, curves and tables: those cells are marked."""
    assert len(kept_cell_ids(ROOT / "source" / assignment / f"{assignment}.ipynb")) >= 2
