/* provider/keymgmt_gen.h - key generation for keyfort's keymgmt (keymgmt_gen.c). */
#ifndef KF_PROVIDER_KEYMGMT_GEN_H
#define KF_PROVIDER_KEYMGMT_GEN_H

#include "provider/prov.h"

/* Generation parameter that puts the new key on a token: a pkcs11: URI naming the token and
 * the new key's object label (and optionally its id), e.g.
 *   openssl genpkey -provider keyfort -provider default -algorithm EC \
 *     -pkeyopt group:P-256 -pkeyopt 'pkcs11-uri:pkcs11:token=dns;object=zsk?pin-source=/p'
 * Without it the key is a software key in the default provider (prov.h). */
#define KF_GEN_PARAM_URI "pkcs11-uri"

OSSL_FUNC_keymgmt_gen_init_fn kf_keymgmt_rsa_gen_init;
OSSL_FUNC_keymgmt_gen_init_fn kf_keymgmt_ec_gen_init;
OSSL_FUNC_keymgmt_gen_init_fn kf_keymgmt_ed25519_gen_init;
OSSL_FUNC_keymgmt_gen_init_fn kf_keymgmt_ed448_gen_init;
OSSL_FUNC_keymgmt_gen_settable_params_fn kf_keymgmt_rsa_gen_settable_params;
OSSL_FUNC_keymgmt_gen_settable_params_fn kf_keymgmt_ec_gen_settable_params;
OSSL_FUNC_keymgmt_gen_settable_params_fn kf_keymgmt_ed25519_gen_settable_params;
OSSL_FUNC_keymgmt_gen_settable_params_fn kf_keymgmt_ed448_gen_settable_params;
OSSL_FUNC_keymgmt_gen_set_params_fn kf_keymgmt_gen_set_params;
OSSL_FUNC_keymgmt_gen_set_template_fn kf_keymgmt_gen_set_template;
OSSL_FUNC_keymgmt_gen_fn kf_keymgmt_gen;
OSSL_FUNC_keymgmt_gen_cleanup_fn kf_keymgmt_gen_cleanup;

#define KF_KEYMGMT_GEN_ENTRIES(suffix)                                                             \
    { OSSL_FUNC_KEYMGMT_GEN_INIT, (void (*)(void))kf_keymgmt_##suffix##_gen_init },                \
        { OSSL_FUNC_KEYMGMT_GEN_SETTABLE_PARAMS,                                                   \
          (void (*)(void))kf_keymgmt_##suffix##_gen_settable_params },                             \
        { OSSL_FUNC_KEYMGMT_GEN_SET_PARAMS, (void (*)(void))kf_keymgmt_gen_set_params },           \
        { OSSL_FUNC_KEYMGMT_GEN_SET_TEMPLATE, (void (*)(void))kf_keymgmt_gen_set_template },       \
        { OSSL_FUNC_KEYMGMT_GEN, (void (*)(void))kf_keymgmt_gen },                                 \
    {                                                                                              \
        OSSL_FUNC_KEYMGMT_GEN_CLEANUP, (void (*)(void))kf_keymgmt_gen_cleanup                      \
    }

#endif
