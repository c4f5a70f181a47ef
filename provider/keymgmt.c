/* provider/keymgmt.c - keymgmt for token keys: RSA, EC (P-256, P-384), Ed25519, Ed448.
 *
 * The key data refers to the token object; everything public (bits, group, the public key
 * itself, export for verification and encryption in the default provider) is answered from
 * the software copy of the public key that hsm/ builds. There is no import: software keys stay
 * in the provider that made them. */
#include "provider/prov.h"

#include <openssl/core_names.h>
#include <openssl/core_object.h>
#include <string.h>

static OSSL_FUNC_keymgmt_free_fn kf_keymgmt_free;
static OSSL_FUNC_keymgmt_has_fn kf_keymgmt_has;
static OSSL_FUNC_keymgmt_match_fn kf_keymgmt_match;
static OSSL_FUNC_keymgmt_get_params_fn kf_keymgmt_get_params;
static OSSL_FUNC_keymgmt_gettable_params_fn kf_keymgmt_gettable_params;
static OSSL_FUNC_keymgmt_export_fn kf_keymgmt_export;
static OSSL_FUNC_keymgmt_query_operation_name_fn kf_keymgmt_ec_query_operation_name;

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

static int kf_keymgmt_has(const void *keydata, int selection)
{
    const struct kf_prov_key *k = keydata;
    if (k == NULL) {
        return 0;
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

static int kf_keymgmt_match(const void *keydata1, const void *keydata2, int selection)
{
    const struct kf_prov_key *a = keydata1;
    const struct kf_prov_key *b = keydata2;
    if (a == NULL || b == NULL || a->pub == NULL || b->pub == NULL) {
        return 0;
    }
    /* Two token keys match when their public halves do (the private halves never leave). */
    return EVP_PKEY_eq(a->pub, b->pub) == 1;
}

static int kf_keymgmt_get_params(void *keydata, OSSL_PARAM params[])
{
    struct kf_prov_key *k = keydata;
    if (k == NULL) {
        return 0;
    }
    if (k->pub == NULL) {
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
    if (k == NULL || k->pub == NULL || (selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY)) {
        return 0; /* never private material */
    }
    OSSL_PARAM *params = NULL;
    if (EVP_PKEY_todata(k->pub, EVP_PKEY_PUBLIC_KEY, &params) != 1) {
        return 0;
    }
    int ok = param_cb(params, cbarg);
    OSSL_PARAM_free(params);
    return ok;
}

static const OSSL_PARAM kf_keymgmt_rsa_export_params[] = {
    OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_N, NULL, 0),
    OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_E, NULL, 0),
    OSSL_PARAM_END,
};
static const OSSL_PARAM kf_keymgmt_ec_export_params[] = {
    OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, NULL, 0),
    OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, NULL, 0),
    OSSL_PARAM_END,
};
static const OSSL_PARAM kf_keymgmt_ed_export_params[] = {
    OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, NULL, 0),
    OSSL_PARAM_END,
};

static const OSSL_PARAM *kf_keymgmt_rsa_export_types(int selection)
{
    return (selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) ? NULL : kf_keymgmt_rsa_export_params;
}
static const OSSL_PARAM *kf_keymgmt_ec_export_types(int selection)
{
    return (selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) ? NULL : kf_keymgmt_ec_export_params;
}
static const OSSL_PARAM *kf_keymgmt_ed_export_types(int selection)
{
    return (selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) ? NULL : kf_keymgmt_ed_export_params;
}

static const char *kf_keymgmt_ec_query_operation_name(int operation_id)
{
    /* The EC keymgmt's keys sign with the "ECDSA" signature algorithm. */
    return operation_id == OSSL_OP_SIGNATURE ? "ECDSA" : NULL;
}

#define KEYMGMT_ENTRIES(load_fn, export_types_fn)                                                  \
    { OSSL_FUNC_KEYMGMT_FREE, (void (*)(void))kf_keymgmt_free },                                   \
        { OSSL_FUNC_KEYMGMT_LOAD, (void (*)(void))load_fn },                                       \
        { OSSL_FUNC_KEYMGMT_HAS, (void (*)(void))kf_keymgmt_has },                                 \
        { OSSL_FUNC_KEYMGMT_MATCH, (void (*)(void))kf_keymgmt_match },                             \
        { OSSL_FUNC_KEYMGMT_GET_PARAMS, (void (*)(void))kf_keymgmt_get_params },                   \
        { OSSL_FUNC_KEYMGMT_GETTABLE_PARAMS, (void (*)(void))kf_keymgmt_gettable_params },         \
        { OSSL_FUNC_KEYMGMT_EXPORT, (void (*)(void))kf_keymgmt_export },                           \
    {                                                                                              \
        OSSL_FUNC_KEYMGMT_EXPORT_TYPES, (void (*)(void))export_types_fn                            \
    }

const OSSL_DISPATCH kf_keymgmt_rsa_functions[] = {
    KEYMGMT_ENTRIES(kf_keymgmt_rsa_load, kf_keymgmt_rsa_export_types),
    OSSL_DISPATCH_END,
};
const OSSL_DISPATCH kf_keymgmt_ec_functions[] = {
    KEYMGMT_ENTRIES(kf_keymgmt_ec_load, kf_keymgmt_ec_export_types),
    { OSSL_FUNC_KEYMGMT_QUERY_OPERATION_NAME, (void (*)(void))kf_keymgmt_ec_query_operation_name },
    OSSL_DISPATCH_END,
};
const OSSL_DISPATCH kf_keymgmt_ed25519_functions[] = {
    KEYMGMT_ENTRIES(kf_keymgmt_ed25519_load, kf_keymgmt_ed_export_types),
    OSSL_DISPATCH_END,
};
const OSSL_DISPATCH kf_keymgmt_ed448_functions[] = {
    KEYMGMT_ENTRIES(kf_keymgmt_ed448_load, kf_keymgmt_ed_export_types),
    OSSL_DISPATCH_END,
};
