"""The sandboxed half of the trusted checks: run a submission's code and report what it returns.

`course.grading.verdicts.trusted` starts this in a fresh, sandboxed Python for each graded
notebook (`python -I -m course.grading.verdicts.probe_runner JOB RESULTS`). It executes the
student's code cells in order and, where a test cell stood, calls the
instructor's probe on the inputs the grader drew. It writes plain numbers
(JSON lines) and nothing else: it never sees an expected value and decides
no grade, so whatever student code does to this process can only change the
student's own answers.
"""
import builtins
import gc
import importlib.util
import json
import os
import signal
import sys
import time

import numpy as np

# Taken before any student code runs: probes call the real builtins even if a cell rebinds them.
CLEAN_BUILTINS = dict(vars(builtins))
_clock = time.perf_counter


def _private(module: str) -> dict:
    """A module of the course run from its source into a namespace of its own, with the clean builtins.

    Student code runs in this process too; a cell that rebinds `sorted` or `sys.setprofile`, or
    edits the imported module, changes nothing that the probes call through these namespaces.
    """
    path = importlib.util.find_spec(module).origin
    with open(path) as handle:
        namespace = {"__name__": module, "__file__": path, "__builtins__": CLEAN_BUILTINS}
        exec(compile(handle.read(), path, "exec"), namespace)
    return namespace


_KIT_MODULE = "course.grading.verdicts.probe_kit"
_kit = _private(_KIT_MODULE)
KIT = {name: _kit[name] for name in _kit["__all__"]}
# Every probe runs under this watch: what the student's code calls, however it reaches it, goes back
# with the answer (course.calls; the judges' rules are in course.grading.verdicts.probe).
WATCH = _private("course.calls")["Watch"]
PROBE_MODULE = "probe"

ARRAY = "__ndarray__"
DTYPES = {"float64", "float32", "int64", "int32", "bool", "uint8"}


def encode(value):
    """Arrays, tuples and numpy scalars as JSON-ready values (arrays keep their dtype)."""
    if isinstance(value, np.ndarray):
        if value.dtype.name not in DTYPES:
            value = value.astype(float)
        return {ARRAY: value.tolist(), "dtype": value.dtype.name}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {str(k): encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"cannot report a {type(value).__name__}")


def decode(value):
    """The inverse of `encode`; only plain dtypes are ever rebuilt (never objects)."""
    if isinstance(value, dict):
        if ARRAY in value:
            dtype = value.get("dtype")
            if dtype not in DTYPES:
                raise ValueError(f"unexpected dtype {dtype!r}")
            return np.array(value[ARRAY], dtype=dtype)
        return {k: decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode(v) for v in value]
    return value


class StepTimeout(Exception):
    """A cell or probe ran past its time."""


def _alarm(signum, frame):
    raise StepTimeout("ran out of time")


def _describe(error) -> str:
    text = f"{type(error).__name__}: {error}"
    return text if len(text) <= 300 else text[:297] + "..."


def call_probe(step: dict, user_ns: dict, seconds: int) -> dict:
    """One probe step on the student's namespace, within `seconds`: the record it reports (answer or error)."""
    namespace = {"np": np, **KIT, "__name__": PROBE_MODULE, "__builtins__": CLEAN_BUILTINS}
    signal.alarm(seconds)
    try:
        exec(compile(step["code"], f"<probe {step['probe']}>", "exec"), namespace)
        collect, data = namespace[step["function"]], decode(step["data"])
        # No collection inside the watch: garbage of earlier cells (a half-read DataLoader's generator) would be
        # finalised there, and its clean-up read as a library call of the probed function.
        gc.disable()
        started = _clock()
        try:
            with WATCH(ignore={PROBE_MODULE, _KIT_MODULE}) as watch:
                answer = collect(user_ns, data)
        finally:
            gc.enable()
        return {"probe": step["probe"], "answer": encode(answer), "calls": CLEAN_BUILTINS["sorted"](watch.seen),
                "seconds": _clock() - started}
    except BaseException as error:  # noqa: BLE001 (student code may raise anything)
        return {"probe": step["probe"], "error": _describe(error)}
    finally:
        signal.alarm(0)


def main(job_path: str, results_path: str) -> int:
    with open(job_path) as handle:
        job = json.load(handle)
    os.remove(job_path)  # the inputs leave the disk before any student code runs
    out = open(results_path, "a", buffering=1)

    me = os.getpid()

    def emit(record):
        if os.getpid() != me:  # a process the student's code forked: it must not carry on the job
            os._exit(0)
        out.write(json.dumps(record) + "\n")
        out.flush()

    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    config = Config()
    config.HistoryManager.enabled = False
    shell = InteractiveShell.instance(config=config, colors="nocolor")
    sys.path.insert(0, os.getcwd())  # as in a kernel: the student's own modules import
    step_seconds = int(job.get("step_timeout", 60))
    signal.signal(signal.SIGALRM, _alarm)
    emit({"ready": True})
    quiet = os.open(os.devnull, os.O_WRONLY)  # from here on, student output goes nowhere
    os.dup2(quiet, 1)
    os.dup2(quiet, 2)
    for step in job["steps"]:
        if os.getpid() != me:  # a process the student's code forked: it must not carry on the job
            os._exit(0)
        if "cell" in step:
            emit({"cell": step["cell"]})
            signal.alarm(step_seconds)
            try:
                shell.run_cell(step["source"], store_history=False)
            except BaseException as error:  # noqa: BLE001 (a cell may raise anything)
                emit({"cell_error": step["cell"], "error": _describe(error)})
            finally:
                signal.alarm(0)
            continue
        emit(call_probe(step, shell.user_ns, step_seconds))
    emit({"done": True})
    out.close()
    os._exit(0)  # skip interpreter teardown: student objects may misbehave in finalizers


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
