/* tests/dnssec/test_mail_records.c - keyfort dane tlsa, smimea and mail policy, end to end:
 * the TLSA data of a certificate and of a token key agree with OpenSSL's own encoding, the
 * SMIMEA owner is RFC 8162's, the policy records sign into a zone peers accept, and bad input
 * fails before anything is printed. */
#include "tests/provider/ossl_cli.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <openssl/pem.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

TestSuite(mail_records, .init = prov_init, .fini = prov_fini, .timeout = 300);

static int mr_exit(const struct run *r)
{
    cr_assert(!r->timed_out && WIFEXITED(r->status), "%s: no normal exit", r->what);
    return WEXITSTATUS(r->status);
}

/* Runs of spaces and tabs as one space: the record printer aligns columns. */
static void mr_squash(char *s)
{
    char *w = s;
    for (char *p = s; *p != '\0'; p++) {
        bool blank = *p == ' ' || *p == '\t';
        if (blank && w > s && w[-1] == ' ') {
            continue;
        }
        *w++ = blank ? ' ' : *p;
    }
    *w = '\0';
}

/* Upper-case hex of SHA-256 over the DER SubjectPublicKeyInfo of a PEM public key or cert. */
static void mr_spki_sha256(const char *pem_path, bool is_cert, char *hex)
{
    FILE *f = fopen(pem_path, "r");
    cr_assert_not_null(f);
    EVP_PKEY *k = NULL;
    X509 *x = NULL;
    if (is_cert) {
        x = PEM_read_X509(f, NULL, NULL, NULL);
        cr_assert_not_null(x);
        k = X509_get_pubkey(x);
    } else {
        k = PEM_read_PUBKEY(f, NULL, NULL, NULL);
    }
    fclose(f);
    cr_assert_not_null(k);
    uint8_t *der = NULL;
    int n = i2d_PUBKEY(k, &der);
    uint8_t h[32];
    unsigned hl = 0;
    cr_assert_eq(EVP_Digest(der, (size_t)n, h, &hl, EVP_sha256(), NULL), 1);
    for (int i = 0; i < 32; i++) {
        sprintf(hex + 2 * i, "%02X", h[i]);
    }
    OPENSSL_free(der);
    EVP_PKEY_free(k);
    X509_free(x);
}

Test(mail_records, tlsa_from_certificate_and_token_key)
{
    char crt[400];
    char key[400];
    tmp_path(crt, sizeof(crt), "mx.crt");
    tmp_path(key, sizeof(key), "mx.key");
    struct run r;
    OSSL(&r, ORDER_NONE, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-keyout", key, "-out", crt, "-subj", "/CN=mx.example.com", "-days", "2");
    expect_ok(&r);
    run_free(&r);
    char want[65];
    mr_spki_sha256(crt, true, want);
    KEYFORT(&r, "dane", "tlsa", "--cert", crt, "--host", "mx.example.com");
    expect_ok(&r);
    mr_squash(r.out);
    char line[256];
    snprintf(line, sizeof(line), "_25._tcp.mx.example.com. 3600 TLSA 3 1 1 %s\n", want);
    cr_assert(strstr(r.out, line) != NULL, "got: %s\nwant: %s", r.out, line);
    run_free(&r);
    /* Mnemonics and a full certificate: "DANE-TA Cert Full" is "2 0 0" and the DER. */
    KEYFORT(&r, "dane", "tlsa", "--cert", crt, "--host", "mx.example.com", "--port", "465",
            "--usage", "DANE-TA", "--selector", "Cert", "--mtype", "Full");
    expect_ok(&r);
    mr_squash(r.out);
    cr_assert_not_null(strstr(r.out, "_465._tcp.mx.example.com. 3600 TLSA 2 0 0 3082"), "%s",
                       r.out);
    run_free(&r);

    /* A key on the token: its TLSA data is the hash of the public key keyfort key pub prints. */
    char uri[1024];
    char pub[400];
    gen_key("p256", "mx-tls");
    key_uri(uri, sizeof(uri), "mx-tls");
    tmp_path(pub, sizeof(pub), "mx-tls.pub");
    KEYFORT(&r, "key", "pub", "--pin-file", tok.pin_file, uri);
    expect_ok(&r);
    write_file(pub, r.out, r.out_len);
    run_free(&r);
    mr_spki_sha256(pub, false, want);
    KEYFORT(&r, "dane", "tlsa", "--key", uri, "--host", "mx.example.com");
    expect_ok(&r);
    cr_assert_not_null(strstr(r.out, want), "%s does not hold %s", r.out, want);
    assert_no_pin(r.out, r.out_len, "stdout", r.what);
    run_free(&r);
    /* Not a certificate: exit 3, nothing on stdout. */
    KEYFORT(&r, "dane", "tlsa", "--cert", pub, "--host", "mx.example.com");
    cr_assert_eq(mr_exit(&r), 3, "%s", r.err);
    cr_assert_eq(r.out_len, 0);
    cr_assert_not_null(strstr(r.err, "holds no PEM or DER certificate"), "%s", r.err);
    run_free(&r);
}

Test(mail_records, smimea_owner_and_bad_addresses)
{
    char crt[400];
    char key[400];
    tmp_path(crt, sizeof(crt), "hugh.crt");
    tmp_path(key, sizeof(key), "hugh.key");
    struct run r;
    OSSL(&r, ORDER_NONE, "req", "-x509", "-newkey", "ed25519", "-nodes", "-keyout", key, "-out",
         crt, "-subj", "/CN=hugh", "-days", "2");
    expect_ok(&r);
    run_free(&r);
    KEYFORT(&r, "smimea", "--email", "hugh@example.com", "--cert", crt);
    expect_ok(&r);
    mr_squash(r.out);
    /* RFC 8162 s3's example owner; 3 0 0 and the certificate's DER by default. */
    static const char want[] = "c93f1e400f26708f98cb19d936620da35eec8f72e57f9eec01c1afd6"
                               "._smimecert.example.com. 3600 SMIMEA 3 0 0 30";
    cr_assert_eq(strncmp(r.out, want, strlen(want)), 0, "%s", r.out);
    run_free(&r);
    static const char *const bad[] = { "@example.com", "h\xc3\xa9@example.com", "hugh",
                                       "hugh@exa mple.com" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        KEYFORT(&r, "smimea", "record", "--email", bad[i], "--cert", crt);
        cr_assert_eq(mr_exit(&r), 2, "%s: %s", bad[i], r.err);
        cr_assert_eq(r.out_len, 0);
        run_free(&r);
    }
}

Test(mail_records, policy_records_sign_and_verify)
{
    char rsa[400];
    char ec[400];
    char zone[400];
    char signed_zone[400];
    tmp_path(rsa, sizeof(rsa), "dkim.pem");
    tmp_path(ec, sizeof(ec), "ec.pem");
    tmp_path(zone, sizeof(zone), "policy.zone");
    tmp_path(signed_zone, sizeof(signed_zone), "policy.signed");
    struct run r;
    OSSL(&r, ORDER_NONE, "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out",
         rsa);
    expect_ok(&r);
    run_free(&r);
    OSSL(&r, ORDER_NONE, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-out", ec);
    expect_ok(&r);
    run_free(&r);
    /* ECDSA is no DKIM algorithm: refused before any record is printed. */
    KEYFORT(&r, "mail", "policy", "--domain", "example-a.test", "--mx", "mx.example-a.test",
            "--dkim-key", ec);
    cr_assert_eq(mr_exit(&r), 2, "%s", r.err);
    cr_assert_eq(r.out_len, 0, "nothing half-printed: %s", r.out);
    run_free(&r);
    KEYFORT(&r, "mail", "policy", "--domain", "example-a.test", "--mx", "mx.example-a.test",
            "--dkim-key", rsa);
    expect_ok(&r);
    char *records = strdup(r.out);
    mr_squash(r.out);
    cr_assert_not_null(strstr(r.out, "example-a.test. 3600 MX 10 mx.example-a.test.\n"), "%s",
                       r.out);
    cr_assert_not_null(strstr(r.out, "\"v=spf1 mx -all\""));
    cr_assert_not_null(strstr(r.out,
                              "_dmarc.example-a.test. 3600 TXT \"v=DMARC1; p=reject; adkim=s; "
                              "aspf=s; rua=mailto:dmarc-reports@example-a.test\""));
    cr_assert_not_null(strstr(r.out, "kf1._domainkey.example-a.test. 3600 TXT \"v=DKIM1; "
                                     "k=rsa; p=MIIBIjAN"));
    /* An RSA-2048 key's record is longer than 255 octets: split into two strings. */
    cr_assert_not_null(strstr(strstr(r.out, "_domainkey"), "\" \""), "%s", r.out);
    char text[8192];
    snprintf(text, sizeof(text),
             "$ORIGIN example-a.test.\n@ 3600 SOA ns hostmaster 1 7200 3600 1209600 300\n"
             "@ NS ns\nns A 192.0.2.53\nmx A 192.0.2.25\n%s",
             records);
    free(records);
    write_file(zone, text, strlen(text));
    run_free(&r);
    KEYFORT(&r, "zone", "sign", "-o", "example-a.test.", "--csk", rsa, zone, "-f", signed_zone);
    expect_ok(&r);
    run_free(&r);
    struct args a = { 0 };
    ARGS_ADD_LIST(&a, "ldns-verify-zone", signed_zone);
    run_args(&a, NULL, &r);
    expect_ok(&r);
    run_free(&r);
}

/* S/MIME with the key on the token: sign, verify (a changed message fails), encrypt to the
 * certificate, decrypt on the token; openssl cms agrees on the signature. */
Test(mail_records, smime_with_token_key)
{
    char uri[1024];
    char crt[400];
    char msg[400];
    char sig[400];
    char bad[400];
    char enc[400];
    char dec[400];
    char content[400];
    gen_key("p256", "alice");
    key_uri(uri, sizeof(uri), "alice");
    tmp_path(crt, sizeof(crt), "alice.crt");
    tmp_path(msg, sizeof(msg), "msg.txt");
    tmp_path(sig, sizeof(sig), "msg.signed");
    tmp_path(bad, sizeof(bad), "msg.bad");
    tmp_path(enc, sizeof(enc), "msg.enc");
    tmp_path(dec, sizeof(dec), "msg.dec");
    tmp_path(content, sizeof(content), "content.txt");
    struct run r;
    OSSL(&r, ORDER_KEYFORT_FIRST, "req", "-new", "-x509", "-key", uri, "-subj",
         "/CN=alice@example-a.test", "-days", "2", "-out", crt);
    expect_ok(&r);
    run_free(&r);
    static const char text[] = "Subject: hello\r\n\r\nHi Bob.\r\n";
    write_file(msg, text, strlen(text));
    KEYFORT(&r, "smime", "sign", "--key", uri, "--cert", crt, "--in", msg, "--out", sig);
    expect_ok(&r);
    assert_no_pin(r.err, r.err_len, "stderr", r.what);
    run_free(&r);
    KEYFORT(&r, "smime", "verify", "--cert", crt, "--in", sig, "--out", content);
    expect_ok(&r);
    cr_assert_not_null(strstr(r.err, "verified: signed by /CN=alice@example-a.test, certificate "
                                     "from the certificate file"),
                       "%s", r.err);
    run_free(&r);
    size_t len = 0;
    char *got = (char *)read_file(content, &len);
    cr_assert_not_null(strstr(got, "Hi Bob."));
    free(got);
    OSSL(&r, ORDER_NONE, "cms", "-verify", "-in", sig, "-noverify", "-certfile", crt, "-out",
         "/dev/null");
    expect_ok(&r);
    run_free(&r);
    /* One changed letter in the signed text. */
    char *signed_text = (char *)read_file(sig, &len);
    char *hi = strstr(signed_text, "Hi Bob.");
    cr_assert_not_null(hi);
    hi[5] = 'd';
    write_file(bad, signed_text, len);
    free(signed_text);
    KEYFORT(&r, "smime", "verify", "--cert", crt, "--in", bad, "--out", content);
    cr_assert(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 5, "%s", r.err);
    cr_assert_not_null(strstr(r.err, "signature did not verify"), "%s", r.err);
    run_free(&r);
    /* Encrypt to the P-256 certificate (key agreement), decrypt on the token. */
    KEYFORT(&r, "smime", "encrypt", "--cert", crt, "--in", msg, "--out", enc);
    expect_ok(&r);
    run_free(&r);
    KEYFORT(&r, "smime", "decrypt", "--key", uri, "--cert", crt, "--in", enc, "--out", dec);
    expect_ok(&r);
    run_free(&r);
    got = (char *)read_file(dec, &len);
    cr_assert(len == strlen(text) && memcmp(got, text, len) == 0, "decrypted: %.*s", (int)len, got);
    free(got);
}

/* keyfort dane check and openssl s_client -dane_tlsa_rrdata against the same TLS server (its
 * key on the token): both accept the right TLSA record and both refuse a wrong one. */
Test(mail_records, dane_check_agrees_with_s_client)
{
    char uri[1024];
    char crt[400];
    gen_key("p256", "mx");
    key_uri(uri, sizeof(uri), "mx");
    tmp_path(crt, sizeof(crt), "mx.crt");
    struct run r;
    OSSL(&r, ORDER_KEYFORT_FIRST, "req", "-new", "-x509", "-key", uri, "-subj",
         "/CN=mx.example.com", "-days", "2", "-out", crt);
    expect_ok(&r);
    run_free(&r);
    for (int match = 1; match >= 0; match--) {
        for (int tool = 0; tool < 2; tool++) {
            unsigned port = 0;
            struct server s;
            do {
                port = free_port();
            } while (!server_start(ORDER_KEYFORT_FIRST, crt, uri, port, &s));
            char p[8];
            char tlsa[400];
            snprintf(p, sizeof(p), "%u", port);
            tmp_path(tlsa, sizeof(tlsa), "mx.tlsa");
            KEYFORT(&r, "dane", "tlsa", "--cert", crt, "--host", "mx.example.com", "--port", p);
            expect_ok(&r);
            char *hex = strrchr(r.out, ' ') + 1; /* "3 1 1 <hex>\n": the last field */
            if (!match) {
                hex[0] = hex[0] == '0' ? '1' : '0';
            }
            char rrdata[200];
            snprintf(rrdata, sizeof(rrdata), "3 1 1 %.64s", hex);
            write_file(tlsa, r.out, r.out_len);
            run_free(&r);
            if (tool == 0) {
                KEYFORT(&r, "dane", "check", "--starttls", "none", "--port", p, "--tlsa-file", tlsa,
                        "--connect", "127.0.0.1", "mx.example.com");
                cr_assert_eq(mr_exit(&r), match ? 0 : 5, "%s\n%s", r.out, r.err);
                if (match) {
                    cr_assert_not_null(strstr(r.out, "TLSA 3 1 1 (DANE-EE SPKI SHA2-256) matched"),
                                       "%s", r.out);
                } else {
                    cr_assert_not_null(strstr(r.err, "no TLSA record matches"), "%s", r.err);
                }
            } else {
                char connect[64];
                snprintf(connect, sizeof(connect), "127.0.0.1:%u", port);
                OSSL(&r, ORDER_NONE, "s_client", "-connect", connect, "-dane_tlsa_domain",
                     "mx.example.com", "-dane_tlsa_rrdata", rrdata, "-verify_return_error");
                cr_assert_eq(mr_exit(&r) == 0, match, "s_client %s: %s", rrdata, r.err);
            }
            run_free(&r);
            server_finish(&s, &r);
            run_free(&r);
        }
    }
}

/* keyfort dane check over every DANE-EE selector and matching type, DANE-TA with the MX name
 * checked (and a wrong name refused), and PKIX usages skipped for SMTP (RFC 7672 s3.1). The
 * server (plain s_server with file keys: this test is about matching, not the token) presents
 * a chain from a CA made here. */
struct dane_case {
    char tlsa[12]; /* "U S M" */
    char cert[12]; /* which certificate the record holds: "ee" or "ca" */
    char host[32]; /* the name checked */
    int exit_code; /* 0 verified, 5 no match, 8 nothing usable */
};

static struct dane_case dane_cases[] = {
    { "3 0 0", "ee", "mx.example.com", 0 },
    { "3 0 1", "ee", "mx.example.com", 0 },
    { "3 0 2", "ee", "mx.example.com", 0 },
    { "3 1 0", "ee", "mx.example.com", 0 },
    { "3 1 1", "ee", "mx.example.com", 0 },
    { "3 1 2", "ee", "mx.example.com", 0 },
    /* DANE-EE ignores names (RFC 7672 s3.1.1). */
    { "3 1 1", "ee", "other.example.com", 0 },
    /* DANE-TA: the CA's key, and the chain's leaf must carry the MX name (s3.1.2). */
    { "2 1 1", "ca", "mx.example.com", 0 },
    { "2 0 1", "ca", "mx.example.com", 0 },
    { "2 1 1", "ca", "other.example.com", 5 },
    /* A DANE-EE record of the CA, a DANE-TA record of the leaf: no match. */
    { "3 1 1", "ca", "mx.example.com", 5 },
    /* PKIX-EE is not for SMTP: skipped, so nothing usable. */
    { "1 1 1", "ee", "mx.example.com", 8 },
};

ParameterizedTestParameters(mail_records, dane_matching)
{
    return cr_make_param_array(struct dane_case, dane_cases,
                               sizeof(dane_cases) / sizeof(dane_cases[0]));
}

ParameterizedTest(struct dane_case *c, mail_records, dane_matching)
{
    char ca_key[400];
    char ca_crt[400];
    char ee_key[400];
    char ee_csr[400];
    char ee_crt[400];
    char ext[400];
    tmp_path(ca_key, sizeof(ca_key), "ca.key");
    tmp_path(ca_crt, sizeof(ca_crt), "ca.crt");
    tmp_path(ee_key, sizeof(ee_key), "ee.key");
    tmp_path(ee_csr, sizeof(ee_csr), "ee.csr");
    tmp_path(ee_crt, sizeof(ee_crt), "ee.crt");
    tmp_path(ext, sizeof(ext), "ee.ext");
    write_file(ext, "subjectAltName=DNS:mx.example.com\n", 34);
    struct run r;
    OSSL(&r, ORDER_NONE, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-keyout", ca_key, "-out", ca_crt, "-subj", "/CN=Test CA", "-days", "2",
         "-addext", "basicConstraints=critical,CA:TRUE");
    expect_ok(&r);
    run_free(&r);
    OSSL(&r, ORDER_NONE, "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-keyout", ee_key, "-out", ee_csr, "-subj", "/CN=mx.example.com");
    expect_ok(&r);
    run_free(&r);
    OSSL(&r, ORDER_NONE, "x509", "-req", "-in", ee_csr, "-CA", ca_crt, "-CAkey", ca_key,
         "-CAcreateserial", "-days", "2", "-extfile", ext, "-out", ee_crt);
    expect_ok(&r);
    run_free(&r);

    unsigned u = 0;
    unsigned sel = 0;
    unsigned m = 0;
    cr_assert_eq(sscanf(c->tlsa, "%u %u %u", &u, &sel, &m), 3);
    char us[4];
    char ss[4];
    char ms[4];
    snprintf(us, sizeof(us), "%u", u);
    snprintf(ss, sizeof(ss), "%u", sel);
    snprintf(ms, sizeof(ms), "%u", m);
    unsigned port = free_port();
    char p[8];
    snprintf(p, sizeof(p), "%u", port);
    char tlsa[400];
    tmp_path(tlsa, sizeof(tlsa), "rec.tlsa");
    KEYFORT(&r, "dane", "tlsa", "--cert", strcmp(c->cert, "ca") == 0 ? ca_crt : ee_crt, "--host",
            c->host, "--port", p, "--usage", us, "--selector", ss, "--mtype", ms);
    expect_ok(&r);
    write_file(tlsa, r.out, r.out_len);
    run_free(&r);

    struct args a = { 0 };
    char accept[64];
    snprintf(accept, sizeof(accept), "127.0.0.1:%u", port);
    ARGS_ADD_LIST(&a, "openssl", "s_server", "-accept", accept, "-cert", ee_crt, "-key", ee_key,
                  "-cert_chain", ca_crt, "-www", "-naccept", "1");
    struct server s;
    cr_assert(server_spawn(&a, &s), "s_server on %u", port);
    KEYFORT(&r, "dane", "check", "--starttls", "none", "--port", p, "--tlsa-file", tlsa,
            "--connect", "127.0.0.1", c->host);
    cr_assert_eq(mr_exit(&r), c->exit_code, "%s for %s (%s): exit %d\n%s%s", c->tlsa, c->cert,
                 c->host, mr_exit(&r), r.out, r.err);
    if (c->exit_code == 0) {
        char want[64];
        snprintf(want, sizeof(want), "TLSA %s (", c->tlsa);
        cr_assert_not_null(strstr(r.out, want), "%s", r.out);
    }
    run_free(&r);
    if (c->exit_code == 8) {
        /* Nothing was usable, so no connection was made: stop the server. */
        kill(s.pid, SIGTERM);
    }
    server_finish(&s, &r);
    run_free(&r);
}

/* A resolver that does not answer: a clear error and exit 8, nothing printed, no fallback. */
Test(mail_records, unreachable_resolver)
{
    char anchor[400];
    tmp_path(anchor, sizeof(anchor), "anchor.ds");
    static const char ds[] = "example.com. 3600 IN DS 12345 13 2 "
                             "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n";
    write_file(anchor, ds, strlen(ds));
    unsigned port = free_port(); /* nothing listens there */
    char resolver[64];
    snprintf(resolver, sizeof(resolver), "127.0.0.1@%u", port);
    struct run r;
    KEYFORT(&r, "smimea", "lookup", "--anchor", anchor, "--resolver", resolver, "hugh@example.com");
    cr_assert_eq(mr_exit(&r), 8, "%s", r.err);
    cr_assert_not_null(strstr(r.err, "DNS lookup failed"), "%s", r.err);
    cr_assert_not_null(strstr(r.err, "did not answer"), "%s", r.err);
    cr_assert_eq(r.out_len, 0);
    run_free(&r);
    KEYFORT(&r, "dane", "check", "--anchor", anchor, "--resolver", resolver, "mx.example.com");
    cr_assert_eq(mr_exit(&r), 8, "%s", r.err);
    cr_assert_not_null(strstr(r.err, "DNS lookup failed"), "%s", r.err);
    run_free(&r);
}
