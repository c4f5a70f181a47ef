/* provider/sig_ecdsa.c - ECDSA signatures (DER ECDSA-Sig-Value from the token's r||s) with token
 * keys. */
#include "provider/sig.h"

static OSSL_FUNC_signature_newctx_fn kf_sig_ecdsa_newctx;

static void *kf_sig_ecdsa_newctx(void *provctx, const char *propq)
{
    return kf_sig_newctx_scheme(provctx, propq, KF_SIG_ECDSA);
}

KF_SIG_INIT_FUNCS(kf_sig_ecdsa)

const OSSL_DISPATCH kf_sig_ecdsa_functions[] = {
    { OSSL_FUNC_SIGNATURE_NEWCTX, (void (*)(void))kf_sig_ecdsa_newctx },
    { OSSL_FUNC_SIGNATURE_SIGN_INIT, (void (*)(void))kf_sig_ecdsa_sign_init },
    { OSSL_FUNC_SIGNATURE_VERIFY_INIT, (void (*)(void))kf_sig_ecdsa_verify_init },
    { OSSL_FUNC_SIGNATURE_DIGEST_SIGN_INIT, (void (*)(void))kf_sig_ecdsa_digest_sign_init },
    { OSSL_FUNC_SIGNATURE_DIGEST_VERIFY_INIT, (void (*)(void))kf_sig_ecdsa_digest_verify_init },
    KF_SIG_COMMON_ENTRIES,
    OSSL_DISPATCH_END,
};
