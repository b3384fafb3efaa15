# softmax_logits: notes 001 show softmax(2.0, 1.0, 0.1) = (0.7, 0.2, 0.1) with one decimal;
# --check compares with those and exits 1 otherwise.
add_test(NAME examples/softmax_logits COMMAND softmax_logits --check)
set_tests_properties(examples/softmax_logits PROPERTIES PASS_REGULAR_EXPRESSION
  "expected 0\\.7 .*expected 0\\.2 .*expected 0\\.1 .*softmax agrees with the notes")

# The printed probabilities at the notes' 1 decimal (001), 3 decimals (004's SoftMax) and in full.
add_test(NAME examples/softmax_logits_values COMMAND softmax_logits)
set_tests_properties(examples/softmax_logits_values PROPERTIES PASS_REGULAR_EXPRESSION
  "0 +2 +0\\.7 +0\\.659 +0\\.659001138885.*1 +1 +0\\.2 +0\\.242 +0\\.242432970704.*2 +0\\.1 +0\\.1 +0\\.099 +0\\.098565890409")

# Logits from the command line; a huge logit takes all the mass without overflowing.
add_test(NAME examples/softmax_logits_args COMMAND softmax_logits 0 0 1000)
set_tests_properties(examples/softmax_logits_args PROPERTIES PASS_REGULAR_EXPRESSION
  "0 +0 +0\\.0 +0\\.000 +0\n.*1 +0 +0\\.0 +0\\.000 +0\n.*2 +1000 +1\\.0 +1\\.000 +1\n")

add_test(NAME examples/softmax_logits_help COMMAND softmax_logits --help)
set_tests_properties(examples/softmax_logits_help PROPERTIES
  PASS_REGULAR_EXPRESSION "usage: softmax_logits.*notes 001")
