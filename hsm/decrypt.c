/* hsm/decrypt.c - RSA decryption on the token (PKCS#1 v1.5, OAEP, raw). */
#include "hsm/ck_call.h"

#include <string.h>

struct decrypt_op {
    CK_MECHANISM mech;
    const uint8_t *in;
    size_t in_len;
    uint8_t *out;
    CK_ULONG cap;
    CK_ULONG out_len;
};

static kf_result decrypt_attempt(struct kf_hsm_key *k, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE obj,
                                 void *arg)
{
    struct decrypt_op *op = arg;
    op->out_len = op->cap;
    return kf_ck_decrypt(k->tok->mod, s, &op->mech, obj, op->in, op->in_len, op->out, &op->out_len);
}

/* The mechanism (and its OAEP parameters) for @p p; false for an unknown scheme. */
static bool decrypt_mech(const struct kf_hsm_dec_params *p, CK_MECHANISM *mech,
                         CK_RSA_PKCS_OAEP_PARAMS *oaep)
{
    *mech = (CK_MECHANISM){ 0 };
    switch (p->scheme) {
    case KF_ENC_RSA_PKCS:
        mech->mechanism = CKM_RSA_PKCS;
        return true;
    case KF_ENC_RSA_RAW:
        mech->mechanism = CKM_RSA_X_509;
        return true;
    case KF_ENC_RSA_OAEP: {
        /* RFC 8017 A.2.1 defaults: SHA-1 and MGF1 with SHA-1. */
        enum kf_hsm_digest d = p->oaep_digest != KF_DIGEST_NONE ? p->oaep_digest : KF_DIGEST_SHA1;
        enum kf_hsm_digest mgf = p->mgf1_digest != KF_DIGEST_NONE ? p->mgf1_digest : d;
        oaep->hashAlg = kf_hsm_digest_mech(d);
        oaep->mgf = kf_hsm_digest_mgf(mgf);
        oaep->source = CKZ_DATA_SPECIFIED;
        oaep->pSourceData = (void *)p->label;
        oaep->ulSourceDataLen = p->label != NULL ? p->label_len : 0;
        mech->mechanism = CKM_RSA_PKCS_OAEP;
        mech->pParameter = oaep;
        mech->ulParameterLen = sizeof(*oaep);
        return true;
    }
    default:
        return false;
    }
}

bool kf_hsm_key_can_decrypt(const struct kf_hsm_key *k, const struct kf_hsm_dec_params *p)
{
    CK_MECHANISM mech;
    CK_RSA_PKCS_OAEP_PARAMS oaep;
    return k != NULL && p != NULL && k->kind == KF_KIND_RSA && decrypt_mech(p, &mech, &oaep) &&
           kf_hsm_token_has_mech(k->tok, mech.mechanism);
}

KF_RESULT kf_hsm_decrypt(struct kf_hsm_key *k, const struct kf_hsm_dec_params *p, const uint8_t *in,
                         size_t in_len, uint8_t *out, size_t out_cap, size_t *out_len)
{
    KF_ENSURE_REF(k);
    KF_ENSURE_REF(p);
    KF_ENSURE_REF(in);
    KF_ENSURE_REF(out);
    KF_ENSURE_REF(out_len);
    if (k->kind != KF_KIND_RSA || !k->has_private) {
        kf_err_note_context("key '%s' is not an RSA private key", k->display);
        KF_BAIL(KF_ERR_UNSUPPORTED);
    }
    size_t mod_len = (k->bits + 7) / 8;
    /* Room for the largest plaintext the token might write: the modulus size. */
    KF_ENSURE(out_cap >= mod_len, KF_ERR_BUFFER_TOO_SMALL);
    struct decrypt_op op = { .in = in, .in_len = in_len, .out = out, .cap = out_cap };
    CK_RSA_PKCS_OAEP_PARAMS oaep;
    KF_ENSURE(decrypt_mech(p, &op.mech, &oaep), KF_ERR_INVALID_ARG);
    KF_GUARD(kf_hsm_token_require_mech(k->tok, op.mech.mechanism));
    KF_GUARD(kf_hsm_run(k, decrypt_attempt, &op));
    if (p->scheme == KF_ENC_RSA_RAW && op.out_len < mod_len) {
        /* A token may drop leading zero bytes of the integer: restore the modulus size. */
        size_t pad = mod_len - op.out_len;
        memmove(out + pad, out, op.out_len);
        memset(out, 0, pad);
        op.out_len = mod_len;
    }
    *out_len = op.out_len;
    return KF_OK;
}
