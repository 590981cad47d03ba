"""Trusted hidden checks for 01_convolution (instructor-only: never released, invisible to students).

`course.grading.verdicts.trusted` runs each `collect` in a sandboxed copy of the submission and
each `judge` in the grader, against scipy's `correlate2d`; see that module.
"""
import numpy as np
from scipy.signal import correlate2d

from course.grading.verdicts.probe import CONVOLUTIONS, Loops, Probe, compare_arrays, describe
from course.grading.verdicts.probe_kit import count_problem, loop_answers

# What float32 arithmetic (a correct answer) can be off by, relative and absolute, for these sizes.
FLOAT32 = 1e-5
BY_HAND_IMAGE = np.array([[0, 200, 200], [0, 0, 200], [0, 0, 0]], dtype=float)


# ---- exercise 1: by hand -------------------------------------------------------------------------

def collect_by_hand(ns, data):
    return np.asarray(ns["by_hand"], dtype=float)


def judge_by_hand(data, answer):
    problem = compare_arrays(answer, correlate2d(BY_HAND_IMAGE, np.full((2, 2), 0.25), "valid"), atol=1e-6)
    return problem and f"by_hand: {problem}"


# ---- exercise 2: output shape --------------------------------------------------------------------

def shape_cases(rng):
    cases = [((7, 7), (7, 7)), ((9, 4), (1, 1)), ((1, 1), (1, 1)), ((3, 10), (3, 1)), ((12, 5), (4, 5)),
             ((1, 30), (1, 7)), ((25, 2), (24, 2))]
    for _ in range(40):
        h, w = (int(n) for n in rng.integers(1, 60, size=2))
        cases.append(((h, w), (int(rng.integers(1, h + 1)), int(rng.integers(1, w + 1)))))
    return {"cases": cases}


def collect_output_shape(ns, data):
    function = ns["calculate_output_shape"]
    return [[int(n) for n in function(tuple(image), tuple(kernel))] for image, kernel in data["cases"]]


def judge_output_shape(data, answer):
    if len(answer) != len(data["cases"]):
        return "calculate_output_shape: not one shape per case"
    for (image, kernel), got in zip(data["cases"], answer):
        want = correlate2d(np.zeros(image), np.zeros(kernel), "valid").shape
        if tuple(got) != want:
            return (f"calculate_output_shape: wrong shape for a hidden {image[0]}\u00d7{image[1]} image "
                    f"and {kernel[0]}\u00d7{kernel[1]} kernel")
    return None


# ---- exercise 3: the loop ------------------------------------------------------------------------

def convolution_cases(rng):
    cases = [(rng.integers(-9, 10, (6, 6)), rng.integers(-3, 4, (3, 3))),
             (rng.integers(0, 256, (5, 9)), rng.integers(-2, 3, (2, 4))),
             (rng.integers(-5, 6, (8, 3)), rng.integers(-5, 6, (8, 1))),
             (rng.normal(size=(7, 4)), rng.normal(size=(3, 2))),
             (rng.normal(size=(4, 4)), rng.normal(size=(4, 4))),
             (rng.normal(size=(3, 8)), rng.normal(size=(1, 1)))]
    for _ in range(12):
        h, w = (int(n) for n in rng.integers(1, 16, size=2))
        kernel = (int(rng.integers(1, h + 1)), int(rng.integers(1, w + 1)))
        cases.append((rng.normal(size=(h, w)), rng.normal(size=kernel)))
    return {"cases": [{"image": image, "kernel": kernel} for image, kernel in cases]}


def collect_convolution(ns, data):
    return loop_answers(ns["convolution2d"], [(case["image"], case["kernel"]) for case in data["cases"]])


def judge_convolution(data, answer):
    if problem := count_problem("convolution2d", answer["outputs"], data["cases"]):
        return problem
    for case, got in zip(data["cases"], answer["outputs"]):
        image, kernel = case["image"], case["kernel"]
        exact = image.dtype.kind == "i"  # whole numbers: exact even in float32
        # float32 arithmetic is a correct answer too, so the tolerance is float32's, not float64's
        problem = compare_arrays(got, correlate2d(image, kernel, "valid"), exact=exact, rtol=FLOAT32, atol=FLOAT32)
        if problem:
            return f"convolution2d: {problem} for a hidden {describe(image)} image with a {describe(kernel)} kernel"
    return None


PROBES = [
    Probe("test_by_hand", collect=collect_by_hand, judge=judge_by_hand),
    Probe("test_calculate_output_shape", collect=collect_output_shape, judge=judge_output_shape,
          inputs=shape_cases),
    Probe("test_convolution2d", collect=collect_convolution, judge=judge_convolution, inputs=convolution_cases,
          rule=Loops("convolution2d must use loops, not a library", CONVOLUTIONS)),
]
