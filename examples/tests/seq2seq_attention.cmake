# seq2seq_attention: a short run (strings of 3-6 digits, 300 steps, small model) must reverse at
# least 90 % of the test strings exactly with greedy decoding (97 % measured), and write the
# attention heat map.
add_test(NAME examples/seq2seq_attention
         COMMAND seq2seq_attention --min-len 3 --max-len 6 --steps 300 --every 100 --batch 32
                 --hidden 32 --test 200 --out ${CMAKE_CURRENT_BINARY_DIR}/seq2seq_check
                 --target 0.9 --check)
set_tests_properties(examples/seq2seq_attention PROPERTIES PASS_REGULAR_EXPRESSION
  "wrote .*seq2seq_check_attention.png.*check: test sequence accuracy .*: passed")
add_test(NAME examples/seq2seq_attention_help COMMAND seq2seq_attention --help)
set_tests_properties(examples/seq2seq_attention_help PROPERTIES PASS_REGULAR_EXPRESSION
  "usage: seq2seq_attention")
add_test(NAME examples/seq2seq_attention_rejects_bad_task COMMAND seq2seq_attention --task copy)
set_tests_properties(examples/seq2seq_attention_rejects_bad_task PROPERTIES WILL_FAIL TRUE)
