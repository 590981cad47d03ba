"""Grade a whole class in parallel on Dask: resumable, incremental, with one progress bar.

nbgrader grades one submission after another, and every step writes to the
gradebook, which SQLite lets only one writer touch. So the work is split:

* the driver (this module) finds the submissions, hashes each one, skips
  those already graded with the same content and course version, and sends
  the rest to Dask, one task per (student, assignment), longest assignments
  first so that the last minutes are not spent on one slow notebook;
* each task (`course.grading.engine.worker.grade`) grades its submission in a
  private scratch course with the course's own nbgrader configuration and
  returns plain data;
* the driver alone writes results (`course.grading.engine.ledger`), each in one
  transaction, so a crash loses at most the tasks in flight, and a rerun
  picks up where the last one stopped.

The workers are a local cluster, one single-threaded process per core, unless
COURSE_SCHEDULER or COURSE_CLUSTER=slurm says otherwise (course.grading.engine.clusters).
See docs/grading-at-scale.md.
"""
from __future__ import annotations

import ast
import functools
import hashlib
import json
import os
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ... import paths
from ...paths import PROJECT_ROOT
from ..verdicts import catalogues, rubrics
from . import clusters, database, penalties, worker
from . import ledger as ledger_module

ENV_THREADS = "COURSE_TASK_THREADS"
# Grading settings that follow each task to its worker; paths, cluster settings and the gradebook are not its own.
NOT_SENT = {*clusters.SETTINGS, "COURSE_DATA", "COURSE_ROOT", database.ENV_DB_URL}
# The test catalogues beside a notebook are not part of grading: editing them is no new course version.
BUNDLE_SKIP = {".ipynb_checkpoints", "__pycache__", *catalogues.FILES}
# Sent to the workers (autograde shows the rubrics), but only a presentation: not part of the course version.
NOT_VERSIONED = {rubrics.RUBRICS_FILE}
# The code that runs while a submission is autograded, relative to the course package: its edits can change a score.
GRADER_CODE = ("*.py", "*.json", "grading/run/*.py", "grading/verdicts/*.py", "grading/engine/worker.py")
MAX_SUBMISSION_BYTES = 256 * 1024 * 1024


@dataclass
class Submission:
    assignment: str
    student: str
    files: dict
    hash: str
    too_big: bool = False


@dataclass
class Report:
    """What a grading run did: counts, reasons, and the figures the summary line and the benchmark print."""

    graded: int = 0
    skipped: int = 0
    failed: list = field(default_factory=list)     # (assignment, student, reason): not graded, retried next run
    problems: list = field(default_factory=list)   # (assignment, student, reason): graded, scores what it earned
    logs: dict = field(default_factory=dict)       # (assignment, student) -> the task's grading log
    timings: list = field(default_factory=list)    # one dict per graded task
    write_seconds: list = field(default_factory=list)
    wall_s: float = 0.0
    workers: int = 0
    first_worker_s: float | None = None  # batch-job workers: seconds until the first one joined
    stopped: bool = False
    penalties_recomputed: int = 0  # skipped submissions whose late penalty was recomputed (late policy, due date)
    penalties_changed: int = 0     # of those, the ones whose penalty is now another
    rubrics_refreshed: int = 0     # skipped submissions whose graded notebooks got a rubric's new wording

    @property
    def cpu_s(self) -> float:
        return sum(t["cpu_s"] for t in self.timings)

    @property
    def stalls(self) -> list:
        """(assignment, student, cell index, seconds) for each pause of over 5 s after a cell's reply."""
        return [(t["assignment"], t["student"], cell, wait) for t in self.timings for cell, wait in t.get("stalls", ())]

    def summary(self) -> str:
        rate = self.graded / (self.wall_s / 60) if self.wall_s > 0 else 0.0
        failed = len(self.failed) + len(self.problems)
        line = (f"graded {self.graded}, skipped {self.skipped} (unchanged), failed {failed}, "
                f"wall {self.wall_s:.1f} s, CPU {self.cpu_s:.1f} s (sandboxes included), "
                f"{rate:.1f} submissions/min on {self.workers} workers")
        if self.stalls:
            line += f"; {len(self.stalls)} stall(s) after a cell's reply, the longest {max(s[3] for s in self.stalls):.0f} s"
        if self.penalties_recomputed:
            line += (f"; late penalty recomputed for {self.penalties_recomputed} (changed for "
                     f"{self.penalties_changed}), not run again")
        if self.rubrics_refreshed:
            line += f"; rubrics rewritten in {self.rubrics_refreshed}"
        return line + (" -- STOPPED: rerun to resume" if self.stopped else "")

    def reasons(self) -> list[str]:
        return [f"{a}: {s}: {why}" for a, s, why in self.problems + self.failed]


def content_hash(files: dict) -> str:
    digest = hashlib.sha256()
    for relative in sorted(files):
        digest.update(relative.encode() + b"\0" + hashlib.sha256(files[relative]).digest())
    return digest.hexdigest()


def read_submission(folder: Path, assignment: str, student: str) -> Submission:
    """The submission folder's regular files as bytes (links are not followed: they point at the driver's disk)."""
    files, size = {}, 0
    for path in sorted(folder.rglob("*")):
        if path.is_symlink() or not path.is_file() or ".ipynb_checkpoints" in path.parts:
            continue
        size += path.stat().st_size
        if size > MAX_SUBMISSION_BYTES:
            return Submission(assignment, student, {}, content_hash(files), too_big=True)
        files[str(path.relative_to(folder))] = path.read_bytes()
    return Submission(assignment, student, files, content_hash(files))


def discover(root: Path, assignments, students=None) -> list[Submission]:
    found = []
    for assignment in assignments:
        for folder in sorted((Path(root) / "submitted").glob(f"*/{assignment}")):
            if folder.is_dir() and (students is None or folder.parent.name in students):
                found.append(read_submission(folder, assignment, folder.parent.name))
    return found


def bundle(root: Path, assignment: str) -> dict:
    """What a worker needs of the course to grade this assignment, and the versions it defines.

    `version` (the course version) covers only what can change an autograded score: the assignment's notebook
    (its code and grading metadata, not the wording of its markdown), probes and other files, nbgrader_config.py
    less its late policy, and the grader's code. `rubrics` covers rubrics.py, whose text autograde only shows;
    the late policy and due dates have a version per submission (`penalties.version`). The template gradebook
    joins it only when a notebook is to be graded (`_with_template`): making one costs seconds."""
    root = Path(root)
    files = {"nbgrader_config.py": (root / "nbgrader_config.py").read_bytes()}
    source = root / "source" / assignment
    for path in sorted(source.rglob("*")):
        if path.is_file() and not BUNDLE_SKIP & set(path.relative_to(source).parts):
            files[str(path.relative_to(root))] = path.read_bytes()
    late = penalties.sections(penalties.policy(root))
    versioned = {name: _scored_part(name, data, late) for name, data in files.items()
                 if Path(name).name not in NOT_VERSIONED}
    version = hashlib.sha256(f"{content_hash(versioned)}\0code:{_grader_code()}".encode()).hexdigest()
    shown = hashlib.sha256(files.get(str((source / rubrics.RUBRICS_FILE).relative_to(root)), b"")).hexdigest()
    return {"assignment": assignment, "version": version, "rubrics": shown, "files": files}


def _with_template(found: dict, template: bytes) -> dict:
    """The bundle a worker gets: with the template gradebook, and a `key` naming its exact bytes for the workers'
    cache (a rubric's wording, or a due date in the template, changes what autograde writes, not the version)."""
    key = hashlib.sha256(f"{content_hash(found['files'])}\0{hashlib.sha256(template).hexdigest()}".encode())
    return dict(found, template=template, key=key.hexdigest())


def _scored_part(name: str, data: bytes, late: set) -> bytes:
    """The part of a bundled file that can change an autograded score."""
    if name == "nbgrader_config.py":
        return _config_without(data, late)
    if name.endswith(".ipynb"):
        try:
            notebook = json.loads(data)
            for cell in notebook["cells"]:
                if cell.get("cell_type") == "markdown":  # instructions and model answers: never run, never scored
                    cell["source"] = ""
            return json.dumps(notebook, sort_keys=True).encode()
        except (ValueError, KeyError, TypeError, AttributeError):
            return data
    return data


def _config_without(data: bytes, sections: set) -> bytes:
    """nbgrader_config.py as Python reads it (comments, docstring and layout aside), less the top-level
    statements `c.<section>.<name> = ...` of `sections`."""
    try:
        tree = ast.parse(data)
    except SyntaxError:
        return data

    def kept(node) -> bool:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            return False
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        return not any(isinstance(t, ast.Attribute) and isinstance(t.value, ast.Attribute)
                       and isinstance(t.value.value, ast.Name) and t.value.value.id == "c" and t.value.attr in sections
                       for t in targets)

    tree.body = [node for node in tree.body if kept(node)]
    return ast.dump(tree).encode()


@functools.cache
def _grader_code() -> str:
    package = Path(__file__).resolve().parents[2]
    files = {str(path.relative_to(package)): path.read_bytes()
             for pattern in GRADER_CODE for path in package.glob(pattern) if path.is_file()}
    return content_hash(files)


def _estimate(root: Path, assignment: str, history: dict) -> float:
    """Seconds a task of this assignment takes: measured in earlier runs, else its number of code cells."""
    if assignment in history:
        return history[assignment]
    import nbformat

    notebook = nbformat.read(str(Path(root) / "source" / assignment / f"{assignment}.ipynb"), as_version=4)
    return sum(cell.cell_type == "code" for cell in notebook.cells)


def client(workers: int | None = None):
    """A Dask client on the cluster this process keeps (COURSE_SCHEDULER's, else a local one)."""
    return clusters.connect(workers).client


close_clients = clusters.close_all


def _settings() -> dict:
    return {k: v for k, v in os.environ.items() if k.startswith("COURSE_") and k not in NOT_SENT}


def _clean_partials(root: Path) -> None:
    """Folders a killed driver left half-written in autograded/ (the real folder was never replaced)."""
    for leftover in (Path(root) / "autograded").glob("*/.*.partial-*"):
        shutil.rmtree(leftover, ignore_errors=True)
    for leftover in (Path(root) / "autograded").glob("*/.*.old-*"):
        shutil.rmtree(leftover, ignore_errors=True)


def grade(root: Path = PROJECT_ROOT, assignments=None, students=None, *, force: bool = False,
          dask_client=None, progress: bool = False, say: Callable = lambda line: None,
          on_result: Callable = lambda result: None) -> Report:
    """Grade every submission of `assignments` in `root` (only `students`' if given) that needs it.

    A submission is graded when its content or its course version changed since it was last recorded,
    or always with `force` (naming students forces their regrade too).
    """
    from distributed import as_completed

    root = Path(root)
    assignments = paths.assignments(root) if assignments is None else assignments
    report = Report()
    start = time.perf_counter()
    students = set(students) if students else None
    force = force or students is not None
    _clean_partials(root)
    with ledger_module.Ledger(root) as book:
        recorded, history = book.recorded(), book.task_seconds()
        policy = penalties.policy(root)
        bundles, todo, owed, penalised, shown = {}, [], {}, [], []
        for submission in discover(root, assignments, students):
            a, where = submission.assignment, (submission.assignment, submission.student)
            if a not in bundles:
                bundles[a] = bundle(root, a)
            owed[where] = penalties.version(policy, book.duedate(a), book.extension(*where))
            earlier = recorded.get(where)
            if not force and earlier and earlier[:2] == (submission.hash, bundles[a]["version"]):
                report.skipped += 1
                if earlier[2] != owed[where]:
                    penalised.append(where)
                if earlier[3] != bundles[a]["rubrics"]:
                    shown.append(where)
            elif submission.too_big:
                report.failed.append((a, submission.student, f"the submission is larger than "
                                      f"{MAX_SUBMISSION_BYTES // 2**20} MiB: not graded"))
            else:
                todo.append(submission)
        _refresh(book, policy, bundles, owed, penalised, shown, report, say)
        for a in assignments:
            count = sum(s.assignment == a for s in todo)
            if count:
                say(f"autograding {a}: {count} submission(s)...")
        estimates = {a: _estimate(root, a, history) for a in bundles}
        todo.sort(key=lambda s: (-estimates[s.assignment], s.assignment, s.student))
        if not todo:
            report.wall_s = time.perf_counter() - start
            return report
        connection = clusters.Connection(dask_client) if dask_client else clusters.connect(pending=len(todo))
        dask = connection.client
        if connection.per_run:  # workers that are batch jobs: bundles can be scattered once the first one is up
            report.first_worker_s = clusters.first_worker(connection)
        report.workers = _workers(dask)  # then the most seen at once: batch jobs may never all start
        # In a list: scattering a dict would make each of its keys ("files", "version", ...) one future,
        # named after the key, so the second assignment's bundle would share the first one's keys.
        template = ledger_module.template(root)
        scattered = {a: dask.scatter([_with_template(b, template)], broadcast=True, hash=False)[0]
                     for a, b in bundles.items() if any(s.assignment == a for s in todo)}
        settings, threads = _settings(), os.environ.get(ENV_THREADS)
        window = max(4, 3 * max(report.workers, connection.planned_workers, 1))
        queue = list(reversed(todo))
        written = set()
        bar = _bar(len(todo), progress)
        bar.set_postfix_str(f"failed 0, {report.workers} workers")

        def submit_next(pool):
            submission = queue.pop()
            task = {"assignment": submission.assignment, "student": submission.student, "files": submission.files,
                    "hash": submission.hash, "env": settings, "threads": threads,
                    "extension": book.extension(submission.assignment, submission.student)}
            key = f"grade-{submission.assignment}-{submission.student}-{submission.hash[:16]}"
            future = dask.submit(worker.grade, task, scattered[submission.assignment], key=key, pure=False,
                                 retries=1)
            future.course_submission = submission
            pool.add(future)

        pool = as_completed(loop=dask.loop)
        try:
            while queue and pool.count() < window:
                submit_next(pool)
            clusters.adapt(connection)
            for future in pool:
                submission = future.course_submission
                try:
                    result = future.result()
                except Exception as error:  # noqa: BLE001 (a worker lost for good: this one waits for the next run)
                    report.failed.append((submission.assignment, submission.student,
                                          f"grading failed on the cluster: {type(error).__name__}: {error}"))
                    result = None
                if result is not None and result["version"] != bundles[submission.assignment]["version"]:
                    report.failed.append((submission.assignment, submission.student,
                                          "graded against another course version: not recorded"))
                elif result is not None:
                    result["penalty_version"] = owed[(submission.assignment, submission.student)]
                    result["rubric_version"] = bundles[submission.assignment]["rubrics"]
                    _collect(book, result, report, written, on_result)
                if queue:
                    submit_next(pool)
                bar.update(1)
                now = _workers(dask)
                report.workers = max(report.workers, now)
                bar.set_postfix_str(f"failed {len(report.failed) + len(report.problems)}, {now} workers", refresh=False)
        except KeyboardInterrupt:
            report.stopped = True
            for future in list(pool.futures):
                future.cancel()
        finally:
            bar.close()
            if connection.per_run:
                connection.close()
            report.write_seconds = list(book.write_seconds)
            report.wall_s = time.perf_counter() - start
    return report


def _refresh(book, policy, bundles: dict, owed: dict, penalised: list, shown: list, report: Report,
             say: Callable) -> None:
    """What a change of the late policy, a due date, an extension or a rubric's wording asks of submissions
    whose notebooks need no new run: their late penalties recomputed, their graded notebooks' rubrics rewritten.
    Neither touches a score, a comment or a manual-grading flag."""
    if penalised:
        say(f"late policy, due date or extension changed: recomputing the late penalty of {len(penalised)} "
            f"submission(s), without running them again...")
    for where in penalised:
        report.penalties_changed += book.recompute_penalty(*where, policy, owed[where])
        report.penalties_recomputed += 1
    if shown:
        say(f"rubric wording changed: rewriting the rubrics in {len(shown)} graded notebook(s)...")
    texts = {}
    for assignment, student in shown:
        if assignment not in texts:
            try:
                texts[assignment] = rubrics.load_rubrics(Path(book.root) / "source" / assignment)
            except Exception as error:  # noqa: BLE001 (the instructor's file: say what is wrong, grade on)
                texts[assignment] = None
                report.failed.append((assignment, "-", f"source/{assignment}/{rubrics.RUBRICS_FILE} cannot be read "
                                      f"({type(error).__name__}: {error}): fix it and run make autograde again"))
        if texts[assignment] is not None:
            book.show_rubrics(assignment, student, texts[assignment], bundles[assignment]["rubrics"])
            report.rubrics_refreshed += 1


def _workers(dask) -> int:
    return len(dask.scheduler_info(n_workers=-1)["workers"]) if hasattr(dask, "scheduler_info") else 0


def _collect(book, result: dict, report: Report, written: set, on_result: Callable) -> None:
    """One finished task: written once (a twice-delivered result is dropped), counted, its reasons kept."""
    key = (result["assignment"], result["student"], result["hash"], result["version"])
    where = (result["assignment"], result["student"])
    report.logs[where] = result["log"]
    if result.get("crashed"):
        report.failed.extend((*where, line) for line in result["problems"])
        return
    if key in written:
        return
    book.write(result)
    written.add(key)
    report.graded += 1
    report.timings.append(dict(result["timing"], assignment=result["assignment"], student=result["student"],
                               worker_pid=result["worker_pid"], worker_job=result.get("worker_job"),
                               write_s=book.write_seconds[-1]))
    report.problems.extend((*where, line) for line in result["problems"])
    on_result(result)


def _bar(total: int, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, desc="graded", unit="submission", file=sys.stderr, disable=not enabled,
                dynamic_ncols=True, bar_format="{desc} {n}/{total} |{bar}| {postfix} [{elapsed}<{remaining}]")
