# custom_op: both user-defined ops pass nb_gradcheck in float64 and the log-cosh fit recovers
# y = 3x + 1 despite outliers (--check exits 1 otherwise).
add_test(NAME examples/custom_op COMMAND custom_op --check)
set_tests_properties(examples/custom_op PROPERTIES PASS_REGULAR_EXPRESSION
  "gradcheck log_cosh .*: ok.*gradcheck hypot .*: ok.*check: passed")
add_test(NAME examples/custom_op_help COMMAND custom_op --help)
set_tests_properties(examples/custom_op_help PROPERTIES PASS_REGULAR_EXPRESSION "usage: custom_op")
