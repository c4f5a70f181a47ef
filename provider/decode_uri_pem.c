/* provider/decode_uri_pem.c - decoder for "-----BEGIN KEYFORT PKCS11 URI-----" key files.
 *
 * Registered once per key type (RSA, EC, ED25519, ED448) with input=pem, so that OpenSSL
 * includes it whichever key type it is looking for. A PEM block that is not ours is left to
 * the other decoders (decode returns 1 with no object). */
#include "provider/prov.h"

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/core_object.h>
#include <openssl/pem.h>
#include <stdlib.h>
#include <string.h>

static OSSL_FUNC_decoder_freectx_fn kf_dec_freectx;
static OSSL_FUNC_decoder_does_selection_fn kf_dec_does_selection;

struct kf_dec_ctx {
    struct kf_prov *prov; /* borrowed */
    int evp_type;         /* the key type of this decoder entry */
};

static void *dec_newctx(void *provctx, int evp_type)
{
    struct kf_prov *prov = provctx;
    if (!kf_prov_is_usable(prov)) {
        return NULL;
    }
    struct kf_dec_ctx *ctx = calloc(1, sizeof(*ctx));
    if (ctx != NULL) {
        ctx->prov = prov;
        ctx->evp_type = evp_type;
    }
    return ctx;
}

static void kf_dec_freectx(void *vctx)
{
    free(vctx);
}

static int kf_dec_does_selection(void *provctx, int selection)
{
    /* A token key is a key pair as far as OpenSSL is concerned. */
    return selection == 0 || (selection & OSSL_KEYMGMT_SELECT_KEYPAIR) != 0;
}

/* Read one PEM block; *out_uri is NULL when it is not ours. */
static KF_RESULT dec_read_uri(struct kf_dec_ctx *ctx, OSSL_CORE_BIO *cin, char **out_uri)
{
    *out_uri = NULL;
    BIO *in = BIO_new_from_core_bio(ctx->prov->libctx, cin);
    KF_ENSURE(in != NULL, KF_ERR_OPENSSL);
    char *name = NULL;
    char *header = NULL;
    unsigned char *der = NULL;
    long len = 0;
    int ok = PEM_read_bio(in, &name, &header, &der, &len);
    BIO_free(in);
    kf_result r = KF_OK;
    if (ok == 1 && strcmp(name, KF_HSM_URI_PEM_NAME) == 0) {
        r = kf_hsm_uri_pem_parse_der(der, (size_t)len, out_uri);
        if (!kf_ok(r)) {
            kf_err_add_context("%s PEM block", KF_HSM_URI_PEM_NAME);
        }
    }
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_free(der);
    return r;
}

static KF_RESULT dec_load(struct kf_dec_ctx *ctx, const char *text, OSSL_PASSPHRASE_CALLBACK *pw_cb,
                          void *pw_cbarg, struct kf_prov_key **out)
{
    struct kf_hsm_uri *uri = NULL;
    KF_GUARD(kf_hsm_uri_parse(text, &uri));
    struct kf_hsm_token *token = NULL;
    kf_result r = kf_prov_open_token(ctx->prov, uri, pw_cb, pw_cbarg, &token);
    struct kf_hsm_key *hk = NULL;
    if (kf_ok(r)) {
        r = kf_hsm_key_find(token, uri, &hk);
    }
    kf_hsm_token_unref(token);
    if (kf_ok(r)) {
        r = kf_prov_key_new(ctx->prov, hk, kf_hsm_uri_pin_source(uri), out);
    }
    kf_hsm_uri_free(uri);
    return r;
}

static int dec_decode(void *vctx, OSSL_CORE_BIO *cin, int selection, OSSL_CALLBACK *data_cb,
                      void *data_cbarg, OSSL_PASSPHRASE_CALLBACK *pw_cb, void *pw_cbarg)
{
    struct kf_dec_ctx *ctx = vctx;
    if (!kf_prov_is_usable(ctx->prov)) {
        return 0;
    }
    char *text = NULL;
    kf_result r = dec_read_uri(ctx, cin, &text);
    if (!kf_ok(r)) {
        KF_PROV_RETURN(ctx->prov, r);
    }
    if (text == NULL) {
        return 1; /* not a keyfort URI file: empty-handed, so the next decoder tries */
    }
    struct kf_prov_key *k = NULL;
    r = dec_load(ctx, text, pw_cb, pw_cbarg, &k);
    free(text);
    if (!kf_ok(r)) {
        KF_PROV_RETURN(ctx->prov, r);
    }
    /* Whichever entry OpenSSL asks first hands over the key, of whatever type: the input is
     * read once (the core does not rewind it between decoders of one level), and the data
     * type tells OpenSSL which keymgmt takes it. */
    int ret = 1;
    {
        int object_type = OSSL_OBJECT_PKEY;
        const char *type = k->evp_type == EVP_PKEY_RSA       ? "RSA"
                           : k->evp_type == EVP_PKEY_EC      ? "EC"
                           : k->evp_type == EVP_PKEY_ED25519 ? "ED25519"
                                                             : "ED448";
        OSSL_PARAM params[] = {
            OSSL_PARAM_int(OSSL_OBJECT_PARAM_TYPE, &object_type),
            OSSL_PARAM_utf8_string(OSSL_OBJECT_PARAM_DATA_TYPE, (char *)type, strlen(type)),
            OSSL_PARAM_octet_string(OSSL_OBJECT_PARAM_REFERENCE, &k, sizeof(k)),
            OSSL_PARAM_END,
        };
        ret = data_cb(params, data_cbarg);
    }
    kf_prov_key_unref(k);
    return ret;
}

#define DEC_ENTRY(alg, evp_type)                                                                   \
    static void *kf_dec_##alg##_newctx(void *provctx)                                              \
    {                                                                                              \
        return dec_newctx(provctx, (evp_type));                                                    \
    }                                                                                              \
    const OSSL_DISPATCH kf_dec_uri_pem_##alg##_functions[] = {                                     \
        { OSSL_FUNC_DECODER_NEWCTX, (void (*)(void))kf_dec_##alg##_newctx },                       \
        { OSSL_FUNC_DECODER_FREECTX, (void (*)(void))kf_dec_freectx },                             \
        { OSSL_FUNC_DECODER_DOES_SELECTION, (void (*)(void))kf_dec_does_selection },               \
        { OSSL_FUNC_DECODER_DECODE, (void (*)(void))dec_decode },                                  \
        OSSL_DISPATCH_END,                                                                         \
    }

DEC_ENTRY(rsa, EVP_PKEY_RSA);
DEC_ENTRY(ec, EVP_PKEY_EC);
DEC_ENTRY(ed25519, EVP_PKEY_ED25519);
DEC_ENTRY(ed448, EVP_PKEY_ED448);
