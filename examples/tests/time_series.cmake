# time_series: a short run must beat the naive last-value forecast on the test points (--check)
# and write its CSV and PNG plot.
add_test(NAME examples/time_series COMMAND time_series --points 600 --steps 150 --every 50
         --check --csv ${CMAKE_CURRENT_BINARY_DIR}/time_series_test.csv
         --png ${CMAKE_CURRENT_BINARY_DIR}/time_series_test.png)
set_tests_properties(examples/time_series PROPERTIES PASS_REGULAR_EXPRESSION
  "naive forecast \\(next = last\\) test MSE [0-9.]+.*step  150/150  train MSE [0-9.]+  test MSE [0-9.]+.*model beats the naive forecast.*wrote .*time_series_test.csv.*wrote .*time_series_test.png")
add_test(NAME examples/time_series_gru COMMAND time_series --cell gru --points 600 --steps 150
         --every 50 --check --csv ${CMAKE_CURRENT_BINARY_DIR}/time_series_gru.csv
         --png ${CMAKE_CURRENT_BINARY_DIR}/time_series_gru.png)
add_test(NAME examples/time_series_help COMMAND time_series --help)
set_tests_properties(examples/time_series_help PROPERTIES PASS_REGULAR_EXPRESSION "usage: time_series")
