/* dane/dane.h - DANE records for mail: TLSA (RFC 6698, RFC 7218 mnemonics, RFC 7672 for
 * SMTP) and SMIMEA (RFC 8162). This file: building the records from certificates and keys,
 * and their owner names. Matching a peer's chain comes with `keyfort dane check`. */
#ifndef KF_DANE_DANE_H
#define KF_DANE_DANE_H

#include "common/kf_buf.h"
#include "common/kf_result.h"

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdint.h>

/* Certificate usage (RFC 6698 s2.1.1; RFC 7218 mnemonics). */
enum kf_dane_usage {
    KF_DANE_PKIX_TA = 0,
    KF_DANE_PKIX_EE = 1,
    KF_DANE_DANE_TA = 2,
    KF_DANE_DANE_EE = 3,
};

/* Selector (RFC 6698 s2.1.2). */
enum kf_dane_selector {
    KF_DANE_SEL_CERT = 0,
    KF_DANE_SEL_SPKI = 1,
};

/* Matching type (RFC 6698 s2.1.3). */
enum kf_dane_mtype {
    KF_DANE_FULL = 0,
    KF_DANE_SHA2_256 = 1,
    KF_DANE_SHA2_512 = 2,
};

enum kf_dane_field {
    KF_DANE_FIELD_USAGE,
    KF_DANE_FIELD_SELECTOR,
    KF_DANE_FIELD_MTYPE,
};

/**
 * A field from its number (0-255) or its RFC 7218 mnemonic, case-insensitively
 * ("DANE-EE", "SPKI", "SHA2-256", "PrivCert", ...). Errors: INVALID_ARG.
 */
KF_RESULT kf_dane_parse_field(enum kf_dane_field field, const char *text, uint8_t *out);
/** The RFC 7218 mnemonic of a value, or NULL when it has none. */
const char *kf_dane_field_name(enum kf_dane_field field, uint8_t value);

/* A TLSA or SMIMEA record's RDATA, parsed (data points into the RDATA). */
struct kf_dane_rr {
    uint8_t usage;
    uint8_t selector;
    uint8_t mtype;
    const uint8_t *data;
    size_t data_len;
};

/**
 * Parse untrusted RDATA from a DNS answer or a file. Checked: the three fields and non-empty
 * data; SHA2-256/SHA2-512 data of 32/64 octets; Full data one DER SEQUENCE with nothing after
 * it. Other values are kept (a caller decides what it can use). Errors: SHORT_INPUT,
 * MALFORMED.
 */
KF_RESULT kf_dane_rdata_parse(const uint8_t *rd, size_t len, struct kf_dane_rr *out);

/**
 * TLSA/SMIMEA RDATA (the two share one format): usage, selector, matching type and the
 * association data of @p cert (selector 0: the DER certificate; 1: its SubjectPublicKeyInfo)
 * or of @p pub alone (selector 1 only: a key has no certificate). Exactly one of @p cert and
 * @p pub is given. Errors: INVALID_ARG (selector 0 without a certificate, unknown selector or
 * matching type), OPENSSL.
 */
KF_RESULT kf_dane_rdata(X509 *cert, EVP_PKEY *pub, uint8_t usage, uint8_t selector, uint8_t mtype,
                        struct kf_buf *out);

/** A host or domain name as mail systems write it: letters, digits and inner hyphens, labels
 *  of 1-63, at most 253 octets, an optional trailing dot. */
bool kf_dane_hostname_ok(const char *host);

/**
 * The TLSA owner "_PORT._PROTO.HOST." (RFC 6698 s3) as presentation text into @p out.
 * @p proto is tcp, udp or sctp; @p host a host name (a trailing dot optional).
 * Errors: INVALID_ARG (port 0 or above 65535, unknown protocol, bad host name), TOO_LARGE.
 */
KF_RESULT kf_dane_tlsa_owner(const char *port, const char *proto, const char *host, char *out,
                             size_t cap);

/**
 * The SMIMEA owner of an e-mail address (RFC 8162 s3): the SHA2-256 of the local part,
 * truncated to 28 octets, in hex, then "_smimecert." and the domain. The local part is taken as
 * it is written, after removing the quotes of a quoted string: it must be non-empty printable
 * ASCII (keyfort refuses internationalised local parts, whose canonical form RFC 8162 leaves to
 * a future rule). Errors: INVALID_ARG (no '@', empty or non-ASCII local part, bad domain).
 */
KF_RESULT kf_dane_smimea_owner(const char *email, char *out, size_t cap);

#endif
