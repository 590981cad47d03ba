"""The explorers' arithmetic agrees with PyTorch, and moving a slider redraws the picture."""
import json

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from course import explorers  # noqa: E402

# --- pure functions --------------------------------------------------------------------------

@pytest.mark.parametrize("n,kernel,stride,padding,expected", [
    (28, 5, 1, 0, 24), (32, 3, 1, 0, 30), (32, 2, 2, 0, 16), (8, 3, 2, 1, 4), (16, 3, 2, 1, 8),
    (7, 3, 1, 1, 7), (28, 3, 2, 1, 14), (3, 3, 1, 0, 1), (3, 4, 1, 0, 0), (2, 5, 1, 1, 0),
])
def test_output_size_follows_the_formula(n, kernel, stride, padding, expected):
    assert explorers.output_size(n, kernel, stride, padding) == expected


def test_output_size_matches_torch_on_random_geometries():
    rng = np.random.default_rng(0)
    for _ in range(60):
        n, kernel, stride, padding = (int(v) for v in (rng.integers(1, 20), rng.integers(1, 8),
                                                       rng.integers(1, 5), rng.integers(0, 4)))
        got = explorers.output_size(n, kernel, stride, padding)
        if n + 2 * padding < kernel:
            assert got == 0
            continue
        shape = F.conv2d(torch.zeros(1, 1, n, n), torch.zeros(1, 1, kernel, kernel),
                         stride=stride, padding=padding).shape
        assert got == shape[-1], (n, kernel, stride, padding)


@pytest.mark.parametrize("args", [(0, 3, 1, 0), (5, 0, 1, 0), (5, 3, 0, 0), (5, 3, 1, -1)])
def test_output_size_rejects_impossible_arguments(args):
    with pytest.raises(ValueError):
        explorers.output_size(*args)


def test_window_starts_and_bounds():
    assert explorers.window_starts(7, 3, 2, 1) == [0, 2, 4, 6]
    assert explorers.window_starts(3, 5) == []
    assert explorers.window_bounds(3, kernel=3, stride=2) == (6, 9)
    # The last window ends inside the padded input.
    for n, kernel, stride, padding in [(7, 3, 2, 1), (12, 3, 4, 0), (5, 5, 1, 0), (9, 2, 3, 2)]:
        last = explorers.window_starts(n, kernel, stride, padding)[-1]
        assert last + kernel <= n + 2 * padding


def test_padding_mask_marks_only_the_border():
    mask = explorers.padding_mask(3, 2)
    assert mask.shape == (7, 7)
    assert mask.sum() == 49 - 9
    assert not mask[2:5, 2:5].any() and mask[0].all() and mask[:, -1].all()
    assert not explorers.padding_mask(4, 0).any()


def test_coverage_counts_the_windows_reading_each_cell():
    counts = explorers.coverage(12, 3, stride=4)
    # Rows 3, 7, 11 fall between windows: a stride larger than the kernel skips them.
    assert np.array_equal(np.nonzero(counts[:, 0] == 0)[0], [3, 7, 11])
    # With stride 1 and "same" padding every image pixel is read kernel*kernel times in the middle.
    counts = explorers.coverage(5, 3, stride=1, padding=1)
    assert counts[3, 3] == 9 and counts[0, 0] == 1
    assert counts.sum() == explorers.output_size(5, 3, 1, 1) ** 2 * 9


@pytest.mark.parametrize("kernel,stride", [(2, 2), (3, 2), (3, 1), (2, 3), (4, 4), (1, 1), (5, 2)])
def test_pool_matches_torch(kernel, stride):
    image = np.random.default_rng(kernel * 10 + stride).normal(size=(7, 9))
    x = torch.tensor(image)[None, None]
    assert np.allclose(explorers.pool(image, kernel, stride, "max"), F.max_pool2d(x, kernel, stride)[0, 0].numpy())
    assert np.allclose(explorers.pool(image, kernel, stride, "avg"), F.avg_pool2d(x, kernel, stride)[0, 0].numpy())


def test_pool_edge_cases():
    assert explorers.pool(np.ones((3, 3)), 4, 1).shape == (0, 0)
    with pytest.raises(ValueError):
        explorers.pool(np.ones((3, 3)), 2, 1, "median")


def test_convolution_summary_shows_the_formula():
    assert "output 4×4" in explorers.convolution_summary(7, 3, 1, 2)
    assert "floor(6 / 2) + 1 = 4" in explorers.convolution_summary(7, 3, 1, 2)
    assert explorers.convolution_summary(3, 7, 0, 1).startswith("no output")


def test_figures_draw_without_pyplot():
    import matplotlib.pyplot as plt
    before = plt.get_fignums()
    fig = explorers.draw_convolution(7, 3, 1, 2, row=3, col=1)
    assert fig.get_suptitle().endswith("output 4×4")
    # The red window sits at padded rows 6..8, columns 2..4.
    windows = [p for p in fig.axes[0].patches if p.get_edgecolor()[:3] == matplotlib.colors.to_rgb("tab:red")]
    assert any(p.get_xy() == (1.5, 5.5) and p.get_width() == 3 for p in windows)
    fig = explorers.draw_pooling(np.arange(16).reshape(4, 4), 2, 2, 1, 1)
    assert fig.get_suptitle().endswith("output 2×2") and len(fig.axes) == 3
    assert plt.get_fignums() == before, "explorers must not leave pyplot figures behind"


# --- widgets ---------------------------------------------------------------------------------

def test_convolution_explorer_redraws_when_sliders_move():
    explorer = explorers.convolution_explorer(image_size=7, kernel_size=3, padding=1, stride=2)
    import ipywidgets
    assert isinstance(explorer, ipywidgets.Box)
    assert set(explorer.controls) == {"size", "kernel", "padding", "stride", "row", "col"}
    assert explorer.rendered_title.endswith("output 4×4")
    assert explorer.controls["row"].max == 3 and explorer.controls["col"].max == 3
    renders = explorer.renders

    explorer.controls["stride"].value = 1
    assert explorer.rendered_title.endswith("output 7×7")
    assert "output 7×7" in explorer.summary.value
    assert explorer.controls["row"].max == 6
    assert explorer.renders == renders + 1, "one slider move should draw exactly once"

    explorer.controls["col"].value = 5
    assert "output (0, 5) reads padded rows 0–2, columns 5–7" in explorer.summary.value
    assert explorer.renders == renders + 2

    explorer.controls["padding"].value = 0
    assert explorer.rendered_title.endswith("output 5×5")
    assert explorer.controls["col"].value == 4, "the position is clamped to the smaller output"

    explorer.controls["kernel"].value = 7
    explorer.controls["size"].value = 3
    assert explorer.rendered_title.endswith("output 0×0")
    assert explorer.summary.value.startswith("no output")
    assert explorer.controls["row"].disabled


def test_pooling_explorer_shows_max_and_average():
    image = np.arange(36, dtype=float).reshape(6, 6)
    explorer = explorers.pooling_explorer(image, kernel_size=2, stride=2)
    assert explorer.rendered_title.endswith("output 3×3")
    assert "max 7, average 3.50" in explorer.summary.value

    explorer.controls["kernel"].value = 3
    assert explorer.rendered_title.endswith("output 2×2")
    explorer.controls["row"].value = 1
    explorer.controls["col"].value = 1
    # Window (1, 1) with kernel 3, stride 2 covers rows 2-4, columns 2-4.
    assert "max 28, average 21.00" in explorer.summary.value
    texts = {t.get_text() for t in explorer.figure.axes[1].texts} | {t.get_text() for t in explorer.figure.axes[2].texts}
    assert {"28", "21.00"} <= texts

    explorer.controls["stride"].value = 1
    assert explorer.rendered_title.endswith("output 4×4")
    assert explorer.controls["row"].max == 3


def test_pooling_explorer_default_image_and_bad_input():
    explorer = explorers.pooling_explorer()
    assert explorer.rendered_title.startswith("6×6 input")
    with pytest.raises(ValueError):
        explorers.pooling_explorer(np.ones((2, 3, 3)))


def test_explorers_run_quietly_inside_a_kernel(tmp_path):
    """Built in a notebook executed without a browser (as nbval and nbgrader do): no errors, no stderr."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "from course.explorers import convolution_explorer, pooling_explorer\n"
        "conv = convolution_explorer()\n"
        "conv.controls['stride'].value = 1\n"
        "pool = pooling_explorer()\n"
        "pool.controls['kernel'].value = 3\n"
        "print(conv.rendered_title)\n"
        "conv"
    )])
    NotebookClient(notebook, timeout=120, kernel_name="python3").execute()
    outputs = notebook.cells[0].outputs
    assert not [o for o in outputs if o.output_type == "error" or o.get("name") == "stderr"], outputs
    assert any("output 7×7" in o.get("text", "") for o in outputs)
    assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in outputs)


def test_sliding_window_steps_follow_the_loops_and_sum_the_products():
    image = np.arange(12.0).reshape(3, 4)
    kernel = np.array([[1.0, 0.0], [0.0, -1.0]])
    steps = explorers.sliding_window_steps(image, kernel)
    assert [(r, c) for r, c, _, _ in steps] == [(r, c) for r in range(2) for c in range(3)]
    row, col, products, total = steps[4]
    assert (row, col) == (1, 1)
    assert np.array_equal(products, image[1:3, 1:3] * kernel) and total == image[1, 1] - image[2, 2]
    with pytest.raises(ValueError):
        explorers.sliding_window_steps(np.ones((2, 2)), np.ones((3, 3)))


def test_sliding_window_figure_fills_the_output_up_to_the_position():
    import matplotlib.pyplot as plt
    before = plt.get_fignums()
    fig = explorers.draw_sliding_window(np.arange(12.0).reshape(3, 4), np.array([[1.0, 0.0], [0.0, -1.0]]), step=2)
    assert fig.get_suptitle().startswith("position 3 of 6") and len(fig.axes) == 3
    assert len(fig.axes[2].texts) == 3, "the output shows the three sums computed so far"
    assert fig.axes[1].get_title() == "products, sum = -5"
    assert plt.get_fignums() == before


def test_sliding_window_explorer_moves_over_every_position():
    explorer = explorers.sliding_window_explorer(np.arange(12.0).reshape(3, 4), np.array([[1.0, 0.0], [0.0, -1.0]]))
    assert set(explorer.controls) == {"step"} and explorer.controls["step"].max == 5
    assert explorer.summary.value == "position 1 of 6: output (0, 0) = 0 + 0 + 0 + -5 = -5"
    explorer.controls["step"].value = 5
    assert explorer.rendered_title.startswith("position 6 of 6")
    assert "output (1, 2)" in explorer.summary.value


def _toy_curves():
    history = lambda a: {"train_loss": [1.0, a], "val_loss": [1.2, 0.9], "train_acc": [0.5, 0.9], "val_acc": [0.4, 0.7],
                         "clean_train_acc": 0.95 - a / 10}
    return {"conv_rates": [0.0, 0.5], "fc_rates": [0.0, 0.25, 0.5], "epochs": 2,
            "runs": {f"{c:g}/{f:g}": history(0.2 + c + f) for c in (0.0, 0.5) for f in (0.0, 0.25, 0.5)}}


def test_the_stored_dropout_curves_cover_every_pair_of_rates_including_the_defaults():
    curves = explorers.dropout_curves()
    assert curves["conv_rates"][0] == 0.0 and curves["fc_rates"][0] == 0.0
    assert 0.25 in curves["conv_rates"] and 0.5 in curves["fc_rates"], "FMNIST_Net2's defaults must be stored"
    for p_conv in curves["conv_rates"]:
        for p_fc in curves["fc_rates"]:
            assert 0 <= explorers.dropout_run(curves, p_conv, p_fc)["clean_train_acc"] <= 1


def test_dropout_curves_reject_a_short_run(tmp_path):
    curves = _toy_curves()
    curves["runs"]["0.5/0.25"]["val_acc"] = [0.4]
    (tmp_path / "curves.json").write_text(json.dumps(curves))
    with pytest.raises(ValueError, match="p_conv = 0.5, p_fc = 0.25 do not have 2 epochs"):
        explorers.dropout_curves(tmp_path / "curves.json")


def test_dropout_explorer_has_a_slider_per_layer_labelled_with_the_rates():
    explorer = explorers.dropout_explorer(_toy_curves(), p_conv=0.5, p_fc=0.25)
    assert explorer.controls["p_conv"].value == 0.5 and explorer.controls["p_fc"].value == 0.25
    assert list(explorer.controls["p_fc"]._options_labels) == ["0", "0.25", "0.5"]
    assert explorer.rendered_title == "dropout p_conv = 0.5, p_fc = 0.25"
    train = [line for line in explorer.figure.axes[0].lines if line.get_label().startswith("train")]
    assert len(train) == 1 and np.allclose(train[0].get_ydata(), [1.0, 0.95])
    explorer.controls["p_conv"].value = 0.0
    explorer.controls["p_fc"].value = 0.5
    assert explorer.rendered_title == "dropout p_conv = 0, p_fc = 0.5"
    assert explorer.summary.value.startswith("p_conv = 0, p_fc = 0.5: after 2 epochs clean train accuracy 0.880, "
                                             "validation 0.700, gap 0.180")
