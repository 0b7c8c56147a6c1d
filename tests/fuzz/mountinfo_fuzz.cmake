ferry_fuzzer(mountinfo_fuzz ${CMAKE_CURRENT_SOURCE_DIR}/mountinfo_fuzz.cc
  ${PROJECT_SOURCE_DIR}/tests/testdata/fuzz/mountinfo_fuzz ferry_common)
