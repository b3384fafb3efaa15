# universal_approx: with 1, 3, 10 and 50 tanh units the error on the dense grid must fall with
# every larger hidden layer and the 50-unit network must fit f to a grid MSE below 0.005 (the
# variance of f on the interval is 0.65). --check exits 1 otherwise.
add_test(NAME examples/universal_approx
         COMMAND universal_approx --check --steps 2000 --seed 1 --max-mse 0.005
                 --out ${CMAKE_CURRENT_BINARY_DIR}/universal_approx_test)

# The printed table: one unit stays near 0.3 (a single S-curve), fifty are below 0.001.
add_test(NAME examples/universal_approx_values
         COMMAND universal_approx --steps 2000 --seed 1
                 --out ${CMAKE_CURRENT_BINARY_DIR}/universal_approx_values)
set_tests_properties(examples/universal_approx_values PROPERTIES PASS_REGULAR_EXPRESSION
  "H=1 +4 +0\\.[23][0-9]+ +0\\.[23][0-9]+.*H=50 +151 +0\\.000[0-9]+ +0\\.000[0-9]+.*wrote .*universal_approx_values\\.csv and .*universal_approx_values\\.png")

# Hidden sizes from the command line; a bad one is a usage error.
add_test(NAME examples/universal_approx_sizes
         COMMAND universal_approx --steps 50 --out ${CMAKE_CURRENT_BINARY_DIR}/universal_approx_sizes 2 4)
set_tests_properties(examples/universal_approx_sizes PROPERTIES PASS_REGULAR_EXPRESSION
  "H=2 +7 .*H=4 +13 ")
add_test(NAME examples/universal_approx_bad_size COMMAND universal_approx 0)
set_tests_properties(examples/universal_approx_bad_size PROPERTIES WILL_FAIL TRUE)

add_test(NAME examples/universal_approx_help COMMAND universal_approx --help)
set_tests_properties(examples/universal_approx_help PROPERTIES
  PASS_REGULAR_EXPRESSION "usage: universal_approx")
