/* tools/keyfort/cmd_dane.c - keyfort dane tlsa and keyfort smimea record: the TLSA record of a
 * mail server's certificate or token key, and the SMIMEA record of a user's certificate. */
#include "dane/dane.h"
#include "dane/lookup.h"
#include "dnssec/dnssec.h"
#include "tools/keyfort/cli.h"
#include "tools/keyfort/ossl.h"
#include "tools/keyfort/out.h"
#include "tools/keyfort/uri.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A certificate file, PEM or DER. Errors: FILE_OPEN, BAD_CERT_FILE. */
static KF_RESULT cli_dane_read_cert(const char *path, X509 **out)
{
    BIO *bio = BIO_new_file(path, "rb");
    if (bio == NULL) {
        ERR_clear_error();
        kf_err_note_context("certificate file '%s'", path);
        KF_BAIL(KF_ERR_FILE_OPEN);
    }
    X509 *cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    if (cert == NULL) {
        (void)BIO_reset(bio);
        cert = d2i_X509_bio(bio, NULL);
    }
    BIO_free(bio);
    ERR_clear_error();
    if (cert == NULL) {
        kf_err_note_context("'%s' holds no PEM or DER certificate", path);
        KF_BAIL(KF_ERR_BAD_CERT_FILE);
    }
    *out = cert;
    return KF_OK;
}

static KF_RESULT cli_dane_fields(const struct kf_cli_args *a, uint8_t def_usage, uint8_t def_sel,
                                 uint8_t def_mtype, uint8_t out[3])
{
    const char *texts[3] = { a->usage, a->selector, a->mtype };
    const char *names[3] = { "--usage", "--selector", "--mtype" };
    const uint8_t defs[3] = { def_usage, def_sel, def_mtype };
    for (int i = 0; i < 3; i++) {
        out[i] = defs[i];
        if (texts[i] != NULL) {
            KF_GUARD_CTX(kf_dane_parse_field((enum kf_dane_field)i, texts[i], &out[i]), "%s",
                         names[i]);
        }
    }
    return KF_OK;
}

/* Print "OWNER TTL IN TYPE RDATA" through the zone printer, so the text is what zone files
 * and the signer read back. */
static KF_RESULT cli_dane_print(const char *owner_text, uint16_t type, const char *ttl_text,
                                const struct kf_buf *rdata)
{
    uint8_t owner[KF_DNS_MAX_NAME];
    size_t owner_len = 0;
    KF_GUARD(kf_dnssec_name_from_text(owner_text, owner, &owner_len));
    uint32_t ttl = 3600;
    if (ttl_text != NULL) {
        char *end = NULL;
        unsigned long v = strtoul(ttl_text, &end, 10);
        if (ttl_text[0] < '0' || ttl_text[0] > '9' || *end != '\0' || v > INT32_MAX) {
            return kf_cli_usage_error("--ttl: expected seconds, got '%s'", ttl_text);
        }
        ttl = (uint32_t)v;
    }
    char line[8192];
    KF_GUARD(kf_zone_rr_to_text(owner, type, ttl, rdata->data, rdata->len, line, sizeof(line)));
    printf("%s\n", line);
    return KF_OK;
}

kf_result kf_cli_dane_tlsa(const struct kf_cli_args *a)
{
    KF_GUARD(kf_cli_args_expect(a, 0, 0, "no arguments"));
    if ((a->cert == NULL) == (a->key == NULL)) {
        return kf_cli_usage_error("give --cert FILE or --key KEY (one of them)");
    }
    if (a->host == NULL) {
        return kf_cli_usage_error("missing --host (the server's name, e.g. mx.example.com)");
    }
    char owner[600];
    KF_GUARD(kf_dane_tlsa_owner(a->port != NULL ? a->port : "25",
                                a->proto != NULL ? a->proto : "tcp", a->host, owner,
                                sizeof(owner)));
    /* RFC 7672 s3.1: SMTP servers publish DANE-EE(3) SPKI(1) SHA2-256(1) first of all. */
    uint8_t f[3];
    KF_GUARD(cli_dane_fields(a, KF_DANE_DANE_EE, KF_DANE_SEL_SPKI, KF_DANE_SHA2_256, f));
    X509 *cert = NULL;
    EVP_PKEY *key = NULL;
    OSSL_LIB_CTX *lib = NULL;
    uint8_t rd[4096];
    struct kf_buf b;
    kf_result r = kf_buf_init_fixed(&b, rd, sizeof(rd));
    if (kf_ok(r) && a->cert != NULL) {
        r = cli_dane_read_cert(a->cert, &cert);
    } else if (kf_ok(r)) {
        if (kf_cli_uri_text_has_pin_value(a->key)) {
            kf_err_note_context("--key: the URI carries a pin-value; use --pin-file");
            kf_err_record(KF_ERR_PIN_IN_ARGV, __FILE__, __LINE__, __func__);
            r = (kf_result){ KF_ERR_PIN_IN_ARGV };
        } else {
            r = kf_cli_ossl_libctx(a, kf_cli_ossl_is_uri(a->key), &lib);
            if (kf_ok(r)) {
                r = kf_cli_ossl_load_key(lib, a->key, &key);
            }
        }
    }
    if (kf_ok(r)) {
        r = kf_dane_rdata(cert, key, f[0], f[1], f[2], &b);
    }
    if (kf_ok(r)) {
        r = cli_dane_print(owner, 52 /* TLSA */, a->ttl, &b);
    }
    X509_free(cert);
    EVP_PKEY_free(key);
    OSSL_LIB_CTX_free(lib);
    return r;
}

kf_result kf_cli_smimea_record(const struct kf_cli_args *a)
{
    KF_GUARD(kf_cli_args_expect(a, 0, 0, "no arguments"));
    if (a->email == NULL || a->cert == NULL) {
        return kf_cli_usage_error("give --email ADDRESS and --cert FILE");
    }
    char owner[600];
    KF_GUARD(kf_dane_smimea_owner(a->email, owner, sizeof(owner)));
    /* RFC 8162 s6 leaves the choice; the full certificate (3 0 0) lets a recipient encrypt
     * to it without any other source. */
    uint8_t f[3];
    KF_GUARD(cli_dane_fields(a, KF_DANE_DANE_EE, KF_DANE_SEL_CERT, KF_DANE_FULL, f));
    X509 *cert = NULL;
    KF_GUARD(cli_dane_read_cert(a->cert, &cert));
    struct kf_buf b;
    kf_result r = kf_buf_init_growable(&b, 4096);
    if (kf_ok(r)) {
        r = kf_dane_rdata(cert, NULL, f[0], f[1], f[2], &b);
    }
    if (kf_ok(r)) {
        r = cli_dane_print(owner, 53 /* SMIMEA */, a->ttl, &b);
    }
    free(b.data); /* a public certificate: no wipe */
    X509_free(cert);
    return r;
}

/* Print the certificates of secure SMIMEA records (selector 0, matching type 0: the record
 * holds the certificate itself); records that hold only a hash are listed as such. */
static KF_RESULT cli_smimea_print(const char *owner, const struct kf_dane_answer *ans)
{
    size_t certs = 0;
    printf("# secure: %zu SMIMEA record%s at %s\n", ans->n, ans->n == 1 ? "" : "s", owner);
    for (size_t i = 0; i < ans->n; i++) {
        struct kf_dane_rr rr;
        if (!kf_ok(kf_dane_rdata_parse(ans->rdata[i], ans->len[i], &rr))) {
            printf("# record %zu: malformed (%zu octets)\n", i + 1, ans->len[i]);
            continue;
        }
        if (rr.selector != KF_DANE_SEL_CERT || rr.mtype != KF_DANE_FULL) {
            printf("# record %zu: %u %u %u holds a hash, not a certificate\n", i + 1, rr.usage,
                   rr.selector, rr.mtype);
            continue;
        }
        const unsigned char *p = rr.data;
        X509 *x = d2i_X509(NULL, &p, (long)rr.data_len);
        if (x == NULL || p != rr.data + rr.data_len) {
            ERR_clear_error();
            X509_free(x);
            printf("# record %zu: not a DER certificate\n", i + 1);
            continue;
        }
        char subject[256];
        X509_NAME_oneline(X509_get_subject_name(x), subject, sizeof(subject));
        printf("# record %zu: usage %u, subject ", i + 1, rr.usage);
        kf_cli_text_safe(stdout, subject);
        fputc('\n', stdout);
        PEM_write_X509(stdout, x);
        X509_free(x);
        certs++;
    }
    if (certs == 0) {
        kf_err_note_context("no validated certificate: the SMIMEA records at %s hold none", owner);
        KF_BAIL(KF_ERR_DNS_NO_DATA);
    }
    return KF_OK;
}

kf_result kf_cli_smimea_lookup(const struct kf_cli_args *a)
{
    KF_GUARD(kf_cli_args_expect(a, 1, 1, "ADDRESS"));
    if (a->anchor == NULL) {
        return kf_cli_usage_error("missing --anchor FILE: without a trust anchor nothing can "
                                  "be validated");
    }
    char owner[600];
    KF_GUARD(kf_dane_smimea_owner(a->pos[0], owner, sizeof(owner)));
    struct kf_dane_resolver *res = NULL;
    KF_GUARD(kf_dane_resolver_new(a->resolver, a->anchor, &res));
    struct kf_dane_answer ans;
    kf_result r = kf_dane_resolve(res, owner, 53 /* SMIMEA */, &ans);
    if (kf_ok(r)) {
        if (ans.security == KF_DANE_BOGUS) {
            kf_err_record(KF_ERR_DNS_BOGUS, __FILE__, __LINE__, __func__);
            kf_err_note_context("no validated certificate: %s: %s", owner,
                                ans.why[0] != '\0' ? ans.why : "validation failed");
            r = (kf_result){ KF_ERR_DNS_BOGUS };
        } else if (ans.security == KF_DANE_INSECURE) {
            kf_err_record(KF_ERR_DNS_INSECURE, __FILE__, __LINE__, __func__);
            kf_err_note_context("no validated certificate: %s is not DNSSEC-signed "
                                "(check the trust anchor)",
                                owner);
            r = (kf_result){ KF_ERR_DNS_INSECURE };
        } else if (ans.n == 0) {
            kf_err_record(KF_ERR_DNS_NO_DATA, __FILE__, __LINE__, __func__);
            kf_err_note_context("no validated certificate: no SMIMEA record at %s (%s, proven "
                                "by DNSSEC)",
                                owner, ans.nxdomain ? "no such name" : "no such record");
            r = (kf_result){ KF_ERR_DNS_NO_DATA };
        } else {
            r = cli_smimea_print(owner, &ans);
        }
        kf_dane_answer_cleanup(&ans);
    }
    kf_dane_resolver_free(res);
    return r;
}
