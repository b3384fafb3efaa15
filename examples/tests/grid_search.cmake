# grid_search on 1000 generated images (no data files needed): 2 x 2 x 2 runs of 3 epochs must
# all finish, the CSV must get one row per run and the winner (chosen on validation accuracy)
# must reach 70% on the test part (chance is 10%). --check exits 1 otherwise.
add_test(NAME examples/grid_search
         COMMAND grid_search --synthetic --limit 1000 --epochs 3 --seed 1 --check
                 --min-accuracy 0.7 --csv ${CMAKE_CURRENT_BINARY_DIR}/grid_search_test.csv)

# The printed split (600/200/200) and table, and the winner line.
add_test(NAME examples/grid_search_values
         COMMAND grid_search --synthetic --limit 1000 --epochs 1 --seed 1 --lrs 0.1
                 --batches 16,64 --hiddens 32
                 --csv ${CMAKE_CURRENT_BINARY_DIR}/grid_search_values.csv)
set_tests_properties(examples/grid_search_values PROPERTIES PASS_REGULAR_EXPRESSION
  "600 training, 200 validation, 200 test images.*1 learning rates x 2 batch sizes x 1 hidden sizes = 2 runs.*\n +1 +0\\.1 +16 +32 .*\n +2 +0\\.1 +64 +32 .*winner \\(best validation accuracy\\): lr 0\\.1, batch (16|64), hidden 32.*its test accuracy.*wrote .*grid_search_values\\.csv \\(2 rows\\)")

add_test(NAME examples/grid_search_bad_list COMMAND grid_search --synthetic --lrs 0.1,x)
set_tests_properties(examples/grid_search_bad_list PROPERTIES WILL_FAIL TRUE)

add_test(NAME examples/grid_search_help COMMAND grid_search --help)
set_tests_properties(examples/grid_search_help PROPERTIES
  PASS_REGULAR_EXPRESSION "usage: grid_search")
