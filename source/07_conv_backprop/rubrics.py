"""How the written answers of 07_conv_backprop are graded by hand: points per part, and what earns them.

course.grading.verdicts.rubrics shows each rubric under the student's answer in formgrader and in the feedback.
"""
RUBRICS = {
    "kernel_gradient": [
        (0.5, "dw[f, c, u, v] is a sum over images and output positions of the upstream gradient dout times the "
              "input pixel that weight multiplied (a correlation of the input with dout)"),
        (0.5, "it is how fast the loss changes when that weight is nudged (sign: which way increases the loss, "
              "size: how sensitive), and gradient descent moves each weight against it, as learn_kernel does"),
    ],
    "im2col_speed": [
        (0.5, "the loop version pays Python overhead at every output position with tiny products, while im2col "
              "loops only over the kernel offsets and does one large matrix product in optimised BLAS "
              "(vectorised, cache-friendly); refers to the timing plot"),
        (0.5, "one cost: the column matrix repeats each pixel up to kh*kw times, so it needs much more memory "
              "and copying"),
    ],
}
