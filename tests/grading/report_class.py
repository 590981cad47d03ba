"""The report's class of 01_convolution: with the catalogue class (tests/grading/catalogue_class.py), 60 students.

Each report student hands in the solutions with at most one catalogued mistake, so a mistake's students
are exactly the ones listed under its reason; the mistakes are planted in different numbers (the kernel
flipped most often in convolution2d, the output shape off by one in calculate_output_shape, the sum in
by_hand), more often than the blank notebooks fail the same checks. Some hand in fair answers, some
their own checks (a distinctive answer), and two copy such an answer, disguised
(course.grading.semester.report.calibration.disguised). 01_convolution is the cheapest to grade.
"""
import random
from pathlib import Path

from course.grading.semester.report import calibration
from course.grading.semester.submissions import fill, solution_answers
from course.grading.verdicts import catalogues
from tests.grading import catalogue_class

ASSIGNMENT = "01_convolution"
SIZE = 60
# mistake name -> how many report students make it (wrong01.. of the catalogue class make each once more)
PLANTED = {"convolution: kernel flipped (true convolution)": 10, "output shape: off by one": 6,
           "by hand: summed instead of averaged": 5, "convolution: loop stops one short": 3,
           "convolution: calls scipy instead of looping": 2, "output shape: rows and columns mixed up": 2,
           "by hand: transposed result": 1, "convolution: scipy under another name, called from a helper": 1}
BLANKS, OWN, COPIES = 3, 4, 2


def build(course: Path, plan: dict) -> dict:
    """Write the report students into course/submitted, given the catalogue class's `plan` (student -> lost
    cells). Returns {"mistakes": {mistake name: students}, "blank": students, "copies": {(a, b) pairs}}."""
    release = course / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    solutions = solution_answers(course / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    submitted = course / "submitted"
    made = {"mistakes": {}, "blank": [catalogue_class.BLANK], "copies": set()}
    students = []

    def hand_in(answers: dict | None) -> str:
        students.append(f"r{len(students) + 1:02d}")
        fill(release, {} if answers is None else dict(solutions, **answers),
             submitted / students[-1] / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
        return students[-1]

    for number, mistake in enumerate(catalogues.mistakes(ASSIGNMENT, course), 1):
        made["mistakes"][mistake["name"]] = [f"wrong{number:02d}"] + [
            hand_in({mistake["cell"]: mistake["code"]}) for _ in range(PLANTED[mistake["name"]])]
    made["blank"] += [hand_in(None) for _ in range(BLANKS)]
    rng = random.Random(25)
    owners = []
    for _ in range(OWN):
        cell = rng.choice(sorted(solutions))
        answer = solutions[cell].rstrip("\n") + "\n\n# my own checks\n" + "\n".join(
            f"# step {i}\n{s}" for i, s in enumerate(calibration.own_block(rng))) + "\n"
        owners.append((hand_in({cell: answer}), cell, answer))
    for owner, cell, answer in owners[:COPIES]:
        made["copies"].add(tuple(sorted((owner, hand_in({cell: calibration.disguised(answer, rng)})))))
    fair = catalogue_class.fair_students(ASSIGNMENT, course)
    while len(plan) + len(students) < SIZE:
        hand_in(rng.choice(list(fair.values())))
    return made
