"""`make roster` and `make hub`'s checks that need no hub: Unix names from ids, refused names, hub passwords,
the servers' cgroups, the collector's roster map, the venv's interpreter, private paths, each role's settings.

The hub itself, with real accounts and a browser, is tested in tests/hub/ (marker `hub`).
"""
import json
import stat
from pathlib import Path

import pytest

from course.commands.hub import accounts as hub_accounts
from course.commands.hub import manage as hub
from course.commands.hub.exchange import RosterCollect
from course.commands.hub.limits import Cgroups, LimitError, parse_size


def test_student_numbers_and_other_ids_get_safe_distinct_unix_names_that_stay():
    ids = ["2024001", "ada", "Ada.Lovelace@uni", "s2024001", "x" * 40, "x" * 40 + "y"]
    names = hub_accounts.unix_names(ids, reserved=["instructor"])
    assert names["ada"] == "ada" and names["s2024001"] == "s2024001", "a safe id stays its own Unix name"
    assert names["2024001"].startswith("s2024001-") and names["Ada.Lovelace@uni"] == "sada_lovelace_uni"
    assert len(set(names.values())) == len(ids) and hub_accounts.unsafe(names.values()) == []
    assert hub_accounts.unix_names(["2024001"]) == {"2024001": "s2024001"}
    # Once given, a name is kept, even when the roster around it changes.
    assert hub_accounts.unix_names(["2024001"], previous=names)["2024001"] == names["2024001"]
    assert hub_accounts.unix_names(["instructor!"], reserved=["sinstructor_"])["instructor!"] != "sinstructor_"


def test_hub_passwords_are_checked_against_their_scrypt_hash_only():
    stored = hub_accounts.hash_password("correct horse")
    assert "correct horse" not in stored
    assert hub_accounts.password_matches("correct horse", stored)
    assert not hub_accounts.password_matches("correct hors", stored)
    assert not hub_accounts.password_matches("correct horse", "plain:correct horse")


def test_size_limits_are_read_like_docker_writes_them():
    assert parse_size("3G") == 3 * 2**30 and parse_size("1536M") == 1536 * 2**20 and parse_size("4096") == 4096
    with pytest.raises(LimitError, match="2G or 1536M"):
        parse_size("lots")


def test_each_server_gets_a_cgroup_below_the_hubs_own_with_its_limits(tmp_path):
    (tmp_path / "memory").mkdir()
    (tmp_path / "cpu").mkdir()
    own = "4:memory:/sessions/42\n1:cpu:/\n0::/\n"
    v1 = Cgroups.find("hub1", tmp_path, own)
    assert v1.memory == tmp_path / "memory" / "sessions" / "42" / "hub1" and v1.cpu == tmp_path / "cpu" / "hub1"
    joins = v1.user("s2024001", memory=2**30, cpus=0.5)
    assert (v1.memory / "s2024001" / "memory.limit_in_bytes").read_text() == str(2**30)
    assert (v1.cpu / "s2024001" / "cpu.cfs_quota_us").read_text() == "50000"
    assert sorted(joins) == sorted([v1.memory / "s2024001" / "cgroup.procs", v1.cpu / "s2024001" / "cgroup.procs"])
    unified = tmp_path / "v2"
    unified.mkdir()
    (unified / "cgroup.controllers").write_text("cpu memory")
    v2 = Cgroups.find("hub1", unified, "0::/hub.service\n")
    assert v2.unified and v2.memory == unified / "hub.service" / "hub1"
    v2.user("s1", memory=2**30, cpus=1.5)
    assert (v2.memory / "cgroup.subtree_control").read_text() == "+memory +cpu"
    assert (v2.memory / "s1" / "memory.max").read_text() == str(2**30)
    assert (v2.memory / "s1" / "cpu.max").read_text() == "150000 100000"
    with pytest.raises(LimitError, match="HUB_MEMORY=off"):
        Cgroups.find("hub1", tmp_path / "nothing", "0::/\n")


def test_collected_submissions_are_filed_under_the_owners_roster_id(tmp_path):
    inbound = tmp_path / "inbound"
    submission = inbound / "s2024001+01_convolution+2026-01-05 10:00:00.000000 UTC+abcdefghijkl"
    submission.mkdir(parents=True)
    owner = Path(submission).owner()
    collect = RosterCollect(roster_ids={owner: "2024001"})
    assert collect._path_to_record(str(submission))["username"] == "2024001"
    assert RosterCollect(roster_ids={})._path_to_record(str(submission))["username"] == owner, \
        "without a map, the owner's Unix name is the id, whatever name the folder claims"


def test_unsafe_and_foreign_names_are_refused_before_any_account_is_touched():
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


def test_the_graders_share_the_course_and_collect_by_roster_id(tmp_path):
    layout = hub.Layout(tmp_path)
    hub.write_jupyter_config(layout, "cnn-foundations", {"s2024001": "2024001"}, graders="root")
    staff = (layout.jupyter / "instructor" / "nbgrader_config.py").read_text()
    assert "c.CourseDirectory.groupshared = True" in staff
    assert 'c.ExchangeFactory.collect = "course.commands.hub.exchange.RosterCollect"' in staff
    assert 'c.RosterCollect.roster_ids = {"s2024001": "2024001"}' in staff
    assert "RosterCollect" not in (layout.jupyter / "student" / "nbgrader_config.py").read_text()
    assert stat.S_IMODE((layout.jupyter / "instructor").stat().st_mode) == 0o750, "students must not read the map"
    for role in ("student", "instructor"):
        server = json.loads((layout.jupyter / role / "jupyter_server_config.json").read_text())["ServerApp"]
        assert server["terminado_settings"]["shell_command"][0] == "/bin/bash", "terminals need bash: login is nologin"


def test_the_course_id_comes_from_nbgrader_config():
    assert hub.course_id() == "cnn-foundations"
