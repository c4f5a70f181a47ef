/* tools/keyfort/cmd_mail.c - keyfort mail policy: the MX, SPF, DMARC and DKIM records a mail
 * domain publishes in its signed zone (RFC 7208, RFC 7489, RFC 6376 with RFC 8463). */
#include "dane/dane.h"
#include "dnssec/dnssec.h"
#include "tools/keyfort/cli.h"
#include "tools/keyfort/ossl.h"
#include "tools/keyfort/uri.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CLI_MAIL_TTL 3600

/* TXT RDATA of @p text: <character-string>s of at most 255 octets (RFC 1035 s3.3.14); long
 * DKIM keys span several, which receivers concatenate (RFC 6376 s3.6.2.2). */
static KF_RESULT cli_mail_txt(const char *text, struct kf_buf *out)
{
    size_t n = strlen(text);
    for (size_t at = 0; at < n || n == 0; at += 255) {
        size_t part = n - at < 255 ? n - at : 255;
        KF_GUARD(kf_buf_write_u8(out, (uint8_t)part));
        KF_GUARD(kf_buf_write_bytes(out, (const uint8_t *)text + at, part));
        if (n == 0) {
            break;
        }
    }
    return KF_OK;
}

static KF_RESULT cli_mail_print(const char *owner_text, uint16_t type, const struct kf_buf *rd)
{
    uint8_t owner[KF_DNS_MAX_NAME];
    size_t len = 0;
    KF_GUARD(kf_dnssec_name_from_text(owner_text, owner, &len));
    char line[8192];
    KF_GUARD(kf_zone_rr_to_text(owner, type, CLI_MAIL_TTL, rd->data, rd->len, line, sizeof(line)));
    printf("%s\n", line);
    return KF_OK;
}

static KF_RESULT cli_mail_txt_record(const char *owner, const char *text)
{
    uint8_t rd[4096];
    struct kf_buf b;
    KF_GUARD(kf_buf_init_fixed(&b, rd, sizeof(rd)));
    KF_GUARD(cli_mail_txt(text, &b));
    return cli_mail_print(owner, 16 /* TXT */, &b);
}

/* "v=DKIM1; k=...; p=..." for an RSA (p = base64 SubjectPublicKeyInfo, RFC 6376 s3.6.1) or
 * Ed25519 key (p = base64 of the raw 32-byte key, RFC 8463 s4). */
static KF_RESULT cli_mail_dkim_text(EVP_PKEY *key, char *out, size_t cap)
{
    uint8_t raw[64];
    size_t raw_len = sizeof(raw);
    uint8_t *der = NULL;
    const uint8_t *pub = NULL;
    int pub_len = 0;
    const char *k = NULL;
    if (EVP_PKEY_is_a(key, "RSA")) {
        k = "rsa";
        pub_len = i2d_PUBKEY(key, &der);
        pub = der;
    } else if (EVP_PKEY_is_a(key, "ED25519")) {
        k = "ed25519";
        if (EVP_PKEY_get_raw_public_key(key, raw, &raw_len) != 1 &&
            EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, raw, sizeof(raw),
                                            &raw_len) != 1) {
            raw_len = 0;
        }
        pub = raw;
        pub_len = (int)raw_len;
    } else {
        kf_err_note_context("a %s key: DKIM signs with RSA (RFC 6376) or Ed25519 (RFC 8463)",
                            EVP_PKEY_get0_type_name(key));
        KF_BAIL(KF_ERR_UNSUPPORTED);
    }
    ERR_clear_error();
    if (pub_len <= 0 || (size_t)pub_len * 4 / 3 + 64 > cap) {
        OPENSSL_free(der);
        kf_err_note_context("the DKIM public key could not be encoded");
        KF_BAIL(KF_ERR_OPENSSL);
    }
    int n = snprintf(out, cap, "v=DKIM1; k=%s; p=", k);
    int b64 = EVP_EncodeBlock((unsigned char *)out + n, pub, pub_len);
    OPENSSL_free(der);
    KF_ENSURE(b64 > 0, KF_ERR_OPENSSL);
    return KF_OK;
}

kf_result kf_cli_mail_policy(const struct kf_cli_args *a)
{
    KF_GUARD(kf_cli_args_expect(a, 0, 0, "no arguments"));
    if (a->domain == NULL || a->mx == NULL) {
        return kf_cli_usage_error("give --domain DOMAIN and --mx HOST");
    }
    if (!kf_dane_hostname_ok(a->domain) || !kf_dane_hostname_ok(a->mx)) {
        return kf_cli_usage_error("--domain and --mx must be host names ('%s', '%s')", a->domain,
                                  a->mx);
    }
    const char *sel = a->dkim_selector != NULL ? a->dkim_selector : "kf1";
    if (!kf_dane_hostname_ok(sel) || strchr(sel, '.') != NULL) {
        return kf_cli_usage_error("--dkim-selector '%s' must be one label", sel);
    }
    char dom[300];
    size_t dl = strlen(a->domain);
    (void)snprintf(dom, sizeof(dom), "%s%s", a->domain, a->domain[dl - 1] == '.' ? "" : ".");
    char mx[300];
    size_t ml = strlen(a->mx);
    (void)snprintf(mx, sizeof(mx), "%s%s", a->mx, a->mx[ml - 1] == '.' ? "" : ".");

    /* The DKIM key first: a key that cannot be used must fail before anything is printed. */
    char dkim[1200] = "";
    if (a->dkim_key != NULL) {
        if (kf_cli_uri_text_has_pin_value(a->dkim_key)) {
            kf_err_note_context("--dkim-key: the URI carries a pin-value; use --pin-file");
            KF_BAIL(KF_ERR_PIN_IN_ARGV);
        }
        OSSL_LIB_CTX *lib = NULL;
        EVP_PKEY *key = NULL;
        kf_result r = kf_cli_ossl_libctx(a, kf_cli_ossl_is_uri(a->dkim_key), &lib);
        if (kf_ok(r)) {
            r = kf_cli_ossl_load_key(lib, a->dkim_key, &key);
        }
        if (kf_ok(r)) {
            r = cli_mail_dkim_text(key, dkim, sizeof(dkim));
        }
        EVP_PKEY_free(key);
        OSSL_LIB_CTX_free(lib);
        KF_GUARD(r);
    }
    char rua[300];
    if (a->rua != NULL) {
        (void)snprintf(rua, sizeof(rua), "%s", a->rua);
    } else {
        (void)snprintf(rua, sizeof(rua), "dmarc-reports@%.*s", (int)(strlen(dom) - 1), dom);
    }
    if (strpbrk(rua, ";, \"\\") != NULL || strchr(rua, '@') == NULL) {
        return kf_cli_usage_error("--rua '%s' must be one e-mail address", rua);
    }

    /* MX 10 HOST. */
    uint8_t rd[600];
    struct kf_buf b;
    KF_GUARD(kf_buf_init_fixed(&b, rd, sizeof(rd)));
    KF_GUARD(kf_buf_write_u16(&b, 10));
    size_t nl = 0;
    KF_GUARD(kf_dnssec_name_from_text(mx, rd + 2, &nl));
    b.len += nl;
    KF_GUARD(cli_mail_print(dom, KF_DNS_MX, &b));
    /* SPF: only the domain's MX hosts send its mail; everything else fails (RFC 7208). */
    KF_GUARD(cli_mail_txt_record(dom, "v=spf1 mx -all"));
    /* DMARC: reject what fails, strict alignment, aggregate reports to rua (RFC 7489). */
    char text[400];
    char owner[400];
    (void)snprintf(owner, sizeof(owner), "_dmarc.%s", dom);
    (void)snprintf(text, sizeof(text), "v=DMARC1; p=reject; adkim=s; aspf=s; rua=mailto:%s", rua);
    KF_GUARD(cli_mail_txt_record(owner, text));
    if (dkim[0] != '\0') {
        (void)snprintf(owner, sizeof(owner), "%s._domainkey.%s", sel, dom);
        KF_GUARD(cli_mail_txt_record(owner, dkim));
    }
    return KF_OK;
}
