# two_layer_by_hand: the gradients from nb_backward must equal the chain-rule formulas
# (--check: largest difference <= 1e-6, and the step lowers the loss; exit 1 otherwise).
add_test(NAME examples/two_layer_by_hand COMMAND two_layer_by_hand --check --tol 1e-6)

# The printed forward pass, gradients (autograd column) and updated weights.
add_test(NAME examples/two_layer_by_hand_values COMMAND two_layer_by_hand)
set_tests_properties(examples/two_layer_by_hand_values PROPERTIES PASS_REGULAR_EXPRESSION
  "h1 = tanh\\(a1\\) = +0.282135.*h2 = tanh\\(a2\\) = +0.119427.*o  = w . h~  = +0.337781 .*L  = 0.0263150949.*dL/dw0 +-0.324438560797 .*dL/da1 +-0.209029264023 .*dL/da2 +0.159905566328 .*dL/dv22 +0.111933896429 .*v1 = \\(0.120903, -0.197910, 0.314632\\).*v2 = \\(0.484009, 0.398401, -0.611193\\).*w  = \\(0.232444, 0.709154, -0.496125\\).*L = 0.0089660701 \\(was 0.0263150949\\)")

add_test(NAME examples/two_layer_by_hand_help COMMAND two_layer_by_hand --help)
set_tests_properties(examples/two_layer_by_hand_help PROPERTIES
  PASS_REGULAR_EXPRESSION "usage: two_layer_by_hand")
