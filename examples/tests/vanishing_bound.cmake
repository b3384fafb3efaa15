# vanishing_bound: notes 002's gradient of a 2-layer tanh net extended to 5 layers. Every measured
# ||dE/dW|| from nb_backward must lie below the bound (--check), at the default weights and with
# weights x0.3, where every factor max(1 - y^2) ||W|| is below 1 and the first layer's gradient
# is orders of magnitude below the last one's (the vanishing gradient).
add_test(NAME examples/vanishing_bound COMMAND vanishing_bound --check)
set_tests_properties(examples/vanishing_bound PROPERTIES PASS_REGULAR_EXPRESSION
  "layer +\\|\\|W\\|\\| +max\\(1-y\\^2\\) +\\|\\|dE/dW\\|\\| measured +tight bound +simple bound\n +1 .*\n +5 ")
add_test(NAME examples/vanishing_bound_small_weights COMMAND vanishing_bound --scale 0.3 --check)
set_tests_properties(examples/vanishing_bound_small_weights PROPERTIES PASS_REGULAR_EXPRESSION
  "factor per layer going down, max\\(1 - y\\^2\\) \\|\\|W\\|\\|: 0\\.[0-9]+, 0\\.[0-9]+, 0\\.[0-9]+, 0\\.[0-9]+\nlayer 1 / layer 5 measured: [0-9.]+e-0[3-9]")
add_test(NAME examples/vanishing_bound_help COMMAND vanishing_bound --help)
set_tests_properties(examples/vanishing_bound_help PROPERTIES PASS_REGULAR_EXPRESSION
  "usage: vanishing_bound.*notes 002")
