/* provider/rsa_unpad.h - RSA decryption paddings removed in software, in constant time, from
 * the raw c^d mod n a token returns for CKM_RSA_X_509 (provider/asym_rsa.c).
 *
 * Why here and not on the token: SoftHSM2 offers OAEP with SHA-1 only, and a token's own
 * PKCS#1 v1.5 decryption answers a bad padding with an error, which is the Bleichenbacher /
 * Marvin oracle. With the raw value keyfort can give every ciphertext an answer that depends
 * only on the ciphertext and a key-bound secret (implicit rejection, as OpenSSL 3.2+ and
 * draft-irtf-cfrg-rsa-guidance describe it), and decode OAEP with any digest.
 *
 * The encoded message is secret: no branch and no memory index below depends on it. Lengths
 * of the modulus, digests and label are public. */
#ifndef KF_PROVIDER_RSA_UNPAD_H
#define KF_PROVIDER_RSA_UNPAD_H

#include "common/kf_result.h"

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

#define KF_RSA_IR_SECRET_LEN 32

/**
 * PKCS#1 v1.5 type 2 with implicit rejection. @p em is the k-byte raw value, @p c the
 * ciphertext (k bytes, left-padded), @p secret the key's implicit-rejection secret. On a bad
 * padding the output is a synthetic message derived from (secret, c), of a length between 0
 * and k - 11, and the function still succeeds: callers cannot tell the two apart.
 * @p out_cap must be at least k. Errors only for bad arguments or an OpenSSL failure.
 */
KF_RESULT kf_rsa_unpad_pkcs1_ir(OSSL_LIB_CTX *lib, const uint8_t *em, const uint8_t *c, size_t k,
                                const uint8_t secret[KF_RSA_IR_SECRET_LEN], uint8_t *out,
                                size_t out_cap, size_t *out_len);

/** PKCS#1 v1.5 type 2 without implicit rejection (asked for explicitly): KF_ERR_DECRYPT on a
 *  bad padding, after the same constant-time work. */
KF_RESULT kf_rsa_unpad_pkcs1_strict(const uint8_t *em, size_t k, uint8_t *out, size_t out_cap,
                                    size_t *out_len);

/** OAEP (RFC 8017 7.1.2) with @p md and MGF1 over @p mgf1: KF_ERR_DECRYPT, one error for
 *  every kind of failure, after the same constant-time work. */
KF_RESULT kf_rsa_unpad_oaep(const uint8_t *em, size_t k, const EVP_MD *md, const EVP_MD *mgf1,
                            const uint8_t *label, size_t label_len, uint8_t *out, size_t out_cap,
                            size_t *out_len);

/** The TLS RSA key exchange (RFC 5246 7.4.7.1): always 48 bytes out, the pre-master secret
 *  when the padding is good, it is 48 bytes long and starts with @p client_version (or
 *  @p alt_version when non-zero), else @p fallback (48 random bytes chosen by the caller). */
KF_RESULT kf_rsa_unpad_tls(const uint8_t *em, size_t k, unsigned client_version,
                           unsigned alt_version, const uint8_t fallback[48], uint8_t out[48]);

#endif
