"""Student code runs inside a bubblewrap sandbox while nbgrader grades it.

Plain nbgrader starts each submission's kernel with the instructor's rights:
the student's code could read `source/` (solutions, hidden tests), rewrite
`gradebook.db` or other students' folders, or reach the network. Here the
kernel (and every out-of-process check, see `course.grading.verdicts.trusted`) is started
under `bwrap` instead:

* only the system, the Python installation, the venv, `course/` and the data
  are visible, all read-only; the project, the home folder and `/tmp` are not;
* the notebook's own folder is the one writable place (the notebook file in it
  is masked, since at grading time it holds the hidden tests);
* no network, own PID namespace (everything dies with the kernel);
* limits on memory, processes and file size; when the grader runs as root the
  kernel drops to an unprivileged uid, because root ignores the process limit.

The kernel talks to nbgrader over ZeroMQ `ipc` sockets in a private folder
bound into the sandbox (TCP would sit in the sandbox's empty network).
Without a working `bwrap` grading refuses to start (`require`), naming the fix;
`COURSE_SANDBOX=off` is the one way to grade unsandboxed, with a loud warning.
"""
from __future__ import annotations

import json
import logging
import os
import resource
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from queue import Empty

from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.manager import AsyncKernelManager
from traitlets import DottedObjectName, Type

from ...paths import data_root
from . import nursery, procfs, stopwatch

log = logging.getLogger(__name__)

UNSANDBOXED_WARNING = (
    "COURSE_SANDBOX=off: student code is graded UNSANDBOXED, with your permissions (it can read "
    "source/ and write gradebook.db). Never grade real submissions like this.")
OFF_HINT = ("To grade without the sandbox anyway (your own test notebooks only, never real submissions): "
            "COURSE_SANDBOX=off make autograde")


class SandboxUnavailable(RuntimeError):
    """The sandbox cannot be created on this machine; the message names the fix."""


# Environment variables that tune the sandbox (all optional).
ENV_SWITCH = "COURSE_SANDBOX"            # "off" grades unsandboxed (debugging only)
ENV_CELL_TIMEOUT = "COURSE_CELL_TIMEOUT"  # seconds per cell
ENV_MEMORY = "COURSE_SANDBOX_MEMORY_MB"
ENV_PROCESSES = "COURSE_SANDBOX_PROCESSES"
ENV_FILE_SIZE = "COURSE_SANDBOX_FILE_MB"
ENV_UID = "COURSE_SANDBOX_UID"

SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/sys")

# Variables the kernel may inherit; everything else (tokens, the instructor's paths) stays outside.
KEEP_VARS = {"PATH", "LANG", "LANGUAGE", "TZ", "VIRTUAL_ENV", "PYTHONHASHSEED", "PYTHONUNBUFFERED",
             "PYTHONIOENCODING", "PYTHONWARNINGS", "MPLBACKEND", "JPY_SESSION_NAME"}
KEEP_PREFIXES = ("LC_", "NBGRADER_", "COURSE_", "OMP_", "MKL_", "OPENBLAS_", "TORCH_", "CUDA_")
THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS",
               "VECLIB_MAXIMUM_THREADS", "TORCH_NUM_THREADS")

# Runs inside the sandbox as its first process: apply the limits, drop root, start the real command.
# SIGINT is ignored by bwrap itself (so an interrupt cannot kill the sandbox) and restored here.
LAUNCHER = """
import json, os, resource, signal, sys
spec = json.loads(sys.argv[1])
for name, value in spec["rlimits"].items():
    resource.setrlimit(getattr(resource, name), (value, value))
if spec["uid"] is not None:
    os.setgroups([])
    os.setgid(spec["uid"])
    os.setuid(spec["uid"])
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.environ.pop("JPY_PARENT_PID", None)
os.execv(sys.argv[2], sys.argv[2:])
"""


def sandbox_off() -> bool:
    return os.environ.get(ENV_SWITCH, "").strip().lower() in {"0", "off", "no", "false"}


def bwrap_path() -> str | None:
    """The `bwrap` executable, or None when it is missing or switched off with COURSE_SANDBOX=off."""
    return None if sandbox_off() else shutil.which("bwrap")


_checked: dict = {}


def problem() -> str | None:
    """Why no sandbox can be made here, with the fix; None when one can (or COURSE_SANDBOX=off).

    The check starts a real sandbox, with the same mounts, namespaces and uid
    drop as a student's kernel, since a `bwrap` that exists can still fail
    (a container without unprivileged user namespaces, say).
    """
    if sandbox_off():
        return None
    path = bwrap_path()
    if path is None:
        return ("bubblewrap (`bwrap`) is not installed, so student code cannot be sandboxed. "
                "Fix: `sudo apt-get install bubblewrap` (`make system` does it when it may).")
    if path not in _checked:
        scratch = Path(tempfile.mkdtemp(prefix="course-sandbox-check-"))
        try:
            finished = run([sys.executable, "-c", "pass"], scratch, 60, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        said = (finished.stderr or b"").decode(errors="replace").strip()[-500:]
        _checked[path] = None if finished.returncode == 0 else (
            f"bubblewrap is installed but could not create a sandbox here ({said or finished.returncode}). "
            "Inside Docker or Kubernetes this usually means unprivileged user namespaces are off: "
            "see docs/grading-untrusted-code.md for what to set.")
    return _checked[path]


def require() -> None:
    """Refuse to grade without a working sandbox, unless COURSE_SANDBOX=off says so."""
    reason = problem()
    if reason:
        raise SandboxUnavailable(f"{reason}\n{OFF_HINT}")


_warned = False


def warn_unsandboxed(logger: logging.Logger | None = None) -> None:
    """Say once per grading run that student code is not isolated."""
    global _warned
    if not _warned:
        (logger or log).warning(UNSANDBOXED_WARNING)
        _warned = True


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def cell_timeout(default: int = 120) -> int:
    """Seconds a cell may run while grading (COURSE_CELL_TIMEOUT overrides, e.g. in tests)."""
    return _env_int(ENV_CELL_TIMEOUT, default)


@dataclass(frozen=True)
class Limits:
    """Per-process resource limits inside the sandbox.

    Memory is capped as data (what a process allocates and writes: arrays,
    lists), which is close to real use; the address space gets a looser cap
    too, because torch alone reserves ~4 GiB of it and shared mappings escape
    the data limit. /tmp and /dev/shm live in RAM, so they get a size.
    """

    memory_mb: int = 4096      # RLIMIT_DATA
    processes: int = 256       # tasks (threads count) of the sandbox's user
    file_mb: int = 512         # largest file the student's code may write
    tmp_mb: int = 512          # size of the private /tmp and /dev/shm

    @classmethod
    def from_env(cls) -> Limits:
        return cls(memory_mb=_env_int(ENV_MEMORY, cls.memory_mb),
                   processes=_env_int(ENV_PROCESSES, cls.processes),
                   file_mb=_env_int(ENV_FILE_SIZE, cls.file_mb))

    @property
    def address_space_mb(self) -> int:
        return max(16384, 4 * self.memory_mb)

    def rlimits(self) -> dict:
        mib = 1024 * 1024
        return {"RLIMIT_DATA": self.memory_mb * mib, "RLIMIT_AS": self.address_space_mb * mib,
                "RLIMIT_NPROC": self.processes, "RLIMIT_FSIZE": self.file_mb * mib, "RLIMIT_CORE": 0}


def sandbox_uid() -> int | None:
    """The uid sandboxed code runs as when the grader is root (None: keep the grader's uid).

    Root is exempt from RLIMIT_NPROC, so a fork bomb needs a real unprivileged
    uid to hit its limit. Each grading process gets its own uid so that two
    gradings running at once do not share one process budget.
    """
    if os.geteuid() != 0:
        return None
    return _env_int(ENV_UID, 200_000 + os.getpid() % 100_000)


def readonly_paths() -> list[Path]:
    """What student code may read: system, Python, venv, the `course` package, the data."""
    import course

    paths = [Path(p) for p in SYSTEM_DIRS if os.path.exists(p)]
    for prefix in {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}:
        paths.append(Path(os.path.realpath(prefix)))
        paths.append(Path(prefix))
    paths.append(Path(os.path.realpath(sys.executable)).parent)
    paths.append(Path(course.__file__).resolve().parent)
    if data_root().exists():
        paths.append(data_root())
    unique = []
    for path in sorted(set(paths), key=lambda p: len(p.parts)):
        if path.is_symlink() or not path.exists():
            continue
        if not any(path == kept or kept in path.parents for kept in unique):
            unique.append(path)
    return unique


def _symlinked_system_dirs() -> list[tuple[str, str]]:
    """Merged-/usr systems have /bin -> usr/bin etc.; recreate those links inside."""
    return [(os.readlink(p), p) for p in SYSTEM_DIRS if os.path.islink(p)]


def command(argv: list[str], workdir: Path, *, writable=(), masked=(), limits: Limits | None = None,
            uid: int | None = None, caps=(), launch: bool = True) -> list[str]:
    """The bwrap command line that runs `argv` in `workdir`, isolated as described above.

    `caps` are kept inside, and `launch=False` runs `argv` as it is, without the limits and the uid drop:
    both only for the nursery (`nursery.py`), which applies them to each child it forks."""
    limits = limits or Limits.from_env()
    workdir = Path(workdir).resolve()
    writable = [workdir] + [Path(p).resolve() for p in writable]
    args = [bwrap_path() or "bwrap", "--die-with-parent", "--unshare-pid", "--unshare-net",
            "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try", "--hostname", "sandbox"]
    for target, link in _symlinked_system_dirs():
        args += ["--symlink", target, link]
    tmp_bytes = str(limits.tmp_mb * 1024 * 1024)
    args += ["--proc", "/proc", "--dev", "/dev",
             "--perms", "1777", "--size", tmp_bytes, "--tmpfs", "/tmp",
             "--perms", "1777", "--size", tmp_bytes, "--tmpfs", "/dev/shm"]
    created = {Path("/"), Path("/tmp"), Path("/dev"), Path("/proc")}
    readonly = readonly_paths()

    def mount_point(path: Path) -> list[str]:
        # bwrap copies the mode of the host's parents (e.g. 0700 for /root): make them traversable.
        extra = []
        for parent in reversed(path.parents):
            inside_bound = any(parent == r or r in parent.parents for r in readonly)
            if parent in created or inside_bound:
                continue
            extra += ["--perms", "0755", "--dir", str(parent)]
            created.add(parent)
        return extra

    for path in readonly:
        args += mount_point(path) + ["--ro-bind", str(path), str(path)]
    for path in writable:
        args += mount_point(path) + ["--bind", str(path), str(path)]
    for path in masked:
        args += ["--ro-bind", "/dev/null", str(Path(path).resolve())]
    for cap in sorted(({"CAP_SETUID", "CAP_SETGID"} if uid is not None else set()) | set(caps)):
        args += ["--cap-add", cap]
    args += ["--chdir", str(workdir), "--"]
    if not launch:
        return args + argv
    spec = json.dumps({"rlimits": limits.rlimits(), "uid": uid})
    return args + [sys.executable, "-I", "-S", "-c", LAUNCHER, spec, *argv]


def sandbox_env(env: dict | None = None) -> dict:
    """The environment student code sees: a short allow-list plus a private HOME in /tmp."""
    env = dict(os.environ if env is None else env)
    kept = {k: v for k, v in env.items() if k in KEEP_VARS or k.startswith(KEEP_PREFIXES)}
    kept.setdefault("PATH", os.defpath)
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in kept["PATH"].split(os.pathsep):
        kept["PATH"] = os.pathsep.join([bin_dir, kept["PATH"]])
    kept.update({"HOME": "/tmp", "TMPDIR": "/tmp", "MPLCONFIGDIR": "/tmp/.matplotlib",
                 "XDG_CACHE_HOME": "/tmp/.cache", "IPYTHONDIR": "/tmp/.ipython"})
    return kept


def _ignore_sigint() -> None:
    # Runs in the child before exec: bwrap must survive the kernel's interrupts.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class Lease:
    """Lend folders to the sandbox for one run, and take them back afterwards.

    Taking back means: files the sandbox's uid created belong to the grader
    again, and links or special files it left are deleted, because nbgrader
    later copies the folder's files (into feedback/) following links, which
    would hand the student whatever a link points to.
    """

    def __init__(self, uid: int | None, folders):
        self.uid = uid
        self.owners = []
        for folder in folders:
            info = os.stat(folder)
            self.owners.append((Path(folder), info.st_uid, info.st_gid))
            if uid is not None:
                os.chown(folder, uid, uid)

    def close(self) -> None:
        for folder, owner, group in self.owners:
            if folder.is_dir():
                take_back(folder, self.uid, owner, group)
        self.owners = []


def take_back(folder: Path, uid: int | None, owner: int, group: int) -> None:
    """Delete links and special files under `folder`; give `uid`'s files to `owner`."""
    for path, dirs, files in os.walk(folder):  # never follows links
        for name in dirs + files:
            entry = os.path.join(path, name)
            info = os.lstat(entry)
            if not (stat.S_ISREG(info.st_mode) or stat.S_ISDIR(info.st_mode)):
                os.unlink(entry)
            elif uid is not None and info.st_uid == uid:
                os.chown(entry, owner, group, follow_symlinks=False)
    if uid is not None and os.lstat(folder).st_uid == uid:
        os.chown(folder, owner, group)


def kill_sandbox_strays(bwrap_pid: int) -> int:
    """SIGKILL the processes of the PID namespace that `bwrap_pid` created, except its init and the command.

    Inside the namespace bwrap's init is pid 1 and the sandboxed command pid 2;
    everything else was started by the student's code.
    """
    killed = 0
    for pid in procfs.namespace_members(bwrap_pid):
        try:
            inner = procfs.inner_pid(pid)
            if inner is not None and inner > 2 and procfs.status_field(pid, "State")[:1] != ["Z"]:
                os.kill(pid, signal.SIGKILL)  # zombies (state Z) hold nothing but a slot
                killed += 1
        except (OSError, ValueError):
            continue
    return killed


def start_nursery(modules: list[str], threads: int = 1) -> nursery.Nursery | None:
    """This process's nursery (`nursery.py`): kernels and probe runs fork from it, `modules` already imported."""
    if not bwrap_path():
        return None
    env = sandbox_env(dict(os.environ, **{name: str(threads) for name in THREAD_VARS}))

    def wrap(argv, workdir, writable, caps):
        return command(argv, workdir, writable=writable, caps=caps, launch=False)

    hidden = [p for p in readonly_paths() if any(p == Path(t) or Path(t) in p.parents for t in ("/tmp", "/dev/shm"))]
    return nursery.start(modules, env, wrap, keep=hidden)


def _lent(path: Path, parent: nursery.Nursery | None) -> bool:
    return parent is not None and Path(path).resolve().is_relative_to(parent.lanes.resolve())


def _reaped_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(argv: list[str], workdir: Path, timeout: float, *, env: dict | None = None,
        logger: logging.Logger | None = None, **popen) -> subprocess.CompletedProcess:
    """Run `argv` once in the sandbox (or plainly, with the warning, under COURSE_SANDBOX=off).

    On timeout the whole sandbox is killed; the result then has returncode -9.
    """
    workdir = Path(workdir)
    env = sandbox_env(env)
    lease = None
    parent = nursery.current() if bwrap_path() else None
    if _lent(workdir, parent):
        return _run_forked(parent, argv, workdir, timeout, env, popen)
    if bwrap_path():
        uid = sandbox_uid()
        lease = Lease(uid, [workdir])
        argv = command(argv, workdir, uid=uid)
    else:
        require()
        warn_unsandboxed(logger)
    cpu_before = _reaped_cpu()
    process = subprocess.Popen(argv, cwd=workdir, env=env, start_new_session=True, **popen)
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        out, err = process.communicate()
        process.returncode = -signal.SIGKILL
    finally:
        stopwatch.current.sandbox_cpu_s += _reaped_cpu() - cpu_before
        if lease is not None:
            lease.close()
    return subprocess.CompletedProcess(argv, process.returncode, out, err)


def _run_forked(parent: nursery.Nursery, argv, workdir: Path, timeout: float, env: dict, popen: dict):
    """`run` by a fork of the nursery: the same isolation and limits, without a new Python."""
    uid = sandbox_uid()
    lease = Lease(uid, [workdir])
    captured = tempfile.TemporaryFile()
    wanted = popen.get("stderr")
    process = None
    try:
        process = parent.spawn(argv, workdir, env=env, limits=Limits.from_env(), uid=uid,
                               stderr=captured.fileno() if wanted == subprocess.PIPE else None)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            process.returncode = -signal.SIGKILL
        captured.seek(0)
        err = captured.read() if wanted == subprocess.PIPE else None
    finally:
        if process is not None:
            stopwatch.current.sandbox_cpu_s += process.cpu_s
        captured.close()
        lease.close()
    return subprocess.CompletedProcess(argv, process.returncode, None, err)


class ReadyKernelClient(AsyncKernelClient):
    """A kernel client that is ready as soon as the kernel answers and its IOPub channel delivers.

    jupyter_client's own wait ends with a 0.2 s wait for silence on IOPub, paid by every graded submission;
    the executor only ever reads messages that answer its own requests, so what is left is dropped at once.
    """

    async def _async_wait_for_ready(self, timeout: float | None = None) -> None:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            self.kernel_info()
            try:
                reply = await self.shell_channel.get_msg(timeout=1)
            except Empty:
                reply = None
            if reply is not None and reply["msg_type"] == "kernel_info_reply":
                try:  # a message on IOPub proves it is connected; else the kernel is asked again
                    await self.iopub_channel.get_msg(timeout=0.2)
                except Empty:
                    pass
                else:
                    self._handle_kernel_info_reply(reply)
                    break
            if not await self._async_is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if deadline is not None and time.monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout} seconds")
        while True:
            try:
                await self.iopub_channel.get_msg(timeout=0)
            except Empty:
                return

    wait_for_ready = _async_wait_for_ready


class SandboxedKernelManager(AsyncKernelManager):
    """A jupyter_client kernel manager whose kernels start inside bwrap."""

    client_class = DottedObjectName("course.grading.run.sandbox.ReadyKernelClient")
    client_factory = Type(ReadyKernelClient, klass=AsyncKernelClient)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._bwrap = bwrap_path()
        self._rundir = None
        self._lease = None
        self._uid = sandbox_uid() if self._bwrap else None
        if self._bwrap:
            self.transport = "ipc"

    async def _async_pre_start_kernel(self, **kw):
        if self._bwrap and self._rundir is None:
            self._rundir = tempfile.mkdtemp(prefix="course-kernel-", dir=nursery.lanes())
            if self._uid is not None:
                os.chown(self._rundir, self._uid, self._uid)
            self.connection_file = os.path.join(self._rundir, "kernel.json")
            self.ip = os.path.join(self._rundir, "ipc")
        return await super()._async_pre_start_kernel(**kw)

    def write_connection_file(self, **kwargs) -> None:
        super().write_connection_file(**kwargs)
        if self._bwrap and self._uid is not None:
            os.chown(self.connection_file, self._uid, self._uid)

    async def _async_launch_kernel(self, kernel_cmd, **kw):
        if not self._bwrap:
            require()
            warn_unsandboxed(self.log)
            return await super()._async_launch_kernel(kernel_cmd, **kw)
        workdir = Path(kw.get("cwd") or os.getcwd()).resolve()
        if self._lease is None:
            self._lease = Lease(self._uid, [workdir])
        masked = sorted(workdir.glob("*.ipynb"))
        parent = nursery.current()
        if _lent(workdir, parent) and _lent(self._rundir, parent):
            self._kernel_log = open(os.path.join(self._rundir, "kernel.log"), "wb")
            process = parent.spawn(kernel_cmd, workdir, binds=[self._rundir], masked=masked,
                                   env=sandbox_env(kw.get("env")), limits=Limits.from_env(), uid=self._uid,
                                   stderr=self._kernel_log.fileno())
            self.provisioner.process, self.provisioner.pid, self.provisioner.pgid = process, process.pid, None
            self.provisioner.cwd = workdir
            self._reconcile_connection_info(self.provisioner.connection_info)
            return None
        kernel_cmd = command(kernel_cmd, workdir, writable=[self._rundir], masked=masked, uid=self._uid)
        kw["env"] = sandbox_env(kw.get("env"))
        kw["independent"] = True  # no JPY_PARENT_PID: inside the PID namespace the parent is bwrap
        kw["preexec_fn"] = _ignore_sigint
        # Raw writes to the kernel's fds must not reach (or flood) the grader's own log.
        self._kernel_log = open(os.path.join(self._rundir, "kernel.log"), "wb")
        kw["stdout"] = subprocess.DEVNULL
        kw["stderr"] = self._kernel_log
        self.log.debug("Starting sandboxed kernel: %s", kernel_cmd)
        return await super()._async_launch_kernel(kernel_cmd, **kw)

    def kill_strays(self) -> int:
        """Kill every process in the kernel's sandbox except the kernel itself; how many there were.

        Called after each cell: whatever a cell started (a fork bomb's
        children, a forgotten background job) does not outlive it.
        """
        process = getattr(self.provisioner, "process", None)
        if not self._bwrap or process is None:
            return 0
        return kill_sandbox_strays(process.pid)

    async def _async_shutdown_kernel(self, now: bool = False, restart: bool = False) -> None:
        process = getattr(self.provisioner, "process", None)
        if self._bwrap and process is not None:
            stopwatch.current.sandbox_cpu_s += procfs.cpu_seconds(process.pid)
        await super()._async_shutdown_kernel(now=now, restart=restart)

    shutdown_kernel = _async_shutdown_kernel

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart=restart)
        if restart:
            return
        if self._lease is not None:
            self._lease.close()
            self._lease = None
        if getattr(self, "_kernel_log", None) is not None:
            self._kernel_log.close()
            self._kernel_log = None
            with open(os.path.join(self._rundir, "kernel.log"), "rb") as handle:
                head = handle.read(2000).decode(errors="replace")
            if head.startswith("bwrap:"):  # the sandbox itself failed: the instructor must see why
                self.log.error("the sandbox could not start the kernel: %s", head)
        if self._rundir is not None:
            shutil.rmtree(self._rundir, ignore_errors=True)
            self._rundir = None
