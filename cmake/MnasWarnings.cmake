# Warnings on our own targets only (Torch headers are noisy), never through
# global CMAKE_CXX_FLAGS.
function(mnas_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic)
  if(MNAS_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
