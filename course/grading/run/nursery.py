"""A sandboxed Python that has imported torch, numpy, IPython and the course once, and forks a fresh sandbox per run.

Starting a kernel in a new bwrap sandbox costs a new Python, and the student's first cell then imports
torch, numpy, matplotlib and the course (about 4 s of CPU here); the trusted verdict's probe process pays
it again. A worker instead starts one nursery: a bwrap sandbox of the same read-only view (no network, no
project, nothing writable but its own folders) whose Python imports those libraries once and waits. For
each kernel or probe process it forks a child that, before any student code runs:

* gets its own mount, PID, IPC and network namespaces: a fresh `/tmp` and `/dev/shm`, and of the
  grader's folders only the ones this run was lent (its notebook folder, the kernel's socket folder),
  with the notebooks masked as in the plain sandbox;
* runs under its own init (pid 1) that dies with it, so whatever the run started is killed at its end;
* drops to the sandbox's uid with the same resource limits, no capabilities and no new privileges,
  and takes the environment, standard streams and `python -m` command it was given.

Each child is a copy of the nursery as it stood before any submission ran, so nothing of one
submission reaches the next: not its files (its `/tmp` is gone, its folder was the grader's), not its
processes (its PID namespace is gone), not its Python state (a forked copy, never written back).
The nursery needs root (as on the hub, in CI, on a grading server), since it must give each child
namespaces and a uid of its own; elsewhere the kernels start in a plain sandbox each (`sandbox.py`).
`COURSE_NURSERY=off` turns it off.
"""
from __future__ import annotations

import atexit
import ctypes
import importlib
import json
import os
import random
import resource
import runpy
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from . import procfs

ENV_SWITCH = "COURSE_NURSERY"
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"

CLONE_NEWNS, CLONE_NEWIPC, CLONE_NEWPID, CLONE_NEWNET = 0x00020000, 0x08000000, 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS = 1, 38
CAPS = ("CAP_SYS_ADMIN", "CAP_SETUID", "CAP_SETGID")


def switched_off() -> bool:
    return os.environ.get(ENV_SWITCH, "").strip().lower() in {"0", "off", "no", "false"}


# ---- inside the nursery ---------------------------------------------------------------------------

SYS_OPEN_TREE, SYS_MOVE_MOUNT = 428, 429  # the same number on every architecture since Linux 5.2
AT_FDCWD, AT_RECURSIVE, OPEN_TREE_CLONE, MOVE_MOUNT_F_EMPTY_PATH = -100, 0x8000, 1, 0x4
_libc = None


def _libc_handle():
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    return _libc


def _call(name: str, *args) -> None:
    if getattr(_libc_handle(), name)(*args) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{name}{args[:2]}: {os.strerror(errno)}")


def _mount(source, target, fstype, flags: int, data=None) -> None:
    encode = lambda value: None if value is None else str(value).encode()
    _call("mount", encode(source), encode(target), encode(fstype), ctypes.c_ulong(flags), encode(data))


def preload(modules: list[str]) -> None:
    """Import what every run needs, before any fork; a module that fails to import is simply not preloaded."""
    os.environ.setdefault("MPLBACKEND", INLINE_BACKEND)
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 (the run imports it itself, as without a nursery)
            continue


def _detached(path: str) -> int:
    """A copy of the mount at `path`, attached nowhere yet (open_tree), to be attached in a new namespace."""
    fd = _libc_handle().syscall(SYS_OPEN_TREE, AT_FDCWD, path.encode(), OPEN_TREE_CLONE | AT_RECURSIVE)
    if fd < 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"open_tree({path}): {os.strerror(errno)}")
    return fd


def _attach(fd: int, target: str) -> None:
    if _libc_handle().syscall(SYS_MOVE_MOUNT, fd, b"", AT_FDCWD, target.encode(), MOVE_MOUNT_F_EMPTY_PATH) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"move_mount({target}): {os.strerror(errno)}")
    os.close(fd)


def _fresh_view(request: dict) -> None:
    """In a child with new namespaces: a fresh /tmp and /dev/shm, and only the folders lent to this run."""
    lent = [(path, _detached(path), False) for path in request["binds"]]
    lent += [(path, _detached(path), True) for path in request["keep"]]
    _call("unshare", CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWNET)
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    size = request["tmp_bytes"]
    for where in ("/tmp", "/dev/shm"):
        _mount("tmpfs", where, "tmpfs", MS_NOSUID | MS_NODEV, f"mode=1777,size={size}")
    for path, fd, readonly in lent:
        os.makedirs(path, mode=0o755, exist_ok=True)
        _attach(fd, path)
        if readonly:
            _mount(None, path, None, MS_REMOUNT | MS_BIND | MS_RDONLY)
    for path in request["masked"]:
        if os.path.exists(path):
            _mount("/dev/null", path, None, MS_BIND)
            _mount(None, path, None, MS_REMOUNT | MS_BIND | MS_RDONLY)


def _become(request: dict, fds: list[int]) -> None:
    """The run's own process: limits, uid, environment, streams; then `python -m MODULE ARGS` in this process."""
    os.chdir(request["workdir"])
    for name, value in request["rlimits"].items():
        resource.setrlimit(getattr(resource, name), (value, value))
    if request["uid"] is not None:
        os.setgroups([])
        os.setgid(request["uid"])
        os.setuid(request["uid"])
    _call("prctl", PR_SET_NO_NEW_PRIVS, ctypes.c_ulong(1), ctypes.c_ulong(0), ctypes.c_ulong(0), ctypes.c_ulong(0))
    for target, fd in enumerate(fds[:3]):
        os.dup2(fd, target)
    os.closerange(3, 65536)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    os.environ.clear()
    os.environ.update(request["env"])
    random.seed()
    if "numpy" in sys.modules:
        sys.modules["numpy"].random.seed()
    if "matplotlib" in sys.modules:
        sys.modules["matplotlib"].rcParams["backend"] = os.environ.get("MPLBACKEND") or INLINE_BACKEND
    threads = os.environ.get("OMP_NUM_THREADS", "").strip()
    if "torch" in sys.modules and threads.isdigit():
        sys.modules["torch"].set_num_threads(int(threads))
    module, args, isolated = request["module"], request["args"], request["isolated"]
    sys.argv = [module, *args]
    if not isolated:  # as `python -m` does: the working folder first on the path
        sys.path.insert(0, os.getcwd())
    try:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
        code = 0
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _child(request: dict, fds: list[int]) -> None:
    """The forked child: new namespaces, an init of its own, the run under it; reports status and CPU."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    status_fd = fds[3]
    try:
        _fresh_view(request)
    except OSError as error:
        os.write(fds[2], f"nursery: the sandbox could not be made: {error}\n".encode())
        os._exit(126)
    init = os.fork()
    if init == 0:  # pid 1 of the new namespace: the run below, then reap until it ends
        _call("prctl", PR_SET_PDEATHSIG, ctypes.c_ulong(signal.SIGKILL), ctypes.c_ulong(0), ctypes.c_ulong(0),
              ctypes.c_ulong(0))
        try:
            _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
        except OSError:
            pass  # the nursery's /proc stays: it shows the nursery, never another submission
        run = os.fork()
        if run == 0:
            os.close(status_fd)
            try:
                _become(request, fds)
            except BaseException:  # noqa: BLE001 (before the run started: say why, on its stderr)
                import traceback

                os.write(2, f"nursery: the run could not start: {traceback.format_exc()}\n".encode())
            finally:
                os._exit(127)
        while True:
            pid, status = os.wait()
            if pid == run:
                os._exit(os.waitstatus_to_exitcode(status) % 256)
    _, status = os.waitpid(init, 0)
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    os.write(status_fd, json.dumps({"code": os.waitstatus_to_exitcode(status),
                                    "cpu_s": usage.ru_utime + usage.ru_stime}).encode())
    os._exit(0)


def serve(control: str, modules: list[str]) -> None:
    """The nursery's loop: preload, then fork one child per request, answering with its pidfd."""
    preload(modules)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel; the worker holds pidfds
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(control)
    listener.listen(8)
    print("ready", flush=True)
    while True:
        connection, _ = listener.accept()
        with connection:
            message, fds, _, _ = socket.recv_fds(connection, 1 << 16, 4)
            while chunk := connection.recv(1 << 16):
                message += chunk
            request = json.loads(message)
            child = os.fork()
            if child == 0:
                listener.close()
                try:
                    _child(request, fds)
                finally:
                    os._exit(127)
            for fd in fds:
                os.close(fd)
            pidfd = os.pidfd_open(child)
            socket.send_fds(connection, [b"ok"], [pidfd])
            os.close(pidfd)


# ---- in the worker --------------------------------------------------------------------------------

def _outer_pid(pidfd: int) -> int:
    with open(f"/proc/self/fdinfo/{pidfd}") as handle:
        for line in handle:
            if line.startswith("Pid:"):
                return int(line.split()[1])
    raise OSError("the kernel shows no pid for this pidfd")


class ForkedProcess:
    """A run the nursery forked, as much of `subprocess.Popen` as jupyter_client and the sandbox use."""

    stdin = stdout = stderr = None

    def __init__(self, pidfd: int, status_fd: int):
        self._pidfd, self._status_fd = pidfd, status_fd
        self.pid = _outer_pid(pidfd)
        self.returncode = None
        self.cpu_s = 0.0

    def _finish(self) -> None:
        data = b""
        while chunk := os.read(self._status_fd, 4096):
            data += chunk
        try:
            report = json.loads(data)
            self.returncode, self.cpu_s = int(report["code"]), max(self.cpu_s, float(report["cpu_s"]))
        except (ValueError, KeyError, TypeError):
            self.returncode = -signal.SIGKILL  # killed before it could report
        os.close(self._status_fd)
        os.close(self._pidfd)

    def poll(self) -> int | None:
        if self.returncode is None and select.select([self._pidfd], [], [], 0)[0]:
            self._finish()
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            if not select.select([self._pidfd], [], [], timeout)[0]:
                raise subprocess.TimeoutExpired("nursery child", timeout)
            self._finish()
        return self.returncode

    def sample_cpu(self) -> None:
        """CPU of the run so far, kept in case it is killed before it can report its own."""
        self.cpu_s = max(self.cpu_s, procfs.cpu_seconds(self.pid))

    def send_signal(self, signum: int) -> None:
        if self.returncode is not None:
            return
        if signum == signal.SIGINT:  # an interrupt reaches the run and what it started, never its init
            for pid in procfs.namespace_members(self.pid):
                inner = procfs.inner_pid(pid)
                if inner is not None and inner >= 2:
                    try:
                        os.kill(pid, signum)
                    except OSError:
                        pass
            return
        if signum in (signal.SIGKILL, signal.SIGTERM):
            self.sample_cpu()
        signal.pidfd_send_signal(self._pidfd, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGKILL)


class Nursery:
    """One per worker process: the sandboxed, preloaded parent, and the folders it may lend to its children."""

    def __init__(self, modules: list[str], env: dict, wrap, keep=()):
        """`wrap(argv, workdir, writable, caps)` is the sandbox's command line around `argv` (sandbox.command);
        `keep` are its read-only paths below /tmp or /dev/shm (a checkout in /tmp), which each child's fresh
        /tmp would otherwise hide."""
        self.keep = [str(path) for path in keep]
        self.home = Path(tempfile.mkdtemp(prefix="course-nursery-"))
        self.control = self.home / "control"
        self.lanes = self.home / "lanes"
        self.control.mkdir(mode=0o700)
        self.lanes.mkdir(mode=0o711)
        socket_path = self.control / "nursery.sock"
        argv = [sys.executable, "-I", "-m", "course.grading.run.nursery", str(socket_path), *modules]
        self._log = open(self.home / "nursery.log", "wb")
        self.process = subprocess.Popen(wrap(argv, self.lanes, [self.control], CAPS), env=env, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.PIPE, stderr=self._log, start_new_session=True)
        self.socket_path = str(socket_path)
        ready = select.select([self.process.stdout], [], [], 300)[0]
        line = self.process.stdout.readline() if ready else b""
        if line.strip() != b"ready":
            self.close()
            raise RuntimeError(f"the nursery did not start: {(self.home / 'nursery.log').read_text()[-2000:]}")

    def alive(self) -> bool:
        return self.process.poll() is None

    def spawn(self, argv: list[str], workdir: Path, *, binds=(), masked=(), env: dict, limits, uid: int | None,
              stdin: int | None = None, stdout: int | None = None, stderr: int | None = None) -> ForkedProcess:
        """Fork `python [-I] -m MODULE ARGS` (the form every sandboxed run here has) in a fresh sandbox."""
        try:
            at = argv.index("-m")
        except ValueError:
            raise ValueError(f"the nursery runs `python -m MODULE ...` only, not {argv[:3]}") from None
        request = {"module": argv[at + 1], "args": argv[at + 2:], "isolated": "-I" in argv[1:at],
                   "workdir": str(Path(workdir).resolve()), "binds": [str(Path(workdir).resolve()),
                                                                      *(str(Path(b).resolve()) for b in binds)],
                   "masked": [str(Path(m).resolve()) for m in masked], "env": env, "rlimits": limits.rlimits(),
                   "uid": uid, "tmp_bytes": limits.tmp_mb * 1024 * 1024, "keep": self.keep}
        devnull = os.open(os.devnull, os.O_RDWR)
        status_read, status_write = os.pipe()
        streams = [devnull if fd is None else fd for fd in (stdin, stdout, stderr)]
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
                connection.connect(self.socket_path)
                socket.send_fds(connection, [json.dumps(request).encode()], [*streams, status_write])
                connection.shutdown(socket.SHUT_WR)
                _, fds, _, _ = socket.recv_fds(connection, 16, 1)
        finally:
            os.close(devnull)
            os.close(status_write)
        if not fds:
            os.close(status_read)
            raise RuntimeError("the nursery did not fork the run")
        return ForkedProcess(fds[0], status_read)

    def close(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self._log.close()
        shutil.rmtree(self.home, ignore_errors=True)


_current: Nursery | None = None


def current() -> Nursery | None:
    """This process's nursery, if one was started (`start`) and still lives."""
    return _current if _current is not None and _current.alive() and not switched_off() else None


def start(modules: list[str], env: dict, wrap, keep=()) -> Nursery | None:
    """Start this process's nursery (once); None where it cannot be had (not root, switched off, an old kernel)."""
    global _current
    if _current is not None and _current.alive():
        return _current
    if switched_off() or os.geteuid() != 0 or not hasattr(os, "pidfd_open"):
        return None
    started = time.perf_counter()
    _current = Nursery(modules, env, wrap, keep)
    atexit.register(stop)
    _current.start_s = time.perf_counter() - started
    return _current


def lanes() -> Path | None:
    """Where a run's folders must lie for the nursery to lend them (None: no nursery, anywhere will do)."""
    return _current.lanes if current() is not None else None


def stop() -> None:
    global _current
    if _current is not None:
        _current.close()
        _current = None


if __name__ == "__main__":
    serve(sys.argv[1], sys.argv[2:])
