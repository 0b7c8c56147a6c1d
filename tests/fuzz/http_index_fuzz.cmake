ferry_fuzzer(http_index_fuzz ${CMAKE_CURRENT_SOURCE_DIR}/http_index_fuzz.cc
  ${PROJECT_SOURCE_DIR}/tests/testdata/fuzz/http_index_fuzz ferry_sidecar_source)
