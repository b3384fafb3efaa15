# transfer_learning on generated images (no data files needed): after fine-tuning, the frozen
# convolution weights must be unchanged, only the new head's parameters trainable, and the
# transfer network must reach 50% on classes 5-9 (chance 20%) and at least match the control
# with frozen random convolutions. --check exits 1 otherwise.
add_test(NAME examples/transfer_learning
         COMMAND transfer_learning --synthetic --limit 1000 --epochs 15 --seed 1 --check)

# The printed comparison: three accuracies and the freeze confirmation.
add_test(NAME examples/transfer_learning_values
         COMMAND transfer_learning --synthetic --limit 1000 --epochs 15 --seed 1)
set_tests_properties(examples/transfer_learning_values PROPERTIES PASS_REGULAR_EXPRESSION
  "trainable parameters 3925 of 5173.*transfer \\(frozen pretrained convolutions \\+ new head\\) +[0-9.]+%.*from scratch \\(every layer trained on the 100 images\\) +[0-9.]+%.*frozen random convolutions \\+ new head \\(control\\) +[0-9.]+%.*frozen convolution weights unchanged")

add_test(NAME examples/transfer_learning_help COMMAND transfer_learning --help)
set_tests_properties(examples/transfer_learning_help PROPERTIES
  PASS_REGULAR_EXPRESSION "usage: transfer_learning")
