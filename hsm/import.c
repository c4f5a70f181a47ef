/* hsm/import.c - a private key from a PEM file becomes a sensitive,
 * non-extractable token key.
 *
 * The key's components pass through kf_secret buffers (locked, wiped) on their
 * way to C_CreateObject; OpenSSL's own copies are freed with the clearing
 * frees. */
#include "hsm/ck_call.h"

#include "common/kf_log.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/core_names.h>
#include <openssl/obj_mac.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Encrypted PEM files would make OpenSSL prompt on its own; keyfort refuses
 * them instead. */
static int import_no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return -1;
}

/* Key files larger than this are not private keys keyfort can import (RSA-4096 PEM: ~3.3 KB). */
#define IMPORT_FILE_MAX (64 * 1024)

/* Read the key file with read(2) into locked memory and parse it from there: stdio would leave
 * a copy of the private key in its freed, unwiped buffer. */
static KF_RESULT import_read(const char *path, EVP_PKEY **out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        kf_err_note_errno(errno);
        kf_err_note_context("key file '%s'", path);
        KF_BAIL(KF_ERR_FILE_OPEN);
    }
    struct kf_secret *text KF_SECRET_AUTO = NULL;
    kf_result r = kf_secret_new(IMPORT_FILE_MAX, &text);
    size_t used = 0;
    uint8_t *buf = kf_ok(r) ? (uint8_t *)kf_secret_data(text) : NULL;
    while (kf_ok(r) && used < IMPORT_FILE_MAX) {
        ssize_t got = read(fd, buf + used, IMPORT_FILE_MAX - used);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got < 0) {
            kf_err_note_errno(errno);
            kf_err_note_context("key file '%s'", path);
            kf_err_record(KF_ERR_IO, __FILE__, __LINE__, __func__);
            r = (kf_result){ KF_ERR_IO };
            break;
        }
        if (got == 0) {
            break;
        }
        used += (size_t)got;
    }
    close(fd);
    KF_GUARD(r);
    if (used == IMPORT_FILE_MAX) {
        kf_err_note_context("key file '%s' is larger than %d bytes", path, IMPORT_FILE_MAX);
        KF_BAIL(KF_ERR_TOO_LARGE);
    }
    BIO *mem = BIO_new_mem_buf(buf, (int)used);
    KF_ENSURE(mem != NULL, KF_ERR_NOMEM);
    EVP_PKEY *pk =
        PEM_read_bio_PrivateKey_ex(mem, NULL, import_no_passphrase, NULL, NULL, KF_HSM_SW_PROPQ);
    BIO_free(mem);
    if (pk == NULL) {
        kf_err_note_context("'%s' holds no unencrypted PEM private key", path);
        KF_BAIL(KF_ERR_BAD_KEY_FILE);
    }
    *out = pk;
    return KF_OK;
}

/* A BIGNUM parameter of the key, big-endian, into a new secret. */
static KF_RESULT import_bn(const EVP_PKEY *pk, const char *name, struct kf_secret **out)
{
    BIGNUM *bn = NULL;
    KF_GUARD_OSSL(EVP_PKEY_get_bn_param(pk, name, &bn), KF_ERR_BAD_KEY_FILE);
    int n = BN_num_bytes(bn);
    struct kf_secret *s = NULL;
    kf_result r = kf_secret_new(n > 0 ? (size_t)n : 1, &s);
    if (kf_ok(r)) {
        uint8_t *dst = (uint8_t *)kf_secret_data(s);
        BN_bn2bin(bn, dst);
        r = kf_secret_from_bytes(dst, (size_t)n, out); /* a copy with the exact length */
    }
    kf_secret_free(s);
    BN_clear_free(bn);
    return r;
}

struct import_parts {
    CK_KEY_TYPE key_type;
    int nid;
    struct kf_secret *v[8]; /* RSA n e d p q dp dq qinv; EC: d; EdDSA: seed */
    uint8_t point[160];     /* public point, DER OCTET STRING wrapped for CKA_EC_POINT */
    size_t point_len;
};

static void import_parts_cleanup(struct import_parts *p)
{
    for (size_t i = 0; i < 8; i++) {
        kf_secret_free(p->v[i]);
        p->v[i] = NULL;
    }
}

static KF_RESULT import_wrap_point(struct import_parts *p, const uint8_t *raw, size_t n)
{
    KF_ENSURE(n + 2 <= sizeof(p->point) && n < 128, KF_ERR_UNSUPPORTED);
    p->point[0] = 0x04; /* OCTET STRING, short length: every supported point is <
                           128 bytes */
    p->point[1] = (uint8_t)n;
    memcpy(p->point + 2, raw, n);
    p->point_len = n + 2;
    return KF_OK;
}

static KF_RESULT import_split(EVP_PKEY *pk, struct import_parts *p)
{
    int base = EVP_PKEY_get_base_id(pk);
    if (base == EVP_PKEY_RSA) {
        static const char *const names[8] = {
            OSSL_PKEY_PARAM_RSA_N,         OSSL_PKEY_PARAM_RSA_E,
            OSSL_PKEY_PARAM_RSA_D,         OSSL_PKEY_PARAM_RSA_FACTOR1,
            OSSL_PKEY_PARAM_RSA_FACTOR2,   OSSL_PKEY_PARAM_RSA_EXPONENT1,
            OSSL_PKEY_PARAM_RSA_EXPONENT2, OSSL_PKEY_PARAM_RSA_COEFFICIENT1,
        };
        p->key_type = CKK_RSA;
        for (size_t i = 0; i < 8; i++) {
            KF_GUARD(import_bn(pk, names[i], &p->v[i]));
        }
        return KF_OK;
    }
    if (base == EVP_PKEY_EC) {
        char group[64];
        KF_GUARD_OSSL(EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME, group,
                                                     sizeof(group), NULL),
                      KF_ERR_BAD_KEY_FILE);
        p->key_type = CKK_EC;
        p->nid = OBJ_sn2nid(group);
        if (p->nid == NID_undef) {
            p->nid = EC_curve_nist2nid(group);
        }
        KF_ENSURE(kf_hsm_ec_field_len(p->nid) > 0 && p->nid != NID_ED25519 && p->nid != NID_ED448,
                  KF_ERR_UNSUPPORTED);
        KF_GUARD(import_bn(pk, OSSL_PKEY_PARAM_PRIV_KEY, &p->v[0]));
        uint8_t raw[160];
        size_t n = 0;
        KF_GUARD_OSSL(
            EVP_PKEY_get_octet_string_param(pk, OSSL_PKEY_PARAM_PUB_KEY, raw, sizeof(raw), &n),
            KF_ERR_BAD_KEY_FILE);
        /* PKCS#11 wants the uncompressed form (s2.3.3); a compressed key file is
         * refused. */
        KF_ENSURE(n == 1 + 2 * kf_hsm_ec_field_len(p->nid) && raw[0] == 0x04, KF_ERR_UNSUPPORTED);
        return import_wrap_point(p, raw, n);
    }
    if (base == EVP_PKEY_ED25519 || base == EVP_PKEY_ED448) {
        p->key_type = CKK_EC_EDWARDS;
        p->nid = base == EVP_PKEY_ED25519 ? NID_ED25519 : NID_ED448;
        size_t n = kf_hsm_ec_field_len(p->nid);
        KF_GUARD(kf_secret_new(n, &p->v[0]));
        uint8_t *seed = (uint8_t *)kf_secret_data(p->v[0]);
        size_t got = n;
        KF_GUARD_OSSL(EVP_PKEY_get_raw_private_key(pk, seed, &got), KF_ERR_BAD_KEY_FILE);
        KF_ENSURE(got == n, KF_ERR_BAD_KEY_FILE);
        struct kf_secret *exact = NULL;
        KF_GUARD(kf_secret_from_bytes(seed, n, &exact));
        kf_secret_free(p->v[0]);
        p->v[0] = exact;
        uint8_t raw[64];
        size_t rn = sizeof(raw);
        KF_GUARD_OSSL(EVP_PKEY_get_raw_public_key(pk, raw, &rn), KF_ERR_BAD_KEY_FILE);
        return import_wrap_point(p, raw, rn);
    }
    kf_err_note_context("key type '%s'", EVP_PKEY_get0_type_name(pk));
    KF_BAIL(KF_ERR_UNSUPPORTED);
}

#define SECRET_ATTR(type, s)                                                                       \
    (CK_ATTRIBUTE)                                                                                 \
    {                                                                                              \
        (type), (void *)kf_secret_data(s), kf_secret_len(s)                                        \
    }

static KF_RESULT import_create(struct kf_hsm_token *t, CK_SESSION_HANDLE s, struct import_parts *p,
                               const char *label, const uint8_t *id, size_t id_len,
                               CK_OBJECT_HANDLE *out_priv, CK_OBJECT_HANDLE *out_pub)
{
    KF_GUARD(kf_hsm_keygen_check_unique(t, s, label, id, id_len));
    CK_OBJECT_CLASS priv_cls = CKO_PRIVATE_KEY;
    CK_OBJECT_CLASS pub_cls = CKO_PUBLIC_KEY;
    CK_BBOOL yes = CK_TRUE;
    CK_BBOOL no = CK_FALSE;
    const uint8_t *params = NULL;
    size_t params_len = 0;
    if (p->key_type != CKK_RSA) {
        KF_GUARD(kf_hsm_ec_params_der(p->nid, &params, &params_len));
    }
    CK_ATTRIBUTE priv[20];
    CK_ULONG nk = 0;
    priv[nk++] = (CK_ATTRIBUTE){ CKA_CLASS, &priv_cls, sizeof(priv_cls) };
    priv[nk++] = (CK_ATTRIBUTE){ CKA_KEY_TYPE, &p->key_type, sizeof(p->key_type) };
    priv[nk++] = (CK_ATTRIBUTE){ CKA_TOKEN, &yes, sizeof(yes) };
    priv[nk++] = (CK_ATTRIBUTE){ CKA_PRIVATE, &yes, sizeof(yes) };
    priv[nk++] = (CK_ATTRIBUTE){ CKA_SENSITIVE, &yes, sizeof(yes) };
    priv[nk++] = (CK_ATTRIBUTE){ CKA_EXTRACTABLE, &no, sizeof(no) };
    priv[nk++] = (CK_ATTRIBUTE){ CKA_SIGN, &yes, sizeof(yes) };
    priv[nk++] = (CK_ATTRIBUTE){ CKA_LABEL, (void *)label, strlen(label) };
    priv[nk++] = (CK_ATTRIBUTE){ CKA_ID, (void *)id, id_len };
    CK_ATTRIBUTE pub[12];
    CK_ULONG np = 0;
    pub[np++] = (CK_ATTRIBUTE){ CKA_CLASS, &pub_cls, sizeof(pub_cls) };
    pub[np++] = (CK_ATTRIBUTE){ CKA_KEY_TYPE, &p->key_type, sizeof(p->key_type) };
    pub[np++] = (CK_ATTRIBUTE){ CKA_TOKEN, &yes, sizeof(yes) };
    pub[np++] = (CK_ATTRIBUTE){ CKA_PRIVATE, &no, sizeof(no) };
    pub[np++] = (CK_ATTRIBUTE){ CKA_VERIFY, &yes, sizeof(yes) };
    pub[np++] = (CK_ATTRIBUTE){ CKA_LABEL, (void *)label, strlen(label) };
    pub[np++] = (CK_ATTRIBUTE){ CKA_ID, (void *)id, id_len };
    if (p->key_type == CKK_RSA) {
        static const CK_ATTRIBUTE_TYPE rsa_types[8] = {
            CKA_MODULUS, CKA_PUBLIC_EXPONENT, CKA_PRIVATE_EXPONENT, CKA_PRIME_1,
            CKA_PRIME_2, CKA_EXPONENT_1,      CKA_EXPONENT_2,       CKA_COEFFICIENT,
        };
        priv[nk++] = (CK_ATTRIBUTE){ CKA_DECRYPT, &yes, sizeof(yes) };
        for (size_t i = 0; i < 8; i++) {
            priv[nk++] = SECRET_ATTR(rsa_types[i], p->v[i]);
        }
        pub[np++] = (CK_ATTRIBUTE){ CKA_ENCRYPT, &yes, sizeof(yes) };
        pub[np++] = SECRET_ATTR(CKA_MODULUS, p->v[0]);
        pub[np++] = SECRET_ATTR(CKA_PUBLIC_EXPONENT, p->v[1]);
    } else {
        if (p->key_type == CKK_EC) {
            priv[nk++] = (CK_ATTRIBUTE){ CKA_DERIVE, &yes, sizeof(yes) };
        }
        priv[nk++] = (CK_ATTRIBUTE){ CKA_EC_PARAMS, (void *)params, params_len };
        priv[nk++] = SECRET_ATTR(CKA_VALUE, p->v[0]);
        pub[np++] = (CK_ATTRIBUTE){ CKA_EC_PARAMS, (void *)params, params_len };
        pub[np++] = (CK_ATTRIBUTE){ CKA_EC_POINT, p->point, p->point_len };
    }
    CK_OBJECT_HANDLE hpub = CK_INVALID_HANDLE;
    CK_OBJECT_HANDLE hpriv = CK_INVALID_HANDLE;
    KF_GUARD(kf_ck_create_object(t->mod, s, pub, np, &hpub));
    kf_result r = kf_ck_create_object(t->mod, s, priv, nk, &hpriv);
    if (!kf_ok(r)) {
        KF_QUIET(kf_ck_destroy_object(t->mod, s, hpub)); /* no half-imported key */
        return r;
    }
    *out_priv = hpriv;
    *out_pub = hpub;
    return KF_OK;
}

KF_RESULT kf_hsm_key_import_pem(struct kf_hsm_token *t, const char *path, const char *label,
                                const uint8_t *id, size_t id_len, struct kf_hsm_key **out)
{
    KF_ENSURE_REF(t);
    KF_ENSURE_REF(path);
    KF_ENSURE_REF(label);
    KF_ENSURE_REF(out);
    KF_ENSURE(label[0] != '\0' && strlen(label) <= 128, KF_ERR_INVALID_ARG);
    uint8_t random_id[16];
    if (id == NULL) {
        KF_GUARD_OSSL(RAND_bytes(random_id, sizeof(random_id)), KF_ERR_OPENSSL);
        id = random_id;
        id_len = sizeof(random_id);
    }
    KF_ENSURE(id_len > 0 && id_len <= 64, KF_ERR_INVALID_ARG);
    if (!kf_hsm_token_has_pin(t)) {
        kf_err_note_context("importing a private key to token '%s'", t->info.label);
        KF_BAIL(KF_ERR_PIN_REQUIRED);
    }
    EVP_PKEY *pk = NULL;
    KF_GUARD(import_read(path, &pk));
    struct import_parts parts = { 0 };
    kf_result r = import_split(pk, &parts);
    EVP_PKEY_free(pk);
    if (!kf_ok(r)) {
        import_parts_cleanup(&parts);
        kf_err_add_context("key file '%s'", path);
        return r;
    }
    struct kf_hsm_session *s = NULL;
    r = kf_hsm_session_acquire(t, &s);
    if (kf_ok(r)) {
        CK_OBJECT_HANDLE hpriv = CK_INVALID_HANDLE;
        CK_OBJECT_HANDLE hpub = CK_INVALID_HANDLE;
        r = import_create(t, s->handle, &parts, label, id, id_len, &hpriv, &hpub);
        if (kf_ok(r)) {
            r = kf_hsm_key_from_object(t, s->handle, hpriv, out);
            if (!kf_ok(r)) {
                /* Leave nothing half-imported behind (as keygen.c does). */
                KF_QUIET(kf_ck_destroy_object(t->mod, s->handle, hpriv));
                KF_QUIET(kf_ck_destroy_object(t->mod, s->handle, hpub));
            }
        }
        kf_hsm_session_release(t, s, r);
    }
    import_parts_cleanup(&parts);
    KF_GUARD_CTX(r, "importing '%s' as '%s' on token '%s'", path, label, t->info.label);
    kf_log(KF_LOG_INFO, "hsm", "imported key '%s' to token '%s'", label, t->info.label);
    return KF_OK;
}
