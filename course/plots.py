"""Pictures the notebooks share: image grids, kernels, feature maps, training curves."""
import matplotlib.pyplot as plt
import numpy as np


def _as_array(image) -> np.ndarray:
    if hasattr(image, "detach"):
        image = image.detach().cpu().numpy()
    image = np.asarray(image, dtype=float)
    return image.squeeze() if image.ndim > 2 else image


def show_images(images, titles=None, cols: int | None = None, cmap: str = "gray", size: float = 2.2,
                suptitle: str | None = None, values: bool = False, symmetric: bool = False):
    """A row (or grid) of images with titles; `values` writes each pixel's number on small ones."""
    images = [_as_array(image) for image in images]
    cols = cols or len(images)
    rows = int(np.ceil(len(images) / cols))
    extra = (0.3 * rows if titles is not None else 0) + (0.4 if suptitle else 0)
    fig, axes = plt.subplots(rows, cols, figsize=(size * cols, size * rows + extra), squeeze=False,
                             layout="constrained")
    for index, axis in enumerate(axes.ravel()):
        axis.axis("off")
        if index >= len(images):
            continue
        image = images[index]
        limit = np.abs(image).max() or 1.0
        style = {"vmin": -limit, "vmax": limit} if symmetric else {}
        axis.imshow(image, cmap=cmap, **style)
        if titles is not None:
            axis.set_title(str(titles[index]), fontsize=9)
        if values and image.size <= 64:
            for (r, c), v in np.ndenumerate(image):
                dark = abs(v) > 0.5 * limit if symmetric else v < 0.5 * (image.max() + image.min())
                axis.text(c, r, f"{v:g}", ha="center", va="center", fontsize=8,
                          color="white" if dark else "black")
    if suptitle:
        fig.suptitle(suptitle)
    plt.show()


def show_kernels(kernels, titles=None, suptitle: str | None = None):
    """Filters drawn red-white-blue so positive and negative weights stand apart."""
    return show_images(kernels, titles, cmap="bwr", symmetric=True, suptitle=suptitle, values=True)


def show_feature_maps(maps, titles=None, suptitle: str | None = None, cols: int | None = None):
    """One panel a channel of a (C, H, W) activation."""
    maps = _as_array(maps) if not isinstance(maps, (list, tuple)) else maps
    return show_images(list(maps), titles, cmap="viridis", suptitle=suptitle, cols=cols)


def plot_history(histories: dict, title: str | None = None):
    """Loss and accuracy curves side by side for one or more runs.

    `histories` maps a run's name to a dict with `train_loss`, `val_loss`,
    `train_acc` and `val_acc` lists (one value an epoch), or is one such dict.
    """
    if "train_loss" in histories:
        histories = {"": histories}
    fig, (loss_axis, acc_axis) = plt.subplots(1, 2, figsize=(11, 3.8))
    for (name, history), colour in zip(histories.items(), plt.rcParams["axes.prop_cycle"].by_key()["color"]):
        epochs = np.arange(1, len(history["train_loss"]) + 1)
        label = f"{name} " if name else ""
        for axis, key in ((loss_axis, "loss"), (acc_axis, "acc")):
            axis.plot(epochs, history[f"train_{key}"], "-o", color=colour, label=f"{label}train")
            axis.plot(epochs, history[f"val_{key}"], "--s", color=colour, label=f"{label}validation")
    for axis, name in ((loss_axis, "loss"), (acc_axis, "accuracy")):
        axis.set_xlabel("epoch")
        axis.set_ylabel(name)
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    plt.show()


def show_map_rows(rows: dict, titles=None, suptitle: str | None = None, size: float = 0.95, cmap: str = "viridis"):
    """Feature maps in labelled rows, one row a (C, H, W) activation, so that the same channel of two
    inputs (an X and an O, say) sits in one column. Every row must have the same number of channels;
    `titles` names the columns."""
    rows = {name: [_as_array(m) for m in maps] for name, maps in rows.items()}
    counts = {len(maps) for maps in rows.values()}
    if len(counts) != 1:
        raise ValueError(f"every row needs the same number of maps, got {sorted(counts)}")
    cols = counts.pop()
    extra = (0.3 * len(rows) if titles is not None else 0) + (0.4 if suptitle else 0)
    fig, axes = plt.subplots(len(rows), cols, figsize=(size * cols + 0.6, size * len(rows) + extra),
                             squeeze=False, layout="constrained")
    for row, (name, maps) in enumerate(rows.items()):
        for col, image in enumerate(maps):
            axis = axes[row, col]
            axis.imshow(image, cmap=cmap)
            axis.set_xticks([])
            axis.set_yticks([])
            if titles is not None:
                axis.set_title(str(titles[col]), fontsize=8)
        axes[row, 0].set_ylabel(str(name), fontsize=9)
    if suptitle:
        fig.suptitle(suptitle)
    plt.show()



def show_confusion_matrix(matrix, class_names, title: str | None = None, size: float = 6.0):
    """A confusion matrix as a heat map, true classes down, predictions across, every count written in."""
    matrix = _as_array(matrix)
    fig, axis = plt.subplots(figsize=(size, size * 0.9), layout="constrained")
    picture = axis.imshow(matrix, cmap="Blues")
    for (r, c), v in np.ndenumerate(matrix):
        axis.text(c, r, f"{v:g}", ha="center", va="center", fontsize=7,
                  color="white" if v > 0.5 * matrix.max() else "black")
    ticks = np.arange(len(class_names))
    axis.set_xticks(ticks, class_names, rotation=45, ha="right", fontsize=8)
    axis.set_yticks(ticks, class_names, fontsize=8)
    axis.set_xlabel("predicted class")
    axis.set_ylabel("true class")
    fig.colorbar(picture, ax=axis, shrink=0.8, label="test images")
    if title:
        axis.set_title(title)
    plt.show()


def plot_activation_stats(runs: dict, title: str | None = None):
    """One row per run, three columns: mean, standard deviation and share of near-zero activations per
    training batch, one line per layer (`runs` maps a name to a `training.ActivationStats`)."""
    fig, axes = plt.subplots(len(runs), 3, figsize=(12, 2.8 * len(runs)), squeeze=False, sharex=True)
    for row, (name, stats) in zip(axes, runs.items()):
        for layer in stats.layers:
            values = np.array(stats.records[layer])
            for axis, column in zip(row, values.T):
                axis.plot(column, linewidth=1, label=layer)
        for axis, what in zip(row, ("mean", "standard deviation", f"share below {stats.threshold:g}")):
            axis.set_title(f"{name}: {what}", fontsize=9)
            axis.grid(alpha=0.3)
        row[2].set_ylim(0, 1)
    for axis in axes[-1]:
        axis.set_xlabel("training batch")
    axes[0][0].legend(fontsize=7)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    plt.show()
