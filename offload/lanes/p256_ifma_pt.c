/* keyfort offload: lane-sliced P-256 point arithmetic and fixed-base tables (IFMA kernel).
 *
 * Formulas: Jacobian coordinates with a = -3 from the Explicit-Formulas Database
 * (hyperelliptic.org/EFD/g1p/auto-shortw-jacobian-3.html: dbl-2001-b, add-1998-cmo-2 and its
 * Z2 = 1 specialisation). They are incomplete, so the additions detect H = 0 per lane (the
 * inputs have equal x) and fix those lanes up: doubling when the y agree, infinity when not.
 */
#include "offload/lanes/p256_ifma_pt.h"

#include <stdlib.h>
#include <string.h>

const uint64_t kf_p256_one[5] = { 0x10, 0xf000000000000, 0xfffffffffffff, 0xffeffffffffff,
                                  0xfffff };
const uint64_t kf_p256_p[5] = { P256_P0, P256_P1, P256_P2, P256_P3, P256_P4 };
const uint64_t kf_p256_n[5] = { P256_N0, P256_N1, P256_N2, P256_N3, P256_N4 };

void kf_p256_pt_dbl(struct p256_jac *r, const struct p256_jac *a)
{
    struct p256_fe delta, gamma, beta, t1, t2, m, y2, x3, y3, z3;
    __m512i t[5];

    p256_fe_sqr(&delta, &a->z);
    p256_fe_sqr(&gamma, &a->y);
    p256_fe_mul(&beta, &a->x, &gamma);
    /* alpha = 3 (X - delta)(X + delta) = 3 m: a = -3 turns 3X^2 + a Z^4 into a product. The
     * factors are < 4p and only normalised, not folded: a product of two values < 4p is
     * still < p R. alpha itself is never formed; the 3 goes into X3 and Y3 below. */
#pragma GCC unroll 10
    for (int i = 0; i < 5; i++) {
        t[i] = _mm512_add_epi64(_mm512_sub_epi64(a->x.l[i], delta.l[i]), p256_plimb(i, 2));
    }
    p256_fe_norm(&t1, t);
#pragma GCC unroll 10
    for (int i = 0; i < 5; i++) {
        t[i] = _mm512_add_epi64(a->x.l[i], delta.l[i]);
    }
    p256_fe_norm(&t2, t);
    p256_fe_mul(&m, &t1, &t2);
    /* Z3 = 2 Y Z: (2Y < 4p) * (Z < 2p) needs no folding either. */
#pragma GCC unroll 10
    for (int i = 0; i < 5; i++) {
        t[i] = _mm512_add_epi64(a->y.l[i], a->y.l[i]);
    }
    p256_fe_norm(&y2, t);
    p256_fe_mul(&z3, &y2, &a->z);
    /* X3 = alpha^2 - 8 beta = 9 m^2 - 8 beta */
    p256_fe_sqr(&t1, &m);
#pragma GCC unroll 10
    for (int i = 0; i < 5; i++) {
        t[i] = _mm512_add_epi64(_mm512_slli_epi64(t1.l[i], 3), t1.l[i]);
        t[i] = _mm512_sub_epi64(t[i], _mm512_slli_epi64(beta.l[i], 3));
        t[i] = _mm512_add_epi64(t[i], p256_plimb(i, 16));
    }
    p256_fe_reduce(&x3, t);
    /* Y3 = alpha (4 beta - X3) - 8 gamma^2 = 3 m (4 beta - X3) - 8 gamma^2 */
    p256_fe_lin(&t1, 4, &beta, 1, &x3);
    p256_fe_mul(&t1, &m, &t1);
    p256_fe_sqr(&t2, &gamma);
#pragma GCC unroll 10
    for (int i = 0; i < 5; i++) {
        t[i] = _mm512_add_epi64(_mm512_slli_epi64(t1.l[i], 1), t1.l[i]);
        t[i] = _mm512_sub_epi64(t[i], _mm512_slli_epi64(t2.l[i], 3));
        t[i] = _mm512_add_epi64(t[i], p256_plimb(i, 16));
    }
    p256_fe_reduce(&y3, t);
    r->x = x3;
    r->y = y3;
    r->z = z3;
}

/* Shared tail of both additions: given U1 (X of a scaled to b's Z), S1, H = U2 - U1,
 * R = S2 - S1 and Zh = Z1 Z2 (Z1 for mixed), compute a + b and patch exceptional lanes. */
static __mmask8 p256_add_tail(struct p256_jac *out, const struct p256_fe *u1,
                              const struct p256_fe *s1, const struct p256_fe *h,
                              const struct p256_fe *rr, const struct p256_fe *zh,
                              const struct p256_jac *a, __mmask8 a_inf, __mmask8 b_inf)
{
    struct p256_fe hh, hhh, v, t, x3, y3, z3;

    p256_fe_sqr(&hh, h);
    p256_fe_mul(&hhh, h, &hh);
    p256_fe_mul(&v, u1, &hh);
    /* X3 = R^2 - H^3 - 2 V */
    p256_fe_sqr(&t, rr);
    p256_fe_sub2(&x3, &t, &hhh, 2, &v);
    /* Y3 = R (V - X3) - S1 H^3 */
    p256_fe_sub(&t, &v, &x3);
    p256_fe_mul(&t, rr, &t);
    p256_fe_mul(&y3, s1, &hhh);
    p256_fe_sub(&y3, &t, &y3);
    /* Z3 = Z1 Z2 H */
    p256_fe_mul(&z3, zh, h);

    const __mmask8 live = (__mmask8)(~a_inf & ~b_inf);
    __mmask8 inf = a_inf & b_inf;
    const __mmask8 hz = p256_fe_is_zero(h) & live;
    if (hz) {
        /* Same x: b = a (double) or b = -a (infinity). Rare, so the doubling is computed
         * for all lanes only when some lane needs it. */
        const __mmask8 rz = p256_fe_is_zero(rr) & hz;
        inf |= hz & (__mmask8)~rz;
        if (rz) {
            struct p256_jac d;
            kf_p256_pt_dbl(&d, a);
            p256_fe_blend(&x3, rz, &x3, &d.x);
            p256_fe_blend(&y3, rz, &y3, &d.y);
            p256_fe_blend(&z3, rz, &z3, &d.z);
        }
    }
    out->x = x3;
    out->y = y3;
    out->z = z3;
    return inf;
}

__mmask8 kf_p256_pt_madd(struct p256_jac *r, const struct p256_jac *a, __mmask8 a_inf,
                         const struct p256_aff *b, __mmask8 b_inf)
{
    struct p256_fe z1z1, u2, s2, h, rr, t;
    struct p256_jac sum;

    p256_fe_sqr(&z1z1, &a->z);
    p256_fe_mul(&u2, &b->x, &z1z1);
    p256_fe_mul(&t, &a->z, &z1z1);
    p256_fe_mul(&s2, &b->y, &t);
    p256_fe_sub(&h, &u2, &a->x);
    p256_fe_sub(&rr, &s2, &a->y);
    __mmask8 inf = p256_add_tail(&sum, &a->x, &a->y, &h, &rr, &a->z, a, a_inf, b_inf);

    /* a at infinity: the sum is b, lifted with Z = 1. */
    const __mmask8 take_b = a_inf & (__mmask8)~b_inf;
    if (take_b) {
        struct p256_fe one;
        p256_fe_bc(&one, kf_p256_one);
        p256_fe_blend(&sum.x, take_b, &sum.x, &b->x);
        p256_fe_blend(&sum.y, take_b, &sum.y, &b->y);
        p256_fe_blend(&sum.z, take_b, &sum.z, &one);
    }
    /* b at infinity: the sum is a. */
    p256_fe_blend(&r->x, b_inf, &sum.x, &a->x);
    p256_fe_blend(&r->y, b_inf, &sum.y, &a->y);
    p256_fe_blend(&r->z, b_inf, &sum.z, &a->z);
    return (__mmask8)((inf & (__mmask8)~b_inf) | (a_inf & b_inf));
}

__mmask8 kf_p256_pt_add(struct p256_jac *r, const struct p256_jac *a, __mmask8 a_inf,
                        const struct p256_jac *b, __mmask8 b_inf)
{
    struct p256_fe z1z1, z2z2, u1, u2, s1, s2, h, rr, t, zh;
    struct p256_jac sum;

    p256_fe_sqr(&z1z1, &a->z);
    p256_fe_sqr(&z2z2, &b->z);
    p256_fe_mul(&u1, &a->x, &z2z2);
    p256_fe_mul(&u2, &b->x, &z1z1);
    p256_fe_mul(&t, &b->z, &z2z2);
    p256_fe_mul(&s1, &a->y, &t);
    p256_fe_mul(&t, &a->z, &z1z1);
    p256_fe_mul(&s2, &b->y, &t);
    p256_fe_sub(&h, &u2, &u1);
    p256_fe_sub(&rr, &s2, &s1);
    p256_fe_mul(&zh, &a->z, &b->z);
    __mmask8 inf = p256_add_tail(&sum, &u1, &s1, &h, &rr, &zh, a, a_inf, b_inf);

    const __mmask8 take_b = a_inf & (__mmask8)~b_inf;
    p256_fe_blend(&sum.x, take_b, &sum.x, &b->x);
    p256_fe_blend(&sum.y, take_b, &sum.y, &b->y);
    p256_fe_blend(&sum.z, take_b, &sum.z, &b->z);
    p256_fe_blend(&r->x, b_inf, &sum.x, &a->x);
    p256_fe_blend(&r->y, b_inf, &sum.y, &a->y);
    p256_fe_blend(&r->z, b_inf, &sum.z, &a->z);
    return (__mmask8)((inf & (__mmask8)~b_inf) | (a_inf & b_inf));
}

void kf_p256_fe_inv(struct p256_fe *r, const struct p256_fe *a)
{
    /* p - 2, most significant word first; a plain left-to-right square-and-multiply is
     * enough here (table building only, not on the verification path). */
    static const uint64_t e[4] = { 0xFFFFFFFF00000001ull, 0x0000000000000000ull,
                                   0x00000000FFFFFFFFull, 0xFFFFFFFFFFFFFFFDull };
    struct p256_fe acc = *a;
    /* The top bit of p - 2 is set: start from a and scan the remaining 255 bits. */
    for (int bit = 254; bit >= 0; bit--) {
        p256_fe_sqr(&acc, &acc);
        if ((e[3 - bit / 64] >> (bit % 64)) & 1) {
            p256_fe_mul(&acc, &acc, a);
        }
    }
    *r = acc;
}

void kf_p256_table_gather(struct p256_aff *r, const uint64_t *const tab[8], const int64_t idx[8],
                          __mmask8 neg)
{
    /* Offsets in limbs from tab[0], so one base address serves lanes with different tables
     * (per-key tables of different keys in one call). */
    int64_t off[8];
    for (int l = 0; l < 8; l++) {
        off[l] = (int64_t)(((uintptr_t)tab[l] - (uintptr_t)tab[0]) / sizeof(uint64_t)) +
                 idx[l] * KF_P256_FB_ENTRY;
    }
    const __m512i vi = _mm512_loadu_si512(off);
    const long long *base = (const long long *)tab[0];
    for (int i = 0; i < 5; i++) {
        r->x.l[i] = _mm512_i64gather_epi64(vi, base + i, 8);
        r->y.l[i] = _mm512_i64gather_epi64(vi, base + 5 + i, 8);
    }
    if (neg) {
        /* y < p in the table, so p - y is in (0, p): a signed carry pass normalises it. */
        __m512i t[5];
        for (int i = 0; i < 5; i++) {
            t[i] = _mm512_mask_sub_epi64(r->y.l[i], neg, p256_bc(kf_p256_p[i]), r->y.l[i]);
        }
        p256_carry(t);
        for (int i = 0; i < 5; i++) {
            r->y.l[i] = t[i];
        }
    }
}

/* Convert nj Jacobian vectors to affine, fully reduced, with one inversion per lane
 * (Montgomery's simultaneous-inversion trick down the nj vectors). */
static bool p256_batch_to_affine(struct p256_aff *out, const struct p256_jac *in, size_t nj)
{
    struct p256_fe *pre = aligned_alloc(64, nj * sizeof(*pre));
    if (pre == NULL) {
        return false;
    }
    pre[0] = in[0].z;
    for (size_t k = 1; k < nj; k++) {
        p256_fe_mul(&pre[k], &pre[k - 1], &in[k].z);
    }
    struct p256_fe inv, zi, zi2;
    kf_p256_fe_inv(&inv, &pre[nj - 1]);
    for (size_t k = nj; k-- > 0;) {
        if (k > 0) {
            p256_fe_mul(&zi, &inv, &pre[k - 1]);
            p256_fe_mul(&inv, &inv, &in[k].z);
        } else {
            zi = inv;
        }
        p256_fe_sqr(&zi2, &zi);
        p256_fe_mul(&out[k].x, &in[k].x, &zi2);
        p256_fe_mul(&zi2, &zi2, &zi);
        p256_fe_mul(&out[k].y, &in[k].y, &zi2);
        p256_canon(&out[k].x, &out[k].x, kf_p256_p);
        p256_canon(&out[k].y, &out[k].y, kf_p256_p);
    }
    free(pre);
    return true;
}

bool kf_p256_table_build(uint64_t *table, const struct p256_aff *base)
{
    /* Lane l of group g holds j = 8g + l + 1; seven doublings move all eight multiples
     * j * 2^(7i) P of window i to window i + 1 at once, so every lane does useful work. */
    struct p256_jac d[8], v, step;
    struct p256_fe one;
    p256_fe_bc(&one, kf_p256_one);

    d[0].x = base->x;
    d[0].y = base->y;
    d[0].z = one;
    kf_p256_pt_dbl(&d[1], &d[0]);
    for (int k = 2; k < 8; k++) {
        kf_p256_pt_madd(&d[k], &d[k - 1], 0, base, 0);
    }
    v = d[0];
    for (int k = 1; k < 8; k++) {
        const __mmask8 m = (__mmask8)(1u << k);
        p256_fe_blend(&v.x, m, &v.x, &d[k].x);
        p256_fe_blend(&v.y, m, &v.y, &d[k].y);
        p256_fe_blend(&v.z, m, &v.z, &d[k].z);
    }
    step = d[7];

    struct p256_jac *jac = aligned_alloc(64, KF_P256_FB_WIN * sizeof(*jac));
    struct p256_aff *aff = aligned_alloc(64, KF_P256_FB_WIN * sizeof(*aff));
    bool ok = jac != NULL && aff != NULL;
    for (int g = 0; ok && g < KF_P256_FB_PTS / 8; g++) {
        if (g > 0) {
            kf_p256_pt_add(&v, &v, 0, &step, 0);
        }
        struct p256_jac cur = v;
        for (int w = 0; w < KF_P256_FB_WIN; w++) {
            jac[w] = cur;
            if (w + 1 < KF_P256_FB_WIN) {
                for (int k = 0; k < KF_P256_FB_W; k++) {
                    kf_p256_pt_dbl(&cur, &cur);
                }
            }
        }
        ok = p256_batch_to_affine(aff, jac, KF_P256_FB_WIN);
        for (int w = 0; ok && w < KF_P256_FB_WIN; w++) {
            uint64_t xs[5][8], ys[5][8];
            for (int i = 0; i < 5; i++) {
                _mm512_storeu_si512(xs[i], aff[w].x.l[i]);
                _mm512_storeu_si512(ys[i], aff[w].y.l[i]);
            }
            for (int l = 0; l < 8; l++) {
                uint64_t *e = table + ((size_t)w * KF_P256_FB_PTS + (size_t)g * 8 + (size_t)l) *
                                          KF_P256_FB_ENTRY;
                for (int i = 0; i < 5; i++) {
                    e[i] = xs[i][l];
                    e[5 + i] = ys[i][l];
                }
            }
        }
    }
    free(jac);
    free(aff);
    return ok;
}
