/* tests/dnssec/test_interop.c - keyfort's zones against ldns, BIND and Knot, both ways.
 *
 * Zones keyfort signs with keys on a fresh SoftHSM2 token (every algorithm, NSEC and NSEC3)
 * must pass ldns-verify-zone, dnssec-verify and kzonecheck; zones the peers sign must pass
 * keyfort zone verify with their DS as trust anchor; tampered zones must fail, naming the
 * record; bad input must leave no output file. The peers run through peers.sh (README.md
 * beside this file). */
#include "tests/provider/ossl_cli.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef KF_PEERS_SH
#error KF_PEERS_SH must name tests/dnssec/peers.sh
#endif

static const char interop_zone[] =
    "$ORIGIN example.\n"
    "$TTL 3600\n"
    "@ SOA ns1 hostmaster 2026112301 7200 3600 1209600 300\n"
    "@ NS ns1\n"
    "@ NS ns2\n"
    "@ MX 10 mail\n"
    "ns1 A 192.0.2.1\n"
    "ns2 A 192.0.2.2\n"
    "mail A 192.0.2.3\n"
    "mail AAAA 2001:db8::3\n"
    "www CNAME mail\n"
    "*.wild TXT \"wildcard\"\n"
    "a.b.c A 192.0.2.4\n"
    "sub NS ns.sub\n"
    "ns.sub A 192.0.2.5\n"
    "sec NS ns.sec\n"
    "sec DS 12345 13 2 "
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n"
    "ns.sec A 192.0.2.6\n";

TestSuite(interop, .init = prov_init, .fini = prov_fini, .timeout = 600);

static void interop_write_zone(char *path, size_t cap)
{
    tmp_path(path, cap, "in.zone");
    write_file(path, interop_zone, strlen(interop_zone));
}

/* Run a command (NULL-terminated) and keep its output. */
static void interop_run(struct run *r, ...)
{
    struct args a = { 0 };
    va_list ap;
    va_start(ap, r);
    args_add_va(&a, ap);
    va_end(ap);
    run_args(&a, NULL, r);
}
#define RUN(r, ...) interop_run((r), __VA_ARGS__, (const char *)NULL)

/* The exit code of a finished run (the process exited by itself). */
static int interop_exit(const struct run *r)
{
    cr_assert(!r->timed_out && WIFEXITED(r->status), "%s: no normal exit; stderr:\n%s", r->what,
              r->err);
    return WEXITSTATUS(r->status);
}

static void interop_peers_verify(const char *zone)
{
    static const char *const tools[] = { "ldns", "bind", "knot" };
    for (size_t i = 0; i < 3; i++) {
        struct run r;
        RUN(&r, "bash", KF_PEERS_SH, "verify", tools[i], "example.", zone);
        cr_assert_eq(interop_exit(&r), 0, "%s rejects keyfort's zone:\n%s%s", tools[i], r.out,
                     r.err);
        run_free(&r);
    }
}

struct interop_alg {
    char type[12]; /* keyfort key gen --type */
    char alg[4];   /* --alg for RSA */
    bool nsec3;
};

static struct interop_alg interop_algs[] = {
    { "rsa2048", "8", false }, { "rsa2048", "10", true }, { "p256", "", false },
    { "p256", "", true },      { "p384", "", true },      { "ed25519", "", false },
    { "ed25519", "", true },   { "ed448", "", false },
};

ParameterizedTestParameters(interop, token_signed_zone_passes_peers)
{
    return cr_make_param_array(struct interop_alg, interop_algs,
                               sizeof(interop_algs) / sizeof(interop_algs[0]));
}

/* Sign the test zone on the token; @p extra are more zone sign options (NULL-terminated). */
static void interop_sign(const struct interop_alg *p, const char *in, const char *out)
{
    char ksk[1024];
    char zsk[1024];
    gen_key(p->type, "ksk");
    gen_key(p->type, "zsk");
    key_uri(ksk, sizeof(ksk), "ksk");
    key_uri(zsk, sizeof(zsk), "zsk");
    struct run r;
    if (p->alg[0] != '\0') {
        KEYFORT(&r, "zone", "sign", "-o", "example.", "--ksk", ksk, "--zsk", zsk, "--alg", p->alg,
                p->nsec3 ? "--nsec3" : "--cds", in, "-f", out);
    } else {
        KEYFORT(&r, "zone", "sign", "-o", "example.", "--ksk", ksk, "--zsk", zsk,
                p->nsec3 ? "--nsec3" : "--cds", in, "-f", out);
    }
    expect_ok(&r);
    cr_assert_not_null(strstr(r.out, "signed example.:"), "%s", r.out);
    assert_no_pin(r.out, r.out_len, "stdout", r.what);
    assert_no_pin(r.err, r.err_len, "stderr", r.what);
    run_free(&r);
}

ParameterizedTest(struct interop_alg *p, interop, token_signed_zone_passes_peers)
{
    char in[400];
    char out[400];
    interop_write_zone(in, sizeof(in));
    tmp_path(out, sizeof(out), "out.zone");
    interop_sign(p, in, out);
    struct run r;
    KEYFORT(&r, "zone", "verify", out);
    expect_ok(&r);
    cr_assert_not_null(strstr(r.out, "secure example."), "%s", r.out);
    run_free(&r);
    interop_peers_verify(out);
}

struct interop_peer {
    char tool[8];
    char alg[4];
    bool nsec3;
};

static struct interop_peer interop_peers[] = {
    { "ldns", "13", false }, { "ldns", "8", true },   { "bind", "13", true },
    { "bind", "15", false }, { "knot", "13", false }, { "knot", "8", true },
};

ParameterizedTestParameters(interop, peer_signed_zone_passes_keyfort)
{
    return cr_make_param_array(struct interop_peer, interop_peers,
                               sizeof(interop_peers) / sizeof(interop_peers[0]));
}

ParameterizedTest(struct interop_peer *p, interop, peer_signed_zone_passes_keyfort)
{
    char in[400];
    char out[400];
    char dir[400];
    char anchor[400];
    interop_write_zone(in, sizeof(in));
    tmp_path(out, sizeof(out), "peer.zone");
    tmp_path(dir, sizeof(dir), "keys");
    tmp_path(anchor, sizeof(anchor), "anchor.ds");
    cr_assert_eq(mkdir(dir, 0700), 0);
    struct run r;
    RUN(&r, "bash", KF_PEERS_SH, "keygen", p->tool, p->alg, "example.", dir);
    cr_assert_eq(interop_exit(&r), 0, "keygen: %s", r.err);
    run_free(&r);
    if (p->nsec3) {
        RUN(&r, "bash", KF_PEERS_SH, "sign", p->tool, "example.", in, out, dir, "--nsec3");
    } else {
        RUN(&r, "bash", KF_PEERS_SH, "sign", p->tool, "example.", in, out, dir);
    }
    cr_assert_eq(interop_exit(&r), 0, "%s sign: %s", p->tool, r.err);
    run_free(&r);
    /* The trust anchor comes from BIND's tool, independent of keyfort's DS code. */
    RUN(&r, "dnssec-dsfromkey", "-2", "-f", out, "example.");
    cr_assert_eq(interop_exit(&r), 0, "dnssec-dsfromkey: %s", r.err);
    write_file(anchor, r.out, r.out_len);
    run_free(&r);
    KEYFORT(&r, "zone", "verify", "--anchor", anchor, out);
    expect_ok(&r);
    cr_assert_not_null(strstr(r.out, p->nsec3 ? "NSEC3 names" : "NSEC names"), "%s", r.out);
    cr_assert_not_null(strstr(r.out, "trust anchor matched"), "%s", r.out);
    run_free(&r);
}

/* ---- tampering --------------------------------------------------------------------------------
 */

/* Copy @p from to @p to with the first line matching @p match edited: replaced by @p repl,
 * or dropped when @p repl is NULL. */
static void interop_edit(const char *from, const char *to, const char *match, const char *repl)
{
    size_t len = 0;
    char *text = (char *)read_file(from, &len);
    FILE *f = fopen(to, "w");
    cr_assert_not_null(f);
    bool done = false;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        if (!done && strstr(line, match) != NULL) {
            done = true;
            if (repl != NULL) {
                fprintf(f, "%s\n", repl);
            }
            continue;
        }
        fprintf(f, "%s\n", line);
    }
    fclose(f);
    free(text);
    cr_assert(done, "no line with '%s' in %s", match, from);
}

static void interop_expect_bogus(const char *zone, const char *needle)
{
    struct run r;
    KEYFORT(&r, "zone", "verify", zone);
    cr_assert_eq(interop_exit(&r), 7, "%s: exit %d, expected 7 (bogus); stdout:\n%s", r.what,
                 interop_exit(&r), r.out);
    cr_assert_not_null(strstr(r.out, needle), "'%s' not in:\n%s", needle, r.out);
    run_free(&r);
    RUN(&r, "bash", KF_PEERS_SH, "verify", "ldns", "example.", zone);
    cr_assert_neq(interop_exit(&r), 0, "ldns-verify-zone accepts the tampered zone too?");
    run_free(&r);
}

Test(interop, tampered_zones_are_named)
{
    char in[400];
    char good[400];
    char bad[400];
    interop_write_zone(in, sizeof(in));
    tmp_path(good, sizeof(good), "good.zone");
    tmp_path(bad, sizeof(bad), "bad.zone");
    struct interop_alg p = { "p256", "", true };
    interop_sign(&p, in, good);
    /* One flipped RDATA byte. */
    interop_edit(good, bad, "\tA\t192.0.2.3", "mail.example. 3600 IN A 192.0.2.7");
    interop_expect_bogus(bad, "bogus: mail.example. A key ");
    /* A removed NSEC3 (the first in the file). */
    interop_edit(good, bad, "\tNSEC3\t", NULL);
    interop_expect_bogus(bad, "NSEC3 missing");
    /* The ZSK's DNSKEY swapped for another key's. */
    size_t len = 0;
    char *text = (char *)read_file(good, &len);
    char *zsk = strstr(text, "DNSKEY\t256 3 13 ");
    cr_assert_not_null(zsk);
    zsk[20] = zsk[20] == 'A' ? 'B' : 'A'; /* a different public key, still well formed */
    write_file(bad, text, len);
    free(text);
    interop_expect_bogus(bad, "no DNSKEY for the signature");
    /* Expired signatures. */
    char ksk[1024];
    key_uri(ksk, sizeof(ksk), "ksk");
    struct run r;
    KEYFORT(&r, "zone", "sign", "-o", "example.", "--csk", ksk, "--inception", "20200101000000",
            "--expiration", "20200201000000", in, "-f", bad);
    expect_ok(&r);
    run_free(&r);
    interop_expect_bogus(bad, "signature expired: expired at 20200201000000");
}

/* ---- bad input --------------------------------------------------------------------------------
 */

struct interop_bad {
    char text[120];
    char where[80];
};

static struct interop_bad interop_bad_zones[] = {
    { "example. 60 IN SOA a b 1 2 3 4 5\nx.other. 60 IN A 192.0.2.1\n",
      "bad.zone:2: x.other. is outside the zone example." },
    { "example. 60 IN SOA a b 1 2 3 4 5\nx 60 IN NOTATYPE 1\n", "bad.zone:2: " },
    { "example. 60 IN SOA a b 1 2 3 4 5\nx 60 IN TXT \"unterminated\n", "bad.zone:" },
    { "example. 60 IN SOA a b 1 2 3 4 5\nx 60 IN TYPE65000 \\# 70000 00\n", "bad.zone:2: " },
    { "x.example. 60 IN A 192.0.2.1\n", "no SOA record at the apex example." },
};

ParameterizedTestParameters(interop, bad_input_leaves_no_output)
{
    return cr_make_param_array(struct interop_bad, interop_bad_zones,
                               sizeof(interop_bad_zones) / sizeof(interop_bad_zones[0]));
}

ParameterizedTest(struct interop_bad *c, interop, bad_input_leaves_no_output)
{
    char in[400];
    char out[400];
    char key[400];
    tmp_path(in, sizeof(in), "bad.zone");
    tmp_path(out, sizeof(out), "out.zone");
    tmp_path(key, sizeof(key), "key.pem");
    write_file(in, c->text, strlen(c->text));
    /* An existing output must survive a failed run untouched. */
    write_file(out, "previous\n", 9);
    struct run r;
    RUN(&r, "openssl", "genpkey", "-algorithm", "ED25519", "-out", key);
    cr_assert_eq(interop_exit(&r), 0);
    run_free(&r);
    KEYFORT(&r, "zone", "sign", "-o", "example.", "--csk", key, in, "-f", out);
    cr_assert_eq(interop_exit(&r), 3, "%s: exit %d (expected 3, bad input)\n%s", r.what,
                 interop_exit(&r), r.err);
    cr_assert_not_null(strstr(r.err, c->where), "'%s' not in: %s", c->where, r.err);
    run_free(&r);
    size_t len = 0;
    char *prev = (char *)read_file(out, &len);
    cr_assert(len == 9 && memcmp(prev, "previous\n", 9) == 0, "output file changed");
    free(prev);
    /* No temporary file left beside it either. */
    char dir_listing[4096] = "";
    RUN(&r, "ls", tok.dir);
    snprintf(dir_listing, sizeof(dir_listing), "%s", r.out);
    run_free(&r);
    cr_assert_null(strstr(dir_listing, ".kf-"), "a temporary file was left: %s", dir_listing);
}
