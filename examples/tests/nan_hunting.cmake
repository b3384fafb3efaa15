# nan_hunting: with anomaly mode on the loop stops at the first log(0) and names the op; with --off
# the loss itself turns non-finite with no op named.
add_test(NAME examples/nan_hunting COMMAND nan_hunting --steps 500 --every 100)
set_tests_properties(examples/nan_hunting PROPERTIES PASS_REGULAR_EXPRESSION
  "anomaly caught at step [0-9]+: nb_log: anomaly: forward produced -inf at flat index [0-9]+ of output \\[64\\] \\(tape record [0-9]+\\)")

add_test(NAME examples/nan_hunting_off COMMAND nan_hunting --off --steps 500 --every 100)
set_tests_properties(examples/nan_hunting_off PROPERTIES PASS_REGULAR_EXPRESSION
  "step [0-9]+: loss is (inf|nan|-nan)")

add_test(NAME examples/nan_hunting_help COMMAND nan_hunting --help)
set_tests_properties(examples/nan_hunting_help PROPERTIES PASS_REGULAR_EXPRESSION "usage: nan_hunting")
