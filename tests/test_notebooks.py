"""Source notebooks stay reviewable; every notebook starts the same friendly way."""
import json

import pytest

from tests.helpers import ROOT

SOURCES = sorted((ROOT / "source").glob("*/*.ipynb"))
RELEASES = sorted((ROOT / "release").glob("*/*.ipynb"))


@pytest.mark.parametrize("path", SOURCES + RELEASES, ids=lambda p: str(p.relative_to(ROOT)))
def test_notebooks_are_stored_without_outputs(path):
    notebook = json.loads(path.read_text())
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            assert cell.get("outputs") == [], f"{path.name}: a cell has outputs; clear them before committing"
            assert cell.get("execution_count") is None


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.parent.name)
def test_notebook_is_named_after_its_folder_and_uses_the_course_package(path):
    assert path.stem == path.parent.name
    notebook = json.loads(path.read_text())
    first_code = next(c for c in notebook["cells"] if c["cell_type"] == "code")
    assert "from course import" in "".join(first_code["source"])
    assert "make lab" in "".join(first_code["source"]), "the setup cell must say what to run when course is missing"
