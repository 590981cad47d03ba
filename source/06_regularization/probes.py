"""Trusted hidden checks for 06_regularization (instructor-only: never released, invisible to students).

`course.grading.verdicts.trusted` runs each `collect` in a sandboxed copy of the submission and
each `judge` in the grader. Networks cannot cross the sandbox, so both sides
load the same numpy-made weights (`course.grading.verdicts.probe_kit`) into the student's `FMNIST_Net2` and into the
course's `FMNIST_Net`; the grader runs the reference itself and compares the
outputs, the layer sequence and the dropout probabilities. The augmentation
is applied in the sandbox to real Fashion-MNIST test images that the grader
picks; the grader checks what comes back (type, shape, range, randomness).
The batch-norm forward pass is compared with `nn.BatchNorm2d`, run by the grader in float64.
"""
import numpy as np
import torch

from course.grading.verdicts import garments
from course.grading.verdicts.probe import Loops, Probe, compare_arrays, describe_shape
from course.grading.verdicts.probe_kit import count_problem, leaf_modules, load_weights, qualified
from course.models import FMNIST_Net

P_CHOICES = [0.1, 0.125, 0.2, 0.3, 0.375, 0.4, 0.6]  # never the defaults 0.25 and 0.5


AUGMENTED_IMAGES = 64
# Augmented images must be recognised at least this fraction as often as the originals. Measured over five
# hidden draws: mild label-keeping augmentations (the solution, the fair answers, a perspective warp) 0.92 to 1.04;
# 30-degree rotations with 20% zoom 0.72 to 0.84, a heavy blur 0.69 to 0.82, a vertical flip half the time
# 0.64 to 0.71, always upside down 0.31 to 0.41, inverted colours 0.02 to 0.10.
KEEPS_LABEL = 0.85


def distinct_seeds(rng) -> list:
    first = int(rng.integers(2 ** 30))
    return [first, first + 1 + int(rng.integers(2 ** 30))]


# ---- exercise 1: FMNIST_Net2 ---------------------------------------------------------------------

def net_inputs(rng):
    p_conv, p_fc = (float(p) for p in rng.choice(P_CHOICES, size=2, replace=False))
    return {"seed": int(rng.integers(2 ** 31)), "classes": [2, 10, int(rng.integers(3, 10))],
            "x": rng.standard_normal((16, 1, 28, 28)).astype(np.float32),
            "seeds": distinct_seeds(rng),
            "p_conv": p_conv, "p_fc": p_fc}


def collect_net(ns, data):
    import torch
    from torch import nn
    from torch.nn.modules.dropout import _DropoutNd

    cls = ns["FMNIST_Net2"]
    x = torch.as_tensor(data["x"], dtype=torch.float32)
    first, second = data["seeds"]
    runs = []
    for classes in data["classes"]:
        net = cls(num_classes=classes)
        shapes = [list(p.shape) for p in net.parameters()]
        load_weights(net, data["seed"] + classes)
        outputs = {}
        with torch.no_grad():
            net.eval()
            torch.manual_seed(first)
            outputs["eval_a"] = net(x)
            torch.manual_seed(second)
            outputs["eval_b"] = net(x)
            net.train()
            torch.manual_seed(first)
            outputs["train_a"] = net(x)
            torch.manual_seed(first)
            outputs["train_b"] = net(x)
            torch.manual_seed(second)
            outputs["train_c"] = net(x)
        runs.append({"classes": classes, "shapes": shapes,
                     **{k: np.asarray(v.detach().double().numpy(), dtype=float) for k, v in outputs.items()}})

    net = cls(num_classes=10, p_conv=data["p_conv"], p_fc=data["p_fc"])
    leaves = [{"type": qualified(m), "dropout": isinstance(m, _DropoutNd),
               "p": float(m.p) if isinstance(m, _DropoutNd) else None,
               "linear": isinstance(m, nn.Linear), "pool": isinstance(m, nn.MaxPool2d)} for m in leaf_modules(net)]
    return {"runs": runs, "leaves": leaves,
            "in_features": any(isinstance(m, _DropoutNd) for m in net.features.modules()),
            "in_classifier": any(isinstance(m, _DropoutNd) for m in net.classifier.modules()),
            "default": [float(m.p) for m in leaf_modules(cls()) if isinstance(m, _DropoutNd)]}


def judge_net(data, answer):
    x = torch.from_numpy(data["x"])
    if problem := count_problem("FMNIST_Net2", answer["runs"], data["classes"], "hidden network"):
        return problem
    for classes, got in zip(data["classes"], answer["runs"]):
        reference = FMNIST_Net(num_classes=classes)
        if [tuple(s) for s in got["shapes"]] != [tuple(p.shape) for p in reference.parameters()]:
            return f"FMNIST_Net2(num_classes={classes}): layer sizes differ from FMNIST_Net"
        load_weights(reference, data["seed"] + classes).eval()
        with torch.no_grad():
            want = reference(x).double().numpy()
        problem = compare_arrays(got["eval_a"], want, rtol=1e-5, atol=1e-5)
        if problem:
            return (f"FMNIST_Net2(num_classes={classes}) in eval mode: {problem} compared with FMNIST_Net "
                    "given the same weights (in eval mode dropout must do nothing)")
        if not np.array_equal(got["eval_a"], got["eval_b"]):
            return "FMNIST_Net2 in eval mode: two passes differ (use nn.Dropout layers, which switch off in eval mode)"
        if any(np.shape(got[k]) != want.shape or not np.all(np.isfinite(got[k])) for k in ("train_a", "train_c")):
            return f"FMNIST_Net2(num_classes={classes}) in train mode: not a finite {classes}-column output per image"
        if not np.array_equal(got["train_a"], got["train_b"]):
            return "FMNIST_Net2 in train mode: the same random seed does not repeat the output"
        if np.allclose(got["train_a"], got["train_c"], rtol=1e-5, atol=1e-8):
            return "FMNIST_Net2 in train mode: the output does not depend on the random numbers (no active dropout)"
        if np.allclose(got["train_a"], want, rtol=1e-5, atol=1e-8):
            return "FMNIST_Net2 in train mode: the output is that of the network without dropout"

    leaves = answer["leaves"]
    reference_leaves = leaf_modules(FMNIST_Net(num_classes=10))
    if [leaf["type"] for leaf in leaves if not leaf["dropout"]] != [qualified(m) for m in reference_leaves]:
        return "FMNIST_Net2: its layers (dropout aside) differ from FMNIST_Net's"
    linear = [i for i, leaf in enumerate(leaves) if leaf["linear"]]
    last_pool = max(i for i, leaf in enumerate(leaves) if leaf["pool"])
    after_pool = [leaf["p"] for leaf in leaves[last_pool + 1:linear[0]] if leaf["dropout"]]
    after_fc = [leaf["p"] for leaf in leaves[linear[0] + 1:linear[-1]] if leaf["dropout"]]
    if after_pool != [data["p_conv"]]:
        return "FMNIST_Net2: there must be one dropout layer with probability p_conv after the second pooling"
    if after_fc != [data["p_fc"]]:
        return "FMNIST_Net2: there must be one dropout layer with probability p_fc after the first linear layer"
    if not (answer["in_features"] and answer["in_classifier"]):
        return "FMNIST_Net2: one dropout layer belongs in self.features, the other in self.classifier"
    if answer["default"] != [0.25, 0.5]:
        return "FMNIST_Net2: the default dropout probabilities must be p_conv=0.25 and p_fc=0.5"
    return None


# ---- exercise 2: get_augmentation_transforms -----------------------------------------------------

def augmentation_inputs(rng):
    from course import data

    test = data.fashion_mnist(train=False)
    picks = torch.from_numpy(rng.choice(len(test.data), size=AUGMENTED_IMAGES, replace=False))
    return {"images": test.data[picks].numpy().astype(np.uint8), "labels": test.targets[picks].numpy().astype(np.int64),
            "seeds": [distinct_seeds(rng) + [int(rng.integers(2 ** 30))] for _ in range(AUGMENTED_IMAGES)]}


def collect_augmentation(ns, data):
    import random

    import torch
    from PIL import Image
    from torch.utils.data import TensorDataset
    from torchvision import transforms as T

    from course import augment

    make = ns["get_augmentation_transforms"]

    def reseed(seed):
        random.seed(seed)
        np.random.seed(seed)
        torch.manual_seed(seed)

    def report(y):
        if not isinstance(y, torch.Tensor):
            return {"tensor": False, "type": type(y).__name__}
        return {"tensor": True, "shape": [int(n) for n in y.shape], "dtype": str(y.dtype),
                "values": np.asarray(y.detach().double().numpy(), dtype=float) if y.numel() <= 10000 else None}

    transforms = make()
    result = {"list": isinstance(transforms, list), "pil": [], "uint8": []}
    if not result["list"]:
        return result
    for image, seeds in zip(data["images"], data["seeds"]):
        pil = Image.fromarray(np.ascontiguousarray(image))
        draws = []
        for seed in seeds:
            pipeline = T.Compose(list(make()) + [T.ToTensor()])
            reseed(seed)
            try:
                draws.append(report(pipeline(pil)))
            except Exception as error:
                draws.append({"error": type(error).__name__})
        result["pil"].append(draws)
        out = torch.from_numpy(np.array(image)).unsqueeze(0)
        reseed(seeds[0])
        try:
            for transform in make():
                out = transform(out)
            result["uint8"].append({k: v for k, v in report(out).items() if k != "values"})
        except Exception as error:
            result["uint8"].append({"error": type(error).__name__})
    images = torch.from_numpy(np.array(data["images"][:8])).unsqueeze(1)
    dataset = augment.AugmentedImages(TensorDataset(images, torch.zeros(len(images), dtype=torch.long)), make())
    reseed(data["seeds"][0][0])
    try:
        batch = torch.stack([dataset[k][0] for k in range(len(images))])
        result["dataset"] = {"shape": [int(n) for n in batch.shape], "finite": bool(torch.isfinite(batch).all())}
    except Exception as error:
        result["dataset"] = {"error": type(error).__name__}
    return result


def judge_augmentation(data, answer):
    if not answer["list"]:
        return "get_augmentation_transforms() must return a list"
    if len(answer["pil"]) != len(data["images"]) or len(answer["uint8"]) != len(data["images"]):
        return "get_augmentation_transforms: not one result per hidden image"
    differs = 0
    for draws in answer["pil"]:
        for draw in draws:
            if "error" in draw:
                return (f"your transforms followed by ToTensor raised {draw['error']} on a PIL image "
                        "(do not add ToTensor, ToImage or Normalize yourself)")
            if not draw["tensor"] or draw["shape"] != [1, 28, 28]:
                shape = "\u00d7".join(map(str, draw.get("shape", []))) or draw.get("type", "?")
                return (f"your transforms followed by ToTensor give {shape} instead of 1\u00d728\u00d728 "
                        "(keep the size: no expand=True, no crop without padding, no resize)")
            values = draw["values"]
            if draw["dtype"] != "torch.float32" or values is None or not (
                    np.all(np.isfinite(values)) and values.min() >= 0.0 and values.max() <= 1.0):
                return "your transforms followed by ToTensor must give float32 pixels between 0 and 1"
        differs += not np.array_equal(draws[0]["values"], draws[1]["values"])
    for got in answer["uint8"]:
        if "error" in got:
            return f"your transforms raised {got['error']} on a uint8 tensor of shape (1, 28, 28)"
        if not got["tensor"] or got["shape"] != [1, 28, 28]:
            return "on a uint8 tensor of shape (1, 28, 28) your transforms must return a tensor of that shape"
    if differs < 1:
        return "no hidden image changed between two random draws: nothing random in the list"
    dataset = answer["dataset"]
    if "error" in dataset:
        return f"your transforms raised {dataset['error']} inside the course's augmented dataset"
    if dataset["shape"] != [8, 1, 28, 28] or not dataset["finite"]:
        return "inside the course's augmented dataset your transforms do not give finite 1\u00d728\u00d728 images"
    return label_problem(data, answer)


def label_problem(data, answer):
    """The garment must stay what it is: a fixed classifier recognises the augmented images about as well."""
    before = garments.accuracy(np.asarray(data["images"], dtype=np.float32) / 255, data["labels"])
    draws = [draw["values"] for draws in answer["pil"] for draw in draws]
    labels = [label for label, draws in zip(data["labels"], answer["pil"]) for _ in draws]
    after = garments.accuracy(np.stack(draws), labels)
    if after < KEEPS_LABEL * before:
        return (f"your transforms change what the garments are: a classifier the grader trained on clean, mildly "
                f"shifted, rotated and mirrored clothes recognises {after:.0%} of your augmented hidden images but "
                f"{before:.0%} of the originals (upside-down flips, large rotations, inverted colours, heavy crops "
                "or erasing do not keep a garment's label)")
    return None


# ---- exercise 3: batchnorm2d_forward ------------------------------------------------------------

# Functions and layer calls that would do the exercise's work (a module call goes through _wrapped_call_impl).
NORMALISATIONS = frozenset({"batch_norm", "native_batch_norm", "_batch_norm_impl_index", "instance_norm", "group_norm",
                            "layer_norm", "_wrapped_call_impl", "_call_impl"})
MOMENTA = [0.01, 0.05, 0.1, 0.2, 0.3, 0.7, 0.9]  # never 0.5, where a swapped momentum gives the same result
EPSILONS = [1e-5, 1e-3, 0.05, 0.2, 0.5]


def batchnorm_inputs(rng):
    cases = []
    for k in range(14):
        n, c, h, w = (int(v) for v in rng.integers(1, 8, 4))
        if k % 5 == 0:
            n, h = 1, h + 1  # a single image
        elif k % 5 == 1:
            n, h, w = n + 1, 1, 1  # one value per image, as after global pooling
        elif n * h * w == 1:
            w += 1
        scale, shift = rng.uniform(0.05, 3.0, c), rng.uniform(-3.0, 3.0, c)
        x = rng.standard_normal((n, c, h, w)) * scale[:, None, None] + shift[:, None, None]
        cases.append({"x": x.astype(np.float32), "gamma": rng.uniform(-0.5, 2.0, c).astype(np.float32),
                      "beta": rng.uniform(-1.0, 1.0, c).astype(np.float32),
                      "mean": rng.uniform(-1.0, 1.0, c).astype(np.float32),
                      "var": rng.uniform(0.2, 3.0, c).astype(np.float32),
                      "training": bool(k % 3 != 2), "momentum": float(rng.choice(MOMENTA)),
                      "eps": float(EPSILONS[k % len(EPSILONS)])})
    return {"cases": cases}


def collect_batchnorm(ns, data):
    import torch

    function = ns["batchnorm2d_forward"]
    results = []
    for case in data["cases"]:
        tensors = [torch.from_numpy(np.array(case[k], dtype=np.float32)) for k in ("x", "gamma", "beta", "mean", "var")]
        returned = function(*tensors, case["training"], momentum=case["momentum"], eps=case["eps"])
        if not isinstance(returned, (tuple, list)):
            results.append(None)
            continue
        results.append([np.asarray(torch.as_tensor(v).detach().cpu().double().numpy(), dtype=float) for v in returned])
    return {"results": results}


def torch_batchnorm(case):
    """nn.BatchNorm2d's output and running statistics after one call, in float64."""
    x = torch.from_numpy(np.asarray(case["x"], dtype=np.float64))
    layer = torch.nn.BatchNorm2d(x.shape[1], eps=case["eps"], momentum=case["momentum"]).double()
    with torch.no_grad():
        for buffer, key in ((layer.weight, "gamma"), (layer.bias, "beta"), (layer.running_mean, "mean"),
                            (layer.running_var, "var")):
            buffer.copy_(torch.from_numpy(np.asarray(case[key], dtype=np.float64)))
        out = layer.train(case["training"])(x)
    return [out.numpy(), layer.running_mean.numpy(), layer.running_var.numpy()]


def judge_batchnorm(data, answer):
    if problem := count_problem("batchnorm2d_forward", answer["results"], data["cases"]):
        return problem
    for case, got in zip(data["cases"], answer["results"]):
        mode = "training" if case["training"] else "evaluation"
        where = f"a hidden {describe_shape(case['x'])} input in {mode} mode"
        if got is None or len(got) != 3:
            return "batchnorm2d_forward must return three things: (out, new_running_mean, new_running_var)"
        for name, value, want in zip(("the output", "the new running_mean", "the new running_var"), got,
                                     torch_batchnorm(case)):
            # float32 arithmetic is a correct answer too
            if problem := compare_arrays(value, want, rtol=1e-4, atol=1e-4):
                return f"batchnorm2d_forward: {name}: {problem} for {where}, compared with nn.BatchNorm2d"
    return None


PROBES = [
    Probe("test_FMNIST_Net2", collect=collect_net, judge=judge_net, inputs=net_inputs),
    Probe("test_get_augmentation_transforms", collect=collect_augmentation, judge=judge_augmentation,
          inputs=augmentation_inputs),
    Probe("test_batchnorm2d_forward", collect=collect_batchnorm, judge=judge_batchnorm, inputs=batchnorm_inputs,
          rule=Loops("batchnorm2d_forward must compute the statistics with tensor operations, not call a "
                     "normalisation layer or function", NORMALISATIONS, frozenset())),
]
