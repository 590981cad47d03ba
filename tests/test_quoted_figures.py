"""Every figure a notebook quotes about its own results is measured, recomputed here, recorded, or an estimate.

A paragraph that puts a number next to an accuracy, a loss or a gap either names the key of a figure
`make bench` measures (in its cell's metadata, `"course": {"bench": [key]}`, so students see no
plumbing; older notebooks name it in the text), or is listed under its notebook in docs/figures.md's
section "Figures the notebooks quote" with the run that measured it, or says it is an estimate. A
cell whose figures do not depend on training names, in its metadata (`"course": {"figures": name}`),
a function of RECOMPUTED below that computes them again: the cell must quote every figure it returns.
Figures a notebook computes itself, and claims about the seeds' tables, are tied by the tests at the
end. Kernel weights, learning rates and shapes are not results and are not checked.
"""
import functools
import re
import warnings

import matplotlib
import matplotlib.pyplot as plt
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
QUOTED_SECTION = "## Figures the notebooks quote"


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


def recorded_quotes(figures: str, assignment: str) -> set:
    """The numbers docs/figures.md lists as quoted by this notebook: the second column of its rows in the section."""
    section = figures.partition(QUOTED_SECTION)[2].split("\n## ")[0]
    rows = [line.split("|") for line in section.splitlines() if line.startswith(f"| `{assignment}`")]
    return {number.strip() for row in rows for number in row[2].split(",")}


def unsupported(notebook, figures: str, assignment: str = "") -> list:
    """What the notebook quotes without a source, or from a source that does not hold the number."""
    problems, printed, recorded = [], printed_results(notebook), recorded_quotes(figures, assignment)
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
            problems += [f"{number} is not listed under {assignment} in {QUOTED_SECTION!r} of docs/figures.md: "
                         f"{paragraph[:160]!r}" for number in numbers if number not in recorded]
            continue
        problems += [f"`make bench` key {key} is not printed as a RESULT" for key in keys if key not in printed]
        problems += [f"{number} is not in docs/figures.md" for number in numbers if number.replace(" ", "") not in figures]
    return problems


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_quoted_results_are_measured_by_make_bench_or_marked_as_estimates(assignment):
    notebook = nbformat.read(str(ROOT / "source" / assignment / f"{assignment}.ipynb"), as_version=4)
    assert unsupported(notebook, FIGURES, assignment) == []


def test_a_figure_pointing_to_the_records_must_be_recorded_there():
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(
        "Two minutes gave 93.3% test accuracy on our machine (docs/figures.md records the run).")])
    assert unsupported(notebook, "| peak 0.4 | 93.3% |") == []
    assert unsupported(notebook, "| peak 0.4 | 92.9% |") == ["93.3% is not in docs/figures.md"]
    unpointed = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("Two minutes gave 93.3% test accuracy.")])
    assert "is not listed under 06_regularization" in unsupported(unpointed, "93.3%", "06_regularization")[0]


def test_a_figure_the_notebook_states_in_its_own_words_must_be_listed_under_it():
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("Two minutes gave 93.3% test accuracy.")])
    record = f"{QUOTED_SECTION}\n\n| `06_regularization` | 92.1%, 93.3% | the runs above |\n\n## Next\n| `05_x` | 94% | |"
    assert unsupported(notebook, record, "06_regularization") == []
    assert unsupported(notebook, record.replace("93.3%", "93.4%"), "06_regularization") != []
    assert unsupported(notebook, record, "05_x") != [], "a number listed under another notebook does not count"


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


def run_solution(assignment: str, until: str, monkeypatch) -> dict:
    """The namespace after running the solution notebook's code cells, graded checks left out, in fast mode,
    up to and including the first cell that contains `until`."""
    monkeypatch.setenv("COURSE_FAST", "1")
    matplotlib.use("Agg")
    notebook = nbformat.read(str(ROOT / "source" / assignment / f"{assignment}.ipynb"), as_version=4)
    namespace = {}
    for cell in notebook.cells:
        if cell.cell_type == "code" and not cell.metadata.get("nbgrader", {}).get("grade"):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                exec(compile(cell.source, f"{assignment}:{cell.id}", "exec"), namespace)
            plt.close("all")
            if until in cell.source:
                return namespace
    raise AssertionError(f"no code cell of {assignment} contains {until!r}")


def paragraph_with(assignment: str, phrase: str) -> str:
    notebook = nbformat.read(str(ROOT / "source" / assignment / f"{assignment}.ipynb"), as_version=4)
    found = [p for p, _ in cell_paragraphs(notebook) if phrase in p]
    assert len(found) == 1, f"{assignment}: {len(found)} paragraphs say {phrase!r}"
    return " ".join(found[0].split())


def test_07_states_how_far_the_first_gradient_step_moves_the_kernel(monkeypatch):
    measured = run_solution("07_conv_backprop", "first_step_share", monkeypatch)
    text = paragraph_with("07_conv_backprop", "The last lines look at the very first step.")
    assert f"the cosine between the two is {measured['first_step_cosine']:.2f}" in text
    assert f"with a learning rate of {measured['LEARNING_RATE']:g} it only shortens the distance to the " \
           f"unknown kernel by {measured['first_step_share']:.0%}" in text


# The Fashion-MNIST benchmark table (the dataset's repository), as the issue and the seeds quote it.
SEED_TABLE = {"two convolutions with under 100K parameters": 92.5,
              "two convolutions with pooling and batch normalisation": 93.4,
              "two convolutions with two fully connected layers": 93.9}


def test_06_compares_its_best_network_with_the_benchmark_table_truthfully():
    """Each table entry is said to be beaten in every run, passed in some, matched, or never reached, as the runs say."""
    text = paragraph_with("06_regularization", "benchmark table")
    runs = [float(x) for x in re.search(r"runs of this\s+recipe reached ([\d.%, and]+):", text).group(1)
            .replace(" and ", ", ").replace("%", "").split(", ")]
    assert len(runs) >= 2 and runs == sorted(runs), runs
    assert {f"{run}%" for run in runs} <= recorded_quotes(FIGURES, "06_regularization")
    for entry, accuracy in SEED_TABLE.items():
        assert f"{entry} at {accuracy}%" in text
    passed = {a: sum(run > a for run in runs) for a in SEED_TABLE.values()}
    matched = {a: sum(run == a for run in runs) for a in SEED_TABLE.values()}
    for accuracy in SEED_TABLE.values():
        if passed[accuracy] == len(runs):
            assert "small-network entry in every run" in text and accuracy == min(SEED_TABLE.values())
        elif passed[accuracy]:
            assert f"{accuracy}% was passed in {NUMBER_WORDS[passed[accuracy]]} run of {NUMBER_WORDS[len(runs)]}" \
                in text
        elif matched[accuracy]:
            assert f"{accuracy}% was matched, never passed" in text
        else:
            assert f"{accuracy}%" in text and "fall short" in text
    assert not re.search(r"above every|best of|beats? (every|all)", text)


NUMBER_WORDS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five"}


def test_06_quotes_the_gaps_of_the_stored_dropout_runs():
    from course import explorers

    curves = explorers.dropout_curves()
    text = paragraph_with("06_regularization", "the gap after 15 epochs is")
    quoted = re.findall(r"(0\.\d{3}) [^()]*?\(`p_conv = ([\d.]+), p_fc = ([\d.]+)`\)", text)
    assert len(quoted) >= 3, text
    for gap, p_conv, p_fc in quoted:
        run = explorers.dropout_run(curves, float(p_conv), float(p_fc))
        assert gap == f"{run['clean_train_acc'] - run['val_acc'][-1]:.3f}", (p_conv, p_fc)
