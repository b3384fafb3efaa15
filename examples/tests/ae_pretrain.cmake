# ae_pretrain: on generated images every pretraining stage must lower its loss and fine-tuning
# must bring both networks below the untrained test error (--check exits 1 otherwise).
add_test(NAME examples/ae_pretrain
         COMMAND ae_pretrain --synthetic --limit 512 --test-limit 128 --pretrain-epochs 2
                 --epochs 3 --seed 1 --check --out ${CMAKE_CURRENT_BINARY_DIR}/ae_pretrain_ci)
set_tests_properties(examples/ae_pretrain PROPERTIES ENVIRONMENT NB_PROGRESS=quiet
  PASS_REGULAR_EXPRESSION
  "stage 4: layer 64 -> 30 .*30-d code, test MSE after 3 fine-tuning epochs: 0\\.[0-9]+ pretrained, 0\\.[0-9]+ from scratch")

add_test(NAME examples/ae_pretrain_help COMMAND ae_pretrain --help)
set_tests_properties(examples/ae_pretrain_help PROPERTIES PASS_REGULAR_EXPRESSION
  "usage: ae_pretrain.*--pretrain-epochs")
