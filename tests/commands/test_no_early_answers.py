"""No answer reaches students before its exercise is due.

What a student holds while an exercise is open: the `course` package of the handout (and of the hub's
shared venv) from the first week, and the released notebooks of the assignments released before the
exercise's due date (schedule.toml). Each function there that bears an exercise's name, and each
network (an `nn.Module` class) there for an exercise that asks for a network, is pasted as the answer
into an otherwise solved notebook and judged by that exercise's own trusted probe, as the grader
judges a submission: it must not earn the points. The course's training helpers, whose names differ
from 05's `train` and `evaluate`, are pasted by 05's mistake catalogue (source/05_training_loop/
mistakes.py, "a copy of the course's ...").
"""
import ast
import dataclasses
import datetime as dt
from pathlib import Path

import nbformat
import numpy as np
from torch import nn

from course import paths
from course.commands import handout
from course.grading.semester import schedule
from course.grading.semester.submissions import nbgrader_meta, solution_answers
from course.grading.verdicts import probe as probe_api
from course.grading.verdicts import probe_runner, trusted
from tests.helpers import ROOT

NOTEBOOK = "a_students_notebook"  # the module name of pasted code (not "__main__": a module's main() would run)


def definitions(source: str) -> set:
    return {node.name for node in ast.parse(source).body if isinstance(node, (ast.FunctionDef, ast.ClassDef))}


def _definitions_and_imports(source: str) -> list:
    try:
        tree = ast.parse(source)
    except SyntaxError:  # a cell with IPython magics
        return []
    return [ast.unparse(node) for node in tree.body
            if isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef))]


def _notebook_code(path: Path) -> str:
    """The imports, functions and classes of a notebook's code cells outside its solutions: what pasting from
    it brings."""
    cells = nbformat.read(str(path), as_version=4).cells
    return "\n\n".join(line for cell in cells if cell.cell_type == "code" and not nbgrader_meta(cell).get("solution")
                        for line in _definitions_and_imports(cell.source))


def received_before(assignment: str, plan: schedule.Schedule) -> list:
    """(where, source, the package file it is or None) for everything a student holds while `assignment` is open."""
    held = [(f"the handout's {path}", data.decode(), ROOT / path) for path, data in handout.contents(ROOT, []).items()
            if path.startswith("course/") and path.endswith(".py")]
    due = plan.get(assignment).due
    for other in paths.assignments(ROOT):
        release = plan.get(other).release
        if other != assignment and release is not None and (due is None or release < due):
            held.append((f"release/{other}", _notebook_code(ROOT / "release" / other / f"{other}.ipynb"), None))
    return held


def pasted(source: str, where: str, package_file: Path | None = None) -> dict:
    """The names `source` defines, pasted into a notebook cell (code from the course package keeps its imports)."""
    namespace = {"__name__": NOTEBOOK}
    if package_file:
        namespace.update(__file__=str(package_file), __package__=".".join(package_file.relative_to(ROOT).parent.parts))
    exec(compile(source, where, "exec"), namespace)
    return namespace


def solved(assignment: str) -> dict:
    """The namespace of `assignment`'s notebook with every exercise solved: its definitions, and those of
    the answers' statements that need no data the notebook computes."""
    notebook = ROOT / "source" / assignment / f"{assignment}.ipynb"
    namespace = pasted(_notebook_code(notebook), str(notebook))
    for code in solution_answers(notebook).values():
        try:
            statements = ast.parse(code).body
        except SyntaxError:  # a written answer
            continue
        for statement in statements:
            try:
                exec(compile(ast.Module([statement], []), str(notebook), "exec"), namespace)
            except Exception:  # noqa: BLE001 (it reads the notebook's data: the probe of that cell cannot run here)
                pass
    return namespace


def verdict(assignment: str, cell: str, namespace: dict) -> str | None:
    """The trusted verdict of `cell`'s test on `namespace`: None when it earns the points."""
    probes = probe_api.load_probes(probe_api.probes_path(ROOT / "source" / assignment))
    probe = probes[f"test_{cell}"]
    data = probe.inputs(np.random.default_rng(0)) if probe.inputs else {}
    record = probe_runner.call_probe(probe.step(data), namespace, 120)
    return trusted.verdicts([record], probes, {probe.grade_id: data}, "")[probe.grade_id]


def candidates(wanted: set, networks: set, held: dict) -> list:
    """{exercise name: pasted object} answers to try from one source students hold: every definition of
    an exercise's name, and every network of it for an exercise's network."""
    found = [{name: held[name]} for name in sorted(wanted & set(held))]
    modules = [value for name, value in held.items() if isinstance(value, type) and issubclass(value, nn.Module)
               and value.__module__ == NOTEBOOK]
    return found + [{name: module} for name in sorted(networks) for module in modules if module.__name__ != name]


def early_answers(plan: schedule.Schedule, assignments=None) -> list:
    """What students hold while an exercise is open and that earns that exercise's points."""
    found = []
    for assignment in assignments or paths.assignments(ROOT):
        notebook = ROOT / "source" / assignment / f"{assignment}.ipynb"
        probes = probe_api.load_probes(probe_api.probes_path(notebook.parent))
        graded = {cell: code for cell, code in solution_answers(notebook).items() if f"test_{cell}" in probes}
        base = solved(assignment)
        for where, source, package_file in received_before(assignment, plan):
            held = pasted(source, where, package_file)
            for cell, code in graded.items():
                networks = {node.name for node in ast.parse(code).body if isinstance(node, ast.ClassDef)}
                for answer in candidates(definitions(code), networks, held):
                    if verdict(assignment, cell, dict(base, **answer)) is None:
                        names = ", ".join(f"{getattr(v, '__name__', k)} as {k}" for k, v in answer.items())
                        found.append(f"{where}: {names} earns {assignment}'s test_{cell} while that is open")
    return found


def test_the_solved_notebook_earns_every_point_so_a_paste_is_judged_fairly():
    for assignment in ("02_padding_stride", "05_training_loop"):
        notebook = ROOT / "source" / assignment / f"{assignment}.ipynb"
        probes = probe_api.load_probes(probe_api.probes_path(notebook.parent))
        base = solved(assignment)
        # Cells that define a function or network (a value typed by hand is no paste); train's probe trains
        # networks, and 05's catalogue grades it anyway.
        for cell, code in solution_answers(notebook).items():
            if f"test_{cell}" in probes and definitions(code) and cell != "train":
                assert verdict(assignment, cell, base) is None, (assignment, cell)


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
    assert found == ["release/07_conv_backprop: conv2d_forward as conv2d_forward earns 02_padding_stride's "
                     "test_conv2d_forward while that is open"], found
    assert schedule.blockers(plan, ["07_conv_backprop"], early.release), "make release and make handout must refuse it"
