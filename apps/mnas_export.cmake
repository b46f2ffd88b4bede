# mnas_export: checkpoint -> ONNX / TorchScript (verified), or --info.
add_executable(mnas_export ${CMAKE_CURRENT_SOURCE_DIR}/mnas_export.cpp)
target_link_libraries(mnas_export PRIVATE mnas::export Boost::program_options)
mnas_set_warnings(mnas_export)
