/* tests/provider/test_remote_token.c - a remote token that restarts (issue 4, acceptance 9).
 *
 * SoftHSM2 is exposed by `p11-kit server` on a unix socket in the test's temp dir, and
 * keyfort.so (loaded into this process through an openssl.cnf) reaches it through
 * p11-kit-client.so. The server is killed mid-run: signatures during the outage must fail
 * cleanly (an error on the queue, no crash: p11-kit's client writes to the dead socket, which
 * raises SIGPIPE, and this process leaves SIGPIPE at its default), and the first signature
 * after the server is back must succeed without reloading anything: keyfort finalises the
 * module, initialises it again, finds the token's slot, logs in and finds the key again. */
#include "tests/provider/ossl_cli.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/provider.h>
#include <openssl/store.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef KF_P11KIT_MODULE_DIR
#error "KF_P11KIT_MODULE_DIR must name p11-kit's module directory (tests/provider/CMakeLists.txt)"
#endif

extern char **environ;

TestSuite(provider_remote, .timeout = 300);

struct p11_server {
    pid_t pid; /* leader of its own process group: the server and its p11-kit-remote child */
    char socket[400];
};

/* Start `p11-kit server` in the foreground for the fixture's token; wait for its socket. */
static void server_up(struct p11_server *s)
{
    remove(s->socket);
    const char *argv[] = {
        "p11-kit", "server", "-f", "-n", s->socket, "-p", kf_test_softhsm_module(), tok.uri, NULL
    };
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    char *const *av;
    memcpy(&av, &(const char *const *){ argv }, sizeof(av));
    int rc = posix_spawnp(&s->pid, "p11-kit", &fa, &attr, av, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    cr_assert_eq(rc, 0, "posix_spawnp p11-kit: %s", strerror(rc));
    struct stat st;
    for (int i = 0; i < 500 && stat(s->socket, &st) != 0; i++) {
        cr_assert_eq(waitpid(s->pid, NULL, WNOHANG), 0, "p11-kit server exited at start");
        usleep(10 * 1000);
    }
    cr_assert_eq(stat(s->socket, &st), 0, "p11-kit server made no socket %s", s->socket);
}

/* Kill the server and every connection process it forked. */
static void server_down(struct p11_server *s)
{
    kill(-s->pid, SIGKILL);
    waitpid(s->pid, NULL, 0);
    usleep(100 * 1000); /* let the connection children go too (they are in the group) */
    remove(s->socket);
}

/* One signature with @p key; true when it was made and verifies with @p pub. */
static bool sign_once(OSSL_LIB_CTX *lib, EVP_PKEY *key, EVP_PKEY *pub)
{
    static const unsigned char msg[] = "remote token, message";
    unsigned char sig[128];
    size_t sig_len = sizeof(sig);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    bool ok = md != NULL && EVP_DigestSignInit_ex(md, NULL, "SHA256", lib, NULL, key, NULL) == 1 &&
              EVP_DigestSign(md, sig, &sig_len, msg, sizeof(msg)) == 1;
    EVP_MD_CTX_free(md);
    if (!ok) {
        return false;
    }
    md = EVP_MD_CTX_new();
    ok = md != NULL && EVP_DigestVerifyInit_ex(md, NULL, "SHA256", NULL, NULL, pub, NULL) == 1 &&
         EVP_DigestVerify(md, sig, sig_len, msg, sizeof(msg)) == 1;
    EVP_MD_CTX_free(md);
    cr_assert(ok, "a signature from the remote token does not verify");
    return true;
}

Test(provider_remote, restart_of_the_server_is_survived, .init = prov_init, .fini = prov_fini)
{
    cr_assert_eq(signal(SIGPIPE, SIG_DFL), SIG_DFL, "the test must run with SIGPIPE at default");
    gen_key("p256", "remote");
    char pub_path[400];
    tmp_path(pub_path, sizeof(pub_path), "remote.pub");
    char local_uri[600];
    key_uri(local_uri, sizeof(local_uri), "remote");
    export_pub(ORDER_DEFAULT_FIRST, local_uri, "remote", pub_path);
    size_t pub_len = 0;
    uint8_t *pub_pem = read_file(pub_path, &pub_len);
    BIO *bio = BIO_new_mem_buf(pub_pem, (int)pub_len);
    EVP_PKEY *pub = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    BIO_free(bio);
    free(pub_pem);
    cr_assert_not_null(pub);

    struct p11_server srv = { 0 };
    tmp_path(srv.socket, sizeof(srv.socket), "p11-kit.sock");
    server_up(&srv);
    char address[512];
    fmt(address, sizeof(address), "unix:path=%s", srv.socket);
    setenv("P11_KIT_SERVER_ADDRESS", address, 1);

    /* keyfort.so through an openssl.cnf, with the p11-kit client as its PKCS#11 module. */
    char module[400];
    fmt(module, sizeof(module), "%s/p11-kit-client.so", KF_P11KIT_MODULE_DIR);
    OSSL_LIB_CTX *lib = kf_test_keyfort_libctx(module, "remote.cnf");
    char uri[600];
    fmt(uri, sizeof(uri), "%s;object=remote;type=private", tok.uri);
    EVP_PKEY *key = kf_test_store_key(lib, uri);
    cr_assert(sign_once(lib, key, pub), "signing through p11-kit server: %s",
              kf_test_keyfort_error());

    /* The outage: every attempt fails with a keyfort error, and the process lives on. */
    server_down(&srv);
    for (int i = 0; i < 3; i++) {
        cr_assert(!sign_once(lib, key, pub), "a signature was made while the server was down");
        const char *why = kf_test_keyfort_error();
        cr_assert_not_null(why, "attempt %d during the outage left no keyfort error", i);
    }

    /* Back: the first attempt succeeds, with the same EVP_PKEY and library context. */
    server_up(&srv);
    bool ok = sign_once(lib, key, pub);
    cr_assert(ok, "the first signature after the restart failed: %s", kf_test_keyfort_error());
    for (int i = 0; i < 5; i++) {
        cr_assert(sign_once(lib, key, pub), "signature %d after the restart failed", i);
    }

    EVP_PKEY_free(key);
    EVP_PKEY_free(pub);
    OSSL_LIB_CTX_free(lib);
    server_down(&srv);
    unsetenv("P11_KIT_SERVER_ADDRESS");
}
