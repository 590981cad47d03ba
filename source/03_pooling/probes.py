"""Trusted hidden checks for 03_pooling (instructor-only: never released, invisible to students).

`course.grading.verdicts.trusted` runs each `collect` in a sandboxed copy of the submission and
each `judge` in the grader, against PyTorch, scipy and the stored X/O numbers.
"""
import numpy as np
import torch
import torch.nn.functional as F
from scipy.signal import correlate2d

from course import xo_reference as ref
from course.grading.verdicts.probe import POOLING, Loops, Probe, compare_arrays, describe_shape
from course.grading.verdicts.probe_kit import count_problem, loop_answers

# What float32 arithmetic (a correct answer) can be off by, relative and absolute, for these sizes.
FLOAT32 = 1e-6
BY_HAND_IMAGE = np.array([[0, 0, 0, 1], [0, 0, 1, 2], [0, 0, 2, 3], [0, 1, 2, 3]], dtype=float)
BY_HAND_KERNEL = np.array([[0, 0, 2], [0, 1, 2], [0, 2, 3]], dtype=float)


# ---- exercise 1: by hand -------------------------------------------------------------------------

def collect_by_hand(ns, data):
    return {"conv": np.asarray(ns["conv_by_hand"], dtype=float),
            "pooled": np.asarray(ns["pooled_by_hand"], dtype=float).reshape(-1)}


def judge_by_hand(data, answer):
    conv = correlate2d(BY_HAND_IMAGE, BY_HAND_KERNEL, "valid")
    pooled = F.max_pool2d(torch.from_numpy(conv)[None, None], 2, 2)[0, 0].numpy().reshape(-1)
    problem = compare_arrays(answer["conv"], conv, atol=1e-6)
    if problem:
        return f"conv_by_hand: {problem}"
    problem = compare_arrays(answer["pooled"], pooled, atol=1e-6)
    return problem and f"pooled_by_hand: {problem}"


# ---- exercises 2 and 3: pooling with loops -------------------------------------------------------

def pool_cases(rng):
    settings = [(2, None), (2, 2), (3, 3), (2, 1), (3, 1), (3, 2), (2, 3), (1, 1), (4, 4), (4, 3)]
    shapes = [(8, 8), (7, 9), (5, 5), (6, 11), (13, 4), (4, 4), (3, 5)]
    cases = []
    for k, s in settings:
        for shape in shapes:
            if k > min(shape):
                continue
            x = rng.normal(size=shape) if len(cases) % 2 else rng.integers(-50, 50, shape)
            cases.append({"x": x, "k": k, "s": s})
    return {"cases": cases}


def collect_pool(ns, data):
    return loop_answers(ns[data["function"]], [(case["x"], case["k"]) if case["s"] is None
                                               else (case["x"], case["k"], case["s"]) for case in data["cases"]])


def cases_for(function_name):
    return lambda rng: dict(pool_cases(rng), function=function_name)


def _judge_pool(data, answer, name, reference):
    if problem := count_problem(name, answer["outputs"], data["cases"]):
        return problem
    for case, got in zip(data["cases"], answer["outputs"]):
        x = torch.from_numpy(np.asarray(case["x"], dtype=float))[None, None]
        want = reference(x, case["k"], case["s"])[0, 0].numpy()
        # float32 arithmetic is a correct answer too: float32's tolerance, not float64's
        problem = compare_arrays(got, want, rtol=FLOAT32, atol=FLOAT32)
        if problem:
            stride = "its default stride" if case["s"] is None else f"stride {case['s']}"
            return (f"{name}: {problem} for a hidden {describe_shape(case['x'])} input, "
                    f"window {case['k']}, {stride}")
    return None


def judge_max_pool(data, answer):
    return _judge_pool(data, answer, "max_pool2d", F.max_pool2d)


def judge_avg_pool(data, answer):
    return _judge_pool(data, answer, "avg_pool2d", F.avg_pool2d)


# ---- exercise 4: Net4 ----------------------------------------------------------------------------

def net_inputs(rng):
    return {"batches": [ref.to_input(ref.X_IMAGE).numpy(), ref.to_input(ref.O_IMAGE).numpy(),
                        np.concatenate([ref.to_input(ref.X_IMAGE).numpy(), ref.to_input(ref.O_IMAGE).numpy()]),
                        rng.random((3, 1, 28, 28)).astype(np.float32),
                        rng.random((2, 1, 17, 23)).astype(np.float32)]}


def collect_net(ns, data):
    import torch

    net = ns["Net4"]()
    with torch.no_grad():
        return [np.asarray(net(torch.as_tensor(batch, dtype=torch.float32)).detach().numpy(), dtype=float)
                for batch in data["batches"]]


def judge_net(data, answer):
    if len(answer) != len(data["batches"]):
        return "Net4: not one output per batch"
    problem = compare_arrays(answer[0][0], ref.X_POOLED, rtol=0, atol=ref.TOLERANCE)
    if problem:
        return f"Net4: {problem} for the X (compared with the stored output, element by element)"
    weight = torch.from_numpy(ref.FILTERS).unsqueeze(1)
    bias = torch.from_numpy(ref.BIASES)
    for batch, got in zip(data["batches"], answer):
        want = F.max_pool2d(F.relu(F.conv2d(torch.from_numpy(batch), weight, bias)), 2, 2).numpy()
        problem = compare_arrays(got, want, rtol=0, atol=1e-4)
        if problem:
            return f"Net4: {problem} for a hidden batch of shape {describe_shape(batch)}"
    return None


PROBES = [
    Probe("test_by_hand", collect=collect_by_hand, judge=judge_by_hand),
    Probe("test_max_pool2d", collect=collect_pool, judge=judge_max_pool, inputs=cases_for("max_pool2d"),
          rule=Loops("max_pool2d must use loops, not a library", POOLING)),
    Probe("test_avg_pool2d", collect=collect_pool, judge=judge_avg_pool, inputs=cases_for("avg_pool2d"),
          rule=Loops("avg_pool2d must use loops, not a library", POOLING)),
    Probe("test_Net4", collect=collect_net, judge=judge_net, inputs=net_inputs),
]
