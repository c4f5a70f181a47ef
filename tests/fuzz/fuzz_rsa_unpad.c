/* fuzz_rsa_unpad covers: kf_rsa_unpad_pkcs1_ir, kf_rsa_unpad_pkcs1_strict, kf_rsa_unpad_oaep,
 * kf_rsa_unpad_tls (provider/rsa_unpad.c). */
/* tests/fuzz/fuzz_rsa_unpad.c - the encoded message is c^d mod n as the token returns it, and
 * whoever picks the ciphertext steers it: untrusted.
 *
 * Byte 0 selects the parameters (tests/fuzz/README.md), the rest is the encoded message EM,
 * cut or zero-filled at the end to k bytes; every input runs all four functions:
 *   bits 0-1  k = 64, 128, 256, 512
 *   bits 2-3  OAEP digest / MGF1 digest: SHA1/SHA1, SHA256/SHA256, SHA384/SHA1, SHA512/SHA256
 *   bit 4     OAEP label "fuzz label" (else none)
 *   bit 5     TLS alt_version 0x0301 (else 0); client_version is always 0x0303
 * Checked:
 *   strict    accepts iff a plain model of 00 02 PS(>= 8 non-zero) 00 M accepts, with M
 *   ir        always succeeds, length <= k - 11, M when strict accepts, the same answer twice
 *   oaep      accepts iff OpenSSL's RSA_padding_check_PKCS1_OAEP_mgf1 does, with the same
 *             message (so EM[0] == 0 and length <= k - 2h - 2); k < 2h + 2 is
 *             KF_ERR_BUFFER_TOO_SMALL; every other failure is KF_ERR_DECRYPT
 *   tls       the last 48 bytes iff the model accepts a 48-byte M with a good version, else
 *             the fallback
 * Failures leave out_len alone. Output buffers are heap blocks of exactly the capacity passed,
 * so ASan sees a write past it. OpenSSL's OAEP check uses no RNG; no clock, no RNG here. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "common/kf_result.h"
#include "provider/rsa_unpad.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#define UNTOUCHED ((size_t)0x5eed)

static const size_t moduli[4] = { 64, 128, 256, 512 };
static const char *const oaep_digests[4][2] = {
    { "SHA1", "SHA1" },
    { "SHA256", "SHA256" },
    { "SHA384", "SHA1" },
    { "SHA512", "SHA256" },
};
static const uint8_t label[] = "fuzz label";
static const uint8_t secret[KF_RSA_IR_SECRET_LEN] = {
    0x6b, 0x65, 0x79, 0x66, 0x6f, 0x72, 0x74, 0x20, 0x66, 0x75, 0x7a, 0x7a, 0x20, 0x49, 0x52, 0x00,
    0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10,
};

static uint8_t *alloc_exact(size_t n)
{
    uint8_t *p = malloc(n > 0 ? n : 1);
    CHECK(p != NULL);
    return p;
}

/* The PKCS#1 v1.5 type 2 check, written plainly: returns the index of M, or 0 when bad. */
static size_t model_pkcs1(const uint8_t *em, size_t k)
{
    if (em[0] != 0x00 || em[1] != 0x02) {
        return 0;
    }
    for (size_t i = 2; i < k; i++) {
        if (em[i] == 0x00) {
            return i >= 2 + 8 ? i + 1 : 0;
        }
    }
    return 0;
}

static void run_pkcs1(const uint8_t *em, size_t k, unsigned sel)
{
    size_t model = model_pkcs1(em, k);
    uint8_t *strict = alloc_exact(k);
    size_t strict_len = UNTOUCHED;
    kf_result r = kf_rsa_unpad_pkcs1_strict(em, k, strict, k, &strict_len);
    if (model != 0) {
        CHECK(kf_ok(r));
        CHECK(strict_len == k - model && strict_len <= k - 11);
        CHECK(memcmp(strict, em + model, strict_len) == 0);
    } else {
        CHECK(r.code == KF_ERR_DECRYPT);
        CHECK(strict_len == UNTOUCHED);
    }

    uint8_t *ir = alloc_exact(k);
    uint8_t *again = alloc_exact(k);
    size_t ir_len = UNTOUCHED;
    size_t again_len = UNTOUCHED;
    CHECK(kf_ok(kf_rsa_unpad_pkcs1_ir(NULL, em, em, k, secret, ir, k, &ir_len)));
    CHECK(ir_len <= k - 11);
    if (model != 0) {
        CHECK(ir_len == strict_len && memcmp(ir, strict, ir_len) == 0);
    }
    CHECK(kf_ok(kf_rsa_unpad_pkcs1_ir(NULL, em, em, k, secret, again, k, &again_len)));
    CHECK(again_len == ir_len && memcmp(again, ir, ir_len) == 0);

    uint8_t fallback[48];
    uint8_t *pms = alloc_exact(48);
    for (size_t i = 0; i < sizeof(fallback); i++) {
        fallback[i] = (uint8_t)(0xa5 ^ i);
    }
    unsigned alt = (sel & 0x20) != 0 ? 0x0301 : 0;
    CHECK(kf_ok(kf_rsa_unpad_tls(em, k, 0x0303, alt, fallback, pms)));
    const uint8_t *tail = em + k - 48;
    bool version =
        (tail[0] == 0x03 && tail[1] == 0x03) || (alt != 0 && tail[0] == 0x03 && tail[1] == 0x01);
    bool good = model == k - 48 && version;
    CHECK(memcmp(pms, good ? tail : fallback, 48) == 0);

    free(strict);
    free(ir);
    free(again);
    free(pms);
}

static void run_oaep(const uint8_t *em, size_t k, unsigned sel)
{
    const EVP_MD *md = EVP_get_digestbyname(oaep_digests[(sel >> 2) & 3][0]);
    const EVP_MD *mgf1 = EVP_get_digestbyname(oaep_digests[(sel >> 2) & 3][1]);
    CHECK(md != NULL && mgf1 != NULL);
    const uint8_t *l = (sel & 0x10) != 0 ? label : NULL;
    size_t l_len = (sel & 0x10) != 0 ? sizeof(label) - 1 : 0;
    size_t h = (size_t)EVP_MD_get_size(md);
    size_t len = UNTOUCHED;
    if (k < 2 * h + 2) {
        uint8_t out[1];
        kf_result r = kf_rsa_unpad_oaep(em, k, md, mgf1, l, l_len, out, sizeof(out), &len);
        CHECK(r.code == KF_ERR_BUFFER_TOO_SMALL && len == UNTOUCHED);
        return;
    }
    size_t cap = k - 2 * h - 2;
    uint8_t *out = alloc_exact(cap);
    uint8_t *want = alloc_exact(k);
    kf_result r = kf_rsa_unpad_oaep(em, k, md, mgf1, l, l_len, out, cap, &len);
    int want_len = RSA_padding_check_PKCS1_OAEP_mgf1(want, (int)k, em, (int)k, (int)k, l,
                                                     (int)l_len, md, mgf1);
    ERR_clear_error();
    if (want_len >= 0) {
        CHECK(kf_ok(r));
        CHECK(em[0] == 0x00 && len <= cap);
        CHECK(len == (size_t)want_len && memcmp(out, want, len) == 0);
    } else {
        CHECK(r.code == KF_ERR_DECRYPT && len == UNTOUCHED);
    }
    free(out);
    free(want);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) {
        return 0;
    }
    unsigned sel = data[0];
    size_t k = moduli[sel & 3];
    uint8_t *em = alloc_exact(k);
    size_t n = size - 1 < k ? size - 1 : k;
    memcpy(em, data + 1, n);
    memset(em + n, 0, k - n);
    run_pkcs1(em, k, sel);
    run_oaep(em, k, sel);
    free(em);
    return 0;
}
