/* provider/prov.c - OSSL_provider_init, configuration, algorithm tables, reasons. */
#include "provider/prov.h"

#include "common/kf_log.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/provider.h>
#include <stdlib.h>
#include <string.h>

static OSSL_FUNC_provider_teardown_fn prov_teardown;
static OSSL_FUNC_provider_gettable_params_fn prov_gettable_params;
static OSSL_FUNC_provider_get_params_fn prov_get_params;
static OSSL_FUNC_provider_query_operation_fn prov_query_operation;
static OSSL_FUNC_provider_get_reason_strings_fn prov_get_reason_strings;

/* Set at teardown: OpenSSL may free keys after the provider is gone (OPENSSL_cleanup order). */
static atomic_bool prov_torn_down;

bool kf_prov_is_usable(const struct kf_prov *prov)
{
    return prov != NULL && !atomic_load(&prov_torn_down);
}

void kf_prov_open_opts(const struct kf_prov *prov, struct kf_hsm_open_opts *out)
{
    *out = (struct kf_hsm_open_opts){
        .module = prov->module,
        .pin_file = NULL,
        .allow_prompt = false, /* OpenSSL's password callback is the prompt (store) */
        .pool_max = prov->pool_size,
    };
}

KF_RESULT kf_prov_open_token(struct kf_prov *prov, const struct kf_hsm_uri *uri,
                             OSSL_PASSPHRASE_CALLBACK *pw_cb, void *pw_cbarg,
                             struct kf_hsm_token **out)
{
    struct kf_hsm_open_opts opts;
    kf_prov_open_opts(prov, &opts);
    bool uri_has_pin = kf_hsm_uri_pin_source(uri) != NULL || kf_hsm_uri_has_pin_value(uri);
    if (!uri_has_pin && prov->pin_source != NULL) {
        opts.pin_file = prov->pin_source;
    }
    struct kf_secret *asked KF_SECRET_AUTO = NULL;
    if (!uri_has_pin && opts.pin_file == NULL && pw_cb != NULL) {
        KF_GUARD(kf_secret_new(KF_SECRET_PIN_MAX, &asked));
        char *buf = (char *)kf_secret_data(asked);
        size_t len = 0;
        OSSL_PARAM info[] = {
            OSSL_PARAM_utf8_string(OSSL_PASSPHRASE_PARAM_INFO, (char *)"PKCS#11 token PIN", 0),
            OSSL_PARAM_END,
        };
        if (pw_cb(buf, KF_SECRET_PIN_MAX, &len, info, pw_cbarg) && len > 0 &&
            len <= KF_SECRET_PIN_MAX) {
            struct kf_secret *exact = NULL;
            KF_GUARD(kf_secret_from_bytes((const uint8_t *)buf, len, &exact));
            kf_secret_free(asked);
            asked = exact;
            opts.pin = asked;
        }
    }
    return kf_hsm_token_open(uri, &opts, out);
}

/* ---- algorithms. No digests, no RNG: SoftHSM calls OpenSSL's default library context, and a
 * provider that answered those would be re-entered from inside C_Sign (a deadlock on SoftHSM's
 * own mutex when keyfort is listed first). ---- */

static const OSSL_ALGORITHM prov_keymgmt[] = {
    { "RSA:rsaEncryption:1.2.840.113549.1.1.1", KF_PROV_PROPS, kf_keymgmt_rsa_functions,
      "keyfort RSA keys: on a PKCS#11 token, or software keys passed to the default provider" },
    { "EC:id-ecPublicKey:1.2.840.10045.2.1", KF_PROV_PROPS, kf_keymgmt_ec_functions,
      "keyfort EC keys on a PKCS#11 token" },
    { "ED25519:1.3.101.112", KF_PROV_PROPS, kf_keymgmt_ed25519_functions,
      "keyfort Ed25519 keys on a PKCS#11 token" },
    { "ED448:1.3.101.113", KF_PROV_PROPS, kf_keymgmt_ed448_functions,
      "keyfort Ed448 keys on a PKCS#11 token" },
    { NULL, NULL, NULL, NULL },
};

static const OSSL_ALGORITHM prov_signature[] = {
    { "RSA:rsaEncryption:1.2.840.113549.1.1.1", KF_PROV_PROPS, kf_sig_rsa_functions, NULL },
    { "ECDSA", KF_PROV_PROPS, kf_sig_ecdsa_functions, NULL },
    { "ED25519:1.3.101.112", KF_PROV_PROPS, kf_sig_ed25519_functions, NULL },
    { "ED448:1.3.101.113", KF_PROV_PROPS, kf_sig_ed448_functions, NULL },
    { NULL, NULL, NULL, NULL },
};

static const OSSL_ALGORITHM prov_asym_cipher[] = {
    { "RSA:rsaEncryption:1.2.840.113549.1.1.1", KF_PROV_PROPS, kf_asym_rsa_functions,
      "RSA decryption on the token, padding removed in constant time" },
    { NULL, NULL, NULL, NULL },
};

static const OSSL_ALGORITHM prov_keyexch[] = {
    { "ECDH", KF_PROV_PROPS, kf_exch_ecdh_functions, "ECDH, on the token for token keys" },
    { NULL, NULL, NULL, NULL },
};

/* Writing a token key "privately" writes its URI-PEM reference (encode_uri_pem.c). */
#define KF_ENC_PROPS KF_PROV_PROPS ",output=pem,structure=PrivateKeyInfo"
static const OSSL_ALGORITHM prov_encoder[] = {
    { "RSA:rsaEncryption:1.2.840.113549.1.1.1", KF_ENC_PROPS, kf_enc_uri_pem_functions,
      "token key as a pkcs11: URI in a PEM file" },
    { "EC:id-ecPublicKey:1.2.840.10045.2.1", KF_ENC_PROPS, kf_enc_uri_pem_functions,
      "token key as a pkcs11: URI in a PEM file" },
    { "ED25519:1.3.101.112", KF_ENC_PROPS, kf_enc_uri_pem_functions,
      "token key as a pkcs11: URI in a PEM file" },
    { "ED448:1.3.101.113", KF_ENC_PROPS, kf_enc_uri_pem_functions,
      "token key as a pkcs11: URI in a PEM file" },
    { NULL, NULL, NULL, NULL },
};

static const OSSL_ALGORITHM prov_decoder[] = {
    { "RSA:rsaEncryption:1.2.840.113549.1.1.1", KF_PROV_PROPS ",input=pem",
      kf_dec_uri_pem_rsa_functions, "pkcs11: URI in a PEM file" },
    { "EC:id-ecPublicKey:1.2.840.10045.2.1", KF_PROV_PROPS ",input=pem",
      kf_dec_uri_pem_ec_functions, "pkcs11: URI in a PEM file" },
    { "ED25519:1.3.101.112", KF_PROV_PROPS ",input=pem", kf_dec_uri_pem_ed25519_functions,
      "pkcs11: URI in a PEM file" },
    { "ED448:1.3.101.113", KF_PROV_PROPS ",input=pem", kf_dec_uri_pem_ed448_functions,
      "pkcs11: URI in a PEM file" },
    { NULL, NULL, NULL, NULL },
};

static const OSSL_ALGORITHM prov_store[] = {
    { "pkcs11", KF_PROV_PROPS, kf_store_pkcs11_functions, "pkcs11: URIs (RFC 7512)" },
    { NULL, NULL, NULL, NULL },
};

static const OSSL_ALGORITHM *prov_query_operation(void *provctx, int operation_id, int *no_cache)
{
    *no_cache = 0;
    switch (operation_id) {
    case OSSL_OP_KEYMGMT:
        return prov_keymgmt;
    case OSSL_OP_SIGNATURE:
        return prov_signature;
    case OSSL_OP_KEYEXCH:
        return prov_keyexch;
    case OSSL_OP_ASYM_CIPHER:
        return prov_asym_cipher;
    case OSSL_OP_STORE:
        return prov_store;
    case OSSL_OP_DECODER:
        return prov_decoder;
    case OSSL_OP_ENCODER:
        return prov_encoder;
    default:
        return NULL;
    }
}

/* ---- reasons: the kf_error.def list, as the core wants it ---- */

static const OSSL_ITEM prov_reasons[] = {
#define X(name, cls, msg) { name, msg },
#include "common/kf_error.def"
#undef X
    { 0, NULL },
};

static const OSSL_ITEM *prov_get_reason_strings(void *provctx)
{
    return prov_reasons;
}

/* ---- provider parameters ---- */

static const OSSL_PARAM prov_param_types[] = {
    OSSL_PARAM_DEFN(OSSL_PROV_PARAM_NAME, OSSL_PARAM_UTF8_PTR, NULL, 0),
    OSSL_PARAM_DEFN(OSSL_PROV_PARAM_VERSION, OSSL_PARAM_UTF8_PTR, NULL, 0),
    OSSL_PARAM_DEFN(OSSL_PROV_PARAM_BUILDINFO, OSSL_PARAM_UTF8_PTR, NULL, 0),
    OSSL_PARAM_DEFN(OSSL_PROV_PARAM_STATUS, OSSL_PARAM_INTEGER, NULL, 0),
    /* keyfort's session pools, summed over the tokens this process has open (operators and
     * tests read them with OSSL_PROVIDER_get_params). */
    OSSL_PARAM_DEFN("keyfort-sessions-open", OSSL_PARAM_UNSIGNED_INTEGER, NULL, 0),
    OSSL_PARAM_DEFN("keyfort-sessions-idle", OSSL_PARAM_UNSIGNED_INTEGER, NULL, 0),
    OSSL_PARAM_DEFN("keyfort-sessions-in-use", OSSL_PARAM_UNSIGNED_INTEGER, NULL, 0),
    OSSL_PARAM_DEFN("keyfort-sessions-dropped", OSSL_PARAM_UNSIGNED_INTEGER, NULL, 0),
    OSSL_PARAM_DEFN("keyfort-logins", OSSL_PARAM_UNSIGNED_INTEGER, NULL, 0),
    OSSL_PARAM_END,
};

static const OSSL_PARAM *prov_gettable_params(void *provctx)
{
    return prov_param_types;
}

static int prov_get_params(void *provctx, OSSL_PARAM params[])
{
    OSSL_PARAM *p = OSSL_PARAM_locate(params, OSSL_PROV_PARAM_NAME);
    if (p != NULL && !OSSL_PARAM_set_utf8_ptr(p, "keyfort PKCS#11 provider")) {
        return 0;
    }
    p = OSSL_PARAM_locate(params, OSSL_PROV_PARAM_VERSION);
    if (p != NULL && !OSSL_PARAM_set_utf8_ptr(p, KEYFORT_VERSION)) {
        return 0;
    }
    p = OSSL_PARAM_locate(params, OSSL_PROV_PARAM_BUILDINFO);
    if (p != NULL && !OSSL_PARAM_set_utf8_ptr(p, "keyfort " KEYFORT_VERSION)) {
        return 0;
    }
    p = OSSL_PARAM_locate(params, OSSL_PROV_PARAM_STATUS);
    if (p != NULL && !OSSL_PARAM_set_int(p, kf_prov_is_usable(provctx))) {
        return 0;
    }
    struct kf_hsm_pool_stats st;
    kf_hsm_pool_totals(&st);
    const struct {
        const char *name;
        uint64_t value;
    } stats[] = {
        { "keyfort-sessions-open", st.open },     { "keyfort-sessions-idle", st.idle },
        { "keyfort-sessions-in-use", st.in_use }, { "keyfort-sessions-dropped", st.dropped_total },
        { "keyfort-logins", st.logins },
    };
    for (size_t i = 0; i < sizeof(stats) / sizeof(stats[0]); i++) {
        p = OSSL_PARAM_locate(params, stats[i].name);
        if (p != NULL && !OSSL_PARAM_set_uint64(p, stats[i].value)) {
            return 0;
        }
    }
    return 1;
}

static void prov_free(struct kf_prov *prov)
{
    if (prov == NULL) {
        return;
    }
    for (size_t i = 0; i < sizeof(prov->mds) / sizeof(prov->mds[0]); i++) {
        EVP_MD_free(atomic_load(&prov->mds[i]));
    }
    OSSL_LIB_CTX_free(prov->libctx);
    free(prov->module);
    free(prov->pin_source);
    free(prov);
}

static void prov_teardown(void *provctx)
{
    /* Called from OPENSSL_cleanup at exit, possibly after SoftHSM's own libcrypto state is
     * gone: from here on no PKCS#11 function is called (sessions die with the process). */
    atomic_store(&prov_torn_down, true);
    kf_hsm_quiesce();
    prov_free(provctx);
}

static const OSSL_DISPATCH prov_dispatch[] = {
    { OSSL_FUNC_PROVIDER_TEARDOWN, (void (*)(void))prov_teardown },
    { OSSL_FUNC_PROVIDER_GETTABLE_PARAMS, (void (*)(void))prov_gettable_params },
    { OSSL_FUNC_PROVIDER_GET_PARAMS, (void (*)(void))prov_get_params },
    { OSSL_FUNC_PROVIDER_QUERY_OPERATION, (void (*)(void))prov_query_operation },
    { OSSL_FUNC_PROVIDER_GET_REASON_STRINGS, (void (*)(void))prov_get_reason_strings },
    { OSSL_FUNC_PROVIDER_GET_CAPABILITIES, (void (*)(void))kf_prov_get_capabilities },
    OSSL_DISPATCH_END,
};

/* Configuration from the provider's openssl.cnf section. */
static int prov_read_config(struct kf_prov *prov, OSSL_FUNC_core_get_params_fn *get_params)
{
    char *module = NULL;
    char *pin_source = NULL;
    char *pool = NULL;
    OSSL_PARAM params[] = {
        OSSL_PARAM_utf8_ptr("pkcs11-module", &module, 0),
        OSSL_PARAM_utf8_ptr("pkcs11-pin-source", &pin_source, 0),
        OSSL_PARAM_utf8_ptr("pkcs11-pool-size", &pool, 0),
        OSSL_PARAM_END,
    };
    if (get_params == NULL || !get_params(prov->handle, params)) {
        return 1; /* no configuration: defaults */
    }
    if (module != NULL && module[0] != '\0' && (prov->module = strdup(module)) == NULL) {
        return 0;
    }
    if (pin_source != NULL && pin_source[0] != '\0' &&
        (prov->pin_source = strdup(pin_source)) == NULL) {
        return 0;
    }
    if (pool != NULL) {
        char *end = NULL;
        unsigned long n = strtoul(pool, &end, 10);
        if (end == pool || *end != '\0' || n == 0 || n > 1024) {
            return 0; /* a bad pool size is a configuration error, not a silent default */
        }
        prov->pool_size = (unsigned)n;
    }
    return 1;
}

__attribute__((visibility("default"))) int OSSL_provider_init(const OSSL_CORE_HANDLE *handle,
                                                              const OSSL_DISPATCH *in,
                                                              const OSSL_DISPATCH **out,
                                                              void **provctx);

int OSSL_provider_init(const OSSL_CORE_HANDLE *handle, const OSSL_DISPATCH *in,
                       const OSSL_DISPATCH **out, void **provctx)
{
    struct kf_prov *prov = calloc(1, sizeof(*prov));
    if (prov == NULL) {
        return 0;
    }
    prov->handle = handle;
    OSSL_FUNC_core_get_params_fn *get_params = NULL;
    for (const OSSL_DISPATCH *d = in; d->function_id != 0; d++) {
        switch (d->function_id) {
        case OSSL_FUNC_CORE_GET_PARAMS:
            get_params = OSSL_FUNC_core_get_params(d);
            break;
        case OSSL_FUNC_CORE_NEW_ERROR:
            prov->core_new_error = OSSL_FUNC_core_new_error(d);
            break;
        case OSSL_FUNC_CORE_SET_ERROR_DEBUG:
            prov->core_set_error_debug = OSSL_FUNC_core_set_error_debug(d);
            break;
        case OSSL_FUNC_CORE_VSET_ERROR:
            prov->core_vset_error = OSSL_FUNC_core_vset_error(d);
            break;
        default:
            break;
        }
    }
    prov->libctx = OSSL_LIB_CTX_new_child(handle, in);
    if (prov->libctx == NULL || !prov_read_config(prov, get_params)) {
        prov_free(prov);
        return 0;
    }
    atomic_store(&prov_torn_down, false);
    *out = prov_dispatch;
    *provctx = prov;
    return 1;
}
