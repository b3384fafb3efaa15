# count_weights: the library's own count for 1000-300-100-50-20-5-1, with and without biases.
#   weights 300000 + 30000 + 5000 + 1000 + 100 + 5 = 336105; biases 300+100+50+20+5+1 = 476
add_test(NAME examples/count_weights COMMAND count_weights --check)
set_tests_properties(examples/count_weights PROPERTIES PASS_REGULAR_EXPRESSION
  "1 +1000 -> 300 +300000 +300 +300300.*6 +5 -> 1 +5 +1 +6\n.*total parameters: 336581\n.*match")
add_test(NAME examples/count_weights_no_bias COMMAND count_weights --no-bias)
set_tests_properties(examples/count_weights_no_bias PROPERTIES
  PASS_REGULAR_EXPRESSION "total parameters: 336105\n")
add_test(NAME examples/count_weights_custom COMMAND count_weights 4 3 2)
set_tests_properties(examples/count_weights_custom PROPERTIES
  PASS_REGULAR_EXPRESSION "total parameters: 23\n")
add_test(NAME examples/count_weights_help COMMAND count_weights --help)
set_tests_properties(examples/count_weights_help PROPERTIES
  PASS_REGULAR_EXPRESSION "usage: count_weights")
add_test(NAME examples/count_weights_rejects_bad_width COMMAND count_weights 4 x)
set_tests_properties(examples/count_weights_rejects_bad_width PROPERTIES WILL_FAIL TRUE)
# Notes 002: half the units of each layer share one weight vector. Worked by hand:
#   151*1001 + 51*301 + 26*101 + 11*51 + 4*21 + 1*6 = 169779
add_test(NAME examples/count_weights_shared_halves COMMAND count_weights --shared-halves --check)
set_tests_properties(examples/count_weights_shared_halves PROPERTIES PASS_REGULAR_EXPRESSION
  "1 +1000 -> 300 +151 +151151\n.*total parameters: 169779\n.*match")
# Notes 004: a 1000x1000x3 image into 1000 units, by formula: 3*10^9 weights + 1000 biases (the
# notes say 10^9, forgetting the 3 channels).
add_test(NAME examples/count_weights_notes_004 COMMAND count_weights --formula --check)
set_tests_properties(examples/count_weights_notes_004 PROPERTIES PASS_REGULAR_EXPRESSION
  "total parameters: 3000001000\nnotes 004 say 10\\^9 .*3 x 10\\^9 = 3000000000.*match")
