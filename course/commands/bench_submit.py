"""Benchmark of feedback on submit: seconds from a student's submit to their released feedback.

`make bench-submit` (or `python -m course.commands.bench_submit [--students 30] [--assignment 01_convolution]
[--window 60]`, as root) makes throwaway Unix accounts, a throwaway course and exchange, and runs the hub's
grading rounds (course.grading.semester.on_submit, as the hub's service does) in this process. Two students
submit one after the other on the idle service (the first grade on fresh workers is slower); then every
other student submits once, spread evenly over the window, with nbgrader's own `submit` run as that student
through the real exchange. The submit-to-release time of each
is read from the service's ledger; p50 and p95 are printed, with a projection for Slurm workers. The
accounts and folders are removed at the end. Nothing is asserted.
"""
from __future__ import annotations

import argparse
import math
import os
import pwd
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from ..grading.engine import database
from ..grading.semester import pipeline
from ..grading.semester.on_submit.grader import Grader
from ..grading.semester.submissions import fill, solution_answers
from .hub import accounts

COURSE_ID = "bench-course"


def percentile(values: list, share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))]


class Bench:
    def __init__(self, students: int, assignment: str):
        self.assignment = assignment
        self.prefix = "b" + secrets.token_hex(3)
        self.folder = Path(tempfile.mkdtemp(prefix="bench-submit-", dir="/tmp"))
        self.folder.chmod(0o755)
        self.users = [f"{self.prefix}{n:02d}" for n in range(students + 2)]  # the first two: the idle-hub runs
        self.exchange = self.folder / "exchange"
        self.submitted_at: dict = {}

    def set_up(self) -> None:
        accounts.ensure({u: "Bench Student" for u in self.users}, self.prefix, self.folder / "homes",
                        self.folder / "passwords")
        course = self.course = pipeline.new_course(self.folder / "course", [self.assignment])
        pipeline.nbgrader(course, "generate_assignment", self.assignment, "--force")
        from nbgrader.api import Gradebook

        with Gradebook(database.db_url(course)) as gradebook:
            for user in self.users:
                gradebook.update_or_create_student(user)
        self.exchange.mkdir(mode=0o1777)
        self.exchange.chmod(0o1777)
        pipeline.nbgrader(course, "release_assignment", self.assignment, f"--Exchange.root={self.exchange}",
                          f"--CourseDirectory.course_id={COURSE_ID}")
        answers = solution_answers(course / "source" / self.assignment / f"{self.assignment}.ipynb")
        solved = fill(course / "release" / self.assignment / f"{self.assignment}.ipynb", answers,
                      self.folder / f"{self.assignment}.ipynb")
        for user in self.users:
            self.nbgrader(user, "fetch_assignment")
            target = pwd.getpwnam(user).pw_dir + f"/{self.assignment}/{self.assignment}.ipynb"
            shutil.copy(solved, target)
            shutil.chown(target, user, user)

    def nbgrader(self, user: str, step: str) -> None:
        home = pwd.getpwnam(user).pw_dir
        env = {"PATH": os.pathsep.join([str(Path(sys.executable).parent), "/usr/bin", "/bin"]), "HOME": home}
        done = accounts.as_user(user, [sys.executable, "-m", "nbgrader", step, self.assignment,
                                       f"--Exchange.root={self.exchange}", f"--CourseDirectory.course_id={COURSE_ID}"],
                                cwd=home, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{user}: nbgrader {step} failed:\n{done.stdout}{done.stderr}")

    def submit(self, user: str) -> None:
        self.submitted_at[user] = time.time()
        self.nbgrader(user, "submit")

    def latencies(self, grader: Grader, users: list) -> list:
        rows = {r.student: r for r in grader.queue.rows(state="graded")}
        return [rows[u].finished - self.submitted_at[u] for u in users if u in rows]

    def wait_graded(self, grader: Grader, users: list, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            grader.round()
            if {r.student for r in grader.queue.rows(state="graded")} >= set(users):
                return
            time.sleep(0.5)
        raise RuntimeError(f"not all graded within {timeout:.0f} s: {[(r.student, r.state) for r in grader.queue.rows()]}")

    def tear_down(self) -> None:
        accounts.remove(self.users, self.prefix)
        subprocess.run(["groupdel", self.prefix], capture_output=True)
        shutil.rmtree(self.folder, ignore_errors=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--assignment", default="01_convolution")
    parser.add_argument("--window", type=float, default=60.0, help="seconds over which the students submit")
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        print("bench-submit makes throwaway Unix accounts (students submit as themselves): run it as root",
              file=sys.stderr)
        return 1
    bench = Bench(args.students, args.assignment)
    try:
        print(f"setting up {args.students + 2} accounts and {args.assignment}...", flush=True)
        bench.set_up()
        grader = Grader(bench.course, bench.exchange, COURSE_ID, say=lambda line: None)
        grader.warm()
        first, idle, *burst = bench.users
        for user, what in ((first, "the first submission the workers see (cold)"), (idle, "one on the idle service")):
            bench.submit(user)
            bench.wait_graded(grader, [user], 600)
            print(f"{what}: {bench.latencies(grader, [user])[0]:.1f} s", flush=True)
        spacing = args.window / max(1, len(burst))
        threads = [threading.Timer(n * spacing, bench.submit, [user]) for n, user in enumerate(burst)]
        for thread in threads:
            thread.start()
        bench.wait_graded(grader, burst, 600 + args.window)
        seconds = bench.latencies(grader, burst)
        print(f"{len(burst)} submissions of {args.assignment} within {args.window:.0f} s, submit to released "
              f"feedback: p50 {statistics.median(seconds):.1f} s, p95 {percentile(seconds, 0.95):.1f} s, "
              f"max {max(seconds):.1f} s on {os.cpu_count()} cores")
        finished = max(r.finished for r in grader.queue.rows(state="graded") if r.student in burst)
        cost = (finished - min(bench.submitted_at[u] for u in burst)) * (os.cpu_count() or 1) / len(burst)
        print(f"projection for Slurm workers (COURSE_CLUSTER=slurm): at most {cost:.1f} core-seconds per "
              f"submission here, so N one-core workers keep up with N / {cost:.1f} submissions a second "
              f"({math.ceil(len(burst) / args.window * cost)} for this burst); then p95 nears the idle figure plus "
              "the time Slurm takes to start a worker job")
    finally:
        bench.tear_down()
    return 0


if __name__ == "__main__":
    sys.exit(main())
