"""`make roster` and `make hub`'s checks that need no hub: refused ids, the venv's interpreter, private paths.

The hub itself, with real accounts and a browser, is tested in tests/hub/ (marker `hub`).
"""
import json
import stat
from pathlib import Path

import pytest

from course.commands.hub import accounts as hub_accounts
from course.commands.hub import manage as hub


def test_unsafe_and_foreign_ids_are_refused_before_any_account_is_touched():
    with pytest.raises(hub_accounts.AccountError) as refused:
        hub_accounts.refuse_foreign(["s001", "Bad", "x/y", "root"], group="cnn-course-no-such-group")
    message = str(refused.value)
    assert "'Bad' is not a safe Unix user name" in message
    assert "'x/y' is not a safe Unix user name" in message
    assert "'root' is an existing account outside the group cnn-course-no-such-group" in message
    assert "s001" not in message
    hub_accounts.refuse_foreign(["s001", "ada_lovelace", "b-2"], group="cnn-course-no-such-group")


@pytest.mark.skipif(not Path("/usr/bin/python3.11").exists(), reason="needs Debian's python3.11")
def test_a_python_under_a_private_folder_is_refused_with_the_fix(tmp_path):
    private = tmp_path / "private"
    (private / "bin").mkdir(parents=True)
    python = private / "bin" / "python3.11"
    python.write_text("")
    python.chmod(0o755)
    private.chmod(0o700)
    problem = hub.interpreter_problem(str(python))
    assert problem and str(private) in problem and "mode 700" in problem and "make install" in problem
    assert hub.interpreter_problem("/usr/bin/python3.11") is None  # Debian's: every account can run it


def test_the_checkouts_instructor_only_paths_are_made_private(tmp_path):
    (tmp_path / "source").mkdir(mode=0o755)
    (tmp_path / "gradebook.db").write_text("")
    (tmp_path / "gradebook.db").chmod(0o644)
    (tmp_path / "course").mkdir(mode=0o755)
    changed = hub.tighten_checkout(tmp_path)
    assert sorted(p.name for p in changed) == ["gradebook.db", "source"]
    assert stat.S_IMODE((tmp_path / "source").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "gradebook.db").stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "course").stat().st_mode) == 0o755, "the package students import stays readable"
    assert hub.tighten_checkout(tmp_path) == []


def test_students_get_the_exchange_without_formgrader_and_the_instructor_gets_the_course(tmp_path):
    layout = hub.Layout(tmp_path)
    hub.write_jupyter_config(layout, "cnn-foundations")
    student, instructor = layout.jupyter / "student", layout.jupyter / "instructor"
    for role in (student, instructor):
        text = (role / "nbgrader_config.py").read_text()
        assert 'c.CourseDirectory.course_id = "cnn-foundations"' in text
        assert f'c.Exchange.root = "{layout.exchange}"' in text
    assert f'c.CourseDirectory.root = "{layout.course}"' in (instructor / "nbgrader_config.py").read_text()
    assert "CourseDirectory.root" not in (student / "nbgrader_config.py").read_text()
    server = json.loads((student / "jupyter_server_config.json").read_text())
    assert server["ServerApp"]["jpserver_extensions"] == {"nbgrader.server_extensions.formgrader": False}
    page = json.loads((student / "labconfig" / "page_config.json").read_text())
    assert page["disabledExtensions"]["@jupyter/nbgrader:formgrader"] is True
    assert page["disabledExtensions"]["@jupyterlab/apputils-extension:announcements"] is True  # no news pop-up
    assert json.loads((instructor / "labconfig" / "page_config.json").read_text()) == {}


def test_the_course_id_comes_from_nbgrader_config():
    assert hub.course_id() == "cnn-foundations"
