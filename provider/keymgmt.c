/* provider/keymgmt.c - keymgmt for RSA, EC, Ed25519 and Ed448 keys.
 *
 * A token key refers to the token object; everything public (bits, group, the public key
 * itself, export for verification and encryption in the default provider) is answered from
 * the software copy of the public key that hsm/ builds, and nothing private is ever exported.
 * A software key (prov.h: imported, generated or copied here because keyfort was listed first)
 * is the default provider's key, and every call on it is passed through. Generation is in
 * keymgmt_gen.c. */
#include "provider/keymgmt_gen.h"
#include "provider/prov.h"

#include <openssl/core_names.h>
#include <openssl/core_object.h>
#include <openssl/rand.h>
#include <string.h>

static OSSL_FUNC_keymgmt_free_fn kf_keymgmt_free;
static OSSL_FUNC_keymgmt_has_fn kf_keymgmt_has;
static OSSL_FUNC_keymgmt_match_fn kf_keymgmt_match;
static OSSL_FUNC_keymgmt_get_params_fn kf_keymgmt_get_params;
static OSSL_FUNC_keymgmt_gettable_params_fn kf_keymgmt_gettable_params;
static OSSL_FUNC_keymgmt_export_fn kf_keymgmt_export;
static OSSL_FUNC_keymgmt_query_operation_name_fn kf_keymgmt_ec_query_operation_name;
static OSSL_FUNC_keymgmt_set_params_fn kf_keymgmt_set_params;
static OSSL_FUNC_keymgmt_dup_fn kf_keymgmt_dup;

static void kf_keymgmt_free(void *keydata)
{
    kf_prov_key_unref(keydata);
}

/* The store passes the key by reference (OSSL_OBJECT_PARAM_REFERENCE): the address of a
 * struct kf_prov_key it holds a reference on. load takes a reference of its own. */
static void *keymgmt_load_typed(const void *reference, size_t size, int evp_type)
{
    if (reference == NULL || size != sizeof(struct kf_prov_key *)) {
        return NULL;
    }
    struct kf_prov_key *k = NULL;
    memcpy(&k, reference, sizeof(k));
    if (k == NULL || k->evp_type != evp_type || !kf_prov_is_usable(k->prov)) {
        return NULL;
    }
    return kf_prov_key_ref(k);
}

#define KEYMGMT_LOAD(name, type)                                                                   \
    static void *name(const void *reference, size_t size)                                          \
    {                                                                                              \
        return keymgmt_load_typed(reference, size, (type));                                        \
    }
KEYMGMT_LOAD(kf_keymgmt_rsa_load, EVP_PKEY_RSA)
KEYMGMT_LOAD(kf_keymgmt_ec_load, EVP_PKEY_EC)
KEYMGMT_LOAD(kf_keymgmt_ed25519_load, EVP_PKEY_ED25519)
KEYMGMT_LOAD(kf_keymgmt_ed448_load, EVP_PKEY_ED448)

/* Which parts a software key holds, read from its own export (the default provider knows). */
static bool soft_has(const EVP_PKEY *pk, int evp_type, int selection)
{
    if (pk == NULL) {
        return (selection & OSSL_KEYMGMT_SELECT_ALL) == 0;
    }
    OSSL_PARAM *params = NULL;
    if (EVP_PKEY_todata(pk, EVP_PKEY_KEYPAIR, &params) != 1) {
        return false;
    }
    bool rsa = evp_type == EVP_PKEY_RSA;
    bool ok = true;
    if (selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) {
        ok = ok && OSSL_PARAM_locate(params, rsa ? OSSL_PKEY_PARAM_RSA_D
                                                 : OSSL_PKEY_PARAM_PRIV_KEY) != NULL;
    }
    if (selection & OSSL_KEYMGMT_SELECT_PUBLIC_KEY) {
        ok = ok && OSSL_PARAM_locate(params,
                                     rsa ? OSSL_PKEY_PARAM_RSA_N : OSSL_PKEY_PARAM_PUB_KEY) != NULL;
    }
    if ((selection & OSSL_KEYMGMT_SELECT_DOMAIN_PARAMETERS) && evp_type == EVP_PKEY_EC) {
        ok = ok && OSSL_PARAM_locate(params, OSSL_PKEY_PARAM_GROUP_NAME) != NULL;
    }
    OSSL_PARAM_free(params);
    return ok;
}

static int kf_keymgmt_has(const void *keydata, int selection)
{
    const struct kf_prov_key *k = keydata;
    if (k == NULL) {
        return 0;
    }
    if (kf_prov_key_is_soft(k)) {
        return soft_has(k->pub, k->evp_type, selection);
    }
    struct kf_hsm_key_info info;
    if (!kf_ok(kf_hsm_key_get_info(k->hk, &info))) {
        return 0;
    }
    if ((selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) && !info.has_private) {
        return 0;
    }
    if ((selection & OSSL_KEYMGMT_SELECT_PUBLIC_KEY) && k->pub == NULL) {
        return 0;
    }
    return 1;
}

/* Whether the token key @p tok and the public key @p pub belong together, when the token
 * holds no public half to compare (an EC private key whose public object was deleted: a
 * certificate then carries the only copy). Proof of possession: the token signs a random
 * challenge and @p pub must verify it. */
static bool match_by_signature(const struct kf_prov_key *tok, EVP_PKEY *pub)
{
    struct kf_hsm_key_info info;
    if (!kf_ok(kf_hsm_key_get_info(tok->hk, &info))) {
        return false;
    }
    uint8_t challenge[32];
    if (RAND_bytes_ex(tok->prov->libctx, challenge, sizeof(challenge), 0) != 1) {
        return false;
    }
    struct kf_hsm_sig_params p = { .pss_salt_len = -1 };
    const char *md = "SHA256";
    switch (info.kind) {
    case KF_KIND_RSA:
        p.scheme = KF_SIG_RSA_PKCS;
        p.digest = KF_DIGEST_SHA256;
        break;
    case KF_KIND_EC:
        p.scheme = KF_SIG_ECDSA;
        p.digest = KF_DIGEST_SHA256;
        break;
    default:
        p.scheme = KF_SIG_EDDSA;
        md = NULL;
        break;
    }
    uint8_t raw[1024];
    size_t raw_len = 0;
    kf_err_mute_begin(); /* a mismatch is an answer, not an error */
    bool ok =
        kf_ok(kf_hsm_sign(tok->hk, &p, challenge, sizeof(challenge), raw, sizeof(raw), &raw_len));
    kf_err_mute_end();
    uint8_t *der = NULL;
    size_t der_len = 0;
    if (ok && p.scheme == KF_SIG_ECDSA) {
        ok = kf_ok(kf_hsm_ecdsa_rs_to_der(raw, raw_len, &der, &der_len));
    }
    EVP_MD_CTX *mctx = ok ? EVP_MD_CTX_new() : NULL;
    ok = mctx != NULL &&
         EVP_DigestVerifyInit_ex(mctx, NULL, md, tok->prov->libctx, KF_PROV_SW_PROPQ, pub, NULL) ==
             1 &&
         EVP_DigestVerify(mctx, der != NULL ? der : raw, der != NULL ? der_len : raw_len, challenge,
                          sizeof(challenge)) == 1;
    EVP_MD_CTX_free(mctx);
    OPENSSL_free(der);
    return ok;
}

static int kf_keymgmt_match(const void *keydata1, const void *keydata2, int selection)
{
    const struct kf_prov_key *a = keydata1;
    const struct kf_prov_key *b = keydata2;
    if (a == NULL || b == NULL || (a->pub == NULL && b->pub == NULL)) {
        return 0;
    }
    if (a->pub == NULL || b->pub == NULL) {
        /* A token key without its public half: only a key pair comparison can be answered. */
        const struct kf_prov_key *tok = a->pub == NULL ? a : b;
        const struct kf_prov_key *other = a->pub == NULL ? b : a;
        return !kf_prov_key_is_soft(tok) && (selection & OSSL_KEYMGMT_SELECT_KEYPAIR) &&
               tok->evp_type == other->evp_type && match_by_signature(tok, other->pub);
    }
    /* Keys match when their public halves do: a token's private half never leaves it, and a
     * private key is determined by its public one for every type here. */
    if (selection & OSSL_KEYMGMT_SELECT_KEYPAIR) {
        return EVP_PKEY_eq(a->pub, b->pub) == 1;
    }
    if (selection & OSSL_KEYMGMT_SELECT_DOMAIN_PARAMETERS) {
        return EVP_PKEY_parameters_eq(a->pub, b->pub) == 1;
    }
    return 1;
}

static int kf_keymgmt_get_params(void *keydata, OSSL_PARAM params[])
{
    struct kf_prov_key *k = keydata;
    if (k == NULL) {
        return 0;
    }
    if (k->pub == NULL) {
        if (kf_prov_key_is_soft(k)) {
            return 1; /* an empty key: nothing to tell yet */
        }
        /* Without the public half only the size is known. */
        OSSL_PARAM *p = OSSL_PARAM_locate(params, OSSL_PKEY_PARAM_MAX_SIZE);
        return p == NULL || OSSL_PARAM_set_size_t(p, kf_hsm_key_max_sig_len(k->hk));
    }
    /* Bits, security bits, max size, default digest, group, encoded public key: the same
     * answers the default provider gives for the public key. */
    if (!EVP_PKEY_get_params(k->pub, params)) {
        return 0;
    }
    /* ECDSA max-size from the public key is the DER maximum; keep it (OpenSSL wants DER). */
    return 1;
}

static const OSSL_PARAM kf_keymgmt_params[] = {
    OSSL_PARAM_int(OSSL_PKEY_PARAM_BITS, NULL),
    OSSL_PARAM_int(OSSL_PKEY_PARAM_SECURITY_BITS, NULL),
    OSSL_PARAM_int(OSSL_PKEY_PARAM_MAX_SIZE, NULL),
    OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_DEFAULT_DIGEST, NULL, 0),
    OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_MANDATORY_DIGEST, NULL, 0),
    OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, NULL, 0),
    OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, NULL, 0),
    OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, NULL, 0),
    OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT, NULL, 0),
    OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_EC_ENCODING, NULL, 0),
    OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_N, NULL, 0),
    OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_E, NULL, 0),
    OSSL_PARAM_END,
};

static const OSSL_PARAM *kf_keymgmt_gettable_params(void *provctx)
{
    return kf_keymgmt_params;
}

static int kf_keymgmt_export(void *keydata, int selection, OSSL_CALLBACK *param_cb, void *cbarg)
{
    struct kf_prov_key *k = keydata;
    if (k == NULL || k->pub == NULL) {
        return 0;
    }
    if (kf_prov_key_is_soft(k)) {
        return EVP_PKEY_export(k->pub, selection, param_cb, cbarg);
    }
    if (selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) {
        /* Never private material. This refusal also matters for correctness: OpenSSL 3.0
         * copies a key into another provider with every part selected, and must learn here
         * that the copy cannot sign or decrypt, so that it runs those operations in keyfort
         * instead of in the default provider with a public half alone. */
        return 0;
    }
    OSSL_PARAM *params = NULL;
    if (EVP_PKEY_todata(k->pub, selection, &params) != 1) {
        return 0;
    }
    int ok = param_cb(params, cbarg);
    OSSL_PARAM_free(params);
    return ok;
}

/* What a key of each type is made of (import and export; private parts only ever travel for
 * software keys). Two-prime RSA, named-curve EC: what the default provider makes. */
static const OSSL_PARAM kf_keymgmt_rsa_types[] = {
    OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_N, NULL, 0),
    OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_E, NULL, 0),
    OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_D, NULL, 0),
    OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_FACTOR1, NULL, 0),
    OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_FACTOR2, NULL, 0),
    OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_EXPONENT1, NULL, 0),
    OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_EXPONENT2, NULL, 0),
    OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_COEFFICIENT1, NULL, 0),
    OSSL_PARAM_END,
};
static const OSSL_PARAM kf_keymgmt_ec_types[] = {
    OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, NULL, 0),
    OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_EC_ENCODING, NULL, 0),
    OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT, NULL, 0),
    OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, NULL, 0),
    OSSL_PARAM_BN(OSSL_PKEY_PARAM_PRIV_KEY, NULL, 0),
    OSSL_PARAM_END,
};
static const OSSL_PARAM kf_keymgmt_ed_types[] = {
    OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, NULL, 0),
    OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PRIV_KEY, NULL, 0),
    OSSL_PARAM_END,
};

static const OSSL_PARAM *kf_keymgmt_rsa_types_fn(int selection)
{
    return kf_keymgmt_rsa_types;
}
static const OSSL_PARAM *kf_keymgmt_ec_types_fn(int selection)
{
    return kf_keymgmt_ec_types;
}
static const OSSL_PARAM *kf_keymgmt_ed_types_fn(int selection)
{
    return kf_keymgmt_ed_types;
}

/* ---- software keys: new, import, set_params, dup ---------------------------------------- */

static void *keymgmt_new_typed(void *provctx, int evp_type)
{
    struct kf_prov *prov = provctx;
    struct kf_prov_key *k = NULL;
    if (!kf_prov_is_usable(prov) || !kf_ok(kf_prov_key_new_soft(prov, evp_type, NULL, &k))) {
        return NULL;
    }
    return k;
}

/* Import makes (or replaces) the software key with the default provider's fromdata. */
static int keymgmt_import_typed(void *keydata, int selection, const OSSL_PARAM params[],
                                int evp_type)
{
    struct kf_prov_key *k = keydata;
    if (k == NULL || !kf_prov_key_is_soft(k) || k->evp_type != evp_type) {
        return 0; /* a token key is never overwritten from outside */
    }
    EVP_PKEY_CTX *ctx =
        EVP_PKEY_CTX_new_from_name(k->prov->libctx, kf_prov_alg_name(evp_type), KF_PROV_SW_PROPQ);
    EVP_PKEY *pk = NULL;
    /* fromdata takes EVP_PKEY_KEYPAIR / PUBLIC_KEY / KEY_PARAMETERS: the same bits as the
     * keymgmt selection, which it passes on to the default provider's import. */
    int ok = ctx != NULL && EVP_PKEY_fromdata_init(ctx) == 1 &&
             EVP_PKEY_fromdata(ctx, &pk, selection, (OSSL_PARAM *)params) == 1;
    EVP_PKEY_CTX_free(ctx);
    if (!ok) {
        return 0;
    }
    EVP_PKEY_free(k->pub);
    k->pub = pk;
    return 1;
}

static int kf_keymgmt_set_params(void *keydata, const OSSL_PARAM params[])
{
    struct kf_prov_key *k = keydata;
    if (k == NULL || params == NULL || params[0].key == NULL) {
        return 1;
    }
    /* Only software keys change (TLS sets a peer's encoded point this way). */
    if (!kf_prov_key_is_soft(k) || k->pub == NULL) {
        return 0;
    }
    return EVP_PKEY_set_params(k->pub, (OSSL_PARAM *)params);
}

static const OSSL_PARAM kf_keymgmt_ec_settable[] = {
    OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, NULL, 0),
    OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT, NULL, 0),
    OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_EC_ENCODING, NULL, 0),
    OSSL_PARAM_END,
};
static const OSSL_PARAM kf_keymgmt_none_settable[] = { OSSL_PARAM_END };

static const OSSL_PARAM *kf_keymgmt_ec_settable_params(void *provctx)
{
    return kf_keymgmt_ec_settable;
}
static const OSSL_PARAM *kf_keymgmt_none_settable_params(void *provctx)
{
    return kf_keymgmt_none_settable;
}

static void *kf_keymgmt_dup(const void *keydata, int selection)
{
    const struct kf_prov_key *k = keydata;
    if (k == NULL) {
        return NULL;
    }
    if (!kf_prov_key_is_soft(k) && (selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY)) {
        /* The whole token key: it is immutable here (no import, no set_params), so share it. */
        return kf_prov_key_ref((struct kf_prov_key *)k);
    }
    /* A software key, or only the public parts of a token key (EVP_PKEY_copy_parameters makes
     * a peer key this way, then sets its point): a software key of its own. */
    EVP_PKEY *copy = NULL;
    if (k->pub != NULL && (copy = EVP_PKEY_dup(k->pub)) == NULL) {
        return NULL;
    }
    struct kf_prov_key *d = NULL;
    return kf_ok(kf_prov_key_new_soft(k->prov, k->evp_type, copy, &d)) ? d : NULL;
}

#define KEYMGMT_TYPED(suffix, type)                                                                \
    static void *kf_keymgmt_##suffix##_new(void *provctx)                                          \
    {                                                                                              \
        return keymgmt_new_typed(provctx, (type));                                                 \
    }                                                                                              \
    static int kf_keymgmt_##suffix##_import(void *keydata, int selection,                          \
                                            const OSSL_PARAM params[])                             \
    {                                                                                              \
        return keymgmt_import_typed(keydata, selection, params, (type));                           \
    }
KEYMGMT_TYPED(rsa, EVP_PKEY_RSA)
KEYMGMT_TYPED(ec, EVP_PKEY_EC)
KEYMGMT_TYPED(ed25519, EVP_PKEY_ED25519)
KEYMGMT_TYPED(ed448, EVP_PKEY_ED448)

static const char *kf_keymgmt_ec_query_operation_name(int operation_id)
{
    /* The EC keymgmt's keys sign with "ECDSA" and agree keys with "ECDH". */
    switch (operation_id) {
    case OSSL_OP_SIGNATURE:
        return "ECDSA";
    case OSSL_OP_KEYEXCH:
        return "ECDH";
    default:
        return NULL;
    }
}

#define KEYMGMT_ENTRIES(suffix, types_fn, settable_fn)                                             \
    { OSSL_FUNC_KEYMGMT_NEW, (void (*)(void))kf_keymgmt_##suffix##_new },                          \
        { OSSL_FUNC_KEYMGMT_FREE, (void (*)(void))kf_keymgmt_free },                               \
        { OSSL_FUNC_KEYMGMT_LOAD, (void (*)(void))kf_keymgmt_##suffix##_load },                    \
        { OSSL_FUNC_KEYMGMT_HAS, (void (*)(void))kf_keymgmt_has },                                 \
        { OSSL_FUNC_KEYMGMT_MATCH, (void (*)(void))kf_keymgmt_match },                             \
        { OSSL_FUNC_KEYMGMT_GET_PARAMS, (void (*)(void))kf_keymgmt_get_params },                   \
        { OSSL_FUNC_KEYMGMT_GETTABLE_PARAMS, (void (*)(void))kf_keymgmt_gettable_params },         \
        { OSSL_FUNC_KEYMGMT_SET_PARAMS, (void (*)(void))kf_keymgmt_set_params },                   \
        { OSSL_FUNC_KEYMGMT_SETTABLE_PARAMS, (void (*)(void))settable_fn },                        \
        { OSSL_FUNC_KEYMGMT_IMPORT, (void (*)(void))kf_keymgmt_##suffix##_import },                \
        { OSSL_FUNC_KEYMGMT_IMPORT_TYPES, (void (*)(void))types_fn },                              \
        { OSSL_FUNC_KEYMGMT_EXPORT, (void (*)(void))kf_keymgmt_export },                           \
        { OSSL_FUNC_KEYMGMT_EXPORT_TYPES, (void (*)(void))types_fn },                              \
        { OSSL_FUNC_KEYMGMT_DUP, (void (*)(void))kf_keymgmt_dup }, KF_KEYMGMT_GEN_ENTRIES(suffix)

const OSSL_DISPATCH kf_keymgmt_rsa_functions[] = {
    KEYMGMT_ENTRIES(rsa, kf_keymgmt_rsa_types_fn, kf_keymgmt_none_settable_params),
    OSSL_DISPATCH_END,
};
const OSSL_DISPATCH kf_keymgmt_ec_functions[] = {
    KEYMGMT_ENTRIES(ec, kf_keymgmt_ec_types_fn, kf_keymgmt_ec_settable_params),
    { OSSL_FUNC_KEYMGMT_QUERY_OPERATION_NAME, (void (*)(void))kf_keymgmt_ec_query_operation_name },
    OSSL_DISPATCH_END,
};
const OSSL_DISPATCH kf_keymgmt_ed25519_functions[] = {
    KEYMGMT_ENTRIES(ed25519, kf_keymgmt_ed_types_fn, kf_keymgmt_none_settable_params),
    OSSL_DISPATCH_END,
};
const OSSL_DISPATCH kf_keymgmt_ed448_functions[] = {
    KEYMGMT_ENTRIES(ed448, kf_keymgmt_ed_types_fn, kf_keymgmt_none_settable_params),
    OSSL_DISPATCH_END,
};
