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

from course.grading.verdicts.probe import Probe, compare_arrays
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


PROBES = [
    Probe("test_layer_parameters", collect=collect_layer_parameters, judge=judge_layer_parameters),
    Probe("test_EMNIST_Net", collect=collect_net, judge=judge_net, inputs=net_inputs),
    Probe("test_predict_proba", collect=collect_proba, judge=judge_proba, inputs=proba_inputs),
]
