"""Where the grading workers come from: this machine, a running Dask scheduler, or Slurm jobs.

* default: a local cluster, one single-threaded worker process per core
  (`COURSE_WORKERS` changes the count), kept for the life of the process;
* `COURSE_SCHEDULER=tcp://HOST:PORT`: the workers of a cluster someone else
  started (Kubernetes with the Dask operator, `dask worker` by hand);
* `COURSE_CLUSTER=slurm`: Dask workers started as Slurm jobs by dask-jobqueue,
  scaled to the submissions still to grade and released when the run ends.
  Settings come from `COURSE_SLURM_*` (below), then from dask-jobqueue's own
  config file (`~/.config/dask/jobqueue.yaml`, section `jobqueue.slurm`).

docs/grading-at-scale.md shows each one.
"""
from __future__ import annotations

import atexit
import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from . import worker

ENV_CLUSTER = "COURSE_CLUSTER"
ENV_SCHEDULER = "COURSE_SCHEDULER"
ENV_WORKERS = "COURSE_WORKERS"
# COURSE_SLURM_* -> SLURMCluster's argument; unset ones fall back to jobqueue.yaml, then to these defaults.
SLURM_SETTINGS = {
    "COURSE_SLURM_PARTITION": ("queue", None),
    "COURSE_SLURM_ACCOUNT": ("account", None),
    "COURSE_SLURM_CORES": ("cores", "1"),
    "COURSE_SLURM_MEMORY": ("memory", "4GiB"),
    "COURSE_SLURM_WALLTIME": ("walltime", "02:00:00"),
    "COURSE_SLURM_INTERFACE": ("interface", None),
    "COURSE_SLURM_LOGS": ("log_directory", None),
}
ENV_SLURM_JOBS = "COURSE_SLURM_JOBS"  # the most jobs running at once
ENV_START_TIMEOUT = "COURSE_SLURM_START_TIMEOUT"  # seconds to wait for the first job's worker
# Until the first tasks have run, the scheduler assumes a grading task takes this long: enough for
# adaptive scaling to ask at once for one worker per pending submission (up to the maximum).
FIRST_GUESS = "30s"
# Local workers run this much nicer than the driver that shares their cores (see worker.WarmUp).
LOCAL_NICE = 5
SETTINGS = {ENV_CLUSTER, ENV_SCHEDULER, ENV_WORKERS, ENV_SLURM_JOBS, ENV_START_TIMEOUT, *SLURM_SETTINGS}

_KEPT: dict = {}


@dataclass
class Connection:
    """A client, the cluster behind it when this process started one, and whether a run should close it."""

    client: object
    cluster: object = None
    per_run: bool = False
    planned_workers: int = 0

    def close(self) -> None:
        try:
            self.client.close()
            if self.cluster is not None:
                self.cluster.close()
        except Exception:  # noqa: BLE001 (shutting down anyway)
            pass


def quiet_dask() -> None:
    """Dask logs to the terminal by default; only errors may cross the progress bar."""
    for name in ("distributed", "distributed.nanny", "distributed.scheduler", "distributed.worker", "tornado",
                 "dask_jobqueue"):
        logging.getLogger(name).setLevel(logging.ERROR)


def kind() -> str:
    if os.environ.get(ENV_SCHEDULER, "").strip():
        return "scheduler"
    chosen = os.environ.get(ENV_CLUSTER, "local").strip().lower() or "local"
    if chosen not in {"local", "slurm"}:
        raise ValueError(f"{ENV_CLUSTER}={chosen!r}: use `local` (this machine) or `slurm`; "
                         f"for any other running Dask cluster set {ENV_SCHEDULER}=tcp://HOST:PORT")
    return chosen


def connect(workers: int | None = None, pending: int = 1) -> Connection:
    """Workers for a run with `pending` submissions to grade."""
    quiet_dask()
    chosen = kind()
    if chosen == "slurm":
        return slurm(pending)
    if chosen == "scheduler":
        address = os.environ[ENV_SCHEDULER].strip()
        if ("scheduler", address) not in _KEPT:
            from distributed import Client

            _KEPT[("scheduler", address)] = Connection(Client(address, set_as_default=False))
        return _KEPT[("scheduler", address)]
    return local(workers)


def local(workers: int | None = None) -> Connection:
    from distributed import Client, LocalCluster

    count = workers or int(os.environ.get(ENV_WORKERS, "0") or 0) or os.cpu_count() or 1
    if ("local", count) not in _KEPT:
        # The scheduler's web server always starts; on a free loopback port, two runs never fight over 8787.
        cluster = LocalCluster(n_workers=count, threads_per_worker=1, processes=True, host="127.0.0.1",
                               dashboard_address="127.0.0.1:0", silence_logs=logging.ERROR)
        connected = Client(cluster, set_as_default=False)
        connected.register_plugin(worker.WarmUp(nice=LOCAL_NICE), name="course-warm-up")
        _KEPT[("local", count)] = Connection(connected, cluster, planned_workers=count)
    return _KEPT[("local", count)]


def slurm_options() -> dict:
    """SLURMCluster's arguments from COURSE_SLURM_*; what is unset is left to jobqueue.yaml."""
    import dask

    options = {}
    for variable, (option, default) in SLURM_SETTINGS.items():
        value = os.environ.get(variable, "").strip()
        if value or (default is not None and dask.config.get(f"jobqueue.slurm.{option}", None) is None):
            options[option] = value or default
    cores = int(options.get("cores") or dask.config.get("jobqueue.slurm.cores", None) or 1)
    options["cores"] = cores
    options["processes"] = cores  # single-threaded workers, as on the local cluster
    return options


def slurm(pending: int) -> Connection:
    """Dask workers as Slurm jobs, as many as there are submissions to grade (at most COURSE_SLURM_JOBS jobs)."""
    import dask
    from dask_jobqueue import SLURMCluster
    from distributed import Client

    options = slurm_options()
    jobs = int(os.environ.get(ENV_SLURM_JOBS, "0") or 0) or 16
    maximum = max(1, min(pending, jobs * options["cores"]))
    venv_bin = str(Path(sys.executable).parent)
    host = "127.0.0.1" if options.get("interface") == "lo" else None
    # Read when the first task arrives, by the scheduler that runs in this process.
    dask.config.set({"distributed.scheduler.default-task-durations": {"grade": FIRST_GUESS}})
    cluster = SLURMCluster(
        job_name="course-grading", python=sys.executable,
        # nbgrader runs `alembic` as a command: the job finds the driver's venv first on PATH.
        job_script_prologue=[f'export PATH="{venv_bin}:$PATH"'],
        scheduler_options={"dashboard_address": f"{host or ''}:0", **({"host": host} if host else {})},
        **options)
    # Jobs are asked for at once: the run waits for the first worker before it sends any task, and adaptive
    # scaling (switched on once tasks are queued, by `first_worker`) would see nothing to scale for.
    cluster.scale(maximum)
    connected = Client(cluster, set_as_default=False)
    connected.register_plugin(worker.WarmUp(), name="course-warm-up")
    return Connection(connected, cluster, per_run=True, planned_workers=maximum)


def adapt(connection: Connection) -> None:
    """From now on, as many workers as the queue needs, up to the planned number; idle jobs end early."""
    if connection.per_run and hasattr(connection.cluster, "adapt"):
        connection.cluster.adapt(minimum=0, maximum=connection.planned_workers, interval="1s", wait_count=5)


def first_worker(connection: Connection) -> float:
    """Wait for the first batch job's worker; seconds it took. A message names what to look at if none comes."""
    import time

    start = time.perf_counter()
    timeout = float(os.environ.get(ENV_START_TIMEOUT, "0") or 0) or 900
    try:
        connection.client.wait_for_workers(1, timeout=timeout)
    except TimeoutError as error:
        connection.close()
        raise RuntimeError(f"no Slurm job of the grading workers started within {timeout:.0f} s "
                           f"({ENV_START_TIMEOUT} changes the wait): `squeue --me` shows whether they wait for "
                           f"resources; check COURSE_SLURM_PARTITION, _ACCOUNT and _MEMORY, and the job logs in "
                           f"COURSE_SLURM_LOGS") from error
    return time.perf_counter() - start


@atexit.register
def close_all() -> None:
    for connection in list(_KEPT.values()):
        connection.close()
    _KEPT.clear()
