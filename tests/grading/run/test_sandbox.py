"""The grading sandbox: what student code can see, write and reach, and the fallback without bubblewrap."""
import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from course.grading.run import sandbox


def needs_bwrap(test):
    skip = pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap (bwrap) is not installed")
    return pytest.mark.sandbox(skip(test))


PROBE = r"""
import json, os, socket, sys
from pathlib import Path
course, home = Path(sys.argv[1]), Path(sys.argv[2])
report = {"uid": os.getuid(), "cwd": os.getcwd()}
try:
    socket.create_connection(("1.1.1.1", 53), timeout=3).close()
    report["network"] = "open"
except OSError as error:
    report["network"] = type(error).__name__
report["source_visible"] = (course / "source" / "secret.txt").exists()
report["other_student_visible"] = (course / "autograded" / "bob").exists()
report["gradebook_visible"] = (course / "gradebook.db").exists()
try:
    (course / "gradebook.db").write_text("overwritten")
    report["gradebook_written"] = True
except OSError:
    report["gradebook_written"] = False
report["home"] = sorted(os.listdir(home)) if home.is_dir() else None
report["host_tmp_visible"] = (course.parent / "outside.txt").exists()
Path("written.txt").write_text("mine")
report["own_folder_writable"] = True
try:
    report["notebook"] = Path("assignment.ipynb").read_text()
except OSError as error:
    report["notebook"] = type(error).__name__
try:
    Path(sys.prefix, "sandbox-was-here").write_text("x")
    report["venv_writable"] = True
except OSError:
    report["venv_writable"] = False
print(json.dumps(report))
"""


def fake_course(tmp_path: Path) -> Path:
    """A course folder with a secret, a gradebook and two students."""
    course = tmp_path / "course"
    (course / "source").mkdir(parents=True)
    (course / "source" / "secret.txt").write_text("the solutions")
    (course / "gradebook.db").write_text("grades")
    (course / "autograded" / "bob").mkdir(parents=True)
    (course / "autograded" / "bob" / "work.txt").write_text("bob's")
    mine = course / "autograded" / "alice" / "01"
    mine.mkdir(parents=True)
    (mine / "assignment.ipynb").write_text("hidden tests live here while grading")
    (tmp_path / "outside.txt").write_text("host /tmp")
    return course


def test_command_isolates_and_binds_only_what_is_needed(tmp_path):
    workdir = fake_course(tmp_path) / "autograded" / "alice" / "01"
    args = sandbox.command(["python", "-c", "pass"], workdir, masked=[workdir / "assignment.ipynb"], uid=4242)
    joined = " ".join(args)
    for flag in ("--unshare-net", "--unshare-pid", "--die-with-parent", "--tmpfs /tmp"):
        assert flag in joined
    binds = {args[i + 1]: args[i] for i, a in enumerate(args) if a in {"--bind", "--ro-bind"}}
    assert binds[str(workdir.resolve())] == "--bind"
    assert binds[str(Path(sys.prefix).resolve())] == "--ro-bind"
    assert binds[str(Path(sandbox.__file__).resolve().parents[2])] == "--ro-bind"  # the course package
    assert all(mode == "--ro-bind" for path, mode in binds.items() if path != str(workdir.resolve()))
    assert str(tmp_path / "course") not in binds and str(Path.home()) not in binds
    assert args[args.index("/dev/null") - 1] == "--ro-bind"
    spec = json.loads(args[args.index("-c") + 2])
    assert spec["uid"] == 4242 and spec["rlimits"]["RLIMIT_NPROC"] == sandbox.Limits.from_env().processes


def test_environment_keeps_grading_settings_and_drops_the_rest():
    env = sandbox.sandbox_env({"PATH": "/usr/bin", "NBGRADER_EXECUTION": "autograde", "COURSE_FAST": "1",
                               "GITHUB_TOKEN": "secret", "HOME": "/root", "JPY_PARENT_PID": "1"})
    assert env["NBGRADER_EXECUTION"] == "autograde" and env["COURSE_FAST"] == "1"
    assert "GITHUB_TOKEN" not in env and "JPY_PARENT_PID" not in env
    assert env["HOME"] == "/tmp" and env["PATH"].split(os.pathsep)[0] == str(Path(sys.executable).parent)


def test_limits_and_timeout_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("COURSE_CELL_TIMEOUT", "7")
    monkeypatch.setenv("COURSE_SANDBOX_MEMORY_MB", "1000")
    monkeypatch.setenv("COURSE_SANDBOX_PROCESSES", "33")
    assert sandbox.cell_timeout() == 7
    limits = sandbox.Limits.from_env()
    assert limits.rlimits()["RLIMIT_DATA"] == 1000 * 2 ** 20 and limits.rlimits()["RLIMIT_NPROC"] == 33
    monkeypatch.delenv("COURSE_CELL_TIMEOUT")
    assert sandbox.cell_timeout(120) == 120


def test_take_back_deletes_links_and_special_files(tmp_path):
    (tmp_path / "kept.txt").write_text("mine")
    (tmp_path / "leak").symlink_to("/etc/passwd")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "leak-dir").symlink_to("/etc")
    os.mkfifo(tmp_path / "pipe")
    sandbox.take_back(tmp_path, None, os.getuid(), os.getgid())
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["kept.txt", "sub"]


@needs_bwrap
def test_sandboxed_run_sees_only_its_folder(tmp_path):
    course = fake_course(tmp_path)
    workdir = course / "autograded" / "alice" / "01"
    hidden = workdir / "assignment.ipynb"
    args = sandbox.command([sys.executable, "-c", PROBE, str(course), str(Path.home())], workdir,
                           masked=[hidden], uid=sandbox.sandbox_uid())
    lease = sandbox.Lease(sandbox.sandbox_uid(), [workdir])
    try:
        result = subprocess.run(args, env=sandbox.sandbox_env(), capture_output=True, text=True, timeout=120)
    finally:
        lease.close()
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["network"] != "open"
    assert not report["source_visible"] and not report["other_student_visible"]
    assert not report["gradebook_visible"] and not report["gradebook_written"]
    assert not report["host_tmp_visible"] and not report["venv_writable"]
    assert report["own_folder_writable"] and (workdir / "written.txt").read_text() == "mine"
    assert report["notebook"] in ("", "PermissionError"), "the notebook (with its hidden tests) must be masked"
    if os.geteuid() == 0:
        assert report["uid"] != 0
        assert (workdir / "written.txt").stat().st_uid == 0, "files are handed back to the grader"
    allowed = {p.relative_to(Path.home()).parts[0] for p in sandbox.readonly_paths() if Path.home() in p.parents}
    assert report["home"] is None or set(report["home"]) <= allowed
    assert (course / "gradebook.db").read_text() == "grades"


@needs_bwrap
def test_process_and_memory_limits_hold(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_SANDBOX_PROCESSES", "24")
    monkeypatch.setenv("COURSE_SANDBOX_MEMORY_MB", "300")
    code = ("import subprocess, numpy\n"
            "children = []\n"
            "try:\n"
            "    for _ in range(200):\n"
            "        children.append(subprocess.Popen(['sleep', '30']))\n"
            "except OSError:\n"
            "    pass\n"
            "print('children', len(children))\n"
            "try:\n"
            "    numpy.ones(100_000_000)\n"
            "    print('memory unlimited')\n"
            "except MemoryError:\n"
            "    print('memory limited')\n")
    result = sandbox.run([sys.executable, "-c", code], tmp_path, timeout=120, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    out = result.stdout.decode()
    assert "memory limited" in out, out + result.stderr.decode()
    assert int(out.split("children")[1].split()[0]) < 24


@needs_bwrap
def test_a_sandboxed_kernel_runs_a_notebook(tmp_path):
    folder = tmp_path / "autograded" / "alice" / "nb"
    folder.mkdir(parents=True)
    (tmp_path / "gradebook.db").write_text("grades")
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("import os, time\nprint('uid', os.getuid(), 'parent set', 'JPY_PARENT_PID' in os.environ)"),
        nbformat.v4.new_code_cell("time.sleep(2)\nopen('made-by-kernel.txt', 'w').write('ok')\nprint('alive')"),
        nbformat.v4.new_code_cell("print(os.path.exists('../../../gradebook.db'))\n"
                                  "try:\n    print(len(open('nb.ipynb').read()))\n"
                                  "except OSError as error:\n    print(type(error).__name__)"),
    ])
    nbformat.write(notebook, str(folder / "nb.ipynb"))
    client = NotebookClient(notebook, timeout=120, kernel_manager_class=sandbox.SandboxedKernelManager,
                            resources={"metadata": {"path": str(folder)}})
    client.execute()
    texts = ["".join(o.get("text", "") for o in cell.outputs) for cell in notebook.cells]
    assert "parent set False" in texts[0]
    if os.geteuid() == 0:
        assert "uid 0 " not in texts[0]
    assert "alive" in texts[1] and (folder / "made-by-kernel.txt").read_text() == "ok"
    assert texts[2].split()[0] == "False" and texts[2].split()[1] in ("0", "PermissionError")


def test_without_bwrap_grading_refuses_and_names_the_fix(tmp_path, monkeypatch):
    monkeypatch.setattr(sandbox.shutil, "which", lambda name: None)
    monkeypatch.delenv("COURSE_SANDBOX", raising=False)
    with pytest.raises(sandbox.SandboxUnavailable) as refused:
        sandbox.run([sys.executable, "-c", "open('ran', 'w')"], tmp_path, timeout=60)
    assert "apt-get install bubblewrap" in str(refused.value) and "COURSE_SANDBOX=off" in str(refused.value)
    assert not (tmp_path / "ran").exists()


def test_a_bwrap_that_cannot_make_namespaces_is_refused_with_the_reason(tmp_path, monkeypatch):
    fake = tmp_path / "bwrap"
    fake.write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.delenv("COURSE_SANDBOX", raising=False)
    monkeypatch.setattr(sandbox.shutil, "which", lambda name: str(fake))
    monkeypatch.setattr(sandbox, "_checked", {})
    reason = sandbox.problem()
    assert "No permissions to create new namespace" in reason and "user namespaces" in reason
    with pytest.raises(sandbox.SandboxUnavailable):
        sandbox.require()


@needs_bwrap
def test_a_working_bwrap_passes_the_check(monkeypatch):
    monkeypatch.delenv("COURSE_SANDBOX", raising=False)
    monkeypatch.setattr(sandbox, "_checked", {})
    assert sandbox.problem() is None


def test_switched_off_it_runs_unsandboxed_with_one_warning(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("COURSE_SANDBOX", "off")
    monkeypatch.setattr(sandbox, "_warned", False)
    assert sandbox.bwrap_path() is None and sandbox.problem() is None
    with caplog.at_level(logging.WARNING, logger="course.grading.run.sandbox"):
        first = sandbox.run([sys.executable, "-c", "print('ran')"], tmp_path, timeout=60, stdout=subprocess.PIPE)
        second = sandbox.run([sys.executable, "-c", "print('ran')"], tmp_path, timeout=60, stdout=subprocess.PIPE)
    assert first.stdout.strip() == b"ran" == second.stdout.strip()
    warnings = [r for r in caplog.records if "UNSANDBOXED" in r.getMessage()]
    assert len(warnings) == 1
    manager = sandbox.SandboxedKernelManager()
    assert manager.transport == "tcp"


def test_make_autograde_refuses_without_a_sandbox_and_says_why_on_the_terminal(tmp_path, monkeypatch, capsys):
    from course.grading.semester import pipeline

    monkeypatch.setattr(sandbox.shutil, "which", lambda name: None)
    monkeypatch.delenv("COURSE_SANDBOX", raising=False)
    assert pipeline.main(["autograde", "--root", str(tmp_path)]) == 1
    said = capsys.readouterr().err
    assert "apt-get install bubblewrap" in said and "COURSE_SANDBOX=off make autograde" in said


@pytest.mark.pipeline
def test_grading_with_the_sandbox_off_still_grades_and_says_so(tmp_path, monkeypatch, capsys):
    """The whole autograde step with COURSE_SANDBOX=off: same grades, one loud warning on the terminal."""
    from course.grading.semester import pipeline
    from course.grading.semester.submissions import fill, graded_cells, solution_answers
    from tests.helpers import copy_course

    monkeypatch.setenv("COURSE_SANDBOX", "off")
    assignment = "01_convolution"
    course = copy_course(tmp_path / "course", [assignment])
    pipeline.release(course, [assignment])
    release = course / "release" / assignment / f"{assignment}.ipynb"
    source = course / "source" / assignment / f"{assignment}.ipynb"
    fill(release, solution_answers(source), course / "submitted" / "good" / assignment / f"{assignment}.ipynb")
    fill(release, {}, course / "submitted" / "blank" / assignment / f"{assignment}.ipynb")
    assert pipeline.main(["autograde", "--root", str(course), "--assignment", assignment]) == 0
    assert capsys.readouterr().err.count("UNSANDBOXED") == 1  # on the terminal, not only in nbgrader's log
    points = graded_cells(source)
    good = pipeline.cell_scores(course, assignment, "good")
    blank = pipeline.cell_scores(course, assignment, "blank")
    assert {cell: good[cell] for cell in points} == points
    assert not any(blank[cell] for cell in points)
