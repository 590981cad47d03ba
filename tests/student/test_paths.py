from pathlib import Path

from course import paths


def test_data_root_defaults_to_the_project_data_folder(monkeypatch):
    monkeypatch.delenv("COURSE_DATA", raising=False)
    assert paths.data_root() == paths.PROJECT_ROOT / "data"


def test_course_data_overrides_the_data_root(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_DATA", str(tmp_path))
    assert paths.data_root() == tmp_path.resolve()


def test_data_root_does_not_depend_on_the_working_directory(monkeypatch, tmp_path):
    monkeypatch.delenv("COURSE_DATA", raising=False)
    monkeypatch.chdir(tmp_path)
    assert paths.data_root().is_absolute() and paths.data_root() == paths.PROJECT_ROOT / "data"


def test_fast_mode_follows_course_fast_and_nbgrader(monkeypatch):
    monkeypatch.delenv("COURSE_FAST", raising=False)
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    assert not paths.fast_mode()
    monkeypatch.setenv("COURSE_FAST", "1")
    assert paths.fast_mode()
    monkeypatch.setenv("COURSE_FAST", "0")
    assert not paths.fast_mode()
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert paths.fast_mode()


def test_assignments_match_the_source_folders():
    folders = sorted(p.name for p in (paths.PROJECT_ROOT / "source").iterdir() if p.is_dir())
    assert set(folders) <= set(paths.ASSIGNMENTS)
    assert Path(paths.PROJECT_ROOT / "nbgrader_config.py").is_file()


def test_a_student_who_may_not_read_source_gets_the_released_assignments(tmp_path, monkeypatch):
    """On the hub source/ is the instructor's alone: importing the course must still work for a student."""
    for folder in ("source/01_a", "source/02_b", "release/01_a"):
        (tmp_path / folder).mkdir(parents=True)
    listing = Path.iterdir

    def refused(self):
        if self.name == "source":
            raise PermissionError(13, "Permission denied", str(self))
        return listing(self)

    assert paths.assignments(tmp_path) == ("01_a", "02_b")
    monkeypatch.setattr(Path, "iterdir", refused)
    assert paths.assignments(tmp_path) == ("01_a",)
