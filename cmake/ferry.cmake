# Helpers shared by every part's CMakeLists.txt.

# Precompiled headers: the heavy third-party headers most files include. This
# roughly halves build time on 2 cores (CI budget).
option(FERRY_PCH "Use precompiled headers" ON)
function(ferry_precompile name)
  if(FERRY_PCH)
    target_precompile_headers(${name} PRIVATE
      <algorithm> <chrono> <map> <memory> <mutex> <string> <string_view> <vector>
      <nlohmann/json.hpp> <spdlog/spdlog.h> ${ARGN})
  endif()
endfunction()

# ferry_library(NAME DIR [DEPS ...]): static library from every *.cc in DIR (not
# recursive) except main.cc.
function(ferry_library name dir)
  file(GLOB srcs CONFIGURE_DEPENDS ${dir}/*.cc)
  list(FILTER srcs EXCLUDE REGEX ".*/main\\.cc$")
  if(NOT srcs)  # headers only so far
    add_library(${name} INTERFACE)
    target_include_directories(${name} INTERFACE ${PROJECT_SOURCE_DIR})
    target_link_libraries(${name} INTERFACE ${ARGN})
    return()
  endif()
  add_library(${name} STATIC ${srcs})
  ferry_precompile(${name})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name} PUBLIC ${ARGN} PRIVATE ferry_warnings)
endfunction()

# ferry_executable(NAME MAIN [DEPS ...])
function(ferry_executable name main)
  add_executable(${name} ${main})
  target_link_libraries(${name} PRIVATE ${ARGN} ferry_warnings)
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/bin)
endfunction()

# ferry_test_dir(NAME LABELS DIR DEPS...): one GoogleTest binary from every
# *_test.cc below DIR (recursive), each test registered in CTest with LABELS
# (a ;-list such as "integration;fuse").
function(ferry_test_dir name labels dir)
  if(NOT FERRY_BUILD_TESTS)
    return()
  endif()
  file(GLOB_RECURSE srcs CONFIGURE_DEPENDS ${dir}/*_test.cc)
  if(NOT srcs)
    return()
  endif()
  add_executable(${name} ${srcs})
  ferry_precompile(${name} <gtest/gtest.h> <gmock/gmock.h>)
  target_link_libraries(${name} PRIVATE ${ARGN} ferry_test_support GTest::gmock GTest::gtest_main
    ferry_warnings)
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/tests)
  # FUSE tests mount in the test's mount namespace: a namespace another test
  # unshares meanwhile copies the mount and keeps it alive after a lazy
  # unmount. Run them alone.
  set(serial FALSE)
  if("fuse" IN_LIST labels)
    set(serial TRUE)
  endif()
  gtest_discover_tests(${name} PROPERTIES LABELS "${labels}" RUN_SERIAL ${serial}
    DISCOVERY_TIMEOUT 60)
endfunction()

set(FERRY_FUZZ_SECONDS 20 CACHE STRING "Seconds each fuzz target runs under ctest")

# ferry_fuzzer(NAME SOURCE CORPUS_DIR DEPS...): a libFuzzer target plus a CTest
# entry (label fuzz) that replays the corpus and fuzzes for a few seconds.
function(ferry_fuzzer name source corpus)
  if(NOT FERRY_FUZZ)
    return()
  endif()
  add_executable(${name} ${source})
  target_link_libraries(${name} PRIVATE ${ARGN})
  target_link_options(${name} PRIVATE -fsanitize=fuzzer)
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/fuzz)
  set(work ${PROJECT_BINARY_DIR}/fuzz/${name}.corpus)
  add_test(NAME ${name}
    COMMAND ${CMAKE_COMMAND} -E env ASAN_OPTIONS=detect_leaks=1
      sh -c "mkdir -p ${work} && $<TARGET_FILE:${name}> -max_total_time=${FERRY_FUZZ_SECONDS} -rss_limit_mb=2048 -timeout=10 ${work} ${corpus}"
  )
  set_tests_properties(${name} PROPERTIES LABELS fuzz)
endfunction()
