"""Trusted hidden checks for 02_padding_stride (instructor-only: never released, invisible to students).

`course.grading.verdicts.trusted` runs each `collect` in a sandboxed copy of the submission and
each `judge` in the grader, against PyTorch and scipy; see that module.
"""
import numpy as np
import torch
import torch.nn.functional as F
from scipy.signal import correlate2d
from torch import nn

from course.grading.verdicts.probe import CONVOLUTIONS, Loops, Probe, compare_arrays, describe_shape
from course.grading.verdicts.probe_kit import count_problem, loop_answers

# ---- exercise 1: the transposed kernel -----------------------------------------------------------

def collect_horizontal_edges(ns, data):
    return np.asarray(ns["horizontal_edges"], dtype=float)


def judge_horizontal_edges(data, answer):
    image = np.ones((6, 8))
    image[:, 2:6] = 0
    problem = compare_arrays(answer, correlate2d(image, np.array([[1.0, 1.0], [-1.0, -1.0]]), "valid"), atol=1e-6)
    return problem and f"horizontal_edges: {problem}"


# ---- exercise 2: conv_output_shape ---------------------------------------------------------------

def shape_cases(rng):
    cases = [((1, 28, 28), 16, (1, 5, 5), 1, 0), ((2, 32, 32), 24, (2, 3, 3), 1, 0),
             ((10, 32, 32), 3, (10, 2, 2), 2, 0), ((11, 8, 16), 7, (11, 3, 3), 2, 1),
             ((128, 256, 256), 112, (128, 3, 3), 1, 1),
             ((3, 8, 8), 4, (2, 3, 3), 1, 0), ((1, 4, 4), 2, (1, 7, 7), 1, 1),  # must raise
             ((1, 3, 3), 1, (1, 6, 6), 2, 1), ((2, 5, 9), 3, (2, 8, 3), 3, 1)]   # just too big: must raise
    for _ in range(40):
        c, f = (int(v) for v in rng.integers(1, 5, 2))
        h, w = (int(v) for v in rng.integers(1, 30, 2))
        kh, kw = (int(v) for v in rng.integers(1, 8, 2))
        filter_c = c if rng.random() < 0.85 else c + 1
        cases.append(((c, h, w), f, (filter_c, kh, kw), int(rng.integers(1, 5)), int(rng.integers(0, 4))))
    return {"cases": cases}


def collect_output_shape(ns, data):
    function, results = ns["conv_output_shape"], []
    for input_chw, n_filters, filter_chw, stride, padding in data["cases"]:
        try:
            got = function(tuple(input_chw), n_filters, tuple(filter_chw), stride, padding)
            results.append({"shape": [float(v) for v in got]})
        except ValueError:
            results.append({"raised": "ValueError"})
        except Exception as error:  # noqa: BLE001 (reported, judged as wrong)
            results.append({"raised": type(error).__name__})
    return results


def expected_shape(input_chw, n_filters, filter_chw, stride, padding):
    """What nn.Conv2d gives, or None when it refuses (channels differ, empty output)."""
    if input_chw[0] != filter_chw[0]:
        return None
    layer = nn.Conv2d(input_chw[0], n_filters, tuple(filter_chw[1:]), stride=stride, padding=padding, device="meta")
    try:
        shape = tuple(layer(torch.zeros(1, *input_chw, device="meta")).shape[1:])
    except RuntimeError:
        return None
    return None if 0 in shape else shape


def judge_output_shape(data, answer):
    if problem := count_problem("conv_output_shape", answer, data["cases"]):
        return problem
    for case, got in zip(data["cases"], answer):
        want = expected_shape(*case)
        label = f"input {case[0]}, {case[1]} filters of {case[2]}, stride {case[3]}, padding {case[4]}"
        if want is None and got.get("raised") != "ValueError":
            return f"conv_output_shape must raise ValueError for {label}"
        if want is not None and ("shape" not in got or tuple(got["shape"]) != want):
            return f"conv_output_shape: wrong result for {label}"
    return None


# ---- exercise 3: the flattened size --------------------------------------------------------------

def collect_flattened_size(ns, data):
    return float(ns["flattened_size"])


def judge_flattened_size(data, answer):
    net = nn.Sequential(nn.Conv2d(1, 10, kernel_size=5), nn.MaxPool2d(kernel_size=2), nn.Flatten())
    want = net(torch.zeros(1, 1, 28, 28)).shape[1]
    return None if answer == want else "flattened_size: not the size nn.Linear needs after this conv and pool"


# ---- exercise 4: parameter counts ----------------------------------------------------------------

def count_cases(rng):
    cases = [(1440, 10, 5), (4, 3, 1), (1, 16, 5), (1, 1, 1)]
    for _ in range(15):
        a, b, k = (int(v) for v in rng.integers(1, 40, 3))
        cases.append((a, b, k % 7 + 1))
    return {"cases": cases}


def collect_counts(ns, data):
    linear, conv = ns["linear_params"], ns["conv_params"]
    return {"linear": [float(linear(a * 7, b)) for a, b, k in data["cases"]],
            "conv": [float(conv(a, b, k)) for a, b, k in data["cases"]],
            "dense_total": float(ns["dense_total"]), "conv_total": float(ns["conv_total"])}


def _count(module) -> int:
    return sum(p.numel() for p in module.parameters())


def judge_counts(data, answer):
    for (a, b, k), linear, conv in zip(data["cases"], answer["linear"], answer["conv"]):
        if linear != _count(nn.Linear(a * 7, b, device="meta")):
            return f"linear_params: wrong count for nn.Linear({a * 7}, {b})"
        if conv != _count(nn.Conv2d(a, b, k, device="meta")):
            return f"conv_params: wrong count for nn.Conv2d({a}, {b}, {k})"
    dense = nn.Sequential(nn.Flatten(), nn.Linear(3 * 32 * 32, 256), nn.ReLU(), nn.Linear(256, 10))
    body = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten())
    conv_net = nn.Sequential(body, nn.Linear(body(torch.zeros(1, 3, 32, 32)).shape[1], 10))
    if answer["dense_total"] != _count(dense):
        return "dense_total: not the dense network's parameter count"
    if answer["conv_total"] != _count(conv_net):
        return "conv_total: not the conv network's parameter count"
    return None


# ---- exercise 5: conv2d_forward ------------------------------------------------------------------

def forward_cases(rng):
    configs = [(2, 3, 4, 7, 7, 3, 3, 1, 1), (1, 1, 1, 5, 9, 2, 4, 2, 0), (3, 2, 2, 6, 5, 1, 1, 3, 2),
               (1, 4, 3, 8, 8, 5, 5, 2, 2), (2, 1, 2, 4, 4, 4, 4, 1, 0)]
    for _ in range(8):
        s, p = int(rng.integers(1, 4)), int(rng.integers(0, 3))
        h, w = (int(v) for v in rng.integers(2, 10, 2))
        kh, kw = int(rng.integers(1, min(h + 2 * p, 5) + 1)), int(rng.integers(1, min(w + 2 * p, 5) + 1))
        configs.append((int(rng.integers(1, 4)), int(rng.integers(1, 4)), int(rng.integers(1, 5)), h, w, kh, kw, s, p))
    cases = []
    for n, c, f, h, w, kh, kw, s, p in configs:
        cases.append({"x": rng.normal(size=(n, c, h, w)), "w": rng.normal(size=(f, c, kh, kw)),
                      "b": rng.normal(size=f), "stride": s, "padding": p})
    return {"cases": cases}


def collect_forward(ns, data):
    return loop_answers(ns["conv2d_forward"], [(case["x"], case["w"], case["b"], case["stride"], case["padding"])
                                               for case in data["cases"]])


def judge_forward(data, answer):
    if problem := count_problem("conv2d_forward", answer["outputs"], data["cases"]):
        return problem
    for case, got in zip(data["cases"], answer["outputs"]):
        want = F.conv2d(torch.from_numpy(case["x"]), torch.from_numpy(case["w"]), torch.from_numpy(case["b"]),
                        stride=case["stride"], padding=case["padding"]).numpy()
        problem = compare_arrays(got, want, rtol=1e-5, atol=1e-5)  # float32 arithmetic is a correct answer too
        if problem:
            return (f"conv2d_forward: {problem} for a hidden input of shape {describe_shape(case['x'])}, "
                    f"weights {describe_shape(case['w'])}, stride {case['stride']}, padding {case['padding']}")
    return None


# ---- exercise 6: receptive field -----------------------------------------------------------------

def field_cases(rng):
    stacks = [[(3, 1)], [(3, 1), (3, 1)], [(3, 2), (3, 2)], [], [(5, 1), (2, 2), (3, 1)], [(7, 2), (3, 2), (3, 1)],
              [(1, 1)], [(2, 2), (2, 2), (2, 2)]]
    for _ in range(8):
        layers = []
        for _ in range(int(rng.integers(1, 4))):
            k = int(rng.integers(1, 6))
            layers.append((k, int(rng.integers(1, min(k, 3) + 1))))
        stacks.append(layers)
    return {"stacks": stacks}


def collect_field(ns, data):
    function = ns["receptive_field"]
    return [float(function([tuple(layer) for layer in stack])) for stack in data["stacks"]]


def measured_field(layers, size=96) -> int:
    """Extent of the input pixels with a nonzero gradient for output unit (0, 0) of all-ones convs."""
    if not layers:
        return 1
    stack = nn.Sequential(*[nn.Conv2d(1, 1, k, stride=s, bias=False) for k, s in layers])
    with torch.no_grad():
        for layer in stack:
            layer.weight.fill_(1.0)
    x = torch.ones(1, 1, size, size, requires_grad=True)
    stack(x)[0, 0, 0, 0].backward()
    rows, _ = torch.nonzero(x.grad[0, 0], as_tuple=True)
    return int(rows.max()) + 1


def judge_field(data, answer):
    if problem := count_problem("receptive_field", answer, data["stacks"], "stack"):
        return problem
    for layers, got in zip(data["stacks"], answer):
        if got != measured_field(layers):
            return f"receptive_field: wrong size for a hidden stack of {len(layers)} layers"
    return None


PROBES = [
    Probe("test_horizontal_edges", collect=collect_horizontal_edges, judge=judge_horizontal_edges),
    Probe("test_conv_output_shape", collect=collect_output_shape, judge=judge_output_shape, inputs=shape_cases),
    Probe("test_flattened_size", collect=collect_flattened_size, judge=judge_flattened_size),
    Probe("test_parameter_counts", collect=collect_counts, judge=judge_counts, inputs=count_cases),
    Probe("test_conv2d_forward", collect=collect_forward, judge=judge_forward, inputs=forward_cases,
          rule=Loops("conv2d_forward must use loops, not a library convolution", CONVOLUTIONS)),
    Probe("test_receptive_field", collect=collect_field, judge=judge_field, inputs=field_cases),
]
