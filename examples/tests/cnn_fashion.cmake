# The output shapes are notes 001's: 28x28x1 -> 32 maps 28x28 = 25,088 -> pooled 32x14x14 = 6,272.
# cnn_fashion on 192 generated training images, 2 epochs; --check exits 1 unless the loss
# dropped.
set(_cf_dir ${CMAKE_CURRENT_BINARY_DIR}/cnn_fashion_synthetic)
add_test(NAME examples/cnn_fashion_synthetic COMMAND cnn_fashion --synthetic
         --epochs 2 --limit 192 --test-limit 64 --threads 1 --check --out ${_cf_dir}_run)
add_test(NAME examples/cnn_fashion_synthetic_output COMMAND cnn_fashion --synthetic
         --epochs 1 --limit 128 --test-limit 64 --threads 1 --out ${_cf_dir}_2_run)
set_tests_properties(examples/cnn_fashion_synthetic_output PROPERTIES PASS_REGULAR_EXPRESSION
  "128 training and 64 test images.*Sequential for input \\[1, 1, 28, 28\\] \\(per sample 1x28x28 = 784;[^\n]*\n.*\n    0 +Conv2d[^\n]* 32x28x28 = 25,088 +320  [^\n]*\n.*\n    2 +MaxPool2d[^\n]* 32x14x14 = 6,272 +0\n.*\n    5 +MaxPool2d[^\n]* 64x7x7 = 3,136 +0\n.*total parameters: 421,642 .*epoch 1: loss [0-9.]+, train accuracy [0-9.]+%, test accuracy [0-9.]+%.*wrote .*run_curves.png.*wrote .*run_kernels1\\.png .*run_maps1\\.png and .*run_maps2\\.png")
add_test(NAME examples/cnn_fashion_without_data COMMAND cnn_fashion --data no-such-dir)
set_tests_properties(examples/cnn_fashion_without_data PROPERTIES WILL_FAIL TRUE)
add_test(NAME examples/cnn_fashion_help COMMAND cnn_fashion --help)
set_tests_properties(examples/cnn_fashion_help PROPERTIES PASS_REGULAR_EXPRESSION
  "usage: cnn_fashion")

# --dist: 2 ranks under mpirun print the single process's epoch lines (only once) within float
# rounding; 130 images in global batches of 32 end with a batch of 2 (one per rank).
nb_example_dist_test(cnn_fashion --synthetic --epochs 2 --limit 130
                     --test-limit 64 --batch 32 --threads 1 --out run)

# Time to accuracy: --target-accuracy stops after the first epoch at or above the target (here
# before the 20 epochs allowed) and prints the seconds it took; --order-out writes the int64 .npy
# [20, 192] of every epoch's order (128 header bytes + 20 * 192 * 8).
set(_cf_check ${CMAKE_CURRENT_BINARY_DIR}/cnn_fashion_target_check.cmake)
file(WRITE ${_cf_check} [=[
file(REMOVE "${ORDER}")
execute_process(COMMAND "${PROG}" --synthetic --limit 192 --test-limit 64 --threads 1 --epochs 20
                        --target-accuracy 0.3 --order-out "${ORDER}" --out "${OUT}"
                OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "exit status ${rc}\n${out}\n${err}")
endif()
if(NOT out MATCHES "wrote [^\n]*order\\.npy: the order of the 192 training images in each of 20 epoch\\(s\\), int64 \\[20, 192\\]")
  message(FATAL_ERROR "no order line:\n${out}")
endif()
if(NOT out MATCHES "\ntarget: test accuracy [0-9.]+% >= 30\\.00% after epoch ([0-9]+) in [0-9.]+ s")
  message(FATAL_ERROR "no target line:\n${out}")
endif()
set(e ${CMAKE_MATCH_1})
if(e GREATER_EQUAL 20 OR NOT out MATCHES "final test accuracy [0-9.]+% after ${e} epoch\\(s\\)"
   OR out MATCHES "\nepoch ${e}[^\n]*\n(.*\n)?epoch ")
  message(FATAL_ERROR "did not stop after epoch ${e}:\n${out}")
endif()
file(SIZE "${ORDER}" size)
if(NOT size EQUAL 30848)
  message(FATAL_ERROR "${ORDER}: ${size} bytes, not 128 + 20 * 192 * 8 = 30848")
endif()
]=])
add_test(NAME examples/cnn_fashion_target_accuracy
         COMMAND ${CMAKE_COMMAND} -DPROG=$<TARGET_FILE:cnn_fashion> -DORDER=${_cf_dir}_order.npy
                 -DOUT=${_cf_dir}_target_run -P ${_cf_check})
# Not reached within --epochs: the "not reached" line and exit status 1.
add_test(NAME examples/cnn_fashion_target_missed COMMAND cnn_fashion --synthetic --limit 64
         --test-limit 32 --epochs 1 --threads 1 --target-accuracy 1 --out ${_cf_dir}_missed_run)
set_tests_properties(examples/cnn_fashion_target_missed PROPERTIES WILL_FAIL TRUE)
