# mnas_train: full training runs, checkpoint evaluation, proxy child runs.
add_executable(mnas_train ${CMAKE_CURRENT_SOURCE_DIR}/mnas_train.cpp)
target_link_libraries(mnas_train PRIVATE mnas::train Boost::program_options)
mnas_set_warnings(mnas_train)

# bench/train_throughput: mnas vs Python PyTorch training throughput (not a
# test: run it by hand under the CPU lock, see docs/training.md).
add_executable(train_throughput ${PROJECT_SOURCE_DIR}/bench/train_throughput.cpp)
target_link_libraries(train_throughput PRIVATE mnas::train)
target_compile_definitions(train_throughput PRIVATE MNAS_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
set_target_properties(train_throughput PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/bench)
mnas_set_warnings(train_throughput)
