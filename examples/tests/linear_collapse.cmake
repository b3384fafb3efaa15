# linear_collapse: notes 001, a network of linear layers is one layer. The stack and the product
# layer must agree to float32 rounding, and on XOR the linear 2-8-1 net must stay at the single
# layer's optimum (MSE 0.25) while the tanh net gets 4 of 4 (--check).
add_test(NAME examples/linear_collapse COMMAND linear_collapse --check)
set_tests_properties(examples/linear_collapse PROPERTIES PASS_REGULAR_EXPRESSION
  "largest \\|stacked - single\\| = [0-9.]+e-0[6-9].*hidden layer linear: [0-3] of 4 right, MSE 0\\.2[0-9]+.*hidden layer tanh: +4 of 4 right.*check: the stack is one layer")
add_test(NAME examples/linear_collapse_help COMMAND linear_collapse --help)
set_tests_properties(examples/linear_collapse_help PROPERTIES PASS_REGULAR_EXPRESSION
  "usage: linear_collapse.*notes 001")
