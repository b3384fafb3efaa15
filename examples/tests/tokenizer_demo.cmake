# tokenizer_demo: the course's vocabulary and padded matrix (--check compares them too).
add_test(NAME examples/tokenizer_demo COMMAND tokenizer_demo --check)
set_tests_properties(examples/tokenizer_demo PROPERTIES PASS_REGULAR_EXPRESSION
  "\\{'today': 1, 'is': 2, 'a': 3, 'sunny': 4, 'day': 5, 'rainy': 6, 'it': 7, 'i': 8, 'really': 9, 'enjoyed': 10, 'walking': 11, 'in': 12, 'the': 13, 'snow': 14\\}.*\\[ 0  0  0  0  2  7  4  1\\]\n  \\[ 8  9 10 11 12 13 14  1\\].*check: vocabulary matches, padded matrix matches")
add_test(NAME examples/tokenizer_demo_post COMMAND tokenizer_demo --maxlen 5 --post --truncate-post)
set_tests_properties(examples/tokenizer_demo_post PROPERTIES PASS_REGULAR_EXPRESSION
  "\\[ 2  7  4  1  0\\]\n  \\[ 8  9 10 11 12\\]")
add_test(NAME examples/tokenizer_demo_help COMMAND tokenizer_demo --help)
set_tests_properties(examples/tokenizer_demo_help PROPERTIES PASS_REGULAR_EXPRESSION "usage: tokenizer_demo")
