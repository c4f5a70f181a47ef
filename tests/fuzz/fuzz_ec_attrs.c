/* fuzz_ec_attrs covers: kf_hsm_parse_ec_params, kf_hsm_parse_ec_point (hsm/ecattr.c). */
/* tests/fuzz/fuzz_ec_attrs.c - CKA_EC_PARAMS and CKA_EC_POINT come from the token: untrusted.
 *
 * Byte 0 selects the parser (tests/fuzz/corpus/fuzz_ec_attrs/README):
 *   even            the rest is CKA_EC_PARAMS for kf_hsm_parse_ec_params
 *   odd             the rest is CKA_EC_POINT for kf_hsm_parse_ec_point, on the curve
 *                   point_curves[(byte0 >> 1) % 5]: 0x01 P-256, 0x03 P-384, 0x05 Ed25519,
 *                   0x07 Ed448, 0x09 no curve (NID_undef)
 * Checked: a known error code or a supported curve; the point borrows from the input and is
 * exactly the curve's size (uncompressed 04||X||Y for P-256/P-384, SEC 1 s2.3.3; the raw key
 * for EdDSA, RFC 8032); out-params are written only on success; the same input gives the same
 * answer twice. No clock, no RNG. */
#include "common/kf_result.h"
#include "hsm/hsm.h"

#include <openssl/obj_mac.h>
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

static const struct {
    int nid;
    size_t point_len; /* 0: no point is valid on this "curve" */
    bool weierstrass;
} point_curves[5] = {
    { NID_X9_62_prime256v1, 1 + 2 * 32, true },
    { NID_secp384r1, 1 + 2 * 48, true },
    { NID_ED25519, 32, false },
    { NID_ED448, 57, false },
    { NID_undef, 0, false },
};

static bool known_error(int32_t code)
{
    return code > 0 && code < KF_ERR_COUNT;
}

static void fuzz_params(const uint8_t *der, size_t len)
{
    int nid = -12345;
    kf_result r = kf_hsm_parse_ec_params(der, len, &nid);
    int nid2 = -12345;
    kf_result r2 = kf_hsm_parse_ec_params(der, len, &nid2);
    CHECK(r.code == r2.code && nid == nid2);
    if (!kf_ok(r)) {
        CHECK(known_error(r.code));
        CHECK(nid == -12345);
        return;
    }
    CHECK(nid == NID_X9_62_prime256v1 || nid == NID_secp384r1 || nid == NID_ED25519 ||
          nid == NID_ED448);
}

static void fuzz_point(size_t curve, const uint8_t *der, size_t len)
{
    const uint8_t sentinel = 0;
    const uint8_t *point = &sentinel;
    size_t point_len = 999999;
    kf_result r = kf_hsm_parse_ec_point(point_curves[curve].nid, der, len, &point, &point_len);
    const uint8_t *point2 = &sentinel;
    size_t point_len2 = 999999;
    kf_result r2 = kf_hsm_parse_ec_point(point_curves[curve].nid, der, len, &point2, &point_len2);
    CHECK(r.code == r2.code && point == point2 && point_len == point_len2);
    if (!kf_ok(r)) {
        CHECK(known_error(r.code));
        CHECK(point == &sentinel && point_len == 999999);
        return;
    }
    CHECK(point_curves[curve].point_len != 0);
    CHECK(point_len == point_curves[curve].point_len);
    /* Borrowed from the input, and it ends where the input ends (raw, or the whole contents
     * of the one OCTET STRING). */
    CHECK(len > 0 && point >= der && point_len <= len);
    CHECK(point + point_len == der + len);
    CHECK(!point_curves[curve].weierstrass || point[0] == 0x04);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) {
        return 0;
    }
    uint8_t sel = data[0];
    /* The parsers see a heap copy of exactly the attribute's size, as a token's would be, so
     * ASan catches a read past it even in the replay driver. */
    size_t len = size - 1;
    uint8_t *attr = malloc(len > 0 ? len : 1);
    CHECK(attr != NULL);
    if (len > 0) {
        memcpy(attr, data + 1, len);
    }
    if ((sel & 1) == 0) {
        fuzz_params(attr, len);
    } else {
        fuzz_point((size_t)(sel >> 1) % 5, attr, len);
    }
    free(attr);
    return 0;
}
