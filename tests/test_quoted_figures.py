"""Every figure a notebook quotes about its own results is measured and recorded, or marked as an estimate.

A paragraph that puts a number next to an accuracy, a loss or a gap either lists the number under its
notebook in docs/figures.md's section "Figures the notebooks quote", with the run that measured it
(students have neither docs/ nor `make bench`, so the notebook itself names no source), or says it
is an estimate. Older notebooks may still name a `make bench` key or docs/figures.md in the paragraph.
Kernel weights, learning rates and shapes are not results and are not checked. Figures a notebook
computes itself, and claims about the seeds' tables, are tied by the tests at the end.
"""
import re
import warnings

import matplotlib
import matplotlib.pyplot as plt
import nbformat
import pytest

from course.paths import ASSIGNMENTS
from tests.helpers import ROOT

RESULT_WORDS = re.compile(r"\b(accura\w*|loss\w*|gap|confiden\w*|error rate|precision|recall)\b", re.IGNORECASE)
NUMBER = re.compile(r"(?<![\w.`])(\d+(?:\.\d+)?)\s?(%?)(?![\w.`])")
NEAR = 30  # characters between a number and the word that makes it a result
CITED = re.compile(r"`make bench`[^.]*?`(\w+)`")
FIGURES = (ROOT / "docs" / "figures.md").read_text()
QUOTED_SECTION = "## Figures the notebooks quote"


def paragraphs(notebook) -> list:
    found = []
    for cell in notebook.cells:
        if cell.cell_type != "markdown" or cell.metadata.get("nbgrader", {}).get("solution"):
            continue
        text = re.sub(r"```.*?```", "", cell.source, flags=re.DOTALL)
        found += [p for p in re.split(r"\n\s*\n", text) if p.strip()]
    return found


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
    code = "\n".join(c.source for c in notebook.cells if c.cell_type == "code")
    return set(re.findall(r"RESULT\b[^\n]*?(\w+)=", code)) | set(re.findall(r"\s(\w+)=\{", code))


def recorded_quotes(figures: str, assignment: str) -> set:
    """The numbers docs/figures.md lists as quoted by this notebook: the second column of its rows in the section."""
    section = figures.partition(QUOTED_SECTION)[2].split("\n## ")[0]
    rows = [line.split("|") for line in section.splitlines() if line.startswith(f"| `{assignment}`")]
    return {number.strip() for row in rows for number in row[2].split(",")}


def unsupported(notebook, figures: str, assignment: str = "") -> list:
    """What the notebook quotes without a source, or from a source that does not hold the number."""
    problems, printed, recorded = [], printed_results(notebook), recorded_quotes(figures, assignment)
    for paragraph in paragraphs(notebook):
        numbers = quoted_results(paragraph)
        if not numbers or "estimate" in paragraph.lower():
            continue
        keys = CITED.findall(paragraph)
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
    found = [p for p in paragraphs(notebook) if phrase in p]
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
    text = paragraph_with("06_regularization", "benchmark table")
    ours = float(re.search(r"this recipe reached (\d+\.\d)%", text).group(1))
    assert f"{ours}%" in recorded_quotes(FIGURES, "06_regularization")
    for entry, accuracy in SEED_TABLE.items():
        assert f"{entry} at {accuracy}%" in text
    above = [round(ours - a, 1) for a in SEED_TABLE.values() if a < ours]
    below = sorted(round(a - ours, 1) for a in SEED_TABLE.values() if a > ours)
    assert f"beat the table's small-network entry by {above[0]} points" in text and len(above) == 1
    assert f"fall short of its two larger two-convolution networks, by {below[0]} and {below[1]} points" in text
    assert not re.search(r"above every|best of|beats? (every|all)", text)


def test_06_quotes_the_gaps_of_the_stored_dropout_runs():
    from course import explorers

    curves = explorers.dropout_curves()
    text = paragraph_with("06_regularization", "the gap after 15 epochs is")
    quoted = re.findall(r"(0\.\d{3}) [^()]*?\(`p_conv = ([\d.]+), p_fc = ([\d.]+)`\)", text)
    assert len(quoted) >= 3, text
    for gap, p_conv, p_fc in quoted:
        run = explorers.dropout_run(curves, float(p_conv), float(p_fc))
        assert gap == f"{run['clean_train_acc'] - run['val_acc'][-1]:.3f}", (p_conv, p_fc)
