"""`make roster` and `make hub`: the course on a JupyterHub on this machine, with nbgrader's exchange.

Run as root. Everything the hub keeps lives under one folder (`--home`, /srv/cnn-course by default):

    course/     the course as the hub grades it, a copy shared by the instructor and the graders (TAs)
                through the Unix group <group>-graders (mode 2770, group-writable): source/ and
                nbgrader_config.py synced from this checkout, release/, submitted/, autograded/,
                feedback/, reports/ and gradebook.db made there. Students cannot enter it.
    exchange/   nbgrader's exchange (mode 1777); nbgrader makes <course_id>/outbound (755),
                inbound (students drop submissions in but cannot list it) and feedback
                (711: a student reads only the feedback whose hash their own submission gives).
    jupyter/    the Jupyter settings of each role: student/ (exchange, course id; formgrader, Create
                Assignment and Jupyter's news switched off) and instructor/ (also the course folder
                and the collector's roster map; graders only).
    hub/        JupyterHub's state, the hub passwords and logins, archived homes (root only, mode 700).

`roster` creates the Unix accounts (course.commands.hub.accounts), locks and archives students who
left the roster, puts the students into the course gradebook, and prepares the folders; `start`
checks it all and runs JupyterHub with course/commands/hub/jupyterhub_config.py, each server under
a CPU and memory limit (course.commands.hub.limits). Students share this checkout's venv and
`course` package, so the checkout's instructor-only parts (source/, .git/, grading outputs) are
made unreadable to other accounts (`chmod go-rwx`) before the hub starts. See docs/hub.md.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import socket
import stat
import sys
from dataclasses import dataclass
from pathlib import Path

from ...grading.semester import roster as roster_module
from ...paths import PROJECT_ROOT
from .. import lab
from . import accounts
from .limits import Cgroups, LimitError, parse_size

DEFAULT_HOME = Path("/srv/cnn-course")
CONFIG_FILE = Path(__file__).with_name("jupyterhub_config.py")
PROXY = PROJECT_ROOT / ".hub-proxy" / "node_modules" / ".bin" / "configurable-http-proxy"
GROUP = "cnn-course"
# The checkout's parts a student must not read: solutions and hidden tests, their history, and grades.
PRIVATE = ("source", ".git", "gradebook.db", "submitted", "autograded", "feedback", "downloaded", "reports", "roster.csv",
           "grades.csv", "grades-canvas.csv", "grades-moodle.csv")
# What the hub's course copy takes from the checkout, on every `roster` and `start`.
SYNCED = ("source", "nbgrader_config.py", "schedule.toml")
# Each server's limits (course.commands.hub.limits); docs/hub.md measures what one student needs.
DEFAULT_MEMORY, DEFAULT_CPUS = "3G", "1"
# The same as a student's `make lab`: no formgrader or Create Assignment, no news pop-up.
STUDENT_EXTENSIONS_OFF, STUDENT_LAB_OFF = lab.STUDENT_SERVER_OFF, lab.STUDENT_LAB_OFF


class HubError(RuntimeError):
    """The hub cannot be set up or started; the message says what to do."""


@dataclass(frozen=True)
class Layout:
    home: Path

    @property
    def course(self) -> Path:
        return self.home / "course"

    @property
    def exchange(self) -> Path:
        return self.home / "exchange"

    @property
    def jupyter(self) -> Path:
        return self.home / "jupyter"

    @property
    def state(self) -> Path:
        return self.home / "hub"

    @property
    def passwords(self) -> Path:
        return self.state / "passwords"

    @property
    def accounts(self) -> Path:
        return self.state / "accounts.json"

    @property
    def archive(self) -> Path:
        return self.state / "archive"


def course_id(root: Path = PROJECT_ROOT) -> str:
    found = re.search(r"""^c\.CourseDirectory\.course_id\s*=\s*["']([^"']+)["']""",
                      (Path(root) / "nbgrader_config.py").read_text(), re.MULTILINE)
    if not found:
        raise HubError(f"{root / 'nbgrader_config.py'} sets no c.CourseDirectory.course_id; the exchange needs one")
    return found.group(1)


def _others_can(path: Path, bits: int) -> bool:
    return os.stat(path).st_mode & bits == bits


def interpreter_problem(python: str = sys.executable) -> str | None:
    """Why other accounts could not run this venv's Python (None when they can): every account's server runs it."""
    real = Path(os.path.realpath(python))
    blocked = [p for p in [*reversed(real.parents), real] if not _others_can(p, stat.S_IXOTH)]
    blocked += [p for p in [*reversed(PROJECT_ROOT.parents), PROJECT_ROOT, PROJECT_ROOT / "course"]
                if not _others_can(p, stat.S_IXOTH)]
    if not blocked:
        return None
    return (f"The course's Python ({python} -> {real}) is not usable by other accounts: {blocked[0]} is mode "
            f"{stat.S_IMODE(os.stat(blocked[0]).st_mode):o}. Students' servers run it, so build the venv from a "
            "Python every account can run (the Makefile prefers Debian's /usr/bin/python3.11): "
            "`rm -rf .venv && make install`, or `make install PYTHON=/usr/bin/python3.11` on a fresh clone.")


def tighten_checkout(root: Path = PROJECT_ROOT) -> list[Path]:
    """`chmod go-rwx` on the checkout's instructor-only paths; returns those that changed."""
    changed = []
    for name in PRIVATE:
        path = Path(root) / name
        if path.exists() and stat.S_IMODE(path.stat().st_mode) & 0o077:
            path.chmod(stat.S_IMODE(path.stat().st_mode) & 0o700)
            changed.append(path)
    return changed


def _share_tree(path: Path, user: str, group: str) -> None:
    """The instructor's files, with the owner's rights given to the graders' group too and nothing to others."""
    for folder, dirs, files in os.walk(path):
        for name in [folder, *(os.path.join(folder, d) for d in dirs), *(os.path.join(folder, f) for f in files)]:
            shutil.chown(name, user, group)
            mode = stat.S_IMODE(os.lstat(name).st_mode)
            owner = mode & 0o700
            os.chmod(name, owner | owner >> 3 | (stat.S_ISGID if os.path.isdir(name) else 0))


def graders_group(group: str) -> str:
    return f"{group}-graders"


def prepare(layout: Layout, instructor: str, root: Path = PROJECT_ROOT, graders: str | None = None,
            roster_ids: dict | None = None) -> None:
    """The hub's folders with their owners and modes, and the course copy synced from the checkout.

    `graders` is the Unix group of the instructor and the TAs, who share the course folder."""
    graders = graders or instructor
    for folder, mode in ((layout.home, 0o755), (layout.state, 0o700), (layout.jupyter, 0o755),
                         (layout.exchange, 0o1777), (layout.course, 0o2770)):
        folder.mkdir(parents=True, exist_ok=True)
        folder.chmod(mode)
    for name in SYNCED:
        source, target = Path(root) / name, layout.course / name
        if source.is_dir():
            shutil.copytree(source, target, dirs_exist_ok=True, ignore=shutil.ignore_patterns(
                "__pycache__", ".ipynb_checkpoints"))
        else:
            shutil.copy2(source, target)
    _share_tree(layout.course, instructor, graders)
    exchange_course = layout.exchange / course_id(root)
    if not exchange_course.exists():  # its group is inherited by inbound/, which the graders then read
        exchange_course.mkdir(mode=0o755)
        shutil.chown(exchange_course, instructor, graders)
        exchange_course.chmod(0o2755)
    write_jupyter_config(layout, course_id(root), roster_ids, graders)


def write_jupyter_config(layout: Layout, course: str, roster_ids: dict | None = None,
                         graders: str | None = None) -> None:
    """Each role's Jupyter settings: nbgrader's exchange and course for both, no formgrader for students.

    The instructor's and graders' nbgrader also learns where the course is (their servers start in their
    homes), shares it with the group, and collects with the roster map (Unix name -> roster id); their
    folder is readable by the graders' group only. Every terminal runs bash: the accounts' login shell
    is nologin."""
    nbgrader = (f'c = get_config()  # noqa: F821\nc.CourseDirectory.course_id = "{course}"\n'
                f'c.Exchange.root = "{layout.exchange}"\n')
    staff = (f'c.CourseDirectory.root = "{layout.course}"\nc.CourseDirectory.groupshared = True\n'
             'c.ExchangeFactory.collect = "course.commands.hub.exchange.RosterCollect"\n'
             f'c.RosterCollect.roster_ids = {json.dumps(roster_ids or {}, sort_keys=True)}\n')
    terminal = {"terminado_settings": {"shell_command": ["/bin/bash", "-l"]}}
    for role in ("student", "instructor"):
        folder = layout.jupyter / role
        (folder / "labconfig").mkdir(parents=True, exist_ok=True)
        (folder / "nbgrader_config.py").write_text(nbgrader + (staff if role == "instructor" else ""))
        off = role == "student"
        server = {"ServerApp": {**terminal, **({"jpserver_extensions": {name: False for name in STUDENT_EXTENSIONS_OFF}}
                                              if off else {})}}
        (folder / "jupyter_server_config.json").write_text(json.dumps(server, indent=1))
        page = {"disabledExtensions": {name: True for name in STUDENT_LAB_OFF}} if off else {}
        (folder / "labconfig" / "page_config.json").write_text(json.dumps(page, indent=1))
        private = role == "instructor" and graders
        for path in [folder, *folder.rglob("*")]:
            if private:
                shutil.chown(path, "root", graders)
                path.chmod(0o750 if path.is_dir() else 0o640)
            else:
                path.chmod(0o755 if path.is_dir() else 0o644)


def _require_root() -> None:
    if os.geteuid() != 0:
        raise HubError("this needs root: it creates Unix accounts and runs JupyterHub, which starts each "
                       "user's server as that user (run `sudo make ...`)")


def roster(layout: Layout, roster_file: Path, instructor: str, group: str = GROUP, homes: Path = Path("/home"),
           root: Path = PROJECT_ROOT, graders: tuple = ()) -> list[str]:
    """Accounts, course folders and gradebook for everyone on the roster; returns the accounts created.

    Students on the previous roster but not on this one are dropped (accounts.drop): locked, off the hub,
    home archived; their submissions and grades stay."""
    _require_root()
    problem = interpreter_problem()
    if problem:
        raise HubError(problem)
    students = roster_module.load(roster_file).students
    staff = [instructor, *graders]
    previous = json.loads(layout.accounts.read_text()) if layout.accounts.is_file() else {}
    try:
        names = accounts.unix_names([s.id for s in students], previous.get("ids"), reserved=staff)
        clash = sorted({*staff} & ({s.id for s in students} | set(names.values())))
        if clash:
            raise HubError(f"{', '.join(clash)}: both staff (instructor or grader) and a student account in "
                           f"{roster_file}; give the staff account another name")
        accounts.refuse_foreign([*staff, *names.values()], group)
        created = accounts.ensure({instructor: "Course instructor", **{g: "Grader" for g in graders}}, group, homes,
                                  layout.passwords, extra_groups=(graders_group(group),))
        created += accounts.ensure({names[s.id]: s.name for s in students}, group, homes, layout.passwords)
        before = set(previous.get("students", [])) - set(names.values()) - set(staff)
        dropped = sorted(before | (set(previous.get("dropped", [])) - set(names.values())))
        archives = accounts.drop(sorted(before), group, layout.passwords, layout.archive)
    except accounts.AccountError as error:
        raise HubError(str(error)) from None
    for archive in archives:
        print(f"dropped a student: account locked, off the hub, home archived to {archive}", flush=True)
    roster_ids = {unix: student_id for student_id, unix in names.items() if unix != student_id}
    prepare(layout, instructor, root, graders_group(group), roster_ids)
    accounts.import_students([{"id": s.id, "name": s.name, "email": s.email} for s in students],
                             layout.course, instructor)
    _share_tree(layout.course, instructor, graders_group(group))
    who = {"instructor": instructor, "graders": list(graders), "students": [names[s.id] for s in students],
           "ids": {**previous.get("ids", {}), **names}, "dropped": dropped, "group": group,
           "graders_group": graders_group(group)}
    layout.accounts.write_text(json.dumps(who, indent=1))
    return created


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def settings(layout: Layout, ip: str, port: int, fast: bool, memory: str = "off", cpus: str = "off") -> dict:
    """What jupyterhub_config.py reads: accounts, folders, ports, limits, and the commands to run."""
    if not layout.accounts.is_file():
        raise HubError(f"{layout.accounts} is missing: run `make roster` first")
    if not PROXY.is_file():
        raise HubError(f"{PROXY} is missing: `make proxy` installs configurable-http-proxy")
    if not accounts.logins_file(layout.passwords).is_file():
        raise HubError(f"{accounts.logins_file(layout.passwords)} is missing: run `make roster` once, which moves the "
                       "hub to its own passwords (the accounts' Unix passwords are locked)")
    who = json.loads(layout.accounts.read_text())
    venv_bin = Path(sys.executable).parent
    off = {"off", "0", "none", ""}
    limits = {"memory_bytes": 0 if str(memory).lower() in off else parse_size(memory),
              "cpus": 0.0 if str(cpus).lower() in off else float(cpus),
              "cgroup": f"cnn-course-{hashlib.sha256(str(layout.home).encode()).hexdigest()[:8]}"}
    aliases = {student_id: unix for student_id, unix in who.get("ids", {}).items()
               if unix in who["students"] and unix != student_id}
    return {**who, "graders": who.get("graders", []), "aliases": aliases, "limits": limits,
            "ip": ip, "port": port, "hub_port": free_port(), "proxy_api_port": free_port(),
            "report_port": free_port(), "state": str(layout.state), "course": str(layout.course),
            "jupyter": str(layout.jupyter), "logins": str(accounts.logins_file(layout.passwords)),
            "proxy": str(PROXY), "python": sys.executable, "singleuser": str(venv_bin / "jupyterhub-singleuser"),
            "path": os.pathsep.join([str(venv_bin), "/usr/local/bin", "/usr/bin", "/bin"]), "fast": fast}


def start(layout: Layout, ip: str = "127.0.0.1", port: int = 8000, fast: bool = False, root: Path = PROJECT_ROOT,
          memory: str = "off", cpus: str = "off"):
    """Check and prepare everything, then become JupyterHub (its log on stderr; SIGTERM stops it and the servers)."""
    _require_root()
    problem = interpreter_problem()
    if problem:
        raise HubError(problem)
    chosen = settings(layout, ip, port, fast, memory, cpus)
    if chosen["limits"]["memory_bytes"] or chosen["limits"]["cpus"]:
        try:
            Cgroups.find(chosen["limits"]["cgroup"]).prepare()
        except LimitError as error:
            raise HubError(str(error)) from None
    roster_ids = {unix: student_id for student_id, unix in chosen.get("ids", {}).items() if unix != student_id}
    prepare(layout, chosen["instructor"], root, chosen.get("graders_group"), roster_ids)
    for path in tighten_checkout(root):
        print(f"made {path} private to its owner (chmod go-rwx): students have accounts on this machine", flush=True)
    settings_file = layout.state / "settings.json"
    settings_file.write_text(json.dumps(chosen, indent=1))
    limits = chosen["limits"]
    print(f"JupyterHub for {course_id(root)} on http://{ip}:{port}/ (instructor {chosen['instructor']}, "
          f"{len(chosen['graders'])} graders, {len(chosen['students'])} students; passwords in {layout.passwords}); "
          f"each server limited to {limits['memory_bytes'] / 2**30:g} GiB and {limits['cpus']:g} CPUs (0: no limit)",
          flush=True)
    env = dict(os.environ, COURSE_HUB_SETTINGS=str(settings_file), PATH=chosen["path"])
    hub = str(Path(sys.executable).parent / "jupyterhub")
    os.chdir(layout.state)
    os.execve(hub, [hub, "-f", str(CONFIG_FILE)], env)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["roster", "start"])
    parser.add_argument("--home", type=Path, default=Path(os.environ.get("COURSE_HUB_HOME") or DEFAULT_HOME),
                        help=f"the hub's folder (default {DEFAULT_HOME}, or COURSE_HUB_HOME)")
    parser.add_argument("--instructor", default=os.environ.get("COURSE_HUB_INSTRUCTOR") or "instructor",
                        help="the instructor's account (default: instructor)")
    parser.add_argument("--roster", type=Path, default=PROJECT_ROOT / roster_module.ROSTER_FILE)
    parser.add_argument("--graders", default=os.environ.get("COURSE_HUB_GRADERS", ""),
                        help="the TAs' accounts, comma- or space-separated: formgrader on the shared course")
    parser.add_argument("--memory", default=DEFAULT_MEMORY, help=f"each server's memory limit ({DEFAULT_MEMORY}; off)")
    parser.add_argument("--cpus", default=DEFAULT_CPUS, help=f"each server's CPU limit in cores ({DEFAULT_CPUS}; off)")
    parser.add_argument("--group", default=GROUP, help=f"the Unix group that marks the course's accounts ({GROUP})")
    parser.add_argument("--homes", type=Path, default=Path("/home"), help="where new accounts' homes go")
    parser.add_argument("--ip", default="127.0.0.1", help="address the hub listens on (default: this machine only)")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--fast", action="store_true", help="notebooks run in fast mode (COURSE_FAST=1)")
    args = parser.parse_args(argv)
    layout = Layout(args.home.resolve())
    try:
        if args.command == "roster":
            graders = tuple(g for g in re.split(r"[\s,]+", args.graders) if g)
            created = roster(layout, args.roster, args.instructor, args.group, args.homes, graders=graders)
            print(f"{len(created)} account(s) created ({', '.join(created) or 'none new'}); their passwords are in "
                  f"{layout.passwords} (root only). Gradebook: {layout.course / 'gradebook.db'}.")
        else:
            start(layout, args.ip, args.port, args.fast, memory=args.memory, cpus=args.cpus)
    except (HubError, roster_module.RosterError, LimitError) as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
