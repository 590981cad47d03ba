"""Who each file serves is visible from its folder, the student's side never reaches the grader, and imports point down."""
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
    assert reaches_grader(imported(ast.parse("from course.grading.verdicts.probe import Probe")))
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


# The layers of `course`, lowest first: a module may import its own layer and those below, never one above.
LAYERS = ("course", "course.grading.run", "course.grading.verdicts", "course.grading.engine", "course.grading.semester",
          "course.commands")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def course_modules() -> dict:
    """Module name -> path, for every Python file of the `course` package."""
    return {module_name(path): path for path in sorted((ROOT / "course").rglob("*.py"))}


def import_graph(modules: dict) -> dict:
    """Module -> the `course` modules it imports, anywhere in its body (function-level imports included)."""
    graph = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                candidates = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    base = ".".join(anchor + ([base] if base else []))
                candidates = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                              for alias in node.names]
            else:
                continue
            targets |= {c for c in candidates if c in modules and c != name}
        graph[name] = targets
    return graph


def layer(module: str) -> int:
    return max(i for i, prefix in enumerate(LAYERS) if module == prefix or module.startswith(prefix + "."))


def wrong_way(graph: dict) -> list:
    """(importer, imported) pairs where a lower layer imports a higher one."""
    return sorted((a, b) for a, targets in graph.items() for b in targets if layer(b) > layer(a))


def circles(graph: dict) -> list:
    """The import cycles of `graph`: its strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found, counter = {}, {}, [], set(), [], [0]

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_circle_in_the_course_package():
    assert circles(import_graph(course_modules())) == []


def test_imports_point_down_the_layers():
    assert wrong_way(import_graph(course_modules())) == []


def test_the_grader_is_split_by_concern():
    packages = {p.name for p in (ROOT / "course" / "grading").iterdir() if (p / "__init__.py").is_file()}
    assert packages == {"run", "verdicts", "engine", "semester"}
    assert [p.name for p in (ROOT / "course" / "grading").glob("*.py")] == ["__init__.py"], \
        "every grading module belongs to one of the four packages"
    for name in packages:
        doc = ast.get_docstring(ast.parse((ROOT / "course" / "grading" / name / "__init__.py").read_text()))
        assert doc and "import" in doc.lower(), f"course/grading/{name}/__init__.py must say what it is for and may import"


def test_the_checks_see_a_circle_and_an_upward_import():
    graph = {"course.grading.semester.pipeline": {"course.grading.engine.driver"},
             "course.grading.engine.driver": {"course.grading.semester.demo"},
             "course.grading.semester.demo": {"course.grading.semester.pipeline"},
             "course.grading.run.sandbox": {"course.paths"}, "course.paths": set()}
    assert circles(graph) == [sorted(["course.grading.semester.pipeline", "course.grading.engine.driver",
                                      "course.grading.semester.demo"])]
    assert wrong_way(graph) == [("course.grading.engine.driver", "course.grading.semester.demo")]
    assert wrong_way({"course.grading.run.sandbox": {"course.grading.verdicts.trusted"}}) != []
    assert wrong_way({"course.checks": {"course.grading.run.sandbox"}}) != []


def test_the_graph_resolves_relative_and_function_level_imports():
    graph = import_graph(course_modules())
    assert "course.grading.verdicts.catalogues" in graph["course.grading.engine.driver"]
    assert "course.grading.engine.driver" in graph["course.grading.semester.pipeline"]  # imported inside a function
    assert "course.grading.run.sandbox" in graph["course.grading.verdicts.trusted"]


def test_the_grader_tests_sharing_the_graded_class_keep_one_xdist_group_and_other_files_their_own():
    from tests.conftest import xdist_group

    assert xdist_group(ROOT / "tests/grading/engine/test_driver.py", shared=True) == "grading"
    assert xdist_group(ROOT / "tests/grading/run/test_hostile.py", shared=True) == "grading"
    assert xdist_group(ROOT / "tests/grading/run/test_hostile.py") not in ("grading", xdist_group(
        ROOT / "tests/grading/run/test_nursery.py"))
    assert xdist_group(ROOT / "source/01_convolution/01_convolution.ipynb") == "source_01_convolution_01_convolution_ipynb"
    assert xdist_group(ROOT / "tests/hub/test_semester.py", shared=True) != "grading"  # servers outside the grader
    assert xdist_group(ROOT / "tests/hub/test_semester.py") != xdist_group(ROOT / "tests/browser/test_browser.py")


def test_collection_groups_a_file_by_whether_any_of_its_tests_uses_the_graded_class():
    from tests import conftest

    class Item:
        def __init__(self, path, *fixtures):
            self.path, self.fixturenames, self.marks = ROOT / path, fixtures, []

        def add_marker(self, mark):
            self.marks.append(mark.kwargs.get("name") or mark.args[0])

    items = [Item("tests/grading/engine/test_driver.py", "tmp_path"),
             Item("tests/grading/engine/test_driver.py", "graded_class"),
             Item("tests/grading/run/test_hostile.py", "tmp_path"),
             Item("tests/grading/run/test_nursery.py")]
    conftest.pytest_collection_modifyitems(None, items)
    groups = [item.marks[0] for item in items]
    assert groups[:2] == ["grading", "grading"]  # the whole file, though one test alone uses the class
    assert groups[2] not in ("grading", groups[3])
