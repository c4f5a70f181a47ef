/* dane/lookup.h - validated DNS lookups for DANE and SMIMEA (libunbound with a trust anchor).
 *
 * Every answer is classified as RFC 4035 s4.3 does: secure (validated from the anchor),
 * insecure (provably unsigned) or bogus (validation failed). DANE and SMIMEA records count only
 * when secure (RFC 7672 s2.2, RFC 8162 s9). */
#ifndef KF_DANE_LOOKUP_H
#define KF_DANE_LOOKUP_H

#include "common/kf_result.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum kf_dane_security {
    KF_DANE_SECURE,
    KF_DANE_INSECURE,
    KF_DANE_BOGUS,
};

struct kf_dane_resolver;

/**
 * A resolver that sends its queries to @p forward ("ADDR" or "ADDR@PORT"; NULL: the
 * nameservers of /etc/resolv.conf) and validates answers itself from the DS or DNSKEY records
 * in @p anchor_file (zone-file form). Errors: INVALID_ARG (bad address), FILE_OPEN (anchor),
 * DNS_LOOKUP, NOMEM.
 */
KF_RESULT kf_dane_resolver_new(const char *forward, const char *anchor_file,
                               struct kf_dane_resolver **out);
void kf_dane_resolver_free(struct kf_dane_resolver *r);

struct kf_dane_answer {
    enum kf_dane_security security;
    int rcode;
    bool nxdomain;
    char why[256]; /* the validator's reason when bogus */
    size_t n;      /* RDATA items */
    uint8_t **rdata;
    size_t *len;
};

/**
 * Ask for (@p name, @p type). Returns OK with the classified answer (possibly no data); errors
 * only when no answer came (DNS_LOOKUP: the resolver unreachable, or SERVFAIL that is not a
 * validation failure, with the reason).
 */
KF_RESULT kf_dane_resolve(struct kf_dane_resolver *r, const char *name, uint16_t type,
                          struct kf_dane_answer *out);
void kf_dane_answer_cleanup(struct kf_dane_answer *a);
const char *kf_dane_security_name(enum kf_dane_security s);

#endif
