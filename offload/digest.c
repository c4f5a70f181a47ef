/* keyfort offload: the digest each signature scheme signs. */
#include <openssl/sha.h>
#include <pthread.h>

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

/* OpenSSL 3's one-shot SHA256() and EVP_Digest with EVP_sha256() look the algorithm up in the
 * provider store on every call (EVP_Q_digest fetches), which costs about as much as hashing a
 * DNSSEC RRset. So the three digests are fetched once for the process and a batch reuses one
 * context. Written once under pthread_once, read-only afterwards; never freed (they live as
 * long as the library's provider store). */
static pthread_once_t digest_once = PTHREAD_ONCE_INIT;
static EVP_MD *digest_sha256, *digest_sha384, *digest_sha512;

static void digest_fetch(void)
{
    digest_sha256 = EVP_MD_fetch(NULL, "SHA2-256", NULL);
    digest_sha384 = EVP_MD_fetch(NULL, "SHA2-384", NULL);
    digest_sha512 = EVP_MD_fetch(NULL, "SHA2-512", NULL);
}

bool offload_digest(EVP_MD_CTX *ctx, size_t md_len, const uint8_t *msg, size_t len, uint8_t *out)
{
    (void)pthread_once(&digest_once, digest_fetch);
    const EVP_MD *md = md_len == SHA256_DIGEST_LENGTH   ? digest_sha256
                       : md_len == SHA384_DIGEST_LENGTH ? digest_sha384
                       : md_len == SHA512_DIGEST_LENGTH ? digest_sha512
                                                        : NULL;
    unsigned got = 0;
    return md != NULL && ctx != NULL && EVP_DigestInit_ex2(ctx, md, NULL) == 1 &&
           EVP_DigestUpdate(ctx, msg, len) == 1 && EVP_DigestFinal_ex(ctx, out, &got) == 1 &&
           got == md_len;
}
