# grad_clipping: from the same initial weights, plain SGD must diverge (a non-finite loss or
# gradient, or a loss above 1e6), while clipping by value and by norm must stay finite and end
# below a tenth of their first loss. --check exits 1 otherwise.
add_test(NAME examples/grad_clipping COMMAND grad_clipping --check --steps 100 --seed 1
                 --out ${CMAKE_CURRENT_BINARY_DIR}/grad_clipping_test)

# The printed trajectories: the unclipped loss turns NaN at step 2; both clipped runs fall.
add_test(NAME examples/grad_clipping_values
         COMMAND grad_clipping --steps 100 --every 50 --seed 1
                 --out ${CMAKE_CURRENT_BINARY_DIR}/grad_clipping_values)
set_tests_properties(examples/grad_clipping_values PROPERTIES PASS_REGULAR_EXPRESSION
  "no clipping:.* 0 +2\\.82469 .*diverged at step 2: .*not finite.*clip by value.*finite throughout; loss 2\\.82469 -> 0\\.000[0-9]+.*clip by norm.*finite throughout; loss 2\\.82469 -> 0\\.000[0-9]+.*wrote .*grad_clipping_values\\.csv and .*grad_clipping_values\\.png")

# A tanh net with a large W_h and a high rate explodes more slowly, over several steps.
add_test(NAME examples/grad_clipping_tanh
         COMMAND grad_clipping --activation tanh --gain 2 --lr 0.2 --steps 20 --seed 1
                 --out ${CMAKE_CURRENT_BINARY_DIR}/grad_clipping_tanh)
set_tests_properties(examples/grad_clipping_tanh PROPERTIES PASS_REGULAR_EXPRESSION
  "no clipping:.*diverged at step [3-9]:.*clip by norm")

add_test(NAME examples/grad_clipping_bad_activation COMMAND grad_clipping --activation relu)
set_tests_properties(examples/grad_clipping_bad_activation PROPERTIES WILL_FAIL TRUE)

add_test(NAME examples/grad_clipping_help COMMAND grad_clipping --help)
set_tests_properties(examples/grad_clipping_help PROPERTIES
  PASS_REGULAR_EXPRESSION "usage: grad_clipping")
