# MPI evaluator tests: a driver run under mpirun by a GoogleTest binary.
if(MNAS_WITH_MPI)
  add_executable(mpi_driver mpi_driver.cpp)
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
