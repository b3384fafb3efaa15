# rbm: CD-1 on generated images for a few epochs must raise the training pseudo-log-likelihood
# and lower the reconstruction error (--check exits 1 otherwise), and write the PNGs.
set(_rbm_out ${CMAKE_CURRENT_BINARY_DIR}/rbm_ci)
add_test(NAME examples/rbm
         COMMAND rbm --synthetic --limit 512 --test-limit 128 --hidden 64 --epochs 3 --seed 1
                 --gibbs-steps 100 --samples 6 --filters 16 --check --out ${_rbm_out})
set_tests_properties(examples/rbm PROPERTIES ENVIRONMENT NB_PROGRESS=quiet
  PASS_REGULAR_EXPRESSION "3/3 +[0-9.]+ +-[0-9.]+ +-[0-9.]+ .*wrote .*rbm_ci_filters\\.png.*wrote .*rbm_ci_samples\\.png")

# Persistent CD with k = 2 runs and improves as well.
add_test(NAME examples/rbm_persistent
         COMMAND rbm --synthetic --limit 512 --test-limit 128 --hidden 64 --epochs 3 --seed 2
                 --persistent --k 2 --lr 0.05 --gibbs-steps 10 --samples 4 --filters 16 --check
                 --out ${_rbm_out}_pcd)
set_tests_properties(examples/rbm_persistent PROPERTIES ENVIRONMENT NB_PROGRESS=quiet
  PASS_REGULAR_EXPRESSION "PCD-2")

add_test(NAME examples/rbm_help COMMAND rbm --help)
set_tests_properties(examples/rbm_help PROPERTIES PASS_REGULAR_EXPRESSION
  "usage: rbm.*--persistent")
