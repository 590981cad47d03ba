"""An assignment's answer catalogues: the typical mistakes that must lose their points and the fair answers that must keep them.

They sit beside the notebook (`source/<assignment>/mistakes.py`, `fair.py`), are never released, and
describe how verdicts must come out, so the tests, the demo class and the benchmark read them from here.
"""
import importlib.util
from pathlib import Path

from ...paths import PROJECT_ROOT

MISTAKES_FILE = "mistakes.py"
FAIR_FILE = "fair.py"
FILES = (MISTAKES_FILE, FAIR_FILE)


def catalogue(assignment: str, root: Path = PROJECT_ROOT, file: str = MISTAKES_FILE) -> dict:
    """An assignment's catalogue, `source/<assignment>/<file>` (the mistakes by default), as a dict of its names."""
    path = Path(root) / "source" / assignment / file
    if not path.is_file():
        return {}
    spec = importlib.util.spec_from_file_location(f"catalogue_{assignment}_{Path(file).stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return vars(module)


def mistakes(assignment: str, root: Path = PROJECT_ROOT) -> list[dict]:
    """The typical wrong answers of `source/<assignment>/mistakes.py` (its WRONG list)."""
    return list(catalogue(assignment, root).get("WRONG", []))


def fair_answers(assignment: str, root: Path = PROJECT_ROOT) -> list[dict]:
    """The correct but unusual answers of `source/<assignment>/fair.py` (its FAIR list): each keeps full marks."""
    return list(catalogue(assignment, root, FAIR_FILE).get("FAIR", []))


def lost_cells(answer: dict) -> list[str]:
    """The test cells a wrong answer must fail: by default the one named after its solution cell."""
    return answer.get("loses", [f"test_{answer['cell']}"])
