"""The report as static HTML with PNG plots: readable in any browser, without JavaScript or a server.

`write(root, output)` writes `index.html` (the course), one page per assignment and `img/`. The folder is
made private to the account that writes it (mode 0700): it names students and their grades.
"""
from __future__ import annotations

import math
import os
import sys
from html import escape
from pathlib import Path

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from . import reasons as reasons_module  # noqa: E402
from . import similarity, statistics  # noqa: E402

EXAMPLES = 3
STYLE = """body{font-family:sans-serif;max-width:1100px;margin:1em auto;padding:0 1em}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}
td.l,th.l{text-align:left}pre{background:#f6f6f6;padding:6px;overflow-x:auto;font-size:12px}
mark{background:#ffd54f}.pair{display:grid;grid-template-columns:1fr 1fr;gap:8px}"""


def _page(title: str, body: str) -> str:
    return (f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{escape(title)}</title>"
            f"<style>{STYLE}</style></head><body>{body}</body></html>\n")


def _number(value, fmt: str = "{:.2f}") -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else fmt.format(value)


def _save(figure, folder: Path, name: str) -> str:
    figure.tight_layout()
    figure.savefig(folder / name, dpi=80)
    plt.close(figure)
    return f"img/{name}"


def exercise_plot(figures: statistics.ExerciseFigures, folder: Path, name: str) -> str:
    """Histogram of the scores beside the mean share of the points per fifth of the class."""
    figure, (left, right) = plt.subplots(1, 2, figsize=(7, 2.4))
    top = figures.exercise.max_score or 1
    values, counts = np.unique(np.round(figures.scores, 2), return_counts=True)
    if len(values) <= 12:  # a few possible scores: one bar each, on its value
        left.bar(values, counts, width=top / 12, color="#4c78a8")
        left.set_xlim(-top / 12, top * 13 / 12)
    else:
        left.hist(figures.scores, bins=10, range=(0, top), color="#4c78a8")
    left.set(xlabel="points", ylabel="submissions", title="scores")
    shares = [0 if math.isnan(v) else v for v in figures.fifths]
    right.bar(range(1, len(shares) + 1), shares, color="#f58518")
    right.set(ylim=(0, 1), xlabel="fifth of the class (weakest first)", ylabel="share of points",
              title="by fifth")
    return _save(figure, folder, name)


def course_plots(figures: list, completion: list, folder: Path) -> tuple:
    figure, axes = plt.subplots(figsize=(8, 3))
    data = [[100 * t / f.max_score for t in f.totals.values()] if f.max_score else [0] for f in figures]
    axes.boxplot(data, tick_labels=[f.name for f in figures])
    axes.set(ylabel="score (% of points)", title="score distribution per assignment")
    axes.tick_params(axis="x", labelrotation=20)
    scores = _save(figure, folder, "scores.png")
    figure, axes = plt.subplots(figsize=(8, 2.6))
    axes.plot([name for name, _ in completion], [100 * share for _, share in completion], marker="o")
    axes.set(ylim=(0, 105), ylabel="handed in (% of class)", title="completion over the semester")
    axes.tick_params(axis="x", labelrotation=20)
    return scores, _save(figure, folder, "completion.png")


def example_link(root: Path, report: Path, student: str, notebook: Path) -> str:
    """The student's feedback page where it was generated, else their graded notebook."""
    feedback = Path(root) / "feedback" / student / notebook.parent.name / f"{notebook.stem}.html"
    target = feedback if feedback.is_file() else notebook
    return f"<a href=\"{escape(os.path.relpath(target, report))}\">{escape(student)}</a>"


def reasons_html(root: Path, report: Path, found) -> str:
    if found is None or not found.reasons:
        return "<p>No failed check.</p>"
    rows = "".join(
        f"<tr><td>{len(r.students)}</td><td class=l>{escape(r.text)}</td><td class=l>"
        + ", ".join(example_link(root, report, s, p) for s, p in r.students[:EXAMPLES]) + "</td></tr>"
        for r in found.reasons)
    return f"<table><tr><th>students</th><th class=l>reason</th><th class=l>examples</th></tr>{rows}</table>"


def pairs_html(pairs: list) -> str:
    if not pairs:
        return (f"<p>No pair of submissions shares {similarity.THRESHOLD:.0%} or more of its own code "
                "(beyond the released code and what many students wrote alike).</p>")
    parts = []
    for pair in pairs:
        parts.append(f"<h3>{escape(pair.first)} and {escape(pair.second)}: {pair.similarity:.0%}</h3>"
                     f"<p>matching code: {pair.shares[0]:.0%} of {escape(pair.first)}'s own code, "
                     f"{pair.shares[1]:.0%} of {escape(pair.second)}'s</p><div class=pair>"
                     f"<pre>{pair.code[0]}</pre><pre>{pair.code[1]}</pre></div>")
    return "".join(parts)


def assignment_page(root: Path, report: Path, figures: statistics.AssignmentFigures, found: dict,
                    pairs: list | None) -> str:
    late = ", ".join(f"{escape(s)} ({seconds / 3600:.1f} h)" for s, seconds in figures.late) or "none"
    body = [f"<p><a href=\"index.html\">course</a></p><h1>{escape(figures.name)}</h1>",
            f"<p>{len(figures.totals)} of {figures.students} students handed it in. Late: {late}. "
            f"Grading time per submission: {statistics.summary(figures.grading_seconds)}. "
            f"Written answers still waiting for manual grading: {figures.waiting}.</p>"]
    for number, exercise in enumerate(figures.exercises):
        cell = exercise.exercise
        body.append(f"<h2>{escape(cell.name)} ({cell.max_score:g} points, {cell.cell_type})</h2>"
                    "<table><tr><th>mean</th><th>median</th><th>full marks</th><th>zero</th><th>missing</th>"
                    "<th>waiting</th><th>discrimination</th></tr>"
                    f"<tr><td>{_number(exercise.mean)}</td><td>{_number(exercise.median)}</td>"
                    f"<td>{_number(exercise.full, '{:.0%}')}</td><td>{_number(exercise.zero, '{:.0%}')}</td>"
                    f"<td>{_number(exercise.missing, '{:.0%}')}</td><td>{exercise.waiting}</td>"
                    f"<td>{_number(exercise.discrimination)}</td></tr></table>")
        if exercise.scores:
            image = exercise_plot(exercise, report / "img", f"{figures.name}-{number}.png")
            body.append(f"<img src=\"{image}\" alt=\"scores of {escape(cell.name)}\">")
        if cell.cell_type == "code":
            body.append("<h3>Most common reasons for losing points</h3>"
                        + reasons_html(root, report, found.get(cell.name)))
    if pairs is not None:
        body.append("<h2>Similar submissions</h2>" + pairs_html(pairs))
    return _page(f"{figures.name}: class report", "".join(body))


def index_page(figures: list, images: tuple, students: int) -> str:
    rows = "".join(f"<tr><td class=l><a href=\"{escape(f.name)}.html\">{escape(f.name)}</a></td>"
                   f"<td>{len(f.totals)}</td><td>{len(f.late)}</td><td>{f.waiting}</td></tr>" for f in figures)
    return _page("Class report", f"<h1>Class report</h1><p>{students} students in the gradebook.</p>"
                 "<table><tr><th class=l>assignment</th><th>handed in</th><th>late</th><th>written answers waiting"
                 f"</th></tr>{rows}</table><img src=\"{images[0]}\" alt=\"score distribution per assignment\">"
                 f"<img src=\"{images[1]}\" alt=\"completion over the semester\">")


def private_folder(path: Path) -> Path:
    """Make `path` (and img/) readable by its owner only, whatever the umask."""
    (path / "img").mkdir(parents=True, exist_ok=True)
    for folder in (path, path / "img"):
        os.chmod(folder, 0o700)
    return path


def write(root: Path, output: Path, *, similar: bool = True, say=print, progress: bool = False,
          assignments=None) -> Path:
    """The report into `output` (of every assignment with grades, or of `assignments`); returns its index page."""
    from tqdm import tqdm

    output = private_folder(Path(output))
    book = statistics.read(root)
    figures = [f for f in statistics.course_figures(book) if assignments is None or f.name in assignments]
    for f in tqdm(figures, desc="assignments", unit="", file=sys.stderr, disable=not progress):
        found = reasons_module.assignment_reasons(root, f.name, book.grades)
        pairs = similarity.assignment_pairs(root, f.name) if similar else None
        (output / f"{f.name}.html").write_text(assignment_page(root, output, f, found, pairs))
        say(f"  {f.name}: {len(f.totals)} submissions, {len(pairs or [])} similar pairs")
    images = course_plots(figures, statistics.completion(book, figures), output / "img")
    index = output / "index.html"
    index.write_text(index_page(figures, images, len(book.students)))
    for path in output.rglob("*"):
        if path.is_file():
            os.chmod(path, 0o600)
    return index
