"""The hub's grading service: grades each submission when it arrives, and shows each student their own.

JupyterHub starts it (jupyterhub_config.py adds `hub_service`) as the instructor, in the course folder, so it
writes the gradebook as the instructor's own commands do. Its main thread runs the grading rounds of
course.grading.semester.on_submit; a second thread serves /services/grading/ behind JupyterHub's OAuth: the
page names no student, it shows the logged-in user's submissions only. JupyterHub restarts the service if it
dies; the queue then takes up what was in flight. See docs/hub.md, "Feedback on submit".
"""
from __future__ import annotations

import argparse
import asyncio
import datetime
import html
import json
import os
import re
import sys
import threading
import time
import traceback
from pathlib import Path

NAME = "grading"
ASSIGNMENT = re.compile(r"^[\w.-]+$")
# Settings the course's nbgrader_config.py reads from the environment, passed on from `make hub`'s.
PASSED_ON = ("COURSE_SUBMISSIONS_PER_HOUR", "COURSE_CELL_TIMEOUT")
SHOWN = {"queued": "queued", "held": "held", "grading": "grading now", "graded": "graded",
         "refused": "refused", "superseded": "not graded", "failed": "could not be graded"}


def hub_service(hub: dict) -> dict:
    """The service's entry for c.JupyterHub.services, from the settings course.commands.hub.manage wrote."""
    from . import manage

    course = Path(hub["course"])
    exchange = manage.Layout(Path(hub["state"]).parent).exchange
    return {
        "name": NAME, "url": f"http://127.0.0.1:{manage.free_port()}", "user": hub["instructor"],
        "cwd": str(course), "oauth_no_confirm": True, "display": True,
        "command": [sys.executable, "-m", "course.commands.hub.grading_service", "--course", str(course),
                    "--exchange", str(exchange), "--course-id", manage.course_id(course),
                    "--roster-ids", json.dumps({unix: sid for sid, unix in hub.get("aliases", {}).items()})],
        "environment": {"PATH": hub["path"], "JUPYTER_CONFIG_PATH": str(Path(hub["jupyter"]) / "instructor"),
                        **{name: os.environ[name] for name in PASSED_ON if name in os.environ},
                        **({"COURSE_FAST": "1"} if hub["fast"] else {})},
    }


def hub_role(hub: dict) -> dict:
    """Every course account may open the service's page (JupyterHub grants no service to users by default)."""
    return {"name": f"{NAME}-page", "scopes": [f"access:services!service={NAME}"],
            "users": [hub["instructor"], *hub["students"]]}


def when(seconds: float | None) -> str:
    if seconds is None:
        return ""
    return datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def describe(row, position: int | None) -> dict:
    """What the page says of one submission (the JSON API gives the same)."""
    state = {"submission": row.submitted, "assignment": row.assignment, "state": row.state,
             "shown": SHOWN.get(row.state, row.state), "reason": row.reason}
    if row.state == "queued":
        state["position"] = position
    if row.state == "held":
        state["graded_after"] = when(row.not_before)
    if row.scores is not None:
        state["exercises"] = [{"exercise": s["exercise"], "max": s["max"],
                               "score": None if s.get("waits") else s["score"],
                               "waits_for_a_person": bool(s.get("waits"))} for s in row.scores]
        state["autograded"] = sum(s["score"] or 0 for s in row.scores if not s.get("waits"))
        state["hidden_tests_withheld"] = row.withheld
    return state


def page(user: str, states: list[dict], prefix: str) -> str:
    parts = ["<!doctype html><html><head><meta charset='utf-8'><title>Your submissions</title>"
             "<style>body{font-family:sans-serif;margin:2em}td,th{padding:.2em .8em;text-align:left}"
             ".refused,.failed{color:#a00}.held{color:#a60}</style></head><body>",
             f"<h1>Submissions of {html.escape(user)}</h1>"]
    if not states:
        parts.append("<p>No submissions yet: submit in the Assignments panel of your JupyterLab.</p>")
    newest_graded = {}
    for state in states:
        if state["state"] == "graded":
            newest_graded[state["assignment"]] = state["submission"]
    for state in reversed(states):
        head = f"{html.escape(state['assignment'])}, submitted {html.escape(state['submission'])}: "
        line = html.escape(state["shown"])
        if state["state"] == "queued":
            line += f" (number {state['position']} in the queue)"
        if state["state"] == "held":
            line += f" until {state['graded_after']}"
        if state.get("reason"):
            line += f": {html.escape(state['reason'])}"
        parts.append(f"<section class='{state['state']}'><h2>{head}{line}</h2>")
        if "exercises" in state:
            rows = "".join(
                f"<tr><td>{html.escape(e['exercise'])}</td><td>"
                + ("waits for a person" if e["waits_for_a_person"] else f"{e['score']:g} / {e['max']:g}")
                + "</td></tr>" for e in state["exercises"])
            parts.append(f"<table><tr><th>exercise</th><th>points</th></tr>{rows}</table>"
                         f"<p>Autograded points: {state['autograded']:g}</p>")
            if state["hidden_tests_withheld"]:
                parts.append("<p>The hidden tests' code and messages are withheld until the due date; "
                             "their points are counted above.</p>")
            if newest_graded.get(state["assignment"]) == state["submission"]:
                link = f"{prefix}feedback/{html.escape(state['assignment'])}"
                parts.append(f"<p><a href='{link}'>Feedback</a> (also in the Assignments panel: Fetch Feedback)</p>")
        parts.append("</section>")
    return "\n".join(parts) + "</body></html>"


def make_app(grader, prefix: str):
    from jupyterhub.services.auth import HubOAuthCallbackHandler, HubOAuthenticated
    from tornado import web

    class Mine(HubOAuthenticated, web.RequestHandler):
        """Only ever the logged-in user's own rows: no handler takes a student's name from the request."""

        def states(self) -> list[dict]:
            user = self.current_user["name"]
            grader.take_in()
            return [describe(row, grader.queue.position(row.name)) for row in grader.queue.rows(student=user)]

    class Page(Mine):
        @web.authenticated
        def get(self):
            self.set_header("Cache-Control", "no-store")
            self.write(page(self.current_user["name"], self.states(), prefix))

    class Api(Mine):
        @web.authenticated
        def get(self):
            self.set_header("Content-Type", "application/json")
            self.write(json.dumps(self.states()))

    class Feedback(Mine):
        @web.authenticated
        def get(self, assignment: str):
            user = self.current_user["name"]
            if not ASSIGNMENT.match(assignment) or not any(r.assignment == assignment and r.state == "graded"
                                                           for r in grader.queue.rows(student=user)):
                raise web.HTTPError(404)
            path = grader.root / "feedback" / grader.roster_ids.get(user, user) / assignment / f"{assignment}.html"
            if not path.is_file():
                raise web.HTTPError(404)
            self.set_header("Cache-Control", "no-store")
            self.write(path.read_bytes())

    return web.Application([
        (prefix, Page), (prefix + "api/submissions", Api), (prefix + r"feedback/([^/]+)", Feedback),
        (prefix + "oauth_callback", HubOAuthCallbackHandler),
    ], cookie_secret=os.urandom(32))


def serve(grader, url: str, prefix: str) -> None:
    from urllib.parse import urlparse

    async def run():
        make_app(grader, prefix).listen(urlparse(url).port, address=urlparse(url).hostname)
        await asyncio.Event().wait()

    asyncio.run(run())


def main(argv=None) -> int:
    from course.grading.semester.on_submit.grader import Grader

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--course", type=Path, required=True)
    parser.add_argument("--exchange", type=Path, required=True)
    parser.add_argument("--course-id", required=True)
    parser.add_argument("--every", type=float, default=1.0, help="seconds between looks at the inbound folder")
    parser.add_argument("--roster-ids", type=json.loads, default={},
                        help="JSON: Unix name -> roster id, for students whose id is not their Unix name")
    args = parser.parse_args(argv)
    say = lambda line: print(f"[grading] {line}", flush=True)  # noqa: E731
    grader = Grader(args.course, args.exchange, args.course_id, say=say, roster_ids=args.roster_ids)
    url = os.environ.get("JUPYTERHUB_SERVICE_URL")
    if url:
        threading.Thread(target=serve, args=(grader, url, os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/")),
                         daemon=True, name="page").start()
    grader.warm()
    say("ready")
    while True:
        try:
            grader.round()
        except Exception:  # noqa: BLE001 (one bad round must not stop grading; the next round retries)
            say("a grading round failed:\n" + traceback.format_exc())
        time.sleep(args.every)


if __name__ == "__main__":
    sys.exit(main())
