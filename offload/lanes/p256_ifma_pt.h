/* keyfort offload: lane-sliced P-256 point arithmetic and fixed-base tables (IFMA kernel).
 *
 * Points are Jacobian (X/Z^2, Y/Z^3) or affine, coordinates in Montgomery form as in
 * p256_ifma_fe.h. The point at infinity has no coordinates here: every function takes and
 * returns a per-lane mask of the lanes holding it, whose coordinates are then meaningless
 * (but still weakly reduced, so arithmetic on them is harmless).
 *
 * Internal to lanes/p256_*.c (compiled with AVX-512 IFMA; see offload/CMakeLists.txt).
 */
#ifndef KF_OFFLOAD_LANES_P256_IFMA_PT_H
#define KF_OFFLOAD_LANES_P256_IFMA_PT_H

#include "offload/lanes/p256_ifma_fe.h"

#include <stdbool.h>

struct p256_jac {
    struct p256_fe x, y, z;
};

struct p256_aff {
    struct p256_fe x, y;
};

/* Fixed-base tables: window i (of KF_P256_FB_WIN, KF_P256_FB_W bits each, signed digits)
 * holds j * 2^(W i) * P for j = 1 .. 2^(W-1), each as KF_P256_FB_ENTRY limbs: x then y,
 * affine, Montgomery form, fully reduced (< p). 37 windows of 7 bits cover a 256-bit scalar
 * plus the Booth carry. */
#define KF_P256_FB_W 7
#define KF_P256_FB_WIN 37
#define KF_P256_FB_PTS 64
#define KF_P256_FB_ENTRY 10
#define KF_P256_FB_LIMBS ((size_t)KF_P256_FB_WIN * KF_P256_FB_PTS * KF_P256_FB_ENTRY)

/* R mod p (Montgomery one) in limbs. */
extern const uint64_t kf_p256_one[5];
extern const uint64_t kf_p256_p[5];
extern const uint64_t kf_p256_n[5];

/* r = 2a (dbl-2001-b for a = -3). Lanes at infinity stay at infinity (the caller's mask);
 * P-256 has no point of order 2, so a finite point never doubles to infinity. */
void kf_p256_pt_dbl(struct p256_jac *r, const struct p256_jac *a);

/* r = a + b with b affine (mixed addition, add-1998-cmo-2 with Z2 = 1). Handles every case
 * lane by lane: either input at infinity, b = a (falls back to doubling) and b = -a. r may
 * alias a. Returns the lanes where r is at infinity. */
__mmask8 kf_p256_pt_madd(struct p256_jac *r, const struct p256_jac *a, __mmask8 a_inf,
                         const struct p256_aff *b, __mmask8 b_inf);

/* r = a + b, both Jacobian, same exceptional-case handling as kf_p256_pt_madd. */
__mmask8 kf_p256_pt_add(struct p256_jac *r, const struct p256_jac *a, __mmask8 a_inf,
                        const struct p256_jac *b, __mmask8 b_inf);

/* r = a^-1 (Montgomery form in and out) for a != 0 mod p, by Fermat: a^(p-2). */
void kf_p256_fe_inv(struct p256_fe *r, const struct p256_fe *a);

/* Fill @p table (KF_P256_FB_LIMBS limbs) for the affine point in lane 0 of @p base (all lanes
 * are read; give the same point in every lane). Returns false on allocation failure. */
bool kf_p256_table_build(uint64_t *table, const struct p256_aff *base);

/* Gather one table entry per lane: lane l reads entry idx[l] (an entry number, not a byte
 * offset) of the table at tab[l], and negates y in the lanes of @p neg. */
void kf_p256_table_gather(struct p256_aff *r, const uint64_t *const tab[8], const int64_t idx[8],
                          __mmask8 neg);

#endif
