# gan on generated bar images: 20 epochs over 2000 images must bring the mean generated image
# within half its initial distance of the data's mean image while the samples keep a spread
# above a quarter of the data's (--check), and write the progress grid (one row per epoch),
# the samples and the curves.
set(_gan_out ${CMAKE_CURRENT_BINARY_DIR}/gan_ci)
add_test(NAME examples/gan
         COMMAND gan --synthetic --epochs 20 --limit 2000 --threads 1 --check --out ${_gan_out})
set_tests_properties(examples/gan PROPERTIES ENVIRONMENT NB_PROGRESS=quiet TIMEOUT 900
  PASS_REGULAR_EXPRESSION "epoch 20: D loss [0-9.]+, G loss [0-9.]+, D\\(real\\) 0\\.[0-9]+, D\\(G\\(z\\)\\) 0\\.[0-9]+.*wrote .*gan_ci_progress\\.png\nwrote .*gan_ci_samples\\.png and .*gan_ci_curves\\.csv\nwrote .*gan_ci_curves\\.png.*check: .*: ok")
# After 5 epochs the generator still draws one blob for every code (mode collapse): the spread
# criterion must fail the check.
add_test(NAME examples/gan_check_fails
         COMMAND gan --synthetic --epochs 5 --limit 2000 --threads 1 --check --out ${_gan_out}_5)
set_tests_properties(examples/gan_check_fails PROPERTIES ENVIRONMENT NB_PROGRESS=quiet
  TIMEOUT 900 PASS_REGULAR_EXPRESSION "check: .*: FAILED")
add_test(NAME examples/gan_help COMMAND gan --help)
set_tests_properties(examples/gan_help PROPERTIES PASS_REGULAR_EXPRESSION "usage: gan.*--latent")

# The option table's ranges: shown by --help, checked after parsing (a default is checked too).
add_test(NAME examples/gan_lr_out_of_range COMMAND gan --lr 0)
set_tests_properties(examples/gan_lr_out_of_range PROPERTIES PASS_REGULAR_EXPRESSION
  "gan: option --lr must be > 0, got 0")
add_test(NAME examples/gan_help_ranges COMMAND gan --help)
set_tests_properties(examples/gan_help_ranges PROPERTIES PASS_REGULAR_EXPRESSION
  "--epochs N +training epochs \\(default 10\\) \\[in 1\\.\\.100\\]")
