/* hsm/pubkey.c - software copies of token public keys, built with
 * EVP_PKEY_fromdata. */
#include "hsm/internal.h"

#include <openssl/core_names.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>

KF_RESULT kf_hsm_pubkey_rsa(const uint8_t *n, size_t n_len, const uint8_t *e, size_t e_len,
                            EVP_PKEY **out)
{
    KF_ENSURE_REF(n);
    KF_ENSURE_REF(e);
    KF_ENSURE_REF(out);
    KF_ENSURE(n_len > 0 && e_len > 0, KF_ERR_MALFORMED);
    kf_result r = (kf_result){ KF_ERR_OPENSSL };
    BIGNUM *bn_n = BN_bin2bn(n, (int)n_len, NULL);
    BIGNUM *bn_e = BN_bin2bn(e, (int)e_len, NULL);
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", KF_HSM_SW_PROPQ);
    EVP_PKEY *pkey = NULL;
    if (bn_n != NULL && bn_e != NULL && bld != NULL && ctx != NULL &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) == 1 &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e) == 1 &&
        (params = OSSL_PARAM_BLD_to_param(bld)) != NULL && EVP_PKEY_fromdata_init(ctx) == 1 &&
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) == 1) {
        *out = pkey;
        r = KF_OK;
    }
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    EVP_PKEY_CTX_free(ctx);
    BN_free(bn_n);
    BN_free(bn_e);
    if (!kf_ok(r)) {
        kf_err_record(r.code, __FILE__, __LINE__, __func__);
    }
    return r;
}

KF_RESULT kf_hsm_pubkey_ec(int nid, const uint8_t *point, size_t point_len, EVP_PKEY **out)
{
    KF_ENSURE_REF(point);
    KF_ENSURE_REF(out);
    if (nid == NID_ED25519 || nid == NID_ED448) {
        EVP_PKEY *pk = EVP_PKEY_new_raw_public_key_ex(
            NULL, nid == NID_ED25519 ? "ED25519" : "ED448", KF_HSM_SW_PROPQ, point, point_len);
        KF_ENSURE(pk != NULL, KF_ERR_OPENSSL);
        *out = pk;
        return KF_OK;
    }
    const char *group = OBJ_nid2sn(nid);
    KF_ENSURE(group != NULL, KF_ERR_UNSUPPORTED);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)group, 0),
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)point, point_len),
        OSSL_PARAM_construct_end(),
    };
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", KF_HSM_SW_PROPQ);
    EVP_PKEY *pkey = NULL;
    int ok = ctx != NULL && EVP_PKEY_fromdata_init(ctx) == 1 &&
             EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) == 1;
    EVP_PKEY_CTX_free(ctx);
    KF_ENSURE(ok, KF_ERR_OPENSSL);
    *out = pkey;
    return KF_OK;
}
