ferry_fuzzer(admission_review_fuzz ${CMAKE_CURRENT_SOURCE_DIR}/admission_review_fuzz.cc
  ${PROJECT_SOURCE_DIR}/tests/testdata/fuzz/admission_review_fuzz ferry_webhook)
