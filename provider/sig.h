/* provider/sig.h - the signature context shared by sig_rsa.c, sig_ecdsa.c and sig_eddsa.c. */
#ifndef KF_PROVIDER_SIG_H
#define KF_PROVIDER_SIG_H

#include "provider/prov.h"

#include <openssl/core_dispatch.h>

struct kf_sig_ctx {
    struct kf_prov *prov;    /* borrowed: the provider outlives every op ctx */
    struct kf_prov_key *key; /* counted ref, taken in *_init */
    char *propq;             /* owned */
    enum kf_hsm_sig_scheme scheme;
    enum kf_hsm_digest digest; /* KF_DIGEST_NONE until set */
    enum kf_hsm_digest mgf1;   /* PSS; NONE = digest */
    long saltlen;              /* PSS: >= 0, or the RSA_PSS_SALTLEN_* specials */
    EVP_MD_CTX *mdctx;         /* owned: digest-sign in progress */
    bool eddsa;                /* one-shot only */
    /* Delegated to the default provider (sig_delegate.c): every operation on a software key,
     * and verification with any key (a token key verifies with its public half). One of: */
    EVP_MD_CTX *dmd;     /* owned: digest-sign / digest-verify */
    EVP_PKEY_CTX *dpctx; /* owned: sign / verify of a given digest */
};

/* Shared dispatch functions (sig.c). */
OSSL_FUNC_signature_freectx_fn kf_sig_freectx;
OSSL_FUNC_signature_dupctx_fn kf_sig_dupctx;
OSSL_FUNC_signature_sign_fn kf_sig_sign;
OSSL_FUNC_signature_digest_sign_update_fn kf_sig_digest_sign_update;
OSSL_FUNC_signature_digest_sign_final_fn kf_sig_digest_sign_final;
OSSL_FUNC_signature_digest_sign_fn kf_sig_digest_sign;
OSSL_FUNC_signature_get_ctx_params_fn kf_sig_get_ctx_params;
OSSL_FUNC_signature_gettable_ctx_params_fn kf_sig_gettable_ctx_params;
OSSL_FUNC_signature_set_ctx_params_fn kf_sig_set_ctx_params;
OSSL_FUNC_signature_settable_ctx_params_fn kf_sig_settable_ctx_params;

/** New context for one scheme (newctx of each algorithm). */
void *kf_sig_newctx_scheme(void *provctx, const char *propq, enum kf_hsm_sig_scheme scheme);
OSSL_FUNC_signature_verify_fn kf_sig_verify;
OSSL_FUNC_signature_digest_verify_update_fn kf_sig_digest_verify_update;
OSSL_FUNC_signature_digest_verify_final_fn kf_sig_digest_verify_final;
OSSL_FUNC_signature_digest_verify_fn kf_sig_digest_verify;

/** sign_init / digest_sign_init / verify_init / digest_verify_init for every algorithm. */
int kf_sig_init(struct kf_sig_ctx *ctx, void *keydata, const char *mdname,
                const OSSL_PARAM params[], bool digest, bool verify);

/* sig_delegate.c */
static inline bool kf_sig_is_delegated(const struct kf_sig_ctx *ctx)
{
    return ctx->dmd != NULL || ctx->dpctx != NULL;
}
/** The default provider's context behind a delegated operation. */
EVP_PKEY_CTX *kf_sig_delegate_pctx(const struct kf_sig_ctx *ctx);
KF_RESULT kf_sig_delegate_init(struct kf_sig_ctx *ctx, const char *mdname,
                               const OSSL_PARAM params[], bool digest, bool verify);
void kf_sig_delegate_reset(struct kf_sig_ctx *ctx);
int kf_sig_delegate_dup(const struct kf_sig_ctx *src, struct kf_sig_ctx *dst);

/* Dispatch entries common to the RSA and ECDSA tables (sign and verify, one-shot or with a
 * digest, context parameters). The one-shot entries matter: EVP_DigestSign (libssl's
 * CertificateVerify) calls them directly; without them EVP runs update + final, and its
 * final copies the whole context for every signature. */
#define KF_SIG_COMMON_ENTRIES                                                                      \
    { OSSL_FUNC_SIGNATURE_FREECTX, (void (*)(void))kf_sig_freectx },                               \
        { OSSL_FUNC_SIGNATURE_DUPCTX, (void (*)(void))kf_sig_dupctx },                             \
        { OSSL_FUNC_SIGNATURE_SIGN, (void (*)(void))kf_sig_sign },                                 \
        { OSSL_FUNC_SIGNATURE_VERIFY, (void (*)(void))kf_sig_verify },                             \
        { OSSL_FUNC_SIGNATURE_DIGEST_SIGN_UPDATE, (void (*)(void))kf_sig_digest_sign_update },     \
        { OSSL_FUNC_SIGNATURE_DIGEST_SIGN_FINAL, (void (*)(void))kf_sig_digest_sign_final },       \
        { OSSL_FUNC_SIGNATURE_DIGEST_VERIFY_UPDATE, (void (*)(void))kf_sig_digest_verify_update }, \
        { OSSL_FUNC_SIGNATURE_DIGEST_VERIFY_FINAL, (void (*)(void))kf_sig_digest_verify_final },   \
        { OSSL_FUNC_SIGNATURE_DIGEST_SIGN, (void (*)(void))kf_sig_digest_sign },                   \
        { OSSL_FUNC_SIGNATURE_DIGEST_VERIFY, (void (*)(void))kf_sig_digest_verify },               \
        { OSSL_FUNC_SIGNATURE_GET_CTX_PARAMS, (void (*)(void))kf_sig_get_ctx_params },             \
        { OSSL_FUNC_SIGNATURE_GETTABLE_CTX_PARAMS, (void (*)(void))kf_sig_gettable_ctx_params },   \
        { OSSL_FUNC_SIGNATURE_SET_CTX_PARAMS, (void (*)(void))kf_sig_set_ctx_params },             \
    {                                                                                              \
        OSSL_FUNC_SIGNATURE_SETTABLE_CTX_PARAMS, (void (*)(void))kf_sig_settable_ctx_params        \
    }

/* The four init entries of an algorithm whose newctx is @p newctx_fn. */
#define KF_SIG_INIT_FUNCS(prefix)                                                                  \
    static int prefix##_sign_init(void *vctx, void *key, const OSSL_PARAM params[])                \
    {                                                                                              \
        return kf_sig_init(vctx, key, NULL, params, false, false);                                 \
    }                                                                                              \
    static int prefix##_verify_init(void *vctx, void *key, const OSSL_PARAM params[])              \
    {                                                                                              \
        return kf_sig_init(vctx, key, NULL, params, false, true);                                  \
    }                                                                                              \
    static int prefix##_digest_sign_init(void *vctx, const char *mdname, void *key,                \
                                         const OSSL_PARAM params[])                                \
    {                                                                                              \
        return kf_sig_init(vctx, key, mdname, params, true, false);                                \
    }                                                                                              \
    static int prefix##_digest_verify_init(void *vctx, const char *mdname, void *key,              \
                                           const OSSL_PARAM params[])                              \
    {                                                                                              \
        return kf_sig_init(vctx, key, mdname, params, true, true);                                 \
    }

#endif
