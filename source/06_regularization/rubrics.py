"""How the written answers of 06_regularization are graded by hand: points per part, and what earns them.

course.grading.verdicts.rubrics shows each rubric under the student's answer in formgrader and in the feedback.
"""
RUBRICS = {
    "what_changed": [
        (1.0, "(1) gives the gap of each run from the student's own table, in order, and why: dropout keeps the "
              "network from relying on single units, augmentation shows it more varied images; half a point "
              "for the numbers without the reasons"),
        (0.5, "(2) names the network that did best on the rotated test set in the student's table, and why "
              "(it was trained on transformed images)"),
        (0.5, "(3) what batch normalisation changed (faster, steadier training, higher training accuracy) and "
              "whether the gap closed, from the table"),
    ],
}
