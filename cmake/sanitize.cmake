# KEYFORT_SANITIZE: ASan+UBSan that stop at the first report (STYLE.md s14).
if(KEYFORT_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=all
                      -fno-omit-frame-pointer -DKF_SANITIZE=1)
  add_link_options(-fsanitize=address,undefined -fno-sanitize-recover=all)
endif()
if(KEYFORT_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "KEYFORT_FUZZ needs clang: configure with -DCMAKE_C_COMPILER=clang")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link -DKF_FUZZ=1)
endif()
