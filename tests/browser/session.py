"""JupyterLab as a person meets it: started by `python -m course.commands.lab`, driven in headless Chromium.

The server gets private Jupyter config, settings, workspace and runtime folders, so
nothing from the machine's own Jupyter setup changes what the tests see. A failing
test leaves its evidence (screenshots, page HTML, browser console, server log) in
`tests/artifacts/browser/<test name>/`.
"""
import contextlib
import functools
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts" / "browser"

# The banner line `course.commands.lab` prints once the server answers (Jupyter's own log hides the token as "...").
URL_LINE = re.compile(r"^\s+(http://[\w.:\[\]-]+)/lab\?token=(\w+)\s*$", re.MULTILINE)

# The machine is shared and slow: generous limits, in milliseconds for Playwright.
STEP_MS = 90_000
RUN_MS = 420_000

# User settings for the test server: no news pop-up over the page. (Cells keep JupyterLab's
# default windowing: with `windowingMode: none` set here, cells did not run in our tries.)
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                        "checkForUpdates": False},
}


class LabServer:
    """`python -m course.commands.lab --no-browser --fast` on a course folder, with its log in a file."""

    def __init__(self, root: Path, workdir: Path):
        self.root = Path(root)
        self.workdir = Path(workdir)
        self.log_path = self.workdir / "server.log"
        self.process = None
        self.base = self.token = None

    def environment(self) -> dict:
        env = dict(os.environ)
        for variable, folder in (("JUPYTER_CONFIG_DIR", "config"), ("JUPYTERLAB_SETTINGS_DIR", "settings"),
                                 ("JUPYTERLAB_WORKSPACES_DIR", "workspaces"), ("JUPYTER_RUNTIME_DIR", "runtime")):
            env[variable] = str(self.workdir / folder)
            (self.workdir / folder).mkdir(parents=True, exist_ok=True)
        for name, values in LAB_SETTINGS.items():
            path = self.workdir / "settings" / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values))
        env.pop("JUPYTER_TOKEN", None)  # course.commands.lab makes a fresh one and must print it
        env.pop("NBGRADER_EXECUTION", None)
        return env

    def start(self, timeout: float = 300.0) -> "LabServer":
        self.workdir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "course.commands.lab", "--root", str(self.root), "--port", "0", "--no-browser", "--fast"],
            cwd=self.root, env=self.environment(), stdin=subprocess.DEVNULL, stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = URL_LINE.search(self.log_path.read_text(errors="replace"))
            if found:
                self.base, self.token = found.group(1), found.group(2)
                return self
            if self.process.poll() is not None:
                break
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"`python -m course.commands.lab` printed no URL (exit code {self.process.returncode}); "
                           f"server log {self.log_path}:\n{self.log_tail()}")

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def url(self, path: str = "lab") -> str:
        return f"{self.base}/{path.lstrip('/')}"

    def api(self, path: str, method: str = "GET", token: bool = True):
        """Call the REST API; returns (status, parsed JSON or None)."""
        headers = {"Authorization": f"token {self.token}"} if token else {}
        request = urllib.request.Request(self.url(path), method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                body = response.read()
                return response.status, (json.loads(body) if body.strip() else None)
        except urllib.error.HTTPError as error:
            return error.code, None

    def shut_down_kernels(self) -> None:
        """Frees the CPU between tests: each test's notebook kernel stops when the test ends."""
        status, sessions = self.api("api/sessions")
        for session in sessions or []:
            self.api(f"api/sessions/{session['id']}", method="DELETE")

    def _server_pids(self) -> list:
        pids = []
        for info in (self.workdir / "runtime").glob("jpserver-*.json"):
            try:
                pids.append(int(json.loads(info.read_text())["pid"]))
            except (OSError, ValueError, KeyError):
                pass
        return pids

    def stop(self) -> None:
        """SIGTERM to course.commands.lab, which stops Jupyter cleanly; kill whatever is left after that."""
        if self.process is None:
            return
        leftovers = self._server_pids()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for pid in leftovers:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def launch_chromium(playwright):
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)


class LabPage:
    """One test's browser tab on the server, logged in with the printed token."""

    def __init__(self, context, server: LabServer, name: str):
        self.context, self.server, self.name = context, server, name
        self.console = []
        self.page = context.new_page()
        self.page.set_default_timeout(STEP_MS)
        self.page.on("console", lambda message: self.console.append(f"[{message.type}] {message.text}"))
        self.page.on("pageerror", lambda error: self.console.append(f"[pageerror] {error}"))

    # --- JupyterLab -----------------------------------------------------------------------------------
    def open_lab(self, path: str = "") -> None:
        """A clean workspace (`reset`), so tabs from an earlier test do not come back."""
        target = f"lab/tree/{path}" if path else "lab"
        self.page.goto(self.server.url(f"{target}?token={self.server.token}&reset"))
        self.page.locator("#jp-MainMenu").wait_for()

    def menu(self, menu: str, item: str) -> None:
        self.page.locator("#jp-MainMenu .lm-MenuBar-itemLabel", has_text=menu).first.click()
        self.page.get_by_role("menuitem", name=item, exact=True).click()

    def menu_items(self, menu: str) -> list:
        self.page.locator("#jp-MainMenu .lm-MenuBar-itemLabel", has_text=menu).first.click()
        items = self.page.locator(".lm-Menu:visible .lm-Menu-itemLabel").all_text_contents()
        self.page.keyboard.press("Escape")
        return items

    def open_notebook(self, path: str, cells: int) -> "NotebookView":
        self.open_lab(path)
        view = NotebookView(self.page, cells)
        view.wait_until_ready()
        return view

    # --- failure evidence -----------------------------------------------------------------------------
    def save_evidence(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        for number, page in enumerate(self.context.pages, 1):
            try:
                page.screenshot(path=str(folder / f"screenshot-{number}.png"), full_page=True, timeout=20_000)
                (folder / f"page-{number}.html").write_text(page.content())
                for inner, frame in enumerate(page.frames[1:], 1):  # formgrader lives in an iframe
                    (folder / f"page-{number}-frame-{inner}.html").write_text(f"<!-- {frame.url} -->\n"
                                                                              + frame.content())
            except Exception as error:  # a crashed page must not hide the test's own failure
                (folder / f"screenshot-{number}.error.txt").write_text(repr(error))
        (folder / "console.log").write_text("\n".join(self.console))


class NotebookView:
    """The notebook in the visible JupyterLab tab, addressed by cell index as in the .ipynb file."""

    PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"

    def __init__(self, page, cells: int):
        self.page, self.count = page, cells
        self.panel = page.locator(self.PANEL)
        self.cells = self.panel.locator(".jp-Notebook .jp-Cell")

    def wait_until_ready(self) -> None:
        self.page.wait_for_function(
            "([panel, n]) => document.querySelectorAll(panel + ' .jp-Notebook .jp-Cell').length === n",
            arg=[self.PANEL, self.count], timeout=STEP_MS)
        self.page.locator(f"{self.PANEL} .jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for(
            timeout=RUN_MS)

    def type_into(self, index: int, text: str, keystrokes: bool = False) -> None:
        """Replace a cell's text. `keystrokes` types key by key (the editor closes brackets as
        a person sees); otherwise the text arrives in one input event, as when pasting."""
        editor = self.cells.nth(index).locator(".cm-content")
        editor.click()
        self.page.keyboard.press("Control+a")
        self.page.keyboard.press("Delete")
        if keystrokes:
            self.page.keyboard.type(text)
        else:
            self.page.keyboard.insert_text(text)
        self.page.keyboard.press("Escape")

    def write_markdown(self, index: int, text: str) -> None:
        """A written answer: double-click the rendered cell to edit it, then replace its text."""
        self.cells.nth(index).locator(".jp-MarkdownOutput").dblclick()
        self.type_into(index, text)

    def source(self, index: int) -> str:
        lines = self.cells.nth(index).locator(".cm-content .cm-line").all_text_contents()
        return "\n".join(lines)

    def run_cells(self, indices) -> None:
        """Select each cell and press Shift+Enter, as a student steps through a notebook."""
        for index in indices:
            prompt = self.cells.nth(index).locator(".jp-InputPrompt")
            for attempt in range(3):  # a keystroke right after the page opens is sometimes lost
                self.cells.nth(index).locator(".jp-InputArea-editor").click()
                self.page.keyboard.press("Shift+Enter")
                try:
                    self.page.wait_for_function("el => !/^\\[ \\]/.test(el.textContent)",
                                                arg=prompt.element_handle(), timeout=15_000)
                    break
                except Exception:
                    if attempt == 2:
                        raise AssertionError(f"cell {index} did not start running after Shift+Enter") from None
        self.wait_for_execution(indices)

    def wait_for_execution(self, indices=None) -> None:
        """Until the given code cells (all by default) show an execution number instead of [ ] or [*]."""
        self.page.wait_for_function(
            """([panel, wanted]) => {
                const cells = [...document.querySelectorAll(panel + ' .jp-Notebook .jp-Cell')];
                const code = cells.map((cell, i) => [cell, i])
                    .filter(([cell, i]) => cell.classList.contains('jp-CodeCell') && (!wanted || wanted.includes(i)));
                return code.every(([cell]) => /^\\[\\d+\\]/.test(
                    (cell.querySelector('.jp-InputPrompt') || {}).textContent || ''));
            }""", arg=[self.PANEL, list(indices) if indices is not None else None], timeout=RUN_MS)

    def output(self, index: int):
        return self.cells.nth(index).locator(".jp-Cell-outputArea")

    def output_text(self, index: int) -> str:
        return self.output(index).text_content() or ""

    def error_outputs(self) -> list:
        """Text of every error or stderr output in the notebook."""
        found = self.panel.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
        return [text for text in found.all_text_contents()]

    def validate(self):
        """Click nbgrader's Validate button; returns the result dialog."""
        self.panel.locator(".jp-Toolbar .validate-button").click()
        dialog = self.page.locator(".jp-Dialog")
        dialog.get_by_text("Validation Results").wait_for(timeout=RUN_MS)
        return dialog


def keeps_evidence(test):
    """On failure, save screenshots, page HTML, console and server log, and say where in the report.

    The test must take a `lab_page` (a LabPage) argument; the folder is
    tests/artifacts/browser/<test name>/ and is emptied when the test starts.
    """
    @functools.wraps(test)
    def wrapper(*args, **kwargs):
        lab_page = kwargs.get("lab_page") or next(a for a in args if isinstance(a, LabPage))
        folder = ARTIFACTS / re.sub(r"[^\w.-]+", "_", lab_page.name)
        shutil.rmtree(folder, ignore_errors=True)
        try:
            return test(*args, **kwargs)
        except BaseException as error:
            if type(error).__name__ in ("Skipped", "Exit", "KeyboardInterrupt"):
                raise
            try:
                lab_page.save_evidence(folder)
                shutil.copy2(lab_page.server.log_path, folder / "server.log")
                note = f"Browser evidence (screenshots, page HTML, console, server log): {folder}"
            except Exception as problem:
                note = f"Could not save browser evidence to {folder}: {problem!r}"
            error.add_note(note)
            print(note)
            raise
    return wrapper


@contextlib.contextmanager
def timed_into(timings: dict, label: str):
    """Record how long a flow took under `label`, for the timings line a browser module prints at its end."""
    start = time.monotonic()
    try:
        yield
    finally:
        timings[label] = time.monotonic() - start
