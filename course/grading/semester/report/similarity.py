"""Submissions that look copied, found with copydetect (winnowed fingerprints of normalised code).

Each student's solution cells of an assignment become one Python source. copydetect replaces names,
strings and comments by placeholders before fingerprinting, so renamed variables and rewritten comments
do not hide a copy. Three kinds of shared code say nothing about copying and are dropped before pairs are
compared: the released notebook's code (what everybody was given), the answers the course knows students
write independently (the solutions, fair answers and catalogued mistakes of source/<assignment>/), and
code that many students wrote alike, as MOSS does with passages found in many programs.
A pair is listed when the matching code covers at least THRESHOLD of either student's remaining code
(calibrated by `python -m course.commands.bench_report`; docs/instructors.md says how to read a pair).
"""
from __future__ import annotations

import io
import itertools
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import nbformat
from copydetect import CodeFingerprint, compare_files
from copydetect.utils import highlight_overlap

from ...verdicts import catalogues
from ..submissions import solution_answers

THRESHOLD = 0.5
NOISE, GUARANTEE = 15, 20  # copydetect's k-gram length and guarantee, in characters of normalised code
MIN_OVERLAP = 60  # matching normalised characters below which a pair is not worth a look (a shared short answer)
COMMON_SHARE, COMMON_MIN = 0.05, 4  # code found in this share of the class (and at least so many) is common


@dataclass
class Pair:
    first: str
    second: str
    similarity: float  # the larger of the two shares of matching code
    shares: tuple
    overlap: int
    code: tuple  # both sources as HTML with the matching code marked


def solution_code(notebook_path: Path) -> str:
    """The code a student typed: the solution cells of one notebook, in order."""
    notebook = nbformat.read(str(notebook_path), as_version=4)
    return "\n\n".join(cell.source for cell in notebook.cells
                       if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("solution"))


def release_code(root: Path, assignment: str) -> str:
    """Every code cell the students were given: boilerplate for the comparison."""
    parts = []
    for path in sorted((Path(root) / "release" / assignment).glob("*.ipynb")):
        notebook = nbformat.read(str(path), as_version=4)
        parts += [cell.source for cell in notebook.cells if cell.cell_type == "code"]
    return "\n\n".join(parts)


def known_answers(root: Path, assignment: str) -> str:
    """The answers students are known to write independently: the solutions, the fair answers and the
    catalogued mistakes (source/<assignment>/). Three students handing in the same fair answer is no copy."""
    solutions = solution_answers(Path(root) / "source" / assignment / f"{assignment}.ipynb") \
        if (Path(root) / "source" / assignment / f"{assignment}.ipynb").is_file() else {}
    entries = catalogues.fair_answers(assignment, root) + catalogues.mistakes(assignment, root)
    return "\n\n".join([*solutions.values(), *(entry["code"] for entry in entries)])


def boilerplate(root: Path, assignment: str, known: bool = True) -> str:
    """What a shared passage must not be found in: the release, and (`known`) the catalogues' answers."""
    return release_code(root, assignment) + ("\n\n" + known_answers(root, assignment) if known else "")


def submissions(root: Path, assignment: str) -> dict:
    """student -> solution code of their graded notebooks of `assignment`."""
    found = {}
    for path in sorted((Path(root) / "autograded").glob(f"*/{assignment}/*.ipynb")):
        student = path.parent.parent.name
        found[student] = (found.get(student, "") + "\n\n" + solution_code(path)).strip("\n")
    return found


def fingerprint(name: str, code: str, boilerplate=()) -> CodeFingerprint:
    return CodeFingerprint(f"{name}.py", NOISE, GUARANTEE - NOISE + 1, boilerplate=list(boilerplate),
                           fp=io.StringIO(code))


def common_hashes(prints: dict, boilerplate: set) -> set:
    """Fingerprints that many students share: the expected answers, not anybody's own code."""
    frequency = Counter(h for p in prints.values() for h in set(p.hashes) - boilerplate)
    limit = max(COMMON_MIN, COMMON_SHARE * len(prints))
    return {h for h, n in frequency.items() if n >= limit}


def compare(codes: dict, boilerplate_code: str = "", threshold: float = THRESHOLD) -> list:
    """The pairs of `codes` (student -> source) at or above `threshold`, most similar first."""
    boilerplate = set(fingerprint("release", boilerplate_code).hashes) if boilerplate_code.strip() else set()
    first = {s: fingerprint(s, c, boilerplate) for s, c in codes.items()}
    ignored = boilerplate | common_hashes(first, boilerplate)
    prints = {s: fingerprint(s, c, ignored) for s, c in codes.items()}
    holders = {}
    for student, found in prints.items():
        for h in found.hashes:
            holders.setdefault(h, []).append(student)
    candidates = {pair for students in holders.values() for pair in itertools.combinations(sorted(students), 2)}
    pairs = []
    for a, b in sorted(candidates):
        overlap, copied, slices = compare_files(prints[a], prints[b])
        shares = tuple(float(share) for share in copied)
        similarity = max(shares)
        if overlap >= MIN_OVERLAP and similarity >= threshold:
            code = tuple(highlight_overlap(prints[s].raw_code, cut, "<mark>", "</mark>", escape_html=True)[0]
                         for s, cut in ((a, slices[0]), (b, slices[1])))
            pairs.append(Pair(a, b, similarity, shares, int(overlap), code))
    return sorted(pairs, key=lambda p: (-p.similarity, p.first, p.second))


def assignment_pairs(root: Path, assignment: str, threshold: float = THRESHOLD) -> list:
    return compare(submissions(root, assignment), boilerplate(root, assignment), threshold)
