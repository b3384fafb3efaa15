# width_depth: 6-bit parity with a deep 6-16-16-16-1 and a wide 6-H-1 network of the same budget
# (H = 84: 84 * 8 + 1 = 673 = 7 * 16 + 2 * 17 * 16 + 17). --check fails unless the budgets
# match within 2%; the table and the picture are printed / written.
add_test(NAME examples/width_depth
         COMMAND width_depth --bits 6 --steps 500 --seeds 3 --check
                 --out ${CMAKE_CURRENT_BINARY_DIR}/width_depth_ci)
set_tests_properties(examples/width_depth PROPERTIES PASS_REGULAR_EXPRESSION
  "deep +6-16-16-16-1 +673 +[0-9.]+% .*\n +wide +6-84-1 +673 +[0-9.]+% .*wrote .*width_depth_ci\\.png\nat this size the (deep|wide) network")
add_test(NAME examples/width_depth_help COMMAND width_depth --help)
set_tests_properties(examples/width_depth_help PROPERTIES PASS_REGULAR_EXPRESSION
  "usage: width_depth.*notes 003")
