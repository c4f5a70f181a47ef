/* keyfort offload: the batch engine for signature verification (docs/offload.md).
 *
 * Many independent verifications (RRSIGs of a zone, TLS handshakes at a gateway) are gathered
 * and run as batches: same-kind jobs go through a multi-buffer kernel (8 lanes of AVX-512 IFMA)
 * when the CPU has one, everything else through OpenSSL (the scalar backend, the reference).
 *
 * Two ways in:
 *  - kf_offload_verify_many(): synchronous, on the caller's thread, in batches; many threads
 *    may call it at once on one engine (or on none: NULL means "inline, default backend").
 *  - kf_offload_submit(): asynchronous, never blocks; worker threads form batches (a partial
 *    batch waits at most the flush deadline) and report each job's verdict by callback, by
 *    kf_offload_poll(), and on an eventfd.
 *
 * Each job gets its own verdict: one bad signature never fails its batch-mates.
 */
#ifndef KF_OFFLOAD_OFFLOAD_H
#define KF_OFFLOAD_OFFLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "common/kf_result.h"

/* Signature schemes. Values are keyfort's own; dnssec/ maps DNSSEC algorithm numbers. */
enum kf_offload_alg {
    KF_OFFLOAD_RSA_PKCS1_SHA256 = 1, /* RSASSA-PKCS1-v1_5 (DNSSEC 8) */
    KF_OFFLOAD_RSA_PKCS1_SHA512,     /* (DNSSEC 10) */
    KF_OFFLOAD_ECDSA_P256_SHA256,    /* r || s, 64 bytes (DNSSEC 13) */
    KF_OFFLOAD_ECDSA_P384_SHA384,    /* r || s, 96 bytes (DNSSEC 14) */
    KF_OFFLOAD_ED25519,              /* pure EdDSA: message only, no digest (DNSSEC 15) */
    KF_OFFLOAD_ED448,                /* (DNSSEC 16) */
};

enum kf_offload_backend {
    KF_OFFLOAD_BACKEND_AUTO = 0, /* the best the CPU has, unless $KEYFORT_OFFLOAD names one */
    KF_OFFLOAD_BACKEND_SCALAR,   /* OpenSSL EVP, one job at a time */
    KF_OFFLOAD_BACKEND_AVX512IFMA,
};

enum kf_offload_verdict {
    KF_OFFLOAD_PENDING = 0,
    KF_OFFLOAD_VALID,
    KF_OFFLOAD_INVALID, /* the signature does not verify (or cannot be a signature: length) */
    KF_OFFLOAD_ERROR,   /* the job could not be checked; err says why */
};

/* ---- backends ------------------------------------------------------------------------------ */

/* The backend AUTO resolves to in this process: $KEYFORT_OFFLOAD=scalar|avx512ifma if set
 * (a backend the CPU lacks is refused with a warning and the best available is used), else
 * avx512ifma if CPUID shows avx512f and avx512ifma (and the OS saves ZMM state), else scalar.
 * Decided once per process. */
enum kf_offload_backend kf_offload_backend_default(void);
/* Whether this CPU can run @p b. */
bool kf_offload_backend_available(enum kf_offload_backend b);
/* "scalar", "avx512ifma" ("auto" for AUTO). */
const char *kf_offload_backend_name(enum kf_offload_backend b);
/* Parse a backend name. Errors: INVALID_ARG (unknown name, named in the context). */
KF_RESULT kf_offload_backend_parse(const char *name, enum kf_offload_backend *out_b);

/* ---- public keys ---------------------------------------------------------------------------- */

/* A public key parsed once, with its per-key precomputation (Montgomery constants for RSA, the
 * validated point and an optional table of multiples for P-256) and an EVP_PKEY for the scalar
 * path. Immutable after creation: any number of threads may use one at once. It must outlive
 * every job that names it. */
struct kf_offload_key;

#define KF_OFFLOAD_KEY_TABLE 0x1u /* P-256: build a per-key table (~faster, more memory) */

/* RSA from modulus and public exponent (big-endian). Errors: MALFORMED (even or tiny modulus,
 * zero exponent), NOMEM, OPENSSL. */
KF_RESULT kf_offload_key_new_rsa(const uint8_t *n, size_t n_len, const uint8_t *e, size_t e_len,
                                 unsigned flags, struct kf_offload_key **out_key);
/* ECDSA P-256 or P-384 from X || Y (the DNSSEC key field). @p alg picks the curve.
 * Errors: MALFORMED (wrong length, not a point on the curve), UNSUPPORTED, NOMEM. */
KF_RESULT kf_offload_key_new_ec(enum kf_offload_alg alg, const uint8_t *xy, size_t len,
                                unsigned flags, struct kf_offload_key **out_key);
/* Ed25519 / Ed448 from the raw public key. Errors: MALFORMED, UNSUPPORTED, NOMEM. */
KF_RESULT kf_offload_key_new_eddsa(enum kf_offload_alg alg, const uint8_t *pub, size_t len,
                                   struct kf_offload_key **out_key);
/* From an OpenSSL public key (RSA, EC P-256/P-384, Ed25519, Ed448); @p pkey is not taken.
 * Errors: UNSUPPORTED (other types and curves), MALFORMED, NOMEM, OPENSSL. */
KF_RESULT kf_offload_key_from_pkey(EVP_PKEY *pkey, unsigned flags, struct kf_offload_key **out_key);
void kf_offload_key_free(struct kf_offload_key *key);
/* Whether a multi-buffer kernel holds precomputation for this key (else: scalar only). */
bool kf_offload_key_has_lanes(const struct kf_offload_key *key);

/* ---- jobs ---------------------------------------------------------------------------------- */

#define KF_OFFLOAD_JOB_DIGEST 0x1u /* msg is already the digest (not for EdDSA) */

struct kf_offload_job {
    enum kf_offload_alg alg; /* must match the key's type */
    const struct kf_offload_key *key;
    const uint8_t *msg; /* the signed message, or its digest with KF_OFFLOAD_JOB_DIGEST */
    size_t msg_len;
    const uint8_t *sig;
    size_t sig_len;
    uint64_t tag; /* the caller's, returned with the verdict */
    unsigned flags;
    /* Out, set by kf_offload_verify_many (submit copies the job; see the completion). */
    enum kf_offload_verdict verdict;
    int32_t err; /* kf_err code when verdict is ERROR, else 0 */
};

struct kf_offload_completion {
    uint64_t tag;
    enum kf_offload_verdict verdict;
    int32_t err;
};

/* ---- the engine ---------------------------------------------------------------------------- */

struct kf_offload_engine;

/* Called on a worker thread with the verdicts of one batch, in no particular order. Must not
 * call kf_offload_engine_free(); may call kf_offload_submit(). */
typedef void kf_offload_done_fn(void *arg, const struct kf_offload_completion *done, size_t n);

struct kf_offload_config {
    unsigned workers;     /* worker threads for submit (0: synchronous use only) */
    unsigned max_batch;   /* jobs one worker takes at once (default 64) */
    unsigned queue_depth; /* jobs accepted and not yet handed over (default 4096): in poll
                             mode a completion counts until it is polled, so a caller that
                             never polls gets RETRY once this many wait */
    unsigned flush_us;    /* a partial batch waits at most this long (default 100) */
    unsigned min_lanes;   /* fewer same-kind jobs than this go to the scalar path (default 3) */
    enum kf_offload_backend backend;
    /* Completions: the callback if set, else a queue read with kf_offload_poll(). */
    kf_offload_done_fn *on_done;
    void *on_done_arg;
};

/* Errors: INVALID_ARG (a backend this CPU lacks, zero sizes), NOMEM, THREAD. Zero fields of
 * @p cfg (or cfg NULL) take the defaults. */
KF_RESULT kf_offload_engine_new(const struct kf_offload_config *cfg,
                                struct kf_offload_engine **out_engine);
/* Completes every accepted job (callbacks run), then stops the workers. NULL is a no-op. */
void kf_offload_engine_free(struct kf_offload_engine *e);
enum kf_offload_backend kf_offload_engine_backend(const struct kf_offload_engine *e);

/* Check @p n jobs now, on this thread, and set each one's verdict and err. @p e may be NULL
 * (default backend and sizes). Thread-safe. */
void kf_offload_verify_many(const struct kf_offload_engine *e, struct kf_offload_job *jobs,
                            size_t n);

/* Queue up to @p n jobs (copied; the bytes they point to must stay valid until completion).
 * *out_accepted says how many were taken, in order. Never blocks. Errors: RETRY (the queue is
 * full: *out_accepted < n), UNSUPPORTED (the engine has no workers), NULL. */
KF_RESULT kf_offload_submit(struct kf_offload_engine *e, const struct kf_offload_job *jobs,
                            size_t n, size_t *out_accepted);
/* Take up to @p cap completions (poll mode only). Never blocks. */
size_t kf_offload_poll(struct kf_offload_engine *e, struct kf_offload_completion *out, size_t cap);
/* An eventfd that is readable while completions wait in the poll queue; read it (8 bytes) to
 * clear it before polling. Owned by the engine. -1 in callback mode. */
int kf_offload_eventfd(const struct kf_offload_engine *e);
/* Wait until every job submitted so far has completed (its callback has returned or its
 * completion is in the poll queue). */
void kf_offload_drain(struct kf_offload_engine *e);

/* Counters since creation, for benchmarks and the CLI. */
struct kf_offload_stats {
    uint64_t jobs;        /* verdicts given */
    uint64_t lane_calls;  /* kernel calls */
    uint64_t lane_jobs;   /* jobs that went through a kernel */
    uint64_t scalar_jobs; /* jobs checked by the scalar backend */
    uint64_t early_jobs;  /* settled by shape checks alone (error, wrong signature length,
                             RSA signature not below the modulus): jobs = lane + scalar + early */
    uint64_t deadline_flushes;
};
void kf_offload_engine_stats(const struct kf_offload_engine *e, struct kf_offload_stats *out);

#endif
