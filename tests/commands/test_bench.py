"""The benchmark reads a notebook's figures from its variables, so the notebook prints nothing for it."""
import nbformat

from course.commands import bench


def test_the_benchmark_reads_figures_from_the_notebooks_variables(tmp_path, monkeypatch):
    path = tmp_path / "toy.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("results = {'plain': {'gap': 0.25}}\nacc = 3 / 8")]), str(path))
    monkeypatch.setitem(bench.FIGURES, "toy", {"acc": "acc", "gap_plain": "results['plain']['gap']"})
    row = bench.run("toy", path)
    assert row["results"] == {"acc": 0.375, "gap_plain": 0.25}
    assert nbformat.read(str(path), as_version=4).cells[0].outputs == [], "the notebook itself is left alone"


def test_every_figure_names_a_variable_its_notebook_assigns():
    for assignment, figures in bench.FIGURES.items():
        source = (bench.PROJECT_ROOT / "source" / assignment / f"{assignment}.ipynb").read_text()
        for name, expression in figures.items():
            variable = expression.split("[")[0].removeprefix("int(").rstrip(")")
            assert f"{variable} = " in source or f"{variable}, " in source, (assignment, name, variable)
