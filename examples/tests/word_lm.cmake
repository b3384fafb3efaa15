# word_lm: notes 001's "¿Qué palabra viene después? VOY - A - VISITAR -". The notes give no
# number: --check requires the LSTM to beat a bigram table on the test sentences' next words
# (the word after "un" depends on the verb, which only the LSTM's state remembers), and after
# "voy a visitar a" the model must name "mi", the only word the grammar allows there.
add_test(NAME examples/word_lm COMMAND word_lm --check)
set_tests_properties(examples/word_lm PROPERTIES PASS_REGULAR_EXPRESSION
  "voy a visitar +->  (a|la|el) .*voy a visitar a +->  mi .*model beats the bigram table")

# Untrained, the model cannot beat the table: --check fails.
add_test(NAME examples/word_lm_untrained COMMAND word_lm --steps 0 --check)
set_tests_properties(examples/word_lm_untrained PROPERTIES WILL_FAIL TRUE)
