"""Seeding, loaders, progress bars and a reference training loop.

Assignment 05 has students write their own loop; the others reuse `fit`
so their cells stay about the network, not the bookkeeping.
"""
import random
import sys

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


@torch.no_grad()
def evaluate_model(model: nn.Module, data: DataLoader, criterion=None, on=None) -> tuple[float, float]:
    """Mean loss over batches and accuracy, in eval mode and without gradients."""
    criterion = criterion or nn.CrossEntropyLoss()
    on = on or next(model.parameters()).device
    model.eval()
    losses, correct, seen = [], 0, 0
    for images, labels in data:
        images, labels = images.to(on), labels.to(on)
        logits = model(images)
        losses.append(criterion(logits, labels).item())
        correct += (logits.argmax(1) == labels).sum().item()
        seen += len(labels)
    return float(np.mean(losses)), correct / max(seen, 1)


def fit(model: nn.Module, train_data: DataLoader, validation_data: DataLoader | None = None,
        epochs: int = 1, optimizer=None, criterion=None, description: str = "training") -> dict:
    """Train for `epochs` with a progress bar showing the running loss; returns per-epoch curves."""
    criterion = criterion or nn.CrossEntropyLoss()
    optimizer = optimizer or torch.optim.Adam(model.parameters(), lr=1e-3)
    on = next(model.parameters()).device
    history = {"train_loss": [], "train_acc": [], "val_loss": [], "val_acc": []}
    for epoch in range(1, epochs + 1):
        model.train()
        losses, correct, seen = [], 0, 0
        bar = progress(train_data, f"{description} epoch {epoch}/{epochs}")
        for images, labels in bar:
            images, labels = images.to(on), labels.to(on)
            optimizer.zero_grad()
            logits = model(images)
            loss = criterion(logits, labels)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            correct += (logits.argmax(1) == labels).sum().item()
            seen += len(labels)
            bar.set_postfix(loss=f"{np.mean(losses[-50:]):.4f}")
        history["train_loss"].append(float(np.mean(losses)))
        history["train_acc"].append(correct / max(seen, 1))
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
