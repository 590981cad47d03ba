"""Errors a student can fix by running one command, shown as that one message.

Inside Jupyter, `course` registers a handler so these print their message
without a page of traceback; the cell still fails, so a grader still sees it.
"""


class CourseSetupError(RuntimeError):
    """Something outside the notebook is missing: the package, the data, a tool."""


class DataUnavailableError(CourseSetupError):
    """A data set is missing; the message lists every way to get it."""


def _show_message_only(shell, etype, value, tb, tb_offset=None):
    lines = [f"{etype.__name__}: {value}"]
    shell._showtraceback(etype, value, lines)
    return lines


def install_notebook_handler() -> None:
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is not None:
        shell.set_custom_exc((CourseSetupError,), _show_message_only)
