# linear_regression: gradient descent on standardised ages must recover the generating line
# (intercept 4.51 within 0.1, slope 0.036 within 0.002; with 1000 samples and noise 0.25 their
# standard errors are about 0.027 and 0.0006) and reach the least-squares fit (--check).
add_test(NAME examples/linear_regression
         COMMAND linear_regression --check --n 1000 --steps 100 --seed 42
                 --tol-intercept 0.1 --tol-slope 0.002
                 --png ${CMAKE_CURRENT_BINARY_DIR}/linear_regression_ci.png)

# The printed fit of the scaled run. On raw ages, 500 steps at the largest stable rate leave the
# intercept far from 4.51, so --check must fail there: that is why the feature is scaled.
# The notes' tanh model t0 + t1 tanh(w0 + w1 z) fits the (linear) data at least as well as the
# line, and the scatter with both fits is written.
add_test(NAME examples/linear_regression_values COMMAND linear_regression --steps 100 --seed 42
         --png ${CMAKE_CURRENT_BINARY_DIR}/linear_regression_values.png)
set_tests_properties(examples/linear_regression_values PROPERTIES PASS_REGULAR_EXPRESSION
  "gradient descent +4\\.4[0-9]+ +0\\.036[0-9]+ .*least squares +4\\.4[0-9]+ +0\\.036[0-9]+ .*the notes' tanh model.*MSE 0\\.05[0-9]+ \\(the line: 0\\.05[0-9]+\\).*wrote .*linear_regression_values\\.png")
add_test(NAME examples/linear_regression_unscaled_slow
         COMMAND linear_regression --no-scale --steps 500 --every 100 --seed 42 --check
                 --png ${CMAKE_CURRENT_BINARY_DIR}/linear_regression_unscaled.png)
set_tests_properties(examples/linear_regression_unscaled_slow PROPERTIES WILL_FAIL TRUE)

add_test(NAME examples/linear_regression_help COMMAND linear_regression --help)
set_tests_properties(examples/linear_regression_help PROPERTIES
  PASS_REGULAR_EXPRESSION "usage: linear_regression")
