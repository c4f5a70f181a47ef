/* tests/unit/offload/tsan_queue.c - the engine's queue and workers under ThreadSanitizer.
 *
 * A plain program, not a Criterion test: Criterion's runner cannot start under TSan (its
 * inheritable arena fails to map: Snaipe/Criterion issue #274), so this is the one test of the
 * tree with its own main(). It runs in every build and is the whole of the TSan pass
 * (scripts/test.sh --tsan). Exit status 0 only if every check held.
 *
 * Three submitter threads race on one engine with two workers, in callback mode and in poll
 * mode (a fourth thread polls and reads the eventfd); the queue is small so RETRY happens; each
 * tag must come back exactly once with the verdict its signature deserves. Then the engine is
 * freed with jobs still queued, and every accepted job must still complete. */
#include "offload/offload.h"

#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SUBMITTERS 3
#define PER_THREAD 1500
#define TOTAL (SUBMITTERS * PER_THREAD)
#define SIGS 8

static int failures;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "tsan_queue: FAIL %s:%d: ", __FILE__, __LINE__);                       \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

struct fixture {
    EVP_PKEY *pkey;
    struct kf_offload_key *key;
    uint8_t msg[SIGS][32];
    uint8_t sig[SIGS][64];
};

/* P-256 signatures over SIGS messages; odd-numbered ones are corrupted afterwards. */
static bool fixture_init(struct fixture *f)
{
    f->pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    if (f->pkey == NULL || !kf_ok(kf_offload_key_from_pkey(f->pkey, 0, &f->key))) {
        return false;
    }
    for (int i = 0; i < SIGS; i++) {
        memset(f->msg[i], 'a' + i, sizeof(f->msg[i]));
        uint8_t der[80];
        size_t len = sizeof(der);
        EVP_MD_CTX *m = EVP_MD_CTX_new();
        bool ok = m != NULL && EVP_DigestSignInit(m, NULL, EVP_sha256(), NULL, f->pkey) == 1 &&
                  EVP_DigestSign(m, der, &len, f->msg[i], sizeof(f->msg[i])) == 1;
        EVP_MD_CTX_free(m);
        const uint8_t *p = der;
        ECDSA_SIG *es = ok ? d2i_ECDSA_SIG(NULL, &p, (long)len) : NULL;
        if (es == NULL) {
            return false;
        }
        BN_bn2binpad(ECDSA_SIG_get0_r(es), f->sig[i], 32);
        BN_bn2binpad(ECDSA_SIG_get0_s(es), f->sig[i] + 32, 32);
        ECDSA_SIG_free(es);
        if (i % 2 == 1) {
            f->sig[i][40] ^= 0x10;
        }
    }
    return true;
}

static struct kf_offload_job job_for(const struct fixture *f, uint64_t tag)
{
    int i = (int)(tag % SIGS);
    return (struct kf_offload_job){ .alg = KF_OFFLOAD_ECDSA_P256_SHA256,
                                    .key = f->key,
                                    .msg = f->msg[i],
                                    .msg_len = sizeof(f->msg[i]),
                                    .sig = f->sig[i],
                                    .sig_len = 64,
                                    .tag = tag };
}

/* Completions by tag: each must arrive once, with VALID exactly for even indices. */
struct ledger {
    atomic_int seen[TOTAL];
    atomic_int wrong;
    atomic_int count;
};

static void ledger_take(struct ledger *l, const struct kf_offload_completion *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t t = c[i].tag;
        if (t >= TOTAL) {
            atomic_fetch_add(&l->wrong, 1);
            continue;
        }
        atomic_fetch_add(&l->seen[t], 1);
        enum kf_offload_verdict want = (t % SIGS) % 2 == 0 ? KF_OFFLOAD_VALID : KF_OFFLOAD_INVALID;
        if (c[i].verdict != want) {
            atomic_fetch_add(&l->wrong, 1);
        }
        atomic_fetch_add(&l->count, 1);
    }
}

static void on_done(void *arg, const struct kf_offload_completion *done, size_t n)
{
    ledger_take(arg, done, n);
}

struct submitter {
    const struct fixture *f;
    struct kf_offload_engine *e;
    int id;
    int retries;
};

static void *submit_main(void *arg)
{
    struct submitter *s = arg;
    uint64_t base = (uint64_t)s->id * PER_THREAD;
    uint64_t next = 0;
    while (next < PER_THREAD) {
        struct kf_offload_job jobs[16];
        size_t n = PER_THREAD - next < 16 ? PER_THREAD - next : 16;
        for (size_t i = 0; i < n; i++) {
            jobs[i] = job_for(s->f, base + next + i);
        }
        size_t accepted = 0;
        kf_result r = kf_offload_submit(s->e, jobs, n, &accepted);
        next += accepted;
        if (!kf_ok(r)) {
            s->retries++;
            sched_yield();
        }
    }
    return NULL;
}

struct poller {
    struct kf_offload_engine *e;
    struct ledger *l;
    atomic_bool stop;
};

static void *poll_main(void *arg)
{
    struct poller *p = arg;
    struct kf_offload_completion c[64];
    int fd = kf_offload_eventfd(p->e);
    while (!atomic_load(&p->stop) || atomic_load(&p->l->count) < TOTAL) {
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        if (poll(&pfd, 1, 20) > 0) {
            uint64_t v;
            (void)!read(fd, &v, sizeof(v));
        }
        size_t n;
        while ((n = kf_offload_poll(p->e, c, 64)) > 0) {
            ledger_take(p->l, c, n);
        }
        if (atomic_load(&p->stop) && atomic_load(&p->l->count) >= TOTAL) {
            break;
        }
    }
    return NULL;
}

static void run(const struct fixture *f, bool callback)
{
    static struct ledger l;
    memset(&l, 0, sizeof(l));
    struct kf_offload_config cfg = {
        .workers = 2, .queue_depth = 64, .max_batch = 24, .flush_us = 50
    };
    if (callback) {
        cfg.on_done = on_done;
        cfg.on_done_arg = &l;
    }
    struct kf_offload_engine *e = NULL;
    if (!kf_ok(kf_offload_engine_new(&cfg, &e))) {
        CHECK(false, "engine_new");
        return;
    }
    struct poller p = { .e = e, .l = &l };
    pthread_t pt;
    if (!callback) {
        CHECK(kf_offload_eventfd(e) >= 0, "poll mode has an eventfd");
        CHECK(pthread_create(&pt, NULL, poll_main, &p) == 0, "poller thread");
    }
    struct submitter s[SUBMITTERS];
    pthread_t t[SUBMITTERS];
    for (int i = 0; i < SUBMITTERS; i++) {
        s[i] = (struct submitter){ .f = f, .e = e, .id = i };
        CHECK(pthread_create(&t[i], NULL, submit_main, &s[i]) == 0, "submitter thread");
    }
    int retries = 0;
    for (int i = 0; i < SUBMITTERS; i++) {
        pthread_join(t[i], NULL);
        retries += s[i].retries;
    }
    kf_offload_drain(e);
    if (!callback) {
        atomic_store(&p.stop, true);
        pthread_join(pt, NULL);
    }
    struct kf_offload_stats st;
    kf_offload_engine_stats(e, &st);
    kf_offload_engine_free(e);
    CHECK(atomic_load(&l.count) == TOTAL, "%s: %d of %d completions", callback ? "cb" : "poll",
          atomic_load(&l.count), TOTAL);
    CHECK(atomic_load(&l.wrong) == 0, "%d wrong verdicts", atomic_load(&l.wrong));
    for (int i = 0; i < TOTAL; i++) {
        CHECK(atomic_load(&l.seen[i]) == 1, "tag %d completed %d times", i,
              atomic_load(&l.seen[i]));
    }
    CHECK(st.jobs == TOTAL && st.lane_jobs + st.scalar_jobs + st.early_jobs == st.jobs,
          "stats: jobs %llu lane %llu scalar %llu early %llu", (unsigned long long)st.jobs,
          (unsigned long long)st.lane_jobs, (unsigned long long)st.scalar_jobs,
          (unsigned long long)st.early_jobs);
    printf("tsan_queue: %s mode: %d jobs, %d RETRY answers, %llu deadline flushes\n",
           callback ? "callback" : "poll", TOTAL, retries, (unsigned long long)st.deadline_flushes);
}

/* Free with jobs still queued: every accepted job completes first. */
static void run_free_busy(const struct fixture *f)
{
    static atomic_int done;
    struct ledger *l = calloc(1, sizeof(*l));
    struct kf_offload_config cfg = { .workers = 1,
                                     .queue_depth = 256,
                                     .max_batch = 256,
                                     .flush_us = 1000000,
                                     .on_done = on_done,
                                     .on_done_arg = l };
    struct kf_offload_engine *e = NULL;
    if (l == NULL || !kf_ok(kf_offload_engine_new(&cfg, &e))) {
        CHECK(false, "engine_new");
        free(l);
        return;
    }
    struct kf_offload_job jobs[200];
    for (int i = 0; i < 200; i++) {
        jobs[i] = job_for(f, (uint64_t)i);
    }
    size_t accepted = 0;
    CHECK(kf_ok(kf_offload_submit(e, jobs, 200, &accepted)) && accepted == 200, "submit 200");
    /* The batch is not full and its deadline is a second away: free must not wait for it,
     * nor drop it. */
    kf_offload_engine_free(e);
    CHECK(atomic_load(&l->count) == 200, "free completed %d of 200", atomic_load(&l->count));
    (void)done;
    free(l);
}

int main(void)
{
    struct fixture f = { 0 };
    if (!fixture_init(&f)) {
        fprintf(stderr, "tsan_queue: cannot make the test key and signatures\n");
        return 1;
    }
    printf("tsan_queue: backend %s\n", kf_offload_backend_name(kf_offload_backend_default()));
    run(&f, true);
    run(&f, false);
    run_free_busy(&f);
    kf_offload_key_free(f.key);
    EVP_PKEY_free(f.pkey);
    if (failures != 0) {
        fprintf(stderr, "tsan_queue: %d checks failed\n", failures);
        return 1;
    }
    printf("tsan_queue: all checks held\n");
    return 0;
}
