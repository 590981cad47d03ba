"""Probes called in a fork of the student's kernel: the kernel's own state, just before the test cell, once."""
import textwrap

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook
from traitlets.config import Config

from course.grading.run import sandbox, stopwatch
from course.grading.verdicts import probing, trusted

PROBES = '''
from course.grading.verdicts.probe import Probe


def collect_token(ns, data):
    return float(ns["TOKEN"])


def collect_names(ns, data):
    return [ns["TOKEN"], "_helper" in ns, ns.get("shared"), ns["sqrt"](4.0)]


def collect_forever(ns, data):
    while True:
        pass


def no_judge(data, answer):
    return None


PROBES = [Probe("test_token", collect_token, no_judge), Probe("test_names", collect_names, no_judge),
          Probe("test_forever", collect_forever, no_judge)]
'''


CELLS = {}


def _test_cell(source: str, grade_id: str):
    return new_code_cell(source, metadata={"nbgrader": {"grade": True, "solution": False, "locked": True,
                                                        "grade_id": grade_id, "points": 1, "schema_version": 3}})


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    """A toy notebook graded by ProbingExecute then TrustedVerdicts; its cells, resources and records."""
    if sandbox.problem():
        pytest.skip(f"no sandbox here: {sandbox.problem()}")
    tmp_path = tmp_path_factory.mktemp("probing")
    (tmp_path / "source" / "toy").mkdir(parents=True)
    (tmp_path / "source" / "toy" / "probes.py").write_text(textwrap.dedent(PROBES))
    work = tmp_path / "work"
    work.mkdir()
    notebook = new_notebook(cells=[
        new_code_cell("import random\nTOKEN = random.random()\nprint(repr(TOKEN))"),
        _test_cell("TOKEN = -1.0\n_helper = 42\nshared = 'test'\nfrom math import sqrt", "test_token"),
        new_code_cell("shared = 'student'\nfrom math import sqrt  # the same object the test cell imported"),
        _test_cell("pass", "test_names"),
        _test_cell("pass", "test_forever"),
        new_code_cell("print('still running')"),
        _test_cell("pass", "test_last"),
    ])
    CELLS.update(forever=4, after=5)
    config = Config()
    config.CourseDirectory.root = str(tmp_path)
    config.TrustedVerdicts.step_timeout = 3
    resources = {"nbgrader": {"assignment": "toy", "notebook": "toy", "student": "someone"},
                 "metadata": {"path": str(work)}}
    watch = stopwatch.restart()
    executor = probing.ProbingExecute(config=config, timeout=60)
    notebook, resources = executor.preprocess(notebook, resources)
    records = list(resources[trusted.IN_KERNEL]["records"])
    notebook, resources = trusted.TrustedVerdicts(config=config).preprocess(notebook, resources)
    return notebook, records, watch


def test_the_probe_reads_the_kernel_as_it_stood_before_the_test_cell(ran):
    notebook, records, _ = ran
    drawn = float(notebook.cells[0].outputs[0]["text"])
    answers = [r["answer"] for r in records if r.get("probe") == "test_token"]
    assert answers == [drawn], "the probe must see the value the kernel drew, not a re-run's nor the test cell's"


def test_names_bound_by_earlier_test_cells_do_not_reach_later_probes(ran):
    notebook, records, _ = ran
    drawn = float(notebook.cells[0].outputs[0]["text"])
    answers = [r["answer"] for r in records if r.get("probe") == "test_names"]
    assert answers == [[drawn, False, "student", 2.0]], \
        "a test cell's rebinding and new name are put back; a student's later binding stays, even to the same object"


def test_a_probe_that_never_returns_is_stopped_and_the_notebook_goes_on(ran):
    notebook, records, watch = ran
    errors = [r["error"] for r in records if r.get("probe") == "test_forever"]
    assert errors and "StepTimeout" in errors[0]
    assert "still running" in notebook.cells[CELLS["after"]].outputs[0]["text"]
    failed = [o for o in notebook.cells[CELLS["forever"]].outputs if o.get("ename") == trusted.ERROR_NAME]
    assert failed and "StepTimeout" in failed[0]["evalue"]
    assert not [o for o in notebook.cells[1].outputs if o.get("ename") == trusted.ERROR_NAME]
    assert watch.seconds.get("probes", 0) > 0


def test_the_kernel_runs_each_cell_once(ran):
    notebook, _, _ = ran
    assert [c.execution_count for c in notebook.cells] == list(range(1, len(notebook.cells) + 1)), \
        "the probe requests are silent: they must not take execution counts or outputs"
    assert nbformat.validate(notebook) is None


def test_no_garbage_is_collected_while_the_probe_is_watched():
    """A half-read DataLoader of an earlier cell, finalised inside the watch, read as a library call (04)."""
    from course.grading.verdicts import probe_runner

    step = {"probe": "p", "function": "collect", "data": {},
            "code": "def collect(ns, data):\n    return __import__('gc').isenabled()\n"}
    assert probe_runner.call_probe(step, {}, 10)["answer"] is False
    import gc

    assert gc.isenabled()
