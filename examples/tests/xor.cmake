# xor: the 2-2-1 network must reach 100% accuracy and the single layer must never reach 100%
# (--check exits 1 otherwise).
add_test(NAME examples/xor COMMAND xor --check --epochs 1000 --every 250 --seed 1)

# The printed verdicts: "accuracy 100%" for 2-2-1, at most 75% for the single layer.
add_test(NAME examples/xor_accuracy COMMAND xor --epochs 1000 --every 250 --seed 1)
set_tests_properties(examples/xor_accuracy PROPERTIES PASS_REGULAR_EXPRESSION
  "2-2-1 network: accuracy 100% \\(4/4\\).*single layer: accuracy (0|25|50|75)% .*best during training (0|25|50|75)%")

add_test(NAME examples/xor_help COMMAND xor --help)
set_tests_properties(examples/xor_help PROPERTIES
  PASS_REGULAR_EXPRESSION "usage: xor")
