/* tests/provider/test_asym_rsa.c - RSA decryption with token keys through keyfort.so, driven by
 * the unmodified openssl command in both provider orders (ossl_cli.h).
 *
 * Ciphertexts are made by openssl without keyfort from the public key keyfort exports; the
 * token decrypts. PKCS#1 v1.5 decryption of a ciphertext with a bad padding must not fail: it
 * answers with a synthetic message that depends only on the key and the ciphertext (implicit
 * rejection), so these tests check determinism and independence rather than an error. */
#include "tests/provider/ossl_cli.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

TestSuite(provider_asym, .timeout = 300);

static enum prov_order orders[] = { ORDER_KEYFORT_FIRST, ORDER_DEFAULT_FIRST };

/* pkeyutl with "-pkeyopt" options, NULL-terminated, appended. */
static void pkeyutl(struct run *r, enum prov_order order, const char *const *base, size_t n_base,
                    const char *const *opts)
{
    struct args a;
    args_openssl(&a, "pkeyutl", order);
    args_add_list(&a, base, n_base);
    for (size_t i = 0; opts != NULL && opts[i] != NULL; i++) {
        args_add(&a, "-pkeyopt");
        args_add(&a, opts[i]);
    }
    run_args(&a, NULL, r);
}

struct oaep_case {
    char opts[4][40]; /* -pkeyopt values for both sides; "" ends */
    enum prov_order order;
};

static struct oaep_case dec_cases[] = {
    { { "" }, ORDER_KEYFORT_FIRST },
    { { "rsa_padding_mode:oaep" }, ORDER_KEYFORT_FIRST },
    { { "rsa_padding_mode:oaep", "rsa_oaep_md:sha256" }, ORDER_KEYFORT_FIRST },
    { { "rsa_padding_mode:oaep", "rsa_oaep_md:sha384", "rsa_mgf1_md:sha1",
        "rsa_oaep_label:0011aabbccdd" },
      ORDER_KEYFORT_FIRST },
    { { "" }, ORDER_DEFAULT_FIRST },
    { { "rsa_padding_mode:oaep" }, ORDER_DEFAULT_FIRST },
    { { "rsa_padding_mode:oaep", "rsa_oaep_md:sha512", "rsa_mgf1_md:sha256" },
      ORDER_DEFAULT_FIRST },
};

ParameterizedTestParameters(provider_asym, token_decrypts_what_software_encrypted)
{
    return cr_make_param_array(struct oaep_case, dec_cases,
                               sizeof(dec_cases) / sizeof(dec_cases[0]));
}

ParameterizedTest(struct oaep_case *c, provider_asym, token_decrypts_what_software_encrypted,
                  .init = prov_init, .fini = prov_fini)
{
    char uri[600], pub[400], msg[400], ct[400], out[400];
    gen_key("rsa2048", "k");
    key_uri(uri, sizeof(uri), "k");
    tmp_path(pub, sizeof(pub), "k.pub");
    tmp_path(msg, sizeof(msg), "msg");
    tmp_path(ct, sizeof(ct), "msg.ct");
    tmp_path(out, sizeof(out), "msg.out");
    export_pub(c->order, uri, "k", pub);
    static const char text[] = "the zone signing key rolls over on Tuesday";
    write_file(msg, text, sizeof(text) - 1);
    const char *opts[5] = { NULL };
    for (size_t i = 0; i < 4 && c->opts[i][0] != '\0'; i++) {
        opts[i] = c->opts[i];
    }
    struct run r;
    const char *enc[] = { "-encrypt", "-pubin", "-inkey", pub, "-in", msg, "-out", ct };
    pkeyutl(&r, ORDER_NONE, enc, 8, opts);
    expect_ok(&r);
    run_free(&r);
    const char *dec[] = { "-decrypt", "-inkey", uri, "-in", ct, "-out", out };
    pkeyutl(&r, c->order, dec, 7, opts);
    expect_ok(&r);
    run_free(&r);
    size_t len = 0;
    uint8_t *got = read_file(out, &len);
    cr_assert(len == sizeof(text) - 1 && memcmp(got, text, len) == 0,
              "decrypted %zu bytes, not the message", len);
    free(got);

    /* The same ciphertext with the other padding does not give the message back. */
    if (c->opts[0][0] != '\0') {
        remove(out);
        pkeyutl(&r, c->order, dec, 7, NULL); /* PKCS#1 v1.5: a synthetic message */
        expect_ok(&r);
        run_free(&r);
        got = read_file(out, &len);
        cr_assert(len != sizeof(text) - 1 || memcmp(got, text, len) != 0,
                  "PKCS#1 v1.5 decryption of an OAEP ciphertext gave the message");
        free(got);
    }
}

/* ---- implicit rejection ------------------------------------------------------------------- */

/* Decrypt @p ct with PKCS#1 v1.5 into @p out; it must succeed. Returns the output. */
static uint8_t *decrypt_pkcs1(enum prov_order order, const char *uri, const char *ct,
                              const char *out, size_t *len)
{
    struct run r;
    const char *dec[] = { "-decrypt", "-inkey", uri, "-in", ct, "-out", out };
    pkeyutl(&r, order, dec, 7, NULL);
    expect_ok(&r);
    run_free(&r);
    return read_file(out, len);
}

/* A ciphertext below the modulus whose padding is almost surely bad: random bytes with the top
 * byte cleared (2048-bit modulus, top bit set). */
static void write_junk(const char *path, unsigned seed)
{
    uint8_t c[256];
    for (size_t i = 0; i < sizeof(c); i++) {
        seed = seed * 1103515245u + 12345u;
        c[i] = (uint8_t)(seed >> 16);
    }
    c[0] = 0;
    write_file(path, c, sizeof(c));
}

Test(provider_asym, bad_pkcs1_padding_gets_a_synthetic_answer_not_an_error, .init = prov_init,
     .fini = prov_fini)
{
    char uri[600], uri2[600], j1[400], j2[400], out[400];
    gen_key("rsa2048", "k");
    gen_key("rsa2048", "k2");
    key_uri(uri, sizeof(uri), "k");
    key_uri(uri2, sizeof(uri2), "k2");
    tmp_path(j1, sizeof(j1), "junk1");
    tmp_path(j2, sizeof(j2), "junk2");
    tmp_path(out, sizeof(out), "out");
    write_junk(j1, 1);
    write_junk(j2, 2);

    size_t a_len = 0, b_len = 0, c_len = 0, d_len = 0;
    uint8_t *a = decrypt_pkcs1(ORDER_KEYFORT_FIRST, uri, j1, out, &a_len);
    uint8_t *b = decrypt_pkcs1(ORDER_DEFAULT_FIRST, uri, j1, out, &b_len);
    uint8_t *c = decrypt_pkcs1(ORDER_KEYFORT_FIRST, uri, j2, out, &c_len);
    uint8_t *d = decrypt_pkcs1(ORDER_KEYFORT_FIRST, uri2, j1, out, &d_len);
    /* At most k - 11 bytes, like any PKCS#1 v1.5 plaintext. */
    cr_assert_leq(a_len, 256u - 11u);
    cr_assert_leq(c_len, 256u - 11u);
    /* The same key and ciphertext: the same answer, whichever order loaded keyfort. */
    cr_assert(a_len == b_len && memcmp(a, b, a_len) == 0, "the synthetic answer is not stable");
    /* Another ciphertext, or another key: another answer. */
    cr_assert(a_len != c_len || memcmp(a, c, a_len) != 0, "two ciphertexts, one answer");
    cr_assert(a_len != d_len || memcmp(a, d, a_len) != 0, "two keys, one answer");
    free(a);
    free(b);
    free(c);
    free(d);
}

ParameterizedTestParameters(provider_asym, bad_input_is_refused_with_a_reason)
{
    return cr_make_param_array(enum prov_order, orders, sizeof(orders) / sizeof(orders[0]));
}

ParameterizedTest(enum prov_order *order, provider_asym, bad_input_is_refused_with_a_reason,
                  .init = prov_init, .fini = prov_fini)
{
    char uri[600], junk[400], big[400], out[400];
    gen_key("rsa2048", "k");
    key_uri(uri, sizeof(uri), "k");
    tmp_path(junk, sizeof(junk), "junk");
    tmp_path(big, sizeof(big), "big");
    tmp_path(out, sizeof(out), "out");
    write_junk(junk, 3);
    /* OAEP has no implicit rejection: one error, whatever was wrong. */
    struct run r;
    const char *dec[] = { "-decrypt", "-inkey", uri, "-in", junk, "-out", out };
    const char *oaep[] = { "rsa_padding_mode:oaep", NULL };
    pkeyutl(&r, *order, dec, 7, oaep);
    expect_refused(&r);
    expect_keyfort_error(&r, "kf_rsa_unpad_oaep");
    run_free(&r);
    cr_assert(access(out, F_OK) != 0 || file_size(out) == 0, "OAEP failure wrote plaintext");
    /* A ciphertext longer than the modulus. */
    uint8_t c[257];
    memset(c, 0x11, sizeof(c));
    write_file(big, c, sizeof(c));
    const char *dec_big[] = { "-decrypt", "-inkey", uri, "-in", big, "-out", out };
    pkeyutl(&r, *order, dec_big, 7, NULL);
    expect_refused(&r);
    expect_keyfort_error(&r, "257 bytes for a 256-byte modulus");
    run_free(&r);
}

/* ---- CMS key transport (ktri) ------------------------------------------------------------- */

struct cms_case {
    bool oaep;
    enum prov_order order;
};

static struct cms_case cms_cases[] = {
    { false, ORDER_KEYFORT_FIRST },
    { true, ORDER_KEYFORT_FIRST },
    { false, ORDER_DEFAULT_FIRST },
    { true, ORDER_DEFAULT_FIRST },
};

ParameterizedTestParameters(provider_asym, cms_key_transport_decrypts_on_the_token)
{
    return cr_make_param_array(struct cms_case, cms_cases,
                               sizeof(cms_cases) / sizeof(cms_cases[0]));
}

ParameterizedTest(struct cms_case *c, provider_asym, cms_key_transport_decrypts_on_the_token,
                  .init = prov_init, .fini = prov_fini)
{
    char uri[600], pub[400], cert[400], msg[400], p7[400], out[400];
    gen_key("rsa2048", "k");
    key_uri(uri, sizeof(uri), "k");
    tmp_path(pub, sizeof(pub), "k.pub");
    tmp_path(cert, sizeof(cert), "k.crt");
    tmp_path(msg, sizeof(msg), "msg");
    tmp_path(p7, sizeof(p7), "msg.p7");
    tmp_path(out, sizeof(out), "msg.out");
    export_pub(c->order, uri, "k", pub);
    write_message(msg);
    struct run r;
    OSSL(&r, c->order, "req", "-new", "-x509", "-key", uri, "-subj", "/CN=alice@example-a.test",
         "-days", "2", "-out", cert);
    expect_ok(&r);
    run_free(&r);
    struct args a;
    args_openssl(&a, "cms", ORDER_NONE);
    ARGS_ADD_LIST(&a, "-encrypt", "-binary", "-aes256", "-in", msg, "-outform", "DER", "-out", p7,
                  "-recip", cert);
    if (c->oaep) {
        ARGS_ADD_LIST(&a, "-keyopt", "rsa_padding_mode:oaep");
    }
    run_args(&a, NULL, &r);
    expect_ok(&r);
    run_free(&r);
    OSSL(&r, ORDER_NONE, "cms", "-cmsout", "-print", "-inform", "DER", "-in", p7);
    expect_ok(&r);
    expect_in(r.out, r.out_len, c->oaep ? "rsaesOaep" : "rsaEncryption", "stdout", r.what);
    run_free(&r);
    OSSL(&r, c->order, "cms", "-decrypt", "-binary", "-inform", "DER", "-in", p7, "-inkey", uri,
         "-recip", cert, "-out", out);
    expect_ok(&r);
    run_free(&r);
    size_t a_len = 0, b_len = 0;
    uint8_t *want = read_file(msg, &a_len);
    uint8_t *got = read_file(out, &b_len);
    cr_assert(a_len == b_len && memcmp(want, got, a_len) == 0, "decrypted text differs");
    free(want);
    free(got);
}
