# activations: the four functions of notes 001 and their derivatives from nb_backward, which must
# match the closed forms (--check: within 1e-12). Table values: tanh(1) = 0.7616,
# 1 - tanh(1)^2 = 0.4200, sigmoid(0) = 0.5 with slope 0.25, ReLU's slope 0 / 1.
add_test(NAME examples/activations COMMAND activations --check
         --out ${CMAKE_CURRENT_BINARY_DIR}/activations_ci)
set_tests_properties(examples/activations PROPERTIES PASS_REGULAR_EXPRESSION
  "  0\\.0  \\|  0\\.0000  1\\.0000  \\|   0\\.0   0\\.0  \\|  0\\.5000   0\\.2500  \\|    0\\.0   1\\.0\n  1\\.0  \\|  0\\.7616  0\\.4200  \\|   1\\.0   1\\.0  \\|  0\\.7311   0\\.1966 .*wrote .*activations_ci\\.png\nwrote .*activations_ci_derivatives\\.png")
add_test(NAME examples/activations_help COMMAND activations --help)
set_tests_properties(examples/activations_help PROPERTIES PASS_REGULAR_EXPRESSION
  "usage: activations.*notes 001")
