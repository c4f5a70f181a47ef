/* tests/unit/offload/offload_fixture.h - what the offload engine's Criterion tests share
 * (STYLE.md s14): fixed RSA keys, EC group arithmetic for building cases, signing, the
 * OpenSSL reference verdict, EMSA-PKCS1-v1_5 encodings, engine creation and stats checks.
 *
 * Used by test_differential.c, test_edge.c and test_queue_stress.c (the library
 * kf_offload_test_fixture in this folder's CMakeLists.txt). Not by tsan_queue.c: that one is a
 * plain program without Criterion. Functions that assert do so with cr_assert*, so they must
 * run on the test's thread; the few that may run elsewhere say so. There is no global mutable
 * state: randomness is a caller-held splitmix64 state, and scratch BN_CTXs belong to a group
 * or to one call.
 */
#ifndef KF_TESTS_OFFLOAD_FIXTURE_H
#define KF_TESTS_OFFLOAD_FIXTURE_H

#include "offload/offload.h"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- randomness, environment, printing ---------------------------------------------------- */

/** @brief The next splitmix64 output; @p s is the caller's state, so (seed, draws) names a value.
 *  Does not assert: any thread. */
uint64_t fixture_rng_next(uint64_t *s);
/** @brief A value in [0, @p n) from @p s (n > 0). */
size_t fixture_rng_below(uint64_t *s, size_t n);
/** @brief @p n bytes from @p s into @p p. */
void fixture_rng_fill(uint64_t *s, uint8_t *p, size_t n);
/** @brief The environment variable @p name as a number (strtoull base 0), @p dflt when unset
 *  or empty; asserts that a set value is a number. */
uint64_t fixture_env_u64(const char *name, uint64_t dflt);
/** @brief Lower-case hex of @p p (@p n bytes) into @p buf of @p size bytes, cut to fit and
 *  always terminated (size > 0). @return @p buf (caller-owned). Does not assert. */
const char *fixture_hex(char *buf, size_t size, const uint8_t *p, size_t n);
/** @brief "VALID", "INVALID", "ERROR", "PENDING" or "(not a verdict)": a static string. */
const char *fixture_verdict_name(enum kf_offload_verdict v);

/* ---- big-endian arithmetic on byte strings ------------------------------------------------ */

/** @brief out = a + b over @p len bytes (out may alias a or b). @return the carry out. */
bool fixture_be_add(uint8_t *out, const uint8_t *a, const uint8_t *b, size_t len);
/** @brief out = a - b over @p len bytes, a >= b (out may alias a or b). */
void fixture_be_sub(uint8_t *out, const uint8_t *a, const uint8_t *b, size_t len);
/** @brief out = v (< 256) over @p len bytes (len > 0). */
void fixture_be_small(uint8_t *out, size_t len, unsigned v);

/* ---- fixed RSA keys (test-only, generated for these tests): primes p and q ---------------- */

struct fixture_rsa_key {
    int bits;
    uint64_t e;
    const char *p; /* hex */
    const char *q;
};

extern const struct fixture_rsa_key fixture_rsa_a;    /* 2048-bit, e = 65537 */
extern const struct fixture_rsa_key fixture_rsa_b;    /* 2048-bit, e = 65537 */
extern const struct fixture_rsa_key fixture_rsa_e3;   /* 2048-bit, e = 3 */
extern const struct fixture_rsa_key fixture_rsa_ebig; /* 2048-bit, e = 4294967311 */
extern const struct fixture_rsa_key fixture_rsa_1024; /* 1024-bit, e = 65537 */
extern const struct fixture_rsa_key fixture_rsa_2047; /* 2047-bit, e = 65537 */
extern const struct fixture_rsa_key fixture_rsa_2049; /* 2049-bit, e = 3 */
extern const struct fixture_rsa_key fixture_rsa_3072; /* 3072-bit, e = 65537 */
extern const struct fixture_rsa_key fixture_rsa_4096; /* 4096-bit, e = 65537 */

/** @brief The key pair with CRT parameters; asserts the modulus has h->bits bits.
 *  @return a new EVP_PKEY, owned by the caller (EVP_PKEY_free). */
EVP_PKEY *fixture_rsa_load(const struct fixture_rsa_key *h);
/** @brief The modulus of @p pk, big-endian, padded to RSA_size bytes, into @p n (@p size bytes
 *  at least). @return RSA_size (the signature length k). */
size_t fixture_rsa_modulus(EVP_PKEY *pk, uint8_t *n, size_t size);
/** @brief kf_offload_key_new_rsa() on @p n and @p e as minimal big-endian bytes; asserts OK.
 *  @return the engine key, owned by the caller (kf_offload_key_free). */
struct kf_offload_key *fixture_kf_rsa(const uint8_t *n, size_t n_len, uint64_t e);
/** @brief kf_offload_key_from_pkey() with @p flags; asserts OK. @return the caller's key. */
struct kf_offload_key *fixture_kf_from_pkey(EVP_PKEY *pk, unsigned flags);

/* ---- EC groups (P-256, P-384) ------------------------------------------------------------- */

struct fixture_ec_group {
    EC_GROUP *g;
    BIGNUM *n, *p, *b; /* order, field prime, curve coefficient b (a = -3) */
    BN_CTX *bnc;       /* scratch for this group's arithmetic: one thread at a time */
    size_t comp;       /* bytes of a coordinate, of r and of s */
    const char *name;  /* OSSL_PKEY_PARAM_GROUP_NAME: "P-256" or "P-384" */
};

/** @brief Set up @p w for NID_X9_62_prime256v1 or NID_secp384r1; free with
 *  fixture_ec_group_free(). */
void fixture_ec_group_init(struct fixture_ec_group *w, int nid);
/** @brief Frees what fixture_ec_group_init() made and zeroes @p w; a zeroed @p w is a no-op. */
void fixture_ec_group_free(struct fixture_ec_group *w);
/** @brief A scalar in [1, n-1] from @p rng (comp random bytes mod n, redrawn on 0) into @p out. */
void fixture_ec_random_scalar(uint64_t *rng, const struct fixture_ec_group *w, BIGNUM *out);
/** @brief X || Y of @p pt (2 comp bytes) into @p xy. */
void fixture_ec_point_xy(const struct fixture_ec_group *w, const EC_POINT *pt, uint8_t *xy);
/** @brief X || Y of d G into @p xy. */
void fixture_ec_pub_xy(const struct fixture_ec_group *w, const BIGNUM *d, uint8_t *xy);
/** @brief The point with this x (either root), or NULL when x^3 - 3x + b is not a square mod p.
 *  @return a new EC_POINT owned by the caller, or NULL. */
EC_POINT *fixture_ec_point_from_x(const struct fixture_ec_group *w, const BIGNUM *x);
/** @brief OpenSSL's import of X || Y (@p len bytes, at most 144) as a public key on @p group.
 *  @return a new EVP_PKEY owned by the caller, or NULL when OpenSSL refuses it. */
EVP_PKEY *fixture_ec_pub_pkey(const char *group, const uint8_t *xy, size_t len);
/** @brief ECDSA (SEC 1 v2 s4.1.3) of @p digest (its leftmost comp bytes) with private key @p d
 *  and nonce @p k, as r || s into @p sig (2 comp bytes).
 *  @return false, @p sig unwritten, when r or s came out 0 (draw another nonce). */
bool fixture_ecdsa_sign_digest(const struct fixture_ec_group *w, const BIGNUM *d,
                               const uint8_t *digest, size_t dlen, const BIGNUM *k, uint8_t *sig);
/** @brief r || s (@p comp bytes each) as the DER ECDSA-Sig-Value OpenSSL verifies (RFC 3279
 *  s2.2.3) into @p der (@p size bytes). @return its length, 0 on failure. Does not assert. */
size_t fixture_ecdsa_rs_to_der(const uint8_t *rs, size_t comp, uint8_t *der, size_t size);
/** @brief A DER ECDSA-Sig-Value to r || s of @p comp bytes each (RFC 6605 s4) into @p rs, which
 *  may be @p der itself. Asserts the DER parses and r and s fit. */
void fixture_ecdsa_der_to_rs(const uint8_t *der, size_t der_len, size_t comp, uint8_t *rs);

/* ---- EdDSA -------------------------------------------------------------------------------- */

/** @brief An Ed25519 or Ed448 (@p alg) private key from @p rng; its raw public key goes to
 *  @p pub (57 bytes of room) and @p pub_len. @return the private EVP_PKEY, caller-owned. */
EVP_PKEY *fixture_eddsa_keygen(uint64_t *rng, enum kf_offload_alg alg, uint8_t *pub,
                               size_t *pub_len);

/* ---- signing and the reference verdict ---------------------------------------------------- */

/** @brief EVP_Digest of @p msg into @p out. @return the digest's length. */
size_t fixture_digest(const EVP_MD *md, const uint8_t *msg, size_t len, uint8_t *out);
/** @brief EVP_DigestSign with @p md (NULL for EdDSA) into @p sig (@p size bytes).
 *  @return the signature's length. ECDSA signatures come out in DER. */
size_t fixture_sign(EVP_PKEY *pk, const EVP_MD *md, const uint8_t *msg, size_t len, uint8_t *sig,
                    size_t size);
/** @brief OpenSSL's verdict, asked directly (never through the engine).
 *  @p rs_comp: for ECDSA, @p sig is r || s of rs_comp bytes each (RFC 6605 s4; any other length
 *  is no signature) and is handed to OpenSSL in DER; 0: @p sig goes as it is.
 *  @p digest: @p msg is the digest (EVP_PKEY_verify, PKCS#1 v1.5 padding for RSA), else the
 *  message (EVP_DigestVerify). @p md is NULL for EdDSA.
 *  @return 1 valid, 0 not, -1 when OpenSSL could not be asked (allocation). Does not assert,
 *  so it may run on any thread; it clears OpenSSL's error queue. */
int fixture_ossl_verify(EVP_PKEY *pk, const EVP_MD *md, size_t rs_comp, bool digest,
                        const uint8_t *msg, size_t msg_len, const uint8_t *sig, size_t sig_len);

/* ---- EMSA-PKCS1-v1_5 (RFC 8017 s9.2) ------------------------------------------------------ */

/* DigestInfo prefixes from RFC 8017 s9.2 note 1: up to and including the OCTET STRING header. */
extern const uint8_t fixture_di_sha1[15];
extern const uint8_t fixture_di_sha256[19];
extern const uint8_t fixture_di_sha512[19];

/** @brief T = DigestInfo || H(msg) for SHA-1, SHA-256 or SHA-512 into @p t (83 bytes of room).
 *  @return its length. */
size_t fixture_emsa_t(const EVP_MD *md, const uint8_t *msg, size_t len, uint8_t *t);
/** @brief EM = 00 01 PS 00 T over @p k bytes (RFC 8017 s9.2 step 5), PS all FF; asserts
 *  tl + 11 <= k. @return the length of PS. */
size_t fixture_emsa_put(uint8_t *em, size_t k, const uint8_t *t, size_t tl);
/** @brief s = EM^d mod n (the raw private operation, RSA_NO_PADDING) into @p sig, @p k bytes:
 *  so a wrong encoding becomes a real signature. */
void fixture_rsa_raw_sign(EVP_PKEY *pk, const uint8_t *em, size_t k, uint8_t *sig);

/* ---- the engine --------------------------------------------------------------------------- */

/** @brief Prints "@p test: backend B (KEYFORT_OFFLOAD=...)" to stderr and asserts the default
 *  backend is the one $KEYFORT_OFFLOAD asks for (where the CPU has it).
 *  @return the default backend, the one under test. */
enum kf_offload_backend fixture_announce(const char *test);
/** @brief kf_offload_engine_new(@p cfg); asserts OK, the default backend, and an eventfd exactly
 *  in poll mode (workers and no callback, offload.h). @return the engine, caller-owned. */
struct kf_offload_engine *fixture_engine_new(const struct kf_offload_config *cfg);
/** @brief Under the AVX-512 IFMA backend, asserts @p key holds kernel precomputation. */
void fixture_expect_lanes(const struct kf_offload_key *key, const char *what);
/** @brief Prints @p e's stats and asserts they add up: @p jobs verdicts, each counted once as a
 *  lane, scalar or early job, and no more kernel calls than lane jobs. The stats go to @p st. */
void fixture_check_stats(const char *what, const struct kf_offload_engine *e, uint64_t jobs,
                         struct kf_offload_stats *st);

#endif
