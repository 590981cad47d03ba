"""The instructor's settings for grading on submit, read from the course's nbgrader_config.py.

    c.OnSubmit.per_hour = 5            graded submissions per student and assignment in any hour
    c.OnSubmit.max_bytes = 50 * 2**20  larger submissions are refused with the reason
    c.WithholdHiddenTests.policy = "until_due"   or "points_only", or "everything"

The policy applies to all of nbgrader's feedback (nbgrader_config.py puts WithholdHiddenTests among
GenerateFeedback's preprocessors), so the feedback the instructor generates agrees with the service's.
"""
from __future__ import annotations

import datetime
import re
from pathlib import Path

import nbformat
from nbconvert.preprocessors import Preprocessor
from traitlets import Enum, Integer
from traitlets.config import Configurable
from traitlets.config.loader import PyFileConfigLoader

from ...engine import driver

BEGIN, END = "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"
POLICIES = ("points_only", "until_due", "everything")
FAILED_AT = re.compile(r"(?:Cell In\s*\[[^\]]*\]|<ipython-input-[^>]*>), line (\d+)")
ANSI = re.compile(r"\x1b\[[0-9;]*m")
CHECK_BLOCK = re.compile("^[\u2705\u274c] ([^:,]+)")


class OnSubmit(Configurable):
    per_hour = Integer(5, help="graded submissions per student and assignment in any hour; later ones wait").tag(
        config=True)
    max_bytes = Integer(driver.MAX_SUBMISSION_BYTES, help="larger submissions are refused").tag(config=True)


def load(root: Path):
    """The course's nbgrader configuration (traitlets Config), as nbgrader itself reads it."""
    return PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()


def settings(config) -> OnSubmit:
    return OnSubmit(config=config)


def hidden_lines(source: str) -> set[int]:
    """1-based numbers of the lines between (and on) the hidden-test markers."""
    inside, lines = False, set()
    for number, line in enumerate(source.splitlines(), start=1):
        if BEGIN in line:
            inside = True
        if inside:
            lines.add(number)
        if END in line:
            inside = False
    return lines


def failing_line(output) -> int | None:
    """The cell line an error output points at (IPython's traceback names it), else None."""
    if output.get("output_type") != "error":
        return None
    found = FAILED_AT.findall(ANSI.sub("", "\n".join(output.get("traceback", []))))
    return int(found[-1]) if found else None


def visible_blocks(text: str, visible: str) -> tuple[str, bool]:
    """The parts of printed text that the visible checks wrote; and whether anything else was dropped.

    The course's checks (course/checks.py) print one block per check, starting with its mark and its name;
    a block is kept when that name is quoted in the cell's visible part."""
    kept, dropped, keeping = [], False, False
    for line in text.splitlines(keepends=True):
        head = CHECK_BLOCK.match(line)
        if head:
            keeping = f'"{head.group(1)}"' in visible or f"'{head.group(1)}'" in visible
        elif not line.startswith(" "):
            keeping = False
        if keeping:
            kept.append(line)
        else:
            dropped = dropped or bool(line.strip())
    return "".join(kept), dropped


def withhold(cell, until: str) -> bool:
    """Strip a test cell's hidden tests and whatever they said; True when there were some."""
    hidden = hidden_lines(cell.source)
    if not hidden:
        return False
    kept = [line for n, line in enumerate(cell.source.splitlines(), start=1) if n not in hidden]
    visible = "\n".join(kept)
    cell.source = "\n".join([*kept, f"# (hidden tests withheld {until})"])
    outputs, dropped = [], False
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            text, lost = visible_blocks(output.get("text", ""), visible)
            dropped = dropped or lost
            if text:
                outputs.append({**output, "text": text})
        elif output.get("output_type") == "error" and failing_line(output) not in hidden | {None}:
            outputs.append(output)  # a visible check failed
        else:
            dropped = True
    if dropped:
        outputs.append(nbformat.from_dict({"output_type": "stream", "name": "stdout",
                                           "text": f"(a hidden test's messages are withheld {until})\n"}))
    cell.outputs = [nbformat.from_dict(o) for o in outputs]
    return True


class WithholdHiddenTests(Preprocessor):
    """Feedback without the hidden tests' code and messages, as the course's policy says; the points stay."""

    enabled = True

    policy = Enum(POLICIES, default_value="until_due", help="points_only: hidden tests are never shown; "
                  "until_due: shown once the due date (with the student's extension) has passed; "
                  "everything: always shown").tag(config=True)

    def preprocess(self, nb, resources):
        if self.policy == "everything":
            return nb, resources
        due = None
        if self.policy == "until_due":
            due = submission_due(resources)
            if due is not None and due <= datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None):
                return nb, resources
        until = "by the course's policy" if self.policy == "points_only" else (
            f"until the due date ({due:%Y-%m-%d %H:%M} UTC)" if due else "until the due date")
        for cell in nb.cells:
            if cell.cell_type == "code":
                withhold(cell, until)
        return nb, resources


def submission_due(resources) -> datetime.datetime | None:
    """The student's due date (naive UTC, with their extension) from the gradebook, None without one."""
    from nbgrader.api import Gradebook, MissingEntry

    info = resources.get("nbgrader", {})
    try:
        with Gradebook(info["db_url"]) as gradebook:
            return gradebook.find_submission(info["assignment"], info["student"]).duedate
    except (KeyError, MissingEntry):
        return None


def hidden_until_due(config, due: datetime.datetime | None, now: datetime.datetime) -> bool:
    """Whether feedback generated at `now` withholds hidden tests under the course's policy."""
    policy = WithholdHiddenTests(config=config).policy
    return policy == "points_only" or (policy == "until_due" and (due is None or due > now))
