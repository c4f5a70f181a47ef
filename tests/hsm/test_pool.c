/* tests/hsm/test_pool.c - the session pool: many threads, reuse, recovery from
 * a broken session and from a lost login. */
#include "tests/hsm/token_fixture.h"
#include "tests/hsm/verify_util.h"

#include "hsm/hsm.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static struct kf_test_token tok;
static struct kf_hsm_token *token;
static struct kf_hsm_key *key;

#define POOL_MAX 4

static void setup(void)
{
    kf_test_token_setup(&tok, KF_TEST_TOKEN_LABEL);
    struct kf_hsm_uri *uri = NULL;
    cr_assert(kf_ok(kf_hsm_uri_parse(tok.uri, &uri)));
    struct kf_hsm_open_opts opts = { .pin_file = tok.pin_file, .pool_max = POOL_MAX };
    cr_assert(kf_ok(kf_hsm_token_open(uri, &opts, &token)));
    kf_hsm_uri_free(uri);
    cr_assert(kf_ok(kf_hsm_keygen(token, KF_KEY_P256, "pooled", NULL, 0, &key)));
}

static void teardown(void)
{
    kf_hsm_key_unref(key);
    kf_hsm_token_unref(token);
    kf_test_token_teardown(&tok);
}

#define THREADS 8
#define PER_THREAD 500

struct worker {
    int index;
    int ok;
    int bad;
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    EVP_PKEY *pub = NULL;
    if (!kf_ok(kf_hsm_key_public(key, &pub))) {
        return NULL;
    }
    struct kf_hsm_sig_params p = { KF_SIG_ECDSA, KF_DIGEST_SHA256, false, KF_DIGEST_NONE, -1 };
    for (int i = 0; i < PER_THREAD; i++) {
        uint8_t msg[32];
        snprintf((char *)msg, sizeof(msg), "t%d-m%d", w->index, i);
        uint8_t sig[128];
        size_t sig_len = 0;
        if (kf_ok(kf_hsm_sign(key, &p, msg, sizeof(msg), sig, sizeof(sig), &sig_len)) &&
            kf_test_verify(pub, &p, msg, sizeof(msg), sig, sig_len) == 1) {
            w->ok++;
        } else {
            w->bad++;
        }
    }
    EVP_PKEY_free(pub);
    return NULL;
}

static unsigned live_sessions(CK_FUNCTION_LIST *fl)
{
    unsigned live = 0;
    for (CK_SESSION_HANDLE h = 1; h < 4096; h++) {
        CK_SESSION_INFO info;
        if (fl->C_GetSessionInfo(h, &info) == CKR_OK) {
            live++;
        }
    }
    return live;
}

Test(pool, eight_threads_sign_and_verify, .init = setup, .fini = teardown, .timeout = 240)
{
    pthread_t th[THREADS];
    struct worker w[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct worker){ .index = i };
        cr_assert_eq(pthread_create(&th[i], NULL, worker_main, &w[i]), 0);
    }
    int ok = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        cr_assert_eq(w[i].bad, 0, "thread %d: %d failed signatures", i, w[i].bad);
        ok += w[i].ok;
    }
    cr_assert_eq(ok, THREADS * PER_THREAD);
    struct kf_hsm_pool_stats st;
    kf_hsm_token_pool_stats(token, &st);
    cr_assert_eq(st.in_use, 0, "sessions still in use");
    cr_assert_eq(st.open, st.idle, "open %u != idle %u", st.open, st.idle);
    cr_assert(st.open >= 1 && st.open <= POOL_MAX, "open %u outside 1..%d", st.open, POOL_MAX);
    cr_assert_eq(st.opened_total, st.open, "sessions were opened and lost");
    cr_assert_eq(st.dropped_total, 0);
    cr_assert_eq(st.logins, 1, "logged in %llu times", (unsigned long long)st.logins);

    /* The module agrees: no session exists beyond the pool's (SoftHSM does not fill
     * ulSessionCount, so probe the handles it hands out: small increasing integers). */
    CK_FUNCTION_LIST *fl = kf_hsm_token_functions(token);
    cr_assert_eq(live_sessions(fl), st.open);
    /* And dropping the last reference closes them all. */
    kf_hsm_key_unref(key);
    key = NULL;
    kf_hsm_token_unref(token);
    token = NULL;
    cr_assert_eq(live_sessions(fl), 0, "sessions leaked after the pool was released");
}

static int sign_once(void)
{
    struct kf_hsm_sig_params p = { KF_SIG_ECDSA, KF_DIGEST_SHA256, false, KF_DIGEST_NONE, -1 };
    static const uint8_t msg[] = "recover";
    return kf_test_sign_verify(key, &p, msg, sizeof(msg));
}

Test(pool, broken_session_is_dropped_and_replaced, .init = setup, .fini = teardown)
{
    cr_assert_eq(sign_once(), 1);
    struct kf_hsm_session *s = NULL;
    cr_assert(kf_ok(kf_hsm_session_acquire(token, &s)));
    CK_SESSION_HANDLE h = kf_hsm_session_handle(s);
    kf_hsm_session_release(token, s, (kf_result){ 0 });
    /* Close the pooled session behind the pool's back, as a token reset would. */
    cr_assert_eq(kf_hsm_token_functions(token)->C_CloseSession(h), CKR_OK);
    struct kf_hsm_pool_stats before;
    kf_hsm_token_pool_stats(token, &before);
    cr_assert_eq(sign_once(), 1, "signing after a broken session failed");
    struct kf_hsm_pool_stats after;
    kf_hsm_token_pool_stats(token, &after);
    cr_assert_eq(after.dropped_total, before.dropped_total + 1);
    cr_assert_eq(after.opened_total, before.opened_total + 1);
    cr_assert_eq(after.in_use, 0);
}

Test(pool, relogin_after_logout, .init = setup, .fini = teardown)
{
    cr_assert_eq(sign_once(), 1);
    struct kf_hsm_session *s = NULL;
    cr_assert(kf_ok(kf_hsm_session_acquire(token, &s)));
    /* Log out behind the pool's back: the next C_Sign says
     * CKR_USER_NOT_LOGGED_IN. */
    cr_assert_eq(kf_hsm_token_functions(token)->C_Logout(kf_hsm_session_handle(s)), CKR_OK);
    kf_hsm_session_release(token, s, (kf_result){ 0 });
    cr_assert_eq(sign_once(), 1, "signing after a lost login failed");
    struct kf_hsm_pool_stats st;
    kf_hsm_token_pool_stats(token, &st);
    cr_assert_eq(st.logins, 2);
}

Test(pool, same_token_opened_twice_shares_the_pool, .init = setup, .fini = teardown)
{
    struct kf_hsm_uri *uri = NULL;
    cr_assert(kf_ok(kf_hsm_uri_parse(tok.uri, &uri)));
    struct kf_hsm_token *again = NULL;
    cr_assert(kf_ok(kf_hsm_token_open(uri, NULL, &again)));
    kf_hsm_uri_free(uri);
    cr_assert_eq(again, token);
    kf_hsm_token_unref(again);
}
