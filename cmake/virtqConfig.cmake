# SPDX-License-Identifier: MIT
# find_package(virtq): the INTERFACE target virtq::virtq, whose include
# directory holds virtq.h (and virtq/shims/<platform>/ for the shims).
get_filename_component(_virtq_prefix "${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)
if(NOT TARGET virtq::virtq)
  add_library(virtq::virtq INTERFACE IMPORTED)
  set_target_properties(virtq::virtq PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${_virtq_prefix}/include")
endif()
set(virtq_INCLUDE_DIRS "${_virtq_prefix}/include")
unset(_virtq_prefix)
