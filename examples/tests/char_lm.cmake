# char_lm: a few truncated-BPTT steps of a small LSTM and GRU on the default text; --check exits 1
# unless the validation loss (nats per character) fell below its value before training.
set(NB_CHAR_LM_SMALL --hidden 32 --embed 16 --seq 16 --batch 8 --steps 60 --every 30 --sample 40)
add_test(NAME examples/char_lm_lstm COMMAND char_lm ${NB_CHAR_LM_SMALL} --check)
set_tests_properties(examples/char_lm_lstm PROPERTIES PASS_REGULAR_EXPRESSION
  "before training: val loss [0-9.]+ nats/char.*step +60/60 +loss [0-9.]+ nats/char \\([0-9.]+ bits/char\\).*validation loss: [0-9.]+ -> [0-9.]+ nats/char .*dropped")
add_test(NAME examples/char_lm_gru COMMAND char_lm ${NB_CHAR_LM_SMALL} --cell gru --layers 2 --check)
set_tests_properties(examples/char_lm_gru PROPERTIES PASS_REGULAR_EXPRESSION
  "GRU\\(16 -> 32, 2 layers\\).*validation loss: .* dropped")
add_test(NAME examples/char_lm_help COMMAND char_lm --help)
set_tests_properties(examples/char_lm_help PROPERTIES PASS_REGULAR_EXPRESSION "usage: char_lm.*--cell TEXT")
add_test(NAME examples/char_lm_rejects_bad_cell COMMAND char_lm --cell transformer)
set_tests_properties(examples/char_lm_rejects_bad_cell PROPERTIES WILL_FAIL TRUE)
add_test(NAME examples/char_lm_rejects_missing_text COMMAND char_lm --text /nonexistent/file)
set_tests_properties(examples/char_lm_rejects_missing_text PROPERTIES WILL_FAIL TRUE)

# Notes 002: an LSTM block has four sets of inputs; the library's weight_ih_l0 for 128 hidden
# units has 4 x 128 = 512 rows (a GRU: 3 gates, 3 x 32 = 96).
add_test(NAME examples/char_lm_lstm_gates
         COMMAND char_lm --hidden 128 --seq 8 --batch 2 --steps 1 --every 1 --sample 4)
set_tests_properties(examples/char_lm_lstm_gates PROPERTIES PASS_REGULAR_EXPRESSION
  "LSTM: weight_ih_l0 has 512 rows = 4 gates \\(input, forget, cell, output\\) x 128 hidden units")
add_test(NAME examples/char_lm_gru_gates
         COMMAND char_lm --cell gru --hidden 32 --seq 8 --batch 2 --steps 1 --every 1 --sample 4)
set_tests_properties(examples/char_lm_gru_gates PROPERTIES PASS_REGULAR_EXPRESSION
  "GRU: weight_ih_l0 has 96 rows = 3 gates \\(reset, update, new\\) x 32 hidden units")
