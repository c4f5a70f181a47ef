/* tests/unit/offload/test_rsa_ifma.c - offload/lanes/rsa_avx512ifma.c (STYLE.md s11, s14).
 *
 * Every lane result of kf_rsa_ifma_public is compared with OpenSSL's BN_mod_exp. Moduli are
 * random odd numbers of the exact bit length (Montgomery arithmetic needs only an odd modulus,
 * and random ones reach limb patterns real keys would too), including the largest and smallest
 * of each limb class, where the 4n < R margin is tightest. Inputs include 0, 1, n-1 and n-2;
 * exponents 1, 3, 65537, random odd ones up to 64 bits and a few as long as the modulus.
 * Batches use 1 .. 8 lanes and mix key sizes and exponents inside one call.
 *
 * kf_rsa_ifma_verify (which never produces x^e itself) is checked against BN on real keys of
 * every class: each lane's verdict must be BN's answer to "sig^e mod n == A + H".
 *
 * Cases come from a seeded PRNG (no clock), so a failure names a reproducible case. */
#include "offload/lanes/lanes.h"

#include <criterion/criterion.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
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
        /* Every fifth call has one key in all lanes (the kernel broadcasts it, no gathers). */
        unsigned one = c % 5 == 0 ? base + (unsigned)(rng_next(&s) % 8) : KF_LANES * 2;
        struct tkey *batch[KF_LANES];
        for (unsigned i = 0; i < lanes; i++) {
            batch[i] = &keys[one < 16 ? one : base + (unsigned)(rng_next(&s) % 8)];
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

/* ---- verification: kf_rsa_ifma_key_expect and kf_rsa_ifma_verify ----------------------------- */

/* A real RSA key (the verification checks need signatures, so d), with its kernel key. Its
 * encoding slots hold random bases A (top byte 0, as in PKCS#1, and the digest's bytes zero):
 * the kernel only needs A's shape, not PKCS#1's bytes, which the engine's tests check. */
struct vkey {
    BIGNUM *n, *e;      /* owned */
    EVP_PKEY_CTX *sign; /* owned: raw private operation (CRT), no padding */
    size_t n_len;
    uint8_t a[KF_RSA_IFMA_SLOTS][MAX_BYTES];
    struct kf_rsa_ifma_key *k; /* owned */
};

static const size_t slot_digest[KF_RSA_IFMA_SLOTS] = { 32, 64 };

static void vkey_make(struct vkey *v, unsigned bits, uint64_t e, uint64_t *s)
{
    EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    BIGNUM *be = BN_new();
    EVP_PKEY *pk = NULL;
    cr_assert(pc != NULL && be != NULL && BN_set_word(be, e) == 1);
    cr_assert(EVP_PKEY_keygen_init(pc) == 1);
    cr_assert(EVP_PKEY_CTX_set_rsa_keygen_bits(pc, (int)bits) == 1);
    cr_assert(EVP_PKEY_CTX_set1_rsa_keygen_pubexp(pc, be) == 1);
    cr_assert(EVP_PKEY_generate(pc, &pk) == 1, "RSA-%u keygen with e = %llu", bits,
              (unsigned long long)e);
    v->n = v->e = NULL;
    cr_assert(EVP_PKEY_get_bn_param(pk, "n", &v->n) == 1);
    cr_assert(EVP_PKEY_get_bn_param(pk, "e", &v->e) == 1);
    v->sign = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL);
    cr_assert(v->sign != NULL && EVP_PKEY_sign_init(v->sign) == 1);
    cr_assert(EVP_PKEY_CTX_set_rsa_padding(v->sign, RSA_NO_PADDING) == 1);
    EVP_PKEY_free(pk);
    EVP_PKEY_CTX_free(pc);
    BN_free(be);
    v->n_len = (size_t)BN_num_bytes(v->n);
    uint8_t nb[MAX_BYTES], eb[MAX_BYTES];
    cr_assert(BN_bn2binpad(v->n, nb, (int)v->n_len) == (int)v->n_len);
    int e_len = BN_bn2bin(v->e, eb);
    v->k = kf_rsa_ifma_key_new(nb, v->n_len, eb, (size_t)e_len);
    cr_assert_not_null(v->k);
    for (unsigned sl = 0; sl < KF_RSA_IFMA_SLOTS; sl++) {
        rng_fill(s, v->a[sl], v->n_len);
        v->a[sl][0] = 0;
        memset(v->a[sl] + v->n_len - slot_digest[sl], 0, slot_digest[sl]);
        cr_assert(kf_rsa_ifma_key_expect(v->k, sl, v->a[sl], v->n_len, slot_digest[sl]),
                  "slot %u of an RSA-%u key refused", sl, bits);
    }
}

static void vkey_cleanup(struct vkey *v)
{
    kf_rsa_ifma_key_free(v->k);
    BN_free(v->n);
    BN_free(v->e);
    EVP_PKEY_CTX_free(v->sign);
    memset(v, 0, sizeof(*v));
}

/* What one lane gets and what it should say. */
enum vcase { V_VALID, V_DIGEST_BIT, V_SIG_PLUS_ONE, V_OTHER_SLOT, V_ZERO_SIG, V_CASES };

/* One call over keys[0 .. lanes-1]: each lane a random case; the verdict expected is computed
 * with BN (sig^e mod n == A + H), never assumed from the case. Returns the lanes that were
 * valid. */
static unsigned run_verify(struct vkey *const *keys, unsigned lanes, uint64_t *s, BN_CTX *ctx,
                           unsigned case_no)
{
    static uint8_t sig_buf[KF_LANES][MAX_BYTES];
    static uint8_t dg_buf[KF_LANES][64];
    const struct kf_rsa_ifma_key *k[KF_LANES];
    const uint8_t *sig[KF_LANES], *dg[KF_LANES];
    unsigned slot[KF_LANES];
    uint8_t ok[KF_LANES];
    bool want[KF_LANES];
    BIGNUM *m = BN_new(), *x = BN_new(), *y = BN_new();
    cr_assert(m != NULL && x != NULL && y != NULL);
    for (unsigned i = 0; i < lanes; i++) {
        const struct vkey *v = keys[i];
        k[i] = v->k;
        sig[i] = sig_buf[i];
        dg[i] = dg_buf[i];
        slot[i] = (unsigned)(rng_next(s) % KF_RSA_IFMA_SLOTS);
        size_t dl = slot_digest[slot[i]];
        rng_fill(s, dg_buf[i], sizeof(dg_buf[i]));
        /* The signature of A + H under the lane's slot. */
        uint8_t em[MAX_BYTES];
        memcpy(em, v->a[slot[i]], v->n_len);
        memcpy(em + v->n_len - dl, dg_buf[i], dl);
        uint8_t raw[MAX_BYTES];
        size_t raw_len = sizeof(raw);
        cr_assert(EVP_PKEY_sign(v->sign, raw, &raw_len, em, v->n_len) == 1);
        cr_assert(raw_len == v->n_len && BN_bin2bn(raw, (int)raw_len, x) != NULL);
        enum vcase vc = (enum vcase)(rng_next(s) % V_CASES);
        switch (vc) {
        case V_DIGEST_BIT:
            dg_buf[i][rng_next(s) % dl] ^= (uint8_t)(1u << (rng_next(s) % 8));
            break;
        case V_SIG_PLUS_ONE:
            cr_assert(BN_add_word(x, 1) == 1);
            if (BN_cmp(x, v->n) >= 0) {
                BN_zero(x);
            }
            break;
        case V_OTHER_SLOT:
            slot[i] ^= 1;
            break;
        case V_ZERO_SIG:
            BN_zero(x);
            break;
        default:
            break;
        }
        cr_assert(BN_bn2binpad(x, sig_buf[i], (int)v->n_len) == (int)v->n_len);
        /* Expected: x^e mod n == A + H, A and H of the slot the lane asks for. */
        size_t dl2 = slot_digest[slot[i]];
        memcpy(em, v->a[slot[i]], v->n_len);
        memcpy(em + v->n_len - dl2, dg_buf[i], dl2);
        cr_assert(BN_bin2bn(em, (int)v->n_len, m) != NULL);
        cr_assert(BN_mod_exp(y, x, v->e, v->n, ctx) == 1);
        want[i] = BN_cmp(y, m) == 0;
        cr_assert(vc != V_VALID || want[i], "case %u lane %u: a signature that cannot verify",
                  case_no, i);
    }
    memset(ok, 0xee, sizeof(ok));
    kf_rsa_ifma_verify(k, sig, slot, dg, lanes, ok);
    unsigned valid = 0;
    for (unsigned i = 0; i < lanes; i++) {
        cr_assert(ok[i] == 0 || ok[i] == 1, "case %u lane %u: ok = %u", case_no, i, ok[i]);
        cr_assert_eq(ok[i] == 1, want[i], "case %u: lane %u of %u (RSA-%d, slot %u) says %s",
                     case_no, i, lanes, BN_num_bits(keys[i]->n), slot[i],
                     ok[i] ? "valid" : "invalid");
        valid += want[i];
    }
    for (unsigned i = lanes; i < KF_LANES; i++) {
        cr_assert_eq(ok[i], 0xee, "case %u: spare lane %u was written", case_no, i);
    }
    BN_free(m);
    BN_free(x);
    BN_free(y);
    return valid;
}

/* Every class, exponents 3, 65537 and a 33-bit one mixed in one call (classes 20 and 40),
 * both slots (digests of 5
 * and 10 limbs) mixed in one call, 1 .. 8 lanes; about a fifth of the lanes valid. */
Test(rsa_ifma, verify_against_bn, .timeout = 120)
{
    require_ifma();
    uint64_t s = 8017;
    BN_CTX *ctx = BN_CTX_new();
    static const unsigned bits[] = { 1024, 2048, 3072, 4096 };
    static const uint64_t exps[] = { 65537, 3, 0x1c0ffee01u };
    /* Key generation is most of this test's time: three exponents in the two smaller
     * classes, one key in each larger one. */
    static const unsigned n_keys[] = { 3, 3, 1, 1 };
    static struct vkey keys[4][3];
    unsigned total = 0, valid = 0;
    for (unsigned c = 0; c < 4; c++) {
        for (unsigned j = 0; j < n_keys[c]; j++) {
            vkey_make(&keys[c][j], bits[c], exps[(j + c) % 3], &s);
        }
        static const unsigned n_cases[] = { 300, 500, 100, 60 };
        unsigned cases = n_cases[c];
        for (unsigned n = 0; n < cases; n++) {
            unsigned lanes = 1 + n % KF_LANES;
            struct vkey *batch[KF_LANES];
            /* Every fourth call: one key in all lanes (broadcast instead of gathers). */
            uint64_t one = n % 4 == 0 ? rng_next(&s) % n_keys[c] : UINT64_MAX;
            for (unsigned i = 0; i < lanes; i++) {
                batch[i] = &keys[c][one != UINT64_MAX ? one : rng_next(&s) % n_keys[c]];
            }
            valid += run_verify(batch, lanes, &s, ctx, c * 1000 + n);
            total += lanes;
        }
        for (unsigned j = 0; j < n_keys[c]; j++) {
            vkey_cleanup(&keys[c][j]);
        }
    }
    cr_log_info("verify_against_bn: %u lanes, %u valid", total, valid);
    cr_assert_geq(valid, total / 8);
    cr_assert_leq(valid, total / 3);
    BN_CTX_free(ctx);
}

/* A random 2048-bit modulus with e = 65537, from @p seed. */
static void tkey_2048_f4(struct tkey *t, uint64_t seed)
{
    uint64_t s = seed;
    tkey_modulus(t, &s, 2048, 0);
    tkey_exponent_u64(t, 65537);
    tkey_finish(t);
}

/* A slot that was never set matches nothing, not even the all-zero encoding: signature 0 with
 * an all-zero digest would otherwise compare 0 with 0. */
Test(rsa_ifma, verify_unset_slot_is_never_valid)
{
    require_ifma();
    struct tkey t;
    tkey_2048_f4(&t, 11);
    uint8_t zero_sig[MAX_BYTES] = { 0 };
    uint8_t zero_dg[64] = { 0 };
    const struct kf_rsa_ifma_key *k[1] = { t.k };
    const uint8_t *sig[1] = { zero_sig }, *dg[1] = { zero_dg };
    for (unsigned sl = 0; sl < KF_RSA_IFMA_SLOTS; sl++) {
        unsigned slot[1] = { sl };
        uint8_t ok[1] = { 0xee };
        kf_rsa_ifma_verify(k, sig, slot, dg, 1, ok);
        cr_expect_eq(ok[0], 0, "slot %u never set, said valid", sl);
    }
    /* Set, with A = 0: now signature 0 and digest 0 are the encoding 0. */
    uint8_t a[MAX_BYTES] = { 0 };
    cr_assert(kf_rsa_ifma_key_expect(t.k, 0, a, t.n_len, 32));
    unsigned slot[1] = { 0 };
    uint8_t ok[1] = { 0xee };
    kf_rsa_ifma_verify(k, sig, slot, dg, 1, ok);
    cr_expect_eq(ok[0], 1, "slot 0 set to A = 0: signature 0 of digest 0 must verify");
    tkey_cleanup(&t);
}

/* kf_rsa_ifma_key_expect's refusals, each beside the nearest accepted case. */
Test(rsa_ifma, key_expect_refusals)
{
    require_ifma();
    struct tkey t;
    tkey_2048_f4(&t, 12);
    const size_t len = t.n_len;
    uint8_t a[MAX_BYTES];
    /* A = n with its low 32 bytes cleared: A + 2^256 > n, an encoding could reach n. */
    memcpy(a, t.n, len);
    memset(a + len - 32, 0, 32);
    cr_expect_not(kf_rsa_ifma_key_expect(t.k, 0, a, len, 32), "A + 2^256 > n accepted");
    /* One step of 2^256 lower: A + 2^256 <= n, accepted. */
    size_t i = len - 33;
    while (a[i] == 0) {
        a[i--] = 0xff;
    }
    a[i]--;
    cr_expect(kf_rsa_ifma_key_expect(t.k, 0, a, len, 32), "A + 2^256 <= n refused");
    memset(a, 0, sizeof(a));
    a[1] = 1;
    cr_expect(kf_rsa_ifma_key_expect(t.k, 1, a, len, 64));
    cr_expect_not(kf_rsa_ifma_key_expect(t.k, 2, a, len, 64), "slot 2 accepted");
    cr_expect_not(kf_rsa_ifma_key_expect(t.k, 1, a, len - 1, 64), "short encoding accepted");
    cr_expect_not(kf_rsa_ifma_key_expect(t.k, 1, a, len, 0), "empty digest accepted");
    cr_expect_not(kf_rsa_ifma_key_expect(t.k, 1, a, len, 66), "66-byte digest accepted");
    cr_expect(kf_rsa_ifma_key_expect(t.k, 1, a, len, 65), "65-byte digest (520 bits) refused");
    a[len - 64] = 1;
    cr_expect_not(kf_rsa_ifma_key_expect(t.k, 1, a, len, 64), "non-zero digest bytes accepted");
    tkey_cleanup(&t);
}
