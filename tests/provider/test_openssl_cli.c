/* tests/provider/test_openssl_cli.c - keyfort.so driven by the unmodified openssl command.
 *
 * Every case runs with both provider orders ("-provider keyfort -provider default" and the
 * reverse). What the token signs is checked by the default provider alone (openssl without
 * keyfort), against the public key `openssl pkey -pubout` exports, which must be byte for byte
 * what `keyfort key pub` prints. The process rules are in ossl_cli.h. */
#include "tests/provider/ossl_cli.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

TestSuite(provider, .timeout = 120);

/* ---- a. pkeyutl -sign by URI, checked by pkeyutl -verify without keyfort ----------------- */

/* Parameters are copied into each test process: arrays, not pointers. */
struct sign_case {
    char type[16];   /* keyfort key gen --type */
    char digest[16]; /* "": pure EdDSA over the message */
    bool pss;        /* RSA: PSS, else PKCS#1 v1.5 */
    size_t sig_max;  /* largest valid signature, in bytes */
    size_t sig_min;
    enum prov_order order;
};

static struct sign_case sign_cases[] = {
    { "rsa2048", "sha256", false, 256, 256, ORDER_KEYFORT_FIRST },
    { "rsa2048", "sha256", true, 256, 256, ORDER_KEYFORT_FIRST },
    { "p256", "sha256", false, 72, 8, ORDER_KEYFORT_FIRST },
    { "p384", "sha384", false, 104, 8, ORDER_KEYFORT_FIRST },
    { "ed25519", "", false, 64, 64, ORDER_KEYFORT_FIRST },
    { "ed448", "", false, 114, 114, ORDER_KEYFORT_FIRST },
    { "rsa2048", "sha256", false, 256, 256, ORDER_DEFAULT_FIRST },
    { "rsa2048", "sha256", true, 256, 256, ORDER_DEFAULT_FIRST },
    { "p256", "sha256", false, 72, 8, ORDER_DEFAULT_FIRST },
    { "p384", "sha384", false, 104, 8, ORDER_DEFAULT_FIRST },
    { "ed25519", "", false, 64, 64, ORDER_DEFAULT_FIRST },
    { "ed448", "", false, 114, 114, ORDER_DEFAULT_FIRST },
};

ParameterizedTestParameters(provider, pkeyutl_sign_verifies_with_the_exported_key)
{
    return cr_make_param_array(struct sign_case, sign_cases,
                               sizeof(sign_cases) / sizeof(sign_cases[0]));
}

/* The signature options of a case: over the message (-rawin [-digest D]) or over a digest
 * (-pkeyopt digest:D), then the RSA padding. @p dopt holds the -pkeyopt text. */
static void args_sig_opts(struct args *a, const struct sign_case *c, bool rawin, bool pss,
                          char *dopt, size_t dopt_cap)
{
    if (rawin) {
        args_add(a, "-rawin");
        if (c->digest[0] != '\0') {
            ARGS_ADD_LIST(a, "-digest", c->digest);
        }
    } else {
        fmt(dopt, dopt_cap, "digest:%s", c->digest);
        ARGS_ADD_LIST(a, "-pkeyopt", dopt);
    }
    if (pss) {
        ARGS_ADD_LIST(a, "-pkeyopt", "rsa_padding_mode:pss");
    }
}

/* pkeyutl -verify without keyfort; @p want_ok says whether it must verify. */
static void verify_sig(const struct sign_case *c, const char *pub, bool rawin, bool pss,
                       const char *in, const char *sig, bool want_ok)
{
    struct args a;
    args_openssl(&a, "pkeyutl", ORDER_NONE);
    ARGS_ADD_LIST(&a, "-verify", "-pubin", "-inkey", pub, "-in", in, "-sigfile", sig);
    char dopt[64];
    args_sig_opts(&a, c, rawin, pss, dopt, sizeof(dopt));
    struct run r;
    run_args(&a, NULL, &r);
    if (want_ok) {
        expect_ok(&r);
        expect_in(r.out, r.out_len, "Signature Verified Successfully", "stdout", r.what);
    } else {
        expect_refused(&r);
        cr_assert_eq(WEXITSTATUS(r.status), 1, "%s: exit %d; stderr:\n%s", r.what,
                     WEXITSTATUS(r.status), r.err);
        expect_in(r.out, r.out_len, "Signature Verification Failure", "stdout", r.what);
    }
    run_free(&r);
}

/* pkeyutl -sign with keyfort: over the message (@p rawin) or over a digest. */
static void sign_with(const struct sign_case *c, const char *uri, bool rawin, const char *in,
                      const char *sig)
{
    struct args a;
    args_openssl(&a, "pkeyutl", c->order);
    ARGS_ADD_LIST(&a, "-sign", "-inkey", uri, "-in", in, "-out", sig);
    char dopt[64];
    args_sig_opts(&a, c, rawin, c->pss, dopt, sizeof(dopt));
    struct run r;
    run_args(&a, NULL, &r);
    expect_ok(&r);
    size_t n = file_size(sig);
    cr_assert(n >= c->sig_min && n <= c->sig_max, "%s: %zu-byte signature", r.what, n);
    run_free(&r);
}

ParameterizedTest(struct sign_case *c, provider, pkeyutl_sign_verifies_with_the_exported_key,
                  .init = prov_init, .fini = prov_fini)
{
    char uri[600], pub[400], msg[400], bad_msg[400], dgst[400], bad_dgst[400], sig[400];
    gen_key(c->type, "k");
    key_uri(uri, sizeof(uri), "k");
    tmp_path(pub, sizeof(pub), "k.pub.pem");
    tmp_path(msg, sizeof(msg), "msg");
    tmp_path(bad_msg, sizeof(bad_msg), "msg.tampered");
    tmp_path(dgst, sizeof(dgst), "msg.dgst");
    tmp_path(bad_dgst, sizeof(bad_dgst), "msg.dgst.tampered");
    tmp_path(sig, sizeof(sig), "msg.sig");
    export_pub(c->order, uri, "k", pub);
    write_message(msg);
    write_tampered(msg, bad_msg, 500);

    /* The whole message: digest_sign, the path X.509, CMS and TLS take. */
    sign_with(c, uri, true, msg, sig);
    verify_sig(c, pub, true, c->pss, msg, sig, true);
    verify_sig(c, pub, true, c->pss, bad_msg, sig, false);
    if (c->digest[0] != '\0' && strncmp(c->type, "rsa", 3) == 0) {
        /* The padding asked for is the padding made: the other one must not verify. */
        verify_sig(c, pub, true, !c->pss, msg, sig, false);
    }
    if (c->digest[0] == '\0') {
        return; /* pure EdDSA signs messages only */
    }
    /* A digest computed here: the plain sign operation. */
    write_digest(msg, c->digest, dgst);
    write_tampered(dgst, bad_dgst, 3);
    sign_with(c, uri, false, dgst, sig);
    verify_sig(c, pub, false, c->pss, dgst, sig, true);
    verify_sig(c, pub, false, c->pss, bad_dgst, sig, false);
    if (strncmp(c->type, "rsa", 3) == 0) {
        verify_sig(c, pub, false, !c->pss, dgst, sig, false);
    }
}

/* ---- b. req -new -x509 with a token key -------------------------------------------------- */

struct cert_case {
    char type[16];
    char sig_alg[32]; /* as `openssl x509 -text` names the certificate's signature */
    enum prov_order order;
};

static struct cert_case cert_cases[] = {
    { "rsa2048", "sha256WithRSAEncryption", ORDER_KEYFORT_FIRST },
    { "p256", "ecdsa-with-SHA256", ORDER_KEYFORT_FIRST },
    { "ed25519", "ED25519", ORDER_KEYFORT_FIRST },
    { "rsa2048", "sha256WithRSAEncryption", ORDER_DEFAULT_FIRST },
    { "p256", "ecdsa-with-SHA256", ORDER_DEFAULT_FIRST },
    { "ed25519", "ED25519", ORDER_DEFAULT_FIRST },
};

ParameterizedTestParameters(provider, req_x509_self_signed_verifies)
{
    return cr_make_param_array(struct cert_case, cert_cases,
                               sizeof(cert_cases) / sizeof(cert_cases[0]));
}

/* A self-signed certificate for the token key "k"; its public key is the token's. */
static void make_cert(enum prov_order order, const char *uri, const char *pub, const char *cert)
{
    struct run r;
    OSSL(&r, order, "req", "-new", "-x509", "-key", uri, "-subj", "/CN=keyfort provider test",
         "-days", "2", "-out", cert);
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
}

/* openssl verify without keyfort. -check_ss_sig: a trust anchor's own signature is not
 * checked otherwise, and a certificate with a broken signature would pass. */
static void verify_cert(const char *cert, bool want_ok)
{
    struct run r;
    OSSL(&r, ORDER_NONE, "verify", "-check_ss_sig", "-CAfile", cert, cert);
    if (want_ok) {
        expect_ok(&r);
        char want[460];
        fmt(want, sizeof(want), "%s: OK", cert);
        expect_in(r.out, r.out_len, want, "stdout", r.what);
    } else {
        expect_refused(&r);
        expect_in(r.err, r.err_len, "certificate signature failure", "stderr", r.what);
    }
    run_free(&r);
}

ParameterizedTest(struct cert_case *c, provider, req_x509_self_signed_verifies, .init = prov_init,
                  .fini = prov_fini)
{
    char uri[600], pub[400], cert[400], der[400], bad_der[400], bad_cert[400];
    gen_key(c->type, "k");
    key_uri(uri, sizeof(uri), "k");
    tmp_path(pub, sizeof(pub), "k.pub.pem");
    tmp_path(cert, sizeof(cert), "k.crt");
    export_pub(c->order, uri, "k", pub);
    make_cert(c->order, uri, pub, cert);

    struct run r;
    OSSL(&r, ORDER_NONE, "x509", "-in", cert, "-noout", "-text");
    expect_ok(&r);
    char want[120];
    fmt(want, sizeof(want), "Signature Algorithm: %s", c->sig_alg);
    expect_in(r.out, r.out_len, want, "stdout", r.what);
    run_free(&r);

    verify_cert(cert, true);

    /* The same certificate with one bit of its signature flipped must not verify. */
    tmp_path(der, sizeof(der), "k.crt.der");
    tmp_path(bad_der, sizeof(bad_der), "k.crt.der.tampered");
    tmp_path(bad_cert, sizeof(bad_cert), "k.tampered.crt");
    OSSL(&r, ORDER_NONE, "x509", "-in", cert, "-outform", "DER", "-out", der);
    expect_ok(&r);
    run_free(&r);
    write_tampered(der, bad_der, file_size(der) - 5); /* inside the signature BIT STRING */
    OSSL(&r, ORDER_NONE, "x509", "-inform", "DER", "-in", bad_der, "-out", bad_cert);
    expect_ok(&r);
    run_free(&r);
    verify_cert(bad_cert, false);
}

/* ---- c. CMS signing with a token key ----------------------------------------------------- */

struct cms_case {
    char type[16];
    bool pss;         /* -keyopt rsa_padding_mode:pss */
    char sig_alg[24]; /* the SignerInfo's signatureAlgorithm, as cms -cmsout -print names it */
    enum prov_order order;
};

static struct cms_case cms_cases[] = {
    { "rsa2048", false, "rsaEncryption", ORDER_KEYFORT_FIRST },
    { "rsa2048", true, "rsassaPss", ORDER_KEYFORT_FIRST },
    { "p256", false, "ecdsa-with-SHA256", ORDER_KEYFORT_FIRST },
    { "rsa2048", false, "rsaEncryption", ORDER_DEFAULT_FIRST },
    { "rsa2048", true, "rsassaPss", ORDER_DEFAULT_FIRST },
    { "p256", false, "ecdsa-with-SHA256", ORDER_DEFAULT_FIRST },
};

ParameterizedTestParameters(provider, cms_sign_verifies_and_returns_the_message)
{
    return cr_make_param_array(struct cms_case, cms_cases,
                               sizeof(cms_cases) / sizeof(cms_cases[0]));
}

ParameterizedTest(struct cms_case *c, provider, cms_sign_verifies_and_returns_the_message,
                  .init = prov_init, .fini = prov_fini)
{
    char uri[600], pub[400], cert[400], msg[400], p7[400], bad_p7[400], out[400];
    gen_key(c->type, "k");
    key_uri(uri, sizeof(uri), "k");
    tmp_path(pub, sizeof(pub), "k.pub.pem");
    tmp_path(cert, sizeof(cert), "k.crt");
    tmp_path(msg, sizeof(msg), "msg");
    tmp_path(p7, sizeof(p7), "msg.p7");
    tmp_path(bad_p7, sizeof(bad_p7), "msg.p7.tampered");
    tmp_path(out, sizeof(out), "msg.out");
    export_pub(c->order, uri, "k", pub);
    make_cert(c->order, uri, pub, cert);
    write_message(msg);

    struct args a;
    args_openssl(&a, "cms", c->order);
    ARGS_ADD_LIST(&a, "-sign", "-binary", "-nodetach", "-inkey", uri, "-signer", cert, "-in", msg,
                  "-outform", "DER", "-out", p7);
    if (c->pss) {
        ARGS_ADD_LIST(&a, "-keyopt", "rsa_padding_mode:pss");
    }
    struct run r;
    run_args(&a, NULL, &r);
    expect_ok(&r);
    run_free(&r);

    OSSL(&r, ORDER_NONE, "cms", "-cmsout", "-print", "-inform", "DER", "-in", p7);
    expect_ok(&r);
    char want[80];
    fmt(want, sizeof(want), "signatureAlgorithm: \n          algorithm: %s", c->sig_alg);
    expect_in(r.out, r.out_len, want, "stdout", r.what);
    run_free(&r);

    OSSL(&r, ORDER_NONE, "cms", "-verify", "-binary", "-CAfile", cert, "-inform", "DER", "-in", p7,
         "-out", out);
    expect_ok(&r);
    expect_in(r.err, r.err_len, "CMS Verification successful", "stderr", r.what);
    run_free(&r);
    size_t msg_len = 0, out_len = 0;
    uint8_t *m = read_file(msg, &msg_len);
    uint8_t *o = read_file(out, &out_len);
    cr_assert(msg_len == out_len && memcmp(m, o, msg_len) == 0,
              "cms -verify returned %zu bytes, not the %zu-byte message", out_len, msg_len);

    /* One bit of the signed content flipped: the message digest no longer matches. */
    size_t p7_len = 0;
    uint8_t *der = read_file(p7, &p7_len);
    const uint8_t *at = memmem(der, p7_len, m, msg_len);
    cr_assert_not_null(at, "the message is not inside the CMS SignedData");
    write_tampered(p7, bad_p7, (size_t)(at - der) + 100);
    free(der);
    free(m);
    free(o);
    OSSL(&r, ORDER_NONE, "cms", "-verify", "-binary", "-CAfile", cert, "-inform", "DER", "-in",
         bad_p7, "-out", out);
    expect_refused(&r);
    expect_in(r.err, r.err_len, "CMS Verification failure", "stderr", r.what);
    run_free(&r);
}

/* ---- d. TLS with s_server -key URI ------------------------------------------------------- */

struct tls_case {
    char type[16];
    char client_opts[3][16]; /* extra s_client options; "" ends the list */
    char new_line[48];       /* s_client: "New, <protocol>, Cipher is <suite prefix>" */
    char peer_sig[16];       /* s_client: "Peer signature type: <this>" */
    enum prov_order order;
    /* The ECDHE cases: the client loads the providers in the same order as the server (so both
     * sides make their ephemeral keys through keyfort's keymgmt when it is first), and
     * s_client must report this "Server Temp Key:". "" = neither. */
    char temp_key[40];
};

static struct tls_case tls_cases[] = {
    { "rsa2048", { "" }, "New, TLSv1.3, Cipher is TLS_", "RSA-PSS", ORDER_KEYFORT_FIRST, "" },
    { "p256", { "" }, "New, TLSv1.3, Cipher is TLS_", "ECDSA", ORDER_KEYFORT_FIRST, "" },
    { "ed25519", { "" }, "New, TLSv1.3, Cipher is TLS_", "ed25519", ORDER_KEYFORT_FIRST, "" },
    { "rsa2048",
      { "-tls1_2" },
      "New, TLSv1.2, Cipher is ECDHE-RSA-",
      "RSA-PSS",
      ORDER_KEYFORT_FIRST,
      "" },
    { "rsa2048",
      { "-tls1_2", "-sigalgs", "RSA+SHA256" },
      "New, TLSv1.2, Cipher is ECDHE-RSA-",
      "RSA",
      ORDER_KEYFORT_FIRST,
      "" },
    /* With keyfort first, libssl keeps the NIST groups only because keyfort announces them
     * (provider/caps.c); an ECDSA certificate needs one in TLS 1.2. */
    { "p256",
      { "-tls1_2" },
      "New, TLSv1.2, Cipher is ECDHE-ECDSA-",
      "ECDSA",
      ORDER_KEYFORT_FIRST,
      "" },
    { "p256",
      { "-tls1_2", "-groups", "P-256" },
      "New, TLSv1.2, Cipher is ECDHE-ECDSA-",
      "ECDSA",
      ORDER_KEYFORT_FIRST,
      "ECDH, prime256v1, 256 bits" },
    { "rsa2048",
      { "-groups", "P-384" },
      "New, TLSv1.3, Cipher is TLS_",
      "RSA-PSS",
      ORDER_KEYFORT_FIRST,
      "ECDH, secp384r1, 384 bits" },
    { "rsa2048", { "" }, "New, TLSv1.3, Cipher is TLS_", "RSA-PSS", ORDER_DEFAULT_FIRST, "" },
    { "p256", { "" }, "New, TLSv1.3, Cipher is TLS_", "ECDSA", ORDER_DEFAULT_FIRST, "" },
    { "ed25519", { "" }, "New, TLSv1.3, Cipher is TLS_", "ed25519", ORDER_DEFAULT_FIRST, "" },
    { "rsa2048",
      { "-tls1_2" },
      "New, TLSv1.2, Cipher is ECDHE-RSA-",
      "RSA-PSS",
      ORDER_DEFAULT_FIRST,
      "" },
    { "rsa2048",
      { "-tls1_2", "-sigalgs", "RSA+SHA256" },
      "New, TLSv1.2, Cipher is ECDHE-RSA-",
      "RSA",
      ORDER_DEFAULT_FIRST,
      "" },
    { "p256",
      { "-tls1_2" },
      "New, TLSv1.2, Cipher is ECDHE-ECDSA-",
      "ECDSA",
      ORDER_DEFAULT_FIRST,
      "" },
    { "p256",
      { "-tls1_2", "-groups", "P-256" },
      "New, TLSv1.2, Cipher is ECDHE-ECDSA-",
      "ECDSA",
      ORDER_DEFAULT_FIRST,
      "ECDH, prime256v1, 256 bits" },
    { "rsa2048",
      { "-groups", "P-384" },
      "New, TLSv1.3, Cipher is TLS_",
      "RSA-PSS",
      ORDER_DEFAULT_FIRST,
      "ECDH, secp384r1, 384 bits" },
};

ParameterizedTestParameters(provider, tls_handshake_with_a_token_key)
{
    return cr_make_param_array(struct tls_case, tls_cases,
                               sizeof(tls_cases) / sizeof(tls_cases[0]));
}

ParameterizedTest(struct tls_case *c, provider, tls_handshake_with_a_token_key, .init = prov_init,
                  .fini = prov_fini)
{
    char uri[600], pub[400], cert[400], get[400];
    gen_key(c->type, "k");
    key_uri(uri, sizeof(uri), "k");
    tmp_path(pub, sizeof(pub), "k.pub.pem");
    tmp_path(cert, sizeof(cert), "k.crt");
    tmp_path(get, sizeof(get), "get.txt");
    export_pub(c->order, uri, "k", pub);
    make_cert(c->order, uri, pub, cert);
    static const char request[] = "GET / HTTP/1.0\r\n\r\n";
    write_file(get, request, sizeof(request) - 1);

    struct server s;
    unsigned port = 0;
    bool started = false;
    for (int attempt = 0; attempt < 5 && !started; attempt++) {
        port = free_port();
        started = server_start(c->order, cert, uri, port, &s);
    }
    cr_assert(started, "no free port for s_server after 5 attempts");

    char connect[64];
    fmt(connect, sizeof(connect), "127.0.0.1:%u", port);
    struct args a;
    args_openssl(&a, "s_client", c->temp_key[0] != '\0' ? c->order : ORDER_NONE);
    ARGS_ADD_LIST(&a, "-connect", connect, "-CAfile", cert, "-verify_return_error", "-ign_eof");
    for (size_t i = 0; i < 3 && c->client_opts[i][0] != '\0'; i++) {
        args_add(&a, c->client_opts[i]);
    }
    struct run r;
    run_args(&a, get, &r);
    struct run srv;
    server_finish(&s, &srv);
    /* The client's failure messages carry the server's side too. */
    static const char srv_head[] = "\n[s_server stderr]\n";
    buf_append(&r.err, &r.err_len, srv_head, sizeof(srv_head) - 1);
    buf_append(&r.err, &r.err_len, srv.err, srv.err_len);
    char context[2200];
    fmt(context, sizeof(context), "%s (server: %s)", r.what, s.what);
    fmt(r.what, sizeof(r.what), "%.1000s", context);
    /* "Verification: OK" alone proves nothing: s_client prints it after a failed handshake. */
    expect_ok(&r);
    expect_in(r.out, r.out_len, c->new_line, "stdout", r.what);
    char sig[80];
    fmt(sig, sizeof(sig), "Peer signature type: %s\n", c->peer_sig);
    expect_in(r.out, r.out_len, sig, "stdout", r.what);
    if (c->temp_key[0] != '\0') {
        char temp[80];
        fmt(temp, sizeof(temp), "Server Temp Key: %s\n", c->temp_key);
        expect_in(r.out, r.out_len, temp, "stdout", r.what);
    }
    expect_in(r.out, r.out_len, "Verification: OK", "stdout", r.what);
    expect_in(r.out, r.out_len, "Verify return code: 0 (ok)", "stdout", r.what);
    /* The server's -www page arrived over the finished connection. */
    expect_in(r.out, r.out_len, "HTTP/1.0 200 ok", "stdout", r.what);
    run_free(&r);
    expect_ok(&srv);
    run_free(&srv);
}

/* ---- e. bad input ------------------------------------------------------------------------ */

static enum prov_order order_cases[] = { ORDER_KEYFORT_FIRST, ORDER_DEFAULT_FIRST };

ParameterizedTestParameters(provider, bad_uri_and_pin_fail_cleanly)
{
    return cr_make_param_array(enum prov_order, order_cases,
                               sizeof(order_cases) / sizeof(order_cases[0]));
}

ParameterizedTest(enum prov_order *order, provider, bad_uri_and_pin_fail_cleanly, .init = prov_init,
                  .fini = prov_fini)
{
    char uri[600], msg[400], sig[400], dgst[400];
    gen_key("p256", "k");
    tmp_path(msg, sizeof(msg), "msg");
    tmp_path(dgst, sizeof(dgst), "msg.dgst");
    tmp_path(sig, sizeof(sig), "msg.sig");
    write_message(msg);
    write_digest(msg, "sha256", dgst);

    /* A key that is not there: the error names it. */
    key_uri(uri, sizeof(uri), "no-such-key");
    struct run r;
    OSSL(&r, *order, "pkeyutl", "-sign", "-inkey", uri, "-in", dgst, "-out", sig);
    expect_refused(&r);
    expect_keyfort_error(&r, "object=no-such-key");
    run_free(&r);
    OSSL(&r, *order, "pkey", "-in", uri, "-pubout");
    expect_refused(&r);
    expect_keyfort_error(&r, "object=no-such-key");
    cr_assert(!has_bytes(r.out, r.out_len, "BEGIN"), "%s: wrote a key: %s", r.what, r.out);
    run_free(&r);

    /* The wrong PIN: the token's answer comes through, and no signature is made. */
    fmt(uri, sizeof(uri), "%s;object=k;type=private?pin-source=%s", tok.uri, tok.bad_pin_file);
    OSSL(&r, *order, "pkeyutl", "-sign", "-inkey", uri, "-in", dgst, "-out", sig);
    expect_refused(&r);
    expect_keyfort_error(&r, "CKR_PIN_INCORRECT");
    size_t bad_len = 0;
    char *bad = (char *)read_file(tok.bad_pin_file, &bad_len);
    bad[strcspn(bad, "\n")] = '\0'; /* the wrong PIN is a PIN too: not echoed either */
    cr_assert(!has_bytes(r.out, r.out_len, bad) && !has_bytes(r.err, r.err_len, bad),
              "%s: the PIN tried is in the output", r.what);
    free(bad);
    run_free(&r);
    cr_assert_neq(access(sig, F_OK), 0, "a signature file exists after a failed login");
}

/* ---- PIN sources and URI forms, as docs/provider.md states them -------------------------- */

/* A config that loads both providers (in @p order) and sets keyfort's parameters. */
static void write_config(const char *path, enum prov_order order, const char *pin_source,
                         const char *pool_size)
{
    char text[2048];
    char pin_line[400] = "";
    if (pin_source != NULL) {
        fmt(pin_line, sizeof(pin_line), "pkcs11-pin-source = %s\n", pin_source);
    }
    const char *first = order == ORDER_KEYFORT_FIRST ? "keyfort" : "default";
    const char *second = order == ORDER_KEYFORT_FIRST ? "default" : "keyfort";
    fmt(text, sizeof(text),
        "openssl_conf = openssl_init\n"
        "[openssl_init]\n"
        "providers = provider_sect\n"
        "[provider_sect]\n"
        "%s = %s_sect\n"
        "%s = %s_sect\n"
        "[default_sect]\n"
        "activate = 1\n"
        "[keyfort_sect]\n"
        "module = %s/keyfort.so\n"
        "pkcs11-module = %s\n"
        "%s"
        "pkcs11-pool-size = %s\n"
        "activate = 1\n",
        first, first, second, second, KEYFORT_PROVIDER_DIR, kf_test_softhsm_module(), pin_line,
        pool_size);
    write_file(path, text, strlen(text));
}

/* Sign msg with the config in OPENSSL_CONF (no -provider options), -passin @p passin if set. */
static void sign_by_config(const char *uri, const char *passin, const char *msg, const char *sig,
                           struct run *r)
{
    struct args a;
    args_openssl(&a, "pkeyutl", ORDER_NONE);
    ARGS_ADD_LIST(&a, "-sign", "-inkey", uri, "-rawin", "-digest", "sha256", "-in", msg, "-out",
                  sig);
    if (passin != NULL) {
        args_add(&a, "-passin");
        args_add(&a, passin);
    }
    run_args(&a, NULL, r);
}

static void verify_sha256(const char *pub, const char *msg, const char *sig)
{
    struct run r;
    OSSL(&r, ORDER_NONE, "pkeyutl", "-verify", "-pubin", "-inkey", pub, "-rawin", "-digest",
         "sha256", "-in", msg, "-sigfile", sig);
    expect_ok(&r);
    expect_in(r.out, r.out_len, "Signature Verified Successfully", "stdout", r.what);
    run_free(&r);
}

ParameterizedTestParameters(provider, config_file_and_pin_source_order)
{
    return cr_make_param_array(enum prov_order, order_cases,
                               sizeof(order_cases) / sizeof(order_cases[0]));
}

ParameterizedTest(enum prov_order *order, provider, config_file_and_pin_source_order,
                  .init = prov_init, .fini = prov_fini)
{
    char uri[600], pin_uri[600], pub[400], msg[400], sig[400], cnf[400], passin[400];
    gen_key("p256", "k");
    key_uri(pin_uri, sizeof(pin_uri), "k");
    fmt(uri, sizeof(uri), "%s;object=k;type=private", tok.uri);
    tmp_path(pub, sizeof(pub), "k.pub.pem");
    tmp_path(msg, sizeof(msg), "msg");
    tmp_path(sig, sizeof(sig), "msg.sig");
    tmp_path(cnf, sizeof(cnf), "openssl.cnf");
    fmt(passin, sizeof(passin), "file:%s", tok.pin_file);
    export_pub(*order, pin_uri, "k", pub);
    write_message(msg);
    /* The module comes from pkcs11-module in the config: the default would not load. */
    setenv("KEYFORT_PKCS11_MODULE", "/nonexistent/libpkcs11.so", 1);
    setenv("OPENSSL_CONF", cnf, 1);

    /* 1. pkcs11-pin-source from the config. */
    write_config(cnf, *order, tok.pin_file, "2");
    struct run r;
    sign_by_config(uri, NULL, msg, sig, &r);
    expect_ok(&r);
    run_free(&r);
    verify_sha256(pub, msg, sig);

    /* 2. The URI's pin-source comes before the config's. */
    write_config(cnf, *order, tok.bad_pin_file, "2");
    sign_by_config(pin_uri, NULL, msg, sig, &r);
    expect_ok(&r);
    run_free(&r);
    verify_sha256(pub, msg, sig);

    /* 3. The config's comes before OpenSSL's password callback (-passin)... */
    sign_by_config(uri, passin, msg, sig, &r);
    expect_refused(&r);
    expect_keyfort_error(&r, "CKR_PIN_INCORRECT");
    run_free(&r);

    /* 4. ...which is asked when neither the URI nor the config gives a PIN. */
    write_config(cnf, *order, NULL, "2");
    sign_by_config(uri, passin, msg, sig, &r);
    expect_ok(&r);
    run_free(&r);
    verify_sha256(pub, msg, sig);

    /* A pool size outside 1..1024 is a configuration error: keyfort does not load. */
    write_config(cnf, *order, tok.pin_file, "0");
    sign_by_config(uri, NULL, msg, sig, &r);
    expect_refused(&r);
    run_free(&r);
}

ParameterizedTestParameters(provider, uri_forms_name_the_same_key)
{
    return cr_make_param_array(enum prov_order, order_cases,
                               sizeof(order_cases) / sizeof(order_cases[0]));
}

ParameterizedTest(enum prov_order *order, provider, uri_forms_name_the_same_key, .init = prov_init,
                  .fini = prov_fini)
{
    char uri[600], pub[400], msg[400], sig[400];
    gen_key("ed25519", "k");
    gen_key("ed25519", "other"); /* so that a URI naming no key would be ambiguous */
    key_uri(uri, sizeof(uri), "k");
    tmp_path(pub, sizeof(pub), "k.pub.pem");
    tmp_path(msg, sizeof(msg), "msg");
    tmp_path(sig, sizeof(sig), "msg.sig");
    export_pub(*order, uri, "k", pub);
    write_message(msg);

    /* The key's full URI as `keyfort key list` prints it (token, serial, id, object, type). */
    struct run r;
    char listed[600];
    fmt(listed, sizeof(listed), "%s;object=k;type=private", tok.uri);
    KEYFORT(&r, "key", "list", "--pin-file", tok.pin_file, listed);
    expect_ok(&r);
    const char *p = strstr(r.out, "pkcs11:");
    cr_assert_not_null(p, "key list printed no URI: %s", r.out);
    size_t n = strcspn(p, " \n");
    cr_assert_lt(n, (size_t)400);
    char full[400];
    memcpy(full, p, n);
    full[n] = '\0';
    run_free(&r);
    cr_assert_not_null(strstr(full, ";id=%"), "no id in %s", full);

    /* A public key needs no PIN (-pubin; an empty -passin answers the PIN prompt). */
    char pub_uri[600];
    fmt(pub_uri, sizeof(pub_uri), "%s;object=k;type=public", tok.uri);
    OSSL(&r, *order, "pkey", "-pubin", "-in", pub_uri, "-pubout", "-passin", "pass:");
    expect_ok(&r);
    size_t pub_len = 0;
    uint8_t *want = read_file(pub, &pub_len);
    cr_assert(pub_len == r.out_len && memcmp(want, r.out, pub_len) == 0,
              "%s printed:\n%s\nnot the key's public key:\n%s", r.what, r.out, want);
    free(want);
    run_free(&r);

    char forms[3][1200];
    /* object= plus type=, pin-value (on the command line: tests only) */
    fmt(forms[0], sizeof(forms[0]), "%s;object=k;type=private?pin-value=%s", tok.uri,
        KF_TEST_USER_PIN);
    /* id= alone (no label), module-path= and pin-source= */
    const char *id = strstr(full, ";id=") + 1;
    size_t id_len = strcspn(id, ";?");
    fmt(forms[1], sizeof(forms[1]), "%s;%.*s?module-path=%s&pin-source=%s", tok.uri, (int)id_len,
        id, kf_test_softhsm_module(), tok.pin_file);
    /* everything keyfort printed, pin-source as a file: URI */
    fmt(forms[2], sizeof(forms[2]), "%s?pin-source=file:%s", full, tok.pin_file);
    for (size_t i = 0; i < 3; i++) {
        /* Only module-path can find the module when the default names none (form 1). */
        setenv("KEYFORT_PKCS11_MODULE",
               i == 1 ? "/nonexistent/libpkcs11.so" : kf_test_softhsm_module(), 1);
        remove(sig);
        OSSL(&r, *order, "pkeyutl", "-sign", "-inkey", forms[i], "-rawin", "-in", msg, "-out", sig);
        expect_ok(&r);
        run_free(&r);
        OSSL(&r, ORDER_NONE, "pkeyutl", "-verify", "-pubin", "-inkey", pub, "-rawin", "-in", msg,
             "-sigfile", sig);
        expect_ok(&r);
        expect_in(r.out, r.out_len, "Signature Verified Successfully", "stdout", r.what);
        run_free(&r);
    }
}
