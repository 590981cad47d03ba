"""The benchmark reads a notebook's figures from its metadata, so the notebook itself prints no plumbing."""
import contextlib
import io

import nbformat

from course.commands import bench


def test_the_appended_cell_prints_the_named_figures_as_one_result_line():
    source = bench.figures_cell({"test_acc": "accuracy", "data": "source.upper()"})
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(source, {"accuracy": 0.99751, "source": "synthetic"})
    cell = nbformat.v4.new_code_cell(outputs=[nbformat.v4.new_output("stream", name="stdout", text=printed.getvalue())])
    assert printed.getvalue() == "RESULT test_acc=0.9975 data=SYNTHETIC\n"
    assert bench.results(nbformat.v4.new_notebook(cells=[cell])) == {"test_acc": 0.9975, "data": "SYNTHETIC"}

