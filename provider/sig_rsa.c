/* provider/sig_rsa.c - RSA signatures (PKCS#1 v1.5 and PSS) with token keys. */
#include "provider/sig.h"

static OSSL_FUNC_signature_newctx_fn kf_sig_rsa_newctx;

static void *kf_sig_rsa_newctx(void *provctx, const char *propq)
{
    return kf_sig_newctx_scheme(provctx, propq, KF_SIG_RSA_PKCS);
}

KF_SIG_INIT_FUNCS(kf_sig_rsa)

const OSSL_DISPATCH kf_sig_rsa_functions[] = {
    { OSSL_FUNC_SIGNATURE_NEWCTX, (void (*)(void))kf_sig_rsa_newctx },
    { OSSL_FUNC_SIGNATURE_SIGN_INIT, (void (*)(void))kf_sig_rsa_sign_init },
    { OSSL_FUNC_SIGNATURE_VERIFY_INIT, (void (*)(void))kf_sig_rsa_verify_init },
    { OSSL_FUNC_SIGNATURE_DIGEST_SIGN_INIT, (void (*)(void))kf_sig_rsa_digest_sign_init },
    { OSSL_FUNC_SIGNATURE_DIGEST_VERIFY_INIT, (void (*)(void))kf_sig_rsa_digest_verify_init },
    KF_SIG_COMMON_ENTRIES,
    OSSL_DISPATCH_END,
};
