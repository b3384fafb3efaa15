# text_classify: three epochs on a small generated set must beat the word-counting baseline
# (--check) and print the per-epoch test accuracy.
add_test(NAME examples/text_classify COMMAND text_classify --train 1000 --test 200 --epochs 3
         --check)
set_tests_properties(examples/text_classify PROPERTIES PASS_REGULAR_EXPRESSION
  "word-count baseline \\(ignores \"not\"\\): test accuracy [0-9.]+%.*epoch 3/3  train loss [0-9.]+  test accuracy [0-9.]+%.*model beats the baseline")
add_test(NAME examples/text_classify_help COMMAND text_classify --help)
set_tests_properties(examples/text_classify_help PROPERTIES PASS_REGULAR_EXPRESSION "usage: text_classify")
