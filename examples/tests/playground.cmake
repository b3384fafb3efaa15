# playground: notes 001's demo and the decision regions of notes 000/003. One tanh neuron must
# separate AND and OR (95%) but not XOR or the circle (at most 80%); the 2-6-1 tanh network must
# reach 95% on all four (--check). XOR becomes separable in the hidden space z of a 2-2-1 net.
add_test(NAME examples/playground
         COMMAND playground --check --out ${CMAKE_CURRENT_BINARY_DIR}/playground_ci)
set_tests_properties(examples/playground PROPERTIES PASS_REGULAR_EXPRESSION
  "circle +[0-7]?[0-9]\\.[0-9]% +(9[5-9]|100)\\.[0-9]%.*xor +[0-7]?[0-9]\\.[0-9]% +(9[5-9]|100)\\.[0-9]%.*and +(9[5-9]|100)\\.[0-9]% +(9[5-9]|100)\\.[0-9]%.*or +(9[5-9]|100)\\.[0-9]% +(9[5-9]|100)\\.[0-9]%.*XOR with a 2-2-1 net: [0-9.]+%; wrote .*playground_ci_xor_z\\.png")
add_test(NAME examples/playground_help COMMAND playground --help)
set_tests_properties(examples/playground_help PROPERTIES PASS_REGULAR_EXPRESSION
  "usage: playground.*notes 001")
