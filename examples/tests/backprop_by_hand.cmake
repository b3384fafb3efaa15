# backprop_by_hand: u, e, the notes' deltas and the six weights after one SGD step must be those of
# notes 001 (--check compares them, each to one unit of the notes' last digit, and exits 1
# otherwise).
add_test(NAME examples/backprop_by_hand COMMAND backprop_by_hand --check)
set_tests_properties(examples/backprop_by_hand PROPERTIES PASS_REGULAR_EXPRESSION
  "check delta1 \\(notes\\) +-0.09 vs expected -0.09 .*check delta2 \\(notes\\) +0.868013199 vs expected 0.87 .*all values agree")

# The printed values: u1, u2, the deltas in both conventions (the notes' e f'(u) = -0.09, 0.87 and
# nb_backward's -dL/du, twice as large) and the six new weights in full.
add_test(NAME examples/backprop_by_hand_values COMMAND backprop_by_hand)
set_tests_properties(examples/backprop_by_hand_values PROPERTIES PASS_REGULAR_EXPRESSION
  "u1 = w1 . x += 0.2900 .*u2 = w2 . x += 0.1200 .*delta1 +-0.0900 \\(-0.09000000\\) +-0.1800 \\(-0.18000000\\) +-0.09\n +delta2 +0.8680 \\(0.86801320\\) +1.7360 \\(1.73602640\\) +0.87\n +why they differ.*w10 +0.1000 +0.082 +0.082000000000 .*w11 +-0.2000 +-0.2018 +-0.201800000000 .*w12 +0.3000 +0.2874 +0.287400000000 .*w20 +0.5000 +0.674 +0.673602639803 .*w21 +0.4000 +0.4174 +0.417360263980 .*w22 +-0.6000 +-0.4785 +-0.478478152138 ")

# With L = 1/2 sum e^2 the step is half as large and cannot reproduce the course's weights:
# this is what settles that the course's loss is the plain sum of squared errors.
add_test(NAME examples/backprop_by_hand_half_loss_differs COMMAND backprop_by_hand --half --check)
set_tests_properties(examples/backprop_by_hand_half_loss_differs PROPERTIES WILL_FAIL TRUE)

add_test(NAME examples/backprop_by_hand_help COMMAND backprop_by_hand --help)
set_tests_properties(examples/backprop_by_hand_help PROPERTIES
  PASS_REGULAR_EXPRESSION "usage: backprop_by_hand")
