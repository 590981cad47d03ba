"""`make handout`: the students' zip holds what they need to work, and nothing the grader keeps.

The zip is built into a temporary folder and unpacked there. It must carry no
solutions, hidden tests, probes, mistakes or grading code; its helpers must
import on their own and its nbgrader_config.py must make `nbgrader validate`
(the Validate button) work without `course.grading`.
"""
import ast
import datetime as dt
import importlib.metadata
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import nbformat
import pytest

from course.commands import handout
from course.grading.semester import schedule
from course.grading.semester.submissions import HIDDEN_BLOCK, SOLUTION_BLOCK, nbgrader_meta
from course.paths import ASSIGNMENTS
from tests import test_docs as docs_check
from tests.helpers import ROOT

STUDENT_MODULES = ("checks", "plots", "data", "models", "training", "augment", "explorers")
# Lines the solutions share with helpers the notebooks must import: 05/06 build on `models`, and 06's
# `fit_one_cycle` keeps its batch losses as 05's `train` does. Known and reported; nothing else may match
# (04's `training.fit` and `evaluate_model` share no line with 05's `train` and `evaluate`).
SHARED_WITH_HELPERS = {
    "course/training.py": {"losses.append(loss.item())"},
    "course/models.py": {"nn.Linear(128, num_classes),", "self.features = nn.Sequential(",
                         "self.classifier = nn.Sequential("},
}


@pytest.fixture(scope="module")
def unpacked(tmp_path_factory):
    """(zip path, the unpacked cnn-course/ folder)."""
    base = tmp_path_factory.mktemp("handout")
    archive = handout.build(base / "out" / "cnn-course-handout.zip", assignments=ASSIGNMENTS)
    with zipfile.ZipFile(archive) as opened:
        opened.extractall(base / "unpacked")
    return archive, base / "unpacked" / handout.PREFIX


@pytest.fixture(scope="module")
def shipped(unpacked):
    """Path inside the handout folder -> text, for every file of the zip."""
    with zipfile.ZipFile(unpacked[0]) as opened:
        return {name.split("/", 1)[1]: opened.read(name).decode(errors="replace")
                for name in opened.namelist() if not name.endswith("/")}


def test_the_zip_is_one_folder_written_where_asked(unpacked):
    archive, folder = unpacked
    assert archive.is_file() and archive.name == "cnn-course-handout.zip"
    with zipfile.ZipFile(archive) as opened:
        assert {name.split("/")[0] for name in opened.namelist()} == {handout.PREFIX}
    assert folder.is_dir()


def test_it_holds_what_a_student_needs(shipped):
    for path in ("README.md", "Makefile", "pyproject.toml", "requirements.txt", "nbgrader_config.py",
                 "data/README.md", "course/__init__.py", "course/commands/lab.py", "course/dropout_curves.json"):
        assert path in shipped, f"{path} is missing from the handout"
    for assignment in ASSIGNMENTS:
        assert f"release/{assignment}/{assignment}.ipynb" in shipped
    assert shipped["README.md"] == (ROOT / "docs" / "students.md").read_text()


def test_it_holds_nothing_the_grader_keeps(shipped):
    for path in shipped:
        assert not path.startswith(("source/", "tests/", "course/grading/", "docs/")), path
        assert Path(path).name not in ("probes.py", "rubrics.py", "mistakes.py", "fair.py", "hostile_catalogue.py"), path
        assert not path.endswith(".ipynb") or path.startswith("release/"), path
        assert "__pycache__" not in path and not path.endswith(".pyc"), path
    assert set(p for p in shipped if p.startswith("course/commands/")) == {
        f"course/commands/{name}" for name in handout.STUDENT_COMMANDS}
    assert "course.grading" not in shipped["nbgrader_config.py"]
    assert "course.grading" not in shipped["pyproject.toml"]


def _secrets():
    """Every non-trivial line of solutions, hidden tests and model answers in the source notebooks."""
    lines = set()
    for assignment in ASSIGNMENTS:
        notebook = nbformat.read(str(ROOT / "source" / assignment / f"{assignment}.ipynb"), as_version=4)
        for cell in notebook.cells:
            meta, blocks = nbgrader_meta(cell), []
            if meta.get("solution") and cell.cell_type == "code":
                blocks += [m.group(1) for m in SOLUTION_BLOCK.finditer(cell.source)]
            elif meta.get("solution"):
                blocks.append(cell.source)
            blocks += [m.group(0) for m in HIDDEN_BLOCK.finditer(cell.source)]
            for block in blocks:
                lines |= {line.strip() for line in block.splitlines()
                          if len(line.strip()) > 25 and not line.strip().startswith("#")}
    return lines


def test_no_solution_or_hidden_test_text_anywhere(shipped):
    secrets = _secrets()
    assert len(secrets) > 50, "the source notebooks should have plenty of solution lines to look for"
    for path, text in shipped.items():
        for marker in handout.MARKERS:
            assert marker not in text, f"{path} holds {marker!r}"
        leaked = sorted(line for line in secrets - SHARED_WITH_HELPERS.get(path, set()) if line in text)
        assert not leaked, f"{path} holds solution or hidden-test text: {leaked[:3]}"


def test_the_build_refuses_a_release_that_holds_solution_markers(tmp_path):
    for path in ("docs/students.md", "data/README.md", handout.STUDENT_REQUIREMENTS, "pyproject.toml", "nbgrader_config.py"):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_bytes((ROOT / path).read_bytes())
    for path in [f"release/{a}/{a}.ipynb" for a in ASSIGNMENTS] + ["course/__init__.py", "course/commands/__init__.py",
                                                                  "course/commands/lab.py"]:
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_bytes((ROOT / path).read_bytes())
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "index.html").write_text("the class report names students")
    assert not [p for p in handout.contents(tmp_path) if "reports" in p]  # a faithful copy builds, without the report
    leaky = tmp_path / "release" / ASSIGNMENTS[0] / f"{ASSIGNMENTS[0]}.ipynb"
    leaky.write_text(leaky.read_text().replace("# YOUR CODE HERE", "### BEGIN SOLUTION", 1))
    with pytest.raises(handout.HandoutError, match="BEGIN SOLUTION"):
        handout.contents(tmp_path)


def requirement_name(line: str) -> str:
    """`dask[distributed]==2026.8.0` -> `dask`; empty for comments, blank lines and `-r` includes."""
    line = line.split("#", 1)[0].strip()
    if not line or line.startswith("-"):
        return ""
    return re.split(r"[\[<>=!~;\s]", line, maxsplit=1)[0].lower().replace("_", "-")


def requirement_names(text: str) -> set:
    return {requirement_name(line) for line in text.splitlines()} - {""}


def test_the_handouts_requirements_are_the_students_and_hold_no_instructor_package(shipped):
    student = (ROOT / handout.STUDENT_REQUIREMENTS).read_text()
    assert shipped["requirements.txt"] == student
    course = (ROOT / "requirements.txt").read_text()
    assert f"-r {handout.STUDENT_REQUIREMENTS}" in course.splitlines(), "the course installs the students' pins too"
    instructor = requirement_names(course)
    assert {"jupyterhub", "dask", "dask-jobqueue", "psycopg", "pytest", "nbval", "ruff", "copydetect"} <= instructor
    assert not requirement_names(student) & instructor, "an instructor's package in the students' requirements"
    assert {"torch==2.14.1", "torchvision==0.29.1"} <= set(student.splitlines())


def _imported(source: str) -> set:
    source = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!")))
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def test_every_module_the_students_code_imports_comes_from_their_requirements(shipped):
    imported = set()
    for path, text in shipped.items():
        if path.endswith(".py"):
            imported |= _imported(text)
        elif path.endswith(".ipynb"):
            for cell in nbformat.reads(text, as_version=4).cells:
                imported |= _imported(cell.source) if cell.cell_type == "code" else set()
    outside = imported - set(sys.stdlib_module_names) - {"course"}
    assert {"torch", "matplotlib", "PIL", "IPython"} <= outside, sorted(outside)
    wanted = requirement_names(shipped["requirements.txt"])
    from_where = importlib.metadata.packages_distributions()
    missing = {module: from_where.get(module) for module in outside
               if not {name.lower().replace("_", "-") for name in from_where.get(module, [])} & wanted}
    assert not missing, f"imported by the students' code but not in {handout.STUDENT_REQUIREMENTS}: {missing}"


def test_the_student_guide_is_true_of_the_handout(unpacked):
    """Every command, link, path and variable the shipped README names exists in the handout itself."""
    folder = unpacked[1]
    problems = docs_check.page_problems(folder / "README.md", root=folder,
                                        targets=docs_check.makefile_targets(folder / "Makefile"))
    assert not problems, "\n".join(problems)


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_the_student_makefile_installs_the_helpers_then_starts_the_lab(unpacked):
    # Under `make test` the parent make's variables would make this one print "Entering directory" lines.
    env = {k: v for k, v in os.environ.items() if k not in {"MAKELEVEL", "MAKEFLAGS", "MFLAGS"}}
    result = subprocess.run(["make", "-n", "lab"], cwd=unpacked[1], capture_output=True, text=True, timeout=60,
                            env=env)
    assert result.returncode == 0, result.stderr
    steps = result.stdout.splitlines()
    assert any("-m venv" in step for step in steps) and any("pip install" in step and "-e ." in step for step in steps)
    assert steps[-2:] == [".venv/bin/python -m course.data", ".venv/bin/python -m course.commands.lab --student"], steps


@pytest.mark.skipif(importlib.util.find_spec("setuptools") is None, reason="setuptools is not installed here")
def test_the_student_pyproject_packages_exactly_the_shipped_helpers(unpacked, tmp_path):
    folder = shutil.copytree(unpacked[1], tmp_path / "copy")
    result = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                             ".", "-w", str(tmp_path / "wheel")], cwd=folder, capture_output=True, text=True,
                            timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    (wheel,) = (tmp_path / "wheel").glob("*.whl")
    with zipfile.ZipFile(wheel) as opened:
        packaged = {name for name in opened.namelist() if ".dist-info/" not in name}
    shipped = [*(folder / "course").rglob("*.py"), *(folder / "course").glob("*.json")]
    assert packaged == {p.relative_to(folder).as_posix() for p in shipped}
    assert "course/dropout_curves.json" in packaged, "the data 06's dropout slider reads"


def _student_env(folder: Path) -> dict:
    """The venv's packages and the handout's `course`, but not this project's editable install.

    `python -S` skips site.py, so the venv's .pth files (among them the finder
    that maps `course` to this repository) are not read; the venv's
    site-packages is put on PYTHONPATH as a plain folder instead.
    """
    site_packages = sysconfig.get_paths()["purelib"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COURSE_", "NBGRADER_", "JUPYTER_"))}
    env["PYTHONPATH"] = os.pathsep.join([str(folder), site_packages])
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["HOME"] = str(folder.parent / "home")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def test_the_helpers_import_on_their_own_and_the_grader_is_absent(unpacked):
    folder = unpacked[1]
    code = ("import course\n"
            f"import {', '.join('course.' + m for m in STUDENT_MODULES)}\n"
            "print(course.__file__)\n"
            "try:\n    import course.grading\nexcept ImportError:\n    print('no grader')\n"
            "else:\n    print('grader found at', course.grading.__file__)\n")
    result = subprocess.run([sys.executable, "-S", "-c", code], cwd=folder, env=_student_env(folder),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert Path(lines[0]).resolve() == (folder / "course" / "__init__.py").resolve()
    assert lines[-1] == "no grader", result.stdout


def test_validate_runs_with_the_student_config_and_reports_the_blank_notebooks_failures(unpacked):
    folder = unpacked[1]
    notebook = f"release/{ASSIGNMENTS[0]}/{ASSIGNMENTS[0]}.ipynb"
    result = subprocess.run([sys.executable, "-S", "-m", "nbgrader", "validate", notebook], cwd=folder,
                            env=_student_env(folder), capture_output=True, text=True, timeout=240)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "VALIDATION FAILED ON" in output, output  # nbgrader exits 0 even when the tests fail
    assert "not implemented yet" in output and "You did not provide a response." in output, output
    assert "course.grading" not in output and "Traceback (most recent call last):\n  File" not in result.stderr, output
    assert str(ROOT / "course") not in output, "the notebook ran this repository's course/, not the handout's"


def test_by_default_the_handout_holds_what_the_schedule_has_released(tmp_path, monkeypatch, capsys):
    plan = schedule.load(ROOT)
    first, second = (plan.get(a).release for a in ASSIGNMENTS[:2])
    assert handout.released(ROOT, second - dt.timedelta(minutes=1)) == list(ASSIGNMENTS[:1])
    assert handout.released(ROOT, second) == list(ASSIGNMENTS[:2])
    monkeypatch.setattr(schedule, "current_time", lambda: second + dt.timedelta(hours=1))
    assert handout.main(["--output", str(tmp_path / "week2.zip")]) == 0
    with zipfile.ZipFile(tmp_path / "week2.zip") as opened:
        notebooks = sorted(name for name in opened.namelist() if name.endswith(".ipynb"))
    assert notebooks == [f"{handout.PREFIX}/release/{a}/{a}.ipynb" for a in ASSIGNMENTS[:2]]
    assert f"released by now (schedule.toml): {', '.join(ASSIGNMENTS[:2])}" in capsys.readouterr().out

    monkeypatch.setattr(schedule, "current_time", lambda: first - dt.timedelta(days=1))
    assert handout.main(["--output", str(tmp_path / "early.zip")]) == 1
    err = capsys.readouterr().err
    assert f"has released no assignment yet: {ASSIGNMENTS[0]} comes out {schedule.shown(first, plan)}" in err
    assert "ASSIGNMENT=" in err and not (tmp_path / "early.zip").exists()
    assert handout.main(["--output", str(tmp_path / "named.zip"), "--assignment", ASSIGNMENTS[0]]) == 0


def test_without_a_schedule_every_assignment_is_released(tmp_path):
    for assignment in ASSIGNMENTS:
        (tmp_path / "release" / assignment).mkdir(parents=True)
    assert handout.released(tmp_path) == list(ASSIGNMENTS)
    (tmp_path / "schedule.toml").write_text(f'[{ASSIGNMENTS[1]}]\nrelease = 2999-01-01\n')
    assert handout.released(tmp_path) == [a for a in ASSIGNMENTS if a != ASSIGNMENTS[1]]
