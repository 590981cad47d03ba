"""A demo class in a course folder of its own (`demo/`), so a grading round can be tried before and during a
semester without touching the real course.

alice submits the solutions, bob the untouched release, carol the solutions
with the typical mistakes that `source/<assignment>/mistakes.py` marks for the demo. Their
answers are typed into the released notebooks, as a student would.
`python -m course.grading.semester.demo` makes `demo/` (configuration and source copied, its own release and
gradebook) with the class in it; `python -m course.grading.semester.demo check` compares the demo gradebook
with the scores each student must get. `make all` runs the whole round there (course/commands/demo.py).
"""
import os
import shutil
import sys
from pathlib import Path

from ...paths import ASSIGNMENTS, PROJECT_ROOT
from ..engine.database import ENV_DB_URL
from ..verdicts import catalogues
from . import pipeline
from .submissions import fill, graded_cells, solution_answers

STUDENTS = {"alice": "the solutions", "bob": "the blank release", "carol": "a few typical mistakes"}
FOLDER = "demo"
# Written into the demo folder: only a folder that holds it is ever deleted and made again.
MARK = ".course-demo"


class NotTheDemo(RuntimeError):
    """A `demo/` folder exists that this module did not make: it is left alone."""


def folder(root: Path = PROJECT_ROOT) -> Path:
    return Path(root) / FOLDER


def apart() -> None:
    """The demo never grades into a shared gradebook server that COURSE_DB_URL names: its own SQLite file only."""
    os.environ.pop(ENV_DB_URL, None)


def prepare(root: Path = PROJECT_ROOT, assignments=ASSIGNMENTS) -> Path:
    """`demo/` made afresh beside the course in `root`: its copy of the configuration and source, its release,
    its gradebook and the demo class. Nothing in `root` itself is written."""
    apart()
    demo = folder(root)
    if demo.exists():
        if not (demo / MARK).is_file():
            raise NotTheDemo(f"{demo} exists but was not made by the demo round (no {MARK} in it); "
                             f"move it away, then run this again")
        shutil.rmtree(demo)
    chosen = pipeline.present(root, assignments)
    pipeline.new_course(demo, chosen, root)
    (demo / MARK).write_text("Made by the demo round (make all); deleted and made again by it.\n")
    pipeline.release(demo, chosen)
    build(demo, chosen)
    return demo


def demo_mistakes(assignment: str, root: Path = PROJECT_ROOT) -> list[dict]:
    return [m for m in catalogues.mistakes(assignment, root) if m.get("demo")]


def build(root: Path = PROJECT_ROOT, assignments=ASSIGNMENTS) -> Path:
    submitted = Path(root) / "submitted"
    for assignment in pipeline.present(root, assignments):
        release = Path(root) / "release" / assignment / f"{assignment}.ipynb"
        solutions = solution_answers(Path(root) / "source" / assignment / f"{assignment}.ipynb")
        wrong = dict(solutions, **{m["cell"]: m["code"] for m in demo_mistakes(assignment, root)})
        for student, answers in (("alice", solutions), ("bob", {}), ("carol", wrong)):
            folder = submitted / student / assignment
            shutil.rmtree(folder, ignore_errors=True)
            fill(release, answers, folder / f"{assignment}.ipynb")
    return submitted


def expected(root: Path = PROJECT_ROOT, assignments=ASSIGNMENTS) -> dict:
    """(student, assignment) -> the autograded points that student must get."""
    result = {}
    for assignment in pipeline.present(root, assignments):
        points = graded_cells(Path(root) / "source" / assignment / f"{assignment}.ipynb")
        lost = {cell for m in demo_mistakes(assignment, root) for cell in catalogues.lost_cells(m)}
        result[("alice", assignment)] = sum(points.values())
        result[("bob", assignment)] = 0.0
        result[("carol", assignment)] = sum(p for cell, p in points.items() if cell not in lost)
    return result


def check(root: Path = PROJECT_ROOT) -> bool:
    """Print each demo student's score beside the expected one; True when all agree."""
    got = {(s.student, s.assignment): s.auto for s in pipeline.scores(root)}
    ok = True
    for (student, assignment), want in sorted(expected(root).items()):
        have = got.get((student, assignment))
        good = have is not None and abs(have - want) < 1e-9
        ok &= good
        print(f"{'ok ' if good else 'BAD'} {student:6} {assignment:18} expected {want:g}, graded {have}")
    print("Demo class graded exactly as expected." if ok else "Demo class grades differ from the expected ones!")
    return ok


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["check"]:
        return 0 if check(folder(Path(argv[1]) if len(argv) > 1 else PROJECT_ROOT)) else 1
    try:
        demo = prepare()
    except NotTheDemo as error:
        print(error, file=sys.stderr)
        return 1
    for student, what in STUDENTS.items():
        print(f"{FOLDER}/submitted/{student}: {what}")
    print(f"demo course ready in {demo}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
