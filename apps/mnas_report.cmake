# mnas_report: read-only listings and the HTML report of an experiment db.
# Torch-free: it links no LibTorch, OpenCV or ONNX.
add_executable(mnas_report ${CMAKE_CURRENT_LIST_DIR}/mnas_report.cpp)
target_link_libraries(mnas_report PRIVATE mnas::experiment_core Boost::program_options)
mnas_set_warnings(mnas_report)
