# mnas_classify: image files -> top-5 labels, with a checkpoint (LibTorch) or
# an exported ONNX file (ONNX Runtime).
add_executable(mnas_classify ${CMAKE_CURRENT_SOURCE_DIR}/mnas_classify.cpp)
target_link_libraries(mnas_classify PRIVATE mnas::classify Boost::program_options)
mnas_set_warnings(mnas_classify)
