"""A semester on the course's JupyterHub, in headless Chromium, with real Unix accounts.

One hub for the module, made by the commands behind `make roster` and `make hub` (course.commands.hub)
with throwaway accounts: an instructor, a TA and two students, the first with a student number as
their id. The instructor releases 01 from formgrader; one student fetches, solves (uploads the solved
notebook), validates and submits in the Assignments panel; the other submits it blank, then resubmits
after the due date. The instructor collects, autogrades with the course's parallel grader as
`make autograde` does; the TA grades a written answer in their own formgrader; the instructor
generates and releases feedback; each student fetches theirs. Afterwards each privacy promise of
docs/hub.md is checked as the Unix user it protects against, each with a positive control; then the
class report's service, the servers' limits, the locked Unix logins and a student dropped from the roster.

Run only these: `pytest -m hub` (as root). A failing test saves screenshots, page HTML and the hub's
log in tests/artifacts/hub/<test>/.
"""
from __future__ import annotations

import datetime
import json
import pwd
import re
import secrets
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import nbformat
import pytest

from course.commands.hub.limits import Cgroups, parse_size
from course.grading.semester import pipeline
from course.grading.semester.submissions import fill, nbgrader_meta, solution_answers
from tests.browser.session import CHROMIUM_ARGS, launch_chromium, timed_into
from tests.hub.course_hub import LIMITS, NAMES, SPAWN_MS, STEP_MS, CourseHub, Unavailable, missing

pytestmark = [pytest.mark.hub]

MODEL = "01_convolution"
TIMINGS: dict = {}
STATE: dict = {}  # what the semester leaves for the privacy checks


def timed(label: str):
    return timed_into(TIMINGS, label)


@pytest.fixture(scope="module")
def hub():
    why = missing()
    if why:
        pytest.skip(str(Unavailable(why)))
    course_hub = CourseHub()
    try:
        with timed("make roster"):
            made = course_hub.roster()
        assert made.returncode == 0, f"`hub roster` failed:\n{made.stdout}{made.stderr}"
        with timed("make hub (until it answers)"):
            course_hub.start()
        yield course_hub
    finally:
        course_hub.stop()
        course_hub.remove()
        print("\nhub test timings (s): " + ", ".join(f"{k} {v:.0f}" for k, v in TIMINGS.items()))


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    assert CHROMIUM_ARGS  # the same headless Chromium as the JupyterLab tests
    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


class Person:
    """One user's browser: their own cookies, logged in on the hub's login page with their Unix password."""

    def __init__(self, browser, hub: CourseHub, user: str, typed: str | None = None):
        self.hub, self.user, self.typed = hub, user, typed or user
        self.context = browser.new_context()
        self.page = self.context.new_page()
        self.page.set_default_timeout(STEP_MS)

    def url(self, path: str) -> str:
        return f"{self.hub.base}/user/{self.user}/{path.lstrip('/')}"

    def log_in(self) -> None:
        self.page.goto(f"{self.hub.base}/hub/login")
        self.page.locator("#username_input").fill(self.typed)
        self.page.locator("#password_input").fill(self.hub.password(self.user))
        self.page.locator("#login_submit").click()
        self.page.wait_for_url(f"**/user/{self.user}/lab**", timeout=SPAWN_MS)
        self.page.locator("#jp-MainMenu").wait_for(timeout=SPAWN_MS)

    # --- formgrader (instructor) --------------------------------------------------------------------
    def formgrader_row(self):
        self.page.goto(self.url("formgrader/manage_assignments"))
        return self.page.locator("#main-table tr", has=self.page.get_by_role("link", name=MODEL, exact=True))

    def formgrader_action(self, column: str, done: str) -> None:
        """Click the row's button in `column`, wait for its success message, close it."""
        row = self.formgrader_row()
        row.locator(f"td.{column} a").click()
        modal = self.page.locator("#success-modal:visible, #error-modal:visible").first
        modal.wait_for(timeout=STEP_MS * 2)
        text = " ".join((modal.text_content() or "").split())
        assert done in text, f"formgrader's {column}: {text}"
        modal.locator(".modal-footer button").last.click()
        modal.wait_for(state="hidden")

    # --- the Assignments panel (students) -----------------------------------------------------------
    def assignments(self):
        self.page.goto(self.url("lab"))
        self.page.locator("#jp-MainMenu .lm-MenuBar-itemLabel", has_text="Nbgrader").first.click()
        self.page.get_by_role("menuitem", name="Assignment List", exact=True).click()
        panel = self.page.locator("#released_assignments_list").locator("xpath=ancestor::div[contains(@class,'panel-group')]")
        panel.wait_for()
        return panel

    def fetch(self) -> None:
        panel = self.assignments()
        panel.locator("#released_assignments_list .list_item", has_text=MODEL).get_by_role("button", name="Fetch").click()
        panel.locator("#fetched_assignments_list .list_item", has_text=MODEL).first.wait_for()

    def upload(self, notebook: Path) -> None:
        """The file browser's Upload button, into the fetched folder, over the released notebook."""
        self.page.goto(self.url(f"lab/tree/{MODEL}"))
        self.page.locator(".jp-DirListing-item", has_text=f"{MODEL}.ipynb").wait_for()
        with self.page.expect_file_chooser() as chooser:
            self.page.locator(".jp-FileBrowser jp-button[title='Upload Files']").first.click()
        saved = lambda r: r.request.method == "PUT" and r.url.split("?")[0].endswith(  # noqa: E731
            f"/api/contents/{MODEL}/{MODEL}.ipynb")
        with self.page.expect_response(saved) as upload:
            chooser.value.set_files(str(notebook))
            self.page.locator(".jp-Dialog").get_by_role("button", name="Overwrite").click()
        assert upload.value.ok, f"{self.user}: the upload failed (HTTP {upload.value.status})"

    def validate(self) -> str:
        panel = self.assignments()
        fetched = panel.locator("#fetched_assignments_list")
        button = fetched.get_by_role("button", name="Validate").first
        if not button.is_visible():
            fetched.locator(".list_item", has_text=MODEL).first.locator("a").first.click()
        button.click()
        dialog = self.page.locator(".jp-Dialog")
        dialog.wait_for(timeout=STEP_MS * 3)
        text = dialog.text_content() or ""
        dialog.get_by_role("button").last.click()
        return text

    def submit(self, count: int) -> None:
        """Submit, and wait until the Submitted list shows `count` submissions."""
        panel = self.assignments()
        panel.locator("#fetched_assignments_list .list_item", has_text=MODEL).first.get_by_role(
            "button", name="Submit").click()
        self.page.wait_for_function(
            "n => document.querySelectorAll('#submitted_assignments_list .nested_list_item').length >= n",
            arg=count, timeout=STEP_MS)

    def fetch_feedback(self) -> str:
        """Fetch Feedback in the Assignments panel, then open the newest feedback page; returns its text."""
        panel = self.assignments()
        panel.get_by_role("button", name="Fetch Feedback").first.click()
        panel.locator("#submitted_assignments_list a", has_text="view feedback").first.wait_for()
        pages = sorted((self.hub.home(self.user) / MODEL / "feedback").glob(f"*/{MODEL}.html"))
        assert pages, f"{self.user}: Fetch Feedback left no feedback in ~/{MODEL}/feedback"
        relative = pages[-1].relative_to(self.hub.home(self.user))
        self.page.goto(self.url(f"files/{relative}"))
        return self.page.locator("body").inner_text()


def solved_notebook(hub: CourseHub, folder: Path, share: float = 1.0) -> Path:
    """The released notebook with the first `share` of its solution cells answered as the source does."""
    source = hub.layout.course / "source" / MODEL / f"{MODEL}.ipynb"
    answers = solution_answers(source)
    keep = dict(list(answers.items())[: max(1, round(len(answers) * share))])
    return fill(hub.layout.course / "release" / MODEL / f"{MODEL}.ipynb", keep, folder / f"{MODEL}.ipynb")


def written_answers(hub: CourseHub) -> list:
    notebook = nbformat.read(str(hub.layout.course / "source" / MODEL / f"{MODEL}.ipynb"), as_version=4)
    return [(nbgrader_meta(c)["grade_id"], float(nbgrader_meta(c)["points"])) for c in notebook.cells
            if c.cell_type == "markdown" and nbgrader_meta(c).get("grade") and nbgrader_meta(c).get("solution")]


def shown(score: float) -> str:
    return f"{round(score, 2)}"


def test_a_semester_on_the_hub(hub, browser, tmp_path, request):
    good, late = hub.students  # roster ids: good's is a student number, so their Unix name differs
    assert hub.unix[good] != good and hub.unix[late] == late, hub.unix
    people = STATE.setdefault("people", {})
    try:
        instructor = people["instructor"] = Person(browser, hub, hub.instructor)
        with timed("instructor: log in, generate and release from formgrader"):
            instructor.log_in()
            instructor.formgrader_action("assign", "Successfully created the student version")
            instructor.formgrader_action("release", "Successfully released")
            assert instructor.formgrader_row().locator("td.status").inner_text().strip() == "released"

        alice = people["solver"] = Person(browser, hub, hub.unix[good], typed=good)  # logs in with the student number
        with timed("student 1: log in, fetch, upload the solution, validate, submit"):
            alice.log_in()
            refused = alice.page.goto(alice.url("formgrader"))
            assert refused.status == 404, f"a student's server serves formgrader (HTTP {refused.status})"
            alice.fetch()
            alice.upload(solved_notebook(hub, tmp_path / "solved"))
            verdict = alice.validate()
            assert "Success" in verdict and "passes" in verdict, f"the solved notebook did not validate: {verdict}"
            alice.submit(1)

        bob = people["late"] = Person(browser, hub, late)
        with timed("student 2: log in, fetch, submit blank"):
            bob.log_in()
            bob.fetch()
            bob.submit(1)

        # The due date falls between the blank submission and the resubmission, which is late by seconds:
        # one started day, so the course's policy (course/grading/semester/late.py) takes 10% of its autograded score.
        due = datetime.datetime.now(datetime.timezone.utc)
        done = hub.nbgrader("db", "assignment", "add", MODEL, f"--duedate={due:%Y-%m-%d %H:%M:%S.%f} UTC")
        assert done.returncode == 0, done.stderr
        time.sleep(1.5)
        with timed("student 2: resubmit half-solved after the due date"):
            bob.upload(solved_notebook(hub, tmp_path / "half", share=0.5))
            bob.submit(2)

        with timed("instructor: collect in formgrader"):
            instructor.formgrader_action("collect", "Successfully collected")
            assert instructor.formgrader_row().locator("td.num-submissions").inner_text().strip() == "2"
            collected = sorted(p.name for p in (hub.layout.course / "submitted").iterdir())
            assert collected == sorted(hub.students), f"collected under {collected}, not the roster ids"

        with timed("instructor: autograde (course.grading.semester.pipeline, as make autograde)"):
            graded = hub.as_user(hub.instructor, sys.executable, "-m", "course.grading.semester.pipeline", "autograde",
                                 "--root", str(hub.layout.course), "--assignment", MODEL, cwd=hub.layout.course,
                                 timeout=900)
            assert graded.returncode == 0, f"autograde failed:\n{graded.stdout}\n{graded.stderr}"

        scores = {s.student: s for s in pipeline_scores(hub)}
        assert scores[good].auto == scores[good].auto_max > 0, "the solved notebook lost autograded points"
        assert 0 < scores[late].auto < scores[good].auto, "the half-solved resubmission was not the one graded"
        penalties = late_penalties(hub)
        expected = round(scores[late].auto * 0.10, 4)
        assert not penalties[good], "the on-time submission got a late penalty"
        assert penalties[late] == pytest.approx(expected, abs=1e-9), \
            f"the late resubmission's penalty is {penalties[late]}, the policy gives {expected}"

        grader = people["grader"] = Person(browser, hub, hub.grader)
        with timed("TA: log in, grade the written answers in their formgrader (the shared course)"):
            grader.log_in()
            for grade_id, points in written_answers(hub):
                first, last = NAMES[0].split()
                grade_in_formgrader(grader, f"{last}, {first}", grade_id, points)
        scores = {s.student: s for s in pipeline_scores(hub)}
        assert scores[good].manual == scores[good].manual_max > 0 and not scores[good].needs_manual_grade

        with timed("instructor: generate and release feedback in formgrader"):
            instructor.formgrader_action("generate-feedback", "Successfully generated feedback")
            instructor.formgrader_action("release-feedback", "Successfully released feedback")

        with timed("students: fetch feedback"):
            mine = alice.fetch_feedback()
            theirs = bob.fetch_feedback()
        total = scores[good].total
        best = scores[good].auto_max + scores[good].manual_max
        assert f"(Score: {shown(total)} / {shown(best)})" in mine, "student 1's feedback lacks their score"
        assert "Late submission penalty" not in mine
        # nbgrader's feedback shows the score with the late penalty already taken off.
        assert f"(Score: {shown(scores[late].total - expected)} / {shown(best)})" in theirs
        assert f"Late submission penalty (Score: -{shown(expected)})" in theirs
        # Another student's feedback page stays closed to them, even with its exact address.
        answer = bob.page.goto(alice.page.url)
        assert "Score:" not in bob.page.locator("body").inner_text(), \
            f"student 2 read student 1's feedback at {alice.page.url} (HTTP {answer and answer.status})"
        STATE.update(good=good, late=late)
    except BaseException as error:
        folder = hub.save_evidence(request.node.name, {name: p.page for name, p in people.items()})
        error.add_note(f"Hub evidence (screenshots, page HTML, hub log): {folder}")
        raise


def pipeline_scores(hub: CourseHub):
    return pipeline.scores(hub.layout.course)


def late_penalties(hub: CourseHub) -> dict:
    from nbgrader.api import Gradebook

    from course.grading.engine import database

    with Gradebook(database.db_url(hub.layout.course)) as gradebook:
        return {student: gradebook.find_submission_notebook(MODEL, MODEL, student).late_submission_penalty
                for student in hub.students}


def grade_in_formgrader(instructor: Person, shown_name: str, grade_id: str, points: float) -> None:
    """Manual Grading > 01 > its notebook > the student's submission; type the points into the answer's box."""
    page = instructor.page
    page.goto(instructor.url("formgrader/gradebook"))
    table = page.locator("#main-table")
    table.get_by_role("link", name=MODEL, exact=True).click()
    table.get_by_role("link", name=MODEL, exact=True).click()
    table.get_by_role("link", name="Submission #1").wait_for()  # names are hidden at first
    page.get_by_text("Show All Names").click()
    table.get_by_role("link", name=shown_name, exact=True).click()
    box = page.locator(f"input.score#{grade_id}")
    box.wait_for()
    saving = lambda r: "/formgrader/api/grade/" in r.url and r.method == "PUT"  # noqa: E731
    for attempt in range(4):
        try:
            with page.expect_request(saving, timeout=20_000) as sent:
                if attempt == 0:
                    box.fill(f"{points:g}")
                    box.press("Tab")
                else:
                    page.locator(".nbgrader_cell", has=box).locator("button.full-credit").click()
            assert sent.value.response().ok
            return
        except Exception:
            if attempt == 3:
                raise



def test_a_student_reads_nothing_of_the_instructor_or_of_another_student(hub):
    """Each promise of docs/hub.md checked as the Unix user it protects against, beside a positive control.

    It reads what the semester above left behind: both submissions, collected and fed back."""
    if not STATE:
        pytest.fail("the semester test did not finish, so there are no submissions or feedback to check")
    from course.paths import PROJECT_ROOT

    good, late = (hub.unix[s] for s in (STATE["good"], STATE["late"]))
    course, exchange = hub.layout.course, hub.layout.exchange / hub_command_course_id()
    ada_home = hub.home(good)
    feedback = sorted((ada_home / MODEL / "feedback").glob(f"*/{MODEL}.html"))
    checks = [  # (what, path, who must be able to read it, who must not)
        ("the course's source notebook", course / "source" / MODEL / f"{MODEL}.ipynb", hub.instructor, late),
        ("the checkout's source notebook", PROJECT_ROOT / "source" / MODEL / f"{MODEL}.ipynb", "root", late),
        # In a git worktree .git is a file naming the history's folder elsewhere.
        ("the checkout's git history", PROJECT_ROOT / ".git" / ("HEAD" if (PROJECT_ROOT / ".git").is_dir() else ""),
         "root", late),
        ("the gradebook", course / "gradebook.db", hub.instructor, late),
        ("the exchange's inbound drop box (listing)", exchange / "inbound", hub.instructor, late),
        ("the drop box, for a TA who collects", exchange / "inbound", hub.grader, late),
        ("the collected submission", course / "submitted" / STATE["good"] / MODEL / f"{MODEL}.ipynb", hub.instructor,
         late),
        ("the gradebook, for a TA", course / "gradebook.db", hub.grader, late),
        ("the student's own copy", ada_home / MODEL / f"{MODEL}.ipynb", good, late),
        ("the exchange's feedback folder (listing)", exchange / "feedback", hub.instructor, late),
        ("the generated feedback", course / "feedback" / STATE["good"] / MODEL / f"{MODEL}.html", hub.instructor,
         late),
        ("the fetched feedback", feedback[-1] if feedback else ada_home / "missing", good, late),
        ("the other student's fetched feedback", next(iter(sorted((hub.home(late) / MODEL / "feedback").glob(
            f"*/{MODEL}.html"))), hub.home(late) / "missing"), late, good),
    ]
    wrong = []
    for what, path, owner, other in checks:
        if not hub.can_read(owner, path):
            wrong.append(f"{what} ({path}): even {owner} cannot read it, so the check proves nothing")
        if hub.can_read(other, path):
            wrong.append(f"{what} ({path}): {other} can read it")
    # A submission in the drop box is found only by its name, which ends in a random string nobody else knows.
    names = [p.name for p in (exchange / "inbound").iterdir()]
    assert names and all(re.fullmatch(rf"[^+]+\+{MODEL}\+[^+]+\+[\w-]{{12}}", n) for n in names), names
    assert not wrong, "\n".join(wrong)


def hub_command_course_id() -> str:
    from course.commands.hub import manage as hub_command

    return hub_command.course_id()


def people_of_the_semester() -> dict:
    if not STATE.get("good"):
        pytest.fail("the semester test did not finish, so its people are not logged in")
    return STATE["people"]


TERMINAL_JS = """async ([base, command]) => {
  const xsrf = decodeURIComponent((document.cookie.match(/(?:^|; )_xsrf=([^;]*)/) || [])[1] || '');
  const made = await fetch(base + 'api/terminals', {method: 'POST', headers: {'X-XSRFToken': xsrf}});
  if (!made.ok) return 'HTTP ' + made.status;
  const name = (await made.json()).name;
  const socket = new WebSocket(base.replace(/^http/, 'ws') + 'terminals/websocket/' + name);
  return await new Promise(resolve => {
    let out = '';
    const give = () => { socket.close(); resolve(out); };
    setTimeout(give, 150000);
    socket.onopen = () => socket.send(JSON.stringify(['stdin', command + '; echo @@""done\\r']));
    socket.onmessage = event => {
      const [kind, text] = JSON.parse(event.data);
      if (kind === 'stdout') { out += text; if (out.includes('@@done')) give(); }
    };
    socket.onerror = () => { out += ' (websocket error)'; give(); };
  });
}"""


def in_terminal(person: Person, command: str) -> str:
    """What `command` prints in a new terminal of the person's JupyterLab (the REST API and websocket the Terminal uses)."""
    person.page.goto(person.url("lab"))
    return person.page.evaluate(TERMINAL_JS, [person.url(""), command])


def answers(person: Person) -> int:
    """The HTTP status of the person's own server's API, asked from their browser."""
    return person.page.request.get(person.url("api/status")).status


def test_the_class_report_is_for_the_instructor_and_the_ta_only(hub):
    """The hub's Services menu links the report for the instructor and the TA; a student gets 403 and no file."""
    people = people_of_the_semester()
    made = hub.as_user(hub.instructor, sys.executable, "-m", "course.commands.report", "--root", str(hub.layout.course),
                       "--no-similarity", cwd=hub.layout.course, timeout=300)
    assert made.returncode == 0, f"make report failed:\n{made.stdout}\n{made.stderr}"
    index = hub.layout.course / "reports" / "index.html"
    address = f"{hub.base}/services/class-report/"
    for who in ("instructor", "grader"):
        page = people[who].page
        page.goto(f"{hub.base}/hub/home")
        assert page.locator("a[href*='services/class-report']").count() == 1, f"{who}: no link in the Services menu"
        shown = page.goto(address)
        assert shown.status == 200 and MODEL in page.content(), f"{who}: the report service answered {shown.status}"
    student = people["late"].page
    student.goto(f"{hub.base}/hub/home")
    assert student.locator("a[href*='services/class-report']").count() == 0, "a student's menu links the report"
    refused = student.goto(address)
    assert refused.status == 403 and MODEL not in student.content(), f"a student got the report: HTTP {refused.status}"
    assert hub.can_read(hub.instructor, index) and not hub.can_read(STATE["late"], index), \
        "the report's file must open for the instructor and stay closed to a student account"


KERNEL_JS = """async ([base, code]) => {
  const xsrf = decodeURIComponent((document.cookie.match(/(?:^|; )_xsrf=([^;]*)/) || [])[1] || '');
  const made = await fetch(base + 'api/kernels', {method: 'POST', body: JSON.stringify({name: 'python3'}),
                                                  headers: {'X-XSRFToken': xsrf, 'Content-Type': 'application/json'}});
  if (!made.ok) return 'HTTP ' + made.status;
  const kernel = (await made.json()).id, session = 'limits-' + Date.now();
  const socket = new WebSocket(base.replace(/^http/, 'ws') + 'api/kernels/' + kernel + '/channels?session_id=' + session);
  return await new Promise(resolve => {
    const states = [];
    const give = last => { socket.close(); resolve(states.concat([last]).join(' ')); };
    setTimeout(() => give('timeout'), 150000);
    socket.onopen = () => socket.send(JSON.stringify({
      header: {msg_id: session + '-1', msg_type: 'execute_request', username: '', session: session,
               date: new Date().toISOString(), version: '5.3'},
      parent_header: {}, metadata: {}, channel: 'shell', buffers: [],
      content: {code: code, silent: false, store_history: false, user_expressions: {}, allow_stdin: false,
                stop_on_error: true}}));
    socket.onmessage = event => {
      const message = JSON.parse(event.data);
      if (message.msg_type === 'status') {
        states.push(message.content.execution_state);
        if (['restarting', 'autorestarting', 'dead'].includes(message.content.execution_state)) give('stopped');
      }
      if (message.msg_type === 'execute_reply') give('finished:' + message.content.status);
    };
  });
}"""


def test_a_notebook_over_its_limits_is_stopped_and_nobody_else_is_harmed(hub):
    """A student's notebook allocates twice the memory limit: its kernel is stopped, and only it.

    The student's terminal opens (the login shell is nologin) and runs in the same group as their kernels."""
    people = people_of_the_semester()
    solver, other = people["solver"], people["late"]
    limit = parse_size(LIMITS["memory"])
    solver.page.goto(solver.url("lab"))
    ran = solver.page.evaluate(KERNEL_JS, [solver.url(""), f"b = bytearray({2 * limit})"])
    assert ran.endswith("stopped"), f"a notebook over the {LIMITS['memory']} limit was not stopped: {ran}"
    said = in_terminal(solver, "cat /proc/self/cgroup")
    cgroups = Cgroups.find(json.loads((hub.layout.state / "settings.json").read_text())["limits"]["cgroup"])
    user = hub.unix[STATE["good"]]
    assert f"/{cgroups.memory.name}/{user}" in said, f"the terminal runs outside the user's cgroup:\n{said}"
    if not cgroups.unified:
        assert int((cgroups.memory / user / "memory.limit_in_bytes").read_text()) == limit
        assert int((cgroups.cpu / user / "cpu.cfs_quota_us").read_text()) == round(float(LIMITS["cpus"]) * 100_000)
    assert answers(other) == 200, "another student's server stopped answering"
    assert answers(solver) == 200, "the student's own server died with the notebook"


SU_SCRIPT = """
import os, pty, sys, time
target, password = sys.argv[1], sys.argv[2]
pid, fd = pty.fork()
if pid == 0:
    os.execvp("su", ["su", target, "-c", "echo logged-in-as-$(id -un)"])
out, deadline, sent = b"", time.time() + 30, False
while time.time() < deadline:
    try:
        chunk = os.read(fd, 1024)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
    if not sent and b"assword" in out:
        os.write(fd, password.encode() + b"\\n")
        sent = True
print(out.decode(errors="replace"))
"""


def su_as(hub: CourseHub, user: str, target: str, password: str) -> str:
    """What `su target` prints for a non-root user typing `password` at su's prompt (in a pseudo-terminal)."""
    return hub.as_user(user, sys.executable, "-c", SU_SCRIPT, target, password, cwd=Path("/")).stdout


def test_a_hub_password_opens_the_hub_and_not_the_machine(hub):
    """`su` to a student with their hub password fails; the same su to an account with a Unix password works."""
    people_of_the_semester()
    student, other = hub.unix[STATE["good"]], STATE["late"]
    control, password = f"{hub.group}c", "control-" + secrets.token_hex(4)
    subprocess.run(["useradd", "--no-create-home", "--shell", "/bin/sh", "--groups", hub.group, control], check=True)
    subprocess.run(["chpasswd"], input=f"{control}:{password}\n", text=True, check=True)
    assert f"logged-in-as-{control}" in su_as(hub, other, control, password), "su itself does not work here"
    said = su_as(hub, other, student, hub.password(student))
    assert f"logged-in-as-{student}" not in said and "failure" in said.lower(), f"su with the hub password: {said}"
    entry = pwd.getpwnam(student)
    assert entry.pw_shell.endswith("nologin"), entry.pw_shell


def test_a_dropped_student_is_locked_out_and_archived_and_their_grades_stay(hub, browser):
    """`make roster` without a student: account locked, hub login refused, home archived, submissions kept."""
    people_of_the_semester()
    dropped = STATE["late"]
    notebook = hub.home(dropped) / MODEL / f"{MODEL}.ipynb"
    assert notebook.is_file()
    made = hub.roster(students=[STATE["good"]])
    assert made.returncode == 0, f"`hub roster` failed:\n{made.stdout}{made.stderr}"
    archives = list(hub.layout.archive.glob(f"{dropped}-*.tar.gz"))
    assert len(archives) == 1 and archives[0].name in made.stdout, made.stdout
    with tarfile.open(archives[0]) as archive:
        assert f"{dropped}/{MODEL}/{MODEL}.ipynb" in archive.getnames()
    assert not notebook.exists()
    status = subprocess.run(["passwd", "--status", dropped], capture_output=True, text=True).stdout.split()
    assert status[1] == "L", f"the account is not locked: {status}"
    assert dropped not in json.loads(hub.layout.accounts.read_text())["students"]
    assert (hub.layout.course / "submitted" / dropped / MODEL / f"{MODEL}.ipynb").is_file()
    assert dropped in late_penalties(hub) and late_penalties(hub)[dropped] > 0, "the gradebook lost the submission"
    again = Person(browser, hub, dropped)
    again.page.goto(f"{hub.base}/hub/login")
    again.page.locator("#username_input").fill(dropped)
    again.page.locator("#password_input").fill(hub.password(dropped))
    again.page.locator("#login_submit").click()
    again.page.wait_for_load_state()
    assert "/hub/login" in again.page.url and "Invalid" in again.page.content(), again.page.url
    again.context.close()
