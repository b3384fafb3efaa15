# soak: a short run (the full 10,000 steps are scripts/soak.sh) must keep its RSS flat after the
# warm-up and lower its loss.
add_test(NAME examples/soak COMMAND soak --steps 1200 --every 200 --warmup 400 --save-every 300
                                         --tolerance 5)
set_tests_properties(examples/soak PROPERTIES PASS_REGULAR_EXPRESSION
  "soak: loss [0-9.]+ -> 0\\.[0-9]+; RSS at start [0-9]+ kB, after warm-up [0-9]+ kB, peak after [0-9]+ kB: growth -?[0-9.]+% \\(limit 5\\.00%\\) ok")
add_test(NAME examples/soak_help COMMAND soak --help)
set_tests_properties(examples/soak_help PROPERTIES PASS_REGULAR_EXPRESSION "usage: soak")
