"""Parameters and multiply-adds of each layer of a PyTorch network, measured by running it once.

Notebook 04 uses it to compare network heads after its students have counted the same by hand.
Parameters come from the modules (`numel()`), multiply-adds from the shapes one forward pass sees:
a convolution or a linear layer does one multiply-add per weight it applies at each output
position; pooling, activations and flattening have no weights, so they count zero here.
"""
import matplotlib.pyplot as plt
import torch
from torch import nn


class LayerCost:
    """One layer of a network: its name, the shape of one example's output, its parameters and multiply-adds."""

    __slots__ = ("name", "output", "params", "macs")

    def __init__(self, name: str, output: tuple, params: int, macs: int):
        self.name, self.output, self.params, self.macs = name, output, params, macs

    def __repr__(self) -> str:
        return f"LayerCost({self.name!r}, output={self.output}, params={self.params:,}, macs={self.macs:,})"


def multiply_adds(module: nn.Module, output: torch.Tensor) -> int:
    """Multiply-adds for one example: each output value of a conv needs `C_in/groups·kh·kw`, of a linear `n_in`."""
    per_example = output[0].numel()
    if isinstance(module, nn.Conv2d):
        kh, kw = module.kernel_size
        return per_example * (module.in_channels // module.groups) * kh * kw
    if isinstance(module, nn.Linear):
        return per_example * module.in_features
    return 0


def measure(net: nn.Sequential, input_chw) -> list[LayerCost]:
    """One `LayerCost` per child of `net` for one input of shape `input_chw` (a child that is itself a
    small `nn.Sequential` counts as one layer, with the multiply-adds of everything inside it)."""
    children = list(net.named_children())
    macs = {name: 0 for name, _ in children}
    outputs, hooks = {}, []
    for name, child in children:
        hooks.append(child.register_forward_hook(
            lambda module, args, output, name=name: outputs.__setitem__(name, tuple(output.shape[1:]))))
        for module in child.modules():
            hooks.append(module.register_forward_hook(
                lambda module, args, output, name=name: macs.__setitem__(
                    name, macs[name] + multiply_adds(module, output))))
    try:
        with torch.no_grad():
            net(torch.zeros(1, *input_chw))
    finally:
        for hook in hooks:
            hook.remove()
    return [LayerCost(f"{name}: {label(child)}", outputs[name], sum(p.numel() for p in child.parameters()),
                      macs[name]) for name, child in children]


def label(module: nn.Module) -> str:
    """The module's class, and a convolution's kernel size (a 1×1 conv and a 3×3 conv do different jobs)."""
    if isinstance(module, nn.Conv2d):
        return f"Conv2d {module.kernel_size[0]}×{module.kernel_size[1]}"
    return type(module).__name__


def cost_table(rows: list[LayerCost]) -> str:
    """The rows as a text table with a total line, for printing."""
    lines = [f"{'layer':<24}{'output':>16}{'parameters':>14}{'multiply-adds':>16}"]
    for row in rows:
        shape = "×".join(str(n) for n in row.output)
        lines.append(f"{row.name:<24}{shape:>16}{row.params:>14,}{row.macs:>16,}")
    lines.append(f"{'total':<24}{'':>16}{sum(r.params for r in rows):>14,}{sum(r.macs for r in rows):>16,}")
    return "\n".join(lines)


def show_costs(networks: dict) -> None:
    """Bars of each network's parameters and multiply-adds per layer (log scale), layers without either left out.

    `networks` maps a label to the rows `measure` returned for it."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for axis, field, title in ((axes[0], "params", "parameters"), (axes[1], "macs", "multiply-adds per image")):
        position, ticks, labels, highest = 0, [], [], 1
        for number, (label, rows) in enumerate(networks.items()):
            costly = [row for row in rows if row.params or row.macs]
            values = [getattr(row, field) for row in costly]
            places = list(range(position, position + len(costly)))
            axis.bar(places, values, color=colours[number % len(colours)],
                     label=f"{label}: {sum(getattr(r, field) for r in rows):,} in all")
            highest = max([highest, *values])
            ticks += places
            labels += [row.name.split(": ")[-1] for row in costly]
            position += len(costly) + 1
        axis.set_yscale("log")
        axis.set_ylim(top=highest * 40)  # room for the legend above the bars
        axis.set_xticks(ticks, labels, rotation=30, ha="right", fontsize=8)
        axis.set_title(title)
        axis.legend(fontsize=8)
    fig.tight_layout()
    plt.show()
