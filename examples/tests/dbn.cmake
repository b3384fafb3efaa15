# dbn: greedy pretraining of two small RBMs on generated images must lower each RBM's
# reconstruction error and fine-tuning must lower the pretrained classifier's loss (--check
# exits 1 otherwise); both test accuracies are printed.
add_test(NAME examples/dbn
         COMMAND dbn --synthetic --pretrain-limit 1000 --test-limit 200 --hidden1 100
                 --hidden2 50 --pretrain-epochs 5 --labels 100 --finetune-epochs 20 --seed 1
                 --check)
set_tests_properties(examples/dbn PROPERTIES ENVIRONMENT NB_PROGRESS=quiet
  PASS_REGULAR_EXPRESSION
  "RBM 2 \\(h1 -> h2\\) epoch 5/5.*test accuracy with 100 labels: [0-9.]+% with pretraining, [0-9.]+% without")

add_test(NAME examples/dbn_help COMMAND dbn --help)
set_tests_properties(examples/dbn_help PROPERTIES PASS_REGULAR_EXPRESSION
  "usage: dbn.*--labels")
