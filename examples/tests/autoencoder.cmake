# autoencoder: ten epochs on generated images must lower the test loss to below 0.8 x its value
# before training without collapsing to one output image (--check exits 1 otherwise) and write
# the PNGs and the CSV. (With fewer images or epochs the network still answers the mean image.)
set(_ae_out ${CMAKE_CURRENT_BINARY_DIR}/autoencoder_ci)
add_test(NAME examples/autoencoder
         COMMAND autoencoder --synthetic --limit 2000 --test-limit 200 --epochs 10 --seed 1
                 --check --check-ratio 0.8 --out ${_ae_out})
set_tests_properties(examples/autoencoder PROPERTIES ENVIRONMENT NB_PROGRESS=plain
  PASS_REGULAR_EXPRESSION "spread of the reconstructions across test images 0\\.[0-9]+ \\(([1-9][0-9]|[5-9])\\.[0-9]% of it\\)"
  FAIL_REGULAR_EXPRESSION "COLLAPSE")

# The printed numbers: the loss before training of a sigmoid output near 0.5 against images
# that are mostly dark (about 0.18), and a lower value after training.
add_test(NAME examples/autoencoder_values
         COMMAND autoencoder --synthetic --limit 256 --test-limit 64 --epochs 3 --seed 1
                 --out ${_ae_out}_values)
set_tests_properties(examples/autoencoder_values PROPERTIES ENVIRONMENT NB_PROGRESS=quiet
  PASS_REGULAR_EXPRESSION
  "test loss before training 0\\.1[0-9]+.*epoch   3/3  train loss 0\\.[0-9]+  test loss 0\\.[01][0-9]+.*wrote .*_recon\\.png.*wrote .*_loss\\.png")

# The notes' settings (004: Adam lr 1e-1, weight decay 1e-8) collapse the network; the program
# must say so at run time: one image for every input, its MSE against the images' pixel variance
# (the constant image is their mean, MSE = variance, or not even that), and which layer went
# constant with the setting that avoids it, or that none did yet. lr 0.1 is chaotic, so which of
# these endings a run reaches depends on the rounding of the BLIS kernels the CPU gets (zen3,
# haswell and skx each gave another one); every diagnosis passes. With --check the collapse is a
# failure.
add_test(NAME examples/autoencoder_course_settings
         COMMAND autoencoder --synthetic --limit 512 --test-limit 128 --epochs 3 --lr 1e-1
                 --weight-decay 1e-8 --seed 1 --out ${_ae_out}_course)
set_tests_properties(examples/autoencoder_course_settings PROPERTIES ENVIRONMENT
  NB_PROGRESS=quiet PASS_REGULAR_EXPRESSION
  "Adam lr 0\\.1, weight decay 1e-08, batch 32.*COLLAPSE: every reconstruction is \\(nearly\\) the same image.*It is (the average image: the test MSE 0\\.0[0-9]+ equals|not even the average image: the test MSE 0\\.[0-9]+ is [0-9.]+ times) the pixel[ \n]+variance 0\\.0[0-9]+ .*(Cause: the [0-9]+ outputs of layer (en|de)coder\\.[0-9] .*train with --lr 1e-3|No layer's output is constant)")
add_test(NAME examples/autoencoder_course_settings_check
         COMMAND autoencoder --synthetic --limit 512 --test-limit 128 --epochs 3 --lr 1e-1
                 --weight-decay 1e-8 --seed 1 --check --out ${_ae_out}_course_check)
set_tests_properties(examples/autoencoder_course_settings_check PROPERTIES ENVIRONMENT
  NB_PROGRESS=quiet WILL_FAIL TRUE)

add_test(NAME examples/autoencoder_help COMMAND autoencoder --help)
set_tests_properties(examples/autoencoder_help PROPERTIES PASS_REGULAR_EXPRESSION
  "usage: autoencoder.*--weight-decay")

# --sizes: notes 002's plans, counted by the library. Worked by hand:
#   6-4-6: (6*4 + 4) + (4*6 + 6) = 58
#   1000-...-5 and back: encoder 300300 + 30100 + 5050 + 1020 + 105 = 336575, decoder
#   120 + 1050 + 5100 + 30300 + 301000 = 337570; stages 601300, 60400, 10150, 2070, 225
add_test(NAME examples/autoencoder_plan_6_4 COMMAND autoencoder --sizes 6,4)
set_tests_properties(examples/autoencoder_plan_6_4 PROPERTIES PASS_REGULAR_EXPRESSION
  "6 - 4 - 6   \\(58 parameters: encoder 28, decoder 30\\).*stage 1: 6 - 4 - 6 on the inputs   58 parameters")
add_test(NAME examples/autoencoder_plan_5_hidden COMMAND autoencoder --sizes 1000,300,100,50,20,5)
set_tests_properties(examples/autoencoder_plan_5_hidden PROPERTIES PASS_REGULAR_EXPRESSION
  "1000 - 300 - 100 - 50 - 20 - 5 - 20 - 50 - 100 - 300 - 1000   \\(674145 parameters: encoder 336575, decoder 337570\\).*stage 1: 1000 - 300 - 1000 on the inputs   601300 .*stage 2: 300 - 100 - 300 .*60400 .*stage 3: .*10150 .*stage 4: .*2070 .*stage 5: 20 - 5 - 20 .*225 parameters")
add_test(NAME examples/autoencoder_plan_rejects_bad COMMAND autoencoder --sizes 6,)
set_tests_properties(examples/autoencoder_plan_rejects_bad PROPERTIES WILL_FAIL TRUE)
