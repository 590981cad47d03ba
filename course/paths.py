"""The one place that decides where files live and how long notebooks run.

Nothing here depends on the notebook's working directory: nbgrader runs each
submission from its own folder, so every path is anchored at the project.
"""
import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent



def assignments(root: Path = PROJECT_ROOT) -> tuple[str, ...]:
    """The assignments of the course at `root`: the folders of its `source/`, in name order.

    A new assignment is a new folder; nothing lists them by hand. (The students' handout has no
    `source/`, and a student on the hub may not read it: there the released notebooks' folders are the
    assignments.)"""
    for base in (Path(root) / "source", Path(root) / "release"):
        try:  # a student on the hub may not read source/ (instructor-only): then the released folders count
            return tuple(sorted(p.name for p in base.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))))
        except OSError:
            continue
    return ()


def choose(text: str, root: Path = PROJECT_ROOT) -> list[str]:
    """`"03_pooling 05,07_conv_backprop"` -> the assignments it names, in course order.

    Names may be separated by spaces or commas, and an unambiguous start (`03`) names the assignment."""
    known = assignments(root)
    chosen = set()
    for word in text.replace(",", " ").split():
        found = [a for a in known if a == word] or [a for a in known if a.startswith(word)]
        if len(found) != 1:
            what = "matches several" if found else "is no assignment"
            raise ValueError(f"{word!r} {what}; the assignments (folders of source/) are: {', '.join(known)}")
        chosen.add(found[0])
    return [a for a in known if a in chosen]


# The project's own assignments, for the commands and tests that work on this checkout.
ASSIGNMENTS = assignments()


def data_root() -> Path:
    """`COURSE_DATA` if set, else the project's `data/` folder."""
    override = os.environ.get("COURSE_DATA")
    return Path(override).expanduser().resolve() if override else PROJECT_ROOT / "data"


def fast_mode() -> bool:
    """True in CI (`COURSE_FAST=1`) and while nbgrader grades or validates.

    Notebooks use it to train on a small slice for one short epoch, so that
    grading a class does not retrain every student's network in full.
    """
    flag = os.environ.get("COURSE_FAST", "").strip().lower()
    return flag in {"1", "true", "yes", "on"} or "NBGRADER_EXECUTION" in os.environ
