"""Trusted hidden checks for 07_conv_backprop (instructor-only: never released, invisible to students).

`course.grading.verdicts.trusted` runs each `collect` in a sandboxed copy of the submission and
each `judge` in the grader, against PyTorch's autograd, `F.unfold` and `F.conv2d`.
"""
import numpy as np
import torch
import torch.nn.functional as F
from scipy.signal import correlate2d

from course.grading.verdicts.probe import CONVOLUTIONS, POOLING, Loops, Probe, compare_arrays, describe_shape
from course.grading.verdicts.probe_kit import count_problem, loop_answers

# What float32 arithmetic (a correct answer) can be off by, relative and absolute, for these sizes.
FLOAT32 = 1e-5


def _conv_configs(rng, extra=8):
    configs = [(2, 3, 4, 7, 7, 3, 3, 1, 1), (1, 1, 1, 5, 9, 2, 4, 2, 0), (3, 2, 2, 6, 5, 1, 1, 3, 2),
               (1, 4, 3, 8, 8, 5, 5, 2, 2), (2, 1, 2, 4, 4, 4, 4, 1, 0), (2, 2, 3, 9, 6, 3, 2, 3, 1)]
    for _ in range(extra):
        s, p = int(rng.integers(1, 4)), int(rng.integers(0, 3))
        h, w = (int(v) for v in rng.integers(2, 10, 2))
        kh, kw = int(rng.integers(1, min(h + 2 * p, 5) + 1)), int(rng.integers(1, min(w + 2 * p, 5) + 1))
        configs.append((int(rng.integers(1, 4)), int(rng.integers(1, 4)), int(rng.integers(1, 5)), h, w, kh, kw, s, p))
    return configs


def _label(case) -> str:
    return (f"a hidden input of shape {describe_shape(case['x'])}, weights {describe_shape(case['w'])}, "
            f"stride {case['stride']}, padding {case['padding']}")


# ---- warm-up: softmax with cross-entropy, and a two-layer network --------------------------------

def softmax_cases(rng):
    sizes = [(1, 2, 1.0), (5, 3, 10.0), (17, 10, 2.0), (64, 7, 0.1), (3, 1000, 1.0), (8, 5, 300.0)]
    return {"cases": [{"logits": rng.normal(size=(n, c)) * scale, "labels": rng.integers(0, c, n)}
                      for n, c, scale in sizes]}


def collect_softmax(ns, data):
    function = ns["softmax_cross_entropy_backward"]
    return [np.asarray(function(case["logits"].copy(), case["labels"].copy()), dtype=float) for case in data["cases"]]


def judge_softmax(data, answer):
    if problem := count_problem("softmax_cross_entropy_backward", answer, data["cases"]):
        return problem
    for case, got in zip(data["cases"], answer):
        logits = torch.tensor(case["logits"], dtype=torch.float64, requires_grad=True)
        F.cross_entropy(logits, torch.from_numpy(case["labels"]).long()).backward()
        if problem := compare_arrays(got, logits.grad.numpy(), rtol=FLOAT32, atol=FLOAT32):
            return f"softmax_cross_entropy_backward: {problem} for hidden logits of shape {describe_shape(case['logits'])}"
    return None


def two_layer_cases(rng):
    cases = []
    for n, d, h, c in [(1, 1, 1, 2), (8, 3, 5, 4), (32, 10, 16, 10), (3, 7, 2, 6)]:
        cases.append({"x": rng.normal(size=(n, d)), "labels": rng.integers(0, c, n),
                      "params": [rng.normal(size=(d, h)), rng.normal(size=h), rng.normal(size=(h, c)), rng.normal(size=c)]})
    return {"cases": cases}


def collect_two_layer(ns, data):
    function, results = ns["two_layer_backward"], []
    for case in data["cases"]:
        got = function(case["x"].copy(), case["labels"].copy(), *[p.copy() for p in case["params"]])
        results.append([np.asarray(part, dtype=float) for part in got])
    return results


def autograd_two_layer(case):
    """(dW1, db1, dW2, db2) from PyTorch's autograd."""
    params = [torch.tensor(p, dtype=torch.float64, requires_grad=True) for p in case["params"]]
    w1, b1, w2, b2 = params
    logits = torch.relu(torch.from_numpy(case["x"]) @ w1 + b1) @ w2 + b2
    F.cross_entropy(logits, torch.from_numpy(case["labels"]).long()).backward()
    return [p.grad.numpy() for p in params]


def judge_two_layer(data, answer):
    if problem := count_problem("two_layer_backward", answer, data["cases"]):
        return problem
    for case, got in zip(data["cases"], answer):
        if len(got) != 4:
            return "two_layer_backward: must return the four gradients (dW1, db1, dW2, db2)"
        n, d = case["x"].shape
        label = f"{n} hidden inputs of {d} features, {len(case['params'][1])} hidden units, {len(case['params'][3])} classes"
        for name, part, want in zip(("dW1", "db1", "dW2", "db2"), got, autograd_two_layer(case)):
            if problem := compare_arrays(part, want, rtol=FLOAT32, atol=FLOAT32):
                return f"two_layer_backward: {name} has {problem} for {label}"
    return None


# ---- exercise 1: conv2d_backward -----------------------------------------------------------------

def backward_cases(rng):
    cases = []
    for n, c, f, h, w, kh, kw, s, p in _conv_configs(rng):
        x, weights, bias = rng.normal(size=(n, c, h, w)), rng.normal(size=(f, c, kh, kw)), rng.normal(size=f)
        out_h, out_w = (h + 2 * p - kh) // s + 1, (w + 2 * p - kw) // s + 1
        cases.append({"dout": rng.normal(size=(n, f, out_h, out_w)), "x": x, "w": weights, "b": bias,
                      "stride": s, "padding": p})
    return {"cases": cases}


def collect_backward(ns, data):
    function, results = ns["conv2d_backward"], []
    for case in data["cases"]:
        got = function(case["dout"], case["x"], case["w"], case["b"], case["stride"], case["padding"])
        results.append([np.asarray(part, dtype=float) for part in got])
    return results


def autograd_backward(case):
    """(dx, dw, db) from PyTorch's autograd, for loss = sum(out * dout)."""
    x, w, b = (torch.tensor(case[k], dtype=torch.float64, requires_grad=True) for k in ("x", "w", "b"))
    out = F.conv2d(x, w, b, stride=case["stride"], padding=case["padding"])
    out.backward(torch.from_numpy(case["dout"]))
    return x.grad.numpy(), w.grad.numpy(), b.grad.numpy()


def judge_backward(data, answer):
    if problem := count_problem("conv2d_backward", answer, data["cases"]):
        return problem
    for case, got in zip(data["cases"], answer):
        if len(got) != 3:
            return "conv2d_backward: must return the three gradients (dx, dw, db)"
        for name, part, want in zip(("dx", "dw", "db"), got, autograd_backward(case)):
            problem = compare_arrays(part, want, rtol=FLOAT32, atol=FLOAT32)
            if problem:
                return f"conv2d_backward: {name} has {problem} for {_label(case)}"
    return None


# ---- exercise 2: pooling backward ----------------------------------------------------------------

def pool_cases(rng):
    settings = [(2, None), (2, 2), (3, 3), (2, 1), (3, 1), (3, 2), (2, 3), (1, 1), (4, 3)]
    shapes = [(8, 8), (7, 9), (5, 5), (6, 11), (4, 4)]
    cases = []
    for k, s in settings:
        for shape in shapes:
            if k > min(shape):
                continue
            # small integers make ties, where the first maximum in row-major order takes the gradient
            x = rng.integers(-3, 3, shape).astype(float) if len(cases) % 2 else rng.normal(size=shape)
            step = k if s is None else s
            out = ((shape[0] - k) // step + 1, (shape[1] - k) // step + 1)
            cases.append({"dout": rng.normal(size=out), "x": x, "k": k, "s": s})
    return {"cases": cases}


def collect_pool(ns, data):
    return loop_answers(ns[data["function"]], [(case["dout"], case["x"], case["k"]) if case["s"] is None
                                               else (case["dout"], case["x"], case["k"], case["s"])
                                               for case in data["cases"]])


def cases_for(function_name):
    return lambda rng: dict(pool_cases(rng), function=function_name)


def _judge_pool(data, answer, name, reference):
    if problem := count_problem(name, answer["outputs"], data["cases"]):
        return problem
    for case, got in zip(data["cases"], answer["outputs"]):
        x = torch.tensor(case["x"], dtype=torch.float64, requires_grad=True)
        reference(x[None, None], case["k"], case["s"])[0, 0].backward(torch.from_numpy(case["dout"]))
        problem = compare_arrays(got, x.grad.numpy(), rtol=FLOAT32, atol=FLOAT32)
        if problem:
            stride = "its default stride" if case["s"] is None else f"stride {case['s']}"
            return f"{name}: {problem} for a hidden {describe_shape(case['x'])} input, window {case['k']}, {stride}"
    return None


def judge_max_pool(data, answer):
    return _judge_pool(data, answer, "max_pool2d_backward", F.max_pool2d)


def judge_avg_pool(data, answer):
    return _judge_pool(data, answer, "avg_pool2d_backward", F.avg_pool2d)


# ---- exercise 3: numerical gradient and relative error -------------------------------------------

def check_cases(rng):
    cases = []
    for shape in [(5,), (3, 4), (2, 2, 3), (1,)]:
        cases.append({"x": rng.normal(size=shape), "a": rng.normal(size=shape), "b": rng.normal(size=shape),
                      "h": float(rng.choice([1e-5, 1e-4]))})
    pairs = [(rng.normal(size=(4, 3)), rng.normal(size=(4, 3))), (np.zeros(3), np.zeros(3)),
             (np.array([-1.0, 0.0]), np.array([1.0, 1e-9])), (np.array([2.0, 3.0]), np.array([2.0, 3.3]))]
    return {"cases": cases, "pairs": [{"a": a, "b": b} for a, b in pairs]}


def collect_check(ns, data):
    numerical_gradient, relative_error = ns["numerical_gradient"], ns["relative_error"]
    gradients, unchanged = [], []
    for case in data["cases"]:
        a, b = case["a"], case["b"]
        x = np.array(case["x"], dtype=float)

        def f(v, a=a, b=b):
            return float(np.sum(a * v ** 3) + np.sum(np.sin(b * v)))

        gradients.append(np.asarray(numerical_gradient(f, x, case["h"]), dtype=float))
        unchanged.append(bool(np.array_equal(x, case["x"])))
    errors = [float(relative_error(pair["a"], pair["b"])) for pair in data["pairs"]]
    return {"gradients": gradients, "unchanged": unchanged, "errors": errors}


def judge_check(data, answer):
    if problem := count_problem("numerical_gradient", answer["gradients"], data["cases"]):
        return problem
    for case, got, kept in zip(data["cases"], answer["gradients"], answer["unchanged"]):
        x, a, b = case["x"], case["a"], case["b"]
        want = 3 * a * x ** 2 + b * np.cos(b * x)
        # a centred difference is off by about h² here; a one-sided one by about h
        problem = compare_arrays(got, want, rtol=0, atol=max(1e-7, 5 * case["h"] ** 2))
        if problem:
            return f"numerical_gradient: {problem} for a hidden {describe_shape(x)} array, h = {case['h']:g}"
        if not kept:
            return f"numerical_gradient: x was changed by the call (a hidden {describe_shape(x)} array)"
    if problem := count_problem("relative_error", answer["errors"], data["pairs"], "pair"):
        return problem
    for pair, got in zip(data["pairs"], answer["errors"]):
        a, b = pair["a"], pair["b"]
        want = float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-8)))
        if not abs(got - want) <= 1e-9 * max(1.0, abs(want)):
            return f"relative_error: wrong value for a hidden pair of {describe_shape(a)} arrays"
    return None


# ---- exercise 4: learning a kernel ---------------------------------------------------------------

def _patches(image, shape):
    """Every window of `image` for a kernel of `shape`, flattened: one row per output pixel."""
    kh, kw = shape
    rows, cols = image.shape[0] - kh + 1, image.shape[1] - kw + 1
    return np.array([image[i:i + kh, j:j + kw].reshape(-1) for i in range(rows) for j in range(cols)])


def kernel_cases(rng):
    """Small, well-conditioned problems, with the learning rate and the number of steps that make gradient descent
    on the mean squared error converge far below 1e-3 (the watch makes every step slow in the sandbox)."""
    cases = []
    for shape, size in [((3, 3), (8, 8)), ((1, 2), (6, 7)), ((3, 3), (9, 8))]:
        while True:
            image = rng.normal(size=size)
            patches = _patches(image, shape)
            curvature = np.linalg.eigvalsh(2 * patches.T @ patches / len(patches))
            if curvature[-1] / curvature[0] < 12:
                break
        rate = 2 / (curvature[0] + curvature[-1])
        shrink = (curvature[-1] - curvature[0]) / (curvature[-1] + curvature[0])
        kernel = rng.normal(size=shape)
        cases.append({"image": image, "response": correlate2d(image, kernel, "valid"), "shape": list(shape),
                      "learning_rate": float(rate), "steps": int(np.ceil(np.log(1e-9) / np.log(max(shrink, 1e-3)))) + 5})
    # The kernel is not part of the data (the sandbox sees all of it): the judge finds it again by least squares.
    return {"cases": cases}


def true_kernel(image, response, shape):
    """The kernel whose valid correlation with `image` is `response`, solved exactly by least squares."""
    return np.linalg.lstsq(_patches(image, shape), response.reshape(-1), rcond=None)[0].reshape(shape)


def collect_kernel(ns, data):
    learn_kernel, results = ns["learn_kernel"], []
    for case in data["cases"]:
        kernel, losses = learn_kernel(case["image"], case["response"], tuple(case["shape"]),
                                      case["learning_rate"], case["steps"])
        results.append({"kernel": np.asarray(kernel, dtype=float), "losses": [float(v) for v in losses]})
    return results


def judge_kernel(data, answer):
    if problem := count_problem("learn_kernel", answer, data["cases"]):
        return problem
    for case, got in zip(data["cases"], answer):
        shape = "×".join(str(n) for n in case["shape"])
        label = f"a hidden {describe_shape(case['image'])} image and a {shape} kernel"
        losses = got["losses"]
        if len(losses) != case["steps"]:
            return f"learn_kernel: {len(losses)} losses instead of one per step ({case['steps']}) for {label}"
        if not abs(losses[0] - float(np.mean(case["response"] ** 2))) <= 1e-9 * max(1.0, losses[0]):
            return f"learn_kernel: losses[0] is not the mean squared error of the zero kernel for {label}"
        problem = compare_arrays(got["kernel"], true_kernel(case["image"], case["response"], tuple(case["shape"])),
                                 rtol=0, atol=1e-3)
        if problem:
            return f"learn_kernel: the recovered kernel has {problem} for {label}"
    return None


# ---- exercise 5: im2col --------------------------------------------------------------------------

def im2col_cases(rng):
    cases = []
    for n, c, f, h, w, kh, kw, s, p in _conv_configs(rng):
        cases.append({"x": rng.normal(size=(n, c, h, w)), "w": rng.normal(size=(f, c, kh, kw)),
                      "b": rng.normal(size=f), "stride": s, "padding": p})
    return {"cases": cases}


def collect_im2col(ns, data):
    forward = ns.get("conv2d_forward")

    def refuse(*args, **kwargs):
        raise RuntimeError("im2col and conv2d_im2col must not call conv2d_forward")

    ns["conv2d_forward"] = refuse  # the loop version would give the right numbers without any im2col
    try:
        columns, outputs = [], []
        for case in data["cases"]:
            kh, kw = np.shape(case["w"])[2:]
            columns.append(np.asarray(ns["im2col"](case["x"], kh, kw, case["stride"], case["padding"]), dtype=float))
            outputs.append(np.asarray(ns["conv2d_im2col"](case["x"], case["w"], case["b"], case["stride"],
                                                          case["padding"]), dtype=float))
    finally:
        ns["conv2d_forward"] = forward
    return {"columns": columns, "outputs": outputs}


def judge_im2col(data, answer):
    if problem := count_problem("im2col", answer["columns"], data["cases"]):
        return problem
    if problem := count_problem("conv2d_im2col", answer["outputs"], data["cases"]):
        return problem
    for case, columns, output in zip(data["cases"], answer["columns"], answer["outputs"]):
        x, w, b = (torch.from_numpy(np.asarray(case[k], dtype=float)) for k in ("x", "w", "b"))
        want = F.unfold(x, tuple(w.shape[2:]), padding=case["padding"], stride=case["stride"]).numpy()
        if problem := compare_arrays(columns, want, rtol=FLOAT32, atol=FLOAT32):
            return f"im2col: {problem} for {_label(case)}"
        want = F.conv2d(x, w, b, stride=case["stride"], padding=case["padding"]).numpy()
        if problem := compare_arrays(output, want, rtol=FLOAT32, atol=FLOAT32):
            return f"conv2d_im2col: {problem} for {_label(case)}"
    return None


BY_HAND = "must use loops, not a library"

NO_AUTOGRAD = "must compute the gradients with NumPy, not with autograd or another library"

PROBES = [
    Probe("test_softmax_cross_entropy_backward", collect=collect_softmax, judge=judge_softmax, inputs=softmax_cases,
          rule=Loops(f"softmax_cross_entropy_backward {NO_AUTOGRAD}")),
    Probe("test_two_layer_backward", collect=collect_two_layer, judge=judge_two_layer, inputs=two_layer_cases,
          rule=Loops(f"two_layer_backward {NO_AUTOGRAD}")),
    Probe("test_conv2d_backward", collect=collect_backward, judge=judge_backward, inputs=backward_cases,
          rule=Loops(f"conv2d_backward {BY_HAND}", CONVOLUTIONS)),
    Probe("test_max_pool2d_backward", collect=collect_pool, judge=judge_max_pool,
          inputs=cases_for("max_pool2d_backward"), rule=Loops(f"max_pool2d_backward {BY_HAND}", POOLING)),
    Probe("test_avg_pool2d_backward", collect=collect_pool, judge=judge_avg_pool,
          inputs=cases_for("avg_pool2d_backward"), rule=Loops(f"avg_pool2d_backward {BY_HAND}", POOLING)),
    Probe("test_gradient_check", collect=collect_check, judge=judge_check, inputs=check_cases,
          rule=Loops("numerical_gradient and relative_error must be written by hand, not with a library")),
    Probe("test_learn_kernel", collect=collect_kernel, judge=judge_kernel, inputs=kernel_cases,
          rule=Loops("learn_kernel must use your own conv2d_forward and conv2d_backward, not a library",
                     CONVOLUTIONS)),
    Probe("test_im2col", collect=collect_im2col, judge=judge_im2col, inputs=im2col_cases,
          rule=Loops(f"im2col and conv2d_im2col {BY_HAND}", CONVOLUTIONS | {"unfold"})),
]
