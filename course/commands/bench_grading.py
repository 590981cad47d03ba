"""Benchmark of grading a class: serial `nbgrader autograde` against the Dask engine, here and on Slurm.

`make bench-grading` (or `python -m course.commands.bench_grading [--students N] [--assignment A ...]
[--only ROWS]`) generates a class in a temporary copy of the course (solutions,
blank releases and every catalogued mistake, in turn) and grades it in fast
mode, from scratch, once per row: (a) serial nbgrader, (b) the engine with one
worker, (c) with two, (d) with two on a PostgreSQL gradebook, (e) on Dask
workers that are Slurm jobs. It prints wall times, the time to the first
worker, per-task overhead (task wall time minus the time nbgrader spends
grading the notebook), gradebook write time per result, submissions per
minute, and projections for 500 students. Rows (d) and (e) use COURSE_DB_URL
and the machine's Slurm when they are set, else the throwaway servers of the
tests (as root, from Debian's packages). Figures go to stdout and to
`bench-grading.json`; nothing is asserted.
"""
import argparse
import contextlib
import json
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from ..grading.engine import database, driver, worker
from ..grading.run import sandbox
from ..grading.semester import pipeline
from ..grading.semester.submissions import fill, solution_answers
from ..grading.verdicts import catalogues
from ..paths import ASSIGNMENTS


def make_course(destination: Path, assignments) -> Path:
    pipeline.new_course(destination, assignments)
    pipeline.release(destination, assignments)
    return destination


def kind(k: int) -> str:
    """What student k hands in: the solutions, the blank release, or a catalogued mistake."""
    return ("solution", "blank")[k] if k < 2 else "mistake"


def make_class(course: Path, assignments, students: int) -> int:
    """Student k hands in the solutions, the blank release, or catalogued mistake number k, in turn."""
    count = 0
    for assignment in assignments:
        release = course / "release" / assignment / f"{assignment}.ipynb"
        solutions = solution_answers(course / "source" / assignment / f"{assignment}.ipynb")
        wrong = catalogues.mistakes(assignment, course)
        for k in range(students):
            kinds = [solutions, {}] + [dict(solutions, **{m["cell"]: m["code"]}) for m in wrong]
            fill(release, kinds[k % len(kinds)], course / "submitted" / f"s{k:03d}" / assignment / f"{assignment}.ipynb")
            count += 1
    return count


PHASES = ("startup", "code", "cells", "probes", "probe_calls", "nbgrader_own")


def breakdown(course: Path, report) -> dict:
    """Per assignment: mean task seconds by kind of submission, mean seconds by phase, the floor and the overhead.

    The floor is what the submission's own code costs: the kernel's time in its cells plus the probe calls.
    Everything else (the kernel's start-up, forking it for the probes, nbgrader's steps, the gradebook write)
    is overhead.
    """
    table = {}
    for assignment in sorted({t["assignment"] for t in report.timings}):
        tasks = [t for t in report.timings if t["assignment"] == assignment]
        choices = 2 + len(catalogues.mistakes(assignment, course))
        by_kind = {}
        for t in tasks:
            by_kind.setdefault(kind(int(t["student"][1:]) % choices), []).append(t["task_s"])
        floors = [t["code_s"] + t["probe_calls_s"] for t in tasks]
        table[assignment] = {
            "tasks": len(tasks),
            "task_s": {k: statistics.mean(v) for k, v in sorted(by_kind.items())},
            **{f"{phase}_s": statistics.mean(t[f"{phase}_s"] for t in tasks) for phase in PHASES},
            "write_s": statistics.mean(t["write_s"] for t in tasks),
            "floor_s": statistics.mean(floors),
            "overhead_s": statistics.mean(t["task_s"] + t["write_s"] - f for t, f in zip(tasks, floors)),
            "stalls": sum(len(t["stalls"]) for t in tasks),
            "longest_wait_s": max((w for t in tasks for _, w in t["waits"]), default=0.0),
        }
    return table


def print_breakdown(table: dict) -> None:
    kinds = ("solution", "blank", "mistake")
    print(f"{'assignment':<19}" + "".join(f"{k:>9}" for k in kinds) + "".join(f"{p:>13}" for p in PHASES) +
          f"{'write':>7}{'floor':>7}{'overhead':>9}{'stalls':>7}")
    for assignment, row in table.items():
        print(f"{assignment:<19}" + "".join(f"{row['task_s'].get(k, float('nan')):>9.2f}" for k in kinds) +
              "".join(f"{row[f'{p}_s']:>13.2f}" for p in PHASES) +
              f"{row['write_s']:>7.3f}{row['floor_s']:>7.2f}{row['overhead_s']:>9.2f}{row['stalls']:>7}")
    print("(mean seconds per submission; floor = the kernel's time in the cells + the probe calls; "
          "overhead = task + write - floor; stalls = waits of over 5 s after a cell's reply)")


def serial(course: Path, assignments) -> float:
    start = time.perf_counter()
    for assignment in assignments:
        pipeline.nbgrader(course, "autograde", assignment, "--force", check=False)
    return time.perf_counter() - start


def with_engine(course: Path, assignments, workers: int, connect=None) -> dict:
    """One engine run from scratch; `connect` makes the client (default: a local cluster of `workers`)."""
    start = time.perf_counter()
    if connect is None:
        client = driver.client(workers)
        client.wait_for_workers(workers)
        client.run(worker.warm_up)
        started = time.perf_counter() - start
        report = driver.grade(course, assignments, force=True, dask_client=client)
        driver.close_clients()
    else:
        with connect():
            report = driver.grade(course, assignments, force=True)
        started = report.first_worker_s or 0.0
    overhead = [t["task_s"] - t["nbgrader_s"] for t in report.timings]
    return {"breakdown": breakdown(course, report),
            "workers": report.workers, "cluster_start_s": started, "wall_s": report.wall_s, "graded": report.graded,
            "failed": len(report.failed), "cpu_s": report.cpu_s,
            "overhead_mean_s": statistics.mean(overhead), "overhead_max_s": max(overhead),
            "task_minus_execute_mean_s": statistics.mean(t["task_s"] - t["execute_s"] for t in report.timings),
            "task_mean_s": statistics.mean(t["task_s"] for t in report.timings),
            "write_mean_ms": 1000 * statistics.mean(report.write_seconds),
            "write_max_ms": 1000 * max(report.write_seconds),
            "per_minute": report.graded / (report.wall_s / 60)}


@contextlib.contextmanager
def _environment(**values):
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name)
            else:
                os.environ[name] = value


@contextlib.contextmanager
def on_postgres():
    """COURSE_DB_URL if it is set (an empty database), else a throwaway server from the tests' launcher."""
    if os.environ.get(database.ENV_DB_URL):
        yield
        return
    from tests import servers  # the developer's checkout: the same launcher the postgres tests use

    with servers.postgres(durable=True) as server, _environment(**{database.ENV_DB_URL: server.create_database("bench")}):
        yield


@contextlib.contextmanager
def on_slurm():
    """The machine's Slurm when SLURM_CONF or COURSE_SLURM_PARTITION says there is one, else the tests' one."""
    if os.environ.get("SLURM_CONF") or os.environ.get("COURSE_SLURM_PARTITION"):
        with _environment(COURSE_CLUSTER="slurm"):
            yield
        return
    from tests import servers

    with servers.slurm() as cluster, _environment(
            COURSE_CLUSTER="slurm", SLURM_CONF=str(cluster.conf), COURSE_SLURM_PARTITION=cluster.partition,
            COURSE_SLURM_INTERFACE="lo", COURSE_SLURM_MEMORY="3GiB", COURSE_SLURM_JOBS=str(os.cpu_count() or 1)):
        yield


def _line(label: str, run: dict) -> str:
    return (f"{label}: {run['wall_s']:.1f} s grading (+ {run['cluster_start_s']:.1f} s to the first worker), "
            f"{run['workers']} workers, {run['per_minute']:.1f} submissions/min, {run['failed']} failed; "
            f"overhead per task {run['overhead_mean_s']:.3f} s mean, {run['overhead_max_s']:.3f} s max; "
            f"gradebook write {run['write_mean_ms']:.1f} ms mean, {run['write_max_ms']:.1f} ms max")


ROWS = {"serial": "(a) serial nbgrader autograde", "engine1": "(b) engine, 1 worker", "engine2": "(c) engine, 2 workers",
        "postgres": "(d) engine, 2 workers, PostgreSQL gradebook", "slurm": "(e) engine on Slurm jobs, SQLite gradebook"}


def project(figures: dict, assignments, cores_list=(2, 16, 64)) -> dict:
    """500 students' wall time from the measured per-task cost, the 2-worker efficiency and the write time."""
    one, two = figures["engine1"], figures.get("engine2")
    n = figures["submissions"]
    efficiency = min(1.0, one["wall_s"] / (2 * two["wall_s"])) if two else 1.0
    per_submission = one["wall_s"] / n  # one worker on one core
    tasks = 500 * len(assignments)
    projection = {}
    for store, write_ms in (("sqlite", one["write_mean_ms"]), ("postgres", figures.get("postgres", {}).get("write_mean_ms"))):
        if write_ms is None:
            continue
        projection[store] = {cores: max(tasks * per_submission / (cores * efficiency), tasks * write_ms / 1000)
                             for cores in cores_list}
    return {"efficiency": efficiency, "per_submission_s": per_submission, "seconds": projection}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=24)
    parser.add_argument("--assignment", action="append", help="limit to these assignments (default: all)")
    parser.add_argument("--only", help=f"comma-separated rows to run, of {','.join(ROWS)} (default: all)")
    parser.add_argument("--quick", action="store_true",
                        help="3 students (a solution, a blank, a mistake) on the engine rows only: minutes, not an hour")
    args = parser.parse_args(argv)
    assignments = args.assignment or list(ASSIGNMENTS)
    if args.quick:
        args.students, args.only = min(args.students, 3), args.only or "engine1,engine2"
    rows = args.only.split(",") if args.only else list(ROWS)
    unknown = set(rows) - set(ROWS)
    if unknown:
        parser.error(f"unknown rows {sorted(unknown)}; choose from {', '.join(ROWS)}")
    sandbox.require()
    os.environ["COURSE_FAST"] = "1"
    base = Path(tempfile.mkdtemp(prefix="course-bench-grading-"))
    figures = {"students": args.students, "assignments": assignments, "cores": os.cpu_count(), "rows": rows}
    try:
        for row in rows:
            context = on_postgres() if row == "postgres" else contextlib.nullcontext()
            with context:
                course = make_course(base / row, assignments)
                figures["submissions"] = n = make_class(course, assignments, args.students)
                if row == "serial":
                    print(f"{n} submissions ({args.students} students x {len(assignments)} assignments), "
                          f"{os.cpu_count()} cores", flush=True)
                    figures["serial_s"] = serial(course, assignments)
                    print(f"{ROWS[row]}: {figures['serial_s']:.1f} s, {n / (figures['serial_s'] / 60):.1f} "
                          "submissions/min", flush=True)
                    continue
                connect = on_slurm if row == "slurm" else None
                figures[row] = with_engine(course, assignments, 1 if row == "engine1" else 2, connect)
                print(_line(ROWS[row], figures[row]), flush=True)
                if row == "engine1":
                    print_breakdown(figures[row]["breakdown"])
        if "serial_s" in figures and "engine2" in figures:
            two = figures["engine2"]
            figures["speedup_c_over_a"] = figures["serial_s"] / (two["wall_s"] + two["cluster_start_s"])
            print(f"(c) vs (a): {figures['speedup_c_over_a']:.2f}x faster (cluster start included)")
        if "engine1" in figures:
            figures["projection_500"] = projection = project(figures, assignments)
            print(f"parallel efficiency on 2 workers {projection['efficiency']:.2f}; one submission "
                  f"{projection['per_submission_s']:.1f} s on one core")
            for store, seconds in projection["seconds"].items():
                print(f"projected wall time, 500 students x {len(assignments)} assignments, {store} gradebook: " +
                      ", ".join(f"{c} cores {s / 60:.0f} min" for c, s in seconds.items()))
        Path("bench-grading.json").write_text(json.dumps(figures, indent=2))
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
