/* keyfort offload: the scalar backend, one job at a time through OpenSSL's EVP interface.
 * It is the reference the kernels are tested against, and the path for every key or
 * algorithm no kernel takes. */
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/rsa.h>

#include "offload/internal.h"

/* r || s (IEEE P1363 / RFC 6605) to the DER SEQUENCE OpenSSL verifies. */
static bool scalar_ecdsa_der(const uint8_t *sig, size_t field, uint8_t *der, size_t cap,
                             size_t *out_len)
{
    ECDSA_SIG *es = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(sig, (int)field, NULL);
    BIGNUM *s = BN_bin2bn(sig + field, (int)field, NULL);
    bool ok = false;
    if (es != NULL && r != NULL && s != NULL && ECDSA_SIG_set0(es, r, s) == 1) {
        r = s = NULL; /* es owns them now */
        int len = i2d_ECDSA_SIG(es, NULL);
        if (len > 0 && (size_t)len <= cap) {
            uint8_t *p = der;
            ok = i2d_ECDSA_SIG(es, &p) == len;
            *out_len = (size_t)len;
        }
    }
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(es);
    return ok;
}

static enum kf_offload_verdict scalar_eddsa(const struct kf_offload_job *job, int32_t *out_err)
{
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    if (m == NULL) {
        *out_err = KF_ERR_NOMEM;
        return KF_OFFLOAD_ERROR;
    }
    int rc = 0;
    if (EVP_DigestVerifyInit_ex(m, NULL, NULL, NULL, NULL, job->key->pkey, NULL) == 1) {
        rc = EVP_DigestVerify(m, job->sig, job->sig_len, job->msg, job->msg_len);
    }
    EVP_MD_CTX_free(m);
    ERR_clear_error();
    return rc == 1 ? KF_OFFLOAD_VALID : KF_OFFLOAD_INVALID;
}

enum kf_offload_verdict offload_scalar_verify(const struct kf_offload_job *job,
                                              const uint8_t *digest, size_t digest_len,
                                              int32_t *out_err)
{
    *out_err = 0;
    const struct kf_offload_key *k = job->key;
    if (k->type == OFFLOAD_KEY_ED25519 || k->type == OFFLOAD_KEY_ED448) {
        return scalar_eddsa(job, out_err);
    }
    const uint8_t *sig = job->sig;
    size_t sig_len = job->sig_len;
    uint8_t der[2 * 48 + 16];
    if (k->type == OFFLOAD_KEY_P256 || k->type == OFFLOAD_KEY_P384) {
        size_t field = k->type == OFFLOAD_KEY_P256 ? 32 : 48;
        if (sig_len != 2 * field) {
            return KF_OFFLOAD_INVALID;
        }
        if (!scalar_ecdsa_der(job->sig, field, der, sizeof(der), &sig_len)) {
            ERR_clear_error();
            *out_err = KF_ERR_NOMEM;
            return KF_OFFLOAD_ERROR;
        }
        sig = der;
    }
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(NULL, k->pkey, NULL);
    if (c == NULL) {
        ERR_clear_error();
        *out_err = KF_ERR_NOMEM;
        return KF_OFFLOAD_ERROR;
    }
    int rc = 0;
    if (EVP_PKEY_verify_init(c) == 1 &&
        (k->type != OFFLOAD_KEY_RSA || EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING) == 1) &&
        EVP_PKEY_CTX_set_signature_md(c, offload_alg_md(job->alg)) == 1) {
        /* 0 is "does not verify", a negative value "cannot be a signature" (bad length,
         * signature >= modulus, bad encoding): both are an invalid signature here. */
        rc = EVP_PKEY_verify(c, sig, sig_len, digest, digest_len);
    }
    EVP_PKEY_CTX_free(c);
    ERR_clear_error();
    return rc == 1 ? KF_OFFLOAD_VALID : KF_OFFLOAD_INVALID;
}
