/* tests/hsm/token_fixture.h - a throw-away SoftHSM2 token in a temp dir
 * (STYLE.md s14).
 *
 * The token is made with softhsm2-util (the real SoftHSM tool, independent of
 * the code under test). SOFTHSM2_CONF is set for this process, so call it
 * before the first PKCS#11 use, e.g. from a Criterion .init (each Criterion
 * test is its own process). Test PINs live only here. */
#ifndef KF_TESTS_TOKEN_FIXTURE_H
#define KF_TESTS_TOKEN_FIXTURE_H

#include <stdbool.h>

#define KF_TEST_USER_PIN "0000-test-user"
#define KF_TEST_SO_PIN "0000-test-so"
#define KF_TEST_TOKEN_LABEL "keyfort-test"

struct kf_test_token {
    char dir[256];           /* temp dir holding everything below */
    char conf[320];          /* softhsm2.conf */
    char pin_file[320];      /* holds KF_TEST_USER_PIN */
    char so_pin_file[320];   /* holds KF_TEST_SO_PIN */
    char bad_pin_file[320];  /* holds a wrong PIN */
    char uri[512];           /* pkcs11:token=<label> */
    char uri_with_pin[1024]; /* pkcs11:token=<label>?pin-source=<pin_file> */
};

/** Make a temp dir, a SoftHSM config pointing into it, export SOFTHSM2_CONF
 * and, unless
 *  @p label is NULL, initialise one token with that label. Aborts the test on
 * failure. */
void kf_test_token_setup(struct kf_test_token *t, const char *label);
/** Initialise one more token with @p label in the same SoftHSM store. */
void kf_test_token_add(struct kf_test_token *t, const char *label);
/** Remove the temp dir and everything in it. */
void kf_test_token_teardown(struct kf_test_token *t);
/** Path of the SoftHSM2 module on this system. */
const char *kf_test_softhsm_module(void);

#endif
