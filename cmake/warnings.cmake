# Warnings for every keyfort target; errors when KEYFORT_WERROR is on (CI).
# No -Wcast-qual: PKCS#11 (CK_BYTE_PTR, CK_ATTRIBUTE.pValue) and OSSL_PARAM take non-const
# pointers to data they only read, so every call would need a cast or a copy.
set(KF_WARNINGS -Wall -Wextra -Wshadow -Wformat=2 -Wvla -Wstrict-prototypes
    -Wmissing-prototypes -Wpointer-arith -Wundef -Wno-unused-parameter)
if(KEYFORT_WERROR)
  list(APPEND KF_WARNINGS -Werror)
endif()
add_compile_options(${KF_WARNINGS} -D_GNU_SOURCE)
