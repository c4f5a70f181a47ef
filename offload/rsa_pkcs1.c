/* keyfort offload: the EMSA-PKCS1-v1_5 check after a kernel's RSA public operation.
 *
 * The expected encoding is built from the digest and compared with the whole output, every
 * byte, folding differences into one accumulator: the work depends on the lengths only, never
 * on where the first difference is (a signature check need not hide that, but a padding
 * oracle is not something to build by accident), and there is no parser of the padding to get
 * wrong. Accepting only the exact encoding is what OpenSSL does for SHA-2 (it re-encodes and
 * compares), so the verdicts agree. */
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

bool offload_pkcs1_check(enum kf_offload_alg alg, const uint8_t *em, size_t em_len,
                         const uint8_t *digest, size_t digest_len)
{
    const uint8_t *prefix;
    size_t prefix_len;
    if (alg == KF_OFFLOAD_RSA_PKCS1_SHA256 && digest_len == 32) {
        prefix = pkcs1_sha256_prefix;
        prefix_len = sizeof(pkcs1_sha256_prefix);
    } else if (alg == KF_OFFLOAD_RSA_PKCS1_SHA512 && digest_len == 64) {
        prefix = pkcs1_sha512_prefix;
        prefix_len = sizeof(pkcs1_sha512_prefix);
    } else {
        return false;
    }
    size_t t_len = prefix_len + digest_len;
    /* RFC 8017 s9.2 step 3: at least 8 bytes of 0xff padding. */
    if (em_len < t_len + 11) {
        return false;
    }
    size_t ps_end = em_len - t_len - 1; /* index of the 00 separator */
    uint8_t diff = em[0] | (uint8_t)(em[1] ^ 0x01) | em[ps_end];
    for (size_t i = 2; i < ps_end; i++) {
        diff |= (uint8_t)(em[i] ^ 0xff);
    }
    for (size_t i = 0; i < prefix_len; i++) {
        diff |= (uint8_t)(em[ps_end + 1 + i] ^ prefix[i]);
    }
    for (size_t i = 0; i < digest_len; i++) {
        diff |= (uint8_t)(em[ps_end + 1 + prefix_len + i] ^ digest[i]);
    }
    return diff == 0;
}
