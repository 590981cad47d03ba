"""Late penalties recomputed without running a notebook again: after a change of the late policy, a due date
or an extension, nothing but the penalty can change, so a regrade of the notebook is not needed.

nbgrader's AssignLatePenalties computes a notebook's penalty when it is autograded, from the notebook's
autograded score (the grading worker's scratch gradebook holds no manual score) and how late the submission
is. `recompute` does the same from the scores already in the course gradebook, and `version` fingerprints
everything a penalty depends on besides those scores, so the grading engine knows when to recompute.
"""
from __future__ import annotations

import hashlib
import inspect
from pathlib import Path

PREPROCESSOR = "AssignLatePenalties"


def load_config(root: Path):
    from traitlets.config import PyFileConfigLoader

    return PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()


def policy(root: Path, config=None):
    """The late-penalty plugin as the course's `nbgrader_config.py` sets it up (what autograde would use)."""
    from nbgrader.plugins import LateSubmissionPlugin
    from traitlets.utils.importstring import import_item

    config = load_config(root) if config is None else config
    plugin = config[PREPROCESSOR].get("plugin_class", LateSubmissionPlugin)
    return (import_item(plugin) if isinstance(plugin, str) else plugin)(config=config)


def sections(plugin) -> set:
    """The configuration sections that set the late policy: the preprocessor's and each class of the plugin."""
    from traitlets.config import Configurable

    return {PREPROCESSOR} | {cls.__name__ for cls in type(plugin).__mro__
                             if issubclass(cls, Configurable) and not cls.__module__.startswith("traitlets.")}


def version(plugin, duedate, extension) -> str:
    """Everything a submission's penalty depends on but its scores and its time: the plugin's class, code and
    settings, the due date and the extension."""
    kind = type(plugin)
    settings = sorted((name, repr(getattr(plugin, name))) for name in plugin.trait_names(config=True))
    digest = hashlib.sha256(f"{kind.__module__}.{kind.__qualname__}\0{settings}\0due:{duedate}\0ext:{extension}"
                            .encode())
    try:
        digest.update(Path(inspect.getsourcefile(kind)).read_bytes())
    except (TypeError, OSError):  # a class without a source file: its name and settings stand for it
        pass
    return digest.hexdigest()


def recompute(gradebook, submission, plugin) -> float:
    """Set each notebook's late penalty of `submission` as nbgrader's AssignLatePenalties does at autograde
    (from the notebook's autograded score, as the grading worker sees it); returns their sum."""
    seconds = submission.total_seconds_late
    total = 0.0
    for notebook in submission.notebooks:
        score = sum(grade.auto_score or 0.0 for grade in notebook.grades)
        penalty = plugin.late_submission_penalty(submission.student.id, score, seconds) if seconds > 0 else None
        if penalty is not None:
            penalty = min(max(penalty, 0.0), score)
        notebook.late_submission_penalty = penalty
        total += penalty or 0.0
    return total
