# logistic_regression: the gradient nb_backward gives must equal sum x (h - y) at every step
# (within 1e-9; the gradient is a sum over 400 points, of size up to ~100) and training must
# reach 90% accuracy (the two clouds overlap: about 96% is the best any line can do).
add_test(NAME examples/logistic_regression
         COMMAND logistic_regression --check --n 400 --steps 200 --seed 3 --tol 1e-9
                 --min-accuracy 0.9)

# The printed summary: the loss falls and the final accuracy is in the nineties.
add_test(NAME examples/logistic_regression_values
         COMMAND logistic_regression --n 400 --steps 200 --every 100 --seed 3)
set_tests_properties(examples/logistic_regression_values PROPERTIES PASS_REGULAR_EXPRESSION
  "  1 +1\\.1[0-9]+ .*200 +0\\.0[0-9]+ .*accuracy 9[0-9]\\.[0-9]+%.*over all 200 steps = [0-9.]+e-1[0-9]")

add_test(NAME examples/logistic_regression_help COMMAND logistic_regression --help)
set_tests_properties(examples/logistic_regression_help PROPERTIES
  PASS_REGULAR_EXPRESSION "usage: logistic_regression")
