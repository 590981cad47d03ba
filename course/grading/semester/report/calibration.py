"""A generated class to calibrate the similarity threshold on: independent answers and planted copies.

Independent students answer each exercise with the solution, a fair answer (source/<a>/fair.py), a
catalogued mistake (mistakes.py); many of them hand in the same catalogue answer, as real
students write the same short expected code. What makes a real submission a student's own (their
exploration, their helper code) is modelled by a block of a few self-contained statements drawn at
random for each student and typed into one of their solution cells. A planted copy takes another
student's distinctive answer (the cell holding that block), renames its names, rewrites its comments
and reorders its statements (each stands alone, so any order runs the same).
"""
from __future__ import annotations

import random
from dataclasses import dataclass

from ...verdicts import catalogues
from ..submissions import solution_answers

WORDS = ("probe", "check", "trial", "look", "peek", "test", "demo", "sample", "guess", "quick", "patch", "grid")
STATEMENTS = (
    "{a} = np.arange({n} * {m}).reshape({n}, {m})\nprint('{w}', {a}.sum(axis={z}))",
    "{a} = np.random.default_rng({n}).integers(0, {m}, size=({n}, {p}))\nprint({a}.max() - {a}.min())",
    "{a} = [{n} * {b} + {m} for {b} in range({p})]\nassert len({a}) == {p}, '{w}'",
    "{a} = {{'{w}': {n}, 'size': {m}, 'rows': {p}}}\nprint(sorted({a}.items()))",
    "{a} = np.ones(({n}, {m}))\n{a}[{z}, :] = {p}\nprint({a}.mean())",
    "{a} = {n}\nwhile {a} < {m} * {p}:\n    {a} += {n}\nprint('{w}', {a})",
    "def {a}({b}):\n    return {b} * {n} - {m}\n\nprint([{a}(v) for v in range({p})])",
    "{a} = np.eye({n})[:{m}]\nprint({a}.shape, '{w}')",
    "{a} = np.linspace(0, {m}, {n})\n{b} = {a}[{a} > {p}]\nprint(len({b}))",
    "for {a} in range({n}):\n    if {a} % {z} == 0:\n        print('{w}', {a} * {m})",
    "{a} = np.pad(np.full(({n}, {n}), {m}), {z})\nprint({a}.shape)",
    "{a} = tuple(range({m}, {m} + {n}))\n{b} = sum({a}) // {p}\nprint({b})",
)


@dataclass
class Student:
    name: str
    answers: dict  # solution cell -> code
    own_cell: str = ""  # the cell holding the student's distinctive answer
    copied_from: str = ""


def own_block(rng: random.Random, names=None) -> list:
    """A few self-contained statements (a student's own checks), each a list item so it can be reordered."""
    names = names or iter(f"{rng.choice(WORDS)}_{i}{rng.randrange(100)}" for i in range(100))
    block = []
    for template in rng.sample(STATEMENTS, rng.randint(5, 7)):
        block.append(template.format(a=next(names), b=next(names), w=rng.choice(WORDS), n=rng.randint(2, 9),
                                     m=rng.randint(3, 40), p=rng.randint(2, 12), z=rng.randint(1, 2)))
    return block


def answer_pool(root, assignment: str, mistakes: bool = True) -> dict:
    """solution cell -> the catalogue's answers to it: the solution (twice: the most common), the fair
    answers and, with `mistakes`, the catalogued mistakes."""
    solutions = solution_answers(root / "source" / assignment / f"{assignment}.ipynb")
    pool = {cell: [code, code] for cell, code in solutions.items()}
    extra = catalogues.mistakes(assignment, root) if mistakes else []
    for entry in catalogues.fair_answers(assignment, root) + extra:
        pool.setdefault(entry["cell"], []).append(entry["code"])
    return pool


def generated_class(root, assignment: str, size: int, copies: int, seed: int = 0) -> list:
    """`size` students, the last `copies` of them each copying an earlier student's distinctive answer."""
    rng = random.Random(seed)
    pool = answer_pool(root, assignment)
    cells = sorted(c for c in pool if any("def " in a or "=" in a for a in pool[c]))
    students = []
    for number in range(size):
        answers = {cell: rng.choice(pool[cell]) for cell in pool}
        own = rng.choice(cells)
        answers[own] = answers[own].rstrip("\n") + "\n\n# my own checks\n" + "\n".join(
            f"# step {i}\n{s}" for i, s in enumerate(own_block(rng))) + "\n"
        students.append(Student(f"s{number:03d}", answers, own))
    for copier, source in zip(students[size - copies:], rng.sample(students[: size - copies], copies)):
        copier.answers[source.own_cell] = disguised(source.answers[source.own_cell], rng)
        copier.own_cell, copier.copied_from = source.own_cell, source.name
    return students


def disguised(answer: str, rng: random.Random) -> str:
    """The answer with its own statements reordered, its names renamed and its comments rewritten."""
    head, _, block = answer.partition("\n\n# my own checks\n")
    statements = [s.split("\n", 1)[1] for s in block.strip("\n").split("\n# step ")[0:]
                  if "\n" in s] if block else []
    rng.shuffle(statements)
    text = head + "\n\n" + "\n".join(f"# trying something ({i})\n{s}" for i, s in enumerate(statements)) + "\n"
    for word in WORDS:
        text = text.replace(f"{word}_", f"my_{word[::-1]}_")
    return text


def sources(students: list) -> dict:
    """student -> one source file, solution cells in a fixed order (as similarity.solution_code reads them)."""
    return {s.name: "\n\n".join(s.answers[c] for c in sorted(s.answers)) for s in students}


def planted(students: list) -> set:
    return {tuple(sorted((s.name, s.copied_from))) for s in students if s.copied_from}
