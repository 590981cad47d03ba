"""How the written answers of 05_training_loop are graded by hand: points per part, and what earns them.

course.grading.verdicts.rubrics shows each rubric under the student's answer in formgrader and in the feedback.
"""
RUBRICS = {
    "overfitting": [
        (0.5, "(a) points to the student's own curves: training loss still falling while validation loss "
              "flattens and rises (the gap grows), with an epoch where it starts"),
        (1.0, "(b) the loss also punishes confidence: a few images predicted wrongly with ever higher "
              "confidence raise the mean loss, while the number of correct arg-max predictions still grows"),
        (0.5, "(c) two sensible remedies: early stopping on validation, dropout, augmentation, weight decay, "
              "more data, a smaller network"),
    ],
}
