"""The measured costs are the textbook formulas, worked out here by hand for small layers."""
import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402
from torch import nn  # noqa: E402

from course import costs  # noqa: E402


def test_a_conv_pool_linear_network_costs_what_the_formulas_say():
    net = nn.Sequential(nn.Conv2d(1, 10, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(1440, 10))
    rows = costs.measure(net, (1, 28, 28))
    assert [r.output for r in rows] == [(10, 24, 24), (10, 24, 24), (10, 12, 12), (1440,), (10,)]
    assert [r.params for r in rows] == [10 * 25 + 10, 0, 0, 0, 1440 * 10 + 10]
    assert [r.macs for r in rows] == [24 * 24 * 10 * 25, 0, 0, 0, 1440 * 10]
    assert rows[0].name == "0: Conv2d 5×5" and rows[-1].name == "4: Linear"


def test_stride_padding_and_a_one_by_one_conv_with_global_average_pooling():
    net = nn.Sequential(nn.Conv2d(3, 16, 3, stride=2, padding=1), nn.Conv2d(16, 8, 1), nn.AdaptiveAvgPool2d(1))
    rows = costs.measure(net, (3, 32, 32))
    assert [r.output for r in rows] == [(16, 16, 16), (8, 16, 16), (8, 1, 1)]
    assert [r.name for r in rows] == ["0: Conv2d 3×3", "1: Conv2d 1×1", "2: AdaptiveAvgPool2d"]
    assert [(r.params, r.macs) for r in rows] == [(3 * 16 * 9 + 16, 16 * 16 * 16 * 3 * 9),
                                                  (16 * 8 + 8, 16 * 16 * 8 * 16), (0, 0)]


def test_a_nested_block_counts_as_one_layer_and_grouped_convs_see_fewer_channels():
    block = nn.Sequential(nn.Conv2d(4, 4, 3, padding=1, groups=2), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 5 * 5, 3))
    (row,) = costs.measure(nn.Sequential(block), (4, 5, 5))
    assert row.output == (3,) and row.name == "0: Sequential"
    assert row.params == (4 * 2 * 9 + 4) + (100 * 3 + 3)
    assert row.macs == 5 * 5 * 4 * 2 * 9 + 100 * 3


def test_measuring_leaves_no_hook_behind():
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten())
    costs.measure(net, (1, 4, 4))
    assert all(not m._forward_hooks for m in net.modules())


def test_a_wrong_input_shape_raises_and_still_removes_the_hooks():
    net = nn.Sequential(nn.Conv2d(3, 2, 3))
    with pytest.raises(RuntimeError):
        costs.measure(net, (1, 8, 8))
    assert not net[0]._forward_hooks


def test_the_table_lists_every_layer_and_the_totals():
    rows = costs.measure(nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(8, 2)), (1, 4, 4))
    table = costs.cost_table(rows)
    lines = table.splitlines()
    assert len(lines) == 1 + 3 + 1 and "2×2×2" in lines[1]
    assert lines[-1].split() == ["total", f"{20 + 18:,}", f"{72 + 16:,}"]


def test_the_plot_draws_one_bar_per_costly_layer(monkeypatch):
    drawn = []
    monkeypatch.setattr(matplotlib.pyplot, "show", lambda: drawn.append(matplotlib.pyplot.gcf()))
    rows = costs.measure(nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(8, 2)), (1, 4, 4))
    costs.show_costs({"a": rows, "b": rows[:1]})
    (figure,) = drawn
    assert [len(axis.patches) for axis in figure.axes] == [3, 3]
    matplotlib.pyplot.close(figure)
