"""Trusted verdicts: the probes agree with the hidden tests, and nothing in a submission can bend them."""
import copy
import os
from pathlib import Path
from unittest import mock

import nbformat
import numpy as np
import pytest
from nbformat.notebooknode import NotebookNode
from nbgrader.utils import determine_grade

from course.grading.semester import pipeline
from course.grading.semester.submissions import graded_cells, nbgrader_meta, solution_answers
from course.grading.verdicts import probe as probe_api
from course.grading.verdicts import trusted
from course.paths import ASSIGNMENTS
from tests.helpers import ROOT

WITH_PROBES = [a for a in pipeline.present(ROOT, ASSIGNMENTS) if probe_api.probes_path(ROOT / "source" / a).is_file()]


def answered(assignment: str, answers: dict) -> NotebookNode:
    """The source notebook with its solution cells replaced by `answers` (the rest: the solutions)."""
    source = ROOT / "source" / assignment / f"{assignment}.ipynb"
    notebook = nbformat.read(str(source), as_version=4)
    solutions = dict(solution_answers(source), **answers)
    for cell in notebook.cells:
        meta = nbgrader_meta(cell)
        if meta.get("solution") and meta["grade_id"] in solutions:
            cell.source = solutions[meta["grade_id"]]
    return notebook


def trusted_verdicts(assignment: str, notebook, tmp_path: Path, student: str = "someone") -> dict:
    path = probe_api.probes_path(ROOT / "source" / assignment)
    probes = probe_api.load_probes(path)

    def draw(probe):
        rng = np.random.default_rng(probe_api.seed_for(path, assignment, assignment, student, probe.grade_id))
        return probe.inputs(rng) if probe.inputs else {}

    steps, inputs = trusted.plan(notebook, probes, draw)
    # As under `nbgrader autograde`, which sets NBGRADER_EXECUTION: the notebooks run in fast mode.
    with mock.patch.dict(os.environ, {"NBGRADER_EXECUTION": "autograde"}):
        records, stopped = trusted.run_probes(steps, tmp_path, step_timeout=60)
    return trusted.verdicts(records, probes, inputs, stopped)


@pytest.mark.parametrize("assignment", WITH_PROBES)
def test_every_probe_checks_a_graded_cell(assignment):
    probes = probe_api.load_probes(probe_api.probes_path(ROOT / "source" / assignment))
    assert set(probes) <= set(graded_cells(ROOT / "source" / assignment / f"{assignment}.ipynb"))
    assert not (ROOT / "source" / assignment / "__pycache__").exists()


SOURCE_ASSIGNMENTS = sorted(p.parent.name for p in (ROOT / "source").glob("*/*.ipynb") if p.stem == p.parent.name)


@pytest.mark.parametrize("assignment", SOURCE_ASSIGNMENTS)
def test_every_graded_test_cell_has_a_probe_and_every_probe_a_test_cell(assignment):
    """A test cell without a probe could be passed by code that patches the checks in its own kernel."""
    notebook = nbformat.read(str(ROOT / "source" / assignment / f"{assignment}.ipynb"), as_version=4)
    test_cells = [c.metadata.nbgrader["grade_id"] for c in notebook.cells if trusted.is_test_cell(c)]
    assert test_cells and len(test_cells) == len(set(test_cells)), test_cells
    probes = probe_api.load_probes(probe_api.probes_path(ROOT / "source" / assignment))
    assert sorted(set(test_cells) - set(probes)) == [], "test cells without a probe"
    assert sorted(set(probes) - set(test_cells)) == [], "probes that name no graded test cell"
    for grade_id, probe in probes.items():
        assert probe.grade_id == grade_id and callable(probe.collect) and callable(probe.judge)


@pytest.mark.parametrize("assignment", WITH_PROBES)
def test_probes_pass_the_solution(assignment, tmp_path):
    results = trusted_verdicts(assignment, answered(assignment, {}), tmp_path)
    assert results and all(reason is None for reason in results.values()), results


def test_inputs_are_the_same_on_every_run_and_differ_between_students(tmp_path):
    secret = tmp_path / "probes.py"
    secret.write_text("PROBES = []\n")
    first = probe_api.seed_for(secret, "01", "01", "alice", "test_x")
    assert first == probe_api.seed_for(secret, "01", "01", "alice", "test_x")
    assert first != probe_api.seed_for(secret, "01", "01", "bob", "test_x")
    secret.write_text("PROBES = []  # another secret\n")
    assert first != probe_api.seed_for(secret, "01", "01", "alice", "test_x")


def test_verdicts_trust_only_the_first_answer_and_name_what_went_wrong():
    probe = probe_api.Probe("test_x", collect=lambda ns, data: None,
                          judge=lambda data, answer: None if answer == [1, 2] else "wrong")
    probes = {"test_x": probe, "test_y": probe, "test_z": probe}
    inputs = {"test_x": {}, "test_y": {}, "test_z": {}}
    records = [{"ready": True}, "garbage", {"cell": 3},
               {"probe": "test_x", "answer": [9, 9]}, {"probe": "test_x", "answer": [1, 2]},
               {"probe": "test_y", "error": "NameError: name 'f' is not defined"}, {"cell": 5}]
    results = trusted.verdicts(records, probes, inputs, "the checking process stopped (exit status 1)")
    assert results["test_x"] == "wrong"
    assert "NameError" in results["test_y"]
    assert "cell 6" in results["test_z"] and "exit status 1" in results["test_z"]


def _test_cell(outputs) -> NotebookNode:
    cell = nbformat.v4.new_code_cell("assert True")
    cell.metadata["nbgrader"] = {"grade": True, "solution": False, "locked": True, "points": 3,
                                 "grade_id": "test_x", "schema_version": 3}
    cell.outputs = [nbformat.from_dict(o) for o in outputs]
    return cell


def test_a_failed_trusted_check_scores_zero_even_after_a_forged_partial_credit():
    forged = {"output_type": "execute_result", "execution_count": 1, "metadata": {},
              "data": {"text/plain": "3"}}
    cell = _test_cell([forged])
    assert determine_grade(cell)[0] == 3  # what plain nbgrader would give
    trusted.neutralise_partial_credit(cell)
    assert determine_grade(cell)[0] == 3  # no error: the points stand, a full pass
    trusted.fail_cell(cell, "convolution2d: wrong values")
    assert determine_grade(cell)[0] == 0
    assert cell.outputs[0].ename == trusted.ERROR_NAME and "wrong values" in cell.outputs[0].evalue


def test_a_forged_partial_credit_is_not_read_as_a_score():
    cell = _test_cell([{"output_type": "execute_result", "execution_count": 1, "metadata": {},
                        "data": {"text/plain": "0.5"}},
                       {"output_type": "error", "ename": "AssertionError", "evalue": "", "traceback": []}])
    assert determine_grade(cell)[0] == 0.5  # plain nbgrader: the forged number wins over the error
    trusted.neutralise_partial_credit(cell)
    assert determine_grade(cell)[0] == 0


def test_probe_answers_are_plain_data():
    from course.grading.verdicts.probe_runner import decode, encode

    value = {"a": np.arange(6).reshape(2, 3), "b": (1, 2.5), "c": np.float32(1.5)}
    assert decode(encode(value))["a"].dtype == np.int64
    with pytest.raises(ValueError):
        decode({"__ndarray__": [1], "dtype": "object"})
    with pytest.raises(TypeError):
        encode(object())


def test_the_plan_runs_student_cells_only_up_to_each_probed_test():
    notebook = answered("01_convolution", {})
    probes = probe_api.load_probes(probe_api.probes_path(ROOT / "source" / "01_convolution"))
    steps, inputs = trusted.plan(copy.deepcopy(notebook), probes, lambda probe: {})
    kinds = ["probe:" + s["probe"] if "probe" in s else "cell" for s in steps]
    assert kinds[-1] == "probe:test_convolution2d" and set(inputs) == set(probes)
    texts = "\n".join(s.get("source", "") for s in steps)
    assert "BEGIN HIDDEN TESTS" not in texts and "check_function" not in texts
