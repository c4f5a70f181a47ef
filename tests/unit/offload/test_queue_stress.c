/* tests/unit/offload/test_queue_stress.c - offload/ submission under contention (STYLE.md s14).
 *
 * Four threads submit small jobs (RSA-2048 and P-256, valid and invalid, some refused on their
 * shape alone) as fast as the engine takes them, retrying on RETRY, to an engine with two
 * workers; completions come by callback or through the eventfd and kf_offload_poll() on a
 * thread of their own. Every tag must complete exactly once with the verdict OpenSSL gives its
 * job, and no completion may be lost or invented. Also: freeing an engine while idle and while
 * jobs are in flight. Meant for ThreadSanitizer too (offload is a TSan target, STYLE.md s14),
 * so the test's own shared state is atomics or mutexes only and assertions run on the test's
 * thread. KF_STRESS_JOBS sets the jobs per submitter (default 20000). The backend under test
 * is the default one ($KEYFORT_OFFLOAD), printed by every test.
 *
 * Criterion's runner cannot start under ThreadSanitizer (Snaipe/Criterion issue #274): the
 * TSan pass runs tsan_queue.c, a plain program, instead of this file.
 */
#include "offload/offload.h"

#include "offload_fixture.h"

#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SUBMITTERS 4
#define TEMPLATES 64
#define BURST_MAX 32

/* ---- job templates ------------------------------------------------------------------------ */

struct tmpl {
    enum kf_offload_alg alg;
    const struct kf_offload_key *key;
    uint8_t msg[32];
    size_t msg_len;
    uint8_t sig[256];
    size_t sig_len;
    enum kf_offload_verdict want;
};

static struct {
    EVP_PKEY *rsa, *ec;
    struct kf_offload_key *rsa_kf, *ec_kf;
    struct tmpl t[TEMPLATES];
} fx;

static size_t jobs_per_submitter(void)
{
    uint64_t n = fixture_env_u64("KF_STRESS_JOBS", 20000);
    cr_assert_gt(n, 0, "KF_STRESS_JOBS must be at least 1");
    return (size_t)n;
}

/* Templates 0-23 RSA valid, 24-31 RSA damaged, 32-47 P-256 valid, 48-55 P-256 damaged, 56-59
 * P-256 of 63 bytes, 60-63 RSA signature = n. OpenSSL confirms each expected verdict. */
static void setup(void)
{
    fx.rsa = fixture_rsa_load(&fixture_rsa_a);
    fx.ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    cr_assert_not_null(fx.ec);
    fx.rsa_kf = fixture_kf_from_pkey(fx.rsa, 0);
    fx.ec_kf = fixture_kf_from_pkey(fx.ec, KF_OFFLOAD_KEY_TABLE);
    uint8_t nb[256];
    cr_assert_eq(fixture_rsa_modulus(fx.rsa, nb, sizeof(nb)), 256);
    for (int i = 0; i < TEMPLATES; i++) {
        struct tmpl *t = &fx.t[i];
        bool rsa = i < 32 || i >= 60;
        t->alg = rsa ? KF_OFFLOAD_RSA_PKCS1_SHA256 : KF_OFFLOAD_ECDSA_P256_SHA256;
        t->key = rsa ? fx.rsa_kf : fx.ec_kf;
        EVP_PKEY *pk = rsa ? fx.rsa : fx.ec;
        t->msg_len = (size_t)snprintf((char *)t->msg, sizeof(t->msg), "stress job %d", i);
        uint8_t der[128];
        size_t len = fixture_sign(pk, EVP_sha256(), t->msg, t->msg_len, rsa ? t->sig : der,
                                  rsa ? sizeof(t->sig) : sizeof(der));
        bool want = true;
        if (rsa) {
            cr_assert_eq(len, 256);
            t->sig_len = 256;
        } else {
            cr_assert_eq(
                fixture_ossl_verify(pk, EVP_sha256(), 0, false, t->msg, t->msg_len, der, len), 1);
            fixture_ecdsa_der_to_rs(der, len, 32, t->sig); /* RFC 6605 s4 */
            t->sig_len = 64;
        }
        if ((i >= 24 && i < 32) || (i >= 48 && i < 56)) {
            t->sig[i % t->sig_len] ^= 0x08;
            want = false;
        } else if (i >= 56 && i < 60) {
            t->sig_len = 63;
            want = false;
        } else if (i >= 60) {
            memcpy(t->sig, nb, 256);
            want = false;
        }
        /* r || s goes to OpenSSL as DER: the converted templates are checked too. */
        cr_assert_eq(fixture_ossl_verify(pk, EVP_sha256(), rsa ? 0 : 32, false, t->msg, t->msg_len,
                                         t->sig, t->sig_len),
                     want ? 1 : 0, "template %d", i);
        t->want = want ? KF_OFFLOAD_VALID : KF_OFFLOAD_INVALID;
    }
    fixture_announce("queue_stress");
    fprintf(stderr, "queue_stress: %zu jobs per submitter\n", jobs_per_submitter());
}

static void teardown(void)
{
    kf_offload_key_free(fx.rsa_kf);
    kf_offload_key_free(fx.ec_kf);
    EVP_PKEY_free(fx.rsa);
    EVP_PKEY_free(fx.ec);
    memset(&fx, 0, sizeof(fx));
}

TestSuite(queue_stress, .init = setup, .fini = teardown);

/* ---- the run ------------------------------------------------------------------------------- */

/* Which template a tag uses: a fixed scramble, so every submitter mixes all kinds. */
static unsigned tmpl_of(uint64_t tag)
{
    uint64_t z = tag * 0x9e3779b97f4a7c15u;
    return (unsigned)((z ^ (z >> 29)) % TEMPLATES);
}

struct run {
    struct kf_offload_engine *e;
    size_t per; /* jobs per submitter */
    _Atomic uint8_t *count[SUBMITTERS];
    atomic_size_t done, stray, wrong, accepted, retries;
    atomic_bool poller_stop, poller_stuck;
};

static void take(struct run *r, const struct kf_offload_completion *d, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t th = d[i].tag >> 32, idx = d[i].tag & 0xffffffffu;
        if (th >= SUBMITTERS || idx >= r->per) {
            atomic_fetch_add(&r->stray, 1);
            continue;
        }
        atomic_fetch_add(&r->count[th][idx], 1);
        if (d[i].verdict != fx.t[tmpl_of(d[i].tag)].want || d[i].err != 0) {
            atomic_fetch_add(&r->wrong, 1);
        }
    }
    atomic_fetch_add(&r->done, n);
}

static void on_done(void *arg, const struct kf_offload_completion *d, size_t n)
{
    take(arg, d, n);
}

struct submitter {
    struct run *r;
    unsigned id;
};

static void *submit_thread(void *arg)
{
    struct submitter *s = arg;
    struct run *r = s->r;
    struct kf_offload_job jobs[BURST_MAX];
    uint64_t rng = 0x5eed0000u + s->id;
    for (size_t i = 0; i < r->per;) {
        rng = rng * 6364136223846793005u + 1442695040888963407u;
        size_t m = 1 + (size_t)((rng >> 33) % BURST_MAX);
        m = m < r->per - i ? m : r->per - i;
        for (size_t j = 0; j < m; j++) {
            uint64_t tag = ((uint64_t)s->id << 32) | (i + j);
            const struct tmpl *t = &fx.t[tmpl_of(tag)];
            jobs[j] = (struct kf_offload_job){
                .alg = t->alg,
                .key = t->key,
                .msg = t->msg,
                .msg_len = t->msg_len,
                .sig = t->sig,
                .sig_len = t->sig_len,
                .tag = tag,
            };
        }
        size_t acc = 0;
        kf_result res = kf_offload_submit(r->e, jobs, m, &acc);
        if (!kf_ok(res) && (res.code != KF_ERR_RETRY || acc >= m)) {
            atomic_fetch_add(&r->wrong, 1); /* reported by the test's thread */
            return NULL;
        }
        if (kf_ok(res) && acc != m) {
            atomic_fetch_add(&r->wrong, 1);
            return NULL;
        }
        i += acc;
        atomic_fetch_add(&r->accepted, acc);
        if (!kf_ok(res)) {
            atomic_fetch_add(&r->retries, 1);
            sched_yield();
        }
    }
    return NULL;
}

/* Poll mode: wait on the eventfd, clear it, take everything, until told to stop. */
static void *poll_thread(void *arg)
{
    struct run *r = arg;
    int fd = kf_offload_eventfd(r->e);
    struct kf_offload_completion buf[128];
    unsigned idle_polls = 0;
    while (!atomic_load(&r->poller_stop)) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        int rc = poll(&p, 1, 100);
        if (rc == 1) {
            uint64_t v;
            if (read(fd, &v, sizeof(v)) != (ssize_t)sizeof(v)) {
                atomic_fetch_add(&r->wrong, 1);
            }
        }
        size_t n, any = 0;
        while ((n = kf_offload_poll(r->e, buf, 128)) > 0) {
            take(r, buf, n);
            any += n;
        }
        /* Nothing for a minute while jobs are outstanding: completions were lost. */
        idle_polls = any > 0 || rc == 1 ? 0 : idle_polls + 1;
        if (idle_polls > 600 && atomic_load(&r->done) < atomic_load(&r->accepted)) {
            atomic_store(&r->poller_stuck, true);
            return NULL;
        }
    }
    return NULL;
}

static void run_new_cfg(struct run *r, bool poll_mode, const struct kf_offload_config *base)
{
    memset(r, 0, sizeof(*r));
    r->per = jobs_per_submitter();
    for (int i = 0; i < SUBMITTERS; i++) {
        r->count[i] = calloc(r->per, sizeof(*r->count[i]));
        cr_assert_not_null(r->count[i]);
    }
    struct kf_offload_config cfg = *base;
    cfg.on_done = poll_mode ? NULL : on_done;
    cfg.on_done_arg = r;
    r->e = fixture_engine_new(&cfg);
}

static void run_new(struct run *r, bool poll_mode, unsigned queue_depth)
{
    struct kf_offload_config cfg = { .workers = 2, .queue_depth = queue_depth };
    run_new_cfg(r, poll_mode, &cfg);
}

static void run_free(struct run *r)
{
    for (int i = 0; i < SUBMITTERS; i++) {
        free(r->count[i]);
    }
}

static void start_submitters(struct run *r, pthread_t *th, struct submitter *s)
{
    for (unsigned i = 0; i < SUBMITTERS; i++) {
        s[i] = (struct submitter){ r, i };
        cr_assert_eq(pthread_create(&th[i], NULL, submit_thread, &s[i]), 0);
    }
}

static void join_submitters(pthread_t *th)
{
    for (int i = 0; i < SUBMITTERS; i++) {
        cr_assert_eq(pthread_join(th[i], NULL), 0);
    }
}

/* All submitters' jobs, start to drain; in poll mode a poller thread takes the completions
 * until the last one has come (or none came for a minute: asserted here). */
static void run_jobs(struct run *r, bool poll_mode)
{
    pthread_t th[SUBMITTERS], poller;
    struct submitter s[SUBMITTERS];
    if (poll_mode) {
        cr_assert_eq(pthread_create(&poller, NULL, poll_thread, r), 0);
    }
    start_submitters(r, th, s);
    join_submitters(th);
    kf_offload_drain(r->e);
    if (poll_mode) {
        /* Every completion is in the poll queue now; the poller takes the last ones. */
        while (atomic_load(&r->done) < SUBMITTERS * r->per && !atomic_load(&r->poller_stuck)) {
            sched_yield();
        }
        atomic_store(&r->poller_stop, true);
        cr_assert_eq(pthread_join(poller, NULL), 0);
        cr_assert(!atomic_load(&r->poller_stuck), "no completion arrived for a minute");
    }
}

/* Every tag completed exactly once with the right verdict; nothing else completed. */
static void check_run(struct run *r, const char *what)
{
    size_t total = SUBMITTERS * r->per;
    fprintf(stderr, "  %s: %zu jobs, %zu completions, %zu RETRY answers\n", what, total,
            atomic_load(&r->done), atomic_load(&r->retries));
    cr_assert_eq(atomic_load(&r->wrong), 0, "%s: %zu wrong verdicts or submit answers", what,
                 atomic_load(&r->wrong));
    cr_assert_eq(atomic_load(&r->stray), 0, "%s: completions with tags never submitted", what);
    cr_assert_eq(atomic_load(&r->accepted), total);
    cr_assert_eq(atomic_load(&r->done), total, "%s: %zu completions for %zu jobs", what,
                 atomic_load(&r->done), total);
    for (int t = 0; t < SUBMITTERS; t++) {
        for (size_t i = 0; i < r->per; i++) {
            cr_assert_eq(atomic_load(&r->count[t][i]), 1, "%s: tag %d/%zu completed %u times", what,
                         t, i, (unsigned)atomic_load(&r->count[t][i]));
        }
    }
    struct kf_offload_stats st;
    fixture_check_stats(what, r->e, total, &st);
}

/* ---- the tests ----------------------------------------------------------------------------- */

/* The full load (KF_STRESS_JOBS per submitter) on a two-worker engine. */
static void four_submitters(bool poll_mode, const char *what)
{
    struct run r;
    run_new(&r, poll_mode, 0);
    run_jobs(&r, poll_mode);
    check_run(&r, what);
    kf_offload_engine_free(r.e);
    run_free(&r);
}

Test(queue_stress, four_submitters_callback_mode)
{
    four_submitters(false, "callback mode");
}

Test(queue_stress, four_submitters_poll_mode)
{
    four_submitters(true, "poll mode");
}

/* A small queue: submitters meet RETRY constantly. */
Test(queue_stress, four_submitters_small_queue)
{
    struct run r;
    run_new(&r, false, 16);
    r.per = r.per / 4 > 0 ? r.per / 4 : 1;
    run_jobs(&r, false);
    check_run(&r, "queue depth 16");
    cr_assert_gt(atomic_load(&r.retries), 0, "a 16-job queue never filled");
    kf_offload_engine_free(r.e);
    run_free(&r);
}

/* Engines shaped oddly: one-job batches, batches smaller than a kernel's 8 lanes, a queue
 * smaller than a batch, min_lanes above 8, a single worker, a flush deadline of 1 us. */
Test(queue_stress, odd_engine_configs)
{
    static const struct kf_offload_config cfgs[] = {
        { .workers = 2, .max_batch = 1, .flush_us = 1 },
        { .workers = 2, .max_batch = 3, .queue_depth = 5 },
        { .workers = 1, .max_batch = 8, .min_lanes = 9 },
        { .workers = 3, .max_batch = 200, .queue_depth = 100, .min_lanes = 1, .flush_us = 5000 },
    };
    for (size_t c = 0; c < sizeof(cfgs) / sizeof(cfgs[0]); c++) {
        for (int mode = 0; mode < 2; mode++) {
            struct run r;
            run_new_cfg(&r, mode == 1, &cfgs[c]);
            r.per = r.per / 16 > 0 ? r.per / 16 : 1;
            run_jobs(&r, mode == 1);
            check_run(&r, mode == 1 ? "odd config, poll mode" : "odd config, callback mode");
            kf_offload_engine_free(r.e);
            run_free(&r);
        }
    }
}

Test(queue_stress, free_while_idle)
{
    for (int i = 0; i < 20; i++) {
        struct run r;
        run_new(&r, i % 2, 0);
        if (i >= 10) {
            /* used, drained, then idle */
            r.per = 50;
            run_jobs(&r, i % 2);
            check_run(&r, "idle after use");
        }
        kf_offload_engine_free(r.e);
        run_free(&r);
    }
}

/* Submitters done, completions still coming: free completes every accepted job (callback
 * mode) or drops the unpolled completions (poll mode) without a race or a leak. */
Test(queue_stress, free_while_busy)
{
    for (int mode = 0; mode < 2; mode++) {
        struct run r;
        run_new(&r, mode == 1, 0);
        r.per = r.per / 4 > 0 ? r.per / 4 : 1;
        if (mode == 1 && r.per > 1000) {
            /* Nobody polls here, and unpolled completions hold their place in the queue
             * (4096 by default): more would make the submitters retry for ever. */
            r.per = 1000;
        }
        pthread_t th[SUBMITTERS];
        struct submitter s[SUBMITTERS];
        start_submitters(&r, th, s);
        join_submitters(th);
        kf_offload_engine_free(r.e);
        size_t total = SUBMITTERS * r.per;
        cr_assert_eq(atomic_load(&r.accepted), total);
        cr_assert_eq(atomic_load(&r.wrong), 0);
        if (mode == 0) {
            cr_assert_eq(atomic_load(&r.done), total, "free: %zu callbacks for %zu jobs",
                         atomic_load(&r.done), total);
            for (int t = 0; t < SUBMITTERS; t++) {
                for (size_t i = 0; i < r.per; i++) {
                    cr_assert_eq(atomic_load(&r.count[t][i]), 1);
                }
            }
        }
        run_free(&r);
    }
}
