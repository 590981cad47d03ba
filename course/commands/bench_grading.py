"""Benchmark of grading a class: serial `nbgrader autograde` against the Dask engine with 1 and 2 workers.

`make bench-grading` (or `python -m course.commands.bench_grading [--students N] [--assignment A ...]`)
generates a class in a temporary copy of the course (solutions, blank
releases and every catalogued mistake, in turn), grades it three times in
fast mode, each time from scratch, and prints: wall times, per-task overhead
(task wall time minus the time nbgrader spends grading the notebook), gradebook
write time per result, submissions per minute, and projections for 500
students. Figures go to stdout and to `bench-grading.json`; nothing is asserted.
"""
import argparse
import json
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from ..grading import demo, engine, pipeline, sandbox, worker
from ..grading.submissions import fill, solution_answers
from ..paths import ASSIGNMENTS, PROJECT_ROOT


def make_course(destination: Path, assignments) -> Path:
    destination.mkdir(parents=True)
    shutil.copy2(PROJECT_ROOT / "nbgrader_config.py", destination / "nbgrader_config.py")
    for name in assignments:
        shutil.copytree(PROJECT_ROOT / "source" / name, destination / "source" / name,
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    pipeline.release(destination, assignments)
    return destination


def make_class(course: Path, assignments, students: int) -> int:
    """Student k hands in the solutions, the blank release, or catalogued mistake number k, in turn."""
    count = 0
    for assignment in assignments:
        release = course / "release" / assignment / f"{assignment}.ipynb"
        solutions = solution_answers(course / "source" / assignment / f"{assignment}.ipynb")
        wrong = demo.catalogue(assignment, course).get("WRONG", [])
        for k in range(students):
            kinds = [solutions, {}] + [dict(solutions, **{m["cell"]: m["code"]}) for m in wrong]
            fill(release, kinds[k % len(kinds)], course / "submitted" / f"s{k:03d}" / assignment / f"{assignment}.ipynb")
            count += 1
    return count


def serial(course: Path, assignments) -> float:
    start = time.perf_counter()
    for assignment in assignments:
        pipeline.nbgrader(course, "autograde", assignment, "--force", check=False)
    return time.perf_counter() - start


def with_engine(course: Path, assignments, workers: int) -> dict:
    start = time.perf_counter()
    client = engine.client(workers)
    client.wait_for_workers(workers)
    client.run(worker.warm_up)
    started = time.perf_counter() - start
    report = engine.grade(course, assignments, force=True, dask_client=client)
    engine.close_clients()
    overhead = [t["task_s"] - t["nbgrader_s"] for t in report.timings]
    return {"workers": workers, "cluster_start_s": started, "wall_s": report.wall_s, "graded": report.graded,
            "failed": len(report.failed), "cpu_s": report.cpu_s,
            "overhead_mean_s": statistics.mean(overhead), "overhead_max_s": max(overhead),
            "task_minus_execute_mean_s": statistics.mean(t["task_s"] - t["execute_s"] for t in report.timings),
            "task_mean_s": statistics.mean(t["task_s"] for t in report.timings),
            "write_mean_ms": 1000 * statistics.mean(report.write_seconds),
            "write_max_ms": 1000 * max(report.write_seconds),
            "per_minute": report.graded / (report.wall_s / 60)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=24)
    parser.add_argument("--assignment", action="append", help="limit to these assignments (default: all six)")
    args = parser.parse_args(argv)
    assignments = args.assignment or list(ASSIGNMENTS)
    sandbox.require()
    os.environ["COURSE_FAST"] = "1"
    base = Path(tempfile.mkdtemp(prefix="course-bench-grading-"))
    figures = {"students": args.students, "assignments": assignments, "cores": os.cpu_count()}
    try:
        courses = {}
        for name in ("serial", "engine1", "engine2"):
            courses[name] = make_course(base / name, assignments)
            figures["submissions"] = make_class(courses[name], assignments, args.students)
        n = figures["submissions"]
        print(f"{n} submissions ({args.students} students x {len(assignments)} assignments), {os.cpu_count()} cores")
        figures["serial_s"] = serial(courses["serial"], assignments)
        print(f"(a) serial nbgrader autograde: {figures['serial_s']:.1f} s, "
              f"{n / (figures['serial_s'] / 60):.1f} submissions/min", flush=True)
        for label, workers in (("b", 1), ("c", 2)):
            run = with_engine(courses[f"engine{workers}"], assignments, workers)
            figures[f"engine{workers}"] = run
            print(f"({label}) engine, {workers} worker(s): {run['wall_s']:.1f} s grading (+ {run['cluster_start_s']:.1f} s "
                  f"cluster start), {run['per_minute']:.1f} submissions/min, {run['failed']} failed; "
                  f"overhead per task {run['overhead_mean_s']:.3f} s mean, {run['overhead_max_s']:.3f} s max; "
                  f"gradebook write {run['write_mean_ms']:.1f} ms mean, {run['write_max_ms']:.1f} ms max", flush=True)
        one, two = figures["engine1"], figures["engine2"]
        figures["speedup_c_over_a"] = figures["serial_s"] / (two["wall_s"] + two["cluster_start_s"])
        efficiency = min(1.0, one["wall_s"] / (2 * two["wall_s"]))
        per_submission = one["wall_s"] / n  # one worker on one core
        projection = {}
        for cores in (2, 16, 64):
            compute = 500 * len(assignments) * per_submission / (cores * efficiency)
            writes = 500 * len(assignments) * one["write_mean_ms"] / 1000
            projection[cores] = max(compute, writes) + two["cluster_start_s"]
        figures["projection_500_s"] = projection
        print(f"(c) vs (a): {figures['speedup_c_over_a']:.2f}x faster (cluster start included); "
              f"parallel efficiency on 2 workers {efficiency:.2f}")
        print("projected wall time, 500 students x {} assignments: {}".format(
            len(assignments), ", ".join(f"{c} cores {s / 3600:.2f} h" for c, s in projection.items())))
        Path("bench-grading.json").write_text(json.dumps(figures, indent=2))
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
