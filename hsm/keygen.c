/* hsm/keygen.c - key pairs generated on the token, never extractable. */
#include "hsm/ck_call.h"

#include "common/kf_log.h"

#include <openssl/obj_mac.h>
#include <openssl/rand.h>
#include <string.h>

struct keygen_spec {
    enum kf_hsm_key_type type;
    CK_MECHANISM_TYPE mech;
    CK_KEY_TYPE key_type;
    CK_ULONG modulus_bits; /* RSA */
    int nid;               /* EC / EdDSA */
};

static const struct keygen_spec keygen_specs[] = {
    { KF_KEY_RSA2048, CKM_RSA_PKCS_KEY_PAIR_GEN, CKK_RSA, 2048, 0 },
    { KF_KEY_RSA3072, CKM_RSA_PKCS_KEY_PAIR_GEN, CKK_RSA, 3072, 0 },
    { KF_KEY_RSA4096, CKM_RSA_PKCS_KEY_PAIR_GEN, CKK_RSA, 4096, 0 },
    { KF_KEY_P256, CKM_EC_KEY_PAIR_GEN, CKK_EC, 0, NID_X9_62_prime256v1 },
    { KF_KEY_P384, CKM_EC_KEY_PAIR_GEN, CKK_EC, 0, NID_secp384r1 },
    { KF_KEY_ED25519, CKM_EC_EDWARDS_KEY_PAIR_GEN, CKK_EC_EDWARDS, 0, NID_ED25519 },
    { KF_KEY_ED448, CKM_EC_EDWARDS_KEY_PAIR_GEN, CKK_EC_EDWARDS, 0, NID_ED448 },
    { KF_KEY_TYPE_COUNT, 0, 0, 0, 0 }, /* sentinel */
};

KF_RESULT kf_hsm_keygen_check_unique(struct kf_hsm_token *t, CK_SESSION_HANDLE s, const char *label,
                                     const uint8_t *id, size_t id_len)
{
    CK_OBJECT_HANDLE h[1];
    size_t count = 0;
    CK_ATTRIBUTE by_label = { CKA_LABEL, (void *)label, strlen(label) };
    KF_GUARD(kf_hsm_find(t, s, &by_label, 1, h, 1, &count));
    if (count > 0) {
        kf_err_note_context("an object labelled '%s' already exists on token '%s'", label,
                            t->info.label);
        KF_BAIL(KF_ERR_OBJECT_EXISTS);
    }
    CK_ATTRIBUTE by_id = { CKA_ID, (void *)id, id_len };
    KF_GUARD(kf_hsm_find(t, s, &by_id, 1, h, 1, &count));
    if (count > 0) {
        kf_err_note_context("an object with this id already exists on token '%s'", t->info.label);
        KF_BAIL(KF_ERR_OBJECT_EXISTS);
    }
    return KF_OK;
}

static KF_RESULT keygen_on(struct kf_hsm_token *t, CK_SESSION_HANDLE s,
                           const struct keygen_spec *spec, const char *label, const uint8_t *id,
                           size_t id_len, struct kf_hsm_key **out)
{
    KF_GUARD(kf_hsm_keygen_check_unique(t, s, label, id, id_len));
    CK_BBOOL yes = CK_TRUE;
    CK_BBOOL no = CK_FALSE;
    CK_ULONG bits = spec->modulus_bits;
    static const uint8_t f4[] = { 0x01, 0x00, 0x01 }; /* 65537 */
    const uint8_t *params = NULL;
    size_t params_len = 0;
    if (spec->nid != 0) {
        KF_GUARD(kf_hsm_ec_params_der(spec->nid, &params, &params_len));
    }
    bool rsa = spec->key_type == CKK_RSA;
    bool ec = spec->key_type == CKK_EC;

    CK_ATTRIBUTE pub[10];
    CK_ULONG np = 0;
    pub[np++] = (CK_ATTRIBUTE){ CKA_TOKEN, &yes, sizeof(yes) };
    pub[np++] = (CK_ATTRIBUTE){ CKA_PRIVATE, &no, sizeof(no) };
    pub[np++] = (CK_ATTRIBUTE){ CKA_VERIFY, &yes, sizeof(yes) };
    pub[np++] = (CK_ATTRIBUTE){ CKA_LABEL, (void *)label, strlen(label) };
    pub[np++] = (CK_ATTRIBUTE){ CKA_ID, (void *)id, id_len };
    if (rsa) {
        pub[np++] = (CK_ATTRIBUTE){ CKA_ENCRYPT, &yes, sizeof(yes) };
        pub[np++] = (CK_ATTRIBUTE){ CKA_MODULUS_BITS, &bits, sizeof(bits) };
        pub[np++] = (CK_ATTRIBUTE){ CKA_PUBLIC_EXPONENT, (void *)f4, sizeof(f4) };
    } else {
        pub[np++] = (CK_ATTRIBUTE){ CKA_EC_PARAMS, (void *)params, params_len };
    }

    /* The custody rule: on the token, private, sensitive, never extractable. */
    CK_ATTRIBUTE priv[10];
    CK_ULONG nk = 0;
    priv[nk++] = (CK_ATTRIBUTE){ CKA_TOKEN, &yes, sizeof(yes) };
    priv[nk++] = (CK_ATTRIBUTE){ CKA_PRIVATE, &yes, sizeof(yes) };
    priv[nk++] = (CK_ATTRIBUTE){ CKA_SENSITIVE, &yes, sizeof(yes) };
    priv[nk++] = (CK_ATTRIBUTE){ CKA_EXTRACTABLE, &no, sizeof(no) };
    priv[nk++] = (CK_ATTRIBUTE){ CKA_SIGN, &yes, sizeof(yes) };
    priv[nk++] = (CK_ATTRIBUTE){ CKA_LABEL, (void *)label, strlen(label) };
    priv[nk++] = (CK_ATTRIBUTE){ CKA_ID, (void *)id, id_len };
    if (rsa) {
        priv[nk++] = (CK_ATTRIBUTE){ CKA_DECRYPT, &yes, sizeof(yes) };
    }
    if (ec) {
        priv[nk++] = (CK_ATTRIBUTE){ CKA_DERIVE, &yes, sizeof(yes) };
    }
    CK_MECHANISM mech = { spec->mech, NULL, 0 };
    CK_OBJECT_HANDLE hpub = CK_INVALID_HANDLE;
    CK_OBJECT_HANDLE hpriv = CK_INVALID_HANDLE;
    KF_GUARD(kf_ck_generate_key_pair(t->mod, s, &mech, pub, np, priv, nk, &hpub, &hpriv));
    kf_result r = kf_hsm_key_from_object(t, s, hpriv, out);
    if (!kf_ok(r)) {
        /* Leave nothing half-made behind. */
        KF_QUIET(kf_ck_destroy_object(t->mod, s, hpriv));
        KF_QUIET(kf_ck_destroy_object(t->mod, s, hpub));
    }
    return r;
}

KF_RESULT kf_hsm_keygen(struct kf_hsm_token *t, enum kf_hsm_key_type type, const char *label,
                        const uint8_t *id, size_t id_len, struct kf_hsm_key **out)
{
    KF_ENSURE_REF(t);
    KF_ENSURE_REF(label);
    KF_ENSURE_REF(out);
    KF_ENSURE(label[0] != '\0' && strlen(label) <= 128, KF_ERR_INVALID_ARG);
    const struct keygen_spec *spec = keygen_specs;
    while (spec->type != KF_KEY_TYPE_COUNT && spec->type != type) {
        spec++;
    }
    KF_ENSURE(spec->type != KF_KEY_TYPE_COUNT, KF_ERR_INVALID_ARG);
    KF_GUARD(kf_hsm_token_require_mech(t, spec->mech));
    uint8_t random_id[16];
    if (id == NULL) {
        KF_GUARD_OSSL(RAND_bytes(random_id, sizeof(random_id)), KF_ERR_OPENSSL);
        id = random_id;
        id_len = sizeof(random_id);
    }
    KF_ENSURE(id_len > 0 && id_len <= 64, KF_ERR_INVALID_ARG);
    if (!kf_hsm_token_has_pin(t)) {
        kf_err_note_context("generating a private key on token '%s'", t->info.label);
        KF_BAIL(KF_ERR_PIN_REQUIRED);
    }
    struct kf_hsm_session *s = NULL;
    KF_GUARD(kf_hsm_session_acquire(t, &s));
    kf_result r = keygen_on(t, s->handle, spec, label, id, id_len, out);
    kf_hsm_session_release(t, s, r);
    KF_GUARD_CTX(r, "%s key '%s' on token '%s'", kf_hsm_key_type_name(type), label, t->info.label);
    kf_log(KF_LOG_INFO, "hsm", "generated %s key '%s' on token '%s'", kf_hsm_key_type_name(type),
           label, t->info.label);
    return KF_OK;
}
