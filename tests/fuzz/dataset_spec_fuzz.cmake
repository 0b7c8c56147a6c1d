ferry_fuzzer(dataset_spec_fuzz ${CMAKE_CURRENT_SOURCE_DIR}/dataset_spec_fuzz.cc
  ${PROJECT_SOURCE_DIR}/tests/testdata/fuzz/dataset_spec_fuzz ferry_common)
