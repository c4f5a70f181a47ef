/* tests/dnssec/test_resolver.c - a real resolver chain: knotd serves a zone keyfort signed
 * with token keys, Unbound validates it with keyfort's DS as trust anchor (resolver.sh beside
 * this file). Secure answers carry AD; after a tampered re-sign the answer is SERVFAIL. */
#include "tests/provider/ossl_cli.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#ifndef KF_RESOLVER_SH
#error KF_RESOLVER_SH must name tests/dnssec/resolver.sh
#endif

static char res_dir[400];

static void res_init(void)
{
    prov_init();
    tmp_path(res_dir, sizeof(res_dir), "resolver");
    cr_assert_eq(mkdir(res_dir, 0700), 0);
}

/* The daemons must go even when an assertion ended the test early. */
static void res_fini(void)
{
    struct args a = { 0 };
    struct run r;
    ARGS_ADD_LIST(&a, "bash", KF_RESOLVER_SH, "stop", res_dir);
    run_args(&a, NULL, &r);
    run_free(&r);
    prov_fini();
}

TestSuite(resolver, .init = res_init, .fini = res_fini, .timeout = 300);

static void res_cmd(struct run *r, const char *verb, const char *a1, const char *a2, const char *a3,
                    const char *a4)
{
    struct args a = { 0 };
    ARGS_ADD_LIST(&a, "bash", KF_RESOLVER_SH, verb, res_dir);
    const char *more[] = { a1, a2, a3, a4 };
    for (size_t i = 0; i < 4 && more[i] != NULL; i++) {
        args_add(&a, more[i]);
    }
    run_args(&a, NULL, r);
}

static void res_query(const char *name, const char *type, const char *want)
{
    struct run r;
    res_cmd(&r, "query", name, type, NULL, NULL);
    expect_ok(&r);
    cr_assert_not_null(strstr(r.out, want), "%s %s: '%s' expected, got: %s", name, type, want,
                       r.out);
    run_free(&r);
}

static const char res_zone[] = "$ORIGIN kf-test.example.\n"
                               "$TTL 300\n"
                               "@ SOA ns1 hostmaster 1 7200 3600 1209600 300\n"
                               "@ NS ns1\n"
                               "ns1 A 127.0.0.1\n"
                               "www A 192.0.2.80\n"
                               "@ MX 10 mx\n"
                               "mx A 192.0.2.25\n";

Test(resolver, unbound_validates_keyfort_zone)
{
    char in[400];
    char out[400];
    char tampered[400];
    char anchor[400];
    char ksk[1024];
    char zsk[1024];
    tmp_path(in, sizeof(in), "in.zone");
    tmp_path(out, sizeof(out), "signed.zone");
    tmp_path(tampered, sizeof(tampered), "tampered.zone");
    tmp_path(anchor, sizeof(anchor), "anchor.ds");
    write_file(in, res_zone, strlen(res_zone));
    gen_key("p256", "ksk");
    gen_key("p256", "zsk");
    key_uri(ksk, sizeof(ksk), "ksk");
    key_uri(zsk, sizeof(zsk), "zsk");
    struct run r;
    KEYFORT(&r, "zone", "sign", "-o", "kf-test.example.", "--ksk", ksk, "--zsk", zsk, "--nsec3", in,
            "-f", out);
    expect_ok(&r);
    run_free(&r);
    /* The trust anchor is keyfort's DS of the KSK, as an operator would publish it. */
    KEYFORT(&r, "key", "dnskey", "--origin", "kf-test.example.", "--ksk", ksk);
    expect_ok(&r);
    cr_assert_not_null(strstr(r.out, "\tDS\t"), "%s", r.out);
    write_file(anchor, r.out, r.out_len);
    run_free(&r);

    res_cmd(&r, "start", "kf-test.example.", out, anchor, NULL);
    expect_ok(&r);
    cr_assert_not_null(strstr(r.out, "resolver_port="), "%s", r.out);
    run_free(&r);
    res_query("www.kf-test.example.", "A", "rcode=NOERROR ad=1 answers=1");
    res_query("mx.kf-test.example.", "A", "rcode=NOERROR ad=1");
    /* A name that does not exist: proven by the NSEC3 chain, so still AD. */
    res_query("nothere.kf-test.example.", "A", "rcode=NXDOMAIN ad=1");

    /* Re-signed, then one address changed after signing: Unbound must refuse it. */
    size_t len = 0;
    char *text = (char *)read_file(out, &len);
    char *a = strstr(text, "192.0.2.80");
    cr_assert_not_null(a);
    a[9] = '1'; /* 192.0.2.81 */
    write_file(tampered, text, len);
    free(text);
    res_cmd(&r, "reload", tampered, NULL, NULL, NULL);
    expect_ok(&r);
    run_free(&r);
    res_query("www.kf-test.example.", "A", "rcode=SERVFAIL");
    /* And the untouched name in the same zone still validates. */
    res_query("mx.kf-test.example.", "A", "rcode=NOERROR ad=1");
}

/* keyfort smimea lookup through the same chain: the certificate comes back only when the
 * answer validates; a removed record is "no validated certificate", a tampered one bogus, and
 * neither falls back to anything. */
Test(resolver, smimea_lookup_validated_only)
{
    char in[400];
    char out[400];
    char anchor[400];
    char crt[400];
    char key[400];
    char ksk[1024];
    tmp_path(in, sizeof(in), "in.zone");
    tmp_path(out, sizeof(out), "signed.zone");
    tmp_path(anchor, sizeof(anchor), "anchor.ds");
    tmp_path(crt, sizeof(crt), "hugh.crt");
    tmp_path(key, sizeof(key), "hugh.key");
    struct run r;
    OSSL(&r, ORDER_NONE, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-keyout", key, "-out", crt, "-subj", "/CN=hugh@kf-test.example", "-days", "2");
    expect_ok(&r);
    run_free(&r);
    KEYFORT(&r, "smimea", "--email", "hugh@kf-test.example", "--cert", crt);
    expect_ok(&r);
    char zone[8192];
    snprintf(zone, sizeof(zone), "%s%s", res_zone, r.out);
    write_file(in, zone, strlen(zone));
    run_free(&r);
    gen_key("p256", "csk");
    key_uri(ksk, sizeof(ksk), "csk");
    KEYFORT(&r, "zone", "sign", "-o", "kf-test.example.", "--csk", ksk, "--nsec3", in, "-f", out);
    expect_ok(&r);
    run_free(&r);
    KEYFORT(&r, "key", "dnskey", "--origin", "kf-test.example.", "--ksk", ksk);
    expect_ok(&r);
    write_file(anchor, r.out, r.out_len);
    run_free(&r);
    res_cmd(&r, "start", "kf-test.example.", out, anchor, NULL);
    expect_ok(&r);
    char port[32] = "";
    const char *p = strstr(r.out, "resolver_port=");
    cr_assert_not_null(p);
    snprintf(port, sizeof(port), "127.0.0.1@%d", atoi(p + 14));
    run_free(&r);

    KEYFORT(&r, "smimea", "lookup", "--anchor", anchor, "--resolver", port, "hugh@kf-test.example");
    expect_ok(&r);
    cr_assert_not_null(strstr(r.out, "# secure: 1 SMIMEA record at c93f1e"), "%s", r.out);
    cr_assert_not_null(strstr(r.out, "subject /CN=hugh@kf-test.example"), "%s", r.out);
    /* The PEM that came back is the certificate that went in. */
    size_t crt_len = 0;
    char *pem = (char *)read_file(crt, &crt_len);
    cr_assert_not_null(strstr(r.out, pem), "the looked-up certificate differs");
    free(pem);
    run_free(&r);

    /* A message signed with hugh's key verifies against the SMIMEA certificate. */
    char msg[400];
    char sig[400];
    tmp_path(msg, sizeof(msg), "msg.txt");
    tmp_path(sig, sizeof(sig), "msg.signed");
    write_file(msg, "Hi.\r\n", 5);
    KEYFORT(&r, "smime", "sign", "--key", key, "--cert", crt, "--in", msg, "--out", sig);
    expect_ok(&r);
    run_free(&r);
    KEYFORT(&r, "smime", "verify", "--email", "hugh@kf-test.example", "--anchor", anchor,
            "--resolver", port, "--in", sig, "--out", "/dev/null");
    expect_ok(&r);
    cr_assert_not_null(strstr(r.err, "certificate from a DNSSEC-validated SMIMEA record at "
                                     "c93f1e"),
                       "%s", r.err);
    run_free(&r);
    /* Another address has no SMIMEA record: no validated certificate, and the certificate
     * inside the message is not used instead. */
    KEYFORT(&r, "smime", "verify", "--email", "nobody@kf-test.example", "--anchor", anchor,
            "--resolver", port, "--in", sig, "--out", "/dev/null");
    cr_assert(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 8, "%s", r.err);
    cr_assert_not_null(strstr(r.err, "no validated certificate"), "%s", r.err);
    run_free(&r);

    KEYFORT(&r, "smimea", "lookup", "--anchor", anchor, "--resolver", port,
            "nobody@kf-test.example");
    cr_assert(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 8, "%s", r.err);
    cr_assert_not_null(strstr(r.err, "no validated certificate"), "%s", r.err);
    cr_assert_eq(r.out_len, 0);
    run_free(&r);

    /* The record's certificate changed after signing: bogus, exit 8, nothing printed. */
    size_t len = 0;
    char *text = (char *)read_file(out, &len);
    char *rec = strstr(text, "SMIMEA\t3 0 0 ");
    cr_assert_not_null(rec);
    rec[40] = rec[40] == 'A' ? 'B' : 'A';
    char tampered[400];
    tmp_path(tampered, sizeof(tampered), "tampered.zone");
    write_file(tampered, text, len);
    free(text);
    res_cmd(&r, "reload", tampered, NULL, NULL, NULL);
    expect_ok(&r);
    run_free(&r);
    KEYFORT(&r, "smimea", "lookup", "--anchor", anchor, "--resolver", port, "hugh@kf-test.example");
    cr_assert(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 8, "%s", r.err);
    cr_assert_not_null(strstr(r.err, "bogus"), "%s", r.err);
    cr_assert_eq(r.out_len, 0, "nothing printed for a bogus answer: %s", r.out);
    run_free(&r);
}
