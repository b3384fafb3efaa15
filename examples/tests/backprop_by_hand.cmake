# backprop_by_hand: the six weights after one SGD step must be the course's (--check compares
# them, each to one unit of the course's last digit, and exits 1 otherwise).
add_test(NAME examples/backprop_by_hand COMMAND backprop_by_hand --check)

# The printed values: u1, u2, the deltas nb_backward gives and the six new weights in full.
add_test(NAME examples/backprop_by_hand_values COMMAND backprop_by_hand)
set_tests_properties(examples/backprop_by_hand_values PROPERTIES PASS_REGULAR_EXPRESSION
  "u1 = w1 . x += 0.2900 .*u2 = w2 . x += 0.1200 .*delta1 = -dL/du1 = -0.1800 .*delta2 = -dL/du2 = 1.7360 .*w10 +0.1000 +0.082 +0.082000000000 .*w11 +-0.2000 +-0.2018 +-0.201800000000 .*w12 +0.3000 +0.2874 +0.287400000000 .*w20 +0.5000 +0.674 +0.673602639803 .*w21 +0.4000 +0.4174 +0.417360263980 .*w22 +-0.6000 +-0.4785 +-0.478478152138 ")

# With L = 1/2 sum e^2 the step is half as large and cannot reproduce the course's weights:
# this is what settles that the course's loss is the plain sum of squared errors.
add_test(NAME examples/backprop_by_hand_half_loss_differs COMMAND backprop_by_hand --half --check)
set_tests_properties(examples/backprop_by_hand_half_loss_differs PROPERTIES WILL_FAIL TRUE)

add_test(NAME examples/backprop_by_hand_help COMMAND backprop_by_hand --help)
set_tests_properties(examples/backprop_by_hand_help PROPERTIES
  PASS_REGULAR_EXPRESSION "usage: backprop_by_hand")
