# perceptron: on separable data the online rule must converge (an epoch without mistakes),
# classify every point and stay within Novikoff's bound (--check exits 1 otherwise).
add_test(NAME examples/perceptron COMMAND perceptron --check --n 200 --seed 7)

# The printed result: the epoch count and no misclassified point.
add_test(NAME examples/perceptron_epochs COMMAND perceptron --n 200 --seed 7)
set_tests_properties(examples/perceptron_epochs PROPERTIES PASS_REGULAR_EXPRESSION
  "mistakes +0 .*converged after [0-9]+ epochs.*misclassified points with the final w: 0 of 200")

add_test(NAME examples/perceptron_help COMMAND perceptron --help)
set_tests_properties(examples/perceptron_help PROPERTIES
  PASS_REGULAR_EXPRESSION "usage: perceptron")
