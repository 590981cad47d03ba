"""Every figure a notebook quotes about its own results is measured by `make bench` or marked as an estimate.

A paragraph that puts a number next to an accuracy, a loss or a gap either names the `RESULT` key
the notebook prints for `make bench` or points to docs/figures.md for a one-off experiment (either
way the number is one docs/figures.md records), or says it is an estimate. Kernel weights,
learning rates and shapes are not results and are not checked.
"""
import re

import nbformat
import pytest

from course.paths import ASSIGNMENTS
from tests.helpers import ROOT

RESULT_WORDS = re.compile(r"\b(accura\w*|loss\w*|gap|confiden\w*|error rate|precision|recall)\b", re.IGNORECASE)
NUMBER = re.compile(r"(?<![\w.`])(\d+(?:\.\d+)?)\s?(%?)(?![\w.`])")
NEAR = 30  # characters between a number and the word that makes it a result
CITED = re.compile(r"`make bench`[^.]*?`(\w+)`")
FIGURES = (ROOT / "docs" / "figures.md").read_text()


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


def unsupported(notebook, figures: str) -> list:
    """What the notebook quotes without a source, or from a source that does not hold the number."""
    problems, printed = [], printed_results(notebook)
    for paragraph in paragraphs(notebook):
        numbers = quoted_results(paragraph)
        if not numbers or "estimate" in paragraph.lower():
            continue
        keys = CITED.findall(paragraph)
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
