# embedding_projector: after 600 steps the vectors file must have one row of 8 numbers per word
# (33 x 8), the metadata file a header and one row per word (34 x 2), and the nearest neighbour
# of at least 80% of the 30 content words must be in its own group (--check exits 1 otherwise).
add_test(NAME examples/embedding_projector
         COMMAND embedding_projector --check --steps 600 --seed 1
                 --out ${CMAKE_CURRENT_BINARY_DIR}/embedding_projector_test)

# The printed export lines and a neighbour of the same group for the first word.
add_test(NAME examples/embedding_projector_values
         COMMAND embedding_projector --steps 600 --seed 1
                 --out ${CMAKE_CURRENT_BINARY_DIR}/embedding_projector_values)
set_tests_properties(examples/embedding_projector_values PROPERTIES PASS_REGULAR_EXPRESSION
  "one +number +(two|three|four|five|six) .*wrote .*embedding_projector_values_vectors\\.tsv \\(33 rows x 8 columns\\) and .*embedding_projector_values_metadata\\.tsv \\(header \\+ 33 rows\\)")

add_test(NAME examples/embedding_projector_help COMMAND embedding_projector --help)
set_tests_properties(examples/embedding_projector_help PROPERTIES
  PASS_REGULAR_EXPRESSION "usage: embedding_projector")
