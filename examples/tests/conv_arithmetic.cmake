# conv_arithmetic: the convolution questions of notes 002 in the sheet's order. Every value below
# was worked out by hand from the sheet's formula L_out = floor((L_in - paso (ancho - 1) - 1) /
# salto + 1) and weights = filters x (inputs x kernel area + 1):
#   Q1/Q2 4 x (4 + 1) = 20, floor(93 / 2 + 1) = 47       Q3 97 and floor(100 / 4) = 25
#   Q4 100 -> 97 -> 24 -> 21 -> 5 -> 2: 5 width-4 layers, 6 to one output    Q5 4 layers
#   Q6/Q7 97, 5 x 17 = 85    Q8 4 x 4 x 5 + 1 = 81, 94    Q9 85x85x1, 85+324+195+98+33 = 735
#   Q11 width 4: 1 before, 2 after    Q12 100x100x11, 6 x 17 + 5 x 10 = 152
#   Q13 6 x 177 + 5 x 100 = 1562    Q14 3 x 12 = 36    Q15 72 + 294 + 140 = 506
#   Q16 100x100x6, 72 + 60 = 132
add_test(NAME examples/conv_arithmetic COMMAND conv_arithmetic --check)
set_tests_properties(examples/conv_arithmetic PROPERTIES PASS_REGULAR_EXPRESSION
  "Q1 .*weights of the layer[^\n]* 20 +\\(by hand: 20\\) ok\nQ2 .*outputs per processor +47 .*Q3 .* 97 .* 25 .*Q4 .*100 -> 97 -> 24 -> 21 -> 5 -> 2\n.*width-4 layers +5 .*layers to one output[^\n]* 6 .*Q5 .* 4 +\\(by hand: 4\\) ok\nQ6 .* 97 .*Q7 .* 85 .*Q8 .* 81 .* 94 .*Q10 .*-> 85x85x1\n.* 85 .* 735 .*Q11 .*width 4: 1 before, 2 after.*Q12 .*output 100x100x11\n.* 152 .*Q13 .* 1562 .*Q14 .*output 100x100x3.* 36 .*Q15 .* 506 .*Q16 .*output 100x100x6\n.* 132 +\\(by hand: 132\\) ok\n\nall answers agree with the values worked by hand")
add_test(NAME examples/conv_arithmetic_no_bias COMMAND conv_arithmetic --no-bias --check)
set_tests_properties(examples/conv_arithmetic_no_bias PROPERTIES PASS_REGULAR_EXPRESSION
  "weights of the layer[^\n]* 16 +\\(by hand: 16\\) ok.* 80 +\\(by hand: 80\\) ok.*all answers agree")
# A layer of the caller's sizes: Q1's layer again, and 5 filters of 4x4 on a 3-channel image
# (5 x (48 + 1) = 245).
add_test(NAME examples/conv_arithmetic_one_layer
         COMMAND conv_arithmetic --in 100 --width 4 --stride 2 --dilation 2 --filters 4)
set_tests_properties(examples/conv_arithmetic_one_layer PROPERTIES PASS_REGULAR_EXPRESSION
  "output 47 values x4 filters, 20 weights")
add_test(NAME examples/conv_arithmetic_one_layer_2d
         COMMAND conv_arithmetic --in 100 --dims 2 --width 4 --filters 5 --channels 3)
set_tests_properties(examples/conv_arithmetic_one_layer_2d PROPERTIES PASS_REGULAR_EXPRESSION
  "output 97x97x5, 245 weights")
add_test(NAME examples/conv_arithmetic_help COMMAND conv_arithmetic --help)
set_tests_properties(examples/conv_arithmetic_help PROPERTIES PASS_REGULAR_EXPRESSION
  "usage: conv_arithmetic.*notes 002")
add_test(NAME examples/conv_arithmetic_rejects_unknown COMMAND conv_arithmetic --bogus)
set_tests_properties(examples/conv_arithmetic_rejects_unknown PROPERTIES WILL_FAIL TRUE)
add_test(NAME examples/conv_arithmetic_rejects_dims COMMAND conv_arithmetic --in 10 --dims 3)
set_tests_properties(examples/conv_arithmetic_rejects_dims PROPERTIES WILL_FAIL TRUE)
