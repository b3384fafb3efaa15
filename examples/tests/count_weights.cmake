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
