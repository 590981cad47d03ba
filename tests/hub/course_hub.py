"""A throwaway course hub for the `hub` tests: real accounts, `make roster`'s and `make hub`'s commands.

Account names carry a random prefix per run, so a run never touches anyone else's accounts, and
everything made (accounts, homes, the hub's folder, its processes) is removed when the hub stops.
A failing test leaves screenshots, page HTML and the hub's log in tests/artifacts/hub/<test>/.
"""
from __future__ import annotations

import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from course.commands.hub import accounts as hub_accounts
from course.commands.hub import manage as hub_command
from course.commands.hub.limits import Cgroups
from tests.browser.session import CHROMIUM

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts" / "hub"
STEP_MS = 120_000  # one click's effect, on a slow shared machine
SPAWN_MS = 240_000  # a user's first page: JupyterHub starts their JupyterLab
NAMES = ("Ada Solver", "Bob Late")  # roster.csv's names; formgrader shows them as "Solver, Ada"
LIMITS = {"memory": "1536M", "cpus": "1"}  # each server's, as `make hub HUB_MEMORY=... HUB_CPUS=...` sets them


class Unavailable(RuntimeError):
    """This machine cannot run a hub (not root, no Chromium, no proxy); the message says what is missing."""


def missing() -> str | None:
    if os.geteuid() != 0:
        return "the hub tests make Unix accounts and run JupyterHub, which needs root"
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is absent (apt-get install chromium)"
    if not hub_command.PROXY.is_file():
        return f"{hub_command.PROXY} is missing (`make proxy`)"
    for tool in ("useradd", "userdel", "chpasswd", "runuser"):
        if not shutil.which(tool):
            return f"{tool} is missing"
    return hub_command.interpreter_problem()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class CourseHub:
    """An instructor, a TA and two students on a hub of their own, started as `make roster` and `make hub` do.

    The first student's roster id is a student number (digits), so their Unix and hub name is derived
    from it; `students` are roster ids, `unix` maps them to Unix names."""

    def __init__(self):
        prefix = "h" + secrets.token_hex(3)
        self.group, self.instructor, self.grader = prefix, f"{prefix}i", f"{prefix}t"
        self.students = [f"{secrets.randbelow(10**9):09d}", f"{prefix}b"]
        self.unix: dict = {}
        self.folder = Path(tempfile.mkdtemp(prefix="course-hub-test-", dir="/tmp"))
        self.folder.chmod(0o755)
        self.layout = hub_command.Layout(self.folder / "hub")
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = self.folder / "hub.log"
        self.process = None

    # --- the commands under test ------------------------------------------------------------------
    def command(self, step: str, *extra: str) -> list:
        return [sys.executable, "-m", "course.commands.hub.manage", step, "--home", str(self.layout.home),
                "--instructor", self.instructor, "--group", self.group, *extra]

    def roster(self, students=None) -> subprocess.CompletedProcess:
        """`make roster` with these roster ids (all by default), the TA as grader; learns the Unix names."""
        roster = self.folder / "roster.csv"
        roster.write_text("id,name,email\n" + "".join(f"{student},{name},{student}@example.org\n"
                                                      for student, name in zip(self.students, NAMES)
                                                      if students is None or student in students))
        made = subprocess.run(self.command("roster", "--roster", str(roster), "--homes", str(self.folder / "homes"),
                                           "--graders", self.grader), capture_output=True, text=True, timeout=300)
        if self.layout.accounts.is_file():
            self.unix = json.loads(self.layout.accounts.read_text())["ids"]
        return made

    def start(self, timeout: float = 180.0) -> CourseHub:
        limits = ["--memory", LIMITS["memory"], "--cpus", LIMITS["cpus"]]
        with open(self.log_path, "w") as log:
            self.process = subprocess.Popen(self.command("start", "--port", str(self.port), "--fast", *limits),
                                            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the hub exited with code {self.process.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.base}/hub/api", timeout=5) as answer:
                    if answer.status == 200:
                        return self
            except (OSError, urllib.error.URLError):
                pass
            time.sleep(0.5)
        raise RuntimeError(f"the hub did not answer on {self.base} within {timeout:.0f} s:\n{self.log_tail()}")

    def password(self, user: str) -> str:
        return hub_accounts.read_passwords(self.layout.passwords)[user]

    def home(self, user: str) -> Path:
        return Path(pwd.getpwnam(user).pw_dir)

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    # --- as a Unix user ---------------------------------------------------------------------------
    def as_user(self, user: str, *argv: str, cwd: Path | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
        env = {"PATH": os.pathsep.join([str(Path(sys.executable).parent), "/usr/bin", "/bin"]),
               "HOME": str(self.home(user)), "LANG": "C.UTF-8"}
        runuser = shutil.which("runuser") or "/usr/sbin/runuser"
        return subprocess.run([runuser, "-u", user, "--", *argv], cwd=cwd or self.home(user), env=env,
                              capture_output=True, text=True, timeout=timeout)

    def can_read(self, user: str, path: Path) -> bool:
        """`user` can open the file, or list the folder, at `path`."""
        argv = ["ls", str(path)] if Path(path).is_dir() else ["head", "-c", "1", str(path)]
        return self.as_user(user, *argv, cwd=Path("/")).returncode == 0

    def nbgrader(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        """An nbgrader command as the instructor, in the hub's course folder."""
        return self.as_user(self.instructor, sys.executable, "-m", "nbgrader", *args, cwd=self.layout.course,
                            timeout=timeout)

    # --- cleaning up ------------------------------------------------------------------------------
    def stop(self) -> None:
        """SIGTERM lets JupyterHub stop the users' servers and its proxy; then everything left is killed."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        for pid_file in ("proxy.pid",):
            try:
                os.kill(int((self.layout.state / pid_file).read_text()), signal.SIGKILL)
            except (OSError, ValueError):
                pass

    def remove(self) -> None:
        settings = self.layout.state / "settings.json"
        if settings.is_file():
            Cgroups.find(json.loads(settings.read_text())["limits"]["cgroup"]).remove()
        everyone = [self.instructor, self.grader, *(self.unix.get(s, s) for s in self.students), f"{self.group}c"]
        hub_accounts.remove(everyone, self.group)
        for group in (self.group, hub_command.graders_group(self.group)):
            subprocess.run(["groupdel", group], capture_output=True)
        shutil.rmtree(self.folder, ignore_errors=True)

    def save_evidence(self, name: str, pages) -> Path:
        folder = ARTIFACTS / name
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True, exist_ok=True)
        for label, page in pages.items():
            try:
                page.screenshot(path=str(folder / f"{label}.png"), full_page=True, timeout=20_000)
                (folder / f"{label}.html").write_text(page.content())
            except Exception as error:  # a crashed page must not hide the test's own failure
                (folder / f"{label}.error.txt").write_text(repr(error))
        if self.log_path.exists():
            shutil.copy2(self.log_path, folder / "hub.log")
        (folder / "accounts.json").write_text(json.dumps({"instructor": self.instructor, "grader": self.grader,
                                                          "students": self.students, "unix": self.unix}))
        return folder
