/* hsm/ecattr.c - CKA_EC_PARAMS and CKA_EC_POINT from a token: untrusted bytes,
 * read with kf_cursor (STYLE.md s4). Fuzzed by tests/fuzz/fuzz_ec_attrs.c. */
#include "hsm/internal.h"

#include "common/kf_cursor.h"

#include <openssl/obj_mac.h>
#include <string.h>

struct ec_curve {
    int nid;
    size_t field_len;
    const uint8_t *oid_der; /* DER OBJECT IDENTIFIER, tag and length included */
    size_t oid_der_len;
    const char *printable; /* RFC 8410-era PKCS#11 v3.0 alternative:
                              PrintableString name */
};

/* namedCurve OIDs: secp256r1 1.2.840.10045.3.1.7 and secp384r1 1.3.132.0.34
 * (RFC 5480 s2.1.1.1), id-Ed25519 1.3.101.112 and id-Ed448 1.3.101.113 (RFC
 * 8410 s3). */
static const uint8_t oid_p256[] = { 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 };
static const uint8_t oid_p384[] = { 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22 };
static const uint8_t oid_ed25519[] = { 0x06, 0x03, 0x2b, 0x65, 0x70 };
static const uint8_t oid_ed448[] = { 0x06, 0x03, 0x2b, 0x65, 0x71 };

static const struct ec_curve ec_curves[] = {
    { NID_X9_62_prime256v1, 32, oid_p256, sizeof(oid_p256), NULL },
    { NID_secp384r1, 48, oid_p384, sizeof(oid_p384), NULL },
    { NID_ED25519, 32, oid_ed25519, sizeof(oid_ed25519), "edwards25519" },
    { NID_ED448, 57, oid_ed448, sizeof(oid_ed448), "edwards448" },
    { 0, 0, NULL, 0, NULL }, /* sentinel */
};

static const struct ec_curve *ec_curve_of(int nid)
{
    for (const struct ec_curve *c = ec_curves; c->nid != 0; c++) {
        if (c->nid == nid) {
            return c;
        }
    }
    return NULL;
}

size_t kf_hsm_ec_field_len(int nid)
{
    const struct ec_curve *c = ec_curve_of(nid);
    return c != NULL ? c->field_len : 0;
}

KF_RESULT kf_hsm_ec_params_der(int nid, const uint8_t **out, size_t *out_len)
{
    KF_ENSURE_REF(out);
    KF_ENSURE_REF(out_len);
    const struct ec_curve *c = ec_curve_of(nid);
    KF_ENSURE(c != NULL, KF_ERR_UNSUPPORTED);
    *out = c->oid_der;
    *out_len = c->oid_der_len;
    return KF_OK;
}

KF_RESULT kf_hsm_parse_ec_params(const uint8_t *der, size_t len, int *out_nid)
{
    KF_ENSURE_REF(out_nid);
    struct kf_cursor c;
    KF_GUARD(kf_cursor_init(&c, der, len));
    uint8_t tag = 0;
    KF_GUARD(kf_cursor_peek_u8(&c, &tag));
    struct kf_cursor body;
    if (tag == 0x13) { /* PrintableString curve name */
        KF_GUARD(kf_cursor_take_der(&c, 0x13, &body));
        KF_GUARD(kf_cursor_expect_end(&c));
        for (const struct ec_curve *e = ec_curves; e->nid != 0; e++) {
            if (e->printable != NULL && kf_cursor_left(&body) == strlen(e->printable) &&
                memcmp(body.data, e->printable, kf_cursor_left(&body)) == 0) {
                *out_nid = e->nid;
                return KF_OK;
            }
        }
        KF_BAIL(KF_ERR_UNSUPPORTED);
    }
    KF_GUARD(kf_cursor_take_der(&c, 0x06, &body));
    KF_GUARD(kf_cursor_expect_end(&c));
    for (const struct ec_curve *e = ec_curves; e->nid != 0; e++) {
        if (len == e->oid_der_len && memcmp(der, e->oid_der, len) == 0) {
            *out_nid = e->nid;
            return KF_OK;
        }
    }
    kf_err_note_context("curve OID is not P-256, P-384, Ed25519 or Ed448");
    KF_BAIL(KF_ERR_UNSUPPORTED);
}

KF_RESULT kf_hsm_parse_ec_point(int nid, const uint8_t *der, size_t len, const uint8_t **out_point,
                                size_t *out_len)
{
    KF_ENSURE_REF(out_point);
    KF_ENSURE_REF(out_len);
    const struct ec_curve *curve = ec_curve_of(nid);
    KF_ENSURE(curve != NULL, KF_ERR_UNSUPPORTED);
    bool edwards = nid == NID_ED25519 || nid == NID_ED448;
    /* Weierstrass: uncompressed point 04||X||Y (SEC 1 s2.3.3); Edwards: the raw
     * key. */
    size_t want = edwards ? curve->field_len : 1 + 2 * curve->field_len;
    struct kf_cursor c;
    KF_GUARD(kf_cursor_init(&c, der, len));
    struct kf_cursor point;
    uint8_t first = 0;
    KF_GUARD(kf_cursor_peek_u8(&c, &first));
    /* PKCS#11 says DER OCTET STRING; some tokens return the raw point. The
     * lengths tell the two apart: a raw point is exactly `want` bytes. */
    if (len == want && (edwards || first == 0x04)) {
        point = c;
    } else {
        KF_GUARD(kf_cursor_take_der(&c, 0x04, &point));
        KF_GUARD(kf_cursor_expect_end(&c));
    }
    KF_ENSURE(kf_cursor_left(&point) == want, KF_ERR_MALFORMED);
    const uint8_t *p = NULL;
    KF_GUARD(kf_cursor_borrow(&point, want, &p));
    KF_ENSURE(edwards || p[0] == 0x04, KF_ERR_MALFORMED); /* compressed: not from a token */
    *out_point = p;
    *out_len = want;
    return KF_OK;
}
