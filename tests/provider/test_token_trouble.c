/* tests/provider/test_token_trouble.c - a token that fails under a running program (issue 4,
 * acceptance 5): its directory removed, or its module finalised by another user of the same
 * module in the process. keyfort.so is loaded into this process through an openssl.cnf; the
 * signature in progress must fail with a keyfort error that names the key's URI and the CKR_
 * code, without a crash, a hang or a PIN in the message. */
#include "tests/provider/ossl_cli.h"

#include <criterion/criterion.h>
#include <dlfcn.h>
#include <openssl/evp.h>
#include <openssl/store.h>
#include <p11-kit/pkcs11.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

TestSuite(provider_trouble, .timeout = 120);

struct loaded {
    OSSL_LIB_CTX *lib;
    EVP_PKEY *key;
};

/* keyfort.so (SoftHSM2 as its module, the fixture's PIN file) and the key labelled @p label. */
static void load_key(const char *label, struct loaded *out)
{
    out->lib = kf_test_keyfort_libctx(kf_test_softhsm_module(), "trouble.cnf");
    char uri[600];
    fmt(uri, sizeof(uri), "%s;object=%s;type=private", tok.uri, label);
    out->key = kf_test_store_key(out->lib, uri);
}

static void unload(struct loaded *l)
{
    EVP_PKEY_free(l->key);
    OSSL_LIB_CTX_free(l->lib);
}

static bool sign_once(const struct loaded *l)
{
    static const unsigned char msg[] = "token trouble";
    unsigned char sig[128];
    size_t sig_len = sizeof(sig);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    bool ok = md != NULL &&
              EVP_DigestSignInit_ex(md, NULL, "SHA256", l->lib, NULL, l->key, NULL) == 1 &&
              EVP_DigestSign(md, sig, &sig_len, msg, sizeof(msg)) == 1;
    EVP_MD_CTX_free(md);
    return ok;
}

/* The failure names the key and a CKR_ code, and no PIN. */
static void expect_failure_naming(const char *label, const char *ckr)
{
    const char *why = kf_test_keyfort_error();
    cr_assert_not_null(why, "no keyfort error on the queue");
    char object[160];
    fmt(object, sizeof(object), "object=%s", label);
    cr_assert_not_null(strstr(why, object), "the error does not name the key: %s", why);
    cr_assert_not_null(strstr(why, ckr), "the error does not name %s: %s", ckr, why);
    cr_assert_null(strstr(why, KF_TEST_USER_PIN), "a PIN is in the error: %s", why);
}

Test(provider_trouble, token_directory_removed_mid_run, .init = prov_init, .fini = prov_fini)
{
    gen_key("p256", "gone");
    struct loaded l;
    load_key("gone", &l);
    cr_assert(sign_once(&l), "signing before the trouble: %s", kf_test_keyfort_error());
    char cmd[600];
    fmt(cmd, sizeof(cmd), "rm -rf '%s/tokens'/*", tok.dir);
    cr_assert_eq(system(cmd), 0);
    /* keyfort signs with session copies of the key and looks at the token object again once
     * a second (hsm/session.c): past that, the key's loss is noticed. */
    usleep(1200 * 1000);
    /* The first failure names what the token said (the stale handle); later ones, which go
     * straight to a search that finds nothing, say that the key is gone. */
    cr_assert(!sign_once(&l), "signed with a key whose token directory is gone");
    expect_failure_naming("gone", "CKR_");
    cr_assert(!sign_once(&l), "signed with a key whose token directory is gone");
    expect_failure_naming("gone", "no longer on the token");
    unload(&l);
}

Test(provider_trouble, module_finalised_by_another_user, .init = prov_init, .fini = prov_fini)
{
    gen_key("p256", "shared");
    struct loaded l;
    load_key("shared", &l);
    cr_assert(sign_once(&l), "signing before the trouble: %s", kf_test_keyfort_error());
    /* Another component of the process with the same module (one copy of a shared object per
     * process) finalises it. */
    void *so = dlopen(kf_test_softhsm_module(), RTLD_NOW | RTLD_NOLOAD);
    cr_assert_not_null(so, "the module is not loaded: %s", dlerror());
    CK_C_GetFunctionList get = (CK_C_GetFunctionList)dlsym(so, "C_GetFunctionList");
    cr_assert_not_null(get);
    CK_FUNCTION_LIST_PTR fl = NULL;
    cr_assert_eq(get(&fl), CKR_OK);
    cr_assert_eq(fl->C_Finalize(NULL), CKR_OK);
    /* The signature in progress fails with that cause ... */
    cr_assert(!sign_once(&l), "signed through a finalised module");
    expect_failure_naming("shared", "CKR_CRYPTOKI_NOT_INITIALIZED");
    /* ... and the next one initialises the module again: the program goes on. */
    cr_assert(sign_once(&l), "no recovery after the module was finalised: %s",
              kf_test_keyfort_error());
    cr_assert(sign_once(&l), "second signature after recovery failed");
    dlclose(so);
    unload(&l);
}
