/* dane/rdata.c - TLSA and SMIMEA RDATA: fields, mnemonics, association data. */
#include "common/kf_cursor.h"
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

kf_result kf_dane_rdata_parse(const uint8_t *rd, size_t len, struct kf_dane_rr *out)
{
    KF_ENSURE_REF(out);
    struct kf_cursor c;
    struct kf_dane_rr r;
    KF_GUARD(kf_cursor_init(&c, rd, len));
    KF_GUARD(kf_cursor_read_u8(&c, &r.usage));
    KF_GUARD(kf_cursor_read_u8(&c, &r.selector));
    KF_GUARD(kf_cursor_read_u8(&c, &r.mtype));
    r.data_len = kf_cursor_left(&c);
    KF_ENSURE(r.data_len > 0, KF_ERR_SHORT_INPUT);
    /* Digests have their digest's length (RFC 6698 s2.1.3); full data is one DER SEQUENCE
     * (a Certificate or a SubjectPublicKeyInfo), nothing after it. */
    if (r.mtype == KF_DANE_SHA2_256) {
        KF_ENSURE(r.data_len == 32, KF_ERR_MALFORMED);
    } else if (r.mtype == KF_DANE_SHA2_512) {
        KF_ENSURE(r.data_len == 64, KF_ERR_MALFORMED);
    } else if (r.mtype == KF_DANE_FULL) {
        struct kf_cursor d = c;
        struct kf_cursor seq;
        KF_GUARD(kf_cursor_take_der(&d, 0x30, &seq));
        KF_GUARD(kf_cursor_expect_end(&d));
    }
    KF_GUARD(kf_cursor_borrow(&c, r.data_len, &r.data));
    *out = r;
    return KF_OK;
}
