# conv_arithmetic: sizes and counts worked out by hand.
#   1-D: floor((100 - 2*3 - 1) / 2) + 1 = 47; 4 weights + 1 bias
#   2-D: 100 - 4 + 1 = 97; 5 * 16 + 5 = 85
#   stack: 100 -> 97 -> 94 -> floor(90 / 2) + 1 = 46 -> pool 23; 85 + 810 + 3220 = 4115
#   Inception: 6*5*16 + 6 = 486, 5*5*9 + 5 = 230, 6 + 5 = 11 channels
#   bottleneck: 64*64*9 + 64 = 36928 vs (64*16 + 16) + (16*64*9 + 64) = 1040 + 9280 = 10320
#   Xception: (11*16 + 16) + (16*9 + 16) = 192 + 160 = 352 vs 11*16*9 + 16 = 1600
add_test(NAME examples/conv_arithmetic COMMAND conv_arithmetic)
set_tests_properties(examples/conv_arithmetic PROPERTIES PASS_REGULAR_EXPRESSION
  "\\[1, 1, 100\\] +-> \\[1, 1, 47\\] +5 weights\n.*\\[1, 1, 100, 100\\] +-> \\[1, 5, 97, 97\\] +85 weights\n.*-> \\[1, 20, 23, 23\\] +4115 weights\n.*\\[1, 5, 100, 100\\] +-> \\[1, 11, 100, 100\\] +716 weights\n.* 486 weights\n.* 230 weights\n.*-> \\[1, 64, 28, 28\\] +36928 weights\n.*-> \\[1, 64, 28, 28\\] +10320 weights\n.*-> \\[1, 27, 28, 28\\] +3219 weights\n.*-> \\[1, 16, 100, 100\\] +352 weights\n.*groups 16 +160 weights\n.*-> \\[1, 16, 100, 100\\] +1600 weights\n")
add_test(NAME examples/conv_arithmetic_no_bias COMMAND conv_arithmetic --no-bias)
set_tests_properties(examples/conv_arithmetic_no_bias PROPERTIES PASS_REGULAR_EXPRESSION
  "-> \\[1, 1, 47\\] +4 weights\n.*-> \\[1, 5, 97, 97\\] +80 weights\n.*-> \\[1, 16, 100, 100\\] +1584 weights\n")
add_test(NAME examples/conv_arithmetic_help COMMAND conv_arithmetic --help)
set_tests_properties(examples/conv_arithmetic_help PROPERTIES PASS_REGULAR_EXPRESSION
  "usage: conv_arithmetic")
add_test(NAME examples/conv_arithmetic_rejects_unknown COMMAND conv_arithmetic --bogus)
set_tests_properties(examples/conv_arithmetic_rejects_unknown PROPERTIES WILL_FAIL TRUE)
