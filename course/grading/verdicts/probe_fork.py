"""The kernel's half of the trusted checks: call the probes in a fork of the student's kernel.

Just before each probed test cell, `course.grading.verdicts.probing.ProbingExecute` sends the kernel a
silent request, `run(job)`. The kernel forks; the copy, as the kernel stood after the student's cells,
calls the instructor's probes on the grader's hidden inputs (`probe_runner.call_probe`: builtins, kit and
call watch taken before any student code ran) and writes plain records to a pipe. The kernel waits for it,
kills it, and keeps the records for the grader, which reads them back (`records()`) and judges them
outside the sandbox. As with the separate probe process, whatever student code does here can change only
its own answers; the cells are not run a second time.

The separate process never ran the test cells, so their names (a visible test's helper, a hidden test's
reference) never reached a probe. Here they ran in the kernel: `watch_tests` notes which cells are tests,
and the copy puts back what each test cell bound before it calls the probes, unless a student's cell bound
that name again since.
"""
from __future__ import annotations

import ast
import hashlib
import json
import os
import select
import signal
import sys
import time

from . import probe_runner

MAX_BYTES = 64 * 1024 * 1024
_MISSING = object()
_kept = ""
_tests: set[str] = set()
_before: dict | None = None
_bound_by_tests: dict[str, tuple] = {}  # name -> (what a test cell bound, what it replaced)


def digest(source: str) -> str:
    return hashlib.sha256(source.encode()).hexdigest()


def _shell():
    from IPython import get_ipython

    return get_ipython()


def watch_tests(digests: list[str]) -> None:
    """Before any student cell: the test cells' digests, and hooks that note the names each of them binds."""
    _tests.update(digests)
    events = _shell().events
    events.register("pre_run_cell", _before_cell)
    events.register("post_run_cell", _after_cell)


def _bound_by(source: str) -> set[str]:
    """Every name a cell's code may bind or delete (generously: a name bound inside a function counts too)."""
    try:
        tree = ast.parse(_shell().transform_cell(source))
    except Exception:  # noqa: BLE001 (code that does not parse binds nothing)
        return set()
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        elif isinstance(node, ast.Global):
            names.update(node.names)
    return names


def _before_cell(info) -> None:
    global _before
    source = info.raw_cell or ""
    if digest(source) in _tests:
        _before = dict(_shell().user_ns)
        return
    _before = None
    for name in _bound_by(source):  # the student bound it again, perhaps to the very same object (an import)
        _bound_by_tests.pop(name, None)


def _after_cell(result) -> None:
    global _before
    if _before is None:
        return
    namespace, before, _before = _shell().user_ns, _before, None
    for name in set(namespace) | set(before):
        now, then = namespace.get(name, _MISSING), before.get(name, _MISSING)
        if now is not then:
            earlier = _bound_by_tests.get(name)
            original = earlier[1] if earlier is not None and earlier[0] is then else then
            _bound_by_tests[name] = (now, original)


def _as_before_the_tests(namespace: dict) -> None:
    """Each name still bound as a test cell left it goes back to what it was before (a student's later binding stays)."""
    for name, (bound, original) in _bound_by_tests.items():
        if namespace.get(name, _MISSING) is bound:
            if original is _MISSING:
                namespace.pop(name, None)
            else:
                namespace[name] = original


def _write_all(fd: int, data: bytes) -> None:
    while data:
        data = data[os.write(fd, data):]


def _quiet_copy() -> None:
    """In the copy: the kernel's streams, display and sockets belong to the kernel, so nothing reaches them."""
    quiet = os.open(os.devnull, os.O_RDWR)
    for target in (0, 1, 2):
        os.dup2(quiet, target)
    sys.stdin = open(os.devnull)
    sys.stdout = sys.stderr = open(os.devnull, "w")
    try:
        shell = _shell()
        if shell is not None:
            shell.display_pub.publish = lambda *args, **kwargs: None
            kernel = getattr(shell, "kernel", None)
            if kernel is not None:
                kernel.session.send = lambda *args, **kwargs: None
    except Exception:  # noqa: BLE001 (a shell the student broke still gets its probes called)
        pass
    if "torch" in sys.modules:  # the kernel's thread pool did not come along with the fork
        sys.modules["torch"].set_num_threads(1)


def _copy(steps: list, fd: int, seconds: int) -> None:
    try:
        _quiet_copy()
        signal.signal(signal.SIGALRM, probe_runner._alarm)
        namespace = _shell().user_ns
        _as_before_the_tests(namespace)
        for step in steps:
            _write_all(fd, (json.dumps(probe_runner.call_probe(step, namespace, seconds)) + "\n").encode())
    finally:
        os._exit(0)


def run(job_text: str) -> None:
    """Call the job's probe steps in a fork of this kernel, waiting at most their time; keep the records."""
    global _kept
    _kept = ""
    job = json.loads(job_text)
    seconds = int(job.get("step_timeout", 60))
    limit = seconds * (len(job["steps"]) + 1) + 5
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:
        os.close(read_end)
        _copy(job["steps"], write_end, seconds)
    os.close(write_end)
    chunks, size, end = [], 0, {"end": "done"}
    deadline = time.monotonic() + limit
    try:
        while size <= MAX_BYTES:
            left = deadline - time.monotonic()
            if left <= 0:
                end = {"end": f"the checking process ran past its {limit} s limit"}
                break
            ready, _, _ = select.select([read_end], [], [], left)
            if ready:
                chunk = os.read(read_end, 1 << 16)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
    finally:
        os.close(read_end)
        os.kill(child, signal.SIGKILL)
        os.waitpid(child, 0)
    _kept = b"".join(chunks)[:MAX_BYTES].decode(errors="replace") + json.dumps(end) + "\n"


def records() -> str:
    """The last run's records, as JSON lines; read by the grader once."""
    global _kept
    kept, _kept = _kept, ""
    return kept
