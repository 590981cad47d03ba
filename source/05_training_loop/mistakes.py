"""Typical wrong answers for 05_training_loop; each must lose its exercise's points and only those.

Each mistake is a small edit of the solution cell (`cell`), so it stays a one-line difference
when the solution changes. `demo: True` marks the ones carol's demo submission makes. The train
mistakes all run and most of them pass the visible checks: only the hidden comparison with a
reference loop catches them.
"""
import inspect
from pathlib import Path

from course import training
from course.grading.semester.submissions import edited, solution_answers

SOLUTIONS = solution_answers(Path(__file__).resolve().parents[2] / "source" / "05_training_loop"
                             / "05_training_loop.ipynb")


def mistake(name: str, cell: str, *changes: tuple[str, str], demo: bool = False) -> dict:
    entry = {"name": f"{cell}: {name}", "cell": cell, "code": edited(SOLUTIONS[cell], *changes)}
    return dict(entry, demo=True) if demo else entry


def pasted(name: str, cell: str, helpers: tuple, call: str) -> dict:
    """`cell` answered with a copy of the course's own `helpers` (the package students receive with 04, before
    05 is due) and a function of the exercise's name that hands its work to them: it must earn nothing."""
    copied = "\n\n".join(inspect.getsource(getattr(training, helper)) for helper in helpers)
    return {"name": f"{cell}: {name}", "cell": cell,
            "code": f"from course.training import progress\n\n\n{copied}\n\n{call}"}


ZERO_GRAD = "            optimizer.zero_grad()\n"
BACKWARD = "            loss.backward()\n"
STEP = "            optimizer.step()\n"

WRONG = [
    mistake("number correct instead of the fraction", "accuracy",
            ("(predictions == labels).float().mean().item()", "(predictions == labels).sum().item()"), demo=True),
    mistake("arg-max over the batch dimension", "accuracy", ("argmax(dim=1)", "argmax(dim=0)")),
    mistake("arg-min instead of arg-max", "accuracy", ("argmax(dim=1)", "argmin(dim=1)")),
    mistake("forgets model.eval()", "evaluate", ("    model.eval()\n", "")),
    mistake("loss averaged over images, not batches", "evaluate",
            (".item())", ".item() * len(labels))"), ("sum(losses) / len(losses)", "sum(losses) / seen")),
    mistake("records gradients (no torch.no_grad)", "evaluate", ("with torch.no_grad():", "if True:")),
    mistake("never zeroes the gradients", "train", (ZERO_GRAD, ""), demo=True),
    mistake("zero_grad between backward and step", "train", (ZERO_GRAD, ""), (BACKWARD, BACKWARD + ZERO_GRAD)),
    mistake("step before backward", "train", (STEP, ""), (BACKWARD, STEP + BACKWARD)),
    mistake("validation in train mode", "train", ("        model.eval()\n", "")),
    mistake("validation with gradients", "train", ("with torch.no_grad():", "if True:")),
    mistake("model.train() only once, before the first epoch", "train",
            ("        model.train()\n", ""), ("    for epoch in", "    model.train()\n    for epoch in")),
    mistake("training loss averaged over images, not batches", "train",
            ("losses.append(loss.item())", "losses.append(loss.item() * len(labels))"),
            ('history["train_loss"].append(sum(losses) / len(losses))', 'history["train_loss"].append(sum(losses) / seen)')),
    mistake("momentum left out of the default optimizer", "train", (", momentum=0.9)", ")")),
    mistake("the course's own evaluate_model", "evaluate",
            ("    on = next(model.parameters()).device\n",
             "    return training.evaluate_model(model, loader, criterion)\n    on = next(model.parameters()).device\n")),
    mistake("the course's own fit", "train",
            ("    history = {", "    return training.fit(model, train_loader, validation_loader, epochs, optimizer=optimizer)\n"
                              "    history = {")),
    pasted("a copy of the course's evaluate_model", "evaluate", ("_per_example", "evaluate_model"),
           "def evaluate(model, loader, criterion):\n    return evaluate_model(model, loader, criterion)\n"),
    pasted("a copy of the course's fit", "train", ("_per_example", "evaluate_model", "fit"),
           "def train(model, device, train_loader, validation_loader, epochs, optimizer=None):\n"
           "    model.to(device)\n"
           "    optimizer = optimizer or torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)\n"
           "    return fit(model, train_loader, validation_loader, epochs, optimizer)\n"),
    mistake("no padding in the first convolution", "LeNet5",
            ("nn.Conv2d(1, 6, 5, padding=2)", "nn.Conv2d(1, 6, 5)"), ("nn.Linear(16 * 5 * 5, 120)", "nn.Linear(16 * 4 * 4, 120)"),
            demo=True),
    mistake("no ReLU between the last two linear layers", "LeNet5",
            ("nn.Linear(120, 84), nn.ReLU(),", "nn.Linear(120, 84),")),
    mistake("average pooling instead of max pooling", "LeNet5",
            ("nn.ReLU(), nn.MaxPool2d(2),\n            nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),",
             "nn.ReLU(), nn.AvgPool2d(2),\n            nn.Conv2d(6, 16, 5), nn.ReLU(), nn.AvgPool2d(2),")),
]
