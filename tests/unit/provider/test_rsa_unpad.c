/* tests/unit/provider/test_rsa_unpad.c - provider/rsa_unpad.c (STYLE.md s14).
 *
 * OpenSSL's own RSA padding code (the RSA_padding_* API, deprecated in 3.0 but present) is the
 * second encoder and the oracle of the differential tests: the strict PKCS#1 v1.5 and the OAEP
 * decoders must accept exactly what OpenSSL accepts and return the same message. The implicit
 * rejection output is compared with a plain (not constant-time) model of the synthetic message
 * of draft-irtf-cfrg-rsa-guidance as OpenSSL 3.2 computes it, keyed by the caller's secret.
 *
 * Mutations come from a seeded PRNG (no clock), so a failure names a reproducible case number;
 * OpenSSL's encoders draw PS and seeds from RAND_bytes, so failures print the encoded message. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "provider/rsa_unpad.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define MAX_K 512

/* ---- helpers ------------------------------------------------------------------------------ */

/* splitmix64: deterministic, so every case is reproducible from (seed, case number). */
static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static size_t rng_below(uint64_t *s, size_t n)
{
    return (size_t)(rng_next(s) % n);
}

static uint8_t rng_byte(uint64_t *s)
{
    return (uint8_t)rng_next(s);
}

static uint8_t rng_nonzero(uint64_t *s)
{
    return (uint8_t)(1 + rng_below(s, 255));
}

static void rng_fill(uint64_t *s, uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        p[i] = rng_byte(s);
    }
}

/* Hex of up to MAX_K bytes for failure messages; two rotating buffers, so one message can show
 * two values. */
static const char *hex(const uint8_t *p, size_t n)
{
    static char bufs[2][2 * MAX_K + 1];
    static int which;
    char *b = bufs[which];
    which ^= 1;
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n && i < MAX_K; i++) {
        b[2 * i] = digits[p[i] >> 4];
        b[2 * i + 1] = digits[p[i] & 15];
    }
    b[2 * (n < MAX_K ? n : MAX_K)] = '\0';
    return b;
}

static const EVP_MD *md_by_name(const char *name)
{
    const EVP_MD *md = EVP_get_digestbyname(name);
    cr_assert_not_null(md, "digest %s", name);
    return md;
}

/* 00 02 PS 00 M, PS being k - 3 - mlen non-zero bytes. */
static void pkcs1_encode(uint64_t *s, uint8_t *em, size_t k, const uint8_t *m, size_t mlen)
{
    cr_assert(mlen + 11 <= k);
    em[0] = 0x00;
    em[1] = 0x02;
    for (size_t i = 2; i < k - mlen - 1; i++) {
        em[i] = rng_nonzero(s);
    }
    em[k - mlen - 1] = 0x00;
    memcpy(em + k - mlen, m, mlen);
}

static void ossl_pkcs1_encode(uint8_t *em, size_t k, const uint8_t *m, size_t mlen)
{
    cr_assert_eq(RSA_padding_add_PKCS1_type_2(em, (int)k, m, (int)mlen), 1, "k=%zu mlen=%zu", k,
                 mlen);
}

/* OpenSSL's verdict: -1 for a bad padding, else the message length (message in @p out). */
static int ossl_pkcs1_check(const uint8_t *em, size_t k, uint8_t *out)
{
    int n = RSA_padding_check_PKCS1_type_2(out, (int)k, em, (int)k, (int)k);
    ERR_clear_error();
    return n;
}

static int ossl_oaep_check(const uint8_t *em, size_t k, const EVP_MD *md, const EVP_MD *mgf1,
                           const uint8_t *label, size_t label_len, uint8_t *out)
{
    int n = RSA_padding_check_PKCS1_OAEP_mgf1(out, (int)k, em, (int)k, (int)k, label,
                                              (int)label_len, md, mgf1);
    ERR_clear_error();
    return n;
}

static void ossl_oaep_encode(uint8_t *em, size_t k, const EVP_MD *md, const EVP_MD *mgf1,
                             const uint8_t *label, size_t label_len, const uint8_t *m, size_t mlen)
{
    cr_assert_eq(
        RSA_padding_add_PKCS1_OAEP_mgf1(em, (int)k, m, (int)mlen, label, (int)label_len, md, mgf1),
        1, "k=%zu mlen=%zu", k, mlen);
}

/* DB = lHash || zeros || 01 || M (RFC 8017 7.1.1 step 2), before masking. */
static void oaep_db(uint8_t *db, size_t db_len, const EVP_MD *md, const uint8_t *label,
                    size_t label_len, const uint8_t *m, size_t mlen)
{
    size_t h = (size_t)EVP_MD_get_size(md);
    cr_assert(h + 1 + mlen <= db_len);
    cr_assert_eq(
        EVP_Digest(label_len > 0 ? label : (const uint8_t *)"", label_len, db, NULL, md, NULL), 1);
    memset(db + h, 0, db_len - h);
    db[db_len - mlen - 1] = 0x01;
    memcpy(db + db_len - mlen, m, mlen);
}

/* EM = 00 || seed ^ MGF(maskedDB) || DB ^ MGF(seed), with OpenSSL's MGF1, so that a DB can be
 * damaged on purpose before masking. */
static void oaep_mask(uint8_t *em, size_t k, size_t h, const EVP_MD *mgf1, const uint8_t *seed,
                      const uint8_t *db)
{
    size_t db_len = k - 1 - h;
    uint8_t mask[MAX_K];
    em[0] = 0x00;
    cr_assert_eq(PKCS1_MGF1(mask, (long)db_len, seed, (long)h, mgf1), 0);
    for (size_t i = 0; i < db_len; i++) {
        em[1 + h + i] = db[i] ^ mask[i];
    }
    cr_assert_eq(PKCS1_MGF1(mask, (long)h, em + 1 + h, (long)db_len, mgf1), 0);
    for (size_t i = 0; i < h; i++) {
        em[1 + i] = seed[i] ^ mask[i];
    }
}

/* ---- implicit rejection model ------------------------------------------------------------- */

static void ref_hmac(const uint8_t *key, size_t key_len, const uint8_t *msg, size_t msg_len,
                     uint8_t out[32])
{
    unsigned int n = 0;
    cr_assert_not_null(HMAC(EVP_sha256(), key, (int)key_len, msg, msg_len, out, &n));
    cr_assert_eq(n, 32);
}

/* PRF(kdk, label, bits): HMAC-SHA256 blocks over be16(i) || label || be16(bits). */
static void ref_prf(const uint8_t kdk[32], const char *label, uint8_t *out, size_t out_len)
{
    size_t label_len = strlen(label);
    size_t bits = out_len * 8;
    for (size_t i = 0, done = 0; done < out_len; i++, done += 32) {
        uint8_t msg[64];
        size_t n = 0;
        msg[n++] = (uint8_t)(i >> 8);
        msg[n++] = (uint8_t)i;
        memcpy(msg + n, label, label_len);
        n += label_len;
        msg[n++] = (uint8_t)(bits >> 8);
        msg[n++] = (uint8_t)bits;
        uint8_t block[32];
        ref_hmac(kdk, 32, msg, n, block);
        memcpy(out + done, block, out_len - done < 32 ? out_len - done : 32);
    }
}

/* The synthetic message for ciphertext @p c: KDK = HMAC(secret, c); 128 candidate lengths from
 * PRF(KDK, "length", 2048), each masked with the smallest 2^n - 1 >= k - 10 (max_sep_offset in
 * OpenSSL 3.2's rsa_pk1.c and tlslite-ng), the last one below k - 10 taken; the message is the
 * tail of that length of PRF(KDK, "message", 8k). */
static size_t ref_synthetic(const uint8_t *secret, const uint8_t *c, size_t k, uint8_t *out)
{
    uint8_t kdk[32];
    uint8_t lengths[256];
    uint8_t syn[MAX_K];
    ref_hmac(secret, KF_RSA_IR_SECRET_LEN, c, k, kdk);
    ref_prf(kdk, "length", lengths, sizeof(lengths));
    ref_prf(kdk, "message", syn, k);
    size_t max_sep_offset = k - 10;
    size_t mask = 1;
    while (mask < max_sep_offset) {
        mask = (mask << 1) | 1;
    }
    size_t len = 0;
    for (size_t i = 0; i < sizeof(lengths); i += 2) {
        size_t cand = (((size_t)lengths[i] << 8) | lengths[i + 1]) & mask;
        if (cand < max_sep_offset) {
            len = cand;
        }
    }
    memcpy(out, syn + k - len, len);
    return len;
}

static size_t ir_call(const uint8_t *em, const uint8_t *c, size_t k, const uint8_t *secret,
                      uint8_t *out)
{
    size_t len = SIZE_MAX;
    kf_result r = kf_rsa_unpad_pkcs1_ir(NULL, em, c, k, secret, out, k, &len);
    cr_assert(kf_ok(r), "ir: k=%zu code=%d em=%s", k, r.code, hex(em, k));
    cr_assert_leq(len, k - 11, "ir: k=%zu len=%zu em=%s", k, len, hex(em, k));
    return len;
}

/* ---- PKCS#1 v1.5: valid encodings --------------------------------------------------------- */

struct pkcs1_valid_case {
    size_t k;
    size_t mlen;
};

ParameterizedTestParameters(pkcs1, valid_roundtrip)
{
    static struct pkcs1_valid_case cases[] = {
        { 256, 0 },   { 256, 1 },   { 256, 16 },  { 256, 32 },  { 256, 48 },
        { 256, 100 }, { 256, 244 }, { 256, 245 }, { 384, 0 },   { 384, 1 },
        { 384, 48 },  { 384, 200 }, { 384, 372 }, { 384, 373 }, { 64, 0 },
        { 64, 53 },   { 12, 0 },    { 12, 1 },    { 512, 0 },   { 512, 501 },
    };
    return cr_make_param_array(struct pkcs1_valid_case, cases, sizeof(cases) / sizeof(cases[0]));
}

/* Both decoders return M for our encoding and for OpenSSL's, with any ciphertext and secret. */
ParameterizedTest(struct pkcs1_valid_case *p, pkcs1, valid_roundtrip)
{
    uint64_t s = 0x1000 + p->k * 1000 + p->mlen;
    uint8_t m[MAX_K], em[MAX_K], c[MAX_K], secret[KF_RSA_IR_SECRET_LEN], out[MAX_K];
    rng_fill(&s, secret, sizeof(secret));
    for (int round = 0; round < 20; round++) {
        rng_fill(&s, m, p->mlen);
        rng_fill(&s, c, p->k);
        if (round % 2 == 0) {
            pkcs1_encode(&s, em, p->k, m, p->mlen);
        } else {
            ossl_pkcs1_encode(em, p->k, m, p->mlen);
        }
        uint8_t ref[MAX_K];
        cr_assert_eq(ossl_pkcs1_check(em, p->k, ref), (int)p->mlen, "oracle: em=%s", hex(em, p->k));

        size_t len = SIZE_MAX;
        memset(out, 0xEE, sizeof(out));
        kf_result r = kf_rsa_unpad_pkcs1_strict(em, p->k, out, p->k, &len);
        cr_assert(kf_ok(r), "strict rejects a valid encoding: code=%d em=%s", r.code,
                  hex(em, p->k));
        cr_assert_eq(len, p->mlen, "strict: em=%s", hex(em, p->k));
        cr_assert_arr_eq(out, m, p->mlen, "strict: em=%s", hex(em, p->k));

        memset(out, 0xEE, sizeof(out));
        len = ir_call(em, c, p->k, secret, out);
        cr_assert_eq(len, p->mlen, "ir: em=%s", hex(em, p->k));
        cr_assert_arr_eq(out, m, p->mlen, "ir: em=%s", hex(em, p->k));
    }
}

/* The shortest padding string (8 bytes, separator at index 10) is valid; 7 bytes is not. */
Test(pkcs1, ps_length_boundary)
{
    uint64_t s = 77;
    uint8_t em[256], out[256];
    size_t len = 0;
    for (size_t sep = 2; sep < 20; sep++) {
        em[0] = 0;
        em[1] = 2;
        for (size_t i = 2; i < 256; i++) {
            em[i] = rng_nonzero(&s);
        }
        em[sep] = 0;
        kf_result r = kf_rsa_unpad_pkcs1_strict(em, 256, out, 256, &len);
        if (sep >= 10) {
            cr_assert(kf_ok(r), "separator at %zu", sep);
            cr_assert_eq(len, 256 - sep - 1);
            cr_assert_arr_eq(out, em + sep + 1, len);
        } else {
            cr_assert_eq(r.code, KF_ERR_DECRYPT, "separator at %zu", sep);
        }
        cr_assert_eq(ossl_pkcs1_check(em, 256, out) >= 0, sep >= 10, "oracle, separator at %zu",
                     sep);
    }
}

/* ---- PKCS#1 v1.5: bad paddings, table-driven ---------------------------------------------- */

enum pkcs1_defect {
    D_BYTE0_ONE,
    D_BYTE0_FF,
    D_BYTE1_ONE,
    D_BYTE1_ZERO,
    D_BYTE1_FF,
    D_SEP_AT_2,
    D_SEP_AT_9,
    D_NO_SEPARATOR,
    D_ALL_ZERO,
};

struct pkcs1_bad_case {
    size_t k;
    enum pkcs1_defect defect;
    int32_t code;
    char why[48];
};

ParameterizedTestParameters(pkcs1, bad_padding)
{
    static struct pkcs1_bad_case cases[] = {
        { 256, D_BYTE0_ONE, KF_ERR_DECRYPT, "byte 0 is 01" },
        { 256, D_BYTE0_FF, KF_ERR_DECRYPT, "byte 0 is ff" },
        { 256, D_BYTE1_ONE, KF_ERR_DECRYPT, "block type 1" },
        { 256, D_BYTE1_ZERO, KF_ERR_DECRYPT, "block type 0" },
        { 256, D_BYTE1_FF, KF_ERR_DECRYPT, "block type ff" },
        { 256, D_SEP_AT_2, KF_ERR_DECRYPT, "empty PS" },
        { 256, D_SEP_AT_9, KF_ERR_DECRYPT, "PS of 7 bytes" },
        { 256, D_NO_SEPARATOR, KF_ERR_DECRYPT, "no zero separator" },
        { 256, D_ALL_ZERO, KF_ERR_DECRYPT, "all zero" },
        { 384, D_BYTE0_ONE, KF_ERR_DECRYPT, "byte 0 is 01" },
        { 384, D_BYTE1_ONE, KF_ERR_DECRYPT, "block type 1" },
        { 384, D_SEP_AT_9, KF_ERR_DECRYPT, "PS of 7 bytes" },
        { 384, D_NO_SEPARATOR, KF_ERR_DECRYPT, "no zero separator" },
        { 12, D_SEP_AT_9, KF_ERR_DECRYPT, "PS of 7 bytes, smallest k" },
        { 12, D_NO_SEPARATOR, KF_ERR_DECRYPT, "no separator, smallest k" },
    };
    return cr_make_param_array(struct pkcs1_bad_case, cases, sizeof(cases) / sizeof(cases[0]));
}

static void apply_pkcs1_defect(uint64_t *s, uint8_t *em, size_t k, enum pkcs1_defect d)
{
    switch (d) {
    case D_BYTE0_ONE:
        em[0] = 0x01;
        break;
    case D_BYTE0_FF:
        em[0] = 0xff;
        break;
    case D_BYTE1_ONE:
        em[1] = 0x01;
        break;
    case D_BYTE1_ZERO:
        em[1] = 0x00;
        break;
    case D_BYTE1_FF:
        em[1] = 0xff;
        break;
    case D_SEP_AT_2:
        em[2] = 0x00;
        break;
    case D_SEP_AT_9:
        for (size_t i = 2; i < k; i++) {
            em[i] = em[i] == 0 ? rng_nonzero(s) : em[i];
        }
        em[9] = 0x00;
        break;
    case D_NO_SEPARATOR:
        for (size_t i = 2; i < k; i++) {
            em[i] = em[i] == 0 ? rng_nonzero(s) : em[i];
        }
        break;
    case D_ALL_ZERO:
        memset(em, 0, k);
        break;
    }
}

/* Strict: the exact code; implicit rejection: success, a synthetic message that is the model's,
 * deterministic, and the same for any bad em under the same ciphertext. */
ParameterizedTest(struct pkcs1_bad_case *p, pkcs1, bad_padding)
{
    uint64_t s = 0x2000 + (uint64_t)p->defect * 31 + p->k;
    uint8_t m[MAX_K], em[MAX_K], c[MAX_K], secret[KF_RSA_IR_SECRET_LEN], out[MAX_K], ref[MAX_K];
    rng_fill(&s, secret, sizeof(secret));
    rng_fill(&s, c, p->k);
    size_t mlen = p->k >= 16 + 11 ? 16 : 0;
    rng_fill(&s, m, mlen);
    pkcs1_encode(&s, em, p->k, m, mlen);
    apply_pkcs1_defect(&s, em, p->k, p->defect);
    cr_assert_lt(ossl_pkcs1_check(em, p->k, out), 0, "%s: OpenSSL accepts em=%s", p->why,
                 hex(em, p->k));

    size_t len = 12345;
    kf_result r = kf_rsa_unpad_pkcs1_strict(em, p->k, out, p->k, &len);
    cr_assert_eq(r.code, p->code, "%s: got %d", p->why, r.code);

    size_t ref_len = ref_synthetic(secret, c, p->k, ref);
    len = ir_call(em, c, p->k, secret, out);
    cr_assert_eq(len, ref_len, "%s: synthetic length", p->why);
    cr_assert_arr_eq(out, ref, len, "%s: synthetic message %s, model %s", p->why, hex(out, len),
                     hex(ref, ref_len));
    uint8_t again[MAX_K];
    cr_assert_eq(ir_call(em, c, p->k, secret, again), len, "%s: not deterministic", p->why);
    cr_assert_arr_eq(again, out, len, "%s: not deterministic", p->why);
    uint8_t other[MAX_K];
    memset(other, 0xff, p->k); /* byte 0 non-zero: another bad em */
    cr_assert_eq(ir_call(other, c, p->k, secret, again), len, "%s: depends on em", p->why);
    cr_assert_arr_eq(again, out, len, "%s: depends on em", p->why);
}

/* ---- PKCS#1 v1.5: implicit rejection ------------------------------------------------------- */

/* 64 synthetic messages (bad em, fresh secret and ciphertext each) against the model. */
static void check_ir_against_model(size_t k)
{
    uint64_t s = 0x3000 + k;
    uint8_t em[MAX_K], c[MAX_K], secret[KF_RSA_IR_SECRET_LEN], out[MAX_K], ref[MAX_K];
    memset(em, 0x01, k); /* byte 0 non-zero: always bad */
    size_t mismatches = 0;
    char first[160] = "";
    for (size_t n = 0; n < 64; n++) {
        rng_fill(&s, secret, sizeof(secret));
        rng_fill(&s, c, k);
        size_t len = ir_call(em, c, k, secret, out);
        size_t ref_len = ref_synthetic(secret, c, k, ref);
        if (len != ref_len || memcmp(out, ref, len) != 0) {
            if (mismatches++ == 0) {
                snprintf(first, sizeof(first), "first: case %zu, length %zu, model %zu", n, len,
                         ref_len);
            }
        }
    }
    cr_assert_eq(mismatches, 0, "k=%zu: %zu of 64 synthetic messages differ from the model (%s)", k,
                 mismatches, first);
}

ParameterizedTestParameters(ir, matches_model)
{
    static size_t ks[] = { 13, 64, 100, 128, 256, 384, 512 };
    return cr_make_param_array(size_t, ks, sizeof(ks) / sizeof(ks[0]));
}

ParameterizedTest(size_t *k, ir, matches_model)
{
    check_ir_against_model(*k);
}

/* Where k - 10 is a power of two, max_sep_offset = k - 10 needs one more mask bit than k - 11
 * does (OpenSSL 3.2 rsa_pk1.c: len_mask = max_sep_offset with the high bit smeared down). */
ParameterizedTestParameters(ir, matches_model_k_minus_10_power_of_two)
{
    static size_t ks[] = { 12, 42, 74, 138, 266 };
    return cr_make_param_array(size_t, ks, sizeof(ks) / sizeof(ks[0]));
}

ParameterizedTest(size_t *k, ir, matches_model_k_minus_10_power_of_two)
{
    check_ir_against_model(*k);
}

/* Different ciphertexts, or different secrets, give different synthetic messages. */
Test(ir, depends_on_ciphertext_and_secret)
{
    uint64_t s = 0x4000;
    const size_t k = 256;
    uint8_t em[256], c[256], c2[256], secret[32], secret2[32], a[256], b[256];
    memset(em, 0, sizeof(em)); /* 00 00 ...: bad block type */
    for (int n = 0; n < 8; n++) {
        rng_fill(&s, secret, sizeof(secret));
        rng_fill(&s, c, k);
        size_t la = ir_call(em, c, k, secret, a);

        memcpy(c2, c, k);
        c2[rng_below(&s, k)] ^= 0x01;
        size_t lb = ir_call(em, c2, k, secret, b);
        cr_assert(la != lb || memcmp(a, b, la) != 0, "case %d: one bit of c changes nothing", n);

        memcpy(secret2, secret, sizeof(secret));
        secret2[rng_below(&s, sizeof(secret2))] ^= 0x80;
        lb = ir_call(em, c, k, secret2, b);
        cr_assert(la != lb || memcmp(a, b, la) != 0, "case %d: one bit of secret changes nothing",
                  n);
    }
}

/* The synthetic lengths cover 0..k-11, not a fixed value: over 400 ciphertexts, k = 64, at least
 * 30 distinct lengths appear and the largest is near k - 11. */
Test(ir, synthetic_lengths_spread)
{
    uint64_t s = 0x4100;
    const size_t k = 64;
    uint8_t em[64], c[64], secret[32], out[64];
    memset(em, 0xff, sizeof(em));
    rng_fill(&s, secret, sizeof(secret));
    bool seen[64] = { false };
    size_t distinct = 0;
    size_t max_len = 0;
    for (int n = 0; n < 400; n++) {
        rng_fill(&s, c, k);
        size_t len = ir_call(em, c, k, secret, out);
        distinct += !seen[len];
        seen[len] = true;
        max_len = len > max_len ? len : max_len;
    }
    cr_assert_geq(distinct, 30, "only %zu distinct lengths", distinct);
    cr_assert_geq(max_len, k - 11 - 3);
}

/* ---- PKCS#1 v1.5: differential against OpenSSL --------------------------------------------- */

enum pkcs1_mutation {
    P_VALID,
    P_VALID_OSSL,
    P_FLIP,
    P_BYTE0,
    P_BYTE1,
    P_SHORT_PS,
    P_NO_SEP,
    P_PS8,
    P_PS7,
    P_ZEROS_IN_M,
    P_SPARSE,
    P_RANDOM,
    P_COUNT
};

static size_t random_mlen(uint64_t *s, size_t k)
{
    switch (rng_below(s, 5)) {
    case 0:
        return 0;
    case 1:
        return k - 11;
    case 2:
        return 48;
    default:
        return rng_below(s, k - 10);
    }
}

static void pkcs1_mutant(uint64_t *s, uint8_t *em, size_t k, enum pkcs1_mutation kind)
{
    uint8_t m[MAX_K];
    size_t mlen = random_mlen(s, k);
    rng_fill(s, m, mlen);
    if (mlen >= 48 && rng_below(s, 2) == 0) {
        m[mlen - 48] = 0x03; /* the last 48 bytes look like a TLS 1.2 pre-master secret */
        m[mlen - 47] = 0x03;
    }
    pkcs1_encode(s, em, k, m, mlen);
    switch (kind) {
    case P_VALID:
    case P_COUNT:
        break;
    case P_VALID_OSSL:
        ossl_pkcs1_encode(em, k, m, mlen);
        break;
    case P_FLIP:
        for (size_t n = 1 + rng_below(s, 3); n > 0; n--) {
            em[rng_below(s, k)] ^= rng_nonzero(s);
        }
        break;
    case P_BYTE0:
        em[0] = rng_nonzero(s);
        break;
    case P_BYTE1:
        do {
            em[1] = rng_byte(s);
        } while (em[1] == 0x02);
        break;
    case P_SHORT_PS:
        em[2 + rng_below(s, 8)] = 0x00;
        break;
    case P_NO_SEP:
        for (size_t i = 2; i < k; i++) {
            em[i] = em[i] == 0 ? rng_nonzero(s) : em[i];
        }
        break;
    case P_PS8:
    case P_PS7:
        for (size_t i = 2; i < 11; i++) {
            em[i] = rng_nonzero(s);
        }
        rng_fill(s, em + 11, k - 11);
        em[kind == P_PS8 ? 10 : 9] = 0x00;
        break;
    case P_ZEROS_IN_M:
        for (size_t n = 0; n < 4 && mlen > 0; n++) {
            em[k - mlen + rng_below(s, mlen)] = 0x00;
        }
        break;
    case P_SPARSE:
        for (size_t i = 2; i < k; i++) {
            em[i] = rng_below(s, 16) == 0 ? 0x00 : rng_nonzero(s);
        }
        break;
    case P_RANDOM:
        rng_fill(s, em, k);
        if (rng_below(s, 2) == 0) {
            em[0] = 0x00;
        }
        break;
    }
}

struct diff_case {
    size_t k;
    size_t count;
    uint64_t seed;
};

ParameterizedTestParameters(pkcs1, differential)
{
    static struct diff_case cases[] = {
        { 256, 10000, 0xA256 },
        { 384, 8000, 0xA384 },
        { 64, 4000, 0xA064 },
    };
    return cr_make_param_array(struct diff_case, cases, sizeof(cases) / sizeof(cases[0]));
}

/* Every mutant: strict accepts iff OpenSSL accepts, with the same message; implicit rejection
 * returns that message when valid and the model's synthetic message when not; TLS returns the
 * last 48 bytes iff the message is a 48-byte pre-master secret of version 0303. */
ParameterizedTest(struct diff_case *p, pkcs1, differential)
{
    const size_t k = p->k;
    uint64_t s = p->seed;
    uint8_t em[MAX_K], c[MAX_K], secret[KF_RSA_IR_SECRET_LEN], want[MAX_K], out[MAX_K];
    uint8_t fallback[48], pms[48];
    rng_fill(&s, secret, sizeof(secret));
    rng_fill(&s, fallback, sizeof(fallback));
    size_t accepted = 0;
    size_t tls_good = 0;
    for (size_t n = 0; n < p->count; n++) {
        enum pkcs1_mutation kind = (enum pkcs1_mutation)(n % P_COUNT);
        pkcs1_mutant(&s, em, k, kind);
        rng_fill(&s, c, k);
        int want_len = ossl_pkcs1_check(em, k, want);

        size_t len = SIZE_MAX;
        kf_result r = kf_rsa_unpad_pkcs1_strict(em, k, out, k, &len);
        if (want_len >= 0) {
            accepted++;
            cr_assert(kf_ok(r), "case %zu kind %d: OpenSSL accepts, strict says %d; em=%s", n, kind,
                      r.code, hex(em, k));
            cr_assert_eq(len, (size_t)want_len, "case %zu: em=%s", n, hex(em, k));
            cr_assert_arr_eq(out, want, len, "case %zu: em=%s", n, hex(em, k));
        } else {
            cr_assert_eq(r.code, KF_ERR_DECRYPT,
                         "case %zu kind %d: OpenSSL rejects, strict says %d; em=%s", n, kind,
                         r.code, hex(em, k));
        }

        len = ir_call(em, c, k, secret, out);
        if (want_len >= 0) {
            cr_assert_eq(len, (size_t)want_len, "ir case %zu: em=%s", n, hex(em, k));
            cr_assert_arr_eq(out, want, len, "ir case %zu: em=%s", n, hex(em, k));
        } else {
            uint8_t ref[MAX_K];
            size_t ref_len = ref_synthetic(secret, c, k, ref);
            cr_assert_eq(len, ref_len, "ir case %zu: em=%s", n, hex(em, k));
            cr_assert_arr_eq(out, ref, len, "ir case %zu: em=%s", n, hex(em, k));
        }
        if (n % 97 == 0) {
            uint8_t again[MAX_K];
            cr_assert_eq(ir_call(em, c, k, secret, again), len, "ir case %zu twice", n);
            cr_assert_arr_eq(again, out, len, "ir case %zu twice", n);
        }

        if (k >= 11 + 48) {
            bool good = want_len == 48 && em[k - 48] == 0x03 && em[k - 47] == 0x03;
            tls_good += good;
            cr_assert(kf_ok(kf_rsa_unpad_tls(em, k, 0x0303, 0, fallback, pms)));
            cr_assert_arr_eq(pms, good ? em + k - 48 : fallback, 48, "tls case %zu (%s): em=%s", n,
                             good ? "good" : "bad", hex(em, k));
        }
    }
    /* Not vacuous: both verdicts occur often. */
    cr_assert_geq(accepted, p->count / 5, "only %zu of %zu accepted", accepted, p->count);
    cr_assert_leq(accepted, p->count - p->count / 3, "%zu of %zu accepted", accepted, p->count);
    if (k >= 11 + 48) {
        cr_assert_geq(tls_good, p->count / 100, "only %zu good TLS secrets", tls_good);
    }
}

/* ---- OAEP --------------------------------------------------------------------------------- */

struct oaep_case {
    char md[8];
    char mgf1[8];
    bool label;
};

static const uint8_t LABEL[] = "keyfort OAEP label";

ParameterizedTestParameters(oaep, roundtrip_and_damage)
{
    static struct oaep_case cases[] = {
        { "SHA1", "SHA1", false },     { "SHA1", "SHA1", true },     { "SHA256", "SHA256", false },
        { "SHA256", "SHA256", true },  { "SHA384", "SHA1", false },  { "SHA384", "SHA1", true },
        { "SHA512", "SHA256", false }, { "SHA512", "SHA256", true },
    };
    return cr_make_param_array(struct oaep_case, cases, sizeof(cases) / sizeof(cases[0]));
}

static kf_result oaep_call(const uint8_t *em, size_t k, const EVP_MD *md, const EVP_MD *mgf1,
                           const uint8_t *label, size_t label_len, uint8_t *out, size_t *len)
{
    return kf_rsa_unpad_oaep(em, k, md, mgf1, label, label_len, out, MAX_K, len);
}

/* Round trip for several message lengths and k = 256, 384; then every single-byte change, a
 * wrong label and wrong digests give KF_ERR_DECRYPT. */
ParameterizedTest(struct oaep_case *p, oaep, roundtrip_and_damage)
{
    const EVP_MD *md = md_by_name(p->md);
    const EVP_MD *mgf1 = md_by_name(p->mgf1);
    const EVP_MD *other_md = md_by_name(strcmp(p->md, "SHA256") == 0 ? "SHA384" : "SHA256");
    const uint8_t *label = p->label ? LABEL : NULL;
    size_t label_len = p->label ? sizeof(LABEL) - 1 : 0;
    size_t h = (size_t)EVP_MD_get_size(md);
    uint64_t s = 0x5000 + h * 7 + p->label;
    static const size_t ks[] = { 256, 384 };
    for (size_t ki = 0; ki < 2; ki++) {
        size_t k = ks[ki];
        size_t max = k - 2 * h - 2;
        size_t mlens[] = { 0, 1, 32, max - 1, max };
        for (size_t mi = 0; mi < sizeof(mlens) / sizeof(mlens[0]); mi++) {
            uint8_t m[MAX_K], em[MAX_K], out[MAX_K], bad[MAX_K];
            size_t mlen = mlens[mi];
            rng_fill(&s, m, mlen);
            ossl_oaep_encode(em, k, md, mgf1, label, label_len, m, mlen);
            size_t len = SIZE_MAX;
            kf_result r = oaep_call(em, k, md, mgf1, label, label_len, out, &len);
            cr_assert(kf_ok(r), "k=%zu mlen=%zu: code %d em=%s", k, mlen, r.code, hex(em, k));
            cr_assert_eq(len, mlen);
            cr_assert_arr_eq(out, m, mlen, "k=%zu mlen=%zu", k, mlen);
            /* Exactly the message's room is enough. */
            r = kf_rsa_unpad_oaep(em, k, md, mgf1, label, label_len, out, max, &len);
            cr_assert(kf_ok(r), "out_cap = k - 2h - 2");

            /* Wrong label: absent for present, present for absent, one byte changed. */
            r = oaep_call(em, k, md, mgf1, p->label ? NULL : LABEL, p->label ? 0 : 4, out, &len);
            cr_assert_eq(r.code, KF_ERR_DECRYPT, "wrong label accepted");
            if (p->label) {
                uint8_t l2[sizeof(LABEL)];
                memcpy(l2, LABEL, sizeof(LABEL));
                l2[3] ^= 0x20;
                r = oaep_call(em, k, md, mgf1, l2, label_len, out, &len);
                cr_assert_eq(r.code, KF_ERR_DECRYPT, "label with one byte changed accepted");
            }
            /* Wrong digest, wrong MGF1 digest. */
            r = oaep_call(em, k, other_md, mgf1, label, label_len, out, &len);
            cr_assert_eq(r.code, KF_ERR_DECRYPT, "wrong digest accepted");
            r = oaep_call(em, k, md, md_by_name(strcmp(p->mgf1, "SHA1") == 0 ? "SHA256" : "SHA1"),
                          label, label_len, out, &len);
            cr_assert_eq(r.code, KF_ERR_DECRYPT, "wrong MGF1 digest accepted");

            /* Every byte, one bit each (and byte 0 set to 01 and ff). */
            for (size_t i = 0; i < k; i++) {
                memcpy(bad, em, k);
                bad[i] ^= (uint8_t)(1u << (i % 8));
                r = oaep_call(bad, k, md, mgf1, label, label_len, out, &len);
                cr_assert_eq(r.code, KF_ERR_DECRYPT, "k=%zu mlen=%zu: flip at %zu accepted", k,
                             mlen, i);
                cr_assert_lt(ossl_oaep_check(bad, k, md, mgf1, label, label_len, out), 0);
            }
            static const uint8_t byte0[] = { 0x01, 0x80, 0xff };
            for (size_t i = 0; i < sizeof(byte0); i++) {
                memcpy(bad, em, k);
                bad[0] = byte0[i];
                r = oaep_call(bad, k, md, mgf1, label, label_len, out, &len);
                cr_assert_eq(r.code, KF_ERR_DECRYPT, "byte 0 = %02x accepted", byte0[i]);
            }
        }
    }
}

/* The smallest k for a digest (2h + 2) decodes the empty message. */
Test(oaep, smallest_modulus)
{
    static const char *names[] = { "SHA1", "SHA256", "SHA384", "SHA512" };
    for (size_t i = 0; i < 4; i++) {
        const EVP_MD *md = md_by_name(names[i]);
        size_t k = 2 * (size_t)EVP_MD_get_size(md) + 2;
        uint8_t em[MAX_K], out[MAX_K];
        ossl_oaep_encode(em, k, md, md, NULL, 0, (const uint8_t *)"", 0);
        size_t len = SIZE_MAX;
        kf_result r = kf_rsa_unpad_oaep(em, k, md, md, NULL, 0, out, 0, &len);
        cr_assert(kf_ok(r), "%s k=%zu: code %d", names[i], k, r.code);
        cr_assert_eq(len, 0);
    }
}

enum oaep_mutation {
    O_VALID_OSSL,
    O_VALID_RAW,
    O_FLIP,
    O_BYTE0,
    O_LHASH,
    O_PS_NONZERO,
    O_SEP_WRONG,
    O_NO_SEP,
    O_EMPTY_PS,
    O_EMPTY_M,
    O_WRONG_MGF1,
    O_RANDOM,
    O_COUNT
};

static void oaep_mutant(uint64_t *s, uint8_t *em, size_t k, const EVP_MD *md, const EVP_MD *mgf1,
                        const uint8_t *label, size_t label_len, enum oaep_mutation kind)
{
    size_t h = (size_t)EVP_MD_get_size(md);
    size_t db_len = k - 1 - h;
    size_t max = k - 2 * h - 2;
    size_t mlen = rng_below(s, 3) == 0 ? max : rng_below(s, max + 1);
    uint8_t m[MAX_K], db[MAX_K], seed[EVP_MAX_MD_SIZE];
    rng_fill(s, m, mlen);
    rng_fill(s, seed, h);
    if (kind == O_VALID_OSSL) {
        ossl_oaep_encode(em, k, md, mgf1, label, label_len, m, mlen);
        return;
    }
    if (kind == O_EMPTY_PS) {
        mlen = max;
    } else if (kind == O_EMPTY_M) {
        mlen = 0;
    } else if (kind == O_PS_NONZERO && mlen == max) {
        mlen = max - 1 - rng_below(s, max); /* room for at least one PS byte */
    }
    oaep_db(db, db_len, md, label, label_len, m, mlen);
    size_t sep = db_len - mlen - 1;
    const EVP_MD *mask_md = mgf1;
    switch (kind) {
    case O_LHASH:
        db[rng_below(s, h)] ^= rng_nonzero(s);
        break;
    case O_PS_NONZERO: /* 01 here makes an earlier separator: valid, a longer message */
        db[h + rng_below(s, sep - h)] = rng_below(s, 2) == 0 ? 0x01 : rng_nonzero(s);
        break;
    case O_SEP_WRONG:
        db[sep] = rng_below(s, 2) == 0 ? 0x00 : (uint8_t)(2 + rng_below(s, 254));
        break;
    case O_NO_SEP:
        memset(db + h, 0, db_len - h);
        break;
    case O_WRONG_MGF1:
        mask_md = md_by_name(EVP_MD_get_size(mgf1) == 20 ? "SHA256" : "SHA1");
        break;
    default:
        break;
    }
    oaep_mask(em, k, h, mask_md, seed, db);
    switch (kind) {
    case O_FLIP:
        for (size_t n = 1 + rng_below(s, 2); n > 0; n--) {
            em[rng_below(s, k)] ^= rng_nonzero(s);
        }
        break;
    case O_BYTE0:
        em[0] = rng_nonzero(s);
        break;
    case O_RANDOM:
        rng_fill(s, em, k);
        em[0] = rng_below(s, 4) == 0 ? rng_byte(s) : 0x00;
        break;
    default:
        break;
    }
}

struct oaep_diff_case {
    struct oaep_case p;
    size_t k;
    size_t count;
};

ParameterizedTestParameters(oaep, differential)
{
    static struct oaep_diff_case cases[] = {
        { { "SHA1", "SHA1", false }, 128, 1500 },     { { "SHA1", "SHA1", true }, 256, 1500 },
        { { "SHA256", "SHA256", false }, 256, 1500 }, { { "SHA256", "SHA256", true }, 384, 1500 },
        { { "SHA384", "SHA1", false }, 256, 1500 },   { { "SHA384", "SHA1", true }, 384, 1500 },
        { { "SHA512", "SHA256", false }, 256, 1500 }, { { "SHA512", "SHA256", true }, 512, 1500 },
    };
    return cr_make_param_array(struct oaep_diff_case, cases, sizeof(cases) / sizeof(cases[0]));
}

/* Every mutant: accepted iff OpenSSL accepts, with the same message; else KF_ERR_DECRYPT. */
ParameterizedTest(struct oaep_diff_case *c, oaep, differential)
{
    const EVP_MD *md = md_by_name(c->p.md);
    const EVP_MD *mgf1 = md_by_name(c->p.mgf1);
    const uint8_t *label = c->p.label ? LABEL : NULL;
    size_t label_len = c->p.label ? sizeof(LABEL) - 1 : 0;
    const size_t k = c->k;
    uint64_t s = 0x6000 + k * 3 + (uint64_t)EVP_MD_get_size(md) + c->p.label;
    size_t accepted = 0;
    for (size_t n = 0; n < c->count; n++) {
        enum oaep_mutation kind = (enum oaep_mutation)(n % O_COUNT);
        uint8_t em[MAX_K], want[MAX_K], out[MAX_K];
        oaep_mutant(&s, em, k, md, mgf1, label, label_len, kind);
        int want_len = ossl_oaep_check(em, k, md, mgf1, label, label_len, want);
        size_t len = SIZE_MAX;
        kf_result r = oaep_call(em, k, md, mgf1, label, label_len, out, &len);
        if (want_len >= 0) {
            accepted++;
            cr_assert(kf_ok(r), "case %zu kind %d: OpenSSL accepts, keyfort says %d; em=%s", n,
                      kind, r.code, hex(em, k));
            cr_assert_eq(len, (size_t)want_len, "case %zu: em=%s", n, hex(em, k));
            cr_assert_arr_eq(out, want, len, "case %zu: em=%s", n, hex(em, k));
        } else {
            cr_assert_eq(r.code, KF_ERR_DECRYPT,
                         "case %zu kind %d: OpenSSL rejects, keyfort says %d; em=%s", n, kind,
                         r.code, hex(em, k));
        }
    }
    cr_assert_geq(accepted, c->count / 5, "only %zu of %zu accepted", accepted, c->count);
    cr_assert_leq(accepted, c->count - c->count / 3, "%zu of %zu accepted", accepted, c->count);
}

/* ---- TLS pre-master secret ----------------------------------------------------------------- */

enum tls_defect {
    T_NONE,
    T_BYTE0,
    T_BYTE1,
    T_ZERO_IN_PS,
    T_NO_SEPARATOR,
};

struct tls_case {
    size_t k;
    size_t mlen;
    unsigned pms_version;
    enum tls_defect defect;
    unsigned client;
    unsigned alt;
    bool want_pms;
    char why[48];
};

ParameterizedTestParameters(tls, premaster)
{
    static struct tls_case cases[] = {
        { 256, 48, 0x0303, T_NONE, 0x0303, 0, true, "TLS 1.2, good" },
        { 384, 48, 0x0303, T_NONE, 0x0303, 0, true, "TLS 1.2, k 384" },
        { 59, 48, 0x0303, T_NONE, 0x0303, 0, true, "smallest k: PS of 8" },
        { 256, 48, 0x0301, T_NONE, 0x0301, 0, true, "TLS 1.0, good" },
        { 256, 48, 0x0302, T_NONE, 0x0303, 0, false, "wrong version" },
        { 256, 48, 0x0302, T_NONE, 0x0303, 0x0302, true, "alt version" },
        { 256, 48, 0x0303, T_NONE, 0x0302, 0x0303, true, "client version via alt" },
        { 256, 48, 0x0301, T_NONE, 0x0303, 0x0302, false, "neither version" },
        { 256, 48, 0x0000, T_NONE, 0x0303, 0, false, "alt 0 is no alternative" },
        { 256, 48, 0x0103, T_NONE, 0x0301, 0, false, "version bytes swapped" },
        { 256, 48, 0x0403, T_NONE, 0x0303, 0, false, "major version wrong" },
        { 256, 47, 0x0303, T_NONE, 0x0303, 0, false, "47-byte message" },
        { 256, 49, 0x0303, T_NONE, 0x0303, 0, false, "49-byte message" },
        { 256, 47, 0x0003, T_NONE, 0x0003, 0, false, "47 bytes, tail matches 0x0003" },
        { 256, 100, 0x0303, T_NONE, 0x0303, 0, false, "100 bytes, tail matches" },
        { 256, 245, 0x0303, T_NONE, 0x0303, 0x0302, false, "k - 11 bytes, tail matches" },
        { 256, 0, 0x0303, T_NONE, 0x0303, 0, false, "empty message" },
        { 256, 48, 0x0303, T_BYTE0, 0x0303, 0, false, "byte 0 non-zero" },
        { 256, 48, 0x0303, T_BYTE1, 0x0303, 0, false, "block type 1" },
        { 256, 48, 0x0303, T_ZERO_IN_PS, 0x0303, 0, false, "zero inside PS" },
        { 256, 48, 0x0303, T_NO_SEPARATOR, 0x0303, 0, false, "no separator" },
        { 59, 48, 0x0303, T_ZERO_IN_PS, 0x0303, 0, false, "smallest k, PS of 7" },
    };
    return cr_make_param_array(struct tls_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct tls_case *p, tls, premaster)
{
    uint64_t s = 0x7000 + p->k + p->mlen * 5 + p->defect;
    uint8_t m[MAX_K], em[MAX_K], fallback[48], out[48];
    rng_fill(&s, m, p->mlen);
    pkcs1_encode(&s, em, p->k, m, p->mlen);
    /* The last 48 bytes start with the version, whatever the message length (at 47 bytes the
     * separator is the first of them). */
    if (p->mlen >= 48) {
        em[p->k - 48] = (uint8_t)(p->pms_version >> 8);
    }
    if (p->mlen >= 47) {
        em[p->k - 47] = (uint8_t)p->pms_version;
    }
    switch (p->defect) {
    case T_NONE:
        break;
    case T_BYTE0:
        em[0] = 0x01;
        break;
    case T_BYTE1:
        em[1] = 0x01;
        break;
    case T_ZERO_IN_PS:
        em[9] = 0x00;
        break;
    case T_NO_SEPARATOR:
        em[p->k - p->mlen - 1] = 0x5a;
        break;
    }
    rng_fill(&s, fallback, sizeof(fallback));
    memset(out, 0xEE, sizeof(out));
    kf_result r = kf_rsa_unpad_tls(em, p->k, p->client, p->alt, fallback, out);
    cr_assert(kf_ok(r), "%s: code %d", p->why, r.code);
    cr_assert_arr_eq(out, p->want_pms ? em + p->k - 48 : fallback, 48, "%s: got %s", p->why,
                     hex(out, 48));
}

/* ---- argument and buffer errors, table-driven ---------------------------------------------- */

struct arg_case {
    char fn[8]; /* ir, strict, oaep, tls */
    size_t k;
    size_t out_cap;
    char null_arg[12]; /* which pointer is NULL, "" for none */
    char md[8];        /* OAEP digest */
    int32_t code;
    char why[56];
};

ParameterizedTestParameters(args, errors)
{
    static struct arg_case cases[] = {
        { "strict", 256, 255, "", "", KF_ERR_BUFFER_TOO_SMALL, "out_cap k - 1" },
        { "strict", 256, 0, "", "", KF_ERR_BUFFER_TOO_SMALL, "out_cap 0" },
        { "strict", 11, 64, "", "", KF_ERR_BUFFER_TOO_SMALL, "k 11" },
        { "strict", 0, 64, "", "", KF_ERR_BUFFER_TOO_SMALL, "k 0" },
        { "strict", 256, 256, "em", "", KF_ERR_INVALID_ARG, "em NULL" },
        { "strict", 256, 256, "out", "", KF_ERR_INVALID_ARG, "out NULL" },
        { "strict", 256, 256, "out_len", "", KF_ERR_INVALID_ARG, "out_len NULL" },
        { "ir", 256, 255, "", "", KF_ERR_BUFFER_TOO_SMALL, "out_cap k - 1" },
        { "ir", 384, 373, "", "", KF_ERR_BUFFER_TOO_SMALL, "out_cap k - 11" },
        { "ir", 11, 64, "", "", KF_ERR_BUFFER_TOO_SMALL, "k 11" },
        { "ir", 256, 256, "em", "", KF_ERR_INVALID_ARG, "em NULL" },
        { "ir", 256, 256, "c", "", KF_ERR_INVALID_ARG, "c NULL" },
        { "ir", 256, 256, "secret", "", KF_ERR_INVALID_ARG, "secret NULL" },
        { "ir", 256, 256, "out", "", KF_ERR_INVALID_ARG, "out NULL" },
        { "ir", 256, 256, "out_len", "", KF_ERR_INVALID_ARG, "out_len NULL" },
        { "oaep", 129, 512, "", "SHA512", KF_ERR_BUFFER_TOO_SMALL, "k 2h+1 for SHA-512" },
        { "oaep", 64, 512, "", "SHA512", KF_ERR_BUFFER_TOO_SMALL, "k 64 for SHA-512" },
        { "oaep", 65, 512, "", "SHA256", KF_ERR_BUFFER_TOO_SMALL, "k 2h+1 for SHA-256" },
        { "oaep", 41, 512, "", "SHA1", KF_ERR_BUFFER_TOO_SMALL, "k 2h+1 for SHA-1" },
        { "oaep", 0, 512, "", "SHA1", KF_ERR_BUFFER_TOO_SMALL, "k 0" },
        { "oaep", 256, 189, "", "SHA256", KF_ERR_BUFFER_TOO_SMALL, "out_cap k - 2h - 3" },
        { "oaep", 256, 256, "em", "SHA256", KF_ERR_INVALID_ARG, "em NULL" },
        { "oaep", 256, 256, "md", "SHA256", KF_ERR_INVALID_ARG, "md NULL" },
        { "oaep", 256, 256, "mgf1", "SHA256", KF_ERR_INVALID_ARG, "mgf1 NULL" },
        { "oaep", 256, 256, "out", "SHA256", KF_ERR_INVALID_ARG, "out NULL" },
        { "oaep", 256, 256, "out_len", "SHA256", KF_ERR_INVALID_ARG, "out_len NULL" },
        { "tls", 58, 48, "", "", KF_ERR_INVALID_ARG, "k 58: no room for PS of 8" },
        { "tls", 0, 48, "", "", KF_ERR_INVALID_ARG, "k 0" },
        { "tls", 256, 48, "em", "", KF_ERR_INVALID_ARG, "em NULL" },
        { "tls", 256, 48, "fallback", "", KF_ERR_INVALID_ARG, "fallback NULL" },
        { "tls", 256, 48, "out", "", KF_ERR_INVALID_ARG, "out NULL" },
    };
    return cr_make_param_array(struct arg_case, cases, sizeof(cases) / sizeof(cases[0]));
}

/* The em is a valid encoding (where one fits), so only the argument can be the cause; out_len
 * is left alone on failure. */
ParameterizedTest(struct arg_case *p, args, errors)
{
    uint64_t s = 0x8000;
    uint8_t em[MAX_K], c[MAX_K], secret[KF_RSA_IR_SECRET_LEN], out[MAX_K], fallback[48];
    rng_fill(&s, c, sizeof(c));
    rng_fill(&s, secret, sizeof(secret));
    rng_fill(&s, fallback, sizeof(fallback));
    memset(em, 0, sizeof(em));
    if (p->k >= 11 + 48) {
        pkcs1_encode(&s, em, p->k, c, 48);
    }
    const EVP_MD *md = p->md[0] != '\0' ? md_by_name(p->md) : NULL;
    if (md != NULL && p->k >= 2 * (size_t)EVP_MD_get_size(md) + 2) {
        ossl_oaep_encode(em, p->k, md, md, NULL, 0, c, 0);
    }
#define ARG(name, value) (strcmp(p->null_arg, #name) == 0 ? NULL : (value))
    size_t len = 777;
    kf_result r = KF_OK;
    if (strcmp(p->fn, "strict") == 0) {
        r = kf_rsa_unpad_pkcs1_strict(ARG(em, em), p->k, ARG(out, out), p->out_cap,
                                      ARG(out_len, &len));
    } else if (strcmp(p->fn, "ir") == 0) {
        r = kf_rsa_unpad_pkcs1_ir(NULL, ARG(em, em), ARG(c, c), p->k, ARG(secret, secret),
                                  ARG(out, out), p->out_cap, ARG(out_len, &len));
    } else if (strcmp(p->fn, "oaep") == 0) {
        r = kf_rsa_unpad_oaep(ARG(em, em), p->k, ARG(md, md), ARG(mgf1, md), NULL, 0, ARG(out, out),
                              p->out_cap, ARG(out_len, &len));
    } else if (strcmp(p->fn, "tls") == 0) {
        r = kf_rsa_unpad_tls(ARG(em, em), p->k, 0x0303, 0, ARG(fallback, fallback), ARG(out, out));
    } else {
        cr_assert_fail("unknown function %s", p->fn);
    }
#undef ARG
    cr_assert_eq(r.code, p->code, "%s %s: got %d, want %d", p->fn, p->why, r.code, p->code);
    cr_assert_eq(len, 777, "%s %s: out_len written on failure", p->fn, p->why);
}
