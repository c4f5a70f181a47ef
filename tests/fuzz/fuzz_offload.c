/* fuzz_offload covers: kf_offload_key_new_rsa, kf_offload_key_new_ec, kf_offload_verify_many
 * (offload/batch.c, rsa_pkcs1.c and the lanes/ kernels). */
/* tests/fuzz/fuzz_offload.c - signatures and keys come from the network (RRSIGs, DNSKEYs):
 * untrusted. Differential: every input is verified by the kernels and by the scalar backend
 * (OpenSSL), and the verdicts must agree; key construction must agree with OpenSSL's import.
 * Valid signatures are built deterministically so the fuzzer reaches the accepting paths too.
 * No clock, no RNG. */
#include "offload/offload.h"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>
#include <openssl/sha.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* Both backends on one job; their verdicts must agree. */
static void fuzz_both(struct kf_offload_job *job)
{
    static struct kf_offload_engine *lanes, *scalar;
    if (scalar == NULL) {
        struct kf_offload_config c = { .backend = KF_OFFLOAD_BACKEND_SCALAR };
        CHECK(kf_ok(kf_offload_engine_new(&c, &scalar)));
        c.backend = kf_offload_backend_available(KF_OFFLOAD_BACKEND_AVX512IFMA)
                        ? KF_OFFLOAD_BACKEND_AVX512IFMA
                        : KF_OFFLOAD_BACKEND_SCALAR;
        c.min_lanes = 1; /* one job must still go through the kernel */
        CHECK(kf_ok(kf_offload_engine_new(&c, &lanes)));
    }
    struct kf_offload_job a = *job, b = *job;
    kf_offload_verify_many(lanes, &a, 1);
    kf_offload_verify_many(scalar, &b, 1);
    CHECK(a.verdict == b.verdict && a.err == b.err);
    CHECK(a.verdict == KF_OFFLOAD_VALID || a.verdict == KF_OFFLOAD_INVALID);
    if (getenv("KF_FUZZ_TRACE") != NULL) { /* shows which inputs reach the accepting path */
        fprintf(stderr, "fuzz_offload: alg %d %s\n", (int)job->alg,
                a.verdict == KF_OFFLOAD_VALID ? "valid" : "invalid");
    }
}

/* EMSA-PKCS1-v1_5 of SHA-256(msg) into em[k], then bytes of @p mask XORed in. */
static void fuzz_em(uint8_t *em, size_t k, const uint8_t *msg, size_t msg_len, const uint8_t *mask,
                    size_t mask_len)
{
    static const uint8_t prefix[] = { 0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
                                      0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20 };
    memset(em, 0xff, k);
    em[0] = 0;
    em[1] = 1;
    size_t t = sizeof(prefix) + 32;
    em[k - t - 1] = 0;
    memcpy(em + k - t, prefix, sizeof(prefix));
    SHA256(msg, msg_len, em + k - 32);
    for (size_t i = 0; i < mask_len && i < k; i++) {
        em[i] ^= mask[i];
    }
}

/* RSA with an arbitrary odd modulus. e = 1 makes the signature its own encoding, so the input
 * reaches valid signatures and every padding defect without a private key. */
static void fuzz_rsa(const uint8_t *d, size_t size)
{
    if (size < 2 + 128) {
        return;
    }
    size_t k = (d[0] & 1) ? 256 : 128;
    uint8_t e = d[1] & 0x7f;
    if (e == 0) {
        e = 1;
    }
    bool raw = (d[1] & 0x80) != 0;
    d += 2;
    size -= 2;
    if (size < k) {
        return;
    }
    uint8_t n[256];
    memcpy(n, d, k);
    n[0] |= 0x80; /* full length */
    n[k - 1] |= 1;
    d += k;
    size -= k;
    struct kf_offload_key *key = NULL;
    uint8_t ee = (uint8_t)(e | 1);
    kf_result r = kf_offload_key_new_rsa(n, k, &ee, 1, 0, &key);
    if (!kf_ok(r)) {
        return;
    }
    uint8_t sig[256];
    size_t sig_len = k;
    const uint8_t *msg = d;
    size_t msg_len = size;
    if (raw) { /* the signature straight from the input */
        sig_len = size < k ? size : k;
        memcpy(sig, d, sig_len);
        msg = d + sig_len;
        msg_len = size - sig_len;
    } else { /* a well-formed encoding, lightly damaged by the first input bytes */
        size_t mask_len = size > 8 ? 8 : size;
        uint8_t mask[8] = { 0 };
        memcpy(mask, d, mask_len);
        /* Most inputs should stay valid: only a set top bit of the first byte damages. */
        if ((mask[0] & 0x80) == 0) {
            memset(mask, 0, sizeof(mask));
        }
        fuzz_em(sig, k, d + mask_len, size - mask_len, mask + 1, mask_len > 0 ? mask_len - 1 : 0);
        msg = d + mask_len;
        msg_len = size - mask_len;
    }
    struct kf_offload_job job = { .alg = KF_OFFLOAD_RSA_PKCS1_SHA256,
                                  .key = key,
                                  .msg = msg,
                                  .msg_len = msg_len,
                                  .sig = sig,
                                  .sig_len = sig_len };
    fuzz_both(&job);
    kf_offload_key_free(key);
}

/* P-256: a raw point from the input, or Q = d·G with a signature made from the input's nonce
 * (R = k·G, r = x(R) mod n, s = k^-1 (e + r·d) mod n), then damaged by a mask. */
static void fuzz_p256(const uint8_t *d, size_t size)
{
    if (size < 1 + 64 + 64) {
        return;
    }
    bool raw = (d[0] & 1) != 0;
    d++;
    size--;
    uint8_t xy[64], sig[64];
    const uint8_t *msg = d + 128;
    size_t msg_len = size - 128;
    uint8_t dg[32];
    SHA256(msg, msg_len, dg);
    if (raw) {
        memcpy(xy, d, 64);
        memcpy(sig, d + 64, 64);
    } else {
        EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
        BN_CTX *bc = BN_CTX_new();
        BIGNUM *priv = BN_bin2bn(d, 32, NULL), *nonce = BN_bin2bn(d + 32, 32, NULL);
        BIGNUM *x = BN_new(), *y = BN_new(), *r = BN_new(), *s = BN_new(), *e = BN_new();
        EC_POINT *q = EC_POINT_new(g), *rp = EC_POINT_new(g);
        CHECK(g && bc && priv && nonce && x && y && r && s && e && q && rp);
        const BIGNUM *order = EC_GROUP_get0_order(g);
        CHECK(BN_nnmod(priv, priv, order, bc) && BN_nnmod(nonce, nonce, order, bc));
        if (BN_is_zero(priv)) {
            CHECK(BN_one(priv));
        }
        if (BN_is_zero(nonce)) {
            CHECK(BN_one(nonce));
        }
        CHECK(EC_POINT_mul(g, q, priv, NULL, NULL, bc) &&
              EC_POINT_mul(g, rp, nonce, NULL, NULL, bc));
        CHECK(EC_POINT_get_affine_coordinates(g, q, x, y, bc));
        CHECK(BN_bn2binpad(x, xy, 32) == 32 && BN_bn2binpad(y, xy + 32, 32) == 32);
        CHECK(EC_POINT_get_affine_coordinates(g, rp, x, NULL, bc) && BN_nnmod(r, x, order, bc));
        CHECK(BN_bin2bn(dg, 32, e) && BN_mod_mul(s, r, priv, order, bc) &&
              BN_mod_add(s, s, e, order, bc) && BN_mod_inverse(nonce, nonce, order, bc) &&
              BN_mod_mul(s, s, nonce, order, bc));
        CHECK(BN_bn2binpad(r, sig, 32) == 32 && BN_bn2binpad(s, sig + 32, 32) == 32);
        /* Damage only when the mask's first byte says so, so valid cases stay common. */
        if ((d[64] & 0x80) != 0) {
            for (size_t i = 1; i < 64; i++) {
                sig[i] ^= d[64 + i];
            }
        }
        EC_POINT_free(q);
        EC_POINT_free(rp);
        BN_free(priv);
        BN_free(nonce);
        BN_free(x);
        BN_free(y);
        BN_free(r);
        BN_free(s);
        BN_free(e);
        BN_CTX_free(bc);
        EC_GROUP_free(g);
    }
    struct kf_offload_key *key = NULL;
    kf_result kr = kf_offload_key_new_ec(KF_OFFLOAD_ECDSA_P256_SHA256, xy, 64, 0, &key);
    if (!kf_ok(kr)) {
        CHECK(raw); /* a point made as d·G is always a valid key */
        return;
    }
    /* OpenSSL took the point: the kernel must take it too. */
    CHECK(kf_offload_key_has_lanes(key) ||
          !kf_offload_backend_available(KF_OFFLOAD_BACKEND_AVX512IFMA));
    struct kf_offload_job job = { .alg = KF_OFFLOAD_ECDSA_P256_SHA256,
                                  .key = key,
                                  .msg = msg,
                                  .msg_len = msg_len,
                                  .sig = sig,
                                  .sig_len = 64 };
    fuzz_both(&job);
    kf_offload_key_free(key);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    if ((data[0] & 1) == 0) {
        fuzz_rsa(data + 1, size - 1);
    } else {
        fuzz_p256(data + 1, size - 1);
    }
    return 0;
}
