# mnas_latency: measure, profile, predict, validate, sample, export/import.
add_executable(mnas_latency ${CMAKE_CURRENT_SOURCE_DIR}/mnas_latency.cpp)
target_link_libraries(mnas_latency PRIVATE mnas::latency_measure Boost::program_options)
mnas_set_warnings(mnas_latency)

# mnas_decode shows the predicted latency when given a table (Torch-free).
target_link_libraries(mnas_decode PRIVATE mnas::latency)
