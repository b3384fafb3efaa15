# dropout_demo: on 30 noisy samples a 1-200-200-1 MLP overfits; with dropout 0.5 the gap between
# test and training error must be smaller and the test error lower (--check).
add_test(NAME examples/dropout_demo
         COMMAND dropout_demo --steps 1000 --every 500 --check
                 --out ${CMAKE_CURRENT_BINARY_DIR}/dropout_demo_ci)
set_tests_properties(examples/dropout_demo PROPERTIES PASS_REGULAR_EXPRESSION
  "1000 +0\\.0[0-9]+ +0\\.0[0-9]+ +0\\.1[0-9]+ +0\\.1[0-9]+\ngap test - train: no dropout 0\\.[0-9]+, dropout 0\\.[0-9]+\nwrote .*dropout_demo_ci_curves\\.png and .*dropout_demo_ci_fit\\.png")
add_test(NAME examples/dropout_demo_help COMMAND dropout_demo --help)
set_tests_properties(examples/dropout_demo_help PROPERTIES PASS_REGULAR_EXPRESSION
  "usage: dropout_demo.*notes 001")
