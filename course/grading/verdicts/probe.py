"""What a probe author writes against: `Probe`, where probe files live, seeds, and judge helpers.

A probe file (`source/<assignment>/probes.py`) defines `PROBES`, a list of
`Probe`s; `course.grading.verdicts.trusted` runs them. Kept apart from the runner so
that a probe file imports nothing that starts processes or reads gradebooks.
"""
from __future__ import annotations

import hashlib
import inspect
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ...calls import ESCAPE, shortcuts
from .probe_runner import encode

PROBES_FILE = "probes.py"
# The libraries a "loops, not a library" exercise may not call (numpy is allowed: it holds the arrays).
LOOP_LIBRARIES = frozenset({"torch", "torchvision", "scipy", "skimage", "sklearn", "cv2"})
# Functions that would do an exercise's work wherever they live (numpy has `convolve` and `correlate`).
CONVOLUTIONS = frozenset({"conv2d", "correlate", "correlate2d", "convolve", "convolve2d"})
POOLING = frozenset({"block_reduce", "max_pool2d", "avg_pool2d", "MaxPool2d", "AvgPool2d"})


@dataclass(frozen=True)
class Loops:
    """A "write it with loops, not a library" rule, judged on the calls the code made while the probe ran.

    `says` is what the student reads ("convolution2d must use loops, not a library"); `names` are
    functions forbidden wherever they live (numpy's `convolve`, for example)."""

    says: str
    names: frozenset = frozenset()
    libraries: frozenset = LOOP_LIBRARIES


def call_problem(probe: Probe, calls) -> str | None:
    """None when the calls seen under `probe` break no rule, else what the student reads.

    Every probe forbids the course's own helpers (the student package implements some exercises,
    05's training loop for one) and code run out of the grader's sight; `probe.rule` adds its own."""
    rule = probe.rule
    found = shortcuts(calls, rule.libraries if rule else (), rule.names if rule else ())
    if not found:
        return None
    escaped = [c[len(ESCAPE):] for c in found if c.startswith(ESCAPE)]
    if escaped:
        return f"your code ran where the grader cannot watch it ({', '.join(escaped)}), so it cannot be graded"
    if rule and not all(c.startswith("course.") for c in found):
        return f"{rule.says} (it called {', '.join(found)})"
    return f"your answer calls the course's own {', '.join(found)}: the exercise asks you to write this yourself"


@dataclass
class Probe:
    """One trusted check for the test cell `grade_id`.

    `collect(ns, data)` runs in the sandbox (ns: the student's namespace) and
    returns plain numbers: it must be a top-level function that uses only its
    arguments, builtins, `np` and the names of `course.grading.verdicts.probe_kit`
    (import those in the probe file too, for its judges). `inputs(rng)` draws the hidden inputs in the
    grader; `judge(data, answer)` compares in the grader and returns None
    when the answer is right, else the reason the student will read.
    """

    grade_id: str
    collect: Callable
    judge: Callable
    inputs: Callable | None = None
    rule: Loops | None = None

    def step(self, data) -> dict:
        return {"probe": self.grade_id, "code": textwrap.dedent(inspect.getsource(self.collect)),
                "function": self.collect.__name__, "data": encode(data)}


def probes_path(source_folder: Path) -> Path:
    return Path(source_folder) / PROBES_FILE


def load_probes(path: Path) -> dict:
    """grade_id -> Probe from a probes file (empty when there is none)."""
    path = Path(path)
    if not path.is_file():
        return {}
    # Compiled by hand so that no __pycache__ appears in source/ (and linecache still finds the text).
    namespace = {"__name__": f"_course_probes_{path.parent.name}", "__file__": str(path)}
    exec(compile(path.read_text(), str(path), "exec"), namespace)
    return {probe.grade_id: probe for probe in namespace.get("PROBES", [])}


def seed_for(path: Path, *parts: str) -> int:
    """A seed nobody can predict without the probe file, and the same on every re-run."""
    digest = hashlib.sha256(Path(path).read_bytes())
    for part in parts:
        digest.update(b"\0" + part.encode())
    return int.from_bytes(digest.digest()[:8], "little")


def describe_shape(array) -> str:
    return "\u00d7".join(str(n) for n in np.shape(array)) or "scalar"


def describe(value: Any) -> str:
    """Short, value-free description of an input for feedback (shape and kind only)."""
    array = np.asarray(value)
    kind = "integer" if array.dtype.kind in "iu" else "float"
    return f"{describe_shape(array)} {kind}"


def compare_arrays(got, want, *, exact: bool = False, rtol: float = 1e-7, atol: float = 1e-7) -> str | None:
    """None when `got` has `want`'s shape and values; otherwise what is wrong, without values."""
    try:
        got = np.asarray(got, dtype=float)
    except (TypeError, ValueError):
        return "the answer is not an array of numbers"
    want = np.asarray(want, dtype=float)
    if got.shape != want.shape:
        return f"shape {describe_shape(got)} instead of {describe_shape(want)}"
    if exact:
        good = np.array_equal(got, want)
    else:
        good = bool(np.all(np.isfinite(got)) and np.allclose(got, want, rtol=rtol, atol=atol))
    return None if good else "wrong values"
