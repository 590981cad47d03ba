"""How the written answers of 04_emnist_cnn are graded by hand: points per part, and what earns them.

course.grading.verdicts.rubrics shows each rubric under the student's answer in formgrader and in the feedback.
"""
RUBRICS = {
    "confidence_and_linear": [
        (1.0, "(a) reads the student's own section 5: most letters get a probability close to 0 or 1, and "
              "says what the least certain ones share (unusual shapes: open or squashed O's, short or curved "
              "X strokes, letters that look like the other class); half a point when only one of the two"),
        (1.0, "(b) one valid reason: the same small kernel is applied everywhere (weight sharing), so a stroke "
              "is found wherever it is; far fewer weights; local patterns built up into larger ones"),
    ],
}
