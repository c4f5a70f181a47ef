/* keyfort offload: one batch pass. Jobs are checked for shape, hashed, sorted into kernel
 * groups (RSA by limb class, P-256) and run KF_LANES at a time; whatever no kernel takes, and
 * groups too small to fill enough lanes, goes to the scalar backend. Each job gets its own
 * verdict: a bad lane marks its job and nothing else. */
#include <openssl/sha.h>
#include <string.h>

#include "offload/internal.h"

struct batch_state {
    const struct offload_run *run;
    const struct offload_lanes_ops *ops; /* the kernels, when the run uses them */
    struct kf_offload_job *const *jobs;
    uint8_t digest[OFFLOAD_PASS][OFFLOAD_MAX_DIGEST];
    size_t digest_len[OFFLOAD_PASS];
    size_t scalar[OFFLOAD_PASS]; /* job indices for the scalar backend */
    size_t n_scalar;
    EVP_MD_CTX *md_ctx; /* made at the first digest, freed at the end of the run */
};

/* Add to one counter of the run's stats, if it keeps any. */
#define BATCH_COUNT(run, field, v)                                                                 \
    do {                                                                                           \
        if ((run)->stats != NULL) {                                                                \
            atomic_fetch_add_explicit(&(run)->stats->field, (v), memory_order_relaxed);            \
        }                                                                                          \
    } while (0)

static void batch_set(struct kf_offload_job *job, enum kf_offload_verdict v, int32_t err)
{
    job->verdict = v;
    job->err = err;
}

/* Shape checks and the digest. Returns false if the job already has its verdict. */
static bool batch_prepare(struct batch_state *b, size_t i)
{
    struct kf_offload_job *job = b->jobs[i];
    if (job->key == NULL || job->sig == NULL || (job->msg == NULL && job->msg_len != 0)) {
        batch_set(job, KF_OFFLOAD_ERROR, KF_ERR_NULL);
        return false;
    }
    if (!offload_key_fits(job->key, job->alg)) {
        batch_set(job, KF_OFFLOAD_ERROR, KF_ERR_INVALID_ARG); /* algorithm and key disagree */
        return false;
    }
    size_t md_len = offload_alg_md_len(job->alg);
    b->digest_len[i] = md_len;
    if (md_len == 0) { /* EdDSA: the message itself is signed */
        if ((job->flags & KF_OFFLOAD_JOB_DIGEST) != 0) {
            batch_set(job, KF_OFFLOAD_ERROR, KF_ERR_UNSUPPORTED);
            return false;
        }
        return true;
    }
    if ((job->flags & KF_OFFLOAD_JOB_DIGEST) != 0) {
        if (job->msg_len != md_len) {
            batch_set(job, KF_OFFLOAD_ERROR, KF_ERR_MALFORMED);
            return false;
        }
        memcpy(b->digest[i], job->msg, md_len);
        return true;
    }
    if (b->md_ctx == NULL) {
        b->md_ctx = EVP_MD_CTX_new();
    }
    if (!offload_digest(b->md_ctx, md_len, job->msg, job->msg_len, b->digest[i])) {
        batch_set(job, KF_OFFLOAD_ERROR, b->md_ctx == NULL ? KF_ERR_NOMEM : KF_ERR_OPENSSL);
        return false;
    }
    return true;
}

static void batch_to_scalar(struct batch_state *b, const size_t *idx, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        b->scalar[b->n_scalar++] = idx[i];
    }
}

/* Up to KF_LANES RSA jobs of one class through the kernel, which also checks the encoding. */
static void batch_rsa_lanes(struct batch_state *b, const size_t *idx, size_t n)
{
    const struct kf_rsa_ifma_key *keys[KF_LANES];
    const uint8_t *sig[KF_LANES];
    const uint8_t *dg[KF_LANES];
    unsigned slot[KF_LANES];
    uint8_t ok[KF_LANES];
    for (size_t l = 0; l < n; l++) {
        const struct kf_offload_job *job = b->jobs[idx[l]];
        keys[l] = job->key->rsa_lanes;
        sig[l] = job->sig;
        dg[l] = b->digest[idx[l]];
        slot[l] = offload_rsa_slot(job->alg);
    }
    b->ops->rsa_verify(keys, sig, slot, dg, (unsigned)n, ok);
    for (size_t l = 0; l < n; l++) {
        batch_set(b->jobs[idx[l]], ok[l] == 1 ? KF_OFFLOAD_VALID : KF_OFFLOAD_INVALID, 0);
    }
    BATCH_COUNT(b->run, lane_calls, 1);
    BATCH_COUNT(b->run, lane_jobs, n);
}

static void batch_p256_lanes(struct batch_state *b, const size_t *idx, size_t n)
{
    const struct kf_p256_ifma_key *keys[KF_LANES];
    const uint8_t *dg[KF_LANES];
    const uint8_t *sig[KF_LANES];
    uint8_t ok[KF_LANES];
    for (size_t l = 0; l < n; l++) {
        const struct kf_offload_job *job = b->jobs[idx[l]];
        keys[l] = job->key->p256_lanes;
        dg[l] = b->digest[idx[l]];
        sig[l] = job->sig;
    }
    b->ops->p256_verify(keys, dg, sig, (unsigned)n, ok);
    for (size_t l = 0; l < n; l++) {
        batch_set(b->jobs[idx[l]], ok[l] == 1 ? KF_OFFLOAD_VALID : KF_OFFLOAD_INVALID, 0);
    }
    BATCH_COUNT(b->run, lane_calls, 1);
    BATCH_COUNT(b->run, lane_jobs, n);
}

/* A group of same-kind jobs in lane-sized chunks; a last chunk smaller than min_lanes goes to
 * the scalar path, where one job costs less than a mostly empty kernel call. */
static void batch_group(struct batch_state *b, const size_t *idx, size_t n,
                        void (*lanes)(struct batch_state *, const size_t *, size_t))
{
    size_t at = 0;
    while (at < n) {
        size_t take = n - at < KF_LANES ? n - at : KF_LANES;
        if (take < b->run->min_lanes) {
            batch_to_scalar(b, idx + at, take);
        } else {
            lanes(b, idx + at, take);
        }
        at += take;
    }
}

/* RSA jobs sorted by kernel class (stable), so each class runs as full lanes as it can. */
static void batch_rsa(struct batch_state *b, size_t *idx, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        size_t v = idx[i];
        unsigned c = b->ops->rsa_key_class(b->jobs[v]->key->rsa_lanes);
        size_t j = i;
        while (j > 0 && b->ops->rsa_key_class(b->jobs[idx[j - 1]]->key->rsa_lanes) > c) {
            idx[j] = idx[j - 1];
            j--;
        }
        idx[j] = v;
    }
    size_t from = 0;
    while (from < n) {
        unsigned c = b->ops->rsa_key_class(b->jobs[idx[from]]->key->rsa_lanes);
        size_t to = from + 1;
        while (to < n && b->ops->rsa_key_class(b->jobs[idx[to]]->key->rsa_lanes) == c) {
            to++;
        }
        batch_group(b, idx + from, to - from, batch_rsa_lanes);
        from = to;
    }
}

void offload_batch_run(const struct offload_run *run, struct kf_offload_job *const *jobs, size_t n)
{
    struct batch_state b = { .run = run, .jobs = jobs };
    size_t rsa[OFFLOAD_PASS], p256[OFFLOAD_PASS];
    size_t n_rsa = 0, n_p256 = 0, n_early = 0;
    b.ops = run->backend == KF_OFFLOAD_BACKEND_AVX512IFMA ? offload_lanes() : NULL;
    bool lanes = b.ops != NULL;
    for (size_t i = 0; i < n; i++) {
        struct kf_offload_job *job = jobs[i];
        batch_set(job, KF_OFFLOAD_PENDING, 0);
        if (!batch_prepare(&b, i)) {
            n_early++;
            continue;
        }
        const struct kf_offload_key *k = job->key;
        if (lanes && k->rsa_lanes != NULL) {
            /* What OpenSSL refuses before any arithmetic: a signature that is not exactly
             * the modulus length, or not below the modulus (RFC 8017 s5.2.2 step 1). */
            if (job->sig_len != k->n_len || memcmp(job->sig, k->n, k->n_len) >= 0) {
                batch_set(job, KF_OFFLOAD_INVALID, 0);
                n_early++;
            } else {
                rsa[n_rsa++] = i;
            }
        } else if (lanes && k->p256_lanes != NULL) {
            if (job->sig_len != 64) {
                batch_set(job, KF_OFFLOAD_INVALID, 0);
                n_early++;
            } else {
                p256[n_p256++] = i;
            }
        } else {
            b.scalar[b.n_scalar++] = i;
        }
    }
    batch_rsa(&b, rsa, n_rsa);
    batch_group(&b, p256, n_p256, batch_p256_lanes);
    for (size_t s = 0; s < b.n_scalar; s++) {
        size_t i = b.scalar[s];
        int32_t err = 0;
        enum kf_offload_verdict v = offload_scalar_verify(
            jobs[i], b.digest_len[i] != 0 ? b.digest[i] : NULL, b.digest_len[i], &err);
        batch_set(jobs[i], v, err);
    }
    EVP_MD_CTX_free(b.md_ctx);
    BATCH_COUNT(run, scalar_jobs, b.n_scalar);
    BATCH_COUNT(run, early_jobs, n_early);
    BATCH_COUNT(run, jobs, n);
}
