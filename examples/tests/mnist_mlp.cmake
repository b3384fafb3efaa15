# mnist_mlp on 512 generated training images (and 300 test): two epochs
# must lower the training loss (--check) and print the per-epoch lines.
add_test(NAME examples/mnist_mlp
         COMMAND mnist_mlp --synthetic --epochs 2
                 --limit 512 --seed 3 --check --out-dir ${CMAKE_CURRENT_BINARY_DIR})
set_tests_properties(examples/mnist_mlp PROPERTIES
  ENVIRONMENT "NB_PROGRESS=plain"
  PASS_REGULAR_EXPRESSION "epoch 1: train loss [0-9.]+, test accuracy [0-9.]+%.*epoch 2: train loss [0-9.]+, test accuracy [0-9.]+%.*wrote .*mnist_mlp_curve.csv.*check: training loss [0-9.]+ -> [0-9.]+ fell")

# Checkpoint and resume: one epoch saved, then a second run resumes it for the second epoch.
add_test(NAME examples/mnist_mlp_resume
         COMMAND ${CMAKE_COMMAND}
                 -DPROG=$<TARGET_FILE:mnist_mlp>
                 -DDIR=${CMAKE_CURRENT_BINARY_DIR}/mnist_mlp_resume
                 -P ${CMAKE_CURRENT_SOURCE_DIR}/tests/mnist_mlp_resume.cmake.in)

# Missing data: a clear message and a non-zero exit.
add_test(NAME examples/mnist_mlp_missing_data
         COMMAND mnist_mlp --data ${CMAKE_CURRENT_BINARY_DIR}/no_such_dir)
set_tests_properties(examples/mnist_mlp_missing_data PROPERTIES WILL_FAIL TRUE)
add_test(NAME examples/mnist_mlp_missing_data_message
         COMMAND ${CMAKE_COMMAND} -E env NB_FASHION_MNIST_DIR=${CMAKE_CURRENT_BINARY_DIR}/no_such_dir
                 $<TARGET_FILE:mnist_mlp>)
set_tests_properties(examples/mnist_mlp_missing_data_message PROPERTIES
  PASS_REGULAR_EXPRESSION "dataset-fashion-mnist.*--data DIR")

add_test(NAME examples/mnist_mlp_help COMMAND mnist_mlp --help)
set_tests_properties(examples/mnist_mlp_help PROPERTIES PASS_REGULAR_EXPRESSION "usage: mnist_mlp")

# --dist: 2 ranks under mpirun print the single process's epoch lines (only once) within float
# rounding (see nb_example_dist_test in examples/CMakeLists.txt).
nb_example_dist_test(mnist_mlp --synthetic --epochs 2 --limit 500 --batch 100 --seed 3)
