/* provider/sig.c - signatures made on the token: RSA PKCS#1 v1.5 and PSS, ECDSA, EdDSA.
 * (Verification and software keys go to the default provider: sig_delegate.c.)
 *
 * Digests are computed here, in the application's library context (never by keyfort, which
 * offers none), and the token signs the digest: one C_SignInit + C_Sign per signature. */
#include "provider/sig.h"

#include <openssl/core_names.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *kf_sig_newctx_scheme(void *provctx, const char *propq, enum kf_hsm_sig_scheme scheme)
{
    struct kf_prov *prov = provctx;
    if (!kf_prov_is_usable(prov)) {
        return NULL;
    }
    struct kf_sig_ctx *ctx = calloc(1, sizeof(*ctx));
    if (ctx == NULL) {
        return NULL;
    }
    ctx->prov = prov;
    ctx->scheme = scheme;
    ctx->eddsa = scheme == KF_SIG_EDDSA;
    ctx->saltlen = RSA_PSS_SALTLEN_DIGEST; /* what TLS 1.3 and RFC 4055 ask for */
    if (propq != NULL && (ctx->propq = strdup(propq)) == NULL) {
        free(ctx);
        return NULL;
    }
    return ctx;
}

void kf_sig_freectx(void *vctx)
{
    struct kf_sig_ctx *ctx = vctx;
    if (ctx == NULL) {
        return;
    }
    EVP_MD_CTX_free(ctx->mdctx);
    kf_sig_delegate_reset(ctx);
    kf_prov_key_unref(ctx->key);
    free(ctx->propq);
    free(ctx);
}

void *kf_sig_dupctx(void *vctx)
{
    const struct kf_sig_ctx *src = vctx;
    struct kf_sig_ctx *dst = malloc(sizeof(*dst));
    if (dst == NULL) {
        return NULL;
    }
    *dst = *src; /* shallow, then re-acquire each owned field */
    dst->key = NULL;
    dst->propq = NULL;
    dst->mdctx = NULL;
    if (!kf_sig_delegate_dup(src, dst) ||
        (src->propq != NULL && (dst->propq = strdup(src->propq)) == NULL) ||
        (src->mdctx != NULL && ((dst->mdctx = EVP_MD_CTX_new()) == NULL ||
                                !EVP_MD_CTX_copy_ex(dst->mdctx, src->mdctx)))) {
        kf_sig_freectx(dst);
        return NULL;
    }
    dst->key = kf_prov_key_ref(src->key);
    return dst;
}

static KF_RESULT sig_set_digest(struct kf_sig_ctx *ctx, const char *mdname)
{
    if (ctx->eddsa) {
        /* RFC 8032 pure EdDSA: no digest, and none may be asked for. */
        KF_ENSURE(mdname == NULL || mdname[0] == '\0', KF_ERR_INVALID_ARG);
        return KF_OK;
    }
    KF_GUARD(
        kf_prov_digest_of(mdname != NULL && mdname[0] != '\0' ? mdname : "SHA256", &ctx->digest));
    return KF_OK;
}

static KF_RESULT sig_init(struct kf_sig_ctx *ctx, struct kf_prov_key *key, const char *mdname,
                          bool digest_sign)
{
    KF_ENSURE_REF(key);
    kf_prov_key_unref(ctx->key);
    ctx->key = kf_prov_key_ref(key);
    kf_sig_delegate_reset(ctx);
    if (digest_sign || mdname != NULL) {
        KF_GUARD(sig_set_digest(ctx, mdname));
    }
    if (!digest_sign || ctx->eddsa) {
        EVP_MD_CTX_free(ctx->mdctx);
        ctx->mdctx = NULL;
        return KF_OK;
    }
    /* The provider's cached digest, unless the caller asked for other properties. The
     * context is kept across inits (EVP_DigestInit_ex2 starts it afresh). */
    EVP_MD *fetched = NULL;
    const EVP_MD *md = NULL;
    if (ctx->propq == NULL || ctx->propq[0] == '\0') {
        md = kf_prov_md(ctx->prov, ctx->digest);
    } else {
        md = fetched =
            EVP_MD_fetch(ctx->prov->libctx, kf_prov_digest_name(ctx->digest), ctx->propq);
    }
    KF_ENSURE(md != NULL, KF_ERR_OPENSSL);
    if (ctx->mdctx == NULL) {
        ctx->mdctx = EVP_MD_CTX_new();
    }
    int ok = ctx->mdctx != NULL && EVP_DigestInit_ex2(ctx->mdctx, md, NULL) == 1;
    EVP_MD_free(fetched);
    KF_ENSURE(ok, KF_ERR_OPENSSL);
    return KF_OK;
}

int kf_sig_init(struct kf_sig_ctx *ctx, void *keydata, const char *mdname,
                const OSSL_PARAM params[], bool digest, bool verify)
{
    struct kf_prov_key *key = keydata;
    if (ctx == NULL || key == NULL || !kf_prov_is_usable(ctx->prov)) {
        return 0;
    }
    if (verify || kf_prov_key_is_soft(key)) {
        EVP_MD_CTX_free(ctx->mdctx);
        ctx->mdctx = NULL;
        kf_prov_key_unref(ctx->key);
        ctx->key = kf_prov_key_ref(key);
        KF_PROV_RETURN(ctx->prov, kf_sig_delegate_init(ctx, mdname, params, digest, verify));
    }
    kf_result r = sig_init(ctx, keydata, mdname, digest);
    if (!kf_ok(r)) {
        KF_PROV_RETURN(ctx->prov, r);
    }
    return kf_sig_set_ctx_params(ctx, params);
}

/* Sign a digest (or, for EdDSA, the message) on the token into OpenSSL's buffer. */
static KF_RESULT sig_sign_raw(struct kf_sig_ctx *ctx, unsigned char *sig, size_t *siglen,
                              size_t sigsize, const unsigned char *tbs, size_t tbslen)
{
    KF_ENSURE_REF(ctx->key);
    struct kf_hsm_key *hk = ctx->key->hk;
    size_t raw_max = kf_hsm_key_max_sig_len(hk);
    bool der = ctx->scheme == KF_SIG_ECDSA;
    /* An ECDSA-Sig-Value adds at most 9 bytes of DER to r || s (two INTEGERs in a SEQUENCE). */
    size_t max = der ? raw_max + 9 : raw_max;
    if (sig == NULL) {
        *siglen = max; /* size query */
        return KF_OK;
    }
    struct kf_hsm_sig_params p = {
        .scheme = ctx->scheme,
        .digest = ctx->digest,
        .prehashed = ctx->digest != KF_DIGEST_NONE,
        .mgf1_digest = ctx->mgf1,
        .pss_salt_len = -1,
    };
    if (ctx->scheme == KF_SIG_RSA_PSS) {
        size_t dlen = kf_hsm_digest_len(ctx->digest);
        size_t emlen = (raw_max * 8 - 1 + 7) / 8; /* modBits - 1, in bytes (RFC 8017 9.1.1) */
        if (ctx->saltlen >= 0) {
            p.pss_salt_len = ctx->saltlen;
        } else if (ctx->saltlen == RSA_PSS_SALTLEN_MAX || ctx->saltlen == RSA_PSS_SALTLEN_AUTO) {
            p.pss_salt_len = (long)(emlen - dlen - 2);
        } else {
            p.pss_salt_len = (long)dlen; /* RSA_PSS_SALTLEN_DIGEST */
        }
    }
    uint8_t raw[1024];
    size_t raw_len = 0;
    if (!der) {
        KF_ENSURE(sigsize >= raw_max, KF_ERR_BUFFER_TOO_SMALL);
        KF_GUARD(kf_hsm_sign(hk, &p, tbs, tbslen, sig, sigsize, siglen));
        return KF_OK;
    }
    KF_GUARD(kf_hsm_sign(hk, &p, tbs, tbslen, raw, sizeof(raw), &raw_len));
    uint8_t *der_sig = NULL;
    size_t der_len = 0;
    KF_GUARD(kf_hsm_ecdsa_rs_to_der(raw, raw_len, &der_sig, &der_len));
    if (der_len > sigsize) {
        OPENSSL_free(der_sig);
        KF_BAIL(KF_ERR_BUFFER_TOO_SMALL);
    }
    memcpy(sig, der_sig, der_len);
    OPENSSL_free(der_sig);
    *siglen = der_len;
    return KF_OK;
}

int kf_sig_sign(void *vctx, unsigned char *sig, size_t *siglen, size_t sigsize,
                const unsigned char *tbs, size_t tbslen)
{
    struct kf_sig_ctx *ctx = vctx;
    if (ctx->dpctx != NULL) {
        *siglen = sigsize;
        return EVP_PKEY_sign(ctx->dpctx, sig, siglen, tbs, tbslen);
    }
    if (!kf_prov_is_usable(ctx->prov) || ctx->eddsa || kf_sig_is_delegated(ctx)) {
        return 0; /* EdDSA signs messages: digest_sign only */
    }
    KF_PROV_RETURN(ctx->prov, sig_sign_raw(ctx, sig, siglen, sigsize, tbs, tbslen));
}

int kf_sig_digest_sign_update(void *vctx, const unsigned char *data, size_t datalen)
{
    struct kf_sig_ctx *ctx = vctx;
    if (ctx->dmd != NULL) {
        return EVP_DigestSignUpdate(ctx->dmd, data, datalen);
    }
    if (ctx->mdctx == NULL) {
        return 0;
    }
    return EVP_DigestUpdate(ctx->mdctx, data, datalen);
}

int kf_sig_digest_sign_final(void *vctx, unsigned char *sig, size_t *siglen, size_t sigsize)
{
    struct kf_sig_ctx *ctx = vctx;
    if (ctx->dmd != NULL) {
        *siglen = sigsize;
        return EVP_DigestSignFinal(ctx->dmd, sig, siglen);
    }
    if (!kf_prov_is_usable(ctx->prov) || ctx->mdctx == NULL) {
        return 0;
    }
    if (sig == NULL) {
        KF_PROV_RETURN(ctx->prov, sig_sign_raw(ctx, NULL, siglen, 0, NULL, 0));
    }
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int dlen = 0;
    /* Finished here, as OpenSSL's own providers finish theirs: a new signature starts with a
     * new init (EVP_DigestSignFinal on a finished context fails instead of signing again). */
    if (EVP_DigestFinal_ex(ctx->mdctx, digest, &dlen) != 1) {
        return 0;
    }
    KF_PROV_RETURN(ctx->prov, sig_sign_raw(ctx, sig, siglen, sigsize, digest, dlen));
}

int kf_sig_digest_sign(void *vctx, unsigned char *sig, size_t *siglen, size_t sigsize,
                       const unsigned char *tbs, size_t tbslen)
{
    struct kf_sig_ctx *ctx = vctx;
    if (ctx->dmd != NULL) {
        *siglen = sigsize;
        return EVP_DigestSign(ctx->dmd, sig, siglen, tbs, tbslen);
    }
    if (!kf_prov_is_usable(ctx->prov)) {
        return 0;
    }
    if (ctx->eddsa) {
        KF_PROV_RETURN(ctx->prov, sig_sign_raw(ctx, sig, siglen, sigsize, tbs, tbslen));
    }
    if (sig != NULL && !kf_sig_digest_sign_update(ctx, tbs, tbslen)) {
        return 0;
    }
    return kf_sig_digest_sign_final(ctx, sig, siglen, sigsize);
}

/* The AlgorithmIdentifier of this signature (X.509 and CMS signing need it), as the default
 * provider encodes it for a verification with the same public key and parameters. */
static KF_RESULT sig_algorithm_id(struct kf_sig_ctx *ctx, OSSL_PARAM *p)
{
    KF_ENSURE(ctx->key != NULL && ctx->key->pub != NULL, KF_ERR_UNSUPPORTED);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    const char *mdname = ctx->eddsa ? NULL : kf_prov_digest_name(ctx->digest);
    int ok = md != NULL && EVP_DigestVerifyInit_ex(md, &pctx, mdname, ctx->prov->libctx,
                                                   "provider!=keyfort", ctx->key->pub, NULL) == 1;
    if (ok && ctx->scheme == KF_SIG_RSA_PSS) {
        ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
             EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, (int)ctx->saltlen) == 1 &&
             (ctx->mgf1 == KF_DIGEST_NONE ||
              EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, kf_prov_digest_name(ctx->mgf1), NULL) == 1);
    }
    if (ok) {
        OSSL_PARAM q[] = { OSSL_PARAM_octet_string(OSSL_SIGNATURE_PARAM_ALGORITHM_ID, NULL, 0),
                           OSSL_PARAM_END };
        ok = EVP_PKEY_CTX_get_params(pctx, q) == 1 && OSSL_PARAM_modified(q);
        uint8_t *buf = ok ? OPENSSL_malloc(q[0].return_size) : NULL;
        if (buf != NULL) {
            q[0].data = buf;
            q[0].data_size = q[0].return_size;
            ok = EVP_PKEY_CTX_get_params(pctx, q) == 1 &&
                 OSSL_PARAM_set_octet_string(p, buf, q[0].return_size) == 1;
            OPENSSL_free(buf);
        } else {
            ok = 0;
        }
    }
    EVP_MD_CTX_free(md);
    KF_ENSURE(ok, KF_ERR_OPENSSL);
    return KF_OK;
}

static int sig_get_saltlen(const struct kf_sig_ctx *ctx, OSSL_PARAM *p)
{
    if (p->data_type != OSSL_PARAM_UTF8_STRING) {
        return OSSL_PARAM_set_int(p, (int)ctx->saltlen);
    }
    const char *name = ctx->saltlen == RSA_PSS_SALTLEN_DIGEST ? OSSL_PKEY_RSA_PSS_SALT_LEN_DIGEST
                       : ctx->saltlen == RSA_PSS_SALTLEN_MAX  ? OSSL_PKEY_RSA_PSS_SALT_LEN_MAX
                       : ctx->saltlen == RSA_PSS_SALTLEN_AUTO ? OSSL_PKEY_RSA_PSS_SALT_LEN_AUTO
                                                              : NULL;
    if (name != NULL) {
        return OSSL_PARAM_set_utf8_string(p, name);
    }
    char num[24];
    snprintf(num, sizeof(num), "%ld", (long)ctx->saltlen);
    return OSSL_PARAM_set_utf8_string(p, num);
}

int kf_sig_get_ctx_params(void *vctx, OSSL_PARAM params[])
{
    struct kf_sig_ctx *ctx = vctx;
    if (kf_sig_is_delegated(ctx)) {
        return EVP_PKEY_CTX_get_params(kf_sig_delegate_pctx(ctx), params);
    }
    OSSL_PARAM *p = OSSL_PARAM_locate(params, OSSL_SIGNATURE_PARAM_ALGORITHM_ID);
    if (p != NULL) {
        kf_result r = sig_algorithm_id(ctx, p);
        if (!kf_ok(r)) {
            KF_PROV_RETURN(ctx->prov, r);
        }
    }
    p = OSSL_PARAM_locate(params, OSSL_SIGNATURE_PARAM_DIGEST);
    if (p != NULL && ctx->digest != KF_DIGEST_NONE &&
        !OSSL_PARAM_set_utf8_string(p, kf_prov_digest_name(ctx->digest))) {
        return 0;
    }
    bool rsa = ctx->scheme == KF_SIG_RSA_PKCS || ctx->scheme == KF_SIG_RSA_PSS;
    bool pss = ctx->scheme == KF_SIG_RSA_PSS;
    /* libcrypto's ctrl translation (EVP_PKEY_CTX_get_rsa_padding and friends) asks for these
     * as UTF-8 names, other callers as integers: answer in the type asked for. */
    p = OSSL_PARAM_locate(params, OSSL_SIGNATURE_PARAM_PAD_MODE);
    if (p != NULL && rsa) {
        int ok = p->data_type == OSSL_PARAM_UTF8_STRING
                     ? OSSL_PARAM_set_utf8_string(p, pss ? OSSL_PKEY_RSA_PAD_MODE_PSS
                                                         : OSSL_PKEY_RSA_PAD_MODE_PKCSV15)
                     : OSSL_PARAM_set_int(p, pss ? RSA_PKCS1_PSS_PADDING : RSA_PKCS1_PADDING);
        if (!ok) {
            return 0;
        }
    }
    p = OSSL_PARAM_locate(params, OSSL_SIGNATURE_PARAM_PSS_SALTLEN);
    if (p != NULL && pss && !sig_get_saltlen(ctx, p)) {
        return 0;
    }
    p = OSSL_PARAM_locate(params, OSSL_SIGNATURE_PARAM_MGF1_DIGEST);
    if (p != NULL && pss) {
        enum kf_hsm_digest mgf1 = ctx->mgf1 != KF_DIGEST_NONE ? ctx->mgf1 : ctx->digest;
        if (mgf1 != KF_DIGEST_NONE && !OSSL_PARAM_set_utf8_string(p, kf_prov_digest_name(mgf1))) {
            return 0;
        }
    }
    return 1;
}

static const OSSL_PARAM kf_sig_gettable[] = {
    OSSL_PARAM_octet_string(OSSL_SIGNATURE_PARAM_ALGORITHM_ID, NULL, 0),
    OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_DIGEST, NULL, 0),
    OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_PAD_MODE, NULL, 0),
    OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_PSS_SALTLEN, NULL, 0),
    OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_MGF1_DIGEST, NULL, 0),
    OSSL_PARAM_END,
};

const OSSL_PARAM *kf_sig_gettable_ctx_params(void *vctx, void *provctx)
{
    if (vctx != NULL && kf_sig_is_delegated(vctx)) {
        return EVP_PKEY_CTX_gettable_params(kf_sig_delegate_pctx(vctx));
    }
    return kf_sig_gettable;
}

static KF_RESULT sig_set_params(struct kf_sig_ctx *ctx, const OSSL_PARAM params[])
{
    const OSSL_PARAM *p = OSSL_PARAM_locate_const(params, OSSL_SIGNATURE_PARAM_DIGEST);
    if (p != NULL) {
        const char *name = NULL;
        KF_ENSURE(OSSL_PARAM_get_utf8_string_ptr(p, &name), KF_ERR_INVALID_ARG);
        KF_GUARD(sig_set_digest(ctx, name));
    }
    p = OSSL_PARAM_locate_const(params, OSSL_SIGNATURE_PARAM_PAD_MODE);
    if (p != NULL) {
        KF_ENSURE(ctx->scheme == KF_SIG_RSA_PKCS || ctx->scheme == KF_SIG_RSA_PSS,
                  KF_ERR_INVALID_ARG);
        int mode = 0;
        const char *s = NULL;
        if (OSSL_PARAM_get_int(p, &mode)) {
            /* numeric */
        } else if (OSSL_PARAM_get_utf8_string_ptr(p, &s)) {
            mode = strcmp(s, "pss") == 0     ? RSA_PKCS1_PSS_PADDING
                   : strcmp(s, "pkcs1") == 0 ? RSA_PKCS1_PADDING
                                             : -1;
        }
        KF_ENSURE(mode == RSA_PKCS1_PADDING || mode == RSA_PKCS1_PSS_PADDING, KF_ERR_UNSUPPORTED);
        ctx->scheme = mode == RSA_PKCS1_PSS_PADDING ? KF_SIG_RSA_PSS : KF_SIG_RSA_PKCS;
    }
    p = OSSL_PARAM_locate_const(params, OSSL_SIGNATURE_PARAM_PSS_SALTLEN);
    if (p != NULL) {
        int n = 0;
        const char *s = NULL;
        if (OSSL_PARAM_get_int(p, &n)) {
            ctx->saltlen = n;
        } else if (OSSL_PARAM_get_utf8_string_ptr(p, &s)) {
            if (strcmp(s, OSSL_PKEY_RSA_PSS_SALT_LEN_DIGEST) == 0) {
                ctx->saltlen = RSA_PSS_SALTLEN_DIGEST;
            } else if (strcmp(s, OSSL_PKEY_RSA_PSS_SALT_LEN_MAX) == 0) {
                ctx->saltlen = RSA_PSS_SALTLEN_MAX;
            } else if (strcmp(s, OSSL_PKEY_RSA_PSS_SALT_LEN_AUTO) == 0) {
                ctx->saltlen = RSA_PSS_SALTLEN_AUTO;
            } else {
                ctx->saltlen = strtol(s, NULL, 10);
            }
        } else {
            KF_BAIL(KF_ERR_INVALID_ARG);
        }
    }
    p = OSSL_PARAM_locate_const(params, OSSL_SIGNATURE_PARAM_MGF1_DIGEST);
    if (p != NULL) {
        const char *name = NULL;
        KF_ENSURE(OSSL_PARAM_get_utf8_string_ptr(p, &name), KF_ERR_INVALID_ARG);
        KF_GUARD(kf_prov_digest_of(name, &ctx->mgf1));
    }
    return KF_OK;
}

int kf_sig_set_ctx_params(void *vctx, const OSSL_PARAM params[])
{
    struct kf_sig_ctx *ctx = vctx;
    if (params == NULL) {
        return 1;
    }
    if (kf_sig_is_delegated(ctx)) {
        return EVP_PKEY_CTX_set_params(kf_sig_delegate_pctx(ctx), params);
    }
    KF_PROV_RETURN(ctx->prov, sig_set_params(ctx, params));
}

static const OSSL_PARAM kf_sig_settable[] = {
    OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_DIGEST, NULL, 0),
    OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_PROPERTIES, NULL, 0),
    OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_PAD_MODE, NULL, 0),
    OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_PSS_SALTLEN, NULL, 0),
    OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_MGF1_DIGEST, NULL, 0),
    OSSL_PARAM_END,
};

const OSSL_PARAM *kf_sig_settable_ctx_params(void *vctx, void *provctx)
{
    if (vctx != NULL && kf_sig_is_delegated(vctx)) {
        return EVP_PKEY_CTX_settable_params(kf_sig_delegate_pctx(vctx));
    }
    return kf_sig_settable;
}
