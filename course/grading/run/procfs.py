"""What /proc says about a sandbox's processes: who is in its PID namespace, and the CPU they used."""
from __future__ import annotations

import os
from pathlib import Path


def status_field(pid: int, field: str) -> list[str]:
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return line.split()[1:]
    return []


def namespace_members(parent_pid: int) -> list[int]:
    """The pids (as seen from here) of every process in the PID namespace whose init `parent_pid` started."""
    try:
        children = [int(p) for p in Path(f"/proc/{parent_pid}/task/{parent_pid}/children").read_text().split()]
        namespace = os.readlink(f"/proc/{children[0]}/ns/pid")
    except (OSError, IndexError, ValueError):
        return []
    members = []
    for entry in os.scandir("/proc"):
        try:
            if entry.name.isdigit() and os.readlink(f"/proc/{entry.name}/ns/pid") == namespace:
                members.append(int(entry.name))
        except OSError:
            continue
    return members


def inner_pid(pid: int) -> int | None:
    """The pid of `pid` inside its innermost PID namespace (1: the init, 2: the sandboxed command)."""
    try:
        inner = status_field(pid, "NSpid")
        return int(inner[-1]) if inner else None
    except (OSError, ValueError):
        return None


def cpu_seconds(parent_pid: int) -> float:
    """CPU seconds used so far in `parent_pid`'s sandbox: every live process, and what each has reaped.

    A kernel that is killed at shutdown is never reaped by the grader, so its time never shows in the
    grader's own rusage; this reads it from /proc while the sandbox still stands.
    """
    ticks, total = os.sysconf("SC_CLK_TCK"), 0
    for pid in namespace_members(parent_pid):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        total += sum(int(v) for v in fields[11:15])  # utime, stime, cutime, cstime
    return total / ticks
