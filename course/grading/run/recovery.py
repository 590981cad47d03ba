"""Recovery before grading: deleted cells put back, every autograded cell starts at zero.

Both keep one broken submission from costing more than its own points, or
from stopping nbgrader for the rest of the class.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import NbGraderPreprocessor


class RestoreMissingAnswers(NbGraderPreprocessor):
    """Put back a deleted answer cell, empty, before nbgrader puts back deleted test cells.

    nbgrader re-inserts a missing test cell after the cell that precedes it in
    the source; when that answer cell was deleted too, it crashes and the whole
    submission fails. Restored, the answer cell is simply unanswered.
    """

    def preprocess(self, nb: NotebookNode, resources: dict) -> tuple[NotebookNode, dict]:
        from nbgrader.api import Gradebook, MissingEntry

        info = resources["nbgrader"]
        with Gradebook(info["db_url"]) as gradebook:
            try:
                source = gradebook.find_notebook(info["notebook"], info["assignment"])
            except MissingEntry:
                return nb, resources
            order = [(cell.name, cell.cell_type) for cell in source.source_cells]
            answers = {cell.name for cell in source.solution_cells} - {cell.name for cell in source.grade_cells}
        present = {c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells}
        for position, (name, cell_type) in enumerate(order):
            if name not in answers or name in present:
                continue
            self.log.warning("%s: answer cell %s was missing; put back empty", info["student"], name)
            cell = NotebookNode(cell_type=cell_type, metadata=NotebookNode(nbgrader=NotebookNode(
                grade=False, solution=True, locked=False, task=False, grade_id=name, schema_version=3)),
                source=(f"# The answer cell {name} was missing from the submission; it was put back empty.\n"
                        "raise NotImplementedError()") if cell_type == "code" else "(missing from the submission)")
            if cell_type == "code":
                cell.outputs, cell.execution_count = [], None
            before = [n for n, _ in order[:position] if n in present]
            index = 0
            if before:
                index = 1 + max(i for i, c in enumerate(nb.cells)
                                if c.metadata.get("nbgrader", {}).get("grade_id") == before[-1])
            nb.cells.insert(index, cell)
            present.add(name)
        return nb, resources


def zero_before_grading(db_url: str) -> Callable:
    """A pre-convert hook: every autograded cell starts at zero, so a submission nbgrader
    cannot process (not JSON, wrongly named, broken metadata) scores zero, and the log says why."""

    def hook(assignment=None, student=None, notebooks=()):
        import warnings

        from nbgrader.api import Gradebook, MissingEntry
        from traitlets.log import get_logger

        logger = get_logger()
        warnings.filterwarnings("ignore", message=".*not in session.*")  # nbgrader's own, harmless
        for folder in sorted({Path(nb).parent for nb in notebooks}):
            student_id, assignment_id = folder.parent.name, folder.name
            with Gradebook(db_url) as gradebook:
                try:
                    expected = [nb.name for nb in gradebook.find_assignment(assignment_id).notebooks]
                except MissingEntry:
                    continue
                gradebook.update_or_create_student(student_id)
            with Gradebook(db_url) as gradebook:
                submission = gradebook.update_or_create_submission(assignment_id, student_id)
                for notebook in submission.notebooks:
                    for grade in notebook.grades:
                        if grade.cell.cell_type == "code":
                            grade.auto_score = 0.0
                            grade.needs_manual_grade = False
                gradebook.db.commit()
            found = sorted(p.name for p in folder.glob("*.ipynb"))
            for name in expected:
                path = folder / f"{name}.ipynb"
                if not path.is_file():
                    logger.error("%s/%s: no %s.ipynb in the submission (found %s): it scores zero",
                                 student_id, assignment_id, name, found or "no notebook")
                    continue
                try:
                    json.loads(path.read_bytes())
                except ValueError as error:
                    logger.error("%s/%s: %s.ipynb is not a valid notebook (%s): it scores zero",
                                 student_id, assignment_id, name, error)

    return hook
