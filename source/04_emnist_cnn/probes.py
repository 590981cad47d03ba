"""Trusted hidden checks for 04_emnist_cnn (instructor-only: never released, invisible to students).

`course.grading.verdicts.trusted` runs each `collect` in a sandboxed copy of the submission and
each `judge` in the grader, against PyTorch. Networks cannot cross the sandbox,
so weights and inputs are rebuilt on both sides from the same seed with numpy,
by the same code (`course.grading.verdicts.probe_kit`): if the student's code tampers
with numpy in there, it only feeds its own network other numbers, and the
outputs no longer match.
"""
import numpy as np
import torch
from torch import nn

from course.costs import measure
from course.grading.verdicts.probe import Loops, Probe, compare_arrays
from course.grading.verdicts.probe_kit import count_problem, dropout_net, load_weights, load_weights_by_shape

# ---- exercise 1: parameter counts ----------------------------------------------------------------

def collect_layer_parameters(ns, data):
    counts = ns["layer_parameters"]
    return {str(name): float(counts[name]) for name in counts}


def judge_layer_parameters(data, answer):
    layers = {"conv1": nn.Conv2d(1, 32, 3), "conv2": nn.Conv2d(32, 64, 3),
              "fc1": nn.Linear(64 * 12 * 12, 128), "fc2": nn.Linear(128, 2)}
    if sorted(answer) != sorted(layers):
        return "layer_parameters: the keys must be conv1, conv2, fc1 and fc2"
    for name, layer in layers.items():
        if answer[name] != sum(p.numel() for p in layer.parameters()):
            return f"layer_parameters: wrong count for {name}"
    return None


# ---- exercise 2: EMNIST_Net ----------------------------------------------------------------------

class Reference(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3)
        self.conv2 = nn.Conv2d(32, 64, 3)
        self.fc1 = nn.Linear(9216, 128)
        self.fc2 = nn.Linear(128, 2)

    def forward(self, x):
        x = torch.relu(self.conv2(torch.relu(self.conv1(x))))
        x = torch.flatten(nn.functional.max_pool2d(x, 2), 1)
        return self.fc2(torch.relu(self.fc1(x)))


def net_inputs(rng):
    return {"seed": int(rng.integers(2 ** 31)), "x": (2 * rng.standard_normal((6, 1, 28, 28))).astype(np.float32)}


def collect_net(ns, data):
    import torch

    net = ns["EMNIST_Net"]()
    shapes = sorted(tuple(p.shape) for p in net.parameters())
    count = sum(p.numel() for p in net.parameters())
    load_weights_by_shape(net, data["seed"]).eval()
    x = torch.as_tensor(data["x"], dtype=torch.float32)
    with torch.no_grad():
        many, one = net(x), net(x[:1])
    return {"shapes": [list(s) for s in shapes], "count": float(count),
            "many": np.asarray(many.numpy(), dtype=float), "one": np.asarray(one.numpy(), dtype=float)}


def judge_net(data, answer):
    reference = Reference()
    want_shapes = sorted(tuple(p.shape) for p in reference.parameters())
    if sorted(tuple(s) for s in answer["shapes"]) != want_shapes:
        return "EMNIST_Net: its layers do not have the shapes of the network described above"
    if answer["count"] != 1198850:
        return "EMNIST_Net: not 1,198,850 parameters"
    load_weights_by_shape(reference, data["seed"]).eval()
    with torch.no_grad():
        want = reference(torch.from_numpy(data["x"])).numpy()
    problem = compare_arrays(answer["many"], want, rtol=0, atol=1e-5)
    if problem:
        return f"EMNIST_Net: {problem} compared with the reference network given the same weights"
    problem = compare_arrays(answer["one"], want[:1], rtol=0, atol=1e-5)
    return problem and f"EMNIST_Net: {problem} for a batch of one image"


# ---- exercise 3: predict_proba -------------------------------------------------------------------

def proba_inputs(rng):
    return {"seed": int(rng.integers(2 ** 31)), "x": rng.standard_normal((7, 1, 28, 28)).astype(np.float32),
            "batches": [[0, 7], [0, 1], [2, 5]]}


def collect_proba(ns, data):
    import torch

    net = load_weights(dropout_net(), data["seed"], scale=0.1)
    x = torch.as_tensor(data["x"], dtype=torch.float32)
    results = []
    for start, stop in data["batches"]:
        net.train()
        got = ns["predict_proba"](net, x[start:stop])
        results.append({"tensor": isinstance(got, torch.Tensor), "grad": bool(getattr(got, "requires_grad", True)),
                        "values": np.asarray(torch.as_tensor(got).detach().float().numpy(), dtype=float)})
    return results


def judge_proba(data, answer):
    net = load_weights(dropout_net(), data["seed"], scale=0.1).eval()
    with torch.no_grad():
        want = torch.softmax(net(torch.from_numpy(data["x"])), dim=1).numpy()
    for (start, stop), got in zip(data["batches"], answer):
        if not got["tensor"] or got["grad"]:
            return "predict_proba must return a tensor computed without tracking gradients"
        problem = compare_arrays(got["values"], want[start:stop], rtol=0, atol=1e-6)
        if problem:
            return f"predict_proba: {problem} for a hidden batch of {stop - start} images"
    return count_problem("predict_proba", answer, data["batches"], "batch")


# ---- exercise 4: layer_costs --------------------------------------------------------------------

def random_network(rng) -> dict:
    """Convs and max pools that still fit, maybe GAP, then up to two linear layers."""
    c, h, w = int(rng.integers(1, 5)), int(rng.integers(6, 33)), int(rng.integers(6, 33))
    layers, size = [], [h, w]
    for _ in range(int(rng.integers(1, 5))):
        if rng.random() < 0.65:
            k, s = int(rng.integers(1, 6)), int(rng.integers(1, 3))
            p = int(rng.integers(0, k // 2 + 1))
            if min(size) + 2 * p < k:
                break
            layers.append(["conv", int(rng.integers(1, 17)), k, s, p])
            size = [(n + 2 * p - k) // s + 1 for n in size]
        else:
            k = int(rng.integers(2, 4))
            s = int(rng.integers(1, k + 1))
            if min(size) < k:
                break
            layers.append(["maxpool", k, s])
            size = [(n - k) // s + 1 for n in size]
    if rng.random() < 0.5:
        layers.append(["gap"])
    layers += [["linear", int(rng.integers(1, 20))] for _ in range(int(rng.integers(0, 3)))]
    return {"input": [c, h, w], "layers": layers}


def cost_cases(rng):
    fixed = [((1, 28, 28), [["conv", 10, 5, 1, 0], ["maxpool", 2, 2], ["linear", 10]]),
             ((3, 32, 32), [["conv", 16, 3, 2, 1], ["maxpool", 3, 2], ["conv", 8, 1, 1, 0], ["gap"], ["linear", 10]]),
             ((1, 5, 5), []), ((2, 7, 9), [["maxpool", 2, 2], ["linear", 3]]),
             ((3, 9, 9), [["conv", 5, 3, 2, 0], ["maxpool", 2, 1], ["gap"], ["linear", 4], ["linear", 2]]),
             ((4, 8, 8), [["conv", 6, 1, 2, 0], ["maxpool", 3, 2], ["linear", 7]]),
             ((64, 14, 14), [["conv", 16, 1, 1, 0], ["conv", 16, 3, 1, 1], ["conv", 64, 1, 1, 0], ["gap"], ["linear", 10]])]
    return {"networks": [{"input": list(i), "layers": layers} for i, layers in fixed] +
                        [random_network(rng) for _ in range(20)]}


def collect_costs(ns, data):
    function = ns["layer_costs"]
    return [[[float(v) for v in pair] for pair in function(tuple(net["input"]), [tuple(layer) for layer in net["layers"]])]
            for net in data["networks"]]


def as_torch(input_chw, layers) -> nn.Sequential:
    """The nn.Sequential the layer tuples describe, one block per tuple."""
    x, blocks = torch.zeros(1, *input_chw), []
    for layer in layers:
        if layer[0] == "conv":
            block = nn.Conv2d(x.shape[1], layer[1], layer[2], stride=layer[3], padding=layer[4])
        elif layer[0] == "maxpool":
            block = nn.MaxPool2d(layer[1], stride=layer[2])
        elif layer[0] == "gap":
            block = nn.AdaptiveAvgPool2d(1)
        else:
            block = nn.Sequential(nn.Flatten(), nn.Linear(x[0].numel(), layer[1]))
        x = block(x)
        blocks.append(block)
    return nn.Sequential(*blocks)


def judge_costs(data, answer):
    if problem := count_problem("layer_costs", answer, data["networks"], "network"):
        return problem
    for net, got in zip(data["networks"], answer):
        layers = net["layers"]
        where = f"a hidden network of {len(layers)} layers"
        if len(got) != len(layers) or any(len(pair) != 2 for pair in got):
            return f"layer_costs: not one (parameters, multiply_adds) pair per layer for {where}"
        for number, (layer, pair, row) in enumerate(zip(layers, got, measure(as_torch(net["input"], layers), net["input"])), 1):
            if pair[0] != row.params:
                return f"layer_costs: wrong parameter count for layer {number} ({layer[0]}) of {where}"
            if pair[1] != row.macs:
                return f"layer_costs: wrong multiply-adds for layer {number} ({layer[0]}) of {where}"
    return None


PROBES = [
    Probe("test_layer_parameters", collect=collect_layer_parameters, judge=judge_layer_parameters),
    Probe("test_EMNIST_Net", collect=collect_net, judge=judge_net, inputs=net_inputs),
    Probe("test_predict_proba", collect=collect_proba, judge=judge_proba, inputs=proba_inputs),
    Probe("test_layer_costs", collect=collect_costs, judge=judge_costs, inputs=cost_cases,
          rule=Loops("layer_costs must count with the formulas, not build the network in PyTorch or another library")),
]
