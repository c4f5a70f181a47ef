/* tests/libssl/test_tls_threads.c - libssl with the server key on the token, loaded from a
 * URI-PEM file through SSL_CTX_use_PrivateKey_file (as Postfix smtpd_tls_key_file does):
 * 1,000 TLS 1.3 handshakes over 4 threads, in memory (BIO pairs), none failing, and
 * keyfort's session pool back to idle afterwards. Keys and files are made with the keyfort
 * and openssl commands on a throw-away SoftHSM2 token. */
#include "tests/hsm/token_fixture.h"

#include <criterion/criterion.h>
#include <openssl/err.h>
#include <openssl/provider.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static struct kf_test_token tok;
static char key_pem[512];
static char cert_pem[512];
static OSSL_PROVIDER *prov_default;
static OSSL_PROVIDER *prov_keyfort;

static void run(const char *cmd)
{
    int rc = system(cmd);
    cr_assert(rc != -1 && WIFEXITED(rc) && WEXITSTATUS(rc) == 0, "failed: %s", cmd);
}

static void setup(void)
{
    kf_test_token_setup(&tok, KF_TEST_TOKEN_LABEL);
    setenv("OPENSSL_MODULES", KEYFORT_PROVIDER_DIR, 1);
    char cmd[2048];
    snprintf(cmd, sizeof(cmd),
             "%s key gen --type p256 --label tls --pin-file %s pkcs11:token=%s >/dev/null",
             KEYFORT_BIN, tok.pin_file, KF_TEST_TOKEN_LABEL);
    run(cmd);
    snprintf(key_pem, sizeof(key_pem), "%s/key.pem", tok.dir);
    snprintf(cert_pem, sizeof(cert_pem), "%s/cert.pem", tok.dir);
    snprintf(cmd, sizeof(cmd),
             "%s key pem --pin-file %s 'pkcs11:token=%s;object=tls;type=private?pin-source=%s'"
             " > %s",
             KEYFORT_BIN, tok.pin_file, KF_TEST_TOKEN_LABEL, tok.pin_file, key_pem);
    run(cmd);
    snprintf(cmd, sizeof(cmd),
             "openssl req -provider keyfort -provider default -new -x509 -days 2 -subj "
             "/CN=mx.example-b.test -key 'pkcs11:token=%s;object=tls;type=private?pin-source=%s'"
             " -out %s 2>/dev/null",
             KF_TEST_TOKEN_LABEL, tok.pin_file, cert_pem);
    run(cmd);
    /* keyfort listed first: the harder order for software keys and digests. */
    prov_keyfort = OSSL_PROVIDER_load(NULL, "keyfort");
    prov_default = OSSL_PROVIDER_load(NULL, "default");
    cr_assert_not_null(prov_keyfort, "keyfort.so did not load from %s", KEYFORT_PROVIDER_DIR);
    cr_assert_not_null(prov_default);
}

static void teardown(void)
{
    kf_test_token_teardown(&tok);
}

static SSL_CTX *server_ctx(void)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    cr_assert_not_null(ctx);
    SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
    cr_assert_eq(SSL_CTX_use_certificate_file(ctx, cert_pem, SSL_FILETYPE_PEM), 1);
    /* The key file holds a pkcs11: URI: keyfort.so's decoder turns it into the token key. */
    cr_assert_eq(SSL_CTX_use_PrivateKey_file(ctx, key_pem, SSL_FILETYPE_PEM), 1,
                 "SSL_CTX_use_PrivateKey_file(URI-PEM) failed");
    cr_assert_eq(SSL_CTX_check_private_key(ctx), 1, "certificate and token key do not match");
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF); /* every handshake signs */
    SSL_CTX_set_num_tickets(ctx, 0);
    return ctx;
}

static SSL_CTX *client_ctx(void)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    cr_assert_not_null(ctx);
    cr_assert_eq(SSL_CTX_load_verify_locations(ctx, cert_pem, NULL), 1);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    return ctx;
}

/* One handshake over an in-memory BIO pair; 1 on success (verified peer). */
static int handshake(SSL_CTX *sctx, SSL_CTX *cctx)
{
    SSL *s = SSL_new(sctx);
    SSL *c = SSL_new(cctx);
    BIO *sb = NULL;
    BIO *cb = NULL;
    int ok = 0;
    if (s == NULL || c == NULL || BIO_new_bio_pair(&sb, 0, &cb, 0) != 1) {
        goto out;
    }
    SSL_set_bio(s, sb, sb);
    SSL_set_bio(c, cb, cb);
    SSL_set_accept_state(s);
    SSL_set_connect_state(c);
    SSL_set1_host(c, "mx.example-b.test");
    int sdone = 0;
    int cdone = 0;
    for (int round = 0; round < 64 && !(sdone && cdone); round++) {
        if (!cdone) {
            int r = SSL_do_handshake(c);
            if (r == 1) {
                cdone = 1;
            } else if (SSL_get_error(c, r) != SSL_ERROR_WANT_READ) {
                goto out;
            }
        }
        if (!sdone) {
            int r = SSL_do_handshake(s);
            if (r == 1) {
                sdone = 1;
            } else if (SSL_get_error(s, r) != SSL_ERROR_WANT_READ) {
                goto out;
            }
        }
    }
    ok =
        sdone && cdone && SSL_get_verify_result(c) == X509_V_OK && SSL_version(c) == TLS1_3_VERSION;
out:
    SSL_free(s);
    SSL_free(c);
    return ok;
}

struct worker {
    SSL_CTX *sctx;
    SSL_CTX *cctx;
    int count;
    int ok;
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    for (int i = 0; i < w->count; i++) {
        w->ok += handshake(w->sctx, w->cctx);
    }
    ERR_clear_error();
    return NULL;
}

static uint64_t pool_param(const char *name)
{
    uint64_t v = UINT64_MAX;
    OSSL_PARAM params[] = { OSSL_PARAM_uint64(name, &v), OSSL_PARAM_END };
    cr_assert_eq(OSSL_PROVIDER_get_params(prov_keyfort, params), 1);
    return v;
}

Test(libssl, thousand_handshakes_four_threads, .init = setup, .fini = teardown, .timeout = 600)
{
    SSL_CTX *sctx = server_ctx();
    SSL_CTX *cctx = client_ctx();
    cr_assert_eq(handshake(sctx, cctx), 1, "a single handshake failed");
    enum { THREADS = 4, PER = 250 };
    pthread_t th[THREADS];
    struct worker w[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct worker){ .sctx = sctx, .cctx = cctx, .count = PER };
        cr_assert_eq(pthread_create(&th[i], NULL, worker_main, &w[i]), 0);
    }
    int ok = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        ok += w[i].ok;
    }
    cr_assert_eq(ok, THREADS * PER, "%d of %d handshakes failed", THREADS * PER - ok,
                 THREADS * PER);
    cr_assert_eq(pool_param("keyfort-sessions-in-use"), 0, "sessions still in use");
    cr_assert_eq(pool_param("keyfort-sessions-open"), pool_param("keyfort-sessions-idle"));
    cr_assert_gt(pool_param("keyfort-sessions-open"), 0);
    cr_assert_eq(pool_param("keyfort-sessions-dropped"), 0);
    cr_assert_eq(pool_param("keyfort-logins"), 1, "logged in more than once");
    SSL_CTX_free(sctx);
    SSL_CTX_free(cctx);
}

Test(libssl, forking_server_signs_in_children, .init = setup, .fini = teardown, .timeout = 300)
{
    /* A pre-forking server: the key is loaded once, children handshake (and so sign). */
    SSL_CTX *sctx = server_ctx();
    SSL_CTX *cctx = client_ctx();
    cr_assert_eq(handshake(sctx, cctx), 1);
    pid_t kids[3];
    for (int i = 0; i < 3; i++) {
        kids[i] = fork();
        cr_assert_neq(kids[i], -1);
        if (kids[i] == 0) {
            alarm(120);
            int ok = 0;
            for (int j = 0; j < 20; j++) {
                ok += handshake(sctx, cctx);
            }
            _exit(ok == 20 ? 0 : 1);
        }
    }
    for (int i = 0; i < 3; i++) {
        int status = 0;
        cr_assert_eq(waitpid(kids[i], &status, 0), kids[i]);
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child %d failed", i);
    }
    cr_assert_eq(handshake(sctx, cctx), 1, "the parent no longer handshakes after the children");
    SSL_CTX_free(sctx);
    SSL_CTX_free(cctx);
}
