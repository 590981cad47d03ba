"""A test cell's warnings and progress bars never cost points; its errors and failed trusted checks still do."""
import nbformat
from nbgrader.utils import determine_grade

from course.grading.run import stderr
from course.grading.verdicts import trusted


def make_test_cell(*outputs, grade_id="test_x", points=2):
    cell = nbformat.v4.new_code_cell("check(answer)")
    cell.metadata["nbgrader"] = {"grade": True, "solution": False, "locked": True, "points": points,
                                 "grade_id": grade_id, "schema_version": 3}
    cell.outputs = [nbformat.from_dict(o) for o in outputs]
    return cell


def graded(*cells):
    notebook = nbformat.v4.new_notebook(cells=list(cells))
    stderr.StderrIsNotFailure().preprocess(notebook, {})
    return [determine_grade(cell) for cell in notebook.cells]


WARNING = {"output_type": "stream", "name": "stderr", "text": "UserWarning: the default will change\n"}
BAR = {"output_type": "stream", "name": "stderr", "text": "100%|##########| 10/10 [00:01<00:00]\n"}
PASS = {"output_type": "stream", "name": "stdout", "text": "✅ correct\n"}
ERROR = {"output_type": "error", "ename": "AssertionError", "evalue": "wrong", "traceback": []}


def test_without_it_nbgrader_zeroes_a_cell_that_warned():
    assert determine_grade(make_test_cell(PASS, WARNING))[0] == 0


def test_warnings_and_progress_bars_keep_the_points_and_stay_readable():
    notebook = nbformat.v4.new_notebook(cells=[make_test_cell(WARNING, BAR, PASS)])
    stderr.StderrIsNotFailure().preprocess(notebook, {})
    assert determine_grade(notebook.cells[0])[0] == 2
    texts = [o["text"] for o in notebook.cells[0].outputs]
    assert texts[0].startswith(stderr.PREFIX) and texts[0].endswith(WARNING["text"]) and BAR["text"] in texts[1]


def test_an_error_still_scores_zero():
    assert graded(make_test_cell(WARNING, ERROR))[0][0] == 0


def test_a_failed_trusted_check_still_scores_zero():
    cell = make_test_cell(BAR, PASS)
    trusted.fail_cell(cell, "convolution2d: wrong values")
    assert graded(cell)[0][0] == 0


def test_cells_that_are_not_graded_are_left_alone():
    cell = nbformat.v4.new_code_cell("import warnings")
    cell.outputs = [nbformat.from_dict(WARNING)]
    notebook = nbformat.v4.new_notebook(cells=[cell])
    stderr.StderrIsNotFailure().preprocess(notebook, {})
    assert notebook.cells[0].outputs[0]["name"] == "stderr"
