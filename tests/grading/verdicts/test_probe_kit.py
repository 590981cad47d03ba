"""The probe kit: one definition of what both sides of the sandbox need, and no copies of it in the probe files."""
import ast
import builtins
import copy
import inspect
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

from course.grading.verdicts import probe_kit as kit
from course.grading.verdicts import trusted
from course.grading.verdicts.probe import CONVOLUTIONS, LOOP_LIBRARIES, Loops, Probe, call_problem, load_probes, probes_path
from course.grading.verdicts.probe_runner import CLEAN_BUILTINS, KIT, decode
from tests.helpers import ROOT

PROBE_FILES = sorted((ROOT / "source").glob("*/probes.py"))
KIT_FUNCTIONS = {name: value for name, value in vars(kit).items()
                 if inspect.isfunction(value) and value.__module__ == kit.__name__}


def sandbox_record(collect, data, tmp_path, cells=()) -> dict:
    """The record the sandboxed probe runner writes when it calls `collect(ns, data)` after the given cells."""
    steps = [{"cell": index, "source": source} for index, source in enumerate(cells)]
    records, stopped = trusted.run_probes(steps + [Probe("test_kit", collect, judge=None).step(data)], tmp_path,
                                           step_timeout=120)
    answers = [r for r in records if isinstance(r, dict) and r.get("probe") == "test_kit"]
    assert answers and "answer" in answers[0], (answers, stopped)
    return answers[0]


def in_sandbox(collect, data, tmp_path, cells=()):
    """What `collect(ns, data)` returns when the sandboxed probe runner calls it after the given cells."""
    return decode(sandbox_record(collect, data, tmp_path, cells)["answer"])


def collect_kit_networks(ns, data):
    import torch

    nets = {"evaluate": evaluate_net(), "train": train_net(), "dropout": dropout_net()}  # noqa: F821 (the kit's)
    found = {}
    for name, net in nets.items():
        load_weights(net, data["seed"], scale=data["scales"][name])  # noqa: F821
        net.eval()
        with torch.no_grad():
            out = net(torch.as_tensor(data["x"][name]))
        found[name] = {"state": [np.asarray(v.double().numpy()) for v in net.state_dict().values()],
                       "out": np.asarray(out.double().numpy())}
    shuffled = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Linear(4, 4), torch.nn.Linear(4, 3))
    load_weights_by_shape(shuffled, data["seed"])  # noqa: F821
    found["by_shape"] = [np.asarray(p.detach().double().numpy()) for p in shuffled.parameters()]
    return found


def kit_data(seed):
    rng = np.random.default_rng(seed)
    return {"seed": int(rng.integers(2 ** 31)), "scales": {"evaluate": None, "train": None, "dropout": 0.1},
            "x": {"evaluate": rng.standard_normal((5, 1, 6, 6)).astype(np.float32),
                  "train": rng.standard_normal((5, 1, 8, 8)).astype(np.float32),
                  "dropout": rng.standard_normal((5, 1, 28, 28)).astype(np.float32)}}


def test_the_sandbox_and_the_grader_build_the_same_weights_and_networks(tmp_path):
    data = kit_data(7)
    got = in_sandbox(collect_kit_networks, data, tmp_path)
    for name, build in (("evaluate", kit.evaluate_net), ("train", kit.train_net), ("dropout", kit.dropout_net)):
        net = kit.load_weights(build(), data["seed"], scale=data["scales"][name]).eval()
        state = [v.double().numpy() for v in net.state_dict().values()]
        assert len(got[name]["state"]) == len(state)
        assert all(np.array_equal(a, b) for a, b in zip(got[name]["state"], state)), name
        with torch.no_grad():
            want = net(torch.from_numpy(data["x"][name])).double().numpy()
        assert np.array_equal(got[name]["out"], want), name
    reordered = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Linear(3, 4), torch.nn.Linear(4, 4))
    kit.load_weights_by_shape(reordered, data["seed"])
    by_shape = {tuple(p.shape): p.detach().double().numpy() for p in reordered.parameters()}
    assert all(np.array_equal(a, by_shape[a.shape]) for a in got["by_shape"])


def collect_loop_answers(ns, data):
    return loop_answers(ns["convolution2d"], [(np.ones((3, 3)), np.ones((2, 2)))])  # noqa: F821 (the kit's)


def test_what_the_code_calls_is_recorded_however_it_reaches_it_and_a_cell_cannot_blind_the_watch(tmp_path):
    cells = ["import scipy.signal as _s\n"
             "_hidden = getattr(_s, 'correlate' + '2d')\n"
             "def _helper(image, kernel):\n"
             "    return _hidden(image, kernel, 'valid')\n",
             "def convolution2d(image, kernel):\n"
             "    return (lambda: _helper(image, kernel))()\n",
             "import builtins, sys\n"
             "builtins.sorted = lambda *args, **kwargs: []\n"
             "sys.setprofile = lambda *args: None\n"]
    record = sandbox_record(collect_loop_answers, {}, tmp_path, cells)
    assert "scipy.signal._signaltools.correlate2d" in record["calls"], record["calls"]
    assert np.array_equal(decode(record["answer"])["outputs"][0], np.full((2, 2), 4.0))
    rule = Probe("test_convolution2d", collect_loop_answers, judge=None, rule=Loops("convolution2d must use loops",
                                                                                     CONVOLUTIONS))
    assert call_problem(rule, record["calls"]) == ("convolution2d must use loops "
                                                   "(it called scipy.signal._signaltools.correlate2d)")


def test_code_that_switches_the_watch_off_cannot_be_graded(tmp_path):
    cells = ["import sys\n"
             "def convolution2d(image, kernel):\n"
             "    sys.setprofile(None)\n"
             "    return image[:2, :2] * 0 + 4.0\n"]
    record = sandbox_record(collect_loop_answers, {}, tmp_path, cells)
    problem = call_problem(Probe("test_x", collect_loop_answers, judge=None), record["calls"])
    assert problem and "cannot watch" in problem and "sys.setprofile" in problem, problem


def test_load_weights_depends_on_the_seed_and_sets_batch_norm_statistics():
    first = kit.load_weights(kit.train_net(), 1)
    again = kit.load_weights(kit.train_net(), 1)
    other = kit.load_weights(kit.train_net(), 2)
    assert all(torch.equal(a, b) for a, b in zip(first.state_dict().values(), again.state_dict().values()))
    assert not torch.equal(first[0].weight, other[0].weight)
    assert not torch.equal(first[1].running_mean, torch.zeros(4)) and bool((first[1].running_var >= 0.5).all())
    constant = kit.load_weights(kit.dropout_net(), 1, scale=0.1)
    draws = np.random.default_rng(1).standard_normal(tuple(constant[0].weight.shape)) * 0.1
    assert np.array_equal(constant[0].weight.detach().numpy(), draws.astype(np.float32))


def test_the_recorder_sees_every_forward_pass_even_of_a_copy():
    model, calls = kit.recorder(kit.evaluate_net())
    x = torch.zeros(2, 1, 6, 6)
    model.train()
    model(x)
    with torch.no_grad():
        copy.deepcopy(model).eval()(x)
    assert calls == [[True, True], [False, False]]
    assert list(model.state_dict()) == [f"body.{k}" for k in kit.evaluate_net().state_dict()]


def test_the_opening_check_counts_the_results():
    assert kit.count_problem("f", [1, 2], [0, 0]) is None
    assert kit.count_problem("f", [1], [0, 0]) == "f: not one result per case"
    assert kit.count_problem("g", [1], [1, 2], "hidden run") == "g: not one result per hidden run"


def test_the_sandbox_namespace_holds_the_whole_kit_and_torch_only_when_a_probe_asks():
    assert sorted(KIT) == sorted(kit.__all__)
    for name, value in KIT.items():  # the same definitions, run with the builtins taken before student code
        if inspect.isfunction(value):
            assert value.__code__.co_code == getattr(kit, name).__code__.co_code, name
            assert value.__globals__["__builtins__"] is CLEAN_BUILTINS, name
    assert set(kit.__all__) <= set(vars(kit)) and not set(kit.__all__) & set(dir(builtins))
    code = "import sys, course.grading.verdicts.probe_runner; print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert result.stdout.strip() == "False"


# ---- no copies in the probe files ----------------------------------------------------------------

def _body_shape(node) -> str:
    """A function's body without its docstring and with every name replaced: what a copy would share."""
    body = node.body[1:] if node.body and isinstance(node.body[0], ast.Expr) and isinstance(
        getattr(node.body[0], "value", None), ast.Constant) and isinstance(node.body[0].value.value, str) else node.body
    dumped = ast.dump(ast.Module(body=body, type_ignores=[]))
    for kind in ("id", "arg", "attr"):
        dumped = re.sub(rf"{kind}='[^']*'", f"{kind}='_'", dumped)
    return dumped


def _kit_shapes() -> dict:
    tree = ast.parse(inspect.getsource(kit))
    shapes = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and len(node.body) > 1:
            shapes[_body_shape(node)] = node.name
    return shapes


@pytest.mark.parametrize("path", PROBE_FILES, ids=lambda p: p.parent.name)
def test_no_probe_file_defines_its_own_copy_of_a_kit_helper(path):
    shapes = _kit_shapes()
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            assert node.name not in KIT_FUNCTIONS and node.name not in kit.__all__, f"{path}: {node.name}"
            assert _body_shape(node) not in shapes, f"{path}: {node.name} copies {shapes.get(_body_shape(node))}"
        if isinstance(node, ast.Assign):  # one list of library names: the kit's
            for target in node.targets:
                assert not (isinstance(target, ast.Name) and target.id in {"FORBIDDEN", "LIBRARY_NAMES",
                                                                          "POOL_LIBRARIES"}), f"{path}: {target.id}"
        if isinstance(node, ast.Set):
            strings = {e.value for e in node.elts if isinstance(e, ast.Constant)}
            assert not strings & LOOP_LIBRARIES, f"{path}: a set of library names at line {node.lineno}"


def _free_names(function) -> set:
    """The names a collect function reads that it does not bind itself (nor its nested functions)."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    bound, read = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (read if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.alias):
            bound.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
    return read - bound


@pytest.mark.parametrize("path", PROBE_FILES, ids=lambda p: p.parent.name)
def test_collect_functions_use_only_np_builtins_and_the_kit(path):
    probes = load_probes(probes_path(path.parent))
    used = set()
    for probe in probes.values():
        free = _free_names(probe.collect)
        unknown = free - {"np"} - set(dir(builtins)) - set(kit.__all__)
        assert not unknown, f"{probe.grade_id}: collect reads {sorted(unknown)}, which the sandbox does not have"
        used |= free & set(kit.__all__)
    for name in used:  # and the probe file's own name for each is the kit's
        assert probes[next(iter(probes))].collect.__globals__.get(name) is getattr(kit, name), name


def test_every_kit_helper_is_used_by_some_probe():
    text = "\n".join(path.read_text() for path in PROBE_FILES)
    unused = [name for name in kit.__all__ if name in KIT_FUNCTIONS and name not in text]
    assert not unused, unused
