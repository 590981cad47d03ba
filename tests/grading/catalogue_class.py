"""The catalogue class of an assignment: who hands in what, and which test cells each must lose.

alice hands in the solutions and bob the blank release, exactly as the demo class has them
(course.grading.semester.demo), so a course that holds both classes grades them once; then one student per
catalogued mistake (wrong01, wrong02, ... from source/<assignment>/mistakes.py, each alone in an
otherwise solved notebook) and a few students (fair1, fair2, ...) who give the correct but unusual
answers of source/<assignment>/fair.py. fair1 also hands in outputs of the cells a written answer
discusses, as a student's full run leaves them.
"""
from pathlib import Path

import nbformat

from course.grading.semester.submissions import fill, solution_answers
from course.grading.verdicts import catalogues
from course.grading.verdicts.submitted_outputs import kept_cell_ids
from tests.helpers import ROOT

SOLUTION, BLANK, PLANTED_IN = "alice", "bob", "fair1"
PLANTED = "what the student's own run printed: validation accuracy 0.8123\n"


def build(course: Path, assignment: str) -> dict:
    """Write the class into course/submitted; student id -> test cells that must score zero (None: all of them)."""
    release = course / "release" / assignment / f"{assignment}.ipynb"
    solutions = solution_answers(course / "source" / assignment / f"{assignment}.ipynb")
    submitted = course / "submitted"
    fill(release, solutions, submitted / SOLUTION / assignment / f"{assignment}.ipynb")
    fill(release, {}, submitted / BLANK / assignment / f"{assignment}.ipynb")
    plan = {SOLUTION: set(), BLANK: None}
    for number, mistake in enumerate(catalogues.mistakes(assignment, course), 1):
        student = f"wrong{number:02d}"
        fill(release, dict(solutions, **{mistake["cell"]: mistake["code"]}),
             submitted / student / assignment / f"{assignment}.ipynb")
        plan[student] = set(catalogues.lost_cells(mistake))
    for student, answers in fair_students(assignment, course).items():
        fill(release, dict(solutions, **answers), submitted / student / assignment / f"{assignment}.ipynb")
        plan[student] = set()
    if PLANTED_IN in plan:
        plant_outputs(submitted / PLANTED_IN / assignment / f"{assignment}.ipynb", kept(course, assignment))
    return plan


def kept(root: Path, assignment: str) -> set:
    return kept_cell_ids(root / "source" / assignment / f"{assignment}.ipynb")


def plant_outputs(path: Path, cells: set) -> None:
    """The outputs a student's full run left in the cells their written answers discuss."""
    notebook = nbformat.read(str(path), as_version=4)
    for cell in notebook.cells:
        if cell.get("id") in cells:
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=PLANTED)]
    nbformat.write(notebook, str(path))


def fair_students(assignment: str, root: Path = ROOT) -> dict:
    """student id -> {solution cell: fair answer}: fair1 takes every exercise's first fair answer, fair2 the
    second, and so on, so that a few students grade the whole fair catalogue (source/<assignment>/fair.py)."""
    students, per_cell = {}, {}
    for answer in catalogues.fair_answers(assignment, root):
        number = per_cell[answer["cell"]] = per_cell.get(answer["cell"], 0) + 1
        students.setdefault(f"fair{number}", {})[answer["cell"]] = answer["code"]
    return students
