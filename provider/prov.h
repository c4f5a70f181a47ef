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
#include <stdatomic.h>

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
};

struct kf_prov_key {
    _Atomic int refs;
    struct kf_prov *prov;  /* borrowed: the provider outlives its keys */
    struct kf_hsm_key *hk; /* counted ref */
    EVP_PKEY *pub;         /* owned ref: the public key, in the default provider */
    int evp_type;          /* EVP_PKEY_RSA, EVP_PKEY_EC, EVP_PKEY_ED25519, EVP_PKEY_ED448 */
};

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

/** Wrap a token key (takes over the caller's reference on @p hk). */
KF_RESULT kf_prov_key_new(struct kf_prov *prov, struct kf_hsm_key *hk, struct kf_prov_key **out);
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

#endif
