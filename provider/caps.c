/* provider/caps.c - the TLS groups keyfort announces: the NIST curves of its EC keymgmt.
 *
 * libssl keeps a TLS group only when the first "EC" keymgmt it can fetch comes from the
 * provider that announced the group. With keyfort listed first that keymgmt is keyfort's, so
 * the default provider's secp256r1/384r1/521r1 would be dropped and ECDHE (and every ECDSA
 * certificate in TLS 1.2) lost; keyfort announces them itself, and its keymgmt makes the
 * ephemeral keys in software (keymgmt_gen.c). With default listed first these entries are
 * the ones libssl drops, so each group is offered once in either order. */
#include "provider/prov.h"

#include <openssl/core_names.h>
#include <openssl/prov_ssl.h>
#include <string.h>

struct kf_tls_group {
    const char *name;     /* IANA TLS Supported Groups name */
    const char *internal; /* OpenSSL's curve name */
    unsigned id;          /* IANA codepoint (RFC 8422, RFC 8446) */
    unsigned secbits;
};

/* The NIST names are announced too, as the default provider does, so that "-groups P-256"
 * and SSL_CTX_set1_groups_list("P-384") keep working with keyfort first. */
static const struct kf_tls_group kf_tls_groups[] = {
    { "secp256r1", "prime256v1", 23, 128 }, { "P-256", "prime256v1", 23, 128 },
    { "secp384r1", "secp384r1", 24, 192 },  { "P-384", "secp384r1", 24, 192 },
    { "secp521r1", "secp521r1", 25, 256 },  { "P-521", "secp521r1", 25, 256 },
};

static int caps_tls_group(const struct kf_tls_group *g, OSSL_CALLBACK *cb, void *arg)
{
    unsigned id = g->id;
    unsigned secbits = g->secbits;
    int min_tls = TLS1_VERSION, max_tls = 0, min_dtls = DTLS1_VERSION, max_dtls = 0;
    unsigned is_kem = 0;
    OSSL_PARAM params[] = {
        OSSL_PARAM_utf8_string(OSSL_CAPABILITY_TLS_GROUP_NAME, (char *)g->name, 0),
        OSSL_PARAM_utf8_string(OSSL_CAPABILITY_TLS_GROUP_NAME_INTERNAL, (char *)g->internal, 0),
        OSSL_PARAM_utf8_string(OSSL_CAPABILITY_TLS_GROUP_ALG, (char *)"EC", 0),
        OSSL_PARAM_uint(OSSL_CAPABILITY_TLS_GROUP_ID, &id),
        OSSL_PARAM_uint(OSSL_CAPABILITY_TLS_GROUP_SECURITY_BITS, &secbits),
        OSSL_PARAM_int(OSSL_CAPABILITY_TLS_GROUP_MIN_TLS, &min_tls),
        OSSL_PARAM_int(OSSL_CAPABILITY_TLS_GROUP_MAX_TLS, &max_tls),
        OSSL_PARAM_int(OSSL_CAPABILITY_TLS_GROUP_MIN_DTLS, &min_dtls),
        OSSL_PARAM_int(OSSL_CAPABILITY_TLS_GROUP_MAX_DTLS, &max_dtls),
        OSSL_PARAM_uint(OSSL_CAPABILITY_TLS_GROUP_IS_KEM, &is_kem),
        OSSL_PARAM_END,
    };
    return cb(params, arg);
}

int kf_prov_get_capabilities(void *provctx, const char *capability, OSSL_CALLBACK *cb, void *arg)
{
    if (strcasecmp(capability, "TLS-GROUP") != 0) {
        return 0;
    }
    for (size_t i = 0; i < sizeof(kf_tls_groups) / sizeof(kf_tls_groups[0]); i++) {
        if (!caps_tls_group(&kf_tls_groups[i], cb, arg)) {
            return 0;
        }
    }
    return 1;
}
