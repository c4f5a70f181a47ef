/* keyfort offload: lane-sliced P-256 field arithmetic for the AVX-512 IFMA kernel.
 *
 * A struct p256_fe holds 8 independent field elements, one per 64-bit lane: l[j] is limb j
 * (52 bits, little-endian limb order) of every lane, so one vpmadd52{lo,hi}uq multiplies
 * limb i by limb j of all 8 lanes at once ("multi-buffer", Gueron-Krasnov's radix 2^52 layout
 * turned sideways). Elements are kept in Montgomery form with R = 2^260.
 *
 * Invariant for every value these helpers return: limbs normalised to [0, 2^52) and value
 * < 2p ("weakly reduced"). Multiplication only needs a * b < p * R, which holds for inputs
 * < 4p, so nothing is fully reduced until a comparison or an export needs it.
 *
 * Only included by lanes/p256_*.c, which are compiled with -mavx512f -mavx512ifma (see
 * offload/CMakeLists.txt); all inputs are public, nothing here is constant-time.
 */
#ifndef KF_OFFLOAD_LANES_P256_IFMA_FE_H
#define KF_OFFLOAD_LANES_P256_IFMA_FE_H

#include <immintrin.h>
#include <stdint.h>

struct p256_fe {
    __m512i l[5];
};

/* Forced inlining, measured: at -O2 GCC kept these as out-of-line calls with the limb arrays in
 * memory (store-to-load forwarding on every carry step); inlined and unrolled, the limbs stay
 * in zmm registers and a field subtraction dropped from ~90 to ~33 cycles in a microbenchmark
 * on the 2-core EPYC (Zen 4) build machine. */
#define P256_INLINE inline __attribute__((always_inline))

#define P256_M52 0xFFFFFFFFFFFFFull

/* p = 2^256 - 2^224 + 2^192 + 2^96 - 1 in 52-bit limbs. Limb 0 is 2^52 - 1, so
 * -p^-1 mod 2^52 = 1 and the Montgomery quotient digit is simply the low limb. */
#define P256_P0 0xFFFFFFFFFFFFFull
#define P256_P1 0x00FFFFFFFFFFFull
#define P256_P2 0x0000000000000ull
#define P256_P3 0x0001000000000ull
#define P256_P4 0x0FFFFFFFF0000ull

/* n, the group order, and -n^-1 mod 2^52. */
#define P256_N0 0x9cac2fc632551ull
#define P256_N1 0xada7179e84f3bull
#define P256_N2 0xfffffffbce6faull
#define P256_N3 0x0000fffffffffull
#define P256_N4 0x0ffffffff0000ull
#define P256_NINV 0x1c8aaee00bc4full

static P256_INLINE __m512i p256_bc(uint64_t v)
{
    return _mm512_set1_epi64((long long)v);
}

static P256_INLINE void p256_fe_bc(struct p256_fe *r, const uint64_t v[5])
{
#pragma GCC unroll 10
    for (int i = 0; i < 5; i++) {
        r->l[i] = p256_bc(v[i]);
    }
}

/* Signed carry pass: afterwards limbs 0..3 are in [0, 2^52) and limb 4 carries the rest
 * (non-negative whenever the represented integer is). */
static P256_INLINE void p256_carry(__m512i t[5])
{
    const __m512i m = p256_bc(P256_M52);
#pragma GCC unroll 10
    for (int i = 0; i < 4; i++) {
        t[i + 1] = _mm512_add_epi64(t[i + 1], _mm512_srai_epi64(t[i], 52));
        t[i] = _mm512_and_si512(t[i], m);
    }
}

/* r = t mod p, weakly reduced, for any limb-wise (signed) representation of an integer in
 * [0, 2^270). The bits at and above 2^256 are folded back with
 * 2^256 = 2^224 - 2^192 - 2^96 + 1 (mod p), leaving < 2^256 + 2^240 < 2p. */
static P256_INLINE void p256_fe_reduce(struct p256_fe *r, __m512i t[5])
{
    p256_carry(t);
    const __m512i hi = _mm512_srli_epi64(t[4], 48);
    t[4] = _mm512_and_si512(t[4], p256_bc(0xFFFFFFFFFFFFull));
    t[0] = _mm512_add_epi64(t[0], hi);
    t[1] = _mm512_sub_epi64(t[1], _mm512_slli_epi64(hi, 44));
    t[3] = _mm512_sub_epi64(t[3], _mm512_slli_epi64(hi, 36));
    t[4] = _mm512_add_epi64(t[4], _mm512_slli_epi64(hi, 16));
    p256_carry(t);
#pragma GCC unroll 10
    for (int i = 0; i < 5; i++) {
        r->l[i] = t[i];
    }
}

/* r = t with carries propagated (no folding): for non-negative t whose bound already suits
 * the consumer, e.g. a multiplication input < 4p. */
static P256_INLINE void p256_fe_norm(struct p256_fe *r, __m512i t[5])
{
    p256_carry(t);
#pragma GCC unroll 10
    for (int i = 0; i < 5; i++) {
        r->l[i] = t[i];
    }
}

static P256_INLINE __m512i p256_plimb(int i, uint64_t k)
{
    static const uint64_t p[5] = { P256_P0, P256_P1, P256_P2, P256_P3, P256_P4 };
    return p256_bc(p[i] * k);
}

/* r = a + b */
static P256_INLINE void p256_fe_add(struct p256_fe *r, const struct p256_fe *a,
                                    const struct p256_fe *b)
{
    __m512i t[5];
#pragma GCC unroll 10
    for (int i = 0; i < 5; i++) {
        t[i] = _mm512_add_epi64(a->l[i], b->l[i]);
    }
    p256_fe_reduce(r, t);
}

/* r = a - b; + 2p keeps the integer non-negative since b < 2p. */
static P256_INLINE void p256_fe_sub(struct p256_fe *r, const struct p256_fe *a,
                                    const struct p256_fe *b)
{
    __m512i t[5];
#pragma GCC unroll 10
    for (int i = 0; i < 5; i++) {
        t[i] = _mm512_add_epi64(_mm512_sub_epi64(a->l[i], b->l[i]), p256_plimb(i, 2));
    }
    p256_fe_reduce(r, t);
}

/* r = ka * a - kb * b (mod p) for small ka, kb (<= 64: 2 * kb * p's limbs must fit in 64 bits
 * and ka * a + 2 * kb * p in p256_fe_reduce's range). */
static P256_INLINE void p256_fe_lin(struct p256_fe *r, uint64_t ka, const struct p256_fe *a,
                                    uint64_t kb, const struct p256_fe *b)
{
    const __m512i va = p256_bc(ka), vb = p256_bc(kb);
    __m512i t[5];
#pragma GCC unroll 10
    for (int i = 0; i < 5; i++) {
        t[i] = _mm512_sub_epi64(_mm512_mullo_epi64(a->l[i], va), _mm512_mullo_epi64(b->l[i], vb));
        t[i] = _mm512_add_epi64(t[i], p256_plimb(i, 2 * kb));
    }
    p256_fe_reduce(r, t);
}

/* r = a - b - kc * c (mod p); used for X3 = R^2 - H^3 - 2V and friends. */
static P256_INLINE void p256_fe_sub2(struct p256_fe *r, const struct p256_fe *a,
                                     const struct p256_fe *b, uint64_t kc, const struct p256_fe *c)
{
    const __m512i vc = p256_bc(kc);
    __m512i t[5];
#pragma GCC unroll 10
    for (int i = 0; i < 5; i++) {
        t[i] =
            _mm512_sub_epi64(_mm512_sub_epi64(a->l[i], b->l[i]), _mm512_mullo_epi64(c->l[i], vc));
        t[i] = _mm512_add_epi64(t[i], p256_plimb(i, 2 + 2 * kc));
    }
    p256_fe_reduce(r, t);
}

/* Montgomery reduction of a 10-limb product t (each limb < 2^58) to t / 2^260 mod p, < 2p.
 * Word-by-word REDC; because p0 = 2^52 - 1, m * p0 = m * 2^52 - m, so the low limb of m * p
 * needs no multiplication: it clears limb i and moves m (plus the carry) up one limb. p2 = 0,
 * so each step costs 6 IFMA instead of 10. */
static P256_INLINE void p256_redc(struct p256_fe *r, __m512i t[10])
{
    const __m512i mask = p256_bc(P256_M52), p1 = p256_bc(P256_P1), p3 = p256_bc(P256_P3),
                  p4 = p256_bc(P256_P4);
#pragma GCC unroll 5
    for (int i = 0; i < 5; i++) {
        const __m512i m = _mm512_and_si512(t[i], mask);
        t[i + 1] = _mm512_add_epi64(t[i + 1], _mm512_add_epi64(_mm512_srli_epi64(t[i], 52), m));
        t[i + 1] = _mm512_madd52lo_epu64(t[i + 1], m, p1);
        t[i + 2] = _mm512_madd52hi_epu64(t[i + 2], m, p1);
        t[i + 3] = _mm512_madd52lo_epu64(t[i + 3], m, p3);
        t[i + 4] = _mm512_madd52hi_epu64(t[i + 4], m, p3);
        t[i + 4] = _mm512_madd52lo_epu64(t[i + 4], m, p4);
        t[i + 5] = _mm512_madd52hi_epu64(t[i + 5], m, p4);
    }
#pragma GCC unroll 4
    for (int i = 5; i < 9; i++) {
        t[i + 1] = _mm512_add_epi64(t[i + 1], _mm512_srli_epi64(t[i], 52));
        t[i] = _mm512_and_si512(t[i], mask);
    }
#pragma GCC unroll 10
    for (int i = 0; i < 5; i++) {
        r->l[i] = t[i + 5];
    }
}

/* t = a * b as 10 unreduced limbs. The high halves go to separate accumulators and are
 * added at the end: that halves the longest chain of dependent vpmadd52 (a column collects
 * up to 9 terms), which measurably shortened a doubling. */
static P256_INLINE void p256_mul_wide(__m512i t[10], const struct p256_fe *a,
                                      const struct p256_fe *b)
{
    __m512i h[10];
#pragma GCC unroll 10
    for (int i = 0; i < 10; i++) {
        t[i] = _mm512_setzero_si512();
        h[i] = _mm512_setzero_si512();
    }
#pragma GCC unroll 5
    for (int i = 0; i < 5; i++) {
#pragma GCC unroll 5
        for (int j = 0; j < 5; j++) {
            t[i + j] = _mm512_madd52lo_epu64(t[i + j], a->l[i], b->l[j]);
            h[i + j + 1] = _mm512_madd52hi_epu64(h[i + j + 1], a->l[i], b->l[j]);
        }
    }
#pragma GCC unroll 10
    for (int i = 1; i < 10; i++) {
        t[i] = _mm512_add_epi64(t[i], h[i]);
    }
}

/* t = a^2: the 10 cross products once, doubled, plus the diagonal (30 IFMA instead of 50). */
static P256_INLINE void p256_sqr_wide(__m512i t[10], const struct p256_fe *a)
{
#pragma GCC unroll 10
    for (int i = 0; i < 10; i++) {
        t[i] = _mm512_setzero_si512();
    }
#pragma GCC unroll 5
    for (int i = 0; i < 5; i++) {
#pragma GCC unroll 5
        for (int j = i + 1; j < 5; j++) {
            t[i + j] = _mm512_madd52lo_epu64(t[i + j], a->l[i], a->l[j]);
            t[i + j + 1] = _mm512_madd52hi_epu64(t[i + j + 1], a->l[i], a->l[j]);
        }
    }
#pragma GCC unroll 10
    for (int i = 0; i < 10; i++) {
        t[i] = _mm512_add_epi64(t[i], t[i]);
    }
#pragma GCC unroll 5
    for (int i = 0; i < 5; i++) {
        t[2 * i] = _mm512_madd52lo_epu64(t[2 * i], a->l[i], a->l[i]);
        t[2 * i + 1] = _mm512_madd52hi_epu64(t[2 * i + 1], a->l[i], a->l[i]);
    }
}

/* r = a * b / R mod p; a, b < 4p with normalised limbs; r < 2p. */
static P256_INLINE void p256_fe_mul(struct p256_fe *r, const struct p256_fe *a,
                                    const struct p256_fe *b)
{
    __m512i t[10];
    p256_mul_wide(t, a, b);
    p256_redc(r, t);
}

static P256_INLINE void p256_fe_sqr(struct p256_fe *r, const struct p256_fe *a)
{
    __m512i t[10];
    p256_sqr_wide(t, a);
    p256_redc(r, t);
}

/* Lanes where a (< 2p) is 0 mod p, i.e. a is 0 or p. */
static P256_INLINE __mmask8 p256_fe_is_zero(const struct p256_fe *a)
{
    __mmask8 z = 0xFF, e = 0xFF;
#pragma GCC unroll 10
    for (int i = 0; i < 5; i++) {
        z &= _mm512_cmpeq_epi64_mask(a->l[i], _mm512_setzero_si512());
        e &= _mm512_cmpeq_epi64_mask(a->l[i], p256_plimb(i, 1));
    }
    return z | e;
}

/* r = a mod m for a < 2m: subtract m and keep the difference where it did not go negative. */
static P256_INLINE void p256_canon(struct p256_fe *r, const struct p256_fe *a, const uint64_t m[5])
{
    __m512i t[5];
#pragma GCC unroll 10
    for (int i = 0; i < 5; i++) {
        t[i] = _mm512_sub_epi64(a->l[i], p256_bc(m[i]));
    }
    p256_carry(t);
    const __mmask8 neg = _mm512_movepi64_mask(t[4]);
#pragma GCC unroll 10
    for (int i = 0; i < 5; i++) {
        r->l[i] = _mm512_mask_blend_epi64(neg, t[i], a->l[i]);
    }
}

/* Per-lane select: r = mask ? b : a. */
static P256_INLINE void p256_fe_blend(struct p256_fe *r, __mmask8 mask, const struct p256_fe *a,
                                      const struct p256_fe *b)
{
#pragma GCC unroll 10
    for (int i = 0; i < 5; i++) {
        r->l[i] = _mm512_mask_blend_epi64(mask, a->l[i], b->l[i]);
    }
}

/* ---- arithmetic mod n (for u1 = e / s, u2 = r / s), same layout, R = 2^260 --------------- */

static P256_INLINE void p256_n_redc(struct p256_fe *r, __m512i t[10])
{
    const __m512i mask = p256_bc(P256_M52), ninv = p256_bc(P256_NINV);
    const __m512i n[5] = { p256_bc(P256_N0), p256_bc(P256_N1), p256_bc(P256_N2), p256_bc(P256_N3),
                           p256_bc(P256_N4) };
#pragma GCC unroll 5
    for (int i = 0; i < 5; i++) {
        /* vpmadd52luq only reads the low 52 bits of t[i], which is what REDC needs. */
        const __m512i m = _mm512_madd52lo_epu64(_mm512_setzero_si512(), t[i], ninv);
#pragma GCC unroll 5
        for (int j = 0; j < 5; j++) {
            t[i + j] = _mm512_madd52lo_epu64(t[i + j], m, n[j]);
            t[i + j + 1] = _mm512_madd52hi_epu64(t[i + j + 1], m, n[j]);
        }
        t[i + 1] = _mm512_add_epi64(t[i + 1], _mm512_srli_epi64(t[i], 52));
    }
#pragma GCC unroll 4
    for (int i = 5; i < 9; i++) {
        t[i + 1] = _mm512_add_epi64(t[i + 1], _mm512_srli_epi64(t[i], 52));
        t[i] = _mm512_and_si512(t[i], mask);
    }
#pragma GCC unroll 10
    for (int i = 0; i < 5; i++) {
        r->l[i] = t[i + 5];
    }
}

/* r = a * b / R mod n; a * b < n * R (e.g. both < 2n); r < 2n. */
static P256_INLINE void p256_n_mul(struct p256_fe *r, const struct p256_fe *a,
                                   const struct p256_fe *b)
{
    __m512i t[10];
    p256_mul_wide(t, a, b);
    p256_n_redc(r, t);
}

static P256_INLINE void p256_n_sqr(struct p256_fe *r, const struct p256_fe *a)
{
    __m512i t[10];
    p256_sqr_wide(t, a);
    p256_n_redc(r, t);
}

#endif
