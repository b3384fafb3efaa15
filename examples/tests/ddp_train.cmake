# ddp_train: 2 ranks train on generated images; --check exits 1 unless the loss falls over the
# epochs and both ranks end with rank 0's parameters. A second run resumes the first one's
# checkpoint on 1 rank. (Only with libnabla-dist, i.e. when MPI is found.)
if(TARGET ddp_train)
  set(NB_DDP_RUN ${MPIEXEC_EXECUTABLE} --allow-run-as-root --oversubscribe)
  set(NB_DDP_ENV "OMPI_MCA_btl_vader_single_copy_mechanism=none" NB_PROGRESS=quiet)
  if(NB_SANITIZE) # Open MPI's unloaded plugins: see tests/dist/CMakeLists.txt
    list(APPEND NB_DDP_ENV "ASAN_OPTIONS=detect_leaks=0:abort_on_error=1")
  endif()
  set(NB_DDP_CKPT ${CMAKE_CURRENT_BINARY_DIR}/ddp_train_ci.ckpt)
  add_test(NAME examples/ddp_train
           COMMAND ${NB_DDP_RUN} -np 2 $<TARGET_FILE:ddp_train> --synthetic --epochs 3
                   --batch 64 --hidden 64 --bucket-kb 16 --check --checkpoint ${NB_DDP_CKPT})
  set_tests_properties(examples/ddp_train PROPERTIES ENVIRONMENT "${NB_DDP_ENV}" TIMEOUT 300
    PROCESSORS 2 FIXTURES_SETUP ddp_train_ckpt
    PASS_REGULAR_EXPRESSION "epoch 3: train loss [0-9.]+, test accuracy [0-9.]+%.*time per step.*parameters identical on all 2 ranks: yes")
  add_test(NAME examples/ddp_train_resume
           COMMAND ${NB_DDP_RUN} -np 1 $<TARGET_FILE:ddp_train> --synthetic --epochs 4
                   --batch 64 --hidden 64 --resume ${NB_DDP_CKPT})
  set_tests_properties(examples/ddp_train_resume PROPERTIES ENVIRONMENT "${NB_DDP_ENV}"
    TIMEOUT 300 FIXTURES_REQUIRED ddp_train_ckpt
    PASS_REGULAR_EXPRESSION "resumed from .* at epoch 4.*epoch 4: train loss")
  add_test(NAME examples/ddp_train_help COMMAND ddp_train --help)
  set_tests_properties(examples/ddp_train_help PROPERTIES PASS_REGULAR_EXPRESSION
    "usage: ddp_train.*--no-overlap")
endif()
