/* keyfort offload: the digest each signature scheme signs. */
#include <openssl/sha.h>

#include "offload/internal.h"

const EVP_MD *offload_alg_md(enum kf_offload_alg alg)
{
    switch (alg) {
    case KF_OFFLOAD_RSA_PKCS1_SHA256:
    case KF_OFFLOAD_ECDSA_P256_SHA256:
        return EVP_sha256();
    case KF_OFFLOAD_RSA_PKCS1_SHA512:
        return EVP_sha512();
    case KF_OFFLOAD_ECDSA_P384_SHA384:
        return EVP_sha384();
    case KF_OFFLOAD_ED25519:
    case KF_OFFLOAD_ED448:
        break;
    }
    return NULL; /* EdDSA signs the message itself */
}

size_t offload_alg_md_len(enum kf_offload_alg alg)
{
    switch (alg) {
    case KF_OFFLOAD_RSA_PKCS1_SHA256:
    case KF_OFFLOAD_ECDSA_P256_SHA256:
        return SHA256_DIGEST_LENGTH;
    case KF_OFFLOAD_RSA_PKCS1_SHA512:
        return SHA512_DIGEST_LENGTH;
    case KF_OFFLOAD_ECDSA_P384_SHA384:
        return SHA384_DIGEST_LENGTH;
    case KF_OFFLOAD_ED25519:
    case KF_OFFLOAD_ED448:
        break;
    }
    return 0;
}
