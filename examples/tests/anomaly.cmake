# anomaly: with anomaly mode on the loop stops at the first log(0) and names the op; with --off
# the loss itself turns non-finite with no op named.
add_test(NAME examples/anomaly COMMAND anomaly --steps 500 --every 100)
set_tests_properties(examples/anomaly PROPERTIES PASS_REGULAR_EXPRESSION
  "anomaly caught at step [0-9]+: nb_log: anomaly: forward produced -inf at flat index [0-9]+ of output \\[64\\] \\(tape record [0-9]+\\)")

add_test(NAME examples/anomaly_off COMMAND anomaly --off --steps 500 --every 100)
set_tests_properties(examples/anomaly_off PROPERTIES PASS_REGULAR_EXPRESSION
  "step [0-9]+: loss is (inf|nan|-nan)")

add_test(NAME examples/anomaly_help COMMAND anomaly --help)
set_tests_properties(examples/anomaly_help PROPERTIES PASS_REGULAR_EXPRESSION "usage: anomaly")
