"""Nothing to delegate to: an answer built on any public callable of the student package loses its points.

The package students receive holds working code (course.training.fit is a
training loop, course.explorers.pool is pooling). Every public function and
class of it is called here as a student's answer would call it, on the hidden
inputs of every graded exercise, under the watch the sandbox runs; the
exercise's trusted verdict must then fail. The call is stopped as soon as it
enters the package, so nothing slow or with side effects runs: what counts is
that the entry is seen.
"""
import importlib
import inspect
import pkgutil
import sys

import numpy as np
import pytest

import course
from course.calls import ESCAPE, HARMLESS, Watch
from course.grading.verdicts.probe import call_problem, load_probes, probes_path, seed_for
from course.paths import ASSIGNMENTS
from tests.helpers import ROOT

NOT_STUDENT_FACING = ("course.grading", "course.commands")


def student_modules() -> list:
    names = [info.name for info in pkgutil.walk_packages(course.__path__, "course.")
             if not info.name.startswith(NOT_STUDENT_FACING)]
    return [importlib.import_module(name) for name in sorted(names)]


def public_callables() -> list:
    found = []
    for module in student_modules():
        for name, value in vars(module).items():
            if not name.startswith("_") and callable(value) and getattr(value, "__module__", None) == module.__name__:
                found.append((f"{module.__name__}.{name}", value))
    return found


CALLABLES = public_callables()
PROBES = [(assignment, probe) for assignment in ASSIGNMENTS
          for probe in load_probes(probes_path(ROOT / "source" / assignment)).values()]


class Entered(BaseException):
    """Raised by the watch as soon as the call enters the package: the rest never runs."""


class StopAtEntry(Watch):
    def _record(self, caller_frame, module, name):
        super()._record(caller_frame, module, name)
        if self.active and any(call.startswith("course.") for call in self.seen):
            self.active = False
            raise Entered


def leaves(value) -> list:
    """The hidden input's arrays and numbers, in order: the arguments an answer would pass on."""
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in leaves(item)]
    if isinstance(value, (list, tuple)):
        return [leaf for item in value for leaf in leaves(item)]
    return [value]


def arguments(function, hidden: list) -> list:
    """One value for each parameter without a default, taken from the hidden inputs (the call must bind)."""
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return []
    needed = [p for p in parameters if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return [hidden[i % len(hidden)] if hidden else None for i in range(len(needed))]


def seen_entering(function, args) -> set:
    watch = StopAtEntry()
    try:
        with watch:
            function(*args)
    except Entered:
        pass
    except Exception:  # noqa: BLE001 (a wrong argument after the entry was seen: the entry is what counts)
        pass
    finally:
        sys.setprofile(None)
    return watch.seen - {ESCAPE + "the watch was switched off"}  # stopping the call did that


def test_the_package_has_working_code_to_protect():
    names = {name for name, _ in CALLABLES}
    assert {"course.training.fit", "course.training.evaluate_model", "course.explorers.pool",
            "course.explorers.output_size"} <= names
    assert len(PROBES) >= 20


@pytest.mark.parametrize("qualified,function", CALLABLES, ids=[name for name, _ in CALLABLES])
def test_an_answer_built_on_a_public_callable_loses_every_exercise(qualified, function):
    harmless = qualified.startswith(HARMLESS)
    for assignment, probe in PROBES:
        rng = np.random.default_rng(seed_for(probes_path(ROOT / "source" / assignment), assignment, assignment,
                                             "delegating-student", probe.grade_id))
        hidden = leaves(probe.inputs(rng)) if probe.inputs else []
        seen = seen_entering(function, arguments(function, hidden))
        problem = call_problem(probe, sorted(seen))
        if harmless:
            assert problem is None, f"{qualified} computes nothing an exercise asks, yet {problem}"
        else:
            assert any(call.startswith("course.") for call in seen), f"{qualified}: entering it was not seen"
            assert problem and f"{qualified.rsplit('.', 1)[-1]}" in problem, (
                f"{assignment} {probe.grade_id}: an answer built on {qualified} keeps its points ({problem})")


def test_the_harmless_helpers_are_only_plots_paths_errors_and_plumbing():
    harmless = sorted(name for name, _ in CALLABLES if name.startswith(HARMLESS))
    modules = {name.rsplit(".", 1)[0] for name in harmless}
    assert modules <= {"course.plots", "course.paths", "course.errors", "course.calls", "course.training"}, modules
    assert [n for n in harmless if n.startswith("course.training")] == [
        "course.training.device", "course.training.loader", "course.training.progress", "course.training.seed_everything"]
