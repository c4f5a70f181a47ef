/* provider/store_pkcs11.c - OSSL_STORE loader for pkcs11: URIs (RFC 7512).
 *
 * open() parses the URI and finds the token; the first load() lists the objects the URI names
 * (private keys, public keys whose private key is not listed, certificates; narrowed by
 * type= or by what the caller expects) and each load() hands one to OpenSSL: keys by
 * reference, certificates as DER. When the token needs a PIN and neither
 * the URI nor the configuration gives one, OpenSSL's password callback is asked once. */
#include "provider/prov.h"

#include <openssl/core_names.h>
#include <openssl/core_object.h>
#include <openssl/store.h>
#include <stdlib.h>
#include <string.h>

static OSSL_FUNC_store_open_fn kf_store_open;
static OSSL_FUNC_store_settable_ctx_params_fn kf_store_settable_ctx_params;
static OSSL_FUNC_store_set_ctx_params_fn kf_store_set_ctx_params;
static OSSL_FUNC_store_load_fn kf_store_load;
static OSSL_FUNC_store_eof_fn kf_store_eof;
static OSSL_FUNC_store_close_fn kf_store_close;

struct kf_store_ctx {
    struct kf_prov *prov;            /* borrowed */
    struct kf_hsm_uri *uri;          /* owned */
    struct kf_hsm_token *token;      /* counted ref; NULL until the first load */
    int expect;                      /* OSSL_STORE_INFO_* or 0 */
    struct kf_hsm_object_info *objs; /* owned: the listing, made at the first load */
    size_t n_objs;
    size_t next;
    bool listed;
};

static void *kf_store_open(void *provctx, const char *uri_text)
{
    struct kf_prov *prov = provctx;
    if (!kf_prov_is_usable(prov) || uri_text == NULL || strncmp(uri_text, "pkcs11:", 7) != 0) {
        return NULL;
    }
    struct kf_store_ctx *ctx = calloc(1, sizeof(*ctx));
    if (ctx == NULL) {
        return NULL;
    }
    ctx->prov = prov;
    kf_result r = kf_hsm_uri_parse(uri_text, &ctx->uri);
    if (!kf_ok(r)) {
        kf_prov_raise(prov, r);
        free(ctx);
        return NULL;
    }
    return ctx;
}

static const OSSL_PARAM kf_store_settable[] = {
    OSSL_PARAM_int(OSSL_STORE_PARAM_EXPECT, NULL),
    OSSL_PARAM_END,
};

static const OSSL_PARAM *kf_store_settable_ctx_params(void *provctx)
{
    return kf_store_settable;
}

static int kf_store_set_ctx_params(void *loaderctx, const OSSL_PARAM params[])
{
    struct kf_store_ctx *ctx = loaderctx;
    const OSSL_PARAM *p = OSSL_PARAM_locate_const(params, OSSL_STORE_PARAM_EXPECT);
    if (p != NULL && !OSSL_PARAM_get_int(p, &ctx->expect)) {
        return 0;
    }
    return 1;
}

static KF_RESULT store_open_token(struct kf_store_ctx *ctx, OSSL_PASSPHRASE_CALLBACK *pw_cb,
                                  void *pw_cbarg)
{
    /* Certificates and public keys are public objects: no PIN prompt for them. (A PIN from
     * the URI or the configuration is still used, so private keys stay listable.) */
    enum kf_hsm_obj_type t = kf_hsm_uri_type(ctx->uri);
    bool public_only = ctx->expect == OSSL_STORE_INFO_CERT ||
                       ctx->expect == OSSL_STORE_INFO_PUBKEY || t == KF_OBJ_CERT ||
                       t == KF_OBJ_PUBLIC;
    return kf_prov_open_token(ctx->prov, ctx->uri, public_only ? NULL : pw_cb,
                              public_only ? NULL : pw_cbarg, &ctx->token);
}

static bool store_wanted(const struct kf_store_ctx *ctx, CK_OBJECT_CLASS cls)
{
    switch (ctx->expect) {
    case 0:
        return cls == CKO_PRIVATE_KEY || cls == CKO_PUBLIC_KEY || cls == CKO_CERTIFICATE;
    case OSSL_STORE_INFO_PKEY:
        return cls == CKO_PRIVATE_KEY;
    case OSSL_STORE_INFO_PUBKEY:
        return cls == CKO_PUBLIC_KEY || cls == CKO_PRIVATE_KEY;
    case OSSL_STORE_INFO_CERT:
        return cls == CKO_CERTIFICATE;
    default:
        return false; /* parameters and CRLs: a token holds none */
    }
}

/* Keep private keys, and public keys whose private half is not in the listing. */
static KF_RESULT store_list(struct kf_store_ctx *ctx)
{
    KF_GUARD(kf_hsm_object_list(ctx->token, ctx->uri, &ctx->objs, &ctx->n_objs));
    size_t kept = 0;
    for (size_t i = 0; i < ctx->n_objs; i++) {
        const struct kf_hsm_object_info *o = &ctx->objs[i];
        if (!store_wanted(ctx, o->cls)) {
            continue;
        }
        bool shadowed = false;
        for (size_t j = 0; o->cls == CKO_PUBLIC_KEY && j < ctx->n_objs; j++) {
            const struct kf_hsm_object_info *p = &ctx->objs[j];
            if (p->cls == CKO_PRIVATE_KEY && p->id_len == o->id_len &&
                memcmp(p->id, o->id, o->id_len) == 0 && strcmp(p->label, o->label) == 0) {
                shadowed = true;
            }
        }
        if (!shadowed) {
            ctx->objs[kept++] = *o;
        }
    }
    ctx->n_objs = kept;
    ctx->listed = true;
    return KF_OK;
}

/* A certificate goes to OpenSSL as DER, which it decodes itself. */
static KF_RESULT store_load_cert(struct kf_store_ctx *ctx, const struct kf_hsm_object_info *o,
                                 OSSL_CALLBACK *object_cb, void *object_cbarg, int *out_cb_result)
{
    uint8_t *der = NULL;
    size_t len = 0;
    KF_GUARD(kf_hsm_cert_value(ctx->token, o, &der, &len));
    int object_type = OSSL_OBJECT_CERT;
    OSSL_PARAM params[] = {
        OSSL_PARAM_int(OSSL_OBJECT_PARAM_TYPE, &object_type),
        OSSL_PARAM_utf8_string(OSSL_OBJECT_PARAM_DATA_TYPE, (char *)"CERTIFICATE", 0),
        OSSL_PARAM_octet_string(OSSL_OBJECT_PARAM_DATA, der, len),
        OSSL_PARAM_END,
    };
    *out_cb_result = object_cb(params, object_cbarg);
    OPENSSL_free(der);
    return KF_OK;
}

/* Hand the next object to OpenSSL; *out_done when the callback has seen it. */
static KF_RESULT store_load_next(struct kf_store_ctx *ctx, OSSL_CALLBACK *object_cb,
                                 void *object_cbarg, int *out_cb_result)
{
    const struct kf_hsm_object_info *o = &ctx->objs[ctx->next++];
    if (o->cls == CKO_CERTIFICATE) {
        return store_load_cert(ctx, o, object_cb, object_cbarg, out_cb_result);
    }
    struct kf_hsm_token_info ti;
    KF_GUARD(kf_hsm_token_get_info(ctx->token, &ti));
    char *text = NULL;
    KF_GUARD(kf_hsm_object_uri(&ti, o, &text));
    struct kf_hsm_uri *one = NULL;
    kf_result r = kf_hsm_uri_parse(text, &one);
    free(text);
    KF_GUARD(r);
    struct kf_hsm_key *hk = NULL;
    r = kf_hsm_key_find(ctx->token, one, &hk);
    kf_hsm_uri_free(one);
    KF_GUARD(r);
    struct kf_prov_key *k = NULL;
    KF_GUARD(kf_prov_key_new(ctx->prov, hk, kf_hsm_uri_pin_source(ctx->uri), &k));
    const char *type = kf_prov_alg_name(k->evp_type);
    int object_type = OSSL_OBJECT_PKEY;
    OSSL_PARAM params[] = {
        OSSL_PARAM_int(OSSL_OBJECT_PARAM_TYPE, &object_type),
        OSSL_PARAM_utf8_string(OSSL_OBJECT_PARAM_DATA_TYPE, (char *)type, strlen(type)),
        OSSL_PARAM_octet_string(OSSL_OBJECT_PARAM_REFERENCE, &k, sizeof(k)),
        OSSL_PARAM_END,
    };
    *out_cb_result = type != NULL ? object_cb(params, object_cbarg) : 1;
    kf_prov_key_unref(k); /* the keymgmt took its own reference if it wanted one */
    return KF_OK;
}

static int kf_store_load(void *loaderctx, OSSL_CALLBACK *object_cb, void *object_cbarg,
                         OSSL_PASSPHRASE_CALLBACK *pw_cb, void *pw_cbarg)
{
    struct kf_store_ctx *ctx = loaderctx;
    if (!kf_prov_is_usable(ctx->prov)) {
        return 0;
    }
    if (ctx->token == NULL) {
        kf_result r = store_open_token(ctx, pw_cb, pw_cbarg);
        if (!kf_ok(r)) {
            ctx->listed = true; /* nothing more to come from this URI */
            KF_PROV_RETURN(ctx->prov, r);
        }
    }
    if (!ctx->listed) {
        kf_result r = store_list(ctx);
        if (!kf_ok(r)) {
            ctx->listed = true;
            KF_PROV_RETURN(ctx->prov, r);
        }
        if (ctx->n_objs == 0) {
            kf_err_note_context("'%s'", kf_hsm_uri_display(ctx->uri));
            kf_err_record(KF_ERR_OBJECT_NOT_FOUND, __FILE__, __LINE__, __func__);
            KF_PROV_RETURN(ctx->prov, ((kf_result){ KF_ERR_OBJECT_NOT_FOUND }));
        }
    }
    if (ctx->next >= ctx->n_objs) {
        return 0;
    }
    int cb_result = 0;
    kf_result r = store_load_next(ctx, object_cb, object_cbarg, &cb_result);
    if (!kf_ok(r)) {
        KF_PROV_RETURN(ctx->prov, r);
    }
    return cb_result;
}

static int kf_store_eof(void *loaderctx)
{
    struct kf_store_ctx *ctx = loaderctx;
    return ctx->listed && ctx->next >= ctx->n_objs;
}

static int kf_store_close(void *loaderctx)
{
    struct kf_store_ctx *ctx = loaderctx;
    if (ctx == NULL) {
        return 1;
    }
    free(ctx->objs);
    kf_hsm_token_unref(ctx->token);
    kf_hsm_uri_free(ctx->uri);
    free(ctx);
    return 1;
}

const OSSL_DISPATCH kf_store_pkcs11_functions[] = {
    { OSSL_FUNC_STORE_OPEN, (void (*)(void))kf_store_open },
    { OSSL_FUNC_STORE_SETTABLE_CTX_PARAMS, (void (*)(void))kf_store_settable_ctx_params },
    { OSSL_FUNC_STORE_SET_CTX_PARAMS, (void (*)(void))kf_store_set_ctx_params },
    { OSSL_FUNC_STORE_LOAD, (void (*)(void))kf_store_load },
    { OSSL_FUNC_STORE_EOF, (void (*)(void))kf_store_eof },
    { OSSL_FUNC_STORE_CLOSE, (void (*)(void))kf_store_close },
    OSSL_DISPATCH_END,
};
