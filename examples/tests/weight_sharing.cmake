# weight_sharing: the library's parameter counts must match the formulas (2020, 1020, 510 for
# D = 100, M = 20), the shared layer and its unshared copy must give the same outputs, and the
# shared weight's and bias's gradients must equal the sums of the copy's two gradients (float64,
# within 1e-12) while one use alone differs. --check exits 1 otherwise.
add_test(NAME examples/weight_sharing COMMAND weight_sharing --check)

# The printed counts for the default layer and for another size.
add_test(NAME examples/weight_sharing_counts COMMAND weight_sharing)
set_tests_properties(examples/weight_sharing_counts PROPERTIES PASS_REGULAR_EXPRESSION
  "fully connected +2020 .*two groups, unshared +1020 .*two groups, shared +510 ")
add_test(NAME examples/weight_sharing_other_size
         COMMAND weight_sharing --check --inputs 6 --units 4 --batch 3 --seed 9)
set_tests_properties(examples/weight_sharing_other_size PROPERTIES PASS_REGULAR_EXPRESSION
  "fully connected +28 .*two groups, unshared +16 .*two groups, shared +8 ")

add_test(NAME examples/weight_sharing_odd_units COMMAND weight_sharing --units 5)
set_tests_properties(examples/weight_sharing_odd_units PROPERTIES WILL_FAIL TRUE)

add_test(NAME examples/weight_sharing_help COMMAND weight_sharing --help)
set_tests_properties(examples/weight_sharing_help PROPERTIES
  PASS_REGULAR_EXPRESSION "usage: weight_sharing")
