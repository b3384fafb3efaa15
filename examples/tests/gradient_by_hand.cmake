# gradient_by_hand: notes 001's grad f(1, 2) = (2, 4) for f = x^2 + y^2, from nb_backward
# (--check compares with the notes' (2, 4) and exits 1 otherwise); writes the picture.
add_test(NAME examples/gradient_by_hand
         COMMAND gradient_by_hand --check --out ${CMAKE_CURRENT_BINARY_DIR}/gradient_by_hand_ci)
set_tests_properties(examples/gradient_by_hand PROPERTIES PASS_REGULAR_EXPRESSION
  "grad f from nb_backward  = \\(2, 4\\).*wrote .*gradient_by_hand_ci\\.png.*grad f\\(1, 2\\) = \\(2, 4\\) as in the notes")
# Another point: grad f(-1.5, 0.5) = (-3, 1).
add_test(NAME examples/gradient_by_hand_point
         COMMAND gradient_by_hand -1.5 0.5 --out ${CMAKE_CURRENT_BINARY_DIR}/gradient_by_hand_pt)
set_tests_properties(examples/gradient_by_hand_point PROPERTIES PASS_REGULAR_EXPRESSION
  "grad f from nb_backward  = \\(-3, 1\\)")
add_test(NAME examples/gradient_by_hand_help COMMAND gradient_by_hand --help)
set_tests_properties(examples/gradient_by_hand_help PROPERTIES PASS_REGULAR_EXPRESSION
  "usage: gradient_by_hand.*notes 001")
add_test(NAME examples/gradient_by_hand_rejects_one_coordinate COMMAND gradient_by_hand 1)
set_tests_properties(examples/gradient_by_hand_rejects_one_coordinate PROPERTIES WILL_FAIL TRUE)
