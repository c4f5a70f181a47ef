/* dane/rdata.c - TLSA and SMIMEA RDATA: fields, mnemonics, association data. */
#include "dane/dane.h"

#include <openssl/err.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct dane_mnemonic {
    enum kf_dane_field field;
    uint8_t value;
    const char *name;
};

/* RFC 7218 s2 (usage, selector and matching-type mnemonics). */
static const struct dane_mnemonic dane_mnemonics[] = {
    { KF_DANE_FIELD_USAGE, 0, "PKIX-TA" },    { KF_DANE_FIELD_USAGE, 1, "PKIX-EE" },
    { KF_DANE_FIELD_USAGE, 2, "DANE-TA" },    { KF_DANE_FIELD_USAGE, 3, "DANE-EE" },
    { KF_DANE_FIELD_USAGE, 255, "PrivCert" }, { KF_DANE_FIELD_SELECTOR, 0, "Cert" },
    { KF_DANE_FIELD_SELECTOR, 1, "SPKI" },    { KF_DANE_FIELD_SELECTOR, 255, "PrivSel" },
    { KF_DANE_FIELD_MTYPE, 0, "Full" },       { KF_DANE_FIELD_MTYPE, 1, "SHA2-256" },
    { KF_DANE_FIELD_MTYPE, 2, "SHA2-512" },   { KF_DANE_FIELD_MTYPE, 255, "PrivMatch" },
};

#define DANE_N_MNEMONICS (sizeof(dane_mnemonics) / sizeof(dane_mnemonics[0]))

kf_result kf_dane_parse_field(enum kf_dane_field field, const char *text, uint8_t *out)
{
    KF_ENSURE_REF(text);
    KF_ENSURE_REF(out);
    for (size_t i = 0; i < DANE_N_MNEMONICS; i++) {
        if (dane_mnemonics[i].field == field && strcasecmp(dane_mnemonics[i].name, text) == 0) {
            *out = dane_mnemonics[i].value;
            return KF_OK;
        }
    }
    char *end = NULL;
    unsigned long v = strtoul(text, &end, 10);
    if (text[0] >= '0' && text[0] <= '9' && end != text && *end == '\0' && v <= 255) {
        *out = (uint8_t)v;
        return KF_OK;
    }
    kf_err_note_context("'%s' is neither a number from 0 to 255 nor an RFC 7218 mnemonic", text);
    KF_BAIL(KF_ERR_INVALID_ARG);
}

const char *kf_dane_field_name(enum kf_dane_field field, uint8_t value)
{
    for (size_t i = 0; i < DANE_N_MNEMONICS; i++) {
        if (dane_mnemonics[i].field == field && dane_mnemonics[i].value == value) {
            return dane_mnemonics[i].name;
        }
    }
    return NULL;
}

/* DER of the certificate or of the SubjectPublicKeyInfo; caller frees with OPENSSL_free. */
static kf_result dane_selected(X509 *cert, EVP_PKEY *pub, uint8_t selector, uint8_t **out,
                               int *out_len)
{
    int n = -1;
    *out = NULL;
    if (selector == KF_DANE_SEL_CERT) {
        if (cert == NULL) {
            kf_err_note_context("selector 0 (Cert) needs a certificate, not only a key");
            KF_BAIL(KF_ERR_INVALID_ARG);
        }
        n = i2d_X509(cert, out);
    } else if (selector == KF_DANE_SEL_SPKI) {
        n = i2d_PUBKEY(cert != NULL ? X509_get0_pubkey(cert) : pub, out);
    } else {
        kf_err_note_context("selector %u: keyfort makes records with 0 (Cert) or 1 (SPKI)",
                            selector);
        KF_BAIL(KF_ERR_INVALID_ARG);
    }
    if (n <= 0) {
        ERR_clear_error();
        kf_err_note_context("DER encoding of the %s", selector == 0 ? "certificate" : "public key");
        KF_BAIL(KF_ERR_OPENSSL);
    }
    *out_len = n;
    return KF_OK;
}

kf_result kf_dane_rdata(X509 *cert, EVP_PKEY *pub, uint8_t usage, uint8_t selector, uint8_t mtype,
                        struct kf_buf *out)
{
    KF_ENSURE((cert == NULL) != (pub == NULL), KF_ERR_INVALID_ARG);
    KF_ENSURE_REF(out);
    const EVP_MD *md = mtype == KF_DANE_SHA2_256   ? EVP_sha256()
                       : mtype == KF_DANE_SHA2_512 ? EVP_sha512()
                                                   : NULL;
    if (mtype != KF_DANE_FULL && md == NULL) {
        kf_err_note_context("matching type %u: keyfort makes 0 (Full), 1 (SHA2-256) or 2 "
                            "(SHA2-512)",
                            mtype);
        KF_BAIL(KF_ERR_INVALID_ARG);
    }
    uint8_t *der = NULL;
    int der_len = 0;
    KF_GUARD(dane_selected(cert, pub, selector, &der, &der_len));
    kf_result r = kf_buf_write_u8(out, usage);
    if (kf_ok(r)) {
        r = kf_buf_write_u8(out, selector);
    }
    if (kf_ok(r)) {
        r = kf_buf_write_u8(out, mtype);
    }
    if (kf_ok(r) && md == NULL) {
        r = kf_buf_write_bytes(out, der, (size_t)der_len);
    } else if (kf_ok(r)) {
        uint8_t dg[EVP_MAX_MD_SIZE];
        unsigned dlen = 0;
        if (EVP_Digest(der, (size_t)der_len, dg, &dlen, md, NULL) != 1) {
            ERR_clear_error();
            kf_err_record(KF_ERR_OPENSSL, __FILE__, __LINE__, __func__);
            r = (kf_result){ KF_ERR_OPENSSL };
        } else {
            r = kf_buf_write_bytes(out, dg, dlen);
        }
    }
    OPENSSL_free(der);
    return r;
}
