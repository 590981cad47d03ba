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



def test_the_benchmark_waits_on_the_kernel_in_slices_like_the_grader():
    """A single long wait after a widget cell once held `make bench` for its whole 900 s cell time-out."""
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")])
    client = bench.SlicedClient(notebook, timeout=60, kernel_name="python3")
    seen = {}
    original = client.async_execute_cell

    async def spy(cell, index, **kwargs):
        seen["shell"] = client.kc.shell_channel.get_msg.__qualname__
        seen["iopub"] = client.kc.iopub_channel.get_msg.__qualname__
        return await original(cell, index, **kwargs)

    client.async_execute_cell = spy
    client.execute()
    assert seen["shell"].startswith("poll_in_slices") and seen["iopub"].startswith("poll_in_slices"), seen
