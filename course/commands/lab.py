"""`make lab`: JupyterLab on the course folder, with nbgrader's tools switched on.

Students open `release/` notebooks here and validate them; instructors use the
Nbgrader menu's Formgrader. A student's lab (`--student`, and the default where
`course.grading` is absent, as in the handout) has no formgrader and no Create
Assignment, and never asks about Jupyter's news. The server runs from this Python
(the project's venv), so its kernels import `course`, and it starts in the course
root, where nbgrader finds `nbgrader_config.py`. Once the server answers, the URL
with its token is printed; Ctrl+C stops the server and its kernels.
"""
import argparse
import html
import importlib.util
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import webbrowser
from pathlib import Path

from ..paths import PROJECT_ROOT

# nbgrader's server parts, switched on explicitly so a stray `disable` elsewhere cannot hide them.
SERVER_EXTENSIONS = (
    "nbgrader.server_extensions.formgrader",
    "nbgrader.server_extensions.validate_assignment",
    "nbgrader.server_extensions.assignment_list",
    "nbgrader.server_extensions.course_list",
)
LAB_EXTENSION = "@jupyter/nbgrader"
# What a student's server leaves out: the instructor's tools, and JupyterLab's announcements plugin, whose
# pop-up asks whether to fetch Jupyter's news (and checks for updates a student cannot install).
STUDENT_SERVER_OFF = ("nbgrader.server_extensions.formgrader",)
STUDENT_LAB_OFF = (f"{LAB_EXTENSION}:formgrader", f"{LAB_EXTENSION}:create-assignment",
                   "@jupyterlab/apputils-extension:announcements")
DEFAULT_PORT = 8888


class LabError(RuntimeError):
    """JupyterLab could not be started; the message says what to run instead."""


def free_port(preferred: int = DEFAULT_PORT, host: str = "127.0.0.1") -> int:
    """`preferred` when nothing listens there, else a port the system hands out."""
    for port in (preferred, 0):
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind((host, port))
            except OSError:
                continue
            return probe.getsockname()[1]
    raise LabError(f"no free TCP port on {host}")


def lab_url(host: str, port: int, token: str, path: str = "lab") -> str:
    return f"http://{host}:{port}/{path}?token={token}"


def student_default() -> bool:
    """A lab without the grader (the handout) is a student's."""
    try:
        return importlib.util.find_spec("course.grading") is None
    except ModuleNotFoundError:
        return True


def command(root: Path, host: str, port: int, student: bool = False) -> list:
    """The `jupyter lab` command line; the token travels in the environment, not in `ps`."""
    off = STUDENT_SERVER_OFF if student else ()
    return [
        sys.executable, "-m", "jupyterlab",
        f"--ServerApp.root_dir={root}",
        f"--ServerApp.ip={host}",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",  # the printed URL must be the one it serves
        "--ServerApp.open_browser=False",  # lab.py opens it once the server answers
        *(f"--ServerApp.jpserver_extensions={name}={name not in off}" for name in SERVER_EXTENSIONS),
        # Containers and CI often run as root, which Jupyter refuses unless told.
        *(["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []),
    ]


def environment(token: str, fast: bool = False, base: dict | None = None, config: Path | None = None) -> dict:
    """The venv's bin/ first (nbgrader calls `alembic` by name), the token, fast mode on request, and the
    Jupyter settings folder `config` (see `student_config`) ahead of the user's own."""
    env = dict(os.environ if base is None else base)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["JUPYTER_TOKEN"] = token
    if fast:
        env["COURSE_FAST"] = "1"
    if config is not None:
        env["JUPYTER_CONFIG_PATH"] = os.pathsep.join(filter(None, [str(config), env.get("JUPYTER_CONFIG_PATH")]))
    return env


def student_config(folder: Path) -> Path:
    """A Jupyter settings folder whose page config disables the plugins of STUDENT_LAB_OFF (JupyterLab reads
    `labconfig/page_config.json` in every folder of JUPYTER_CONFIG_PATH, as on the hub)."""
    (folder / "labconfig").mkdir(parents=True, exist_ok=True)
    page = {"disabledExtensions": {name: True for name in STUDENT_LAB_OFF}}
    (folder / "labconfig" / "page_config.json").write_text(json.dumps(page, indent=1))
    return folder


def missing_requirements() -> list:
    """What this Python lacks for the lab; empty when everything is installed."""
    return [name for name in ("jupyterlab", "nbgrader", "ipywidgets")
            if importlib.util.find_spec(name) is None]


def _get(url: str, token: str, timeout: float = 5.0) -> tuple:
    request = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, ""


def wait_until_ready(process: subprocess.Popen, host: str, port: int, token: str, timeout: float = 180.0) -> None:
    """Poll the server's status API until it answers; fail early if the server process dies."""
    deadline = time.monotonic() + timeout
    url = f"http://{host}:{port}/api/status"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise LabError(f"JupyterLab exited with code {process.returncode} before it was ready "
                           "(its log above says why)")
        try:
            status = _get(url, token, timeout=2.0)[0]
        except OSError:
            status = None
        if status == 200:
            return
        if status == 403:
            raise LabError("JupyterLab refuses this token: a Jupyter config file (see "
                           "`jupyter --paths`) sets another one; remove that setting or pass it with --token")
        time.sleep(0.5)
    raise LabError(f"JupyterLab did not answer on {url} within {timeout:.0f} s")


def page_config(page: str) -> dict:
    """The JSON JupyterLab embeds in its page: the extensions the browser will load."""
    found = re.search(r'<script id="jupyter-config-data" type="application/json">(.*?)</script>', page, re.DOTALL)
    return json.loads(html.unescape(found.group(1))) if found else {}


def extension_problems(host: str, port: int, token: str, student: bool = False) -> list:
    """Ask the running server whether nbgrader's pages and its JupyterLab extension are there, and, for a
    student, whether the instructor's tools and the news are gone."""
    problems = []
    formgrader = _get(f"http://{host}:{port}/formgrader", token)[0]
    if formgrader != 200 and not student:
        problems.append("nbgrader's server extension does not answer at /formgrader")
    if formgrader == 200 and student:
        problems.append("formgrader answers at /formgrader in a student's lab")
    status, page = _get(f"http://{host}:{port}/lab", token)
    config = page_config(page) if status == 200 else {}
    names = {extension.get("name") for extension in config.get("federated_extensions", [])}
    wanted_off = set(STUDENT_LAB_OFF) if student else set()
    disabled = set(config.get("disabledExtensions", []))
    if LAB_EXTENSION not in names:
        problems.append(f"JupyterLab does not load the {LAB_EXTENSION} extension")
    if missing := sorted(wanted_off - disabled):
        problems.append(f"a student's JupyterLab still loads {', '.join(missing)}")
    if lost := sorted(name for name in disabled - wanted_off if name.startswith(LAB_EXTENSION)):
        problems.append(f"these nbgrader parts are disabled in JupyterLab: {', '.join(lost)} "
                        f"(`jupyter labextension enable {LAB_EXTENSION}` turns them back on)")
    return problems


def has_display() -> bool:
    """Only open a browser where a graphical one can appear (never a text browser in the terminal)."""
    return sys.platform in ("darwin", "win32") or bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def banner(url: str, root: Path, student: bool = False) -> str:
    rule = "=" * 78
    return "\n".join([
        rule,
        "JupyterLab is running on the CNN course. Open this address in your browser:",
        "",
        f"    {url}",
        "",
        f"Course folder: {root}",
        "Students: open a notebook under release/ to begin; the Validate button",
        "          on the notebook's toolbar runs the checks the grader will run.",
        *([] if student else ["Instructors: menu Nbgrader > Formgrader for assignments, submissions and manual grading."]),
        "Stop the server with Ctrl+C.",
        rule,
    ])


def _stop(process: subprocess.Popen, grace: float = 20.0) -> int:
    """SIGTERM lets Jupyter shut its kernels down; kill only if it hangs."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Start JupyterLab on the course, with nbgrader's tools.")
    parser.add_argument("--root", type=Path, default=PROJECT_ROOT, help="course folder (default: this project)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: this computer only)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT,
                        help=f"port (default {DEFAULT_PORT}, or a free one if it is taken)")
    parser.add_argument("--token", default=None, help="login token (default: a fresh random one)")
    parser.add_argument("--no-browser", action="store_true", help="only print the address")
    parser.add_argument("--fast", action="store_true",
                        help="kernels run in fast mode (COURSE_FAST=1): tiny data, short training")
    role = parser.add_mutually_exclusive_group()
    role.add_argument("--student", dest="student", action="store_true", default=None,
                      help="no formgrader, no Create Assignment, no news (the default without course.grading)")
    role.add_argument("--instructor", dest="student", action="store_false", help="with nbgrader's instructor tools")
    args = parser.parse_args(argv)
    student = student_default() if args.student is None else args.student

    missing = missing_requirements()
    if missing:
        print(f"{sys.executable} lacks {', '.join(missing)}. In the course folder run `make lab`, which "
              "installs everything into .venv/ and starts JupyterLab from there.", file=sys.stderr)
        return 2
    root = args.root.expanduser().resolve()
    if not (root / "nbgrader_config.py").is_file():
        print(f"{root} has no nbgrader_config.py; pass the course folder with --root.", file=sys.stderr)
        return 2

    token = args.token or os.environ.get("JUPYTER_TOKEN") or secrets.token_hex(24)
    try:
        port = free_port(args.port, args.host)
    except LabError as error:
        print(error, file=sys.stderr)
        return 1
    # A server listening on every interface is still opened through this computer's own address.
    local = "127.0.0.1" if args.host in ("0.0.0.0", "::", "") else args.host
    url = lab_url(local, port, token)
    # A new session keeps a terminal's Ctrl+C away from the server; this process stops it cleanly.
    settings = tempfile.TemporaryDirectory(prefix="course-lab-") if student else None
    config = student_config(Path(settings.name)) if settings else None
    process = subprocess.Popen(command(root, args.host, port, student), cwd=root,
                               env=environment(token, args.fast, config=config),
                               stdin=subprocess.DEVNULL, start_new_session=True)
    signal.signal(signal.SIGTERM, _raise_interrupt)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl+C works even if started ignoring it
    try:
        wait_until_ready(process, local, port, token)
        for problem in extension_problems(local, port, token, student):
            print(f"warning: {problem}; `make install` reinstalls nbgrader's extensions.", file=sys.stderr)
        print(banner(url, root, student), flush=True)
        if not args.no_browser and has_display():
            webbrowser.open(url)
        return process.wait()
    except LabError as error:
        print(error, file=sys.stderr)
        _stop(process)
        return 1
    except KeyboardInterrupt:
        # One stop is enough: a second Ctrl+C or SIGTERM must not cut the kernels' shutdown short.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print("\nStopping JupyterLab and its kernels...", flush=True)
        _stop(process)
        return 0
    finally:
        if settings is not None:
            settings.cleanup()


if __name__ == "__main__":
    sys.exit(main())
