"""Interactive explorers for the geometry of convolution and pooling (offline: ipywidgets + matplotlib).

Sliders are easier to believe than formulas: move the kernel size or the stride and
watch the window, the padding and the output grid change. The arithmetic lives in
plain functions (`output_size`, `window_starts`, `coverage`, `pool`, ...), so it is
tested without widgets; the widget classes only draw what those functions return.

Each explorer returns its widget container. It keeps the last figure it drew
(`figure`), that figure's title (`rendered_title`), the one-line summary above the
plot (`summary.value`) and a render counter, so a test can move a slider and see
the picture change. Plots go into an `ipywidgets.Output` as PNG images drawn with
matplotlib's object API, so no pyplot state leaks and nothing is written to stderr
when a notebook runs without a browser (nbval, nbgrader).
"""
import functools
import io
import json
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

__all__ = [
    "output_size", "window_starts", "window_bounds", "padding_mask", "coverage", "pool",
    "convolution_summary", "convolution_explorer", "pooling_explorer", "sliding_window_explorer",
    "dropout_curves", "dropout_run", "dropout_explorer",
]

# ---------------------------------------------------------------------------
# Pure geometry: no widgets, no drawing.
# ---------------------------------------------------------------------------


def output_size(n: int, kernel: int, stride: int = 1, padding: int = 0) -> int:
    """Positions a window of `kernel` takes along one axis of length `n`: floor((n + 2p - k) / s) + 1.

    Returns 0 (rather than a negative number) when the window does not fit at all.
    """
    if n < 1 or kernel < 1 or stride < 1 or padding < 0:
        raise ValueError(f"need n, kernel, stride >= 1 and padding >= 0, got {n}, {kernel}, {stride}, {padding}")
    room = n + 2 * padding - kernel
    return room // stride + 1 if room >= 0 else 0


def window_starts(n: int, kernel: int, stride: int = 1, padding: int = 0) -> list[int]:
    """First index of every window along one axis, counted in the padded input."""
    return [index * stride for index in range(output_size(n, kernel, stride, padding))]


def window_bounds(index: int, kernel: int, stride: int = 1) -> tuple[int, int]:
    """Half-open range [start, stop) of padded positions that output `index` reads."""
    start = index * stride
    return start, start + kernel


def padding_mask(n: int, padding: int) -> np.ndarray:
    """Square boolean grid of the padded input: True on the added zeros, False on the image."""
    mask = np.ones((n + 2 * padding, n + 2 * padding), dtype=bool)
    mask[padding:padding + n, padding:padding + n] = False
    return mask


def _axis_counts(n: int, kernel: int, stride: int, padding: int = 0) -> np.ndarray:
    counts = np.zeros(n + 2 * padding, dtype=int)
    for start in window_starts(n, kernel, stride, padding):
        counts[start:start + kernel] += 1
    return counts


def coverage(n: int, kernel: int, stride: int = 1, padding: int = 0) -> np.ndarray:
    """How many windows read each cell of the padded input (0 where a stride skips it)."""
    counts = _axis_counts(n, kernel, stride, padding)
    return np.outer(counts, counts)


def pool(image, kernel: int, stride: int, mode: str = "max") -> np.ndarray:
    """Max or average over each window, no padding, windows that do not fit are dropped (floor mode)."""
    image = np.asarray(image, dtype=float)
    rows = output_size(image.shape[0], kernel, stride)
    cols = output_size(image.shape[1], kernel, stride)
    if rows == 0 or cols == 0:
        return np.zeros((rows, cols))
    windows = np.lib.stride_tricks.sliding_window_view(image, (kernel, kernel))[::stride, ::stride]
    windows = windows[:rows, :cols]
    if mode == "max":
        return windows.max(axis=(-2, -1))
    if mode in {"avg", "average", "mean"}:
        return windows.mean(axis=(-2, -1))
    raise ValueError(f"mode must be 'max' or 'avg', got {mode!r}")


def convolution_summary(n: int, kernel: int, padding: int, stride: int) -> str:
    """The output-size formula with these numbers filled in, as one line of text."""
    out = output_size(n, kernel, stride, padding)
    room = n + 2 * padding - kernel
    if room < 0:
        return (f"no output: the {kernel}×{kernel} kernel is larger than the "
                f"{n + 2 * padding}×{n + 2 * padding} padded input")
    return (f"output {out}×{out}:  floor(({n} + 2·{padding} − {kernel}) / {stride}) + 1 "
            f"= floor({room} / {stride}) + 1 = {out}")


# ---------------------------------------------------------------------------
# Drawing: matplotlib figures from the numbers above.
# ---------------------------------------------------------------------------

_IMAGE, _PADDING, _WINDOW = "#d6e6f5", "#e3e3e3", "tab:red"


def _grid(axis, rows: int, cols: int) -> None:
    """Cell borders and no tick labels, so an imshow reads as a grid of pixels."""
    axis.set_xticks(np.arange(-0.5, cols, 1), minor=True)
    axis.set_yticks(np.arange(-0.5, rows, 1), minor=True)
    axis.grid(which="minor", color="0.35", linewidth=0.6)
    axis.tick_params(which="both", length=0)
    axis.set_xticks([])
    axis.set_yticks([])
    axis.set_xlim(-0.5, cols - 0.5)
    axis.set_ylim(rows - 0.5, -0.5)


def _frame(axis, row: int, col: int, height: int, width: int, fill: bool = True) -> None:
    """A red outline (tinted inside when `fill`) around a block of cells."""
    corner = (col - 0.5, row - 0.5)
    if fill:
        axis.add_patch(Rectangle(corner, width, height, facecolor=_WINDOW, alpha=0.25, linewidth=0))
    axis.add_patch(Rectangle(corner, width, height, linewidth=2.5, edgecolor=_WINDOW, facecolor="none"))


def _hatch_unread(axis, counts: np.ndarray, mask: np.ndarray) -> None:
    """Cross out image cells that no window ever reads (the stride stepped over them)."""
    for (r, c), count in np.ndenumerate(counts):
        if count == 0 and not mask[r, c]:
            axis.add_patch(Rectangle((c - 0.5, r - 0.5), 1, 1, hatch="xx", fill=False,
                                     edgecolor="tab:orange", linewidth=0))


def _no_output(axis, text: str) -> None:
    axis.axis("off")
    axis.text(0.5, 0.5, text, ha="center", va="center", wrap=True, fontsize=10, transform=axis.transAxes)


def draw_convolution(size: int, kernel: int, padding: int, stride: int, row: int = 0, col: int = 0) -> Figure:
    """Padded input with the window of output (row, col), beside the output grid."""
    out = output_size(size, kernel, stride, padding)
    padded = size + 2 * padding
    mask = padding_mask(size, padding)
    fig = Figure(figsize=(9.5, 4.4), layout="constrained")
    in_axis, out_axis = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.3, 1]})

    colours = np.where(mask[..., None], _rgb(_PADDING), _rgb(_IMAGE))
    in_axis.imshow(colours)
    _grid(in_axis, padded, padded)
    if padded <= 20:
        for r, c in zip(*np.nonzero(mask)):
            in_axis.text(c, r, "0", ha="center", va="center", fontsize=7, color="0.45")
    starts = window_starts(size, kernel, stride, padding)
    centres = [s + (kernel - 1) / 2 for s in starts]
    if centres:
        cy, cx = np.meshgrid(centres, centres, indexing="ij")
        in_axis.plot(cx.ravel(), cy.ravel(), "o", color="0.3", markersize=3)
    counts = coverage(size, kernel, stride, padding)
    _hatch_unread(in_axis, counts, mask)
    legend = ["grey = zero padding"] if padding else []
    legend += ["hatched = never read"] if np.any((counts == 0) & ~mask) else []
    in_axis.set_title(f"input {size}×{size}" + (f", padded to {padded}×{padded}" if padding else "")
                      + (f"\n({', '.join(legend)})" if legend else ""), fontsize=10)

    if out == 0:
        _no_output(out_axis, "no output:\nthe kernel is larger\nthan the padded input")
    else:
        row, col = min(row, out - 1), min(col, out - 1)
        r0, _ = window_bounds(row, kernel, stride)
        c0, _ = window_bounds(col, kernel, stride)
        _frame(in_axis, r0, c0, kernel, kernel)
        in_axis.plot([c0 + (kernel - 1) / 2], [r0 + (kernel - 1) / 2], "o", color=_WINDOW, markersize=6)
        out_axis.imshow(np.ones((out, out, 3)))
        _grid(out_axis, out, out)
        _frame(out_axis, row, col, 1, 1)
        out_axis.set_title(f"output {out}×{out}, position ({row}, {col})", fontsize=10)
    fig.suptitle(f"{size}×{size} input, {kernel}×{kernel} kernel, padding {padding}, stride {stride}"
                 f" → output {out}×{out}")
    return fig


def draw_pooling(image, kernel: int, stride: int, row: int = 0, col: int = 0) -> Figure:
    """The image with one window outlined, and what max and average pooling make of it."""
    image = np.asarray(image, dtype=float)
    rows, cols = (output_size(n, kernel, stride) for n in image.shape)
    fig = Figure(figsize=(11, 4), layout="constrained")
    in_axis, max_axis, avg_axis = fig.subplots(1, 3)
    low, high = image.min(), image.max()
    _values(in_axis, image, low, high, "{:g}")
    counts = np.outer(_axis_counts(image.shape[0], kernel, stride), _axis_counts(image.shape[1], kernel, stride))
    _hatch_unread(in_axis, counts, np.zeros_like(counts, dtype=bool))
    unread = " (hatched = never pooled)" if np.any(counts == 0) else ""
    in_axis.set_title(f"input {image.shape[0]}×{image.shape[1]}{unread}", fontsize=10)
    if rows == 0 or cols == 0:
        for axis in (max_axis, avg_axis):
            _no_output(axis, "no output:\nthe window is larger\nthan the image")
    else:
        row, col = min(row, rows - 1), min(col, cols - 1)
        r0, _ = window_bounds(row, kernel, stride)
        c0, _ = window_bounds(col, kernel, stride)
        _frame(in_axis, r0, c0, kernel, kernel, fill=False)
        for axis, mode, name, style in ((max_axis, "max", "max pooling", "{:g}"),
                                        (avg_axis, "avg", "average pooling", "{:.2f}")):
            pooled = pool(image, kernel, stride, mode)
            _values(axis, pooled, low, high, style)
            _frame(axis, row, col, 1, 1, fill=False)
            axis.set_title(f"{name}: {rows}×{cols}", fontsize=10)
    fig.suptitle(f"{image.shape[0]}×{image.shape[1]} input, {kernel}×{kernel} window, stride {stride}"
                 f" → output {rows}×{cols}")
    return fig


def sliding_window_steps(image, kernel) -> list:
    """Every position of a valid cross-correlation in the order the loops visit it (row by row):
    (output row, output column, the element-wise products, their sum)."""
    image, kernel = np.asarray(image, dtype=float), np.asarray(kernel, dtype=float)
    if any(k > n for k, n in zip(kernel.shape, image.shape)):
        raise ValueError(f"a {kernel.shape[0]}×{kernel.shape[1]} kernel does not fit in a "
                         f"{image.shape[0]}×{image.shape[1]} image")
    windows = np.lib.stride_tricks.sliding_window_view(image, kernel.shape)
    steps = []
    for (r, c) in np.ndindex(windows.shape[:2]):
        products = windows[r, c] * kernel
        steps.append((r, c, products, float(products.sum())))
    return steps


def draw_sliding_window(image, kernel, step: int = 0) -> Figure:
    """The image with the window of one position, the products there, and the output filled in up to it."""
    image, kernel = np.asarray(image, dtype=float), np.asarray(kernel, dtype=float)
    steps = sliding_window_steps(image, kernel)
    step = min(max(step, 0), len(steps) - 1)
    row, col, products, total = steps[step]
    kh, kw = kernel.shape
    out_shape = (image.shape[0] - kh + 1, image.shape[1] - kw + 1)
    fig = Figure(figsize=(12, 3.8), layout="constrained")
    in_axis, product_axis, out_axis = fig.subplots(1, 3, gridspec_kw={"width_ratios": [image.shape[1], kw + 1, out_shape[1]]})
    _values(in_axis, image, image.min(), image.max(), "{:g}")
    _frame(in_axis, row, col, kh, kw)
    in_axis.set_title(f"image: the window at rows {row}–{row + kh - 1}, columns {col}–{col + kw - 1}", fontsize=10)
    product_axis.imshow(np.ones((kh, kw, 3)))
    _grid(product_axis, kh, kw)
    for (r, c), v in np.ndenumerate(products):
        product_axis.text(c, r, f"{image[row + r, col + c]:g}·{kernel[r, c]:g}\n= {v:g}", ha="center", va="center", fontsize=9)
    product_axis.set_title(f"products, sum = {total:g}", fontsize=10)
    done = np.full(out_shape, np.nan)
    for r, c, _, value in steps[:step + 1]:
        done[r, c] = value
    every = [value for *_, value in steps]
    low, high = min(every), max(every)
    out_axis.imshow(done, cmap="Blues", vmin=low, vmax=high if high > low else low + 1)
    _grid(out_axis, *out_shape)
    middle = (low + high) / 2
    for (r, c), v in np.ndenumerate(done):
        if not np.isnan(v):
            out_axis.text(c, r, f"{v:g}", ha="center", va="center", fontsize=9, color="white" if v > middle else "black")
    _frame(out_axis, row, col, 1, 1, fill=False)
    out_axis.set_title(f"output {out_shape[0]}×{out_shape[1]}: ({row}, {col}) = {total:g}", fontsize=10)
    fig.suptitle(f"position {step + 1} of {len(steps)}: multiply the window by the kernel, add the products up")
    return fig


def _values(axis, array: np.ndarray, low: float, high: float, style: str) -> None:
    axis.imshow(array, cmap="Blues", vmin=low, vmax=high if high > low else low + 1)
    _grid(axis, *array.shape)
    if array.size <= 100:
        middle = (low + high) / 2
        for (r, c), v in np.ndenumerate(array):
            axis.text(c, r, style.format(v), ha="center", va="center", fontsize=8,
                      color="white" if v > middle else "black")


def _rgb(colour: str) -> np.ndarray:
    from matplotlib.colors import to_rgb
    return np.array(to_rgb(colour))


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80)
    return buffer.getvalue()


# ---------------------------------------------------------------------------
# Widgets: sliders that redraw the figure.
# ---------------------------------------------------------------------------


def _slider(description: str, value: int, low: int, high: int):
    import ipywidgets as widgets
    return widgets.IntSlider(value=min(max(value, low), high), min=low, max=high, description=description,
                             continuous_update=False, style={"description_width": "initial"},
                             layout=widgets.Layout(width="260px"))


@functools.cache
def _explorer_class():
    """Built on first use so that importing `course` never needs ipywidgets."""
    import ipywidgets as widgets
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.display import Image, display

    class Explorer(widgets.VBox):
        """Sliders, a one-line summary and a plot that is redrawn whenever a slider moves.

        `geometry` holds the sliders that change the output's size; `position` the
        output row and column, whose ranges follow the output size.
        """

        def __init__(self, geometry: dict, position: dict, limits, draw, summarise):
            super().__init__()
            self.controls = {**geometry, **position}
            self.summary = widgets.Label()
            self.output = widgets.Output()
            self.figure = None
            self.rendered_title = ""
            self.renders = 0
            self._position, self._limits, self._draw, self._summarise = position, limits, draw, summarise
            self._quiet = False
            self.children = [widgets.HBox(list(geometry.values())), widgets.HBox(list(position.values())),
                             self.summary, self.output]
            for slider in geometry.values():
                slider.observe(self._geometry_changed, names="value")
            for slider in position.values():
                slider.observe(self._position_changed, names="value")
            self._fit_position()
            self.render()

        def values(self) -> dict:
            return {name: slider.value for name, slider in self.controls.items()}

        def _fit_position(self) -> None:
            """Bound the row/column sliders by the output size without a redraw per change."""
            self._quiet = True
            try:
                for slider, count in zip(self._position.values(), self._limits(**self.values())):
                    slider.max = max(count - 1, 0)
                    slider.disabled = count <= 1
            finally:
                self._quiet = False

        def _geometry_changed(self, change) -> None:
            self._fit_position()
            self.render()

        def _position_changed(self, change) -> None:
            if not self._quiet:
                self.render()

        def render(self) -> None:
            values = self.values()
            figure = self._draw(**values)
            self.figure = figure
            self.rendered_title = figure.get_suptitle()
            self.summary.value = self._summarise(**values)
            if InteractiveShell.initialized():  # outside IPython there is nowhere to show it
                picture = Image(data=_png(figure), format="png")
                self.output.clear_output(wait=True)
                with self.output:
                    display(picture)
            self.renders += 1

    return Explorer


def convolution_explorer(image_size: int = 7, kernel_size: int = 3, padding: int = 1, stride: int = 2):
    """Sliders for image size, kernel size, padding, stride and the output position.

    Draws the zero-padded input, the window that produces the chosen output pixel
    (red), the centre of every window (dots) and cells no window reads (hatched).
    """
    geometry = {"size": _slider("image size", image_size, 3, 12),
                "kernel": _slider("kernel size", kernel_size, 1, 7),
                "padding": _slider("padding", padding, 0, 3),
                "stride": _slider("stride", stride, 1, 4)}
    position = {"row": _slider("output row", 0, 0, 0), "col": _slider("output column", 0, 0, 0)}

    def limits(size, kernel, padding, stride, **_):
        out = output_size(size, kernel, stride, padding)
        return out, out

    def summarise(size, kernel, padding, stride, row, col):
        text = convolution_summary(size, kernel, padding, stride)
        if output_size(size, kernel, stride, padding):
            r0, r1 = window_bounds(row, kernel, stride)
            c0, c1 = window_bounds(col, kernel, stride)
            text += f"   |   output ({row}, {col}) reads padded rows {r0}–{r1 - 1}, columns {c0}–{c1 - 1}"
        return text

    return _explorer_class()(geometry, position, limits, draw_convolution, summarise)


def default_pooling_image(size: int = 6, seed: int = 3) -> np.ndarray:
    """A small integer image whose pooled values are easy to check by eye."""
    return np.random.default_rng(seed).integers(0, 10, size=(size, size)).astype(float)


def pooling_explorer(image=None, kernel_size: int = 2, stride: int = 2):
    """Max and average pooling of a small image side by side, with kernel and stride sliders.

    `image` is any 2-D array (default: a 6×6 image of digits 0-9). The outlined
    window is the one that produces the outlined cell of both outputs.
    """
    image = default_pooling_image() if image is None else np.asarray(image, dtype=float)
    if image.ndim != 2:
        raise ValueError(f"pooling_explorer needs a 2-D image, got shape {image.shape}")
    largest = min(image.shape)
    geometry = {"kernel": _slider("kernel size", kernel_size, 1, min(largest, 5)),
                "stride": _slider("stride", stride, 1, min(largest, 4))}
    position = {"row": _slider("output row", 0, 0, 0), "col": _slider("output column", 0, 0, 0)}

    def limits(kernel, stride, **_):
        return tuple(output_size(n, kernel, stride) for n in image.shape)

    def summarise(kernel, stride, row, col):
        rows, cols = limits(kernel, stride)
        if rows == 0 or cols == 0:
            return "no output: the window is larger than the image"
        r0, r1 = window_bounds(row, kernel, stride)
        c0, c1 = window_bounds(col, kernel, stride)
        patch = image[r0:r1, c0:c1]
        return (f"output {rows}×{cols}   |   window ({row}, {col}) covers rows {r0}–{r1 - 1}, "
                f"columns {c0}–{c1 - 1}: max {patch.max():g}, average {patch.mean():.2f}")

    def draw(kernel, stride, row, col):
        return draw_pooling(image, kernel, stride, row, col)

    return _explorer_class()(geometry, position, limits, draw, summarise)


def sliding_window_explorer(image, kernel, step: int = 0):
    """One slider over the positions of a valid cross-correlation, in the loops' order: the window on the
    image, the element-wise products under it, and their sum landing in the output."""
    image, kernel = np.asarray(image, dtype=float), np.asarray(kernel, dtype=float)
    if image.ndim != 2 or kernel.ndim != 2:
        raise ValueError(f"sliding_window_explorer needs a 2-D image and kernel, got {image.shape} and {kernel.shape}")
    steps = sliding_window_steps(image, kernel)
    position = {"step": _slider("position", step, 0, len(steps) - 1)}

    def limits(**_):
        return (len(steps),)

    def summarise(step):
        row, col, products, total = steps[step]
        terms = " + ".join(f"{v:g}" for v in products.ravel())
        return f"position {step + 1} of {len(steps)}: output ({row}, {col}) = {terms} = {total:g}"

    def draw(step):
        return draw_sliding_window(image, kernel, step)

    return _explorer_class()({}, position, limits, draw, summarise)


DROPOUT_CURVES = Path(__file__).resolve().parent / "dropout_curves.json"
CURVE_KEYS = ("train_loss", "val_loss", "train_acc", "val_acc")


def dropout_run(curves: dict, p_conv: float, p_fc: float) -> dict:
    """The stored history of the run with these two rates."""
    return curves["runs"][f"{p_conv:g}/{p_fc:g}"]


def dropout_curves(path=DROPOUT_CURVES) -> dict:
    """The precomputed curves of 06's dropout sliders: the rates after the convolutions (`conv_rates`) and after
    the first linear layer (`fc_rates`), epochs, and one history (train_loss, val_loss, train_acc, val_acc,
    clean_train_acc) for every pair of rates, keyed "p_conv/p_fc"."""
    found = json.loads(Path(path).read_text())
    for p_conv in found["conv_rates"]:
        for p_fc in found["fc_rates"]:
            history = dropout_run(found, p_conv, p_fc)
            if any(len(history[key]) != found["epochs"] for key in CURVE_KEYS):
                raise ValueError(f"{path}: the curves for p_conv = {p_conv:g}, p_fc = {p_fc:g} do not have "
                                 f"{found['epochs']} epochs")
    return found


def draw_dropout(curves: dict, p_conv: float, p_fc: float) -> Figure:
    """Loss and accuracy per epoch of the chosen pair of rates in colour; the validation curves of the other
    `p_fc` at the same `p_conv` in grey."""
    fig = Figure(figsize=(11, 3.9), layout="constrained")
    loss_axis, acc_axis = fig.subplots(1, 2)
    epochs = np.arange(1, curves["epochs"] + 1)
    for other in curves["fc_rates"]:
        history = dropout_run(curves, p_conv, other)
        for axis, key in ((loss_axis, "loss"), (acc_axis, "acc")):
            if other == p_fc:
                axis.plot(epochs, history[f"train_{key}"], "-o", color="tab:blue", markersize=3, label="train (dropout on)")
                axis.plot(epochs, history[f"val_{key}"], "--s", color="tab:orange", markersize=3, label="validation")
            else:
                axis.plot(epochs, history[f"val_{key}"], "-", color="0.8", linewidth=1, zorder=0)
    for axis, name in ((loss_axis, "loss"), (acc_axis, "accuracy")):
        axis.set_xlabel("epoch")
        axis.set_ylabel(name)
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8)
    loss_axis.set_title(f"grey: validation loss of the other p_fc at p_conv = {p_conv:g}", fontsize=9)
    fig.suptitle(f"dropout p_conv = {p_conv:g}, p_fc = {p_fc:g}")
    return fig


def _rate_slider(description: str, rates, value: float):
    import ipywidgets as widgets
    start = min(rates, key=lambda rate: abs(rate - value))
    return widgets.SelectionSlider(options=[(f"{rate:g}", rate) for rate in rates], value=start,
                                   description=description, continuous_update=False,
                                   style={"description_width": "initial"}, layout=widgets.Layout(width="360px"))


def dropout_explorer(curves: dict | None = None, p_conv: float = 0.25, p_fc: float = 0.5):
    """Two sliders, the dropout rate after the convolutions and after the first linear layer, over precomputed
    runs, showing the chosen run's train and validation curves."""
    curves = dropout_curves() if curves is None else curves
    rates = {"p_conv": _rate_slider("dropout after the convolutions, p_conv", curves["conv_rates"], p_conv),
             "p_fc": _rate_slider("dropout after the first linear layer, p_fc", curves["fc_rates"], p_fc)}

    def summarise(p_conv, p_fc):
        history = dropout_run(curves, p_conv, p_fc)
        clean, validation = history["clean_train_acc"], history["val_acc"][-1]
        best = int(np.argmin(history["val_loss"])) + 1
        return (f"p_conv = {p_conv:g}, p_fc = {p_fc:g}: after {curves['epochs']} epochs clean train accuracy "
                f"{clean:.3f}, validation {validation:.3f}, gap {clean - validation:.3f}; "
                f"lowest validation loss at epoch {best}")

    def draw(p_conv, p_fc):
        return draw_dropout(curves, p_conv, p_fc)

    return _explorer_class()(rates, {}, lambda **_: (), draw, summarise)
