# kf_add_test(NAME name SOURCES ... LIBS ... LABELS ... [FIXTURES fixture...])
# One Criterion executable per source file; each becomes one ctest (STYLE.md s14).
find_library(CRITERION_LIB criterion REQUIRED)

function(kf_add_test)
  cmake_parse_arguments(T "" "NAME;TIMEOUT" "SOURCES;LIBS;LABELS;FIXTURES;ENV" ${ARGN})
  add_executable(${T_NAME} ${T_SOURCES})
  target_link_libraries(${T_NAME} PRIVATE ${T_LIBS} ${CRITERION_LIB})
  target_include_directories(${T_NAME} PRIVATE ${PROJECT_SOURCE_DIR})
  # -j1: Criterion forks a worker per test; on 2 shared cores parallel workers only add noise.
  add_test(NAME ${T_NAME} COMMAND ${T_NAME} --jobs=1)
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  set_tests_properties(${T_NAME} PROPERTIES LABELS "${T_LABELS}" TIMEOUT ${T_TIMEOUT})
  if(T_FIXTURES)
    set_tests_properties(${T_NAME} PROPERTIES FIXTURES_REQUIRED "${T_FIXTURES}")
  endif()
  if(T_ENV)
    set_tests_properties(${T_NAME} PROPERTIES ENVIRONMENT "${T_ENV}")
  endif()
endfunction()

# kf_test_runs_openssl(test): the test spawns the system's `openssl` (not instrumented) with
# keyfort.so loaded. In a KEYFORT_SANITIZE build keyfort.so needs the ASan/UBSan runtimes
# first in the process, so they are preloaded; leak checking is off for those processes
# because the openssl CLI itself does not free everything at exit (not keyfort's leaks).
function(kf_test_runs_openssl name)
  if(KEYFORT_SANITIZE)
    execute_process(COMMAND ${CMAKE_C_COMPILER} -print-file-name=libasan.so
                    OUTPUT_VARIABLE kf_asan OUTPUT_STRIP_TRAILING_WHITESPACE)
    execute_process(COMMAND ${CMAKE_C_COMPILER} -print-file-name=libubsan.so
                    OUTPUT_VARIABLE kf_ubsan OUTPUT_STRIP_TRAILING_WHITESPACE)
    set_property(TEST ${name} APPEND PROPERTY ENVIRONMENT
                 "LD_PRELOAD=${kf_asan}:${kf_ubsan}"
                 "ASAN_OPTIONS=halt_on_error=1:detect_leaks=0")
  endif()
endfunction()
