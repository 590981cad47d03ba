"""Which library functions a piece of code calls, seen by watching it run rather than by reading its names.

An exercise that says "with loops, not a library" is graded on what the code
does: an import under another name, a helper in another cell, `getattr` with a
string or a call hidden in a lambda all reach the same library function, and
that function is what gets recorded here. The grader runs the same watch,
outside the student's reach; the notebooks' checks use it to tell a student
early which call broke the rule.

Standard library only: the grader loads this file on its own, before any
student code runs, so the functions it keeps (`sys.setprofile` and the rest)
are the real ones.
"""
import sys
import threading

# Where the work of an exercise could be handed off to: the libraries, and the course's own helpers.
WATCHED = frozenset({"torch", "torchvision", "scipy", "skimage", "sklearn", "cv2", "numpy", "course"})
# The course's helpers that compute nothing an exercise asks for (plots, paths, a progress bar, a
# device, a data loader, seeds): calling them is never a shortcut.
HARMLESS = ("course.plots.", "course.paths.", "course.errors.", "course.calls.", "course.grading.", "course.training.progress",
            "course.training.device", "course.training.loader", "course.training.seed_everything")
# Calls that would let code run where the watch cannot see it.
UNSEEN = {("sys", "setprofile"), ("sys", "settrace"), ("threading", "setprofile"), ("threading", "settrace"),
          ("_thread", "start_new_thread"), ("_thread", "start_new"), ("posix", "fork"), ("posix", "forkpty"),
          ("posix", "system"), ("posix", "posix_spawn"), ("posix", "posix_spawnp"), ("posix", "execv"),
          ("posix", "execve"), ("_posixsubprocess", "fork_exec")}
ESCAPE = "escaped the watch: "

_setprofile, _getprofile, _thread_setprofile = sys.setprofile, sys.getprofile, threading.setprofile
_STDLIB = frozenset(sys.stdlib_module_names)


def _root(module) -> str:
    return module.split(".", 1)[0] if isinstance(module, str) else ""


def _c_module(function) -> str:
    module = getattr(function, "__module__", None)
    if isinstance(module, str):
        return module
    owner = getattr(function, "__self__", None)
    return getattr(type(owner), "__module__", "") if owner is not None else ""


class Watch:
    """Records each call that enters a watched package from outside it, while active.

    Calls made by code in `ignore` (module names: the grader's own probe code) are not recorded:
    only what the code under test reaches, however it reaches it.
    """

    def __init__(self, ignore=()):
        self.ignore = frozenset(ignore)
        self.seen: set = set()
        self.active = False
        self._libraries: dict = {}

    def _library(self, module: str) -> bool:
        """Code that is neither the grader's nor the code under test: the standard library and installed packages."""
        if module not in self._libraries:
            root = _root(module)
            path = getattr(sys.modules.get(module), "__file__", None) or ""
            self._libraries[module] = (root in _STDLIB or (root in WATCHED and root != "course")
                                       or any(part in path for part in ("site-packages", "dist-packages")))
        return self._libraries[module]

    def _started_by_the_code_under_test(self, frame) -> bool:
        """Walk back from the calling frame past library code (and this module): the code under test started
        the call, or the course's and the grader's own code did (a probe's DataLoader calling back into
        the course's dataset, for example). A chain that reaches neither counts as the code under test."""
        while frame is not None:
            module = frame.f_globals.get("__name__", "")
            if module in self.ignore or (_root(module) == "course" and module != __name__):
                return False
            if module != __name__ and not self._library(module):
                return True
            frame = frame.f_back
        return True

    def _record(self, caller_frame, module: str, name: str) -> None:
        caller = caller_frame.f_globals.get("__name__", "") if caller_frame is not None else ""
        if caller in self.ignore or module in self.ignore or __name__ in (caller, module):
            return
        root = _root(module)
        escape = (root, name) in UNSEEN or (module, name) in UNSEEN
        if escape and module == "_thread" and caller == "threading":  # a Thread starting: the hook follows it
            return
        if (escape or (root in WATCHED and root != _root(caller))) and self._started_by_the_code_under_test(
                caller_frame):
            self.seen.add(ESCAPE + f"{module}.{name}" if escape else f"{module}.{name}")

    def __call__(self, frame, event, arg):
        if not self.active:
            return
        if event == "call":
            self._record(frame.f_back, frame.f_globals.get("__name__", ""), frame.f_code.co_qualname)
        elif event == "c_call":
            name = getattr(arg, "__qualname__", None) or getattr(arg, "__name__", "?")
            self._record(frame, _c_module(arg), name)

    def __enter__(self):
        self.active = True
        _thread_setprofile(self)
        _setprofile(self)
        return self

    def __exit__(self, *exc):
        if _getprofile() is not self:
            self.seen.add(ESCAPE + "the watch was switched off")
        _setprofile(None)
        _thread_setprofile(None)
        self.active = False


def calls_made(function, *args, **kwargs) -> tuple:
    """`function(*args, **kwargs)` and the sorted library functions it called (see `Watch`)."""
    with Watch() as watch:
        result = function(*args, **kwargs)
    return result, sorted(watch.seen)


def shortcuts(seen, libraries=(), names=()) -> list:
    """The recorded calls that break a "write it yourself" rule: any call into `libraries` (package names)
    or to a function called one of `names`, any call to the course's own helpers, and any escape."""
    found = []
    for call in seen:
        module, _, name = call.rpartition(".")
        if call.startswith(ESCAPE) or (_root(module) in libraries) or name in names or (
                _root(module) == "course" and not call.startswith(HARMLESS)):
            found.append(call)
    return sorted(found)
