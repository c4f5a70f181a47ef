/* Unit tests of offload/lanes/p256_avx512ifma.c: the multi-buffer ECDSA P-256 verification
 * kernel, cross-checked lane by lane against OpenSSL's verdict (EVP_PKEY_verify) on random
 * valid and corrupted signatures, out-of-range r and s, and points built with EC_POINT
 * arithmetic to hit the rare paths: R at infinity, u1 G = u2 Q (doubling inside an
 * addition), u1 = 0, and x(R) >= n (accepted through r + n). Key validation is checked
 * against OpenSSL's refusal of the same encodings.
 *
 * The kernel needs AVX-512 IFMA; on a CPU without it every test skips and says so.
 */
#include "offload/lanes/lanes.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <stdio.h>
#include <string.h>

/* ---- environment ------------------------------------------------------------------------ */

static void require_ifma(void)
{
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx512f") || !__builtin_cpu_supports("avx512ifma")) {
        cr_skip_test("CPU lacks avx512f/avx512ifma: the IFMA kernel cannot run here");
    }
}

/* xorshift64*: reproducible case selection (keys and ECDSA nonces still come from OpenSSL's
 * RNG; a failure prints the lane's full inputs). */
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1Dull;
}

static void rnd_bytes(uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        b[i] = (uint8_t)rnd();
    }
}

static EC_GROUP *grp;
static BN_CTX *bnctx;
static BIGNUM *order, *field;

static void setup(void)
{
    require_ifma();
    grp = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    bnctx = BN_CTX_new();
    order = BN_new();
    field = BN_new();
    cr_assert(grp && bnctx && order && field);
    cr_assert(EC_GROUP_get_order(grp, order, bnctx));
    cr_assert(EC_GROUP_get_curve(grp, field, NULL, NULL, bnctx));
}

static void teardown(void)
{
    BN_free(order);
    BN_free(field);
    BN_CTX_free(bnctx);
    EC_GROUP_free(grp);
}

/* ---- OpenSSL side ----------------------------------------------------------------------- */

/* EVP key from X || Y, or NULL when OpenSSL refuses the point. */
static EVP_PKEY *ossl_pub(const uint8_t pub[64])
{
    uint8_t oct[65] = { 0x04 };
    memcpy(oct + 1, pub, 64);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)"prime256v1", 0),
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, oct, sizeof(oct)),
        OSSL_PARAM_construct_end(),
    };
    EVP_PKEY *pk = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) <= 0 ||
        EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
        pk = NULL;
    }
    EVP_PKEY_CTX_free(ctx);
    if (pk != NULL) {
        EVP_PKEY_CTX *chk = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL);
        const int good = chk != NULL && EVP_PKEY_public_check(chk) == 1;
        EVP_PKEY_CTX_free(chk);
        if (!good) {
            EVP_PKEY_free(pk);
            pk = NULL;
        }
    }
    return pk;
}

static int ossl_verify(EVP_PKEY *pk, const uint8_t dgst[32], const uint8_t sig[64])
{
    ECDSA_SIG *es = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(sig, 32, NULL), *s = BN_bin2bn(sig + 32, 32, NULL);
    cr_assert(es && r && s && ECDSA_SIG_set0(es, r, s));
    unsigned char *der = NULL;
    const int der_len = i2d_ECDSA_SIG(es, &der);
    cr_assert(der_len > 0);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL);
    cr_assert(ctx && EVP_PKEY_verify_init(ctx) == 1);
    const int rc = EVP_PKEY_verify(ctx, der, (size_t)der_len, dgst, 32);
    EVP_PKEY_CTX_free(ctx);
    OPENSSL_free(der);
    ECDSA_SIG_free(es);
    return rc == 1;
}

static void ossl_sign(EVP_PKEY *pk, const uint8_t dgst[32], uint8_t sig[64])
{
    unsigned char der[80];
    size_t der_len = sizeof(der);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL);
    cr_assert(ctx && EVP_PKEY_sign_init(ctx) == 1);
    cr_assert(EVP_PKEY_sign(ctx, der, &der_len, dgst, 32) == 1);
    EVP_PKEY_CTX_free(ctx);
    const unsigned char *pp = der;
    ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &pp, (long)der_len);
    cr_assert(es);
    cr_assert(BN_bn2binpad(ECDSA_SIG_get0_r(es), sig, 32) == 32);
    cr_assert(BN_bn2binpad(ECDSA_SIG_get0_s(es), sig + 32, 32) == 32);
    ECDSA_SIG_free(es);
}

static void bn_out(const BIGNUM *a, uint8_t out[32])
{
    cr_assert(BN_bn2binpad(a, out, 32) == 32);
}

static void point_out(const EC_POINT *pt, uint8_t pub[64])
{
    BIGNUM *x = BN_new(), *y = BN_new();
    cr_assert(EC_POINT_get_affine_coordinates(grp, pt, x, y, bnctx));
    bn_out(x, pub);
    bn_out(y, pub + 32);
    BN_free(x);
    BN_free(y);
}

static BIGNUM *bn_rand_mod_n(void)
{
    BIGNUM *a = BN_new();
    cr_assert(a && BN_rand_range(a, order));
    if (BN_is_zero(a)) {
        BN_one(a);
    }
    return a;
}

/* ---- test keys ---------------------------------------------------------------------------- */

struct tkey {
    uint8_t pub[64];
    EVP_PKEY *pk;                    /* owned; has the private key when signing is needed */
    struct kf_p256_ifma_key *plain;  /* owned, without table */
    struct kf_p256_ifma_key *tabled; /* owned, with per-key table */
};

static void tkey_from_pub(struct tkey *k, const uint8_t pub[64])
{
    memcpy(k->pub, pub, 64);
    k->pk = ossl_pub(pub);
    k->plain = kf_p256_ifma_key_new(pub, false);
    k->tabled = kf_p256_ifma_key_new(pub, true);
    cr_assert(k->pk && k->plain && k->tabled);
}

static void tkey_gen(struct tkey *k)
{
    k->pk = EVP_EC_gen("P-256");
    cr_assert(k->pk);
    uint8_t oct[65];
    size_t len = 0;
    cr_assert(
        EVP_PKEY_get_octet_string_param(k->pk, OSSL_PKEY_PARAM_PUB_KEY, oct, sizeof(oct), &len));
    cr_assert_eq(len, 65);
    memcpy(k->pub, oct + 1, 64);
    k->plain = kf_p256_ifma_key_new(k->pub, false);
    k->tabled = kf_p256_ifma_key_new(k->pub, true);
    cr_assert(k->plain && k->tabled);
}

static void tkey_free(struct tkey *k)
{
    EVP_PKEY_free(k->pk);
    kf_p256_ifma_key_free(k->plain);
    kf_p256_ifma_key_free(k->tabled);
}

/* ---- batched cross-check ------------------------------------------------------------------ */

struct tcase {
    const struct tkey *key;
    bool use_table;
    uint8_t dgst[32];
    uint8_t sig[64];
    int expect; /* -1: ask OpenSSL; else the known answer, also checked against OpenSSL */
};

static unsigned long lanes_checked, lanes_valid;

static void hex(const char *what, const uint8_t *b, size_t n)
{
    fprintf(stderr, "  %s ", what);
    for (size_t i = 0; i < n; i++) {
        fprintf(stderr, "%02x", b[i]);
    }
    fprintf(stderr, "\n");
}

static void run_batch(const struct tcase *c, unsigned lanes)
{
    /* NULL beyond @p lanes: the kernel must not read those entries. */
    const struct kf_p256_ifma_key *keys[KF_LANES] = { NULL };
    const uint8_t *dg[KF_LANES] = { NULL }, *sg[KF_LANES] = { NULL };
    uint8_t ok[KF_LANES];
    memset(ok, 0xAA, sizeof(ok));
    for (unsigned l = 0; l < lanes; l++) {
        keys[l] = c[l].use_table ? c[l].key->tabled : c[l].key->plain;
        dg[l] = c[l].dgst;
        sg[l] = c[l].sig;
    }
    kf_p256_ifma_verify(keys, dg, sg, lanes, ok);
    for (unsigned l = 0; l < lanes; l++) {
        const int want = ossl_verify(c[l].key->pk, c[l].dgst, c[l].sig);
        if (c[l].expect >= 0) {
            cr_assert_eq(want, c[l].expect, "OpenSSL disagrees with the constructed answer");
        }
        if (ok[l] != want) {
            fprintf(stderr, "lane %u of %u (table %d): kernel %u, OpenSSL %d\n", l, lanes,
                    c[l].use_table, ok[l], want);
            hex("pub ", c[l].key->pub, 64);
            hex("dgst", c[l].dgst, 32);
            hex("sig ", c[l].sig, 64);
        }
        cr_assert_eq(ok[l], want, "lane %u: kernel %u, OpenSSL %d", l, ok[l], want);
        lanes_checked++;
        lanes_valid += (unsigned long)want;
    }
}

/* ---- random valid and corrupted signatures ---------------------------------------------- */

#define NKEYS 12

static void random_case(struct tcase *c, const struct tkey *keys, bool force_table)
{
    const struct tkey *k = &keys[rnd() % NKEYS];
    c->key = k;
    c->use_table = force_table || (rnd() & 1);
    c->expect = -1;
    rnd_bytes(c->dgst, 32);
    ossl_sign(k->pk, c->dgst, c->sig);
    switch (rnd() % 8) {
    case 0:
    case 1:
    case 2:
    case 3:
        c->expect = 1;
        break;
    case 4: /* corrupt r or s: one bit */
        c->sig[rnd() % 64] ^= (uint8_t)(1u << (rnd() % 8));
        c->expect = 0;
        break;
    case 5: /* corrupt the digest */
        c->dgst[rnd() % 32] ^= (uint8_t)(1u << (rnd() % 8));
        c->expect = 0;
        break;
    case 6: /* another key */
        c->key = &keys[(size_t)(k - keys + 1 + rnd() % (NKEYS - 1)) % NKEYS];
        c->expect = 0;
        break;
    default: /* swap r and s */
    {
        uint8_t t[32];
        memcpy(t, c->sig, 32);
        memcpy(c->sig, c->sig + 32, 32);
        memcpy(c->sig + 32, t, 32);
        break;
    }
    }
}

TestSuite(p256_ifma, .init = setup, .fini = teardown, .timeout = 120);

Test(p256_ifma, random_signatures_all_lane_counts)
{
    struct tkey keys[NKEYS];
    for (int i = 0; i < NKEYS; i++) {
        tkey_gen(&keys[i]);
    }
    struct tcase c[KF_LANES];
    for (int b = 0; b < 4400; b++) {
        const unsigned lanes = 1 + (unsigned)b % KF_LANES;
        /* Every third batch has tables in all lanes: the no-doubling path. */
        const bool all_tables = b % 3 == 0;
        for (unsigned l = 0; l < lanes; l++) {
            random_case(&c[l], keys, all_tables);
        }
        run_batch(c, lanes);
    }
    fprintf(stderr, "random: %lu lanes checked, %lu valid\n", lanes_checked, lanes_valid);
    cr_assert_geq(lanes_checked, 19000);
    cr_assert_geq(lanes_valid, lanes_checked / 3, "too few valid cases to mean anything");
    for (int i = 0; i < NKEYS; i++) {
        tkey_free(&keys[i]);
    }
}

/* ---- r and s at and around the range limits --------------------------------------------- */

static void scalar_edge(uint8_t out[32], int which, const uint8_t valid[32])
{
    BIGNUM *v = BN_new();
    cr_assert(v);
    switch (which) {
    case 0: /* 0 */
        BN_zero(v);
        break;
    case 1: /* n */
        BN_copy(v, order);
        break;
    case 2: /* n - 1 */
        BN_copy(v, order);
        BN_sub_word(v, 1);
        break;
    case 3: /* n + 1 */
        BN_copy(v, order);
        BN_add_word(v, 1);
        break;
    case 4: /* 2^256 - 1 */
        memset(out, 0xFF, 32);
        BN_free(v);
        return;
    case 5: /* 1 */
        BN_one(v);
        break;
    case 6: /* the valid value + n (same residue, out of range) */
        BN_bin2bn(valid, 32, v);
        BN_add(v, v, order);
        if (BN_num_bits(v) > 256) {
            BN_sub(v, v, order);
            BN_sub(v, v, order);
            BN_add(v, v, order); /* back to the valid value; still a legal case */
        }
        break;
    default: /* p */
        BN_copy(v, field);
        break;
    }
    bn_out(v, out);
    BN_free(v);
}

Test(p256_ifma, r_and_s_range_limits)
{
    struct tkey keys[4];
    for (int i = 0; i < 4; i++) {
        tkey_gen(&keys[i]);
    }
    struct tcase c[KF_LANES];
    unsigned n = 0, batches = 0;
    for (int rep = 0; rep < 40; rep++) {
        for (int which = 0; which < 8; which++) {
            for (int part = 0; part < 3; part++) {
                struct tcase *t = &c[n];
                t->key = &keys[rnd() % 4];
                t->use_table = rnd() & 1;
                t->expect = -1;
                rnd_bytes(t->dgst, 32);
                ossl_sign(t->key->pk, t->dgst, t->sig);
                if (part == 0 || part == 2) {
                    scalar_edge(t->sig, which, t->sig);
                }
                if (part == 1 || part == 2) {
                    scalar_edge(t->sig + 32, which, t->sig + 32);
                }
                if (++n == KF_LANES) {
                    run_batch(c, n);
                    n = 0;
                    batches++;
                }
            }
        }
    }
    if (n > 0) {
        run_batch(c, n);
    }
    cr_assert_geq(lanes_checked, 900);
    for (int i = 0; i < 4; i++) {
        tkey_free(&keys[i]);
    }
}

/* ---- constructed points: the rare paths ----------------------------------------------------- */

/* Signature (r, s) and digest e with u1 = e / s and u2 = r / s for the given u1, u2 and r:
 * s = r / u2, e = u1 s. */
static void make_sig(struct tcase *c, const BIGNUM *u1, const BIGNUM *u2, const BIGNUM *r)
{
    BIGNUM *s = BN_new(), *e = BN_new(), *inv = BN_new();
    cr_assert(s && e && inv);
    cr_assert(BN_mod_inverse(inv, u2, order, bnctx));
    cr_assert(BN_mod_mul(s, r, inv, order, bnctx));
    cr_assert(BN_mod_mul(e, u1, s, order, bnctx));
    bn_out(r, c->sig);
    bn_out(s, c->sig + 32);
    bn_out(e, c->dgst);
    BN_free(s);
    BN_free(e);
    BN_free(inv);
}

/* x(R) mod n of R = u1 G + u2 Q, or NULL when R is at infinity. */
static BIGNUM *x_mod_n(const BIGNUM *u1, const EC_POINT *q, const BIGNUM *u2)
{
    EC_POINT *pt = EC_POINT_new(grp);
    cr_assert(pt && EC_POINT_mul(grp, pt, u1, q, u2, bnctx));
    if (EC_POINT_is_at_infinity(grp, pt)) {
        EC_POINT_free(pt);
        return NULL;
    }
    BIGNUM *x = BN_new();
    cr_assert(x && EC_POINT_get_affine_coordinates(grp, pt, x, NULL, bnctx));
    cr_assert(BN_nnmod(x, x, order, bnctx));
    EC_POINT_free(pt);
    return x;
}

enum ckind {
    CK_INFINITY, /* u1 = -u2 d: R at infinity, reject */
    CK_DOUBLE,   /* u1 = u2 d: u1 G = u2 Q, final addition is a doubling, accept */
    CK_U1_ZERO,  /* digest 0: u1 = 0, accept */
    CK_U1_N,     /* digest = n: u1 = 0 again, e >= n, accept */
    CK_WRAP,     /* x(R) in [n, p), r = x - n, accept */
    CK_WRAP_BAD, /* as CK_WRAP with r = x - n + 1, reject */
    CK_SMALL_X,  /* x(R) < p - n so r + n < p is tried too, accept */
    CK_R_UNRED,  /* x(R) in [n, p) and r = x(R) itself (>= n): out of range, reject */
    CK_R_PLUS_N, /* x(R) small, r = x(R) + n (< 2^256, same residue): reject */
    CK_S_PLUS_N, /* s small, signature carries s + n (same residue): reject */
    CK_RN_FALSE, /* r = x(R) + p - n: X = (r + n) Z^2 mod p, but r + n >= p: reject */
    CK_NKINDS,
};

/* A key with known private key d, for the kinds that need it. */
static void known_key(struct tkey *k, BIGNUM **d_out, EC_POINT **q_out)
{
    BIGNUM *d = bn_rand_mod_n();
    EC_POINT *q = EC_POINT_new(grp);
    cr_assert(q && EC_POINT_mul(grp, q, d, NULL, NULL, bnctx));
    uint8_t pub[64];
    point_out(q, pub);
    tkey_from_pub(k, pub);
    *d_out = d;
    *q_out = q;
}

/* A point R with x in [lo, lo + 2^bits) on the curve. */
static EC_POINT *point_with_x(const BIGNUM *lo, int bits)
{
    EC_POINT *r = EC_POINT_new(grp);
    BIGNUM *x = BN_new(), *off = BN_new();
    cr_assert(r && x && off);
    for (int tries = 0; tries < 1000; tries++) {
        cr_assert(BN_rand(off, bits, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY));
        cr_assert(BN_add(x, lo, off));
        if (BN_cmp(x, field) >= 0) {
            continue;
        }
        ERR_set_mark();
        const int on = EC_POINT_set_compressed_coordinates(grp, r, x, (int)(rnd() & 1), bnctx);
        ERR_pop_to_mark();
        if (on == 1) {
            BN_free(x);
            BN_free(off);
            return r;
        }
    }
    cr_assert_fail("no curve point found");
    return NULL;
}

/* Key Q = (R - u1 G) / u2 so that u1 G + u2 Q = R for the chosen R (no private key needed). */
static void key_for_point(struct tkey *k, const EC_POINT *r, const BIGNUM *u1, const BIGNUM *u2)
{
    EC_POINT *t = EC_POINT_new(grp), *q = EC_POINT_new(grp);
    BIGNUM *neg = BN_new(), *inv = BN_new();
    cr_assert(t && q && neg && inv);
    cr_assert(BN_sub(neg, order, u1));
    cr_assert(EC_POINT_mul(grp, t, neg, NULL, NULL, bnctx));
    cr_assert(EC_POINT_add(grp, t, t, r, bnctx));
    cr_assert(BN_mod_inverse(inv, u2, order, bnctx));
    cr_assert(EC_POINT_mul(grp, q, NULL, t, inv, bnctx));
    uint8_t pub[64];
    point_out(q, pub);
    tkey_from_pub(k, pub);
    EC_POINT_free(t);
    EC_POINT_free(q);
    BN_free(neg);
    BN_free(inv);
}

static void constructed_case(struct tcase *c, struct tkey *k, enum ckind kind)
{
    BIGNUM *u1 = bn_rand_mod_n(), *u2 = bn_rand_mod_n(), *d = NULL, *r = NULL;
    EC_POINT *q = NULL, *pt = NULL;
    c->key = k;
    switch (kind) {
    case CK_INFINITY:
        known_key(k, &d, &q);
        cr_assert(BN_mod_mul(u1, u2, d, order, bnctx));
        cr_assert(BN_sub(u1, order, u1));
        cr_assert_null(x_mod_n(u1, q, u2));
        r = bn_rand_mod_n();
        make_sig(c, u1, u2, r);
        c->expect = 0;
        break;
    case CK_DOUBLE:
        known_key(k, &d, &q);
        cr_assert(BN_mod_mul(u1, u2, d, order, bnctx));
        r = x_mod_n(u1, q, u2);
        make_sig(c, u1, u2, r);
        c->expect = 1;
        break;
    case CK_U1_ZERO:
    case CK_U1_N:
        known_key(k, &d, &q);
        BN_zero(u1);
        r = x_mod_n(u1, q, u2);
        make_sig(c, u1, u2, r);
        if (kind == CK_U1_N) {
            bn_out(order, c->dgst);
        }
        c->expect = 1;
        break;
    case CK_WRAP:
    case CK_WRAP_BAD: {
        /* p - n is a 127-bit number: offsets below 2^126 keep n + off < p. */
        pt = point_with_x(order, 126);
        key_for_point(k, pt, u1, u2);
        BIGNUM *x = BN_new();
        r = BN_new();
        cr_assert(x && r && EC_POINT_get_affine_coordinates(grp, pt, x, NULL, bnctx));
        cr_assert(BN_cmp(x, order) >= 0);
        cr_assert(BN_sub(r, x, order));
        if (kind == CK_WRAP_BAD) {
            cr_assert(BN_add_word(r, 1));
        }
        BN_free(x);
        make_sig(c, u1, u2, r);
        c->expect = kind == CK_WRAP;
        break;
    }
    case CK_SMALL_X:
    case CK_R_PLUS_N: {
        BIGNUM *zero = BN_new();
        cr_assert(zero);
        BN_zero(zero);
        pt = point_with_x(zero, 120);
        BN_free(zero);
        key_for_point(k, pt, u1, u2);
        r = BN_new();
        cr_assert(r && EC_POINT_get_affine_coordinates(grp, pt, r, NULL, bnctx));
        make_sig(c, u1, u2, r);
        c->expect = kind == CK_SMALL_X;
        if (kind == CK_R_PLUS_N) {
            cr_assert(BN_add(r, r, order));
            bn_out(r, c->sig);
        }
        break;
    }
    case CK_R_UNRED: {
        pt = point_with_x(order, 126);
        key_for_point(k, pt, u1, u2);
        BIGNUM *x = BN_new();
        r = BN_new();
        cr_assert(x && r && EC_POINT_get_affine_coordinates(grp, pt, x, NULL, bnctx));
        cr_assert(BN_sub(r, x, order));
        make_sig(c, u1, u2, r);
        bn_out(x, c->sig);
        BN_free(x);
        c->expect = 0;
        break;
    }
    case CK_S_PLUS_N: {
        /* Choose s (small enough that s + n < 2^256), then u2 = r / s and Q to match. */
        BIGNUM *kk = bn_rand_mod_n(), *sm = BN_new(), *e = BN_new();
        pt = EC_POINT_new(grp);
        cr_assert(sm && e && pt && EC_POINT_mul(grp, pt, kk, NULL, NULL, bnctx));
        r = BN_new();
        cr_assert(r && EC_POINT_get_affine_coordinates(grp, pt, r, NULL, bnctx));
        cr_assert(BN_nnmod(r, r, order, bnctx));
        cr_assert(BN_rand(sm, 200, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY));
        cr_assert(BN_mod_inverse(u2, sm, order, bnctx));
        cr_assert(BN_mod_mul(u2, u2, r, order, bnctx));
        key_for_point(k, pt, u1, u2);
        cr_assert(BN_mod_mul(e, u1, sm, order, bnctx));
        cr_assert(BN_add(sm, sm, order));
        bn_out(r, c->sig);
        bn_out(sm, c->sig + 32);
        bn_out(e, c->dgst);
        BN_free(kk);
        BN_free(sm);
        BN_free(e);
        c->expect = 0;
        break;
    }
    default: { /* CK_RN_FALSE */
        /* x(R) < 2^200 so that r + n = x(R) + p stays below 2^256: only the r + n < p
         * condition rejects it. */
        BIGNUM *zero = BN_new();
        cr_assert(zero);
        BN_zero(zero);
        pt = point_with_x(zero, 200);
        BN_free(zero);
        key_for_point(k, pt, u1, u2);
        r = BN_new();
        cr_assert(r && EC_POINT_get_affine_coordinates(grp, pt, r, NULL, bnctx));
        cr_assert(BN_add(r, r, field) && BN_sub(r, r, order));
        cr_assert(BN_cmp(r, order) < 0);
        make_sig(c, u1, u2, r);
        c->expect = 0;
        break;
    }
    }
    BN_free(u1);
    BN_free(u2);
    BN_free(d);
    BN_free(r);
    EC_POINT_free(q);
    EC_POINT_free(pt);
}

Test(p256_ifma, constructed_rare_paths)
{
    enum { ROUNDS = 40 };
    static struct tkey keys[ROUNDS][KF_LANES];
    struct tcase c[KF_LANES];
    unsigned per_kind[CK_NKINDS] = { 0 };
    for (int round = 0; round < ROUNDS; round++) {
        const unsigned lanes = 1 + (unsigned)round % KF_LANES;
        for (unsigned l = 0; l < lanes; l++) {
            const enum ckind kind = (enum ckind)(rnd() % CK_NKINDS);
            constructed_case(&c[l], &keys[round][l], kind);
            c[l].use_table = round % 2 == 0 ? true : (rnd() & 1);
            per_kind[kind]++;
        }
        run_batch(c, lanes);
        /* The same cases again, each with the other table choice and in a full batch with
         * the lanes rotated, so every kind meets both paths and several lane positions. */
        struct tcase d[KF_LANES];
        for (unsigned l = 0; l < KF_LANES; l++) {
            d[l] = c[(l + 1) % lanes];
            d[l].use_table = !d[l].use_table;
        }
        run_batch(d, KF_LANES);
        for (unsigned l = 0; l < lanes; l++) {
            tkey_free(&keys[round][l]);
        }
    }
    for (int k = 0; k < CK_NKINDS; k++) {
        cr_assert_gt(per_kind[k], 0, "kind %d never drawn", k);
    }
}

/* ---- key validation ------------------------------------------------------------------------ */

/* why is an array, not a pointer: Criterion hands parameters to a fresh process (BoxFort),
 * where a pointer into the parent's image need not be valid. */
struct key_case {
    int kind;
    char why[96];
};

static const struct key_case key_cases[] = {
    { 0, "x = y = 0 (not on the curve; the point at infinity has no X || Y encoding)" },
    { 1, "y xor 1: off the curve" },
    { 2, "x xor 1: off the curve" },
    { 3, "x + p for a point with x < 2^200: a valid residue, but the coordinate is >= p" },
    { 4, "y + p for a point with y < 2^200: a valid residue, but the coordinate is >= p" },
    { 5, "x = p, y = sqrt(b): (0, sqrt(b)) is on the curve, the encoding is not" },
    { 6, "all ones" },
    { 7, "random bytes" },
};

ParameterizedTestParameters(p256_ifma, bad_keys_refused)
{
    return cr_make_param_array(struct key_case, key_cases,
                               sizeof(key_cases) / sizeof(key_cases[0]));
}

static void bytes_add(uint8_t v[32], const BIGNUM *a)
{
    BIGNUM *x = BN_bin2bn(v, 32, NULL);
    cr_assert(x && BN_add(x, x, a));
    cr_assert_leq(BN_num_bits(x), 256);
    bn_out(x, v);
    BN_free(x);
}

/* A curve point with y < 2^200: solve x^3 - 3x + (b - y^2) = 0 by Cardano. With x = u + 1/u,
 * u^3 is a root of t^2 + (b - y^2) t + 1; p = 4 (mod 9), so a cube root of a cubic residue c
 * is c^((2p + 1) / 9). Retries y until the roots exist. */
static void point_with_small_y(uint8_t pub[64])
{
    BIGNUM *y = BN_new(), *bb = BN_new(), *t = BN_new(), *disc = BN_new(), *u = BN_new(),
           *x = BN_new(), *e = BN_new(), *four = BN_new();
    EC_POINT *pt = EC_POINT_new(grp);
    cr_assert(y && bb && t && disc && u && x && e && four && pt);
    cr_assert(EC_GROUP_get_curve(grp, NULL, NULL, bb, bnctx));
    cr_assert(BN_lshift1(e, field) && BN_add_word(e, 1) && BN_div_word(e, 9) == 0);
    cr_assert(BN_set_word(four, 4));
    for (int tries = 0; tries < 1000; tries++) {
        cr_assert(BN_rand(y, 200, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY));
        /* B = b - y^2; t = (-B + sqrt(B^2 - 4)) / 2 */
        cr_assert(BN_mod_sqr(t, y, field, bnctx) && BN_mod_sub(t, bb, t, field, bnctx));
        cr_assert(BN_mod_sqr(disc, t, field, bnctx) && BN_mod_sub(disc, disc, four, field, bnctx));
        ERR_set_mark();
        const bool qr = BN_mod_sqrt(u, disc, field, bnctx) != NULL;
        ERR_pop_to_mark();
        if (!qr) {
            continue;
        }
        cr_assert(BN_mod_sub(t, u, t, field, bnctx));
        cr_assert(BN_set_word(u, 2) && BN_mod_inverse(u, u, field, bnctx));
        cr_assert(BN_mod_mul(t, t, u, field, bnctx));
        cr_assert(BN_mod_exp(u, t, e, field, bnctx));
        if (BN_is_zero(u)) {
            continue;
        }
        cr_assert(BN_mod_inverse(x, u, field, bnctx) && BN_mod_add(x, x, u, field, bnctx));
        ERR_set_mark();
        const bool on = EC_POINT_set_affine_coordinates(grp, pt, x, y, bnctx) == 1;
        ERR_pop_to_mark();
        if (on) {
            bn_out(x, pub);
            bn_out(y, pub + 32);
            break;
        }
        cr_assert(tries < 999, "no point with a small y found");
    }
    EC_POINT_free(pt);
    BN_free(y);
    BN_free(bb);
    BN_free(t);
    BN_free(disc);
    BN_free(u);
    BN_free(x);
    BN_free(e);
    BN_free(four);
}

static void random_point(uint8_t pub[64])
{
    BIGNUM *d = bn_rand_mod_n();
    EC_POINT *q = EC_POINT_new(grp);
    cr_assert(q && EC_POINT_mul(grp, q, d, NULL, NULL, bnctx));
    point_out(q, pub);
    BN_free(d);
    EC_POINT_free(q);
}

ParameterizedTest(const struct key_case *kc, p256_ifma, bad_keys_refused)
{
    for (int rep = 0; rep < 10; rep++) {
        uint8_t pub[64];
        if (kc->kind == 3) {
            BIGNUM *zero = BN_new();
            cr_assert(zero);
            BN_zero(zero);
            EC_POINT *pt = point_with_x(zero, 200);
            point_out(pt, pub);
            EC_POINT_free(pt);
            BN_free(zero);
        } else if (kc->kind == 4) {
            point_with_small_y(pub);
        } else {
            random_point(pub);
        }
        /* The unmodified point is good for both sides (so the refusal below is the
         * modification's doing). */
        EVP_PKEY *good = ossl_pub(pub);
        cr_assert_not_null(good);
        EVP_PKEY_free(good);
        struct kf_p256_ifma_key *kk = kf_p256_ifma_key_new(pub, false);
        cr_assert_not_null(kk);
        kf_p256_ifma_key_free(kk);
        switch (kc->kind) {
        case 0:
            memset(pub, 0, 64);
            break;
        case 1:
            pub[63] ^= 1;
            break;
        case 2:
            pub[31] ^= 1;
            break;
        case 3:
            bytes_add(pub, field);
            break;
        case 4:
            bytes_add(pub + 32, field);
            break;
        case 5: {
            BIGNUM *bb = BN_new(), *y = BN_new();
            cr_assert(bb && y && EC_GROUP_get_curve(grp, NULL, NULL, bb, bnctx));
            cr_assert(BN_mod_sqrt(y, bb, field, bnctx));
            bn_out(field, pub);
            bn_out(y, pub + 32);
            BN_free(bb);
            BN_free(y);
            break;
        }
        case 6:
            memset(pub, 0xFF, 64);
            break;
        default:
            rnd_bytes(pub, 64);
            break;
        }
        EVP_PKEY *pk = ossl_pub(pub);
        cr_assert_null(pk, "OpenSSL accepted: %s", kc->why);
        cr_assert_null(kf_p256_ifma_key_new(pub, false), "%s", kc->why);
        cr_assert_null(kf_p256_ifma_key_new(pub, true), "%s", kc->why);
    }
}

Test(p256_ifma, good_keys_accepted)
{
    /* G, -G, (0, sqrt(b)) and random keys: both constructors accept what OpenSSL accepts. */
    uint8_t pub[64];
    const EC_POINT *g = EC_GROUP_get0_generator(grp);
    point_out(g, pub);
    for (int i = 0; i < 22; i++) {
        if (i == 1) {
            BIGNUM *y = BN_bin2bn(pub + 32, 32, NULL);
            cr_assert(y && BN_sub(y, field, y));
            bn_out(y, pub + 32);
            BN_free(y);
        } else if (i == 2) {
            BIGNUM *bb = BN_new(), *y = BN_new();
            cr_assert(bb && y && EC_GROUP_get_curve(grp, NULL, NULL, bb, bnctx));
            cr_assert(BN_mod_sqrt(y, bb, field, bnctx));
            memset(pub, 0, 32);
            bn_out(y, pub + 32);
            BN_free(bb);
            BN_free(y);
        } else if (i > 2) {
            struct tkey k;
            tkey_gen(&k);
            memcpy(pub, k.pub, 64);
            tkey_free(&k);
        }
        EVP_PKEY *pk = ossl_pub(pub);
        cr_assert_not_null(pk);
        EVP_PKEY_free(pk);
        struct kf_p256_ifma_key *a = kf_p256_ifma_key_new(pub, false);
        struct kf_p256_ifma_key *b = kf_p256_ifma_key_new(pub, true);
        cr_assert(a && b);
        kf_p256_ifma_key_free(a);
        kf_p256_ifma_key_free(b);
    }
    kf_p256_ifma_key_free(NULL);
}
