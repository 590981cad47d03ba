"""`make handout`: the students' package, `handout/cnn-course-handout.zip`.

The zip holds one folder, `cnn-course/`, with what a student needs and nothing
a grader keeps to itself: the student guide (docs/students.md) as README.md,
the `release/` notebooks, the `course/` modules the notebooks import, `make lab`
(course/commands/lab.py), data/README.md, requirements-student.txt as requirements.txt, and a student
Makefile, pyproject.toml and nbgrader_config.py written here. The real nbgrader_config.py
imports `course.grading` and is never shipped; the student one only sets what
nbgrader's Validate button needs. `source/`, `tests/`, probes, mistakes and
`course/grading/` stay out, and the build refuses a file with solution markers.

Without `--assignment` it holds the assignments whose release date in schedule.toml has passed, so a
student gets each notebook when it comes out, not all seven in the first week.

`python -m course.commands.handout [--output ZIP] [--assignment "03_pooling 04"]`
"""
from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
import zipfile
from pathlib import Path

from .. import paths
from ..grading.semester import pipeline, schedule
from ..paths import PROJECT_ROOT

PREFIX = "cnn-course"
DEFAULT_OUTPUT = PROJECT_ROOT / "handout" / "cnn-course-handout.zip"
# Of course/commands/, only `make lab` is a student's.
STUDENT_COMMANDS = ("__init__.py", "lab.py")
# The students' pinned stack, shipped as the handout's requirements.txt (the course's requirements.txt adds the
# instructor's tools to it).
STUDENT_REQUIREMENTS = "requirements-student.txt"
# The grader's per-cell default (course.grading.run.sandbox.cell_timeout); Validate uses the same.
CELL_TIMEOUT = 120
MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION", "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")
ZIP_DATE = (2020, 1, 1, 0, 0, 0)  # fixed, so the same course gives the same zip

MAKEFILE = """\
# The student's commands. `make lab` sets everything up the first time, then starts JupyterLab.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
STAMP := $(VENV)/.installed

.PHONY: lab install data

lab: install data
\t$(PY) -m course.commands.lab --student

install: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
\t$(PYTHON) -m venv $(VENV)
\t$(PY) -m pip install --quiet --upgrade pip
\t$(PY) -m pip install --quiet -r requirements.txt
\t$(PY) -m pip install --quiet --no-deps -e .
\t$(VENV)/bin/jupyter labextension list 2>&1 | grep -q nbgrader
\ttouch $@

data: install
\t$(PY) -m course.data
"""

PYPROJECT = """\
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "cnn-course"
version = "{version}"
description = "The helpers the CNN foundations notebooks import"
requires-python = ">=3.10"

[tool.setuptools]
packages = [{packages}]

[tool.setuptools.package-data]
course = ["*.json"]
"""

NBGRADER_CONFIG = '''\
"""nbgrader settings on a student's machine: the Validate button and `nbgrader validate` read them.

Grading happens on the instructor's side, so nothing here imports it.
"""
import os

c = get_config()  # noqa: F821 (nbgrader provides it)

c.CourseDirectory.course_id = "{course_id}"
c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.release_directory = "release"

# As when the notebook is graded: each cell may run {timeout} s, and a failing cell does not stop the rest.
c.Execute.timeout = {timeout}
c.Execute.interrupt_on_timeout = True
c.Execute.allow_errors = True
c.Execute.raise_on_iopub_timeout = False
'''


class HandoutError(RuntimeError):
    """The handout cannot be built from this tree; the message says why."""


def _course_id(root: Path) -> str:
    found = re.search(r'course_id\s*=\s*"([^"]+)"', (root / "nbgrader_config.py").read_text())
    if not found:
        raise HandoutError("nbgrader_config.py sets no CourseDirectory.course_id")
    return found.group(1)


def _version(root: Path) -> str:
    found = re.search(r'^version\s*=\s*"([^"]+)"', (root / "pyproject.toml").read_text(), re.MULTILINE)
    return found.group(1) if found else "0.0.0"


def released(root: Path = PROJECT_ROOT, now: dt.datetime | None = None) -> list[str]:
    """The assignments schedule.toml has released by `now`: what a handout holds unless told otherwise.

    Without a schedule every assignment counts as released, and so does one the schedule gives no release date."""
    plan = schedule.load(root)
    known = list(paths.assignments(root))
    if plan is None:
        return known
    now = now or schedule.current_time()
    return [a for a in known if plan.get(a).release is None or plan.get(a).release <= now]


def _nothing_released(root: Path) -> str:
    plan = schedule.load(root)
    dated = [(plan.get(a).release, a) for a in paths.assignments(root) if plan.get(a).release]
    first = f": {min(dated)[1]} comes out {schedule.shown(min(dated)[0], plan)}" if dated else ""
    return (f"{schedule.FILE} has released no assignment yet{first}. Name the assignments to hand out "
            "with ASSIGNMENT=... (`make schedule` shows the dates)")


def contents(root: Path = PROJECT_ROOT, assignments=None) -> dict[str, bytes]:
    """Path inside the handout folder -> bytes, for every file of the handout (of `assignments`, else of those
    released by now)."""
    root = Path(root)
    files: dict[str, bytes] = {"README.md": (root / "docs" / "students.md").read_bytes()}
    for assignment in released(root) if assignments is None else assignments:
        notebook = root / "release" / assignment / f"{assignment}.ipynb"
        if not notebook.is_file():
            raise HandoutError(f"{notebook.relative_to(root)} is missing: run `make release` first")
        files[f"release/{assignment}/{assignment}.ipynb"] = notebook.read_bytes()
    for module in sorted([*(root / "course").glob("*.py"), *(root / "course").glob("*.json")]):  # json: data a plot reads
        files[f"course/{module.name}"] = module.read_bytes()
    for name in STUDENT_COMMANDS:
        files[f"course/commands/{name}"] = (root / "course" / "commands" / name).read_bytes()
    files["data/README.md"] = (root / "data" / "README.md").read_bytes()
    files["requirements.txt"] = (root / STUDENT_REQUIREMENTS).read_bytes()
    packages = sorted({str(Path(p).parent).replace("/", ".") for p in files if p.endswith("/__init__.py")})
    files["pyproject.toml"] = PYPROJECT.format(version=_version(root),
                                               packages=", ".join(f'"{p}"' for p in packages)).encode()
    files["Makefile"] = MAKEFILE.encode()
    files["nbgrader_config.py"] = NBGRADER_CONFIG.format(course_id=_course_id(root), timeout=CELL_TIMEOUT).encode()
    for path, data in files.items():
        text = data.decode("utf-8", errors="replace")
        leaked = [marker for marker in MARKERS if marker in text]
        if leaked:
            raise HandoutError(f"{path} contains {leaked[0]!r}: solution or hidden-test text must not be handed out")
    return files


def build(output: Path = DEFAULT_OUTPUT, root: Path = PROJECT_ROOT, assignments=None) -> Path:
    """Write the handout zip to `output` and return its path."""
    files = contents(root, assignments)
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(files):
            info = zipfile.ZipInfo(f"{PREFIX}/{path}", date_time=ZIP_DATE)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, files[path])
    partial.replace(output)
    return output


def _size(count: int) -> str:
    return f"{count / 1024:.1f} KiB" if count < 1024 * 1024 else f"{count / 1024 / 1024:.1f} MiB"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Build the students' handout zip.")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help=f"zip to write (default {DEFAULT_OUTPUT})")
    parser.add_argument("--root", type=Path, default=PROJECT_ROOT, help="the course folder")
    parser.add_argument("--assignment", action="append",
                        help="these assignments (names or their starts, separated by spaces or commas); "
                             f"default: those {schedule.FILE} has released by now")
    parser.add_argument("--force", action="store_true", help="even before the assignments they require are due")
    args = parser.parse_args(argv)
    try:
        chosen = pipeline.chosen(args.root, args.assignment) if args.assignment else released(args.root)
        if not chosen:
            print(f"handout not built: {_nothing_released(args.root)}", file=sys.stderr)
            return 1
        if not args.assignment:
            print(f"the assignments released by now ({schedule.FILE}): {', '.join(chosen)}")
        blocked = schedule.release_blockers(args.root, chosen)
        if blocked and not args.force:
            print(schedule.refusal(blocked, "handed out"), file=sys.stderr)
            return 1
        output = build(args.output, args.root, chosen)
    except (ValueError, HandoutError, OSError) as error:
        print(f"handout not built: {error}", file=sys.stderr)
        return 1
    with zipfile.ZipFile(output) as archive:
        members = archive.infolist()
    for member in members:
        print(f"  {member.filename:<60} {_size(member.file_size):>10}")
    print(f"wrote {output} ({len(members)} files, {_size(output.stat().st_size)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
