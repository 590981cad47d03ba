"""Building student submissions from the release: blank, solved, or with chosen answers.

The demo class and the test catalogue both start from the released notebook
(what a student really receives) and type answers into its solution cells,
so they exercise exactly what a student's submission would.
"""
import copy
import re
from pathlib import Path

import nbformat

SOLUTION_BLOCK = re.compile(r"^[ \t]*### BEGIN SOLUTION[^\n]*\n(.*?)^[ \t]*### END SOLUTION[^\n]*\n?",
                            re.DOTALL | re.MULTILINE)
HIDDEN_BLOCK = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS.*?^[ \t]*### END HIDDEN TESTS[^\n]*\n?",
                          re.DOTALL | re.MULTILINE)


def nbgrader_meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def solution_answers(source_notebook: Path) -> dict:
    """grade_id -> the solution cell's text as a student would type it (markers removed)."""
    notebook = nbformat.read(str(source_notebook), as_version=4)
    answers = {}
    for cell in notebook.cells:
        meta = nbgrader_meta(cell)
        if meta.get("solution"):
            answers[meta["grade_id"]] = SOLUTION_BLOCK.sub(lambda m: m.group(1), cell.source)
    return answers


def graded_cells(notebook_path: Path) -> dict:
    """grade_id -> points of every autograded test cell."""
    notebook = nbformat.read(str(notebook_path), as_version=4)
    return {nbgrader_meta(c)["grade_id"]: float(nbgrader_meta(c)["points"])
            for c in notebook.cells
            if nbgrader_meta(c).get("grade") and not nbgrader_meta(c).get("solution")}


def fill(release_notebook: Path, answers: dict, destination: Path) -> Path:
    """Write `release_notebook` with the given solution cells replaced by `answers`."""
    notebook = nbformat.read(str(release_notebook), as_version=4)
    filled = copy.deepcopy(notebook)
    unknown = set(answers) - {nbgrader_meta(c).get("grade_id") for c in filled.cells}
    if unknown:
        raise KeyError(f"no solution cell with grade_id {sorted(unknown)} in {release_notebook}")
    for cell in filled.cells:
        grade_id = nbgrader_meta(cell).get("grade_id")
        if nbgrader_meta(cell).get("solution") and grade_id in answers:
            cell.source = answers[grade_id]
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(filled, str(destination))
    return destination


def edited(answer: str, *changes: tuple[str, str]) -> str:
    """`answer` with each (old, new) replaced once: a typical mistake written as a small edit of the solution."""
    for old, new in changes:
        if old not in answer:
            raise ValueError(f"the solution no longer contains {old!r}: update the mistake that edits it")
        answer = answer.replace(old, new, 1)
    return answer


def solution_edits(catalogue_file) -> tuple:
    """The solutions of the notebook beside a catalogue file, and a maker of entries that edit them.

    Catalogues (fair.py and the like) write each answer as a small edit of the solution, so that it
    follows the solution when the solution changes.
    """
    folder = Path(catalogue_file).resolve().parent
    solutions = solution_answers(folder / f"{folder.name}.ipynb")

    def entry(name: str, cell: str, *changes: tuple[str, str]) -> dict:
        return {"name": f"{cell}: {name}", "cell": cell, "code": edited(solutions[cell], *changes)}

    return solutions, entry

