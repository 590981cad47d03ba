"""Seeding, loaders, progress bars and a training loop for the notebooks that are not about one.

Assignment 05 has students write their own loop; 04 and 06 reuse `fit` so their cells stay about
the network, not the bookkeeping. Students receive this file with 04, before 05 is due, so `fit`
and `evaluate_model` are not 05's answers: they weigh each loss by its batch's size (a mean per
example), where 05's `train` and `evaluate` report the mean of the batch losses.
"""
import math
import random
import sys
import time

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader
from tqdm.auto import tqdm


def seed_everything(seed: int = 0) -> None:
    """Same seed, same weights, same batches: results students can compare."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def device() -> torch.device:
    """The GPU when there is one; everything in the course also runs on the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def loader(dataset, batch_size: int = 64, shuffle: bool = False, seed: int = 0) -> DataLoader:
    """A DataLoader whose shuffling depends only on `seed`."""
    generator = torch.Generator().manual_seed(seed) if shuffle else None
    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, generator=generator)


def progress(iterable, description: str = "", **options):
    """tqdm's notebook-aware bar; in a terminal it writes to stdout, never stderr."""
    return tqdm(iterable, desc=description, file=sys.stdout, leave=options.pop("leave", True), **options)


class ActivationStats:
    """Mean, standard deviation and share of near-zero values of every ReLU's output, one row per training batch.

    `with ActivationStats(model) as stats: fit(...)` hooks each `nn.ReLU` while the block runs (training
    batches only: evaluation passes are left out), then `stats.layers` names the layers in order and
    `stats.records[name]` holds `(mean, std, near_zero)` per batch, where near zero means below `threshold`.
    """

    def __init__(self, model: nn.Module, threshold: float = 0.01):
        self.threshold = threshold
        self.modules = [(name, m) for name, m in model.named_modules() if isinstance(m, nn.ReLU)]
        self.layers = [f"ReLU {k + 1} ({name})" for k, (name, _) in enumerate(self.modules)]
        self.records = {layer: [] for layer in self.layers}
        self._hooks = []

    def _hook(self, layer: str):
        def record(module, inputs, output):
            if module.training:
                values = output.detach().float()
                self.records[layer].append((values.mean().item(), values.std().item(),
                                            (values.abs() < self.threshold).float().mean().item()))
        return record

    def __enter__(self):
        self._hooks = [m.register_forward_hook(self._hook(layer)) for layer, (_, m) in zip(self.layers, self.modules)]
        return self

    def __exit__(self, *exc):
        for hook in self._hooks:
            hook.remove()
        self._hooks = []
        return False

    def summary(self, last: int = 10) -> dict:
        """Per layer, the mean over the last `last` batches of (mean, std, near_zero)."""
        return {layer: tuple(float(v) for v in np.mean(rows[-last:], axis=0)) for layer, rows in self.records.items()}


def _per_example(total: float, seen: int) -> float:
    return total / max(seen, 1)


@torch.no_grad()
def evaluate_model(model: nn.Module, data: DataLoader, criterion=None, on=None) -> tuple[float, float]:
    """Loss per example and accuracy over all of `data`, in eval mode and without gradients.

    A short last batch counts for its examples only (`criterion` must average over its batch, as
    torch's losses do by default)."""
    criterion = criterion or nn.CrossEntropyLoss()
    on = on or next(model.parameters()).device
    model.eval()
    total, correct, seen = 0.0, 0, 0
    for batch, targets in data:
        scores = model(batch.to(on))
        targets = targets.to(on)
        total += criterion(scores, targets).item() * len(targets)
        correct += int((scores.argmax(1) == targets).sum())
        seen += len(targets)
    return _per_example(total, seen), _per_example(correct, seen)


def fit(model: nn.Module, train_data: DataLoader, validation_data: DataLoader | None = None,
        epochs: int = 1, optimizer=None, criterion=None, description: str = "training") -> dict:
    """Train for `epochs` with a progress bar showing the loss so far; returns per-epoch curves, each loss a
    mean per example (`evaluate_model` measures the validation data)."""
    criterion = criterion or nn.CrossEntropyLoss()
    optimizer = optimizer or torch.optim.Adam(model.parameters(), lr=1e-3)
    on = next(model.parameters()).device
    history = {"train_loss": [], "train_acc": [], "val_loss": [], "val_acc": []}
    for epoch in range(epochs):
        model.train()
        total, correct, seen = 0.0, 0, 0
        bar = progress(train_data, f"{description} epoch {epoch + 1}/{epochs}")
        for batch, targets in bar:
            batch, targets = batch.to(on), targets.to(on)
            scores = model(batch)
            batch_loss = criterion(scores, targets)
            optimizer.zero_grad()
            batch_loss.backward()
            optimizer.step()
            total += batch_loss.item() * len(targets)
            correct += int((scores.argmax(1) == targets).sum())
            seen += len(targets)
            bar.set_postfix(loss=f"{_per_example(total, seen):.4f}")
        history["train_loss"].append(_per_example(total, seen))
        history["train_acc"].append(_per_example(correct, seen))
        if validation_data is not None:
            val_loss, val_acc = evaluate_model(model, validation_data, criterion, on)
            history["val_loss"].append(val_loss)
            history["val_acc"].append(val_acc)
    return history


def confusion_matrix(labels, predicted, num_classes: int) -> torch.Tensor:
    """counts[i, j]: how many examples of true class i were predicted as class j."""
    labels, predicted = torch.as_tensor(labels).flatten().long().cpu(), torch.as_tensor(predicted).flatten().long().cpu()
    if labels.shape != predicted.shape:
        raise ValueError(f"{len(labels)} labels but {len(predicted)} predictions")
    return torch.bincount(labels * num_classes + predicted, minlength=num_classes * num_classes).reshape(num_classes, num_classes)


def most_confused(matrix, top: int = 3) -> list:
    """The `top` largest off-diagonal cells of a confusion matrix, as (true class, predicted class, count)."""
    counts = torch.as_tensor(matrix).clone()
    counts.fill_diagonal_(0)
    order = counts.flatten().argsort(descending=True, stable=True)[:top]
    pairs = [(int(i) // counts.shape[1], int(i) % counts.shape[1]) for i in order]
    return [(true, guess, int(counts[true, guess])) for true, guess in pairs if counts[true, guess] > 0]


# ---- fast training on tensors held in memory (06's best small network) --------------------------

def shift_and_flip(images: torch.Tensor, max_shift: int = 2, generator: torch.Generator | None = None) -> torch.Tensor:
    """A whole batch augmented at once: each image mirrored left-right half the time and moved by up to
    `max_shift` pixels each way, the border filled with the background.

    Tensor operations on the batch instead of one transform per image: on a 2-core CPU the per-image
    transforms of `course.augment` cost more than the training step of a small network.
    """
    count, _, height, width = images.shape
    flip = torch.rand(count, generator=generator) < 0.5
    images = torch.where(flip.view(-1, 1, 1, 1), images.flip(-1), images)
    background = float(images[:, :, 0, 0].min())  # the corner pixels: background in every Fashion-MNIST image
    padded = torch.nn.functional.pad(images, (max_shift,) * 4, value=background)
    dy, dx = (torch.randint(0, 2 * max_shift + 1, (count,), generator=generator) for _ in range(2))
    rows = (dy.view(-1, 1) + torch.arange(height)).view(count, 1, height, 1).expand(-1, images.shape[1], -1, width + 2 * max_shift)
    cols = (dx.view(-1, 1) + torch.arange(width)).view(count, 1, 1, width).expand(-1, images.shape[1], height, -1)
    return padded.gather(2, rows).gather(3, cols)


def batches(images: torch.Tensor, labels: torch.Tensor, batch_size: int, generator: torch.Generator | None = None):
    """Mini-batches sliced from tensors in memory, in a random order when a generator is given."""
    order = torch.randperm(len(images), generator=generator) if generator is not None else torch.arange(len(images))
    for start in range(0, len(images), batch_size):
        chosen = order[start:start + batch_size]
        yield images[chosen], labels[chosen]


@torch.no_grad()
def accuracy(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, batch_size: int = 1000) -> float:
    """Accuracy on tensors in memory, in eval mode."""
    model.eval()
    correct = sum((model(x).argmax(1) == y).sum().item() for x, y in batches(images, labels, batch_size))
    return correct / len(labels)


def lr_finder(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, make_optimizer, start: float = 1e-5,
              end: float = 10.0, steps: int = 100, batch_size: int = 256, seed: int = 0, smoothing: float = 0.9,
              criterion=None) -> dict:
    """Leslie Smith's learning-rate range test: train for `steps` mini-batches while the learning rate grows
    geometrically from `start` to `end`, recording the smoothed loss; stop once it exceeds four times its best.

    The model's weights (and batch-norm statistics) are restored afterwards, so the test costs only time.
    `make_optimizer(parameters, lr)` builds the optimizer to test. The suggestion is the rate at the lowest
    smoothed loss: an order of magnitude to start from, not a final answer. It describes an untrained
    network over a few dozen batches; a one-cycle schedule reaches its peak later, and for 06's network
    with batch norm a peak six times higher trained better (docs/figures.md).
    """
    criterion = criterion or nn.CrossEntropyLoss()
    saved = {k: v.clone() for k, v in model.state_dict().items()}
    optimizer = make_optimizer(model.parameters(), start)
    factor = (end / start) ** (1 / max(steps - 1, 1))
    generator = torch.Generator().manual_seed(seed)
    rates, losses, average, best = [], [], 0.0, float("inf")
    model.train()
    stream = iter(())
    for step in range(steps):
        lr = start * factor ** step
        for group in optimizer.param_groups:
            group["lr"] = lr
        try:
            x, y = next(stream)
        except StopIteration:
            stream = batches(images, labels, batch_size, generator)
            x, y = next(stream)
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
        average = smoothing * average + (1 - smoothing) * loss.item()
        smoothed = average / (1 - smoothing ** (step + 1))
        if not np.isfinite(smoothed):
            break
        rates.append(lr)
        losses.append(smoothed)
        best = min(best, smoothed)
        if smoothed > 4 * best:
            break
    model.load_state_dict(saved)
    lowest = int(np.argmin(losses))
    return {"lr": rates, "loss": losses, "suggested": rates[lowest]}


def one_cycle(progress: float, max_lr: float, warmup: float = 0.25, start_divisor: float = 25.0,
              end_divisor: float = 1e4, momenta: tuple = (0.95, 0.85)) -> tuple[float, float]:
    """The one-cycle learning rate and momentum once `progress` (0 to 1) of the training is done.

    The rate climbs from `max_lr / start_divisor` to `max_lr` over the first `warmup` of the run and then
    anneals to `max_lr / (start_divisor * end_divisor)`, both halves along a cosine, while the momentum
    moves the opposite way between its two values: torch's `OneCycleLR` with `pct_start=0.25` and its
    other defaults, written out so the schedule can follow a clock as well as a step count.
    """
    def cosine(begin, end, fraction):
        return end + (begin - end) * (1 + math.cos(math.pi * fraction)) / 2

    low, high = momenta
    lowest = max_lr / start_divisor
    if progress < warmup:
        fraction = progress / warmup
        return cosine(lowest, max_lr, fraction), cosine(low, high, fraction)
    fraction = min((progress - warmup) / (1 - warmup), 1.0)
    return cosine(max_lr, lowest / end_divisor, fraction), cosine(high, low, fraction)


def fit_one_cycle(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, max_lr: float,
                  epochs: int | None = None, seconds: float | None = None, batch_size: int = 256,
                  weight_decay: float = 5e-4, label_smoothing: float = 0.1, augment=None, seed: int = 0,
                  description: str = "one-cycle", clock=time.perf_counter) -> dict:
    """Train with SGD (Nesterov momentum) under the `one_cycle` schedule, for a number of `epochs` or of
    `seconds`.

    With `seconds` the schedule follows the clock rather than the step count: its progress is the share
    of the time spent, so the rate reaches its floor when the time is up on a fast or a slow machine (or
    one that slows down halfway), and training stops there, mid-epoch if need be. `images` are normalised
    tensors in memory; `augment(batch, generator=...)` changes each batch (None: no augmentation).
    Returns the mean training loss per epoch (a cut-short last epoch included), the learning rate at
    every step, the steps taken and the seconds spent (by `clock`, which tests replace).
    """
    if (epochs is None) == (seconds is None):
        raise ValueError("fit_one_cycle needs exactly one of epochs= (a number of passes) or seconds= (a time budget)")
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.SGD(model.parameters(), lr=max_lr, momentum=0.9, nesterov=True,
                                weight_decay=weight_decay)
    criterion = nn.CrossEntropyLoss(label_smoothing=label_smoothing)
    per_epoch = -(-len(images) // batch_size)
    total_steps = epochs * per_epoch if epochs is not None else None
    history = {"train_loss": [], "lr": [], "steps": 0, "seconds": 0.0}
    bar = progress(None, description, total=round(seconds) if seconds else total_steps,
                   unit="s" if seconds else "step")
    start = clock()
    shown = 0
    model.train()
    finished = False
    while not finished:
        losses = []
        for x, y in batches(images, labels, batch_size, generator):
            elapsed = clock() - start
            done = elapsed / seconds if seconds else history["steps"] / total_steps
            if done >= 1:
                finished = True
                break
            lr, momentum = one_cycle(done, max_lr)
            for group in optimizer.param_groups:
                group["lr"], group["momentum"] = lr, momentum
            if augment is not None:
                x = augment(x, generator=generator)
            optimizer.zero_grad()
            loss = criterion(model(x), y)
            loss.backward()
            optimizer.step()
            history["lr"].append(lr)
            history["steps"] += 1
            losses.append(loss.item())
            now = min(round(elapsed), bar.total) if seconds else history["steps"]
            bar.update(now - shown)
            shown = now
            bar.set_postfix(epoch=len(history["train_loss"]) + 1, loss=f"{np.mean(losses[-50:]):.4f}", refresh=False)
        if losses:
            history["train_loss"].append(float(np.mean(losses)))
        finished = finished or (epochs is not None and len(history["train_loss"]) >= epochs)
    history["seconds"] = clock() - start
    bar.update(bar.total - shown)
    bar.close()
    return history
