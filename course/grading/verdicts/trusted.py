"""Hidden tests whose verdict student code cannot reach.

A hidden test in a notebook runs in the student's kernel, next to the
student's code, which can rebind `np.allclose`, `AssertionError`, the
checker, or IPython's traceback display, and so turn a failure into a pass.
So every graded test cell that has a probe gets a second, trusted verdict:

1. the grader draws hidden inputs (seeded per student from the secret probe
   file, so a re-run gives the same grade);
2. just before that test cell runs, a fork of the student's sandboxed kernel
   calls the student's functions on those inputs (`probing`, `probe_fork`),
   the names earlier test cells bound put back; it reports plain numbers
   (where no kernel forks, a fresh sandboxed Python, `probe_runner`, runs the
   student's code cells up to that test cell and does the same);
3. this process, which no student code ever touches, compares them with
   values it computes itself (scipy, torch).

A cell keeps its points only if both its in-kernel test and the trusted check
pass; a failed trusted check puts an error with the reason at the top of the
cell's outputs, so nbgrader scores it zero and the feedback says why.

Probes are instructor-only files, `source/<assignment>/probes.py`: never
released (nbgrader_config.py ignores them), never copied next to a
submission, invisible inside the sandbox. Each defines `PROBES`, a list of
`Probe`s; see `source/01_convolution/probes.py`.
"""
from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
from nbformat.notebooknode import NotebookNode
from nbgrader import utils
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Integer

from ..run import nursery, sandbox, stopwatch
from .probe import call_problem, load_probes, probes_path, seed_for
from .probe_runner import decode

ERROR_NAME = "HiddenTestFailed"
MAX_RESULTS_BYTES = 64 * 1024 * 1024
MAX_COPIED_FILE = 64 * 1024 * 1024


# ---- running the probes -------------------------------------------------------------------------

def is_test_cell(cell) -> bool:
    return cell.cell_type == "code" and utils.is_grade(cell) and not utils.is_solution(cell)


def plan(nb: NotebookNode, probes: dict, draw: Callable) -> tuple[list, dict]:
    """The sandbox's steps (student cells, then a probe where each probed test cell stands) and inputs."""
    steps, inputs = [], {}
    pending = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        if is_test_cell(cell):
            grade_id = cell.metadata.nbgrader.get("grade_id")
            if grade_id in probes and grade_id not in inputs:
                steps += pending
                pending = []
                inputs[grade_id] = draw(probes[grade_id])
                steps.append(probes[grade_id].step(inputs[grade_id]))
            continue
        pending.append({"cell": index, "source": cell.source})
    return steps, inputs


def _copy_regular_files(source: Path, destination: Path) -> None:
    """The submission folder's plain files (no notebooks, no links, nothing huge)."""
    for folder, dirs, files in os.walk(source):
        relative = Path(folder).relative_to(source)
        for name in files:
            path = Path(folder) / name
            info = path.lstat()
            if not stat.S_ISREG(info.st_mode) or name.endswith(".ipynb") or info.st_size > MAX_COPIED_FILE:
                continue
            (destination / relative).mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, destination / relative / name)
        dirs[:] = [d for d in dirs if not (Path(folder) / d).is_symlink()]


def run_probes(steps: list, workdir: Path, *, step_timeout: int, logger=None) -> tuple[list, str]:
    """Run the steps in a fresh sandboxed Python; the records it wrote, and why it stopped early."""
    scratch = Path(tempfile.mkdtemp(prefix="course-probe-", dir=nursery.lanes()))
    try:
        work = scratch / "work"
        work.mkdir()
        _copy_regular_files(Path(workdir), work)
        job, results = work / ".probe-job.json", work / ".probe-results.jsonl"
        job.write_text(json.dumps({"steps": steps, "step_timeout": step_timeout}))
        results.touch()
        if sandbox.bwrap_path():
            uid = sandbox.sandbox_uid()
            if uid is not None:
                for path in (job, results):
                    os.chown(path, uid, uid)
        env = dict(os.environ, MPLBACKEND="Agg")
        total = step_timeout * (len(steps) + 1) + 60
        finished = sandbox.run([sys.executable, "-I", "-m", "course.grading.verdicts.probe_runner", str(job), str(results)],
                               work, total, env=env, logger=logger,
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        records = []
        with open(results, "rb") as handle:
            for line in handle.read(MAX_RESULTS_BYTES).splitlines():
                try:
                    records.append(json.loads(line))
                except Exception:  # noqa: BLE001 (whatever the sandbox wrote, it is only data)
                    continue
        why = ""
        if finished.returncode == -9:
            why = f"the checking process ran past its {total} s limit"
        elif finished.returncode != 0:
            why = f"the checking process stopped (exit status {finished.returncode})"
        if not any(r.get("ready") for r in records if isinstance(r, dict)):
            err = (finished.stderr or b"")[-2000:].decode(errors="replace")
            raise RuntimeError(f"the sandboxed probe runner did not start: {why}\n{err}")
        return records, why
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def verdicts(records: list, probes: dict, inputs: dict, stopped: str) -> dict:
    """grade_id -> None (right) or the reason, from the sandbox's records and the grader's own judges."""
    answers, calls, errors, last_cell = {}, {}, {}, None
    for record in records:
        if not isinstance(record, dict):
            continue
        if "cell" in record and isinstance(record["cell"], int):
            last_cell = record["cell"]
        probe = record.get("probe")
        if probe in inputs and probe not in answers and probe not in errors:
            if "answer" in record:
                answers[probe] = record["answer"]
                calls[probe] = record.get("calls") if isinstance(record.get("calls"), list) else []
            else:
                errors[probe] = str(record.get("error", "no answer"))[:300]
    result = {}
    for grade_id, data in inputs.items():
        if grade_id in errors:
            result[grade_id] = f"calling your code raised {errors[grade_id]}"
        elif grade_id not in answers:
            where = f" while running cell {last_cell + 1}" if last_cell is not None else ""
            result[grade_id] = (f"your code never reached this test{where}: "
                                f"{stopped or 'the checking process ended early'}")
        elif problem := call_problem(probes[grade_id], [str(c) for c in calls[grade_id]]):
            result[grade_id] = problem
        else:
            try:
                result[grade_id] = probes[grade_id].judge(data, decode(answers[grade_id]))
            except Exception as error:  # noqa: BLE001 (a malformed answer is a wrong answer)
                result[grade_id] = f"your answer could not be checked ({type(error).__name__})"
    return result


def probe_seconds(records: list) -> float:
    """Seconds the probe calls themselves took, as the sandbox reported them (timing only, never a grade)."""
    total = 0.0
    for record in records:
        seconds = record.get("seconds") if isinstance(record, dict) and "probe" in record else None
        if isinstance(seconds, (int, float)) and 0 <= seconds < 1e6:
            total += seconds
    return total


def fail_cell(cell: NotebookNode, reason: str) -> None:
    """Make the cell score zero, with the reason first in its outputs."""
    text = f"checked outside your notebook: {reason}"
    cell.outputs.insert(0, NotebookNode(output_type="error", ename=ERROR_NAME, evalue=text,
                                        traceback=[f"\x1b[0;31m{ERROR_NAME}\x1b[0m: {text}"]))


def neutralise_partial_credit(cell: NotebookNode) -> None:
    """nbgrader reads a number in a test cell's result as partial credit; student code could forge one."""
    for index, output in enumerate(cell.outputs):
        if output.output_type == "execute_result":
            cell.outputs[index] = NotebookNode(output_type="display_data", data=output.get("data", {}),
                                               metadata=output.get("metadata", {}))


# Where ProbingExecute leaves the records of the probes it called in the kernel, for TrustedVerdicts.
IN_KERNEL = "course_probes_in_kernel"


def probed_inputs(nb: NotebookNode, resources: dict, config) -> tuple[dict, dict]:
    """(probes, inputs by grade_id) for this notebook's probed test cells, the inputs drawn from the secret seed."""
    from nbgrader.coursedir import CourseDirectory

    info = resources["nbgrader"]
    coursedir = CourseDirectory(config=config)
    source = Path(coursedir.format_path(coursedir.source_directory, ".", info["assignment"]))
    path = probes_path(source)
    probes = load_probes(path)
    if not probes:
        return {}, {}

    def draw(probe):
        rng = np.random.default_rng(seed_for(path, info["assignment"], info["notebook"], info["student"],
                                             probe.grade_id))
        return probe.inputs(rng) if probe.inputs else {}

    _, inputs = plan(nb, probes, draw)
    return probes, inputs


class TrustedVerdicts(NbGraderPreprocessor):
    """After Execute: re-check each probed test cell outside the student's kernel (see module doc)."""

    step_timeout = Integer(0, help="Seconds per cell in the probe process (0: twice the cell timeout, "
                                   "so that a busy machine does not fail code that passed in the kernel)."
                           ).tag(config=True)

    def probe_seconds(self) -> int:
        return self.step_timeout or 2 * sandbox.cell_timeout()

    def preprocess(self, nb: NotebookNode, resources: dict) -> tuple[NotebookNode, dict]:
        for cell in nb.cells:
            if is_test_cell(cell):
                neutralise_partial_credit(cell)
        in_kernel = resources.pop(IN_KERNEL, None)
        if in_kernel is not None:  # called in a fork of the kernel as the notebook ran (course.grading.verdicts.probing)
            probes, inputs, records, stopped = (in_kernel[k] for k in ("probes", "inputs", "records", "stopped"))
        else:  # a fresh sandboxed Python runs the student's cells again, then the probes
            probes, inputs = probed_inputs(nb, resources, self.config)
            if not inputs:
                return nb, resources
            steps = plan(nb, probes, lambda probe: inputs[probe.grade_id])[0]
            workdir = Path(resources.get("metadata", {}).get("path") or ".")
            with stopwatch.current.phase("probes"):
                records, stopped = run_probes(steps, workdir, step_timeout=self.probe_seconds(), logger=self.log)
        if not inputs:
            return nb, resources
        stopwatch.current.add("probe_calls", probe_seconds(records))
        info = resources["nbgrader"]
        results = verdicts(records, probes, inputs, stopped)
        for cell in nb.cells:
            if not is_test_cell(cell):
                continue
            grade_id = cell.metadata.nbgrader.get("grade_id")
            reason = results.get(grade_id)
            if reason:
                self.log.warning("%s, %s, %s: %s", info["student"], info["notebook"], grade_id, reason)
                fail_cell(cell, reason)
        return nb, resources
