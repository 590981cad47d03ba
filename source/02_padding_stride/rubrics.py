"""How the written answers of 02_padding_stride are graded by hand: points per part, and what earns them.

course.grading.verdicts.rubrics shows each rubric under the student's answer in formgrader and in the feedback.
"""
RUBRICS = {
    "stride_tradeoff": [
        (0.5, "about 13 to 14 stride-1 layers (each 3x3 layer adds 2 pixels to the receptive field) against "
              "4 or 5 with stride 2 (the field roughly doubles per layer); any reasoning that reaches these "
              "orders of magnitude"),
        (0.5, "one gain (fewer layers, far fewer multiplications, smaller feature maps) and one cost (spatial "
              "detail and exact positions are lost, small features can be skipped)"),
    ],
}
