# vae on generated bar images: 5 epochs must bring the test negative ELBO (nats per image, a
# one-sample estimate with fixed noise) below 0.8 times its value before training (--check), and
# write the reconstructions, the samples from the prior and the latent map (a 2-D slice of the
# 10-D code here; with --latent 2 the whole space).
set(_vae_out ${CMAKE_CURRENT_BINARY_DIR}/vae_ci)
add_test(NAME examples/vae
         COMMAND vae --synthetic --epochs 5 --limit 1000 --test-limit 200 --threads 1 --check
                 --out ${_vae_out})
set_tests_properties(examples/vae PROPERTIES ENVIRONMENT NB_PROGRESS=quiet TIMEOUT 600
  PASS_REGULAR_EXPRESSION "Bernoulli on the pixel intensities.*test negative ELBO before training: 5[0-9][0-9]\\.[0-9]+ nats per image.*epoch  5: train -ELBO [0-9.]+, test -ELBO [0-9.]+ nats per image \\(reconstruction [0-9.]+ \\+ KL [0-9.]+\\).*wrote .*vae_ci_recon\\.png\nwrote .*vae_ci_samples\\.png\n.*wrote .*vae_ci_latent_map\\.png \\(a 2-D slice through the two most used latent dimensions\\)\ncheck: .*: ok")
# With a 2-D code the map is the whole latent space.
add_test(NAME examples/vae_latent2
         COMMAND vae --synthetic --latent 2 --epochs 2 --limit 500 --test-limit 100 --threads 1
                 --out ${_vae_out}_2)
set_tests_properties(examples/vae_latent2 PROPERTIES ENVIRONMENT NB_PROGRESS=quiet TIMEOUT 600
  PASS_REGULAR_EXPRESSION "wrote .*vae_ci_2_latent_map\\.png \\(the whole 2-D latent space of the model\\)")
# One epoch at a tiny learning rate cannot bring the loss below 0.8 x its start: --check fails.
add_test(NAME examples/vae_check_fails
         COMMAND vae --synthetic --epochs 1 --limit 200 --test-limit 100 --threads 1 --lr 1e-6
                 --check --out ${_vae_out}_fail)
set_tests_properties(examples/vae_check_fails PROPERTIES ENVIRONMENT NB_PROGRESS=quiet TIMEOUT 600
  PASS_REGULAR_EXPRESSION "check: test -ELBO .*: FAILED")
add_test(NAME examples/vae_help COMMAND vae --help)
set_tests_properties(examples/vae_help PROPERTIES PASS_REGULAR_EXPRESSION
  "usage: vae.*--latent")

# The option table's ranges (examples/common/cli.c): checked after parsing, named in the error.
add_test(NAME examples/vae_latent_out_of_range COMMAND vae --latent 1)
set_tests_properties(examples/vae_latent_out_of_range PROPERTIES PASS_REGULAR_EXPRESSION
  "vae: option --latent must be in 2\\.\\.256, got 1")
