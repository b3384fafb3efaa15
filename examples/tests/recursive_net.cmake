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
