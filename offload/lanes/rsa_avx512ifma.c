/* offload/lanes/rsa_avx512ifma.c - multi-buffer RSA public operation with AVX-512 IFMA.
 *
 * Eight independent modular exponentiations run side by side: vector j holds limb j (52 bits in
 * a 64-bit lane) of eight numbers, one per lane, so no instruction ever mixes lanes. Products
 * come from vpmadd52luq/vpmadd52huq (low and high 52 bits of a 52x52-bit product, added to a
 * 64-bit accumulator), after Gueron and Krasnov, "Accelerating big integer arithmetic using
 * Intel IFMA extensions" (ARITH 2016); squaring computes each cross product once and doubles,
 * as in Drucker and Gueron, "Fast modular squaring with AVX512IFMA" (2019).
 *
 * Montgomery arithmetic with R = 2^(52 L), L limbs per number. Every modulus the kernel accepts
 * has 4n < R, so products of values below 2n reduce to values below 2n without a subtraction
 * (the bound is at rsa_reduce); one conditional subtraction at the end gives the result < n.
 *
 * Exponentiation skips the conversion into and out of Montgomery form: squaring or multiplying
 * by x (not converted) keeps the accumulator equal to x^k R^-(k-1), so after the last exponent
 * bit it is x^e R^-(e-1), and one Montgomery multiplication by c = R^e mod n (per key,
 * computed once in kf_rsa_ifma_key_new) gives x^e. That saves one multiplication per call.
 *
 * Verification (kf_rsa_ifma_verify) skips that last multiplication too: it checks
 * x^e R^-(e-1) against EM G, G = R^-(e-1) mod n, instead of x^e against EM. A PKCS#1 v1.5
 * encoding EM is a constant A per key size and hash plus the digest H in its low bytes, so
 * EM G = A G + H G: A G is computed once per key and hash, and H G costs a product of the
 * digest's few limbs by G and a Montgomery reduction of as many words (Montgomery's own trick,
 * with G premultiplied by the 2^(52 h) it divides out). That is about an eighth of a full
 * multiplication, and there is no conversion back to bytes and no byte compare.
 *
 * All inputs are public (lanes.h), so the code branches on exponent bits and lane masks.
 */
#include "offload/lanes/lanes.h"

#include <immintrin.h>
#include <openssl/bn.h>
#include <stdlib.h>
#include <string.h>

#define RSA_LIMB_BITS 52
#define RSA_LIMB_MASK ((UINT64_C(1) << RSA_LIMB_BITS) - 1)
/* Limb counts of the four classes: up to 1038, 2078, 3118 and 4158-bit moduli (4n < R). */
#define RSA_MAX_LIMBS 80
#define RSA_MIN_BITS 1024
#define RSA_MAX_BITS 4096
/* Digest limbs of verification: SHA-256 (256 bits) fits 5 limbs, SHA-512 10. */
#define RSA_H_SMALL 5
#define RSA_H_LARGE 10

struct kf_rsa_ifma_key {
    unsigned limbs; /* the class: 20, 40, 60 or 80 */
    size_t bytes;   /* RSA_size */
    uint64_t k0;    /* -n^-1 mod 2^52 */
    uint64_t n[RSA_MAX_LIMBS];
    uint64_t c[RSA_MAX_LIMBS]; /* R^e mod n, see the file comment */
    /* Verification (file comment): G 2^(52 h) mod n for h = RSA_H_SMALL and RSA_H_LARGE digest
     * limbs, and per encoding slot A G mod n and the digest length. */
    uint64_t gh[2][RSA_MAX_LIMBS];
    uint64_t ag[KF_RSA_IFMA_SLOTS][RSA_MAX_LIMBS];
    size_t slot_digest[KF_RSA_IFMA_SLOTS]; /* 0: slot not set */
    BIGNUM *g;                             /* G = R^-(e-1) mod n, for kf_rsa_ifma_key_expect */
    BIGNUM *n_bn;
    size_t e_bits; /* bit length of e, >= 1 */
    uint64_t e[];  /* e, little-endian 64-bit words */
};

/* The per-call modulus, lane-sliced. */
struct rsa_lanes_mod {
    __m512i n[RSA_MAX_LIMBS];
    __m512i k0;
};

/* ---- byte <-> limb conversion (scalar, one lane) ----------------------------------------- */

/* This file only builds for x86-64 (AVX-512), so host byte order is little-endian. */
static uint64_t rsa_load_be64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof(v));
    return __builtin_bswap64(v);
}

/* Big-endian @p in (@p len <= RSA_MAX_BITS / 8 bytes, value < 2^(52 limbs)) to @p limbs
 * 52-bit limbs. Limb j starts at bit 52 j, inside the 64 bits that end at the byte holding
 * that bit; eight zero bytes in front of the copy serve the top limbs. */
static void rsa_bytes_to_limbs(uint64_t *out, unsigned limbs, const uint8_t *in, size_t len)
{
    uint8_t pad[8 + RSA_MAX_BITS / 8];
    memset(pad, 0, 8);
    memcpy(pad + 8, in, len);
    for (unsigned j = 0; j < limbs; j++) {
        size_t bit = (size_t)j * RSA_LIMB_BITS;
        if (bit >= 8 * len) {
            out[j] = 0;
            continue;
        }
        const uint8_t *last = pad + 8 + len - 1 - bit / 8;
        out[j] = (rsa_load_be64(last - 7) >> (bit % 8)) & RSA_LIMB_MASK;
    }
}

/* Fully carried limbs (each < 2^52, value < 2^(8 len)) to @p len big-endian bytes. */
static void rsa_limbs_to_bytes(uint8_t *out, size_t len, const uint64_t *in, unsigned limbs)
{
    uint64_t words[RSA_MAX_LIMBS * RSA_LIMB_BITS / 64 + 1] = { 0 };
    for (unsigned j = 0; j < limbs; j++) {
        unsigned bit = j * RSA_LIMB_BITS;
        words[bit / 64] |= in[j] << (bit % 64);
        if (bit % 64 > 64 - RSA_LIMB_BITS) {
            words[bit / 64 + 1] |= in[j] >> (64 - bit % 64);
        }
    }
    /* Whole words from the end of @p out, then the few bytes left at its start. */
    size_t w = 0;
    for (; 8 * (w + 1) <= len; w++) {
        uint64_t be = __builtin_bswap64(words[w]);
        memcpy(out + len - 8 * (w + 1), &be, sizeof(be));
    }
    for (size_t i = 0; i < len - 8 * w; i++) {
        size_t b = len - 1 - i; /* byte b of the little-endian value */
        out[i] = (uint8_t)(words[b / 8] >> (8 * (b % 8)));
    }
}

/* ---- Montgomery arithmetic on eight lanes ------------------------------------------------ */

/* The generic routines below take the limb count L and the block height K as arguments; they
 * are always_inline so that each wrapper (rsa_mul_40 ...) constant-folds L and K: the k loops
 * then unroll and the K block limbs live in registers instead of an indexed stack array. */
#define RSA_INLINE static inline __attribute__((always_inline))
/* K, the number of limbs of one operand held in registers while the other streams past. */
#define RSA_MAX_K 10

/* One output column c of the block product (a_0 .. a_{K-1}) x (b_0 .. b_{M-1}), added to acc:
 * low halves of a_k b_{c-k} for k in [lo0, lo1], high halves of a_k b_{c-1-k} for k in
 * [hi0, hi1]. Two accumulators halve the dependency chain through vpmadd52 (latency 4). */
RSA_INLINE __m512i rsa_column(__m512i acc, const __m512i *a, const __m512i *b, int c, int lo0,
                              int lo1, int hi0, int hi1)
{
    __m512i hi = _mm512_setzero_si512();
#pragma GCC unroll 16
    for (int k = lo0; k <= lo1; k++) {
        acc = _mm512_madd52lo_epu64(acc, a[k], b[c - k]);
    }
#pragma GCC unroll 16
    for (int k = hi0; k <= hi1; k++) {
        hi = _mm512_madd52hi_epu64(hi, a[k], b[c - 1 - k]);
    }
    return _mm512_add_epi64(acc, hi);
}

/* t[c] += columns c = K .. K+M-1 of the block product (a_0 .. a_{K-1}) x (b_0 .. b_{M-1}),
 * M >= K. Columns below K are the head (see rsa_rect), the middle ones take all K limbs of a,
 * the last K columns are the tail, where a_k runs out of b first. @p fresh_mid and
 * @p fresh_tail say that those columns of t were never written: they are then set, not added
 * to, which spares zeroing t first (about 2% of a squaring). Both are constants at every call,
 * so the choice folds away. */
RSA_INLINE void rsa_rect_from_k(__m512i *t, const __m512i *a, const __m512i *b, int m, int kk,
                                bool fresh_mid, bool fresh_tail)
{
    const __m512i zero = _mm512_setzero_si512();
    for (int c = kk; c < m; c++) {
        t[c] = rsa_column(fresh_mid ? zero : t[c], a, b, c, 0, kk - 1, 0, kk - 1);
    }
#pragma GCC unroll 16
    for (int d = 0; d < kk; d++) {
        int c = m + d;
        t[c] = rsa_column(fresh_tail ? zero : t[c], a, b, c, d + 1, kk - 1, d, kk - 1);
    }
}

/* t[c] += columns c = 0 .. K+M-1 of the block product; @p fresh: all of them were never
 * written, @p fresh_tail: the last K were not (rsa_rect_from_k). */
RSA_INLINE void rsa_rect(__m512i *t, const __m512i *a, const __m512i *b, int m, int kk, bool fresh,
                         bool fresh_tail)
{
    const __m512i zero = _mm512_setzero_si512();
#pragma GCC unroll 16
    for (int c = 0; c < kk; c++) {
        t[c] = rsa_column(fresh ? zero : t[c], a, b, c, 0, c, 0, c - 1);
    }
    rsa_rect_from_k(t, a, b, m, kk, fresh, fresh || fresh_tail);
}

/* The head of one reduction block: m_0 .. m_{K-1} for the K columns at tb, where m_k =
 * t_k k0 mod 2^52 needs column k complete, so it is a serial chain. It keeps the K columns in
 * registers and adds each m_k's share to all of them as soon as m_k is known, so the next
 * column waits for one product, not for a sum. The carry out of column k is
 * (t_k + (m_k n_0 mod 2^52)) >> 52; that sum is the next multiple of 2^52 from t_k, so the
 * carry is (t_k + 2^52 - 1) >> 52 and does not wait for m_k. The last carry goes to tb[K]. */
RSA_INLINE void rsa_reduce_head(__m512i *m, __m512i *tb, const struct rsa_lanes_mod *mod, int kk)
{
    const __m512i mask = _mm512_set1_epi64((long long)RSA_LIMB_MASK);
    const __m512i zero = _mm512_setzero_si512();
    __m512i h[RSA_MAX_K];
#pragma GCC unroll 16
    for (int c = 0; c < kk; c++) {
        h[c] = tb[c];
    }
#pragma GCC unroll 16
    for (int k = 0; k < kk; k++) {
        m[k] = _mm512_madd52lo_epu64(zero, h[k], mod->k0);
        __m512i carry = _mm512_srli_epi64(_mm512_add_epi64(h[k], mask), RSA_LIMB_BITS);
        if (k + 1 == kk) {
            tb[kk] = _mm512_add_epi64(tb[kk], carry);
            break;
        }
        /* Column k + 1 is next in the chain: two products side by side. */
        __m512i lo = _mm512_madd52lo_epu64(_mm512_add_epi64(h[k + 1], carry), m[k], mod->n[1]);
        __m512i hi = _mm512_madd52hi_epu64(zero, m[k], mod->n[0]);
        h[k + 1] = _mm512_add_epi64(lo, hi);
#pragma GCC unroll 16
        for (int c = k + 2; c < kk; c++) {
            h[c] = _mm512_madd52lo_epu64(h[c], m[k], mod->n[c - k]);
            h[c] = _mm512_madd52hi_epu64(h[c], m[k], mod->n[c - 1 - k]);
        }
    }
}

/* r[0 .. l-1] = t[0 .. l-1] with the carries of each column moved up; the value must be below
 * 2^(52 l). */
RSA_INLINE void rsa_carry(__m512i *r, const __m512i *t, int l)
{
    const __m512i mask = _mm512_set1_epi64((long long)RSA_LIMB_MASK);
    __m512i carry = _mm512_setzero_si512();
    for (int j = 0; j < l; j++) {
        __m512i v = _mm512_add_epi64(t[j], carry);
        r[j] = _mm512_and_si512(v, mask);
        carry = _mm512_srli_epi64(v, RSA_LIMB_BITS);
    }
}

/* r = t / R mod n, r < 2n, for t < 2n * 2n (4n < R keeps r < 2n: t/R + n < 4n^2/R + n).
 * Word-by-word Montgomery reduction, K words at a time: each block's head (above) finds its
 * K words m, then m times n is added like a block product. Columns below L are only kept for
 * their carries. Column sums stay below 2^64: at most 4L + 2 terms < 2^52. */
RSA_INLINE void rsa_reduce(__m512i *r, __m512i *t, const struct rsa_lanes_mod *mod, int l, int kk)
{
    __m512i m[RSA_MAX_K];
    for (int i0 = 0; i0 < l; i0 += kk) {
        __m512i *tb = t + i0;
        rsa_reduce_head(m, tb, mod, kk);
        rsa_rect_from_k(tb, m, mod->n, l, kk, false, false);
    }
    /* The upper half is < 2n < R, so no carry is left over. */
    rsa_carry(r, t + l, l);
}

/* r = a b / R mod n; a, b < 2n in 52-bit limbs; r may alias a or b. */
RSA_INLINE void rsa_mont_mul(__m512i *r, const __m512i *a, const __m512i *b,
                             const struct rsa_lanes_mod *mod, int l, int kk)
{
    __m512i t[2 * RSA_MAX_LIMBS];
    __m512i blk[RSA_MAX_K];
    /* Block i0 writes columns i0 .. i0+L+K-1: block 0 sets all of its own, each later one
     * sets its last K (the columns above the blocks before it). */
    for (int i0 = 0; i0 < l; i0 += kk) {
#pragma GCC unroll 16
        for (int k = 0; k < kk; k++) {
            blk[k] = a[i0 + k];
        }
        if (i0 == 0) {
            rsa_rect(t, blk, b, l, kk, true, true);
        } else {
            rsa_rect(t + i0, blk, b, l, kk, false, true);
        }
    }
    rsa_reduce(r, t, mod, l, kk);
}

/* Which block of a squaring rsa_sqr_block does: the columns it may set rather than add to
 * differ (see there). */
enum rsa_sqr_part { RSA_SQR_FIRST, RSA_SQR_MIDDLE, RSA_SQR_LAST };

/* The cross products a_i a_j, i < j, of block i0 (i = i0 .. i0+K-1) into t: with every limb
 * above the block (a block product at column 2 i0 + K, not for the last block), then inside the
 * block, column by column. Block i0 writes columns 2 i0 + 1 .. i0 + L + K - 1, and the blocks
 * before it reached i0 + L - 1: so the first block sets every column it writes, a middle one
 * sets its product's last K, and the last one sets its columns from 2L - K up. */
RSA_INLINE void rsa_sqr_block(__m512i *t, const __m512i *a, int i0, int l, int kk,
                              enum rsa_sqr_part part)
{
    const __m512i zero = _mm512_setzero_si512();
    __m512i blk[RSA_MAX_K];
#pragma GCC unroll 16
    for (int k = 0; k < kk; k++) {
        blk[k] = a[i0 + k];
    }
    if (part != RSA_SQR_LAST) {
        rsa_rect(t + 2 * i0 + kk, blk, a + i0 + kk, l - i0 - kk, kk, part == RSA_SQR_FIRST, true);
    }
#pragma GCC unroll 32
    for (int c = 1; c <= 2 * kk - 2; c++) {
        bool fresh = (part == RSA_SQR_FIRST && c < kk) || (part == RSA_SQR_LAST && c >= kk);
        __m512i lo = fresh ? zero : t[2 * i0 + c];
        __m512i hi = zero;
#pragma GCC unroll 16
        for (int k = 0; k < kk; k++) {
            if (k < c - k && c - k < kk) {
                lo = _mm512_madd52lo_epu64(lo, blk[k], blk[c - k]);
            }
            if (k < c - 1 - k && c - 1 - k < kk) {
                hi = _mm512_madd52hi_epu64(hi, blk[k], blk[c - 1 - k]);
            }
        }
        t[2 * i0 + c] = _mm512_add_epi64(lo, hi);
    }
}

/* r = a^2 / R mod n; a < 2n in 52-bit limbs; r may alias a. The cross products a_i a_j, i < j,
 * are summed once, doubled, and the squares a_i^2 added. Needs L >= 2K. */
RSA_INLINE void rsa_mont_sqr(__m512i *r, const __m512i *a, const struct rsa_lanes_mod *mod, int l,
                             int kk)
{
    __m512i t[2 * RSA_MAX_LIMBS];
    rsa_sqr_block(t, a, 0, l, kk, RSA_SQR_FIRST);
    for (int i0 = kk; i0 < l - kk; i0 += kk) {
        rsa_sqr_block(t, a, i0, l, kk, RSA_SQR_MIDDLE);
    }
    rsa_sqr_block(t, a, l - kk, l, kk, RSA_SQR_LAST);
    /* Columns 0 and 2L - 1 hold only a square's halves. */
    t[0] = _mm512_setzero_si512();
    t[2 * l - 1] = _mm512_setzero_si512();
    for (int i = 0; i < l; i++) {
        __m512i lo = _mm512_slli_epi64(t[2 * i], 1);
        __m512i hi = _mm512_slli_epi64(t[2 * i + 1], 1);
        t[2 * i] = _mm512_madd52lo_epu64(lo, a[i], a[i]);
        t[2 * i + 1] = _mm512_madd52hi_epu64(hi, a[i], a[i]);
    }
    rsa_reduce(r, t, mod, l, kk);
}

/* r = h g / 2^(52 H) mod n, r < 2n, for h of H limbs (H in 1 .. RSA_MAX_K, H | L) and g < n:
 * the product of a short number by a long one, then H words of Montgomery reduction.
 * h g + m n < 2^(52 H) n + 2^(52 H) n, so r < 2n. */
RSA_INLINE void rsa_mont_short(__m512i *r, const __m512i *h, const __m512i *g,
                               const struct rsa_lanes_mod *mod, int l, int hl)
{
    __m512i t[RSA_MAX_LIMBS + RSA_MAX_K];
    __m512i m[RSA_MAX_K];
    rsa_rect(t, h, g, l, hl, true, true);
    rsa_reduce_head(m, t, mod, hl);
    rsa_rect_from_k(t, m, mod->n, l, hl, false, false);
    rsa_carry(r, t + hl, l);
}

/* One instance per class; noinline keeps one copy of each (they are the hot loops). K = 4 was
 * the fastest of 4, 5, 8 and 10 for every class (gcc 12, Zen 4); the blocks need K | L. */
#define RSA_CLASS_FUNCS(L, K)                                                                      \
    _Static_assert((L) % (K) == 0 && (K) <= RSA_MAX_K, "K must divide L");                         \
    static __attribute__((noinline)) void rsa_mul_##L(                                             \
        __m512i *r, const __m512i *a, const __m512i *b, const struct rsa_lanes_mod *mod)           \
    {                                                                                              \
        rsa_mont_mul(r, a, b, mod, L, K);                                                          \
    }                                                                                              \
    static __attribute__((noinline)) void rsa_sqr_##L(__m512i *r, const __m512i *a,                \
                                                      const struct rsa_lanes_mod *mod)             \
    {                                                                                              \
        rsa_mont_sqr(r, a, mod, L, K);                                                             \
    }                                                                                              \
    static __attribute__((noinline)) void rsa_hg_##L(                                              \
        __m512i *r, const __m512i *h, int hl, const __m512i *g, const struct rsa_lanes_mod *mod)   \
    {                                                                                              \
        if (hl == RSA_H_SMALL) {                                                                   \
            rsa_mont_short(r, h, g, mod, L, RSA_H_SMALL);                                          \
        } else {                                                                                   \
            rsa_mont_short(r, h, g, mod, L, RSA_H_LARGE);                                          \
        }                                                                                          \
    }

RSA_CLASS_FUNCS(20, 4)
RSA_CLASS_FUNCS(40, 4)
RSA_CLASS_FUNCS(60, 4)
RSA_CLASS_FUNCS(80, 4)

struct rsa_class_ops {
    unsigned limbs;
    void (*mul)(__m512i *r, const __m512i *a, const __m512i *b, const struct rsa_lanes_mod *mod);
    void (*sqr)(__m512i *r, const __m512i *a, const struct rsa_lanes_mod *mod);
    void (*hg)(__m512i *r, const __m512i *h, int hl, const __m512i *g,
               const struct rsa_lanes_mod *mod);
};

static const struct rsa_class_ops rsa_classes[] = {
    { 20, rsa_mul_20, rsa_sqr_20, rsa_hg_20 },
    { 40, rsa_mul_40, rsa_sqr_40, rsa_hg_40 },
    { 60, rsa_mul_60, rsa_sqr_60, rsa_hg_60 },
    { 80, rsa_mul_80, rsa_sqr_80, rsa_hg_80 },
};

/* ---- keys --------------------------------------------------------------------------------- */

/* -n0^-1 mod 2^52 by Newton iteration (each step doubles the correct low bits: 3, 6, ... 96). */
static uint64_t rsa_k0(uint64_t n0)
{
    uint64_t inv = n0; /* n0 * n0 = 1 mod 8 for odd n0 */
    for (int i = 0; i < 5; i++) {
        inv *= 2 - n0 * inv;
    }
    return (0 - inv) & RSA_LIMB_MASK;
}

/* @p v (0 <= v < n) to the key's limbs. */
static bool rsa_bn_to_limbs(const struct kf_rsa_ifma_key *k, const BIGNUM *v, uint64_t *out)
{
    uint8_t buf[RSA_MAX_BITS / 8];
    if (BN_bn2binpad(v, buf, (int)k->bytes) < 0) {
        return false;
    }
    rsa_bytes_to_limbs(out, k->limbs, buf, k->bytes);
    return true;
}

static bool rsa_key_precompute(struct kf_rsa_ifma_key *k, const BIGNUM *n, const BIGNUM *e)
{
    BN_CTX *ctx = BN_CTX_new();
    BIGNUM *r = BN_new();
    BIGNUM *c = BN_new();
    BIGNUM *e1 = BN_dup(e);
    BIGNUM *t = BN_new();
    k->g = BN_new();
    bool ok = false;
    if (ctx == NULL || r == NULL || c == NULL || e1 == NULL || t == NULL || k->g == NULL) {
        goto out;
    }
    /* r = R mod n; c = r^e mod n */
    if (BN_set_bit(r, (int)(k->limbs * RSA_LIMB_BITS)) != 1 || BN_mod(r, r, n, ctx) != 1 ||
        BN_mod_exp(c, r, e, n, ctx) != 1 || !rsa_bn_to_limbs(k, c, k->c) ||
        !rsa_bn_to_limbs(k, n, k->n)) {
        goto out;
    }
    /* G = (R^-1)^(e-1) mod n; gh[i] = G 2^(52 h) mod n for h = RSA_H_SMALL, RSA_H_LARGE. */
    if (BN_mod_inverse(t, r, n, ctx) == NULL || BN_sub_word(e1, 1) != 1 ||
        BN_mod_exp(k->g, t, e1, n, ctx) != 1) {
        goto out;
    }
    static const int h_bits[2] = { RSA_H_SMALL * RSA_LIMB_BITS, RSA_H_LARGE * RSA_LIMB_BITS };
    for (int i = 0; i < 2; i++) {
        if (BN_lshift(t, k->g, h_bits[i]) != 1 || BN_mod(t, t, n, ctx) != 1 ||
            !rsa_bn_to_limbs(k, t, k->gh[i])) {
            goto out;
        }
    }
    k->k0 = rsa_k0(k->n[0]);
    ok = true;
out:
    BN_free(r);
    BN_free(c);
    BN_free(e1);
    BN_free(t);
    BN_CTX_free(ctx);
    return ok;
}

struct kf_rsa_ifma_key *kf_rsa_ifma_key_new(const uint8_t *n, size_t n_len, const uint8_t *e,
                                            size_t e_len)
{
    while (n_len > 0 && n[0] == 0) {
        n++;
        n_len--;
    }
    while (e_len > 0 && e[0] == 0) {
        e++;
        e_len--;
    }
    if (n_len < RSA_MIN_BITS / 8 || n_len > RSA_MAX_BITS / 8 || e_len == 0 ||
        (n[n_len - 1] & 1) == 0 || e_len > (INT32_MAX - 7) / 8) {
        return NULL;
    }
    size_t bits = 8 * n_len - (size_t)__builtin_clz(n[0]) + 24; /* clz of a byte in an int */
    if (bits < RSA_MIN_BITS) {
        return NULL;
    }
    unsigned limbs = 0;
    for (size_t i = 0; i < sizeof(rsa_classes) / sizeof(rsa_classes[0]); i++) {
        /* 4n < R: two spare bits above the modulus. */
        if (bits + 2 <= rsa_classes[i].limbs * RSA_LIMB_BITS) {
            limbs = rsa_classes[i].limbs;
            break;
        }
    }
    size_t e_words = (e_len + 7) / 8;
    struct kf_rsa_ifma_key *ret = NULL;
    struct kf_rsa_ifma_key *k = calloc(1, sizeof(*k) + e_words * sizeof(uint64_t));
    BIGNUM *bn_n = BN_bin2bn(n, (int)n_len, NULL);
    BIGNUM *bn_e = BN_bin2bn(e, (int)e_len, NULL);
    if (k == NULL || bn_n == NULL || bn_e == NULL) {
        goto out;
    }
    k->limbs = limbs;
    k->bytes = n_len;
    for (size_t i = 0; i < e_len; i++) {
        k->e[i / 8] |= (uint64_t)e[e_len - 1 - i] << (8 * (i % 8));
    }
    k->e_bits = 8 * e_len - (size_t)__builtin_clz(e[0]) + 24;
    k->n_bn = bn_n;
    bn_n = NULL;
    if (rsa_key_precompute(k, k->n_bn, bn_e)) {
        ret = k;
        k = NULL;
    }
out:
    BN_free(bn_n);
    BN_free(bn_e);
    kf_rsa_ifma_key_free(k);
    return ret;
}

bool kf_rsa_ifma_key_expect(struct kf_rsa_ifma_key *k, unsigned slot, const uint8_t *em0,
                            size_t em_len, size_t digest_len)
{
    if (slot >= KF_RSA_IFMA_SLOTS || em_len != k->bytes || digest_len == 0 ||
        8 * digest_len > RSA_H_LARGE * RSA_LIMB_BITS || digest_len >= em_len) {
        return false;
    }
    for (size_t i = em_len - digest_len; i < em_len; i++) {
        if (em0[i] != 0) {
            return false;
        }
    }
    BN_CTX *ctx = BN_CTX_new();
    BIGNUM *a = BN_bin2bn(em0, (int)em_len, NULL);
    BIGNUM *top = BN_new();
    bool ok = false;
    /* A + 2^(8 digest_len) <= n: every encoding from A is below n, so congruence mod n is
     * equality. */
    if (ctx != NULL && a != NULL && top != NULL &&
        BN_lshift(top, BN_value_one(), 8 * (int)digest_len) == 1 && BN_add(top, top, a) == 1 &&
        BN_cmp(top, k->n_bn) <= 0 && BN_mod_mul(a, a, k->g, k->n_bn, ctx) == 1 &&
        rsa_bn_to_limbs(k, a, k->ag[slot])) {
        k->slot_digest[slot] = digest_len;
        ok = true;
    }
    BN_free(a);
    BN_free(top);
    BN_CTX_free(ctx);
    return ok;
}

void kf_rsa_ifma_key_free(struct kf_rsa_ifma_key *k)
{
    if (k != NULL) {
        BN_free(k->g);
        BN_free(k->n_bn);
        free(k);
    }
}

unsigned kf_rsa_ifma_key_class(const struct kf_rsa_ifma_key *k)
{
    return k->limbs;
}

size_t kf_rsa_ifma_key_bytes(const struct kf_rsa_ifma_key *k)
{
    return k->bytes;
}

/* ---- the public operation ----------------------------------------------------------------- */

static unsigned rsa_e_bit(const struct kf_rsa_ifma_key *k, size_t pos)
{
    return (unsigned)(k->e[pos / 64] >> (pos % 64)) & 1;
}

/* a < 2n to a mod n: subtract n, keep the difference in lanes where it did not borrow. */
static void rsa_final_sub(__m512i *a, const struct rsa_lanes_mod *mod, unsigned l)
{
    const __m512i mask = _mm512_set1_epi64((long long)RSA_LIMB_MASK);
    __m512i d[RSA_MAX_LIMBS];
    __m512i borrow = _mm512_setzero_si512();
    for (unsigned j = 0; j < l; j++) {
        __m512i v = _mm512_sub_epi64(_mm512_sub_epi64(a[j], mod->n[j]), borrow);
        d[j] = _mm512_and_si512(v, mask);
        borrow = _mm512_srli_epi64(v, 63);
    }
    __mmask8 keep_d = _mm512_cmpeq_epi64_mask(borrow, _mm512_setzero_si512());
    for (unsigned j = 0; j < l; j++) {
        a[j] = _mm512_mask_mov_epi64(a[j], keep_d, d[j]);
    }
}

/* Limb j of eight numbers, one per lane: a gather with each lane's address of limb 0 as its
 * index (base NULL, scale 1), or a broadcast when all lanes read the same number (one key for
 * the whole call, as when a zone is signed by one ZSK: gathers cost about 1% of a call). */
static void rsa_gather(__m512i *out, const uint64_t *const *limbs, unsigned l)
{
    bool same = true;
    for (unsigned i = 1; i < KF_LANES; i++) {
        same = same && limbs[i] == limbs[0];
    }
    if (same) {
        for (unsigned j = 0; j < l; j++) {
            out[j] = _mm512_set1_epi64((long long)limbs[0][j]);
        }
        return;
    }
    _Alignas(64) uint64_t addr[KF_LANES];
    for (unsigned i = 0; i < KF_LANES; i++) {
        addr[i] = (uint64_t)(uintptr_t)limbs[i];
    }
    const __m512i base = _mm512_load_si512(addr);
    for (unsigned j = 0; j < l; j++) {
        const __m512i off = _mm512_set1_epi64((long long)(j * sizeof(uint64_t)));
        out[j] = _mm512_i64gather_epi64(_mm512_add_epi64(base, off), NULL, 1);
    }
}

/* The lanes of one call: keys (spare lanes repeat lane 0, their results are dropped), the
 * modulus lane-sliced, the input x and acc = x^e R^-(e-1) (file comment), acc < 2n. */
struct rsa_call {
    const struct rsa_class_ops *ops;
    unsigned l;
    const struct kf_rsa_ifma_key *k[KF_LANES];
    struct rsa_lanes_mod mod;
    __m512i x[RSA_MAX_LIMBS];
    __m512i acc[RSA_MAX_LIMBS];
};

static void rsa_call_exp(struct rsa_call *rc, const struct kf_rsa_ifma_key *const *keys,
                         const uint8_t *const *in, unsigned lanes)
{
    /* kf_rsa_ifma_key_new only makes the classes of rsa_classes: 20, 40, 60, 80 limbs. */
    rc->ops = &rsa_classes[keys[0]->limbs / 20 - 1];
    const unsigned l = rc->ops->limbs;
    rc->l = l;
    uint64_t limbs[KF_LANES][RSA_MAX_LIMBS];
    const uint64_t *px[KF_LANES], *pn[KF_LANES];
    _Alignas(64) uint64_t k0[KF_LANES];
    for (unsigned i = 0; i < KF_LANES; i++) {
        rc->k[i] = keys[i < lanes ? i : 0];
        if (i < lanes) {
            rsa_bytes_to_limbs(limbs[i], l, in[i], rc->k[i]->bytes);
        }
        px[i] = limbs[i < lanes ? i : 0];
        pn[i] = rc->k[i]->n;
        k0[i] = rc->k[i]->k0;
    }
    rc->mod.k0 = _mm512_load_si512(k0);
    rsa_gather(rc->x, px, l);
    rsa_gather(rc->mod.n, pn, l);

    /* Left-to-right binary exponentiation; lane i starts at its top bit, e_bits - 1: below
     * that its accumulator is x (k = 1) and it sits out until its own bits begin. */
    const struct rsa_class_ops *ops = rc->ops;
    const struct kf_rsa_ifma_key *const *k = rc->k;
    __m512i *acc = rc->acc;
    size_t top = 0;
    for (unsigned i = 0; i < KF_LANES; i++) {
        top = k[i]->e_bits > top ? k[i]->e_bits : top;
    }
    memcpy(acc, rc->x, l * sizeof(rc->x[0]));
    for (size_t pos = top - 1; pos-- > 0;) {
        __mmask8 active = 0, mul = 0;
        for (unsigned i = 0; i < KF_LANES; i++) {
            if (pos + 1 < k[i]->e_bits) {
                active |= (__mmask8)(1u << i);
                mul |= (__mmask8)(rsa_e_bit(k[i], pos) << i);
            }
        }
        if (active == 0xff) {
            ops->sqr(acc, acc, &rc->mod);
        } else {
            __m512i t[RSA_MAX_LIMBS];
            ops->sqr(t, acc, &rc->mod);
            for (unsigned j = 0; j < l; j++) {
                acc[j] = _mm512_mask_mov_epi64(acc[j], active, t[j]);
            }
        }
        if (mul == 0xff) {
            ops->mul(acc, acc, rc->x, &rc->mod);
        } else if (mul != 0) {
            __m512i t[RSA_MAX_LIMBS];
            ops->mul(t, acc, rc->x, &rc->mod);
            for (unsigned j = 0; j < l; j++) {
                acc[j] = _mm512_mask_mov_epi64(acc[j], mul, t[j]);
            }
        }
    }
}

void kf_rsa_ifma_public(const struct kf_rsa_ifma_key *const *keys, const uint8_t *const *in,
                        uint8_t *const *out, unsigned lanes)
{
    struct rsa_call rc;
    rsa_call_exp(&rc, keys, in, lanes);
    const unsigned l = rc.l;
    __m512i *acc = rc.acc;
    /* acc = x^e R^-(e-1); times R^e / R gives x^e, below 2n. */
    __m512i c[RSA_MAX_LIMBS];
    const uint64_t *pc[KF_LANES];
    for (unsigned i = 0; i < KF_LANES; i++) {
        pc[i] = rc.k[i]->c;
    }
    rsa_gather(c, pc, l);
    rc.ops->mul(acc, acc, c, &rc.mod);
    rsa_final_sub(acc, &rc.mod, l);

    uint64_t limbs[KF_LANES][RSA_MAX_LIMBS];
    _Alignas(64) uint64_t col[KF_LANES];
    for (unsigned j = 0; j < l; j++) {
        _mm512_store_si512(col, acc[j]);
        for (unsigned i = 0; i < lanes; i++) {
            limbs[i][j] = col[i];
        }
    }
    for (unsigned i = 0; i < lanes; i++) {
        rsa_limbs_to_bytes(out[i], rc.k[i]->bytes, limbs[i], l);
    }
}

void kf_rsa_ifma_verify(const struct kf_rsa_ifma_key *const *keys, const uint8_t *const *sig,
                        const unsigned *slot, const uint8_t *const *digest, unsigned lanes,
                        uint8_t *ok)
{
    struct rsa_call rc;
    rsa_call_exp(&rc, keys, sig, lanes);
    const unsigned l = rc.l;
    /* The digests as numbers of hl limbs, hl enough for the longest one of the call. */
    int hl = RSA_H_SMALL;
    for (unsigned i = 0; i < lanes; i++) {
        if (8 * rc.k[i]->slot_digest[slot[i]] > RSA_H_SMALL * RSA_LIMB_BITS) {
            hl = RSA_H_LARGE;
        }
    }
    uint64_t hlimbs[KF_LANES][RSA_H_LARGE];
    const uint64_t *ph[KF_LANES], *pg[KF_LANES], *pa[KF_LANES];
    for (unsigned i = 0; i < KF_LANES; i++) {
        unsigned li = i < lanes ? i : 0;
        const struct kf_rsa_ifma_key *k = rc.k[i];
        if (i < lanes) {
            rsa_bytes_to_limbs(hlimbs[i], (unsigned)hl, digest[i], k->slot_digest[slot[i]]);
        }
        ph[i] = hlimbs[li];
        pg[i] = k->gh[hl == RSA_H_SMALL ? 0 : 1];
        pa[i] = k->ag[slot[li]];
    }
    __m512i h[RSA_H_LARGE], g[RSA_MAX_LIMBS], s[RSA_MAX_LIMBS], ag[RSA_MAX_LIMBS];
    rsa_gather(h, ph, (unsigned)hl);
    rsa_gather(g, pg, l);
    rsa_gather(ag, pa, l);
    /* s = H G + A G, below 3n; both sides to [0, n) and compared limb by limb. */
    rc.ops->hg(s, h, hl, g, &rc.mod);
    for (unsigned j = 0; j < l; j++) {
        s[j] = _mm512_add_epi64(s[j], ag[j]);
    }
    rsa_carry(s, s, (int)l);
    rsa_final_sub(s, &rc.mod, l);
    rsa_final_sub(s, &rc.mod, l);
    rsa_final_sub(rc.acc, &rc.mod, l);
    __mmask8 eq = 0xff;
    for (unsigned j = 0; j < l; j++) {
        eq &= _mm512_cmpeq_epi64_mask(s[j], rc.acc[j]);
    }
    for (unsigned i = 0; i < lanes; i++) {
        /* A slot never set has no encoding to match: never valid. */
        ok[i] = (uint8_t)((eq >> i) & 1 & (rc.k[i]->slot_digest[slot[i]] != 0));
    }
}
