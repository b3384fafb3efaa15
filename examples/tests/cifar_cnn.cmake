# cifar_cnn on generated images (no CIFAR-10 download in CI): 32 images, batches of 8, 2 epochs
# with lr 0.01 so that 8 steps move the loss; --check exits 1 unless the loss dropped. One thread
# keeps it fast on a busy machine.
add_test(NAME examples/cifar_cnn_synthetic COMMAND cifar_cnn --synthetic --limit 32 --test-limit 16
         --epochs 2 --batch 8 --lr 0.01 --threads 1 --check --out cifar_cnn_test)
add_test(NAME examples/cifar_cnn_synthetic_output COMMAND cifar_cnn --synthetic --limit 16
         --test-limit 8 --epochs 1 --batch 8 --threads 1 --out cifar_cnn_test)
set_tests_properties(examples/cifar_cnn_synthetic_output PROPERTIES PASS_REGULAR_EXPRESSION
  "total parameters: 4,210,090.*Epoch 1: model accuracy [0-9.]+%.*wrote cifar_cnn_test_curves.csv")
# Without data it says where to put it and exits non-zero.
add_test(NAME examples/cifar_cnn_without_data COMMAND cifar_cnn)
set_tests_properties(examples/cifar_cnn_without_data PROPERTIES WILL_FAIL TRUE)
add_test(NAME examples/cifar_cnn_without_data_message COMMAND cifar_cnn --data no-such-dir)
set_tests_properties(examples/cifar_cnn_without_data_message PROPERTIES PASS_REGULAR_EXPRESSION
  "put the CIFAR-10 binary version .* in no-such-dir, or use --synthetic")
# --help names the notes' settings (004: 20 epochs) and their test-loader slip.
add_test(NAME examples/cifar_cnn_help COMMAND cifar_cnn --help)
set_tests_properties(examples/cifar_cnn_help PROPERTIES PASS_REGULAR_EXPRESSION
  "notes 004.*usage: cifar_cnn.*--epochs N +training epochs \\(20, as the notes\\) \\(default 20\\).*reads the training split")
