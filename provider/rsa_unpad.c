/* provider/rsa_unpad.c - constant-time removal of RSA decryption paddings (rsa_unpad.h).
 *
 * Every secret-dependent decision is a mask (all ones or all zeros) built with the ct_*
 * helpers below and applied with selects; loops run over public lengths only. The technique
 * is the usual one (as in BoringSSL, OpenSSL and the RFC 8017 notes); the code is written here
 * from those descriptions. */
#include "provider/rsa_unpad.h"

#include <openssl/crypto.h>
#include <string.h>

/* ---- constant-time helpers ---------------------------------------------------------------- */

/* An optimisation barrier, so that the compiler cannot turn a mask back into a branch. */
static inline size_t ct_hide(size_t a)
{
    __asm__("" : "+r"(a));
    return a;
}

static inline size_t ct_msb(size_t a)
{
    return ct_hide(0 - (a >> (sizeof(a) * 8 - 1)));
}

static inline size_t ct_is_zero(size_t a)
{
    return ct_msb(~a & (a - 1));
}

static inline size_t ct_eq(size_t a, size_t b)
{
    return ct_is_zero(a ^ b);
}

static inline size_t ct_lt(size_t a, size_t b)
{
    return ct_msb(a ^ ((a ^ b) | ((a - b) ^ b)));
}

static inline size_t ct_select(size_t mask, size_t a, size_t b)
{
    return (mask & a) | (~mask & b);
}

static inline uint8_t ct_select_u8(size_t mask, uint8_t a, uint8_t b)
{
    return (uint8_t)((mask & a) | (~mask & b));
}

/* Move buf[shift..len) to buf[0..len - shift) without the shift showing in the memory access
 * pattern: log2(len) passes, each moving by a power of two or not, by mask. */
static void ct_shift_left(uint8_t *buf, size_t len, size_t shift)
{
    for (size_t step = 1; step < len; step <<= 1) {
        size_t take = ~ct_is_zero(shift & step);
        for (size_t i = 0; i + step < len; i++) {
            buf[i] = ct_select_u8(take, buf[i + step], buf[i]);
        }
        for (size_t i = len - step; i < len; i++) {
            buf[i] = ct_select_u8(take, 0, buf[i]);
        }
    }
}

/* ---- PKCS#1 v1.5 type 2 ------------------------------------------------------------------- */

/* The type 2 structure check: 0x00 0x02 PS (>= 8 non-zero bytes) 0x00 M. Returns the mask of
 * a good padding and the index of M in *msg_index (meaningful only when good). */
static size_t pkcs1_check(const uint8_t *em, size_t k, size_t *msg_index)
{
    size_t good = ct_eq(em[0], 0) & ct_eq(em[1], 2);
    size_t found = 0;
    size_t zero_at = 0;
    for (size_t i = 2; i < k; i++) {
        size_t is_zero = ct_is_zero(em[i]);
        zero_at = ct_select(~found & is_zero, i, zero_at);
        found |= is_zero;
    }
    /* PS is at least 8 bytes: the separator is at index 10 or later. */
    good &= found & ~ct_lt(zero_at, 2 + 8);
    *msg_index = zero_at + 1;
    return good;
}

/* PRF of draft-irtf-cfrg-rsa-guidance (implicit rejection): HMAC-SHA256 in counter mode,
 * block i = HMAC(kdk, be16(i) || label || be16(out bits)). */
static KF_RESULT ir_prf(OSSL_LIB_CTX *lib, const uint8_t kdk[32], const char *label, uint8_t *out,
                        size_t out_len)
{
    size_t label_len = strlen(label);
    uint8_t msg[2 + 16 + 2];
    KF_ENSURE(label_len <= 16 && out_len * 8 <= 0xffff, KF_ERR_INVALID_ARG);
    size_t bits = out_len * 8;
    for (size_t i = 0, done = 0; done < out_len; i++) {
        msg[0] = (uint8_t)(i >> 8);
        msg[1] = (uint8_t)i;
        memcpy(msg + 2, label, label_len);
        msg[2 + label_len] = (uint8_t)(bits >> 8);
        msg[3 + label_len] = (uint8_t)bits;
        uint8_t block[32];
        size_t block_len = 0;
        KF_ENSURE(EVP_Q_mac(lib, "HMAC", "provider!=keyfort", "SHA256", NULL, kdk, 32, msg,
                            label_len + 4, block, sizeof(block), &block_len) != NULL &&
                      block_len == 32,
                  KF_ERR_OPENSSL);
        size_t n = out_len - done < 32 ? out_len - done : 32;
        memcpy(out + done, block, n);
        done += n;
        OPENSSL_cleanse(block, sizeof(block));
    }
    return KF_OK;
}

/* The synthetic message for ciphertext @p c: full k bytes in @p syn, its length in *syn_len
 * (the last *syn_len bytes of syn are the message). */
static KF_RESULT ir_synthetic(OSSL_LIB_CTX *lib, const uint8_t *c, size_t k,
                              const uint8_t secret[KF_RSA_IR_SECRET_LEN], uint8_t *syn,
                              size_t *syn_len)
{
    uint8_t kdk[32];
    size_t kdk_len = 0;
    KF_ENSURE(EVP_Q_mac(lib, "HMAC", "provider!=keyfort", "SHA256", NULL, secret,
                        KF_RSA_IR_SECRET_LEN, c, k, kdk, sizeof(kdk), &kdk_len) != NULL &&
                  kdk_len == 32,
              KF_ERR_OPENSSL);
    uint8_t lengths[256];
    kf_result r = ir_prf(lib, kdk, "length", lengths, sizeof(lengths));
    if (kf_ok(r)) {
        r = ir_prf(lib, kdk, "message", syn, k);
    }
    OPENSSL_cleanse(kdk, sizeof(kdk));
    KF_GUARD(r);
    /* 128 candidate lengths, masked to the next power of two above the largest message; the
     * last one that fits is taken (which one is secret: selects only). */
    size_t max_len = k - 11;
    /* The mask covers max_sep_offset = k - 10 (the separator's last possible offset), as the
     * draft and OpenSSL 3.2 define it: the smallest 2^n - 1 >= k - 10. */
    size_t mask = 1;
    while (mask <= max_len + 1) {
        mask <<= 1;
    }
    mask -= 1;
    size_t len = 0;
    for (size_t i = 0; i < sizeof(lengths); i += 2) {
        size_t cand = (((size_t)lengths[i] << 8) | lengths[i + 1]) & mask;
        len = ct_select(ct_lt(cand, max_len + 1), cand, len);
    }
    OPENSSL_cleanse(lengths, sizeof(lengths));
    *syn_len = len;
    return KF_OK;
}

KF_RESULT kf_rsa_unpad_pkcs1_ir(OSSL_LIB_CTX *lib, const uint8_t *em, const uint8_t *c, size_t k,
                                const uint8_t secret[KF_RSA_IR_SECRET_LEN], uint8_t *out,
                                size_t out_cap, size_t *out_len)
{
    KF_ENSURE(em != NULL && c != NULL && secret != NULL && out != NULL && out_len != NULL,
              KF_ERR_INVALID_ARG);
    KF_ENSURE(k >= 11 + 1 && out_cap >= k, KF_ERR_BUFFER_TOO_SMALL);
    uint8_t *buf = OPENSSL_malloc(k);
    KF_ENSURE(buf != NULL, KF_ERR_NOMEM);
    size_t syn_len = 0;
    kf_result r = ir_synthetic(lib, c, k, secret, buf, &syn_len);
    if (!kf_ok(r)) {
        OPENSSL_clear_free(buf, k);
        return r;
    }
    size_t msg_index = 0;
    size_t good = pkcs1_check(em, k, &msg_index);
    for (size_t i = 0; i < k; i++) {
        buf[i] = ct_select_u8(good, em[i], buf[i]);
    }
    size_t from = ct_select(good, msg_index, k - syn_len);
    ct_shift_left(buf, k, from);
    size_t len = k - from;
    /* The length is the answer's length, public from here on (as it is for any decryption). */
    memcpy(out, buf, len);
    *out_len = len;
    OPENSSL_clear_free(buf, k);
    return KF_OK;
}

KF_RESULT kf_rsa_unpad_pkcs1_strict(const uint8_t *em, size_t k, uint8_t *out, size_t out_cap,
                                    size_t *out_len)
{
    KF_ENSURE(em != NULL && out != NULL && out_len != NULL, KF_ERR_INVALID_ARG);
    KF_ENSURE(k >= 11 + 1 && out_cap >= k, KF_ERR_BUFFER_TOO_SMALL);
    uint8_t *buf = OPENSSL_malloc(k);
    KF_ENSURE(buf != NULL, KF_ERR_NOMEM);
    memcpy(buf, em, k);
    size_t msg_index = 0;
    size_t good = pkcs1_check(em, k, &msg_index);
    size_t from = ct_select(good, msg_index, k);
    ct_shift_left(buf, k, from);
    size_t len = k - from;
    memcpy(out, buf, len);
    OPENSSL_clear_free(buf, k);
    if (!good) {
        OPENSSL_cleanse(out, out_cap);
        KF_BAIL(KF_ERR_DECRYPT);
    }
    *out_len = len;
    return KF_OK;
}

/* ---- OAEP --------------------------------------------------------------------------------- */

/* MGF1 (RFC 8017 B.2.1): out ^= MGF1(seed) over out_len bytes. */
static KF_RESULT mgf1_xor(const EVP_MD *md, const uint8_t *seed, size_t seed_len, uint8_t *out,
                          size_t out_len)
{
    size_t h = (size_t)EVP_MD_get_size(md);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    KF_ENSURE(ctx != NULL, KF_ERR_NOMEM);
    kf_result r = KF_OK;
    for (uint32_t counter = 0, done = 0; done < out_len; counter++) {
        uint8_t cb[4] = { (uint8_t)(counter >> 24), (uint8_t)(counter >> 16),
                          (uint8_t)(counter >> 8), (uint8_t)counter };
        uint8_t block[EVP_MAX_MD_SIZE];
        if (EVP_DigestInit_ex2(ctx, md, NULL) != 1 || EVP_DigestUpdate(ctx, seed, seed_len) != 1 ||
            EVP_DigestUpdate(ctx, cb, sizeof(cb)) != 1 ||
            EVP_DigestFinal_ex(ctx, block, NULL) != 1) {
            r = (kf_result){ KF_ERR_OPENSSL };
            break;
        }
        size_t n = out_len - done < h ? out_len - done : h;
        for (size_t i = 0; i < n; i++) {
            out[done + i] ^= block[i];
        }
        done += (uint32_t)n;
    }
    EVP_MD_CTX_free(ctx);
    if (!kf_ok(r)) {
        kf_err_record(r.code, __FILE__, __LINE__, __func__);
    }
    return r;
}

KF_RESULT kf_rsa_unpad_oaep(const uint8_t *em, size_t k, const EVP_MD *md, const EVP_MD *mgf1,
                            const uint8_t *label, size_t label_len, uint8_t *out, size_t out_cap,
                            size_t *out_len)
{
    KF_ENSURE(em != NULL && md != NULL && mgf1 != NULL && out != NULL && out_len != NULL,
              KF_ERR_INVALID_ARG);
    size_t h = (size_t)EVP_MD_get_size(md);
    /* Public: the modulus is too small for this digest. */
    KF_ENSURE(k >= 2 * h + 2 && out_cap >= k - 2 * h - 2, KF_ERR_BUFFER_TOO_SMALL);
    uint8_t lhash[EVP_MAX_MD_SIZE];
    KF_ENSURE(EVP_Digest(label != NULL ? label : (const uint8_t *)"", label_len, lhash, NULL, md,
                         NULL) == 1,
              KF_ERR_OPENSSL);
    uint8_t *buf = OPENSSL_malloc(k);
    KF_ENSURE(buf != NULL, KF_ERR_NOMEM);
    memcpy(buf, em, k);
    uint8_t *seed = buf + 1;
    uint8_t *db = buf + 1 + h;
    size_t db_len = k - 1 - h;
    kf_result r = mgf1_xor(mgf1, db, db_len, seed, h);
    if (kf_ok(r)) {
        r = mgf1_xor(mgf1, seed, h, db, db_len);
    }
    if (!kf_ok(r)) {
        OPENSSL_clear_free(buf, k);
        return r;
    }
    size_t good = ct_is_zero(buf[0]);
    size_t diff = 0;
    for (size_t i = 0; i < h; i++) {
        diff |= (size_t)(db[i] ^ lhash[i]);
    }
    good &= ct_is_zero(diff);
    /* DB = lHash' || PS (zeros) || 0x01 || M: find the 0x01; anything else non-zero before it
     * is a bad padding. */
    size_t found = 0;
    size_t one_at = 0;
    for (size_t i = h; i < db_len; i++) {
        size_t is_one = ct_eq(db[i], 1);
        size_t is_zero = ct_is_zero(db[i]);
        one_at = ct_select(~found & is_one, i, one_at);
        good &= found | is_zero | is_one;
        found |= is_one;
    }
    good &= found;
    size_t from = ct_select(good, one_at + 1, db_len);
    ct_shift_left(db, db_len, from);
    size_t len = db_len - from;
    memcpy(out, db, len);
    OPENSSL_clear_free(buf, k);
    if (!good) {
        OPENSSL_cleanse(out, out_cap < k ? out_cap : k);
        KF_BAIL(KF_ERR_DECRYPT);
    }
    *out_len = len;
    return KF_OK;
}

/* ---- TLS pre-master secret ---------------------------------------------------------------- */

KF_RESULT kf_rsa_unpad_tls(const uint8_t *em, size_t k, unsigned client_version,
                           unsigned alt_version, const uint8_t fallback[48], uint8_t out[48])
{
    KF_ENSURE(em != NULL && fallback != NULL && out != NULL && k >= 11 + 48, KF_ERR_INVALID_ARG);
    size_t msg_index = 0;
    size_t good = pkcs1_check(em, k, &msg_index);
    /* Public position: the secret is the last 48 bytes, and good only if M starts there. */
    good &= ct_eq(msg_index, k - 48);
    const uint8_t *pms = em + k - 48;
    size_t version_ok =
        ct_eq(pms[0], (client_version >> 8) & 0xff) & ct_eq(pms[1], client_version & 0xff);
    if (alt_version != 0) {
        version_ok |= ct_eq(pms[0], (alt_version >> 8) & 0xff) & ct_eq(pms[1], alt_version & 0xff);
    }
    good &= version_ok;
    for (size_t i = 0; i < 48; i++) {
        out[i] = ct_select_u8(good, pms[i], fallback[i]);
    }
    return KF_OK;
}
