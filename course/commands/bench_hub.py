"""`make bench-hub`: what one student costs the hub machine, measured as the hub limits it (run as root).

Starts a student's JupyterLab server as the hub would (the course's venv, its own cgroup below this
process's, course.commands.hub.limits, without limits), waits until it answers, then runs 06's solution
notebook (source/06_*) in full mode in a kernel of that group, and prints: the idle server's memory,
the group's peak memory (server + kernel), the CPU seconds spent and the average cores used over the
run's wall time. Asserts nothing; it shares the machine with whatever else runs (say so with its figures).

`python -m course.commands.bench_hub [--assignment 06] [--fast]`
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from ..paths import PROJECT_ROOT
from .hub.limits import Cgroups, join


def _read(path: Path) -> int:
    return int(path.read_text().split()[0])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", default="06")
    parser.add_argument("--fast", action="store_true", help="the notebook in fast mode (COURSE_FAST=1)")
    args = parser.parse_args(argv)
    notebook = next(PROJECT_ROOT.glob(f"source/{args.assignment}*/*.ipynb"))
    cgroups = Cgroups.find(f"cnn-course-bench-{os.getpid()}")
    if cgroups.unified:
        print("this benchmark reads cgroup v1's memory and cpuacct figures; this machine has cgroup v2", file=sys.stderr)
        return 1
    joins = cgroups.user("student", None, None)
    accounting = Path(str(cgroups.cpu).replace("/cpu/", "/cpuacct/", 1)) / "student"
    accounting.mkdir(parents=True, exist_ok=True)
    joins.append(accounting / "cgroup.procs")
    memory = cgroups.memory / "student"
    env = dict(os.environ, COURSE_FAST="1" if args.fast else "0", JUPYTER_TOKEN="bench")
    port = 18000 + os.getpid() % 1000
    work = Path(tempfile.mkdtemp(prefix="bench-hub-"))
    server = subprocess.Popen([Path(sys.executable).with_name("jupyter-lab"), "--no-browser", "--allow-root", f"--port={port}",
                               f"--ServerApp.root_dir={work}"], env=env, preexec_fn=lambda: join(joins),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(240):
            if server.poll() is not None:
                raise SystemExit(f"the JupyterLab server exited with code {server.returncode}")
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token=bench", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        time.sleep(5)
        idle = _read(memory / "memory.usage_in_bytes")
        print(f"idle JupyterLab server: {idle / 2**20:.0f} MiB", flush=True)
        cpu_before, start = _read(accounting / "cpuacct.usage"), time.monotonic()
        print(f"running {notebook.relative_to(PROJECT_ROOT)} ({'fast' if args.fast else 'full'} mode) in the group ...",
              flush=True)
        subprocess.run([Path(sys.executable).with_name("jupyter"), "nbconvert", "--to", "notebook", "--execute",
                        "--ExecutePreprocessor.timeout=3600", f"--output-dir={work}", str(notebook)],
                       env=env, cwd=notebook.parent, preexec_fn=lambda: join(joins), check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wall, cpu = time.monotonic() - start, (_read(accounting / "cpuacct.usage") - cpu_before) / 1e9
        peak = _read(memory / "memory.max_usage_in_bytes")
        print(f"peak memory (server + kernel): {peak / 2**20:.0f} MiB; CPU {cpu:.0f} s over {wall:.0f} s wall "
              f"= {cpu / wall:.2f} cores on average ({os.cpu_count()} cores here)")
    finally:
        server.terminate()
        server.wait()
        time.sleep(1)
        cgroups.release("student")
        for folder in (accounting, cgroups.memory, cgroups.cpu, accounting.parent):
            try:
                folder.rmdir()
            except OSError:
                pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
