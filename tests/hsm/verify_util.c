/* tests/hsm/verify_util.c */
#include "tests/hsm/verify_util.h"

#include <openssl/rsa.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

int kf_test_verify(EVP_PKEY *pub, const struct kf_hsm_sig_params *p, const uint8_t *msg,
                   size_t msg_len, const uint8_t *sig, size_t sig_len)
{
    uint8_t *der = NULL;
    size_t der_len = 0;
    if (p->scheme == KF_SIG_ECDSA) {
        if (!kf_ok(kf_hsm_ecdsa_rs_to_der(sig, sig_len, &der, &der_len))) {
            return -1;
        }
        sig = der;
        sig_len = der_len;
    }
    const EVP_MD *md = p->digest != KF_DIGEST_NONE ? kf_hsm_digest_md(p->digest) : NULL;
    bool raw = p->scheme != KF_SIG_EDDSA && (p->prehashed || p->digest == KF_DIGEST_NONE);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = raw ? EVP_PKEY_CTX_new(pub, NULL) : NULL;
    int rc = -1;
    int init = raw ? EVP_PKEY_verify_init(pctx) : EVP_DigestVerifyInit(ctx, &pctx, md, NULL, pub);
    if (init == 1) {
        if (raw && md != NULL) {
            EVP_PKEY_CTX_set_signature_md(pctx, md);
        }
        if (p->scheme == KF_SIG_RSA_PSS) {
            EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
            EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, p->pss_salt_len < 0 ? RSA_PSS_SALTLEN_DIGEST
                                                                       : (int)p->pss_salt_len);
            if (p->mgf1_digest != KF_DIGEST_NONE) {
                EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, kf_hsm_digest_md(p->mgf1_digest));
            }
        }
        rc = raw ? EVP_PKEY_verify(pctx, sig, sig_len, msg, msg_len)
                 : EVP_DigestVerify(ctx, sig, sig_len, msg, msg_len);
        rc = rc == 1 ? 1 : 0;
    }
    if (raw) {
        EVP_PKEY_CTX_free(pctx);
    }
    EVP_MD_CTX_free(ctx);
    OPENSSL_free(der);
    return rc;
}

int kf_test_sign_verify(struct kf_hsm_key *k, const struct kf_hsm_sig_params *p, const uint8_t *msg,
                        size_t msg_len)
{
    uint8_t sig[1024];
    size_t sig_len = 0;
    if (!kf_ok(kf_hsm_sign(k, p, msg, msg_len, sig, sizeof(sig), &sig_len))) {
        return 0;
    }
    EVP_PKEY *pub = NULL;
    if (!kf_ok(kf_hsm_key_public(k, &pub))) {
        return -1;
    }
    int rc = kf_test_verify(pub, p, msg, msg_len, sig, sig_len);
    EVP_PKEY_free(pub);
    return rc;
}
