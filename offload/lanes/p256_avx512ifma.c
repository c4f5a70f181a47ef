/* keyfort offload: multi-buffer ECDSA P-256 verification with AVX-512 IFMA (lanes.h).
 *
 * Eight verifications run side by side, one per 64-bit lane (p256_ifma_fe.h). Per SEC 1 v2
 * s4.1.4: u1 = e / s and u2 = r / s mod n (one vectorised Fermat inversion), then
 * R = u1 G + u2 Q:
 *   - u1 G from a fixed-base table of affine multiples of G (37 signed 7-bit windows), so it
 *     costs 37 mixed additions and no doublings;
 *   - u2 Q either the same way from the key's own table (kf_p256_ifma_key_new(.., true)) or,
 *     without one, by signed 5-bit fixed windows over 16 multiples of Q built per call
 *     (fixed windows rather than w-NAF: all lanes must add at the same positions).
 * The x check avoids an inversion: x(R) = X / Z^2, so compare X with r Z^2 and (r + n) Z^2.
 * Everything is public, so the code branches and indexes on the data freely.
 */
#include "offload/lanes/lanes.h"
#include "offload/lanes/p256_ifma_pt.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

struct kf_p256_ifma_key {
    /* Q as one table entry: affine x then y, Montgomery form, fully reduced. */
    uint64_t q[KF_P256_FB_ENTRY];
    /* Owned, NULL unless asked for: KF_P256_FB_LIMBS limbs, 64-byte aligned. */
    uint64_t *table;
};

/* Per-call windows for u2 Q without a key table: 52 signed 5-bit digits cover 256 bits
 * plus the Booth carry; |digit| <= 16 selects one of 16 multiples. */
#define P256_QW 5
#define P256_QWIN 52
#define P256_QPTS 16

/* G's table is the one piece of global state: written once under p256_g_lock, read-only
 * after p256_g_ready is set (release/acquire), so readers need no lock. A mutex rather than
 * pthread_once so that a failed build (out of memory) is retried by the next key_new. */
static uint64_t p256_g_table[KF_P256_FB_LIMBS] __attribute__((aligned(64)));
static atomic_bool p256_g_ready;
static pthread_mutex_t p256_g_lock = PTHREAD_MUTEX_INITIALIZER;

static const uint64_t p256_rr_p[5] = { 0x300, 0xffffffff00000, 0xffffefffffffb, 0xfdfffffffffff,
                                       0x4ffffff };
static const uint64_t p256_rr_n[5] = { 0x5cc0dea6dc3ba, 0x192a067d8a084, 0xbec59615571bb,
                                       0x1fc245b2392b6, 0xe12d9559d956 };
/* b * R mod p */
static const uint64_t p256_b_mont[5] = { 0xdf6229c4bddfd, 0xca8843090d89c, 0x212ed6acf005c,
                                         0x83415a220abf7, 0xc30061dd4874 };
/* 64-bit words, least significant first. */
static const uint64_t p256_p_w[4] = { 0xFFFFFFFFFFFFFFFFull, 0x00000000FFFFFFFFull, 0,
                                      0xFFFFFFFF00000001ull };
static const uint64_t p256_n_w[4] = { 0xF3B9CAC2FC632551ull, 0xBCE6FAADA7179E84ull,
                                      0xFFFFFFFFFFFFFFFFull, 0xFFFFFFFF00000000ull };
static const uint8_t p256_g_pub[64] = {
    0x6b, 0x17, 0xd1, 0xf2, 0xe1, 0x2c, 0x42, 0x47, 0xf8, 0xbc, 0xe6, 0xe5, 0x63, 0xa4, 0x40, 0xf2,
    0x77, 0x03, 0x7d, 0x81, 0x2d, 0xeb, 0x33, 0xa0, 0xf4, 0xa1, 0x39, 0x45, 0xd8, 0x98, 0xc2, 0x96,
    0x4f, 0xe3, 0x42, 0xe2, 0xfe, 0x1a, 0x7f, 0x9b, 0x8e, 0xe7, 0xeb, 0x4a, 0x7c, 0x0f, 0x9e, 0x16,
    0x2b, 0xce, 0x33, 0x57, 0x6b, 0x31, 0x5e, 0xce, 0xcb, 0xb6, 0x40, 0x68, 0x37, 0xbf, 0x51, 0xf5,
};

/* ---- scalar helpers (per lane) -------------------------------------------------------- */

static void p256_load_be(uint64_t w[4], const uint8_t b[32])
{
    for (int i = 0; i < 4; i++) {
        uint64_t v = 0;
        for (int j = 0; j < 8; j++) {
            v = (v << 8) | b[8 * i + j];
        }
        w[3 - i] = v;
    }
}

static int p256_cmp(const uint64_t a[4], const uint64_t b[4])
{
    for (int i = 3; i >= 0; i--) {
        if (a[i] != b[i]) {
            return a[i] < b[i] ? -1 : 1;
        }
    }
    return 0;
}

static bool p256_is_zero_w(const uint64_t a[4])
{
    return (a[0] | a[1] | a[2] | a[3]) == 0;
}

/* Radix 2^64 -> radix 2^52, into lane @p lane of limb rows l[5][8]. */
static void p256_to_limbs(uint64_t l[5][8], int lane, const uint64_t w[4])
{
    l[0][lane] = w[0] & P256_M52;
    l[1][lane] = ((w[0] >> 52) | (w[1] << 12)) & P256_M52;
    l[2][lane] = ((w[1] >> 40) | (w[2] << 24)) & P256_M52;
    l[3][lane] = ((w[2] >> 28) | (w[3] << 36)) & P256_M52;
    l[4][lane] = w[3] >> 16;
}

static void p256_from_limbs(uint64_t w[4], const uint64_t l[5][8], int lane)
{
    w[0] = l[0][lane] | (l[1][lane] << 52);
    w[1] = (l[1][lane] >> 12) | (l[2][lane] << 40);
    w[2] = (l[2][lane] >> 24) | (l[3][lane] << 28);
    w[3] = (l[3][lane] >> 36) | (l[4][lane] << 16);
}

static void p256_fe_load(struct p256_fe *r, const uint64_t l[5][8])
{
    for (int i = 0; i < 5; i++) {
        r->l[i] = _mm512_loadu_si512(l[i]);
    }
}

static void p256_fe_store(uint64_t l[5][8], const struct p256_fe *a)
{
    for (int i = 0; i < 5; i++) {
        _mm512_storeu_si512(l[i], a->l[i]);
    }
}

/* Signed fixed-window (Booth) recoding: k = sum d[i] 2^(w i), |d[i]| <= 2^(w-1). nwin * w
 * must exceed 256 so that the final carry lands in a digit. */
static void p256_recode(int8_t *d, int nwin, int w, const uint64_t k[4])
{
    unsigned carry = 0;
    for (int i = 0; i < nwin; i++) {
        const int pos = i * w;
        uint64_t v = 0;
        if (pos < 256) {
            v = k[pos / 64] >> (pos % 64);
            if (pos % 64 + w > 64 && pos / 64 < 3) {
                v |= k[pos / 64 + 1] << (64 - pos % 64);
            }
        }
        v = (v & ((1u << w) - 1)) + carry;
        if (v > (1u << (w - 1))) {
            d[i] = (int8_t)((int)v - (1 << w));
            carry = 1;
        } else {
            d[i] = (int8_t)v;
            carry = 0;
        }
    }
}

/* ---- G table -------------------------------------------------------------------------- */

/* Affine point from X || Y big-endian, validated and in Montgomery form in every lane. */
static bool p256_point_load(struct p256_aff *q, const uint8_t pub[64])
{
    uint64_t x[4], y[4], lx[5][8], ly[5][8];
    p256_load_be(x, pub);
    p256_load_be(y, pub + 32);
    if (p256_cmp(x, p256_p_w) >= 0 || p256_cmp(y, p256_p_w) >= 0) {
        return false;
    }
    for (int l = 0; l < 8; l++) {
        p256_to_limbs(lx, l, x);
        p256_to_limbs(ly, l, y);
    }
    struct p256_fe rr, t, lhs, rhs, b;
    p256_fe_bc(&rr, p256_rr_p);
    p256_fe_load(&t, lx);
    p256_fe_mul(&q->x, &t, &rr);
    p256_canon(&q->x, &q->x, kf_p256_p);
    p256_fe_load(&t, ly);
    p256_fe_mul(&q->y, &t, &rr);
    p256_canon(&q->y, &q->y, kf_p256_p);
    /* y^2 = x^3 - 3x + b */
    p256_fe_sqr(&lhs, &q->y);
    p256_fe_sqr(&t, &q->x);
    p256_fe_mul(&t, &t, &q->x);
    p256_fe_lin(&rhs, 1, &t, 3, &q->x);
    p256_fe_bc(&b, p256_b_mont);
    p256_fe_add(&rhs, &rhs, &b);
    p256_fe_sub(&t, &lhs, &rhs);
    return (p256_fe_is_zero(&t) & 1) != 0;
}

static bool p256_g_init(void)
{
    if (atomic_load_explicit(&p256_g_ready, memory_order_acquire)) {
        return true;
    }
    pthread_mutex_lock(&p256_g_lock);
    bool ok = atomic_load_explicit(&p256_g_ready, memory_order_relaxed);
    if (!ok) {
        struct p256_aff g;
        ok = p256_point_load(&g, p256_g_pub) && kf_p256_table_build(p256_g_table, &g);
        if (ok) {
            atomic_store_explicit(&p256_g_ready, true, memory_order_release);
        }
    }
    pthread_mutex_unlock(&p256_g_lock);
    return ok;
}

/* ---- keys ----------------------------------------------------------------------------- */

struct kf_p256_ifma_key *kf_p256_ifma_key_new(const uint8_t pub[64], bool table)
{
    /* Built here so that kf_p256_ifma_verify, which needs a key, finds G's table ready. */
    if (!p256_g_init()) {
        return NULL;
    }
    struct p256_aff q;
    if (!p256_point_load(&q, pub)) {
        return NULL;
    }
    struct kf_p256_ifma_key *k = calloc(1, sizeof(*k));
    if (k == NULL) {
        return NULL;
    }
    uint64_t lx[5][8], ly[5][8];
    p256_fe_store(lx, &q.x);
    p256_fe_store(ly, &q.y);
    for (int i = 0; i < 5; i++) {
        k->q[i] = lx[i][0];
        k->q[5 + i] = ly[i][0];
    }
    if (table) {
        k->table = aligned_alloc(64, KF_P256_FB_LIMBS * sizeof(uint64_t));
        if (k->table == NULL || !kf_p256_table_build(k->table, &q)) {
            kf_p256_ifma_key_free(k);
            return NULL;
        }
    }
    return k;
}

void kf_p256_ifma_key_free(struct kf_p256_ifma_key *k)
{
    if (k == NULL) {
        return;
    }
    free(k->table);
    free(k);
}

/* ---- verification --------------------------------------------------------------------- */

/* r = a^(n-2) = a^-1 (Montgomery form in and out), 4-bit fixed windows over the constant
 * exponent: 252 squarings and ~60 multiplications, all lanes in step. */
static void p256_n_inv(struct p256_fe *r, const struct p256_fe *a)
{
    static const uint64_t e[4] = { 0xF3B9CAC2FC63254Full, 0xBCE6FAADA7179E84ull,
                                   0xFFFFFFFFFFFFFFFFull, 0xFFFFFFFF00000000ull };
    struct p256_fe pw[16], acc;
    pw[1] = *a;
    for (int k = 2; k < 16; k++) {
        p256_n_mul(&pw[k], &pw[k - 1], a);
    }
    acc = pw[e[3] >> 60];
    for (int nib = 62; nib >= 0; nib--) {
        for (int k = 0; k < 4; k++) {
            p256_n_sqr(&acc, &acc);
        }
        const unsigned d = (unsigned)(e[nib / 16] >> (4 * (nib % 16))) & 15;
        if (d != 0) {
            p256_n_mul(&acc, &acc, &pw[d]);
        }
    }
    *r = acc;
}

/* Per-lane digits of window i as table indices (|d| - 1, 0 for d = 0) plus masks. */
static void p256_digit_lanes(int64_t idx[8], __mmask8 *neg, __mmask8 *zero, const int8_t *d,
                             int stride, int i)
{
    *neg = 0;
    *zero = 0;
    for (int l = 0; l < 8; l++) {
        const int v = d[l * stride + i];
        idx[l] = v == 0 ? 0 : (v < 0 ? -v : v) - 1;
        *neg |= (__mmask8)((v < 0) << l);
        *zero |= (__mmask8)((v == 0) << l);
    }
}

/* acc += sum over windows of the fixed-base table entries selected by d (per lane). */
static __mmask8 p256_fb_accumulate(struct p256_jac *acc, __mmask8 inf, const uint64_t *const tab[8],
                                   const int8_t d[8][KF_P256_FB_WIN])
{
    for (int i = 0; i < KF_P256_FB_WIN; i++) {
        int64_t idx[8];
        __mmask8 neg, zero;
        p256_digit_lanes(idx, &neg, &zero, &d[0][0], KF_P256_FB_WIN, i);
        if (zero == 0xFF) {
            continue;
        }
        struct p256_aff pt;
        for (int l = 0; l < 8; l++) {
            idx[l] += (int64_t)i * KF_P256_FB_PTS;
        }
        kf_p256_table_gather(&pt, tab, idx, neg);
        inf = kf_p256_pt_madd(acc, acc, inf, &pt, zero);
    }
    return inf;
}

/* Lane l of r = entry idx[l] of the lane-sliced table t (lane l of it), y negated on neg. */
static void p256_jac_gather(struct p256_jac *r, const struct p256_jac *t, const int64_t idx[8],
                            __mmask8 neg)
{
    /* Entry k, coordinate limb c, lane l sits at 64-bit word (k * 15 + c) * 8 + l. */
    int64_t off[8];
    for (int l = 0; l < 8; l++) {
        off[l] = idx[l] * 15 * 8 + l;
    }
    const __m512i vi = _mm512_loadu_si512(off);
    const long long *base = (const long long *)t;
    for (int i = 0; i < 5; i++) {
        r->x.l[i] = _mm512_i64gather_epi64(vi, base + 8 * i, 8);
        r->y.l[i] = _mm512_i64gather_epi64(vi, base + 8 * (5 + i), 8);
        r->z.l[i] = _mm512_i64gather_epi64(vi, base + 8 * (10 + i), 8);
    }
    if (neg) {
        struct p256_fe zero, ny;
        for (int i = 0; i < 5; i++) {
            zero.l[i] = _mm512_setzero_si512();
        }
        p256_fe_sub(&ny, &zero, &r->y);
        p256_fe_blend(&r->y, neg, &r->y, &ny);
    }
}

/* u2 Q by signed 5-bit fixed windows over 16 multiples of each lane's Q. */
static __mmask8 p256_var_mul(struct p256_jac *acc, const struct kf_p256_ifma_key *const keys[8],
                             const int8_t d[8][P256_QWIN])
{
    const uint64_t *qs[8];
    int64_t zidx[8] = { 0 };
    for (int l = 0; l < 8; l++) {
        qs[l] = keys[l]->q;
    }
    struct p256_aff q;
    kf_p256_table_gather(&q, qs, zidx, 0);

    struct p256_jac t[P256_QPTS];
    t[0].x = q.x;
    t[0].y = q.y;
    p256_fe_bc(&t[0].z, kf_p256_one);
    kf_p256_pt_dbl(&t[1], &t[0]);
    for (int k = 2; k < P256_QPTS; k++) {
        kf_p256_pt_madd(&t[k], &t[k - 1], 0, &q, 0);
    }

    int64_t idx[8];
    __mmask8 neg, zero;
    p256_digit_lanes(idx, &neg, &zero, &d[0][0], P256_QWIN, P256_QWIN - 1);
    p256_jac_gather(acc, t, idx, neg);
    __mmask8 inf = zero;
    for (int i = P256_QWIN - 2; i >= 0; i--) {
        for (int k = 0; k < P256_QW; k++) {
            kf_p256_pt_dbl(acc, acc);
        }
        p256_digit_lanes(idx, &neg, &zero, &d[0][0], P256_QWIN, i);
        if (zero == 0xFF) {
            continue;
        }
        struct p256_jac pt;
        p256_jac_gather(&pt, t, idx, neg);
        inf = kf_p256_pt_add(acc, acc, inf, &pt, zero);
    }
    return inf;
}

void kf_p256_ifma_verify(const struct kf_p256_ifma_key *const *keys, const uint8_t *const *digest,
                         const uint8_t *const *sig, unsigned lanes, uint8_t *ok)
{
    if (lanes == 0) {
        return;
    }
    if (lanes > KF_LANES) {
        lanes = KF_LANES;
    }
    if (!p256_g_init()) {
        /* Unreachable with a key from kf_p256_ifma_key_new, which built the table. */
        memset(ok, 0, lanes);
        return;
    }

    const struct kf_p256_ifma_key *k8[8];
    uint64_t lr[5][8], ls[5][8], le[5][8], lrn[5][8];
    __mmask8 valid = 0, rn_ok = 0;
    bool all_tables = true;
    for (int l = 0; l < 8; l++) {
        /* Idle lanes repeat lane 0; their results are dropped. */
        const unsigned src = (unsigned)l < lanes ? (unsigned)l : 0;
        uint64_t r[4], s[4], e[4], rn[4];
        k8[l] = keys[src];
        all_tables = all_tables && k8[l]->table != NULL;
        p256_load_be(r, sig[src]);
        p256_load_be(s, sig[src] + 32);
        p256_load_be(e, digest[src]);
        if (!p256_is_zero_w(r) && !p256_is_zero_w(s) && p256_cmp(r, p256_n_w) < 0 &&
            p256_cmp(s, p256_n_w) < 0) {
            valid |= (__mmask8)(1u << l);
        } else {
            /* Keep the lane's arithmetic well defined; the result is discarded. */
            memset(r, 0, sizeof(r));
            memcpy(s, r, sizeof(s));
            r[0] = s[0] = 1;
        }
        /* x(R) in [0, p) reduces to r mod n also when x = r + n, possible iff r + n < p. */
        unsigned __int128 c = 0;
        for (int i = 0; i < 4; i++) {
            c += (unsigned __int128)r[i] + p256_n_w[i];
            rn[i] = (uint64_t)c;
            c >>= 64;
        }
        if (c == 0 && p256_cmp(rn, p256_p_w) < 0) {
            rn_ok |= (__mmask8)(1u << l);
        } else {
            memcpy(rn, r, sizeof(rn));
        }
        p256_to_limbs(lr, l, r);
        p256_to_limbs(ls, l, s);
        p256_to_limbs(le, l, e);
        p256_to_limbs(lrn, l, rn);
    }

    /* u1 = e / s, u2 = r / s mod n: with s^-1 in Montgomery form (s^-1 R), one Montgomery
     * product with the plain e or r gives the plain result. */
    struct p256_fe s, sinv, t, u1, u2;
    p256_fe_load(&s, ls);
    p256_fe_bc(&t, p256_rr_n);
    p256_n_mul(&s, &s, &t);
    p256_n_inv(&sinv, &s);
    p256_fe_load(&t, le);
    p256_n_mul(&u1, &t, &sinv);
    p256_canon(&u1, &u1, kf_p256_n);
    p256_fe_load(&t, lr);
    p256_n_mul(&u2, &t, &sinv);
    p256_canon(&u2, &u2, kf_p256_n);

    uint64_t lu1[5][8], lu2[5][8];
    p256_fe_store(lu1, &u1);
    p256_fe_store(lu2, &u2);
    int8_t d1[8][KF_P256_FB_WIN];
    const uint64_t *gtab[8];
    for (int l = 0; l < 8; l++) {
        uint64_t w[4];
        p256_from_limbs(w, lu1, l);
        p256_recode(d1[l], KF_P256_FB_WIN, KF_P256_FB_W, w);
        gtab[l] = p256_g_table;
    }

    struct p256_jac acc;
    memset(&acc, 0, sizeof(acc));
    __mmask8 inf;
    if (all_tables) {
        int8_t d2[8][KF_P256_FB_WIN];
        const uint64_t *qtab[8];
        for (int l = 0; l < 8; l++) {
            uint64_t w[4];
            p256_from_limbs(w, lu2, l);
            p256_recode(d2[l], KF_P256_FB_WIN, KF_P256_FB_W, w);
            qtab[l] = k8[l]->table;
        }
        inf = p256_fb_accumulate(&acc, 0xFF, gtab, d1);
        inf = p256_fb_accumulate(&acc, inf, qtab, d2);
    } else {
        int8_t d2[8][P256_QWIN];
        for (int l = 0; l < 8; l++) {
            uint64_t w[4];
            p256_from_limbs(w, lu2, l);
            p256_recode(d2[l], P256_QWIN, P256_QW, w);
        }
        struct p256_jac gacc;
        memset(&gacc, 0, sizeof(gacc));
        const __mmask8 ginf = p256_fb_accumulate(&gacc, 0xFF, gtab, d1);
        const __mmask8 qinf = p256_var_mul(&acc, k8, d2);
        inf = kf_p256_pt_add(&acc, &acc, qinf, &gacc, ginf);
    }

    /* Accept iff X = r Z^2 or X = (r + n) Z^2 (mod p), both sides in Montgomery form. */
    struct p256_fe z2, rr, c, diff;
    p256_fe_sqr(&z2, &acc.z);
    p256_fe_bc(&rr, p256_rr_p);
    p256_fe_load(&t, lr);
    p256_fe_mul(&t, &t, &rr);
    p256_fe_mul(&c, &t, &z2);
    p256_fe_sub(&diff, &acc.x, &c);
    __mmask8 match = p256_fe_is_zero(&diff);
    if (rn_ok & valid & (__mmask8)~inf) {
        p256_fe_load(&t, lrn);
        p256_fe_mul(&t, &t, &rr);
        p256_fe_mul(&c, &t, &z2);
        p256_fe_sub(&diff, &acc.x, &c);
        match |= p256_fe_is_zero(&diff) & rn_ok;
    }
    /* Z = 0 without the infinity flag cannot happen (the additions flag it, and doubling a
     * point of odd order never gives Z = 0), but such a lane would pass X = r Z^2 for any r
     * when X = 0 too, so it is refused outright: one comparison buys that guarantee. */
    match &= (__mmask8)~p256_fe_is_zero(&acc.z);
    const __mmask8 good = valid & (__mmask8)~inf & match;
    for (unsigned l = 0; l < lanes; l++) {
        ok[l] = (uint8_t)((good >> l) & 1);
    }
}
