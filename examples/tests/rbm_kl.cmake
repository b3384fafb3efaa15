# rbm_kl: notes 000's RBM recipe (forward, backward, compare with the KL divergence) on a
# 4-visible-unit RBM whose KL divergence is computed exactly by enumerating every state. The
# notes give no number: --check compares the enumeration with nb_rbm_log_partition and
# nb_rbm_log_likelihood and requires CD-1 to lower the KL from log 4 to under a quarter of it.
add_test(NAME examples/rbm_kl COMMAND rbm_kl --check)
set_tests_properties(examples/rbm_kl PROPERTIES PASS_REGULAR_EXPRESSION
  "0 +1\\.386[0-9]+ .*check log Z .* ok.*check KL .* ok.*rbm_kl: checks passed")

# One CD step cannot bring the KL down: --check must fail.
add_test(NAME examples/rbm_kl_untrained COMMAND rbm_kl --steps 1 --check)
set_tests_properties(examples/rbm_kl_untrained PROPERTIES WILL_FAIL TRUE)
