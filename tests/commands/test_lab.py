"""`make lab` and a student's first five minutes.

`course.commands.lab` must start JupyterLab from the project's Python on the course
folder with nbgrader's tools on, and print a URL that works. A notebook opened
without the data, or in a Python that lacks `course`, must say in one clear
message what to run instead of showing a page of traceback.
"""
import http.server
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

from course.commands import lab
from tests.helpers import ROOT

ANSI = re.compile(r"\x1b\[[0-9;]*m")


# --- the command `make lab` runs ------------------------------------------------------------------

def test_jupyterlab_runs_from_this_python_on_the_course_root_and_only_on_the_printed_port(tmp_path):
    command = lab.command(tmp_path, "127.0.0.1", 8123)
    assert command[:3] == [sys.executable, "-m", "jupyterlab"]
    assert f"--ServerApp.root_dir={tmp_path}" in command
    assert "--ServerApp.port=8123" in command and "--ServerApp.port_retries=0" in command
    assert "--ServerApp.ip=127.0.0.1" in command


def test_every_nbgrader_server_extension_is_switched_on():
    command = lab.command(ROOT, "127.0.0.1", 8888)
    for name in ("formgrader", "validate_assignment", "assignment_list", "course_list"):
        assert f"--ServerApp.jpserver_extensions=nbgrader.server_extensions.{name}=True" in command


def test_a_students_lab_has_no_formgrader_and_is_the_default_without_the_grader(monkeypatch, tmp_path):
    command = lab.command(ROOT, "127.0.0.1", 8888, student=True)
    assert "--ServerApp.jpserver_extensions=nbgrader.server_extensions.formgrader=False" in command
    assert "--ServerApp.jpserver_extensions=nbgrader.server_extensions.validate_assignment=True" in command
    assert not lab.student_default(), "this checkout has course.grading: an instructor's lab"
    monkeypatch.setattr(lab.importlib.util, "find_spec", lambda name: None if name == "course.grading" else True)
    assert lab.student_default()
    folder = lab.student_config(tmp_path / "settings")
    env = lab.environment("t", base={"PATH": "/usr/bin", "JUPYTER_CONFIG_PATH": "/elsewhere"}, config=folder)
    assert env["JUPYTER_CONFIG_PATH"] == f"{folder}:/elsewhere"


def test_the_token_travels_in_the_environment_not_on_the_command_line():
    env = lab.environment("sekrit", base={"PATH": "/usr/bin"})
    assert env["JUPYTER_TOKEN"] == "sekrit"
    assert not any("sekrit" in part for part in lab.command(ROOT, "127.0.0.1", 8888))


def test_the_venv_leads_path_and_fast_mode_is_only_on_when_asked():
    env = lab.environment("t", base={"PATH": "/usr/bin"})
    assert env["PATH"].split(":")[0] == str(Path(sys.executable).parent)
    assert "COURSE_FAST" not in env
    assert lab.environment("t", fast=True, base={})["COURSE_FAST"] == "1"


def test_free_port_keeps_the_preferred_port_and_moves_on_when_it_is_taken():
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        other = lab.free_port(busy)
        assert other != busy and other > 0
    assert lab.free_port(other) == other


def test_the_url_carries_the_token():
    assert lab.lab_url("127.0.0.1", 8888, "abc") == "http://127.0.0.1:8888/lab?token=abc"
    text = lab.banner("http://127.0.0.1:8888/lab?token=abc", ROOT)
    assert "    http://127.0.0.1:8888/lab?token=abc" in text.splitlines()
    assert "Ctrl+C" in text and "Formgrader" in text and "Validate" in text


def test_a_browser_is_only_opened_where_one_can_appear(monkeypatch):
    monkeypatch.setattr(lab.sys, "platform", "linux")
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert not lab.has_display()
    monkeypatch.setenv("DISPLAY", ":0")
    assert lab.has_display()


def test_main_refuses_a_folder_that_is_not_a_course(tmp_path, capsys):
    assert lab.main(["--root", str(tmp_path), "--no-browser"]) == 2
    assert "nbgrader_config.py" in capsys.readouterr().err


def test_main_says_what_to_run_when_this_python_lacks_jupyterlab(monkeypatch, capsys):
    monkeypatch.setattr(lab, "missing_requirements", lambda: ["jupyterlab", "nbgrader"])
    assert lab.main(["--no-browser"]) == 2
    message = capsys.readouterr().err
    assert "make lab" in message and "jupyterlab" in message


class _FakeLab(http.server.BaseHTTPRequestHandler):
    """Answers like a JupyterLab whose nbgrader parts are missing or disabled."""

    pages = {}
    statuses = {}

    def do_GET(self):
        path = self.path.split("?")[0]
        body = self.pages.get(path)
        self.send_response(self.statuses.get(path, 200 if body is not None else 404))
        self.end_headers()
        self.wfile.write((body or "").encode())

    def log_message(self, *args):
        pass


def _page(config: dict) -> str:
    data = json.dumps(config).replace('"', "&quot;")
    return f'<html><script id="jupyter-config-data" type="application/json">{data}</script></html>'


@pytest.fixture
def fake_lab():
    _FakeLab.pages, _FakeLab.statuses = {}, {}
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _FakeLab)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_extension_problems_name_what_is_missing(fake_lab):
    _FakeLab.pages = {"/lab": _page({"federated_extensions": [{"name": "@jupyter-widgets/jupyterlab-manager"}],
                                     "disabledExtensions": []})}
    problems = lab.extension_problems("127.0.0.1", fake_lab, "t")
    assert any("/formgrader" in p for p in problems)
    assert any("@jupyter/nbgrader" in p for p in problems)


def test_extension_problems_notice_disabled_nbgrader_parts(fake_lab):
    _FakeLab.pages = {"/formgrader": "ok",
                      "/lab": _page({"federated_extensions": [{"name": "@jupyter/nbgrader"}],
                                     "disabledExtensions": ["@jupyter/nbgrader:formgrader"]})}
    problems = lab.extension_problems("127.0.0.1", fake_lab, "t")
    assert len(problems) == 1 and "@jupyter/nbgrader:formgrader" in problems[0]


def test_extension_problems_notice_instructor_tools_or_news_in_a_students_lab(fake_lab):
    _FakeLab.pages = {"/formgrader": "ok",
                      "/lab": _page({"federated_extensions": [{"name": "@jupyter/nbgrader"}],
                                     "disabledExtensions": ["@jupyter/nbgrader:formgrader"]})}
    problems = lab.extension_problems("127.0.0.1", fake_lab, "t", student=True)
    assert any("formgrader answers" in p for p in problems)
    assert any("create-assignment" in p and "announcements" in p for p in problems)
    _FakeLab.pages = {"/lab": _page({"federated_extensions": [{"name": "@jupyter/nbgrader"}],
                                     "disabledExtensions": list(lab.STUDENT_LAB_OFF)})}
    assert lab.extension_problems("127.0.0.1", fake_lab, "t", student=True) == []


def test_extension_problems_are_empty_when_everything_is_there(fake_lab):
    _FakeLab.pages = {"/formgrader": "ok", "/lab": _page({"federated_extensions": [{"name": "@jupyter/nbgrader"}]})}
    assert lab.extension_problems("127.0.0.1", fake_lab, "t") == []


def test_a_server_that_refuses_the_token_is_reported_at_once(fake_lab):
    _FakeLab.statuses = {"/api/status": 403}

    class Running:
        returncode = None

        def poll(self):
            return None

    started = time.monotonic()
    with pytest.raises(lab.LabError, match="token"):
        lab.wait_until_ready(Running(), "127.0.0.1", fake_lab, "t", timeout=60)
    assert time.monotonic() - started < 30


@pytest.mark.parametrize("role", ["--instructor", "--student"])
def test_make_lab_prints_a_working_url_and_ctrl_c_stops_the_server(tmp_path, role):
    """The real thing, without a browser: start, read the URL, ask the server, press Ctrl+C.
    (The browser tests stop their server with SIGTERM.) A student's lab has no formgrader, no Create
    Assignment and no news pop-up."""
    course = tmp_path / "course"
    course.mkdir()
    (course / "nbgrader_config.py").write_text((ROOT / "nbgrader_config.py").read_text())
    env = lab.environment("unused", base=dict(os.environ))
    env.pop("JUPYTER_TOKEN")
    for variable in ("JUPYTER_CONFIG_DIR", "JUPYTERLAB_WORKSPACES_DIR", "JUPYTER_RUNTIME_DIR"):
        env[variable] = str(tmp_path / variable.lower())
    log = tmp_path / "lab.log"
    with open(log, "w") as handle:
        process = subprocess.Popen([sys.executable, "-m", "course.commands.lab", "--root", str(course), "--port", "0",
                                    "--no-browser", role], env=env, stdout=handle, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        found = None
        while found is None and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.5)
            found = re.search(r"^\s+(http://127\.0\.0\.1:(\d+)/lab\?token=(\w+))$", log.read_text(), re.MULTILINE)
        assert found, f"no URL printed:\n{log.read_text()[-3000:]}"
        url, port, token = found.groups()
        with urllib.request.urlopen(url, timeout=30) as response:
            page = response.read().decode()
            assert response.status == 200 and "@jupyter/nbgrader" in page
        assert "warning:" not in log.read_text(), log.read_text()
        disabled = set(lab.page_config(page)["disabledExtensions"])
        formgrader = lab._get(f"http://127.0.0.1:{port}/formgrader/api/assignments", token)[0]
        if role == "--student":
            assert formgrader == 404 and set(lab.STUDENT_LAB_OFF) <= disabled, (formgrader, disabled)
            assert "@jupyterlab/apputils-extension:announcements" in lab.STUDENT_LAB_OFF
            assert "Formgrader" not in log.read_text()
        else:
            assert formgrader == 200 and not disabled & set(lab.STUDENT_LAB_OFF), (formgrader, disabled)
    finally:
        process.send_signal(signal.SIGINT)
        code = process.wait(90)
    assert code == 0, log.read_text()[-3000:]
    assert "Shutting down" in log.read_text()


# --- a student's first five minutes ---------------------------------------------------------------

def _setup_cells() -> list:
    """The first code cell of every released notebook: what a student runs first."""
    cells = []
    for path in sorted((ROOT / "release").glob("*/*.ipynb")):
        notebook = nbformat.read(str(path), as_version=4)
        cells.append((path.parent.name, next(c.source for c in notebook.cells if c.cell_type == "code")))
    return cells


def _execute(cells: list, folder: Path, kernel: str = "python3"):
    from nbclient import NotebookClient

    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in cells])
    NotebookClient(notebook, kernel_name=kernel, allow_errors=True, timeout=180,
                   resources={"metadata": {"path": str(folder)}}).execute()
    return notebook


def _error(cell) -> dict:
    errors = [o for o in cell.outputs if o.output_type == "error"]
    assert errors, f"expected an error, got {cell.outputs}"
    error = errors[0]
    return {"ename": error.ename, "evalue": error.evalue,
            "text": ANSI.sub("", "\n".join(error.traceback))}


def test_missing_data_shows_as_one_short_message_not_a_traceback(tmp_path):
    setup = _setup_cells()[0][1]
    missing = (f"from course import data\n"
               f"data.ensure_fashion_mnist(root=r'{tmp_path / 'no-data'}', debian_dir=r'{tmp_path / 'no-debian'}', "
               f"download=False)")
    notebook = _execute([setup, missing, "1 / 0"], tmp_path)
    assert not any(o.output_type == "error" for o in notebook.cells[0].outputs), notebook.cells[0].outputs
    shown = _error(notebook.cells[1])
    assert shown["ename"] == "DataUnavailableError"
    assert shown["text"].startswith("DataUnavailableError: Fashion-MNIST is not available")
    assert "make data" in shown["text"]
    assert "Traceback" not in shown["text"] and "File " not in shown["text"] and "---->" not in shown["text"]
    assert len(shown["text"].splitlines()) <= 8, shown["text"]
    # Only the course's own setup errors are shortened: a bug in a student's code keeps its traceback.
    assert "Traceback" in _error(notebook.cells[2])["text"]


@pytest.fixture
def python_without_course(tmp_path, monkeypatch):
    """A Python with Jupyter and every library, but without the `course` package: the venv's
    site-packages joined by a plain path entry, so the editable install's finder never loads."""
    venv = tmp_path / "no-course-venv"
    subprocess.run([getattr(sys, "_base_executable", sys.executable), "-m", "venv", "--without-pip", str(venv)],
                   check=True)
    python = venv / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    main_site = next(p for p in sys.path if p.endswith("site-packages") and Path(p).is_dir())
    (Path(site) / "course_libraries.pth").write_text(main_site + "\n")
    spec = tmp_path / "share" / "jupyter" / "kernels" / "nocourse"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python without the course", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "share" / "jupyter"))
    monkeypatch.delenv("PYTHONPATH", raising=False)
    return "nocourse"


def test_a_python_without_course_is_told_to_run_make_lab(python_without_course, tmp_path):
    folder = tmp_path / "Downloads"  # a notebook saved outside the course folder
    folder.mkdir()
    setups = _setup_cells()
    check = "import importlib.util, ipykernel\nprint(importlib.util.find_spec('course'))"
    notebook = _execute([check] + [source for _, source in setups], folder, kernel=python_without_course)
    assert "None" in "".join(o.get("text", "") for o in notebook.cells[0].outputs), "course is importable"
    for (assignment, _), cell in zip(setups, notebook.cells[1:]):
        shown = _error(cell)
        assert shown["ename"] == "ModuleNotFoundError", assignment
        assert "make lab" in shown["evalue"], f"{assignment}: the message must say what to run"
        assert "During handling" not in shown["text"], f"{assignment}: the original ImportError is shown too"
        assert "site-packages" not in shown["text"], f"{assignment}: library frames in the traceback"
        assert len(shown["text"].splitlines()) <= 15, f"{assignment}:\n{shown['text']}"
