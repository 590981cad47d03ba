"""The sandboxed executor that also calls the trusted checks' probes, in a fork of the kernel, as the notebook runs.

Just before a probed test cell runs, the kernel holds exactly what the student's cells made of it; a fork
of it (`probe_fork`) calls the probes there, so the separate probe process no longer runs the student's
cells a second time. The records go to `TrustedVerdicts` through the resources, which judges them
outside the sandbox as before.
"""
from __future__ import annotations

import ast
import json

from ..run import stopwatch
from ..run.execute import SandboxedExecute
from . import probe_fork
from .trusted import IN_KERNEL, TrustedVerdicts, is_test_cell, probed_inputs

KERNEL_SIDE = "course.grading.verdicts.probe_fork"
# Seconds the grader waits for the kernel's reply beyond the probes' own limit.
REPLY_MARGIN_S = 30


def _records(content: dict | None) -> list:
    """The JSON lines the kernel handed back as a user expression; anything malformed is dropped."""
    found = ((content or {}).get("user_expressions") or {}).get("records") or {}
    text = (found.get("data") or {}).get("text/plain") if found.get("status") == "ok" else None
    try:
        lines = ast.literal_eval(text).splitlines() if isinstance(text, str) else []
    except (ValueError, SyntaxError, AttributeError, MemoryError, RecursionError):
        return []
    records = []
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            records.append(record)
    return records


class ProbingExecute(SandboxedExecute):
    """SandboxedExecute that calls each probed test cell's probe in a fork of the kernel just before that cell."""

    def preprocess(self, nb, resources=None, km=None):
        resources = resources if resources is not None else {}
        self._probes, self._inputs = probed_inputs(nb, resources, self.config) if "nbgrader" in resources else ({}, {})
        self._asked, self._records, self._primed = set(), [], False
        self._why, self._last_run = "", None
        self._tests = sorted({probe_fork.digest(cell.source) for cell in nb.cells if is_test_cell(cell)})
        self._seconds = TrustedVerdicts(config=self.config).probe_seconds()
        try:
            return super().preprocess(nb, resources, km)
        finally:
            if self._inputs:
                if self._stopped is not None and self._last_run is not None:  # where the kernel was lost
                    self._records.append({"cell": self._last_run})
                resources[IN_KERNEL] = {"probes": self._probes, "inputs": self._inputs, "records": self._records,
                                        "stopped": self._stopped or self._why}

    def before_cell(self, cell, index: int) -> None:
        self._last_run = index
        if not self._inputs:
            return
        if not self._primed:  # before any student code: clean builtins, and which cells are tests
            self._primed = True
            self.request(f"__import__({KERNEL_SIDE!r}, fromlist=['watch_tests']).watch_tests({self._tests!r})", {},
                         REPLY_MARGIN_S)
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id") if is_test_cell(cell) else None
        if grade_id not in self._inputs or grade_id in self._asked:
            return
        self._asked.add(grade_id)
        step = self._probes[grade_id].step(self._inputs[grade_id])
        job = json.dumps({"steps": [step], "step_timeout": self._seconds})
        with stopwatch.current.phase("probes"):
            content = self.request(f"__import__({KERNEL_SIDE!r}, fromlist=['run']).run({job!r})",
                                   {"records": f"__import__({KERNEL_SIDE!r}, fromlist=['records']).records()"},
                                   2 * self._seconds + REPLY_MARGIN_S)
        got = _records(content)
        if not any(record.get("probe") == grade_id for record in got):
            ends = [record["end"] for record in got if record.get("end") not in (None, "done")]
            self._why = str(ends[0]) if ends else "the kernel did not answer the grader's check"
        self._records += got
