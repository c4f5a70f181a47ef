/* dane/owner.c - owner names of TLSA (RFC 6698 s3) and SMIMEA (RFC 8162 s3) records. */
#include "dane/dane.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

/* A host or domain name as a mail system writes it: LDH labels of 1..63, 253 octets in all,
 * an optional trailing dot. (Underscore labels belong to the record owners built here.) */
bool kf_dane_hostname_ok(const char *h)
{
    size_t n = strlen(h);
    if (n > 0 && h[n - 1] == '.') {
        n--;
    }
    if (n == 0 || n > 253) {
        return false;
    }
    size_t label = 0;
    for (size_t i = 0; i < n; i++) {
        char c = h[i];
        if (c == '.') {
            if (label == 0 || h[i - 1] == '-') {
                return false;
            }
            label = 0;
            continue;
        }
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  (c == '-' && label > 0);
        if (!ok || ++label > 63) {
            return false;
        }
    }
    return label > 0 && h[n - 1] != '-';
}

/* Print into @p out; TOO_LARGE when it does not fit. */
static kf_result owner_fits(int n, size_t cap)
{
    KF_ENSURE(n > 0 && (size_t)n < cap, KF_ERR_TOO_LARGE);
    return KF_OK;
}

kf_result kf_dane_tlsa_owner(const char *port, const char *proto, const char *host, char *out,
                             size_t cap)
{
    KF_ENSURE_REF(port);
    KF_ENSURE_REF(proto);
    KF_ENSURE_REF(host);
    KF_ENSURE_REF(out);
    char *end = NULL;
    unsigned long p = strtoul(port, &end, 10);
    if (port[0] < '0' || port[0] > '9' || *end != '\0' || p == 0 || p > 65535) {
        kf_err_note_context("port '%s': expected 1 to 65535", port);
        KF_BAIL(KF_ERR_INVALID_ARG);
    }
    if (strcmp(proto, "tcp") != 0 && strcmp(proto, "udp") != 0 && strcmp(proto, "sctp") != 0) {
        kf_err_note_context("protocol '%s': expected tcp, udp or sctp", proto);
        KF_BAIL(KF_ERR_INVALID_ARG);
    }
    if (!kf_dane_hostname_ok(host)) {
        kf_err_note_context("host '%s' is not a host name", host);
        KF_BAIL(KF_ERR_INVALID_ARG);
    }
    char num[8];
    (void)snprintf(num, sizeof(num), "%lu", p);
    size_t n = strlen(host);
    return owner_fits(
        snprintf(out, cap, "_%s._%s.%s%s", num, proto, host, host[n - 1] == '.' ? "" : "."), cap);
}

kf_result kf_dane_smimea_owner(const char *email, char *out, size_t cap)
{
    KF_ENSURE_REF(email);
    KF_ENSURE_REF(out);
    const char *at = strrchr(email, '@');
    if (at == NULL) {
        kf_err_note_context("'%s' is not an e-mail address (no '@')", email);
        KF_BAIL(KF_ERR_INVALID_ARG);
    }
    const char *local = email;
    size_t local_len = (size_t)(at - email);
    /* A quoted local part ("john doe"@example) is hashed without its quotes (RFC 8162 s3
     * hashes the local part's value, RFC 5322 s3.4.1 defines the quoting). */
    if (local_len >= 2 && local[0] == '"' && local[local_len - 1] == '"') {
        local++;
        local_len -= 2;
    }
    if (local_len == 0) {
        kf_err_note_context("'%s': the local part (before '@') is empty", email);
        KF_BAIL(KF_ERR_INVALID_ARG);
    }
    for (size_t i = 0; i < local_len; i++) {
        unsigned char c = (unsigned char)local[i];
        if (c < 0x21 || c > 0x7e) {
            kf_err_note_context("'%s': the local part has a non-ASCII or control character "
                                "at offset %zu (internationalised addresses are not supported)",
                                email, i);
            KF_BAIL(KF_ERR_INVALID_ARG);
        }
    }
    const char *domain = at + 1;
    if (!kf_dane_hostname_ok(domain)) {
        kf_err_note_context("'%s': '%s' is not a domain name", email, domain);
        KF_BAIL(KF_ERR_INVALID_ARG);
    }
    uint8_t h[32];
    unsigned hl = 0;
    KF_ENSURE(EVP_Digest(local, local_len, h, &hl, EVP_sha256(), NULL) == 1, KF_ERR_OPENSSL);
    char hex[57];
    for (size_t i = 0; i < 28; i++) { /* truncated to 28 octets (RFC 8162 s3) */
        (void)snprintf(hex + 2 * i, 3, "%02x", h[i]);
    }
    size_t n = strlen(domain);
    return owner_fits(
        snprintf(out, cap, "%s._smimecert.%s%s", hex, domain, domain[n - 1] == '.' ? "" : "."),
        cap);
}
