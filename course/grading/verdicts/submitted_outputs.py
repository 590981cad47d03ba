"""Written answers are judged on the student's own numbers: the outputs they wrote about are kept.

Autograde reruns every notebook in fast mode (a small slice, one short epoch) and skips the
demonstrations after its last graded cell (course.grading.run.execute), so the curves and tables next
to a written answer in formgrader and in the feedback would be the grader's quick run or nothing,
not what the student saw when they wrote "validation accuracy stalls after epoch 3". A cell whose output a
written answer refers to is marked in the source notebook with
`"course": {"keep_submitted_outputs": true}` in its metadata. For those cells
(matched by cell id, and never a graded or answer cell), the outputs of the
submitted notebook are put back after execution, under a note that says so.
Which cells qualify is read from the instructor's source notebook, never from
the submission, so a student cannot keep forged outputs in a test cell.
"""
import json
from pathlib import Path

import nbformat
from nbformat.notebooknode import NotebookNode, from_dict
from nbgrader import utils
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Integer

FLAG = "keep_submitted_outputs"
STASH = "course_submitted_outputs"
NOTE = ("[as the student's own run produced it: the grader reran this notebook in fast mode, "
        "and a written answer below refers to these numbers]\n")


def kept_cell_ids(source_notebook: Path) -> set:
    """Ids of the cells the source notebook marks, minus any graded or answer cell."""
    if not Path(source_notebook).is_file():
        return set()
    notebook = nbformat.read(str(source_notebook), as_version=4)
    return {cell.get("id") for cell in notebook.cells
            if cell.cell_type == "code" and cell.metadata.get("course", {}).get(FLAG)
            and not utils.is_grade(cell) and not utils.is_solution(cell)}


def _source_notebook(config, info: dict) -> Path:
    from nbgrader.coursedir import CourseDirectory

    coursedir = CourseDirectory(config=config)
    folder = Path(coursedir.format_path(coursedir.source_directory, ".", info["assignment"]))
    return folder / f"{info['notebook']}.ipynb"


class KeepSubmittedOutputs(NbGraderPreprocessor):
    """Before the outputs are cleared: set the marked cells' submitted outputs aside in their metadata."""

    max_bytes = Integer(2_000_000, help="Largest submitted output kept per cell (bigger ones are dropped)."
                        ).tag(config=True)

    def preprocess(self, nb: NotebookNode, resources: dict) -> tuple[NotebookNode, dict]:
        wanted = kept_cell_ids(_source_notebook(self.config, resources["nbgrader"]))
        for cell in nb.cells:
            cell.metadata.pop(STASH, None)  # whatever a submission put there itself is dropped
            if cell.cell_type != "code" or cell.get("id") not in wanted or utils.is_grade(cell):
                continue
            outputs = [o for o in cell.get("outputs", []) if o.get("output_type") != "error"]
            size = len(json.dumps(outputs))
            if outputs and size <= self.max_bytes:
                cell.metadata[STASH] = outputs
            elif outputs:
                self.log.warning("%s: submitted output of cell %s is %d bytes; not kept",
                                 resources["nbgrader"]["student"], cell.get("id"), size)
        return nb, resources


class ShowSubmittedOutputs(NbGraderPreprocessor):
    """After execution: the marked cells show what the student's run produced, under a note."""

    def preprocess(self, nb: NotebookNode, resources: dict) -> tuple[NotebookNode, dict]:
        wanted = kept_cell_ids(_source_notebook(self.config, resources["nbgrader"]))
        for cell in nb.cells:
            kept = cell.metadata.pop(STASH, None)
            if kept and cell.cell_type == "code" and cell.get("id") in wanted and not utils.is_grade(cell):
                note = NotebookNode(output_type="stream", name="stdout", text=NOTE)
                cell.outputs = [note] + [from_dict(output) for output in kept]
        return nb, resources
