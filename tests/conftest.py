"""Shared fixtures: a throwaway copy of the course, so tests never touch the real gradebook."""
import os
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

# nbgrader shells out to `alembic`; the venv's bin/ must come first on PATH.
os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])


def copy_course(destination: Path, assignments=None) -> Path:
    """The parts of the course nbgrader needs, copied under `destination`."""
    destination.mkdir(parents=True, exist_ok=True)
    shutil.copy2(ROOT / "nbgrader_config.py", destination / "nbgrader_config.py")
    for name in assignments or [p.name for p in (ROOT / "source").iterdir() if p.is_dir()]:
        shutil.copytree(ROOT / "source" / name, destination / "source" / name,
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    shutil.copytree(ROOT / "tests" / "catalogue", destination / "tests" / "catalogue")
    return destination


@pytest.fixture
def course_copy(tmp_path):
    return copy_course(tmp_path / "course")
