# width_depth part 1: exact parity circuits built by hand; at 6 bits an OR of ANDs needs 32
# hidden units, one layer of weighted sums 6, a tree of XORs 11 in 3 layers, all 100% correct.
# Part 2: 6-bit parity with a deep 6-16-16-16-1 and a wide 6-H-1 network of the same budget
# (H = 84: 84 * 8 + 1 = 673 = 7 * 16 + 2 * 17 * 16 + 17). --check fails when the budgets differ
# by 2% or more or a circuit is wrong; the tables and the picture are printed / written.
add_test(NAME examples/width_depth
         COMMAND width_depth --bits 6 --steps 500 --seeds 3 --check
                 --out ${CMAKE_CURRENT_BINARY_DIR}/width_depth_ci)
set_tests_properties(examples/width_depth PROPERTIES PASS_REGULAR_EXPRESSION
  "bits \\| layers +units +params +accuracy.*\n  6    \\| +1 +32 +257 +100\\.0% \\| +1 +6 +49 +100\\.0% \\| +3 +11 +74 +100\\.0%\n.*exponentially many.*deep +6-16-16-16-1 +673 +[0-9.]+% .*\n +wide +6-84-1 +673 +[0-9.]+% .*wrote .*width_depth_ci\\.png\nat this size the (deep|wide) network")
add_test(NAME examples/width_depth_help COMMAND width_depth --help)
set_tests_properties(examples/width_depth_help PROPERTIES PASS_REGULAR_EXPRESSION
  "usage: width_depth.*notes 003")
