# softmax_logits: softmax(2.0, 1.0, 0.1) must be (0.66, 0.24, 0.10) at 2 decimals and sum to 1
# (--check exits 1 otherwise).
add_test(NAME examples/softmax_logits COMMAND softmax_logits --check)

# The printed probabilities, at 2 decimals and in full.
add_test(NAME examples/softmax_logits_values COMMAND softmax_logits)
set_tests_properties(examples/softmax_logits_values PROPERTIES PASS_REGULAR_EXPRESSION
  "0 +2 +0.66 +0.659001138885.*1 +1 +0.24 +0.242432970704.*2 +0.1 +0.10 +0.098565890409")

# Logits from the command line; a huge logit takes all the mass without overflowing.
add_test(NAME examples/softmax_logits_args COMMAND softmax_logits 0 0 1000)
set_tests_properties(examples/softmax_logits_args PROPERTIES PASS_REGULAR_EXPRESSION
  "0 +0 +0.00 +0\n.*1 +0 +0.00 +0\n.*2 +1000 +1.00 +1\n")

add_test(NAME examples/softmax_logits_help COMMAND softmax_logits --help)
set_tests_properties(examples/softmax_logits_help PROPERTIES
  PASS_REGULAR_EXPRESSION "usage: softmax_logits")
