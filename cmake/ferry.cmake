# Helpers shared by every part's CMakeLists.txt.

# Precompiled headers: the heavy third-party headers most files include, compiled
# once per build tree and reused by every target (REUSE_FROM): ferry_pch_lib for
# the libraries, ferry_pch_test (adds GoogleTest) for the test binaries. A target
# whose flags make a shared PCH unusable fails loudly (-Winvalid-pch -Werror).
option(FERRY_PCH "Use precompiled headers" ON)
set(FERRY_PCH_HEADERS <algorithm> <chrono> <map> <memory> <mutex> <string> <string_view> <vector>
  <nlohmann/json.hpp> <spdlog/spdlog.h>)

# ferry_pch_host(NAME HEADERS <h>... LIBS <lib>...): an object library whose only
# job is to own a PCH built with the usage requirements of LIBS.
function(ferry_pch_host name)
  cmake_parse_arguments(arg "" "" "HEADERS;LIBS" ${ARGN})
  if(NOT FERRY_PCH)
    return()
  endif()
  set(src ${PROJECT_BINARY_DIR}/${name}.cc)
  file(CONFIGURE OUTPUT ${src} CONTENT "// Owns the precompiled header ${name}.\n")
  add_library(${name} OBJECT ${src})
  target_precompile_headers(${name} PRIVATE ${arg_HEADERS})
  target_link_libraries(${name} PRIVATE ${arg_LIBS} ferry_warnings)
endfunction()

ferry_pch_host(ferry_pch_lib HEADERS ${FERRY_PCH_HEADERS}
  LIBS spdlog::spdlog nlohmann_json::nlohmann_json Threads::Threads)

# Unity (jumbo) builds: each target compiles its sources in batches of
# FERRY_UNITY_BATCH_SIZE files per translation unit, so the headers they share
# (the standard library, nlohmann/json, spdlog, gtest) are parsed and
# instantiated once per batch instead of once per file. On by default (CI time);
# -DFERRY_UNITY=OFF when editing one file over and over. File-local names
# (anonymous namespaces, static functions) of the files in one batch share a
# scope: a collision is a compile error. Rename the helper if the file is yours;
# otherwise list the file with ferry_unity_skip() next to the target that owns it.
option(FERRY_UNITY "Unity builds (batches of FERRY_UNITY_BATCH_SIZE sources)" ON)
set(FERRY_UNITY_BATCH_SIZE 8 CACHE STRING "Sources per unity translation unit")

# ferry_unity(TARGET): turns the unity build on for TARGET if FERRY_UNITY.
function(ferry_unity name)
  if(FERRY_UNITY)
    set_target_properties(${name} PROPERTIES UNITY_BUILD ON
      UNITY_BUILD_BATCH_SIZE ${FERRY_UNITY_BATCH_SIZE})
  endif()
endfunction()

# ferry_unity_skip(FILE...): FILEs (relative to the calling CMakeLists.txt's
# folder) compile on their own, outside any unity batch. Call it from the
# folder whose CMakeLists.txt creates the target (source properties are per folder).
function(ferry_unity_skip)
  foreach(f ${ARGN})
    get_filename_component(f ${f} ABSOLUTE BASE_DIR ${CMAKE_CURRENT_SOURCE_DIR})
    set_source_files_properties(${f} PROPERTIES SKIP_UNITY_BUILD_INCLUSION ON)
  endforeach()
endfunction()

# ferry_precompile(NAME HOST): NAME uses HOST's precompiled header.
function(ferry_precompile name host)
  if(FERRY_PCH AND TARGET ${host})
    target_precompile_headers(${name} REUSE_FROM ${host})
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
  ferry_precompile(${name} ferry_pch_lib)
  ferry_unity(${name})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name} PUBLIC ${ARGN} PRIVATE ferry_warnings)
endfunction()

# ferry_executable(NAME MAIN [DEPS ...])
function(ferry_executable name main)
  add_executable(${name} ${main})
  ferry_precompile(${name} ferry_pch_lib)
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
  ferry_precompile(${name} ferry_pch_test)
  ferry_unity(${name})
  target_link_libraries(${name} PRIVATE ${ARGN} ferry_test_support GTest::gmock GTest::gtest_main
    ferry_warnings)
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/tests)
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60)
  # Labels and RUN_SERIAL come from a CTest include file read after the one
  # gtest_discover_tests writes (which defines ${name}_TESTS): its PROPERTIES
  # argument flattens a list-valued LABELS ("integration;fuse" became LABELS
  # integration plus a bogus property "fuse"). FUSE tests mount in the test's
  # mount namespace: a namespace another test unshares meanwhile copies the
  # mount and keeps it alive after a lazy unmount. Run them alone.
  set(serial FALSE)
  if("fuse" IN_LIST labels)
    set(serial TRUE)
  endif()
  set(props ${CMAKE_CURRENT_BINARY_DIR}/${name}_properties.cmake)
  file(CONFIGURE OUTPUT ${props} CONTENT
"if(NOT \"\${${name}_TESTS}\" STREQUAL \"\")
  set_tests_properties(\${${name}_TESTS} PROPERTIES LABELS \"${labels}\" RUN_SERIAL ${serial})
endif()
" @ONLY)
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES ${props})
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
