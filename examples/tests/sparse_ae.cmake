# sparse_ae: a few epochs on generated images must lower the test loss (KL: also move the mean
# code activation towards rho); --check exits 1 otherwise.
foreach(_pen kl l1)
  add_test(NAME examples/sparse_ae_${_pen}
           COMMAND sparse_ae --synthetic --limit 512 --test-limit 128 --epochs 3 --seed 1
                   --hidden 64 --filters 16 --penalty ${_pen} --check --check-ratio 0.8
                   --out ${CMAKE_CURRENT_BINARY_DIR}/sparse_ae_${_pen})
  set_tests_properties(examples/sparse_ae_${_pen} PROPERTIES ENVIRONMENT NB_PROGRESS=quiet
    PASS_REGULAR_EXPRESSION "3/3 .*wrote .*_filters\\.png.*mean code activation 0\\.[0-9]+ -> [0-9.]+")
endforeach()

add_test(NAME examples/sparse_ae_help COMMAND sparse_ae --help)
set_tests_properties(examples/sparse_ae_help PROPERTIES PASS_REGULAR_EXPRESSION
  "usage: sparse_ae.*--penalty")

# Notes 002: at least N active units that are P % of the layer need ceil(100 N / P) units.
# Worked by hand: 10 at 30% -> 34 (33.3 rounded up); 20 at 30% -> 67; 40 at 30% -> 134.
add_test(NAME examples/sparse_ae_active_units COMMAND sparse_ae --active 10 --percent 30)
set_tests_properties(examples/sparse_ae_active_units PROPERTIES PASS_REGULAR_EXPRESSION
  "at least 10 active units that are only 30% of the layer: 34 units in total.*\n +10 +100 +50 +34 +25 +20\n +20 +200 +100 +67 +50 +40\n.*\n +40 +400 +200 +134 +100 +80\n")
add_test(NAME examples/sparse_ae_active_units_rejects COMMAND sparse_ae --active 10)
set_tests_properties(examples/sparse_ae_active_units_rejects PROPERTIES WILL_FAIL TRUE)
