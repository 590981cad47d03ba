"""The course in JupyterLab, used the way students and instructors use it, in headless Chromium.

One temporary copy of the course is released, given the demo class and
autograded (in the background while the student tests run); one JupyterLab,
started by `python -m course.commands.lab` (what `make lab` runs) with COURSE_FAST=1
for its kernels, serves every test in this module.

Run only these: `pytest -m browser`; skip them: `pytest -m "not browser"`.
A failing test saves screenshots, page HTML, the browser console and the
server log in tests/artifacts/browser/<test name>/ and names that folder in
its failure message.
"""
import importlib
import json
import shutil
import threading
import time
from pathlib import Path

import nbformat
import pytest

from course.grading.engine import database
from course.grading.semester import demo, pipeline
from course.grading.semester.submissions import nbgrader_meta, solution_answers
from course.paths import ASSIGNMENTS
from tests.browser.session import ARTIFACTS, CHROMIUM, RUN_MS, LabPage, LabServer, keeps_evidence, launch_chromium, timed_into
from tests.helpers import copy_course

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is absent (apt-get install chromium)"),
]

MODEL = "01_convolution"  # the model assignment: the student flow and manual grading use it
BY_HAND = "by_hand = np.array([[50, 150], [0, 50]])"  # typed key by key, as a student would
WRITTEN = "It blurs the image: each pixel becomes the mean of its patch, so edges soften and lone noisy pixels fade."
PASSED = "\u2705"
TIMINGS = {}


class Grading(threading.Thread):
    """`pipeline.autograde` on the course copy, run beside the student tests to save wall time."""

    def __init__(self, root: Path):
        super().__init__(daemon=True)
        self.root, self.error, self.seconds = root, None, None

    def run(self):
        started = time.monotonic()
        try:
            pipeline.autograde(self.root)
        except BaseException as error:  # handed to the instructor tests, which wait for it
            self.error = error
        self.seconds = time.monotonic() - started

    def result(self) -> Path:
        """The graded course; fails when autograde raised or left a demo submission out of the gradebook."""
        self.join()
        if self.error is not None:
            raise RuntimeError(f"autograding the demo class failed: {self.error}") from self.error
        graded = {(s.student, s.assignment) for s in pipeline.scores(self.root)}
        missing = [f"{student}/{assignment}" for assignment in [MODEL]
                   for student in demo.STUDENTS if (student, assignment) not in graded]
        if missing:
            raise RuntimeError(f"`pipeline.autograde` left {', '.join(missing)} ungraded; run "
                               f"`nbgrader autograde <assignment> --force` in {self.root} to see nbgrader's log")
        return self.root


@pytest.fixture(scope="module")
def browser_course(tmp_path_factory):
    """Release every assignment in source/, build the demo class, and start autograding it."""
    root = copy_course(tmp_path_factory.mktemp("browser") / "course")
    started = time.monotonic()
    pipeline.release(root)
    # The blank notebook as released, kept aside before any test types into release/.
    shutil.copytree(root / "release" / MODEL, root / "unsolved" / MODEL)
    demo.build(root, [MODEL])  # every assignment is released; the demo class hands in the model one
    TIMINGS["release + demo class"] = time.monotonic() - started
    grading = Grading(root)
    grading.start()
    yield root, grading
    grading.join()
    if grading.seconds is not None:
        TIMINGS["autograde (background)"] = grading.seconds
    print("\nbrowser suite timings: " + ", ".join(f"{k} {v:.0f} s" for k, v in TIMINGS.items()))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "timings.json").write_text(json.dumps({k: round(v, 1) for k, v in TIMINGS.items()}, indent=1))


@pytest.fixture(scope="module")
def lab_server(browser_course, tmp_path_factory):
    root, _ = browser_course
    started = time.monotonic()
    lab = LabServer(root, tmp_path_factory.mktemp("lab")).start()
    TIMINGS["JupyterLab start"] = time.monotonic() - started
    yield lab
    lab.stop()


@pytest.fixture(scope="module")
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        yield browser
        browser.close()


@pytest.fixture
def lab_page(chromium, lab_server, request):
    context = chromium.new_context(viewport={"width": 1400, "height": 900})
    page = LabPage(context, lab_server, request.node.name)
    yield page
    context.close()
    lab_server.shut_down_kernels()


@pytest.fixture
def browser_class_graded(browser_course):
    """The course once the background autograde has finished."""
    return browser_course[1].result()


def notebook(root: Path, folder: str, assignment: str):
    return nbformat.read(str(root / folder / assignment / f"{assignment}.ipynb"), as_version=4)


def cell_index(nb, grade_id: str) -> int:
    return next(i for i, cell in enumerate(nb.cells) if nbgrader_meta(cell).get("grade_id") == grade_id)


def timed(name):
    return timed_into(TIMINGS, name)


# --- the first five minutes -----------------------------------------------------------------------

@keeps_evidence
def test_make_lab_serves_the_course_with_a_token_and_nbgraders_tools(lab_page, lab_server):
    assert lab_server.api("api/status", token=False)[0] in (401, 403), "the server must demand the token"
    assert lab_server.api("api/status")[0] == 200
    with timed("open JupyterLab"):
        lab_page.open_lab()
    items = lab_page.menu_items("Nbgrader")
    for tool in ("Assignment List", "Formgrader"):
        assert tool in items, f"Nbgrader menu lacks {tool!r}: {items}"
    assert lab_page.page.locator(".jp-DirListing-item", has_text="release").count() == 1, \
        "JupyterLab does not show the course folder"


# --- students -------------------------------------------------------------------------------------

@keeps_evidence
def test_student_solves_runs_and_validates_a_released_notebook(lab_page, browser_course):
    root, _ = browser_course
    nb = notebook(root, "release", MODEL)
    answers = solution_answers(root / "source" / MODEL / f"{MODEL}.ipynb")
    path = f"release/{MODEL}/{MODEL}.ipynb"
    with timed("student: open notebook"):
        view = lab_page.open_notebook(path, len(nb.cells))

    view.type_into(cell_index(nb, "by_hand"), BY_HAND, keystrokes=True)
    assert view.source(cell_index(nb, "by_hand")) == BY_HAND, "the editor changed what was typed"
    for grade_id, answer in answers.items():
        if grade_id != "by_hand" and nb.cells[cell_index(nb, grade_id)].cell_type == "code":
            view.type_into(cell_index(nb, grade_id), answer)
    for written, _ in written_answers(root, MODEL):
        view.write_markdown(cell_index(nb, written), WRITTEN)

    with timed("student: run all cells"):
        lab_page.menu("Run", "Run All Cells")
        view.wait_for_execution()

    check = view.output_text(cell_index(nb, "test_by_hand"))
    assert f"{PASSED} shape of by_hand: correct" in check and f"{PASSED} top-left value of by_hand: correct" in check
    for index, cell in enumerate(nb.cells):
        meta = nbgrader_meta(cell)
        if meta.get("grade") and cell.cell_type == "code":
            text = view.output_text(index)
            assert PASSED in text and "\u274c" not in text, f"check {meta['grade_id']} did not pass:\n{text}"
    assert view.error_outputs() == [], "a cell printed an error or to stderr"

    plot = next(i for i, cell in enumerate(nb.cells) if cell.cell_type == "code" and "plots.show_images" in cell.source)
    image = view.output(plot).locator("img").first
    image.scroll_into_view_if_needed()
    assert image.evaluate("img => img.complete && img.naturalWidth > 100 && img.naturalHeight > 50"), \
        "the plot did not render as an image"

    with timed("student: validate solved notebook"):
        dialog = view.validate()
    assert "Success! Your notebook passes all the tests." in dialog.text_content()
    dialog.get_by_role("button", name="Ok").click()


@keeps_evidence
def test_validate_reports_failure_for_the_blank_notebook(lab_page, browser_course):
    root, _ = browser_course
    nb = notebook(root, "unsolved", MODEL)
    view = lab_page.open_notebook(f"unsolved/{MODEL}/{MODEL}.ipynb", len(nb.cells))
    with timed("student: validate blank notebook"):
        dialog = view.validate()
    assert "nbgrader-ErrorDialog" in (dialog.get_attribute("class") or "")
    text = dialog.text_content()
    assert "The following cell failed:" in text and "Success!" not in text
    for grade_id in ("test_by_hand", "test_convolution2d"):
        check = nb.cells[cell_index(nb, grade_id)].source.splitlines()[0].strip()
        assert check in text, f"Validate does not list the failing check {grade_id}"
    assert "You did not provide a response." in text, "the unanswered written answer is not reported"
    dialog.get_by_role("button", name="Ok").click()


def explorer_notebook(root: Path) -> tuple:
    """(path, cell count, cells to run) for a released notebook that calls convolution_explorer(),
    or a scratch notebook that does, while no assignment uses it yet."""
    for path in sorted((root / "release").glob("*/*.ipynb")):
        nb = nbformat.read(str(path), as_version=4)
        code = [i for i, cell in enumerate(nb.cells) if cell.cell_type == "code"]
        calls = [i for i in code if "convolution_explorer(" in nb.cells[i].source]
        if calls:
            return str(path.relative_to(root)), len(nb.cells), [code[0], calls[0]]
    scratch = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "from course.explorers import convolution_explorer\nconvolution_explorer()")])
    scratch.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    (root / "scratch").mkdir(exist_ok=True)
    nbformat.write(scratch, str(root / "scratch" / "explorer.ipynb"))
    return "scratch/explorer.ipynb", 1, [0]


@keeps_evidence
def test_convolution_explorer_slider_redraws_the_picture(lab_page, browser_course):
    root, _ = browser_course
    try:
        importlib.import_module("course.explorers")
    except ImportError as error:
        pytest.fail(f"course.explorers cannot be imported ({error}); the explorer cannot be tested")
    path, count, to_run = explorer_notebook(root)
    view = lab_page.open_notebook(path, count)
    with timed("student: explorer shown"):
        view.run_cells(to_run)
        output = view.output(to_run[-1])
        output.locator(".widget-hslider").first.wait_for(timeout=RUN_MS)
        output.locator("img").first.wait_for(timeout=RUN_MS)
    output.scroll_into_view_if_needed()
    summary = output.locator(".widget-label").last
    before_text, before_image = summary.text_content(), output.locator("img").first.get_attribute("src")

    slider = output.locator(".widget-hslider").filter(has_text="padding")
    readout = slider.locator(".widget-readout")
    old_value = readout.text_content()
    slider.locator(".noUi-handle").focus()
    lab_page.page.keyboard.press("ArrowRight")
    lab_page.page.wait_for_function("([el, old]) => el.textContent !== old",
                                    arg=[summary.element_handle(), before_text], timeout=RUN_MS)
    assert readout.text_content() != old_value, "the slider did not move"
    lab_page.page.wait_for_function(
        "([area, old]) => { const img = area.querySelector('img'); return img && img.src !== old; }",
        arg=[output.element_handle(), before_image], timeout=RUN_MS)
    assert summary.text_content() != before_text


# --- instructors ----------------------------------------------------------------------------------

def open_formgrader(lab_page: LabPage):
    """Nbgrader > Formgrader in JupyterLab; formgrader lives in an iframe in the main area."""
    lab_page.open_lab()
    lab_page.menu("Nbgrader", "Formgrader")
    frame = lab_page.page.frame_locator("#formgrader iframe")
    frame.get_by_role("heading", name="Manage Assignments").wait_for()
    return frame


def shown(score: float) -> str:
    """A score as formgrader writes it (rounded to two decimals, no trailing zeros)."""
    return f"{round(score, 2):g}"


@keeps_evidence
def test_formgrader_lists_every_assignment_and_the_demo_class_scores(lab_page, browser_class_graded):
    # Every assignment with a notebook in source/ (as copied for this run) must be listed.
    expected = pipeline.present(browser_class_graded, ASSIGNMENTS)
    rows = {(s.student, s.assignment): s for s in pipeline.scores(browser_class_graded)}
    with timed("instructor: formgrader lists assignments"):
        frame = open_formgrader(lab_page)
        table = frame.locator("#main-table")
        for assignment in expected:
            table.locator("tr", has_text=assignment).first.wait_for()
    listed = [name.strip() for name in table.locator("td.name").all_text_contents()]
    assert sorted(listed) == sorted(expected), "formgrader's assignments differ from source/"

    with timed("instructor: submissions and scores"):
        for assignment in [MODEL]:
            row = table.locator("tr", has=frame.get_by_role("link", name=assignment, exact=True))
            assert row.locator("td.num-submissions").text_content().strip() == str(len(demo.STUDENTS))
            row.locator("td.num-submissions a").click()
            students = frame.locator("#main-table")
            for student in demo.STUDENTS:
                score = rows[(student, assignment)]
                line = students.locator("tr", has=frame.locator("td.student-id", has_text=student))
                assert line.locator("td.score").text_content().strip() == \
                    f"{shown(score.total)} / {shown(score.auto_max + score.manual_max)}", \
                    f"{student}'s score for {assignment}"
            frame.get_by_role("link", name="Manage Assignments").first.click()
            frame.locator("#main-table tr", has_text=expected[-1]).first.wait_for()


def written_answers(root: Path, assignment: str) -> list:
    """(grade_id, points) of every written answer graded by hand."""
    nb = notebook(root, "source", assignment)
    return [(nbgrader_meta(c)["grade_id"], float(nbgrader_meta(c)["points"])) for c in nb.cells
            if c.cell_type == "markdown" and nbgrader_meta(c).get("grade") and nbgrader_meta(c).get("solution")]


def overall(root: Path, student: str) -> str:
    """A student's total over all assignments, as formgrader's Manage Students page shows it
    (out of every released assignment's points, handed in or not)."""
    from nbgrader.api import Gradebook

    rows = [s for s in pipeline.scores(root) if s.student == student]
    with Gradebook(database.db_url(root)) as gradebook:
        best = sum(assignment.max_score for assignment in gradebook.assignments)
    return f"{shown(sum(s.total for s in rows))} / {shown(best)}"


def give_full_points(page, frame, grade_id: str, points: str):
    """Type the points into a written answer's score box and leave it; returns the save's response.

    The page fills its boxes from the gradebook once its scripts have loaded, which can wipe what
    was typed a moment earlier; if no save goes out, the cell's *Full credit* button does the same."""
    box = frame.locator(f"input.score#{grade_id}")
    box.wait_for()
    saving = lambda r: "/formgrader/api/grade/" in r.url and r.method == "PUT"  # noqa: E731
    for attempt in range(4):
        try:
            with page.expect_request(saving, timeout=20_000) as sent:
                if attempt == 0:
                    box.fill(points)
                    box.press("Tab")
                else:
                    frame.locator(".nbgrader_cell", has=box).locator("button.full-credit").click()
            return sent.value.response()
        except Exception:
            if attempt == 3:
                raise


@keeps_evidence
def test_grading_a_written_answer_in_formgrader_changes_the_students_total(lab_page, browser_class_graded):
    answers = written_answers(browser_class_graded, MODEL)
    before = {(s.student, s.assignment): s for s in pipeline.scores(browser_class_graded)}[("alice", MODEL)]
    assert before.needs_manual_grade
    assert all(pipeline.cell_scores(browser_class_graded, MODEL, "alice")[grade_id] in (None, 0.0) for grade_id, _ in answers)
    total_before = overall(browser_class_graded, "alice")

    with timed("instructor: manual grading"):
        frame = open_formgrader(lab_page)
        frame.get_by_role("link", name="Manual Grading").first.click()
        table = frame.locator("#main-table")
        table.get_by_role("link", name=MODEL, exact=True).click()  # the assignment
        table.get_by_role("link", name=MODEL, exact=True).click()  # its notebook
        table.get_by_role("link", name="Submission #1").wait_for()  # names are hidden at first
        frame.get_by_text("Show All Names").click()
        with lab_page.page.expect_response(lambda r: "/formgrader/api/grades" in r.url):
            table.get_by_role("link", name="alice", exact=True).click()
        for grade_id, points in answers:  # full marks for each written answer, typed into its box
            saved = give_full_points(lab_page.page, frame, grade_id, shown(points))
            assert saved and saved.ok, f"formgrader could not save the grade: {saved and saved.status}"

    given = sum(points for _, points in answers)
    after = {(s.student, s.assignment): s for s in pipeline.scores(browser_class_graded)}[("alice", MODEL)]
    assert {g: pipeline.cell_scores(browser_class_graded, MODEL, "alice")[g] for g, _ in answers} == dict(answers)
    assert after.manual == before.manual + given
    assert after.total == before.total + given
    assert not after.needs_manual_grade

    # ... and formgrader's own list of students shows the new total (the grading page has no menu,
    # so go there as an instructor would by typing the address into the formgrader panel).
    lab_page.page.locator("#formgrader iframe").element_handle().content_frame().goto(
        lab_page.server.url("formgrader/manage_students"))
    total = frame.locator("#main-table tr", has=frame.locator("td.id", has_text="alice")).locator("td.score")
    total.wait_for()
    assert total.text_content().strip() == overall(browser_class_graded, "alice") != total_before
