# input_scaling: the gradient ratio of the course's unit must be x2 / x1 = 3500 / 1.2, the
# standardised fit must come within 10% of the least-squares loss in 200 steps and the raw fit
# must not (or need more than 10x as many steps). --check exits 1 otherwise.
add_test(NAME examples/input_scaling COMMAND input_scaling --check --steps 200 --seed 5)

# The printed numbers: both gradients and their ratio, the raw run's condition number
# (~10^8) and "not in 200", the standardised run's target reached in a few steps, and the
# one-hot table, the colour column of notes 001 (Red, Red, Yellow, Green, Yellow) as in the notes.
add_test(NAME examples/input_scaling_values COMMAND input_scaling --steps 200 --seed 5)
set_tests_properties(examples/input_scaling_values PROPERTIES PASS_REGULAR_EXPRESSION
  "dL/dw1 = 2 \\(y - t\\) x1 = +2518\\.4640.*dL/dw2 = 2 \\(y - t\\) x2 = +7345520\\.0000.*ratio dL/dw2 / dL/dw1 = 2916\\.666667.*raw inputs +: Hessian eigenvalues [0-9.e+-]+ \\.\\. [0-9.e+-]+, condition number [0-9.]+e\\+0[89].*raw +[0-9.e+-]+ +[0-9.]+ +not in 200.*standardised +[0-9.]+ +0\\.010[0-9]+ +[0-9]\n.*colour +\\| +Red +Yellow +Green\n.*\n +Red +\\| +1 +0 +0\n +Red +\\| +1 +0 +0\n +Yellow +\\| +0 +1 +0\n +Green +\\| +0 +0 +1\n +Yellow +\\| +0 +1 +0\n")

add_test(NAME examples/input_scaling_help COMMAND input_scaling --help)
set_tests_properties(examples/input_scaling_help PROPERTIES
  PASS_REGULAR_EXPRESSION "usage: input_scaling")
