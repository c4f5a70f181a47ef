/* hsm/cert.c - X.509 certificates as token objects (CKO_CERTIFICATE, CKC_X_509).
 *
 * A certificate kept beside its key (same CKA_ID and, by default, the same label) is what
 * PKCS#11-aware programs expect and what the provider's store hands to `openssl storeutl
 * -certs`. Certificates are public: no PIN is needed to read them, one is needed to write. */
#include "hsm/ck_call.h"

#include "common/kf_log.h"

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <string.h>

/* A certificate from a PEM or DER file. */
static KF_RESULT cert_read(const char *path, X509 **out)
{
    BIO *in = BIO_new_file(path, "rb");
    if (in == NULL) {
        kf_err_note_context("certificate file '%s'", path);
        KF_BAIL(KF_ERR_IO);
    }
    X509 *x = PEM_read_bio_X509(in, NULL, NULL, NULL);
    if (x == NULL && BIO_reset(in) == 0) {
        x = d2i_X509_bio(in, NULL);
    }
    BIO_free(in);
    if (x == NULL) {
        kf_err_note_context("'%s' holds no X.509 certificate (PEM or DER)", path);
        KF_BAIL(KF_ERR_BAD_CERT_FILE);
    }
    *out = x;
    return KF_OK;
}

/* The DER parts PKCS#11 wants as attributes (s4.6.3): value, subject, issuer, serial. */
struct cert_der {
    unsigned char *value, *subject, *issuer, *serial;
    int value_len, subject_len, issuer_len, serial_len;
};

static void cert_der_free(struct cert_der *d)
{
    OPENSSL_free(d->value);
    OPENSSL_free(d->subject);
    OPENSSL_free(d->issuer);
    OPENSSL_free(d->serial);
}

static KF_RESULT cert_der_of(X509 *x, struct cert_der *d)
{
    *d = (struct cert_der){ 0 };
    d->value_len = i2d_X509(x, &d->value);
    d->subject_len = i2d_X509_NAME(X509_get_subject_name(x), &d->subject);
    d->issuer_len = i2d_X509_NAME(X509_get_issuer_name(x), &d->issuer);
    d->serial_len = i2d_ASN1_INTEGER(X509_get0_serialNumber(x), &d->serial);
    if (d->value_len <= 0 || d->subject_len <= 0 || d->issuer_len <= 0 || d->serial_len <= 0) {
        cert_der_free(d);
        KF_BAIL(KF_ERR_OPENSSL);
    }
    return KF_OK;
}

static KF_RESULT cert_create(struct kf_hsm_token *t, CK_SESSION_HANDLE s, const struct cert_der *d,
                             const char *label, const uint8_t *id, size_t id_len)
{
    /* One certificate per label: a second would make the label ambiguous. */
    CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
    CK_ATTRIBUTE find[] = {
        { CKA_CLASS, &cls, sizeof(cls) },
        { CKA_LABEL, (void *)label, strlen(label) },
    };
    CK_OBJECT_HANDLE h[1];
    size_t count = 0;
    KF_GUARD(kf_hsm_find(t, s, find, 2, h, 1, &count));
    if (count > 0) {
        kf_err_note_context("a certificate labelled '%s' is already on token '%s'", label,
                            t->info.label);
        KF_BAIL(KF_ERR_OBJECT_EXISTS);
    }
    CK_CERTIFICATE_TYPE type = CKC_X_509;
    CK_BBOOL yes = CK_TRUE;
    CK_BBOOL no = CK_FALSE;
    CK_ATTRIBUTE tmpl[] = {
        { CKA_CLASS, &cls, sizeof(cls) },
        { CKA_CERTIFICATE_TYPE, &type, sizeof(type) },
        { CKA_TOKEN, &yes, sizeof(yes) },
        { CKA_PRIVATE, &no, sizeof(no) },
        { CKA_LABEL, (void *)label, strlen(label) },
        { CKA_ID, (void *)id, id_len },
        { CKA_SUBJECT, d->subject, (CK_ULONG)d->subject_len },
        { CKA_ISSUER, d->issuer, (CK_ULONG)d->issuer_len },
        { CKA_SERIAL_NUMBER, d->serial, (CK_ULONG)d->serial_len },
        { CKA_VALUE, d->value, (CK_ULONG)d->value_len },
    };
    CK_OBJECT_HANDLE created = CK_INVALID_HANDLE;
    return kf_ck_create_object(t->mod, s, tmpl, sizeof(tmpl) / sizeof(tmpl[0]), &created);
}

KF_RESULT kf_hsm_cert_import(struct kf_hsm_token *t, const char *path, const char *label,
                             const uint8_t *id, size_t id_len)
{
    KF_ENSURE_REF(t);
    KF_ENSURE_REF(path);
    KF_ENSURE_REF(label);
    KF_ENSURE(label[0] != '\0' && strlen(label) <= 128, KF_ERR_INVALID_ARG);
    KF_ENSURE(id != NULL && id_len > 0 && id_len <= 64, KF_ERR_INVALID_ARG);
    if (!kf_hsm_token_has_pin(t)) {
        kf_err_note_context("writing a certificate to token '%s'", t->info.label);
        KF_BAIL(KF_ERR_PIN_REQUIRED);
    }
    X509 *x = NULL;
    KF_GUARD(cert_read(path, &x));
    struct cert_der d;
    kf_result r = cert_der_of(x, &d);
    X509_free(x);
    KF_GUARD(r);
    struct kf_hsm_session *s = NULL;
    r = kf_hsm_session_acquire(t, &s);
    if (kf_ok(r)) {
        r = cert_create(t, s->handle, &d, label, id, id_len);
        kf_hsm_session_release(t, s, r);
    }
    cert_der_free(&d);
    KF_GUARD_CTX(r, "importing certificate '%s' as '%s' on token '%s'", path, label, t->info.label);
    kf_log(KF_LOG_INFO, "hsm", "imported certificate '%s' to token '%s'", label, t->info.label);
    return KF_OK;
}

static KF_RESULT cert_value_on(struct kf_hsm_token *t, CK_SESSION_HANDLE s,
                               const struct kf_hsm_object_info *o, uint8_t **der, size_t *len)
{
    CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
    CK_ATTRIBUTE find[3] = {
        { CKA_CLASS, &cls, sizeof(cls) },
        { CKA_LABEL, (void *)o->label, strlen(o->label) },
        { CKA_ID, (void *)o->id, o->id_len },
    };
    CK_OBJECT_HANDLE h[2];
    size_t count = 0;
    KF_GUARD(kf_hsm_find(t, s, find, o->id_len > 0 ? 3 : 2, h, 2, &count));
    if (count != 1) {
        kf_err_note_context("certificate '%s': %zu objects match", o->label, count);
        KF_BAIL(count == 0 ? KF_ERR_OBJECT_NOT_FOUND : KF_ERR_OBJECT_AMBIGUOUS);
    }
    CK_ATTRIBUTE value = { CKA_VALUE, NULL, 0 };
    KF_GUARD(kf_ck_get_attributes(t->mod, s, h[0], &value, 1, false));
    KF_ENSURE(value.ulValueLen > 0 && value.ulValueLen < 1u << 20, KF_ERR_ATTRIBUTE);
    uint8_t *buf = OPENSSL_malloc(value.ulValueLen);
    KF_ENSURE(buf != NULL, KF_ERR_NOMEM);
    value.pValue = buf;
    kf_result r = kf_ck_get_attributes(t->mod, s, h[0], &value, 1, false);
    if (!kf_ok(r)) {
        OPENSSL_free(buf);
        return r;
    }
    *der = buf;
    *len = value.ulValueLen;
    return KF_OK;
}

KF_RESULT kf_hsm_cert_value(struct kf_hsm_token *t, const struct kf_hsm_object_info *o,
                            uint8_t **der, size_t *len)
{
    KF_ENSURE_REF(t);
    KF_ENSURE_REF(o);
    KF_ENSURE_REF(der);
    KF_ENSURE_REF(len);
    KF_ENSURE(o->cls == CKO_CERTIFICATE, KF_ERR_INVALID_ARG);
    struct kf_hsm_session *s = NULL;
    KF_GUARD(kf_hsm_session_acquire(t, &s));
    kf_result r = cert_value_on(t, s->handle, o, der, len);
    kf_hsm_session_release(t, s, r);
    return r;
}
