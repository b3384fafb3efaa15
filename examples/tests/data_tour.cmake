# data_tour's tests. Included by examples/CMakeLists.txt, this file declares them; run with
# `cmake -P` (CMAKE_SCRIPT_MODE_FILE set), it is the checker each test runs: it starts PROG with
# ARGS (arguments separated by "|"), requires exit code 0 (non-zero when FAIL is set), requires
# the combined output to match every regex in MATCH (regexes separated by "||"), and every file
# in FILES (separated by "|") to exist and be non-empty.
if(CMAKE_SCRIPT_MODE_FILE)
  string(REPLACE "|" ";" args "${ARGS}")
  execute_process(COMMAND ${PROG} ${args} RESULT_VARIABLE rc OUTPUT_VARIABLE out
                  ERROR_VARIABLE err)
  message("${out}${err}")
  if(FAIL AND rc EQUAL 0)
    message(FATAL_ERROR "expected a non-zero exit code, got 0")
  elseif(NOT FAIL AND NOT rc EQUAL 0)
    message(FATAL_ERROR "exit code ${rc}")
  endif()
  string(REPLACE "||" ";" regexes "${MATCH}")
  foreach(re ${regexes})
    if(NOT "${out}${err}" MATCHES "${re}")
      message(FATAL_ERROR "output does not match: ${re}")
    endif()
  endforeach()
  string(REPLACE "|" ";" files "${FILES}")
  foreach(f ${files})
    if(NOT EXISTS "${f}")
      message(FATAL_ERROR "missing output file ${f}")
    endif()
    file(SIZE "${f}" size)
    if(size EQUAL 0)
      message(FATAL_ERROR "empty output file ${f}")
    endif()
  endforeach()
  return()
endif()

set(_dt_check ${CMAKE_CURRENT_LIST_FILE})
set(_dt_dir ${CMAKE_CURRENT_BINARY_DIR}/data_tour_synthetic)

add_test(NAME data_tour_help COMMAND ${CMAKE_COMMAND} -DPROG=$<TARGET_FILE:data_tour>
         -DARGS=--help "-DMATCH=usage: data_tour||--write-synthetic" -P ${_dt_check})

# A small synthetic MNIST-format set (gzip IDX written by the library), then the tour over it
# with the real MNIST loader: 300/100 images in 10 classes, split 60/20/20, one epoch.
add_test(NAME data_tour_make_synthetic COMMAND ${CMAKE_COMMAND} -E rm -rf ${_dt_dir})
add_test(NAME data_tour_synthetic COMMAND ${CMAKE_COMMAND} -DPROG=$<TARGET_FILE:data_tour>
         "-DARGS=--write-synthetic|${_dt_dir}"
         "-DMATCH=train-images-idx3-ubyte.gz \\(300 images\\)||t10k-images-idx3-ubyte.gz \\(100 images\\)"
         -P ${_dt_check})
add_test(NAME data_tour_on_synthetic_mnist COMMAND ${CMAKE_COMMAND}
         -DPROG=$<TARGET_FILE:data_tour>
         "-DARGS=--data|${_dt_dir}|--out|${_dt_dir}/tour|--batch|50|--seed|3"
         "-DMATCH=train: 300 samples of \\[28, 28\\] f32, 10 classes||test:  100 samples||\n  0  0 +[0-9]+ +[0-9]+\n||\n  9  9 +[0-9]+ +[0-9]+\n||train 180, validation 60, test 60||validation now has mean -?0\\.0[0-9]+, std (0\\.9|1\\.0)||4 per epoch, the last holds 30; 180 samples seen||wrote .*tour_grid.png \\(the first 64 training images"
         "-DFILES=${_dt_dir}/tour_grid.png|${_dt_dir}/tour_classes.csv"
         -P ${_dt_check})
set_tests_properties(data_tour_make_synthetic PROPERTIES FIXTURES_SETUP data_tour_clean)
set_tests_properties(data_tour_synthetic PROPERTIES FIXTURES_SETUP data_tour_files
                                                    FIXTURES_REQUIRED data_tour_clean)
set_tests_properties(data_tour_on_synthetic_mnist PROPERTIES FIXTURES_REQUIRED data_tour_files)

# No data where it looks: a clear message saying where it looked and how to get data, exit != 0.
add_test(NAME data_tour_without_data COMMAND ${CMAKE_COMMAND} -DPROG=$<TARGET_FILE:data_tour>
         "-DARGS=--data|${CMAKE_CURRENT_BINARY_DIR}/no-such-dir" -DFAIL=ON
         "-DMATCH=no dataset found\\. Looked for MNIST in .*no-such-dir||apt-get install dataset-fashion-mnist||--data DIR"
         -P ${_dt_check})
