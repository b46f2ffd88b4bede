# mnas_search: runs or resumes a search experiment (experiments/search_run.h).
add_executable(mnas_search ${CMAKE_CURRENT_LIST_DIR}/mnas_search.cpp)
target_link_libraries(mnas_search PRIVATE mnas::experiments Boost::program_options)
mnas_set_warnings(mnas_search)
