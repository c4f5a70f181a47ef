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
 * Criterion's runner cannot start under ThreadSanitizer (Snaipe/Criterion issue #274), so in a
 * KF_TSAN build (cmake/sanitize.cmake) this file is a plain program instead: the assertions
 * print and abort, and main() runs every test in turn. Build it then without libcriterion.
 */
#include "offload/offload.h"

#if defined(KF_TSAN) && KF_TSAN
#include <stdio.h>
#include <stdlib.h>
#define KF_PLAIN_CHECK(cond)                                                                       \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);               \
            abort();                                                                               \
        }                                                                                          \
    } while (0)
#define cr_assert(cond, ...) KF_PLAIN_CHECK(cond)
#define cr_assert_eq(a, b, ...) KF_PLAIN_CHECK((a) == (b))
#define cr_assert_gt(a, b, ...) KF_PLAIN_CHECK((a) > (b))
#define cr_assert_geq(a, b, ...) KF_PLAIN_CHECK((a) >= (b))
#define cr_assert_leq(a, b, ...) KF_PLAIN_CHECK((a) <= (b))
#define cr_assert_not_null(a, ...) KF_PLAIN_CHECK((a) != NULL)
#define TestSuite(...) _Static_assert(1, "plain program: no suites")
#define Test(suite, name) static void suite##_##name(void)
#else
#include <criterion/criterion.h>
#endif
#include <errno.h>
#include <inttypes.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>
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

/* ---- fixed RSA key (test-only, generated for this file): primes p and q ------------------- */

struct rsa_key_hex {
    int bits;
    uint64_t e;
    const char *p;
    const char *q;
};

/* 2048-bit, e = 65537 */
static const struct rsa_key_hex key_a = {
    2048,
    65537u,
    "eeb3ca088d103aa84d7c671b85bd86d7491cc5fd59b48a6428ee72ccc8b4452d617c15b8f12094b2b1192e4c"
    "09fc26a5d5cf3cd78053eadc0d6d20da834084cd5afa64b87160fdbde3b99b4ab3a0c43a335066ac79ec18ef"
    "4c6f19876a8a4321fffc463d8c5598abaf66c34dcc8a63f728cbb2fa284d65a9a0b97382d8d94bcd",
    "d278d28f37485618ef5f4ebd8f0b52bbcd92ee835df0bdfd861f3932705f34716636c607aa13a33bfcea1815"
    "c2a641667228633e38a360fd118326dff3f983d31e85c645205868a9a6f1121bd580af48261917510c61c096"
    "505ccaa55fb501bc9e9d392758631c6fc9e3ed7bcb57dc206af73909cced0866d38832f116d99397",
};
static EVP_PKEY *rsa_load(const struct rsa_key_hex *h, BN_CTX *bnc)
{
    BIGNUM *p = NULL, *q = NULL;
    cr_assert_gt(BN_hex2bn(&p, h->p), 0);
    cr_assert_gt(BN_hex2bn(&q, h->q), 0);
    BIGNUM *n = BN_new(), *e = BN_new(), *d = BN_new(), *p1 = BN_dup(p), *q1 = BN_dup(q);
    BIGNUM *phi = BN_new(), *dp = BN_new(), *dq = BN_new(), *qi = BN_new();
    cr_assert(n && e && d && p1 && q1 && phi && dp && dq && qi);
    cr_assert(BN_mul(n, p, q, bnc) && BN_set_word(e, h->e) && BN_sub_word(p1, 1) &&
              BN_sub_word(q1, 1) && BN_mul(phi, p1, q1, bnc) &&
              BN_mod_inverse(d, e, phi, bnc) != NULL && BN_mod(dp, d, p1, bnc) &&
              BN_mod(dq, d, q1, bnc) && BN_mod_inverse(qi, q, p, bnc) != NULL);
    OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
    cr_assert_not_null(b);
    cr_assert(OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_N, n) &&
              OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_E, e) &&
              OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_D, d) &&
              OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_FACTOR1, p) &&
              OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_FACTOR2, q) &&
              OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_EXPONENT1, dp) &&
              OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_EXPONENT2, dq) &&
              OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_COEFFICIENT1, qi));
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(b);
    cr_assert_not_null(params);
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    EVP_PKEY *pk = NULL;
    cr_assert(c && EVP_PKEY_fromdata_init(c) == 1 &&
              EVP_PKEY_fromdata(c, &pk, EVP_PKEY_KEYPAIR, params) == 1);
    EVP_PKEY_CTX_free(c);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(b);
    BN_free(p);
    BN_free(q);
    BN_free(n);
    BN_free(e);
    BN_clear_free(d);
    BN_free(p1);
    BN_free(q1);
    BN_free(phi);
    BN_clear_free(dp);
    BN_clear_free(dq);
    BN_free(qi);
    return pk;
}

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
    const char *v = getenv("KF_STRESS_JOBS");
    if (v == NULL || *v == '\0') {
        return 20000;
    }
    char *end = NULL;
    errno = 0;
    unsigned long n = strtoul(v, &end, 0);
    cr_assert(errno == 0 && *end == '\0' && n > 0, "KF_STRESS_JOBS=%s", v);
    return (size_t)n;
}

static bool ossl_verify(EVP_PKEY *pk, const uint8_t *msg, size_t msg_len, const uint8_t *sig,
                        size_t sig_len)
{
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    cr_assert(m && EVP_DigestVerifyInit(m, NULL, EVP_sha256(), NULL, pk) == 1);
    int r = EVP_DigestVerify(m, sig, sig_len, msg, msg_len);
    EVP_MD_CTX_free(m);
    ERR_clear_error();
    return r == 1;
}

/* Templates 0-23 RSA valid, 24-31 RSA damaged, 32-47 P-256 valid, 48-55 P-256 damaged, 56-59
 * P-256 of 63 bytes, 60-63 RSA signature = n. OpenSSL confirms each expected verdict. */
static void setup(void)
{
    BN_CTX *bnc = BN_CTX_new();
    cr_assert_not_null(bnc);
    fx.rsa = rsa_load(&key_a, bnc);
    fx.ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    cr_assert_not_null(fx.ec);
    cr_assert(kf_ok(kf_offload_key_from_pkey(fx.rsa, 0, &fx.rsa_kf)));
    cr_assert(kf_ok(kf_offload_key_from_pkey(fx.ec, KF_OFFLOAD_KEY_TABLE, &fx.ec_kf)));
    BIGNUM *n = NULL;
    uint8_t nb[256];
    cr_assert_eq(EVP_PKEY_get_bn_param(fx.rsa, OSSL_PKEY_PARAM_RSA_N, &n), 1);
    cr_assert_eq(BN_bn2binpad(n, nb, 256), 256);
    BN_free(n);
    for (int i = 0; i < TEMPLATES; i++) {
        struct tmpl *t = &fx.t[i];
        bool rsa = i < 32 || i >= 60;
        t->alg = rsa ? KF_OFFLOAD_RSA_PKCS1_SHA256 : KF_OFFLOAD_ECDSA_P256_SHA256;
        t->key = rsa ? fx.rsa_kf : fx.ec_kf;
        EVP_PKEY *pk = rsa ? fx.rsa : fx.ec;
        t->msg_len = (size_t)snprintf((char *)t->msg, sizeof(t->msg), "stress job %d", i);
        uint8_t der[128];
        size_t len = rsa ? 256 : sizeof(der);
        EVP_MD_CTX *m = EVP_MD_CTX_new();
        cr_assert(m && EVP_DigestSignInit(m, NULL, EVP_sha256(), NULL, pk) == 1);
        cr_assert_eq(EVP_DigestSign(m, rsa ? t->sig : der, &len, t->msg, t->msg_len), 1);
        EVP_MD_CTX_free(m);
        bool want = true;
        if (rsa) {
            t->sig_len = 256;
        } else {
            /* DER to r || s (RFC 6605 s4) */
            const unsigned char *p = der;
            ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)len);
            cr_assert_not_null(es);
            cr_assert_eq(BN_bn2binpad(ECDSA_SIG_get0_r(es), t->sig, 32), 32);
            cr_assert_eq(BN_bn2binpad(ECDSA_SIG_get0_s(es), t->sig + 32, 32), 32);
            t->sig_len = 64;
            cr_assert(ossl_verify(pk, t->msg, t->msg_len, der, len));
            ECDSA_SIG_free(es);
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
        if (rsa) {
            cr_assert_eq(ossl_verify(pk, t->msg, t->msg_len, t->sig, t->sig_len), want,
                         "template %d", i);
        }
        t->want = want ? KF_OFFLOAD_VALID : KF_OFFLOAD_INVALID;
    }
    BN_CTX_free(bnc);
    enum kf_offload_backend b = kf_offload_backend_default();
    const char *env = getenv("KEYFORT_OFFLOAD");
    fprintf(stderr, "queue_stress: backend %s (KEYFORT_OFFLOAD=%s), %zu jobs per submitter\n",
            kf_offload_backend_name(b), env != NULL ? env : "unset", jobs_per_submitter());
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
    cr_assert(kf_ok(kf_offload_engine_new(&cfg, &r->e)));
    cr_assert_eq(kf_offload_engine_backend(r->e), kf_offload_backend_default());
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
    kf_offload_engine_stats(r->e, &st);
    cr_assert_eq(st.jobs, total, "%s: stats count %" PRIu64 " jobs", what, st.jobs);
    cr_assert_eq(st.lane_jobs + st.scalar_jobs + st.early_jobs, st.jobs);
}

/* ---- the tests ----------------------------------------------------------------------------- */

Test(queue_stress, four_submitters_callback_mode)
{
    struct run r;
    run_new(&r, false, 0);
    pthread_t th[SUBMITTERS];
    struct submitter s[SUBMITTERS];
    start_submitters(&r, th, s);
    join_submitters(th);
    kf_offload_drain(r.e);
    check_run(&r, "callback mode");
    kf_offload_engine_free(r.e);
    run_free(&r);
}

Test(queue_stress, four_submitters_poll_mode)
{
    struct run r;
    run_new(&r, true, 0);
    cr_assert_geq(kf_offload_eventfd(r.e), 0);
    pthread_t th[SUBMITTERS], poller;
    struct submitter s[SUBMITTERS];
    cr_assert_eq(pthread_create(&poller, NULL, poll_thread, &r), 0);
    start_submitters(&r, th, s);
    join_submitters(th);
    kf_offload_drain(r.e);
    /* Every completion is in the poll queue now; the poller takes the last ones. */
    while (atomic_load(&r.done) < SUBMITTERS * r.per && !atomic_load(&r.poller_stuck)) {
        sched_yield();
    }
    atomic_store(&r.poller_stop, true);
    cr_assert_eq(pthread_join(poller, NULL), 0);
    cr_assert(!atomic_load(&r.poller_stuck), "no completion arrived for a minute");
    check_run(&r, "poll mode");
    kf_offload_engine_free(r.e);
    run_free(&r);
}

/* A small queue: submitters meet RETRY constantly. */
Test(queue_stress, four_submitters_small_queue)
{
    struct run r;
    run_new(&r, false, 16);
    r.per = r.per / 4 > 0 ? r.per / 4 : 1;
    pthread_t th[SUBMITTERS];
    struct submitter s[SUBMITTERS];
    start_submitters(&r, th, s);
    join_submitters(th);
    kf_offload_drain(r.e);
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
            pthread_t th[SUBMITTERS], poller;
            struct submitter s[SUBMITTERS];
            if (mode == 1) {
                cr_assert_eq(pthread_create(&poller, NULL, poll_thread, &r), 0);
            }
            start_submitters(&r, th, s);
            join_submitters(th);
            kf_offload_drain(r.e);
            if (mode == 1) {
                while (atomic_load(&r.done) < SUBMITTERS * r.per && !atomic_load(&r.poller_stuck)) {
                    sched_yield();
                }
                atomic_store(&r.poller_stop, true);
                cr_assert_eq(pthread_join(poller, NULL), 0);
                cr_assert(!atomic_load(&r.poller_stuck), "no completion arrived for a minute");
            }
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
            pthread_t th[SUBMITTERS];
            struct submitter s[SUBMITTERS];
            pthread_t poller;
            if (i % 2) {
                cr_assert_eq(pthread_create(&poller, NULL, poll_thread, &r), 0);
            }
            start_submitters(&r, th, s);
            join_submitters(th);
            kf_offload_drain(r.e);
            if (i % 2) {
                while (atomic_load(&r.done) < SUBMITTERS * r.per && !atomic_load(&r.poller_stuck)) {
                    sched_yield();
                }
                atomic_store(&r.poller_stop, true);
                cr_assert_eq(pthread_join(poller, NULL), 0);
            }
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

#if defined(KF_TSAN) && KF_TSAN
int main(void)
{
    static void (*const tests[])(void) = {
        queue_stress_four_submitters_callback_mode,
        queue_stress_four_submitters_poll_mode,
        queue_stress_four_submitters_small_queue,
        queue_stress_odd_engine_configs,
        queue_stress_free_while_idle,
        queue_stress_free_while_busy,
    };
    for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
        setup();
        tests[i]();
        teardown();
    }
    fprintf(stderr, "queue_stress: %zu tests passed\n", sizeof(tests) / sizeof(tests[0]));
    return 0;
}
#endif
