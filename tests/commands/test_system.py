"""`make system`: what a bare machine lacks is installed when it may be, else the one command is printed."""
import subprocess

import pytest

from course.commands import system


@pytest.fixture
def bare_machine(monkeypatch):
    """Nothing installed; apt-get calls are recorded, and each install makes its packages present."""
    installed, calls = set(), []

    def fake_run(argv, **kwargs):
        calls.append(list(argv))
        if "install" in argv:
            installed.update(a for a in argv if not a.startswith("-") and a not in {"sudo", "apt-get", "install"})
        return subprocess.CompletedProcess(argv, 0, b"", b"")

    jobs = {job: tuple(system.Need(n.package, n.why, lambda p=n.package: p in installed) for n in needs)
            for job, needs in system.JOBS.items()}
    monkeypatch.setattr(system, "JOBS", jobs)
    monkeypatch.setattr(system.subprocess, "run", fake_run)
    return installed, calls


def test_as_root_the_missing_packages_are_installed_with_apt_get(bare_machine, monkeypatch):
    installed, calls = bare_machine
    monkeypatch.setattr(system.os, "geteuid", lambda: 0)
    assert system.main(["test"]) == 0
    assert calls[0][:2] == ["apt-get", "update"] and calls[1][:2] == ["apt-get", "install"]
    assert {"bubblewrap", "dataset-fashion-mnist", "chromium", "chromium-driver", "postgresql", "slurm-wlm",
            "munge"} <= installed


def test_grading_needs_no_browser(bare_machine, monkeypatch):
    installed, calls = bare_machine
    monkeypatch.setattr(system.os, "geteuid", lambda: 0)
    assert system.main(["grade"]) == 0
    assert "bubblewrap" in installed and not {"chromium", "postgresql", "slurm-wlm"} & installed
    assert "npm" in installed, "make hub's proxy needs npm, and make system is what its docs say to run"


def test_without_root_or_sudo_it_stops_at_once_with_the_one_command(bare_machine, monkeypatch, capsys):
    installed, calls = bare_machine
    monkeypatch.setattr(system.os, "geteuid", lambda: 1000)
    monkeypatch.setattr(system.shutil, "which", lambda name: None)
    assert system.main(["grade"]) == 1
    said = capsys.readouterr().err
    assert "sudo apt-get install -y" in said and "bubblewrap" in said and "dataset-fashion-mnist" in said
    assert not any(call[:1] == ["apt-get"] or "apt-get" in call for call in calls) and not installed


def test_passwordless_sudo_is_used_when_there_is_one(bare_machine, monkeypatch):
    installed, calls = bare_machine
    monkeypatch.setattr(system.os, "geteuid", lambda: 1000)
    monkeypatch.setattr(system.shutil, "which", lambda name: "/usr/bin/sudo" if name == "sudo" else None)
    assert system.main(["grade"]) == 0
    assert ["sudo", "-n", "apt-get", "update", "-q"] in calls and "bubblewrap" in installed


def test_a_failing_apt_get_is_reported(monkeypatch, capsys):
    monkeypatch.setattr(system, "JOBS", {"grade": (system.Need("bubblewrap", "sandbox", lambda: False),)})
    monkeypatch.setattr(system.os, "geteuid", lambda: 0)
    monkeypatch.setattr(system.subprocess, "run", lambda argv, **kw: subprocess.CompletedProcess(argv, 100))
    assert system.main(["grade"]) == 1
    assert "install bubblewrap by hand" in capsys.readouterr().err


def test_with_the_sandbox_switched_off_bubblewrap_is_not_needed(monkeypatch):
    monkeypatch.setattr(system.shutil, "which", lambda name: None)
    monkeypatch.setenv("COURSE_SANDBOX", "off")
    bubblewrap = next(n for n in system.GRADE if n.package == "bubblewrap")
    assert bubblewrap.present()
    monkeypatch.delenv("COURSE_SANDBOX")
    assert not bubblewrap.present()


def test_this_machine_has_what_the_tests_need():
    """`make test` ran `make system-test` first, so nothing may be missing here."""
    assert [n.package for n in system.missing("test")] == []
