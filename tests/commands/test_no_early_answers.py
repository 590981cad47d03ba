"""No answer reaches students before its exercise is due.

What a student holds while an exercise is open: the `course` package of the handout (and of the hub's
shared venv) from the first week, and the released notebooks of the assignments released before the
exercise's due date (schedule.toml). Any function there that bears an exercise's name is pasted, as a
student would paste it, into an otherwise empty namespace and judged by that exercise's own trusted
probe, exactly as the grader judges a submission: it must not earn the points. The course's training
helpers, which carry other names than 05's `train` and `evaluate`, are pasted by 05's mistake catalogue
(source/05_training_loop/mistakes.py, "a copy of the course's ...").
"""
import ast
import dataclasses
import datetime as dt
from pathlib import Path

import nbformat
import numpy as np

from course import paths
from course.commands import handout
from course.grading.semester import schedule
from course.grading.semester.submissions import nbgrader_meta, solution_answers
from course.grading.verdicts import probe as probe_api
from course.grading.verdicts import probe_runner, trusted
from tests.helpers import ROOT


def definitions(source: str) -> set:
    return {node.name for node in ast.parse(source).body if isinstance(node, (ast.FunctionDef, ast.ClassDef))}


def _notebook_code(path: Path) -> str:
    """The imports, functions and classes of a released notebook's code cells: what pasting from it brings."""
    kept = []
    for cell in nbformat.read(str(path), as_version=4).cells:
        if cell.cell_type != "code" or nbgrader_meta(cell).get("solution"):
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:  # a cell with IPython magics
            continue
        kept += [ast.unparse(node) for node in tree.body
                 if isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef))]
    return "\n\n".join(kept)


def received_before(assignment: str, plan: schedule.Schedule) -> list:
    """(where, source, package?) for everything a student holds while `assignment` is open."""
    held = [(f"the handout's {path}", data.decode(), True) for path, data in handout.contents(ROOT, []).items()
            if path.startswith("course/") and path.endswith(".py")]
    due = plan.get(assignment).due
    for other in paths.assignments(ROOT):
        release = plan.get(other).release
        if other != assignment and release is not None and (due is None or release < due):
            held.append((f"release/{other}", _notebook_code(ROOT / "release" / other / f"{other}.ipynb"), False))
    return held


def pasted(source: str, where: str, package: bool) -> dict:
    """The namespace a student's notebook has after pasting `source` into a cell."""
    namespace = {"__name__": "__main__", "__package__": "course" if package else None}
    exec(compile(source, where, "exec"), namespace)
    return namespace


def verdict(assignment: str, cell: str, namespace: dict) -> str | None:
    """The trusted verdict of `cell`'s test on `namespace`: None when it earns the points."""
    probes = probe_api.load_probes(probe_api.probes_path(ROOT / "source" / assignment))
    probe = probes[f"test_{cell}"]
    data = probe.inputs(np.random.default_rng(0)) if probe.inputs else {}
    record = probe_runner.call_probe(probe.step(data), namespace, 120)
    return trusted.verdicts([record], probes, {probe.grade_id: data}, "")[probe.grade_id]


def early_answers(plan: schedule.Schedule, assignments=None) -> list:
    """What students hold while an exercise is open and that earns that exercise's points."""
    found = []
    for assignment in assignments or paths.assignments(ROOT):
        notebook = ROOT / "source" / assignment / f"{assignment}.ipynb"
        graded = {cell: definitions(code) for cell, code in solution_answers(notebook).items()
                  if f"test_{cell}" in probe_api.load_probes(probe_api.probes_path(notebook.parent))}
        for where, source, package in received_before(assignment, plan):
            names = definitions(source)
            for cell, wanted in graded.items():
                if names & wanted and verdict(assignment, cell, pasted(source, where, package)) is None:
                    found.append(f"{where} defines {', '.join(sorted(names & wanted))}: it earns {assignment}'s "
                                 f"test_{cell} while that is open")
    return found


def test_nothing_students_hold_earns_an_open_exercises_points():
    plan = schedule.load(ROOT)
    assert plan is not None and all(plan.get(a).release and plan.get(a).due for a in paths.assignments(ROOT))
    assert early_answers(plan) == []


def test_07s_conv2d_forward_would_answer_02_if_07_came_out_while_02_is_open():
    """07 shows 02's conv2d_forward as working code: only the schedule keeps it from students until 02 is due."""
    plan = schedule.load(ROOT)
    early = dataclasses.replace(plan.get("07_conv_backprop"),
                                release=plan.get("02_padding_stride").due - dt.timedelta(days=1))
    plan = dataclasses.replace(plan, entries=dict(plan.entries, **{"07_conv_backprop": early}))
    found = early_answers(plan, ["02_padding_stride"])
    assert found and all(line.startswith("release/07_conv_backprop defines conv2d_forward") for line in found), found
    assert schedule.blockers(plan, ["07_conv_backprop"], early.release), "make release and make handout must refuse it"
