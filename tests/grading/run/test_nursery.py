"""The nursery: runs forked from one preloaded, sandboxed Python, each in a sandbox of its own.

The first tests drive a nursery directly; the last grades two submissions one after the other on one
engine worker and checks that the second sees nothing of the first. All need root and bubblewrap,
as the nursery does (CI runs as root).
"""
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import pytest

from course.grading.engine import driver
from course.grading.run import nursery, sandbox
from course.grading.semester import pipeline
from course.grading.semester.submissions import fill, solution_answers
from tests.helpers import copy_course

pytestmark = [pytest.mark.sandbox,
              pytest.mark.skipif(shutil.which("bwrap") is None or os.geteuid() != 0,
                                 reason="the nursery needs bubblewrap and root")]

REPORT = r"""
import json, os, socket, subprocess, sys
seen = {"uid": os.getuid(), "pid": os.getpid(), "cwd": os.getcwd(), "folder": sorted(os.listdir(".")),
        "tmp": sorted(os.listdir("/tmp")), "shm": sorted(os.listdir("/dev/shm")),
        "lanes": sorted(os.listdir(os.path.dirname(os.getcwd()))),
        "processes": sorted(int(p) for p in os.listdir("/proc") if p.isdigit()),
        "masked": open("secret.ipynb").read(), "torch_preloaded": "torch" in sys.modules,
        "caps": open("/proc/self/status").read().split("CapEff:")[1].split()[0],
        "project": os.path.exists(sys.argv[1])}
try:
    socket.create_connection(("192.0.2.1", 80), timeout=1)
    seen["network"] = True
except OSError:
    seen["network"] = False
open("/tmp/planted", "w").write("from the last run")
open("/dev/shm/planted", "w").write("from the last run")
subprocess.Popen(["sleep", "86311"], start_new_session=True)
print(json.dumps(seen))
"""


@pytest.fixture(scope="module")
def parent():
    started = sandbox.start_nursery(["numpy", "torch"])
    assert started is not None, "as root with bubblewrap a nursery must start"
    yield started
    nursery.stop()


def top_of_tmp(parent) -> list:
    """What a run may find in /tmp: the way to its own folder, and to the checkout when that lies in /tmp."""
    names = {parent.home.name} | {Path(p).relative_to("/tmp").parts[0] for p in parent.keep if p.startswith("/tmp/")}
    return sorted(names)


def run_in(parent, code: str, *args: str, timeout: float = 60):
    folder = Path(tempfile.mkdtemp(dir=parent.lanes))
    (folder / "probe_me.py").write_text(code)
    (folder / "secret.ipynb").write_text("hidden tests")
    lease = sandbox.Lease(sandbox.sandbox_uid(), [folder])
    out, err = open(folder / ".out", "w+b"), open(folder / ".err", "w+b")
    try:
        process = parent.spawn([sys.executable, "-m", "probe_me", *args], folder, masked=[folder / "secret.ipynb"],
                               env=sandbox.sandbox_env(), limits=sandbox.Limits.from_env(), uid=sandbox.sandbox_uid(),
                               stdout=out.fileno(), stderr=err.fileno())
        code = process.wait(timeout)
    finally:
        lease.close()
    out.seek(0)
    err.seek(0)
    return code, out.read().decode(), err.read().decode(), process, folder


def test_a_run_sees_only_its_own_folder_and_a_fresh_machine(parent):
    code, out, err, process, folder = run_in(parent, REPORT, str(Path(__file__).resolve()))
    assert code == 0, err
    seen = json.loads(out)
    assert seen["uid"] == sandbox.sandbox_uid() and seen["caps"] == "0000000000000000"
    assert seen["pid"] == 2 and seen["processes"] == [1, 2]  # its init and itself: no nursery, no other run
    assert seen["cwd"] == str(folder.resolve()) and seen["lanes"] == [folder.name]
    assert seen["masked"] == "" and not seen["project"] and not seen["network"]
    assert seen["torch_preloaded"], "the point of the nursery: torch is imported before the run starts"
    assert seen["tmp"] == top_of_tmp(parent) and seen["shm"] == []  # only the paths down to its own folder
    assert process.cpu_s > 0


def test_nothing_of_a_run_outlives_it(parent):
    first = run_in(parent, REPORT, "/nowhere")
    assert first[0] == 0, first[2]
    code, out, err, _, _ = run_in(parent, REPORT, "/nowhere")
    assert code == 0, err
    seen = json.loads(out)
    assert seen["tmp"] == top_of_tmp(parent) and seen["shm"] == []  # the last run's planted files are gone
    assert seen["processes"] == [1, 2]
    sleepers = _still_running("sleep\x0086311\x00")
    assert sleepers == [], f"the background process a run started must die with the run: {sleepers}"


def _cmdline(pid: str) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_text()
    except OSError:
        return ""


def _still_running(cmdline: str, patience: float = 5.0) -> list:
    """Processes with this command line that outlive `patience` seconds (a loaded machine tears down slowly).

    The whole machine is searched, so the runs sleep for durations nothing else uses (a `sleep 300` of
    someone else's shell once failed this test)."""
    deadline = time.monotonic() + patience
    while True:
        found = [p for p in os.listdir("/proc") if p.isdigit() and _cmdline(p) == cmdline]
        if not found or time.monotonic() > deadline:
            return [(p, _status(p)) for p in found]
        time.sleep(0.2)


def _status(pid: str) -> str:
    try:
        return " ".join(line for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                        if line.split(":")[0] in {"State", "PPid", "NSpid", "Uid"})
    except OSError:
        return "gone"


def test_a_killed_run_ends_with_everything_it_started(parent):
    folder = Path(tempfile.mkdtemp(dir=parent.lanes))
    (folder / "probe_me.py").write_text("import subprocess, time\nsubprocess.Popen(['sleep', '86312'])\ntime.sleep(300)\n")
    lease = sandbox.Lease(sandbox.sandbox_uid(), [folder])
    try:
        process = parent.spawn([sys.executable, "-m", "probe_me"], folder, env=sandbox.sandbox_env(),
                               limits=sandbox.Limits.from_env(), uid=sandbox.sandbox_uid())
        time.sleep(2)
        assert process.poll() is None
        process.send_signal(signal.SIGKILL)
        assert process.wait(10) == -signal.SIGKILL
    finally:
        lease.close()
    assert _still_running("sleep\x0086312\x00") == []


def test_a_run_reports_its_exit_status_and_only_python_m_runs(parent):
    code, _, err, _, _ = run_in(parent, "raise SystemExit(3)\n")
    assert code == 3
    folder = Path(tempfile.mkdtemp(dir=parent.lanes))
    with pytest.raises(ValueError, match="python -m"):
        parent.spawn([sys.executable, "-c", "pass"], folder, env={}, limits=sandbox.Limits.from_env(), uid=None)


PLANT = """
import os, sys, subprocess, numpy, course.checks
open("/tmp/planted.txt", "w").write("x")
open(os.path.expanduser("~/planted.txt"), "w").write("x")
open("planted.txt", "w").write("x")
os.environ["PLANTED"] = "x"
numpy.PLANTED = course.checks.PLANTED = "x"
subprocess.Popen(["sleep", "86313"], start_new_session=True)
seen_here = [os.path.exists("/tmp/planted.txt"), getattr(numpy, "PLANTED", None)]
print("SELF", seen_here)
"""

LOOK = """
import glob, os, numpy, course.checks
leftovers = {"tmp": os.path.exists("/tmp/planted.txt"), "home": os.path.exists(os.path.expanduser("~/planted.txt")),
             "near": glob.glob("/tmp/course-nursery-*/**/planted.txt", recursive=True),
             "env": os.environ.get("PLANTED"), "numpy": getattr(numpy, "PLANTED", None),
             "course": getattr(course.checks, "PLANTED", None),
             "sleepers": [p for p in os.listdir("/proc") if p.isdigit() and "86313" in open(f"/proc/{p}/cmdline").read()]}
print("LEFTOVERS", leftovers)
"""


def test_a_submission_sees_nothing_of_the_one_graded_before_it_on_the_same_worker(tmp_path):
    assignment = "01_convolution"
    course = copy_course(tmp_path / "course", [assignment])
    pipeline.release(course, [assignment])
    release = course / "release" / assignment / f"{assignment}.ipynb"
    solutions = solution_answers(course / "source" / assignment / f"{assignment}.ipynb")
    for student, code in (("a_plants", PLANT), ("b_looks", LOOK)):
        fill(release, dict(solutions, by_hand=solutions["by_hand"] + "\n" + code),
             course / "submitted" / student / assignment / f"{assignment}.ipynb")
    client = driver.client(1)
    try:
        report = driver.grade(course, [assignment], dask_client=client)
    finally:
        driver.close_clients()
    assert [t["student"] for t in report.timings] == ["a_plants", "b_looks"], "graded one after the other"
    assert len({t["worker_pid"] for t in report.timings}) == 1, "on the same worker"

    def said(student: str, word: str) -> str:
        notebook = nbformat.read(str(course / "autograded" / student / assignment / f"{assignment}.ipynb"), as_version=4)
        lines = [line for cell in notebook.cells for output in cell.get("outputs", []) if output.get("name") == "stdout"
                 for line in output.text.splitlines() if line.startswith(word)]
        assert lines, f"{student}'s notebook printed no {word} line"
        return lines[0]

    assert said("a_plants", "SELF") == "SELF [True, 'x']"  # the control: the planting worked where it ran
    assert said("b_looks", "LEFTOVERS") == ("LEFTOVERS {'tmp': False, 'home': False, 'near': [], 'env': None, "
                                            "'numpy': None, 'course': None, 'sleepers': []}")
    assert pipeline.cell_scores(course, assignment, "b_looks")["test_by_hand"] == 1.0
