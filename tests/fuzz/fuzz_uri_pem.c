/* fuzz_uri_pem covers: kf_hsm_uri_pem_parse_der (hsm/uri_pem.c). */
/* tests/fuzz/fuzz_uri_pem.c - the body of a "KEYFORT PKCS11 URI" PEM block comes from a key
 * file on disk: untrusted. Checked: success only for a DER UTF8String that holds exactly a
 * NUL-free "pkcs11:" string, returned byte for byte; failure leaves the out-param alone. No
 * clock, no RNG. */
#include "common/kf_result.h"
#include "hsm/hsm.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *uri = (char *)"untouched";
    char *const sentinel = uri;
    kf_result r = kf_hsm_uri_pem_parse_der(data, size, &uri);
    if (!kf_ok(r)) {
        CHECK(uri == sentinel);
        return 0;
    }
    size_t n = strlen(uri);
    CHECK(size >= 2 && data[0] == 0x0c);
    CHECK(n >= 7 && memcmp(uri, "pkcs11:", 7) == 0);
    CHECK(size >= n && memcmp(data + size - n, uri, n) == 0); /* the body, byte for byte */
    free(uri);
    return 0;
}
