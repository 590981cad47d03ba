"""Trusted hidden checks for 05_training_loop (instructor-only: never released, invisible to students).

`course.grading.verdicts.trusted` runs each `collect` in a sandboxed copy of the submission and
each `judge` in the grader, against PyTorch. Networks cannot cross the sandbox,
so both sides rebuild the same small networks from a numpy seed, with the same
code (`course.grading.verdicts.probe_kit`); the grader
then runs its own evaluation and its own training loop (SGD, learning rate
0.01, momentum 0.9, the notebook's default) from the same start, with the same
torch seed before each run so that dropout draws the same masks, and compares
the curves, the final weights and the (train mode, gradients on) pairs that the
student's loop showed the network at each forward pass.
"""

import numpy as np
import torch
from torch import nn

from course.grading.verdicts.probe import Probe, compare_arrays
from course.grading.verdicts.probe_kit import count_problem, evaluate_net, load_weights, recorder, train_net

CURVES = ("train_loss", "train_acc", "val_loss", "val_acc")


# ---- exercise 1: accuracy ------------------------------------------------------------------------

def accuracy_cases(rng):
    cases = [(np.array([[2.0, 1.0], [0.0, 3.0], [1.0, 0.0], [0.5, 0.2]], dtype=np.float32), np.array([0, 1, 1, 0])),
             (np.array([[0.1, 0.7, 0.2], [0.9, 0.05, 0.05], [0.2, 0.3, 0.5]], dtype=np.float32), np.array([1, 0, 0])),
             (np.array([[-1.0, -2.0, 5.0, 0.0]], dtype=np.float32), np.array([2])),
             (np.eye(6, dtype=np.float32), np.arange(6)), (np.eye(6, dtype=np.float32), (np.arange(6) + 1) % 6)]
    shapes = [(1, 2), (2, 10), (7, 3), (64, 2), (100, 10), (333, 5), (50, 50)]
    shapes += [(int(rng.integers(1, 200)), int(rng.integers(2, 12))) for _ in range(5)]
    for n, c in shapes:
        logits = rng.normal(size=(n, c)).astype(np.float32)
        for row in logits:  # no ties for the largest logit: every arg-max agrees
            while np.sum(row == row.max()) > 1:
                row[:] = rng.normal(size=c).astype(np.float32)
        cases.append((logits, rng.integers(0, c, size=n)))
    return {"cases": [{"logits": logits, "labels": labels.astype(np.int64)} for logits, labels in cases]}


def collect_accuracy(ns, data):
    import torch

    function = ns["accuracy"]
    results = []
    for case in data["cases"]:
        got = function(torch.tensor(case["logits"], dtype=torch.float32), torch.tensor(case["labels"]))
        results.append({"number": isinstance(got, (float, np.floating)), "value": float(got)})
    return results


def judge_accuracy(data, answer):
    if problem := count_problem("accuracy", answer, data["cases"]):
        return problem
    for case, got in zip(data["cases"], answer):
        logits = case["logits"]
        if not got["number"]:
            return "accuracy must return a plain Python float (use .item())"
        want = float(np.mean(logits.argmax(axis=1) == case["labels"]))
        if not np.isfinite(got["value"]) or abs(got["value"] - want) >= 1e-6:
            return f"accuracy: wrong value for hidden logits of shape {logits.shape[0]}\u00d7{logits.shape[1]}"
    return None


# ---- exercise 2: evaluate ------------------------------------------------------------------------

def evaluate_cases(rng):
    runs = []
    for batch_size, smoothing in ((8, 0.1), (16, 0.0)):
        n = int(rng.integers(3 * batch_size + 1, 4 * batch_size))  # the last batch is a short one
        runs.append({"seed": int(rng.integers(2 ** 31)), "batch_size": batch_size, "smoothing": smoothing,
                     "x": (rng.standard_normal((n, 1, 6, 6)) * 1.5 + 0.5).astype(np.float32),
                     "y": rng.integers(0, 4, size=n).astype(np.int64)})
    return {"runs": runs}


def collect_evaluate(ns, data):
    import torch
    from torch import nn
    from torch.utils.data import DataLoader, TensorDataset

    function = ns["evaluate"]
    results = []
    for run in data["runs"]:
        model, calls = recorder(evaluate_net())
        load_weights(model, run["seed"])
        loader = DataLoader(TensorDataset(torch.from_numpy(run["x"]), torch.from_numpy(run["y"])),
                            batch_size=run["batch_size"])
        model.train()
        got = function(model, loader, nn.CrossEntropyLoss(label_smoothing=run["smoothing"]))
        got = list(got)
        results.append({
            "size": len(got),
            "loss": float(got[0]), "acc": float(got[1]), "calls": [list(c) for c in calls],
            "buffers": [np.asarray(b.detach().double().numpy(), dtype=float) for b in model.buffers()],
            "grads": any(p.grad is not None and bool(p.grad.abs().sum() > 0) for p in model.parameters())})
    return {"runs": results}


def judge_evaluate(data, answer):
    if problem := count_problem("evaluate", answer["runs"], data["runs"], "hidden model"):
        return problem
    for run, got in zip(data["runs"], answer["runs"]):
        model = load_weights(evaluate_net(), run["seed"])
        start = [b.clone() for b in model.buffers()]
        model.eval()
        criterion = nn.CrossEntropyLoss(label_smoothing=run["smoothing"])
        x, y, size = torch.from_numpy(run["x"]), torch.from_numpy(run["y"]), run["batch_size"]
        with torch.no_grad():
            logits = model(x)
            losses = [criterion(model(x[i:i + size]), y[i:i + size]).item() for i in range(0, len(y), size)]
        want_acc = (logits.argmax(1) == y).double().mean().item()
        if got["size"] != 2:
            return "evaluate must return a tuple (mean_loss, accuracy)"
        if [tuple(c) for c in got["calls"]] != [(False, False)] * len(losses):
            modes = {tuple(c) for c in got["calls"]}
            if len(got["calls"]) != len(losses):
                return f"evaluate: {len(got['calls'])} forward passes for a hidden loader of {len(losses)} batches"
            if any(training for training, _ in modes):
                return "evaluate: the model was still in train mode during the forward passes (call model.eval())"
            return "evaluate: the forward passes recorded gradients (wrap them in torch.no_grad())"
        if not np.isfinite(got["loss"]) or abs(got["loss"] - float(np.mean(losses))) >= 1e-5:
            return "evaluate: wrong mean loss for a hidden model and loader (the mean of the batch losses)"
        if not np.isfinite(got["acc"]) or abs(got["acc"] - want_acc) >= 1e-6:
            return "evaluate: wrong accuracy for a hidden model and loader"
        buffers = [b.double().numpy() for b in start]
        if len(got["buffers"]) != len(buffers) or any(
                compare_arrays(a, b, exact=True) for a, b in zip(got["buffers"], buffers)):
            return "evaluate changed the model's batch-norm statistics"
        if got["grads"]:
            return "evaluate computed gradients"
    return None


# ---- exercise 3: train ---------------------------------------------------------------------------

def train_cases(rng):
    n_train = int(rng.choice([98, 100, 102, 106, 108, 110]))  # never a multiple of 16: the last batch is short
    n_val = int(rng.choice([27, 29, 30, 34, 37]))             # nor of 8
    labels = rng.integers(0, 3, size=n_train + n_val)
    images = rng.standard_normal((n_train + n_val, 1, 8, 8)) * 0.7
    bands = rng.permutation(3)
    for k in range(3):  # each class brightens its own band of rows
        images[labels == k, :, 2 * bands[k] + 1:2 * bands[k] + 3, :] += 1.5
    images = images.astype(np.float32)
    return {"seed": int(rng.integers(2 ** 31)), "dropout_seeds": [int(s) for s in rng.integers(2 ** 31, size=2)],
            "epochs": [1, 3], "train_x": images[:n_train], "train_y": labels[:n_train].astype(np.int64),
            "val_x": images[n_train:], "val_y": labels[n_train:].astype(np.int64)}


def collect_train(ns, data):
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    function = ns["train"]
    train_set = TensorDataset(torch.from_numpy(data["train_x"]), torch.from_numpy(data["train_y"]))
    val_set = TensorDataset(torch.from_numpy(data["val_x"]), torch.from_numpy(data["val_y"]))
    results = []
    for epochs, dropout_seed in zip(data["epochs"], data["dropout_seeds"]):
        model, calls = recorder(train_net())
        load_weights(model, data["seed"])
        # No shuffling and own generators: the batches and the global random state (dropout's masks)
        # must not depend on how often a loop calls iter().
        train_loader = DataLoader(train_set, batch_size=16, generator=torch.Generator().manual_seed(5))
        val_loader = DataLoader(val_set, batch_size=8, generator=torch.Generator().manual_seed(6))
        model.eval()  # a correct loop sets the mode itself
        torch.manual_seed(dropout_seed)
        history = function(model, torch.device("cpu"), train_loader, val_loader, epochs)
        curves = {key: [float(v) for v in history[key]] for key in ("train_loss", "train_acc", "val_loss", "val_acc")}
        plain = all(isinstance(v, (float, np.floating)) for key in curves for v in history[key])
        state = [np.asarray(v.detach().double().cpu().numpy(), dtype=float) for v in model.state_dict().values()]
        results.append({"curves": curves, "plain": plain, "calls": [list(c) for c in calls], "state": state})
    return {"runs": results}


def reference_train(model, data, epochs):
    """The notebook's loop, written out (the course's `training.fit` weighs losses by example, the exercise by
    batch): SGD, learning rate 0.01, momentum 0.9, on the same batches."""
    batches = {}
    for split, size in (("train", 16), ("val", 8)):
        x, y = torch.from_numpy(data[f"{split}_x"]), torch.from_numpy(data[f"{split}_y"])
        batches[split] = [(x[i:i + size], y[i:i + size]) for i in range(0, len(y), size)]
    sgd = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    criterion = nn.CrossEntropyLoss()
    history = {key: [] for key in CURVES}

    def one_pass(split, learn):
        losses, correct = [], 0
        for x, y in batches[split]:
            logits = model(x)
            loss = criterion(logits, y)
            if learn:
                sgd.zero_grad()
                loss.backward()
                sgd.step()
            losses.append(loss.item())
            correct += (logits.argmax(1) == y).sum().item()
        history[f"{split}_loss"].append(float(np.mean(losses)))
        history[f"{split}_acc"].append(correct / len(data[f"{split}_y"]))

    for _ in range(epochs):
        model.train()
        one_pass("train", learn=True)
        model.eval()
        with torch.no_grad():
            one_pass("val", learn=False)
    return history, len(batches["train"]), len(batches["val"])


def judge_train(data, answer):
    if problem := count_problem("train", answer["runs"], data["epochs"], "hidden run"):
        return problem
    for epochs, dropout_seed, got in zip(data["epochs"], data["dropout_seeds"], answer["runs"]):
        model = load_weights(train_net(), data["seed"])
        torch.manual_seed(dropout_seed)
        want, train_batches, val_batches = reference_train(model, data, epochs)
        for key in CURVES:
            values = got["curves"][key]
            if len(values) != epochs:
                return f"train: {len(values)} values in {key} after {epochs} epoch(s)"
            if not np.all(np.isfinite(values)) or not np.allclose(values, want[key], rtol=1e-5, atol=1e-6):
                return (f"train: {key} differs from the reference loop's after {epochs} epoch(s) "
                        "on a hidden network and data set")
        calls = [tuple(c) for c in got["calls"]]
        training = [c for c in calls if c[0]]
        evaluating = [c for c in calls if not c[0]]
        if len(training) != train_batches * epochs or any(c != (True, True) for c in training):
            return ("train: the training forward passes must run in train mode with gradients on "
                    "(call model.train() at the start of every epoch)")
        if len(evaluating) != val_batches * epochs or any(c != (False, False) for c in evaluating):
            return "train: the validation forward passes must run in eval mode without gradients"
        state = [v.double().numpy() for v in model.state_dict().values()]
        if len(got["state"]) != len(state) or any(
                compare_arrays(a, b, rtol=1e-5, atol=1e-6) for a, b in zip(got["state"], state)):
            return f"train: the weights after {epochs} epoch(s) differ from the reference loop's"
        if not got["plain"]:
            return "train: every value in the history must be a plain number (loss.item(), correct / seen)"
    return None


# ---- exercise 4: LeNet5 --------------------------------------------------------------------------

class LeNet5(nn.Module):
    """The reference: LeNet-5 with ReLU and max pooling, padding 2 on 28x28 inputs (not in the student package)."""

    def __init__(self, num_classes: int = 10):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                                      nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2))
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
                                        nn.Linear(84, num_classes))

    def forward(self, x):
        return self.classifier(self.features(x))


def lenet_cases(rng):
    return {"seed": int(rng.integers(2 ** 31)), "classes": [10, 2, int(rng.integers(3, 10))],
            "x": rng.standard_normal((8, 1, 28, 28)).astype(np.float32)}


def collect_lenet(ns, data):
    import torch
    from torch import nn

    cls, x, runs = ns["LeNet5"], torch.as_tensor(data["x"]), []
    for classes in data["classes"]:
        net = cls(num_classes=classes)
        shapes = [list(p.shape) for p in net.parameters()]
        load_weights(net, data["seed"] + classes)
        net.eval()
        with torch.no_grad():
            features = net.features(x)
            out = net(x)
        runs.append({"classes": classes, "shapes": shapes, "features": list(features.shape),
                     "parts": [isinstance(net.features, nn.Sequential), isinstance(net.classifier, nn.Sequential)],
                     "out": np.asarray(out.double().numpy(), dtype=float)})
    return runs


def judge_lenet(data, answer):
    if problem := count_problem("LeNet5", answer, data["classes"], "hidden network"):
        return problem
    x = torch.from_numpy(data["x"])
    for classes, got in zip(data["classes"], answer):
        reference = LeNet5(num_classes=classes)
        want_shapes = [tuple(p.shape) for p in reference.parameters()]
        if [tuple(s) for s in got["shapes"]] != want_shapes:
            count = sum(int(np.prod(s)) for s in got["shapes"])
            return (f"LeNet5(num_classes={classes}): parameter shapes differ from LeNet-5's "
                    f"({count:,} parameters, LeNet-5 has {sum(int(np.prod(s)) for s in want_shapes):,})")
        if not all(got["parts"]):
            return "LeNet5: self.features and self.classifier must each be an nn.Sequential"
        if tuple(got["features"]) != (len(x), 16, 5, 5):
            return f"LeNet5: features gives {tuple(got['features'])} for {len(x)} images instead of ({len(x)}, 16, 5, 5)"
        load_weights(reference, data["seed"] + classes).eval()
        with torch.no_grad():
            want = reference(x).double().numpy()
        if problem := compare_arrays(got["out"], want, rtol=1e-5, atol=1e-5):
            return f"LeNet5(num_classes={classes}): {problem} compared with LeNet-5 given the same weights"
    return None


PROBES = [
    Probe("test_accuracy", collect=collect_accuracy, judge=judge_accuracy, inputs=accuracy_cases),
    Probe("test_evaluate", collect=collect_evaluate, judge=judge_evaluate, inputs=evaluate_cases),
    Probe("test_train", collect=collect_train, judge=judge_train, inputs=train_cases),
    Probe("test_LeNet5", collect=collect_lenet, judge=judge_lenet, inputs=lenet_cases),
]
