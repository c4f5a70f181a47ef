/* provider/asym_rsa.c - RSA decryption with token keys (encryption goes to the default
 * provider with the public half, as does everything on a software key).
 *
 * When the token offers CKM_RSA_X_509, keyfort asks it for the raw c^d mod n and removes the
 * padding itself in constant time (rsa_unpad.c): OAEP with any SHA-1/SHA-2 digest pair (SoftHSM
 * 2.6 offers only SHA-1), and PKCS#1 v1.5 with implicit rejection, so that a bad padding gets
 * an answer indistinguishable from a good one instead of an error (the Bleichenbacher/Marvin
 * oracle). The implicit-rejection secret is bound to the token key: SHA-256 over the raw
 * decryption of a fixed value, which only the holder of the private key can compute. Without
 * CKM_RSA_X_509 the token's own PKCS#1 and OAEP mechanisms are used (and a bad PKCS#1 padding
 * is then an error, as the token reports it). */
#include "provider/prov.h"
#include "provider/rsa_unpad.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <stdlib.h>
#include <string.h>

/* OpenSSL 3.2's name; 3.0 headers do not have it, 3.0 callers simply never set it. */
#ifndef OSSL_ASYM_CIPHER_PARAM_IMPLICIT_REJECTION
#define OSSL_ASYM_CIPHER_PARAM_IMPLICIT_REJECTION "implicit-rejection"
#endif

static OSSL_FUNC_asym_cipher_newctx_fn asym_newctx;
static OSSL_FUNC_asym_cipher_freectx_fn asym_freectx;
static OSSL_FUNC_asym_cipher_dupctx_fn asym_dupctx;
static OSSL_FUNC_asym_cipher_encrypt_init_fn asym_encrypt_init;
static OSSL_FUNC_asym_cipher_encrypt_fn asym_encrypt;
static OSSL_FUNC_asym_cipher_decrypt_init_fn asym_decrypt_init;
static OSSL_FUNC_asym_cipher_decrypt_fn asym_decrypt;
static OSSL_FUNC_asym_cipher_get_ctx_params_fn asym_get_ctx_params;
static OSSL_FUNC_asym_cipher_gettable_ctx_params_fn asym_gettable_ctx_params;
static OSSL_FUNC_asym_cipher_set_ctx_params_fn asym_set_ctx_params;
static OSSL_FUNC_asym_cipher_settable_ctx_params_fn asym_settable_ctx_params;

struct kf_asym_ctx {
    struct kf_prov *prov;       /* borrowed */
    struct kf_prov_key *key;    /* counted ref */
    EVP_PKEY_CTX *sw;           /* owned: encryption, or any operation on a software key */
    int pad;                    /* RSA_PKCS1_PADDING, RSA_PKCS1_OAEP_PADDING, RSA_NO_PADDING,
                                   RSA_PKCS1_WITH_TLS_PADDING */
    enum kf_hsm_digest oaep_md; /* NONE = SHA-1 (RFC 8017 default) */
    enum kf_hsm_digest mgf1_md; /* NONE = oaep_md */
    uint8_t *label;             /* owned: OAEP label */
    size_t label_len;
    unsigned client_version; /* TLS padding */
    unsigned alt_version;
    unsigned implicit_rejection; /* PKCS#1 v1.5: 1 unless the caller turns it off */
};

static void *asym_newctx(void *provctx)
{
    struct kf_prov *prov = provctx;
    if (!kf_prov_is_usable(prov)) {
        return NULL;
    }
    struct kf_asym_ctx *ctx = calloc(1, sizeof(*ctx));
    if (ctx != NULL) {
        ctx->prov = prov;
        ctx->pad = RSA_PKCS1_PADDING;
        ctx->implicit_rejection = 1;
    }
    return ctx;
}

static void asym_freectx(void *vctx)
{
    struct kf_asym_ctx *ctx = vctx;
    if (ctx == NULL) {
        return;
    }
    kf_prov_key_unref(ctx->key);
    EVP_PKEY_CTX_free(ctx->sw);
    OPENSSL_free(ctx->label);
    free(ctx);
}

static void *asym_dupctx(void *vctx)
{
    const struct kf_asym_ctx *src = vctx;
    struct kf_asym_ctx *dst = malloc(sizeof(*dst));
    if (dst == NULL) {
        return NULL;
    }
    *dst = *src;
    dst->sw = NULL;
    dst->label = NULL;
    dst->key = kf_prov_key_ref(src->key);
    if ((src->sw != NULL && (dst->sw = EVP_PKEY_CTX_dup(src->sw)) == NULL) ||
        (src->label != NULL && (dst->label = OPENSSL_memdup(src->label, src->label_len)) == NULL)) {
        asym_freectx(dst);
        return NULL;
    }
    return dst;
}

static int asym_init(struct kf_asym_ctx *ctx, struct kf_prov_key *key, const OSSL_PARAM params[],
                     bool encrypt)
{
    if (ctx == NULL || key == NULL || key->evp_type != EVP_PKEY_RSA ||
        !kf_prov_is_usable(ctx->prov)) {
        return 0;
    }
    kf_prov_key_unref(ctx->key);
    ctx->key = kf_prov_key_ref(key);
    EVP_PKEY_CTX_free(ctx->sw);
    ctx->sw = NULL;
    if (encrypt || kf_prov_key_is_soft(key)) {
        /* Public-key work, or a software key: the default provider does it. */
        if (key->pub == NULL) {
            return 0;
        }
        ctx->sw = EVP_PKEY_CTX_new_from_pkey(ctx->prov->libctx, key->pub, KF_PROV_SW_PROPQ);
        return ctx->sw != NULL && (encrypt ? EVP_PKEY_encrypt_init_ex(ctx->sw, params)
                                           : EVP_PKEY_decrypt_init_ex(ctx->sw, params)) == 1;
    }
    return asym_set_ctx_params(ctx, params);
}

static int asym_encrypt_init(void *vctx, void *key, const OSSL_PARAM params[])
{
    return asym_init(vctx, key, params, true);
}

static int asym_decrypt_init(void *vctx, void *key, const OSSL_PARAM params[])
{
    return asym_init(vctx, key, params, false);
}

static int asym_encrypt(void *vctx, unsigned char *out, size_t *outlen, size_t outsize,
                        const unsigned char *in, size_t inlen)
{
    struct kf_asym_ctx *ctx = vctx;
    if (ctx->sw == NULL) {
        return 0;
    }
    *outlen = outsize;
    return EVP_PKEY_encrypt(ctx->sw, out, outlen, in, inlen);
}

/* The raw value of @p c (k bytes) from the token. */
static KF_RESULT asym_raw(struct kf_asym_ctx *ctx, const uint8_t *c, size_t k, uint8_t *em)
{
    struct kf_hsm_dec_params p = { .scheme = KF_ENC_RSA_RAW };
    size_t len = 0;
    KF_GUARD(kf_hsm_decrypt(ctx->key->hk, &p, c, k, em, k, &len));
    KF_ENSURE(len == k, KF_ERR_DECRYPT);
    return KF_OK;
}

/* The key's implicit-rejection secret, made at first use (asym_rsa.c header says how). */
static KF_RESULT asym_ir_secret(struct kf_asym_ctx *ctx, size_t k, uint8_t out[32])
{
    struct kf_prov_key *key = ctx->key;
    pthread_mutex_lock(&key->ir_lock);
    kf_result r = KF_OK;
    if (!key->ir_ready) {
        /* A fixed value below any k-byte modulus (leading zero byte), filled from a label. */
        uint8_t *c0 = OPENSSL_zalloc(k);
        uint8_t *raw = OPENSSL_malloc(k);
        EVP_MD *sha256 = EVP_MD_fetch(ctx->prov->libctx, "SHA256", KF_PROV_SW_PROPQ);
        r = c0 != NULL && raw != NULL ? KF_OK : (kf_result){ KF_ERR_NOMEM };
        if (kf_ok(r) && sha256 == NULL) {
            r = (kf_result){ KF_ERR_OPENSSL };
        }
        for (size_t i = 1; kf_ok(r) && i < k; i += 32) {
            uint8_t block[32];
            uint8_t ctr[4] = { (uint8_t)(i >> 24), (uint8_t)(i >> 16), (uint8_t)(i >> 8),
                               (uint8_t)i };
            EVP_MD_CTX *md = EVP_MD_CTX_new();
            bool ok = md != NULL && EVP_DigestInit_ex2(md, sha256, NULL) == 1 &&
                      EVP_DigestUpdate(md, "keyfort RSA implicit rejection", 30) == 1 &&
                      EVP_DigestUpdate(md, ctr, sizeof(ctr)) == 1 &&
                      EVP_DigestFinal_ex(md, block, NULL) == 1;
            EVP_MD_CTX_free(md);
            if (!ok) {
                r = (kf_result){ KF_ERR_OPENSSL };
                break;
            }
            memcpy(c0 + i, block, k - i < 32 ? k - i : 32);
        }
        if (kf_ok(r)) {
            r = asym_raw(ctx, c0, k, raw);
        }
        if (kf_ok(r) && EVP_Digest(raw, k, key->ir_secret, NULL, sha256, NULL) != 1) {
            r = (kf_result){ KF_ERR_OPENSSL };
        }
        key->ir_ready = kf_ok(r);
        EVP_MD_free(sha256);
        OPENSSL_free(c0);
        OPENSSL_clear_free(raw, k);
    }
    if (kf_ok(r)) {
        memcpy(out, key->ir_secret, 32);
    }
    pthread_mutex_unlock(&key->ir_lock);
    return r;
}

static KF_RESULT asym_fetch_md(struct kf_asym_ctx *ctx, enum kf_hsm_digest d, EVP_MD **out)
{
    *out = EVP_MD_fetch(ctx->prov->libctx, kf_prov_digest_name(d), KF_PROV_SW_PROPQ);
    KF_ENSURE(*out != NULL, KF_ERR_OPENSSL);
    return KF_OK;
}

static KF_RESULT asym_oaep_raw(struct kf_asym_ctx *ctx, const uint8_t *em, size_t k, uint8_t *out,
                               size_t outsize, size_t *outlen)
{
    enum kf_hsm_digest d = ctx->oaep_md != KF_DIGEST_NONE ? ctx->oaep_md : KF_DIGEST_SHA1;
    enum kf_hsm_digest m = ctx->mgf1_md != KF_DIGEST_NONE ? ctx->mgf1_md : d;
    EVP_MD *md = NULL;
    EVP_MD *mgf = NULL;
    kf_result r = asym_fetch_md(ctx, d, &md);
    if (kf_ok(r)) {
        r = asym_fetch_md(ctx, m, &mgf);
    }
    if (kf_ok(r)) {
        r = kf_rsa_unpad_oaep(em, k, md, mgf, ctx->label, ctx->label_len, out, outsize, outlen);
    }
    EVP_MD_free(md);
    EVP_MD_free(mgf);
    return r;
}

static KF_RESULT asym_decrypt_token(struct kf_asym_ctx *ctx, uint8_t *out, size_t *outlen,
                                    size_t outsize, const uint8_t *in, size_t inlen)
{
    struct kf_hsm_key_info info;
    KF_GUARD(kf_hsm_key_get_info(ctx->key->hk, &info));
    size_t k = (info.bits + 7) / 8;
    size_t need = ctx->pad == RSA_PKCS1_WITH_TLS_PADDING ? 48 : k;
    if (out == NULL) {
        *outlen = need;
        return KF_OK;
    }
    /* Public checks only: the caller's buffer must hold any answer (a length-dependent
     * refusal would be an oracle of its own). */
    KF_ENSURE(outsize >= need, KF_ERR_BUFFER_TOO_SMALL);
    if (inlen > k) {
        kf_err_note_context("RSA ciphertext of %zu bytes for a %zu-byte modulus", inlen, k);
        KF_BAIL(KF_ERR_INVALID_ARG);
    }
    struct kf_hsm_dec_params raw_p = { .scheme = KF_ENC_RSA_RAW };
    bool raw = kf_hsm_key_can_decrypt(ctx->key->hk, &raw_p);
    if (!raw) {
        /* The token's own padding mechanisms (no implicit rejection possible here). */
        KF_ENSURE(ctx->pad == RSA_PKCS1_PADDING || ctx->pad == RSA_PKCS1_OAEP_PADDING,
                  KF_ERR_MECHANISM);
        struct kf_hsm_dec_params p = {
            .scheme = ctx->pad == RSA_PKCS1_PADDING ? KF_ENC_RSA_PKCS : KF_ENC_RSA_OAEP,
            .oaep_digest = ctx->oaep_md,
            .mgf1_digest = ctx->mgf1_md,
            .label = ctx->label,
            .label_len = ctx->label_len,
        };
        return kf_hsm_decrypt(ctx->key->hk, &p, in, inlen, out, outsize, outlen);
    }
    uint8_t *c = OPENSSL_zalloc(k);
    uint8_t *em = OPENSSL_malloc(k);
    uint8_t fallback[48];
    kf_result r = c != NULL && em != NULL ? KF_OK : (kf_result){ KF_ERR_NOMEM };
    if (kf_ok(r) && ctx->pad == RSA_PKCS1_WITH_TLS_PADDING &&
        RAND_priv_bytes_ex(ctx->prov->libctx, fallback, sizeof(fallback), 0) != 1) {
        r = (kf_result){ KF_ERR_OPENSSL }; /* drawn before the decryption, whatever it gives */
    }
    if (kf_ok(r)) {
        memcpy(c + (k - inlen), in, inlen);
        r = asym_raw(ctx, c, k, em);
    }
    if (kf_ok(r)) {
        switch (ctx->pad) {
        case RSA_NO_PADDING:
            memcpy(out, em, k);
            *outlen = k;
            break;
        case RSA_PKCS1_OAEP_PADDING:
            r = asym_oaep_raw(ctx, em, k, out, outsize, outlen);
            break;
        case RSA_PKCS1_WITH_TLS_PADDING:
            r = kf_rsa_unpad_tls(em, k, ctx->client_version, ctx->alt_version, fallback, out);
            *outlen = 48;
            break;
        case RSA_PKCS1_PADDING:
        default:
            if (ctx->implicit_rejection) {
                uint8_t secret[32];
                r = asym_ir_secret(ctx, k, secret);
                if (kf_ok(r)) {
                    r = kf_rsa_unpad_pkcs1_ir(ctx->prov->libctx, em, c, k, secret, out, outsize,
                                              outlen);
                }
                OPENSSL_cleanse(secret, sizeof(secret));
            } else {
                r = kf_rsa_unpad_pkcs1_strict(em, k, out, outsize, outlen);
            }
            break;
        }
    }
    OPENSSL_cleanse(fallback, sizeof(fallback));
    OPENSSL_free(c);
    if (em != NULL) {
        OPENSSL_clear_free(em, k);
    }
    return r;
}

static int asym_decrypt(void *vctx, unsigned char *out, size_t *outlen, size_t outsize,
                        const unsigned char *in, size_t inlen)
{
    struct kf_asym_ctx *ctx = vctx;
    if (ctx == NULL || ctx->key == NULL || !kf_prov_is_usable(ctx->prov)) {
        return 0;
    }
    if (ctx->sw != NULL) {
        *outlen = outsize;
        return EVP_PKEY_decrypt(ctx->sw, out, outlen, in, inlen);
    }
    KF_PROV_RETURN(ctx->prov, asym_decrypt_token(ctx, out, outlen, outsize, in, inlen));
}

/* ---- parameters --------------------------------------------------------------------------- */

static const struct {
    const char *name;
    int mode;
} asym_pad_names[] = {
    { OSSL_PKEY_RSA_PAD_MODE_NONE, RSA_NO_PADDING },
    { OSSL_PKEY_RSA_PAD_MODE_PKCSV15, RSA_PKCS1_PADDING },
    { OSSL_PKEY_RSA_PAD_MODE_OAEP, RSA_PKCS1_OAEP_PADDING },
};

static KF_RESULT asym_params(struct kf_asym_ctx *ctx, const OSSL_PARAM params[])
{
    const OSSL_PARAM *p = OSSL_PARAM_locate_const(params, OSSL_ASYM_CIPHER_PARAM_PAD_MODE);
    if (p != NULL) {
        int mode = -1;
        const char *name = NULL;
        if (p->data_type == OSSL_PARAM_UTF8_STRING) {
            KF_ENSURE(OSSL_PARAM_get_utf8_string_ptr(p, &name), KF_ERR_INVALID_ARG);
            for (size_t i = 0; i < sizeof(asym_pad_names) / sizeof(asym_pad_names[0]); i++) {
                if (strcmp(name, asym_pad_names[i].name) == 0) {
                    mode = asym_pad_names[i].mode;
                }
            }
        } else {
            KF_ENSURE(OSSL_PARAM_get_int(p, &mode), KF_ERR_INVALID_ARG);
        }
        if (mode != RSA_NO_PADDING && mode != RSA_PKCS1_PADDING && mode != RSA_PKCS1_OAEP_PADDING &&
            mode != RSA_PKCS1_WITH_TLS_PADDING) {
            kf_err_note_context("RSA padding mode %d", mode);
            KF_BAIL(KF_ERR_UNSUPPORTED);
        }
        ctx->pad = mode;
    }
    p = OSSL_PARAM_locate_const(params, OSSL_ASYM_CIPHER_PARAM_OAEP_DIGEST);
    if (p != NULL) {
        const char *name = NULL;
        KF_ENSURE(OSSL_PARAM_get_utf8_string_ptr(p, &name), KF_ERR_INVALID_ARG);
        KF_GUARD(kf_prov_digest_of(name, &ctx->oaep_md));
    }
    p = OSSL_PARAM_locate_const(params, OSSL_ASYM_CIPHER_PARAM_MGF1_DIGEST);
    if (p != NULL) {
        const char *name = NULL;
        KF_ENSURE(OSSL_PARAM_get_utf8_string_ptr(p, &name), KF_ERR_INVALID_ARG);
        KF_GUARD(kf_prov_digest_of(name, &ctx->mgf1_md));
    }
    p = OSSL_PARAM_locate_const(params, OSSL_ASYM_CIPHER_PARAM_OAEP_LABEL);
    if (p != NULL) {
        void *label = NULL;
        size_t len = 0;
        KF_ENSURE(OSSL_PARAM_get_octet_string(p, &label, 0, &len), KF_ERR_INVALID_ARG);
        OPENSSL_free(ctx->label);
        ctx->label = label;
        ctx->label_len = len;
    }
    p = OSSL_PARAM_locate_const(params, OSSL_ASYM_CIPHER_PARAM_TLS_CLIENT_VERSION);
    if (p != NULL) {
        KF_ENSURE(OSSL_PARAM_get_uint(p, &ctx->client_version), KF_ERR_INVALID_ARG);
    }
    p = OSSL_PARAM_locate_const(params, OSSL_ASYM_CIPHER_PARAM_TLS_NEGOTIATED_VERSION);
    if (p != NULL) {
        KF_ENSURE(OSSL_PARAM_get_uint(p, &ctx->alt_version), KF_ERR_INVALID_ARG);
    }
    p = OSSL_PARAM_locate_const(params, OSSL_ASYM_CIPHER_PARAM_IMPLICIT_REJECTION);
    if (p != NULL) {
        KF_ENSURE(OSSL_PARAM_get_uint(p, &ctx->implicit_rejection), KF_ERR_INVALID_ARG);
    }
    return KF_OK;
}

static int asym_set_ctx_params(void *vctx, const OSSL_PARAM params[])
{
    struct kf_asym_ctx *ctx = vctx;
    if (params == NULL) {
        return 1;
    }
    if (ctx->sw != NULL) {
        return EVP_PKEY_CTX_set_params(ctx->sw, params);
    }
    KF_PROV_RETURN(ctx->prov, asym_params(ctx, params));
}

static int asym_get_ctx_params(void *vctx, OSSL_PARAM params[])
{
    struct kf_asym_ctx *ctx = vctx;
    if (ctx->sw != NULL) {
        return EVP_PKEY_CTX_get_params(ctx->sw, params);
    }
    OSSL_PARAM *p = OSSL_PARAM_locate(params, OSSL_ASYM_CIPHER_PARAM_PAD_MODE);
    if (p != NULL) {
        int ok = 0;
        if (p->data_type == OSSL_PARAM_UTF8_STRING) {
            for (size_t i = 0; i < sizeof(asym_pad_names) / sizeof(asym_pad_names[0]); i++) {
                if (asym_pad_names[i].mode == ctx->pad) {
                    ok = OSSL_PARAM_set_utf8_string(p, asym_pad_names[i].name);
                }
            }
        } else {
            ok = OSSL_PARAM_set_int(p, ctx->pad);
        }
        if (!ok) {
            return 0;
        }
    }
    enum kf_hsm_digest d = ctx->oaep_md != KF_DIGEST_NONE ? ctx->oaep_md : KF_DIGEST_SHA1;
    p = OSSL_PARAM_locate(params, OSSL_ASYM_CIPHER_PARAM_OAEP_DIGEST);
    if (p != NULL && !OSSL_PARAM_set_utf8_string(p, kf_prov_digest_name(d))) {
        return 0;
    }
    p = OSSL_PARAM_locate(params, OSSL_ASYM_CIPHER_PARAM_MGF1_DIGEST);
    if (p != NULL &&
        !OSSL_PARAM_set_utf8_string(
            p, kf_prov_digest_name(ctx->mgf1_md != KF_DIGEST_NONE ? ctx->mgf1_md : d))) {
        return 0;
    }
    p = OSSL_PARAM_locate(params, OSSL_ASYM_CIPHER_PARAM_OAEP_LABEL);
    if (p != NULL && !OSSL_PARAM_set_octet_ptr(p, ctx->label, ctx->label_len)) {
        return 0;
    }
    p = OSSL_PARAM_locate(params, OSSL_ASYM_CIPHER_PARAM_TLS_CLIENT_VERSION);
    if (p != NULL && !OSSL_PARAM_set_uint(p, ctx->client_version)) {
        return 0;
    }
    p = OSSL_PARAM_locate(params, OSSL_ASYM_CIPHER_PARAM_TLS_NEGOTIATED_VERSION);
    if (p != NULL && !OSSL_PARAM_set_uint(p, ctx->alt_version)) {
        return 0;
    }
    p = OSSL_PARAM_locate(params, OSSL_ASYM_CIPHER_PARAM_IMPLICIT_REJECTION);
    if (p != NULL && !OSSL_PARAM_set_uint(p, ctx->implicit_rejection)) {
        return 0;
    }
    return 1;
}

static const OSSL_PARAM asym_params_list[] = {
    OSSL_PARAM_utf8_string(OSSL_ASYM_CIPHER_PARAM_PAD_MODE, NULL, 0),
    OSSL_PARAM_utf8_string(OSSL_ASYM_CIPHER_PARAM_OAEP_DIGEST, NULL, 0),
    OSSL_PARAM_utf8_string(OSSL_ASYM_CIPHER_PARAM_MGF1_DIGEST, NULL, 0),
    OSSL_PARAM_octet_string(OSSL_ASYM_CIPHER_PARAM_OAEP_LABEL, NULL, 0),
    OSSL_PARAM_uint(OSSL_ASYM_CIPHER_PARAM_TLS_CLIENT_VERSION, NULL),
    OSSL_PARAM_uint(OSSL_ASYM_CIPHER_PARAM_TLS_NEGOTIATED_VERSION, NULL),
    OSSL_PARAM_uint(OSSL_ASYM_CIPHER_PARAM_IMPLICIT_REJECTION, NULL),
    OSSL_PARAM_END,
};

static const OSSL_PARAM *asym_settable_ctx_params(void *vctx, void *provctx)
{
    struct kf_asym_ctx *ctx = vctx;
    if (ctx != NULL && ctx->sw != NULL) {
        return EVP_PKEY_CTX_settable_params(ctx->sw);
    }
    return asym_params_list;
}

static const OSSL_PARAM *asym_gettable_ctx_params(void *vctx, void *provctx)
{
    struct kf_asym_ctx *ctx = vctx;
    if (ctx != NULL && ctx->sw != NULL) {
        return EVP_PKEY_CTX_gettable_params(ctx->sw);
    }
    return asym_params_list;
}

const OSSL_DISPATCH kf_asym_rsa_functions[] = {
    { OSSL_FUNC_ASYM_CIPHER_NEWCTX, (void (*)(void))asym_newctx },
    { OSSL_FUNC_ASYM_CIPHER_FREECTX, (void (*)(void))asym_freectx },
    { OSSL_FUNC_ASYM_CIPHER_DUPCTX, (void (*)(void))asym_dupctx },
    { OSSL_FUNC_ASYM_CIPHER_ENCRYPT_INIT, (void (*)(void))asym_encrypt_init },
    { OSSL_FUNC_ASYM_CIPHER_ENCRYPT, (void (*)(void))asym_encrypt },
    { OSSL_FUNC_ASYM_CIPHER_DECRYPT_INIT, (void (*)(void))asym_decrypt_init },
    { OSSL_FUNC_ASYM_CIPHER_DECRYPT, (void (*)(void))asym_decrypt },
    { OSSL_FUNC_ASYM_CIPHER_GET_CTX_PARAMS, (void (*)(void))asym_get_ctx_params },
    { OSSL_FUNC_ASYM_CIPHER_GETTABLE_CTX_PARAMS, (void (*)(void))asym_gettable_ctx_params },
    { OSSL_FUNC_ASYM_CIPHER_SET_CTX_PARAMS, (void (*)(void))asym_set_ctx_params },
    { OSSL_FUNC_ASYM_CIPHER_SETTABLE_CTX_PARAMS, (void (*)(void))asym_settable_ctx_params },
    OSSL_DISPATCH_END,
};
