"""Every figure a notebook quotes about its own results is measured by `make bench`, recomputed here, or an estimate.

A paragraph that puts a number next to an accuracy, a loss or a gap either names the key of a figure
`make bench` measures (in its text, or without telling students in its cell's metadata,
`"course": {"bench": [key]}`) or points to docs/figures.md for a one-off experiment (either way the
number is one docs/figures.md records), or says it is an estimate. A cell whose figures do not depend
on training names, in its metadata (`"course": {"figures": name}`), a function of RECOMPUTED below that
computes them again: the cell must quote every figure it returns. Kernel weights, learning rates and
shapes are not results and are not checked.
"""
import functools
import re

import nbformat
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from course.paths import ASSIGNMENTS
from tests.helpers import ROOT

RESULT_WORDS = re.compile(r"\b(accura\w*|loss\w*|gap|confiden\w*|error rate|precision|recall)\b", re.IGNORECASE)
NUMBER = re.compile(r"(?<![\w.`])(\d+(?:\.\d+)?)\s?(%?)(?![\w.`])")
NEAR = 30  # characters between a number and the word that makes it a result
CITED = re.compile(r"`make bench`[^.]*?`(\w+)`")
FIGURES = (ROOT / "docs" / "figures.md").read_text()


def cell_paragraphs(notebook) -> list:
    """(paragraph, the cell's "course" metadata) for every paragraph of the notebook's text."""
    found = []
    for cell in notebook.cells:
        if cell.cell_type != "markdown" or cell.metadata.get("nbgrader", {}).get("solution"):
            continue
        text = re.sub(r"```.*?```", "", cell.source, flags=re.DOTALL)
        found += [(p, cell.metadata.get("course", {})) for p in re.split(r"\n\s*\n", text) if p.strip()]
    return found


def paragraphs(notebook) -> list:
    return [paragraph for paragraph, _ in cell_paragraphs(notebook)]


def quoted_results(paragraph: str) -> list:
    """Decimals and percentages next to the word accuracy, loss or gap (not 0% or 100%)."""
    text = re.sub(r"`[^`]*`", "", paragraph)
    numbers = []
    for match in NUMBER.finditer(text):
        value, percent = match.groups()
        near = text[max(0, match.start() - NEAR):match.end() + NEAR]
        if (percent or "." in value) and value not in ("0", "100") and RESULT_WORDS.search(near):
            numbers.append(value + percent)
    return numbers


def printed_results(notebook) -> set:
    """The figures `make bench` reads: RESULT lines the code prints, and those the notebook's metadata names."""
    code = "\n".join(c.source for c in notebook.cells if c.cell_type == "code")
    named = set(notebook.metadata.get("course", {}).get("bench", {}))
    return set(re.findall(r"RESULT\b[^\n]*?(\w+)=", code)) | set(re.findall(r"\s(\w+)=\{", code)) | named


def unsupported(notebook, figures: str) -> list:
    """What the notebook quotes without a source, or from a source that does not hold the number."""
    problems, printed = [], printed_results(notebook)
    for paragraph, meta in cell_paragraphs(notebook):
        numbers = quoted_results(paragraph)
        if not numbers or "estimate" in paragraph.lower():
            continue
        if meta.get("figures") in RECOMPUTED:
            recomputed = RECOMPUTED[meta["figures"]]()
            problems += [f"{number} is not among the figures {meta['figures']} recomputes"
                         for number in numbers if number not in recomputed]
            continue
        keys = CITED.findall(paragraph) + list(meta.get("bench", []))
        if not keys and "docs/figures.md" not in paragraph:
            problems.append(f"{numbers} quoted without `make bench`, docs/figures.md or 'estimate': {paragraph[:160]!r}")
        problems += [f"`make bench` key {key} is not printed as a RESULT" for key in keys if key not in printed]
        problems += [f"{number} is not in docs/figures.md" for number in numbers if number.replace(" ", "") not in figures]
    return problems


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_quoted_results_are_measured_by_make_bench_or_marked_as_estimates(assignment):
    notebook = nbformat.read(str(ROOT / "source" / assignment / f"{assignment}.ipynb"), as_version=4)
    assert unsupported(notebook, FIGURES) == []


def test_a_figure_pointing_to_the_records_must_be_recorded_there():
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(
        "Two minutes gave 93.3% test accuracy on our machine (docs/figures.md records the run).")])
    assert unsupported(notebook, "| peak 0.4 | 93.3% |") == []
    assert unsupported(notebook, "| peak 0.4 | 92.9% |") == ["93.3% is not in docs/figures.md"]
    unpointed = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("Two minutes gave 93.3% test accuracy.")])
    assert "quoted without" in unsupported(unpointed, "93.3%")[0]


def test_the_check_finds_an_unmarked_figure():
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(
        "The network reaches about 99% accuracy on real EMNIST.")])
    assert quoted_results(paragraphs(notebook)[0]) == ["99%"]
    assert quoted_results("A kernel of `0.25` weights and a learning rate of 0.01.") == []


# ---- figures that do not depend on training, computed again -------------------------------------

def _count(module) -> int:
    return sum(p.numel() for p in module.parameters())


def dense_conv_sweep() -> list:
    """02: a dense layer against Conv2d(3, 16, 3, padding=1), same input and output, as the image grows."""
    dense = {n: _count(nn.Linear(3 * n * n, 16 * n * n, device="meta")) for n in (8, 28, 224)}
    return [f"{_count(nn.Conv2d(3, 16, 3, padding=1)):,}"] + [f"{dense[n]:,}" for n in dense] + \
        [f"{dense[224] * 4 / 1e9:.0f} GB"]


def _xo_maps(image, stride=1, pools=0):
    from course.xo_reference import BIASES, FILTERS, to_input

    maps = F.relu(F.conv2d(to_input(image), torch.from_numpy(FILTERS).unsqueeze(1), torch.from_numpy(BIASES),
                           stride=stride))
    for _ in range(pools):
        maps = F.max_pool2d(maps, 2, 2)
    return maps[0]


def _mean_shift_change(stride=1, pools=0) -> float:
    """03's measure, sum |a - b| / sum |a|, averaged over one-pixel shifts right, left, down and up."""
    from course.xo_reference import X_IMAGE

    before, changes = _xo_maps(X_IMAGE, stride, pools), []
    for down, right in ((0, 1), (0, -1), (1, 0), (-1, 0)):
        height, width = X_IMAGE.shape
        moved = np.pad(X_IMAGE, 1)[1 - down:1 - down + height, 1 - right:1 - right + width]
        changes.append(float((before - _xo_maps(moved, stride, pools)).abs().sum() / before.abs().sum()))
    return float(np.mean(changes))


def shift_changes() -> list:
    return [f"{_mean_shift_change(pools=pools):.0%}" for pools in (0, 1, 2)]


def stride_vs_pool() -> list:
    """03: conv, ReLU and 2x2 max pooling against a stride-2 conv and ReLU, with the same filters on the same X."""
    from course.xo_reference import X_IMAGE

    cross = 2
    return [f"{3 * 25 * 12 * 12:,}", f"{3 * 25 * 24 * 24:,}", f"{float(_xo_maps(X_IMAGE, pools=1)[cross].max()):.2f}",
            f"{float(_xo_maps(X_IMAGE, stride=2)[cross].max()):.2f}", f"{_mean_shift_change(stride=2):.0%}",
            f"{_mean_shift_change(pools=1):.0%}"]


def softmax_nll() -> list:
    """04: the worked table of softmax probabilities and negative log-likelihoods."""
    scores, labels = torch.tensor([[-1.0, 2.0], [0.5, 0.0], [0.0, 3.0]]), torch.tensor([1, 0, 0])
    p = torch.softmax(scores, dim=1)
    nll = -torch.log(p[torch.arange(3), labels])
    assert torch.allclose(nn.CrossEntropyLoss()(scores, labels), nll.mean())
    return [f"{v:.3f}" for v in [*p.flatten().tolist(), *nll.tolist(), float(nll.mean())]]


def emnist_heads() -> list:
    """04: EMNIST_Net's flatten head against a 1x1 conv and global average pooling, per layer."""
    from course.costs import measure

    def body():
        return [nn.Conv2d(1, 32, 3), nn.ReLU(), nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2)]

    flat = measure(nn.Sequential(*body(), nn.Flatten(), nn.Linear(9216, 128), nn.ReLU(), nn.Linear(128, 2)), (1, 28, 28))
    gap = measure(nn.Sequential(*body(), nn.Conv2d(64, 2, 1), nn.AdaptiveAvgPool2d(1), nn.Flatten()), (1, 28, 28))
    total = lambda rows: sum(row.params for row in rows)
    return [f"{n:,}" for n in (sum(row.params for row in gap[5:]), sum(row.params for row in flat[5:]), total(flat),
                               total(gap), flat[6].macs, gap[5].macs, flat[0].macs + flat[2].macs)] + \
        [f"{round(total(flat) / total(gap))} times fewer"]


RECOMPUTED = {f.__name__: functools.cache(f) for f in (dense_conv_sweep, shift_changes, stride_vs_pool, softmax_nll, emnist_heads)}


def figure_cells(assignment: str) -> list:
    notebook = nbformat.read(str(ROOT / "source" / assignment / f"{assignment}.ipynb"), as_version=4)
    return [(cell.metadata["course"]["figures"], " ".join(cell.source.split())) for cell in notebook.cells
            if cell.cell_type == "markdown" and "figures" in cell.metadata.get("course", {})]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_a_cell_quotes_every_figure_its_recomputation_gives(assignment):
    for name, text in figure_cells(assignment):
        assert name in RECOMPUTED, f"{assignment}: no recomputation named {name} in tests/test_quoted_figures.py"
        missing = [figure for figure in RECOMPUTED[name]() if figure not in text]
        assert missing == [], f"{assignment}, {name}: the text does not quote {missing} as measured now"


def test_every_recomputation_is_quoted_somewhere():
    quoted = {name for assignment in ASSIGNMENTS for name, _ in figure_cells(assignment)}
    assert set(RECOMPUTED) <= quoted, set(RECOMPUTED) - quoted


def test_a_figure_that_differs_from_its_recomputation_is_reported():
    cell = nbformat.v4.new_markdown_cell("The batch's loss is 1.250, the mean of 0.049, 0.474 and 3.049.")
    cell.metadata["course"] = {"figures": "softmax_nll"}
    assert unsupported(nbformat.v4.new_notebook(cells=[cell]), "") == ["1.250 is not among the figures softmax_nll recomputes"]
