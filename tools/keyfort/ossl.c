/* tools/keyfort/ossl.c - library context and key loading for OpenSSL-based commands. */
#include "tools/keyfort/ossl.h"

#include <openssl/conf.h>
#include <openssl/err.h>
#include <openssl/store.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef KEYFORT_PROVIDER_INSTALLED
#define KEYFORT_PROVIDER_INSTALLED ""
#endif
#ifndef KEYFORT_PROVIDER_BUILT
#define KEYFORT_PROVIDER_BUILT ""
#endif

bool kf_cli_ossl_is_uri(const char *spec)
{
    return spec != NULL && strncmp(spec, "pkcs11:", 7) == 0;
}

static const char *ossl_provider_path(void)
{
    const char *env = getenv(KF_CLI_PROVIDER_ENV);
    if (env != NULL && env[0] != '\0') {
        return env;
    }
    if (KEYFORT_PROVIDER_INSTALLED[0] != '\0' && access(KEYFORT_PROVIDER_INSTALLED, R_OK) == 0) {
        return KEYFORT_PROVIDER_INSTALLED;
    }
    return KEYFORT_PROVIDER_BUILT;
}

/* The first OpenSSL error's reason, for a message (the queue is cleared). */
static void ossl_reason(char *out, size_t cap)
{
    unsigned long e = ERR_peek_last_error();
    if (e == 0) {
        (void)snprintf(out, cap, "no detail from OpenSSL");
    } else {
        const char *data = NULL;
        int flags = 0;
        (void)ERR_peek_last_error_data(&data, &flags);
        const char *reason = ERR_reason_error_string(e);
        (void)snprintf(out, cap, "%s%s%s", reason != NULL ? reason : "error",
                       (flags & ERR_TXT_STRING) && data != NULL && data[0] != '\0' ? ": " : "",
                       (flags & ERR_TXT_STRING) && data != NULL ? data : "");
    }
    ERR_clear_error();
}

/* A config value must not break the section it is written into. */
static bool ossl_conf_safe(const char *v)
{
    return v != NULL && strpbrk(v, "\n\r\"$\\") == NULL;
}

kf_result kf_cli_ossl_libctx(const struct kf_cli_args *a, bool need_keyfort, OSSL_LIB_CTX **out)
{
    KF_ENSURE_REF(a);
    KF_ENSURE_REF(out);
    char text[4096];
    int n;
    if (need_keyfort) {
        const char *path = ossl_provider_path();
        if (access(path, R_OK) != 0) {
            kf_err_note_context("keyfort.so not found at '%s' (set %s)", path, KF_CLI_PROVIDER_ENV);
            KF_BAIL(KF_ERR_MODULE_LOAD);
        }
        if (!ossl_conf_safe(path) || (a->module != NULL && !ossl_conf_safe(a->module)) ||
            (a->pin_file != NULL && !ossl_conf_safe(a->pin_file))) {
            return kf_cli_usage_error("a path contains a character OpenSSL configs cannot hold");
        }
        /* The provider's parameters reach it only through a config section, so build one in
         * memory: default first, so software keys and digests stay there. */
        n = snprintf(text, sizeof(text),
                     "openssl_conf = openssl_init\n[openssl_init]\nproviders = provider_sect\n"
                     "[provider_sect]\ndefault = default_sect\nkeyfort = keyfort_sect\n"
                     "[default_sect]\nactivate = 1\n"
                     "[keyfort_sect]\nmodule = %s\nactivate = 1\n%s%s%s%s%s%s",
                     path, a->module != NULL ? "pkcs11-module = " : "",
                     a->module != NULL ? a->module : "", a->module != NULL ? "\n" : "",
                     a->pin_file != NULL ? "pkcs11-pin-source = " : "",
                     a->pin_file != NULL ? a->pin_file : "", a->pin_file != NULL ? "\n" : "");
    } else {
        n = snprintf(text, sizeof(text),
                     "openssl_conf = openssl_init\n[openssl_init]\nproviders = provider_sect\n"
                     "[provider_sect]\ndefault = default_sect\n[default_sect]\nactivate = 1\n");
    }
    KF_ENSURE(n > 0 && (size_t)n < sizeof(text), KF_ERR_TOO_LARGE);
    OSSL_LIB_CTX *lib = OSSL_LIB_CTX_new();
    KF_ENSURE(lib != NULL, KF_ERR_NOMEM);
    CONF *conf = NCONF_new_ex(lib, NULL);
    BIO *bio = BIO_new_mem_buf(text, n);
    long eline = 0;
    bool ok = conf != NULL && bio != NULL && NCONF_load_bio(conf, bio, &eline) == 1 &&
              CONF_modules_load(conf, NULL, 0) == 1;
    BIO_free(bio);
    NCONF_free(conf);
    if (!ok) {
        char why[512];
        ossl_reason(why, sizeof(why));
        OSSL_LIB_CTX_free(lib);
        kf_err_note_context("loading providers%s%s: %s", need_keyfort ? " from " : "",
                            need_keyfort ? ossl_provider_path() : "", why);
        KF_BAIL(KF_ERR_MODULE_LOAD);
    }
    *out = lib;
    return KF_OK;
}

kf_result kf_cli_ossl_load_key(OSSL_LIB_CTX *lib, const char *spec, EVP_PKEY **out)
{
    KF_ENSURE_REF(spec);
    KF_ENSURE_REF(out);
    ERR_clear_error();
    OSSL_STORE_CTX *st = OSSL_STORE_open_ex(spec, lib, NULL, NULL, NULL, NULL, NULL, NULL);
    EVP_PKEY *key = NULL;
    if (st != NULL) {
        (void)OSSL_STORE_expect(st, OSSL_STORE_INFO_PKEY);
        while (key == NULL && !OSSL_STORE_eof(st)) {
            OSSL_STORE_INFO *info = OSSL_STORE_load(st);
            if (info == NULL) {
                if (OSSL_STORE_error(st)) {
                    break;
                }
                continue;
            }
            if (OSSL_STORE_INFO_get_type(info) == OSSL_STORE_INFO_PKEY) {
                key = OSSL_STORE_INFO_get1_PKEY(info);
            }
            OSSL_STORE_INFO_free(info);
        }
        OSSL_STORE_close(st);
    }
    if (key == NULL) {
        char why[512];
        ossl_reason(why, sizeof(why));
        kf_err_note_context("%s: %s", spec, why);
        KF_BAIL(KF_ERR_BAD_KEY_FILE);
    }
    ERR_clear_error();
    *out = key;
    return KF_OK;
}
