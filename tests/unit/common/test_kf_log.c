/* tests/unit/common/test_kf_log.c - common/kf_log.c (STYLE.md s6).
 *
 * The level comes from KEYFORT_LOG, read once at first use: each Criterion test is its own
 * process, so every test sets the environment in its .init, before that first use. Arguments
 * of a message below the level are never evaluated, and output goes to stderr only. */
#include "common/kf_log.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <criterion/redirect.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void redirect_both(void)
{
    cr_redirect_stdout();
    cr_redirect_stderr();
}

static void env_unset(void)
{
    unsetenv("KEYFORT_LOG");
    redirect_both();
}

static void env_debug(void)
{
    setenv("KEYFORT_LOG", "debug", 1);
    redirect_both();
}

static void env_info(void)
{
    setenv("KEYFORT_LOG", "info", 1);
    redirect_both();
}

static void env_error(void)
{
    setenv("KEYFORT_LOG", "error", 1);
    redirect_both();
}

static void env_none(void)
{
    setenv("KEYFORT_LOG", "none", 1);
    redirect_both();
}

static void env_garbage(void)
{
    setenv("KEYFORT_LOG", "verbose", 1);
    redirect_both();
}

static void env_empty(void)
{
    setenv("KEYFORT_LOG", "", 1);
    redirect_both();
}

/* ---- level names --------------------------------------------------------------------------- */

struct level_case {
    char name[16];
    bool ok;
    enum kf_log_level level;
    char why[48];
};

ParameterizedTestParameters(log_parse, names)
{
    static const struct level_case cases[] = {
        { "none", true, KF_LOG_NONE, "none" },
        { "error", true, KF_LOG_ERROR, "error" },
        { "warn", true, KF_LOG_WARN, "warn" },
        { "info", true, KF_LOG_INFO, "info" },
        { "debug", true, KF_LOG_DEBUG, "debug" },
        { "", false, 0, "empty" },
        { "warning", false, 0, "a longer word" },
        { "debu", false, 0, "a prefix" },
        { "debug ", false, 0, "trailing space" },
        { " info", false, 0, "leading space" },
        { "4", false, 0, "a number" },
        { "trace", false, 0, "a level keyfort does not have" },
    };
    return cr_make_param_array(struct level_case, (void *)(uintptr_t)cases,
                               sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(const struct level_case *tc, log_parse, names)
{
    enum kf_log_level got = (enum kf_log_level)77;
    cr_assert_eq(kf_log_parse_level(tc->name, &got), tc->ok, "%s", tc->why);
    cr_assert_eq(got, tc->ok ? tc->level : (enum kf_log_level)77,
                 "%s: out %d (unchanged on failure)", tc->why, (int)got);
}

Test(log_parse, null_arguments)
{
    enum kf_log_level got = KF_LOG_INFO;
    cr_assert_not(kf_log_parse_level(NULL, &got));
    cr_assert_eq(got, KF_LOG_INFO);
    cr_assert_not(kf_log_parse_level("debug", NULL));
}

/* ---- the level from the environment -----------------------------------------------------------
 */

Test(log_env, unset_means_warn, .init = env_unset)
{
    cr_assert_eq(kf_log_level(), KF_LOG_WARN);
}

Test(log_env, debug, .init = env_debug)
{
    cr_assert_eq(kf_log_level(), KF_LOG_DEBUG);
}

Test(log_env, info, .init = env_info)
{
    cr_assert_eq(kf_log_level(), KF_LOG_INFO);
}

Test(log_env, none, .init = env_none)
{
    cr_assert_eq(kf_log_level(), KF_LOG_NONE);
}

Test(log_env, unknown_name_means_warn, .init = env_garbage)
{
    cr_assert_eq(kf_log_level(), KF_LOG_WARN);
}

Test(log_env, empty_means_warn, .init = env_empty)
{
    cr_assert_eq(kf_log_level(), KF_LOG_WARN);
}

Test(log_env, read_once, .init = env_debug)
{
    cr_assert_eq(kf_log_level(), KF_LOG_DEBUG);
    setenv("KEYFORT_LOG", "error", 1);
    cr_assert_eq(kf_log_level(), KF_LOG_DEBUG, "the environment was read again");
    unsetenv("KEYFORT_LOG");
    cr_assert_eq(kf_log_level(), KF_LOG_DEBUG);
}

Test(log_env, set_level_overrides_the_environment, .init = env_debug)
{
    kf_log_set_level(KF_LOG_ERROR);
    cr_assert_eq(kf_log_level(), KF_LOG_ERROR);
    kf_log(KF_LOG_WARN, "t", "hidden");
    kf_log(KF_LOG_ERROR, "t", "shown");
    cr_assert_stderr_eq_str("keyfort[error] t: shown\n");
}

Test(log_env, set_level_before_first_use_wins, .init = env_debug)
{
    kf_log_set_level(KF_LOG_NONE);
    cr_assert_eq(kf_log_level(), KF_LOG_NONE, "a later first read replaced the set level");
}

Test(log_env, environment_filters_messages, .init = env_error)
{
    kf_log(KF_LOG_DEBUG, "hsm", "debug %d", 1);
    kf_log(KF_LOG_INFO, "hsm", "info %d", 2);
    kf_log(KF_LOG_WARN, "hsm", "warn %d", 3);
    kf_log(KF_LOG_ERROR, "hsm", "error %d", 4);
    cr_assert_stderr_eq_str("keyfort[error] hsm: error 4\n");
}

/* ---- no evaluation below the level ------------------------------------------------------------
 */

static int evaluated;

static int side_effect(void)
{
    return ++evaluated;
}

Test(log_lazy, arguments_below_the_level_are_not_evaluated, .init = env_unset)
{
    evaluated = 0;
    cr_assert_eq(kf_log_level(), KF_LOG_WARN);
    kf_log(KF_LOG_DEBUG, "test", "%d", side_effect());
    kf_log(KF_LOG_INFO, "test", "%d %d", side_effect(), side_effect());
    cr_assert_eq(evaluated, 0, "a message below the level was formatted");
    kf_log(KF_LOG_WARN, "test", "w%d", side_effect());
    kf_log(KF_LOG_ERROR, "test", "e%d", side_effect());
    cr_assert_eq(evaluated, 2);
    cr_assert_stderr_eq_str("keyfort[warn] test: w1\nkeyfort[error] test: e2\n");
}

Test(log_lazy, level_none_silences_everything, .init = env_none)
{
    evaluated = 0;
    kf_log(KF_LOG_ERROR, "test", "%d", side_effect());
    kf_log(KF_LOG_DEBUG, "test", "%d", side_effect());
    cr_assert_eq(evaluated, 0);
    cr_assert_stderr_eq_str("");
}

Test(log_lazy, debug_shows_everything, .init = env_debug)
{
    evaluated = 0;
    kf_log(KF_LOG_DEBUG, "m", "%d", side_effect());
    kf_log(KF_LOG_INFO, "m", "%d", side_effect());
    kf_log(KF_LOG_WARN, "m", "%d", side_effect());
    kf_log(KF_LOG_ERROR, "m", "%d", side_effect());
    cr_assert_eq(evaluated, 4);
    cr_assert_stderr_eq_str("keyfort[debug] m: 1\nkeyfort[info] m: 2\nkeyfort[warn] m: 3\n"
                            "keyfort[error] m: 4\n");
}

/* ---- output -----------------------------------------------------------------------------------
 */

Test(log_output, one_line_on_stderr_nothing_on_stdout, .init = env_info)
{
    kf_log(KF_LOG_INFO, "hsm", "slot %lu: %s (%zu sessions)", 3UL, "no token", (size_t)2);
    fflush(stdout);
    cr_assert_stderr_eq_str("keyfort[info] hsm: slot 3: no token (2 sessions)\n");
    cr_assert_stdout_eq_str("");
}

Test(log_output, null_module_prints_a_dash, .init = env_info)
{
    kf_log_write(KF_LOG_WARN, NULL, "x");
    cr_assert_stderr_eq_str("keyfort[warn] -: x\n");
}

Test(log_output, long_messages_are_cut_not_overflowed, .init = env_info)
{
    static char msg[3000];
    memset(msg, 'a', sizeof(msg) - 1);
    kf_log_write(KF_LOG_ERROR, "m", "%s", msg);
    static char want[1100];
    int n = snprintf(want, sizeof(want), "keyfort[error] m: ");
    memset(want + n, 'a', 1023);
    want[n + 1023] = '\n';
    want[n + 1024] = '\0';
    cr_assert_stderr_eq_str(want);
}

Test(log_output, out_of_range_level_does_not_index_past_the_tags, .init = env_info)
{
    kf_log_write((enum kf_log_level)5, "m", "a");
    kf_log_write((enum kf_log_level) - 1, "m", "b");
    cr_assert_stderr_eq_str("keyfort[?] m: a\nkeyfort[?] m: b\n");
}
