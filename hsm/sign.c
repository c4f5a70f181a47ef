/* hsm/sign.c - signatures on the token.
 *
 * Hash-and-sign runs on the token when it offers the combined mechanism
 * (CKM_SHA256_RSA_PKCS); otherwise the digest is computed here and the raw
 * mechanism signs it (SoftHSM 2.6 has no CKM_ECDSA_SHA256). Either way the
 * private key never leaves the token. */
#include "hsm/ck_call.h"

#include <openssl/ecdsa.h>
#include <string.h>

/* Hash-and-sign mechanisms: the table the STYLE.md s9 asks for, ending in a
 * sentinel. */
struct sign_mech_row {
    enum kf_hsm_sig_scheme scheme;
    enum kf_hsm_digest digest;
    CK_MECHANISM_TYPE mech;
};

static const struct sign_mech_row sign_mechs[] = {
    { KF_SIG_RSA_PKCS, KF_DIGEST_SHA1, CKM_SHA1_RSA_PKCS },
    { KF_SIG_RSA_PKCS, KF_DIGEST_SHA224, CKM_SHA224_RSA_PKCS },
    { KF_SIG_RSA_PKCS, KF_DIGEST_SHA256, CKM_SHA256_RSA_PKCS },
    { KF_SIG_RSA_PKCS, KF_DIGEST_SHA384, CKM_SHA384_RSA_PKCS },
    { KF_SIG_RSA_PKCS, KF_DIGEST_SHA512, CKM_SHA512_RSA_PKCS },
    { KF_SIG_RSA_PSS, KF_DIGEST_SHA1, CKM_SHA1_RSA_PKCS_PSS },
    { KF_SIG_RSA_PSS, KF_DIGEST_SHA224, CKM_SHA224_RSA_PKCS_PSS },
    { KF_SIG_RSA_PSS, KF_DIGEST_SHA256, CKM_SHA256_RSA_PKCS_PSS },
    { KF_SIG_RSA_PSS, KF_DIGEST_SHA384, CKM_SHA384_RSA_PKCS_PSS },
    { KF_SIG_RSA_PSS, KF_DIGEST_SHA512, CKM_SHA512_RSA_PKCS_PSS },
    { KF_SIG_ECDSA, KF_DIGEST_SHA1, CKM_ECDSA_SHA1 },
    { KF_SIG_ECDSA, KF_DIGEST_SHA224, CKM_ECDSA_SHA224 },
    { KF_SIG_ECDSA, KF_DIGEST_SHA256, CKM_ECDSA_SHA256 },
    { KF_SIG_ECDSA, KF_DIGEST_SHA384, CKM_ECDSA_SHA384 },
    { KF_SIG_ECDSA, KF_DIGEST_SHA512, CKM_ECDSA_SHA512 },
    { 0, KF_DIGEST_NONE, CK_UNAVAILABLE_INFORMATION }, /* sentinel */
};

/* DigestInfo prefixes of RFC 8017 s9.2 note 1 (DER of AlgorithmIdentifier +
 * OCTET STRING header); the digest follows. */
static const uint8_t di_sha1[] = { 0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e,
                                   0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14 };
static const uint8_t di_sha224[] = { 0x30, 0x2d, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
                                     0x65, 0x03, 0x04, 0x02, 0x04, 0x05, 0x00, 0x04, 0x1c };
static const uint8_t di_sha256[] = { 0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
                                     0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20 };
static const uint8_t di_sha384[] = { 0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
                                     0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30 };
static const uint8_t di_sha512[] = { 0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
                                     0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40 };

static KF_RESULT sign_digest_info(enum kf_hsm_digest d, const uint8_t **out, size_t *out_len)
{
    switch (d) {
    case KF_DIGEST_SHA1:
        *out = di_sha1;
        *out_len = sizeof(di_sha1);
        return KF_OK;
    case KF_DIGEST_SHA224:
        *out = di_sha224;
        *out_len = sizeof(di_sha224);
        return KF_OK;
    case KF_DIGEST_SHA256:
        *out = di_sha256;
        *out_len = sizeof(di_sha256);
        return KF_OK;
    case KF_DIGEST_SHA384:
        *out = di_sha384;
        *out_len = sizeof(di_sha384);
        return KF_OK;
    case KF_DIGEST_SHA512:
        *out = di_sha512;
        *out_len = sizeof(di_sha512);
        return KF_OK;
    case KF_DIGEST_NONE:
    default:
        KF_BAIL(KF_ERR_INVALID_ARG);
    }
}

static CK_MECHANISM_TYPE sign_combined(enum kf_hsm_sig_scheme s, enum kf_hsm_digest d)
{
    for (const struct sign_mech_row *r = sign_mechs; r->digest != KF_DIGEST_NONE; r++) {
        if (r->scheme == s && r->digest == d) {
            return r->mech;
        }
    }
    return CK_UNAVAILABLE_INFORMATION;
}

struct sign_op {
    CK_MECHANISM mech;
    const uint8_t *in;
    size_t in_len;
    uint8_t *sig;
    CK_ULONG sig_len; /* in: capacity; out: length */
    CK_ULONG cap;
};

static kf_result sign_attempt(struct kf_hsm_key *k, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE obj,
                              void *arg)
{
    struct sign_op *op = arg;
    op->sig_len = op->cap;
    return kf_ck_sign(k->tok->mod, s, &op->mech, obj, op->in, op->in_len, op->sig, &op->sig_len);
}

static KF_RESULT sign_check_scheme(const struct kf_hsm_key *k, enum kf_hsm_sig_scheme scheme)
{
    bool fits =
        (k->kind == KF_KIND_RSA && (scheme == KF_SIG_RSA_PKCS || scheme == KF_SIG_RSA_PSS)) ||
        (k->kind == KF_KIND_EC && scheme == KF_SIG_ECDSA) ||
        (k->kind == KF_KIND_EDDSA && scheme == KF_SIG_EDDSA);
    if (!fits) {
        kf_err_note_context("key '%s' cannot make this kind of signature", k->display);
        KF_BAIL(KF_ERR_UNSUPPORTED);
    }
    if (!k->has_private) {
        /* Without a login private keys are invisible: say what would help. */
        bool pin = kf_hsm_token_has_pin(k->tok);
        kf_err_note_context("key '%s' %s", k->display,
                            pin ? "has no private key object"
                                : "has no visible private key: no PIN was given for its token");
        KF_BAIL(pin ? KF_ERR_OBJECT_NOT_FOUND : KF_ERR_PIN_REQUIRED);
    }
    return KF_OK;
}

KF_RESULT kf_hsm_sign(struct kf_hsm_key *k, const struct kf_hsm_sig_params *p, const uint8_t *in,
                      size_t in_len, uint8_t *sig, size_t sig_cap, size_t *out_len)
{
    KF_ENSURE_REF(k);
    KF_ENSURE_REF(p);
    KF_ENSURE_REF(out_len);
    KF_ENSURE(in != NULL || in_len == 0, KF_ERR_NULL);
    if (sig == NULL) {
        *out_len = k->max_sig; /* size query */
        return KF_OK;
    }
    KF_GUARD(sign_check_scheme(k, p->scheme));
    KF_ENSURE(sig_cap >= k->max_sig, KF_ERR_BUFFER_TOO_SMALL);

    uint8_t block[128]; /* digest, or DigestInfo || digest */
    struct sign_op op = { .in = in, .in_len = in_len, .sig = sig, .cap = k->max_sig };
    CK_RSA_PKCS_PSS_PARAMS pss;
    enum kf_hsm_digest d = p->digest;
    bool prehashed = p->prehashed;

    if (p->scheme == KF_SIG_EDDSA) {
        KF_ENSURE(d == KF_DIGEST_NONE, KF_ERR_INVALID_ARG); /* pure EdDSA (RFC 8032) only */
        op.mech.mechanism = CKM_EDDSA;
    } else if (d != KF_DIGEST_NONE && !prehashed) {
        CK_MECHANISM_TYPE combined = sign_combined(p->scheme, d);
        if (combined != CK_UNAVAILABLE_INFORMATION && kf_hsm_token_has_mech(k->tok, combined)) {
            op.mech.mechanism = combined;
        } else {
            /* The token lacks hash-and-sign for this digest: hash here, sign the
             * digest. */
            unsigned int md_len = 0;
            const EVP_MD *md = kf_hsm_digest_md(d);
            KF_ENSURE(md != NULL, KF_ERR_UNSUPPORTED);
            KF_GUARD_OSSL(EVP_Digest(in, in_len, block, &md_len, md, NULL), KF_ERR_OPENSSL);
            op.in = block;
            op.in_len = md_len;
            prehashed = true;
        }
    }
    if (p->scheme != KF_SIG_EDDSA && (prehashed || d == KF_DIGEST_NONE) && op.mech.mechanism == 0) {
        switch (p->scheme) {
        case KF_SIG_RSA_PKCS:
            op.mech.mechanism = CKM_RSA_PKCS;
            if (d != KF_DIGEST_NONE) {
                /* PKCS#1 v1.5 signs DigestInfo(digest) (RFC 8017 s9.2 step 2). */
                const uint8_t *di = NULL;
                size_t di_len = 0;
                KF_GUARD(sign_digest_info(d, &di, &di_len));
                KF_ENSURE(op.in_len == kf_hsm_digest_len(d), KF_ERR_INVALID_ARG);
                memmove(block + di_len, op.in, op.in_len);
                memcpy(block, di, di_len);
                op.in = block;
                op.in_len = di_len + kf_hsm_digest_len(d);
            }
            break;
        case KF_SIG_RSA_PSS:
            KF_ENSURE(d != KF_DIGEST_NONE, KF_ERR_INVALID_ARG);
            KF_ENSURE(op.in_len == kf_hsm_digest_len(d), KF_ERR_INVALID_ARG);
            op.mech.mechanism = CKM_RSA_PKCS_PSS;
            break;
        case KF_SIG_ECDSA:
            op.mech.mechanism = CKM_ECDSA;
            break;
        case KF_SIG_EDDSA:
        default:
            KF_BAIL(KF_ERR_INTERNAL);
        }
    }
    if (p->scheme == KF_SIG_RSA_PSS) {
        enum kf_hsm_digest mgf = p->mgf1_digest != KF_DIGEST_NONE ? p->mgf1_digest : d;
        if (mgf != d) {
            /* SoftHSM 2.6 accepts such a request and returns a signature that verifies under
             * no parameters at all; refuse rather than hand out a broken signature. */
            kf_err_note_context("PSS with an MGF1 digest other than the message digest");
            KF_BAIL(KF_ERR_UNSUPPORTED);
        }
        pss.hashAlg = kf_hsm_digest_mech(d);
        pss.mgf = kf_hsm_digest_mgf(mgf);
        pss.sLen = p->pss_salt_len < 0 ? kf_hsm_digest_len(d) : (CK_ULONG)p->pss_salt_len;
        op.mech.pParameter = &pss;
        op.mech.ulParameterLen = sizeof(pss);
    }
    KF_GUARD(kf_hsm_token_require_mech(k->tok, op.mech.mechanism));
    KF_GUARD(kf_hsm_run(k, sign_attempt, &op));
    *out_len = op.sig_len;
    return KF_OK;
}

/* One DER INTEGER for the unsigned big-endian @p v into @p out (room for len + 3 bytes);
 * returns the bytes written. Leading zeros go, a 0x00 comes back when the top bit is set. */
static size_t der_uint(const uint8_t *v, size_t len, uint8_t *out)
{
    while (len > 1 && v[0] == 0) {
        v++;
        len--;
    }
    bool pad = (v[0] & 0x80) != 0;
    out[0] = 0x02;
    out[1] = (uint8_t)(len + pad);
    out[2] = 0;
    memcpy(out + 2 + pad, v, len);
    return 2 + pad + len;
}

KF_RESULT kf_hsm_ecdsa_rs_to_der(const uint8_t *rs, size_t rs_len, uint8_t **out, size_t *out_len)
{
    KF_ENSURE_REF(rs);
    KF_ENSURE_REF(out);
    KF_ENSURE_REF(out_len);
    /* PKCS#11 s2.3.1: ECDSA signatures are r || s, each half the length. Written here rather
     * than through ECDSA_SIG (two BIGNUMs and five allocations per signature): the encoding
     * is two INTEGERs in a SEQUENCE (RFC 3279 2.2.3), and halves of at most 66 bytes (P-521)
     * keep every length in DER's short form but the SEQUENCE's. */
    KF_ENSURE(rs_len > 0 && rs_len % 2 == 0 && rs_len <= 132, KF_ERR_MALFORMED);
    size_t half = rs_len / 2;
    uint8_t body[2 * (66 + 3)];
    size_t n = der_uint(rs, half, body);
    n += der_uint(rs + half, half, body + n);
    size_t head = n < 128 ? 2 : 3;
    uint8_t *der = OPENSSL_malloc(head + n);
    KF_ENSURE(der != NULL, KF_ERR_NOMEM);
    der[0] = 0x30;
    if (head == 2) {
        der[1] = (uint8_t)n;
    } else {
        der[1] = 0x81;
        der[2] = (uint8_t)n;
    }
    memcpy(der + head, body, n);
    *out = der;
    *out_len = head + n;
    return KF_OK;
}
