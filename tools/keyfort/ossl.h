/* tools/keyfort/ossl.h - OpenSSL for the commands that sign through keyfort.so: a library
 * context with the default provider and, when a key is a pkcs11: URI, keyfort.so; keys loaded
 * through OSSL_STORE whatever their form (a pkcs11: URI, a PEM or DER file). */
#ifndef KF_TOOLS_KEYFORT_OSSL_H
#define KF_TOOLS_KEYFORT_OSSL_H

#include "common/kf_result.h"
#include "tools/keyfort/args.h"

#include <openssl/evp.h>

/* Environment variable naming keyfort.so; without it the installed provider
 * (OpenSSL's MODULESDIR) is used, else the one of the build tree keyfort was built in. */
#define KF_CLI_PROVIDER_ENV "KEYFORT_PROVIDER"

/**
 * A library context with the default provider, and keyfort.so as well when @p need_keyfort
 * (configured from --module and --pin-file). Errors: MODULE_LOAD (keyfort.so not found or
 * not loadable: the message names the path tried), OPENSSL, NOMEM.
 */
KF_RESULT kf_cli_ossl_libctx(const struct kf_cli_args *a, bool need_keyfort, OSSL_LIB_CTX **out);

/** True when @p spec names a token key rather than a file. */
bool kf_cli_ossl_is_uri(const char *spec);

/** Load the private key @p spec names. Errors: BAD_KEY_FILE (context: the spec and OpenSSL's
 *  reason, which for token keys carries the CKR_ name). */
KF_RESULT kf_cli_ossl_load_key(OSSL_LIB_CTX *lib, const char *spec, EVP_PKEY **out);

#endif
