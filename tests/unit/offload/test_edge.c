/* tests/unit/offload/test_edge.c - offload/ on edge cases and API semantics (STYLE.md s14).
 *
 * The edge cases follow the families Wycheproof publishes for ECDSA P-256 SHA-256 and
 * RSASSA-PKCS1-v1_5 SHA-256 (written here from their descriptions, not copied): extreme values
 * of r and s, malleability, hash values at and above the group order, intermediate values of
 * the double scalar multiplication (u1 = 0, u1 G = u2 Q, u1 G = -u2 Q), x(R) >= n, special
 * public keys, and for RSA signatures of the wrong length or >= n and every kind of broken
 * EMSA-PKCS1-v1_5 encoding (RFC 8017 s9.2), signed with the raw private operation. Signatures
 * "under" keys whose private key is unknown are built backwards: pick R (or Q), u1 and u2, and
 * solve for the key (or the signature) and the digest, which is why those cases are digest
 * jobs (KF_OFFLOAD_JOB_DIGEST).
 *
 * Each case has a name and an expected verdict; OpenSSL (called directly) must agree with the
 * expectation, and the engine must give exactly that verdict alone, in a batch of eight at
 * every position beside valid batch-mates, as eight copies, on an engine that sends even one
 * job to a kernel (min_lanes 1), and through kf_offload_submit(). The backend under test is
 * the default one ($KEYFORT_OFFLOAD), printed by every test.
 */
#include "offload/offload.h"
#include "offload_fixture.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <inttypes.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
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

#define SIG_MAX 600
/* A case table as Criterion's parameter array. */
#define PARAM_ARRAY(type, cases) cr_make_param_array(type, cases, sizeof(cases) / sizeof(cases[0]))

/* ---- small helpers ----------------------------------------------------------------------- */

static uint64_t rng_state = 0x6b66656467650001u; /* fixed: every case is the same every run */

/* For assertion messages, which show one hex string each: one buffer serves them all. */
static const char *hex(const uint8_t *p, size_t n)
{
    static char buf[2 * SIG_MAX + 1];
    return fixture_hex(buf, sizeof(buf), p, n);
}

static BN_CTX *bnc;

/* ---- a key as OpenSSL and the engine see it ----------------------------------------------- */

enum family {
    FAM_RSA,
    FAM_EC,
    FAM_ED,
};

struct target {
    enum kf_offload_alg alg;
    enum family fam;
    const EVP_MD *md;
    EVP_PKEY *pkey;
    struct kf_offload_key *kf[2]; /* two constructions of the same key */
    size_t nkf;
    size_t comp;        /* ECDSA: bytes of r and of s */
    uint8_t n[SIG_MAX]; /* RSA modulus */
    size_t k;           /* RSA_size */
};

static void target_free(struct target *t)
{
    for (size_t i = 0; i < t->nkf; i++) {
        kf_offload_key_free(t->kf[i]);
    }
    EVP_PKEY_free(t->pkey);
    memset(t, 0, sizeof(*t));
}

/* Under the AVX-512 IFMA backend, every construction of the key holds kernel precomputation. */
static void target_expect_lanes(const struct target *t, const char *what)
{
    for (size_t i = 0; i < t->nkf; i++) {
        fixture_expect_lanes(t->kf[i], what);
    }
}

static void target_rsa(struct target *t, const struct fixture_rsa_key *h, enum kf_offload_alg alg)
{
    memset(t, 0, sizeof(*t));
    t->alg = alg;
    t->fam = FAM_RSA;
    t->md = alg == KF_OFFLOAD_RSA_PKCS1_SHA512 ? EVP_sha512() : EVP_sha256();
    t->pkey = fixture_rsa_load(h);
    t->k = fixture_rsa_modulus(t->pkey, t->n, sizeof(t->n));
    t->kf[0] = fixture_kf_rsa(t->n, t->k, h->e);
    t->kf[1] = fixture_kf_from_pkey(t->pkey, 0);
    t->nkf = 2;
}

/* ---- P-256 arithmetic for building cases ------------------------------------------------- */

static struct fixture_ec_group P256, P384;

static void bn_out(const BIGNUM *x, uint8_t *out, size_t len)
{
    cr_assert_eq(BN_bn2binpad(x, out, (int)len), (int)len);
}

static BIGNUM *bn_rand_mod_n(const struct fixture_ec_group *w)
{
    BIGNUM *x = BN_new();
    cr_assert_not_null(x);
    fixture_ec_random_scalar(&rng_state, w, x);
    return x;
}

/* The first point with x = start, start + 1, ... */
static EC_POINT *point_from_small_x(const struct fixture_ec_group *w, const BIGNUM *start)
{
    BIGNUM *x = BN_dup(start);
    cr_assert_not_null(x);
    for (int i = 0; i < 1000; i++) {
        EC_POINT *pt = fixture_ec_point_from_x(w, x);
        if (pt != NULL) {
            BN_free(x);
            return pt;
        }
        cr_assert_eq(BN_add_word(x, 1), 1);
    }
    cr_assert_fail("no point with x near the start value");
    return NULL;
}

/* A P-256 (or P-384) target from X || Y: with and without the table, from bytes and pkey. */
static void target_ec(struct target *t, const struct fixture_ec_group *w, const uint8_t *xy)
{
    memset(t, 0, sizeof(*t));
    t->fam = FAM_EC;
    t->alg = w == &P256 ? KF_OFFLOAD_ECDSA_P256_SHA256 : KF_OFFLOAD_ECDSA_P384_SHA384;
    t->md = w == &P256 ? EVP_sha256() : EVP_sha384();
    t->comp = w->comp;
    t->pkey = fixture_ec_pub_pkey(w->name, xy, 2 * w->comp);
    cr_assert_not_null(t->pkey, "OpenSSL refuses the key %s", hex(xy, 2 * w->comp));
    kf_result r = kf_offload_key_new_ec(t->alg, xy, 2 * w->comp, KF_OFFLOAD_KEY_TABLE, &t->kf[0]);
    cr_assert(kf_ok(r), "engine refuses the key: %s", kf_err_name(r.code));
    t->kf[1] = fixture_kf_from_pkey(t->pkey, 0);
    t->nkf = 2;
}

/* ECDSA signature of a digest with private key d and nonce k (SEC 1 v2 s4.1.3). */
static void ec_sign(const struct fixture_ec_group *w, const BIGNUM *d, const uint8_t *digest,
                    size_t dlen, const BIGNUM *k, uint8_t *sig)
{
    cr_assert(fixture_ecdsa_sign_digest(w, d, digest, dlen, k, sig), "r or s is 0");
}

/* ---- the oracle -------------------------------------------------------------------------- */

static bool oracle(const struct target *t, const uint8_t *msg, size_t msg_len, unsigned flags,
                   const uint8_t *sig, size_t sig_len)
{
    int r = fixture_ossl_verify(t->pkey, t->md, t->fam == FAM_EC ? t->comp : 0,
                                (flags & KF_OFFLOAD_JOB_DIGEST) != 0, msg, msg_len, sig, sig_len);
    cr_assert_geq(r, 0, "OpenSSL could not be asked");
    return r == 1;
}

/* ---- the engine, every way ----------------------------------------------------------------- */

struct collected {
    pthread_mutex_t mu;
    size_t n;
    struct kf_offload_completion c[8192];
};

static void collect(void *arg, const struct kf_offload_completion *d, size_t n)
{
    struct collected *col = arg;
    pthread_mutex_lock(&col->mu);
    for (size_t i = 0; i < n; i++) {
        if (col->n < sizeof(col->c) / sizeof(col->c[0])) {
            col->c[col->n] = d[i];
        }
        col->n++;
    }
    pthread_mutex_unlock(&col->mu);
}

static struct collected *col_new(void)
{
    struct collected *c = calloc(1, sizeof(*c));
    cr_assert_not_null(c);
    cr_assert_eq(pthread_mutex_init(&c->mu, NULL), 0);
    return c;
}

static void col_free(struct collected *c)
{
    if (c != NULL) {
        pthread_mutex_destroy(&c->mu);
        free(c);
    }
}

static size_t col_count(struct collected *c)
{
    pthread_mutex_lock(&c->mu);
    size_t n = c->n;
    pthread_mutex_unlock(&c->mu);
    return n;
}

static struct kf_offload_engine *engine_new(unsigned workers, unsigned min_lanes,
                                            unsigned queue_depth, struct collected *col)
{
    struct kf_offload_config cfg = {
        .workers = workers,
        .min_lanes = min_lanes,
        .queue_depth = queue_depth,
        .backend = KF_OFFLOAD_BACKEND_AUTO,
        .on_done = col != NULL ? collect : NULL,
        .on_done_arg = col,
    };
    return fixture_engine_new(&cfg);
}

/* One signature check as the tables describe it. */
struct vcase {
    const char *name;
    const struct target *t;
    const uint8_t *msg;
    size_t msg_len;
    unsigned flags;
    const uint8_t *sig;
    size_t sig_len;
    enum kf_offload_verdict expected;
};

static struct kf_offload_job job_of(const struct vcase *v, const struct kf_offload_key *key,
                                    uint64_t tag)
{
    struct kf_offload_job j = {
        .alg = v->t->alg,
        .key = key,
        .msg = v->msg,
        .msg_len = v->msg_len,
        .sig = v->sig,
        .sig_len = v->sig_len,
        .tag = tag,
        .flags = v->flags,
        .verdict = KF_OFFLOAD_PENDING,
        .err = -1,
    };
    return j;
}

static void expect_verdict(const struct vcase *v, const char *how, const struct kf_offload_job *j,
                           enum kf_offload_verdict want)
{
    cr_assert_eq(j->verdict, want, "%s via %s: engine %s (err %s), expected %s\n  sig %s", v->name,
                 how, fixture_verdict_name(j->verdict), kf_err_name(j->err),
                 fixture_verdict_name(want), hex(v->sig, v->sig_len));
    if (want != KF_OFFLOAD_ERROR) {
        cr_assert_eq(j->err, 0, "%s via %s: err %d with verdict %s", v->name, how, j->err,
                     fixture_verdict_name(j->verdict));
    }
}

/* The case alone, among valid mates (@p mate, same algorithm) at each of 8 positions, as eight
 * copies, on a min_lanes 1 engine, and through submit. */
static void check_case(const struct vcase *v, const struct vcase *mate)
{
    bool ossl = oracle(v->t, v->msg, v->msg_len, v->flags, v->sig, v->sig_len);
    cr_assert_eq(ossl, v->expected == KF_OFFLOAD_VALID,
                 "%s: OpenSSL says %s, the case expects %s\n  sig %s", v->name,
                 ossl ? "valid" : "invalid", fixture_verdict_name(v->expected),
                 hex(v->sig, v->sig_len));
    cr_assert(oracle(mate->t, mate->msg, mate->msg_len, mate->flags, mate->sig, mate->sig_len));
    struct kf_offload_engine *lanes1 = engine_new(0, 1, 0, NULL);
    struct collected *col = col_new();
    struct kf_offload_engine *async = engine_new(1, 0, 0, col);
    for (size_t kv = 0; kv < v->t->nkf; kv++) {
        const struct kf_offload_key *key = v->t->kf[kv];
        struct kf_offload_job j = job_of(v, key, 7);
        kf_offload_verify_many(NULL, &j, 1);
        expect_verdict(v, "verify_many(NULL, 1 job)", &j, v->expected);
        j = job_of(v, key, 7);
        kf_offload_verify_many(lanes1, &j, 1);
        expect_verdict(v, "verify_many(min_lanes 1, 1 job)", &j, v->expected);
        struct kf_offload_job b[8];
        for (size_t pos = 0; pos < 8; pos++) {
            for (size_t i = 0; i < 8; i++) {
                b[i] = i == pos ? job_of(v, key, i) : job_of(mate, mate->t->kf[kv], i);
            }
            kf_offload_verify_many(pos % 2 ? lanes1 : NULL, b, 8);
            for (size_t i = 0; i < 8; i++) {
                char how[64];
                snprintf(how, sizeof(how), "batch of 8, case at %zu, job %zu", pos, i);
                expect_verdict(i == pos ? v : mate, how, &b[i],
                               i == pos ? v->expected : KF_OFFLOAD_VALID);
            }
        }
        for (size_t i = 0; i < 8; i++) {
            b[i] = job_of(v, key, i);
        }
        kf_offload_verify_many(NULL, b, 8);
        for (size_t i = 0; i < 8; i++) {
            expect_verdict(v, "8 copies", &b[i], v->expected);
        }
        /* submit: the case and 7 mates in one call */
        for (size_t i = 0; i < 8; i++) {
            b[i] = i == 3 ? job_of(v, key, 0xc0de000000000000u | kv)
                          : job_of(mate, mate->t->kf[kv], 1000 + i);
        }
        pthread_mutex_lock(&col->mu);
        col->n = 0;
        pthread_mutex_unlock(&col->mu);
        size_t acc = 0;
        cr_assert(kf_ok(kf_offload_submit(async, b, 8, &acc)));
        cr_assert_eq(acc, 8);
        kf_offload_drain(async);
        cr_assert_eq(col_count(col), 8);
        size_t found = 0;
        for (size_t i = 0; i < 8; i++) {
            struct kf_offload_job got = { .verdict = col->c[i].verdict, .err = col->c[i].err };
            if (col->c[i].tag == (0xc0de000000000000u | kv)) {
                found++;
                expect_verdict(v, "submit", &got, v->expected);
            } else {
                cr_assert(col->c[i].tag >= 1000 && col->c[i].tag < 1008, "stray tag %" PRIx64,
                          col->c[i].tag);
                expect_verdict(mate, "submit (mate)", &got, KF_OFFLOAD_VALID);
            }
        }
        cr_assert_eq(found, 1);
    }
    kf_offload_engine_free(async);
    kf_offload_engine_free(lanes1);
    col_free(col);
}

/* ---- ECDSA P-256 cases ------------------------------------------------------------------- */

enum ec_op {
    EC_VALID,
    EC_MALLEATED, /* (r, n - s) */
    EC_R_ZERO,
    EC_S_ZERO,
    EC_R_ONE,
    EC_S_ONE,
    EC_R_N_MINUS_1,
    EC_S_N_MINUS_1,
    EC_R_N,
    EC_S_N,
    EC_R_N_PLUS_1,
    EC_S_N_PLUS_1,
    EC_R_P,
    EC_S_P,
    EC_R_MAX, /* 2^256 - 1 */
    EC_S_MAX,
    EC_RS_ZERO,
    EC_RS_N,
    EC_SWAPPED,
    EC_LEN_63,
    EC_LEN_65,
    EC_LEN_0,
    EC_LEN_66_PADDED, /* 00 r 00 s: right values, wrong encoding */
    EC_LEN_128,
    EC_MSG_CHANGED,
    EC_HASH_ZERO,    /* digest 0: u1 = 0 */
    EC_HASH_N,       /* digest n: reduces to 0 */
    EC_HASH_ABOVE_N, /* digest n + t, signed as t */
    EC_HASH_MAX,     /* digest 2^256 - 1 */
    EC_DOUBLING,     /* u1 G = u2 Q: the sum is a doubling */
    EC_INFINITY,     /* u1 G = -u2 Q: R is the point at infinity */
    EC_FORGED_S_ONE, /* valid with s = 1 (key solved for) */
    EC_FORGED_S_N_MINUS_1,
    EC_FORGED_R_EQ_S,       /* u2 = 1 */
    EC_FORGED_R_SMALL,      /* R with the smallest x > 0 on the curve */
    EC_X_ABOVE_N,           /* x(R) >= n: r = x(R) - n, valid */
    EC_X_ABOVE_N_UNREDUCED, /* the same with r = x(R): not below n */
    EC_S_SMALL,             /* valid with s < 2^32 */
    EC_S_SMALL_PLUS_N,      /* the same s + n */
    EC_KEY_SMALL_X,         /* public key with the smallest x on the curve */
    EC_KEY_SMALL_X_BAD,
    EC_KEY_G,         /* d = 1 */
    EC_KEY_MINUS_G,   /* d = n - 1 */
    EC_KEY_X_ABOVE_N, /* public key with n <= x < p */
};

struct ec_case {
    char name[48];
    enum ec_op op;
    enum kf_offload_verdict expected;
};

#define V KF_OFFLOAD_VALID
#define I KF_OFFLOAD_INVALID
static struct ec_case ec_cases[] = {
    { "valid", EC_VALID, V },
    { "malleated (r, n - s)", EC_MALLEATED, V },
    { "r = 0", EC_R_ZERO, I },
    { "s = 0", EC_S_ZERO, I },
    { "r = 1", EC_R_ONE, I },
    { "s = 1", EC_S_ONE, I },
    { "r = n - 1", EC_R_N_MINUS_1, I },
    { "s = n - 1", EC_S_N_MINUS_1, I },
    { "r = n", EC_R_N, I },
    { "s = n", EC_S_N, I },
    { "r = n + 1", EC_R_N_PLUS_1, I },
    { "s = n + 1", EC_S_N_PLUS_1, I },
    { "r = p", EC_R_P, I },
    { "s = p", EC_S_P, I },
    { "r = 2^256 - 1", EC_R_MAX, I },
    { "s = 2^256 - 1", EC_S_MAX, I },
    { "r = s = 0", EC_RS_ZERO, I },
    { "r = s = n", EC_RS_N, I },
    { "r and s swapped", EC_SWAPPED, I },
    { "63 bytes", EC_LEN_63, I },
    { "65 bytes", EC_LEN_65, I },
    { "empty", EC_LEN_0, I },
    { "66 bytes: 00 r 00 s", EC_LEN_66_PADDED, I },
    { "128 bytes: r s r s", EC_LEN_128, I },
    { "message changed", EC_MSG_CHANGED, I },
    { "digest 0 (u1 = 0)", EC_HASH_ZERO, V },
    { "digest n (reduces to 0)", EC_HASH_N, V },
    { "digest n + t signed as t", EC_HASH_ABOVE_N, V },
    { "digest 2^256 - 1", EC_HASH_MAX, V },
    { "u1 G = u2 Q (doubling)", EC_DOUBLING, V },
    { "u1 G = -u2 Q (infinity)", EC_INFINITY, I },
    { "s = 1, valid", EC_FORGED_S_ONE, V },
    { "s = n - 1, valid", EC_FORGED_S_N_MINUS_1, V },
    { "r = s (u2 = 1), valid", EC_FORGED_R_EQ_S, V },
    { "small r, valid", EC_FORGED_R_SMALL, V },
    { "x(R) >= n, r = x(R) - n", EC_X_ABOVE_N, V },
    { "x(R) >= n, r = x(R)", EC_X_ABOVE_N_UNREDUCED, I },
    { "small s, valid", EC_S_SMALL, V },
    { "small s + n", EC_S_SMALL_PLUS_N, I },
    { "key with small x", EC_KEY_SMALL_X, V },
    { "key with small x, bad s", EC_KEY_SMALL_X_BAD, I },
    { "key G (d = 1)", EC_KEY_G, V },
    { "key -G (d = n - 1)", EC_KEY_MINUS_G, V },
    { "key with n <= x < p", EC_KEY_X_ABOVE_N, V },
};
#undef V
#undef I

static const char ec_d0_hex[] = "5d1c3a8e07b2f4e6a9c0d3e8f1726354a8b9c0d1e2f3041526a7b8c9d0e1f2a3";

struct built {
    uint8_t xy[96];
    uint8_t msg[128];
    size_t msg_len;
    unsigned flags;
    uint8_t sig[160];
    size_t sig_len;
};

/* Solve for a key: Q = u2^-1 (R - u1 G), r = x(R) mod n, s = r u2^-1, e = u1 s; then (r, s) is
 * a valid signature of digest e under Q. With @p s_want, u2 = r s_want^-1 (so s = s_want). */
static void forge_from_r(const EC_POINT *R, const BIGNUM *u1, const BIGNUM *u2_in,
                         const BIGNUM *s_want, struct built *b, BIGNUM *x_out)
{
    const struct fixture_ec_group *w = &P256;
    BIGNUM *x = BN_new(), *r = BN_new(), *u2 = BN_new(), *s = BN_new(), *e = BN_new(),
           *t = BN_new();
    EC_POINT *T = EC_POINT_new(w->g), *T2 = EC_POINT_new(w->g);
    cr_assert(x && r && u2 && s && e && t && T && T2);
    cr_assert(EC_POINT_get_affine_coordinates(w->g, R, x, NULL, bnc) && BN_nnmod(r, x, w->n, bnc));
    cr_assert(!BN_is_zero(r));
    if (s_want != NULL) {
        cr_assert(BN_mod_inverse(t, s_want, w->n, bnc) && BN_mod_mul(u2, r, t, w->n, bnc));
    } else {
        cr_assert(BN_copy(u2, u2_in));
    }
    cr_assert(BN_mod_inverse(t, u2, w->n, bnc) && BN_mod_mul(s, r, t, w->n, bnc) &&
              BN_mod_mul(e, u1, s, w->n, bnc));
    /* T = u2^-1 (R - u1 G) */
    cr_assert(EC_POINT_mul(w->g, T, u1, NULL, NULL, bnc) && EC_POINT_invert(w->g, T, bnc) &&
              EC_POINT_add(w->g, T2, T, R, bnc) && EC_POINT_mul(w->g, T, NULL, T2, t, bnc));
    fixture_ec_point_xy(w, T, b->xy);
    bn_out(e, b->msg, 32);
    b->msg_len = 32;
    b->flags = KF_OFFLOAD_JOB_DIGEST;
    bn_out(r, b->sig, 32);
    bn_out(s, b->sig + 32, 32);
    b->sig_len = 64;
    if (x_out != NULL) {
        cr_assert(BN_copy(x_out, x));
    }
    EC_POINT_free(T);
    EC_POINT_free(T2);
    BN_free(x);
    BN_free(r);
    BN_free(u2);
    BN_free(s);
    BN_free(e);
    BN_free(t);
}

/* For a given key Q: R = u1 G + u2 Q, r = x(R) mod n, s = r u2^-1, e = u1 s. */
static void forge_for_q(const EC_POINT *Q, struct built *b)
{
    const struct fixture_ec_group *w = &P256;
    BIGNUM *u1 = bn_rand_mod_n(w), *u2 = bn_rand_mod_n(w);
    EC_POINT *R = EC_POINT_new(w->g);
    cr_assert_not_null(R);
    cr_assert_eq(EC_POINT_mul(w->g, R, u1, Q, u2, bnc), 1);
    forge_from_r(R, u1, u2, NULL, b, NULL);
    fixture_ec_point_xy(w, Q, b->xy); /* forge_from_r solved for the same Q */
    EC_POINT_free(R);
    BN_free(u1);
    BN_free(u2);
}

static void set_value(uint8_t *x, const BIGNUM *v)
{
    bn_out(v, x, 32);
}

static void build_ec(enum ec_op op, const BIGNUM *d0, struct built *b)
{
    const struct fixture_ec_group *w = &P256;
    memset(b, 0, sizeof(*b));
    fixture_ec_pub_xy(w, d0, b->xy);
    static const char msg[] = "keyfort offload edge case";
    memcpy(b->msg, msg, sizeof(msg) - 1);
    b->msg_len = sizeof(msg) - 1;
    uint8_t h[32];
    fixture_digest(EVP_sha256(), b->msg, b->msg_len, h);
    BIGNUM *k = bn_rand_mod_n(w);
    ec_sign(w, d0, h, 32, k, b->sig);
    b->sig_len = 64;
    uint8_t nb[32], pb[32], v[32];
    bn_out(w->n, nb, 32);
    bn_out(w->p, pb, 32);
    BIGNUM *t = BN_new(), *u1 = bn_rand_mod_n(w), *u2 = bn_rand_mod_n(w), *x = BN_new();
    cr_assert(t && x);
    EC_POINT *R = EC_POINT_new(w->g);
    cr_assert_not_null(R);
    uint8_t *r = b->sig, *s = b->sig + 32;
    switch (op) {
    case EC_VALID:
        break;
    case EC_MALLEATED:
        fixture_be_sub(s, nb, s, 32);
        break;
    case EC_R_ZERO:
    case EC_S_ZERO:
    case EC_RS_ZERO:
        fixture_be_small(v, 32, 0);
        memcpy(op == EC_S_ZERO ? s : r, v, 32);
        if (op == EC_RS_ZERO) {
            memcpy(s, v, 32);
        }
        break;
    case EC_R_ONE:
    case EC_S_ONE:
        fixture_be_small(op == EC_R_ONE ? r : s, 32, 1);
        break;
    case EC_R_N_MINUS_1:
    case EC_S_N_MINUS_1:
        fixture_be_small(v, 32, 1);
        fixture_be_sub(op == EC_R_N_MINUS_1 ? r : s, nb, v, 32);
        break;
    case EC_R_N:
    case EC_S_N:
    case EC_RS_N:
        memcpy(op == EC_S_N ? s : r, nb, 32);
        if (op == EC_RS_N) {
            memcpy(s, nb, 32);
        }
        break;
    case EC_R_N_PLUS_1:
    case EC_S_N_PLUS_1:
        fixture_be_small(v, 32, 1);
        cr_assert(!fixture_be_add(op == EC_R_N_PLUS_1 ? r : s, nb, v, 32));
        break;
    case EC_R_P:
    case EC_S_P:
        memcpy(op == EC_R_P ? r : s, pb, 32);
        break;
    case EC_R_MAX:
    case EC_S_MAX:
        memset(op == EC_R_MAX ? r : s, 0xff, 32);
        break;
    case EC_SWAPPED:
        memcpy(v, r, 32);
        memcpy(r, s, 32);
        memcpy(s, v, 32);
        break;
    case EC_LEN_63:
        b->sig_len = 63;
        break;
    case EC_LEN_65:
        b->sig[64] = 0x00;
        b->sig_len = 65;
        break;
    case EC_LEN_0:
        b->sig_len = 0;
        break;
    case EC_LEN_66_PADDED:
        memmove(b->sig + 34, s, 32);
        memmove(b->sig + 1, r, 32);
        b->sig[0] = 0x00;
        b->sig[33] = 0x00;
        b->sig_len = 66;
        break;
    case EC_LEN_128:
        memcpy(b->sig + 64, b->sig, 64);
        b->sig_len = 128;
        break;
    case EC_MSG_CHANGED:
        b->msg[0] ^= 0x20;
        break;
    case EC_HASH_ZERO:
    case EC_HASH_N:
        memset(h, 0, 32);
        ec_sign(w, d0, h, 32, k, b->sig);
        memcpy(b->msg, op == EC_HASH_ZERO ? h : nb, 32);
        b->msg_len = 32;
        b->flags = KF_OFFLOAD_JOB_DIGEST;
        break;
    case EC_HASH_ABOVE_N:
        fixture_be_small(h, 32, 0);
        h[28] = 0x12; /* t = 0x12345678 */
        h[29] = 0x34;
        h[30] = 0x56;
        h[31] = 0x78;
        ec_sign(w, d0, h, 32, k, b->sig);
        cr_assert(!fixture_be_add(b->msg, h, nb, 32));
        b->msg_len = 32;
        b->flags = KF_OFFLOAD_JOB_DIGEST;
        break;
    case EC_HASH_MAX:
        memset(h, 0xff, 32);
        ec_sign(w, d0, h, 32, k, b->sig);
        memcpy(b->msg, h, 32);
        b->msg_len = 32;
        b->flags = KF_OFFLOAD_JOB_DIGEST;
        break;
    case EC_DOUBLING:
    case EC_INFINITY: {
        /* Doubling: a random; r = x(2 a G); s = r d / a; e = r d: u1 = a, u2 = a / d, so
         * u1 G = u2 Q = a G. Infinity: r, s random and e = -r d, so u1 G + u2 Q = 0. */
        BIGNUM *rr = BN_new(), *ss = BN_new(), *e = BN_new();
        cr_assert(rr && ss && e);
        if (op == EC_DOUBLING) {
            BIGNUM *a2 = BN_new();
            cr_assert(a2 && BN_mod_add(a2, u1, u1, w->n, bnc));
            cr_assert(EC_POINT_mul(w->g, R, a2, NULL, NULL, bnc) &&
                      EC_POINT_get_affine_coordinates(w->g, R, x, NULL, bnc) &&
                      BN_nnmod(rr, x, w->n, bnc) && BN_mod_mul(e, rr, d0, w->n, bnc) &&
                      BN_mod_inverse(t, u1, w->n, bnc) && BN_mod_mul(ss, e, t, w->n, bnc));
            BN_free(a2);
        } else {
            cr_assert(BN_copy(rr, u1) && BN_copy(ss, u2) && BN_mod_mul(e, rr, d0, w->n, bnc) &&
                      BN_mod_sub(e, w->n, e, w->n, bnc));
        }
        set_value(r, rr);
        set_value(s, ss);
        set_value(b->msg, e);
        b->msg_len = 32;
        b->flags = KF_OFFLOAD_JOB_DIGEST;
        BN_free(rr);
        BN_free(ss);
        BN_free(e);
        break;
    }
    case EC_FORGED_S_ONE:
    case EC_FORGED_S_N_MINUS_1:
    case EC_FORGED_R_EQ_S:
    case EC_S_SMALL:
    case EC_S_SMALL_PLUS_N: {
        cr_assert_eq(EC_POINT_mul(w->g, R, k, NULL, NULL, bnc), 1);
        BIGNUM *sw = BN_new();
        cr_assert_not_null(sw);
        if (op == EC_FORGED_S_ONE) {
            cr_assert(BN_one(sw));
        } else if (op == EC_FORGED_S_N_MINUS_1) {
            cr_assert(BN_copy(sw, w->n) && BN_sub_word(sw, 1));
        } else if (op == EC_FORGED_R_EQ_S) {
            cr_assert(EC_POINT_get_affine_coordinates(w->g, R, x, NULL, bnc) &&
                      BN_nnmod(sw, x, w->n, bnc));
        } else {
            cr_assert(BN_set_word(sw, 0x9abcdef1u));
        }
        forge_from_r(R, u1, NULL, sw, b, NULL);
        if (op == EC_S_SMALL_PLUS_N) {
            cr_assert(!fixture_be_add(s, s, nb, 32));
        }
        BN_free(sw);
        break;
    }
    case EC_FORGED_R_SMALL:
    case EC_X_ABOVE_N:
    case EC_X_ABOVE_N_UNREDUCED: {
        if (op == EC_FORGED_R_SMALL) {
            cr_assert(BN_one(t));
        } else {
            cr_assert(BN_copy(t, w->n));
        }
        EC_POINT *Rs = point_from_small_x(w, t);
        forge_from_r(Rs, u1, u2, NULL, b, x);
        if (op == EC_X_ABOVE_N_UNREDUCED) {
            set_value(r, x); /* x(R) itself, which is r + n */
        }
        EC_POINT_free(Rs);
        break;
    }
    case EC_KEY_SMALL_X:
    case EC_KEY_SMALL_X_BAD: {
        BN_zero(t);
        EC_POINT *Qs = point_from_small_x(w, t);
        forge_for_q(Qs, b);
        if (op == EC_KEY_SMALL_X_BAD) {
            s[31] ^= 0x01;
        }
        EC_POINT_free(Qs);
        break;
    }
    case EC_KEY_G:
    case EC_KEY_MINUS_G: {
        BIGNUM *d = BN_new();
        cr_assert(d && BN_one(d));
        if (op == EC_KEY_MINUS_G) {
            cr_assert(BN_sub(d, w->n, d));
        }
        cr_assert(EC_POINT_mul(w->g, R, d, NULL, NULL, bnc));
        fixture_ec_point_xy(w, R, b->xy);
        ec_sign(w, d, h, 32, k, b->sig);
        BN_free(d);
        break;
    }
    case EC_KEY_X_ABOVE_N: {
        cr_assert(BN_copy(t, w->n));
        EC_POINT *Qs = point_from_small_x(w, t);
        forge_for_q(Qs, b);
        EC_POINT_free(Qs);
        break;
    }
    }
    EC_POINT_free(R);
    BN_free(k);
    BN_free(t);
    BN_free(u1);
    BN_free(u2);
    BN_free(x);
}

static void edge_init(void)
{
    bnc = BN_CTX_new();
    cr_assert_not_null(bnc);
    fixture_ec_group_init(&P256, NID_X9_62_prime256v1);
    fixture_ec_group_init(&P384, NID_secp384r1);
}

static void edge_fini(void)
{
    fixture_ec_group_free(&P256);
    fixture_ec_group_free(&P384);
    BN_CTX_free(bnc);
    bnc = NULL;
}

TestSuite(edge, .init = edge_init, .fini = edge_fini);

ParameterizedTestParameters(edge, ecdsa_p256_sha256)
{
    return PARAM_ARRAY(struct ec_case, ec_cases);
}

ParameterizedTest(struct ec_case *c, edge, ecdsa_p256_sha256)
{
    fixture_announce(c->name);
    BIGNUM *d0 = NULL;
    cr_assert_gt(BN_hex2bn(&d0, ec_d0_hex), 0);
    struct built b, m;
    build_ec(c->op, d0, &b);
    build_ec(EC_VALID, d0, &m);
    m.msg[m.msg_len++] = '!'; /* mates sign another message, so they are not the case itself */
    uint8_t h[32];
    fixture_digest(EVP_sha256(), m.msg, m.msg_len, h);
    BIGNUM *k = bn_rand_mod_n(&P256);
    ec_sign(&P256, d0, h, 32, k, m.sig);
    BN_free(k);
    struct target t, tm;
    target_ec(&t, &P256, b.xy);
    target_ec(&tm, &P256, m.xy);
    target_expect_lanes(&t, "P-256 key");
    struct vcase v = { c->name, &t, b.msg, b.msg_len, b.flags, b.sig, b.sig_len, c->expected };
    struct vcase mate = { "mate", &tm, m.msg, m.msg_len, 0, m.sig, 64, KF_OFFLOAD_VALID };
    check_case(&v, &mate);
    target_free(&t);
    target_free(&tm);
    BN_free(d0);
}

/* ---- RSA PKCS#1 v1.5 SHA-256 cases ------------------------------------------------------- */

enum rsa_op {
    RSA_VALID,
    RSA_LEADING_ZERO,          /* a valid signature whose first byte is 00 */
    RSA_LEADING_ZERO_STRIPPED, /* the same without it: k - 1 bytes */
    RSA_EXTRA_LEADING_ZERO,    /* 00 || s: k + 1 bytes */
    RSA_TRAILING_BYTE,         /* s || 00 */
    RSA_TRUNCATED,             /* last byte cut */
    RSA_EMPTY,
    RSA_SIG_ZERO,
    RSA_SIG_ONE,
    RSA_SIG_N_MINUS_1,
    RSA_SIG_N,
    RSA_SIG_N_PLUS_1,
    RSA_SIG_PLUS_N, /* s + n: congruent to a valid signature */
    RSA_SIG_MAX,    /* 2^(8k) - 1 */
    RSA_MSG_CHANGED,
    /* encodings: 00 01 FF.. 00 DigestInfo H, broken one way each, signed raw */
    RSA_EM_GOOD,
    RSA_EM_BT02,
    RSA_EM_BT00,
    RSA_EM_PS_ZERO,             /* padding of 00 instead of FF */
    RSA_EM_PS_BYTE,             /* one padding byte FE */
    RSA_EM_PS_SHORT,            /* 7 FF, then the separator and zeros */
    RSA_EM_NO_SEP,              /* no 00 between the padding and T */
    RSA_EM_01_AT_2,             /* 00 00 01 FF ..: the 01 not at index 1 */
    RSA_EM_FIRST_01,            /* 01 01 FF ..: first byte not 00 (EM < n still) */
    RSA_EM_SHA1_OID,            /* SHA-1 DigestInfo with SHA-1 hash */
    RSA_EM_SHA512_OID,          /* SHA-512 DigestInfo with SHA-512 hash */
    RSA_EM_SHA1_OID_256,        /* SHA-1 OID in front of the SHA-256 hash */
    RSA_EM_NO_NULL,             /* AlgorithmIdentifier without NULL parameters */
    RSA_EM_HASH_SHORT,          /* 31-byte hash, lengths adjusted */
    RSA_EM_HASH_LONG,           /* 33-byte hash, lengths adjusted */
    RSA_EM_EXTRA_AFTER,         /* T || 2 bytes, padding shorter (the e = 3 forgery shape) */
    RSA_EM_EXTRA_INSIDE,        /* a byte inside the DigestInfo SEQUENCE, lengths adjusted */
    RSA_EM_LONG_LEN,            /* DigestInfo length in long form 81 31 */
    RSA_EM_SET_TAG,             /* DigestInfo as a SET (31) */
    RSA_EM_NO_DIGESTINFO,       /* 00 01 FF .. 00 H */
    RSA_EM_WRONG_HASH,          /* the hash of another message */
    RSA_SHA512_VALID,           /* KF_OFFLOAD_RSA_PKCS1_SHA512 */
    RSA_SHA512_GIVEN_SHA256_DI, /* a SHA-256 encoding under a SHA-512 job */
};

enum rsa_key_id {
    KEY_A,    /* 2048, e = 65537 */
    KEY_E3,   /* 2048, e = 3 */
    KEY_2047, /* 2047 bits: k = 256, n < 2^2047 */
};

struct rsa_case {
    char name[56];
    enum rsa_op op;
    enum rsa_key_id key;
    enum kf_offload_verdict expected;
};

#define V KF_OFFLOAD_VALID
#define I KF_OFFLOAD_INVALID
static struct rsa_case rsa_cases[] = {
    { "valid", RSA_VALID, KEY_A, V },
    { "valid, e = 3", RSA_VALID, KEY_E3, V },
    { "valid, 2047-bit modulus", RSA_VALID, KEY_2047, V },
    { "valid with leading zero byte", RSA_LEADING_ZERO, KEY_A, V },
    { "valid with leading zero byte, 2047 bits", RSA_LEADING_ZERO, KEY_2047, V },
    { "leading zero byte stripped", RSA_LEADING_ZERO_STRIPPED, KEY_A, I },
    { "extra leading zero byte", RSA_EXTRA_LEADING_ZERO, KEY_A, I },
    { "trailing byte appended", RSA_TRAILING_BYTE, KEY_A, I },
    { "last byte cut", RSA_TRUNCATED, KEY_A, I },
    { "empty", RSA_EMPTY, KEY_A, I },
    { "signature 0", RSA_SIG_ZERO, KEY_A, I },
    { "signature 1", RSA_SIG_ONE, KEY_A, I },
    { "signature 1, e = 3", RSA_SIG_ONE, KEY_E3, I },
    { "signature n - 1", RSA_SIG_N_MINUS_1, KEY_A, I },
    { "signature n", RSA_SIG_N, KEY_A, I },
    { "signature n, 2047 bits", RSA_SIG_N, KEY_2047, I },
    { "signature n + 1", RSA_SIG_N_PLUS_1, KEY_A, I },
    { "signature s + n", RSA_SIG_PLUS_N, KEY_A, I },
    { "signature s + n, 2047 bits", RSA_SIG_PLUS_N, KEY_2047, I },
    { "signature 2^2048 - 1", RSA_SIG_MAX, KEY_A, I },
    { "signature 2^2048 - 1, 2047 bits", RSA_SIG_MAX, KEY_2047, I },
    { "message changed", RSA_MSG_CHANGED, KEY_A, I },
    { "EM built here, right", RSA_EM_GOOD, KEY_A, V },
    { "EM built here, right, e = 3", RSA_EM_GOOD, KEY_E3, V },
    { "block type 02", RSA_EM_BT02, KEY_A, I },
    { "block type 00", RSA_EM_BT00, KEY_A, I },
    { "padding 00 instead of FF", RSA_EM_PS_ZERO, KEY_A, I },
    { "padding byte FE", RSA_EM_PS_BYTE, KEY_A, I },
    { "short FF run", RSA_EM_PS_SHORT, KEY_A, I },
    { "short FF run, e = 3", RSA_EM_PS_SHORT, KEY_E3, I },
    { "no 00 separator", RSA_EM_NO_SEP, KEY_A, I },
    { "01 at index 2", RSA_EM_01_AT_2, KEY_A, I },
    { "first byte 01", RSA_EM_FIRST_01, KEY_A, I },
    { "SHA-1 DigestInfo", RSA_EM_SHA1_OID, KEY_A, I },
    { "SHA-512 DigestInfo", RSA_EM_SHA512_OID, KEY_A, I },
    { "SHA-1 OID, SHA-256 hash", RSA_EM_SHA1_OID_256, KEY_A, I },
    { "NULL parameters missing", RSA_EM_NO_NULL, KEY_A, I },
    { "hash one byte short", RSA_EM_HASH_SHORT, KEY_A, I },
    { "hash one byte long", RSA_EM_HASH_LONG, KEY_A, I },
    { "extra bytes after the hash", RSA_EM_EXTRA_AFTER, KEY_A, I },
    { "extra bytes after the hash, e = 3", RSA_EM_EXTRA_AFTER, KEY_E3, I },
    { "extra byte inside DigestInfo", RSA_EM_EXTRA_INSIDE, KEY_A, I },
    { "DigestInfo length in long form", RSA_EM_LONG_LEN, KEY_A, I },
    { "DigestInfo tagged SET", RSA_EM_SET_TAG, KEY_A, I },
    { "bare hash, no DigestInfo", RSA_EM_NO_DIGESTINFO, KEY_A, I },
    { "hash of another message", RSA_EM_WRONG_HASH, KEY_A, I },
    { "SHA-512 job, valid", RSA_SHA512_VALID, KEY_A, V },
    { "SHA-512 job, SHA-256 encoding", RSA_SHA512_GIVEN_SHA256_DI, KEY_A, I },
};
#undef V
#undef I

static void rsa_sign_msg(const struct target *t, const uint8_t *m, size_t len, uint8_t *sig)
{
    cr_assert_eq(fixture_sign(t->pkey, t->md, m, len, sig, t->k), t->k);
}

static void build_rsa(enum rsa_op op, struct target *t, struct built *b, uint8_t *sig,
                      size_t *sig_len)
{
    static const char msg[] = "keyfort offload edge case";
    memset(b, 0, sizeof(*b));
    memcpy(b->msg, msg, sizeof(msg) - 1);
    b->msg_len = sizeof(msg) - 1;
    size_t k = t->k;
    uint8_t h[64], tt[160], em[SIG_MAX];
    size_t tl = 0;
    fixture_digest(EVP_sha256(), b->msg, b->msg_len, h);
    rsa_sign_msg(t, b->msg, b->msg_len, sig);
    *sig_len = k;
    if (op == RSA_LEADING_ZERO || op == RSA_LEADING_ZERO_STRIPPED || op == RSA_SIG_PLUS_N) {
        /* Search messages until the signature has the shape the case needs. */
        for (unsigned i = 0;; i++) {
            cr_assert_lt(i, 20000, "no message gives the signature shape");
            b->msg_len = (size_t)snprintf((char *)b->msg, sizeof(b->msg), "search %u", i);
            rsa_sign_msg(t, b->msg, b->msg_len, sig);
            if (op == RSA_SIG_PLUS_N) {
                uint8_t sum[SIG_MAX];
                if (!fixture_be_add(sum, sig, t->n, k)) {
                    memcpy(sig, sum, k);
                    break;
                }
            } else if (sig[0] == 0x00) {
                break;
            }
        }
        if (op == RSA_LEADING_ZERO_STRIPPED) {
            memmove(sig, sig + 1, k - 1);
            *sig_len = k - 1;
        }
        return;
    }
    memcpy(tt, fixture_di_sha256, 19);
    memcpy(tt + 19, h, 32);
    tl = 51;
    switch (op) {
    case RSA_VALID:
    case RSA_LEADING_ZERO:
    case RSA_LEADING_ZERO_STRIPPED:
    case RSA_SIG_PLUS_N:
        return;
    case RSA_EXTRA_LEADING_ZERO:
        memmove(sig + 1, sig, k);
        sig[0] = 0x00;
        *sig_len = k + 1;
        return;
    case RSA_TRAILING_BYTE:
        sig[k] = 0x00;
        *sig_len = k + 1;
        return;
    case RSA_TRUNCATED:
        *sig_len = k - 1;
        return;
    case RSA_EMPTY:
        *sig_len = 0;
        return;
    case RSA_SIG_ZERO:
    case RSA_SIG_ONE:
        fixture_be_small(sig, k, op == RSA_SIG_ONE);
        return;
    case RSA_SIG_N_MINUS_1:
    case RSA_SIG_N:
    case RSA_SIG_N_PLUS_1: {
        uint8_t one[SIG_MAX];
        fixture_be_small(one, k, 1);
        if (op == RSA_SIG_N_MINUS_1) {
            fixture_be_sub(sig, t->n, one, k);
        } else if (op == RSA_SIG_N) {
            memcpy(sig, t->n, k);
        } else {
            cr_assert(!fixture_be_add(sig, t->n, one, k));
        }
        return;
    }
    case RSA_SIG_MAX:
        memset(sig, 0xff, k);
        return;
    case RSA_MSG_CHANGED:
        b->msg[3] ^= 0x01;
        return;
    case RSA_SHA512_VALID:
        return; /* t is a SHA-512 target: rsa_sign_msg used SHA-512 */
    case RSA_EM_SHA1_OID:
        tl = fixture_emsa_t(EVP_sha1(), b->msg, b->msg_len, tt);
        break;
    case RSA_EM_SHA512_OID:
        tl = fixture_emsa_t(EVP_sha512(), b->msg, b->msg_len, tt);
        break;
    case RSA_SHA512_GIVEN_SHA256_DI:
    case RSA_EM_GOOD:
    case RSA_EM_BT02:
    case RSA_EM_BT00:
    case RSA_EM_PS_ZERO:
    case RSA_EM_PS_BYTE:
    case RSA_EM_PS_SHORT:
    case RSA_EM_NO_SEP:
    case RSA_EM_01_AT_2:
    case RSA_EM_FIRST_01:
        break;
    case RSA_EM_SHA1_OID_256:
        memcpy(tt, fixture_di_sha1, 15);
        tt[1] = 0x2d; /* 0x21 + 12: the SHA-256 hash is 12 bytes longer than SHA-1's */
        tt[14] = 0x20;
        memcpy(tt + 15, h, 32);
        tl = 47;
        break;
    case RSA_EM_NO_NULL:
        tt[1] = 0x2f;
        tt[3] = 0x0b;
        tt[15] = 0x04;
        tt[16] = 0x20;
        memcpy(tt + 17, h, 32);
        tl = 49;
        break;
    case RSA_EM_HASH_SHORT:
        tt[1] = 0x30;
        tt[18] = 0x1f;
        tl = 50;
        break;
    case RSA_EM_HASH_LONG:
        tt[1] = 0x32;
        tt[18] = 0x21;
        tt[51] = 0x00;
        tl = 52;
        break;
    case RSA_EM_EXTRA_AFTER:
        tt[51] = 0x12;
        tt[52] = 0x34;
        tl = 53;
        break;
    case RSA_EM_EXTRA_INSIDE:
        /* 30 32 30 0d .. 05 00 04 20 H 00: the SEQUENCE claims one more byte */
        tt[1] = 0x32;
        tt[51] = 0x00;
        tl = 52;
        break;
    case RSA_EM_LONG_LEN:
        tt[0] = 0x30;
        tt[1] = 0x81;
        memcpy(tt + 2, fixture_di_sha256 + 1, 18);
        memcpy(tt + 20, h, 32);
        tl = 52;
        break;
    case RSA_EM_SET_TAG:
        tt[0] = 0x31;
        break;
    case RSA_EM_NO_DIGESTINFO:
        memcpy(tt, h, 32);
        tl = 32;
        break;
    case RSA_EM_WRONG_HASH:
        tt[19] ^= 0x80;
        break;
    }
    size_t ps = fixture_emsa_put(em, k, tt, tl);
    switch (op) {
    case RSA_EM_BT02:
        em[1] = 0x02;
        break;
    case RSA_EM_BT00:
        em[1] = 0x00;
        break;
    case RSA_EM_PS_ZERO:
        memset(em + 2, 0x00, ps);
        break;
    case RSA_EM_PS_BYTE:
        em[2 + ps / 2] = 0xfe;
        break;
    case RSA_EM_PS_SHORT:
        memset(em + 9, 0x00, ps - 7);
        break;
    case RSA_EM_NO_SEP:
        em[2 + ps] = 0xff;
        break;
    case RSA_EM_01_AT_2:
        em[1] = 0x00;
        em[2] = 0x01;
        break;
    case RSA_EM_FIRST_01:
        em[0] = 0x01;
        break;
    default:
        break;
    }
    if (op == RSA_EM_FIRST_01) {
        /* EM must stay below n for the raw operation; on a key whose modulus starts
         * lower, the case is the 01-at-index-0 form with the top byte kept. */
        cr_assert_gt(t->n[0], 0x01, "modulus too small for this case");
    }
    fixture_rsa_raw_sign(t->pkey, em, k, sig);
    *sig_len = k;
}

ParameterizedTestParameters(edge, rsa_pkcs1)
{
    return PARAM_ARRAY(struct rsa_case, rsa_cases);
}

ParameterizedTest(struct rsa_case *c, edge, rsa_pkcs1)
{
    fixture_announce(c->name);
    static const struct fixture_rsa_key *const hk[] = { &fixture_rsa_a, &fixture_rsa_e3,
                                                        &fixture_rsa_2047 };
    bool sha512 = c->op == RSA_SHA512_VALID || c->op == RSA_SHA512_GIVEN_SHA256_DI;
    struct target t, tm;
    target_rsa(&t, hk[c->key], sha512 ? KF_OFFLOAD_RSA_PKCS1_SHA512 : KF_OFFLOAD_RSA_PKCS1_SHA256);
    target_rsa(&tm, hk[c->key], t.alg);
    target_expect_lanes(&t, "RSA key");
    struct built b, m;
    uint8_t sig[SIG_MAX + 2], msig[SIG_MAX];
    size_t sig_len = 0;
    build_rsa(c->op, &t, &b, sig, &sig_len);
    memset(&m, 0, sizeof(m));
    m.msg_len = (size_t)snprintf((char *)m.msg, sizeof(m.msg), "a batch-mate");
    rsa_sign_msg(&tm, m.msg, m.msg_len, msig);
    struct vcase v = { c->name, &t, b.msg, b.msg_len, 0, sig, sig_len, c->expected };
    struct vcase mate = { "mate", &tm, m.msg, m.msg_len, 0, msig, tm.k, KF_OFFLOAD_VALID };
    check_case(&v, &mate);
    /* The same case as a digest job. */
    uint8_t h[64];
    fixture_digest(t.md, b.msg, b.msg_len, h);
    struct vcase vd = v;
    vd.msg = h;
    vd.msg_len = (size_t)EVP_MD_get_size(t.md);
    vd.flags = KF_OFFLOAD_JOB_DIGEST;
    check_case(&vd, &mate);
    target_free(&t);
    target_free(&tm);
}

/* ---- EdDSA, P-384 and RSA SHA-512: the scalar path agrees with OpenSSL -------------------- */

static void target_ed(struct target *t, enum kf_offload_alg alg, EVP_PKEY **priv_out)
{
    memset(t, 0, sizeof(*t));
    bool e25519 = alg == KF_OFFLOAD_ED25519;
    uint8_t pub[57];
    size_t pub_len = 0;
    EVP_PKEY *pk = fixture_eddsa_keygen(&rng_state, alg, pub, &pub_len);
    t->alg = alg;
    t->fam = FAM_ED;
    t->pkey =
        EVP_PKEY_new_raw_public_key(e25519 ? EVP_PKEY_ED25519 : EVP_PKEY_ED448, NULL, pub, pub_len);
    cr_assert_not_null(t->pkey);
    cr_assert(kf_ok(kf_offload_key_new_eddsa(alg, pub, pub_len, &t->kf[0])));
    t->kf[1] = fixture_kf_from_pkey(t->pkey, 0);
    t->nkf = 2;
    *priv_out = pk;
}

/* The group order of edwards25519, L = 2^252 + 27742317777372353535851937790883648493, little
 * endian (RFC 8032 s5.1). */
static const uint8_t ed25519_l[32] = { 0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58,
                                       0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
                                       0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                       0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10 };

enum other_op {
    OTHER_VALID,
    OTHER_SIG_FLIP,
    OTHER_MSG_FLIP,
    OTHER_SHORT,
    OTHER_LONG,
    OTHER_EMPTY,
    OTHER_EDGE,      /* Ed25519: S + L; ECDSA: r = 0; RSA: signature n */
    OTHER_MALLEATED, /* ECDSA: (r, n - s), valid */
};

struct other_case {
    char name[48];
    enum kf_offload_alg alg;
    enum other_op op;
    enum kf_offload_verdict expected;
};

#define V KF_OFFLOAD_VALID
#define I KF_OFFLOAD_INVALID
static struct other_case other_cases[] = {
    { "P-384 valid", KF_OFFLOAD_ECDSA_P384_SHA384, OTHER_VALID, V },
    { "P-384 signature bit flipped", KF_OFFLOAD_ECDSA_P384_SHA384, OTHER_SIG_FLIP, I },
    { "P-384 message changed", KF_OFFLOAD_ECDSA_P384_SHA384, OTHER_MSG_FLIP, I },
    { "P-384 95 bytes", KF_OFFLOAD_ECDSA_P384_SHA384, OTHER_SHORT, I },
    { "P-384 97 bytes", KF_OFFLOAD_ECDSA_P384_SHA384, OTHER_LONG, I },
    { "P-384 r = 0", KF_OFFLOAD_ECDSA_P384_SHA384, OTHER_EDGE, I },
    { "P-384 malleated", KF_OFFLOAD_ECDSA_P384_SHA384, OTHER_MALLEATED, V },
    { "Ed25519 valid", KF_OFFLOAD_ED25519, OTHER_VALID, V },
    { "Ed25519 signature bit flipped", KF_OFFLOAD_ED25519, OTHER_SIG_FLIP, I },
    { "Ed25519 message changed", KF_OFFLOAD_ED25519, OTHER_MSG_FLIP, I },
    { "Ed25519 63 bytes", KF_OFFLOAD_ED25519, OTHER_SHORT, I },
    { "Ed25519 65 bytes", KF_OFFLOAD_ED25519, OTHER_LONG, I },
    { "Ed25519 empty", KF_OFFLOAD_ED25519, OTHER_EMPTY, I },
    { "Ed25519 S + L (non-canonical S)", KF_OFFLOAD_ED25519, OTHER_EDGE, I },
    { "Ed448 valid", KF_OFFLOAD_ED448, OTHER_VALID, V },
    { "Ed448 signature bit flipped", KF_OFFLOAD_ED448, OTHER_SIG_FLIP, I },
    { "Ed448 message changed", KF_OFFLOAD_ED448, OTHER_MSG_FLIP, I },
    { "Ed448 113 bytes", KF_OFFLOAD_ED448, OTHER_SHORT, I },
    { "Ed448 115 bytes", KF_OFFLOAD_ED448, OTHER_LONG, I },
    { "RSA SHA-512 bit flipped", KF_OFFLOAD_RSA_PKCS1_SHA512, OTHER_SIG_FLIP, I },
    { "RSA SHA-512 signature n", KF_OFFLOAD_RSA_PKCS1_SHA512, OTHER_EDGE, I },
};
#undef V
#undef I

ParameterizedTestParameters(edge, other_algorithms_match_openssl)
{
    return PARAM_ARRAY(struct other_case, other_cases);
}

ParameterizedTest(struct other_case *c, edge, other_algorithms_match_openssl)
{
    fixture_announce(c->name);
    struct target t;
    EVP_PKEY *priv = NULL;
    const EVP_MD *md = NULL;
    if (c->alg == KF_OFFLOAD_ECDSA_P384_SHA384) {
        BIGNUM *d = bn_rand_mod_n(&P384);
        uint8_t xy[96];
        fixture_ec_pub_xy(&P384, d, xy);
        target_ec(&t, &P384, xy);
        OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
        uint8_t oct[97] = { 0x04 };
        memcpy(oct + 1, xy, 96);
        cr_assert(b && OSSL_PARAM_BLD_push_utf8_string(b, OSSL_PKEY_PARAM_GROUP_NAME, "P-384", 0) &&
                  OSSL_PARAM_BLD_push_octet_string(b, OSSL_PKEY_PARAM_PUB_KEY, oct, 97) &&
                  OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_PRIV_KEY, d));
        OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(b);
        EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
        cr_assert(params && pc && EVP_PKEY_fromdata_init(pc) == 1 &&
                  EVP_PKEY_fromdata(pc, &priv, EVP_PKEY_KEYPAIR, params) == 1);
        EVP_PKEY_CTX_free(pc);
        OSSL_PARAM_free(params);
        OSSL_PARAM_BLD_free(b);
        BN_free(d);
        md = EVP_sha384();
        cr_assert(!kf_offload_key_has_lanes(t.kf[0]), "no P-384 kernel exists");
    } else if (c->alg == KF_OFFLOAD_RSA_PKCS1_SHA512) {
        target_rsa(&t, &fixture_rsa_a, c->alg);
        priv = t.pkey;
        EVP_PKEY_up_ref(priv);
        md = EVP_sha512();
    } else {
        target_ed(&t, c->alg, &priv);
        cr_assert(!kf_offload_key_has_lanes(t.kf[0]), "no EdDSA kernel exists");
    }
    static const char mate_msg[] = "a batch-mate";
    uint8_t msg[64] = "keyfort offload edge case", sig[SIG_MAX + 2], msig[SIG_MAX];
    size_t msg_len = strlen((const char *)msg);
    size_t sig_len = fixture_sign(priv, md, msg, msg_len, sig, SIG_MAX);
    size_t msig_len =
        fixture_sign(priv, md, (const uint8_t *)mate_msg, strlen(mate_msg), msig, sizeof(msig));
    if (c->alg == KF_OFFLOAD_ECDSA_P384_SHA384) {
        /* OpenSSL signs in DER; the job carries r || s (RFC 6605 s4). */
        fixture_ecdsa_der_to_rs(sig, sig_len, 48, sig);
        fixture_ecdsa_der_to_rs(msig, msig_len, 48, msig);
        sig_len = msig_len = 96;
    }
    switch (c->op) {
    case OTHER_VALID:
        break;
    case OTHER_SIG_FLIP:
        sig[sig_len / 3] ^= 0x04;
        break;
    case OTHER_MSG_FLIP:
        msg[0] ^= 0x01;
        break;
    case OTHER_SHORT:
        sig_len--;
        break;
    case OTHER_LONG:
        sig[sig_len++] = 0x00;
        break;
    case OTHER_EMPTY:
        sig_len = 0;
        break;
    case OTHER_EDGE:
        if (c->alg == KF_OFFLOAD_ED25519) {
            /* S + L, little endian: S < L, so the sum fits in 256 bits */
            unsigned carry = 0;
            for (size_t i = 0; i < 32; i++) {
                unsigned sum = (unsigned)sig[32 + i] + ed25519_l[i] + carry;
                sig[32 + i] = (uint8_t)sum;
                carry = sum >> 8;
            }
            cr_assert_eq(carry, 0);
        } else if (c->alg == KF_OFFLOAD_ECDSA_P384_SHA384) {
            memset(sig, 0, 48);
        } else {
            memcpy(sig, t.n, t.k);
        }
        break;
    case OTHER_MALLEATED: {
        uint8_t nb[48];
        bn_out(P384.n, nb, 48);
        fixture_be_sub(sig + 48, nb, sig + 48, 48);
        break;
    }
    }
    struct vcase v = { c->name, &t, msg, msg_len, 0, sig, sig_len, c->expected };
    struct vcase mate = { "mate", &t,       (const uint8_t *)mate_msg, strlen(mate_msg), 0,
                          msig,   msig_len, KF_OFFLOAD_VALID };
    check_case(&v, &mate);
    EVP_PKEY_free(priv);
    target_free(&t);
}

/* ---- API semantics ------------------------------------------------------------------------ */

/* Valid jobs to build on: RSA-2048 and P-256, messages and signatures owned here. */
struct kit {
    struct target rsa, p256;
    uint8_t rmsg[8][32], pmsg[8][32];
    uint8_t rsig[8][256], psig[8][64];
    uint8_t pdig[8][32];
};

static struct kit *kit_new(void)
{
    struct kit *k = calloc(1, sizeof(*k));
    cr_assert_not_null(k);
    target_rsa(&k->rsa, &fixture_rsa_a, KF_OFFLOAD_RSA_PKCS1_SHA256);
    BIGNUM *d = NULL;
    cr_assert_gt(BN_hex2bn(&d, ec_d0_hex), 0);
    uint8_t xy[64];
    fixture_ec_pub_xy(&P256, d, xy);
    target_ec(&k->p256, &P256, xy);
    for (int i = 0; i < 8; i++) {
        snprintf((char *)k->rmsg[i], 32, "rsa message %d", i);
        snprintf((char *)k->pmsg[i], 32, "p256 message %d", i);
        rsa_sign_msg(&k->rsa, k->rmsg[i], strlen((char *)k->rmsg[i]), k->rsig[i]);
        fixture_digest(EVP_sha256(), k->pmsg[i], strlen((char *)k->pmsg[i]), k->pdig[i]);
        BIGNUM *n = bn_rand_mod_n(&P256);
        ec_sign(&P256, d, k->pdig[i], 32, n, k->psig[i]);
        BN_free(n);
    }
    BN_free(d);
    return k;
}

static void kit_free(struct kit *k)
{
    target_free(&k->rsa);
    target_free(&k->p256);
    free(k);
}

/* Valid job @p i (0..15: RSA for even, P-256 for odd, unless @p alg_only picks one). */
static struct kf_offload_job kit_job(const struct kit *k, bool rsa, int i, uint64_t tag)
{
    i &= 7;
    struct kf_offload_job j = {
        .alg = rsa ? KF_OFFLOAD_RSA_PKCS1_SHA256 : KF_OFFLOAD_ECDSA_P256_SHA256,
        .key = rsa ? k->rsa.kf[0] : k->p256.kf[0],
        .msg = rsa ? k->rmsg[i] : k->pmsg[i],
        .msg_len = strlen((const char *)(rsa ? k->rmsg[i] : k->pmsg[i])),
        .sig = rsa ? k->rsig[i] : k->psig[i],
        .sig_len = rsa ? 256 : 64,
        .tag = tag,
    };
    return j;
}

enum api_bad {
    BAD_NULL_KEY,
    BAD_NULL_SIG,
    BAD_NULL_MSG,
    BAD_RSA_KEY_EC_ALG,
    BAD_EC_KEY_RSA_ALG,
    BAD_P256_KEY_P384_ALG,
    BAD_P256_KEY_ED25519_ALG,
    BAD_ED25519_KEY_ED448_ALG,
    BAD_DIGEST_31,
    BAD_DIGEST_33,
    BAD_DIGEST_0,
    BAD_RSA512_DIGEST_32,
    BAD_RSA256_DIGEST_64,
    BAD_ED25519_DIGEST_FLAG,
    BAD_ED448_DIGEST_FLAG,
};

struct api_case {
    char name[48];
    enum api_bad bad;
    int32_t err;
};

static struct api_case api_cases[] = {
    { "NULL key", BAD_NULL_KEY, KF_ERR_NULL },
    { "NULL signature", BAD_NULL_SIG, KF_ERR_NULL },
    { "NULL message with a length", BAD_NULL_MSG, KF_ERR_NULL },
    { "RSA key, P-256 job", BAD_RSA_KEY_EC_ALG, KF_ERR_INVALID_ARG },
    { "P-256 key, RSA job", BAD_EC_KEY_RSA_ALG, KF_ERR_INVALID_ARG },
    { "P-256 key, P-384 job", BAD_P256_KEY_P384_ALG, KF_ERR_INVALID_ARG },
    { "P-256 key, Ed25519 job", BAD_P256_KEY_ED25519_ALG, KF_ERR_INVALID_ARG },
    { "Ed25519 key, Ed448 job", BAD_ED25519_KEY_ED448_ALG, KF_ERR_INVALID_ARG },
    { "P-256 digest of 31 bytes", BAD_DIGEST_31, KF_ERR_MALFORMED },
    { "P-256 digest of 33 bytes", BAD_DIGEST_33, KF_ERR_MALFORMED },
    { "P-256 empty digest", BAD_DIGEST_0, KF_ERR_MALFORMED },
    { "RSA SHA-512 job, 32-byte digest", BAD_RSA512_DIGEST_32, KF_ERR_MALFORMED },
    { "RSA SHA-256 job, 64-byte digest", BAD_RSA256_DIGEST_64, KF_ERR_MALFORMED },
    { "Ed25519 with the DIGEST flag", BAD_ED25519_DIGEST_FLAG, KF_ERR_UNSUPPORTED },
    { "Ed448 with the DIGEST flag", BAD_ED448_DIGEST_FLAG, KF_ERR_UNSUPPORTED },
};

ParameterizedTestParameters(edge, api_error_verdicts)
{
    return PARAM_ARRAY(struct api_case, api_cases);
}

/* A job that cannot be checked gets ERROR with the cause, alone, among seven valid mates of
 * the same kind, and through submit. */
ParameterizedTest(struct api_case *c, edge, api_error_verdicts)
{
    fixture_announce(c->name);
    struct kit *k = kit_new();
    struct target ed25519, ed448;
    EVP_PKEY *p1 = NULL, *p2 = NULL;
    target_ed(&ed25519, KF_OFFLOAD_ED25519, &p1);
    target_ed(&ed448, KF_OFFLOAD_ED448, &p2);
    uint8_t dig[64] = { 0 }, sig[128] = { 0 };
    bool rsa_mates = false;
    struct kf_offload_job bad = kit_job(k, false, 0, 99);
    switch (c->bad) {
    case BAD_NULL_KEY:
        bad.key = NULL;
        break;
    case BAD_NULL_SIG:
        bad.sig = NULL;
        break;
    case BAD_NULL_MSG:
        bad.msg = NULL;
        break;
    case BAD_RSA_KEY_EC_ALG:
        bad.key = k->rsa.kf[0];
        break;
    case BAD_EC_KEY_RSA_ALG:
        bad = kit_job(k, true, 0, 99);
        bad.key = k->p256.kf[1];
        rsa_mates = true;
        break;
    case BAD_P256_KEY_P384_ALG:
        bad.alg = KF_OFFLOAD_ECDSA_P384_SHA384;
        bad.sig = sig;
        bad.sig_len = 96;
        break;
    case BAD_P256_KEY_ED25519_ALG:
        bad.alg = KF_OFFLOAD_ED25519;
        break;
    case BAD_ED25519_KEY_ED448_ALG:
        bad.alg = KF_OFFLOAD_ED448;
        bad.key = ed25519.kf[0];
        bad.sig = sig;
        bad.sig_len = 114;
        break;
    case BAD_DIGEST_31:
    case BAD_DIGEST_33:
    case BAD_DIGEST_0:
        memcpy(dig, k->pdig[0], 32);
        bad.msg = dig;
        bad.msg_len = c->bad == BAD_DIGEST_31 ? 31 : c->bad == BAD_DIGEST_33 ? 33 : 0;
        bad.flags = KF_OFFLOAD_JOB_DIGEST;
        break;
    case BAD_RSA512_DIGEST_32:
    case BAD_RSA256_DIGEST_64:
        bad = kit_job(k, true, 0, 99);
        rsa_mates = true;
        bad.alg = c->bad == BAD_RSA512_DIGEST_32 ? KF_OFFLOAD_RSA_PKCS1_SHA512
                                                 : KF_OFFLOAD_RSA_PKCS1_SHA256;
        bad.msg = dig;
        bad.msg_len = c->bad == BAD_RSA512_DIGEST_32 ? 32 : 64;
        bad.flags = KF_OFFLOAD_JOB_DIGEST;
        break;
    case BAD_ED25519_DIGEST_FLAG:
    case BAD_ED448_DIGEST_FLAG: {
        bool e25519 = c->bad == BAD_ED25519_DIGEST_FLAG;
        bad.alg = e25519 ? KF_OFFLOAD_ED25519 : KF_OFFLOAD_ED448;
        bad.key = e25519 ? ed25519.kf[0] : ed448.kf[0];
        bad.msg = dig;
        bad.msg_len = 32;
        bad.sig_len = fixture_sign(e25519 ? p1 : p2, NULL, dig, 32, sig, sizeof(sig));
        bad.sig = sig;
        bad.flags = KF_OFFLOAD_JOB_DIGEST;
        break;
    }
    }
    struct kf_offload_job j = bad;
    j.verdict = KF_OFFLOAD_VALID;
    j.err = 0;
    kf_offload_verify_many(NULL, &j, 1);
    cr_assert_eq(j.verdict, KF_OFFLOAD_ERROR, "%s: verdict %s", c->name,
                 fixture_verdict_name(j.verdict));
    cr_assert_eq(j.err, c->err, "%s: err %s, expected %s", c->name, kf_err_name(j.err),
                 kf_err_name(c->err));
    struct kf_offload_engine *lanes1 = engine_new(0, 1, 0, NULL);
    for (int pos = 0; pos < 8; pos++) {
        struct kf_offload_job b[8];
        for (int i = 0; i < 8; i++) {
            b[i] = i == pos ? bad : kit_job(k, rsa_mates, i, (uint64_t)i);
            b[i].verdict = KF_OFFLOAD_PENDING;
            b[i].err = -1;
        }
        kf_offload_verify_many(pos % 2 ? lanes1 : NULL, b, 8);
        for (int i = 0; i < 8; i++) {
            if (i == pos) {
                cr_assert_eq(b[i].verdict, KF_OFFLOAD_ERROR, "%s at %d: %s", c->name, pos,
                             fixture_verdict_name(b[i].verdict));
                cr_assert_eq(b[i].err, c->err, "%s at %d: err %s", c->name, pos,
                             kf_err_name(b[i].err));
            } else {
                cr_assert_eq(b[i].verdict, KF_OFFLOAD_VALID,
                             "%s at %d: valid mate %d got %s (err %s)", c->name, pos, i,
                             fixture_verdict_name(b[i].verdict), kf_err_name(b[i].err));
                cr_assert_eq(b[i].err, 0);
            }
        }
    }
    struct collected *col = col_new();
    struct kf_offload_engine *e = engine_new(1, 0, 0, col);
    size_t acc = 0;
    bad.tag = 0x5eed;
    cr_assert(kf_ok(kf_offload_submit(e, &bad, 1, &acc)));
    cr_assert_eq(acc, 1);
    kf_offload_drain(e);
    cr_assert_eq(col_count(col), 1);
    cr_assert_eq(col->c[0].tag, 0x5eed);
    cr_assert_eq(col->c[0].verdict, KF_OFFLOAD_ERROR);
    cr_assert_eq(col->c[0].err, c->err, "submit: err %s", kf_err_name(col->c[0].err));
    kf_offload_engine_free(e);
    kf_offload_engine_free(lanes1);
    col_free(col);
    EVP_PKEY_free(p1);
    EVP_PKEY_free(p2);
    target_free(&ed25519);
    target_free(&ed448);
    kit_free(k);
}

/* One invalid job (damaged, short, >= n) among seven valid ones changes none of them. */
Test(edge, one_bad_job_leaves_its_mates_alone)
{
    fixture_announce("one_bad_job_leaves_its_mates_alone");
    struct kit *k = kit_new();
    uint8_t bad_sig[256];
    for (int rsa = 0; rsa < 2; rsa++) {
        for (int kind = 0; kind < 3; kind++) {
            for (int pos = 0; pos < 8; pos++) {
                struct kf_offload_job b[8];
                for (int i = 0; i < 8; i++) {
                    b[i] = kit_job(k, rsa, i, (uint64_t)i);
                    b[i].verdict = KF_OFFLOAD_VALID; /* must be overwritten for the bad one */
                    b[i].err = 77;
                }
                memcpy(bad_sig, b[pos].sig, b[pos].sig_len);
                if (kind == 0) {
                    bad_sig[b[pos].sig_len / 2] ^= 0x10;
                } else if (kind == 1) {
                    b[pos].sig_len--;
                } else if (rsa) {
                    memcpy(bad_sig, k->rsa.n, 256);
                } else {
                    memset(bad_sig + 32, 0xff, 32);
                }
                b[pos].sig = bad_sig;
                kf_offload_verify_many(NULL, b, 8);
                for (int i = 0; i < 8; i++) {
                    enum kf_offload_verdict want = i == pos ? KF_OFFLOAD_INVALID : KF_OFFLOAD_VALID;
                    cr_assert_eq(b[i].verdict, want, "%s kind %d at %d: job %d got %s",
                                 rsa ? "RSA" : "P-256", kind, pos, i,
                                 fixture_verdict_name(b[i].verdict));
                    cr_assert_eq(b[i].err, 0);
                }
            }
        }
    }
    kit_free(k);
}

Test(edge, backend_names_and_parsing)
{
    fixture_announce("backend_names_and_parsing");
    static const struct {
        const char *name;
        enum kf_offload_backend b;
    } ok[] = {
        { "auto", KF_OFFLOAD_BACKEND_AUTO },
        { "scalar", KF_OFFLOAD_BACKEND_SCALAR },
        { "avx512ifma", KF_OFFLOAD_BACKEND_AVX512IFMA },
    };
    for (size_t i = 0; i < 3; i++) {
        enum kf_offload_backend b = KF_OFFLOAD_BACKEND_SCALAR + 7;
        cr_assert(kf_ok(kf_offload_backend_parse(ok[i].name, &b)), "%s", ok[i].name);
        cr_assert_eq(b, ok[i].b);
        cr_assert_str_eq(kf_offload_backend_name(ok[i].b), ok[i].name);
    }
    static const char *const bad[] = { "", "AVX512", "avx512", "scalar ", "sse" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        enum kf_offload_backend b;
        cr_assert_eq(kf_offload_backend_parse(bad[i], &b).code, KF_ERR_INVALID_ARG, "'%s'", bad[i]);
    }
    cr_assert(kf_offload_backend_available(KF_OFFLOAD_BACKEND_SCALAR));
    cr_assert_neq(kf_offload_backend_default(), KF_OFFLOAD_BACKEND_AUTO);
    cr_assert(kf_offload_backend_available(kf_offload_backend_default()));
    struct kf_offload_config cfg = { .backend = (enum kf_offload_backend)99 };
    struct kf_offload_engine *e = NULL;
    cr_assert_eq(kf_offload_engine_new(&cfg, &e).code, KF_ERR_INVALID_ARG);
    cr_assert(kf_ok(kf_offload_engine_new(NULL, &e)), "NULL config takes the defaults");
    cr_assert_eq(kf_offload_engine_backend(e), kf_offload_backend_default());
    kf_offload_engine_free(e);
    kf_offload_engine_free(NULL);
}

Test(edge, submit_needs_workers)
{
    fixture_announce("submit_needs_workers");
    struct kit *k = kit_new();
    struct kf_offload_engine *e = engine_new(0, 0, 0, NULL);
    struct kf_offload_job j = kit_job(k, false, 0, 1);
    size_t acc = 5;
    cr_assert_eq(kf_offload_submit(e, &j, 1, &acc).code, KF_ERR_UNSUPPORTED);
    cr_assert_eq(acc, 0);
    struct kf_offload_completion out[4];
    cr_assert_eq(kf_offload_poll(e, out, 4), 0);
    kf_offload_engine_free(e);
    kit_free(k);
}

/* The first callback blocks until released, so the queue fills deterministically. */
struct gate {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool entered, open;
    size_t count, wrong;
    uint64_t seen[64];
};

static void gate_cb(void *arg, const struct kf_offload_completion *d, size_t n)
{
    struct gate *g = arg;
    pthread_mutex_lock(&g->mu);
    g->entered = true;
    pthread_cond_broadcast(&g->cv);
    while (!g->open) {
        pthread_cond_wait(&g->cv, &g->mu);
    }
    for (size_t i = 0; i < n; i++) {
        if (d[i].verdict != KF_OFFLOAD_VALID || d[i].tag >= 64) {
            g->wrong++;
        } else {
            g->seen[d[i].tag]++;
        }
    }
    g->count += n;
    pthread_mutex_unlock(&g->mu);
}

Test(edge, submit_returns_retry_when_the_queue_is_full)
{
    fixture_announce("submit_returns_retry_when_the_queue_is_full");
    struct kit *k = kit_new();
    struct gate g = { .count = 0 };
    cr_assert_eq(pthread_mutex_init(&g.mu, NULL), 0);
    cr_assert_eq(pthread_cond_init(&g.cv, NULL), 0);
    struct kf_offload_config cfg = {
        .workers = 1,
        .queue_depth = 16,
        .on_done = gate_cb,
        .on_done_arg = &g,
    };
    struct kf_offload_engine *e = NULL;
    cr_assert(kf_ok(kf_offload_engine_new(&cfg, &e)));
    struct kf_offload_job jobs[64];
    for (int i = 0; i < 64; i++) {
        jobs[i] = kit_job(k, i % 2, i, (uint64_t)i);
    }
    size_t acc = 0;
    cr_assert(kf_ok(kf_offload_submit(e, jobs, 1, &acc)));
    cr_assert_eq(acc, 1);
    pthread_mutex_lock(&g.mu);
    while (!g.entered) {
        pthread_cond_wait(&g.cv, &g.mu);
    }
    pthread_mutex_unlock(&g.mu);
    /* One job is held in its callback: 15 places are left of 16. */
    kf_result r = kf_offload_submit(e, jobs + 1, 63, &acc);
    cr_assert_eq(r.code, KF_ERR_RETRY, "submit of 63 into 15 places: %s", kf_err_name(r.code));
    cr_assert(acc >= 1 && acc <= 15, "accepted %zu", acc);
    size_t total = 1 + acc, again = 99;
    r = kf_offload_submit(e, jobs + total, 64 - total, &again);
    cr_assert_eq(r.code, KF_ERR_RETRY);
    cr_assert_eq(again, 16 - total, "a full queue took %zu more", again);
    total += again;
    pthread_mutex_lock(&g.mu);
    g.open = true;
    pthread_cond_broadcast(&g.cv);
    pthread_mutex_unlock(&g.mu);
    kf_offload_drain(e);
    pthread_mutex_lock(&g.mu);
    cr_assert_eq(g.count, total, "%zu completions for %zu accepted jobs", g.count, total);
    cr_assert_eq(g.wrong, 0);
    for (size_t i = 0; i < 64; i++) {
        cr_assert_eq(g.seen[i], i < total ? 1u : 0u, "tag %zu completed %" PRIu64 " times", i,
                     g.seen[i]);
    }
    pthread_mutex_unlock(&g.mu);
    /* The queue is empty again: everything fits. */
    r = kf_offload_submit(e, jobs, 16, &acc);
    cr_assert(kf_ok(r) && acc == 16);
    kf_offload_engine_free(e);
    cr_assert_eq(g.count, total + 16);
    pthread_cond_destroy(&g.cv);
    pthread_mutex_destroy(&g.mu);
    kit_free(k);
}

static const uint64_t odd_tags[] = { 0,
                                     1,
                                     UINT64_MAX,
                                     0x8000000000000000u,
                                     0xdeadbeefcafef00du,
                                     0x7fffffffffffffffu,
                                     42,
                                     0x0123456789abcdefu };

Test(edge, poll_mode_eventfd_drain_and_tags)
{
    fixture_announce("poll_mode_eventfd_drain_and_tags");
    struct kit *k = kit_new();
    struct kf_offload_engine *e = engine_new(2, 0, 0, NULL);
    int fd = kf_offload_eventfd(e);
    cr_assert_geq(fd, 0);
    struct kf_offload_completion out[64];
    cr_assert_eq(kf_offload_poll(e, out, 64), 0, "completions before any job");
    /* 8 odd tags: valid; 32 more: every third invalid */
    struct kf_offload_job jobs[40];
    uint8_t bad[40][256];
    for (int i = 0; i < 40; i++) {
        jobs[i] = kit_job(k, i % 2, i, i < 8 ? odd_tags[i] : 1000 + (uint64_t)i);
        if (i >= 8 && i % 3 == 0) {
            memcpy(bad[i], jobs[i].sig, jobs[i].sig_len);
            bad[i][5] ^= 0x01;
            jobs[i].sig = bad[i];
        }
    }
    size_t acc = 0;
    cr_assert(kf_ok(kf_offload_submit(e, jobs, 1, &acc)) && acc == 1);
    struct pollfd p = { .fd = fd, .events = POLLIN };
    cr_assert_eq(poll(&p, 1, 60000), 1, "the eventfd never became readable");
    uint64_t v = 0;
    cr_assert_eq(read(fd, &v, 8), 8);
    cr_assert_gt(v, 0);
    size_t got = kf_offload_poll(e, out, 64);
    cr_assert_eq(got, 1, "readable eventfd, %zu completions", got);
    cr_assert_eq(out[0].tag, odd_tags[0]);
    cr_assert_eq(out[0].verdict, KF_OFFLOAD_VALID);
    cr_assert(kf_ok(kf_offload_submit(e, jobs + 1, 39, &acc)) && acc == 39);
    kf_offload_drain(e);
    cr_assert_eq(poll(&p, 1, 60000), 1, "completions wait, the eventfd is not readable");
    cr_assert_eq(read(fd, &v, 8), 8);
    got = 0;
    unsigned seen[40] = { 0 };
    size_t n;
    while ((n = kf_offload_poll(e, out, 7)) > 0) { /* a small cap: several calls */
        cr_assert_leq(n, 7);
        for (size_t i = 0; i < n; i++) {
            int idx = -1;
            for (int t = 1; t < 40; t++) {
                if (jobs[t].tag == out[i].tag) {
                    idx = t;
                }
            }
            cr_assert_geq(idx, 1, "unknown tag %" PRIx64, out[i].tag);
            seen[idx]++;
            enum kf_offload_verdict want =
                jobs[idx].sig == bad[idx] ? KF_OFFLOAD_INVALID : KF_OFFLOAD_VALID;
            cr_assert_eq(out[i].verdict, want, "tag %" PRIx64, out[i].tag);
            cr_assert_eq(out[i].err, 0);
        }
        got += n;
    }
    cr_assert_eq(got, 39, "after drain, %zu of 39 completions in the poll queue", got);
    for (int i = 1; i < 40; i++) {
        cr_assert_eq(seen[i], 1, "job %d completed %u times", i, seen[i]);
    }
    kf_offload_drain(e); /* nothing outstanding: returns at once */
    kf_offload_engine_free(e);
    kit_free(k);
}

Test(edge, callback_mode_has_no_eventfd)
{
    fixture_announce("callback_mode_has_no_eventfd");
    struct collected *col = col_new();
    struct kf_offload_engine *e = engine_new(1, 0, 0, col);
    cr_assert_eq(kf_offload_eventfd(e), -1);
    struct kf_offload_completion out[4];
    cr_assert_eq(kf_offload_poll(e, out, 4), 0);
    kf_offload_engine_free(e);
    col_free(col);
}

static void count_cb(void *arg, const struct kf_offload_completion *d, size_t n)
{
    atomic_size_t *c = arg;
    for (size_t i = 0; i < n; i++) {
        if (d[i].verdict == KF_OFFLOAD_VALID) {
            atomic_fetch_add(&c[0], 1);
        } else {
            atomic_fetch_add(&c[1], 1);
        }
    }
}

Test(edge, free_with_jobs_in_flight_completes_them)
{
    fixture_announce("free_with_jobs_in_flight_completes_them");
    struct kit *k = kit_new();
    atomic_size_t counts[2] = { 0, 0 };
    struct kf_offload_config cfg = { .workers = 2, .on_done = count_cb, .on_done_arg = counts };
    struct kf_offload_engine *e = NULL;
    cr_assert(kf_ok(kf_offload_engine_new(&cfg, &e)));
    size_t accepted = 0;
    struct kf_offload_job jobs[50];
    for (int round = 0; round < 10; round++) {
        for (int i = 0; i < 50; i++) {
            jobs[i] = kit_job(k, (i + round) % 2, i, (uint64_t)(round * 50 + i));
        }
        size_t acc = 0;
        kf_result r = kf_offload_submit(e, jobs, 50, &acc);
        cr_assert(kf_ok(r) || r.code == KF_ERR_RETRY);
        accepted += acc;
    }
    cr_assert_gt(accepted, 0);
    kf_offload_engine_free(e);
    cr_assert_eq(atomic_load(&counts[0]), accepted, "%zu callbacks for %zu accepted jobs",
                 atomic_load(&counts[0]), accepted);
    cr_assert_eq(atomic_load(&counts[1]), 0);

    /* Poll mode: completions nobody polled are dropped with the engine (ASan: no leak). */
    e = engine_new(2, 0, 0, NULL);
    cr_assert(kf_ok(kf_offload_submit(e, jobs, 50, &accepted)));
    kf_offload_engine_free(e);
    kit_free(k);
}

struct resubmit {
    struct kf_offload_engine *e;
    const struct kf_offload_job *orig;
    atomic_size_t done, follow, refused;
};

static void resubmit_cb(void *arg, const struct kf_offload_completion *d, size_t n)
{
    struct resubmit *r = arg;
    for (size_t i = 0; i < n; i++) {
        if (d[i].tag & 0x100) {
            atomic_fetch_add(&r->follow, 1);
            continue;
        }
        atomic_fetch_add(&r->done, 1);
        struct kf_offload_job j = r->orig[d[i].tag];
        j.tag |= 0x100;
        size_t acc = 0;
        if (!kf_ok(kf_offload_submit(r->e, &j, 1, &acc)) || acc != 1) {
            atomic_fetch_add(&r->refused, 1);
        }
    }
}

/* offload.h: a callback may call kf_offload_submit(). */
Test(edge, callback_may_submit)
{
    fixture_announce("callback_may_submit");
    struct kit *k = kit_new();
    struct kf_offload_job jobs[32];
    for (int i = 0; i < 32; i++) {
        jobs[i] = kit_job(k, i % 2, i, (uint64_t)i);
    }
    struct resubmit rs = { .orig = jobs };
    struct kf_offload_config cfg = { .workers = 2, .on_done = resubmit_cb, .on_done_arg = &rs };
    cr_assert(kf_ok(kf_offload_engine_new(&cfg, &rs.e)));
    size_t acc = 0;
    cr_assert(kf_ok(kf_offload_submit(rs.e, jobs, 32, &acc)) && acc == 32);
    kf_offload_drain(rs.e); /* the originals: their callbacks submitted the follow-ups */
    kf_offload_drain(rs.e); /* the follow-ups */
    cr_assert_eq(atomic_load(&rs.done), 32);
    cr_assert_eq(atomic_load(&rs.refused), 0);
    cr_assert_eq(atomic_load(&rs.follow), 32);
    kf_offload_engine_free(rs.e);
    kit_free(k);
}

static void run_for_stats(struct kf_offload_engine *sync_e, struct kf_offload_engine *async_e,
                          struct kf_offload_job *jobs, size_t n)
{
    for (size_t off = 0; off < n; off += 8) {
        size_t m = n - off < 8 ? n - off : 8;
        kf_offload_verify_many(sync_e, jobs + off, m);
    }
    for (size_t off = 0; off < n;) {
        size_t acc = 0;
        kf_result r = kf_offload_submit(async_e, jobs + off, n - off, &acc);
        cr_assert(kf_ok(r) || r.code == KF_ERR_RETRY);
        off += acc;
        if (!kf_ok(r)) {
            sched_yield();
        }
    }
    kf_offload_drain(async_e);
}

static void check_sum(const char *what, const struct kf_offload_engine *e, uint64_t jobs)
{
    struct kf_offload_stats st;
    fixture_check_stats(what, e, jobs, &st);
    if (kf_offload_engine_backend(e) == KF_OFFLOAD_BACKEND_AVX512IFMA) {
        cr_assert_gt(st.lane_jobs, 0, "%s: no job went through a kernel", what);
        cr_assert_gt(st.lane_calls, 0);
    } else {
        cr_assert_eq(st.lane_jobs, 0, "%s: kernel jobs on the scalar backend", what);
        cr_assert_eq(st.lane_calls, 0);
    }
}

/* @p jobs through verify_many (batches of 8) and through submit, on fresh engines whose stats
 * start at zero and must add up afterwards. */
static void stats_run(struct kf_offload_job *jobs, size_t n)
{
    struct collected *col = col_new();
    struct kf_offload_engine *s = engine_new(0, 0, 0, NULL), *a = engine_new(2, 0, 0, col);
    struct kf_offload_stats st;
    kf_offload_engine_stats(s, &st);
    cr_assert(st.jobs == 0 && st.lane_jobs == 0 && st.scalar_jobs == 0 && st.lane_calls == 0);
    run_for_stats(s, a, jobs, n);
    check_sum("verify_many", s, n);
    check_sum("submit", a, n);
    kf_offload_engine_free(s);
    kf_offload_engine_free(a);
    col_free(col);
}

/* Valid and invalid (damaged) jobs, every one of which needs the arithmetic. */
Test(edge, stats_add_up)
{
    fixture_announce("stats_add_up");
    struct kit *k = kit_new();
    struct kf_offload_job jobs[96];
    uint8_t bad[96][256];
    for (int i = 0; i < 96; i++) {
        jobs[i] = kit_job(k, (i / 8) % 2, i, (uint64_t)i);
        if (i % 5 == 0) {
            memcpy(bad[i], jobs[i].sig, jobs[i].sig_len);
            bad[i][9] ^= 0x40;
            jobs[i].sig = bad[i];
        }
    }
    stats_run(jobs, 96);
    kit_free(k);
}

/* Jobs refused on their shape alone (wrong length, s >= n, r = 0) are verdicts too. */
Test(edge, stats_add_up_with_jobs_refused_on_shape)
{
    fixture_announce("stats_add_up_with_jobs_refused_on_shape");
    struct kit *k = kit_new();
    struct kf_offload_job jobs[48];
    uint8_t bad[48][256];
    for (int i = 0; i < 48; i++) {
        bool rsa = (i / 8) % 2;
        jobs[i] = kit_job(k, rsa, i, (uint64_t)i);
        if (i % 3 == 0) {
            jobs[i].sig_len--;
        } else if (i % 3 == 1) {
            if (rsa) {
                memcpy(bad[i], k->rsa.n, 256);
            } else {
                memcpy(bad[i], jobs[i].sig, 64);
                memset(bad[i], 0, 32);
            }
            jobs[i].sig = bad[i];
        }
    }
    stats_run(jobs, 48);
    kit_free(k);
}

/* ---- keys the constructors refuse ------------------------------------------------------- */

enum key_bad {
    KB_RSA_EVEN,
    KB_RSA_E_ZERO,
    KB_RSA_N_EMPTY,
    KB_RSA_E_EMPTY,
    KB_RSA_TINY,
    KB_ED25519_31,
    KB_ED25519_33,
    KB_ED448_56,
    KB_EC_WITH_ED_ALG,
    KB_EC_WITH_RSA_ALG,
    KB_EDDSA_WITH_EC_ALG,
    KB_PKEY_X25519,
    KB_PKEY_P521,
    KB_EC_NOT_ON_CURVE,
    KB_EC_X_IS_P,
};

struct key_case {
    char name[48];
    enum key_bad bad;
    int32_t err;
};

static struct key_case key_cases[] = {
    { "RSA even modulus", KB_RSA_EVEN, KF_ERR_MALFORMED },
    { "RSA exponent 0", KB_RSA_E_ZERO, KF_ERR_MALFORMED },
    { "RSA empty modulus", KB_RSA_N_EMPTY, KF_ERR_MALFORMED },
    { "RSA empty exponent", KB_RSA_E_EMPTY, KF_ERR_MALFORMED },
    { "RSA 64-bit modulus", KB_RSA_TINY, KF_ERR_MALFORMED },
    { "Ed25519 31 bytes", KB_ED25519_31, KF_ERR_MALFORMED },
    { "Ed25519 33 bytes", KB_ED25519_33, KF_ERR_MALFORMED },
    { "Ed448 56 bytes", KB_ED448_56, KF_ERR_MALFORMED },
    { "key_new_ec for Ed25519", KB_EC_WITH_ED_ALG, KF_ERR_UNSUPPORTED },
    { "key_new_ec for RSA", KB_EC_WITH_RSA_ALG, KF_ERR_UNSUPPORTED },
    { "key_new_eddsa for P-256", KB_EDDSA_WITH_EC_ALG, KF_ERR_UNSUPPORTED },
    { "from_pkey X25519", KB_PKEY_X25519, KF_ERR_UNSUPPORTED },
    { "from_pkey P-521", KB_PKEY_P521, KF_ERR_UNSUPPORTED },
    { "P-256 point not on the curve", KB_EC_NOT_ON_CURVE, KF_ERR_MALFORMED },
    { "P-256 x = p", KB_EC_X_IS_P, KF_ERR_MALFORMED },
};

ParameterizedTestParameters(edge, key_refusals)
{
    return PARAM_ARRAY(struct key_case, key_cases);
}

ParameterizedTest(struct key_case *c, edge, key_refusals)
{
    fixture_announce(c->name);
    uint8_t n[256], e[4] = { 0x01, 0x00, 0x01, 0 }, buf[128];
    struct target t;
    target_rsa(&t, &fixture_rsa_a, KF_OFFLOAD_RSA_PKCS1_SHA256);
    memcpy(n, t.n, 256);
    memset(buf, 0x42, sizeof(buf));
    struct kf_offload_key *key = NULL;
    EVP_PKEY *pk = NULL;
    kf_result r = KF_OK;
    switch (c->bad) {
    case KB_RSA_EVEN:
        n[255] &= 0xfe;
        r = kf_offload_key_new_rsa(n, 256, e, 3, 0, &key);
        break;
    case KB_RSA_E_ZERO:
        e[0] = e[1] = e[2] = 0;
        r = kf_offload_key_new_rsa(n, 256, e, 3, 0, &key);
        break;
    case KB_RSA_N_EMPTY:
        r = kf_offload_key_new_rsa(n, 0, e, 3, 0, &key);
        break;
    case KB_RSA_E_EMPTY:
        r = kf_offload_key_new_rsa(n, 256, e, 0, 0, &key);
        break;
    case KB_RSA_TINY:
        r = kf_offload_key_new_rsa(n + 248, 8, e, 3, 0, &key);
        break;
    case KB_ED25519_31:
    case KB_ED25519_33:
        r = kf_offload_key_new_eddsa(KF_OFFLOAD_ED25519, buf, c->bad == KB_ED25519_31 ? 31 : 33,
                                     &key);
        break;
    case KB_ED448_56:
        r = kf_offload_key_new_eddsa(KF_OFFLOAD_ED448, buf, 56, &key);
        break;
    case KB_EC_WITH_ED_ALG:
    case KB_EC_WITH_RSA_ALG:
        r = kf_offload_key_new_ec(c->bad == KB_EC_WITH_ED_ALG ? KF_OFFLOAD_ED25519
                                                              : KF_OFFLOAD_RSA_PKCS1_SHA256,
                                  buf, 64, 0, &key);
        break;
    case KB_EDDSA_WITH_EC_ALG:
        r = kf_offload_key_new_eddsa(KF_OFFLOAD_ECDSA_P256_SHA256, buf, 32, &key);
        break;
    case KB_PKEY_X25519:
    case KB_PKEY_P521:
        pk = c->bad == KB_PKEY_X25519 ? EVP_PKEY_Q_keygen(NULL, NULL, "X25519")
                                      : EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-521");
        cr_assert_not_null(pk);
        r = kf_offload_key_from_pkey(pk, 0, &key);
        break;
    case KB_EC_NOT_ON_CURVE:
    case KB_EC_X_IS_P: {
        BIGNUM *d = bn_rand_mod_n(&P256);
        fixture_ec_pub_xy(&P256, d, buf);
        if (c->bad == KB_EC_NOT_ON_CURVE) {
            buf[63] ^= 0x01;
        } else {
            bn_out(P256.p, buf, 32);
        }
        cr_assert_null(fixture_ec_pub_pkey(P256.name, buf, 64), "OpenSSL accepts it");
        r = kf_offload_key_new_ec(KF_OFFLOAD_ECDSA_P256_SHA256, buf, 64, KF_OFFLOAD_KEY_TABLE,
                                  &key);
        BN_free(d);
        break;
    }
    }
    cr_assert_eq(r.code, c->err, "%s: %s, expected %s", c->name, kf_err_name(r.code),
                 kf_err_name(c->err));
    kf_offload_key_free(key);
    EVP_PKEY_free(pk);
    target_free(&t);
}

/* Which keys get kernel precomputation under the backend under test. */
Test(edge, key_lanes)
{
    fixture_announce("key_lanes");
    struct kit *k = kit_new();
    target_expect_lanes(&k->rsa, "RSA-2048 key");
    target_expect_lanes(&k->p256, "P-256 key");
    struct target ed;
    EVP_PKEY *p = NULL;
    target_ed(&ed, KF_OFFLOAD_ED25519, &p);
    cr_assert(!kf_offload_key_has_lanes(ed.kf[0]));
    EVP_PKEY_free(p);
    target_free(&ed);
    kit_free(k);
}

/* (0, sqrt(b)) is a point of P-256 (b is a square mod p): a public key like any other.
 * kf_offload_key_new_ec() takes its X || Y; kf_offload_key_from_pkey() must take the same key
 * from OpenSSL, whose X is the BIGNUM 0 (no bytes). */
Test(edge, from_pkey_takes_a_key_with_x_zero)
{
    fixture_announce("from_pkey_takes_a_key_with_x_zero");
    BIGNUM *zero = BN_new();
    cr_assert_not_null(zero);
    BN_zero(zero);
    EC_POINT *q = fixture_ec_point_from_x(&P256, zero);
    cr_assert_not_null(q, "b is a square mod p: (0, sqrt(b)) is on P-256");
    uint8_t xy[64];
    fixture_ec_point_xy(&P256, q, xy);
    EVP_PKEY *pk = fixture_ec_pub_pkey(P256.name, xy, 64);
    cr_assert_not_null(pk, "OpenSSL takes the key");
    struct kf_offload_key *a = NULL, *b = NULL;
    kf_result r = kf_offload_key_new_ec(KF_OFFLOAD_ECDSA_P256_SHA256, xy, 64, 0, &a);
    cr_assert(kf_ok(r), "key_new_ec: %s", kf_err_name(r.code));
    r = kf_offload_key_from_pkey(pk, 0, &b);
    cr_assert(kf_ok(r), "key_from_pkey refuses the key key_new_ec took: %s", kf_err_name(r.code));
    kf_offload_key_free(a);
    kf_offload_key_free(b);
    EVP_PKEY_free(pk);
    EC_POINT_free(q);
    BN_free(zero);
}
