/* tests/dnssec/test_scenario.c - scripts/sp1800-6.sh end to end, as root in network namespaces
 * it creates: DANE-authenticated delivery from example-a.test to example-b.test whose smtpd
 * key is on the token, and bob's S/MIME check with alice's certificate from SMIMEA. */
#include "tests/provider/ossl_cli.h"

#include <criterion/criterion.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef KF_SCENARIO_SH
#error KF_SCENARIO_SH must name scripts/sp1800-6.sh
#endif

Test(scenario, sp1800_6_positive_path, .timeout = 300)
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
    cr_assert_not_null(strstr(r.err, "verified: signed by /CN=alice@example-a.test, certificate "
                                     "from a DNSSEC-validated SMIMEA record"),
                       "%s", r.err);
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
