/* keyfort offload: EMSA-PKCS1-v1_5 encodings (RFC 8017 s9.2) for the RSA kernel.
 *
 * The kernel does not decode the padding of a signature's public operation: it checks that
 * the result is exactly the expected encoding of the job's digest (lanes/rsa_avx512ifma.c),
 * which costs it far less than producing the result's bytes. So there is no parser of the
 * padding to get wrong, and the verdicts agree with OpenSSL, which for SHA-2 also accepts only
 * the exact encoding (it re-encodes and compares). This file makes the part of the encoding
 * that does not depend on the digest, once per key and hash. */
#include <string.h>

#include "offload/internal.h"

/* DigestInfo prefixes (RFC 8017 s9.2, note 1): the DER of AlgorithmIdentifier with NULL
 * parameters and the OCTET STRING header of the digest. */
static const uint8_t pkcs1_sha256_prefix[] = { 0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60,
                                               0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
                                               0x01, 0x05, 0x00, 0x04, 0x20 };
static const uint8_t pkcs1_sha512_prefix[] = { 0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60,
                                               0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
                                               0x03, 0x05, 0x00, 0x04, 0x40 };

bool offload_pkcs1_zero_encoding(enum kf_offload_alg alg, uint8_t *em, size_t em_len,
                                 size_t *digest_len)
{
    const uint8_t *prefix;
    size_t prefix_len;
    size_t d_len;
    if (alg == KF_OFFLOAD_RSA_PKCS1_SHA256) {
        prefix = pkcs1_sha256_prefix;
        prefix_len = sizeof(pkcs1_sha256_prefix);
        d_len = 32;
    } else if (alg == KF_OFFLOAD_RSA_PKCS1_SHA512) {
        prefix = pkcs1_sha512_prefix;
        prefix_len = sizeof(pkcs1_sha512_prefix);
        d_len = 64;
    } else {
        return false;
    }
    size_t t_len = prefix_len + d_len;
    /* Step 3: at least 8 bytes of 0xff padding. */
    if (em_len < t_len + 11) {
        return false;
    }
    /* Step 5: 00 01 PS 00 T, T = prefix || digest (zero here). */
    size_t ps_end = em_len - t_len - 1;
    em[0] = 0x00;
    em[1] = 0x01;
    memset(em + 2, 0xff, ps_end - 2);
    em[ps_end] = 0x00;
    memcpy(em + ps_end + 1, prefix, prefix_len);
    memset(em + ps_end + 1 + prefix_len, 0, d_len);
    *digest_len = d_len;
    return true;
}
