# text_classify: three epochs on a small generated set must beat the word-counting baseline
# (--check) and print the per-epoch test accuracy.
add_test(NAME examples/text_classify COMMAND text_classify --train 1000 --test 200 --epochs 3
         --check)
set_tests_properties(examples/text_classify PROPERTIES PASS_REGULAR_EXPRESSION
  "word-count baseline \\(ignores \"not\"\\): test accuracy [0-9.]+%.*epoch 3/3  train loss [0-9.]+  test accuracy [0-9.]+%.*model beats the baseline")
add_test(NAME examples/text_classify_help COMMAND text_classify --help)
set_tests_properties(examples/text_classify_help PROPERTIES PASS_REGULAR_EXPRESSION "usage: text_classify")

# Average pooling: the mean over the convolution's windows instead of the maximum.
add_test(NAME examples/text_classify_avg_pool COMMAND text_classify --train 1000 --test 200
         --epochs 3 --pool avg --check)
set_tests_properties(examples/text_classify_avg_pool PROPERTIES PASS_REGULAR_EXPRESSION
  "TextConv1d.*relu, mean over words.*epoch 3/3 .*model beats the baseline")

# The word-embeddings practice of notes 001: embedding -> mean over the words -> dense 16 ReLU
# -> dense 1 (no convolution), on the default data.
add_test(NAME examples/text_classify_average_model COMMAND text_classify --model average --check)
set_tests_properties(examples/text_classify_average_model PROPERTIES PASS_REGULAR_EXPRESSION
  "WordAverage.*epoch 6/6 .*model beats the baseline")
add_test(NAME examples/text_classify_bad_pool COMMAND text_classify --pool mean)
set_tests_properties(examples/text_classify_bad_pool PROPERTIES WILL_FAIL TRUE)
