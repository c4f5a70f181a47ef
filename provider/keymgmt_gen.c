/* provider/keymgmt_gen.c - key generation: on the token when the caller names one with the
 * "pkcs11-uri" parameter, else a software key made by the default provider.
 *
 * The software path exists for the provider order (prov.h): with keyfort listed first,
 * EVP_PKEY_CTX_new_from_name("EC") reaches this keymgmt for every ephemeral TLS key and every
 * `openssl genpkey`, and those must behave exactly as without keyfort. A key is put on the
 * token only when asked by URI, so that no program makes token objects by accident. */
#include "provider/keymgmt_gen.h"

#include <openssl/core_names.h>
#include <stdlib.h>
#include <string.h>

struct kf_gen_ctx {
    struct kf_prov *prov; /* borrowed */
    int evp_type;
    EVP_PKEY_CTX *sw; /* owned: software generation in the default provider */
    char *uri;        /* owned: KF_GEN_PARAM_URI, NULL = software key */
    size_t bits;      /* RSA modulus bits as set (default 2048) */
    char group[32];   /* EC group as set */
};

static void *gen_init_typed(void *provctx, int selection, const OSSL_PARAM params[], int evp_type)
{
    struct kf_prov *prov = provctx;
    if (!kf_prov_is_usable(prov)) {
        return NULL;
    }
    struct kf_gen_ctx *g = calloc(1, sizeof(*g));
    if (g == NULL) {
        return NULL;
    }
    g->prov = prov;
    g->evp_type = evp_type;
    g->bits = 2048;
    g->sw = EVP_PKEY_CTX_new_from_name(prov->libctx, kf_prov_alg_name(evp_type), KF_PROV_SW_PROPQ);
    bool keypair = (selection & OSSL_KEYMGMT_SELECT_KEYPAIR) != 0;
    if (g->sw == NULL ||
        (keypair ? EVP_PKEY_keygen_init(g->sw) : EVP_PKEY_paramgen_init(g->sw)) != 1 ||
        !kf_keymgmt_gen_set_params(g, params)) {
        kf_keymgmt_gen_cleanup(g);
        return NULL;
    }
    return g;
}

#define GEN_INIT(suffix, type)                                                                     \
    void *kf_keymgmt_##suffix##_gen_init(void *provctx, int selection, const OSSL_PARAM params[])  \
    {                                                                                              \
        return gen_init_typed(provctx, selection, params, (type));                                 \
    }
GEN_INIT(rsa, EVP_PKEY_RSA)
GEN_INIT(ec, EVP_PKEY_EC)
GEN_INIT(ed25519, EVP_PKEY_ED25519)
GEN_INIT(ed448, EVP_PKEY_ED448)

void kf_keymgmt_gen_cleanup(void *genctx)
{
    struct kf_gen_ctx *g = genctx;
    if (g == NULL) {
        return;
    }
    EVP_PKEY_CTX_free(g->sw);
    free(g->uri);
    free(g);
}

int kf_keymgmt_gen_set_params(void *genctx, const OSSL_PARAM params[])
{
    struct kf_gen_ctx *g = genctx;
    if (params == NULL) {
        return 1;
    }
    size_t n = 0;
    while (params[n].key != NULL) {
        n++;
    }
    /* keyfort's own parameter stays here; the rest go to the default provider, and the ones
     * the token path needs (bits, group) are remembered on the way. */
    OSSL_PARAM *rest = calloc(n + 1, sizeof(*rest));
    if (rest == NULL) {
        return 0;
    }
    size_t m = 0;
    int ok = 1;
    for (size_t i = 0; i < n && ok; i++) {
        const OSSL_PARAM *p = &params[i];
        if (strcmp(p->key, KF_GEN_PARAM_URI) == 0) {
            char *uri = NULL;
            ok = OSSL_PARAM_get_utf8_string(p, &uri, 0);
            if (ok) {
                free(g->uri);
                g->uri = strdup(uri);
                OPENSSL_free(uri);
                ok = g->uri != NULL;
            }
            continue;
        }
        if (strcmp(p->key, OSSL_PKEY_PARAM_RSA_BITS) == 0) {
            ok = OSSL_PARAM_get_size_t(p, &g->bits);
        } else if (strcmp(p->key, OSSL_PKEY_PARAM_GROUP_NAME) == 0) {
            const char *name = NULL;
            ok = OSSL_PARAM_get_utf8_string_ptr(p, &name) && strlen(name) < sizeof(g->group);
            if (ok) {
                strcpy(g->group, name);
            }
        }
        rest[m++] = *p;
    }
    rest[m] = (OSSL_PARAM)OSSL_PARAM_END;
    if (ok && m > 0) {
        ok = EVP_PKEY_CTX_set_params(g->sw, rest) == 1;
    }
    free(rest);
    return ok;
}

int kf_keymgmt_gen_set_template(void *genctx, void *templ)
{
    struct kf_gen_ctx *g = genctx;
    const struct kf_prov_key *t = templ;
    if (t == NULL || t->pub == NULL) {
        return 0;
    }
    /* The template's domain parameters (an EC group): a peer's key in TLS 1.2 ECDHE. */
    OSSL_PARAM *params = NULL;
    if (EVP_PKEY_todata(t->pub, EVP_PKEY_KEY_PARAMETERS, &params) != 1) {
        return 0;
    }
    int ok = kf_keymgmt_gen_set_params(g, params);
    OSSL_PARAM_free(params);
    return ok;
}

#define GEN_PARAM_URI OSSL_PARAM_utf8_string(KF_GEN_PARAM_URI, NULL, 0)
static const OSSL_PARAM gen_rsa_settable[] = {
    OSSL_PARAM_size_t(OSSL_PKEY_PARAM_RSA_BITS, NULL),
    OSSL_PARAM_size_t(OSSL_PKEY_PARAM_RSA_PRIMES, NULL),
    OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_E, NULL, 0),
    GEN_PARAM_URI,
    OSSL_PARAM_END,
};
static const OSSL_PARAM gen_ec_settable[] = {
    OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, NULL, 0),
    OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_EC_ENCODING, NULL, 0),
    OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT, NULL, 0),
    GEN_PARAM_URI,
    OSSL_PARAM_END,
};
static const OSSL_PARAM gen_ed_settable[] = {
    GEN_PARAM_URI,
    OSSL_PARAM_END,
};

const OSSL_PARAM *kf_keymgmt_rsa_gen_settable_params(void *genctx, void *provctx)
{
    return gen_rsa_settable;
}
const OSSL_PARAM *kf_keymgmt_ec_gen_settable_params(void *genctx, void *provctx)
{
    return gen_ec_settable;
}
const OSSL_PARAM *kf_keymgmt_ed25519_gen_settable_params(void *genctx, void *provctx)
{
    return gen_ed_settable;
}
const OSSL_PARAM *kf_keymgmt_ed448_gen_settable_params(void *genctx, void *provctx)
{
    return gen_ed_settable;
}

/* The hsm/ key type for what was asked, or an error naming what the token path cannot make. */
static KF_RESULT gen_token_type(const struct kf_gen_ctx *g, enum kf_hsm_key_type *out)
{
    switch (g->evp_type) {
    case EVP_PKEY_RSA:
        if (g->bits == 2048 || g->bits == 3072 || g->bits == 4096) {
            *out = g->bits == 2048   ? KF_KEY_RSA2048
                   : g->bits == 3072 ? KF_KEY_RSA3072
                                     : KF_KEY_RSA4096;
            return KF_OK;
        }
        kf_err_note_context("RSA key of %zu bits on the token (2048, 3072 or 4096)", g->bits);
        KF_BAIL(KF_ERR_UNSUPPORTED);
    case EVP_PKEY_EC:
        if (strcmp(g->group, "P-256") == 0 || strcmp(g->group, "prime256v1") == 0 ||
            strcmp(g->group, "secp256r1") == 0) {
            *out = KF_KEY_P256;
            return KF_OK;
        }
        if (strcmp(g->group, "P-384") == 0 || strcmp(g->group, "secp384r1") == 0) {
            *out = KF_KEY_P384;
            return KF_OK;
        }
        kf_err_note_context("EC group '%s' on the token (P-256 or P-384)",
                            g->group[0] != '\0' ? g->group : "(none set)");
        KF_BAIL(KF_ERR_UNSUPPORTED);
    case EVP_PKEY_ED25519:
        *out = KF_KEY_ED25519;
        return KF_OK;
    case EVP_PKEY_ED448:
        *out = KF_KEY_ED448;
        return KF_OK;
    default:
        KF_BAIL(KF_ERR_UNSUPPORTED);
    }
}

static KF_RESULT gen_on_token(struct kf_gen_ctx *g, struct kf_prov_key **out)
{
    enum kf_hsm_key_type type;
    KF_GUARD(gen_token_type(g, &type));
    struct kf_hsm_uri *uri = NULL;
    KF_GUARD(kf_hsm_uri_parse(g->uri, &uri));
    const char *label = kf_hsm_uri_object(uri);
    size_t id_len = 0;
    const uint8_t *id = kf_hsm_uri_id(uri, &id_len);
    if (label == NULL || label[0] == '\0') {
        kf_err_note_context("%s: object= names the new key", kf_hsm_uri_display(uri));
        kf_hsm_uri_free(uri);
        KF_BAIL(KF_ERR_INVALID_ARG);
    }
    struct kf_hsm_token *token = NULL;
    kf_result r = kf_prov_open_token(g->prov, uri, NULL, NULL, &token);
    struct kf_hsm_key *hk = NULL;
    if (kf_ok(r)) {
        r = kf_hsm_keygen(token, type, label, id, id_len, &hk);
    }
    kf_hsm_token_unref(token);
    if (kf_ok(r)) {
        r = kf_prov_key_new(g->prov, hk, kf_hsm_uri_pin_source(uri), out);
    }
    kf_hsm_uri_free(uri);
    return r;
}

void *kf_keymgmt_gen(void *genctx, OSSL_CALLBACK *cb, void *cbarg)
{
    struct kf_gen_ctx *g = genctx;
    if (g == NULL || !kf_prov_is_usable(g->prov)) {
        return NULL;
    }
    struct kf_prov_key *k = NULL;
    if (g->uri != NULL) {
        kf_result r = gen_on_token(g, &k);
        if (!kf_ok(r)) {
            kf_prov_raise(g->prov, r);
            return NULL;
        }
        return k;
    }
    EVP_PKEY *pk = NULL;
    if (EVP_PKEY_generate(g->sw, &pk) != 1) {
        return NULL; /* the default provider has said why on the error queue */
    }
    return kf_ok(kf_prov_key_new_soft(g->prov, g->evp_type, pk, &k)) ? k : NULL;
}
