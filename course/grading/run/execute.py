"""nbgrader's executing preprocessor with sandboxed kernels, and a grade for every cell whatever happens.

The sandbox (`course.grading.run.sandbox`) decides where a kernel runs; this
module decides what a grader does when the kernel dies, hangs, floods its
output, or clears its own errors.
"""
from __future__ import annotations

import datetime
import time
from queue import Empty

from nbclient.exceptions import DeadKernelError
from nbclient.util import run_sync
from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import Execute
from nbgrader.utils import is_grade, is_solution
from traitlets import Bool, Integer, default

from . import stopwatch
from .sandbox import SandboxedKernelManager, require, sandbox_off, warn_unsandboxed

# The longest single wait on a kernel channel: see `poll_in_slices`.
POLL_SLICE_S = 0.5


def _error_output(name: str, text: str) -> NotebookNode:
    return NotebookNode(output_type="error", ename=name, evalue=text,
                        traceback=[f"\x1b[0;31m{name}\x1b[0m: {text}"])


TRAILING_NOTE = "[not run by the grader: no graded cell comes after this one]\n"


def poll_in_slices(channel, slice_s: float = POLL_SLICE_S) -> None:
    """Make `channel.get_msg(timeout=T)` wait in short slices until T, instead of in one long wait.

    After a cell that displays ipywidgets, one long wait on the shell channel sometimes misses the
    reply that has already arrived and sleeps until the cell's whole time-out (120 s) runs out
    (jupyter/nbclient#312). A fresh wait sees a message that is already there, so a missed wake-up
    costs at most one slice.
    """
    wait_once = channel.get_msg

    async def get_msg(timeout=None):
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = slice_s if deadline is None else max(0.0, min(slice_s, deadline - time.monotonic()))
            try:
                return await wait_once(timeout=left)
            except Empty:
                if deadline is not None and time.monotonic() >= deadline:
                    raise

    channel.get_msg = get_msg


def _sent_at(message: dict) -> float | None:
    """When the kernel sent `message` (its header's date), in seconds since the epoch."""
    date = (message or {}).get("header", {}).get("date")
    if isinstance(date, str):
        date = datetime.datetime.fromisoformat(date)
    return date.timestamp() if isinstance(date, datetime.datetime) else None


class KernelStuck(Exception):
    """Two cells in a row ran out of time: the kernel ignores interrupts."""


class SandboxedExecute(Execute):
    """nbgrader's Execute with a sandboxed kernel, and a grade for every cell whatever the kernel does.

    * kernel death (`os._exit`, a crash, the memory limit) or a kernel that
      ignores interrupts no longer aborts the whole submission: that cell and
      every later test cell get an error saying why, earlier cells keep theirs;
    * `clear_output` from student code cannot remove an error from a cell;
    * a cell's text output is capped, so a print loop cannot fill the grader's memory;
    * code cells after the last graded or answer code cell are not run: no grade can depend on them,
      and their demonstrations (PyTorch comparisons, plots, training curves) are a large share of a
      notebook's grading time. They show a note instead (`run_trailing_cells` runs them).
    """

    max_output_chars = Integer(2_000_000, help="Text kept per cell; the rest is dropped.").tag(config=True)
    run_trailing_cells = Bool(False, help="Also run the code cells after the last graded or answer code cell."
                              ).tag(config=True)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("kernel_manager_class", SandboxedKernelManager)
        super().__init__(*args, **kwargs)

    @default("extra_arguments")
    def _kernel_arguments(self):
        """No history database (a graded kernel lives for one notebook), and plain tracebacks: IPython's default
        colours each with its source context, about 30 ms an error here, which made a blank or wrong
        submission cost more than a right one. The feedback keeps each frame's line and the error."""
        return ["--HistoryManager.enabled=False", "--InteractiveShell.xmode=Plain"]

    @default("shutdown_kernel")
    def _kill_when_done(self):
        """The sandbox is thrown away with the kernel, so nothing is gained by waiting for a polite exit."""
        return "immediate"

    def preprocess(self, nb, resources=None, km=None):
        self._stopped = None
        self._timeouts_in_a_row = 0
        self._timed_out = False
        self._chars = {}
        self._replied_at, self._previous = None, None
        self._who = (resources or {}).get("nbgrader", {}).get("student", "this submission")
        self._last_graded = len(nb.cells) if self.run_trailing_cells else max(
            (i for i, cell in enumerate(nb.cells) if cell.cell_type == "code" and (is_grade(cell) or is_solution(cell))),
            default=-1)
        require()
        if sandbox_off():
            warn_unsandboxed(self.log)
        with stopwatch.current.phase("execute"):
            return super().preprocess(nb, resources, km)

    async def async_start_new_kernel(self, **kwargs):
        with stopwatch.current.phase("startup"):
            return await super().async_start_new_kernel(**kwargs)

    async def async_start_new_kernel_client(self):
        with stopwatch.current.phase("startup"):
            client = await super().async_start_new_kernel_client()
        poll_in_slices(client.shell_channel)
        poll_in_slices(client.iopub_channel)
        return client

    # nbclient's blocking wrappers were made from its own coroutines: rebind them to the ones above.
    start_new_kernel = run_sync(async_start_new_kernel)
    start_new_kernel_client = run_sync(async_start_new_kernel_client)

    async def _async_poll_for_reply(self, msg_id, cell, timeout, task_poll_output_msg, task_poll_kernel_alive):
        reply = await super()._async_poll_for_reply(msg_id, cell, timeout, task_poll_output_msg, task_poll_kernel_alive)
        self._replied_at = _sent_at(reply)
        started = (reply or {}).get("metadata", {}).get("started")
        if self._replied_at is not None and isinstance(started, str):  # the kernel's own time for the cell
            begun = datetime.datetime.fromisoformat(started).timestamp()
            stopwatch.current.add("code", max(0.0, self._replied_at - begun))
        return reply

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        if self._replied_at is not None:  # how long the previous cell's reply waited for this cell to start
            stopwatch.current.waits.append((self._previous, max(0.0, time.time() - self._replied_at)))
        self._replied_at, self._previous = None, index
        if self._stopped is None and index <= self._last_graded:
            self.before_cell(cell, index)
        with stopwatch.current.phase("cells"):
            return self._run_cell(cell, resources, index)

    def before_cell(self, cell, index: int) -> None:
        """Called before each code cell the kernel will run; subclasses talk to the kernel here (see `request`)."""

    def request(self, code: str, expressions: dict, timeout: float) -> dict | None:
        """Run `code` silently in the kernel (no history, no output kept) and evaluate `expressions` after it: the
        kernel's reply content, or None when it did not reply in time."""
        return run_sync(self._async_request)(code, expressions, timeout)

    async def _async_request(self, code: str, expressions: dict, timeout: float) -> dict | None:
        msg_id = self.kc.execute(code, silent=True, store_history=False, user_expressions=expressions,
                                 allow_stdin=False)
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                reply = await self.kc.shell_channel.get_msg(timeout=left)
            except Empty:
                return None
            if reply.get("parent_header", {}).get("msg_id") == msg_id:
                return reply.get("content", {})
        return None

    def _run_cell(self, cell, resources, index):
        if index > self._last_graded:
            cell.outputs = [NotebookNode(output_type="stream", name="stdout", text=TRAILING_NOTE)]
            return cell, resources
        if self._stopped is not None:
            if is_grade(cell):
                cell.outputs = [_error_output("NotRun", self._stopped)]
            return cell, resources
        self._timed_out = False
        self._strays = 0
        try:
            result = super().preprocess_cell(cell, resources, index)
        except (DeadKernelError, KernelStuck) as error:
            if isinstance(error, KernelStuck):
                reason = (f"cell {index + 1} still ran after two time-outs ({self.timeout} s each) and ignored "
                          "interrupts, so grading stopped there")
            else:
                reason = (f"the kernel stopped while running cell {index + 1} (sys.exit/os._exit, a crash, "
                          "or the memory or process limit), so later cells were not run")
            self.log.warning("%s: %s", self._who, reason)
            cell.outputs.append(_error_output("KernelDied" if isinstance(error, DeadKernelError) else "KernelStuck",
                                              reason))
            self._stopped = f"not run: {reason}"
            return cell, resources
        self._timeouts_in_a_row = self._timeouts_in_a_row + 1 if self._timed_out else 0
        strays = self._strays + self._kill_strays()
        if strays:
            self.log.warning("%s: cell %d left %d processes running in the sandbox; they were killed",
                             self._who, index + 1, strays)
        return result

    def _kill_strays(self) -> int:
        return self.km.kill_strays() if hasattr(self.km, "kill_strays") else 0

    async def _async_handle_timeout(self, timeout, cell=None):
        self._timed_out = True
        # Before the interrupt: a fork bomb's copies of the kernel would take the SIGINT too, and die or
        # carry on unseen, so the cell's stray processes are killed (and counted) first.
        self._strays += self._kill_strays()
        if self._timeouts_in_a_row >= 1:  # the previous cell timed out too: interrupts do not work
            raise KernelStuck()
        return await super()._async_handle_timeout(timeout, cell)

    @staticmethod
    def _failures(outs) -> list:
        return [o for o in outs if o.get("output_type") == "error"
                or (o.get("output_type") == "stream" and o.get("name") == "stderr")]

    def clear_output(self, outs, msg, cell_index):
        kept = self._failures(outs)
        super().clear_output(outs, msg, cell_index)
        if kept and not msg["content"].get("wait"):
            outs[:0] = kept

    def output(self, outs, msg, display_id, cell_index):
        if self.clear_before_next_output:  # a delayed clear_output(wait=True) is about to run
            kept = self._failures(outs)
            out = self._capped_output(outs, msg, display_id, cell_index)
            outs[:0] = [o for o in kept if o not in outs]
            return out
        return self._capped_output(outs, msg, display_id, cell_index)

    def _capped_output(self, outs, msg, display_id, cell_index):
        if msg["msg_type"] == "stream":
            used = self._chars.get(cell_index, 0)
            text = msg["content"].get("text", "")
            if used >= self.max_output_chars:
                return None
            self._chars[cell_index] = used + len(text)
            if used + len(text) > self.max_output_chars:
                msg["content"]["text"] = text[: self.max_output_chars - used] + \
                    "\n... output cut by the grader (too long) ...\n"
        return super().output(outs, msg, display_id, cell_index)
