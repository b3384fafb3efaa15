# optimizers: notes 001's list of optimizers and batch sizes. Every optimizer must lower f on the
# valley and the network's training loss (--check); the tables and the three PNGs are written.
add_test(NAME examples/optimizers
         COMMAND optimizers --epochs 5 --check --out ${CMAKE_CURRENT_BINARY_DIR}/optimizers_ci)
set_tests_properties(examples/optimizers PROPERTIES PASS_REGULAR_EXPRESSION
  "GD/SGD +SGD lr 0\\.4 .*Nesterov +SGD lr 0\\.05 .*AdaDelta +AdaDelta lr 1 .*AdamW +AdamW lr 0\\.3 .*wrote .*optimizers_ci_valley\\.png.*batch 1 \\(stochastic\\) +2560 .*batch 32 \\(mini-batch\\) +80 .*batch 512 \\(full: GD\\) +5 .*wrote .*optimizers_ci_batch\\.png.*Adam +0\\.[0-9]+ +0\\.[0-9]+\n.*wrote .*optimizers_ci_network\\.png")
add_test(NAME examples/optimizers_help COMMAND optimizers --help)
set_tests_properties(examples/optimizers_help PROPERTIES PASS_REGULAR_EXPRESSION
  "usage: optimizers.*notes 001")
