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
/** sign_init / digest_sign_init for every algorithm. */
int kf_sig_init(struct kf_sig_ctx *ctx, void *keydata, const char *mdname,
                const OSSL_PARAM params[], bool digest_sign);

#endif
