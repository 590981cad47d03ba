"""The graders grade: release stays in sync, and autograde gives the scores it must.

For every assignment a class is built from the release (tests/grading/catalogue_class.py): the
solutions, the blank release, one student per typical mistake in `source/<assignment>/mistakes.py`, and
a few students (fair1, fair2, ...) who give the correct but unusual answers of `source/<assignment>/fair.py`.
It is graded in one course with the demo class (tests/grading/conftest.py). Scores are read from the
gradebook, cell by cell.
"""
import json
import re
from pathlib import Path

import nbformat
import pytest

from course.grading.semester import demo, pipeline
from course.grading.semester.submissions import HIDDEN_BLOCK, SOLUTION_BLOCK, fill, graded_cells, nbgrader_meta, solution_answers
from course.grading.verdicts import catalogues, trusted
from course.grading.verdicts.rubrics import load_rubrics, rubric_text
from course.grading.verdicts.submitted_outputs import NOTE
from course.paths import ASSIGNMENTS
from tests.grading import catalogue_class
from tests.helpers import ROOT, copy_course

pytestmark = pytest.mark.pipeline
PRESENT = pipeline.present(ROOT, ASSIGNMENTS)


def test_every_assignment_is_one_folder_with_its_notebook_probes_and_mistakes():
    for assignment in ASSIGNMENTS:
        for path in (f"source/{assignment}/{assignment}.ipynb", f"source/{assignment}/probes.py",
                     f"source/{assignment}/{catalogues.MISTAKES_FILE}", f"release/{assignment}/{assignment}.ipynb"):
            assert (ROOT / path).is_file(), f"{path} is missing"
    assert PRESENT == list(ASSIGNMENTS)


@pytest.mark.parametrize("assignment", PRESENT)
def test_release_holds_the_notebook_and_nothing_else(assignment):
    released = sorted(p.relative_to(ROOT / "release" / assignment) for p in (ROOT / "release" / assignment).rglob("*"))
    assert released == [Path(f"{assignment}.ipynb")], f"release/{assignment}/ holds {released}"


def _normalised(path: Path) -> dict:
    notebook = json.loads(path.read_text())
    notebook.get("metadata", {}).pop("widgets", None)
    return notebook


def test_release_is_generated_from_source_and_in_sync(tmp_path):
    course = copy_course(tmp_path / "course")
    pipeline.release(course)
    fresh = sorted(p.relative_to(course / "release") for p in (course / "release").rglob("*") if p.is_file())
    committed = sorted(p.relative_to(ROOT / "release") for p in (ROOT / "release").rglob("*") if p.is_file())
    assert fresh == committed, "release/ has other files than a fresh `make release` would write"
    for relative in fresh:
        if relative.suffix == ".ipynb":
            assert _normalised(course / "release" / relative) == _normalised(ROOT / "release" / relative), (
                f"release/{relative} differs from source/; run `make release` and commit the result")
        else:
            assert (course / "release" / relative).read_bytes() == (ROOT / "release" / relative).read_bytes()


@pytest.mark.parametrize("assignment", PRESENT)
def test_release_contains_no_solution_or_hidden_test_text(assignment):
    source = nbformat.read(str(ROOT / "source" / assignment / f"{assignment}.ipynb"), as_version=4)
    released = (ROOT / "release" / assignment / f"{assignment}.ipynb").read_text()
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
        assert marker not in released
    secrets = []
    for cell in source.cells:
        meta = nbgrader_meta(cell)
        if meta.get("solution") and cell.cell_type == "code":
            secrets += [m.group(1) for m in SOLUTION_BLOCK.finditer(cell.source)]
        elif meta.get("solution"):
            secrets.append(cell.source)
        secrets += [m.group(0) for m in HIDDEN_BLOCK.finditer(cell.source)]
    released_sources = "\n".join(c.source for c in nbformat.reads(released, as_version=4).cells)
    for secret in secrets:
        for line in secret.splitlines():
            line = line.strip()
            if len(line) > 25 and not line.startswith("#"):
                assert line not in released_sources, f"solution or hidden-test text in release: {line!r}"


def _cases():
    for assignment in PRESENT:
        yield pytest.param(assignment, catalogue_class.SOLUTION, id=f"{assignment}-solution")
        yield pytest.param(assignment, catalogue_class.BLANK, id=f"{assignment}-blank")
        for number, mistake in enumerate(catalogues.mistakes(assignment), 1):
            yield pytest.param(assignment, f"wrong{number:02d}", id=f"{assignment}-{mistake['name']}")
        for student in catalogue_class.fair_students(assignment):
            yield pytest.param(assignment, student, id=f"{assignment}-{student}")


@pytest.mark.parametrize("assignment,student", list(_cases()))
def test_autograde_gives_exactly_the_expected_points(graded_class, assignment, student):
    course, plan = graded_class[assignment]
    points = graded_cells(course / "source" / assignment / f"{assignment}.ipynb")
    got = pipeline.cell_scores(course, assignment, student)
    lost = set(points) if plan[student] is None else plan[student]
    assert lost <= set(points), f"catalogue names unknown test cells {lost - set(points)}"
    expected = {cell: (0.0 if cell in lost else value) for cell, value in points.items()}
    assert {cell: got[cell] for cell in points} == expected
    if plan[student] is not None:  # the trusted check, outside the student's reach, agrees cell by cell
        assert _trusted_failures(course, assignment, student) == lost


def _trusted_failures(course: Path, assignment: str, student: str) -> set:
    """Test cells whose trusted verdict failed: course.grading.verdicts.trusted puts its error at the top of their outputs."""
    graded = nbformat.read(str(course / "autograded" / student / assignment / f"{assignment}.ipynb"), as_version=4)
    return {nbgrader_meta(cell)["grade_id"] for cell in graded.cells
            if any(o.get("ename") == trusted.ERROR_NAME for o in cell.get("outputs", []))}


@pytest.mark.parametrize("assignment", [a for a in PRESENT if catalogue_class.kept(ROOT, a)])
def test_the_outputs_a_written_answer_refers_to_are_the_students_own(graded_class, assignment):
    """In formgrader and the feedback, the marked cells show what the student's run printed, not the fast rerun."""
    course, plan = graded_class[assignment]
    kept = catalogue_class.kept(course, assignment)
    assert catalogue_class.PLANTED_IN in plan, f"{assignment} has no {catalogue_class.PLANTED_IN} to hand in outputs"
    for student, want in ((catalogue_class.PLANTED_IN, [NOTE, catalogue_class.PLANTED]), (catalogue_class.BLANK, None)):
        graded = nbformat.read(str(course / "autograded" / student / assignment / f"{assignment}.ipynb"), as_version=4)
        shown = {cell.get("id"): [o.get("text") for o in cell.outputs] for cell in graded.cells if cell.get("id") in kept}
        assert set(shown) == kept
        for texts in shown.values():
            assert (texts == want) if want else (NOTE not in texts), (student, texts[:3])


@pytest.mark.parametrize("assignment", PRESENT)
def test_each_written_answer_is_followed_by_its_rubric_in_the_graded_notebook(graded_class, assignment):
    course, _ = graded_class[assignment]
    graded = nbformat.read(str(course / "autograded" / catalogue_class.SOLUTION / assignment / f"{assignment}.ipynb"),
                           as_version=4)
    rubrics = load_rubrics(course / "source" / assignment)
    for index, cell in enumerate(graded.cells):
        grade_id = nbgrader_meta(cell).get("grade_id")
        if cell.cell_type == "markdown" and grade_id in rubrics:
            assert graded.cells[index + 1].source == rubric_text(rubrics[grade_id]), grade_id


@pytest.mark.parametrize("assignment", PRESENT)
def test_every_graded_exercise_has_two_typical_mistakes_in_the_catalogue(assignment):
    points = graded_cells(ROOT / "source" / assignment / f"{assignment}.ipynb")
    mistakes = catalogues.mistakes(assignment)
    for cell in points:
        count = sum(cell in catalogues.lost_cells(m) for m in mistakes)
        assert count >= 2, f"{assignment}: only {count} catalogued mistakes for {cell}"


@pytest.mark.parametrize("assignment", PRESENT)
def test_every_graded_exercise_has_three_fair_answers(assignment):
    """Correct but unusual answers (other loop orders and dtypes, warnings, progress bars on stderr...) keep
    full marks; each graded exercise has at least three of them in source/<assignment>/fair.py."""
    points = graded_cells(ROOT / "source" / assignment / f"{assignment}.ipynb")
    answers = catalogues.fair_answers(assignment)
    solutions = solution_answers(ROOT / "source" / assignment / f"{assignment}.ipynb")
    for answer in answers:
        assert answer["cell"] in solutions, f"{assignment}: fair answer {answer['name']!r} for unknown cell"
        assert answer["code"] != solutions[answer["cell"]], f"{assignment}: {answer['name']!r} is the solution"
    for cell in points:
        count = sum(cell in catalogues.lost_cells(a) for a in answers)
        assert count >= 3, f"{assignment}: only {count} fair answers for {cell}"


@pytest.mark.parametrize("assignment", PRESENT)
def test_every_assignment_has_a_written_answer_graded_by_hand(assignment):
    notebook = nbformat.read(str(ROOT / "source" / assignment / f"{assignment}.ipynb"), as_version=4)
    manual = [c for c in notebook.cells
              if c.cell_type == "markdown" and nbgrader_meta(c).get("grade") and nbgrader_meta(c).get("solution")]
    assert manual, f"{assignment} has no manually graded written answer"


def test_demo_class_feedback_and_grades(local_demo_class):
    """The main job on a copy: demo class, autograde, feedback HTML, grades CSV, exact scores."""
    course, assignments, report = local_demo_class
    handed_in = {(p.parent.name, p.name) for p in (course / "submitted").glob("*/*")}  # the catalogue's too, if any
    assert {(s, a) for s in demo.STUDENTS for a in assignments} <= handed_in
    assert report.graded == len(handed_in) and not report.failed, report.reasons()
    rows = pipeline.scores(course)
    assert {(r.student, r.assignment) for r in rows} == handed_in
    csv_path = pipeline.write_grades_csv(rows, course / "grades.csv")
    assert csv_path.read_text().count("\n") == 1 + len(handed_in)
    for student in demo.STUDENTS:
        for assignment in assignments:
            html = course / "feedback" / student / assignment / f"{assignment}.html"
            assert html.is_file() and "<html" in html.read_text()[:2000].lower()
    assert demo.check(course)
    table = pipeline.table(rows)
    assert re.search(r"alice\s+.*\s(\d+)/\1\s*$", table, re.MULTILINE) and re.search(r"bob\s+0/", table)


def test_no_cell_waits_after_its_reply(local_demo_class):
    """A cell's reply once went unseen after an ipywidgets explorer, and grading sat out the whole cell
    time-out (120 s) before the next cell: the blank (bob) and wrong (carol) 06 and 03 stalled so."""
    _, assignments, report = local_demo_class
    for timing in report.timings:
        if timing["student"] in demo.STUDENTS:
            assert timing["waits"], f"no waits were measured for {timing['student']}'s {timing['assignment']}"
            assert timing["stalls"] == [], (f"{timing['student']}'s {timing['assignment']} waited after a cell's "
                                            f"reply: {timing['stalls']} (cell index, seconds)")
    explored = {(t["student"], t["assignment"]) for t in report.timings}
    assert {("bob", "06_regularization"), ("carol", "06_regularization")} <= explored or \
        "06_regularization" not in assignments


def test_an_unreadable_submission_is_reported_and_the_rest_of_the_class_graded(tmp_path):
    assignment = PRESENT[0]
    course = copy_course(tmp_path / "course", [assignment])
    pipeline.release(course, [assignment])
    release = course / "release" / assignment / f"{assignment}.ipynb"
    solutions = solution_answers(course / "source" / assignment / f"{assignment}.ipynb")
    fill(release, solutions, course / "submitted" / "good" / assignment / f"{assignment}.ipynb")
    broken = course / "submitted" / "broken" / assignment / f"{assignment}.ipynb"
    broken.parent.mkdir(parents=True)
    broken.write_text("{ this is not a notebook")
    said = []
    problems = pipeline.autograde(course, [assignment], say=said.append)
    assert said == [f"autograding {assignment}: 2 submission(s)..."]
    assert problems and all(line.startswith(f"{assignment}: ") for line in problems)
    assert any("broken" in line for line in problems), problems
    points = graded_cells(course / "source" / assignment / f"{assignment}.ipynb")
    got = pipeline.cell_scores(course, assignment, "good")
    assert {cell: got[cell] for cell in points} == points

