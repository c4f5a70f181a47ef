/* perf/bench_provider.c - signatures per second through keyfort.so (EVP_DigestSign with a key
 * opened by OSSL_STORE from a pkcs11: URI), side by side with the floor SoftHSM2 sets and with
 * Debian's engine_pkcs11 on the same key; then TLS 1.3 handshakes per second with the server
 * key on the token against a software key of the same type.
 *
 * Signing sides, all on one throw-away token, the same key and the same 64-byte message:
 *
 *   token    bare C_SignInit + C_Sign on the token object, one session per thread
 *   session  the same on a session-object copy of the key (C_CopyObject, CKA_TOKEN false) made
 *            in each thread's session. SoftHSM2 2.6 opens, read-locks and reads the token's
 *            generation file and the object's file on every C_SignInit with a token object (to
 *            see changes made by other processes); a session object lives in memory. The
 *            faster of the two is the floor.
 *   keyfort  EVP_DigestSignInit_ex + EVP_DigestSign on the thread's own EVP_MD_CTX
 *   engine   the same calls with the key from ENGINE_load_private_key(engine_pkcs11)
 *
 *   RSA-2048  PKCS#1 v1.5 SHA-256 (bare: CKM_SHA256_RSA_PKCS over the message)
 *   P-256     ECDSA SHA-256 (bare: CKM_ECDSA over the SHA-256 digest, computed once; SoftHSM
 *             2.6 has no CKM_ECDSA_SHA256)
 *   Ed25519   pure EdDSA, one-shot (bare: CKM_EDDSA); engine_pkcs11 0.4.12 has no EdDSA
 *
 * Targets, per thread count: keyfort >= 0.95 x the faster bare side, >= 1.2 x engine_pkcs11.
 * Each cell warms every side up, then runs rounds of about 0.5 s per side whose order
 * alternates (ABCD, DCBA) so drift on a shared machine hits all sides alike; ratios are
 * medians over rounds. Before timing, one signature of each side is verified in software, and
 * after every round the last signature of every thread is verified too.
 *
 * A measurement, not a test: exits 0 once it has run, 2 on bad usage or when the token, the
 * provider or the engine cannot be set up. See perf/README.md. */

/* The ENGINE API is deprecated in OpenSSL 3.0, but engine_pkcs11, the peer measured here,
 * exists only as an engine. Only this file uses it, so only this file silences the warnings. */
#define OPENSSL_SUPPRESS_DEPRECATED

#include "perf/bench.h"

#include "hsm/hsm.h"
#include "tests/hsm/token_fixture.h"

#include <openssl/engine.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/provider.h>
#include <openssl/ssl.h>
#include <openssl/store.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <signal.h>
#include <strings.h>
#include <unistd.h>

#ifndef KF_BENCH_PROVIDER_DIR
#error "KF_BENCH_PROVIDER_DIR must name the directory of keyfort.so (perf/CMakeLists.txt)"
#endif

#define BENCH_TARGET_BARE 0.95
#define BENCH_TARGET_ENGINE 1.2
#define BENCH_SIG_MAX 1024
#define BENCH_MAX_THREADS 2
#define BENCH_ROUND_SECONDS 0.5
#define BENCH_TLS_LABEL "bench-tls-p256"

enum bench_side {
    SIDE_TOKEN = 0,
    SIDE_SESSION,
    SIDE_KEYFORT,
    SIDE_ENGINE,
    SIDE_TLS_SOFT,
    SIDE_TLS_TOKEN,
    N_SIDES,
};

static const char *const side_name[N_SIDES] = {
    "bare token object", "bare session object", "keyfort",
    "engine_pkcs11",     "TLS software key",    "TLS token key",
};

struct bench_alg {
    const char *name;
    enum kf_hsm_key_type type;
    const char *label;      /* CKA_LABEL of the generated key */
    CK_MECHANISM_TYPE mech; /* the bare sides' mechanism */
    const char *md;         /* EVP_DigestSign digest; NULL: one-shot EdDSA */
    bool bare_digest;       /* the bare sides sign SHA-256(message), not the message */
    bool engine;            /* engine_pkcs11 can use this key type */
};

static const struct bench_alg bench_algs[] = {
    { "RSA-2048", KF_KEY_RSA2048, "bench-rsa2048", CKM_SHA256_RSA_PKCS, "SHA256", false, true },
    { "P-256", KF_KEY_P256, "bench-p256", CKM_ECDSA, "SHA256", true, true },
    /* Last on purpose: with an EdDSA key on the token engine_pkcs11 0.4.12 cannot enumerate
     * the token's private keys at all, so it must have loaded the others first. */
    { "Ed25519", KF_KEY_ED25519, "bench-ed25519", CKM_EDDSA, NULL, false, false },
};
#define BENCH_N_ALGS (sizeof(bench_algs) / sizeof(bench_algs[0]))

/* Fixed input: the same bytes on every run and every side. */
static uint8_t bench_input[64];
static uint8_t bench_input_sha256[32];

static volatile sig_atomic_t bench_stop; /* set by SIGINT/SIGTERM only */

static void bench_on_signal(int sig)
{
    (void)sig;
    bench_stop = 1;
}

/* ---- what the sides share ----------------------------------------------------------------- */

struct bench_keys {
    const struct bench_alg *alg; /* borrowed; NULL for the TLS cells */
    CK_FUNCTION_LIST *fl;        /* borrowed from the bench's own token handle */
    CK_SLOT_ID slot;
    EVP_PKEY *pub;      /* owned: the public key, for checking signatures */
    EVP_PKEY *kf_key;   /* owned: opened through keyfort's pkcs11: store */
    EVP_PKEY *eng_key;  /* owned: from engine_pkcs11; NULL when it has none */
    SSL_CTX *client;    /* owned: trusts both servers' certificates */
    SSL_CTX *server[2]; /* owned: [0] software key, [1] token key */
};

struct bench_run {
    struct bench_keys *keys; /* borrowed */
    enum bench_side side;
    uint64_t duration_ns;
    bool keep_samples; /* false during warm-up */
    pthread_barrier_t start;
};

struct bench_worker {
    struct bench_run *run;     /* borrowed */
    CK_SESSION_HANDLE session; /* bare sides: this thread's own session */
    CK_OBJECT_HANDLE key;      /* bare sides: the key handle signed with */
    EVP_MD_CTX *md;            /* owned: keyfort and engine sides */
    uint8_t sig[BENCH_SIG_MAX];
    size_t sig_len;           /* the last signature made, checked after the run */
    struct bench_samples lat; /* owned */
    uint64_t ops;
    uint64_t t_start;
    uint64_t t_end;
    uint64_t cpu_ns; /* CPU time this thread spent in the timed loop */
    bool failed;
    char err[320];
};

/* The OpenSSL error queue's last entry into @p w->err, and the queue emptied. */
static bool bench_ossl_fail(struct bench_worker *w, const char *what)
{
    char reason[256];
    ERR_error_string_n(ERR_peek_last_error(), reason, sizeof(reason));
    ERR_clear_error();
    snprintf(w->err, sizeof(w->err), "%s: %s", what, reason);
    return false;
}

/* ---- bare sides ----------------------------------------------------------------------------- */

/* Open this worker's own session and find the private key in it (not timed); the session side
 * then copies it into a session object. Login state is shared by all sessions of the process
 * (PKCS#11 v2.40 s5.6), and keyfort's pool has logged in already. */
static bool bench_bare_open(struct bench_worker *w)
{
    struct bench_keys *k = w->run->keys;
    if (!bench_bare_session(k->fl, k->slot, k->alg->label, &w->session, &w->key, w->err,
                            sizeof(w->err))) {
        return false;
    }
    if (w->run->side != SIDE_SESSION) {
        return true;
    }
    /* PKCS#11 v2.40 s5.7 C_CopyObject: the copy lives until this session closes. */
    CK_BBOOL no = CK_FALSE;
    CK_ATTRIBUTE copy_tmpl[] = { { CKA_TOKEN, &no, sizeof(no) } };
    CK_RV rv = k->fl->C_CopyObject(w->session, w->key, copy_tmpl, 1, &w->key);
    if (rv != CKR_OK) {
        snprintf(w->err, sizeof(w->err), "C_CopyObject(CKA_TOKEN false): %s", kf_hsm_ckr_name(rv));
        return false;
    }
    return true;
}

static bool bench_bare_sign(struct bench_worker *w)
{
    struct bench_keys *k = w->run->keys;
    CK_MECHANISM mech = { k->alg->mech, NULL, 0 };
    CK_ULONG len = sizeof(w->sig);
    const uint8_t *in = k->alg->bare_digest ? bench_input_sha256 : bench_input;
    CK_ULONG in_len = k->alg->bare_digest ? sizeof(bench_input_sha256) : sizeof(bench_input);
    CK_RV rv = k->fl->C_SignInit(w->session, &mech, w->key);
    if (rv == CKR_OK) {
        rv = k->fl->C_Sign(w->session, (CK_BYTE_PTR)in, in_len, w->sig, &len);
    }
    if (rv != CKR_OK) {
        snprintf(w->err, sizeof(w->err), "C_SignInit/C_Sign: %s", kf_hsm_ckr_name(rv));
        return false;
    }
    w->sig_len = len;
    return true;
}

/* ---- keyfort and engine sides ---------------------------------------------------------------- */

/* One signature the way an application makes one: (re)initialise the thread's EVP_MD_CTX for
 * the key, then one-shot EVP_DigestSign. */
static bool bench_evp_sign(struct bench_worker *w, EVP_PKEY *pkey)
{
    const struct bench_alg *alg = w->run->keys->alg;
    size_t len = sizeof(w->sig);
    if (EVP_DigestSignInit_ex(w->md, NULL, alg->md, NULL, NULL, pkey, NULL) != 1) {
        return bench_ossl_fail(w, "EVP_DigestSignInit_ex");
    }
    if (EVP_DigestSign(w->md, w->sig, &len, bench_input, sizeof(bench_input)) != 1) {
        return bench_ossl_fail(w, "EVP_DigestSign");
    }
    w->sig_len = len;
    return true;
}

/* ---- TLS sides ------------------------------------------------------------------------------- */

/* Not done yet, only waiting for the peer's next flight. */
static bool bench_tls_wants_io(SSL *ssl, int rc)
{
    int e = SSL_get_error(ssl, rc);
    return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE;
}

/* One full TLS 1.3 handshake between two SSL objects over an in-memory BIO pair, in this
 * thread: client and server work both count. */
static bool bench_tls_handshake(struct bench_worker *w)
{
    struct bench_keys *k = w->run->keys;
    SSL_CTX *sctx = k->server[w->run->side == SIDE_TLS_TOKEN ? 1 : 0];
    SSL *c = SSL_new(k->client);
    SSL *s = SSL_new(sctx);
    BIO *cb = NULL;
    BIO *sb = NULL;
    bool ok = false;
    if (c == NULL || s == NULL || BIO_new_bio_pair(&cb, 0, &sb, 0) != 1) {
        BIO_free(cb);
        BIO_free(sb);
        SSL_free(c);
        SSL_free(s);
        return bench_ossl_fail(w, "SSL_new/BIO_new_bio_pair");
    }
    SSL_set_bio(c, cb, cb); /* each SSL now owns its end of the pair */
    SSL_set_bio(s, sb, sb);
    SSL_set_connect_state(c);
    SSL_set_accept_state(s);
    bool c_done = false;
    bool s_done = false;
    /* A TLS 1.3 handshake takes two flights each way; 16 turns leave room and still end a
     * handshake that stalls. */
    for (int turn = 0; turn < 16 && !(c_done && s_done); turn++) {
        int rc = c_done ? 1 : SSL_do_handshake(c);
        if (rc == 1) {
            c_done = true;
        } else if (!bench_tls_wants_io(c, rc)) {
            bench_ossl_fail(w, "client handshake");
            goto out;
        }
        int rs = s_done ? 1 : SSL_do_handshake(s);
        if (rs == 1) {
            s_done = true;
        } else if (!bench_tls_wants_io(s, rs)) {
            bench_ossl_fail(w, "server handshake");
            goto out;
        }
    }
    if (!(c_done && s_done)) {
        snprintf(w->err, sizeof(w->err), "handshake did not finish");
        goto out;
    }
    /* The client checked the chain and the server's CertificateVerify signature. */
    if (SSL_get_verify_result(c) != X509_V_OK || SSL_version(c) != TLS1_3_VERSION) {
        snprintf(w->err, sizeof(w->err), "handshake: verify result %ld, version 0x%x",
                 SSL_get_verify_result(c), (unsigned)SSL_version(c));
        goto out;
    }
    ok = true;
out:
    SSL_free(c);
    SSL_free(s);
    return ok;
}

/* ---- one run: N threads on one side for a fixed time ---------------------------------------- */

static bool bench_side_open(struct bench_worker *w)
{
    switch (w->run->side) {
    case SIDE_TOKEN:
    case SIDE_SESSION:
        return bench_bare_open(w);
    case SIDE_KEYFORT:
    case SIDE_ENGINE:
        w->md = EVP_MD_CTX_new();
        return w->md != NULL || bench_ossl_fail(w, "EVP_MD_CTX_new");
    case SIDE_TLS_SOFT:
    case SIDE_TLS_TOKEN:
        return true;
    case N_SIDES:
    default:
        snprintf(w->err, sizeof(w->err), "no such side");
        return false;
    }
}

static bool bench_side_op(struct bench_worker *w)
{
    switch (w->run->side) {
    case SIDE_TOKEN:
    case SIDE_SESSION:
        return bench_bare_sign(w);
    case SIDE_KEYFORT:
        return bench_evp_sign(w, w->run->keys->kf_key);
    case SIDE_ENGINE:
        return bench_evp_sign(w, w->run->keys->eng_key);
    case SIDE_TLS_SOFT:
    case SIDE_TLS_TOKEN:
        return bench_tls_handshake(w);
    case N_SIDES:
    default:
        return false;
    }
}

/* Closing the session also destroys the session-object copy (PKCS#11 v2.40 s4.4). */
static void bench_side_close(struct bench_worker *w)
{
    if (w->session != 0) {
        (void)w->run->keys->fl->C_CloseSession(w->session);
        w->session = 0;
    }
    EVP_MD_CTX_free(w->md);
    w->md = NULL;
}

static void *bench_worker_main(void *arg)
{
    struct bench_worker *w = arg;
    struct bench_run *r = w->run;

    bool ready = bench_side_open(w);
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
        if (!bench_side_op(w)) {
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
    char err[320];
};

static bool bench_verify(const struct bench_keys *k, enum bench_side side, const uint8_t *sig,
                         size_t sig_len);

static void bench_fail(struct bench_side_result *out, const char *err)
{
    if (!out->failed) {
        out->failed = true;
        snprintf(out->err, sizeof(out->err), "%s", err);
    }
}

static void bench_run_once(struct bench_run *r, unsigned threads, struct bench_side_result *out)
{
    struct bench_worker w[BENCH_MAX_THREADS];
    pthread_t tid[BENCH_MAX_THREADS];
    unsigned started = 0;

    memset(w, 0, sizeof(w));
    if (pthread_barrier_init(&r->start, NULL, threads) != 0) {
        bench_fail(out, "pthread_barrier_init failed");
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
        fprintf(stderr, "bench_provider: pthread_create failed\n");
        exit(2);
    }
    uint64_t first = UINT64_MAX;
    uint64_t last = 0;
    for (unsigned i = 0; i < threads; i++) {
        pthread_join(tid[i], NULL);
        bench_side_close(&w[i]);
        if (w[i].failed) {
            bench_fail(out, w[i].err);
        }
        /* What the timed loop signed must verify too, not only the untimed first signature. */
        if (!w[i].failed && w[i].sig_len > 0 && r->side < SIDE_TLS_SOFT &&
            !bench_verify(r->keys, r->side, w[i].sig, w[i].sig_len)) {
            bench_fail(out, "a signature from the timed loop does not verify");
        }
        if (w[i].t_start != 0 && w[i].t_start < first) {
            first = w[i].t_start;
        }
        if (w[i].t_end > last) {
            last = w[i].t_end;
        }
        out->ops += w[i].ops;
        out->cpu_ns += w[i].cpu_ns;
        if (r->keep_samples && !bench_samples_merge(&out->lat, &w[i].lat)) {
            bench_fail(out, "out of memory for latency samples");
        }
        bench_samples_cleanup(&w[i].lat);
    }
    if (last > first) {
        out->wall_ns += last - first;
    }
    pthread_barrier_destroy(&r->start);
}

/* ---- correctness: every side's signature verifies in software ---------------------------------
 */

static bool bench_verify(const struct bench_keys *k, enum bench_side side, const uint8_t *sig,
                         size_t sig_len)
{
    uint8_t *der = NULL;
    size_t der_len = 0;
    if (k->alg->bare_digest && (side == SIDE_TOKEN || side == SIDE_SESSION)) {
        /* The token returns r||s (PKCS#11 v2.40 s2.3.1); OpenSSL wants DER. */
        if (!kf_ok(kf_hsm_ecdsa_rs_to_der(sig, sig_len, &der, &der_len))) {
            return false;
        }
        sig = der;
        sig_len = der_len;
    }
    /* Every side signed the same message: ECDSA over its SHA-256 is ECDSA-with-SHA256. */
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    bool ok = md != NULL &&
              EVP_DigestVerifyInit_ex(md, NULL, k->alg->md, NULL, "provider=default", k->pub,
                                      NULL) == 1 &&
              EVP_DigestVerify(md, sig, sig_len, bench_input, sizeof(bench_input)) == 1;
    EVP_MD_CTX_free(md);
    OPENSSL_free(der);
    ERR_clear_error();
    return ok;
}

/* Sign once on each side (one thread, untimed) and verify. */
static bool bench_check(struct bench_keys *k, const enum bench_side *sides, size_t n_sides,
                        char *err, size_t err_len)
{
    for (size_t i = 0; i < n_sides; i++) {
        struct bench_run r = { .keys = k, .side = sides[i] };
        struct bench_worker w = { .run = &r };
        bool ok = bench_side_open(&w) && bench_side_op(&w);
        bench_side_close(&w);
        if (!ok) {
            snprintf(err, err_len, "%s: %s", side_name[sides[i]], w.err);
            return false;
        }
        if (sides[i] < SIDE_TLS_SOFT && !bench_verify(k, sides[i], w.sig, w.sig_len)) {
            snprintf(err, err_len, "%s: signature does not verify", side_name[sides[i]]);
            return false;
        }
    }
    return true;
}

/* ---- driver -----------------------------------------------------------------------------------
 */

struct bench_opts {
    double seconds;       /* measured time per side per cell */
    double warmup;        /* untimed time per side per cell */
    unsigned max_threads; /* 1..BENCH_MAX_THREADS */
    const char *only_alg; /* NULL: all */
    bool sign;            /* run the signing table */
    bool tls;             /* run the TLS table */
    bool keyfort_first;   /* provider order in the default library context */
};

static void bench_usage(FILE *f)
{
    fprintf(f, "usage: bench_provider [--seconds N] [--warmup N] [--threads 1|2] [--alg NAME]\n"
               "                      [--part sign|tls|all] [--order keyfort-first|default-first]\n"
               "  --seconds N  measured seconds per side per cell (default 5; split into\n"
               "               interleaved rounds of about 0.5 s)\n"
               "  --warmup N   untimed seconds per side before each cell (default 0.5)\n"
               "  --threads T  highest thread count to run (default 2)\n"
               "  --alg NAME   signing table: only RSA-2048, P-256 or Ed25519\n"
               "  --part P     only the signing table, only the TLS table, or both (default)\n"
               "  --order O    providers in the default library context (default keyfort-first,\n"
               "               as `-provider keyfort -provider default`)\n");
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
    *o = (struct bench_opts){ .seconds = 5.0,
                              .warmup = 0.5,
                              .max_threads = 2,
                              .sign = true,
                              .tls = true,
                              .keyfort_first = true };
    for (int i = 1; i < argc; i += 2) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        double d = 0;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            bench_usage(stdout);
            exit(0);
        }
        if (v == NULL) {
            fprintf(stderr, "bench_provider: %s needs a value or is unknown\n", a);
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
        } else if (strcmp(a, "--part") == 0 &&
                   (strcmp(v, "sign") == 0 || strcmp(v, "tls") == 0 || strcmp(v, "all") == 0)) {
            o->sign = strcmp(v, "tls") != 0;
            o->tls = strcmp(v, "sign") != 0;
        } else if (strcmp(a, "--order") == 0 &&
                   (strcmp(v, "keyfort-first") == 0 || strcmp(v, "default-first") == 0)) {
            o->keyfort_first = strcmp(v, "keyfort-first") == 0;
        } else {
            fprintf(stderr, "bench_provider: bad option or value: %s %s\n", a, v);
            return -1;
        }
    }
    return 0;
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

/* One (sides, threads) cell: totals per side and the rate of every side in every round. */
struct bench_cell {
    struct bench_side_result res[N_SIDES];
    double (*rate)[N_SIDES]; /* owned: [round][side], ops/s of that side in that round */
    size_t n_rounds;         /* rounds completed by every side */
};

static void bench_cell_cleanup(struct bench_cell *c)
{
    for (int s = 0; s < N_SIDES; s++) {
        bench_samples_cleanup(&c->res[s].lat);
    }
    free(c->rate);
    memset(c, 0, sizeof(*c));
}

static bool bench_cell_failed(const struct bench_cell *c, const enum bench_side *sides, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (c->res[sides[i]].failed) {
            return true;
        }
    }
    return false;
}

static void bench_cell_run(struct bench_keys *k, const enum bench_side *sides, size_t n_sides,
                           unsigned threads, const struct bench_opts *o, unsigned rounds,
                           struct bench_cell *c)
{
    struct bench_run r = { .keys = k };
    memset(c, 0, sizeof(*c));

    /* Warm-up: caches, the pools' sessions for this thread count, CPU frequency. */
    r.duration_ns = (uint64_t)(o->warmup * 1e9);
    for (size_t i = 0; i < n_sides && r.duration_ns > 0 && !bench_stop; i++) {
        struct bench_side_result scratch;
        memset(&scratch, 0, sizeof(scratch));
        r.side = sides[i];
        bench_run_once(&r, threads, &scratch);
        bench_samples_cleanup(&scratch.lat);
        if (scratch.failed) {
            bench_fail(&c->res[sides[i]], scratch.err);
            return;
        }
    }

    r.keep_samples = true;
    r.duration_ns = (uint64_t)(o->seconds / rounds * 1e9);
    c->rate = calloc(rounds, sizeof(*c->rate));
    for (unsigned i = 0; i < rounds && !bench_stop && c->rate != NULL; i++) {
        /* Forward on even rounds, backward on odd ones: every side's mean position is equal. */
        for (size_t j = 0; j < n_sides; j++) {
            enum bench_side side = sides[i % 2 == 0 ? j : n_sides - 1 - j];
            struct bench_side_result *res = &c->res[side];
            uint64_t ops0 = res->ops;
            uint64_t wall0 = res->wall_ns;
            r.side = side;
            bench_run_once(&r, threads, res);
            uint64_t wall = res->wall_ns - wall0;
            c->rate[i][side] = wall != 0 ? (double)(res->ops - ops0) * 1e9 / (double)wall : 0;
        }
        if (bench_cell_failed(c, sides, n_sides)) {
            break;
        }
        c->n_rounds++;
    }
}

/* The median over rounds of num(round) / den(round); 0 when no round has a positive den. */
static double bench_median_ratio(const struct bench_cell *c, enum bench_side num,
                                 enum bench_side den_a, enum bench_side den_b)
{
    double *v = calloc(c->n_rounds + 1, sizeof(*v));
    size_t n = 0;
    for (size_t i = 0; i < c->n_rounds && v != NULL; i++) {
        double den = c->rate[i][den_a];
        if (den_b != N_SIDES && c->rate[i][den_b] > den) {
            den = c->rate[i][den_b]; /* the faster of two sides in that round */
        }
        if (den > 0) {
            v[n++] = c->rate[i][num] / den;
        }
    }
    double m = bench_median(v, n);
    free(v);
    return m;
}

static void bench_fmt_lat(char *buf, size_t len, struct bench_side_result *s)
{
    bench_samples_sort(&s->lat);
    snprintf(buf, len, "%.1f/%.1f", (double)bench_percentile(&s->lat, 50) / 1e3,
             (double)bench_percentile(&s->lat, 99) / 1e3);
}

static void bench_print_failures(const struct bench_cell *c, const enum bench_side *sides, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (c->res[sides[i]].failed) {
            printf(" (%s: %s)", side_name[sides[i]], c->res[sides[i]].err);
        }
    }
    if (bench_stop) {
        printf(" (interrupted)");
    }
    printf("\n");
    fflush(stdout);
}

static void bench_sign_row(struct bench_keys *k, unsigned threads, const struct bench_opts *o,
                           unsigned rounds)
{
    static const enum bench_side all[] = { SIDE_TOKEN, SIDE_SESSION, SIDE_KEYFORT, SIDE_ENGINE };
    size_t n_sides = k->eng_key != NULL ? 4 : 3;
    struct bench_cell c;
    bench_cell_run(k, all, n_sides, threads, o, rounds, &c);

    double bare = bench_median_ratio(&c, SIDE_KEYFORT, SIDE_TOKEN, SIDE_SESSION);
    double tok = bench_median_ratio(&c, SIDE_KEYFORT, SIDE_TOKEN, N_SIDES);
    double eng =
        k->eng_key != NULL ? bench_median_ratio(&c, SIDE_KEYFORT, SIDE_ENGINE, N_SIDES) : 0.0;
    char eng_rate[16] = "n/a";
    char eng_ratio[16] = "n/a";
    if (k->eng_key != NULL) {
        snprintf(eng_rate, sizeof(eng_rate), "%.1f", bench_rate(&c.res[SIDE_ENGINE]));
        snprintf(eng_ratio, sizeof(eng_ratio), "%.3f", eng);
    }
    char lat[N_SIDES][32];
    char cpu[64];
    for (size_t i = 0; i < n_sides; i++) {
        bench_fmt_lat(lat[all[i]], sizeof(lat[all[i]]), &c.res[all[i]]);
    }
    snprintf(cpu, sizeof(cpu), "%.1f/%.1f/%.1f", bench_cpu_per_op_us(&c.res[SIDE_TOKEN]),
             bench_cpu_per_op_us(&c.res[SIDE_SESSION]), bench_cpu_per_op_us(&c.res[SIDE_KEYFORT]));
    if (k->eng_key != NULL) {
        size_t used = strlen(cpu);
        snprintf(cpu + used, sizeof(cpu) - used, "/%.1f", bench_cpu_per_op_us(&c.res[SIDE_ENGINE]));
    }
    bool pass_bare = bare >= BENCH_TARGET_BARE;
    bool pass_eng = k->eng_key == NULL || eng >= BENCH_TARGET_ENGINE;
    const char *verdict = pass_bare && pass_eng     ? "PASS"
                          : !pass_bare && !pass_eng ? "FAIL(bare,engine)"
                          : !pass_bare              ? "FAIL(bare)"
                                                    : "FAIL(engine)";
    if (bench_cell_failed(&c, all, n_sides) || c.n_rounds == 0) {
        verdict = "ERROR";
    }
    printf("%-8s %3u %9.1f %9.1f %9.1f %9s %7.3f %7.3f %7s %15s %15s %23s  %s", k->alg->name,
           threads, bench_rate(&c.res[SIDE_TOKEN]), bench_rate(&c.res[SIDE_SESSION]),
           bench_rate(&c.res[SIDE_KEYFORT]), eng_rate, bare, tok, eng_ratio, lat[SIDE_SESSION],
           lat[SIDE_KEYFORT], cpu, verdict);
    bench_print_failures(&c, all, n_sides);
    bench_cell_cleanup(&c);
}

static void bench_tls_row(struct bench_keys *k, unsigned threads, const struct bench_opts *o,
                          unsigned rounds)
{
    static const enum bench_side sides[] = { SIDE_TLS_SOFT, SIDE_TLS_TOKEN };
    struct bench_cell c;
    bench_cell_run(k, sides, 2, threads, o, rounds, &c);
    double ratio = bench_median_ratio(&c, SIDE_TLS_TOKEN, SIDE_TLS_SOFT, N_SIDES);
    char lat[2][32];
    bench_fmt_lat(lat[0], sizeof(lat[0]), &c.res[SIDE_TLS_SOFT]);
    bench_fmt_lat(lat[1], sizeof(lat[1]), &c.res[SIDE_TLS_TOKEN]);
    char cpu[32];
    snprintf(cpu, sizeof(cpu), "%.1f/%.1f", bench_cpu_per_op_us(&c.res[SIDE_TLS_SOFT]),
             bench_cpu_per_op_us(&c.res[SIDE_TLS_TOKEN]));
    printf("%-8s %3u %11.1f %11.1f %7.3f %17s %17s %17s", "P-256", threads,
           bench_rate(&c.res[SIDE_TLS_SOFT]), bench_rate(&c.res[SIDE_TLS_TOKEN]), ratio, lat[0],
           lat[1], cpu);
    bench_print_failures(&c, sides, 2);
    bench_cell_cleanup(&c);
}

/* ---- setup ------------------------------------------------------------------------------------
 */

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
                               unsigned rounds, const char *engine_so)
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
    printf("keyfort bench_provider: EVP_DigestSign through keyfort.so vs bare C_Sign vs "
           "engine_pkcs11; TLS 1.3 handshakes\n");
    printf("cpu:     %s (%ld online CPUs)\n", bench_cpu_model(cpu, sizeof(cpu)),
           sysconf(_SC_NPROCESSORS_ONLN));
    printf("build:   %s\n", bench_build_flags());
    printf("openssl: %s; providers %s\n", OpenSSL_version(OPENSSL_VERSION),
           o->keyfort_first ? "keyfort, default" : "default, keyfort");
    printf("module:  %s %u.%u (%s)\n", lib, info.libraryVersion.major, info.libraryVersion.minor,
           kf_test_softhsm_module());
    printf("engine:  %s\n", engine_so);
    printf("cells:   %.1f s measured per side in %u interleaved rounds, %.1f s warm-up per side\n",
           o->seconds, rounds, o->warmup);
    char load[64];
    printf("load:    %s (loadavg at start; other work on the machine adds noise)\n",
           bench_loadavg(load, sizeof(load)));
    if (!bench_build_is_release()) {
        printf("note:    not an optimised, sanitizer-free build: numbers are not representative\n");
    }
}

/* The private key named by @p uri, through keyfort's pkcs11: store. */
static EVP_PKEY *bench_store_key(const char *uri)
{
    EVP_PKEY *pkey = NULL;
    OSSL_STORE_CTX *sc = OSSL_STORE_open_ex(uri, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
    if (sc == NULL) {
        return NULL;
    }
    if (OSSL_STORE_expect(sc, OSSL_STORE_INFO_PKEY) == 1) {
        while (pkey == NULL && !OSSL_STORE_eof(sc)) {
            OSSL_STORE_INFO *info = OSSL_STORE_load(sc);
            if (info != NULL && OSSL_STORE_INFO_get_type(info) == OSSL_STORE_INFO_PKEY) {
                pkey = OSSL_STORE_INFO_get1_PKEY(info);
            }
            OSSL_STORE_INFO_free(info);
            if (info == NULL && OSSL_STORE_error(sc)) {
                break;
            }
        }
    }
    OSSL_STORE_close(sc);
    return pkey;
}

/* engine_pkcs11 the way `-engine pkcs11` with an openssl.cnf engine section sets it up:
 * the dynamic engine loads pkcs11.so, MODULE_PATH names the PKCS#11 module, then init. */
static ENGINE *bench_engine_load(const char *so_path)
{
    ENGINE *e = ENGINE_by_id("dynamic");
    if (e == NULL) {
        return NULL;
    }
    if (ENGINE_ctrl_cmd_string(e, "SO_PATH", so_path, 0) != 1 ||
        ENGINE_ctrl_cmd_string(e, "ID", "pkcs11", 0) != 1 ||
        ENGINE_ctrl_cmd_string(e, "LIST_ADD", "0", 0) != 1 ||
        ENGINE_ctrl_cmd_string(e, "LOAD", NULL, 0) != 1 ||
        ENGINE_ctrl_cmd_string(e, "MODULE_PATH", kf_test_softhsm_module(), 0) != 1 ||
        ENGINE_init(e) != 1) {
        ENGINE_free(e);
        return NULL;
    }
    return e;
}

/* A self-signed certificate for @p key (signed with it, so on the token for a token key). */
static X509 *bench_self_signed(EVP_PKEY *key, const char *cn)
{
    X509 *x = X509_new();
    X509_NAME *name = x != NULL ? X509_get_subject_name(x) : NULL;
    if (name == NULL || X509_set_version(x, 2) != 1 ||
        ASN1_INTEGER_set(X509_get_serialNumber(x), 1) != 1 ||
        X509_gmtime_adj(X509_getm_notBefore(x), -3600) == NULL ||
        X509_gmtime_adj(X509_getm_notAfter(x), 86400) == NULL ||
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1,
                                   0) != 1 ||
        X509_set_issuer_name(x, name) != 1 || X509_set_pubkey(x, key) != 1 ||
        X509_sign(x, key, EVP_sha256()) <= 0) {
        X509_free(x);
        return NULL;
    }
    return x;
}

/* A TLS 1.3-only server context for @p key with its self-signed certificate, which the client
 * context is told to trust. Session tickets are off: every handshake is a full one. */
static SSL_CTX *bench_tls_server(EVP_PKEY *key, const char *cn, SSL_CTX *client)
{
    X509 *cert = bench_self_signed(key, cn);
    SSL_CTX *s = SSL_CTX_new_ex(NULL, NULL, TLS_server_method());
    bool ok = cert != NULL && s != NULL && SSL_CTX_set_min_proto_version(s, TLS1_3_VERSION) == 1 &&
              SSL_CTX_use_certificate(s, cert) == 1 && SSL_CTX_use_PrivateKey(s, key) == 1 &&
              SSL_CTX_check_private_key(s) == 1 && SSL_CTX_set_num_tickets(s, 0) == 1 &&
              X509_STORE_add_cert(SSL_CTX_get_cert_store(client), cert) == 1;
    X509_free(cert);
    if (!ok) {
        SSL_CTX_free(s);
        return NULL;
    }
    SSL_CTX_set_options(s, SSL_OP_NO_TICKET);
    SSL_CTX_set_session_cache_mode(s, SSL_SESS_CACHE_OFF);
    return s;
}

static void bench_keys_cleanup(struct bench_keys *k)
{
    EVP_PKEY_free(k->pub);
    EVP_PKEY_free(k->kf_key);
    EVP_PKEY_free(k->eng_key);
    SSL_CTX_free(k->client);
    SSL_CTX_free(k->server[0]);
    SSL_CTX_free(k->server[1]);
    memset(k, 0, sizeof(*k));
}

/* What every key is made on and opened with. */
struct bench_env {
    struct kf_hsm_token *token; /* counted ref: keygen, and the bare sides' function list */
    ENGINE *engine;             /* functional ref; NULL when the signing table is not run */
    const char *token_uri;      /* borrowed: pkcs11:token=<label> */
    const char *pin_file;       /* borrowed: the PIN, no line end */
};

/* Generate @p label on the token and open it through keyfort, and through engine_pkcs11 when
 * @p with_engine. Both get the same URI. */
static bool bench_setup_key(const struct bench_env *env, bool with_engine,
                            enum kf_hsm_key_type type, const char *label, struct bench_keys *k)
{
    char buf[256];
    char uri[1200];
    struct kf_hsm_key *key = NULL;
    if (!kf_ok(kf_hsm_keygen(env->token, type, label, NULL, 0, &key)) ||
        !kf_ok(kf_hsm_key_public(key, &k->pub))) {
        fprintf(stderr, "bench_provider: %s: %s\n", label, kf_err_describe(buf, sizeof(buf)));
        kf_hsm_key_unref(key);
        return false;
    }
    kf_hsm_key_unref(key);
    snprintf(uri, sizeof(uri), "%s;object=%s;type=private?pin-source=%s", env->token_uri, label,
             env->pin_file);
    k->kf_key = bench_store_key(uri);
    const OSSL_PROVIDER *prov = k->kf_key != NULL ? EVP_PKEY_get0_provider(k->kf_key) : NULL;
    if (prov == NULL || strcmp(OSSL_PROVIDER_get0_name(prov), "keyfort") != 0) {
        fprintf(stderr, "bench_provider: %s: no keyfort key from OSSL_STORE_open_ex: ", label);
        ERR_print_errors_fp(stderr);
        return false;
    }
    if (!with_engine) {
        return true;
    }
    k->eng_key = ENGINE_load_private_key(env->engine, uri, NULL, NULL);
    if (k->eng_key == NULL) {
        fprintf(stderr, "bench_provider: %s: ENGINE_load_private_key failed: ", label);
        ERR_print_errors_fp(stderr);
        return false;
    }
    return true;
}

/* The fixture's PIN file without its line end: engine_pkcs11 0.4.12 would send the newline as
 * part of the PIN (keyfort strips it). Both sides use this one, so their URIs are equal. */
static bool bench_pin_file_nonl(const struct kf_test_token *t, char *out, size_t len)
{
    char pin[128];
    FILE *f = fopen(t->pin_file, "r");
    if (f == NULL) {
        return false;
    }
    bool ok = fgets(pin, sizeof(pin), f) != NULL;
    fclose(f);
    if (!ok) {
        return false;
    }
    pin[strcspn(pin, "\r\n")] = '\0';
    snprintf(out, len, "%s/user.pin.nonl", t->dir);
    f = fopen(out, "w");
    ok = f != NULL && fputs(pin, f) >= 0;
    if (f != NULL) {
        ok = fclose(f) == 0 && ok;
    }
    OPENSSL_cleanse(pin, sizeof(pin));
    return ok;
}

static bool bench_load_providers(const struct bench_opts *o)
{
    /* keyfort.so from this build tree, not whatever OPENSSL_MODULES or MODULESDIR holds. */
    if (OSSL_PROVIDER_set_default_search_path(NULL, KF_BENCH_PROVIDER_DIR) != 1) {
        return false;
    }
    const char *first = o->keyfort_first ? "keyfort" : "default";
    const char *second = o->keyfort_first ? "default" : "keyfort";
    return OSSL_PROVIDER_load(NULL, first) != NULL && OSSL_PROVIDER_load(NULL, second) != NULL;
}

int main(int argc, char **argv)
{
    struct bench_opts o;
    if (bench_parse_args(argc, argv, &o) != 0) {
        bench_usage(stderr);
        return 2;
    }
    /* Rounds of about BENCH_ROUND_SECONDS: short enough that load from other processes
     * changes little within a round, long enough for many RSA signatures. */
    unsigned rounds = (unsigned)(o.seconds / BENCH_ROUND_SECONDS + 0.5);
    if (rounds < 2) {
        rounds = 2;
    }
    if (rounds % 2 != 0) {
        rounds++; /* even, so each order runs equally often */
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = bench_on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    for (size_t i = 0; i < sizeof(bench_input); i++) {
        bench_input[i] = (uint8_t)(0x5a ^ (i * 31)); /* fixed, not secret */
    }
    if (EVP_Digest(bench_input, sizeof(bench_input), bench_input_sha256, NULL, EVP_sha256(),
                   NULL) != 1) {
        fprintf(stderr, "bench_provider: SHA-256 failed\n");
        return 2;
    }

    struct kf_test_token fixture;
    kf_test_token_setup(&fixture, "keyfort-bench");

    int rc = 2;
    char buf[256];
    char pin_file[400];
    char engine_so[400];
    struct kf_hsm_uri *uri = NULL;
    struct kf_hsm_token *token = NULL;
    ENGINE *engine = NULL;
    struct bench_keys keys;
    memset(&keys, 0, sizeof(keys));
    struct kf_hsm_open_opts open_opts = {
        .module = kf_test_softhsm_module(),
        .pin_file = fixture.pin_file,
    };
    snprintf(engine_so, sizeof(engine_so), "%s/pkcs11.so", OPENSSL_info(OPENSSL_INFO_ENGINES_DIR));
    if (!bench_pin_file_nonl(&fixture, pin_file, sizeof(pin_file))) {
        fprintf(stderr, "bench_provider: cannot write a PIN file in %s\n", fixture.dir);
        goto out;
    }
    if (!kf_ok(kf_hsm_uri_parse(fixture.uri, &uri)) ||
        !kf_ok(kf_hsm_token_open(uri, &open_opts, &token))) {
        fprintf(stderr, "bench_provider: cannot open the bench token: %s\n",
                kf_err_describe(buf, sizeof(buf)));
        goto out;
    }
    if (!bench_load_providers(&o)) {
        fprintf(stderr, "bench_provider: cannot load keyfort.so from %s: ", KF_BENCH_PROVIDER_DIR);
        ERR_print_errors_fp(stderr);
        goto out;
    }
    if (o.sign && (engine = bench_engine_load(engine_so)) == NULL) {
        fprintf(stderr,
                "bench_provider: cannot load engine_pkcs11 from %s "
                "(scripts/deps.sh installs libengine-pkcs11-openssl): ",
                engine_so);
        ERR_print_errors_fp(stderr);
        goto out;
    }
    bench_print_header(token, &o, rounds, o.sign ? engine_so : "(not used)");
    struct bench_env env = {
        .token = token, .engine = engine, .token_uri = fixture.uri, .pin_file = pin_file
    };

    bool any = false;
    for (size_t a = 0; a < BENCH_N_ALGS && o.sign && !bench_stop; a++) {
        const struct bench_alg *alg = &bench_algs[a];
        if (o.only_alg != NULL && strcasecmp(o.only_alg, alg->name) != 0) {
            continue;
        }
        if (!any) {
            printf("\nsignatures/s; ratios are medians over rounds of keyfort/(faster bare), "
                   "keyfort/(bare token object), keyfort/engine\n"
                   "targets: kf/bare >= %.2f, kf/eng >= %.2f; cpu us/op: token/session/"
                   "keyfort/engine\n",
                   BENCH_TARGET_BARE, BENCH_TARGET_ENGINE);
            printf("%-8s %3s %9s %9s %9s %9s %7s %7s %7s %15s %15s %23s  %s\n", "alg", "thr",
                   "token/s", "session/s", "keyfort/s", "engine/s", "kf/bare", "kf/tok", "kf/eng",
                   "sess p50/p99us", "kf p50/p99us", "cpu us/op", "verdict");
            any = true;
        }
        keys.alg = alg;
        keys.fl = kf_hsm_token_functions(token);
        keys.slot = kf_hsm_token_slot(token);
        if (!bench_setup_key(&env, alg->engine, alg->type, alg->label, &keys)) {
            goto out;
        }
        static const enum bench_side check[] = { SIDE_TOKEN, SIDE_SESSION, SIDE_KEYFORT,
                                                 SIDE_ENGINE };
        char why[400];
        if (!bench_check(&keys, check, keys.eng_key != NULL ? 4 : 3, why, sizeof(why))) {
            printf("%-8s  -  signature check failed: %s\n", alg->name, why);
        } else {
            for (unsigned t = 1; t <= o.max_threads && !bench_stop; t++) {
                bench_sign_row(&keys, t, &o, rounds);
            }
        }
        bench_keys_cleanup(&keys);
    }
    if (o.sign && !any) {
        fprintf(stderr, "bench_provider: no algorithm matches --alg %s\n", o.only_alg);
        goto out;
    }

    if (o.tls && !bench_stop) {
        printf("\nTLS 1.3 handshakes/s, P-256 server key: software (default provider) vs the "
               "token (keyfort); client and server in one thread over a BIO pair\n");
        printf("%-8s %3s %11s %11s %7s %17s %17s %17s\n", "key", "thr", "software/s", "token/s",
               "tok/sw", "sw p50/p99 us", "tok p50/p99 us", "cpu us/hs sw/tok");
        if (!bench_setup_key(&env, false, KF_KEY_P256, BENCH_TLS_LABEL, &keys)) {
            goto out;
        }
        EVP_PKEY *soft = EVP_PKEY_Q_keygen(NULL, "provider=default", "EC", "P-256");
        keys.client = SSL_CTX_new_ex(NULL, NULL, TLS_client_method());
        if (soft == NULL || keys.client == NULL ||
            SSL_CTX_set_min_proto_version(keys.client, TLS1_3_VERSION) != 1 ||
            (keys.server[0] = bench_tls_server(soft, "software", keys.client)) == NULL ||
            (keys.server[1] = bench_tls_server(keys.kf_key, "token", keys.client)) == NULL) {
            fprintf(stderr, "bench_provider: TLS setup failed: ");
            ERR_print_errors_fp(stderr);
            EVP_PKEY_free(soft);
            goto out;
        }
        EVP_PKEY_free(soft);
        SSL_CTX_set_verify(keys.client, SSL_VERIFY_PEER, NULL);
        SSL_CTX_set_session_cache_mode(keys.client, SSL_SESS_CACHE_OFF);
        static const enum bench_side check[] = { SIDE_TLS_SOFT, SIDE_TLS_TOKEN };
        char why[400];
        if (!bench_check(&keys, check, 2, why, sizeof(why))) {
            printf("%-8s  -  handshake check failed: %s\n", "P-256", why);
        } else {
            for (unsigned t = 1; t <= o.max_threads && !bench_stop; t++) {
                bench_tls_row(&keys, t, &o, rounds);
            }
        }
        bench_keys_cleanup(&keys);
    }
    rc = 0; /* a measurement: FAIL rows do not fail the run */
out:
    bench_keys_cleanup(&keys);
    /* engine_pkcs11 closes its sessions and finalizes the module when it is finished: do it
     * now, while SoftHSM2 is intact, not from OPENSSL_cleanup at exit. */
    if (engine != NULL) {
        ENGINE_finish(engine);
        ENGINE_free(engine);
    }
    kf_hsm_token_unref(token);
    kf_hsm_uri_free(uri);
    kf_test_token_teardown(&fixture);
    return rc;
}
