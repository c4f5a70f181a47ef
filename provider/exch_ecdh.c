/* provider/exch_ecdh.c - ECDH key agreement: on the token for token keys, in the default
 * provider for software keys (prov.h says why those reach keyfort at all).
 *
 * The token computes only the shared x coordinate (CKM_ECDH1_DERIVE with CKD_NULL); the X9.63
 * KDF that CMS key agreement (kari) asks for runs here in software, because SoftHSM2 refuses
 * the KDF variants of the mechanism and the KDF needs nothing secret but the shared value. */
#include "provider/prov.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/kdf.h>
#include <stdlib.h>
#include <string.h>

static OSSL_FUNC_keyexch_newctx_fn exch_newctx;
static OSSL_FUNC_keyexch_init_fn exch_init;
static OSSL_FUNC_keyexch_set_peer_fn exch_set_peer;
static OSSL_FUNC_keyexch_derive_fn exch_derive;
static OSSL_FUNC_keyexch_freectx_fn exch_freectx;
static OSSL_FUNC_keyexch_dupctx_fn exch_dupctx;
static OSSL_FUNC_keyexch_set_ctx_params_fn exch_set_ctx_params;
static OSSL_FUNC_keyexch_settable_ctx_params_fn exch_settable_ctx_params;
static OSSL_FUNC_keyexch_get_ctx_params_fn exch_get_ctx_params;
static OSSL_FUNC_keyexch_gettable_ctx_params_fn exch_gettable_ctx_params;

struct kf_exch_ctx {
    struct kf_prov *prov;     /* borrowed */
    struct kf_prov_key *key;  /* counted ref */
    struct kf_prov_key *peer; /* counted ref */
    EVP_PKEY_CTX *sw;         /* owned: the whole operation, for a software key */
    bool x963;                /* kdf-type X963KDF */
    char kdf_md[32];          /* kdf-digest */
    size_t kdf_outlen;        /* kdf-outlen */
    uint8_t *ukm;             /* owned: kdf-ukm (the KDF's SharedInfo) */
    size_t ukm_len;
};

static void *exch_newctx(void *provctx)
{
    struct kf_prov *prov = provctx;
    if (!kf_prov_is_usable(prov)) {
        return NULL;
    }
    struct kf_exch_ctx *ctx = calloc(1, sizeof(*ctx));
    if (ctx != NULL) {
        ctx->prov = prov;
    }
    return ctx;
}

static void exch_reset(struct kf_exch_ctx *ctx)
{
    kf_prov_key_unref(ctx->key);
    kf_prov_key_unref(ctx->peer);
    ctx->key = ctx->peer = NULL;
    EVP_PKEY_CTX_free(ctx->sw);
    ctx->sw = NULL;
    OPENSSL_free(ctx->ukm);
    ctx->ukm = NULL;
    ctx->ukm_len = 0;
    ctx->x963 = false;
    ctx->kdf_md[0] = '\0';
    ctx->kdf_outlen = 0;
}

static void exch_freectx(void *vctx)
{
    struct kf_exch_ctx *ctx = vctx;
    if (ctx != NULL) {
        exch_reset(ctx);
        free(ctx);
    }
}

static void *exch_dupctx(void *vctx)
{
    const struct kf_exch_ctx *src = vctx;
    struct kf_exch_ctx *dst = calloc(1, sizeof(*dst));
    if (dst == NULL) {
        return NULL;
    }
    *dst = *src;
    dst->sw = NULL;
    dst->ukm = NULL;
    dst->key = kf_prov_key_ref(src->key);
    dst->peer = kf_prov_key_ref(src->peer);
    if ((src->sw != NULL && (dst->sw = EVP_PKEY_CTX_dup(src->sw)) == NULL) ||
        (src->ukm != NULL && (dst->ukm = OPENSSL_memdup(src->ukm, src->ukm_len)) == NULL)) {
        exch_freectx(dst);
        return NULL;
    }
    return dst;
}

static int exch_init(void *vctx, void *keydata, const OSSL_PARAM params[])
{
    struct kf_exch_ctx *ctx = vctx;
    struct kf_prov_key *key = keydata;
    if (ctx == NULL || key == NULL || key->evp_type != EVP_PKEY_EC ||
        !kf_prov_is_usable(ctx->prov)) {
        return 0;
    }
    exch_reset(ctx);
    ctx->key = kf_prov_key_ref(key);
    if (kf_prov_key_is_soft(key)) {
        ctx->sw = key->pub != NULL
                      ? EVP_PKEY_CTX_new_from_pkey(ctx->prov->libctx, key->pub, KF_PROV_SW_PROPQ)
                      : NULL;
        return ctx->sw != NULL && EVP_PKEY_derive_init_ex(ctx->sw, params) == 1;
    }
    return exch_set_ctx_params(ctx, params);
}

static int exch_set_peer(void *vctx, void *peerdata)
{
    struct kf_exch_ctx *ctx = vctx;
    struct kf_prov_key *peer = peerdata;
    if (ctx == NULL || ctx->key == NULL || peer == NULL || peer->pub == NULL) {
        return 0;
    }
    if (ctx->sw != NULL && EVP_PKEY_derive_set_peer_ex(ctx->sw, peer->pub, 1) != 1) {
        return 0;
    }
    kf_prov_key_unref(ctx->peer);
    ctx->peer = kf_prov_key_ref(peer);
    return 1;
}

/* The shared x coordinate, from the token. */
static KF_RESULT exch_token_z(struct kf_exch_ctx *ctx, uint8_t *z, size_t cap, size_t *z_len)
{
    const struct kf_prov_key *k = ctx->key;
    const struct kf_prov_key *peer = ctx->peer;
    if (peer == NULL || peer->pub == NULL) {
        kf_err_note_context("ECDH: no peer key set");
        KF_BAIL(KF_ERR_INVALID_ARG);
    }
    if (k->pub != NULL && EVP_PKEY_parameters_eq(k->pub, peer->pub) != 1) {
        kf_err_note_context("ECDH: the peer key is on another curve");
        KF_BAIL(KF_ERR_INVALID_ARG);
    }
    uint8_t point[133]; /* uncompressed P-521 at most */
    size_t point_len = 0;
    /* The token wants the uncompressed point (0x04 || x || y); ask for it in that form. */
    OSSL_PARAM q[] = {
        OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT, (char *)"uncompressed",
                               0),
        OSSL_PARAM_END,
    };
    EVP_PKEY *uncompressed = EVP_PKEY_dup(peer->pub);
    bool ok = uncompressed != NULL && EVP_PKEY_set_params(uncompressed, q) == 1 &&
              EVP_PKEY_get_octet_string_param(uncompressed, OSSL_PKEY_PARAM_PUB_KEY, point,
                                              sizeof(point), &point_len) == 1 &&
              point_len > 0 && point[0] == 0x04;
    EVP_PKEY_free(uncompressed);
    KF_ENSURE(ok, KF_ERR_OPENSSL);
    KF_GUARD(kf_hsm_derive_ecdh(k->hk, point, point_len, z, cap, z_len));
    return KF_OK;
}

/* ANSI X9.63 KDF over the shared value, as OpenSSL's ECDH does for kdf-type X963KDF. */
static KF_RESULT exch_x963(struct kf_exch_ctx *ctx, const uint8_t *z, size_t z_len, uint8_t *out,
                           size_t out_len)
{
    EVP_KDF *kdf = EVP_KDF_fetch(ctx->prov->libctx, OSSL_KDF_NAME_X963KDF, KF_PROV_SW_PROPQ);
    EVP_KDF_CTX *kctx = kdf != NULL ? EVP_KDF_CTX_new(kdf) : NULL;
    EVP_KDF_free(kdf);
    OSSL_PARAM params[] = {
        OSSL_PARAM_utf8_string(OSSL_KDF_PARAM_DIGEST,
                               ctx->kdf_md[0] != '\0' ? ctx->kdf_md : (char *)"SHA256", 0),
        OSSL_PARAM_octet_string(OSSL_KDF_PARAM_KEY, (void *)z, z_len),
        OSSL_PARAM_octet_string(OSSL_KDF_PARAM_INFO, ctx->ukm, ctx->ukm_len),
        OSSL_PARAM_END,
    };
    if (ctx->ukm == NULL) {
        params[2] = (OSSL_PARAM)OSSL_PARAM_END;
    }
    int ok = kctx != NULL && EVP_KDF_derive(kctx, out, out_len, params) == 1;
    EVP_KDF_CTX_free(kctx);
    KF_ENSURE(ok, KF_ERR_OPENSSL);
    return KF_OK;
}

static KF_RESULT exch_token_derive(struct kf_exch_ctx *ctx, unsigned char *secret,
                                   size_t *secretlen, size_t outlen)
{
    struct kf_hsm_key_info info;
    KF_GUARD(kf_hsm_key_get_info(ctx->key->hk, &info));
    size_t field = (info.bits + 7) / 8;
    size_t want = ctx->x963 ? ctx->kdf_outlen : field;
    if (ctx->x963 && want == 0) {
        kf_err_note_context("ECDH with X9.63 KDF: kdf-outlen not set");
        KF_BAIL(KF_ERR_INVALID_ARG);
    }
    if (secret == NULL) {
        *secretlen = want;
        return KF_OK;
    }
    KF_ENSURE(outlen >= want || !ctx->x963, KF_ERR_BUFFER_TOO_SMALL);
    uint8_t z[66];
    size_t z_len = 0;
    KF_GUARD(exch_token_z(ctx, z, sizeof(z), &z_len));
    kf_result r = KF_OK;
    if (ctx->x963) {
        r = exch_x963(ctx, z, z_len, secret, want);
        *secretlen = want;
    } else if (outlen < z_len) {
        /* OpenSSL's ECDH hands out a truncated shared secret when asked for less. */
        memcpy(secret, z, outlen);
        *secretlen = outlen;
    } else {
        memcpy(secret, z, z_len);
        *secretlen = z_len;
    }
    OPENSSL_cleanse(z, sizeof(z));
    return r;
}

static int exch_derive(void *vctx, unsigned char *secret, size_t *secretlen, size_t outlen)
{
    struct kf_exch_ctx *ctx = vctx;
    if (ctx == NULL || ctx->key == NULL || !kf_prov_is_usable(ctx->prov)) {
        return 0;
    }
    if (ctx->sw != NULL) {
        *secretlen = outlen;
        return EVP_PKEY_derive(ctx->sw, secret, secretlen);
    }
    KF_PROV_RETURN(ctx->prov, exch_token_derive(ctx, secret, secretlen, outlen));
}

static KF_RESULT exch_params(struct kf_exch_ctx *ctx, const OSSL_PARAM params[])
{
    const OSSL_PARAM *p = OSSL_PARAM_locate_const(params, OSSL_EXCHANGE_PARAM_KDF_TYPE);
    if (p != NULL) {
        const char *name = NULL;
        KF_ENSURE(OSSL_PARAM_get_utf8_string_ptr(p, &name), KF_ERR_INVALID_ARG);
        if (name[0] == '\0') {
            ctx->x963 = false;
        } else if (strcmp(name, OSSL_KDF_NAME_X963KDF) == 0) {
            ctx->x963 = true;
        } else {
            kf_err_note_context("ECDH kdf-type '%.32s' (X963KDF only)", name);
            KF_BAIL(KF_ERR_UNSUPPORTED);
        }
    }
    p = OSSL_PARAM_locate_const(params, OSSL_EXCHANGE_PARAM_KDF_DIGEST);
    if (p != NULL) {
        const char *name = NULL;
        KF_ENSURE(OSSL_PARAM_get_utf8_string_ptr(p, &name) && strlen(name) < sizeof(ctx->kdf_md),
                  KF_ERR_INVALID_ARG);
        strcpy(ctx->kdf_md, name);
    }
    p = OSSL_PARAM_locate_const(params, OSSL_EXCHANGE_PARAM_KDF_OUTLEN);
    if (p != NULL) {
        KF_ENSURE(OSSL_PARAM_get_size_t(p, &ctx->kdf_outlen), KF_ERR_INVALID_ARG);
    }
    p = OSSL_PARAM_locate_const(params, OSSL_EXCHANGE_PARAM_KDF_UKM);
    if (p != NULL) {
        void *ukm = NULL;
        size_t len = 0;
        KF_ENSURE(OSSL_PARAM_get_octet_string(p, &ukm, 0, &len), KF_ERR_INVALID_ARG);
        OPENSSL_free(ctx->ukm);
        ctx->ukm = ukm;
        ctx->ukm_len = len;
    }
    p = OSSL_PARAM_locate_const(params, OSSL_EXCHANGE_PARAM_EC_ECDH_COFACTOR_MODE);
    if (p != NULL) {
        int mode = 0;
        /* P-256 and P-384 have cofactor 1: both modes are the same computation. */
        KF_ENSURE(OSSL_PARAM_get_int(p, &mode) && mode >= -1 && mode <= 1, KF_ERR_INVALID_ARG);
    }
    return KF_OK;
}

static int exch_set_ctx_params(void *vctx, const OSSL_PARAM params[])
{
    struct kf_exch_ctx *ctx = vctx;
    if (params == NULL) {
        return 1;
    }
    if (ctx->sw != NULL) {
        return EVP_PKEY_CTX_set_params(ctx->sw, params);
    }
    KF_PROV_RETURN(ctx->prov, exch_params(ctx, params));
}

static const OSSL_PARAM exch_settable[] = {
    OSSL_PARAM_int(OSSL_EXCHANGE_PARAM_EC_ECDH_COFACTOR_MODE, NULL),
    OSSL_PARAM_utf8_string(OSSL_EXCHANGE_PARAM_KDF_TYPE, NULL, 0),
    OSSL_PARAM_utf8_string(OSSL_EXCHANGE_PARAM_KDF_DIGEST, NULL, 0),
    OSSL_PARAM_size_t(OSSL_EXCHANGE_PARAM_KDF_OUTLEN, NULL),
    OSSL_PARAM_octet_string(OSSL_EXCHANGE_PARAM_KDF_UKM, NULL, 0),
    OSSL_PARAM_END,
};

static const OSSL_PARAM *exch_settable_ctx_params(void *vctx, void *provctx)
{
    return exch_settable;
}

static int exch_get_ctx_params(void *vctx, OSSL_PARAM params[])
{
    struct kf_exch_ctx *ctx = vctx;
    if (ctx->sw != NULL) {
        return EVP_PKEY_CTX_get_params(ctx->sw, params);
    }
    OSSL_PARAM *p = OSSL_PARAM_locate(params, OSSL_EXCHANGE_PARAM_KDF_TYPE);
    if (p != NULL && !OSSL_PARAM_set_utf8_string(p, ctx->x963 ? OSSL_KDF_NAME_X963KDF : "")) {
        return 0;
    }
    p = OSSL_PARAM_locate(params, OSSL_EXCHANGE_PARAM_KDF_DIGEST);
    if (p != NULL && !OSSL_PARAM_set_utf8_string(p, ctx->kdf_md)) {
        return 0;
    }
    p = OSSL_PARAM_locate(params, OSSL_EXCHANGE_PARAM_KDF_OUTLEN);
    if (p != NULL && !OSSL_PARAM_set_size_t(p, ctx->kdf_outlen)) {
        return 0;
    }
    p = OSSL_PARAM_locate(params, OSSL_EXCHANGE_PARAM_EC_ECDH_COFACTOR_MODE);
    if (p != NULL && !OSSL_PARAM_set_int(p, 0)) {
        return 0;
    }
    return 1;
}

static const OSSL_PARAM exch_gettable[] = {
    OSSL_PARAM_int(OSSL_EXCHANGE_PARAM_EC_ECDH_COFACTOR_MODE, NULL),
    OSSL_PARAM_utf8_string(OSSL_EXCHANGE_PARAM_KDF_TYPE, NULL, 0),
    OSSL_PARAM_utf8_string(OSSL_EXCHANGE_PARAM_KDF_DIGEST, NULL, 0),
    OSSL_PARAM_size_t(OSSL_EXCHANGE_PARAM_KDF_OUTLEN, NULL),
    OSSL_PARAM_END,
};

static const OSSL_PARAM *exch_gettable_ctx_params(void *vctx, void *provctx)
{
    return exch_gettable;
}

const OSSL_DISPATCH kf_exch_ecdh_functions[] = {
    { OSSL_FUNC_KEYEXCH_NEWCTX, (void (*)(void))exch_newctx },
    { OSSL_FUNC_KEYEXCH_INIT, (void (*)(void))exch_init },
    { OSSL_FUNC_KEYEXCH_SET_PEER, (void (*)(void))exch_set_peer },
    { OSSL_FUNC_KEYEXCH_DERIVE, (void (*)(void))exch_derive },
    { OSSL_FUNC_KEYEXCH_FREECTX, (void (*)(void))exch_freectx },
    { OSSL_FUNC_KEYEXCH_DUPCTX, (void (*)(void))exch_dupctx },
    { OSSL_FUNC_KEYEXCH_SET_CTX_PARAMS, (void (*)(void))exch_set_ctx_params },
    { OSSL_FUNC_KEYEXCH_SETTABLE_CTX_PARAMS, (void (*)(void))exch_settable_ctx_params },
    { OSSL_FUNC_KEYEXCH_GET_CTX_PARAMS, (void (*)(void))exch_get_ctx_params },
    { OSSL_FUNC_KEYEXCH_GETTABLE_CTX_PARAMS, (void (*)(void))exch_gettable_ctx_params },
    OSSL_DISPATCH_END,
};
