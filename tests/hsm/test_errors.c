/* tests/hsm/test_errors.c - each failure a clear error: wrong PIN (never
 * retried), missing object, two objects under one label, missing token, missing
 * module. */
#include "tests/hsm/token_fixture.h"

#include "hsm/hsm.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct kf_test_token tok;

static void setup(void)
{
    kf_test_token_setup(&tok, KF_TEST_TOKEN_LABEL);
}

static void teardown(void)
{
    kf_test_token_teardown(&tok);
}

static struct kf_hsm_token *open_with(const char *uri_text, const char *pin_file)
{
    struct kf_hsm_uri *uri = NULL;
    cr_assert(kf_ok(kf_hsm_uri_parse(uri_text, &uri)));
    struct kf_hsm_open_opts opts = { .pin_file = pin_file };
    struct kf_hsm_token *t = NULL;
    char msg[600];
    cr_assert(kf_ok(kf_hsm_token_open(uri, &opts, &t)), "%s", kf_err_describe(msg, sizeof(msg)));
    kf_hsm_uri_free(uri);
    return t;
}

static const char *describe(void)
{
    static char msg[1024];
    return kf_err_describe(msg, sizeof(msg));
}

Test(errors, wrong_pin_is_reported_and_not_retried, .init = setup, .fini = teardown)
{
    struct kf_hsm_token *t = open_with(tok.uri, tok.bad_pin_file);
    struct kf_hsm_key *k = NULL;
    kf_result r = kf_hsm_keygen(t, KF_KEY_P256, "x", NULL, 0, &k);
    cr_assert_eq(r.code, KF_ERR_PIN_INCORRECT, "%s", kf_err_name(r.code));
    const char *msg = describe();
    cr_assert(strstr(msg, "CKR_PIN_INCORRECT") != NULL, "%s", msg);
    cr_assert(strstr(msg, KF_TEST_TOKEN_LABEL) != NULL, "%s", msg);
    cr_assert(strstr(msg, "not-the-pin") == NULL, "the PIN leaked: %s", msg);

    /* Further operations fail at once without calling C_Login again. */
    struct kf_hsm_object_info *objs = NULL;
    size_t n = 0;
    for (int i = 0; i < 3; i++) {
        r = kf_hsm_object_list(t, NULL, &objs, &n);
        cr_assert_eq(r.code, KF_ERR_PIN_INCORRECT);
    }
    struct kf_hsm_pool_stats st;
    kf_hsm_token_pool_stats(t, &st);
    cr_assert_eq(st.login_attempts, 1, "C_Login was called %llu times",
                 (unsigned long long)st.login_attempts);
    cr_assert_eq(st.logins, 0);
    cr_assert_eq(st.in_use, 0);
    kf_hsm_token_unref(t);
}

Test(errors, missing_object, .init = setup, .fini = teardown)
{
    struct kf_hsm_token *t = open_with(tok.uri, tok.pin_file);
    struct kf_hsm_uri *uri = NULL;
    cr_assert(kf_ok(kf_hsm_uri_parse("pkcs11:token=keyfort-test;object=nosuchkey", &uri)));
    struct kf_hsm_key *k = NULL;
    kf_result r = kf_hsm_key_find(t, uri, &k);
    cr_assert_eq(r.code, KF_ERR_OBJECT_NOT_FOUND);
    cr_assert(strstr(describe(), "object=nosuchkey") != NULL, "%s", describe());
    kf_hsm_uri_free(uri);
    kf_hsm_token_unref(t);
}

Test(errors, two_objects_one_label, .init = setup, .fini = teardown, .timeout = 60)
{
    /* Make the duplicate with another PKCS#11 client (OpenSC's pkcs11-tool):
     * keyfort itself refuses to create one. */
    for (int i = 1; i <= 2; i++) {
        char cmd[1200];
        snprintf(cmd, sizeof(cmd),
                 "SOFTHSM2_CONF='%s' pkcs11-tool --module '%s' --token-label %s --login "
                 "--pin '%s' --keypairgen --key-type EC:prime256v1 --label twin --id "
                 "0%d "
                 ">/dev/null 2>&1",
                 tok.conf, kf_test_softhsm_module(), KF_TEST_TOKEN_LABEL, KF_TEST_USER_PIN, i);
        cr_assert_eq(system(cmd), 0, "pkcs11-tool failed");
    }
    struct kf_hsm_token *t = open_with(tok.uri, tok.pin_file);
    struct kf_hsm_uri *uri = NULL;
    cr_assert(kf_ok(kf_hsm_uri_parse("pkcs11:object=twin", &uri)));
    struct kf_hsm_key *k = NULL;
    kf_result r = kf_hsm_key_find(t, uri, &k);
    cr_assert_eq(r.code, KF_ERR_OBJECT_AMBIGUOUS, "%s", kf_err_name(r.code));
    cr_assert(strstr(describe(), "matches 2 keys") != NULL, "%s", describe());
    kf_hsm_uri_free(uri);
    /* Naming one of them by id resolves it. */
    cr_assert(kf_ok(kf_hsm_uri_parse("pkcs11:object=twin;id=%02", &uri)));
    cr_assert(kf_ok(kf_hsm_key_find(t, uri, &k)), "%s", describe());
    kf_hsm_key_unref(k);
    kf_hsm_uri_free(uri);
    kf_hsm_token_unref(t);
}

Test(errors, missing_token, .init = setup, .fini = teardown)
{
    struct kf_hsm_uri *uri = NULL;
    cr_assert(kf_ok(kf_hsm_uri_parse("pkcs11:token=no-such-token", &uri)));
    struct kf_hsm_open_opts opts = { .pin_file = tok.pin_file };
    struct kf_hsm_token *t = NULL;
    kf_result r = kf_hsm_token_open(uri, &opts, &t);
    cr_assert_eq(r.code, KF_ERR_TOKEN_NOT_FOUND);
    cr_assert(strstr(describe(), "token=no-such-token") != NULL, "%s", describe());
    cr_assert(strstr(describe(), "libsofthsm2.so") != NULL, "%s", describe());
    kf_hsm_uri_free(uri);
}

Test(errors, two_tokens_one_uri_is_ambiguous, .init = setup, .fini = teardown)
{
    kf_test_token_add(&tok, "second-token");
    struct kf_hsm_uri *uri = NULL;
    cr_assert(kf_ok(kf_hsm_uri_parse("pkcs11:", &uri)));
    struct kf_hsm_token *t = NULL;
    kf_result r = kf_hsm_token_open(uri, NULL, &t);
    cr_assert_eq(r.code, KF_ERR_TOKEN_AMBIGUOUS);
    cr_assert(strstr(describe(), "matches 2 tokens") != NULL, "%s", describe());
    kf_hsm_uri_free(uri);
}

Test(errors, missing_module_file, .init = setup, .fini = teardown)
{
    struct kf_hsm_uri *uri = NULL;
    cr_assert(kf_ok(kf_hsm_uri_parse("pkcs11:token=x?module-path=/nonexistent/libnope.so", &uri)));
    struct kf_hsm_token *t = NULL;
    kf_result r = kf_hsm_token_open(uri, NULL, &t);
    cr_assert_eq(r.code, KF_ERR_MODULE_LOAD);
    cr_assert(strstr(describe(), "/nonexistent/libnope.so") != NULL, "%s", describe());
    cr_assert(strstr(describe(), "No such file") != NULL, "%s", describe());
    kf_hsm_uri_free(uri);
    /* And an unregistered p11-kit name. */
    struct kf_hsm_open_opts opts = { .module = "no-such-p11kit-module" };
    r = kf_hsm_token_open(NULL, &opts, &t);
    cr_assert_eq(r.code, KF_ERR_MODULE_LOAD);
    cr_assert(strstr(describe(), "no-such-p11kit-module") != NULL, "%s", describe());
}

Test(errors, module_by_p11kit_name, .init = setup, .fini = teardown)
{
    /* Debian's softhsm2 registers itself with p11-kit as "softhsm2". */
    struct kf_hsm_uri *uri = NULL;
    cr_assert(kf_ok(kf_hsm_uri_parse("pkcs11:token=keyfort-test?module-name=softhsm2", &uri)));
    struct kf_hsm_token *t = NULL;
    cr_assert(kf_ok(kf_hsm_token_open(uri, NULL, &t)), "%s", describe());
    struct kf_hsm_token_info info;
    cr_assert(kf_ok(kf_hsm_token_get_info(t, &info)));
    cr_assert_str_eq(info.label, KF_TEST_TOKEN_LABEL);
    cr_assert(strstr(info.module_path, "libsofthsm2.so") != NULL);
    kf_hsm_token_unref(t);
    kf_hsm_uri_free(uri);
}

Test(errors, pin_source_in_uri, .init = setup, .fini = teardown)
{
    struct kf_hsm_token *t = open_with(tok.uri_with_pin, NULL);
    cr_assert(kf_hsm_token_has_pin(t));
    struct kf_hsm_key *k = NULL;
    cr_assert(kf_ok(kf_hsm_keygen(t, KF_KEY_ED25519, "via-pin-source", NULL, 0, &k)), "%s",
              describe());
    kf_hsm_key_unref(k);
    kf_hsm_token_unref(t);
    /* A pin-source that does not exist names the file. */
    char text[700];
    snprintf(text, sizeof(text), "pkcs11:token=%s?pin-source=file:%s/absent.pin",
             KF_TEST_TOKEN_LABEL, tok.dir);
    struct kf_hsm_uri *uri = NULL;
    cr_assert(kf_ok(kf_hsm_uri_parse(text, &uri)));
    kf_result r = kf_hsm_token_open(uri, NULL, &t);
    cr_assert_eq(r.code, KF_ERR_FILE_OPEN);
    cr_assert(strstr(describe(), "absent.pin") != NULL, "%s", describe());
    kf_hsm_uri_free(uri);
}

Test(errors, no_pin_means_no_private_keys, .init = setup, .fini = teardown)
{
    /* Another client makes a key pair; this process opens the token with no PIN
     * source. */
    char cmd[1200];
    snprintf(cmd, sizeof(cmd),
             "SOFTHSM2_CONF='%s' pkcs11-tool --module '%s' --token-label %s "
             "--login --pin '%s' "
             "--keypairgen --key-type EC:prime256v1 --label hidden --id 07 "
             ">/dev/null 2>&1",
             tok.conf, kf_test_softhsm_module(), KF_TEST_TOKEN_LABEL, KF_TEST_USER_PIN);
    cr_assert_eq(system(cmd), 0);
    struct kf_hsm_token *t = open_with(tok.uri, NULL);
    cr_assert_not(kf_hsm_token_has_pin(t));
    struct kf_hsm_key *k = NULL;
    kf_result r = kf_hsm_keygen(t, KF_KEY_P256, "nope", NULL, 0, &k);
    cr_assert_eq(r.code, KF_ERR_PIN_REQUIRED);
    struct kf_hsm_uri *uri = NULL;
    cr_assert(kf_ok(kf_hsm_uri_parse("pkcs11:object=hidden;type=private", &uri)));
    r = kf_hsm_key_find(t, uri, &k);
    cr_assert_eq(r.code, KF_ERR_OBJECT_NOT_FOUND);
    cr_assert(strstr(describe(), "not logged in") != NULL, "%s", describe());
    kf_hsm_uri_free(uri);
    /* The public half is visible without login, and usable for its public key. */
    cr_assert(kf_ok(kf_hsm_uri_parse("pkcs11:object=hidden", &uri)));
    cr_assert(kf_ok(kf_hsm_key_find(t, uri, &k)), "%s", describe());
    EVP_PKEY *pub = NULL;
    cr_assert(kf_ok(kf_hsm_key_public(k, &pub)));
    cr_assert_eq(EVP_PKEY_get_bits(pub), 256);
    EVP_PKEY_free(pub);
    kf_hsm_key_unref(k);
    kf_hsm_uri_free(uri);
    kf_hsm_token_unref(t);
}

Test(errors, token_init_refuses_a_short_pin_before_touching_the_token, .init = setup,
     .fini = teardown)
{
    struct kf_secret *so = NULL;
    struct kf_secret *user = NULL;
    cr_assert(kf_ok(kf_secret_from_bytes((const uint8_t *)"so-pin-1234", 11, &so)));
    cr_assert(kf_ok(kf_secret_from_bytes((const uint8_t *)"12", 2, &user)));
    struct kf_hsm_token_info info;
    kf_result r = kf_hsm_token_init(NULL, "short-pin", so, user, &info);
    cr_assert_eq(r.code, KF_ERR_INVALID_ARG, "%s", kf_err_name(r.code));
    cr_assert(strstr(describe(), "user PIN must be") != NULL, "%s", describe());
    /* Nothing was initialised: the free slot is still free, so a good PIN works at once. */
    kf_secret_free(user);
    cr_assert(kf_ok(kf_secret_from_bytes((const uint8_t *)"user-pin-1234", 13, &user)));
    cr_assert(kf_ok(kf_hsm_token_init(NULL, "short-pin", so, user, &info)), "%s", describe());
    cr_assert_str_eq(info.label, "short-pin");
    kf_secret_free(so);
    kf_secret_free(user);
}

Test(errors, delete_needs_a_label_or_id, .init = setup, .fini = teardown)
{
    struct kf_hsm_token *t = open_with(tok.uri, tok.pin_file);
    struct kf_hsm_key *k = NULL;
    cr_assert(kf_ok(kf_hsm_keygen(t, KF_KEY_P256, "keep-me", NULL, 0, &k)));
    kf_hsm_key_unref(k);
    struct kf_hsm_uri *uri = NULL;
    cr_assert(kf_ok(kf_hsm_uri_parse("pkcs11:type=private", &uri)));
    size_t deleted = 99;
    kf_result r = kf_hsm_object_delete(t, uri, &deleted);
    cr_assert_eq(r.code, KF_ERR_INVALID_ARG);
    kf_hsm_uri_free(uri);
    struct kf_hsm_object_info *objs = NULL;
    size_t n = 0;
    cr_assert(kf_ok(kf_hsm_object_list(t, NULL, &objs, &n)));
    cr_assert_eq(n, 2, "the key pair must still be there");
    free(objs);
    kf_hsm_token_unref(t);
}

Test(errors, wiped_pin_cannot_restore_a_lost_login, .init = setup, .fini = teardown)
{
    struct kf_hsm_uri *uri = NULL;
    cr_assert(kf_ok(kf_hsm_uri_parse(tok.uri, &uri)));
    struct kf_hsm_open_opts opts = { .pin_file = tok.pin_file, .no_pin_cache = true };
    struct kf_hsm_token *t = NULL;
    cr_assert(kf_ok(kf_hsm_token_open(uri, &opts, &t)));
    kf_hsm_uri_free(uri);
    struct kf_hsm_key *k = NULL;
    cr_assert(kf_ok(kf_hsm_keygen(t, KF_KEY_ED25519, "once", NULL, 0, &k)), "%s", describe());
    struct kf_hsm_sig_params p = { KF_SIG_EDDSA, KF_DIGEST_NONE, false, KF_DIGEST_NONE, -1 };
    uint8_t sig[64];
    size_t n = 0;
    cr_assert(kf_ok(kf_hsm_sign(k, &p, (const uint8_t *)"m", 1, sig, sizeof(sig), &n)));
    /* Lose the login behind the library's back. */
    cr_assert_eq(kf_hsm_token_functions(t)->C_CloseAllSessions(kf_hsm_token_slot(t)), CKR_OK);
    kf_result r = kf_hsm_sign(k, &p, (const uint8_t *)"m", 1, sig, sizeof(sig), &n);
    cr_assert_eq(r.code, KF_ERR_NOT_LOGGED_IN, "%s: %s", kf_err_name(r.code), describe());
    cr_assert(strstr(describe(), "no_pin_cache") != NULL, "%s", describe());
    kf_hsm_key_unref(k);
    kf_hsm_token_unref(t);
}
