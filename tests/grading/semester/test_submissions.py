import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from course.grading.semester.submissions import fill, graded_cells, solution_answers


def _cell(maker, source, **meta):
    cell = maker(source)
    cell.metadata["nbgrader"] = dict({"schema_version": 3, "grade": False, "solution": False, "locked": False},
                                     **meta)
    return cell


@pytest.fixture
def notebooks(tmp_path):
    source = new_notebook(cells=[
        _cell(new_code_cell, "def f(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION",
              grade_id="f", solution=True),
        _cell(new_code_cell, "assert f(2) == 4", grade_id="test_f", grade=True, locked=True, points=2),
        _cell(new_markdown_cell, "It doubles.", grade_id="why", grade=True, solution=True, points=1),
    ])
    release = nbformat.from_dict(source)
    release.cells[0].source = "def f(x):\n    # YOUR CODE HERE\n    raise NotImplementedError()"
    release.cells[2].source = "YOUR ANSWER HERE"
    nbformat.write(source, str(tmp_path / "source.ipynb"))
    nbformat.write(release, str(tmp_path / "release.ipynb"))
    return tmp_path


def test_solution_answers_strip_the_markers(notebooks):
    answers = solution_answers(notebooks / "source.ipynb")
    assert answers["f"] == "def f(x):\n    return 2 * x\n"
    assert answers["why"] == "It doubles."


def test_graded_cells_lists_autograded_test_cells_only(notebooks):
    assert graded_cells(notebooks / "source.ipynb") == {"test_f": 2.0}


def test_fill_types_answers_into_the_release(notebooks):
    out = fill(notebooks / "release.ipynb", {"f": "def f(x):\n    return x + x"}, notebooks / "s" / "n.ipynb")
    filled = nbformat.read(str(out), as_version=4)
    assert filled.cells[0].source == "def f(x):\n    return x + x"
    assert filled.cells[1].source == "assert f(2) == 4"
    assert filled.cells[2].source == "YOUR ANSWER HERE"


def test_fill_refuses_an_unknown_cell(notebooks):
    with pytest.raises(KeyError, match="nope"):
        fill(notebooks / "release.ipynb", {"nope": "x = 1"}, notebooks / "s" / "n.ipynb")
