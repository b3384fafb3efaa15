# softmax_regression on generated images: three epochs must lower the
# training loss and beat chance (10%) by far on the generated test images.
add_test(NAME examples/softmax_regression
         COMMAND softmax_regression --synthetic --epochs 3 --seed 2 --check --min-accuracy 50)
set_tests_properties(examples/softmax_regression PROPERTIES
  ENVIRONMENT "NB_PROGRESS=plain"
  PASS_REGULAR_EXPRESSION "epoch 3: train loss [0-9.]+, test accuracy [0-9.]+%.*check: training loss [0-9.]+ -> [0-9.]+ fell")

add_test(NAME examples/softmax_regression_help COMMAND softmax_regression --help)
set_tests_properties(examples/softmax_regression_help PROPERTIES
  PASS_REGULAR_EXPRESSION "usage: softmax_regression")
