/* dnssec/crypto.c - the only file of dnssec/ that calls OpenSSL: DNSSEC algorithms to EVP,
 * DNSKEY public keys to and from EVP_PKEY, signing, verifying, digests (STYLE.md s10). */
#include "common/kf_cursor.h"
#include "dnssec/dnssec.h"
#include "offload/offload.h"

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>
#include <stdlib.h>
#include <string.h>

/* Record an OpenSSL failure with the reason at the top of its queue. */
#define CRYPTO_OSSL_FAIL(what)                                                                     \
    do {                                                                                           \
        char crypto__e[256];                                                                       \
        ERR_error_string_n(ERR_peek_last_error(), crypto__e, sizeof(crypto__e));                   \
        kf_err_record(KF_ERR_OPENSSL, __FILE__, __LINE__, __func__);                               \
        kf_err_note_context("%s: %s", (what), crypto__e);                                          \
        ERR_clear_error();                                                                         \
        return (kf_result){ KF_ERR_OPENSSL };                                                      \
    } while (0)

static const char *crypto_md_of(uint8_t alg)
{
    switch (alg) {
    case KF_DNS_ALG_RSASHA256:
    case KF_DNS_ALG_ECDSAP256SHA256:
        return "SHA256";
    case KF_DNS_ALG_RSASHA512:
        return "SHA512";
    case KF_DNS_ALG_ECDSAP384SHA384:
        return "SHA384";
    default:
        return NULL; /* EdDSA hashes inside the algorithm */
    }
}

/* Field size of the ECDSA algorithms (RFC 6605 s4), 0 for others. */
static size_t crypto_ec_size(uint8_t alg)
{
    return alg == KF_DNS_ALG_ECDSAP256SHA256 ? 32 : alg == KF_DNS_ALG_ECDSAP384SHA384 ? 48 : 0;
}

kf_result kf_dnssec_key_alg(EVP_PKEY *key, uint8_t rsa_alg, uint8_t *out)
{
    KF_ENSURE_REF(key);
    KF_ENSURE_REF(out);
    if (EVP_PKEY_is_a(key, "RSA")) {
        KF_ENSURE(rsa_alg == KF_DNS_ALG_RSASHA256 || rsa_alg == KF_DNS_ALG_RSASHA512,
                  KF_ERR_INVALID_ARG);
        /* RFC 5702 s2: 512..4096 bits; keyfort refuses under 1024 as too weak to sign with. */
        int bits = EVP_PKEY_get_bits(key);
        if (bits < 1024 || bits > 4096) {
            kf_err_note_context("RSA key of %d bits (DNSSEC takes 1024 to 4096)", bits);
            KF_BAIL(KF_ERR_UNSUPPORTED);
        }
        *out = rsa_alg;
        return KF_OK;
    }
    if (EVP_PKEY_is_a(key, "EC")) {
        char group[64] = "";
        size_t glen = 0;
        if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                           &glen) != 1) {
            CRYPTO_OSSL_FAIL("reading the EC key's curve");
        }
        if (strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0) {
            *out = KF_DNS_ALG_ECDSAP256SHA256;
            return KF_OK;
        }
        if (strcmp(group, "secp384r1") == 0 || strcmp(group, "P-384") == 0) {
            *out = KF_DNS_ALG_ECDSAP384SHA384;
            return KF_OK;
        }
        kf_err_note_context("EC curve %s has no DNSSEC algorithm", group);
        KF_BAIL(KF_ERR_UNSUPPORTED);
    }
    if (EVP_PKEY_is_a(key, "ED25519")) {
        *out = KF_DNS_ALG_ED25519;
        return KF_OK;
    }
    if (EVP_PKEY_is_a(key, "ED448")) {
        *out = KF_DNS_ALG_ED448;
        return KF_OK;
    }
    kf_err_note_context("key type %s has no DNSSEC algorithm", EVP_PKEY_get0_type_name(key));
    KF_BAIL(KF_ERR_UNSUPPORTED);
}

static kf_result crypto_bn_param(EVP_PKEY *key, const char *name, BIGNUM **out)
{
    if (EVP_PKEY_get_bn_param(key, name, out) != 1) {
        CRYPTO_OSSL_FAIL(name);
    }
    return KF_OK;
}

static kf_result crypto_rsa_public(EVP_PKEY *key, struct kf_buf *out)
{
    BIGNUM *n = NULL;
    BIGNUM *e = NULL;
    kf_result r = crypto_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n);
    if (kf_ok(r)) {
        r = crypto_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e);
    }
    if (kf_ok(r)) {
        /* RFC 3110 s2: exponent length in one octet, or 0 and two octets when over 255. */
        uint8_t eb[512];
        uint8_t nb[1024];
        int el = BN_bn2bin(e, eb);
        int nl = BN_bn2bin(n, nb);
        if (el <= 0 || nl <= 0 || el > (int)sizeof(eb) || nl > (int)sizeof(nb)) {
            r = (kf_result){ KF_ERR_UNSUPPORTED };
            kf_err_record(KF_ERR_UNSUPPORTED, __FILE__, __LINE__, __func__);
        } else if (el <= 255) {
            r = kf_buf_write_u8(out, (uint8_t)el);
        } else {
            r = kf_buf_write_u8(out, 0);
            if (kf_ok(r)) {
                r = kf_buf_write_u16(out, (uint16_t)el);
            }
        }
        if (kf_ok(r)) {
            r = kf_buf_write_bytes(out, eb, (size_t)el);
        }
        if (kf_ok(r)) {
            r = kf_buf_write_bytes(out, nb, (size_t)nl);
        }
    }
    BN_free(n);
    BN_free(e);
    return r;
}

kf_result kf_dnssec_key_public(EVP_PKEY *key, uint8_t alg, struct kf_buf *out)
{
    KF_ENSURE_REF(key);
    KF_ENSURE_REF(out);
    switch (alg) {
    case KF_DNS_ALG_RSASHA256:
    case KF_DNS_ALG_RSASHA512:
        return crypto_rsa_public(key, out);
    case KF_DNS_ALG_ECDSAP256SHA256:
    case KF_DNS_ALG_ECDSAP384SHA384: {
        /* RFC 6605 s4: x | y, without the 0x04 of the uncompressed point. */
        uint8_t pt[1 + 2 * 48];
        size_t len = 0;
        if (EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, pt, sizeof(pt),
                                            &len) != 1) {
            CRYPTO_OSSL_FAIL("reading the EC public key");
        }
        /* Keys may carry the compressed form; ask for the uncompressed one then. */
        if (len != 1 + 2 * crypto_ec_size(alg) || pt[0] != 0x04) {
            kf_err_note_context("EC public key is not an uncompressed point");
            KF_BAIL(KF_ERR_UNSUPPORTED);
        }
        return kf_buf_write_bytes(out, pt + 1, len - 1);
    }
    case KF_DNS_ALG_ED25519:
    case KF_DNS_ALG_ED448: {
        uint8_t pub[57];
        size_t len = sizeof(pub);
        if (EVP_PKEY_get_raw_public_key(key, pub, &len) != 1) {
            /* Keys from other providers may export only the encoded form. */
            if (EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof(pub),
                                                &len) != 1) {
                CRYPTO_OSSL_FAIL("reading the EdDSA public key");
            }
        }
        return kf_buf_write_bytes(out, pub, len);
    }
    default:
        KF_BAIL(KF_ERR_UNSUPPORTED);
    }
}

/* ---- signing --------------------------------------------------------------------------------- */

struct kf_dnssec_signer {
    EVP_PKEY *key; /* reference held */
    uint8_t alg;
    EVP_MD *md;        /* NULL for EdDSA */
    EVP_PKEY_CTX *ctx; /* RSA/ECDSA: initialised once for EVP_PKEY_sign of a digest */
    EVP_MD_CTX *mctx;  /* EdDSA: re-initialised per message */
    OSSL_LIB_CTX *libctx;
    size_t max_len;
};

void kf_dnssec_signer_free(struct kf_dnssec_signer *s)
{
    if (s == NULL) {
        return;
    }
    EVP_PKEY_CTX_free(s->ctx);
    EVP_MD_CTX_free(s->mctx);
    EVP_MD_free(s->md);
    EVP_PKEY_free(s->key);
    free(s);
}

static kf_result crypto_signer_setup(struct kf_dnssec_signer *s)
{
    const char *mdname = crypto_md_of(s->alg);
    if (mdname == NULL) {
        s->mctx = EVP_MD_CTX_new();
        KF_ENSURE(s->mctx != NULL, KF_ERR_NOMEM);
        return KF_OK;
    }
    /* Hash here and sign the digest: one EVP_PKEY_sign per RRset on a context set up once,
     * instead of EVP_DigestSignInit's method fetches per signature. */
    s->md = EVP_MD_fetch(s->libctx, mdname, NULL);
    if (s->md == NULL) {
        CRYPTO_OSSL_FAIL(mdname);
    }
    s->ctx = EVP_PKEY_CTX_new_from_pkey(s->libctx, s->key, NULL);
    KF_ENSURE(s->ctx != NULL, KF_ERR_NOMEM);
    if (EVP_PKEY_sign_init(s->ctx) != 1) {
        CRYPTO_OSSL_FAIL("EVP_PKEY_sign_init");
    }
    if (crypto_ec_size(s->alg) == 0 &&
        EVP_PKEY_CTX_set_rsa_padding(s->ctx, RSA_PKCS1_PADDING) != 1) {
        CRYPTO_OSSL_FAIL("RSA PKCS#1 v1.5 padding");
    }
    if (EVP_PKEY_CTX_set_signature_md(s->ctx, s->md) != 1) {
        CRYPTO_OSSL_FAIL("signature digest");
    }
    return KF_OK;
}

kf_result kf_dnssec_signer_new(EVP_PKEY *key, uint8_t alg, OSSL_LIB_CTX *libctx,
                               struct kf_dnssec_signer **out)
{
    KF_ENSURE_REF(key);
    KF_ENSURE_REF(out);
    struct kf_dnssec_signer *s = calloc(1, sizeof(*s));
    KF_ENSURE(s != NULL, KF_ERR_NOMEM);
    KF_ENSURE(EVP_PKEY_up_ref(key) == 1, KF_ERR_OPENSSL);
    s->key = key;
    s->alg = alg;
    s->libctx = libctx;
    size_t ec = crypto_ec_size(alg);
    s->max_len = ec != 0                     ? 2 * ec
                 : alg == KF_DNS_ALG_ED25519 ? 64
                 : alg == KF_DNS_ALG_ED448   ? 114
                                             : (size_t)EVP_PKEY_get_size(key);
    kf_result r = crypto_signer_setup(s);
    if (!kf_ok(r)) {
        kf_dnssec_signer_free(s);
        return r;
    }
    *out = s;
    return KF_OK;
}

size_t kf_dnssec_signer_max_len(const struct kf_dnssec_signer *s)
{
    return s->max_len;
}

/* DER ECDSA-Sig-Value to the fixed r | s of RFC 6605 s4. */
static kf_result crypto_ecdsa_der_to_raw(const uint8_t *der, size_t len, size_t field,
                                         struct kf_buf *out)
{
    struct kf_cursor c;
    struct kf_cursor seq;
    KF_GUARD(kf_cursor_init(&c, der, len));
    KF_GUARD(kf_cursor_take_der(&c, 0x30, &seq));
    KF_GUARD(kf_cursor_expect_end(&c));
    for (int i = 0; i < 2; i++) {
        struct kf_cursor v;
        KF_GUARD(kf_cursor_take_der(&seq, 0x02, &v));
        const uint8_t *p = NULL;
        size_t n = v.len;
        KF_GUARD(kf_cursor_borrow(&v, n, &p));
        while (n > 0 && p[0] == 0) {
            p++;
            n--;
        }
        KF_ENSURE(n <= field, KF_ERR_MALFORMED);
        uint8_t pad[48] = { 0 };
        KF_GUARD(kf_buf_write_bytes(out, pad, field - n));
        KF_GUARD(kf_buf_write_bytes(out, p, n));
    }
    return kf_cursor_expect_end(&seq);
}

kf_result kf_dnssec_signer_sign(struct kf_dnssec_signer *s, const uint8_t *data, size_t len,
                                struct kf_buf *out)
{
    KF_ENSURE_REF(s);
    uint8_t sig[1024];
    size_t sig_len = sizeof(sig);
    if (s->md == NULL) {
        if (EVP_DigestSignInit_ex(s->mctx, NULL, NULL, s->libctx, NULL, s->key, NULL) != 1 ||
            EVP_DigestSign(s->mctx, sig, &sig_len, data, len) != 1) {
            CRYPTO_OSSL_FAIL("EdDSA signature");
        }
        return kf_buf_write_bytes(out, sig, sig_len);
    }
    uint8_t dgst[EVP_MAX_MD_SIZE];
    unsigned dlen = 0;
    if (EVP_Digest(data, len, dgst, &dlen, s->md, NULL) != 1) {
        CRYPTO_OSSL_FAIL("digest of the signed data");
    }
    if (EVP_PKEY_sign(s->ctx, sig, &sig_len, dgst, dlen) != 1) {
        CRYPTO_OSSL_FAIL("signature");
    }
    size_t field = crypto_ec_size(s->alg);
    if (field != 0) {
        return crypto_ecdsa_der_to_raw(sig, sig_len, field, out);
    }
    return kf_buf_write_bytes(out, sig, sig_len);
}

/* ---- verifying: through the offload engine ------------------------------------------------------
 */

struct kf_dnssec_pubkey {
    struct kf_offload_key *key;
    enum kf_offload_alg alg;
};

static bool crypto_offload_alg(uint8_t dns_alg, enum kf_offload_alg *out)
{
    switch (dns_alg) {
    case KF_DNS_ALG_RSASHA256:
        *out = KF_OFFLOAD_RSA_PKCS1_SHA256;
        return true;
    case KF_DNS_ALG_RSASHA512:
        *out = KF_OFFLOAD_RSA_PKCS1_SHA512;
        return true;
    case KF_DNS_ALG_ECDSAP256SHA256:
        *out = KF_OFFLOAD_ECDSA_P256_SHA256;
        return true;
    case KF_DNS_ALG_ECDSAP384SHA384:
        *out = KF_OFFLOAD_ECDSA_P384_SHA384;
        return true;
    case KF_DNS_ALG_ED25519:
        *out = KF_OFFLOAD_ED25519;
        return true;
    case KF_DNS_ALG_ED448:
        *out = KF_OFFLOAD_ED448;
        return true;
    default:
        return false;
    }
}

/* RFC 3110 s2: exponent length (1 byte, or 0 and 2 bytes), exponent, modulus. */
static kf_result crypto_rsa_key(const uint8_t *p, size_t len, struct kf_offload_key **out_key)
{
    struct kf_cursor c;
    uint8_t el8 = 0;
    uint16_t elen = 0;
    const uint8_t *e = NULL;
    const uint8_t *n = NULL;
    KF_GUARD(kf_cursor_init(&c, p, len));
    KF_GUARD(kf_cursor_read_u8(&c, &el8));
    elen = el8;
    if (el8 == 0) {
        KF_GUARD(kf_cursor_read_u16(&c, &elen));
    }
    KF_ENSURE(elen != 0, KF_ERR_MALFORMED);
    KF_GUARD(kf_cursor_borrow(&c, elen, &e));
    size_t nlen = kf_cursor_left(&c);
    /* RFC 3110 caps DNSSEC RSA moduli at 4096 bits. */
    KF_ENSURE(nlen != 0 && nlen <= 512, KF_ERR_MALFORMED);
    KF_GUARD(kf_cursor_borrow(&c, nlen, &n));
    return kf_offload_key_new_rsa(n, nlen, e, elen, 0, out_key);
}

kf_result kf_dnssec_pubkey_new(const uint8_t *rdata, size_t len, struct kf_dnssec_pubkey **out)
{
    KF_ENSURE_REF(out);
    struct kf_dnskey k;
    KF_GUARD(kf_dnssec_dnskey_parse(rdata, len, &k));
    enum kf_offload_alg alg;
    if (!crypto_offload_alg(k.alg, &alg)) {
        kf_err_note_context("DNSSEC algorithm %u", k.alg);
        KF_BAIL(KF_ERR_UNSUPPORTED);
    }
    /* The offload constructors record the cause (not a point on the curve, an even
     * modulus, ...); the context adds which record it was. */
    struct kf_offload_key *key = NULL;
    if (alg == KF_OFFLOAD_RSA_PKCS1_SHA256 || alg == KF_OFFLOAD_RSA_PKCS1_SHA512) {
        KF_GUARD_CTX(crypto_rsa_key(k.pub, k.pub_len, &key),
                     "DNSKEY public key field of algorithm %u", k.alg);
    } else if (alg == KF_OFFLOAD_ECDSA_P256_SHA256 || alg == KF_OFFLOAD_ECDSA_P384_SHA384) {
        /* A zone has few keys and many signatures: the per-key table pays for itself. */
        KF_GUARD_CTX(kf_offload_key_new_ec(alg, k.pub, k.pub_len, KF_OFFLOAD_KEY_TABLE, &key),
                     "DNSKEY public key field of algorithm %u", k.alg);
    } else {
        KF_GUARD_CTX(kf_offload_key_new_eddsa(alg, k.pub, k.pub_len, &key),
                     "DNSKEY public key field of algorithm %u", k.alg);
    }
    struct kf_dnssec_pubkey *pk = calloc(1, sizeof(*pk));
    if (pk == NULL) {
        kf_offload_key_free(key);
        KF_BAIL(KF_ERR_NOMEM);
    }
    pk->key = key;
    pk->alg = alg;
    *out = pk;
    return KF_OK;
}

void kf_dnssec_pubkey_free(struct kf_dnssec_pubkey *k)
{
    if (k != NULL) {
        kf_offload_key_free(k->key);
        free(k);
    }
}

void kf_dnssec_verify_batch(struct kf_dnssec_vjob *jobs, size_t n)
{
    /* In slices the stack holds; the engine batches each slice by key kind into lanes. */
    struct kf_offload_job oj[64];
    for (size_t at = 0; at < n; at += 64) {
        size_t take = n - at < 64 ? n - at : 64;
        for (size_t i = 0; i < take; i++) {
            const struct kf_dnssec_vjob *j = &jobs[at + i];
            oj[i] = (struct kf_offload_job){ .alg = j->key != NULL ? j->key->alg : 0,
                                             .key = j->key != NULL ? j->key->key : NULL,
                                             .msg = j->data,
                                             .msg_len = j->data_len,
                                             .sig = j->sig,
                                             .sig_len = j->sig_len };
        }
        kf_offload_verify_many(NULL, oj, take);
        for (size_t i = 0; i < take; i++) {
            jobs[at + i].valid = oj[i].verdict == KF_OFFLOAD_VALID;
        }
    }
}

/* ---- digests: DS, NSEC3 ------------------------------------------------------------------------
 */

kf_result kf_dnssec_ds_make(const uint8_t *owner, size_t owner_len, const uint8_t *dnskey,
                            size_t dnskey_len, uint8_t digest_type, struct kf_buf *out)
{
    KF_ENSURE_REF(owner);
    KF_ENSURE_REF(dnskey);
    struct kf_dnskey k;
    KF_GUARD(kf_dnssec_dnskey_parse(dnskey, dnskey_len, &k));
    const char *md = digest_type == KF_DNS_DS_SHA1     ? "SHA1"
                     : digest_type == KF_DNS_DS_SHA256 ? "SHA256"
                     : digest_type == KF_DNS_DS_SHA384 ? "SHA384"
                                                       : NULL;
    if (md == NULL) {
        kf_err_note_context("DS digest type %u", digest_type);
        KF_BAIL(KF_ERR_UNSUPPORTED);
    }
    /* RFC 4034 s5.1.4: digest = hash(canonical owner | DNSKEY RDATA). */
    uint8_t name[KF_DNS_MAX_NAME];
    KF_ENSURE(owner_len <= sizeof(name), KF_ERR_MALFORMED);
    memcpy(name, owner, owner_len);
    kf_dnssec_name_lower(name);
    uint8_t dg[EVP_MAX_MD_SIZE];
    unsigned dlen = 0;
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    KF_ENSURE(m != NULL, KF_ERR_NOMEM);
    int ok = EVP_DigestInit_ex(m, EVP_get_digestbyname(md), NULL) == 1 &&
             EVP_DigestUpdate(m, name, owner_len) == 1 &&
             EVP_DigestUpdate(m, dnskey, dnskey_len) == 1 && EVP_DigestFinal_ex(m, dg, &dlen) == 1;
    EVP_MD_CTX_free(m);
    if (!ok) {
        CRYPTO_OSSL_FAIL(md);
    }
    KF_GUARD(kf_buf_write_u16(out, kf_dnssec_key_tag(dnskey, dnskey_len)));
    KF_GUARD(kf_buf_write_u8(out, k.alg));
    KF_GUARD(kf_buf_write_u8(out, digest_type));
    return kf_buf_write_bytes(out, dg, dlen);
}

kf_result kf_dnssec_nsec3_hash(const uint8_t *name, size_t name_len, uint8_t hash_alg,
                               const uint8_t *salt, size_t salt_len, uint16_t iterations,
                               uint8_t out[20])
{
    KF_ENSURE_REF(name);
    if (hash_alg != 1) {
        kf_err_note_context("NSEC3 hash algorithm %u", hash_alg);
        KF_BAIL(KF_ERR_UNSUPPORTED);
    }
    /* RFC 5155 s5: IH(salt, x, 0) = H(x | salt); IH(salt, x, k) = H(IH(salt, x, k-1) | salt). */
    const EVP_MD *sha1 = EVP_sha1();
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    KF_ENSURE(m != NULL, KF_ERR_NOMEM);
    uint8_t h[20];
    unsigned hl = 0;
    int ok = EVP_DigestInit_ex(m, sha1, NULL) == 1 && EVP_DigestUpdate(m, name, name_len) == 1 &&
             EVP_DigestUpdate(m, salt, salt_len) == 1 && EVP_DigestFinal_ex(m, h, &hl) == 1;
    for (unsigned i = 0; ok && i < iterations; i++) {
        ok = EVP_DigestInit_ex(m, sha1, NULL) == 1 && EVP_DigestUpdate(m, h, sizeof(h)) == 1 &&
             EVP_DigestUpdate(m, salt, salt_len) == 1 && EVP_DigestFinal_ex(m, h, &hl) == 1;
    }
    EVP_MD_CTX_free(m);
    if (!ok) {
        CRYPTO_OSSL_FAIL("NSEC3 hash");
    }
    memcpy(out, h, 20);
    return KF_OK;
}
