/* tests/unit/offload/test_rsa_ifma.c - offload/lanes/rsa_avx512ifma.c (STYLE.md s11, s14).
 *
 * Every lane result of kf_rsa_ifma_public is compared with OpenSSL's BN_mod_exp. Moduli are
 * random odd numbers of the exact bit length (Montgomery arithmetic needs only an odd modulus,
 * and random ones reach limb patterns real keys would too), including the largest and smallest
 * of each limb class, where the 4n < R margin is tightest. Inputs include 0, 1, n-1 and n-2;
 * exponents 1, 3, 65537, random odd ones up to 64 bits and a few as long as the modulus.
 * Batches use 1 .. 8 lanes and mix key sizes and exponents inside one call.
 *
 * Cases come from a seeded PRNG (no clock), so a failure names a reproducible case. */
#include "offload/lanes/lanes.h"

#include <criterion/criterion.h>
#include <openssl/bn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define MAX_BYTES 520 /* room for the 4097-bit refusal case */
#define MAX_E_BYTES 512
/* A byte the kernel never writes to spare output buffers. */
#define CANARY 0xa5

/* The kernel needs AVX-512 IFMA (lanes.h); CI runs on a machine that has it. */
static void require_ifma(void)
{
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx512f") || !__builtin_cpu_supports("avx512ifma")) {
        cr_skip_test("this CPU lacks AVX-512F/IFMA, so the kernel cannot run here");
    }
}

/* splitmix64: deterministic, so every case is reproducible from (seed, case number). */
static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static void rng_fill(uint64_t *s, uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        p[i] = (uint8_t)rng_next(s);
    }
}

struct tkey {
    uint8_t n[MAX_BYTES];
    size_t n_len;
    uint8_t e[MAX_E_BYTES];
    size_t e_len;
    BIGNUM *bn_n;              /* owned */
    BIGNUM *bn_e;              /* owned */
    struct kf_rsa_ifma_key *k; /* owned */
};

/* A random odd modulus of exactly @p bits bits; @p shape 1 sets all bits (2^bits - 1),
 * 2 makes it 2^(bits-1) + 1 + random low half, so both ends of the class are reached. */
static void tkey_modulus(struct tkey *t, uint64_t *s, unsigned bits, int shape)
{
    t->n_len = (bits + 7) / 8;
    rng_fill(s, t->n, t->n_len);
    unsigned top_bits = bits - 8 * (t->n_len - 1); /* 1 .. 8 bits in n[0] */
    t->n[0] &= (uint8_t)((1u << top_bits) - 1);
    t->n[0] |= (uint8_t)(1u << (top_bits - 1));
    if (shape == 1) {
        memset(t->n + 1, 0xff, t->n_len - 1);
        t->n[0] = (uint8_t)((1u << top_bits) - 1);
    } else if (shape == 2) {
        memset(t->n + 1, 0, t->n_len / 2);
    }
    t->n[t->n_len - 1] |= 1;
}

static void tkey_exponent_u64(struct tkey *t, uint64_t e)
{
    t->e_len = 8;
    for (int i = 0; i < 8; i++) {
        t->e[i] = (uint8_t)(e >> (56 - 8 * i));
    }
}

static void tkey_finish(struct tkey *t)
{
    t->bn_n = BN_bin2bn(t->n, (int)t->n_len, NULL);
    t->bn_e = BN_bin2bn(t->e, (int)t->e_len, NULL);
    cr_assert(t->bn_n != NULL && t->bn_e != NULL);
    t->k = kf_rsa_ifma_key_new(t->n, t->n_len, t->e, t->e_len);
    cr_assert(t->k != NULL, "key_new refused a %d-bit modulus", BN_num_bits(t->bn_n));
    cr_assert_eq(kf_rsa_ifma_key_bytes(t->k), t->n_len);
}

static void tkey_cleanup(struct tkey *t)
{
    kf_rsa_ifma_key_free(t->k);
    BN_free(t->bn_n);
    BN_free(t->bn_e);
    memset(t, 0, sizeof(*t));
}

/* Exponent kinds used by the mixed tests. */
static void tkey_random_exponent(struct tkey *t, uint64_t *s)
{
    switch (rng_next(s) % 6) {
    case 0:
        tkey_exponent_u64(t, 3);
        break;
    case 1:
    case 2:
        tkey_exponent_u64(t, 65537);
        break;
    case 3:
        tkey_exponent_u64(t, 1);
        break;
    case 4:
        tkey_exponent_u64(t, (rng_next(s) >> (rng_next(s) % 62)) | 1);
        break;
    default:
        tkey_exponent_u64(t, (rng_next(s) & 0xffffffu) | 0x10001u); /* 17..24 bits */
        break;
    }
}

/* An input for @p t: 0, 1, n-1, n-2 or random below n (big-endian, n_len bytes). */
static void make_input(const struct tkey *t, uint64_t *s, uint8_t *out, BN_CTX *ctx)
{
    BIGNUM *v = BN_new();
    cr_assert(v != NULL);
    switch (rng_next(s) % 8) {
    case 0:
        BN_zero(v);
        break;
    case 1:
        BN_one(v);
        break;
    case 2:
        BN_sub(v, t->bn_n, BN_value_one());
        break;
    case 3:
        BN_sub(v, t->bn_n, BN_value_one());
        BN_sub(v, v, BN_value_one());
        break;
    default: {
        uint8_t r[MAX_BYTES];
        rng_fill(s, r, t->n_len);
        cr_assert(BN_bin2bn(r, (int)t->n_len, v) != NULL);
        cr_assert(BN_mod(v, v, t->bn_n, ctx) == 1);
        break;
    }
    }
    cr_assert(BN_bn2binpad(v, out, (int)t->n_len) == (int)t->n_len);
    BN_free(v);
}

/* One call with keys[0 .. lanes-1]; returns the number of lane results checked. Spare output
 * buffers must stay untouched. */
static unsigned run_batch(struct tkey *const *keys, unsigned lanes, uint64_t *s, BN_CTX *ctx,
                          const char *what, unsigned case_no)
{
    static uint8_t in_buf[KF_LANES][MAX_BYTES];
    static uint8_t out_buf[KF_LANES][MAX_BYTES + 1];
    const struct kf_rsa_ifma_key *k[KF_LANES] = { 0 };
    const uint8_t *in[KF_LANES];
    uint8_t *out[KF_LANES];
    for (unsigned i = 0; i < KF_LANES; i++) {
        in[i] = in_buf[i];
        out[i] = out_buf[i];
        memset(out_buf[i], CANARY, MAX_BYTES + 1);
    }
    for (unsigned i = 0; i < lanes; i++) {
        k[i] = keys[i]->k;
        make_input(keys[i], s, in_buf[i], ctx);
    }
    kf_rsa_ifma_public(k, in, out, lanes);

    BIGNUM *x = BN_new();
    BIGNUM *y = BN_new();
    cr_assert(x != NULL && y != NULL);
    uint8_t want[MAX_BYTES];
    for (unsigned i = 0; i < lanes; i++) {
        const struct tkey *t = keys[i];
        cr_assert(BN_bin2bn(in_buf[i], (int)t->n_len, x) != NULL);
        cr_assert(BN_mod_exp(y, x, t->bn_e, t->bn_n, ctx) == 1);
        cr_assert(BN_bn2binpad(y, want, (int)t->n_len) == (int)t->n_len);
        if (memcmp(want, out_buf[i], t->n_len) != 0) {
            char *hx = BN_bn2hex(x), *hy = BN_bn2hex(y), *hn = BN_bn2hex(t->bn_n),
                 *he = BN_bn2hex(t->bn_e);
            cr_log_error("n = %s\ne = %s\nx = %s\nwant %s", hn, he, hx, hy);
            OPENSSL_free(hx);
            OPENSSL_free(hy);
            OPENSSL_free(hn);
            OPENSSL_free(he);
            cr_assert_fail("%s case %u: lane %u of %u (%d-bit n) differs from BN_mod_exp", what,
                           case_no, i, lanes, BN_num_bits(t->bn_n));
        }
        cr_assert_eq(out_buf[i][t->n_len], CANARY, "%s case %u: lane %u wrote past its bytes", what,
                     case_no, i);
    }
    for (unsigned i = lanes; i < KF_LANES; i++) {
        for (size_t b = 0; b < MAX_BYTES; b++) {
            cr_assert_eq(out_buf[i][b], CANARY, "%s case %u: spare lane %u was written", what,
                         case_no, i);
        }
    }
    BN_free(x);
    BN_free(y);
    return lanes;
}

/* ---- 2048-bit: the hot path ---------------------------------------------------------------- */

/* Many keys with e = 65537 or 3 (the all-lanes fast path: squarings without masks), every
 * lane count, inputs 0, 1, n-1, n-2 and random. */
Test(rsa_ifma, rsa2048_common_exponents)
{
    require_ifma();
    uint64_t s = 2048;
    BN_CTX *ctx = BN_CTX_new();
    static struct tkey keys[16];
    for (unsigned i = 0; i < 16; i++) {
        tkey_modulus(&keys[i], &s, 2048, i == 0 ? 1 : i == 1 ? 2 : 0);
        tkey_exponent_u64(&keys[i], i < 8 ? 65537 : 3);
        tkey_finish(&keys[i]);
    }
    unsigned checked = 0;
    for (unsigned c = 0; c < 1600; c++) {
        unsigned lanes = 1 + c % KF_LANES;
        unsigned base = (c / KF_LANES) % 2 * 8; /* all e = 65537, or all e = 3 */
        struct tkey *batch[KF_LANES];
        for (unsigned i = 0; i < lanes; i++) {
            batch[i] = &keys[base + (unsigned)(rng_next(&s) % 8)];
        }
        checked += run_batch(batch, lanes, &s, ctx, "rsa2048", c);
    }
    cr_log_info("rsa2048_common_exponents: %u lane results", checked);
    cr_assert_geq(checked, 7000);
    for (unsigned i = 0; i < 16; i++) {
        tkey_cleanup(&keys[i]);
    }
    BN_CTX_free(ctx);
}

/* Mixed exponents in one call (lanes starting their exponent at different bits, multiply
 * masks), and moduli of different lengths sharing the 40-limb class (1039 .. 2078 bits). */
Test(rsa_ifma, class40_mixed_keys_and_exponents)
{
    require_ifma();
    uint64_t s = 4040;
    BN_CTX *ctx = BN_CTX_new();
    static const unsigned sizes[] = { 1039, 1536, 2047, 2048, 2048, 2049, 2077, 2078 };
    static struct tkey keys[32];
    for (unsigned i = 0; i < 32; i++) {
        tkey_modulus(&keys[i], &s, sizes[i % 8], (int)(i / 8) % 3);
        tkey_random_exponent(&keys[i], &s);
        tkey_finish(&keys[i]);
        cr_assert_eq(kf_rsa_ifma_key_class(keys[i].k), kf_rsa_ifma_key_class(keys[0].k));
    }
    unsigned checked = 0;
    for (unsigned c = 0; c < 1200; c++) {
        unsigned lanes = 1 + c % KF_LANES;
        struct tkey *batch[KF_LANES];
        for (unsigned i = 0; i < lanes; i++) {
            batch[i] = &keys[rng_next(&s) % 32];
        }
        checked += run_batch(batch, lanes, &s, ctx, "class40 mixed", c);
    }
    cr_log_info("class40_mixed_keys_and_exponents: %u lane results", checked);
    cr_assert_geq(checked, 5000);
    for (unsigned i = 0; i < 32; i++) {
        tkey_cleanup(&keys[i]);
    }
    BN_CTX_free(ctx);
}

/* Exponents as long as the modulus, odd and random, some lanes with e = 65537 beside them. */
Test(rsa_ifma, rsa2048_long_exponents)
{
    require_ifma();
    uint64_t s = 65537;
    BN_CTX *ctx = BN_CTX_new();
    static struct tkey keys[8];
    for (unsigned i = 0; i < 8; i++) {
        tkey_modulus(&keys[i], &s, 2048, 0);
        if (i % 2 == 0) {
            keys[i].e_len = 1 + rng_next(&s) % 256;
            rng_fill(&s, keys[i].e, keys[i].e_len);
            keys[i].e[keys[i].e_len - 1] |= 1;
        } else {
            tkey_exponent_u64(&keys[i], 65537);
        }
        tkey_finish(&keys[i]);
    }
    unsigned checked = 0;
    for (unsigned c = 0; c < 12; c++) {
        unsigned lanes = 1 + (c * 5) % KF_LANES;
        struct tkey *batch[KF_LANES];
        for (unsigned i = 0; i < lanes; i++) {
            batch[i] = &keys[(c + i) % 8];
        }
        checked += run_batch(batch, lanes, &s, ctx, "rsa2048 long e", c);
    }
    cr_log_info("rsa2048_long_exponents: %u lane results", checked);
    for (unsigned i = 0; i < 8; i++) {
        tkey_cleanup(&keys[i]);
    }
    BN_CTX_free(ctx);
}

/* ---- the other classes: 20, 60 and 80 limbs ------------------------------------------------ */

static void run_class(const unsigned *sizes, unsigned n_sizes, unsigned cases, uint64_t seed,
                      const char *what)
{
    uint64_t s = seed;
    BN_CTX *ctx = BN_CTX_new();
    static struct tkey keys[24];
    for (unsigned i = 0; i < 24; i++) {
        tkey_modulus(&keys[i], &s, sizes[i % n_sizes], (int)(i / n_sizes) % 3);
        tkey_random_exponent(&keys[i], &s);
        tkey_finish(&keys[i]);
        cr_assert_eq(kf_rsa_ifma_key_class(keys[i].k), kf_rsa_ifma_key_class(keys[0].k));
    }
    unsigned checked = 0;
    for (unsigned c = 0; c < cases; c++) {
        unsigned lanes = 1 + c % KF_LANES;
        struct tkey *batch[KF_LANES];
        for (unsigned i = 0; i < lanes; i++) {
            batch[i] = &keys[rng_next(&s) % 24];
        }
        checked += run_batch(batch, lanes, &s, ctx, what, c);
    }
    cr_log_info("%s: %u lane results", what, checked);
    for (unsigned i = 0; i < 24; i++) {
        tkey_cleanup(&keys[i]);
    }
    BN_CTX_free(ctx);
}

Test(rsa_ifma, class20_1024)
{
    require_ifma();
    static const unsigned sizes[] = { 1024, 1024, 1025, 1031, 1037, 1038 };
    run_class(sizes, 6, 1200, 1024, "class20");
}

Test(rsa_ifma, class60_3072)
{
    require_ifma();
    static const unsigned sizes[] = { 2079, 2560, 3071, 3072, 3072, 3117, 3118 };
    run_class(sizes, 7, 500, 3072, "class60");
}

Test(rsa_ifma, class80_4096)
{
    require_ifma();
    static const unsigned sizes[] = { 3119, 3584, 4095, 4096, 4096 };
    run_class(sizes, 5, 300, 4096, "class80");
}

/* ---- key_new: refusals and the class and size it reports ------------------------------------ */

struct key_case {
    unsigned bits;   /* modulus bit length (0: empty) */
    bool even;       /* clear the low bit */
    unsigned zeros;  /* leading zero bytes before n */
    uint64_t e;      /* public exponent, 8 bytes big-endian; 0 means e = 0 */
    size_t e_len;    /* bytes of e passed (0: empty) */
    unsigned class_; /* expected class, 0: NULL expected */
    const char *why;
};

static const struct key_case key_cases[] = {
    { 1023, false, 0, 65537, 8, 0, "below 1024 bits" },
    { 4097, false, 0, 65537, 8, 0, "above 4096 bits" },
    { 512, false, 0, 65537, 8, 0, "512 bits" },
    { 0, false, 0, 65537, 8, 0, "empty modulus" },
    { 2048, true, 0, 65537, 8, 0, "even modulus" },
    { 2048, false, 0, 0, 8, 0, "e = 0" },
    { 2048, false, 0, 65537, 0, 0, "empty e" },
    { 1023, false, 3, 65537, 8, 0, "1023 bits behind zero bytes" },
    { 1024, false, 0, 65537, 8, 20, "1024 bits" },
    { 1038, false, 0, 3, 8, 20, "1038 bits: 4n < 2^1040" },
    { 1039, false, 0, 3, 8, 40, "1039 bits: next class" },
    { 2048, false, 2, 65537, 8, 40, "2048 bits behind zero bytes" },
    { 2078, false, 0, 65537, 8, 40, "2078 bits" },
    { 2079, false, 0, 65537, 8, 60, "2079 bits" },
    { 3072, false, 0, 65537, 8, 60, "3072 bits" },
    { 3118, false, 0, 65537, 8, 60, "3118 bits" },
    { 3119, false, 0, 65537, 8, 80, "3119 bits" },
    { 4096, false, 1, 65537, 8, 80, "4096 bits" },
};

Test(rsa_ifma, key_new_sizes_and_refusals)
{
    require_ifma();
    uint64_t s = 7;
    for (size_t c = 0; c < sizeof(key_cases) / sizeof(key_cases[0]); c++) {
        const struct key_case *kc = &key_cases[c];
        uint8_t n[MAX_BYTES + 8] = { 0 };
        size_t n_len = 0;
        if (kc->bits > 0) {
            struct tkey t;
            tkey_modulus(&t, &s, kc->bits, 0);
            if (kc->even) {
                t.n[t.n_len - 1] &= 0xfe;
            }
            memcpy(n + kc->zeros, t.n, t.n_len);
            n_len = kc->zeros + t.n_len;
        }
        uint8_t e[8];
        for (int i = 0; i < 8; i++) {
            e[i] = (uint8_t)(kc->e >> (56 - 8 * i));
        }
        struct kf_rsa_ifma_key *k = kf_rsa_ifma_key_new(n, n_len, e, kc->e_len);
        if (kc->class_ == 0) {
            cr_expect_null(k, "%s: accepted", kc->why);
        } else {
            cr_assert_not_null(k, "%s: refused", kc->why);
            cr_expect_eq(kf_rsa_ifma_key_class(k), kc->class_, "%s: class %u", kc->why,
                         kf_rsa_ifma_key_class(k));
            cr_expect_eq(kf_rsa_ifma_key_bytes(k), (size_t)(kc->bits + 7) / 8, "%s: bytes",
                         kc->why);
        }
        kf_rsa_ifma_key_free(k);
    }
    kf_rsa_ifma_key_free(NULL);
}
