"""Per-user CPU and memory limits for the hub's servers, with Linux cgroups (run as root).

JupyterHub's LocalProcessSpawner ignores `mem_limit` and `cpu_limit`, so the course's spawner
(course.commands.hub.spawner) puts each user's server into a cgroup of its own before it drops to the
user: the server, its kernels and its terminals then share one memory ceiling (the kernel's OOM killer
stops the biggest process inside the group when it is reached, the notebook's kernel, and nothing
outside) and one CPU quota (the scheduler throttles the group). The groups live below the hub's own
cgroup, so they never escape what the machine gives the hub. cgroup v1 (memory and cpu hierarchies)
and v2 (the unified hierarchy, whose controllers must be delegated to the hub's group) both work.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

CGROUPS = Path("/sys/fs/cgroup")
PERIOD_US = 100_000


class LimitError(RuntimeError):
    """The limits cannot be applied here; the message says what to do."""


def parse_size(text: str) -> int:
    """`2G`, `1536M`, `4096` (bytes) -> bytes."""
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?)i?B?\s*", str(text), re.IGNORECASE)
    if not found:
        raise LimitError(f"{text!r} is not a memory size: write it like 2G or 1536M")
    return int(float(found.group(1)) * 1024 ** " KMGT".index(found.group(2).upper() or " "))


def _own_groups(proc_cgroup: str) -> dict:
    """controller -> this process's cgroup path, from /proc/self/cgroup (v2's line has the key '')."""
    groups = {}
    for line in proc_cgroup.splitlines():
        _, controllers, path = line.split(":", 2)
        for controller in controllers.split(",") if controllers else [""]:
            groups[controller] = path.lstrip("/")
    return groups


@dataclass(frozen=True)
class Cgroups:
    """Where one hub's per-user groups go: `name` below the hub's own group, in each hierarchy it writes."""
    memory: Path
    cpu: Path
    unified: bool

    @classmethod
    def find(cls, name: str, root: Path = CGROUPS, proc_cgroup: str | None = None) -> Cgroups:
        own = _own_groups(proc_cgroup if proc_cgroup is not None else Path("/proc/self/cgroup").read_text())
        if (root / "cgroup.controllers").is_file():
            base = root / own.get("", "") / name
            return cls(base, base, True)
        if (root / "memory").is_dir() and (root / "cpu").is_dir():
            return cls(root / "memory" / own.get("memory", "") / name, root / "cpu" / own.get("cpu", "") / name,
                       False)
        raise LimitError(f"no cgroup hierarchy for memory and cpu under {root}: start the hub with "
                         "HUB_MEMORY=off HUB_CPUS=off (no limits), or on a machine with cgroups")

    def _write(self, path: Path, value) -> None:
        try:
            path.write_text(str(value))
        except OSError as error:
            raise LimitError(f"cannot write {value} to {path} ({error.strerror}): the hub must run as root with a "
                             "writable cgroup tree; or start it with HUB_MEMORY=off HUB_CPUS=off") from None

    def prepare(self) -> None:
        """The hub's own group in each hierarchy; on v2 its controllers are handed down to the users' groups."""
        for folder in {self.memory, self.cpu}:
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise LimitError(f"cannot make {folder} ({error.strerror}): the hub needs root and a writable "
                                 "cgroup tree; or start it with HUB_MEMORY=off HUB_CPUS=off") from None
        if self.unified:
            self._write(self.memory / "cgroup.subtree_control", "+memory +cpu")

    def user(self, name: str, memory: int | None, cpus: float | None) -> list[Path]:
        """Make (or reuse) `name`'s group with its limits; returns the files a process joins it by."""
        self.prepare()
        joins = []
        for folder in sorted({self.memory / name, self.cpu / name}):
            folder.mkdir(exist_ok=True)
            joins.append(folder / "cgroup.procs")
        if self.unified:
            group = self.memory / name
            self._write(group / "memory.max", memory or "max")
            if (group / "memory.swap.max").exists():
                self._write(group / "memory.swap.max", 0 if memory else "max")
            self._write(group / "cpu.max", f"{int(cpus * PERIOD_US)} {PERIOD_US}" if cpus else f"max {PERIOD_US}")
        else:
            memory_group, cpu_group = self.memory / name, self.cpu / name
            self._write(memory_group / "memory.limit_in_bytes", memory or -1)
            if memory and (memory_group / "memory.memsw.limit_in_bytes").exists():
                self._write(memory_group / "memory.memsw.limit_in_bytes", memory)
            self._write(cpu_group / "cpu.cfs_period_us", PERIOD_US)
            self._write(cpu_group / "cpu.cfs_quota_us", int(cpus * PERIOD_US) if cpus else -1)
        return joins

    def release(self, name: str) -> None:
        """Remove `name`'s group once its processes are gone (an rmdir fails while any remain)."""
        for folder in {self.memory / name, self.cpu / name}:
            try:
                folder.rmdir()
            except OSError:
                pass


    def remove(self) -> None:
        """Remove this hub's groups, once every server is stopped (the test hubs' clean-up)."""
        for folder in {self.memory, self.cpu}:
            for child in folder.glob("*/"):
                if child.is_dir():
                    self.release(child.name)
            try:
                folder.rmdir()
            except OSError:
                pass


def join(files) -> None:
    """Move the calling process into the groups (the spawner calls this in the child, before it drops root)."""
    for path in files:
        with open(path, "w") as handle:
            handle.write(str(os.getpid()))
