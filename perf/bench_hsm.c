/* perf/bench_hsm.c - signatures per second through keyfort's session pool (kf_hsm_sign) against
 * a bare C_SignInit + C_Sign loop, on the same SoftHSM2 token, key and mechanism.
 *
 * What is measured is keyfort's overhead: pool acquire/release, mechanism choice, error
 * mapping. Both sides use the module's function list from kf_hsm_token_functions(); the bare
 * side opens one session per thread on kf_hsm_token_slot() and relies on the login the pool
 * already made (PKCS#11 v2.40 s5.6: login state is shared by all sessions of an application).
 *
 *   RSA-2048  CKM_SHA256_RSA_PKCS over a 64-byte message  vs  RSA_PKCS, SHA256, not prehashed
 *   P-256     CKM_ECDSA over a 32-byte digest             vs  ECDSA, digest NONE
 *   Ed25519   CKM_EDDSA over a 64-byte message            vs  EDDSA, digest NONE
 *
 * Each (algorithm, threads) cell: a warm-up per side, then rounds that alternate which side
 * goes first (ABBA) so drift on a shared machine hits both sides alike. Target: keyfort ops/s
 * at least 0.95 x bare at each thread count. A measurement, not a test: always exits 0 once
 * it has run (2 on bad usage or when the token cannot be set up). See perf/README.md. */
#include "perf/bench.h"

#include "hsm/hsm.h"
#include "tests/hsm/token_fixture.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <signal.h>
#include <strings.h>
#include <unistd.h>

#define BENCH_TARGET_RATIO 0.95
#define BENCH_SIG_MAX 1024
#define BENCH_MAX_THREADS 2
#define BENCH_ROUND_SECONDS 0.5

enum bench_side {
    BENCH_BARE = 0,
    BENCH_KEYFORT,
};

static const char *const bench_side_name[] = { "bare", "keyfort" };

struct bench_alg {
    const char *name;
    enum kf_hsm_key_type type;
    const char *label;               /* CKA_LABEL of the generated key */
    CK_MECHANISM_TYPE mech;          /* the bare side's mechanism */
    struct kf_hsm_sig_params params; /* keyfort's equivalent */
    size_t in_len;                   /* bytes signed per operation */
};

static const struct bench_alg bench_algs[] = {
    {
        .name = "RSA-2048",
        .type = KF_KEY_RSA2048,
        .label = "bench-rsa2048",
        .mech = CKM_SHA256_RSA_PKCS,
        .params = { .scheme = KF_SIG_RSA_PKCS, .digest = KF_DIGEST_SHA256, .prehashed = false },
        .in_len = 64,
    },
    {
        .name = "P-256",
        .type = KF_KEY_P256,
        .label = "bench-p256",
        .mech = CKM_ECDSA,
        .params = { .scheme = KF_SIG_ECDSA, .digest = KF_DIGEST_NONE },
        .in_len = 32,
    },
    {
        .name = "Ed25519",
        .type = KF_KEY_ED25519,
        .label = "bench-ed25519",
        .mech = CKM_EDDSA,
        .params = { .scheme = KF_SIG_EDDSA, .digest = KF_DIGEST_NONE },
        .in_len = 64,
    },
};
#define BENCH_N_ALGS (sizeof(bench_algs) / sizeof(bench_algs[0]))

/* Fixed input: the same bytes on every run and both sides. */
static uint8_t bench_input[64];

static volatile sig_atomic_t bench_stop; /* set by SIGINT/SIGTERM only */

static void bench_on_signal(int sig)
{
    (void)sig;
    bench_stop = 1;
}

/* ---- one run: N threads signing on one side for a fixed time ------------------------- */

struct bench_run {
    const struct bench_alg *alg; /* borrowed */
    enum bench_side side;
    struct kf_hsm_token *token; /* borrowed */
    struct kf_hsm_key *key;     /* borrowed */
    CK_FUNCTION_LIST *fl;       /* borrowed from the token */
    CK_SLOT_ID slot;
    uint64_t duration_ns;
    bool keep_samples; /* false during warm-up */
    pthread_barrier_t start;
};

struct bench_worker {
    struct bench_run *run;     /* borrowed */
    CK_SESSION_HANDLE session; /* bare side: this thread's own session */
    CK_OBJECT_HANDLE key;      /* bare side: private key handle in that session */
    struct bench_samples lat;  /* owned */
    uint64_t ops;
    uint64_t t_start;
    uint64_t t_end;
    uint64_t cpu_ns; /* CPU time this thread spent in the timed loop */
    bool failed;
    char err[256];
};

/* Open this worker's own session and find the private key in it (not timed). */
static bool bench_bare_open(struct bench_worker *w)
{
    struct bench_run *r = w->run;
    return bench_bare_session(r->fl, r->slot, r->alg->label, &w->session, &w->key, w->err,
                              sizeof(w->err));
}

static bool bench_bare_sign(struct bench_worker *w, uint8_t *sig, size_t *sig_len)
{
    struct bench_run *r = w->run;
    CK_MECHANISM mech = { r->alg->mech, NULL, 0 };
    CK_ULONG len = BENCH_SIG_MAX;
    CK_RV rv = r->fl->C_SignInit(w->session, &mech, w->key);
    if (rv == CKR_OK) {
        rv = r->fl->C_Sign(w->session, bench_input, r->alg->in_len, sig, &len);
    }
    if (rv != CKR_OK) {
        snprintf(w->err, sizeof(w->err), "C_SignInit/C_Sign: %s", kf_hsm_ckr_name(rv));
        return false;
    }
    *sig_len = len;
    return true;
}

static bool bench_keyfort_sign(struct bench_worker *w, uint8_t *sig, size_t *sig_len)
{
    struct bench_run *r = w->run;
    kf_result res = kf_hsm_sign(r->key, &r->alg->params, bench_input, r->alg->in_len, sig,
                                BENCH_SIG_MAX, sig_len);
    if (!kf_ok(res)) {
        char buf[200];
        snprintf(w->err, sizeof(w->err), "kf_hsm_sign: %s", kf_err_describe(buf, sizeof(buf)));
        return false;
    }
    return true;
}

static bool bench_sign_once(struct bench_worker *w, uint8_t *sig, size_t *sig_len)
{
    if (w->run->side == BENCH_BARE) {
        return bench_bare_sign(w, sig, sig_len);
    }
    return bench_keyfort_sign(w, sig, sig_len);
}

static void *bench_worker_main(void *arg)
{
    struct bench_worker *w = arg;
    struct bench_run *r = w->run;
    uint8_t sig[BENCH_SIG_MAX];
    size_t sig_len = 0;

    bool ready = r->side != BENCH_BARE || bench_bare_open(w);
    pthread_barrier_wait(&r->start); /* every thread starts together, sessions open */
    if (!ready) {
        w->failed = true;
        return NULL;
    }
    uint64_t cpu0 = bench_thread_cpu_ns();
    w->t_start = bench_now_ns();
    uint64_t deadline = w->t_start + r->duration_ns;
    uint64_t t = w->t_start;
    while (t < deadline && !bench_stop) {
        if (!bench_sign_once(w, sig, &sig_len)) {
            w->failed = true;
            break;
        }
        uint64_t t2 = bench_now_ns();
        if (r->keep_samples && !bench_samples_add(&w->lat, t2 - t)) {
            snprintf(w->err, sizeof(w->err), "out of memory for latency samples");
            w->failed = true;
            break;
        }
        w->ops++;
        t = t2;
    }
    w->t_end = t;
    w->cpu_ns = bench_thread_cpu_ns() - cpu0;
    return NULL;
}

/* Totals of one side of one cell over all its rounds. */
struct bench_side_result {
    uint64_t ops;
    uint64_t wall_ns;
    uint64_t cpu_ns;          /* summed over threads */
    struct bench_samples lat; /* owned */
    bool failed;
    char err[256];
};

static void bench_run_once(struct bench_run *r, unsigned threads, struct bench_side_result *out)
{
    struct bench_worker w[BENCH_MAX_THREADS];
    pthread_t tid[BENCH_MAX_THREADS];
    unsigned started = 0;

    memset(w, 0, sizeof(w));
    if (pthread_barrier_init(&r->start, NULL, threads) != 0) {
        out->failed = true;
        snprintf(out->err, sizeof(out->err), "pthread_barrier_init failed");
        return;
    }
    for (unsigned i = 0; i < threads; i++) {
        w[i].run = r;
        if (pthread_create(&tid[i], NULL, bench_worker_main, &w[i]) != 0) {
            break;
        }
        started++;
    }
    if (started != threads) {
        /* The barrier can never fill: a broken setup, not a result. */
        fprintf(stderr, "bench_hsm: pthread_create failed\n");
        exit(2);
    }
    uint64_t first = UINT64_MAX;
    uint64_t last = 0;
    for (unsigned i = 0; i < threads; i++) {
        pthread_join(tid[i], NULL);
        if (w[i].session != 0) {
            (void)r->fl->C_CloseSession(w[i].session);
        }
        if (w[i].failed && !out->failed) {
            out->failed = true;
            snprintf(out->err, sizeof(out->err), "%s", w[i].err);
        }
        if (w[i].t_start != 0 && w[i].t_start < first) {
            first = w[i].t_start;
        }
        if (w[i].t_end > last) {
            last = w[i].t_end;
        }
        out->ops += w[i].ops;
        out->cpu_ns += w[i].cpu_ns;
        if (r->keep_samples && !bench_samples_merge(&out->lat, &w[i].lat) && !out->failed) {
            out->failed = true;
            snprintf(out->err, sizeof(out->err), "out of memory for latency samples");
        }
        bench_samples_cleanup(&w[i].lat);
    }
    if (last > first) {
        out->wall_ns += last - first;
    }
    pthread_barrier_destroy(&r->start);
}

/* ---- correctness check: a signature from each side verifies in software ------------- */

static bool bench_verify(const struct bench_alg *alg, EVP_PKEY *pub, const uint8_t *sig,
                         size_t sig_len)
{
    bool ok = false;
    uint8_t *der = NULL;
    size_t der_len = 0;
    EVP_MD_CTX *md = NULL;
    EVP_PKEY_CTX *pctx = NULL;

    switch (alg->params.scheme) {
    case KF_SIG_RSA_PKCS:
        md = EVP_MD_CTX_new();
        ok = md != NULL && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pub) == 1 &&
             EVP_DigestVerify(md, sig, sig_len, bench_input, alg->in_len) == 1;
        break;
    case KF_SIG_ECDSA:
        /* The token returns r||s (PKCS#11 v2.40 s2.3.1); OpenSSL wants DER. */
        if (!kf_ok(kf_hsm_ecdsa_rs_to_der(sig, sig_len, &der, &der_len))) {
            break;
        }
        pctx = EVP_PKEY_CTX_new(pub, NULL);
        ok = pctx != NULL && EVP_PKEY_verify_init(pctx) == 1 &&
             EVP_PKEY_verify(pctx, der, der_len, bench_input, alg->in_len) == 1;
        break;
    case KF_SIG_EDDSA:
        md = EVP_MD_CTX_new();
        ok = md != NULL && EVP_DigestVerifyInit(md, NULL, NULL, NULL, pub) == 1 &&
             EVP_DigestVerify(md, sig, sig_len, bench_input, alg->in_len) == 1;
        break;
    case KF_SIG_RSA_PSS:
    default:
        break;
    }
    EVP_MD_CTX_free(md);
    EVP_PKEY_CTX_free(pctx);
    OPENSSL_free(der);
    return ok;
}

/* Sign once on each side (one thread, untimed) and verify both signatures. */
static bool bench_check(struct bench_run *r, EVP_PKEY *pub, char *err, size_t err_len)
{
    for (int side = BENCH_BARE; side <= BENCH_KEYFORT; side++) {
        struct bench_worker w = { .run = r };
        uint8_t sig[BENCH_SIG_MAX];
        size_t sig_len = 0;
        r->side = (enum bench_side)side;
        bool ok =
            (r->side != BENCH_BARE || bench_bare_open(&w)) && bench_sign_once(&w, sig, &sig_len);
        if (w.session != 0) {
            (void)r->fl->C_CloseSession(w.session);
        }
        if (!ok) {
            snprintf(err, err_len, "%s side: %s", bench_side_name[side], w.err);
            return false;
        }
        if (!bench_verify(r->alg, pub, sig, sig_len)) {
            snprintf(err, err_len, "%s side: signature does not verify", bench_side_name[side]);
            return false;
        }
    }
    return true;
}

/* ---- driver ----------------------------------------------------------------------------- */

struct bench_opts {
    double seconds;       /* measured time per side per cell */
    double warmup;        /* untimed time per side per cell */
    unsigned max_threads; /* 1..BENCH_MAX_THREADS */
    const char *only_alg; /* NULL: all */
};

static void bench_usage(FILE *f)
{
    fprintf(f, "usage: bench_hsm [--seconds N] [--warmup N] [--threads 1|2] [--alg NAME]\n"
               "  --seconds N  measured seconds per side per cell (default 5; split into\n"
               "               interleaved rounds of about 0.5 s)\n"
               "  --warmup N   untimed seconds per side before each cell (default 0.5)\n"
               "  --threads T  highest thread count to run (default 2)\n"
               "  --alg NAME   only RSA-2048, P-256 or Ed25519\n");
}

static bool bench_parse_num(const char *s, double lo, double hi, double *out)
{
    char *end = NULL;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || !(v >= lo && v <= hi)) {
        return false;
    }
    *out = v;
    return true;
}

static int bench_parse_args(int argc, char **argv, struct bench_opts *o)
{
    *o = (struct bench_opts){ .seconds = 5.0, .warmup = 0.5, .max_threads = 2 };
    for (int i = 1; i < argc; i += 2) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        double d = 0;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            bench_usage(stdout);
            exit(0);
        }
        if (v == NULL) {
            fprintf(stderr, "bench_hsm: %s needs a value or is unknown\n", a);
            return -1;
        }
        if (strcmp(a, "--seconds") == 0 && bench_parse_num(v, 0.1, 3600, &d)) {
            o->seconds = d;
        } else if (strcmp(a, "--warmup") == 0 && bench_parse_num(v, 0, 60, &d)) {
            o->warmup = d;
        } else if (strcmp(a, "--threads") == 0 && bench_parse_num(v, 1, BENCH_MAX_THREADS, &d) &&
                   d == (unsigned)d) {
            o->max_threads = (unsigned)d;
        } else if (strcmp(a, "--alg") == 0) {
            o->only_alg = v;
        } else {
            fprintf(stderr, "bench_hsm: bad option or value: %s %s\n", a, v);
            return -1;
        }
    }
    return 0;
}

/* Collapse runs of blanks and drop trailing ones, in place. */
static void bench_squeeze_blanks(char *s)
{
    char *w = s;
    for (const char *p = s; *p != '\0'; p++) {
        if (*p == ' ' && (w == s || w[-1] == ' ')) {
            continue;
        }
        *w++ = *p;
    }
    while (w > s && w[-1] == ' ') {
        w--;
    }
    *w = '\0';
}

static void bench_print_header(struct kf_hsm_token *token, const struct bench_opts *o,
                               unsigned rounds)
{
    char cpu[256];
    CK_INFO info;
    memset(&info, 0, sizeof(info));
    CK_FUNCTION_LIST *fl = kf_hsm_token_functions(token);
    char lib[80] = "unknown";
    if (fl != NULL && fl->C_GetInfo(&info) == CKR_OK) {
        /* Fixed-width, blank-padded fields (PKCS#11 v2.40 s3.1 CK_INFO). */
        snprintf(lib, sizeof(lib), "%.32s %.32s", (const char *)info.manufacturerID,
                 (const char *)info.libraryDescription);
        bench_squeeze_blanks(lib);
    }
    printf("keyfort bench_hsm: signatures/s through kf_hsm_sign (pool) vs bare "
           "C_SignInit+C_Sign\n");
    printf("cpu:    %s (%ld online CPUs)\n", bench_cpu_model(cpu, sizeof(cpu)),
           sysconf(_SC_NPROCESSORS_ONLN));
    printf("build:  %s\n", bench_build_flags());
    printf("module: %s %u.%u (%s)\n", lib, info.libraryVersion.major, info.libraryVersion.minor,
           kf_test_softhsm_module());
    printf("cells:  %.1f s measured per side in %u interleaved rounds, %.1f s warm-up per side\n",
           o->seconds, rounds, o->warmup);
    printf("ratio:  median over rounds of keyfort/bare ops/s; target >= %.2f\n",
           BENCH_TARGET_RATIO);
    char load[64];
    printf("load:   %s (loadavg at start; other work on the machine adds noise)\n",
           bench_loadavg(load, sizeof(load)));
    if (!bench_build_is_release()) {
        printf("note:   not an optimised, sanitizer-free build: numbers are not representative\n");
    }
    printf("\n%-9s %3s %11s %13s %6s %17s %17s %13s  %s\n", "alg", "thr", "bare ops/s",
           "keyfort ops/s", "ratio", "bare p50/p99 us", "kf p50/p99 us", "cpu us/op b/kf",
           "verdict");
}

static int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a;
    double y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median of @p n values (sorted in place); 0 when there are none. */
static double bench_median(double *v, size_t n)
{
    if (n == 0) {
        return 0.0;
    }
    qsort(v, n, sizeof(*v), bench_cmp_double);
    return n % 2 != 0 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

/* CPU microseconds per operation: less sensitive than wall time to other processes. */
static double bench_cpu_per_op_us(const struct bench_side_result *s)
{
    return s->ops != 0 ? (double)s->cpu_ns / (double)s->ops / 1e3 : 0.0;
}

static double bench_rate(const struct bench_side_result *s)
{
    return s->wall_ns != 0 ? (double)s->ops * 1e9 / (double)s->wall_ns : 0.0;
}

/* Run one (alg, threads) cell and print its row. */
static void bench_cell(struct bench_run *r, unsigned threads, const struct bench_opts *o,
                       unsigned rounds)
{
    struct bench_side_result res[2];
    memset(res, 0, sizeof(res));

    /* Warm-up: caches, the pool's sessions for this thread count, CPU frequency. */
    r->keep_samples = false;
    r->duration_ns = (uint64_t)(o->warmup * 1e9);
    for (int side = BENCH_BARE; side <= BENCH_KEYFORT && r->duration_ns > 0; side++) {
        struct bench_side_result scratch;
        memset(&scratch, 0, sizeof(scratch));
        r->side = (enum bench_side)side;
        bench_run_once(r, threads, &scratch);
        bench_samples_cleanup(&scratch.lat);
    }

    r->keep_samples = true;
    r->duration_ns = (uint64_t)(o->seconds / rounds * 1e9);
    double *pair_ratio = calloc(rounds, sizeof(*pair_ratio));
    size_t n_pairs = 0;
    for (unsigned i = 0; i < rounds && !bench_stop && pair_ratio != NULL; i++) {
        double rate[2] = { 0, 0 };
        /* ABBA: bare first on even rounds, keyfort first on odd ones. */
        for (int k = 0; k < 2; k++) {
            int side = (i % 2 == 0) ? k : 1 - k;
            uint64_t ops0 = res[side].ops;
            uint64_t wall0 = res[side].wall_ns;
            r->side = (enum bench_side)side;
            bench_run_once(r, threads, &res[side]);
            uint64_t wall = res[side].wall_ns - wall0;
            rate[side] = wall != 0 ? (double)(res[side].ops - ops0) * 1e9 / (double)wall : 0;
        }
        if (res[BENCH_BARE].failed || res[BENCH_KEYFORT].failed) {
            break;
        }
        if (rate[BENCH_BARE] > 0) {
            pair_ratio[n_pairs++] = rate[BENCH_KEYFORT] / rate[BENCH_BARE];
        }
    }

    double bare = bench_rate(&res[BENCH_BARE]);
    double ours = bench_rate(&res[BENCH_KEYFORT]);
    /* The median of the per-round ratios: each pair ran back to back, so a burst of load from
     * other processes moves both sides of a pair, and the median drops the pairs it split. */
    double ratio = bench_median(pair_ratio, n_pairs);
    free(pair_ratio);
    bench_samples_sort(&res[BENCH_BARE].lat);
    bench_samples_sort(&res[BENCH_KEYFORT].lat);
    char lat[2][32];
    for (int s = 0; s < 2; s++) {
        snprintf(lat[s], sizeof(lat[s]), "%.1f/%.1f",
                 (double)bench_percentile(&res[s].lat, 50) / 1e3,
                 (double)bench_percentile(&res[s].lat, 99) / 1e3);
    }
    const char *verdict = ratio >= BENCH_TARGET_RATIO ? "PASS" : "FAIL";
    char cpu[32];
    snprintf(cpu, sizeof(cpu), "%.1f/%.1f", bench_cpu_per_op_us(&res[BENCH_BARE]),
             bench_cpu_per_op_us(&res[BENCH_KEYFORT]));
    printf("%-9s %3u %11.1f %13.1f %6.3f %17s %17s %13s  %s", r->alg->name, threads, bare, ours,
           ratio, lat[0], lat[1], cpu, verdict);
    for (int s = 0; s < 2; s++) {
        if (res[s].failed) {
            printf(" (%s side: %s)", bench_side_name[s], res[s].err);
        }
    }
    if (bench_stop) {
        printf(" (interrupted)");
    }
    printf("\n");
    fflush(stdout);
    for (int s = 0; s < 2; s++) {
        bench_samples_cleanup(&res[s].lat);
    }
}

static bool bench_setup_key(struct kf_hsm_token *token, const struct bench_alg *alg,
                            struct kf_hsm_key **out_key, EVP_PKEY **out_pub)
{
    char buf[256];
    struct kf_hsm_key *key = NULL;
    EVP_PKEY *pub = NULL;
    if (!kf_ok(kf_hsm_keygen(token, alg->type, alg->label, NULL, 0, &key))) {
        fprintf(stderr, "bench_hsm: %s: kf_hsm_keygen: %s\n", alg->name,
                kf_err_describe(buf, sizeof(buf)));
        return false;
    }
    if (!kf_ok(kf_hsm_key_public(key, &pub))) {
        fprintf(stderr, "bench_hsm: %s: kf_hsm_key_public: %s\n", alg->name,
                kf_err_describe(buf, sizeof(buf)));
        kf_hsm_key_unref(key);
        return false;
    }
    *out_key = key;
    *out_pub = pub;
    return true;
}

int main(int argc, char **argv)
{
    struct bench_opts o;
    if (bench_parse_args(argc, argv, &o) != 0) {
        bench_usage(stderr);
        return 2;
    }
    /* Rounds of about BENCH_ROUND_SECONDS: short enough that load from other processes
     * changes little within a pair, long enough for many RSA signatures. */
    unsigned rounds = (unsigned)(o.seconds / BENCH_ROUND_SECONDS + 0.5);
    if (rounds < 2) {
        rounds = 2;
    }
    if (rounds % 2 != 0) {
        rounds++; /* even, so each side goes first equally often */
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = bench_on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    for (size_t i = 0; i < sizeof(bench_input); i++) {
        bench_input[i] = (uint8_t)(0x5a ^ (i * 31)); /* fixed, not secret */
    }

    struct kf_test_token fixture;
    kf_test_token_setup(&fixture, "keyfort-bench");

    int rc = 2;
    char buf[256];
    struct kf_hsm_uri *uri = NULL;
    struct kf_hsm_token *token = NULL;
    struct kf_hsm_open_opts open_opts = {
        .module = kf_test_softhsm_module(),
        .pin_file = fixture.pin_file,
    };
    if (!kf_ok(kf_hsm_uri_parse(fixture.uri, &uri)) ||
        !kf_ok(kf_hsm_token_open(uri, &open_opts, &token))) {
        fprintf(stderr, "bench_hsm: cannot open the bench token: %s\n",
                kf_err_describe(buf, sizeof(buf)));
        goto out;
    }

    bool header = false;
    for (size_t a = 0; a < BENCH_N_ALGS && !bench_stop; a++) {
        const struct bench_alg *alg = &bench_algs[a];
        if (o.only_alg != NULL && strcasecmp(o.only_alg, alg->name) != 0) {
            continue;
        }
        struct kf_hsm_key *key = NULL;
        EVP_PKEY *pub = NULL;
        /* keygen logs in through the pool, so the bare side's sessions are logged in too. */
        if (!bench_setup_key(token, alg, &key, &pub)) {
            goto out;
        }
        struct bench_run run = {
            .alg = alg,
            .token = token,
            .key = key,
            .fl = kf_hsm_token_functions(token),
            .slot = kf_hsm_token_slot(token),
        };
        if (!header) {
            bench_print_header(token, &o, rounds);
            header = true;
        }
        char why[320];
        if (!bench_check(&run, pub, why, sizeof(why))) {
            printf("%-9s  -  signature check failed: %s\n", alg->name, why);
        } else {
            for (unsigned t = 1; t <= o.max_threads && !bench_stop; t++) {
                bench_cell(&run, t, &o, rounds);
            }
        }
        EVP_PKEY_free(pub);
        kf_hsm_key_unref(key);
    }
    if (!header) {
        fprintf(stderr, "bench_hsm: no algorithm matches --alg %s\n", o.only_alg);
        goto out;
    }
    rc = 0; /* a measurement: FAIL rows do not fail the run */
out:
    kf_hsm_token_unref(token);
    kf_hsm_uri_free(uri);
    kf_test_token_teardown(&fixture);
    return rc;
}
