"""Real servers for the tests, started from Debian's packages in a temporary folder and stopped afterwards.

`postgres()` is a PostgreSQL 15 listening on 127.0.0.1 only; `slurm()` is a
single-node Slurm (munged, slurmctld, slurmd) on this host, with plugins that
need no cgroups. Both raise `Unavailable`, with the reason and the fix, where
they cannot start (packages missing, not root for Slurm); the fixtures in
tests/conftest.py turn that into a skip, and a skip into a failure in CI.
"""
from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


class Unavailable(Exception):
    """The server cannot start on this machine; the message says why and what to install."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait(ready, what: str, log: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if ready():
            return
        time.sleep(0.2)
    tail = log.read_text(errors="replace")[-3000:] if log.exists() else "(no log)"
    raise RuntimeError(f"{what} did not come up within {seconds:.0f} s; its log ends:\n{tail}")


@dataclass
class Postgres:
    port: int
    folder: Path
    user: str = "course"

    def url(self, database: str) -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """A new, empty database on the server; its SQLAlchemy URL."""
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=self.port, user=self.user, dbname="postgres",
                             autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


def _postgres_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not found:
        raise Unavailable("PostgreSQL is not installed: `apt-get install postgresql` (or run `make system-test`)")
    return found[-1].parent


def _as_owner(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: as root, run it as Debian's `postgres` user."""
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


@contextlib.contextmanager
def postgres(durable: bool = False):
    """A throwaway PostgreSQL on 127.0.0.1 that trusts local connections; removed when the block ends.

    Tests run it without fsync (nothing there must survive a power cut); `durable` keeps PostgreSQL's
    default, for the benchmark's write times."""
    binaries = _postgres_bin()
    folder = Path(tempfile.mkdtemp(prefix="course-postgres-"))
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError as error:
            raise Unavailable("the `postgres` user is missing: reinstall Debian's postgresql package") from error
        os.chown(folder, owner.pw_uid, owner.pw_gid)
    server = Postgres(free_port(), folder)
    data, log = folder / "data", folder / "server.log"
    started = False
    try:
        subprocess.run(_as_owner([str(binaries / "initdb"), "-D", str(data), "-U", server.user, "--auth=trust",
                                  "--encoding=UTF8", "--no-sync"]), check=True, capture_output=True)
        options = f"-c listen_addresses=127.0.0.1 -p {server.port} -k {folder}" + ("" if durable else " -c fsync=off")
        subprocess.run(_as_owner([str(binaries / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options,
                                  "-w", "start"]), check=True, capture_output=True)
        started = True
        yield server
    finally:
        if started:
            subprocess.run(_as_owner([str(binaries / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]),
                           capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


@dataclass
class Slurm:
    folder: Path
    conf: Path
    partition: str
    env: dict


SLURM_CONF = """\
ClusterName=course-test
SlurmctldHost={host}(127.0.0.1)
SlurmctldPort={ctld_port}
SlurmdPort={slurmd_port}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={folder}/munge.socket
StateSaveLocation={folder}/state
SlurmdSpoolDir={folder}/spool
SlurmctldPidFile={folder}/slurmctld.pid
SlurmdPidFile={folder}/slurmd.pid
SlurmctldLogFile={folder}/slurmctld.log
SlurmdLogFile={folder}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
SwitchType=switch/none
ReturnToService=2
SchedulerType=sched/backfill
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
KillWait=5
MinJobAge=10
NodeName={host} NodeAddr=127.0.0.1 CPUs={cpus} RealMemory={memory} State=UNKNOWN
PartitionName={partition} Nodes={host} Default=YES MaxTime=INFINITE State=UP
"""


def _memory_mb() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) // 1024 - 512
    return 1024


@contextlib.contextmanager
def slurm(partition: str = "course"):
    """munged, slurmctld and slurmd for this host, as root, with state and logs in a temporary folder."""
    missing = [name for name in ("munged", "slurmctld", "slurmd", "sbatch") if not shutil.which(name)]
    if missing:
        raise Unavailable(f"{', '.join(missing)} not found: `apt-get install slurm-wlm munge` "
                          "(or run `make system-test`)")
    if os.geteuid() != 0:
        raise Unavailable("a test Slurm runs slurmd as root; run the slurm tests as root, as CI does")
    folder = Path(tempfile.mkdtemp(prefix="course-slurm-"))
    host = socket.gethostname().split(".")[0]
    for sub in ("state", "spool"):
        (folder / sub).mkdir()
    key = folder / "munge.key"
    key.write_bytes(os.urandom(1024))
    key.chmod(0o400)
    conf = folder / "slurm.conf"
    conf.write_text(SLURM_CONF.format(host=host, folder=folder, ctld_port=free_port(), slurmd_port=free_port(),
                                      cpus=os.cpu_count() or 1, memory=_memory_mb(), partition=partition))
    env = dict(os.environ, SLURM_CONF=str(conf))
    processes = []
    try:
        subprocess.run(["munged", "--force", f"--key-file={key}", f"--socket={folder}/munge.socket",
                        f"--pid-file={folder}/munged.pid", f"--log-file={folder}/munged.log",
                        f"--seed-file={folder}/munged.seed"], check=True, capture_output=True, env=env)
        for daemon in ("slurmctld", "slurmd"):
            out = open(folder / f"{daemon}.out", "w")
            processes.append(subprocess.Popen([daemon, "-D", "-f", str(conf)], stdout=out, stderr=subprocess.STDOUT,
                                              env=env, start_new_session=True))
        _wait(lambda: _node_idle(env), "the test Slurm's node", folder / "slurmd.log")
        yield Slurm(folder, conf, partition, env)
    finally:
        if processes:
            subprocess.run(["scancel", "--full", f"--partition={partition}"], env=env, capture_output=True)
        for process in reversed(processes):
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        subprocess.run(["munged", "--stop", f"--socket={folder}/munge.socket"], capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


def _node_idle(env: dict) -> bool:
    shown = subprocess.run(["sinfo", "-h", "-o", "%T"], env=env, capture_output=True, text=True)
    return shown.returncode == 0 and shown.stdout.strip().startswith("idle")
