"""The report's course-wide figures on a synthesised gradebook, against nbgrader's own Gradebook API.

Seven assignments with due dates, late and missing submissions, written answers waiting and grading-ledger
rows: what the graded class of test_report.py lacks. The rows are synthesised as `make bench-report` does.
"""
import shutil

import pytest
from nbgrader.api import Gradebook

from course.commands import bench_report
from course.grading.engine import database
from course.grading.semester.report import statistics
from tests.helpers import ROOT


def test_late_work_waiting_answers_completion_and_totals_are_nbgraders(tmp_path, monkeypatch):
    monkeypatch.delenv(database.ENV_DB_URL, raising=False)
    shutil.copytree(ROOT / "release", tmp_path / "release")
    bench_report.synthetic_gradebook(tmp_path, 40, seed=3)
    book = statistics.read(tmp_path)
    figures = statistics.course_figures(book)
    completion = dict(statistics.completion(book, figures))
    late_seen = waiting_seen = 0
    with Gradebook(database.db_url(tmp_path)) as gradebook:
        students = len(gradebook.students)
        assert [f.name for f in figures] == [a.name for a in sorted(gradebook.assignments, key=lambda a: a.duedate)]
        for figure in figures:
            submissions = gradebook.assignment_submissions(figure.name)
            assert completion[figure.name] == pytest.approx(len(submissions) / students)
            assert figure.totals == pytest.approx({s.student.id: s.score for s in submissions})
            late = sorted((s.student.id, s.total_seconds_late) for s in submissions if s.total_seconds_late > 0)
            assert sorted(figure.late) == pytest.approx(late)
            waiting = sum(1 for s in submissions for n in s.notebooks for g in n.grades
                          if g.manual_score is None and g.auto_score is None and g.needs_manual_grade)
            assert figure.waiting == waiting
            assert len(figure.grading_seconds) == len(submissions)
            late_seen, waiting_seen = late_seen + len(late), waiting_seen + waiting
    assert late_seen and waiting_seen and min(completion.values()) < 1, "the synthesised class must exercise each figure"


def test_discrimination_and_fifths():
    import numpy as np

    scores = np.array([0, 0, 1, 1, 1, 2, 2, 2, 2, 2], dtype=float)
    rest = np.arange(10, dtype=float)
    assert statistics.discrimination(scores, rest) == pytest.approx(np.corrcoef(scores, rest)[0, 1])
    assert statistics.discrimination(np.ones(10), rest) is None
    assert statistics.fifths(scores, rest + scores, 2) == pytest.approx([0, 0.5, 0.75, 1, 1])


@pytest.mark.postgres
def test_a_postgresql_gradebook_gives_the_same_figures_as_sqlite(postgres_url, tmp_path, monkeypatch):
    shutil.copytree(ROOT / "release", tmp_path / "release")
    figures = []
    for url in ("", postgres_url):
        monkeypatch.setenv(database.ENV_DB_URL, url)
        bench_report.synthetic_gradebook(tmp_path, 12, seed=5)
        found = statistics.course_figures(statistics.read(tmp_path))
        for figure in found:  # the ledger's REAL is single precision on PostgreSQL
            figure.grading_seconds = [round(seconds, 2) for seconds in figure.grading_seconds]
        figures.append(repr(found))  # repr: nan equals nan
    assert (tmp_path / "gradebook.db").is_file()
    assert figures[0] == figures[1]
