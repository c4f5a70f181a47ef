/* tests/unit/dane/test_dane.c - TLSA/SMIMEA records: owner names (RFC 6698 s3, RFC 8162 s3
 * example), RFC 7218 mnemonics, association data for every selector and matching type against
 * OpenSSL's own digests of a certificate made here, and bad input. */
#include "dane/dane.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <openssl/x509.h>
#include <string.h>

Test(dane, owner_names)
{
    char out[600];
    cr_assert(kf_ok(kf_dane_tlsa_owner("443", "tcp", "www.example.com", out, sizeof(out))));
    cr_assert_str_eq(out, "_443._tcp.www.example.com.", "RFC 6698 s3's example owner");
    cr_assert(kf_ok(kf_dane_tlsa_owner("25", "tcp", "mx.example.", out, sizeof(out))));
    cr_assert_str_eq(out, "_25._tcp.mx.example.");
    /* RFC 8162 s3: hugh@example.com. */
    cr_assert(kf_ok(kf_dane_smimea_owner("hugh@example.com", out, sizeof(out))));
    cr_assert_str_eq(
        out, "c93f1e400f26708f98cb19d936620da35eec8f72e57f9eec01c1afd6._smimecert.example.com.");
    /* A quoted local part is hashed without its quotes. */
    char quoted[600];
    cr_assert(kf_ok(kf_dane_smimea_owner("\"hugh\"@example.com", quoted, sizeof(quoted))));
    cr_assert_str_eq(quoted, out);
}

struct dane_bad_owner {
    char port[8];
    char proto[8];
    char host[80];
    char email[80]; /* "" = a TLSA case */
    char why[40];
};

static struct dane_bad_owner dane_bad_owners[] = {
    { "0", "tcp", "mx.example", "", "port 0" },
    { "70000", "tcp", "mx.example", "", "port above 65535" },
    { "25x", "tcp", "mx.example", "", "port not a number" },
    { "25", "icmp", "mx.example", "", "unknown protocol" },
    { "25", "tcp", "-mx.example", "", "label starts with -" },
    { "25", "tcp", "mx..example", "", "empty label" },
    { "25", "tcp", "mx_1.example", "", "underscore in host" },
    { "", "", "", "hugh.example.com", "no @" },
    { "", "", "", "@example.com", "empty local part" },
    { "", "", "", "\"\"@example.com", "empty quoted local part" },
    { "", "", "", "h\xc3\xa9@example.com", "non-ASCII local part" },
    { "", "", "", "a b@example.com", "space in local part" },
    { "", "", "", "hugh@", "empty domain" },
    { "", "", "", "hugh@exa mple.com", "bad domain" },
};

ParameterizedTestParameters(dane, bad_owners)
{
    return cr_make_param_array(struct dane_bad_owner, dane_bad_owners,
                               sizeof(dane_bad_owners) / sizeof(dane_bad_owners[0]));
}

ParameterizedTest(struct dane_bad_owner *c, dane, bad_owners)
{
    char out[600] = "untouched";
    kf_result r = c->email[0] != '\0'
                      ? kf_dane_smimea_owner(c->email, out, sizeof(out))
                      : kf_dane_tlsa_owner(c->port, c->proto, c->host, out, sizeof(out));
    cr_assert_eq(r.code, KF_ERR_INVALID_ARG, "%s", c->why);
}

Test(dane, mnemonics)
{
    uint8_t v = 0;
    cr_assert(kf_ok(kf_dane_parse_field(KF_DANE_FIELD_USAGE, "dane-ee", &v)) && v == 3);
    cr_assert(kf_ok(kf_dane_parse_field(KF_DANE_FIELD_USAGE, "PKIX-TA", &v)) && v == 0);
    cr_assert(kf_ok(kf_dane_parse_field(KF_DANE_FIELD_SELECTOR, "SPKI", &v)) && v == 1);
    cr_assert(kf_ok(kf_dane_parse_field(KF_DANE_FIELD_MTYPE, "SHA2-512", &v)) && v == 2);
    cr_assert(kf_ok(kf_dane_parse_field(KF_DANE_FIELD_MTYPE, "255", &v)) && v == 255);
    cr_assert_str_eq(kf_dane_field_name(KF_DANE_FIELD_USAGE, 2), "DANE-TA");
    cr_assert_null(kf_dane_field_name(KF_DANE_FIELD_SELECTOR, 7));
    cr_assert_eq(kf_dane_parse_field(KF_DANE_FIELD_USAGE, "SPKI", &v).code, KF_ERR_INVALID_ARG,
                 "a selector mnemonic is not a usage");
    cr_assert_eq(kf_dane_parse_field(KF_DANE_FIELD_MTYPE, "256", &v).code, KF_ERR_INVALID_ARG);
    cr_assert_eq(kf_dane_parse_field(KF_DANE_FIELD_MTYPE, "-1", &v).code, KF_ERR_INVALID_ARG);
    cr_assert_eq(kf_dane_parse_field(KF_DANE_FIELD_MTYPE, "", &v).code, KF_ERR_INVALID_ARG);
}

/* A self-signed certificate made here. */
static X509 *dane_cert(EVP_PKEY **out_key)
{
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    X509 *x = X509_new();
    cr_assert(k != NULL && x != NULL);
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                               (const unsigned char *)"mx.example", -1, -1, 0);
    X509_set_issuer_name(x, X509_get_subject_name(x));
    X509_set_pubkey(x, k);
    cr_assert_gt(X509_sign(x, k, EVP_sha256()), 0);
    *out_key = k;
    return x;
}

Test(dane, association_data)
{
    EVP_PKEY *k = NULL;
    X509 *x = dane_cert(&k);
    /* Expected values through other OpenSSL routes than dane/rdata.c takes. */
    uint8_t cert_sha256[32];
    uint8_t cert_sha512[64];
    unsigned n = 0;
    cr_assert_eq(X509_digest(x, EVP_sha256(), cert_sha256, &n), 1);
    cr_assert_eq(X509_digest(x, EVP_sha512(), cert_sha512, &n), 1);
    uint8_t *spki = NULL;
    int spki_len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &spki);
    cr_assert_gt(spki_len, 0);
    uint8_t spki_sha256[32];
    cr_assert_eq(EVP_Digest(spki, (size_t)spki_len, spki_sha256, &n, EVP_sha256(), NULL), 1);
    uint8_t *der = NULL;
    int der_len = i2d_X509(x, &der);

    struct {
        uint8_t sel, mtype;
        const uint8_t *want;
        size_t want_len;
    } cases[] = {
        { 0, 0, der, (size_t)der_len },   { 0, 1, cert_sha256, 32 }, { 0, 2, cert_sha512, 64 },
        { 1, 0, spki, (size_t)spki_len }, { 1, 1, spki_sha256, 32 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct kf_buf b;
        cr_assert(kf_ok(kf_buf_init_growable(&b, 64)));
        cr_assert(kf_ok(kf_dane_rdata(x, NULL, 3, cases[i].sel, cases[i].mtype, &b)));
        cr_assert_eq(b.len, 3 + cases[i].want_len);
        cr_assert(b.data[0] == 3 && b.data[1] == cases[i].sel && b.data[2] == cases[i].mtype);
        cr_assert_eq(memcmp(b.data + 3, cases[i].want, cases[i].want_len), 0, "%u %u", cases[i].sel,
                     cases[i].mtype);
        kf_buf_cleanup(&b);
    }
    /* The key alone gives the same SPKI record as its certificate. */
    struct kf_buf a;
    struct kf_buf c;
    cr_assert(kf_ok(kf_buf_init_growable(&a, 64)) && kf_ok(kf_buf_init_growable(&c, 64)));
    cr_assert(kf_ok(kf_dane_rdata(NULL, k, 3, 1, 1, &a)));
    cr_assert(kf_ok(kf_dane_rdata(x, NULL, 3, 1, 1, &c)));
    cr_assert(a.len == c.len && memcmp(a.data, c.data, a.len) == 0);
    /* Refusals: Cert selector without a certificate, unknown selector or matching type. */
    cr_assert_eq(kf_dane_rdata(NULL, k, 3, 0, 1, &a).code, KF_ERR_INVALID_ARG);
    cr_assert_eq(kf_dane_rdata(x, NULL, 3, 2, 1, &a).code, KF_ERR_INVALID_ARG);
    cr_assert_eq(kf_dane_rdata(x, NULL, 3, 1, 3, &a).code, KF_ERR_INVALID_ARG);
    cr_assert_eq(kf_dane_rdata(x, k, 3, 1, 1, &a).code, KF_ERR_INVALID_ARG, "both given");
    kf_buf_cleanup(&a);
    kf_buf_cleanup(&c);
    OPENSSL_free(spki);
    OPENSSL_free(der);
    X509_free(x);
    EVP_PKEY_free(k);
}

struct dane_rd_case {
    uint8_t bytes[16];
    size_t len;
    int32_t code;
    char why[40];
};

static struct dane_rd_case dane_rd_cases[] = {
    { { 3, 0, 0, 0x30, 0x03, 0x02, 0x01, 0x05 }, 8, 0, "Full: one DER SEQUENCE" },
    { { 3, 0, 0, 0x30, 0x00, 0x00 }, 6, KF_ERR_TRAILING, "Full: bytes after the SEQUENCE" },
    { { 3, 0, 0, 0x31, 0x00 }, 5, KF_ERR_MALFORMED, "Full: a SET, not a SEQUENCE" },
    { { 3, 1, 1, 0xAA }, 4, KF_ERR_MALFORMED, "SHA2-256 data of 1 octet" },
    { { 3, 1 }, 2, KF_ERR_SHORT_INPUT, "no matching type" },
    { { 3, 1, 1 }, 3, KF_ERR_SHORT_INPUT, "no data" },
    { { 255, 255, 255, 1 }, 4, 0, "private values are kept" },
};

ParameterizedTestParameters(dane, rdata_parse)
{
    return cr_make_param_array(struct dane_rd_case, dane_rd_cases,
                               sizeof(dane_rd_cases) / sizeof(dane_rd_cases[0]));
}

ParameterizedTest(struct dane_rd_case *c, dane, rdata_parse)
{
    struct kf_dane_rr rr;
    cr_assert_eq(kf_dane_rdata_parse(c->bytes, c->len, &rr).code, c->code, "%s", c->why);
    if (c->code == 0) {
        cr_assert(rr.usage == c->bytes[0] && rr.data_len == c->len - 3);
    }
}

Test(dane, rdata_parse_round_trip)
{
    EVP_PKEY *k = NULL;
    X509 *x = dane_cert(&k);
    for (uint8_t sel = 0; sel <= 1; sel++) {
        for (uint8_t m = 0; m <= 2; m++) {
            struct kf_buf b;
            cr_assert(kf_ok(kf_buf_init_growable(&b, 64)));
            cr_assert(kf_ok(kf_dane_rdata(x, NULL, 2, sel, m, &b)));
            struct kf_dane_rr rr;
            cr_assert(kf_ok(kf_dane_rdata_parse(b.data, b.len, &rr)), "%u %u", sel, m);
            cr_assert(rr.usage == 2 && rr.selector == sel && rr.mtype == m);
            kf_buf_cleanup(&b);
        }
    }
    X509_free(x);
    EVP_PKEY_free(k);
}
