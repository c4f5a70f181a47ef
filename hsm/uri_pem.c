/* hsm/uri_pem.c - a pkcs11: URI as a PEM "key file" (-----BEGIN KEYFORT PKCS11 URI-----).
 *
 * Programs that only take a key *file* and read it through OpenSSL (Postfix smtpd_tls_key_file,
 * nginx ssl_certificate_key) get this file; keyfort.so's decoder turns it into the token key.
 * Body: DER UTF8String holding the URI. Parse and serialise live together (STYLE.md s1). */
#include "hsm/internal.h"

#include "common/kf_buf.h"
#include "common/kf_cursor.h"

#include <openssl/pem.h>
#include <stdlib.h>
#include <string.h>

/* Longer URIs are refused: no token attribute set comes close. */
#define URI_PEM_MAX 4096

KF_RESULT kf_hsm_uri_pem_parse_der(const uint8_t *der, size_t len, char **out)
{
    KF_ENSURE_REF(out);
    struct kf_cursor c;
    KF_GUARD(kf_cursor_init(&c, der, len));
    struct kf_cursor body;
    KF_GUARD(kf_cursor_take_der(&c, 0x0c, &body)); /* UTF8String */
    KF_GUARD(kf_cursor_expect_end(&c));
    size_t n = kf_cursor_left(&body);
    KF_ENSURE(n >= 7 && n <= URI_PEM_MAX, n > URI_PEM_MAX ? KF_ERR_TOO_LARGE : KF_ERR_MALFORMED);
    const uint8_t *p = NULL;
    KF_GUARD(kf_cursor_borrow(&body, n, &p));
    KF_ENSURE(memchr(p, '\0', n) == NULL, KF_ERR_MALFORMED);
    KF_ENSURE(memcmp(p, "pkcs11:", 7) == 0, KF_ERR_URI_SCHEME);
    char *s = malloc(n + 1);
    KF_ENSURE(s != NULL, KF_ERR_NOMEM);
    memcpy(s, p, n);
    s[n] = '\0';
    *out = s;
    return KF_OK;
}

KF_RESULT kf_hsm_uri_pem_write(const struct kf_hsm_uri *uri, char **out)
{
    KF_ENSURE_REF(uri);
    KF_ENSURE_REF(out);
    if (kf_hsm_uri_has_pin_value(uri)) {
        /* A key file is copied, backed up and world-readable more often than not. */
        kf_err_note_context("a URI-PEM file must not hold a pin-value: use pin-source=FILE");
        KF_BAIL(KF_ERR_INVALID_ARG);
    }
    const char *text = kf_hsm_uri_display(uri); /* canonical form, pin-value already gone */
    size_t n = strlen(text);
    KF_ENSURE(n <= URI_PEM_MAX, KF_ERR_TOO_LARGE);
    struct kf_buf b;
    KF_GUARD(kf_buf_init_growable(&b, n + 8));
    kf_result r = kf_buf_write_u8(&b, 0x0c);
    if (kf_ok(r) && n < 0x80) {
        r = kf_buf_write_u8(&b, (uint8_t)n);
    } else if (kf_ok(r) && n < 0x100) {
        r = kf_buf_write_u8(&b, 0x81);
        if (kf_ok(r)) {
            r = kf_buf_write_u8(&b, (uint8_t)n);
        }
    } else if (kf_ok(r)) {
        r = kf_buf_write_u8(&b, 0x82);
        if (kf_ok(r)) {
            r = kf_buf_write_u16(&b, (uint16_t)n);
        }
    }
    if (kf_ok(r)) {
        r = kf_buf_write_bytes(&b, (const uint8_t *)text, n);
    }
    BIO *mem = kf_ok(r) ? BIO_new(BIO_s_mem()) : NULL;
    char *pem = NULL;
    if (mem != NULL && PEM_write_bio(mem, KF_HSM_URI_PEM_NAME, "", b.data, (long)b.len) > 0) {
        char *data = NULL;
        long len = BIO_get_mem_data(mem, &data);
        pem = len > 0 ? strndup(data, (size_t)len) : NULL;
    }
    BIO_free(mem);
    kf_buf_cleanup(&b);
    KF_GUARD(r);
    KF_ENSURE(pem != NULL, KF_ERR_OPENSSL);
    *out = pem;
    return KF_OK;
}
