"""How the written answers of 01_convolution are graded by hand: points per part, and what earns them.

course.grading.verdicts.rubrics shows each rubric under the student's answer in formgrader and in the feedback.
"""
RUBRICS = {
    "averaging_kernel": [
        (0.5, "says that each output is the mean of a patch, so the kernel blurs (smooths) the image"),
        (0.5, "says what happens to both: sharp edges become gradual ramps, an isolated noisy pixel is spread "
              "over its neighbours and weakened (to a quarter for this 2x2 kernel)"),
    ],
}
