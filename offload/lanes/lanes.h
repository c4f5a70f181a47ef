/* keyfort offload: the interface between the batch engine and its multi-buffer kernels.
 *
 * A kernel runs up to KF_LANES independent operations side by side, one per 64-bit lane of an
 * AVX-512 register. Every function declared here that lives in a lanes/<alg>_avx512ifma.c file
 * is compiled with AVX-512 IFMA enabled, so it may only be called after the engine's CPU check
 * (offload/select.c) has found avx512f + avx512ifma; that includes the key constructors.
 *
 * Verification handles public data only (keys, messages, signatures), so kernels may branch on
 * it; they never see a secret.
 */
#ifndef KF_OFFLOAD_LANES_H
#define KF_OFFLOAD_LANES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KF_LANES 8

/* ---- RSA public operation (lanes/rsa_avx512ifma.c) ------------------------------------------ */

/* Per-key precomputation: the modulus in 52-bit limbs, Montgomery constants, the exponent. */
struct kf_rsa_ifma_key;

/* Precompute for modulus @p n and public exponent @p e (big-endian, leading zero bytes allowed).
 * Returns NULL when this kernel does not take the size (the engine then uses the scalar path),
 * when n is even or e is 0, or on allocation failure. */
struct kf_rsa_ifma_key *kf_rsa_ifma_key_new(const uint8_t *n, size_t n_len, const uint8_t *e,
                                            size_t e_len);
void kf_rsa_ifma_key_free(struct kf_rsa_ifma_key *k);
/* Keys of the same class may share one kf_rsa_ifma_public call (same limb count). */
unsigned kf_rsa_ifma_key_class(const struct kf_rsa_ifma_key *k);
/* The modulus length in bytes (RSA_size: ceil(bits / 8)). */
size_t kf_rsa_ifma_key_bytes(const struct kf_rsa_ifma_key *k);

/* Encoding slots of a key for kf_rsa_ifma_verify: the engine uses one per hash
 * (offload_rsa_slot). */
#define KF_RSA_IFMA_SLOTS 2

/* Prepare slot @p slot of @p k for verification against encodings @p em0 + H, H any digest of
 * @p digest_len bytes (at most 64) read as a big-endian number: @p em0 is the encoding with an
 * all-zero digest, @p em_len == kf_rsa_ifma_key_bytes(k) bytes, ending in @p digest_len zero
 * bytes. False (and the slot unchanged) if the lengths do not fit, if em0 + 2^(8 digest_len)
 * would exceed n (so an encoding could wrap: PKCS#1 encodings start 00 01 and never do), or on
 * allocation failure. Not thread-safe against calls that use @p k. */
bool kf_rsa_ifma_key_expect(struct kf_rsa_ifma_key *k, unsigned slot, const uint8_t *em0,
                            size_t em_len, size_t digest_len);

/* ok[i] = 1 if sig[i] ^ e_i mod n_i == em0 + digest[i] for the encoding of slot[i] of keys[i]
 * (kf_rsa_ifma_key_expect; a slot never set gives 0), else 0, for lanes 0 .. lanes-1; all keys
 * of one class, sig[i] as for kf_rsa_ifma_public (the caller has checked sig[i] < n_i), digest[i]
 * of the slot's length. Exponents, slots and digest lengths may differ between lanes. */
void kf_rsa_ifma_verify(const struct kf_rsa_ifma_key *const *keys, const uint8_t *const *sig,
                        const unsigned *slot, const uint8_t *const *digest, unsigned lanes,
                        uint8_t *ok);

/* out[i] = in[i] ^ e_i mod n_i for lanes 0 .. lanes-1 (1 <= lanes <= KF_LANES); all keys of
 * one class. in[i] and out[i] are big-endian, kf_rsa_ifma_key_bytes(keys[i]) bytes each, and
 * the caller has checked in[i] < n_i. Exponents may differ between lanes. */
void kf_rsa_ifma_public(const struct kf_rsa_ifma_key *const *keys, const uint8_t *const *in,
                        uint8_t *const *out, unsigned lanes);

/* ---- ECDSA P-256 verification (lanes/p256_avx512ifma.c) ------------------------------------- */

/* Per-key precomputation: the validated point Q and, optionally, a table of its multiples. */
struct kf_p256_ifma_key;

/* @p pub is X || Y, 32 bytes each, big-endian (the DNSSEC algorithm 13 key field; SEC1
 * uncompressed without the 04). Returns NULL if a coordinate is >= p, the point is not on the
 * curve, or on allocation failure. @p table asks for the per-key table (more memory, faster
 * verification). */
struct kf_p256_ifma_key *kf_p256_ifma_key_new(const uint8_t pub[64], bool table);
void kf_p256_ifma_key_free(struct kf_p256_ifma_key *k);

/* ECDSA verification (SEC 1 v2 s4.1.4) of lanes 0 .. lanes-1: digest[i] is 32 bytes (e is the
 * digest read as a big-endian integer), sig[i] is r || s, 32 bytes each, big-endian.
 * ok[i] = 1 if valid, 0 if not (r or s outside [1, n-1], R at infinity, x(R) mod n != r). */
void kf_p256_ifma_verify(const struct kf_p256_ifma_key *const *keys, const uint8_t *const *digest,
                         const uint8_t *const *sig, unsigned lanes, uint8_t *ok);

#endif
