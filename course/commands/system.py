"""`make system`: the Debian packages a job needs, installed when it may, else the one command to run.

It runs before the venv exists, with the machine's own python3, so it uses
the standard library only. `python3 -m course.commands.system JOB` where JOB
is `grade` (what `make all` and `make hub` need) or `test` (what `make test` needs too).
As root, or with passwordless sudo, it installs what is missing with apt-get;
otherwise it stops at once and prints the single command that installs it.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

FASHION_FILE = Path("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz")


def _sandbox_off() -> bool:
    return os.environ.get("COURSE_SANDBOX", "").strip().lower() in {"0", "off", "no", "false"}


def _venv_works() -> bool:
    """Debian's python3 lacks `ensurepip` (and so `-m venv`) until python3-venv is installed."""
    found = subprocess.run([sys.executable, "-c", "import ensurepip, venv"], capture_output=True)
    return found.returncode == 0


@dataclass(frozen=True)
class Need:
    package: str
    why: str
    present: Callable[[], bool]


def _fashion_present() -> bool:
    from_data = Path(os.environ.get("COURSE_DATA") or Path(__file__).resolve().parents[2] / "data")
    return FASHION_FILE.is_file() or (from_data / "FashionMNIST" / "raw" / "train-images-idx3-ubyte").is_file()


GRADE = (
    Need(f"python{sys.version_info.major}.{sys.version_info.minor}-venv", "the course's virtual environment",
         _venv_works),
    Need("dataset-fashion-mnist", "Fashion-MNIST for 05 and 06, offline", _fashion_present),
    Need("bubblewrap", "the sandbox that grades student code", lambda: _sandbox_off() or bool(shutil.which("bwrap"))),
    Need("npm", "configurable-http-proxy, JupyterHub's proxy, for make hub", lambda: bool(shutil.which("npm"))),
)
TEST = GRADE + (
    Need("chromium", "the browser tests", lambda: Path("/usr/bin/chromium").exists()),
    Need("chromium-driver", "the browser tests", lambda: Path("/usr/bin/chromedriver").exists()),
    Need("postgresql", "the tests of a shared PostgreSQL gradebook",
         lambda: any(Path("/usr/lib/postgresql").glob("*/bin/initdb"))),
    Need("slurm-wlm", "the tests of grading on a Slurm cluster", lambda: bool(shutil.which("slurmctld"))),
    Need("munge", "Slurm's authentication, for the Slurm tests", lambda: bool(shutil.which("munged"))),
)
JOBS = {"grade": GRADE, "test": TEST}


def missing(job: str) -> list[Need]:
    return [need for need in JOBS[job] if not need.present()]


def privilege() -> list[str] | None:
    """The prefix that makes apt-get work here ([] as root, ["sudo"] with passwordless sudo), else None."""
    if os.geteuid() == 0:
        return []
    if shutil.which("sudo") and subprocess.run(["sudo", "-n", "true"], capture_output=True).returncode == 0:
        return ["sudo", "-n"]
    return None


def install_command(packages: list[str], prefix: list[str]) -> list[str]:
    return [*prefix, "apt-get", "install", "-y", "-q", *packages]


def main(argv=None) -> int:
    job = (sys.argv[1:] if argv is None else argv or ["grade"])[0]
    if job not in JOBS:
        print(f"usage: python3 -m course.commands.system {{{'|'.join(JOBS)}}}", file=sys.stderr)
        return 2
    needs = missing(job)
    if not needs:
        return 0
    packages = [need.package for need in needs]
    for need in needs:
        print(f"missing Debian package {need.package} ({need.why})", file=sys.stderr)
    prefix = privilege()
    if prefix is None:
        print("This needs root to install. Run this once, then the same make command again:\n"
              f"    sudo apt-get install -y {' '.join(packages)}", file=sys.stderr)
        return 1
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    print(f"installing {' '.join(packages)} with apt-get", flush=True)
    for step in ([*prefix, "apt-get", "update", "-q"], install_command(packages, prefix)):
        if subprocess.run(step, env=env).returncode != 0:
            print(f"`{' '.join(step)}` failed; install {' '.join(packages)} by hand, then run make again",
                  file=sys.stderr)
            return 1
    still = [need.package for need in missing(job)]
    if still:
        print(f"apt-get finished but {' '.join(still)} still looks missing", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
