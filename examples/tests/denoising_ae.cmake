# denoising_ae: with each kind of corruption, a few epochs on generated images must lower the
# test denoising error below 0.5 x its value before training (--check exits 1 otherwise).
foreach(_noise mask gaussian saltpepper)
  add_test(NAME examples/denoising_ae_${_noise}
           COMMAND denoising_ae --synthetic --limit 512 --test-limit 128 --epochs 3 --seed 1
                   --noise ${_noise} --check --check-ratio 0.5
                   --out ${CMAKE_CURRENT_BINARY_DIR}/denoising_ae_${_noise})
  set_tests_properties(examples/denoising_ae_${_noise} PROPERTIES ENVIRONMENT NB_PROGRESS=quiet
    PASS_REGULAR_EXPRESSION "test MSE of the corrupted images themselves: 0\\.[0-9]+.*wrote .*_denoise\\.png")
endforeach()

add_test(NAME examples/denoising_ae_bad_noise COMMAND denoising_ae --noise blur)
set_tests_properties(examples/denoising_ae_bad_noise PROPERTIES WILL_FAIL TRUE)

add_test(NAME examples/denoising_ae_help COMMAND denoising_ae --help)
set_tests_properties(examples/denoising_ae_help PROPERTIES PASS_REGULAR_EXPRESSION
  "usage: denoising_ae.*--noise")
