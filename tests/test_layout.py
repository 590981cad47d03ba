"""Who each file serves is visible from its folder, and the student's side never reaches the grader."""
import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT

GRADER = ("course.grading", "course.commands", "nbgrader")
STUDENT_MODULES = sorted(p for p in (ROOT / "course").glob("*.py"))
NOTEBOOKS = sorted((ROOT / "source").glob("*/*.ipynb")) + sorted((ROOT / "release").glob("*/*.ipynb"))


def imported(tree: ast.AST, package: str = "course") -> set:
    """Every module an AST imports, relative imports resolved against `package`."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join([package, *([base] if base else [])])
            names |= {base} | {f"{base}.{alias.name}" for alias in node.names}
    return names


def reaches_grader(names: set) -> set:
    return {n for n in names if any(n == g or n.startswith(g + ".") for g in GRADER)}


@pytest.mark.parametrize("path", STUDENT_MODULES, ids=lambda p: p.name)
def test_student_facing_modules_import_neither_the_grader_nor_nbgrader(path):
    found = reaches_grader(imported(ast.parse(path.read_text())))
    assert not found, f"course/{path.name} imports {sorted(found)}: notebooks would pull in the grader"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_notebooks_import_neither_the_grader_nor_nbgrader(path):
    cells = [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]
    for cell in cells:
        source = "".join(cell["source"])
        lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
        try:
            tree = ast.parse("\n".join(lines))
        except SyntaxError:  # a stub or a deliberately broken cell: nothing it imports can run
            continue
        found = reaches_grader(imported(tree))
        assert not found, f"{path.name} imports {sorted(found)}"


def test_the_checker_sees_a_forbidden_import():
    assert reaches_grader(imported(ast.parse("from .grading import verdicts")))
    assert reaches_grader(imported(ast.parse("import nbgrader.api")))
    assert reaches_grader(imported(ast.parse("from course.grading.probe import Probe")))
    assert not reaches_grader(imported(ast.parse("from course import checks, plots")))


def test_importing_the_student_package_loads_no_grader_module():
    code = ("import sys, course, course.checks, course.plots, course.data, course.training, course.models, "
            "course.augment, course.explorers, course.xo_reference, course.synthetic_xo\n"
            "print(sorted(m for m in sys.modules if m.startswith(('course.grading', 'course.commands', 'nbgrader'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True).stdout
    assert out.strip() == "[]"


def test_top_level_folders_are_the_agreed_ones():
    for name in ("course", "source", "release", "autograded", "tests", "data", "docs"):
        assert (ROOT / name).is_dir(), f"{name}/ is missing"
    for name in ("nbgrader_config.py", "environment.yml", "Makefile", "README.md"):
        assert (ROOT / name).is_file(), f"{name} is missing"
    assert (ROOT / "course" / "grading").is_dir() and (ROOT / "course" / "commands").is_dir()


@pytest.mark.parametrize("assignment", sorted(p.name for p in (ROOT / "source").iterdir() if p.is_dir()))
def test_an_assignment_folder_holds_only_its_notebook_probes_and_catalogues(assignment):
    allowed = {f"{assignment}.ipynb", "probes.py", "rubrics.py", "mistakes.py", "fair.py"}
    present = {p.name for p in (ROOT / "source" / assignment).iterdir() if p.name not in {"__pycache__", ".ipynb_checkpoints"}}
    assert present <= allowed, f"source/{assignment}/ also holds {sorted(present - allowed)}"


def fixture_names(path) -> list:
    tree = ast.parse(path.read_text())
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            for decorator in node.decorator_list:
                target = decorator.func if isinstance(decorator, ast.Call) else decorator
                if ast.unparse(target) in {"pytest.fixture", "fixture"}:
                    names.append(node.name)
    return names


def test_every_fixture_has_a_name_of_its_own():
    """Two fixtures of one name shadow each other depending on which module asks: that collided once."""
    seen = {}
    for path in sorted((ROOT / "tests").rglob("*.py")):
        for name in fixture_names(path):
            assert name not in seen, f"fixture {name!r} is defined in {seen[name]} and {path.relative_to(ROOT)}"
            seen[name] = path.relative_to(ROOT)
    assert "graded_class" in seen


def test_no_test_module_edits_sys_path():
    edits = ("sys.path.insert", "sys.path.append")
    for path in sorted((ROOT / "tests").rglob("*.py")):
        if path.resolve() != Path(__file__).resolve():
            assert not any(edit in path.read_text() for edit in edits), f"{path.relative_to(ROOT)} edits sys.path"
