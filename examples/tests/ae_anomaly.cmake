# ae_anomaly: an autoencoder trained on nine classes of generated images must rank the tenth class
# above the others by reconstruction error (ROC AUC >= 0.7; chance is 0.5; --check exits 1
# otherwise), and write both image rows and the loss curve.
add_test(NAME examples/ae_anomaly
         COMMAND ae_anomaly --synthetic --limit 2000 --test-limit 300 --epochs 10 --seed 1
                 --check --min-auc 0.7 --out ${CMAKE_CURRENT_BINARY_DIR}/ae_anomaly_ci)
set_tests_properties(examples/ae_anomaly PROPERTIES ENVIRONMENT NB_PROGRESS=quiet
  PASS_REGULAR_EXPRESSION
  "training on [0-9]+ of 2000 training images \\(every class but 1\\).*class 1 +0\\.[0-9]+   <- never trained on.*ROC AUC of class 1 against the others, ranked by reconstruction error: 0\\.[0-9]+.*wrote .*_most\\.png and .*_least\\.png")
# An AUC of 1 cannot be reached after one epoch: --check must be able to fail.
add_test(NAME examples/ae_anomaly_check_fails
         COMMAND ae_anomaly --synthetic --limit 200 --test-limit 100 --epochs 1 --check
                 --min-auc 1.0 --out ${CMAKE_CURRENT_BINARY_DIR}/ae_anomaly_ci_fail)
set_tests_properties(examples/ae_anomaly_check_fails PROPERTIES ENVIRONMENT NB_PROGRESS=quiet
  WILL_FAIL TRUE)
add_test(NAME examples/ae_anomaly_help COMMAND ae_anomaly --help)
set_tests_properties(examples/ae_anomaly_help PROPERTIES PASS_REGULAR_EXPRESSION
  "usage: ae_anomaly.*notes 001")
