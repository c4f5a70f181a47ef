/* tests/unit/hsm/test_ecdsa_der.c - kf_hsm_ecdsa_rs_to_der (hsm/sign.c) writes the DER
 * ECDSA-Sig-Value by hand: it must equal OpenSSL's i2d_ECDSA_SIG for every r || s, including
 * halves with leading zero bytes, top bits set, all zeros and P-521's 66-byte halves (whose
 * SEQUENCE needs DER's long length form). */
#include "hsm/hsm.h"

#include <criterion/criterion.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ecdsa.h>
#include <openssl/rand.h>
#include <string.h>

static void expect_like_openssl(const uint8_t *rs, size_t rs_len)
{
    size_t half = rs_len / 2;
    ECDSA_SIG *sig = ECDSA_SIG_new();
    cr_assert_not_null(sig);
    cr_assert_eq(
        ECDSA_SIG_set0(sig, BN_bin2bn(rs, (int)half, NULL), BN_bin2bn(rs + half, (int)half, NULL)),
        1);
    uint8_t *want = NULL;
    int want_len = i2d_ECDSA_SIG(sig, &want);
    ECDSA_SIG_free(sig);
    cr_assert_gt(want_len, 0);
    uint8_t *got = NULL;
    size_t got_len = 0;
    cr_assert(kf_ok(kf_hsm_ecdsa_rs_to_der(rs, rs_len, &got, &got_len)));
    cr_assert(got_len == (size_t)want_len && memcmp(got, want, got_len) == 0,
              "DER differs from i2d_ECDSA_SIG for a %zu-byte r||s", rs_len);
    OPENSSL_free(got);
    OPENSSL_free(want);
}

Test(ecdsa_der, random_signatures_of_every_curve_size)
{
    static const size_t halves[] = { 32, 48, 66 };
    uint8_t rs[132];
    for (size_t h = 0; h < 3; h++) {
        for (int i = 0; i < 3000; i++) {
            size_t len = 2 * halves[h];
            cr_assert_eq(RAND_bytes(rs, (int)len), 1);
            /* Every few cases: leading zero bytes, a set top bit, or a zero half. */
            switch (i % 5) {
            case 1:
                memset(rs, 0, (size_t)(i % 7) + 1);
                break;
            case 2:
                rs[0] |= 0x80;
                rs[halves[h]] |= 0x80;
                break;
            case 3:
                memset(rs + halves[h], 0, halves[h]);
                break;
            case 4:
                rs[0] &= 0x7f;
                memset(rs + halves[h], 0, halves[h] - 1);
                break;
            default:
                break;
            }
            expect_like_openssl(rs, len);
        }
    }
}

Test(ecdsa_der, refuses_what_is_not_r_and_s)
{
    uint8_t rs[140] = { 1 };
    uint8_t *der = NULL;
    size_t len = 0;
    cr_assert(!kf_ok(kf_hsm_ecdsa_rs_to_der(rs, 0, &der, &len)));
    cr_assert(!kf_ok(kf_hsm_ecdsa_rs_to_der(rs, 63, &der, &len)));
    cr_assert(!kf_ok(kf_hsm_ecdsa_rs_to_der(rs, 134, &der, &len)));
    cr_assert_null(der);
}
