# weight_norm: plain SGD against nb_weight_norm on sin(3x) at lr 0.1 and 0.5 from three initial
# weight scales (600 steps): both networks start from the same MSE in every run, and at lr 0.5
# every weight-normed run trains while the plain network diverges (--check).
add_test(NAME examples/weight_norm
         COMMAND weight_norm --steps 600 --every 300 --check
                 --out ${CMAKE_CURRENT_BINARY_DIR}/weight_norm_ci)
set_tests_properties(examples/weight_norm PROPERTIES PASS_REGULAR_EXPRESSION
  "weight_v \\[16, 1\\], bias \\[16\\], weight_g \\[16, 1\\].*the plain network diverged at step [0-9]+.*final MSE.*0\\.5 +1 +nan +0\\.0[0-9]+\n.*wrote .*weight_norm_ci\\.png\ncheck: same start in every run: yes.*\nmatch")
add_test(NAME examples/weight_norm_help COMMAND weight_norm --help)
set_tests_properties(examples/weight_norm_help PROPERTIES PASS_REGULAR_EXPRESSION
  "weight_norm.*Reproduces notes 003.*usage: weight_norm")
