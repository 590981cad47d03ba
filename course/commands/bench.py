"""The course benchmark: run every solution notebook in full mode and print what it took.

`make bench` (or `python -m course.commands.bench [ASSIGNMENT ...]`) executes each
`source/` notebook on this machine exactly as a student would, with fast mode
off, and prints per assignment: wall time, the slowest cell, and the figures
it measured (accuracies, gaps). A notebook names those in its metadata,
`"course": {"bench": {"name": "expression"}}`: the benchmark appends one cell
that prints them as a `RESULT name=value` line, to its own copy only, so the
students' notebook prints nothing of the kind. Figures go to stdout and to
`bench.json`; nothing is asserted, so a slow machine never fails a test.
"""
import json
import os
import re
import sys
import time
from datetime import datetime

import nbformat
from nbclient import NotebookClient
from nbclient.util import run_sync

from ..grading.run.execute import poll_in_slices
from ..paths import ASSIGNMENTS, PROJECT_ROOT

RESULT = re.compile(r"^RESULT\s+(.*)$", re.MULTILINE)


def _seconds(cell) -> float:
    timing = cell.get("metadata", {}).get("execution", {})
    start, end = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
    if not (start and end):
        return 0.0
    parse = lambda stamp: datetime.fromisoformat(stamp.replace("Z", "+00:00"))  # noqa: E731
    return (parse(end) - parse(start)).total_seconds()


def results(notebook) -> dict:
    """Every `RESULT a=1 b=2` line printed on stdout, as one dict."""
    found = {}
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream" and output.get("name") == "stdout":
                for line in RESULT.findall(output.get("text", "")):
                    for pair in line.split():
                        key, _, value = pair.partition("=")
                        try:
                            found[key] = float(value)
                        except ValueError:
                            found[key] = value
    return found


def figures_cell(expressions: dict) -> str:
    """A cell that prints `RESULT name=value ...` for the notebook's named figures (floats to four places)."""
    pairs = ", ".join(f"{name!r}: ({expression})" for name, expression in expressions.items())
    return (f"print('RESULT', *(f'{{k}}={{v:.4f}}' if isinstance(v, float) else f'{{k}}={{v}}' "
            f"for k, v in {{{pairs}}}.items()))")


class SlicedClient(NotebookClient):
    """nbclient with the grader's sliced waits: one long wait after a widget cell can miss the reply that has
    already come and sleep out the whole cell time-out (jupyter/nbclient#312; see course.grading.run.execute)."""

    async def async_start_new_kernel_client(self):
        client = await super().async_start_new_kernel_client()
        poll_in_slices(client.shell_channel)
        poll_in_slices(client.iopub_channel)
        return client

    start_new_kernel_client = run_sync(async_start_new_kernel_client)


def run(assignment: str) -> dict:
    path = PROJECT_ROOT / "source" / assignment / f"{assignment}.ipynb"
    notebook = nbformat.read(str(path), as_version=4)
    if expressions := notebook.metadata.get("course", {}).get("bench"):
        notebook.cells.append(nbformat.v4.new_code_cell(figures_cell(expressions)))
    # The kernel's own start-up notices (TCP without encryption on this one machine) are nothing to act on.
    client = SlicedClient(notebook, timeout=900, kernel_name="python3", record_timing=True,
                            extra_arguments=["--IPKernelApp.log_level=ERROR"],
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    client.execute()
    wall = time.perf_counter() - start
    slowest = max(notebook.cells, key=_seconds)
    return {"assignment": assignment, "wall_s": round(wall, 1), "slowest_cell_s": round(_seconds(slowest), 1),
            "slowest_cell": slowest.source.strip().splitlines()[0][:60] if slowest.source.strip() else "",
            "results": results(notebook)}


def main(argv=None) -> int:
    chosen = (sys.argv[1:] if argv is None else argv) or list(ASSIGNMENTS)
    os.environ.pop("COURSE_FAST", None)
    os.environ.pop("NBGRADER_EXECUTION", None)
    rows, total = [], 0.0
    print(f"Running {len(chosen)} solution notebook(s) in full mode on {os.cpu_count()} CPU core(s)...")
    for assignment in chosen:
        row = run(assignment)
        rows.append(row)
        total += row["wall_s"]
        figures = ", ".join(f"{k}={v}" for k, v in row["results"].items()) or "-"
        print(f"{assignment:20} {row['wall_s']:7.1f} s   slowest cell {row['slowest_cell_s']:6.1f} s   {figures}",
              flush=True)
    print(f"{'whole course':20} {total:7.1f} s")
    (PROJECT_ROOT / "bench.json").write_text(json.dumps({"rows": rows, "total_s": round(total, 1)}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
