# forward_pass_by_hand: notes 001's forward pass, u1 = 0.06, v1 = tanh(0.06) = 0.06, u4 = 0.097
# (--check compares with those and exits 1 otherwise).
add_test(NAME examples/forward_pass_by_hand COMMAND forward_pass_by_hand --check)
set_tests_properties(examples/forward_pass_by_hand PROPERTIES PASS_REGULAR_EXPRESSION
  "u1 = -0\\.1 \\+ \\(0\\.2\\)\\(0\\.1\\) \\+ \\(0\\.2\\)\\(0\\.7\\) = 0\\.060000 .*v1 = tanh\\(u1\\) = 0\\.059928 .*= 0\\.096993 +notes 0\\.097.*output y~ = \\(0\\.097, 0\\.614\\).*all values agree with the notes")
add_test(NAME examples/forward_pass_by_hand_help COMMAND forward_pass_by_hand --help)
set_tests_properties(examples/forward_pass_by_hand_help PROPERTIES PASS_REGULAR_EXPRESSION
  "usage: forward_pass_by_hand.*notes 001")
