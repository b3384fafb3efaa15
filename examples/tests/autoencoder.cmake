# autoencoder: a few epochs on generated images must lower the test loss to below 0.8 x its
# value before training (--check exits 1 otherwise) and write the PNGs and the CSV.
set(_ae_out ${CMAKE_CURRENT_BINARY_DIR}/autoencoder_ci)
add_test(NAME examples/autoencoder
         COMMAND autoencoder --synthetic --limit 256 --test-limit 64 --epochs 3 --seed 1
                 --check --check-ratio 0.8 --out ${_ae_out})
set_tests_properties(examples/autoencoder PROPERTIES ENVIRONMENT NB_PROGRESS=plain)

# The printed numbers: the loss before training of a sigmoid output near 0.5 against images
# that are mostly dark (about 0.18), and a lower value after training.
add_test(NAME examples/autoencoder_values
         COMMAND autoencoder --synthetic --limit 256 --test-limit 64 --epochs 3 --seed 1
                 --out ${_ae_out}_values)
set_tests_properties(examples/autoencoder_values PROPERTIES ENVIRONMENT NB_PROGRESS=quiet
  PASS_REGULAR_EXPRESSION
  "test loss before training 0\\.1[0-9]+.*epoch   3/3  train loss 0\\.[0-9]+  test loss 0\\.[01][0-9]+.*wrote .*_recon\\.png.*wrote .*_loss\\.png")

# The course's settings are accepted.
add_test(NAME examples/autoencoder_course_settings
         COMMAND autoencoder --synthetic --limit 64 --test-limit 32 --epochs 1 --lr 1e-1
                 --weight-decay 1e-8 --out ${_ae_out}_course)
set_tests_properties(examples/autoencoder_course_settings PROPERTIES ENVIRONMENT
  NB_PROGRESS=quiet PASS_REGULAR_EXPRESSION "Adam lr 0\\.1, weight decay 1e-08, batch 32")

add_test(NAME examples/autoencoder_help COMMAND autoencoder --help)
set_tests_properties(examples/autoencoder_help PROPERTIES PASS_REGULAR_EXPRESSION
  "usage: autoencoder.*--weight-decay")
