"""Where the workers come from: the settings of each kind, and the demo class graded on a real Slurm.

The Slurm test runs the main job on a copy of the course as an instructor
would on a cluster: `COURSE_CLUSTER=slurm` grades on Dask workers that are
Slurm jobs of the single-node Slurm that tests/servers.py starts, and
`COURSE_DB_URL` puts the gradebook on the test PostgreSQL. Every cell's score
must equal the local run's, on SQLite, of the same class (tests/grading/conftest.py, where the demo
class shares one course with the catalogue class).
"""
import subprocess
import time

import pytest

from course.grading.engine import clusters, worker
from course.grading.semester import demo, pipeline
from tests.helpers import copy_course


def test_an_unknown_cluster_kind_names_the_ones_there_are(monkeypatch):
    monkeypatch.delenv(clusters.ENV_SCHEDULER, raising=False)
    monkeypatch.setenv(clusters.ENV_CLUSTER, "kubernetes")
    with pytest.raises(ValueError, match="`local`.*`slurm`.*COURSE_SCHEDULER"):
        clusters.kind()
    monkeypatch.setenv(clusters.ENV_SCHEDULER, "tcp://127.0.0.1:8786")
    assert clusters.kind() == "scheduler"


def test_slurm_settings_come_from_the_environment_and_workers_stay_single_threaded(monkeypatch):
    import dask

    for variable in clusters.SLURM_SETTINGS:
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("COURSE_SLURM_PARTITION", "gpu-short")
    monkeypatch.setenv("COURSE_SLURM_CORES", "4")
    monkeypatch.setenv("COURSE_SLURM_ACCOUNT", "cs101")
    with dask.config.set({"jobqueue.slurm.memory": None, "jobqueue.slurm.walltime": None}):
        options = clusters.slurm_options()
        assert options == {"queue": "gpu-short", "account": "cs101", "cores": 4, "processes": 4, "memory": "4GiB",
                           "walltime": "02:00:00"}
    with dask.config.set({"jobqueue.slurm.memory": "16GiB", "jobqueue.slurm.walltime": None}):
        assert "memory" not in clusters.slurm_options(), "jobqueue.yaml's memory is left to dask-jobqueue"


def test_a_worker_that_cannot_build_the_sandbox_grades_nothing_and_says_why(monkeypatch):
    monkeypatch.setattr(worker.sandbox, "problem", lambda: "no user namespaces in this container")
    bundle = {"assignment": "01_convolution", "version": "v", "files": {}, "template": b""}
    task = {"assignment": "01_convolution", "student": "s1", "hash": "h", "files": {}}
    result = worker.grade(task, bundle)
    assert result["crashed"] and result["submission"] is None
    assert "cannot create the sandbox" in result["problems"][0] and "no user namespaces" in result["problems"][0]


def _jobs(env: dict) -> list[str]:
    shown = subprocess.run(["squeue", "-h", "-o", "%j %T"], env=env, capture_output=True, text=True, check=True)
    return [line for line in shown.stdout.splitlines() if line.strip()]


def _cells(course, assignments) -> dict:
    """The demo class's scores, cell by cell (the local course may hold the catalogue class too)."""
    return {(s.student, s.assignment): pipeline.cell_scores(course, s.assignment, s.student)
            for s in pipeline.scores(course) if s.assignment in assignments and s.student in demo.STUDENTS}


@pytest.mark.slurm
@pytest.mark.postgres
@pytest.mark.pipeline
@pytest.mark.slow
def test_the_demo_class_graded_on_slurm_into_postgresql_scores_as_it_does_locally(
        local_demo_class, slurm_cluster, postgres_url, tmp_path, monkeypatch):
    local, assignments, _ = local_demo_class
    expected = _cells(local, assignments)
    assert len(expected) == len(demo.STUDENTS) * len(assignments)

    for name, value in {"COURSE_DB_URL": postgres_url, "COURSE_CLUSTER": "slurm", "SLURM_CONF": str(slurm_cluster.conf),
                        "COURSE_SLURM_PARTITION": slurm_cluster.partition, "COURSE_SLURM_INTERFACE": "lo",
                        "COURSE_SLURM_MEMORY": "3GiB", "COURSE_SLURM_WALLTIME": "00:30:00",
                        "COURSE_SLURM_LOGS": str(tmp_path / "slurm-logs")}.items():
        monkeypatch.setenv(name, value)
    course = copy_course(tmp_path / "on-slurm", assignments)
    pipeline.release(course, assignments)
    demo.build(course, assignments)
    done = []
    problems = pipeline.autograde(course, assignments, report=done)
    report = done[0]
    print(report.summary(), f"first worker after {report.first_worker_s:.1f} s")
    assert report.graded == len(expected) and not report.failed, report.reasons()
    assert problems == []
    jobs = {t["worker_job"] for t in report.timings}
    assert None not in jobs and len(jobs) >= 1, f"every task must run in a Slurm job, ran in {jobs}"
    assert _cells(course, assignments) == expected
    assert not (course / "gradebook.db").exists()
    assert demo.check(course)
    pipeline.feedback(course, assignments[:1])
    assert {p.parent.parent.name for p in (course / "feedback").glob(f"*/{assignments[0]}/*.html")} == set(demo.STUDENTS)

    deadline = time.monotonic() + 60
    while _jobs(slurm_cluster.env) and time.monotonic() < deadline:
        time.sleep(1)
    assert _jobs(slurm_cluster.env) == [], "the workers' jobs must end with the run"
