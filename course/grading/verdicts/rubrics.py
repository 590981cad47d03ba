"""A rubric under every written answer, where the grader reads the answer: formgrader and the feedback.

Each assignment's rubrics live beside its probes, in `source/<assignment>/rubrics.py`
(never released): `RUBRICS = {grade_id: [(points, "what earns them"), ...]}`.
Autograde puts each one, as a markdown cell, right after the student's answer in
the graded notebook, so whoever grades by hand in formgrader sees the points per
part, and the student sees in the feedback what each point was given for.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

from nbformat.notebooknode import NotebookNode
from nbformat.v4 import new_markdown_cell
from nbgrader import utils
from nbgrader.preprocessors import NbGraderPreprocessor

RUBRICS_FILE = "rubrics.py"
HEADING = "Rubric for the grader"


def load_rubrics(source_folder: Path) -> dict:
    """grade_id -> [(points, criterion), ...] from the assignment's rubrics file (empty when there is none)."""
    path = Path(source_folder) / RUBRICS_FILE
    if not path.is_file():
        return {}
    spec = importlib.util.spec_from_loader(f"rubrics_{path.parent.name}", loader=None)
    module = importlib.util.module_from_spec(spec)
    exec(compile(path.read_text(), str(path), "exec"), module.__dict__)
    return {grade_id: [(float(points), str(text)) for points, text in parts]
            for grade_id, parts in module.RUBRICS.items()}


def rubric_text(parts: list) -> str:
    total = sum(points for points, _ in parts)
    lines = [f"**{HEADING} ({total:g} point{'s' if total != 1 else ''}).**", ""]
    lines += [f"- **{points:g}**: {text}" for points, text in parts]
    return "\n".join(lines)


class ShowRubrics(NbGraderPreprocessor):
    """Insert each written answer's rubric after it in the graded notebook."""

    def preprocess(self, nb: NotebookNode, resources: dict) -> tuple[NotebookNode, dict]:
        from nbgrader.coursedir import CourseDirectory

        coursedir = CourseDirectory(config=self.config)
        rubrics = load_rubrics(Path(coursedir.format_path(coursedir.source_directory, ".",
                                                          resources["nbgrader"]["assignment"])))
        return place(nb, rubrics), resources


def place(nb: NotebookNode, rubrics: dict) -> NotebookNode:
    """`nb` with the rubric cells it holds replaced by `rubrics`' (also how a graded notebook gets a rubric's
    new wording without being graded again)."""
    cells = []
    for cell in nb.cells:
        if not cell.metadata.get("course", {}).get("rubric"):
            cells.append(cell)  # a rubric cell a submission brought along is dropped: this one is the grader's
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if utils.is_grade(cell) and cell.cell_type == "markdown" and grade_id in rubrics:
            cells.append(new_markdown_cell(rubric_text(rubrics[grade_id]), metadata={"course": {"rubric": grade_id}}))
    nb.cells = cells
    return nb
