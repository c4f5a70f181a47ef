/* keyfort offload: public keys parsed once, with their kernel precomputation.
 *
 * A validator checks many signatures under few keys; OpenSSL's one-shot interfaces import the
 * key on every call. Here the EVP_PKEY (scalar path) and the kernels' per-key data (Montgomery
 * constants, a validated point, an optional table) are built once and shared read-only. */
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <stdlib.h>
#include <string.h>

#include "offload/internal.h"

/* Smallest RSA modulus accepted (RFC 3110 allows 512 bits; OpenSSL verifies such keys too). */
#define KEY_RSA_MIN_BYTES 64
#define KEY_RSA_MAX_BYTES 2048 /* 16384 bits, OpenSSL's own limit for public operations */

/* A key of @p type around @p pkey, which it takes (and frees if allocation fails). */
static kf_result key_wrap(enum offload_key_type type, EVP_PKEY *pkey,
                          struct kf_offload_key **out_key)
{
    struct kf_offload_key *k = calloc(1, sizeof(*k));
    if (k == NULL) {
        EVP_PKEY_free(pkey);
        KF_BAIL(KF_ERR_NOMEM);
    }
    k->type = type;
    k->pkey = pkey;
    *out_key = k;
    return KF_OK;
}

void kf_offload_key_free(struct kf_offload_key *key)
{
    if (key == NULL) {
        return;
    }
    EVP_PKEY_free(key->pkey);
    free(key->n);
    const struct offload_lanes_ops *ops = offload_lanes();
    if (key->rsa_lanes != NULL) {
        ops->rsa_key_free(key->rsa_lanes);
    }
    if (key->p256_lanes != NULL) {
        ops->p256_key_free(key->p256_lanes);
    }
    free(key);
}

bool kf_offload_key_has_lanes(const struct kf_offload_key *key)
{
    return key != NULL && (key->rsa_lanes != NULL || key->p256_lanes != NULL);
}

bool offload_key_fits(const struct kf_offload_key *key, enum kf_offload_alg alg)
{
    switch (alg) {
    case KF_OFFLOAD_RSA_PKCS1_SHA256:
    case KF_OFFLOAD_RSA_PKCS1_SHA512:
        return key->type == OFFLOAD_KEY_RSA;
    case KF_OFFLOAD_ECDSA_P256_SHA256:
        return key->type == OFFLOAD_KEY_P256;
    case KF_OFFLOAD_ECDSA_P384_SHA384:
        return key->type == OFFLOAD_KEY_P384;
    case KF_OFFLOAD_ED25519:
        return key->type == OFFLOAD_KEY_ED25519;
    case KF_OFFLOAD_ED448:
        return key->type == OFFLOAD_KEY_ED448;
    }
    return false;
}

/* An EVP_PKEY of @p type from @p params; NULL if OpenSSL refuses the key. */
static EVP_PKEY *key_fromdata(const char *type, OSSL_PARAM_BLD *bld)
{
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    EVP_PKEY *pkey = NULL;
    if (params == NULL || ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1) {
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    ERR_clear_error();
    return pkey;
}

/* The kernel key's encoding slots, one per RSA algorithm (offload_rsa_slot). */
static bool key_rsa_slots(const struct offload_lanes_ops *ops, struct kf_offload_key *k)
{
    static const enum kf_offload_alg algs[] = { KF_OFFLOAD_RSA_PKCS1_SHA256,
                                                KF_OFFLOAD_RSA_PKCS1_SHA512 };
    uint8_t em[KEY_RSA_MAX_BYTES];
    for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
        size_t d_len = 0;
        if (!offload_pkcs1_zero_encoding(algs[i], em, k->n_len, &d_len) ||
            !ops->rsa_key_expect(k->rsa_lanes, offload_rsa_slot(algs[i]), em, k->n_len, d_len)) {
            return false;
        }
    }
    return true;
}

kf_result kf_offload_key_new_rsa(const uint8_t *n, size_t n_len, const uint8_t *e, size_t e_len,
                                 unsigned flags, struct kf_offload_key **out_key)
{
    (void)flags;
    KF_ENSURE_REF(n);
    KF_ENSURE_REF(e);
    KF_ENSURE_REF(out_key);
    /* Leading zero bytes carry nothing; RSA_size is the length without them. */
    while (n_len > 0 && n[0] == 0) {
        n++;
        n_len--;
    }
    while (e_len > 0 && e[0] == 0) {
        e++;
        e_len--;
    }
    if (n_len < KEY_RSA_MIN_BYTES || n_len > KEY_RSA_MAX_BYTES || (n[n_len - 1] & 1) == 0 ||
        e_len == 0 || e_len > n_len) {
        kf_err_note_context("RSA public key: %zu-byte modulus%s, %zu-byte exponent", n_len,
                            n_len > 0 && (n[n_len - 1] & 1) == 0 ? " (even)" : "", e_len);
        KF_BAIL(KF_ERR_MALFORMED);
    }
    BIGNUM *bn = BN_bin2bn(n, (int)n_len, NULL);
    BIGNUM *be = BN_bin2bn(e, (int)e_len, NULL);
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    EVP_PKEY *pkey = NULL;
    if (bn != NULL && be != NULL && bld != NULL &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) == 1 &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) == 1) {
        pkey = key_fromdata("RSA", bld);
    }
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn);
    BN_free(be);
    if (pkey == NULL) {
        kf_err_note_context("RSA public key (%zu-byte modulus) refused by OpenSSL", n_len);
        KF_BAIL(KF_ERR_MALFORMED);
    }
    struct kf_offload_key *k = NULL;
    KF_GUARD(key_wrap(OFFLOAD_KEY_RSA, pkey, &k));
    k->n = malloc(n_len);
    if (k->n == NULL) {
        kf_offload_key_free(k);
        KF_BAIL(KF_ERR_NOMEM);
    }
    memcpy(k->n, n, n_len);
    k->n_len = n_len;
    /* NULL from the kernel means "not my size" (or no memory): the scalar path takes the key. */
    const struct offload_lanes_ops *ops = offload_lanes();
    if (ops != NULL) {
        k->rsa_lanes = ops->rsa_key_new(n, n_len, e, e_len);
    }
    if (k->rsa_lanes != NULL && !key_rsa_slots(ops, k)) {
        ops->rsa_key_free(k->rsa_lanes); /* no memory for a slot: the scalar path takes it */
        k->rsa_lanes = NULL;
    }
    *out_key = k;
    return KF_OK;
}

kf_result kf_offload_key_new_ec(enum kf_offload_alg alg, const uint8_t *xy, size_t len,
                                unsigned flags, struct kf_offload_key **out_key)
{
    KF_ENSURE_REF(xy);
    KF_ENSURE_REF(out_key);
    const char *group = NULL;
    size_t field = 0;
    enum offload_key_type type;
    if (alg == KF_OFFLOAD_ECDSA_P256_SHA256) {
        group = "P-256";
        field = 32;
        type = OFFLOAD_KEY_P256;
    } else if (alg == KF_OFFLOAD_ECDSA_P384_SHA384) {
        group = "P-384";
        field = 48;
        type = OFFLOAD_KEY_P384;
    } else {
        kf_err_note_context("offload algorithm %d is not ECDSA", (int)alg);
        KF_BAIL(KF_ERR_UNSUPPORTED);
    }
    if (len != 2 * field) {
        kf_err_note_context("%s public key of %zu bytes (want %zu)", group, len, 2 * field);
        KF_BAIL(KF_ERR_MALFORMED);
    }
    uint8_t point[1 + 96];
    point[0] = 0x04; /* SEC1 uncompressed */
    memcpy(point + 1, xy, len);
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    EVP_PKEY *pkey = NULL;
    /* OpenSSL's import rejects coordinates >= p and points off the curve. */
    if (bld != NULL &&
        OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0) == 1 &&
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, 1 + len) == 1) {
        pkey = key_fromdata("EC", bld);
    }
    OSSL_PARAM_BLD_free(bld);
    if (pkey == NULL) {
        kf_err_note_context("%s public key is not a point on the curve", group);
        KF_BAIL(KF_ERR_MALFORMED);
    }
    struct kf_offload_key *k = NULL;
    KF_GUARD(key_wrap(type, pkey, &k));
    const struct offload_lanes_ops *ops = offload_lanes();
    if (type == OFFLOAD_KEY_P256 && ops != NULL) {
        k->p256_lanes = ops->p256_key_new(xy, (flags & KF_OFFLOAD_KEY_TABLE) != 0);
    }
    *out_key = k;
    return KF_OK;
}

kf_result kf_offload_key_new_eddsa(enum kf_offload_alg alg, const uint8_t *pub, size_t len,
                                   struct kf_offload_key **out_key)
{
    KF_ENSURE_REF(pub);
    KF_ENSURE_REF(out_key);
    int id;
    size_t want;
    enum offload_key_type type;
    if (alg == KF_OFFLOAD_ED25519) {
        id = EVP_PKEY_ED25519;
        want = 32;
        type = OFFLOAD_KEY_ED25519;
    } else if (alg == KF_OFFLOAD_ED448) {
        id = EVP_PKEY_ED448;
        want = 57;
        type = OFFLOAD_KEY_ED448;
    } else {
        kf_err_note_context("offload algorithm %d is not EdDSA", (int)alg);
        KF_BAIL(KF_ERR_UNSUPPORTED);
    }
    if (len != want) {
        kf_err_note_context("EdDSA public key of %zu bytes (want %zu)", len, want);
        KF_BAIL(KF_ERR_MALFORMED);
    }
    EVP_PKEY *pkey = EVP_PKEY_new_raw_public_key(id, NULL, pub, len);
    if (pkey == NULL) {
        ERR_clear_error();
        kf_err_note_context("EdDSA public key refused by OpenSSL");
        KF_BAIL(KF_ERR_MALFORMED);
    }
    struct kf_offload_key *k = NULL;
    KF_GUARD(key_wrap(type, pkey, &k));
    *out_key = k;
    return KF_OK;
}

/* A BIGNUM parameter of @p pkey as big-endian bytes into @p buf: exactly @p pad bytes if pad
 * is not 0 (a coordinate may be 0, or shorter than the field), else its minimal length.
 * Returns 0 if absent or too long. */
static size_t key_get_bn(EVP_PKEY *pkey, const char *name, uint8_t *buf, size_t cap, size_t pad)
{
    BIGNUM *bn = NULL;
    size_t len = 0;
    if (EVP_PKEY_get_bn_param(pkey, name, &bn) == 1 && (size_t)BN_num_bytes(bn) <= cap) {
        len = pad != 0 ? (BN_bn2binpad(bn, buf, (int)pad) == (int)pad ? pad : 0)
                       : (size_t)BN_bn2bin(bn, buf);
    }
    BN_free(bn);
    return len;
}

kf_result kf_offload_key_from_pkey(EVP_PKEY *pkey, unsigned flags, struct kf_offload_key **out_key)
{
    KF_ENSURE_REF(pkey);
    KF_ENSURE_REF(out_key);
    if (EVP_PKEY_is_a(pkey, "RSA")) {
        uint8_t n[KEY_RSA_MAX_BYTES], e[KEY_RSA_MAX_BYTES];
        size_t n_len = key_get_bn(pkey, OSSL_PKEY_PARAM_RSA_N, n, sizeof(n), 0);
        size_t e_len = key_get_bn(pkey, OSSL_PKEY_PARAM_RSA_E, e, sizeof(e), 0);
        ERR_clear_error();
        KF_ENSURE(n_len > 0 && e_len > 0, KF_ERR_MALFORMED);
        return kf_offload_key_new_rsa(n, n_len, e, e_len, flags, out_key);
    }
    if (EVP_PKEY_is_a(pkey, "EC")) {
        char group[32] = "";
        (void)EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                             NULL);
        enum kf_offload_alg alg;
        size_t field;
        if (strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0) {
            alg = KF_OFFLOAD_ECDSA_P256_SHA256;
            field = 32;
        } else if (strcmp(group, "secp384r1") == 0 || strcmp(group, "P-384") == 0) {
            alg = KF_OFFLOAD_ECDSA_P384_SHA384;
            field = 48;
        } else {
            ERR_clear_error();
            kf_err_note_context("EC group '%s' (offload takes P-256 and P-384)", group);
            KF_BAIL(KF_ERR_UNSUPPORTED);
        }
        uint8_t xy[96];
        size_t xl = key_get_bn(pkey, OSSL_PKEY_PARAM_EC_PUB_X, xy, field, field);
        size_t yl = key_get_bn(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, xy + field, field, field);
        ERR_clear_error();
        KF_ENSURE(xl == field && yl == field, KF_ERR_MALFORMED);
        return kf_offload_key_new_ec(alg, xy, 2 * field, flags, out_key);
    }
    bool ed25519 = EVP_PKEY_is_a(pkey, "ED25519");
    if (ed25519 || EVP_PKEY_is_a(pkey, "ED448")) {
        uint8_t pub[57];
        size_t len = sizeof(pub);
        KF_ENSURE(EVP_PKEY_get_raw_public_key(pkey, pub, &len) == 1, KF_ERR_MALFORMED);
        return kf_offload_key_new_eddsa(ed25519 ? KF_OFFLOAD_ED25519 : KF_OFFLOAD_ED448, pub, len,
                                        out_key);
    }
    kf_err_note_context("key type %s (offload takes RSA, P-256, P-384, Ed25519, Ed448)",
                        EVP_PKEY_get0_type_name(pkey) != NULL ? EVP_PKEY_get0_type_name(pkey)
                                                              : "?");
    KF_BAIL(KF_ERR_UNSUPPORTED);
}
