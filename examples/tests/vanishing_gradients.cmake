# vanishing_gradients on generated images (no data files needed): at initialisation and after
# 100 SGD steps, the first/last-layer ratio of ||dL/dW|| must be more than 100 times smaller for
# the 10-layer sigmoid net than for the ReLU net and for the net with batch norm before each
# sigmoid (--check exits 1 otherwise); the CSV and PNG are written into the build tree.
add_test(NAME examples/vanishing_gradients
         COMMAND vanishing_gradients --synthetic --limit 1000 --steps 100 --seed 1 --check
                 --out ${CMAKE_CURRENT_BINARY_DIR}/vanishing_gradients_test)

# The printed tables: the sigmoid net's first layer gets ~1e-5 of its last layer's gradient
# (ten factors of at most 1/4), the ReLU and batch-norm nets' stay of the same order.
add_test(NAME examples/vanishing_gradients_values
         COMMAND vanishing_gradients --synthetic --limit 1000 --steps 100 --seed 1
                 --out ${CMAKE_CURRENT_BINARY_DIR}/vanishing_gradients_values)
set_tests_properties(examples/vanishing_gradients_values PROPERTIES PASS_REGULAR_EXPRESSION
  "at initialisation.*\n +1 +[0-9.]+e-0[5-7] +[0-9.]+e[-+]0[01] +[0-9.]+e[-+]0[01]\n.*first/last +[0-9.]+e-0[4-7] +[0-9.]+e[-+]0[01] +[0-9.]+e[-+]0[01]\n.*after 100 steps.*wrote .*vanishing_gradients_values\\.csv and .*vanishing_gradients_values\\.png")

# Without data where it looks, a clear error (no crash) that names the way out.
add_test(NAME examples/vanishing_gradients_no_data
         COMMAND vanishing_gradients --data ${CMAKE_CURRENT_BINARY_DIR}/no-such-dir)
set_tests_properties(examples/vanishing_gradients_no_data PROPERTIES WILL_FAIL TRUE)
add_test(NAME examples/vanishing_gradients_no_data_message
         COMMAND vanishing_gradients --data ${CMAKE_CURRENT_BINARY_DIR}/no-such-dir)
set_tests_properties(examples/vanishing_gradients_no_data_message PROPERTIES
  PASS_REGULAR_EXPRESSION "no-such-dir.*--synthetic")

add_test(NAME examples/vanishing_gradients_help COMMAND vanishing_gradients --help)
set_tests_properties(examples/vanishing_gradients_help PROPERTIES
  PASS_REGULAR_EXPRESSION "usage: vanishing_gradients")
