/* tests/provider/test_engine_baseline.c - peer baseline: the same openssl commands through
 * Debian's engine_pkcs11 (libengine-pkcs11-openssl 0.4.12, libp11) and through keyfort.so, on
 * the same SoftHSM2 token key, so that any difference between the two shows up here.
 *
 * For an RSA-2048 and a P-256 key, each peer runs pkeyutl -sign, req -new -x509, cms -sign and
 * s_server; every output is checked by openssl without either (the default provider only), and
 * both peers must see the public key `keyfort key pub` prints.
 *
 * Configuring the engine with OpenSSL 3.0: an OPENSSL_CONF file in the test's temp dir with an
 * engine section (engine_id = pkcs11, dynamic_path = <ENGINESDIR>/pkcs11.so, MODULE_PATH =
 * kf_test_softhsm_module(), init = 0). Loading the config adds the engine, MODULE_PATH already
 * set, to OpenSSL's engine list; `-engine pkcs11` then finds and initialises that instance.
 * init = 0 defers initialisation (the module load) to `-engine`, so a config that is read but
 * not used touches no token. Without MODULE_PATH, libp11 falls back to p11-kit-proxy.so, which
 * on Debian also finds SoftHSM2 but loads every registered module (OpenSC, p11-kit-trust) too:
 * the config names exactly one. The config is passed as `env OPENSSL_CONF=... openssl ...` so
 * that the test process's own libcrypto never reads it (and never loads the engine itself).
 *
 * Differences observed on Debian 12 (OpenSSL 3.0, engine_pkcs11 0.4.12, SoftHSM 2.6), each
 * asserted below as it is, so a change on either side fails this file:
 *
 *  1. The engine needs `-keyform engine` (pkeyutl, req, cms, s_server): without it openssl 3.0
 *     hands the pkcs11: URI to OSSL_STORE, which has no loader for the scheme ("unregistered
 *     scheme"). keyfort.so registers the pkcs11: store, so the plain URI works.
 *  2. A pin-source file ending in a newline (as `echo PIN > file` writes it, and as the token
 *     fixture writes it): engine_pkcs11 sends the newline as part of the PIN and the token
 *     answers CKR_PIN_INCORRECT; keyfort.so strips the line end and logs in. The commands of
 *     the main cases therefore name a PIN file without a newline, the same one for both peers.
 *  3. Any failed key load through the engine (wrong PIN, no such object) ends, in most runs,
 *     in SIGSEGV at exit (in some, exit 1: a teardown race), inside SoftHSM2's
 *     C_CloseAllSessions called by the engine's finish from OPENSSL_cleanup, after SoftHSM2
 *     has torn its own state down (openssl/openssl#22508). keyfort.so closes its sessions
 *     before that, so the same failure through keyfort is an ordinary exit 1 with a keyfort
 *     error naming the URI. Successful runs exit 0 with both.
 *  4. engine_pkcs11 0.4.12 knows no EdDSA keys, and once an Ed25519 key is on a token it cannot
 *     enumerate that token's private keys at all ("Unable to enumerate private keys"): an RSA
 *     or P-256 key beside it is "not found" (and 3 follows). keyfort.so signs with both.
 *
 * Everything else asked here (PKCS#1 v1.5 and ECDSA over a digest and over the message, X.509
 * and CMS signatures, TLS 1.3 with the token key on the server) works the same on both. */
#include "tests/provider/ossl_cli.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

TestSuite(engine_baseline, .timeout = 120);

enum peer {
    PEER_ENGINE = 0, /* openssl -engine pkcs11 ... -keyform engine */
    PEER_KEYFORT,    /* openssl -provider keyfort -provider default ... */
};

static const char *const peer_name[] = { "engine_pkcs11", "keyfort.so" };

/* Per test process (Criterion forks one per test): filled by baseline_init. */
static char engine_conf_env[460]; /* "OPENSSL_CONF=<temp dir>/engine.cnf" */
static char pin_nonl[400];        /* the user PIN file without its trailing newline */

/* ENGINESDIR of the openssl in PATH, as `openssl version -e` prints it. */
static void engines_dir(char *buf, size_t cap)
{
    struct run r;
    OSSL(&r, ORDER_NONE, "version", "-e");
    expect_ok(&r);
    const char *p = strstr(r.out, "ENGINESDIR: \"");
    cr_assert_not_null(p, "openssl version -e printed: %s", r.out);
    p += strlen("ENGINESDIR: \"");
    size_t n = strcspn(p, "\"");
    fmt(buf, cap, "%.*s", (int)n, p);
    run_free(&r);
}

static void baseline_init(void)
{
    prov_init();
    char dir[300], so[400], conf_path[400], text[1600];
    engines_dir(dir, sizeof(dir));
    fmt(so, sizeof(so), "%s/pkcs11.so", dir);
    /* A missing package is a failure, not a skip (STYLE.md s14; scripts/deps.sh installs it). */
    cr_assert_eq(access(so, R_OK), 0, "%s missing: install libengine-pkcs11-openssl", so);
    tmp_path(conf_path, sizeof(conf_path), "engine.cnf");
    fmt(text, sizeof(text),
        "openssl_conf = openssl_init\n"
        "[openssl_init]\n"
        "engines = engine_sect\n"
        "[engine_sect]\n"
        "pkcs11 = pkcs11_sect\n"
        "[pkcs11_sect]\n"
        "engine_id = pkcs11\n"
        "dynamic_path = %s\n"
        "MODULE_PATH = %s\n"
        "init = 0\n",
        so, kf_test_softhsm_module());
    write_file(conf_path, text, strlen(text));
    fmt(engine_conf_env, sizeof(engine_conf_env), "OPENSSL_CONF=%s", conf_path);

    /* Difference 2: the fixture's PIN file ends in "\n", which the engine would send along. */
    size_t len = 0;
    uint8_t *pin = read_file(tok.pin_file, &len);
    while (len > 0 && (pin[len - 1] == '\n' || pin[len - 1] == '\r')) {
        len--;
    }
    cr_assert_gt(len, 0u, "empty PIN file %s", tok.pin_file);
    tmp_path(pin_nonl, sizeof(pin_nonl), "user.pin.nonl");
    write_file(pin_nonl, pin, len);
    free(pin);
}

/* "openssl CMD" with the token reachable through @p p; for the engine the key options must
 * add "-keyform engine" (args_keyform). */
static void args_peer(struct args *a, enum peer p, const char *cmd)
{
    if (p == PEER_KEYFORT) {
        args_openssl(a, cmd, ORDER_KEYFORT_FIRST);
        return;
    }
    *a = (struct args){ 0 };
    ARGS_ADD_LIST(a, "env", engine_conf_env, "openssl", cmd, "-engine", "pkcs11");
}

/* Difference 1: the engine takes the URI only as an engine key. */
static void args_keyform(struct args *a, enum peer p)
{
    if (p == PEER_ENGINE) {
        ARGS_ADD_LIST(a, "-keyform", "engine");
    }
}

static void uri_for(char *buf, size_t cap, const char *label, const char *pin_file)
{
    fmt(buf, cap, "%s;object=%s;type=private?pin-source=%s", tok.uri, label, pin_file);
}

/* Both files hold the same bytes. */
static void expect_same_file(const char *a_path, const char *b_path, const char *what)
{
    size_t a_len = 0, b_len = 0;
    uint8_t *a = read_file(a_path, &a_len);
    uint8_t *b = read_file(b_path, &b_len);
    cr_assert(a_len == b_len && memcmp(a, b, a_len) == 0, "%s:\n%s\ndiffers from:\n%s", what, a, b);
    free(a);
    free(b);
}

/* A token key "k" of @p type, its URI (PIN file without newline) and its public key as
 * `keyfort key pub` prints it; the peer must export the same public key. */
static void setup_key(enum peer p, const char *type, char *uri, size_t uri_cap, char *pub,
                      size_t pub_cap)
{
    gen_key(type, "k");
    uri_for(uri, uri_cap, "k", pin_nonl);
    tmp_path(pub, pub_cap, "k.pub.pem");
    export_pub(ORDER_KEYFORT_FIRST, uri, "k", pub); /* checked against keyfort key pub */

    char peer_pub[400];
    tmp_path(peer_pub, sizeof(peer_pub), "k.peer.pub.pem");
    struct args a;
    args_peer(&a, p, "pkey");
    if (p == PEER_ENGINE) {
        ARGS_ADD_LIST(&a, "-inform", "engine"); /* pkey's spelling of -keyform */
    }
    ARGS_ADD_LIST(&a, "-in", uri, "-pubout", "-out", peer_pub);
    struct run r;
    run_args(&a, NULL, &r);
    expect_ok(&r);
    expect_same_file(peer_pub, pub, r.what);
    run_free(&r);
}

/* The parameters of one case: arrays, copied into each test process. */
struct peer_case {
    char type[16];     /* keyfort key gen --type */
    char cert_sig[32]; /* the certificate's signature, as x509 -text names it */
    char cms_sig[24];  /* the SignerInfo's signatureAlgorithm, as cms -cmsout -print names it */
    char peer_sig[16]; /* s_client: "Peer signature type: <this>" */
    size_t sig_min;    /* pkeyutl signature size bounds, in bytes */
    size_t sig_max;
    enum peer peer;
};

static struct peer_case peer_cases[] = {
    { "rsa2048", "sha256WithRSAEncryption", "rsaEncryption", "RSA-PSS", 256, 256, PEER_ENGINE },
    { "p256", "ecdsa-with-SHA256", "ecdsa-with-SHA256", "ECDSA", 8, 72, PEER_ENGINE },
    { "rsa2048", "sha256WithRSAEncryption", "rsaEncryption", "RSA-PSS", 256, 256, PEER_KEYFORT },
    { "p256", "ecdsa-with-SHA256", "ecdsa-with-SHA256", "ECDSA", 8, 72, PEER_KEYFORT },
};
#define N_PEER_CASES (sizeof(peer_cases) / sizeof(peer_cases[0]))

/* ---- pkeyutl -sign ------------------------------------------------------------------------ */

/* pkeyutl -verify without either peer; @p rawin: over the message, else over a digest. */
static void verify_sha256(const char *pub, bool rawin, const char *in, const char *sig,
                          bool want_ok)
{
    struct args a;
    args_openssl(&a, "pkeyutl", ORDER_NONE);
    ARGS_ADD_LIST(&a, "-verify", "-pubin", "-inkey", pub, "-in", in, "-sigfile", sig);
    if (rawin) {
        ARGS_ADD_LIST(&a, "-rawin", "-digest", "sha256");
    } else {
        ARGS_ADD_LIST(&a, "-pkeyopt", "digest:sha256");
    }
    struct run r;
    run_args(&a, NULL, &r);
    if (want_ok) {
        expect_ok(&r);
        expect_in(r.out, r.out_len, "Signature Verified Successfully", "stdout", r.what);
    } else {
        expect_refused(&r);
        expect_in(r.out, r.out_len, "Signature Verification Failure", "stdout", r.what);
    }
    run_free(&r);
}

static void peer_sign(const struct peer_case *c, const char *uri, bool rawin, const char *in,
                      const char *sig)
{
    struct args a;
    args_peer(&a, c->peer, "pkeyutl");
    args_keyform(&a, c->peer);
    ARGS_ADD_LIST(&a, "-sign", "-inkey", uri, "-in", in, "-out", sig);
    if (rawin) {
        ARGS_ADD_LIST(&a, "-rawin", "-digest", "sha256");
    } else {
        ARGS_ADD_LIST(&a, "-pkeyopt", "digest:sha256");
    }
    struct run r;
    run_args(&a, NULL, &r);
    expect_ok(&r);
    size_t n = file_size(sig);
    cr_assert(n >= c->sig_min && n <= c->sig_max, "%s: %zu-byte signature", r.what, n);
    run_free(&r);
}

ParameterizedTestParameters(engine_baseline, pkeyutl_sign_verifies_in_software)
{
    return cr_make_param_array(struct peer_case, peer_cases, N_PEER_CASES);
}

ParameterizedTest(struct peer_case *c, engine_baseline, pkeyutl_sign_verifies_in_software,
                  .init = baseline_init, .fini = prov_fini)
{
    char uri[600], pub[400], msg[400], bad_msg[400], dgst[400], bad_dgst[400], sig[400];
    setup_key(c->peer, c->type, uri, sizeof(uri), pub, sizeof(pub));
    tmp_path(msg, sizeof(msg), "msg");
    tmp_path(bad_msg, sizeof(bad_msg), "msg.tampered");
    tmp_path(dgst, sizeof(dgst), "msg.dgst");
    tmp_path(bad_dgst, sizeof(bad_dgst), "msg.dgst.tampered");
    tmp_path(sig, sizeof(sig), "msg.sig");
    write_message(msg);
    write_tampered(msg, bad_msg, 500);
    write_digest(msg, "sha256", dgst);
    write_tampered(dgst, bad_dgst, 3);

    /* A digest computed here: the plain sign operation (RSA PKCS#1 v1.5 / ECDSA). */
    peer_sign(c, uri, false, dgst, sig);
    verify_sha256(pub, false, dgst, sig, true);
    verify_sha256(pub, false, bad_dgst, sig, false);
    /* The whole message: digest-sign, the path X.509, CMS and TLS take. */
    remove(sig);
    peer_sign(c, uri, true, msg, sig);
    verify_sha256(pub, true, msg, sig, true);
    verify_sha256(pub, true, bad_msg, sig, false);
}

/* ---- req -new -x509 ----------------------------------------------------------------------- */

/* A self-signed certificate for the token key through @p c->peer, checked without either: its
 * key is the token's, its signature algorithm is c->cert_sig, and it verifies. */
static void peer_cert(const struct peer_case *c, const char *uri, const char *pub, const char *cert)
{
    struct args a;
    args_peer(&a, c->peer, "req");
    args_keyform(&a, c->peer);
    ARGS_ADD_LIST(&a, "-new", "-x509", "-key", uri, "-subj", "/CN=keyfort engine baseline", "-days",
                  "2", "-out", cert);
    struct run r;
    run_args(&a, NULL, &r);
    expect_ok(&r);
    run_free(&r);

    OSSL(&r, ORDER_NONE, "x509", "-in", cert, "-noout", "-pubkey");
    expect_ok(&r);
    size_t len = 0;
    uint8_t *want = read_file(pub, &len);
    cr_assert(len == r.out_len && memcmp(want, r.out, len) == 0,
              "the certificate's key:\n%s\nis not the token key:\n%s", r.out, want);
    free(want);
    run_free(&r);

    OSSL(&r, ORDER_NONE, "x509", "-in", cert, "-noout", "-text");
    expect_ok(&r);
    char want_alg[80];
    fmt(want_alg, sizeof(want_alg), "Signature Algorithm: %s", c->cert_sig);
    expect_in(r.out, r.out_len, want_alg, "stdout", r.what);
    run_free(&r);

    /* -check_ss_sig: a trust anchor's own signature is not checked otherwise. */
    OSSL(&r, ORDER_NONE, "verify", "-check_ss_sig", "-CAfile", cert, cert);
    expect_ok(&r);
    char ok_line[460];
    fmt(ok_line, sizeof(ok_line), "%s: OK", cert);
    expect_in(r.out, r.out_len, ok_line, "stdout", r.what);
    run_free(&r);
}

ParameterizedTestParameters(engine_baseline, req_x509_verifies_in_software)
{
    return cr_make_param_array(struct peer_case, peer_cases, N_PEER_CASES);
}

ParameterizedTest(struct peer_case *c, engine_baseline, req_x509_verifies_in_software,
                  .init = baseline_init, .fini = prov_fini)
{
    char uri[600], pub[400], cert[400], der[400], bad_der[400], bad_cert[400];
    setup_key(c->peer, c->type, uri, sizeof(uri), pub, sizeof(pub));
    tmp_path(cert, sizeof(cert), "k.crt");
    peer_cert(c, uri, pub, cert);

    /* One bit of the signature flipped: the same check must now fail. */
    tmp_path(der, sizeof(der), "k.crt.der");
    tmp_path(bad_der, sizeof(bad_der), "k.crt.der.tampered");
    tmp_path(bad_cert, sizeof(bad_cert), "k.tampered.crt");
    struct run r;
    OSSL(&r, ORDER_NONE, "x509", "-in", cert, "-outform", "DER", "-out", der);
    expect_ok(&r);
    run_free(&r);
    write_tampered(der, bad_der, file_size(der) - 5); /* inside the signature BIT STRING */
    OSSL(&r, ORDER_NONE, "x509", "-inform", "DER", "-in", bad_der, "-out", bad_cert);
    expect_ok(&r);
    run_free(&r);
    OSSL(&r, ORDER_NONE, "verify", "-check_ss_sig", "-CAfile", bad_cert, bad_cert);
    expect_refused(&r);
    expect_in(r.err, r.err_len, "certificate signature failure", "stderr", r.what);
    run_free(&r);
}

/* ---- cms -sign ---------------------------------------------------------------------------- */

ParameterizedTestParameters(engine_baseline, cms_sign_verifies_in_software)
{
    return cr_make_param_array(struct peer_case, peer_cases, N_PEER_CASES);
}

ParameterizedTest(struct peer_case *c, engine_baseline, cms_sign_verifies_in_software,
                  .init = baseline_init, .fini = prov_fini)
{
    char uri[600], pub[400], cert[400], msg[400], p7[400], bad_p7[400], out[400];
    setup_key(c->peer, c->type, uri, sizeof(uri), pub, sizeof(pub));
    tmp_path(cert, sizeof(cert), "k.crt");
    tmp_path(msg, sizeof(msg), "msg");
    tmp_path(p7, sizeof(p7), "msg.p7");
    tmp_path(bad_p7, sizeof(bad_p7), "msg.p7.tampered");
    tmp_path(out, sizeof(out), "msg.out");
    peer_cert(c, uri, pub, cert);
    write_message(msg);

    struct args a;
    args_peer(&a, c->peer, "cms");
    args_keyform(&a, c->peer);
    ARGS_ADD_LIST(&a, "-sign", "-binary", "-nodetach", "-inkey", uri, "-signer", cert, "-in", msg,
                  "-outform", "DER", "-out", p7);
    struct run r;
    run_args(&a, NULL, &r);
    expect_ok(&r);
    run_free(&r);

    OSSL(&r, ORDER_NONE, "cms", "-cmsout", "-print", "-inform", "DER", "-in", p7);
    expect_ok(&r);
    char want[80];
    fmt(want, sizeof(want), "signatureAlgorithm: \n          algorithm: %s", c->cms_sig);
    expect_in(r.out, r.out_len, want, "stdout", r.what);
    run_free(&r);

    OSSL(&r, ORDER_NONE, "cms", "-verify", "-binary", "-CAfile", cert, "-inform", "DER", "-in", p7,
         "-out", out);
    expect_ok(&r);
    expect_in(r.err, r.err_len, "CMS Verification successful", "stderr", r.what);
    run_free(&r);
    expect_same_file(out, msg, "cms -verify output vs the signed message");

    /* One bit of the signed content flipped: the message digest no longer matches. */
    size_t p7_len = 0, msg_len = 0;
    uint8_t *der = read_file(p7, &p7_len);
    uint8_t *m = read_file(msg, &msg_len);
    const uint8_t *at = memmem(der, p7_len, m, msg_len);
    cr_assert_not_null(at, "the message is not inside the CMS SignedData");
    write_tampered(p7, bad_p7, (size_t)(at - der) + 100);
    free(der);
    free(m);
    OSSL(&r, ORDER_NONE, "cms", "-verify", "-binary", "-CAfile", cert, "-inform", "DER", "-in",
         bad_p7, "-out", out);
    expect_refused(&r);
    expect_in(r.err, r.err_len, "CMS Verification failure", "stderr", r.what);
    run_free(&r);
}

/* ---- s_server ----------------------------------------------------------------------------- */

/* `openssl -engine pkcs11 s_server ... -keyform engine` in the background (server_spawn, with
 * the same files and readiness rules as keyfort's server_start, for server_finish). */
static bool engine_server_start(const char *cert, const char *uri, unsigned port, struct server *s)
{
    char accept[64];
    fmt(accept, sizeof(accept), "127.0.0.1:%u", port);
    struct args a;
    args_peer(&a, PEER_ENGINE, "s_server");
    args_keyform(&a, PEER_ENGINE);
    ARGS_ADD_LIST(&a, "-accept", accept, "-cert", cert, "-key", uri, "-www", "-naccept", "1");
    return server_spawn(&a, s);
}

ParameterizedTestParameters(engine_baseline, s_server_handshake_verifies_in_software)
{
    return cr_make_param_array(struct peer_case, peer_cases, N_PEER_CASES);
}

ParameterizedTest(struct peer_case *c, engine_baseline, s_server_handshake_verifies_in_software,
                  .init = baseline_init, .fini = prov_fini)
{
    char uri[600], pub[400], cert[400], get[400];
    setup_key(c->peer, c->type, uri, sizeof(uri), pub, sizeof(pub));
    tmp_path(cert, sizeof(cert), "k.crt");
    tmp_path(get, sizeof(get), "get.txt");
    peer_cert(c, uri, pub, cert);
    static const char request[] = "GET / HTTP/1.0\r\n\r\n";
    write_file(get, request, sizeof(request) - 1);

    struct server s;
    unsigned port = 0;
    bool started = false;
    for (int attempt = 0; attempt < 5 && !started; attempt++) {
        port = free_port();
        started = c->peer == PEER_ENGINE ? engine_server_start(cert, uri, port, &s)
                                         : server_start(ORDER_KEYFORT_FIRST, cert, uri, port, &s);
    }
    cr_assert(started, "no free port for s_server after 5 attempts");

    /* The client is openssl without either peer: it checks the server's signature itself. */
    char connect[64];
    fmt(connect, sizeof(connect), "127.0.0.1:%u", port);
    struct run r;
    struct args a;
    args_openssl(&a, "s_client", ORDER_NONE);
    ARGS_ADD_LIST(&a, "-connect", connect, "-CAfile", cert, "-verify_return_error", "-ign_eof");
    run_args(&a, get, &r);
    struct run srv;
    server_finish(&s, &srv);
    static const char srv_head[] = "\n[s_server stderr]\n";
    buf_append(&r.err, &r.err_len, srv_head, sizeof(srv_head) - 1);
    buf_append(&r.err, &r.err_len, srv.err, srv.err_len);
    char context[2200];
    fmt(context, sizeof(context), "%s (server via %s: %s)", r.what, peer_name[c->peer], s.what);
    fmt(r.what, sizeof(r.what), "%.1000s", context);
    /* "Verification: OK" alone proves nothing: s_client prints it after a failed handshake. */
    expect_ok(&r);
    expect_in(r.out, r.out_len, "New, TLSv1.3, Cipher is TLS_", "stdout", r.what);
    char sig[80];
    fmt(sig, sizeof(sig), "Peer signature type: %s\n", c->peer_sig);
    expect_in(r.out, r.out_len, sig, "stdout", r.what);
    expect_in(r.out, r.out_len, "Verify return code: 0 (ok)", "stdout", r.what);
    /* The server's -www page arrived over the finished connection. */
    expect_in(r.out, r.out_len, "HTTP/1.0 200 ok", "stdout", r.what);
    run_free(&r);
    expect_ok(&srv);
    run_free(&srv);
}

/* ---- where the peers differ (file comment, 1-4) ------------------------------------------- */

/* Ran by itself and failed (difference 3): the load fails, and in most plain-build runs
 * engine_pkcs11 then kills the process with SIGSEGV at exit; in some runs (seen once in CI on
 * 2026-11-23) the same process exits 1 instead: the crash happens during exit teardown and
 * depends on timing. In the sanitizer build the ASan runtime preloaded into openssl
 * (cmake/kf_test.cmake) turns the crash into exit 1. Asserted: it fails, does not hang, and
 * when a signal ends it, that signal is SIGSEGV. */
static void expect_crash_at_exit(const struct run *r)
{
    cr_assert(!r->timed_out, "%s: still running after %d s, killed", r->what, RUN_DEADLINE_S);
    if (WIFSIGNALED(r->status)) {
        cr_assert_eq(WTERMSIG(r->status), SIGSEGV,
                     "%s: expected engine_pkcs11's SIGSEGV at exit (or exit 1), got signal %d;"
                     " if this changed, update the baseline (file comment, 3); stderr:\n%s",
                     r->what, WTERMSIG(r->status), r->err);
        return;
    }
    cr_assert_neq(WEXITSTATUS(r->status), 0,
                  "%s: a failed key load through the engine exited 0; stderr:\n%s", r->what,
                  r->err);
}

/* pkeyutl -sign over @p dgst through @p p, with or without "-keyform engine". */
static void sign_digest(enum peer p, bool keyform, const char *uri, const char *dgst,
                        const char *sig, struct run *r)
{
    struct args a;
    args_peer(&a, p, "pkeyutl");
    if (keyform) {
        args_keyform(&a, p);
    }
    ARGS_ADD_LIST(&a, "-sign", "-inkey", uri, "-in", dgst, "-out", sig, "-pkeyopt",
                  "digest:sha256");
    run_args(&a, NULL, r);
}

Test(engine_baseline, engine_needs_keyform_engine, .init = baseline_init, .fini = prov_fini)
{
    char uri[600], pub[400], msg[400], dgst[400], sig[400];
    setup_key(PEER_ENGINE, "p256", uri, sizeof(uri), pub, sizeof(pub));
    tmp_path(msg, sizeof(msg), "msg");
    tmp_path(dgst, sizeof(dgst), "msg.dgst");
    tmp_path(sig, sizeof(sig), "msg.sig");
    write_message(msg);
    write_digest(msg, "sha256", dgst);

    /* The engine loaded, but the URI went to OSSL_STORE, which knows no pkcs11: scheme. */
    struct run r;
    sign_digest(PEER_ENGINE, false, uri, dgst, sig, &r);
    expect_refused(&r);
    expect_in(r.err, r.err_len, "unregistered scheme", "stderr", r.what);
    cr_assert_neq(access(sig, F_OK), 0, "%s: wrote a signature", r.what);
    run_free(&r);

    /* The same command line through keyfort.so: the pkcs11: store is keyfort's. */
    sign_digest(PEER_KEYFORT, false, uri, dgst, sig, &r);
    expect_ok(&r);
    run_free(&r);
    verify_sha256(pub, false, dgst, sig, true);
}

Test(engine_baseline, pin_file_with_newline, .init = baseline_init, .fini = prov_fini)
{
    char uri[600], nonl_uri[600], pub[400], msg[400], dgst[400], sig[400];
    setup_key(PEER_ENGINE, "p256", nonl_uri, sizeof(nonl_uri), pub, sizeof(pub));
    uri_for(uri, sizeof(uri), "k", tok.pin_file); /* the fixture's file: PIN + "\n" */
    tmp_path(msg, sizeof(msg), "msg");
    tmp_path(dgst, sizeof(dgst), "msg.dgst");
    tmp_path(sig, sizeof(sig), "msg.sig");
    write_message(msg);
    write_digest(msg, "sha256", dgst);

    struct run r;
    sign_digest(PEER_ENGINE, true, uri, dgst, sig, &r);
    expect_in(r.err, r.err_len, "PIN incorrect", "stderr", r.what);
    expect_crash_at_exit(&r);
    cr_assert_neq(access(sig, F_OK), 0, "%s: wrote a signature", r.what);
    run_free(&r);

    sign_digest(PEER_KEYFORT, false, uri, dgst, sig, &r);
    expect_ok(&r);
    run_free(&r);
    verify_sha256(pub, false, dgst, sig, true);
}

Test(engine_baseline, failed_key_load_exit, .init = baseline_init, .fini = prov_fini)
{
    char uri[600], msg[400], dgst[400], sig[400];
    gen_key("p256", "k");
    uri_for(uri, sizeof(uri), "no-such-key", pin_nonl);
    tmp_path(msg, sizeof(msg), "msg");
    tmp_path(dgst, sizeof(dgst), "msg.dgst");
    tmp_path(sig, sizeof(sig), "msg.sig");
    write_message(msg);
    write_digest(msg, "sha256", dgst);

    struct run r;
    sign_digest(PEER_ENGINE, true, uri, dgst, sig, &r);
    expect_in(r.err, r.err_len, "private key was not found", "stderr", r.what);
    expect_crash_at_exit(&r);
    cr_assert_neq(access(sig, F_OK), 0, "%s: wrote a signature", r.what);
    run_free(&r);

    sign_digest(PEER_KEYFORT, false, uri, dgst, sig, &r);
    expect_refused(&r);
    cr_assert_eq(WEXITSTATUS(r.status), 1, "%s: exit %d", r.what, WEXITSTATUS(r.status));
    expect_keyfort_error(&r, "object=no-such-key");
    cr_assert_neq(access(sig, F_OK), 0, "%s: wrote a signature", r.what);
    run_free(&r);
}

Test(engine_baseline, eddsa_key_on_the_token, .init = baseline_init, .fini = prov_fini)
{
    char uri[600], ed_uri[600], pub[400], ed_pub[400], msg[400], dgst[400], sig[400];
    setup_key(PEER_ENGINE, "p256", uri, sizeof(uri), pub, sizeof(pub)); /* the engine sees it */
    gen_key("ed25519", "e");
    uri_for(ed_uri, sizeof(ed_uri), "e", pin_nonl);
    tmp_path(ed_pub, sizeof(ed_pub), "e.pub.pem");
    export_pub(ORDER_KEYFORT_FIRST, ed_uri, "e", ed_pub);
    tmp_path(msg, sizeof(msg), "msg");
    tmp_path(dgst, sizeof(dgst), "msg.dgst");
    tmp_path(sig, sizeof(sig), "msg.sig");
    write_message(msg);
    write_digest(msg, "sha256", dgst);

    /* The same P-256 key the engine loaded above is now out of its reach. */
    struct run r;
    sign_digest(PEER_ENGINE, true, uri, dgst, sig, &r);
    expect_in(r.err, r.err_len, "Unable to enumerate private keys", "stderr", r.what);
    expect_crash_at_exit(&r);
    cr_assert_neq(access(sig, F_OK), 0, "%s: wrote a signature", r.what);
    run_free(&r);

    sign_digest(PEER_KEYFORT, false, uri, dgst, sig, &r);
    expect_ok(&r);
    run_free(&r);
    verify_sha256(pub, false, dgst, sig, true);

    /* And the Ed25519 key itself, pure EdDSA over the message. */
    remove(sig);
    struct args a;
    args_peer(&a, PEER_KEYFORT, "pkeyutl");
    ARGS_ADD_LIST(&a, "-sign", "-rawin", "-inkey", ed_uri, "-in", msg, "-out", sig);
    run_args(&a, NULL, &r);
    expect_ok(&r);
    run_free(&r);
    OSSL(&r, ORDER_NONE, "pkeyutl", "-verify", "-pubin", "-inkey", ed_pub, "-rawin", "-in", msg,
         "-sigfile", sig);
    expect_ok(&r);
    expect_in(r.out, r.out_len, "Signature Verified Successfully", "stdout", r.what);
    run_free(&r);
}
