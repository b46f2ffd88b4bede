# MPI evaluator tests: a driver run under mpirun by a GoogleTest binary.
if(MNAS_WITH_MPI)
  # The driver lives in search/tools: a program run under mpirun, not a test.
  add_executable(mpi_driver ${PROJECT_SOURCE_DIR}/search/tools/mpi_driver.cpp)
  target_link_libraries(mpi_driver PRIVATE mnas::search_mpi)
  mnas_add_test(mpi_tests
    SOURCES mpi_evaluator_test.cpp
    LIBS nlohmann_json::nlohmann_json
    LABELS mpi)
  target_compile_definitions(mpi_tests PRIVATE
    MNAS_MPIEXEC="${MPIEXEC_EXECUTABLE}"
    MNAS_MPI_DRIVER="$<TARGET_FILE:mpi_driver>")
  add_dependencies(mpi_tests mpi_driver mnas_search mnas_report)
endif()
