# gpt_chars: a short run of a small decoder-only Transformer must beat the character-frequency
# model (3.5 nats/char on the default text's validation part) with margin (--check, 3.2).
add_test(NAME examples/gpt_chars COMMAND gpt_chars --layers 1 --d 32 --heads 2 --ctx 32 --batch 8
                                         --steps 200 --every 100 --samples 40 --target 3.2 --check)
set_tests_properties(examples/gpt_chars PROPERTIES PASS_REGULAR_EXPRESSION "check: validation loss .*: passed")
add_test(NAME examples/gpt_chars_help COMMAND gpt_chars --help)
set_tests_properties(examples/gpt_chars_help PROPERTIES PASS_REGULAR_EXPRESSION "usage: gpt_chars")
