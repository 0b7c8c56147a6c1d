ferry_fuzzer(s3_list_xml_fuzz ${CMAKE_CURRENT_SOURCE_DIR}/s3_list_xml_fuzz.cc
  ${PROJECT_SOURCE_DIR}/tests/testdata/fuzz/s3_list_xml_fuzz ferry_sidecar_source)
