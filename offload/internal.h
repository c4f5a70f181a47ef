/* keyfort offload: what the engine's files share (not part of the public API). */
#ifndef KF_OFFLOAD_INTERNAL_H
#define KF_OFFLOAD_INTERNAL_H

#include <stdatomic.h>

#include "offload/lanes/lanes.h"
#include "offload/offload.h"

enum offload_key_type {
    OFFLOAD_KEY_RSA = 1,
    OFFLOAD_KEY_P256,
    OFFLOAD_KEY_P384,
    OFFLOAD_KEY_ED25519,
    OFFLOAD_KEY_ED448,
};

struct kf_offload_key {
    enum offload_key_type type;
    EVP_PKEY *pkey; /* the scalar path's key */
    /* RSA: the modulus, big-endian, exactly RSA_size bytes (for the signature < n check). */
    uint8_t *n;
    size_t n_len;
    /* Kernel precomputation, present only where the CPU has the kernel and it takes the key. */
    struct kf_rsa_ifma_key *rsa_lanes;
    struct kf_p256_ifma_key *p256_lanes;
};

/* The settings a batch runs with (an engine's, or the defaults for a NULL engine) and the
 * counters it adds to (NULL: none). */
struct offload_stats {
    atomic_uint_fast64_t jobs, lane_calls, lane_jobs, scalar_jobs, early_jobs, deadline_flushes;
};
struct offload_run {
    enum kf_offload_backend backend; /* resolved: never AUTO */
    unsigned min_lanes;
    struct offload_stats *stats;
};

/* Largest digest the engine computes (SHA-512). */
#define OFFLOAD_MAX_DIGEST 64
/* Jobs one batch pass handles at most (stack arrays are sized by it). */
#define OFFLOAD_PASS 64

/* select.c: the CPU check behind kf_offload_backend_available(), and the kernels' ops table:
 * NULL unless this build has the AVX-512 IFMA kernels and this CPU can run them. */
bool offload_cpu_has_ifma(void);
struct offload_lanes_ops {
    struct kf_rsa_ifma_key *(*rsa_key_new)(const uint8_t *n, size_t n_len, const uint8_t *e,
                                           size_t e_len);
    void (*rsa_key_free)(struct kf_rsa_ifma_key *k);
    unsigned (*rsa_key_class)(const struct kf_rsa_ifma_key *k);
    bool (*rsa_key_expect)(struct kf_rsa_ifma_key *k, unsigned slot, const uint8_t *em0,
                           size_t em_len, size_t digest_len);
    void (*rsa_verify)(const struct kf_rsa_ifma_key *const *keys, const uint8_t *const *sig,
                       const unsigned *slot, const uint8_t *const *digest, unsigned lanes,
                       uint8_t *ok);
    struct kf_p256_ifma_key *(*p256_key_new)(const uint8_t pub[64], bool table);
    void (*p256_key_free)(struct kf_p256_ifma_key *k);
    void (*p256_verify)(const struct kf_p256_ifma_key *const *keys, const uint8_t *const *digest,
                        const uint8_t *const *sig, unsigned lanes, uint8_t *ok);
};
const struct offload_lanes_ops *offload_lanes(void);

/* key.c: whether @p alg may be used with @p key. */
bool offload_key_fits(const struct kf_offload_key *key, enum kf_offload_alg alg);

/* digest.c: the digest an algorithm signs (NULL for EdDSA), and the hashing of a job. */
const EVP_MD *offload_alg_md(enum kf_offload_alg alg);
size_t offload_alg_md_len(enum kf_offload_alg alg);
/* The SHA-2 digest of @p md_len bytes (32, 48, 64) of @p msg into @p out, through @p ctx (reused
 * across calls). False on an OpenSSL failure or a NULL context. */
bool offload_digest(EVP_MD_CTX *ctx, size_t md_len, const uint8_t *msg, size_t len, uint8_t *out);

/* scalar.c: one job through OpenSSL; @p digest is the job's digest (NULL for EdDSA, which
 * signs the message itself). Returns VALID or INVALID, or ERROR with *out_err. */
enum kf_offload_verdict offload_scalar_verify(const struct kf_offload_job *job,
                                              const uint8_t *digest, size_t digest_len,
                                              int32_t *out_err);

/* rsa_pkcs1.c: the EMSA-PKCS1-v1_5 encoding (RFC 8017 s9.2) of an all-zero digest for the RSA
 * algorithm @p alg in @p em (@p em_len bytes, the modulus length), and the digest length in
 * *digest_len: what a kernel key's encoding slot is made from (kf_rsa_ifma_key_expect). False
 * if @p alg is not RSA or the encoding does not fit @p em_len. */
bool offload_pkcs1_zero_encoding(enum kf_offload_alg alg, uint8_t *em, size_t em_len,
                                 size_t *digest_len);

/* The encoding slot of a kernel key (lanes.h) that @p alg's signatures are checked against. */
static inline unsigned offload_rsa_slot(enum kf_offload_alg alg)
{
    return alg == KF_OFFLOAD_RSA_PKCS1_SHA512 ? 1 : 0;
}

/* batch.c: check @p n (<= OFFLOAD_PASS) jobs; sets verdict and err of each. */
void offload_batch_run(const struct offload_run *run, struct kf_offload_job *const *jobs, size_t n);

#endif
