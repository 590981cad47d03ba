"""Feedback on submit, on a real hub: students submit through nbgrader's exchange as their Unix users, and the
grading service (course/commands/hub/grading_service.py) grades and releases feedback with no instructor step.

One hub for the module (tests/hub/course_hub.py), no browser: the students use nbgrader's own commands, and
read the service's page through JupyterHub's OAuth with their passwords, as a browser would. Run with
`pytest -m hub tests/hub/test_on_submit.py` (as root).
"""
from __future__ import annotations

import datetime
import os
import re
import secrets
import shutil
import sys
import time
from pathlib import Path

import pytest

from course.grading.semester.submissions import fill, solution_answers
from tests.browser.session import launch_chromium
from tests.hub.course_hub import STEP_MS, CourseHub, Unavailable, missing

pytestmark = [pytest.mark.hub]

MODEL = "01_convolution"
GRADED_WITHIN = 240  # s: the service's Dask workers may still be starting on a busy shared machine
PER_HOUR, LIMIT = "COURSE_SUBMISSIONS_PER_HOUR", 2  # graded submissions per hour on this hub


@pytest.fixture(scope="module")
def submit_hub():
    if missing():
        pytest.skip(str(Unavailable(missing())))
    course_hub = CourseHub()
    os.environ[PER_HOUR] = str(LIMIT)  # the hub's grading service reads it at start (nbgrader_config.py)
    try:
        try:
            released(course_hub)
        finally:
            os.environ.pop(PER_HOUR, None)
        yield course_hub
    finally:
        course_hub.stop()
        course_hub.remove()


def released(course_hub: CourseHub) -> CourseHub:
    """`make roster`, `make hub`, then the instructor generates and releases 01 with nbgrader's commands."""
    made = course_hub.roster()
    assert made.returncode == 0, f"`hub roster` failed:\n{made.stdout}{made.stderr}"
    course_hub.start()
    course_hub.course_id = _course_id(course_hub)
    for step in (("generate_assignment", MODEL, "--force"),
                 ("release_assignment", MODEL, f"--Exchange.root={course_hub.layout.exchange}")):
        done = course_hub.nbgrader(*step)
        assert done.returncode == 0, f"nbgrader {step[0]}: {done.stdout}{done.stderr}"
    return course_hub


def unix_names(hub: CourseHub) -> list[str]:
    """The students' Unix and hub names: the first one's roster id is a student number, so hers is derived.

    The exchange, the page and the logins know the Unix name; the gradebook and submitted/ the roster id."""
    return [hub.unix.get(student, student) for student in hub.students]


def _course_id(hub: CourseHub) -> str:
    from course.commands.hub import manage

    return manage.course_id(hub.layout.course)


def student_nbgrader(hub: CourseHub, user: str, *args: str):
    done = hub.as_user(user, sys.executable, "-m", "nbgrader", *args, f"--Exchange.root={hub.layout.exchange}",
                       f"--CourseDirectory.course_id={hub.course_id}", timeout=120)
    assert done.returncode == 0, f"{user}: nbgrader {args[0]} failed:\n{done.stdout}{done.stderr}"
    return done


def hand_in(hub: CourseHub, user: str, answers: dict, tmp_path: Path) -> None:
    """Fetch (once), put in the answers (grade_id -> cell text), submit: all as `user`."""
    folder = hub.home(user) / MODEL
    if not folder.exists():
        student_nbgrader(hub, user, "fetch_assignment", MODEL)
    written = fill(hub.layout.course / "release" / MODEL / f"{MODEL}.ipynb", answers, tmp_path / f"{user}.ipynb")
    shutil.copy(written, folder / f"{MODEL}.ipynb")
    shutil.chown(folder / f"{MODEL}.ipynb", user, user)
    student_nbgrader(hub, user, "submit", MODEL)


class Browser:
    """A student's cookies: logged in on the hub's login form, then through the service's OAuth redirect."""

    def __init__(self, hub: CourseHub, user: str):
        import requests

        self.hub, self.user, self.session = hub, user, requests.Session()
        self.session.get(f"{hub.base}/hub/login", timeout=30)
        answer = self.session.post(f"{hub.base}/hub/login", allow_redirects=False, timeout=60, data={
            "username": user, "password": hub.password(user), "_xsrf": self.session.cookies.get("_xsrf")})
        assert answer.status_code == 302, f"{user} could not log in (HTTP {answer.status_code})"

    def get(self, path: str):
        return self.session.get(f"{self.hub.base}/services/grading/{path}", timeout=60)

    def states(self) -> list[dict]:
        answer = self.get("api/submissions")
        assert answer.status_code == 200, f"{self.user}: the service's API answered HTTP {answer.status_code}"
        return answer.json()


def wait_for(browser: Browser, done, what: str, timeout: float = GRADED_WITHIN) -> list[dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        states = browser.states()
        if done(states):
            return states
        time.sleep(1)
    raise AssertionError(f"{what} within {timeout} s; {browser.user} sees {states}\n{browser.hub.log_tail(40)}")


def test_a_submission_is_graded_and_its_feedback_released_to_its_student_only(submit_hub, tmp_path):
    """Ada answers the first exercise and the written one; her first answer also tries to leave files on the
    machine: it runs (its points prove it), and the files do not appear (the sandbox)."""
    ada, bob = unix_names(submit_hub)
    solved = solution_answers(submit_hub.layout.course / "source" / MODEL / f"{MODEL}.ipynb")
    markers = [Path(f"/tmp/on-submit-escaped-{secrets.token_hex(4)}"), submit_hub.layout.course / "escaped"]
    attempt = "".join(f"try:\n    open({str(m)!r}, 'w').write('out')\nexcept OSError:\n    pass\n" for m in markers)
    started = time.monotonic()
    hand_in(submit_hub, ada, {"by_hand": attempt + solved["by_hand"], "averaging_kernel": solved["averaging_kernel"]},
            tmp_path)
    mine = Browser(submit_hub, ada)
    states = wait_for(mine, lambda s: s and s[-1]["state"] in ("graded", "failed", "refused"), "no verdict")
    print(f"\nsubmit to released feedback: {time.monotonic() - started:.1f} s")
    verdict = states[-1]
    assert verdict["state"] == "graded", verdict
    exercises = {e["exercise"]: e for e in verdict["exercises"]}
    assert exercises["test_by_hand"]["score"] == exercises["test_by_hand"]["max"] > 0
    assert [m for m in markers if m.exists()] == [], "a submission wrote outside the sandbox"
    assert exercises["test_convolution2d"]["score"] == 0, "an unanswered exercise scored"
    assert exercises["averaging_kernel"]["waits_for_a_person"], "the written answer did not wait for a person"
    assert verdict["hidden_tests_withheld"], "no due date is set, so the hidden tests must be withheld"
    page = mine.get("").text
    assert "waits for a person" in page and "test_by_hand" in page and "withheld until the due date" in page

    # The student's own Fetch Feedback brings it, hidden tests withheld and the points shown.
    student_nbgrader(submit_hub, ada, "fetch_feedback", MODEL)
    fetched = sorted((submit_hub.home(ada) / MODEL / "feedback").glob(f"*/{MODEL}.html"))
    assert fetched, "fetch_feedback found nothing the service released"
    text = re.sub("<[^>]+>", "", fetched[-1].read_text())
    assert "BEGIN HIDDEN TESTS" not in text and "hidden tests withheld" in text
    assert "Score:" in text
    assert mine.get(f"feedback/{MODEL}").status_code == 200

    # The other student sees nothing of it: not on the page, not its feedback, not by fetching.
    theirs = Browser(submit_hub, bob)
    assert theirs.states() == [], "another student's submission shows on bob's page"
    assert theirs.get(f"feedback/{MODEL}").status_code == 404
    assert ada not in theirs.get("").text
    student_nbgrader(submit_hub, bob, "fetch_assignment", MODEL)
    student_nbgrader(submit_hub, bob, "fetch_feedback", MODEL)
    assert not list((submit_hub.home(bob) / MODEL).glob("feedback/*/*.html")), "bob fetched feedback he never earned"


def open_as(playwright, hub: CourseHub, user: str):
    """Chromium on the service's page, logged in on the hub's own form (no JupyterLab server is spawned)."""
    chromium = launch_chromium(playwright)
    page = chromium.new_page()
    page.set_default_timeout(STEP_MS)
    page.goto(f"{hub.base}/hub/login?next=%2Fservices%2Fgrading%2F")
    page.locator("#username_input").fill(user)
    page.locator("#password_input").fill(hub.password(user))
    page.locator("#login_submit").click()
    page.wait_for_url("**/services/grading/")
    return chromium, page


def newest_section(page) -> str:
    return page.locator("section").first.inner_text()


def test_in_chromium_the_student_sees_her_points_fixes_her_answer_and_sees_full_marks(submit_hub, tmp_path):
    """Her first submission left convolution2d blank: its points, then the fixed one's full marks, no instructor step."""
    from playwright.sync_api import sync_playwright

    ada = unix_names(submit_hub)[0]
    with sync_playwright() as playwright:
        chromium, page = open_as(playwright, submit_hub, ada)
        try:
            text = page.locator("body").inner_text()
            assert f"Submissions of {ada}" in text and "graded" in text
            first = newest_section(page)
            assert re.search(r"test_by_hand\s+1 / 1", first) and re.search(r"test_convolution2d\s+0 / [1-9]", first)
            assert re.search(r"averaging_kernel\s+waits for a person", first)
            page.get_by_role("link", name="Feedback").click()
            page.wait_for_url(f"**/feedback/{MODEL}")
            feedback = page.locator("body").inner_text()
            assert "test_by_hand" in feedback and "hidden tests withheld" in feedback
            assert "BEGIN HIDDEN TESTS" not in feedback

            hand_in(submit_hub, ada, solution_answers(submit_hub.layout.course / "source" / MODEL / f"{MODEL}.ipynb"),
                    tmp_path)
            states = wait_for(Browser(submit_hub, ada), lambda s: len([x for x in s if x["state"] == "graded"]) == 2,
                              "the fixed submission was not graded")
            fixed = [x for x in states if x["state"] == "graded"][-1]
            autograded = [e for e in fixed["exercises"] if not e["waits_for_a_person"]]
            assert autograded and all(e["score"] == e["max"] for e in autograded), fixed
            page.goto(f"{submit_hub.base}/services/grading/")
            second = newest_section(page)
            assert f"Autograded points: {fixed['autograded']:g}" in second
            assert re.search(r"test_convolution2d\s+([1-9]\d*) / \1", second), second
        finally:
            chromium.close()
    student_nbgrader(submit_hub, ada, "fetch_feedback", MODEL)
    newest = max((submit_hub.home(ada) / MODEL / "feedback").glob(f"*/{MODEL}.html"), key=lambda p: p.parent.name)
    score = re.search(r"Score:\s*([\d.]+)", re.sub("<[^>]+>", "", newest.read_text()))
    assert score and float(score.group(1)) == fixed["autograded"], "the fetched feedback is not the fixed one's"


def test_the_instructors_own_collect_and_autograde_agree_and_skip_it(submit_hub):
    if not (submit_hub.layout.course / "submitted").exists():
        pytest.fail("the first test graded nothing")
    from course.grading.semester import pipeline

    before = pipeline.cell_scores(submit_hub.layout.course, MODEL, submit_hub.students[0])
    # With the instructor's Jupyter settings, as formgrader's Collect runs (they collect under the roster id).
    collected = submit_hub.as_user(submit_hub.instructor, "env", f"JUPYTER_CONFIG_PATH={submit_hub.layout.jupyter / 'instructor'}",
                                   sys.executable, "-m", "nbgrader", "collect", "--update", MODEL,
                                   cwd=submit_hub.layout.course, timeout=300)
    assert collected.returncode == 0, collected.stderr
    assert "No newer submission" in collected.stdout + collected.stderr
    graded = submit_hub.as_user(submit_hub.instructor, sys.executable, "-m", "course.grading.semester.pipeline", "autograde",
                         "--root", str(submit_hub.layout.course), "--assignment", MODEL, cwd=submit_hub.layout.course, timeout=600)
    assert graded.returncode == 0, graded.stdout + graded.stderr
    assert re.search(r"graded 0, skipped 1 \(unchanged\)", graded.stdout), graded.stdout
    assert pipeline.cell_scores(submit_hub.layout.course, MODEL, submit_hub.students[0]) == before


def forge(hub: CourseHub, user: str, named: str, files: dict) -> str:
    """As `user`, drop a folder named like `named`'s submission into the inbound folder; returns its name."""
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f UTC")
    name = f"{named}+{MODEL}+{stamp}+{secrets.token_hex(6)}"
    folder = hub.layout.exchange / hub.course_id / "inbound" / name
    script = "; ".join([f"mkdir -p '{folder}'"] + [
        f"ln -s '{target}' '{folder}/{file}'" if kind == "link" else f"cp '{target}' '{folder}/{file}'"
        for file, (kind, target) in files.items()])
    done = hub.as_user(user, "sh", "-c", script)
    assert done.returncode == 0, done.stderr
    return name


def test_the_service_grades_nobody_elses_work_and_reads_nothing_outside_the_submission(submit_hub):
    ada, bob = unix_names(submit_hub)
    own = submit_hub.home(bob) / MODEL / f"{MODEL}.ipynb"
    secret = submit_hub.layout.course / "source" / MODEL / f"{MODEL}.ipynb"
    assert not submit_hub.can_read(bob, secret) and submit_hub.can_read(submit_hub.instructor, secret)
    forged = forge(submit_hub, bob, ada, {f"{MODEL}.ipynb": ("copy", own)})
    linked = forge(submit_hub, bob, bob, {f"{MODEL}.ipynb": ("link", secret)})
    mine, theirs = Browser(submit_hub, ada), Browser(submit_hub, bob)
    states = wait_for(theirs, lambda s: any(x["state"] == "refused" for x in s), "the link was not refused")
    refused = [x for x in states if x["state"] == "refused"]
    assert len(refused) == 1 and "is a link" in refused[0]["reason"], states
    assert not any(s["state"] == "graded" for s in states), "bob's link to the source notebook was graded"
    # The forged one names ada: it is refused in her list, never graded as hers.
    names = wait_for(mine, lambda s: any(x["state"] == "refused" for x in s), "the forged submission stayed queued")
    forged_state = [x for x in names if x["state"] == "refused"]
    assert len(forged_state) == 1 and f"handed in by {bob}" in forged_state[0]["reason"], names
    assert forged.split("+")[2] == forged_state[0]["submission"]
    assert linked.split("+")[2] == refused[0]["submission"]
    assert not (submit_hub.layout.course / "submitted" / submit_hub.students[1]).exists(), \
        "a refused submission was collected"


def test_after_the_due_date_the_hidden_tests_are_released(submit_hub):
    ada = unix_names(submit_hub)[0]
    due = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=1)
    done = submit_hub.nbgrader("db", "assignment", "add", MODEL, f"--duedate={due:%Y-%m-%d %H:%M:%S} UTC")
    assert done.returncode == 0, done.stderr
    wait_for(Browser(submit_hub, ada), lambda s: any(x["state"] == "graded" and not x["hidden_tests_withheld"] for x in s),
             "the full feedback was not released after the due date", timeout=60)
    student_nbgrader(submit_hub, ada, "fetch_feedback", MODEL)
    fetched = sorted((submit_hub.home(ada) / MODEL / "feedback").glob(f"*/{MODEL}.html"))
    assert "BEGIN HIDDEN TESTS" in re.sub("<[^>]+>", "", fetched[-1].read_text())


def test_in_chromium_a_submission_over_the_hourly_limit_is_held_with_the_reason(submit_hub, tmp_path):
    """Ada's third submission within the hour waits (the limit is LIMIT here); the page says until when and why.
    The due date has passed (the test above), so the feedback she opens now shows the hidden tests."""
    from playwright.sync_api import sync_playwright

    ada = unix_names(submit_hub)[0]
    hand_in(submit_hub, ada, solution_answers(submit_hub.layout.course / "source" / MODEL / f"{MODEL}.ipynb"),
            tmp_path)
    wait_for(Browser(submit_hub, ada), lambda s: any(x["state"] == "held" for x in s), "the third was not held",
             timeout=60)
    with sync_playwright() as playwright:
        chromium, page = open_as(playwright, submit_hub, ada)
        try:
            held = newest_section(page)
            assert re.search(r"held until \d{4}-\d\d-\d\d \d\d:\d\d UTC", held), held
            assert f"{LIMIT} submissions of {MODEL} were graded within the last hour" in held
            page.get_by_role("link", name="Feedback").click()
            page.wait_for_url(f"**/feedback/{MODEL}")
            assert "BEGIN HIDDEN TESTS" in page.locator("body").inner_text()
        finally:
            chromium.close()
