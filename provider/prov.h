/* provider/prov.h - keyfort.so, the OpenSSL 3 provider over hsm/.
 *
 * Objects:
 *   struct kf_prov      one per provider instance (OSSL_provider_init .. teardown)
 *   struct kf_prov_key  keymgmt key data: a counted ref on a token key plus its public copy
 *
 * Only dispatch functions speak OpenSSL's 1/0; everything below returns kf_result and is
 * turned into an error-queue entry by KF_PROV_RETURN (STYLE.md s3). */
#ifndef KF_PROVIDER_PROV_H
#define KF_PROVIDER_PROV_H

#include "common/kf_result.h"
#include "hsm/hsm.h"

#include <openssl/core.h>
#include <openssl/core_dispatch.h>
#include <openssl/evp.h>
#include <stdatomic.h>
#include <stdbool.h>

#ifndef OSSL_DISPATCH_END
#define OSSL_DISPATCH_END                                                                          \
    {                                                                                              \
        0, NULL                                                                                    \
    }
#endif

#define KF_PROV_NAME "keyfort"
/* Property of every keyfort algorithm: "provider=keyfort" is set by OpenSSL itself. */
#define KF_PROV_PROPS "provider=keyfort"

struct kf_prov {
    const OSSL_CORE_HANDLE *handle; /* borrowed from the core */
    OSSL_LIB_CTX *libctx;           /* owned: child of the application's, for digests */
    OSSL_FUNC_core_new_error_fn *core_new_error;
    OSSL_FUNC_core_set_error_debug_fn *core_set_error_debug;
    OSSL_FUNC_core_vset_error_fn *core_vset_error;
    char *module;     /* owned: "pkcs11-module" config value, NULL = hsm/'s default */
    char *pin_source; /* owned: "pkcs11-pin-source" config value (a file) */
    unsigned pool_size;
    /* Digests fetched once (kf_prov_md): a fetch per signature was ~3% of a P-256 signature.
     * Set by compare-and-swap, freed at teardown. */
    _Atomic(EVP_MD *) mds[KF_DIGEST_SHA512 + 1];
};

/* Two kinds of key data share one keymgmt, because OpenSSL picks a keymgmt by name and the
 * first provider listed wins: with keyfort first, every "EC" or "RSA" key a program makes or
 * imports (TLS ephemeral keys, peer keys, keys read from files) lands here too.
 *   token key    (hk != NULL): pub is the software copy of its public half;
 *   software key (hk == NULL): pub is the whole key, held in the default provider, and every
 *                              operation on it is delegated there (never to the token). */
struct kf_prov_key {
    _Atomic int refs;
    struct kf_prov *prov;  /* borrowed: the provider outlives its keys */
    struct kf_hsm_key *hk; /* counted ref; NULL for a software key */
    EVP_PKEY *pub;         /* owned ref, in prov->libctx's default provider (see above);
                              NULL for a software key not yet imported or generated */
    int evp_type;          /* EVP_PKEY_RSA, EVP_PKEY_EC, EVP_PKEY_ED25519, EVP_PKEY_ED448 */
    char *pin_source;      /* owned, may be NULL: the pin-source of the URI that named the key,
                              kept for the URI-PEM file the encoder writes (encode_uri_pem.c) */
    /* RSA implicit rejection (asym_rsa.c): a secret bound to the token key, made once. */
    pthread_mutex_t ir_lock;
    bool ir_ready;
    uint8_t ir_secret[32];
};

/* Property query for everything keyfort asks of OpenSSL itself: never keyfort again (the
 * child library context holds keyfort too, and SoftHSM must not re-enter it). */
#define KF_PROV_SW_PROPQ "provider!=keyfort"

static inline bool kf_prov_key_is_soft(const struct kf_prov_key *k)
{
    return k->hk == NULL;
}

/** Push the recorded failure onto OpenSSL's error queue (reason = kf error code). */
void kf_prov_raise(struct kf_prov *prov, kf_result r);
#define KF_PROV_RETURN(prov, expr)                                                                 \
    do {                                                                                           \
        kf_result kf__r = (expr);                                                                  \
        if (kf_ok(kf__r)) {                                                                        \
            return 1;                                                                              \
        }                                                                                          \
        kf_prov_raise((prov), kf__r);                                                              \
        return 0;                                                                                  \
    } while (0)

/** False after fork() until the child's state is ready, and after teardown. */
bool kf_prov_is_usable(const struct kf_prov *prov);
/** Token open options from the provider configuration. */
void kf_prov_open_opts(const struct kf_prov *prov, struct kf_hsm_open_opts *out);

/** Open the token a URI names: PIN from the URI, else the configured pkcs11-pin-source, else
 *  OpenSSL's password callback (asked once). */
KF_RESULT kf_prov_open_token(struct kf_prov *prov, const struct kf_hsm_uri *uri,
                             OSSL_PASSPHRASE_CALLBACK *pw_cb, void *pw_cbarg,
                             struct kf_hsm_token **out);

/** Wrap a token key (takes over the caller's reference on @p hk); @p pin_source (may be NULL)
 *  is the pin-source of the URI that named it. */
KF_RESULT kf_prov_key_new(struct kf_prov *prov, struct kf_hsm_key *hk, const char *pin_source,
                          struct kf_prov_key **out);
/** A software key (takes over @p sw, which may be NULL for an empty key to import into). */
KF_RESULT kf_prov_key_new_soft(struct kf_prov *prov, int evp_type, EVP_PKEY *sw,
                               struct kf_prov_key **out);
/** hsm/'s digest for an OpenSSL digest name (SHA-1 and SHA-2 only; case-insensitive). */
KF_RESULT kf_prov_digest_of(const char *name, enum kf_hsm_digest *out);
/** The digest @p d from the default provider, fetched once per provider instance
 *  (borrowed; NULL for NONE or when it cannot be fetched). */
const EVP_MD *kf_prov_md(struct kf_prov *prov, enum kf_hsm_digest d);
/** OpenSSL's name for an hsm/ digest; NULL for NONE. */
const char *kf_prov_digest_name(enum kf_hsm_digest d);

/** OpenSSL's name for the key type: "RSA", "EC", "ED25519", "ED448". */
const char *kf_prov_alg_name(int evp_type);
struct kf_prov_key *kf_prov_key_ref(struct kf_prov_key *k);
void kf_prov_key_unref(struct kf_prov_key *k);

/* Dispatch tables (provider/keymgmt.c, store_pkcs11.c, sig_*.c). */
extern const OSSL_DISPATCH kf_keymgmt_rsa_functions[];
extern const OSSL_DISPATCH kf_keymgmt_ec_functions[];
extern const OSSL_DISPATCH kf_keymgmt_ed25519_functions[];
extern const OSSL_DISPATCH kf_keymgmt_ed448_functions[];
extern const OSSL_DISPATCH kf_store_pkcs11_functions[];
extern const OSSL_DISPATCH kf_dec_uri_pem_rsa_functions[];
extern const OSSL_DISPATCH kf_dec_uri_pem_ec_functions[];
extern const OSSL_DISPATCH kf_dec_uri_pem_ed25519_functions[];
extern const OSSL_DISPATCH kf_dec_uri_pem_ed448_functions[];
extern const OSSL_DISPATCH kf_sig_rsa_functions[];
extern const OSSL_DISPATCH kf_sig_ecdsa_functions[];
extern const OSSL_DISPATCH kf_sig_ed25519_functions[];
extern const OSSL_DISPATCH kf_sig_ed448_functions[];
extern const OSSL_DISPATCH kf_exch_ecdh_functions[];
extern const OSSL_DISPATCH kf_enc_uri_pem_functions[];
extern const OSSL_DISPATCH kf_asym_rsa_functions[];

/** TLS-GROUP capabilities (provider/caps.c). */
int kf_prov_get_capabilities(void *provctx, const char *capability, OSSL_CALLBACK *cb, void *arg);

#endif
