/* hsm/derive.c - ECDH on the token (CKM_ECDH1_DERIVE with CKD_NULL). */
#include "hsm/ck_call.h"

#include <openssl/crypto.h>

struct derive_op {
    const uint8_t *peer;
    size_t peer_len;
    uint8_t *out;
    size_t cap;
    size_t out_len;
};

static kf_result derive_attempt(struct kf_hsm_key *k, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE obj,
                                void *arg)
{
    struct derive_op *op = arg;
    CK_ECDH1_DERIVE_PARAMS params = {
        .kdf = CKD_NULL,
        .pSharedData = NULL,
        .ulSharedDataLen = 0,
        .pPublicData = (CK_BYTE_PTR)op->peer,
        .ulPublicDataLen = op->peer_len,
    };
    CK_MECHANISM mech = { CKM_ECDH1_DERIVE, &params, sizeof(params) };
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_KEY_TYPE kt = CKK_GENERIC_SECRET;
    CK_BBOOL no = CK_FALSE;
    CK_BBOOL yes = CK_TRUE;
    CK_ULONG value_len = kf_hsm_ec_field_len(k->nid);
    /* A session object the caller may read back: the shared secret is the result.
     */
    CK_ATTRIBUTE tmpl[] = {
        { CKA_CLASS, &cls, sizeof(cls) },       { CKA_KEY_TYPE, &kt, sizeof(kt) },
        { CKA_TOKEN, &no, sizeof(no) },         { CKA_SENSITIVE, &no, sizeof(no) },
        { CKA_EXTRACTABLE, &yes, sizeof(yes) }, { CKA_VALUE_LEN, &value_len, sizeof(value_len) },
    };
    CK_OBJECT_HANDLE secret = CK_INVALID_HANDLE;
    KF_GUARD(kf_ck_derive_key(k->tok->mod, s, &mech, obj, tmpl, sizeof(tmpl) / sizeof(tmpl[0]),
                              &secret));
    CK_ATTRIBUTE val = { CKA_VALUE, op->out, op->cap };
    kf_result r = kf_ck_get_attributes(k->tok->mod, s, secret, &val, 1, false);
    KF_QUIET(kf_ck_destroy_object(k->tok->mod, s, secret));
    if (!kf_ok(r)) {
        OPENSSL_cleanse(op->out, op->cap);
        return r;
    }
    op->out_len = val.ulValueLen;
    return KF_OK;
}

KF_RESULT kf_hsm_derive_ecdh(struct kf_hsm_key *k, const uint8_t *peer, size_t peer_len,
                             uint8_t *out, size_t out_cap, size_t *out_len)
{
    KF_ENSURE_REF(k);
    KF_ENSURE_REF(peer);
    KF_ENSURE_REF(out);
    KF_ENSURE_REF(out_len);
    if (k->kind != KF_KIND_EC || !k->has_private) {
        kf_err_note_context("key '%s' is not an EC private key", k->display);
        KF_BAIL(KF_ERR_UNSUPPORTED);
    }
    size_t field = kf_hsm_ec_field_len(k->nid);
    KF_ENSURE(out_cap >= field, KF_ERR_BUFFER_TOO_SMALL);
    /* Uncompressed point of this curve (SEC 1 s2.3.3); anything else is the
     * caller's bug. */
    KF_ENSURE(peer_len == 1 + 2 * field && peer[0] == 0x04, KF_ERR_MALFORMED);
    KF_GUARD(kf_hsm_token_require_mech(k->tok, CKM_ECDH1_DERIVE));
    struct derive_op op = { .peer = peer, .peer_len = peer_len, .out = out, .cap = out_cap };
    KF_GUARD(kf_hsm_run(k, derive_attempt, &op));
    *out_len = op.out_len;
    return KF_OK;
}
