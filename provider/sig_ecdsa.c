/* provider/sig_ecdsa.c - ECDSA signatures (DER ECDSA-Sig-Value from the token's r||s) with token
 * keys. */
#include "provider/sig.h"

static OSSL_FUNC_signature_newctx_fn kf_sig_ecdsa_newctx;
static OSSL_FUNC_signature_sign_init_fn kf_sig_ecdsa_sign_init;
static OSSL_FUNC_signature_digest_sign_init_fn kf_sig_ecdsa_digest_sign_init;

static void *kf_sig_ecdsa_newctx(void *provctx, const char *propq)
{
    return kf_sig_newctx_scheme(provctx, propq, KF_SIG_ECDSA);
}

static int kf_sig_ecdsa_sign_init(void *vctx, void *key, const OSSL_PARAM params[])
{
    return kf_sig_init(vctx, key, NULL, params, false);
}

static int kf_sig_ecdsa_digest_sign_init(void *vctx, const char *mdname, void *key,
                                         const OSSL_PARAM params[])
{
    return kf_sig_init(vctx, key, mdname, params, true);
}

const OSSL_DISPATCH kf_sig_ecdsa_functions[] = {
    { OSSL_FUNC_SIGNATURE_NEWCTX, (void (*)(void))kf_sig_ecdsa_newctx },
    { OSSL_FUNC_SIGNATURE_FREECTX, (void (*)(void))kf_sig_freectx },
    { OSSL_FUNC_SIGNATURE_DUPCTX, (void (*)(void))kf_sig_dupctx },
    { OSSL_FUNC_SIGNATURE_SIGN_INIT, (void (*)(void))kf_sig_ecdsa_sign_init },
    { OSSL_FUNC_SIGNATURE_SIGN, (void (*)(void))kf_sig_sign },
    { OSSL_FUNC_SIGNATURE_DIGEST_SIGN_INIT, (void (*)(void))kf_sig_ecdsa_digest_sign_init },
    { OSSL_FUNC_SIGNATURE_DIGEST_SIGN_UPDATE, (void (*)(void))kf_sig_digest_sign_update },
    { OSSL_FUNC_SIGNATURE_DIGEST_SIGN_FINAL, (void (*)(void))kf_sig_digest_sign_final },
    { OSSL_FUNC_SIGNATURE_GET_CTX_PARAMS, (void (*)(void))kf_sig_get_ctx_params },
    { OSSL_FUNC_SIGNATURE_GETTABLE_CTX_PARAMS, (void (*)(void))kf_sig_gettable_ctx_params },
    { OSSL_FUNC_SIGNATURE_SET_CTX_PARAMS, (void (*)(void))kf_sig_set_ctx_params },
    { OSSL_FUNC_SIGNATURE_SETTABLE_CTX_PARAMS, (void (*)(void))kf_sig_settable_ctx_params },
    OSSL_DISPATCH_END,
};
