# Helpers that keep every module's build the same (../shared/STYLE.md §1, §7).

set(TC_WARNINGS -Wall -Wextra -Wpedantic -Wconversion -Wshadow -Werror)

# tc_add_library(<module> SRCS ... DEPS ... [PRIVATE_LIBS ...])
# Makes tc_<module> with alias tc::<module>. DEPS are the modules this one may
# use: they are the dependency graph. PRIVATE_LIBS are third-party libraries
# that stay out of public headers.
function(tc_add_library name)
  cmake_parse_arguments(ARG "" "" "SRCS;DEPS;PRIVATE_LIBS" ${ARGN})
  add_library(tc_${name} STATIC ${ARG_SRCS})
  add_library(tc::${name} ALIAS tc_${name})
  target_include_directories(tc_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_compile_options(tc_${name} PRIVATE ${TC_WARNINGS})
  target_link_libraries(tc_${name} PUBLIC ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_LIBS})
endfunction()

# tc_add_test(<name> SRCS ... DEPS ... LABELS unit|integration)
function(tc_add_test name)
  if(NOT TC_BUILD_TESTS)
    return()
  endif()
  cmake_parse_arguments(ARG "" "" "SRCS;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SRCS})
  target_compile_options(${name} PRIVATE ${TC_WARNINGS} -Wno-conversion)
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main GTest::gmock)
  target_compile_definitions(${name} PRIVATE
    TC_TESTDATA_DIR="${PROJECT_SOURCE_DIR}/testdata"
    TC_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    TC_SHARED_DIR="${PROJECT_SOURCE_DIR}/../shared")
  gtest_discover_tests(${name} PROPERTIES LABELS "${ARG_LABELS}" DISCOVERY_TIMEOUT 60)
endfunction()
