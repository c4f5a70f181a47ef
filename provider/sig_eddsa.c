/* provider/sig_eddsa.c - pure EdDSA (RFC 8032) with Ed25519 and Ed448 keys: one-shot digest
 * sign and verify only, as the default provider offers it. */
#include "provider/sig.h"

static OSSL_FUNC_signature_newctx_fn kf_sig_eddsa_newctx;
static OSSL_FUNC_signature_digest_sign_init_fn kf_sig_eddsa_digest_sign_init;
static OSSL_FUNC_signature_digest_verify_init_fn kf_sig_eddsa_digest_verify_init;

static void *kf_sig_eddsa_newctx(void *provctx, const char *propq)
{
    return kf_sig_newctx_scheme(provctx, propq, KF_SIG_EDDSA);
}

static int kf_sig_eddsa_digest_sign_init(void *vctx, const char *mdname, void *key,
                                         const OSSL_PARAM params[])
{
    return kf_sig_init(vctx, key, mdname, params, true, false);
}

static int kf_sig_eddsa_digest_verify_init(void *vctx, const char *mdname, void *key,
                                           const OSSL_PARAM params[])
{
    return kf_sig_init(vctx, key, mdname, params, true, true);
}

#define EDDSA_TABLE(name)                                                                          \
    const OSSL_DISPATCH name[] = {                                                                 \
        { OSSL_FUNC_SIGNATURE_NEWCTX, (void (*)(void))kf_sig_eddsa_newctx },                       \
        { OSSL_FUNC_SIGNATURE_FREECTX, (void (*)(void))kf_sig_freectx },                           \
        { OSSL_FUNC_SIGNATURE_DUPCTX, (void (*)(void))kf_sig_dupctx },                             \
        { OSSL_FUNC_SIGNATURE_DIGEST_SIGN_INIT, (void (*)(void))kf_sig_eddsa_digest_sign_init },   \
        { OSSL_FUNC_SIGNATURE_DIGEST_SIGN, (void (*)(void))kf_sig_digest_sign },                   \
        { OSSL_FUNC_SIGNATURE_DIGEST_VERIFY_INIT,                                                  \
          (void (*)(void))kf_sig_eddsa_digest_verify_init },                                       \
        { OSSL_FUNC_SIGNATURE_DIGEST_VERIFY, (void (*)(void))kf_sig_digest_verify },               \
        { OSSL_FUNC_SIGNATURE_GET_CTX_PARAMS, (void (*)(void))kf_sig_get_ctx_params },             \
        { OSSL_FUNC_SIGNATURE_GETTABLE_CTX_PARAMS, (void (*)(void))kf_sig_gettable_ctx_params },   \
        OSSL_DISPATCH_END,                                                                         \
    }

EDDSA_TABLE(kf_sig_ed25519_functions);
EDDSA_TABLE(kf_sig_ed448_functions);
