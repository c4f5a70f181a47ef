/* tests/unit/hsm/test_ecattr.c - CKA_EC_PARAMS / CKA_EC_POINT parsing (hsm/ecattr.c). */
#include "hsm/hsm.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <openssl/obj_mac.h>

struct params_case {
    uint8_t der[24];
    size_t len;
    int32_t code; /* 0 = parses */
    int nid;
    char why[40];
};

ParameterizedTestParameters(ecattr, params)
{
    static struct params_case cases[] = {
        { { 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 },
          10,
          0,
          NID_X9_62_prime256v1,
          "P-256 OID" },
        { { 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22 }, 7, 0, NID_secp384r1, "P-384 OID" },
        { { 0x06, 0x03, 0x2b, 0x65, 0x70 }, 5, 0, NID_ED25519, "Ed25519 OID" },
        { { 0x06, 0x03, 0x2b, 0x65, 0x71 }, 5, 0, NID_ED448, "Ed448 OID" },
        { { 0x13, 0x0c, 'e', 'd', 'w', 'a', 'r', 'd', 's', '2', '5', '5', '1', '9' },
          14,
          0,
          NID_ED25519,
          "printable edwards25519" },
        { { 0x13, 0x0a, 'e', 'd', 'w', 'a', 'r', 'd', 's', '4', '4', '8' },
          12,
          0,
          NID_ED448,
          "printable edwards448" },
        { { 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23 }, 7, KF_ERR_UNSUPPORTED, 0, "P-521" },
        { { 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01 },
          9,
          KF_ERR_SHORT_INPUT,
          0,
          "truncated" },
        { { 0x06, 0x03, 0x2b, 0x65, 0x70, 0x00 }, 6, KF_ERR_TRAILING, 0, "trailing byte" },
        { { 0x04, 0x03, 0x2b, 0x65, 0x70 }, 5, KF_ERR_MALFORMED, 0, "wrong tag" },
        { { 0x06, 0x81, 0x03, 0x2b, 0x65, 0x70 }, 6, KF_ERR_MALFORMED, 0, "non-minimal length" },
        { { 0 }, 0, KF_ERR_SHORT_INPUT, 0, "empty" },
        { { 0x13, 0x03, 'x', 'y', 'z' }, 5, KF_ERR_UNSUPPORTED, 0, "unknown name" },
    };
    return cr_make_param_array(struct params_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct params_case *c, ecattr, params)
{
    int nid = -1;
    kf_result r = kf_hsm_parse_ec_params(c->der, c->len, &nid);
    cr_assert_eq(r.code, c->code, "%s: got %s", c->why, kf_err_name(r.code));
    if (c->code == 0) {
        cr_assert_eq(nid, c->nid, "%s", c->why);
    } else {
        cr_assert_eq(nid, -1, "%s: output written on failure", c->why);
    }
}

Test(ecattr, point_forms)
{
    uint8_t raw[65];
    raw[0] = 0x04;
    for (int i = 1; i < 65; i++) {
        raw[i] = (uint8_t)i;
    }
    uint8_t wrapped[67] = { 0x04, 0x41 };
    memcpy(wrapped + 2, raw, 65);
    const uint8_t *p = NULL;
    size_t n = 0;
    /* DER OCTET STRING, as PKCS#11 specifies. */
    cr_assert(kf_ok(kf_hsm_parse_ec_point(NID_X9_62_prime256v1, wrapped, 67, &p, &n)));
    cr_assert_eq(n, 65);
    cr_assert_eq(p, wrapped + 2);
    /* Raw, as some tokens return it. */
    cr_assert(kf_ok(kf_hsm_parse_ec_point(NID_X9_62_prime256v1, raw, 65, &p, &n)));
    cr_assert_eq(p, raw);
    /* Wrong curve length, truncated, trailing, compressed. */
    cr_assert_eq(kf_hsm_parse_ec_point(NID_secp384r1, wrapped, 67, &p, &n).code, KF_ERR_MALFORMED);
    cr_assert_eq(kf_hsm_parse_ec_point(NID_X9_62_prime256v1, wrapped, 66, &p, &n).code,
                 KF_ERR_SHORT_INPUT);
    uint8_t longer[68];
    memcpy(longer, wrapped, 67);
    longer[67] = 0;
    cr_assert_eq(kf_hsm_parse_ec_point(NID_X9_62_prime256v1, longer, 68, &p, &n).code,
                 KF_ERR_TRAILING);
    wrapped[2] = 0x02;
    cr_assert_eq(kf_hsm_parse_ec_point(NID_X9_62_prime256v1, wrapped, 67, &p, &n).code,
                 KF_ERR_MALFORMED);
    /* Ed25519: 32 raw bytes, or wrapped. */
    uint8_t ed[34] = { 0x04, 0x20 };
    cr_assert(kf_ok(kf_hsm_parse_ec_point(NID_ED25519, ed, 34, &p, &n)));
    cr_assert_eq(n, 32);
    cr_assert(kf_ok(kf_hsm_parse_ec_point(NID_ED25519, ed + 2, 32, &p, &n)));
    cr_assert_eq(kf_hsm_parse_ec_point(NID_ED448, ed, 34, &p, &n).code, KF_ERR_MALFORMED);
}
