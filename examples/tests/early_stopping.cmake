# early_stopping on generated images: the loss falls over the epochs run and
# the restored checkpoint scores exactly the best validation accuracy seen (--check).
add_test(NAME examples/early_stopping
         COMMAND early_stopping --synthetic --max-epochs 4 --patience 2 --hidden 64 --seed 1 --check
                 --checkpoint ${CMAKE_CURRENT_BINARY_DIR}/early_stopping_best.ckpt)
set_tests_properties(examples/early_stopping PROPERTIES
  ENVIRONMENT "NB_PROGRESS=plain"
  PASS_REGULAR_EXPRESSION "split 60/20/20: 600 train, 200 validation, 200 test.*epoch 1: train loss [0-9.]+, train accuracy [0-9.]+%, validation accuracy [0-9.]+%.*test accuracy of the best model: [0-9.]+%.*check: training loss [0-9.]+ -> [0-9.]+ fell; restored validation accuracy matches the best")

add_test(NAME examples/early_stopping_help COMMAND early_stopping --help)
set_tests_properties(examples/early_stopping_help PROPERTIES
  PASS_REGULAR_EXPRESSION "usage: early_stopping")
