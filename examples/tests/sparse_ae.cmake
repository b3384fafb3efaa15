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
