# recursive_net: after 5 epochs on 600 generated expression trees the test accuracy on the sign
# of the value must reach 85% and beat the majority class by 15 points (--check exits 1
# otherwise).
add_test(NAME examples/recursive_net
         COMMAND recursive_net --check --train 600 --test 200 --epochs 5 --seed 1 --show 0)

# The printed run: the loss falls over the epochs; per-size accuracies and example predictions.
add_test(NAME examples/recursive_net_values
         COMMAND recursive_net --train 600 --test 200 --epochs 5 --seed 1 --show 3)
set_tests_properties(examples/recursive_net_values PROPERTIES PASS_REGULAR_EXPRESSION
  "      1 +0\\.[2-6][0-9]+ .*      5 +0\\.[01][0-9]+ .*leaves +trees +accuracy.*= +-?[0-9]+ +P\\(positive\\) = [01]\\.[0-9]+ +(right|wrong)")

add_test(NAME examples/recursive_net_bad_leaves COMMAND recursive_net --max-leaves 17)
set_tests_properties(examples/recursive_net_bad_leaves PROPERTIES WILL_FAIL TRUE)

add_test(NAME examples/recursive_net_help COMMAND recursive_net --help)
set_tests_properties(examples/recursive_net_help PROPERTIES
  PASS_REGULAR_EXPRESSION "usage: recursive_net")

# --tensor: the RNTN of notes 000, p = tanh(x^T V_op x + W_op x + c_op). With D = 8 the plain
# net has 10*8 + 2*(8*16 + 8) + 2*8 + 2 = 370 parameters and each operator's tensor adds
# (2D)^2 * D = 2,048: 4,466 in all. --check requires the same accuracy as the plain net.
add_test(NAME examples/recursive_net_tensor
         COMMAND recursive_net --tensor --check --dim 8 --train 600 --test 200 --epochs 5
                 --seed 1 --show 0)
set_tests_properties(examples/recursive_net_tensor PROPERTIES PASS_REGULAR_EXPRESSION
  "p = tanh\\(x\\^T V_op x \\+ W_op.*4466 parameters \\(D = 8\\)")
