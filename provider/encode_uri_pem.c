/* provider/encode_uri_pem.c - the "private key" encoder for token keys: it writes the key's
 * URI-PEM file (hsm/uri_pem.c), never key material.
 *
 * OpenSSL writes a key with PEM_write_bio_PrivateKey (`openssl genpkey -out`, `openssl pkey
 * -out`); for a token key the only faithful answer is a reference to it, in the same
 * "KEYFORT PKCS11 URI" form that `keyfort key pem` writes and the decoder reads, so that
 * `openssl genpkey -provider keyfort ... -pkeyopt pkcs11-uri:... -out zsk.pem` leaves a file
 * that programs then load as their key. A software key that lives in keyfort's keymgmt
 * (prov.h) is encoded by the default provider's encoders, as it would be without keyfort:
 * OpenSSL asks the keymgmt's own provider first and does not try another when it fails. */
#include "provider/prov.h"

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/encoder.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static OSSL_FUNC_encoder_newctx_fn enc_newctx;
static OSSL_FUNC_encoder_freectx_fn enc_freectx;
static OSSL_FUNC_encoder_does_selection_fn enc_does_selection;
static OSSL_FUNC_encoder_encode_fn enc_encode;
static OSSL_FUNC_encoder_set_ctx_params_fn enc_set_ctx_params;
static OSSL_FUNC_encoder_settable_ctx_params_fn enc_settable_ctx_params;

struct kf_enc_ctx {
    struct kf_prov *prov; /* borrowed */
    char *cipher;         /* owned: PEM encryption of a software key (genpkey -aes256) */
};

static void *enc_newctx(void *provctx)
{
    struct kf_enc_ctx *ctx = kf_prov_is_usable(provctx) ? calloc(1, sizeof(*ctx)) : NULL;
    if (ctx != NULL) {
        ctx->prov = provctx;
    }
    return ctx;
}

static void enc_freectx(void *vctx)
{
    struct kf_enc_ctx *ctx = vctx;
    if (ctx != NULL) {
        free(ctx->cipher);
        free(ctx);
    }
}

static int enc_set_ctx_params(void *vctx, const OSSL_PARAM params[])
{
    struct kf_enc_ctx *ctx = vctx;
    const OSSL_PARAM *p = OSSL_PARAM_locate_const(params, OSSL_ENCODER_PARAM_CIPHER);
    if (p == NULL) {
        return 1;
    }
    const char *name = NULL;
    if (!OSSL_PARAM_get_utf8_string_ptr(p, &name)) {
        return 0;
    }
    free(ctx->cipher);
    ctx->cipher = name != NULL ? strdup(name) : NULL;
    return name == NULL || ctx->cipher != NULL;
}

static const OSSL_PARAM enc_settable[] = {
    OSSL_PARAM_utf8_string(OSSL_ENCODER_PARAM_CIPHER, NULL, 0),
    OSSL_PARAM_utf8_string(OSSL_ENCODER_PARAM_PROPERTIES, NULL, 0),
    OSSL_PARAM_END,
};

static const OSSL_PARAM *enc_settable_ctx_params(void *provctx)
{
    return enc_settable;
}

/* A software key, PEM PrivateKeyInfo by the default provider (encrypted when asked). */
static int enc_soft(struct kf_enc_ctx *ctx, BIO *out, const struct kf_prov_key *k, int selection,
                    OSSL_PASSPHRASE_CALLBACK *cb, void *cbarg)
{
    if (k->pub == NULL) {
        return 0;
    }
    OSSL_ENCODER_CTX *e =
        OSSL_ENCODER_CTX_new_for_pkey(k->pub, selection, "PEM", "PrivateKeyInfo", KF_PROV_SW_PROPQ);
    int ok = e != NULL && OSSL_ENCODER_CTX_get_num_encoders(e) > 0 &&
             (ctx->cipher == NULL || (OSSL_ENCODER_CTX_set_cipher(e, ctx->cipher, NULL) == 1 &&
                                      OSSL_ENCODER_CTX_set_passphrase_cb(e, cb, cbarg) == 1)) &&
             OSSL_ENCODER_to_bio(e, out) == 1;
    OSSL_ENCODER_CTX_free(e);
    return ok;
}

static int enc_does_selection(void *provctx, int selection)
{
    return (selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) != 0;
}

/* RFC 3986 percent-encoding of a query value (pin-source is a path). */
static KF_RESULT enc_escape(const char *in, char *out, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)in; *p != '\0'; p++) {
        bool plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                     (*p >= '0' && *p <= '9') || strchr("-._~/", *p) != NULL;
        KF_ENSURE(o + 4 < cap, KF_ERR_TOO_LARGE);
        if (plain) {
            out[o++] = (char)*p;
        } else {
            out[o++] = '%';
            out[o++] = hex[*p >> 4];
            out[o++] = hex[*p & 15];
        }
    }
    out[o] = '\0';
    return KF_OK;
}

/* The URI-PEM text for a token key: its URI, plus the pin-source it was named with. */
static KF_RESULT enc_text(const struct kf_prov_key *k, char **out)
{
    char *base = NULL;
    KF_GUARD(kf_hsm_key_uri(k->hk, &base));
    char full[4096];
    char esc[1024] = "";
    kf_result r = k->pin_source != NULL ? enc_escape(k->pin_source, esc, sizeof(esc)) : KF_OK;
    if (kf_ok(r)) {
        int n =
            snprintf(full, sizeof(full), "%s%s%s", base, esc[0] != '\0' ? "?pin-source=" : "", esc);
        r = n > 0 && (size_t)n < sizeof(full) ? KF_OK : (kf_result){ KF_ERR_TOO_LARGE };
    }
    free(base);
    KF_GUARD(r);
    struct kf_hsm_uri *uri = NULL;
    KF_GUARD(kf_hsm_uri_parse(full, &uri));
    r = kf_hsm_uri_pem_write(uri, out);
    kf_hsm_uri_free(uri);
    return r;
}

static int enc_encode(void *vctx, OSSL_CORE_BIO *cout, const void *obj_raw,
                      const OSSL_PARAM obj_abstract[], int selection, OSSL_PASSPHRASE_CALLBACK *cb,
                      void *cbarg)
{
    struct kf_enc_ctx *ctx = vctx;
    struct kf_prov *prov = ctx->prov;
    const struct kf_prov_key *k = obj_raw;
    if (k == NULL || obj_abstract != NULL || !kf_prov_is_usable(prov)) {
        return 0;
    }
    if (kf_prov_key_is_soft(k)) {
        BIO *out = BIO_new_from_core_bio(prov->libctx, cout);
        int ok = out != NULL && enc_soft(ctx, out, k, selection, cb, cbarg);
        BIO_free(out);
        return ok;
    }
    char *text = NULL;
    kf_result r = enc_text(k, &text);
    if (!kf_ok(r)) {
        kf_prov_raise(prov, r);
        return 0;
    }
    BIO *out = BIO_new_from_core_bio(prov->libctx, cout);
    size_t len = strlen(text);
    int ok = out != NULL && BIO_write(out, text, (int)len) == (int)len;
    BIO_free(out);
    free(text);
    return ok;
}

const OSSL_DISPATCH kf_enc_uri_pem_functions[] = {
    { OSSL_FUNC_ENCODER_NEWCTX, (void (*)(void))enc_newctx },
    { OSSL_FUNC_ENCODER_FREECTX, (void (*)(void))enc_freectx },
    { OSSL_FUNC_ENCODER_DOES_SELECTION, (void (*)(void))enc_does_selection },
    { OSSL_FUNC_ENCODER_ENCODE, (void (*)(void))enc_encode },
    { OSSL_FUNC_ENCODER_SET_CTX_PARAMS, (void (*)(void))enc_set_ctx_params },
    { OSSL_FUNC_ENCODER_SETTABLE_CTX_PARAMS, (void (*)(void))enc_settable_ctx_params },
    OSSL_DISPATCH_END,
};
