/* tests/provider/test_keyexch_keygen.c - key generation and key agreement through keyfort.so,
 * driven by the unmodified openssl command in both provider orders (ossl_cli.h).
 *
 * - genpkey without pkcs11-uri makes an ordinary software key (what a program gets when
 *   keyfort is listed first and it asks for "EC" or "RSA"); plain openssl must use it.
 * - genpkey -propquery provider=keyfort with pkcs11-uri makes the key on the token,
 * non-extractable, and writes its URI-PEM file, which then signs through keyfort and verifies
 * without it.
 * - ECDH with a token key equals the software side's secret; CMS key agreement (kari, X9.63
 *   KDF in software around the token's raw ECDH) decrypts what plain openssl encrypted. */
#include "tests/provider/ossl_cli.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

TestSuite(provider_keyexch, .timeout = 300);

static enum prov_order orders[] = { ORDER_KEYFORT_FIRST, ORDER_DEFAULT_FIRST };

/* pkeyutl -sign with @p key (a file or URI) over @p in: the message itself when @p rawin
 * (EdDSA), else a digest file. */
static void sign_file(enum prov_order order, const char *key, const char *in, const char *sig,
                      bool rawin)
{
    struct args a;
    args_openssl(&a, "pkeyutl", order);
    ARGS_ADD_LIST(&a, "-sign", "-inkey", key, "-in", in, "-out", sig);
    if (rawin) {
        args_add(&a, "-rawin");
    }
    struct run r;
    run_args(&a, NULL, &r);
    expect_ok(&r);
    run_free(&r);
}

static void verify_file(enum prov_order order, const char *pub, const char *in, const char *sig,
                        bool rawin)
{
    struct args a;
    args_openssl(&a, "pkeyutl", order);
    ARGS_ADD_LIST(&a, "-verify", "-pubin", "-inkey", pub, "-in", in, "-sigfile", sig);
    if (rawin) {
        args_add(&a, "-rawin");
    }
    struct run r;
    run_args(&a, NULL, &r);
    expect_ok(&r);
    expect_in(r.out, r.out_len, "Signature Verified Successfully", "stdout", r.what);
    run_free(&r);
}

/* ---- software keys from keyfort's keymgmt ------------------------------------------------ */

struct sw_case {
    char alg[16];
    char opt[32]; /* -pkeyopt, "" for none */
    bool rawin;   /* EdDSA signs the message itself */
    enum prov_order order;
};

static struct sw_case sw_cases[] = {
    { "EC", "group:P-256", false, ORDER_KEYFORT_FIRST },
    { "RSA", "bits:2048", false, ORDER_KEYFORT_FIRST },
    { "ED25519", "", true, ORDER_KEYFORT_FIRST },
    { "EC", "group:P-384", false, ORDER_DEFAULT_FIRST },
    { "ED448", "", true, ORDER_DEFAULT_FIRST },
};

ParameterizedTestParameters(provider_keyexch, genpkey_without_uri_is_a_software_key)
{
    return cr_make_param_array(struct sw_case, sw_cases, sizeof(sw_cases) / sizeof(sw_cases[0]));
}

ParameterizedTest(struct sw_case *c, provider_keyexch, genpkey_without_uri_is_a_software_key,
                  .init = prov_init, .fini = prov_fini)
{
    char key[400], pub[400], msg[400], dgst[400], sig[400];
    tmp_path(key, sizeof(key), "sw.key");
    tmp_path(pub, sizeof(pub), "sw.pub");
    tmp_path(msg, sizeof(msg), "msg");
    tmp_path(dgst, sizeof(dgst), "msg.dgst");
    tmp_path(sig, sizeof(sig), "msg.sig");
    write_message(msg);
    write_digest(msg, "sha256", dgst);

    struct args a;
    args_openssl(&a, "genpkey", c->order);
    ARGS_ADD_LIST(&a, "-algorithm", c->alg, "-out", key);
    if (c->opt[0] != '\0') {
        ARGS_ADD_LIST(&a, "-pkeyopt", c->opt);
    }
    struct run r;
    run_args(&a, NULL, &r);
    expect_ok(&r);
    run_free(&r);

    /* An ordinary PKCS#8 key that openssl without keyfort reads, signs with and verifies. */
    size_t len = 0;
    char *pem = (char *)read_file(key, &len);
    cr_assert_eq(strncmp(pem, "-----BEGIN PRIVATE KEY-----\n", 28), 0, "genpkey wrote:\n%s", pem);
    free(pem);
    OSSL(&r, ORDER_NONE, "pkey", "-in", key, "-pubout", "-out", pub);
    expect_ok(&r);
    run_free(&r);
    const char *in = c->rawin ? msg : dgst;
    sign_file(ORDER_NONE, key, in, sig, c->rawin);
    /* Verification through keyfort's signature code (delegated to the default provider). */
    verify_file(c->order, pub, in, sig, c->rawin);

    /* Nothing was put on the token. */
    KEYFORT(&r, "key", "list", "--pin-file", tok.pin_file, tok.uri);
    expect_ok(&r);
    cr_assert(!has_bytes(r.out, r.out_len, "pkcs11:"), "objects on the token:\n%s", r.out);
    run_free(&r);
}

/* ---- keys generated on the token --------------------------------------------------------- */

struct tok_case {
    char alg[16];
    char opt[32];
    char listed[24]; /* the start of keyfort key list's line after "private  " */
    bool rawin;
    enum prov_order order;
};

static struct tok_case tok_cases[] = {
    { "EC", "group:P-256", "p256     prime256v1 ", false, ORDER_KEYFORT_FIRST },
    { "EC", "group:P-384", "p384     secp384r1 ", false, ORDER_DEFAULT_FIRST },
    { "RSA", "bits:2048", "rsa      2048 ", false, ORDER_DEFAULT_FIRST },
    { "ED25519", "", "ed25519 ", true, ORDER_KEYFORT_FIRST },
};

ParameterizedTestParameters(provider_keyexch, genpkey_with_uri_makes_the_key_on_the_token)
{
    return cr_make_param_array(struct tok_case, tok_cases,
                               sizeof(tok_cases) / sizeof(tok_cases[0]));
}

ParameterizedTest(struct tok_case *c, provider_keyexch, genpkey_with_uri_makes_the_key_on_the_token,
                  .init = prov_init, .fini = prov_fini)
{
    char opt_uri[800], key[400], pub[400], msg[400], dgst[400], sig[400];
    fmt(opt_uri, sizeof(opt_uri), "pkcs11-uri:%s;object=made?pin-source=%s", tok.uri, tok.pin_file);
    tmp_path(key, sizeof(key), "made.pem");
    tmp_path(pub, sizeof(pub), "made.pub");
    tmp_path(msg, sizeof(msg), "msg");
    tmp_path(dgst, sizeof(dgst), "msg.dgst");
    tmp_path(sig, sizeof(sig), "msg.sig");
    write_message(msg);
    write_digest(msg, "sha256", dgst);

    /* provider=keyfort: the keymgmt that knows pkcs11-uri, whichever provider is first. */
    struct args a;
    args_openssl(&a, "genpkey", c->order);
    ARGS_ADD_LIST(&a, "-propquery", "provider=keyfort", "-algorithm", c->alg, "-pkeyopt", opt_uri,
                  "-out", key);
    if (c->opt[0] != '\0') {
        ARGS_ADD_LIST(&a, "-pkeyopt", c->opt);
    }
    struct run r;
    run_args(&a, NULL, &r);
    expect_ok(&r);
    run_free(&r);

    /* The file is a reference, not key material. */
    size_t len = 0;
    char *pem = (char *)read_file(key, &len);
    cr_assert_eq(strncmp(pem, "-----BEGIN KEYFORT PKCS11 URI-----\n", 35), 0, "genpkey wrote:\n%s",
                 pem);
    free(pem);

    /* On the token, with the attributes keyfort gives every private key. */
    KEYFORT(&r, "key", "list", "--pin-file", tok.pin_file, tok.uri);
    expect_ok(&r);
    char want[120];
    fmt(want, sizeof(want), "private  %s", c->listed);
    expect_in(r.out, r.out_len, want, "stdout", r.what);
    expect_in(r.out, r.out_len, "label=\"made\"", "stdout", r.what);
    expect_in(r.out, r.out_len, "private,sensitive,not-extractable", "stdout", r.what);
    run_free(&r);

    /* The URI-PEM file signs through keyfort; openssl without keyfort verifies. */
    char uri[600];
    key_uri(uri, sizeof(uri), "made");
    export_pub(c->order, uri, "made", pub);
    const char *in = c->rawin ? msg : dgst;
    sign_file(c->order, uri, in, sig, c->rawin);
    verify_file(ORDER_NONE, pub, in, sig, c->rawin);
}

ParameterizedTestParameters(provider_keyexch, token_keygen_refusals_name_the_cause)
{
    return cr_make_param_array(enum prov_order, orders, sizeof(orders) / sizeof(orders[0]));
}

ParameterizedTest(enum prov_order *order, provider_keyexch, token_keygen_refusals_name_the_cause,
                  .init = prov_init, .fini = prov_fini)
{
    char no_label[800], with_label[800], key[400];
    fmt(no_label, sizeof(no_label), "pkcs11-uri:%s?pin-source=%s", tok.uri, tok.pin_file);
    fmt(with_label, sizeof(with_label), "pkcs11-uri:%s;object=x?pin-source=%s", tok.uri,
        tok.pin_file);
    tmp_path(key, sizeof(key), "x.pem");
    struct run r;
    OSSL(&r, *order, "genpkey", "-propquery", "provider=keyfort", "-algorithm", "EC", "-pkeyopt",
         "group:P-256", "-pkeyopt", no_label, "-out", key);
    expect_refused(&r);
    expect_keyfort_error(&r, "object= names the new key");
    run_free(&r);
    OSSL(&r, *order, "genpkey", "-propquery", "provider=keyfort", "-algorithm", "RSA", "-pkeyopt",
         "bits:1024", "-pkeyopt", with_label, "-out", key);
    expect_refused(&r);
    expect_keyfort_error(&r, "RSA key of 1024 bits");
    run_free(&r);
    OSSL(&r, *order, "genpkey", "-propquery", "provider=keyfort", "-algorithm", "EC", "-pkeyopt",
         "group:secp521r1", "-pkeyopt", with_label, "-out", key);
    expect_refused(&r);
    expect_keyfort_error(&r, "secp521r1");
    run_free(&r);
    KEYFORT(&r, "key", "list", "--pin-file", tok.pin_file, tok.uri);
    expect_ok(&r);
    cr_assert(!has_bytes(r.out, r.out_len, "pkcs11:"), "objects left on the token:\n%s", r.out);
    run_free(&r);
}

/* ---- ECDH and CMS key agreement ----------------------------------------------------------- */

struct ecdh_case {
    char type[16];  /* keyfort key gen --type */
    char group[16]; /* the software peer's curve */
    enum prov_order order;
};

static struct ecdh_case ecdh_cases[] = {
    { "p256", "P-256", ORDER_KEYFORT_FIRST },
    { "p384", "P-384", ORDER_KEYFORT_FIRST },
    { "p256", "P-256", ORDER_DEFAULT_FIRST },
    { "p384", "P-384", ORDER_DEFAULT_FIRST },
};

ParameterizedTestParameters(provider_keyexch, ecdh_on_the_token_equals_the_software_side)
{
    return cr_make_param_array(struct ecdh_case, ecdh_cases,
                               sizeof(ecdh_cases) / sizeof(ecdh_cases[0]));
}

ParameterizedTest(struct ecdh_case *c, provider_keyexch, ecdh_on_the_token_equals_the_software_side,
                  .init = prov_init, .fini = prov_fini)
{
    char uri[600], pub[400], peer[400], peer_pub[400], z_tok[400], z_sw[400], group[40];
    gen_key(c->type, "k");
    key_uri(uri, sizeof(uri), "k");
    tmp_path(pub, sizeof(pub), "k.pub");
    tmp_path(peer, sizeof(peer), "peer.key");
    tmp_path(peer_pub, sizeof(peer_pub), "peer.pub");
    tmp_path(z_tok, sizeof(z_tok), "z.token");
    tmp_path(z_sw, sizeof(z_sw), "z.software");
    fmt(group, sizeof(group), "group:%s", c->group);
    export_pub(c->order, uri, "k", pub);
    struct run r;
    OSSL(&r, ORDER_NONE, "genpkey", "-algorithm", "EC", "-pkeyopt", group, "-out", peer);
    expect_ok(&r);
    run_free(&r);
    OSSL(&r, ORDER_NONE, "pkey", "-in", peer, "-pubout", "-out", peer_pub);
    expect_ok(&r);
    run_free(&r);

    OSSL(&r, c->order, "pkeyutl", "-derive", "-inkey", uri, "-peerkey", peer_pub, "-out", z_tok);
    expect_ok(&r);
    run_free(&r);
    OSSL(&r, ORDER_NONE, "pkeyutl", "-derive", "-inkey", peer, "-peerkey", pub, "-out", z_sw);
    expect_ok(&r);
    run_free(&r);
    size_t a_len = 0, b_len = 0;
    uint8_t *a = read_file(z_tok, &a_len);
    uint8_t *b = read_file(z_sw, &b_len);
    cr_assert_eq(a_len, strcmp(c->group, "P-256") == 0 ? 32u : 48u, "shared secret of %zu bytes",
                 a_len);
    cr_assert(a_len == b_len && memcmp(a, b, a_len) == 0,
              "the token's ECDH secret differs from the software side's");
    free(a);
    free(b);

    /* A peer on another curve is refused, not computed. */
    char other[400], other_pub[400];
    tmp_path(other, sizeof(other), "other.key");
    tmp_path(other_pub, sizeof(other_pub), "other.pub");
    OSSL(&r, ORDER_NONE, "genpkey", "-algorithm", "EC", "-pkeyopt",
         strcmp(c->group, "P-256") == 0 ? "group:P-384" : "group:P-256", "-out", other);
    expect_ok(&r);
    run_free(&r);
    OSSL(&r, ORDER_NONE, "pkey", "-in", other, "-pubout", "-out", other_pub);
    expect_ok(&r);
    run_free(&r);
    remove(z_tok);
    OSSL(&r, c->order, "pkeyutl", "-derive", "-inkey", uri, "-peerkey", other_pub, "-out", z_tok);
    expect_refused(&r);
    run_free(&r);
    cr_assert(access(z_tok, F_OK) != 0 || file_size(z_tok) == 0,
              "a secret was written for a peer on another curve");
}

ParameterizedTestParameters(provider_keyexch, cms_key_agreement_decrypts_on_the_token)
{
    return cr_make_param_array(enum prov_order, orders, sizeof(orders) / sizeof(orders[0]));
}

ParameterizedTest(enum prov_order *order, provider_keyexch, cms_key_agreement_decrypts_on_the_token,
                  .init = prov_init, .fini = prov_fini)
{
    char uri[600], pub[400], cert[400], msg[400], p7[400], out[400];
    gen_key("p256", "k");
    key_uri(uri, sizeof(uri), "k");
    tmp_path(pub, sizeof(pub), "k.pub");
    tmp_path(cert, sizeof(cert), "k.crt");
    tmp_path(msg, sizeof(msg), "msg");
    tmp_path(p7, sizeof(p7), "msg.p7");
    tmp_path(out, sizeof(out), "msg.out");
    export_pub(*order, uri, "k", pub);
    write_message(msg);
    struct run r;
    OSSL(&r, *order, "req", "-new", "-x509", "-key", uri, "-subj", "/CN=bob@example-b.test",
         "-days", "2", "-out", cert);
    expect_ok(&r);
    run_free(&r);

    /* Encrypted by openssl alone: ECDH with an ephemeral key, X9.63 KDF, AES key wrap. */
    OSSL(&r, ORDER_NONE, "cms", "-encrypt", "-binary", "-aes256", "-in", msg, "-outform", "DER",
         "-out", p7, "-recip", cert);
    expect_ok(&r);
    run_free(&r);
    OSSL(&r, ORDER_NONE, "cms", "-cmsout", "-print", "-inform", "DER", "-in", p7);
    expect_ok(&r);
    expect_in(r.out, r.out_len, "dhSinglePass-stdDH-sha", "stdout", r.what);
    run_free(&r);

    OSSL(&r, *order, "cms", "-decrypt", "-binary", "-inform", "DER", "-in", p7, "-inkey", uri,
         "-recip", cert, "-out", out);
    expect_ok(&r);
    run_free(&r);
    size_t a_len = 0, b_len = 0;
    uint8_t *a = read_file(msg, &a_len);
    uint8_t *b = read_file(out, &b_len);
    cr_assert(a_len == b_len && memcmp(a, b, a_len) == 0, "decrypted text differs");
    free(a);
    free(b);

    /* Another token key of the same curve cannot open it: the unwrap of the content key
     * fails, and nothing is written. (This also proves the secret came from the token key.) */
    char other[600];
    gen_key("p256", "k2");
    key_uri(other, sizeof(other), "k2");
    remove(out);
    OSSL(&r, *order, "cms", "-decrypt", "-binary", "-inform", "DER", "-in", p7, "-inkey", other,
         "-recip", cert, "-out", out);
    expect_refused(&r);
    run_free(&r);
    cr_assert(access(out, F_OK) != 0 || file_size(out) == 0, "plaintext with the wrong key");
}
