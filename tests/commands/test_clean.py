"""`make clean` removes what commands generate, and a real course's data only when forced."""
import shutil
import sqlite3
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

from course.commands import clean


@pytest.fixture(scope="module")
def empty_gradebook(tmp_path_factory) -> Path:
    """A real nbgrader gradebook with one assignment, no due date and no student (made once: it takes seconds)."""
    path = tmp_path_factory.mktemp("gradebook") / "gradebook.db"
    with Gradebook(f"sqlite:///{path}") as gradebook:
        gradebook.update_or_create_assignment("01_convolution")
    return path


def _gradebook(empty: Path, root: Path, *, students=(), due=None) -> None:
    shutil.copy(empty, root / "gradebook.db")
    with sqlite3.connect(root / "gradebook.db") as db:
        db.executemany("INSERT INTO student (id) VALUES (?)", [(s,) for s in students])
        if due:
            db.execute("UPDATE assignment SET duedate = ?", (due,))


def _course(root: Path, empty: Path) -> Path:
    for folder in ("submitted/s123/01_convolution", "autograded/s123/01_convolution", "feedback/s123", "demo", "handout"):
        (root / folder).mkdir(parents=True)
    (root / "autograded" / "README.md").write_text("part of the repository")
    (root / "submitted" / "s123" / "01_convolution" / "01_convolution.ipynb").write_text("{}")
    (root / "grades.csv").write_text("student,total\n")
    _gradebook(empty, root, students=["s123"])
    return root


def test_clean_keeps_a_real_courses_data_and_says_what_it_would_delete(tmp_path, empty_gradebook, capsys):
    root = _course(tmp_path, empty_gradebook)
    assert clean.main(["--root", str(root)]) == 1
    said = capsys.readouterr().err
    assert "submitted/ (1 entries: s123)" in said and "gradebook.db (1 student(s))" in said and "FORCE=1" in said
    assert (root / "submitted" / "s123").is_dir() and (root / "gradebook.db").is_file()
    assert (root / "grades.csv").is_file() and (root / "feedback" / "s123").is_dir()
    assert not (root / "demo").exists() and not (root / "handout").exists()


def test_a_gradebook_with_due_dates_only_is_kept_too(tmp_path, empty_gradebook):
    root = tmp_path
    _gradebook(empty_gradebook, root, due="2031-01-01 00:00:00.000000")
    assert clean.course_data(root) == ["gradebook.db (1 due date(s))"]
    assert clean.main(["--root", str(root)]) == 1 and (root / "gradebook.db").is_file()


def test_forced_clean_deletes_everything_but_the_repositorys_own_files(tmp_path, empty_gradebook, capsys):
    root = _course(tmp_path, empty_gradebook)
    assert clean.main(["--root", str(root), "--force"]) == 0
    assert "deleted:" in capsys.readouterr().out
    assert not (root / "gradebook.db").exists() and not (root / "grades.csv").exists()
    assert not any((root / "submitted").iterdir()) and not any((root / "feedback").iterdir())
    assert [p.name for p in (root / "autograded").iterdir()] == ["README.md"]


def test_an_empty_gradebook_goes_without_force(tmp_path, empty_gradebook):
    root = tmp_path
    _gradebook(empty_gradebook, root)
    assert clean.main(["--root", str(root)]) == 0
    assert not (root / "gradebook.db").exists()
