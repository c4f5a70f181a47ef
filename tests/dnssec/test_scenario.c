/* tests/dnssec/test_scenario.c - scripts/sp1800-6.sh end to end, as root in network namespaces
 * it creates: DANE-authenticated delivery from example-a.test to example-b.test whose smtpd
 * key is on the token, and bob's S/MIME check with alice's certificate from SMIMEA; then the
 * negative cases (wrong TLSA, tampered zone, altered message, SMIMEA removed). */
#include "tests/provider/ossl_cli.h"

#include <criterion/criterion.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef KF_SCENARIO_SH
#error KF_SCENARIO_SH must name scripts/sp1800-6.sh
#endif

Test(scenario, sp1800_6_with_negative_cases, .timeout = 300)
{
    cr_assert_eq(geteuid(), 0, "the scenario needs root (network namespaces, Postfix)");
    setenv("KF_BUILD_DIR", KF_BUILD_DIR, 1);
    struct args a = { 0 };
    ARGS_ADD_LIST(&a, "bash", KF_SCENARIO_SH);
    struct run r;
    run_args(&a, NULL, &r);
    expect_ok(&r);
    /* Postfix's own verdict on the TLS connection: authenticated by TLSA (DANE). */
    cr_assert_not_null(strstr(r.out, "Verified TLS connection established to "
                                     "mx.example-b.test[192.0.2.20]:25"),
                       "%s\n%s", r.out, r.err);
    cr_assert_not_null(strstr(r.out, "status=sent"), "%s", r.out);
    cr_assert_not_null(strstr(r.out, "verified: signed by /CN=alice@example-a.test, certificate "
                                     "from a DNSSEC-validated SMIMEA record"),
                       "%s", r.out);
    /* The negative cases, each for its own reason. */
    cr_assert_not_null(strstr(r.out, "no matching DANE TLSA records"), "%s", r.out);
    cr_assert_not_null(strstr(r.out, "dane: mx.example-b.test has address 192.0.2.20 (secure)"),
                       "%s", r.out);
    cr_assert_not_null(strstr(r.out, "status: SERVFAIL"), "%s", r.out);
    cr_assert_not_null(strstr(r.out, "no validated certificate"), "%s", r.out);
    static const char *const rows[] = { "keyfort dane check mx.example-b.test",
                                        "TLSA does not match", "zone tampered after signing",
                                        "S/MIME message altered", "SMIMEA record removed" };
    const char *summary = strstr(r.out, "== summary");
    cr_assert_not_null(summary, "%s", r.out);
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const char *row = strstr(summary, rows[i]);
        cr_assert_not_null(row, "no report row for %s", rows[i]);
        const char *eol = strchr(row, '\n');
        cr_assert(eol != NULL && eol - row > 3 && strncmp(eol - 2, "ok", 2) == 0,
                  "row %s not ok: %.*s", rows[i], (int)(eol - row), row);
    }
    assert_no_pin(r.out, r.out_len, "stdout", r.what);
    assert_no_pin(r.err, r.err_len, "stderr", r.what);
    run_free(&r);
    /* Nothing left behind: the namespaces are gone. */
    struct args l = { 0 };
    ARGS_ADD_LIST(&l, "ip", "netns", "list");
    run_args(&l, NULL, &r);
    expect_ok(&r);
    cr_assert_null(strstr(r.out, "kf-"), "namespaces left: %s", r.out);
    run_free(&r);
}
