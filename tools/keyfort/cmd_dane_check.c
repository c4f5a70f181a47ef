/* tools/keyfort/cmd_dane_check.c - keyfort dane check: connect to a server (SMTP with STARTTLS
 * by default), authenticate it with its TLSA records through OpenSSL's DANE support, and report
 * which record matched and why (RFC 7671, RFC 7672 for SMTP).
 *
 * TLSA records come from a validated lookup (only a secure answer counts, RFC 7672 s2.2) or,
 * for diagnostics, from a file the operator names (reported as not validated). For SMTP only
 * DANE-TA(2) and DANE-EE(3) are usable (RFC 7672 s3.1); PKIX-TA/PKIX-EE records are skipped. */
#include "dane/dane.h"
#include "dane/lookup.h"
#include "dnssec/dnssec.h"
#include "tools/keyfort/cli.h"
#include "tools/keyfort/out.h"

#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define CHECK_IO_TIMEOUT_S 10
#define CHECK_MAX_TLSA 32

struct check_tlsa {
    uint8_t *rd[CHECK_MAX_TLSA];
    size_t len[CHECK_MAX_TLSA];
    size_t n;
    char source[700]; /* where the records came from, for the report */
};

static void check_tlsa_cleanup(struct check_tlsa *t)
{
    for (size_t i = 0; i < t->n; i++) {
        free(t->rd[i]);
    }
    t->n = 0;
}

static KF_RESULT check_tlsa_add(struct check_tlsa *t, const uint8_t *rd, size_t len)
{
    struct kf_dane_rr rr;
    if (t->n == CHECK_MAX_TLSA || !kf_ok(kf_dane_rdata_parse(rd, len, &rr))) {
        return KF_OK; /* a budget; malformed records are skipped (RFC 7671 s5: unusable) */
    }
    t->rd[t->n] = malloc(len);
    KF_ENSURE(t->rd[t->n] != NULL, KF_ERR_NOMEM);
    memcpy(t->rd[t->n], rd, len);
    t->len[t->n++] = len;
    return KF_OK;
}

static KF_RESULT check_tlsa_from_file(const char *path, const char *owner, struct check_tlsa *t)
{
    struct kf_zone z;
    KF_GUARD_CTX(kf_zone_load_file(path, ".", &z), "--tlsa-file");
    uint8_t want[KF_DNS_MAX_NAME];
    size_t wl = 0;
    kf_result r = kf_dnssec_name_from_text(owner, want, &wl);
    for (size_t i = 0; i < z.n_rrs && kf_ok(r); i++) {
        const struct kf_zone_rr *rr = &z.rrs[i];
        /* kf_dnssec_name_cmp ignores case: no lower-casing needed. */
        if (rr->type == 52 && kf_dnssec_name_cmp(kf_zone_owner_name(&z, rr->owner), want) == 0) {
            r = check_tlsa_add(t, kf_zone_rdata(&z, rr), rr->rdlen);
        }
    }
    kf_zone_cleanup(&z);
    (void)snprintf(t->source, sizeof(t->source), "the file %s (not DNSSEC-validated)", path);
    return r;
}

static KF_RESULT check_tlsa_from_dns(const struct kf_cli_args *a, const char *owner,
                                     struct check_tlsa *t)
{
    if (a->anchor == NULL) {
        return kf_cli_usage_error("give --anchor FILE (TLSA records count only when validated) "
                                  "or --tlsa-file FILE");
    }
    struct kf_dane_resolver *res = NULL;
    KF_GUARD(kf_dane_resolver_new(a->resolver, a->anchor, &res));
    struct kf_dane_answer ans;
    kf_result r = kf_dane_resolve(res, owner, 52 /* TLSA */, &ans);
    kf_dane_resolver_free(res);
    KF_GUARD(r);
    if (ans.security != KF_DANE_SECURE || ans.n == 0) {
        int32_t code = ans.security == KF_DANE_BOGUS      ? KF_ERR_DNS_BOGUS
                       : ans.security == KF_DANE_INSECURE ? KF_ERR_DNS_INSECURE
                                                          : KF_ERR_DNS_NO_DATA;
        kf_err_record(code, __FILE__, __LINE__, __func__);
        kf_err_note_context("%s: %s%s%s: no usable TLSA records (RFC 7672 s2.2: a sender "
                            "may not use DANE here)",
                            owner, kf_dane_security_name(ans.security),
                            ans.why[0] != '\0' ? ", " : "", ans.why);
        kf_dane_answer_cleanup(&ans);
        return (kf_result){ code };
    }
    for (size_t i = 0; i < ans.n && kf_ok(r); i++) {
        r = check_tlsa_add(t, ans.rdata[i], ans.len[i]);
    }
    kf_dane_answer_cleanup(&ans);
    (void)snprintf(t->source, sizeof(t->source), "a DNSSEC-validated answer for %s", owner);
    return r;
}

/* The server's IPv4 address from a validated A lookup (RFC 7672 s2.2.2: the address chain
 * must be secure for DANE to apply). Reports the security status; only secure is accepted. */
static KF_RESULT check_address(const struct kf_cli_args *a, const char *host, char *out, size_t cap)
{
    if (a->anchor == NULL) {
        return kf_cli_usage_error("give --anchor FILE to validate the address, or --connect "
                                  "ADDR");
    }
    struct kf_dane_resolver *res = NULL;
    KF_GUARD(kf_dane_resolver_new(a->resolver, a->anchor, &res));
    struct kf_dane_answer ans;
    kf_result r = kf_dane_resolve(res, host, 1 /* A */, &ans);
    kf_dane_resolver_free(res);
    KF_GUARD(r);
    if (ans.security != KF_DANE_SECURE || ans.n == 0 || ans.len[0] != 4) {
        int32_t code = ans.security == KF_DANE_BOGUS      ? KF_ERR_DNS_BOGUS
                       : ans.security == KF_DANE_INSECURE ? KF_ERR_DNS_INSECURE
                                                          : KF_ERR_DNS_NO_DATA;
        kf_err_record(code, __FILE__, __LINE__, __func__);
        kf_err_note_context("%s A: %s%s%s, no usable address", host,
                            kf_dane_security_name(ans.security), ans.why[0] != '\0' ? ", " : "",
                            ans.why);
        kf_dane_answer_cleanup(&ans);
        return (kf_result){ code };
    }
    const uint8_t *ip = ans.rdata[0];
    (void)snprintf(out, cap, "%u.%u.%u.%u", ip[0], ip[1], ip[2], ip[3]);
    kf_dane_answer_cleanup(&ans);
    printf("dane: %s has address %s (secure)\n", host, out);
    return KF_OK;
}

/* TCP connection to host:port (or the --connect address), with I/O timeouts. */
static KF_RESULT check_connect(const char *host, const char *port, int *out_fd)
{
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM };
    struct addrinfo *ai = NULL;
    int rc = getaddrinfo(host, port, &hints, &ai);
    if (rc != 0) {
        kf_err_note_context("%s port %s: %s", host, port, gai_strerror(rc));
        KF_BAIL(KF_ERR_DNS_LOOKUP);
    }
    int fd = -1;
    for (struct addrinfo *p = ai; p != NULL && fd < 0; p = p->ai_next) {
        fd = socket(p->ai_family, p->ai_socktype, p->ai_protocol);
        if (fd < 0) {
            continue;
        }
        struct timeval tv = { .tv_sec = CHECK_IO_TIMEOUT_S };
        (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        if (connect(fd, p->ai_addr, p->ai_addrlen) != 0) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(ai);
    if (fd < 0) {
        kf_err_note_context("could not connect to %s port %s", host, port);
        KF_BAIL(KF_ERR_IO);
    }
    *out_fd = fd;
    return KF_OK;
}

/* One SMTP reply (multi-line replies end with "NNN "); its code, and whether any line
 * advertised @p ext. */
static KF_RESULT check_smtp_reply(FILE *f, int *out_code, const char *ext, bool *out_has)
{
    char line[1024];
    for (;;) {
        if (fgets(line, sizeof(line), f) == NULL || strlen(line) < 4) {
            kf_err_note_context("the SMTP server closed the connection or sent garbage");
            KF_BAIL(KF_ERR_IO);
        }
        if (ext != NULL && strncasecmp(line + 4, ext, strlen(ext)) == 0) {
            *out_has = true;
        }
        if (line[3] == ' ') {
            *out_code = atoi(line);
            return KF_OK;
        }
    }
}

/* EHLO, then STARTTLS (RFC 3207). The stream is unbuffered for writing and the server says
 * nothing after its 220 until the TLS handshake, so no TLS bytes sit in the read buffer. */
static KF_RESULT check_starttls(int fd)
{
    int dfd = dup(fd);
    FILE *f = dfd >= 0 ? fdopen(dfd, "r+") : NULL;
    if (f == NULL) {
        if (dfd >= 0) {
            close(dfd);
        }
        KF_BAIL(KF_ERR_IO);
    }
    setvbuf(f, NULL, _IONBF, 0);
    int code = 0;
    bool has = false;
    kf_result r = check_smtp_reply(f, &code, NULL, &has);
    if (kf_ok(r) && code != 220) {
        kf_err_record(KF_ERR_IO, __FILE__, __LINE__, __func__);
        kf_err_note_context("SMTP greeting %d, not 220", code);
        r = (kf_result){ KF_ERR_IO };
    }
    if (kf_ok(r)) {
        (void)fputs("EHLO keyfort.invalid\r\n", f);
        r = check_smtp_reply(f, &code, "STARTTLS", &has);
    }
    if (kf_ok(r) && (code != 250 || !has)) {
        kf_err_record(KF_ERR_IO, __FILE__, __LINE__, __func__);
        kf_err_note_context("the SMTP server does not offer STARTTLS");
        r = (kf_result){ KF_ERR_IO };
    }
    if (kf_ok(r)) {
        (void)fputs("STARTTLS\r\n", f);
        r = check_smtp_reply(f, &code, NULL, &has);
    }
    if (kf_ok(r) && code != 220) {
        kf_err_record(KF_ERR_IO, __FILE__, __LINE__, __func__);
        kf_err_note_context("STARTTLS refused (%d)", code);
        r = (kf_result){ KF_ERR_IO };
    }
    fclose(f);
    return r;
}

static kf_result check_ssl_fail(int32_t code, const char *what)
{
    char e[256] = "";
    unsigned long err = ERR_peek_last_error();
    if (err != 0) {
        ERR_error_string_n(err, e, sizeof(e));
    }
    ERR_clear_error();
    kf_err_record(code, __FILE__, __LINE__, __func__);
    kf_err_note_context("%s%s%s", what, e[0] != '\0' ? ": " : "", e);
    return (kf_result){ code };
}

/* The handshake with DANE; the report on success. */
static KF_RESULT check_tls(int fd, const char *host, const struct check_tlsa *t)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    SSL *ssl = NULL;
    kf_result r = KF_OK;
    size_t usable = 0;
    if (ctx == NULL || SSL_CTX_dane_enable(ctx) <= 0 || (ssl = SSL_new(ctx)) == NULL ||
        SSL_dane_enable(ssl, host) <= 0 || SSL_set_tlsext_host_name(ssl, host) != 1 ||
        SSL_set_fd(ssl, fd) != 1) {
        r = check_ssl_fail(KF_ERR_OPENSSL, "TLS setup");
    }
    /* RFC 7672 s3.1.3: names are checked for DANE-TA against the MX host; DANE-EE ignores
     * names. OpenSSL applies the reference name only to TA-issued chains with this flag. */
    if (kf_ok(r)) {
        SSL_dane_set_flags(ssl, DANE_FLAG_NO_DANE_EE_NAMECHECKS);
        /* No match, no session: the handshake itself fails, as a DANE sender must (RFC 7672
         * s2.2: deliver only over an authenticated channel, or defer). */
        SSL_set_verify(ssl, SSL_VERIFY_PEER, NULL);
    }
    for (size_t i = 0; i < t->n && kf_ok(r); i++) {
        const uint8_t *rd = t->rd[i];
        if (rd[0] != KF_DANE_DANE_TA && rd[0] != KF_DANE_DANE_EE) {
            continue; /* PKIX-TA/PKIX-EE are not for SMTP (RFC 7672 s3.1) */
        }
        if (SSL_dane_tlsa_add(ssl, rd[0], rd[1], rd[2], rd + 3, t->len[i] - 3) > 0) {
            usable++;
        }
    }
    ERR_clear_error();
    if (kf_ok(r) && usable == 0) {
        kf_err_record(KF_ERR_DNS_NO_DATA, __FILE__, __LINE__, __func__);
        kf_err_note_context("none of the %zu TLSA records is usable (DANE-TA or DANE-EE with "
                            "a known selector and matching type)",
                            t->n);
        r = (kf_result){ KF_ERR_DNS_NO_DATA };
    }
    if (kf_ok(r) && SSL_connect(ssl) != 1) {
        long v = SSL_get_verify_result(ssl);
        char what[300];
        (void)snprintf(what, sizeof(what),
                       "no TLSA record matches the server's certificate "
                       "chain (verify: %s)",
                       X509_verify_cert_error_string(v));
        r = check_ssl_fail(KF_ERR_VERIFY_FAILED, what);
    }
    if (kf_ok(r) && SSL_get_verify_result(ssl) != X509_V_OK) {
        r = check_ssl_fail(KF_ERR_VERIFY_FAILED,
                           X509_verify_cert_error_string(SSL_get_verify_result(ssl)));
    }
    if (kf_ok(r)) {
        uint8_t u = 0;
        uint8_t s = 0;
        uint8_t m = 0;
        const unsigned char *data = NULL;
        size_t dlen = 0;
        int depth = SSL_get0_dane_tlsa(ssl, &u, &s, &m, &data, &dlen);
        X509 *peer = SSL_get1_peer_certificate(ssl);
        char subject[256] = "?";
        if (peer != NULL) {
            X509_NAME_oneline(X509_get_subject_name(peer), subject, sizeof(subject));
        }
        printf("dane: verified %s: TLSA %u %u %u (%s %s %s) matched the certificate at depth "
               "%d; %zu usable record%s from %s; %s, %s\n",
               host, u, s, m, kf_dane_field_name(KF_DANE_FIELD_USAGE, u),
               kf_dane_field_name(KF_DANE_FIELD_SELECTOR, s),
               kf_dane_field_name(KF_DANE_FIELD_MTYPE, m), depth, usable, usable == 1 ? "" : "s",
               t->source, SSL_get_version(ssl), SSL_get_cipher(ssl));
        printf("dane: server certificate subject ");
        kf_cli_text_safe(stdout, subject);
        printf("\n");
        X509_free(peer);
        (void)SSL_shutdown(ssl);
    }
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    return r;
}

kf_result kf_cli_dane_check(const struct kf_cli_args *a)
{
    KF_GUARD(kf_cli_args_expect(a, 1, 1, "HOST"));
    const char *host = a->pos[0];
    const char *port = a->port != NULL ? a->port : "25";
    const char *starttls = a->starttls != NULL ? a->starttls : "smtp";
    if (strcmp(starttls, "smtp") != 0 && strcmp(starttls, "none") != 0) {
        return kf_cli_usage_error("--starttls: smtp or none, got '%s'", starttls);
    }
    char owner[600];
    KF_GUARD(kf_dane_tlsa_owner(port, "tcp", host, owner, sizeof(owner)));
    struct check_tlsa t = { 0 };
    kf_result r = a->tlsa_file != NULL ? check_tlsa_from_file(a->tlsa_file, owner, &t)
                                       : check_tlsa_from_dns(a, owner, &t);
    if (kf_ok(r) && t.n == 0) {
        kf_err_record(KF_ERR_DNS_NO_DATA, __FILE__, __LINE__, __func__);
        kf_err_note_context("no TLSA record for %s in %s", owner, a->tlsa_file);
        r = (kf_result){ KF_ERR_DNS_NO_DATA };
    }
    size_t usable = 0;
    for (size_t i = 0; kf_ok(r) && i < t.n; i++) {
        usable += t.rd[i][0] == KF_DANE_DANE_TA || t.rd[i][0] == KF_DANE_DANE_EE;
    }
    if (kf_ok(r) && usable == 0) {
        /* Only PKIX-TA/PKIX-EE (or private) records: nothing an SMTP client may use, so no
         * connection is made at all. */
        kf_err_record(KF_ERR_DNS_NO_DATA, __FILE__, __LINE__, __func__);
        kf_err_note_context("none of the %zu TLSA records at %s is DANE-TA(2) or DANE-EE(3) "
                            "(RFC 7672 s3.1)",
                            t.n, owner);
        r = (kf_result){ KF_ERR_DNS_NO_DATA };
    }
    int fd = -1;
    char addr[64] = "";
    if (kf_ok(r) && a->connect == NULL) {
        r = check_address(a, host, addr, sizeof(addr));
    }
    if (kf_ok(r)) {
        /* --connect names the address to dial (a test server, a namespace); the name checked
         * is still HOST. Without it, the validated A record gives the address. */
        r = check_connect(a->connect != NULL ? a->connect : addr, port, &fd);
    }
    if (kf_ok(r) && strcmp(starttls, "smtp") == 0) {
        r = check_starttls(fd);
    }
    if (kf_ok(r)) {
        r = check_tls(fd, host, &t);
    }
    if (fd >= 0) {
        close(fd);
    }
    check_tlsa_cleanup(&t);
    return r;
}
