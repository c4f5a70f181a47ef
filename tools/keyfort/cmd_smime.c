/* tools/keyfort/cmd_smime.c - keyfort smime sign|verify|encrypt|decrypt: S/MIME (CMS) with keys
 * on the token through keyfort.so, and peers' certificates from validated SMIMEA lookups.
 *
 * verify and encrypt never trust a certificate that travels in the message: the peer's comes
 * from a secure SMIMEA answer (--email, --anchor) or from a file the operator names (--cert),
 * and the output says which. An SMIMEA record is a DANE-EE binding (RFC 8162 s6): the
 * certificate is trusted because DNSSEC vouches for it, not because of a CA chain. */
#include "dane/dane.h"
#include "dane/lookup.h"
#include "tools/keyfort/cli.h"
#include "tools/keyfort/ossl.h"
#include "tools/keyfort/out.h"
#include "tools/keyfort/uri.h"

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <string.h>

/* The OpenSSL error at the top of the queue as context; the queue is cleared. */
static kf_result smime_ossl_fail(int32_t code, const char *what)
{
    char e[256];
    ERR_error_string_n(ERR_peek_last_error(), e, sizeof(e));
    ERR_clear_error();
    kf_err_record(code, __FILE__, __LINE__, __func__);
    kf_err_note_context("%s: %s", what, e);
    return (kf_result){ code };
}

static KF_RESULT smime_open_in(const char *path, BIO **out)
{
    *out = path == NULL || strcmp(path, "-") == 0 ? BIO_new_fp(stdin, BIO_NOCLOSE)
                                                  : BIO_new_file(path, "rb");
    if (*out == NULL) {
        ERR_clear_error();
        kf_err_note_context("input '%s'", path);
        KF_BAIL(KF_ERR_FILE_OPEN);
    }
    return KF_OK;
}

static KF_RESULT smime_open_out(const char *path, BIO **out)
{
    *out = path == NULL || strcmp(path, "-") == 0 ? BIO_new_fp(stdout, BIO_NOCLOSE)
                                                  : BIO_new_file(path, "wb");
    if (*out == NULL) {
        ERR_clear_error();
        kf_err_note_context("output '%s'", path);
        KF_BAIL(KF_ERR_FILE_OPEN);
    }
    return KF_OK;
}

static KF_RESULT smime_read_cert(const char *path, X509 **out)
{
    BIO *b = BIO_new_file(path, "rb");
    X509 *x = b != NULL ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    ERR_clear_error();
    if (x == NULL) {
        kf_err_note_context("'%s' holds no PEM certificate", path);
        KF_BAIL(KF_ERR_BAD_CERT_FILE);
    }
    *out = x;
    return KF_OK;
}

/* The peer's certificate: from a secure SMIMEA answer, or from --cert. @p from describes the
 * source for the report. */
static KF_RESULT smime_peer_cert(const struct kf_cli_args *a, X509 **out, char *from, size_t cap)
{
    if ((a->email == NULL) == (a->cert == NULL)) {
        return kf_cli_usage_error("give --email ADDRESS (with --anchor: the certificate from "
                                  "a validated SMIMEA lookup) or --cert FILE");
    }
    if (a->cert != NULL) {
        (void)snprintf(from, cap, "the certificate file %s", a->cert);
        return smime_read_cert(a->cert, out);
    }
    if (a->anchor == NULL) {
        return kf_cli_usage_error("--email needs --anchor FILE to validate the SMIMEA answer");
    }
    char owner[600];
    KF_GUARD(kf_dane_smimea_owner(a->email, owner, sizeof(owner)));
    struct kf_dane_resolver *res = NULL;
    KF_GUARD(kf_dane_resolver_new(a->resolver, a->anchor, &res));
    struct kf_dane_answer ans;
    kf_result r = kf_dane_resolve(res, owner, 53 /* SMIMEA */, &ans);
    kf_dane_resolver_free(res);
    KF_GUARD(r);
    X509 *found = NULL;
    for (size_t i = 0; i < ans.n && found == NULL && ans.security == KF_DANE_SECURE; i++) {
        struct kf_dane_rr rr;
        if (kf_ok(kf_dane_rdata_parse(ans.rdata[i], ans.len[i], &rr)) &&
            rr.selector == KF_DANE_SEL_CERT && rr.mtype == KF_DANE_FULL) {
            const unsigned char *p = rr.data;
            found = d2i_X509(NULL, &p, (long)rr.data_len);
            ERR_clear_error();
        }
    }
    enum kf_dane_security sec = ans.security;
    char why[256];
    (void)snprintf(why, sizeof(why), "%s", ans.why);
    kf_dane_answer_cleanup(&ans);
    if (found == NULL) {
        int32_t code = sec == KF_DANE_BOGUS      ? KF_ERR_DNS_BOGUS
                       : sec == KF_DANE_INSECURE ? KF_ERR_DNS_INSECURE
                                                 : KF_ERR_DNS_NO_DATA;
        kf_err_record(code, __FILE__, __LINE__, __func__);
        kf_err_note_context("no validated certificate for %s (SMIMEA at %s: %s%s%s)", a->email,
                            owner, kf_dane_security_name(sec), why[0] != '\0' ? ", " : "", why);
        return (kf_result){ code };
    }
    (void)snprintf(from, cap, "a DNSSEC-validated SMIMEA record at %s", owner);
    *out = found;
    return KF_OK;
}

/* The peer's certificate (see smime_peer_cert) as the one-element stack CMS takes; the stack
 * does not own it. */
static KF_RESULT smime_peer(const struct kf_cli_args *a, X509 **out_peer,
                            STACK_OF(X509) * *out_certs, char *from, size_t cap)
{
    X509 *peer = NULL;
    KF_GUARD(smime_peer_cert(a, &peer, from, cap));
    STACK_OF(X509) *certs = sk_X509_new_null();
    if (certs == NULL || sk_X509_push(certs, peer) <= 0) {
        sk_X509_free(certs);
        X509_free(peer);
        KF_BAIL(KF_ERR_NOMEM);
    }
    *out_peer = peer;
    *out_certs = certs;
    return KF_OK;
}

/* Our own key (token URI or file) and certificate, for sign and decrypt. */
static KF_RESULT smime_own(const struct kf_cli_args *a, OSSL_LIB_CTX **lib, EVP_PKEY **key,
                           X509 **cert)
{
    if (a->key == NULL || a->cert == NULL) {
        return kf_cli_usage_error("give --key KEY (pkcs11: URI or key file) and --cert FILE");
    }
    if (kf_cli_uri_text_has_pin_value(a->key)) {
        kf_err_note_context("--key: the URI carries a pin-value; use --pin-file");
        KF_BAIL(KF_ERR_PIN_IN_ARGV);
    }
    KF_GUARD(kf_cli_ossl_libctx(a, kf_cli_ossl_is_uri(a->key), lib));
    KF_GUARD(kf_cli_ossl_load_key(*lib, a->key, key));
    return smime_read_cert(a->cert, cert);
}

kf_result kf_cli_smime_sign(const struct kf_cli_args *a)
{
    KF_GUARD(kf_cli_args_expect(a, 0, 0, "no arguments"));
    OSSL_LIB_CTX *lib = NULL;
    EVP_PKEY *key = NULL;
    X509 *cert = NULL;
    BIO *in = NULL;
    BIO *out = NULL;
    CMS_ContentInfo *cms = NULL;
    kf_result r = smime_own(a, &lib, &key, &cert);
    if (kf_ok(r)) {
        r = smime_open_in(a->in, &in);
    }
    if (kf_ok(r)) {
        /* Detached multipart/signed, the form mail clients show as signed (RFC 8551). */
        cms = CMS_sign_ex(cert, key, NULL, in, CMS_DETACHED | CMS_STREAM, lib, NULL);
        if (cms == NULL) {
            r = smime_ossl_fail(kf_cli_ossl_is_uri(a->key) ? KF_ERR_SIGN : KF_ERR_OPENSSL,
                                "CMS signature");
        }
    }
    if (kf_ok(r)) {
        r = smime_open_out(a->out, &out);
    }
    if (kf_ok(r) && SMIME_write_CMS(out, cms, in, CMS_DETACHED | CMS_STREAM) != 1) {
        r = smime_ossl_fail(KF_ERR_IO, "writing the signed message");
    }
    CMS_ContentInfo_free(cms);
    BIO_free(in);
    BIO_free(out);
    X509_free(cert);
    EVP_PKEY_free(key);
    OSSL_LIB_CTX_free(lib);
    return r;
}

kf_result kf_cli_smime_verify(const struct kf_cli_args *a)
{
    KF_GUARD(kf_cli_args_expect(a, 0, 0, "no arguments"));
    X509 *peer = NULL;
    STACK_OF(X509) *certs = NULL;
    char from[700];
    KF_GUARD(smime_peer(a, &peer, &certs, from, sizeof(from)));
    BIO *in = NULL;
    BIO *content = NULL;
    BIO *out = NULL;
    CMS_ContentInfo *cms = NULL;
    kf_result r = smime_open_in(a->in, &in);
    if (kf_ok(r)) {
        cms = SMIME_read_CMS(in, &content);
        if (cms == NULL) {
            r = smime_ossl_fail(KF_ERR_MALFORMED, "the input is not an S/MIME message");
        }
    }
    if (kf_ok(r)) {
        r = smime_open_out(a->out, &out); /* the content, when it verifies */
    }
    /* NOINTERN: only the certificate we obtained may be the signer's; NO_SIGNER_CERT_VERIFY:
     * it is trusted through DNSSEC (or the operator), not through a CA chain. */
    if (kf_ok(r) &&
        CMS_verify(cms, certs, NULL, content, out, CMS_NOINTERN | CMS_NO_SIGNER_CERT_VERIFY) != 1) {
        r = smime_ossl_fail(KF_ERR_VERIFY_FAILED, "the signature does not verify with the "
                                                  "certificate obtained");
    }
    if (kf_ok(r)) {
        char subject[256];
        X509_NAME_oneline(X509_get_subject_name(peer), subject, sizeof(subject));
        fprintf(stderr, "keyfort: verified: signed by ");
        kf_cli_text_safe(stderr, subject);
        fprintf(stderr, ", certificate from %s (not from the message)\n", from);
    }
    CMS_ContentInfo_free(cms);
    BIO_free(in);
    BIO_free(content);
    BIO_free(out);
    sk_X509_free(certs);
    X509_free(peer);
    return r;
}

kf_result kf_cli_smime_encrypt(const struct kf_cli_args *a)
{
    KF_GUARD(kf_cli_args_expect(a, 0, 0, "no arguments"));
    X509 *peer = NULL;
    STACK_OF(X509) *certs = NULL;
    char from[700];
    KF_GUARD(smime_peer(a, &peer, &certs, from, sizeof(from)));
    BIO *in = NULL;
    BIO *out = NULL;
    CMS_ContentInfo *cms = NULL;
    kf_result r = smime_open_in(a->in, &in);
    if (kf_ok(r)) {
        cms = CMS_encrypt_ex(certs, in, EVP_aes_256_cbc(), CMS_STREAM, NULL, NULL);
        if (cms == NULL) {
            r = smime_ossl_fail(KF_ERR_OPENSSL, "CMS encryption");
        }
    }
    if (kf_ok(r)) {
        r = smime_open_out(a->out, &out);
    }
    if (kf_ok(r) && SMIME_write_CMS(out, cms, in, CMS_STREAM) != 1) {
        r = smime_ossl_fail(KF_ERR_IO, "writing the encrypted message");
    }
    if (kf_ok(r)) {
        fprintf(stderr, "keyfort: encrypted to the certificate from %s\n", from);
    }
    CMS_ContentInfo_free(cms);
    BIO_free(in);
    BIO_free(out);
    sk_X509_free(certs);
    X509_free(peer);
    return r;
}

kf_result kf_cli_smime_decrypt(const struct kf_cli_args *a)
{
    KF_GUARD(kf_cli_args_expect(a, 0, 0, "no arguments"));
    OSSL_LIB_CTX *lib = NULL;
    EVP_PKEY *key = NULL;
    X509 *cert = NULL;
    BIO *in = NULL;
    BIO *out = NULL;
    CMS_ContentInfo *cms = NULL;
    kf_result r = smime_own(a, &lib, &key, &cert);
    if (kf_ok(r)) {
        r = smime_open_in(a->in, &in);
    }
    if (kf_ok(r)) {
        /* Parsed into a content info of our library context, so the decryption (and the token
         * key's provider) runs there. */
        cms = CMS_ContentInfo_new_ex(lib, NULL);
        if (cms == NULL || SMIME_read_CMS_ex(in, 0, NULL, &cms) == NULL) {
            r = smime_ossl_fail(KF_ERR_MALFORMED, "the input is not an S/MIME message");
        }
    }
    if (kf_ok(r)) {
        r = smime_open_out(a->out, &out);
    }
    if (kf_ok(r) && CMS_decrypt(cms, key, cert, NULL, out, 0) != 1) {
        r = smime_ossl_fail(kf_cli_ossl_is_uri(a->key) ? KF_ERR_DECRYPT : KF_ERR_OPENSSL,
                            "decryption");
    }
    CMS_ContentInfo_free(cms);
    BIO_free(in);
    BIO_free(out);
    X509_free(cert);
    EVP_PKEY_free(key);
    OSSL_LIB_CTX_free(lib);
    return r;
}
