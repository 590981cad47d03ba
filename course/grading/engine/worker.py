"""One grading task, run inside a Dask worker: a submission in, its grades out.

The worker never sees the course gradebook or the course's folders. The
driver (`course.grading.engine.driver`) sends the submission's files as bytes and,
once per assignment, a bundle (nbgrader_config.py, source/<assignment>/, and a
template gradebook that holds only the assignment's definition). Each task
grades in a private scratch course built from that bundle, with nbgrader's own
Autograde converter run in this process (no new Python, so nbgrader, torch and
the course code stay imported between tasks), under the course's configuration:
sandboxed kernels, trusted verdicts, recovery. What comes back is plain data:
the autograded files, every cell's grade and comment, timings, and the log.

The worker needs the course's Python environment (the `course` package and
its pinned dependencies) and the data folder; see docs/grading-at-scale.md.
"""
from __future__ import annotations

import contextlib
import io
import logging
import os
import resource
import shutil
import sqlite3
import tempfile
import time
import traceback
from pathlib import Path

from distributed.diagnostics.plugin import WorkerPlugin

from ..run import nursery, sandbox, stopwatch
from .database import ENV_DB_URL

LOG_FORMAT = "[Autograde] %(levelname)s | %(message)s"
_CACHE: dict = {}


# What a student's kernel and a probe run import, loaded once into the worker's nursery (course/grading/run/nursery.py).
PRELOAD = ["numpy", "scipy.signal", "torch", "torchvision", "matplotlib.pyplot", "IPython", "ipykernel.kernelapp",
           "ipykernel.ipkernel", "ipykernel.debugger", "IPython.core.completerlib", "IPython.extensions.storemagic",
           "ipywidgets", "matplotlib_inline.backend_inline", "course.augment", "course.calls", "course.checks",
           "course.costs", "course.data", "course.explorers", "course.models", "course.plots", "course.synthetic_xo",
           "course.training", "course.xo_reference",
           "course.grading.verdicts.probe_fork"]


SCRATCH_PREFIX = "course-task-"


def _unsynced_scratch(connection, record) -> None:
    """A task's scratch gradebook is read back and deleted within the task: its commits need not wait for the disk
    (nbgrader commits once per cell, about 0.2 s a submission here). Any other database is left as it is."""
    if not isinstance(connection, sqlite3.Connection):
        return
    files = [row[2] for row in connection.execute("PRAGMA database_list") if row[1] == "main"]
    if files and Path(files[0]).parent.name.startswith(SCRATCH_PREFIX):
        connection.execute("PRAGMA synchronous=OFF")
        connection.execute("PRAGMA journal_mode=MEMORY")


def _listen_for_scratch() -> None:
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    if not event.contains(Engine, "connect", _unsynced_scratch):
        event.listen(Engine, "connect", _unsynced_scratch)


def warm_up() -> int:
    """Import what every task needs once per worker process (torch alone takes seconds), and start the nursery
    the sandboxed kernels fork from where it can be had; the worker's pid."""
    import nbgrader.converters  # noqa: F401
    import scipy.signal  # noqa: F401 (the probes' judges: 2.5 s here, else paid by a worker's first task)
    import torch  # noqa: F401

    from ..run import execute  # noqa: F401
    from ..verdicts import trusted  # noqa: F401
    _listen_for_scratch()
    try:
        sandbox.start_nursery(PRELOAD, _threads(None))
    except RuntimeError as error:  # grading goes on, each kernel in a sandbox of its own
        logging.getLogger("course.grading").warning("no nursery on this worker: %s", error)
    return os.getpid()


class WarmUp(WorkerPlugin):
    """Runs `warm_up` in every worker as it starts, a replacement for a lost one included.

    `nice`: on the driver's own machine the workers (and the kernels they start) yield to the driver, whose
    gradebook writes and progress bar would otherwise wait for a core behind the notebooks."""

    def __init__(self, nice: int = 0):
        self.nice = nice

    def setup(self, worker):
        if self.nice:
            os.nice(self.nice)
        warm_up()


def _cpu() -> float:
    """This process's CPU seconds; the sandboxes' come from the stopwatch (a killed kernel is never reaped)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    return own.ru_utime + own.ru_stime


def _bundle_dir(bundle: dict) -> Path:
    """The assignment's bundle unpacked once per worker process and bundle (its bytes, not only its version:
    a rubric's wording or a due date in the template changes what autograde writes, not the version)."""
    key = (bundle["assignment"], bundle["key"])
    if key not in _CACHE:
        folder = Path(tempfile.mkdtemp(prefix=f"course-bundle-{bundle['assignment']}-"))
        for relative, data in bundle["files"].items():
            path = folder / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        (folder / "template.db").write_bytes(bundle["template"])
        _CACHE[key] = folder
    return _CACHE[key]


def _threads(requested: int | None) -> int:
    """Threads a task may use: what the driver asked for, else what this Dask worker was given."""
    if requested:
        return int(requested)
    try:
        from distributed import get_worker

        return max(1, int(get_worker().state.nthreads))
    except (ImportError, ValueError, AttributeError):
        return 1


@contextlib.contextmanager
def _environment(settings: dict, threads: int):
    """The driver's grading settings (COURSE_*) and the thread limits, for one task only."""
    wanted = dict(settings)
    wanted.update({name: str(threads) for name in sandbox.THREAD_VARS})
    saved = {name: os.environ.get(name) for name in [*wanted, ENV_DB_URL]}
    os.environ.update(wanted)
    # The scratch course grades into its own SQLite copy, even where the worker inherited the course's server URL.
    os.environ.pop(ENV_DB_URL, None)
    torch_threads = None
    try:
        import torch

        torch_threads = torch.get_num_threads()
        torch.set_num_threads(threads)
    except ImportError:
        pass
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        if torch_threads is not None:
            import torch

            torch.set_num_threads(torch_threads)


@contextlib.contextmanager
def _captured_log():
    """Everything nbgrader and the course's preprocessors log during the task, as text."""
    from traitlets.log import get_logger

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    logger = logging.getLogger("course.grading.task")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    watched = [logger, get_logger(), logging.getLogger("course.grading")]
    for each in watched:
        each.addHandler(handler)
    try:
        yield logger, stream
    finally:
        for each in watched:
            each.removeHandler(handler)


def _read_back(db_url: str, assignment: str, student: str, graded_dir: Path, has_timestamp: bool) -> dict | None:
    """What nbgrader recorded for the submission in the scratch gradebook (None: nothing at all)."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(db_url) as gradebook:
        try:
            submission = gradebook.find_submission(assignment, student)
        except MissingEntry:
            return None
        notebooks = []
        for notebook in submission.notebooks:
            notebooks.append({
                "name": notebook.name,
                "processed": (graded_dir / f"{notebook.name}.ipynb").is_file(),
                "late_submission_penalty": notebook.late_submission_penalty,
                "grades": {g.name: {"auto_score": g.auto_score, "needs_manual_grade": bool(g.needs_manual_grade),
                                    "cell_type": g.cell.cell_type} for g in notebook.grades},
                "comments": {c.name: c.auto_comment for c in notebook.comments},
            })
        return {"timestamp": submission.timestamp.isoformat() if has_timestamp and submission.timestamp else None,
                "notebooks": notebooks}


def _regular_files(folder: Path) -> dict:
    files = {}
    if folder.is_dir():
        for path in sorted(folder.rglob("*")):
            if path.is_file() and not path.is_symlink():
                files[str(path.relative_to(folder))] = path.read_bytes()
    return files


def grade(task: dict, bundle: dict) -> dict:
    """Grade one submission; never raises for anything the submission does (the problem is in the result)."""
    start, cpu_start = time.perf_counter(), _cpu()
    stopwatch.restart()
    assignment, student = task["assignment"], task["student"]
    result = {"assignment": assignment, "student": student, "hash": task["hash"], "version": bundle["version"],
              "worker_pid": os.getpid(), "worker_job": os.environ.get("SLURM_JOB_ID"), "submission": None,
              "files": {}, "problems": [], "log": ""}
    _listen_for_scratch()
    scratch = Path(tempfile.mkdtemp(prefix=SCRATCH_PREFIX, dir=nursery.lanes()))
    nbgrader_s = 0.0
    try:
        if bundle["assignment"] != assignment:
            raise ValueError(f"the task is for {assignment} but its bundle is {bundle['assignment']}'s")
        with _environment(task.get("env", {}), 1):
            unsafe = sandbox.problem()
        if unsafe:  # e.g. a container without user namespaces: refuse, and the submission waits for a good worker
            result["problems"].append(f"this worker cannot create the sandbox, so it grades nothing: {unsafe}\n"
                                      f"{sandbox.OFF_HINT}")
            result["crashed"] = True
            return _timed(result, start, cpu_start, 0.0)
        source = _bundle_dir(bundle)
        shutil.copy(source / "nbgrader_config.py", scratch / "nbgrader_config.py")
        shutil.copytree(source / "source", scratch / "source")
        shutil.copy(source / "template.db", scratch / "gradebook.db")
        folder = scratch / "submitted" / student / assignment
        folder.mkdir(parents=True)
        for relative, data in task["files"].items():
            path = (folder / relative).resolve()
            if folder.resolve() not in path.parents:
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        db_url = f"sqlite:///{scratch / 'gradebook.db'}"
        with _environment(task.get("env", {}), _threads(task.get("threads"))), _captured_log() as (logger, stream):
            if task.get("extension") is not None:
                from nbgrader.api import Gradebook

                with Gradebook(db_url) as gradebook:
                    gradebook.update_or_create_student(student)
                    gradebook.update_or_create_submission(assignment, student, extension=task["extension"])
            nbgrader_start = time.perf_counter()
            try:
                _autograde(scratch, assignment, student, logger)
            except Exception as error:  # noqa: BLE001 (nbgrader has logged why; the class goes on)
                if type(error).__name__ != "NbGraderException":
                    logger.error("grading stopped: %s", "".join(traceback.format_exception_only(error)).strip())
            nbgrader_s = time.perf_counter() - nbgrader_start
            graded = scratch / "autograded" / student / assignment
            result["submission"] = _read_back(db_url, assignment, student, graded, "timestamp.txt" in task["files"])
            result["files"] = _regular_files(graded)
            result["log"] = stream.getvalue()
        result["problems"] = [line.split("| ", 1)[-1] for line in result["log"].splitlines()
                              if line.startswith("[Autograde] ERROR")]
    except Exception:  # noqa: BLE001 (a bug or a broken worker: report it, the driver decides)
        result["problems"].append("the grading task failed: " + traceback.format_exc(limit=5))
        result["crashed"] = True
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return _timed(result, start, cpu_start, nbgrader_s)


def _timed(result: dict, start: float, cpu_start: float, nbgrader_s: float) -> dict:
    """The task's seconds by phase: `execute` (nbgrader's executor, all of the below but the probes),
    `startup` (kernel launch until ready), `cells` (the notebook as the
    grader waited for it; `code` is the kernel's own time in the cells), `probes` (the trusted verdict's
    sandboxed run; `probe_calls` the calls alone), nbgrader's own steps, and CPU with the sandboxes' share."""
    watch = stopwatch.current
    phases = {name: watch.seconds.get(name, 0.0) for name in ("execute", "startup", "cells", "code", "probes",
                                                             "probe_calls")}
    own_cpu = _cpu() - cpu_start
    result["timing"] = {"task_s": time.perf_counter() - start, "nbgrader_s": nbgrader_s,
                        **{f"{name}_s": seconds for name, seconds in phases.items()},
                        "nbgrader_own_s": max(0.0, nbgrader_s - phases["startup"] - phases["cells"] - phases["probes"]),
                        "cpu_s": own_cpu + watch.sandbox_cpu_s, "sandbox_cpu_s": watch.sandbox_cpu_s,
                        "waits": list(watch.waits), "stalls": watch.stalls()}
    return result


def _autograde(scratch: Path, assignment: str, student: str, logger: logging.Logger) -> None:
    """`nbgrader autograde ASSIGNMENT --student STUDENT --force` in the scratch course, in this process."""
    from nbgrader.converters import Autograde
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(scratch)).load_config()
    config.CourseDirectory.root = str(scratch)
    config.CourseDirectory.assignment_id = assignment
    config.CourseDirectory.student_id = student
    config.BaseConverter.force = True
    coursedir = CourseDirectory(config=config, log=logger)
    Autograde(coursedir=coursedir, config=config, log=logger).start()
