/* tests/provider/test_store_certs.c - certificates on the token through the pkcs11: store, and
 * the deployment traps of issue 4 (acceptance 8), in both provider orders (ossl_cli.h):
 * - `keyfort cert import` pairs a certificate with its key; `openssl storeutl` and
 *   `openssl x509 -in pkcs11:...` read it back, byte for byte, without a PIN;
 * - s_server with a PEM certificate and a token key whose public-key object is gone;
 * - one openssl process signing with a PEM software key and a token key side by side;
 * - what the encoders write for a token key: public parts (text, DER), and for "the private
 *   key" its URI-PEM reference, never key material. */
#include "tests/provider/ossl_cli.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

TestSuite(provider_store, .timeout = 300);

static enum prov_order orders[] = { ORDER_KEYFORT_FIRST, ORDER_DEFAULT_FIRST };

/* `openssl x509 -noout -fingerprint -sha256` of @p in (a file or a URI) into @p out. */
static void fingerprint(enum prov_order order, const char *in, char *out, size_t cap)
{
    struct run r;
    OSSL(&r, order, "x509", "-in", in, "-noout", "-fingerprint", "-sha256");
    expect_ok(&r);
    const char *fp = strstr(r.out, "Fingerprint=");
    cr_assert_not_null(fp, "%s printed: %s", r.what, r.out);
    fmt(out, cap, "%.*s", (int)strcspn(fp, "\n"), fp);
    run_free(&r);
}

/* A self-signed certificate for the token key @p uri. */
static void make_cert(enum prov_order order, const char *uri, const char *cn, const char *cert)
{
    struct run r;
    OSSL(&r, order, "req", "-new", "-x509", "-key", uri, "-subj", cn, "-days", "2", "-out", cert);
    expect_ok(&r);
    run_free(&r);
}

ParameterizedTestParameters(provider_store, certificate_beside_its_key)
{
    return cr_make_param_array(enum prov_order, orders, sizeof(orders) / sizeof(orders[0]));
}

ParameterizedTest(enum prov_order *order, provider_store, certificate_beside_its_key,
                  .init = prov_init, .fini = prov_fini)
{
    char uri[600], cert[400], cert_uri[600], key_list_uri[600], want[200], got[200];
    gen_key("p256", "mx");
    key_uri(uri, sizeof(uri), "mx");
    tmp_path(cert, sizeof(cert), "mx.crt");
    make_cert(*order, uri, "/CN=mx.example-b.test", cert);

    struct run r;
    KEYFORT(&r, "cert", "import", "--pin-file", tok.pin_file, "--label", "mx", cert, tok.uri);
    expect_ok(&r);
    expect_in(r.out, r.out_len, ";object=mx;type=cert", "stdout", r.what);
    /* Paired with the key: the same id as the private key's. */
    fmt(key_list_uri, sizeof(key_list_uri), "%s;object=mx;type=private", tok.uri);
    struct run l;
    KEYFORT(&l, "key", "list", "--pin-file", tok.pin_file, key_list_uri);
    expect_ok(&l);
    const char *id = strstr(l.out, ";id=");
    cr_assert_not_null(id, "no id in: %s", l.out);
    char id_attr[200];
    fmt(id_attr, sizeof(id_attr), ";id=%.*s", (int)strcspn(id + 4, ";\n"), id + 4);
    expect_in(r.out, r.out_len, id_attr, "stdout", r.what);
    run_free(&l);
    run_free(&r);

    /* Read back without a PIN (stdin is /dev/null: a prompt would fail the command). */
    fmt(cert_uri, sizeof(cert_uri), "%s;object=mx;type=cert", tok.uri);
    fingerprint(ORDER_NONE, cert, want, sizeof(want));
    fingerprint(*order, cert_uri, got, sizeof(got));
    cr_assert_str_eq(got, want, "the token's certificate is not the one imported");

    OSSL(&r, *order, "storeutl", "-certs", tok.uri);
    expect_ok(&r);
    expect_in(r.out, r.out_len, "0: Certificate", "stdout", r.what);
    expect_in(r.out, r.out_len, "Total found: 1", "stdout", r.what);
    run_free(&r);

    /* With a PIN, the key and its certificate (the public key is not listed twice). */
    char all[700];
    fmt(all, sizeof(all), "%s;object=mx?pin-source=%s", tok.uri, tok.pin_file);
    OSSL(&r, *order, "storeutl", all);
    expect_ok(&r);
    expect_in(r.out, r.out_len, ": Certificate", "stdout", r.what);
    expect_in(r.out, r.out_len, ": Pkey", "stdout", r.what);
    expect_in(r.out, r.out_len, "Total found: 2", "stdout", r.what);
    run_free(&r);

    /* The second import under the same label, and a file that is not a certificate. */
    KEYFORT(&r, "cert", "import", "--pin-file", tok.pin_file, "--label", "mx", cert, tok.uri);
    expect_refused(&r);
    cr_assert_eq(WEXITSTATUS(r.status), 4, "exit %d", WEXITSTATUS(r.status));
    expect_in(r.err, r.err_len, "already on token", "stderr", r.what);
    run_free(&r);
    KEYFORT(&r, "cert", "import", "--pin-file", tok.pin_file, "--label", "junk", tok.pin_file,
            tok.uri);
    expect_refused(&r);
    cr_assert_eq(WEXITSTATUS(r.status), 3, "exit %d", WEXITSTATUS(r.status));
    expect_in(r.err, r.err_len, "X.509 certificate", "stderr", r.what);
    run_free(&r);
}

ParameterizedTestParameters(provider_store, s_server_with_a_key_that_has_no_public_object)
{
    return cr_make_param_array(enum prov_order, orders, sizeof(orders) / sizeof(orders[0]));
}

ParameterizedTest(enum prov_order *order, provider_store,
                  s_server_with_a_key_that_has_no_public_object, .init = prov_init,
                  .fini = prov_fini)
{
    char uri[600], cert[400], pub_obj[600], get[400];
    gen_key("p256", "web");
    key_uri(uri, sizeof(uri), "web");
    tmp_path(cert, sizeof(cert), "web.crt");
    tmp_path(get, sizeof(get), "get.txt");
    make_cert(*order, uri, "/CN=web.example-a.test", cert);
    /* Only the private key is left: the server's key check must use the certificate. */
    fmt(pub_obj, sizeof(pub_obj), "%s;object=web;type=public", tok.uri);
    struct run r;
    KEYFORT(&r, "key", "delete", "--pin-file", tok.pin_file, pub_obj);
    expect_ok(&r);
    run_free(&r);
    static const char request[] = "GET / HTTP/1.0\r\n\r\n";
    write_file(get, request, sizeof(request) - 1);

    struct server s;
    unsigned port = 0;
    bool started = false;
    for (int attempt = 0; attempt < 5 && !started; attempt++) {
        port = free_port();
        started = server_start(*order, cert, uri, port, &s);
    }
    cr_assert(started, "no free port for s_server after 5 attempts");
    char connect[64];
    fmt(connect, sizeof(connect), "127.0.0.1:%u", port);
    struct args a;
    args_openssl(&a, "s_client", ORDER_NONE);
    ARGS_ADD_LIST(&a, "-connect", connect, "-CAfile", cert, "-verify_return_error", "-ign_eof");
    run_args(&a, get, &r);
    struct run srv;
    server_finish(&s, &srv);
    buf_append(&r.err, &r.err_len, srv.err, srv.err_len);
    expect_ok(&r);
    expect_in(r.out, r.out_len, "Peer signature type: ECDSA", "stdout", r.what);
    expect_in(r.out, r.out_len, "Verify return code: 0 (ok)", "stdout", r.what);
    expect_in(r.out, r.out_len, "HTTP/1.0 200 ok", "stdout", r.what);
    run_free(&r);
    expect_ok(&srv);
    run_free(&srv);
}

ParameterizedTestParameters(provider_store, software_and_token_keys_side_by_side)
{
    return cr_make_param_array(enum prov_order, orders, sizeof(orders) / sizeof(orders[0]));
}

ParameterizedTest(enum prov_order *order, provider_store, software_and_token_keys_side_by_side,
                  .init = prov_init, .fini = prov_fini)
{
    char uri[600], tok_cert[400], sw_key[400], sw_cert[400], msg[400], p7[400], out[400];
    gen_key("rsa2048", "tok");
    key_uri(uri, sizeof(uri), "tok");
    tmp_path(tok_cert, sizeof(tok_cert), "tok.crt");
    tmp_path(sw_key, sizeof(sw_key), "sw.key");
    tmp_path(sw_cert, sizeof(sw_cert), "sw.crt");
    tmp_path(msg, sizeof(msg), "msg");
    tmp_path(p7, sizeof(p7), "msg.p7");
    tmp_path(out, sizeof(out), "msg.out");
    write_message(msg);
    make_cert(*order, uri, "/CN=token signer", tok_cert);
    struct run r;
    OSSL(&r, ORDER_NONE, "req", "-new", "-x509", "-newkey", "ec", "-pkeyopt",
         "ec_paramgen_curve:P-256", "-nodes", "-keyout", sw_key, "-subj", "/CN=software signer",
         "-days", "2", "-out", sw_cert);
    expect_ok(&r);
    run_free(&r);

    /* One process, two signers: a PEM software key and a token key. */
    OSSL(&r, *order, "cms", "-sign", "-binary", "-nodetach", "-in", msg, "-outform", "DER", "-out",
         p7, "-signer", sw_cert, "-inkey", sw_key, "-signer", tok_cert, "-inkey", uri);
    expect_ok(&r);
    run_free(&r);
    OSSL(&r, ORDER_NONE, "cms", "-cmsout", "-print", "-inform", "DER", "-in", p7);
    expect_ok(&r);
    expect_in(r.out, r.out_len, "ecdsa-with-SHA256", "stdout", r.what);
    expect_in(r.out, r.out_len, "rsaEncryption", "stdout", r.what);
    run_free(&r);
    /* Both signatures verify without keyfort (each signer's certificate is its own CA). */
    char both[820];
    tmp_path(both, sizeof(both), "both.pem");
    size_t a_len = 0, b_len = 0;
    uint8_t *a = read_file(sw_cert, &a_len);
    uint8_t *b = read_file(tok_cert, &b_len);
    uint8_t *ab = malloc(a_len + b_len);
    cr_assert_not_null(ab);
    memcpy(ab, a, a_len);
    memcpy(ab + a_len, b, b_len);
    write_file(both, ab, a_len + b_len);
    free(a);
    free(b);
    free(ab);
    OSSL(&r, ORDER_NONE, "cms", "-verify", "-binary", "-inform", "DER", "-in", p7, "-CAfile", both,
         "-out", out);
    expect_ok(&r);
    expect_in(r.err, r.err_len, "Verification successful", "stderr", r.what);
    run_free(&r);
}

ParameterizedTestParameters(provider_store, encoders_write_public_parts_and_references_only)
{
    return cr_make_param_array(enum prov_order, orders, sizeof(orders) / sizeof(orders[0]));
}

ParameterizedTest(enum prov_order *order, provider_store,
                  encoders_write_public_parts_and_references_only, .init = prov_init,
                  .fini = prov_fini)
{
    char uri[600], pub[400], der[400], out[400];
    gen_key("p384", "enc");
    key_uri(uri, sizeof(uri), "enc");
    tmp_path(pub, sizeof(pub), "enc.pub");
    tmp_path(der, sizeof(der), "enc.pub.der");
    tmp_path(out, sizeof(out), "enc.out");
    export_pub(*order, uri, "enc", pub);
    struct run r;
    /* Text of the public half. */
    OSSL(&r, *order, "pkey", "-in", uri, "-text_pub", "-noout");
    expect_ok(&r);
    expect_in(r.out, r.out_len, "Public-Key: (384 bit)", "stdout", r.what);
    expect_in(r.out, r.out_len, "NIST CURVE: P-384", "stdout", r.what);
    run_free(&r);
    /* SubjectPublicKeyInfo in DER: the same key as the PEM keyfort key pub printed. */
    OSSL(&r, *order, "pkey", "-in", uri, "-pubout", "-outform", "DER", "-out", der);
    expect_ok(&r);
    run_free(&r);
    OSSL(&r, ORDER_NONE, "pkey", "-pubin", "-in", pub, "-outform", "DER", "-out", out);
    expect_ok(&r);
    run_free(&r);
    size_t a_len = 0, b_len = 0;
    uint8_t *a = read_file(der, &a_len);
    uint8_t *b = read_file(out, &b_len);
    cr_assert(a_len > 0 && a_len == b_len && memcmp(a, b, a_len) == 0,
              "DER SubjectPublicKeyInfo differs from the exported public key");
    free(a);
    free(b);
    /* "The private key", written: the URI-PEM reference, never key material. */
    OSSL(&r, *order, "pkey", "-in", uri, "-out", out);
    expect_ok(&r);
    run_free(&r);
    size_t len = 0;
    char *pem = (char *)read_file(out, &len);
    cr_assert_eq(strncmp(pem, "-----BEGIN KEYFORT PKCS11 URI-----\n", 35), 0,
                 "pkey -out wrote:\n%s", pem);
    cr_assert_null(strstr(pem, "PRIVATE KEY"), "private key material written:\n%s", pem);
    free(pem);
    /* pkey -out changed nothing on the token: the key still signs (dgst, by URI). */
    char msg[400], sig[400];
    tmp_path(msg, sizeof(msg), "msg");
    tmp_path(sig, sizeof(sig), "msg.sig");
    write_message(msg);
    OSSL(&r, *order, "dgst", "-sha384", "-sign", uri, "-out", sig, msg);
    expect_ok(&r);
    run_free(&r);
    OSSL(&r, ORDER_NONE, "dgst", "-sha384", "-verify", pub, "-signature", sig, msg);
    expect_ok(&r);
    expect_in(r.out, r.out_len, "Verified OK", "stdout", r.what);
    run_free(&r);
    /* No private text either. */
    OSSL(&r, *order, "pkey", "-in", uri, "-text", "-noout");
    cr_assert(!has_bytes(r.out, r.out_len, "priv:"), "%s printed private parts:\n%s", r.what,
              r.out);
    run_free(&r);
}
