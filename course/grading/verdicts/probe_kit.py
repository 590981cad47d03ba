"""What the two halves of a probe share: seeded weights, small networks, opening checks.

A probe's `collect` runs in the sandbox (`course.grading.verdicts.probe_runner`), from its
source text alone, so it cannot import the probe file it was written in. Every
name in `__all__` is put into the namespace it runs in, next to `np`; a probe
file imports the same names for its `judge`. So the weights the sandbox loads
into the student's network and the ones the grader loads into its reference
come from one definition, and a network both sides build is written once.

Nothing here solves an exercise (the kit runs next to student code, though no
notebook imports it). Torch is imported inside the functions that need it, so
that the sandbox of an assignment without torch never loads it.
"""
import numpy as np

__all__ = ["loop_answers", "count_problem",
           "load_weights", "load_weights_by_shape", "recorder", "evaluate_net", "train_net", "dropout_net",
           "leaf_modules", "qualified"]


def loop_answers(function, calls) -> dict:
    """What a "loops, not a library" probe reports: the result of `function` for each argument tuple in `calls`,
    as a float array (the runner records which library functions it called on the way)."""
    return {"outputs": [np.asarray(function(*args), dtype=float) for args in calls]}


# ---- the checks a judge opens with ---------------------------------------------------------------

def count_problem(name: str, results, cases, each: str = "case") -> str | None:
    """None when there is one result per hidden case, else what the student reads."""
    return None if len(results) == len(cases) else f"{name}: not one result per {each}"


# ---- the same weights on both sides --------------------------------------------------------------

def load_weights(module, seed: int, scale: float | None = None):
    """Every parameter (then every batch-norm statistic) from `seed`, in module order; returns `module`.

    Weights are standard normal times `scale`, or times 1/sqrt(fan-in) (biases 0.1) when `scale` is None.
    """
    import torch

    rng = np.random.default_rng(seed)

    def draw(shape, times):
        return torch.from_numpy((rng.standard_normal(shape) * times).astype(np.float32))

    with torch.no_grad():
        for parameter in module.parameters():
            shape = tuple(parameter.shape)
            fan_in = 1 / np.sqrt(np.prod(shape[1:])) if parameter.dim() > 1 else 0.1
            parameter.copy_(draw(shape, fan_in if scale is None else scale))
        for name, buffer in module.named_buffers():
            if name.endswith("running_mean"):
                buffer.copy_(draw(tuple(buffer.shape), 0.5))
            elif name.endswith("running_var"):
                buffer.copy_(torch.from_numpy(rng.uniform(0.5, 2.0, tuple(buffer.shape)).astype(np.float32)))
    return module


def load_weights_by_shape(module, seed: int, scale: float = 0.05):
    """One array per parameter shape, drawn in sorted-shape order, so that the layers' order does not matter."""
    import torch

    rng = np.random.default_rng(seed)
    by_shape = {shape: (rng.standard_normal(shape) * scale).astype(np.float32)
                for shape in sorted(tuple(p.shape) for p in module.parameters())}
    module.load_state_dict({k: torch.from_numpy(by_shape[tuple(v.shape)]) for k, v in module.state_dict().items()})
    return module


# ---- small networks both sides build -------------------------------------------------------------

def recorder(body) -> tuple:
    """`body` wrapped, and a list to which each forward pass (of it or of a copy) adds [train mode, gradients on]."""
    import torch
    from torch import nn

    calls = []

    class Recorder(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = body

        def forward(self, x):
            calls.append([bool(self.training), bool(torch.is_grad_enabled())])
            return self.body(x)

    return Recorder(), calls


def evaluate_net():
    """A 6x6-image, 4-class classifier with batch norm and dropout (for an evaluation loop)."""
    from torch import nn

    return nn.Sequential(nn.Conv2d(1, 3, 3), nn.BatchNorm2d(3), nn.ReLU(), nn.Flatten(),
                         nn.Dropout(0.4), nn.Linear(3 * 4 * 4, 4))


def train_net():
    """An 8x8-image, 3-class classifier with batch norm, pooling and dropout (for a training loop)."""
    from torch import nn

    return nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Dropout(0.3), nn.Linear(4 * 3 * 3, 3))


def dropout_net():
    """A 28x28-image, 5-class classifier with dropout (for code that must switch it off)."""
    from torch import nn

    return nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Dropout(0.5), nn.Linear(4 * 26 * 26, 5))


def qualified(module) -> str:
    """A module's class as `package.module.Class`."""
    return f"{type(module).__module__}.{type(module).__qualname__}"


def leaf_modules(module) -> list:
    """The modules without children, in order."""
    return [m for m in module.modules() if not list(m.children())]
