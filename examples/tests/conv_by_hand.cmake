# conv_by_hand: the 6x6 exercise (first row -5 -4 0 8, bottom-right -16), the vertical edge's
# 30s, VALID 3x3 vs SAME 5x5, and the kernels on a generated image (identity exact, PNG written).
add_test(NAME examples/conv_by_hand COMMAND conv_by_hand --synthetic --out conv_by_hand_test)
set_tests_properties(examples/conv_by_hand PROPERTIES PASS_REGULAR_EXPRESSION
  "output = image \\* kernel \\(4x4\\):\n +-5 +-4 +0 +8\n +-10 +-2 +2 +3\n +0 +-2 +-4 +-7\n +-3 +-2 +-3 +-16\n.*output \\(5x5 image\\) \\(3x3\\):\n +0 +30 +30\n.*VALID: output 3x3.*SAME : output 5x5.*identity reproduces the input: max \\|difference\\| = 0\nwrote conv_by_hand_test_kernels.png")
add_test(NAME examples/conv_by_hand_help COMMAND conv_by_hand --help)
set_tests_properties(examples/conv_by_hand_help PROPERTIES PASS_REGULAR_EXPRESSION
  "usage: conv_by_hand")
add_test(NAME examples/conv_by_hand_rejects_bad_item COMMAND conv_by_hand --item x)
set_tests_properties(examples/conv_by_hand_rejects_bad_item PROPERTIES WILL_FAIL TRUE)
