"""How the written answers of 03_pooling are graded by hand: points per part, and what earns them.

course.grading.verdicts.rubrics shows each rubric under the student's answer in formgrader and in the feedback.
"""
RUBRICS = {
    "pooling_invariance": [
        (0.5, "a strong response that moves by one pixel but stays inside its window leaves the window's "
              "maximum, and so the pooled map, unchanged"),
        (0.5, "what is given up: where inside the window the feature was (spatial precision); a move across a "
              "window border still changes the output"),
    ],
}
