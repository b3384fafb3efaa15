# resnet_fashion on generated stroke images: 3 epochs of a narrow ResNet (width 8) must bring the
# mean training loss of the last epoch below half the first batch's loss (--check), and the
# summary must show both kinds of shortcut (identity in stage 1, 1x1 projections where the
# shape changes), the global average pooling and the curves written.
add_test(NAME examples/resnet_fashion
         COMMAND resnet_fashion --synthetic --epochs 3 --width 8 --limit 800 --test-limit 200
                 --batch 32 --threads 1 --check --out ${CMAKE_CURRENT_BINARY_DIR}/resnet_fashion_ci)
set_tests_properties(examples/resnet_fashion PROPERTIES ENVIRONMENT NB_PROGRESS=quiet TIMEOUT 600
  PASS_REGULAR_EXPRESSION "proj\\.0 +Conv2d\\(8 -> 16, 1x1, stride 2.*GlobalAvgPool.*residual blocks:\n  4: 8 -> 8, stride 1, identity shortcut\n  5: 8 -> 16, stride 2, projection shortcut\n  6: 16 -> 32, stride 2, projection shortcut\n.*wrote .*resnet_fashion_ci_curves\\.png.*check: .*below half: ok")
# A learning rate too small to learn in 3 epochs: the check must say so (and exit 1).
add_test(NAME examples/resnet_fashion_check_fails
         COMMAND resnet_fashion --synthetic --epochs 3 --width 8 --limit 800 --test-limit 200
                 --batch 32 --threads 1 --lr 1e-5 --check
                 --out ${CMAKE_CURRENT_BINARY_DIR}/resnet_fashion_ci_fail)
set_tests_properties(examples/resnet_fashion_check_fails PROPERTIES ENVIRONMENT NB_PROGRESS=quiet
  TIMEOUT 600 PASS_REGULAR_EXPRESSION "check: loss from .* below half: FAILED")
add_test(NAME examples/resnet_fashion_help COMMAND resnet_fashion --help)
set_tests_properties(examples/resnet_fashion_help PROPERTIES PASS_REGULAR_EXPRESSION
  "usage: resnet_fashion.*--width")
