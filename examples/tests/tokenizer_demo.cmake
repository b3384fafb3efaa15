# tokenizer_demo: notes 001 "TOKENIZAR" and "PADDING". The expected rows below are copied from the
# notes (the PADDING slide's tokenizer has <OOV> = 1, so its ids are one higher).
add_test(NAME examples/tokenizer_demo COMMAND tokenizer_demo --check)
set_tests_properties(examples/tokenizer_demo PROPERTIES PASS_REGULAR_EXPRESSION
  "\\{'today': 1, 'is': 2, 'a': 3, 'sunny': 4, 'day': 5, 'rainy': 6, 'it': 7\\}.*\\[2, 7, 4, 1\\].*\\[ 0  0  0  2  3  4  5  6\\]\n  \\[ 0  0  0  2  3  4  7  6\\]\n  \\[ 0  0  0  0  3  8  5  2\\]\n  \\[ 9 10 11 12 13 14 15  2\\].*check against the notes: TOKENIZAR vocabulary matches, sequences match; PADDING sequences match, padded matrix matches")
# A padding the notes do not show cannot be approved: --check must fail.
add_test(NAME examples/tokenizer_demo_check_fails COMMAND tokenizer_demo --check --post)
set_tests_properties(examples/tokenizer_demo_check_fails PROPERTIES WILL_FAIL TRUE)
add_test(NAME examples/tokenizer_demo_post COMMAND tokenizer_demo --maxlen 5 --post --truncate-post)
set_tests_properties(examples/tokenizer_demo_post PROPERTIES PASS_REGULAR_EXPRESSION
  "\\[ 3  8  5  2  0\\]\n  \\[ 9 10 11 12 13\\]")
add_test(NAME examples/tokenizer_demo_help COMMAND tokenizer_demo --help)
set_tests_properties(examples/tokenizer_demo_help PROPERTIES PASS_REGULAR_EXPRESSION "usage: tokenizer_demo.*notes 001")
# Notes 001, Embeddings: one-hot sizes 3, 950 and 10,000 against 16-dimensional embeddings
# (3*16 = 48, 950*16 = 15200, 10000*16 = 160000 parameters), the notes' Gato/Perro/Gato/Caballo
# one-hot table, and lookup = one-hot x weights.
add_test(NAME examples/tokenizer_demo_embeddings COMMAND tokenizer_demo)
set_tests_properties(examples/tokenizer_demo_embeddings PROPERTIES PASS_REGULAR_EXPRESSION
  "Gato/Perro/Caballo +3 +48 .*950 animals +950 +15200 .*10\\.000-word vocabulary +10000 +160000 .*\\[1 0 0\\]\n +\\[0 1 0\\]\n +\\[1 0 0\\]\n +\\[0 0 1\\]\n +embedding lookup = one-hot x weight matrix: max \\|difference\\| = 0\n")
