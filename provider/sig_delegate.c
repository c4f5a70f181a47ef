/* provider/sig_delegate.c - signature operations keyfort passes to the default provider.
 *
 * Two cases reach keyfort's signature code without needing the token: verification (with a
 * token key's public half, or any software key), and signing with a software key that landed
 * in keyfort's keymgmt because keyfort was listed first (prov.h). Both run in the default
 * provider through EVP, in keyfort's library context with KF_PROV_SW_PROPQ, so the result is
 * exactly what the program would get without keyfort. */
#include "provider/sig.h"

#include <openssl/evp.h>

EVP_PKEY_CTX *kf_sig_delegate_pctx(const struct kf_sig_ctx *ctx)
{
    return ctx->dmd != NULL ? EVP_MD_CTX_get_pkey_ctx(ctx->dmd) : ctx->dpctx;
}

void kf_sig_delegate_reset(struct kf_sig_ctx *ctx)
{
    EVP_MD_CTX_free(ctx->dmd);
    ctx->dmd = NULL;
    EVP_PKEY_CTX_free(ctx->dpctx);
    ctx->dpctx = NULL;
}

KF_RESULT kf_sig_delegate_init(struct kf_sig_ctx *ctx, const char *mdname,
                               const OSSL_PARAM params[], bool digest, bool verify)
{
    kf_sig_delegate_reset(ctx);
    EVP_PKEY *pk = ctx->key->pub;
    if (pk == NULL) {
        kf_err_note_context("%s needs the public key, which this key does not have",
                            verify ? "verification" : "signing with a software key");
        KF_BAIL(KF_ERR_UNSUPPORTED);
    }
    OSSL_LIB_CTX *lib = ctx->prov->libctx;
    int ok = 0;
    if (digest) {
        ctx->dmd = EVP_MD_CTX_new();
        if (ctx->dmd != NULL) {
            ok = verify ? EVP_DigestVerifyInit_ex(ctx->dmd, NULL, mdname, lib, KF_PROV_SW_PROPQ, pk,
                                                  params)
                        : EVP_DigestSignInit_ex(ctx->dmd, NULL, mdname, lib, KF_PROV_SW_PROPQ, pk,
                                                params);
        }
    } else {
        ctx->dpctx = EVP_PKEY_CTX_new_from_pkey(lib, pk, KF_PROV_SW_PROPQ);
        if (ctx->dpctx != NULL) {
            ok = verify ? EVP_PKEY_verify_init_ex(ctx->dpctx, params)
                        : EVP_PKEY_sign_init_ex(ctx->dpctx, params);
        }
    }
    if (ok != 1) {
        kf_sig_delegate_reset(ctx);
        KF_BAIL(KF_ERR_OPENSSL);
    }
    return KF_OK;
}

int kf_sig_delegate_dup(const struct kf_sig_ctx *src, struct kf_sig_ctx *dst)
{
    dst->dmd = NULL;
    dst->dpctx = NULL;
    if (src->dmd != NULL) {
        dst->dmd = EVP_MD_CTX_new();
        return dst->dmd != NULL && EVP_MD_CTX_copy_ex(dst->dmd, src->dmd) == 1;
    }
    if (src->dpctx != NULL) {
        dst->dpctx = EVP_PKEY_CTX_dup(src->dpctx);
        return dst->dpctx != NULL;
    }
    return 1;
}

int kf_sig_verify(void *vctx, const unsigned char *sig, size_t siglen, const unsigned char *tbs,
                  size_t tbslen)
{
    struct kf_sig_ctx *ctx = vctx;
    if (ctx->dpctx == NULL) {
        return 0;
    }
    return EVP_PKEY_verify(ctx->dpctx, sig, siglen, tbs, tbslen);
}

int kf_sig_digest_verify_update(void *vctx, const unsigned char *data, size_t datalen)
{
    struct kf_sig_ctx *ctx = vctx;
    if (ctx->dmd == NULL) {
        return 0;
    }
    return EVP_DigestVerifyUpdate(ctx->dmd, data, datalen);
}

int kf_sig_digest_verify_final(void *vctx, const unsigned char *sig, size_t siglen)
{
    struct kf_sig_ctx *ctx = vctx;
    if (ctx->dmd == NULL) {
        return 0;
    }
    return EVP_DigestVerifyFinal(ctx->dmd, sig, siglen);
}

int kf_sig_digest_verify(void *vctx, const unsigned char *sig, size_t siglen,
                         const unsigned char *tbs, size_t tbslen)
{
    struct kf_sig_ctx *ctx = vctx;
    if (ctx->dmd == NULL) {
        return 0;
    }
    return EVP_DigestVerify(ctx->dmd, sig, siglen, tbs, tbslen);
}
