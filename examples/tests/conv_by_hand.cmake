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

# --course --check: the notes' matrices. Expected outputs worked out by hand from the notes' images
# (001's 5x5 image with top-left 6 as in the notes, the 001 6x6 question, 003's 5x5 image), the
# notes' sizes (3x3 VALID, 3x3 from a 2x2 kernel on 4x4, 25,088 and 6,272 px), the two-channel sum
# and 2x2 pooling by hand.
add_test(NAME examples/conv_by_hand_course COMMAND conv_by_hand --course --check)
set_tests_properties(examples/conv_by_hand_course PROPERTIES PASS_REGULAR_EXPRESSION
  "N1\\..*output \\(3x3\\):\n +6 +-9 +-8\n +-3 +-2 +-3\n +-3 +0 +-2\n.*N2\\..*output \\(4x4\\):\n +-7 +-2 +2 +-7\n +-9 +1 +4 +-8\n +-1 +3 +-7 +-4\n +5 +1 +-10 +-1\n.*N3\\..*output \\(3x3\\):\n +-10 +-8 +3\n +-1 +-9 +0\n +-1 +-11 +1\n.*max pooling 2x2 \\(nb_max_pool2d\\) \\(2x2\\):\n +1 +4\n +5 +-1\n.*average pooling 2x2 \\(nb_avg_pool2d\\) \\(2x2\\):\n +-4\\.25 +-2\\.25\n +2 +-5\\.5\n.*784 px -> 32 maps 28x28 = 25088 px -> pooled 14x14 x32 = 6272 px.*all values agree with the notes")
