/* tests/unit/common/test_kf_error.c - common/kf_error.c, kf_error.def, kf_result.h (STYLE.md s3).
 *
 * The tables must match the one list; the thread-local record must hold the first failure
 * site and the detail noted just before it, forget stale detail, gain context on the way up
 * (KF_GUARD_CTX) and stay in its thread. */
#include "common/kf_result.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

/* The list itself, expanded independently of kf_error.c. */
static const struct {
    int32_t code;
    const char *name;
    const char *message;
    enum kf_err_class cls;
} def_list[] = {
#define X(name, cls, msg) { name, #name, msg, KF_CLASS_##cls },
#include "common/kf_error.def"
#undef X
};
#define N_DEF (sizeof(def_list) / sizeof(def_list[0]))

/* ---- the tables ---------------------------------------------------------------------------- */

Test(error_table, codes_are_dense_and_in_list_order)
{
    cr_assert_eq(KF_ERR_OK, 0);
    cr_assert_eq(N_DEF, (size_t)KF_ERR_COUNT - 1, "every code but OK comes from the list");
    for (size_t i = 0; i < N_DEF; i++) {
        cr_assert_eq(def_list[i].code, (int32_t)i + 1, "%s", def_list[i].name);
    }
}

Test(error_table, names_messages_and_classes_match_the_list)
{
    for (size_t i = 0; i < N_DEF; i++) {
        int32_t code = def_list[i].code;
        cr_assert_str_eq(kf_err_name(code), def_list[i].name);
        cr_assert_str_eq(kf_err_str(code), def_list[i].message, "%s", def_list[i].name);
        cr_assert_eq(kf_err_class_of(code), def_list[i].cls, "%s", def_list[i].name);
        cr_assert_neq(kf_err_class_of(code), KF_CLASS_OK, "%s", def_list[i].name);
        cr_assert_eq(strncmp(def_list[i].name, "KF_ERR_", 7), 0, "%s", def_list[i].name);
        cr_assert_gt(strlen(def_list[i].message), 5, "%s: message too short", def_list[i].name);
    }
    cr_assert_str_eq(kf_err_name(KF_ERR_OK), "KF_ERR_OK");
    cr_assert_eq(kf_err_class_of(KF_ERR_OK), KF_CLASS_OK);
}

Test(error_table, every_name_and_message_is_distinct)
{
    for (int32_t a = 0; a < KF_ERR_COUNT; a++) {
        cr_assert_str_neq(kf_err_name(a), "KF_ERR_UNKNOWN", "code %d", a);
        cr_assert_str_neq(kf_err_str(a), "unknown error", "code %d", a);
        for (int32_t b = a + 1; b < KF_ERR_COUNT; b++) {
            cr_assert_str_neq(kf_err_name(a), kf_err_name(b), "codes %d and %d", a, b);
            cr_assert_str_neq(kf_err_str(a), kf_err_str(b), "%s and %s share a message",
                              kf_err_name(a), kf_err_name(b));
        }
    }
}

/* "New codes go at the end of their class": the list is grouped, classes in enum order. */
Test(error_table, classes_are_contiguous_and_ordered)
{
    for (size_t i = 1; i < N_DEF; i++) {
        cr_assert_geq(def_list[i].cls, def_list[i - 1].cls, "%s (%s) follows %s (%s)",
                      def_list[i].name, kf_err_class_name(def_list[i].cls), def_list[i - 1].name,
                      kf_err_class_name(def_list[i - 1].cls));
    }
}

Test(error_table, class_names)
{
    static const char *const want[] = { "OK",     "USAGE",    "INPUT",   "HSM",
                                        "CRYPTO", "RESOURCE", "BLOCKED", "INTERNAL" };
    for (int c = KF_CLASS_OK; c <= KF_CLASS_INTERNAL; c++) {
        cr_assert_str_eq(kf_err_class_name((enum kf_err_class)c), want[c]);
    }
    cr_assert_str_eq(kf_err_class_name((enum kf_err_class)99), "UNKNOWN");
    cr_assert_str_eq(kf_err_class_name((enum kf_err_class) - 1), "UNKNOWN");
}

Test(error_table, codes_outside_the_list)
{
    const int32_t outside[] = { -1, KF_ERR_COUNT, KF_ERR_COUNT + 1, 1000, INT32_MAX, INT32_MIN };
    for (size_t i = 0; i < sizeof(outside) / sizeof(outside[0]); i++) {
        cr_assert_str_eq(kf_err_str(outside[i]), "unknown error", "code %d", outside[i]);
        cr_assert_str_eq(kf_err_name(outside[i]), "KF_ERR_UNKNOWN", "code %d", outside[i]);
        cr_assert_eq(kf_err_class_of(outside[i]), KF_CLASS_INTERNAL, "code %d", outside[i]);
    }
}

/* ---- the macros ----------------------------------------------------------------------------- */

static int bail_line;
static int inner_line;

static KF_RESULT fail_plain(int32_t code)
{
    bail_line = __LINE__ + 1;
    KF_BAIL(code);
}

static KF_RESULT fail_with_ck(void)
{
    kf_err_note_ck(0xA0, "CKR_PIN_INCORRECT");
    kf_err_note_context("token '%s'", "keyfort-test");
    KF_BAIL(KF_ERR_PIN_INCORRECT);
}

static KF_RESULT fail_with_errno(int e)
{
    kf_err_note_errno(e);
    kf_err_note_context("PIN file '%s'", "/nonexistent/pin");
    KF_BAIL(KF_ERR_FILE_OPEN);
}

static KF_RESULT inner_parse(void)
{
    kf_err_note_context("attribute %s", "CKA_EC_POINT");
    inner_line = __LINE__ + 1;
    KF_BAIL(KF_ERR_MALFORMED);
}

static KF_RESULT middle(void)
{
    KF_GUARD_CTX(inner_parse(), "key '%s'", "signing-key");
    return KF_OK;
}

static KF_RESULT outer(void)
{
    KF_GUARD_CTX(middle(), "while signing %zu bytes", (size_t)32);
    return KF_OK;
}

static KF_RESULT guard_only(kf_result (*fn)(void))
{
    KF_GUARD(fn());
    return KF_OK;
}

static KF_RESULT ensure(bool cond)
{
    KF_ENSURE(cond, KF_ERR_INVALID_ARG);
    return KF_OK;
}

static KF_RESULT ensure_ref(const void *p)
{
    KF_ENSURE_REF(p);
    return KF_OK;
}

static int ossl_like(int rv)
{
    return rv;
}

static KF_RESULT guard_ossl(int rv)
{
    KF_GUARD_OSSL(ossl_like(rv), KF_ERR_OPENSSL);
    return KF_OK;
}

static KF_RESULT guard_errno(int rv, int e)
{
    errno = e;
    KF_GUARD_ERRNO(rv == 0, KF_ERR_IO);
    return KF_OK;
}

Test(error_macros, bail_records_code_and_site)
{
    kf_err_clear();
    kf_result r = fail_plain(KF_ERR_TRAILING);
    cr_assert_not(kf_ok(r));
    cr_assert_eq(r.code, KF_ERR_TRAILING);
    cr_assert_eq(kf_err_last_code(), KF_ERR_TRAILING);
    const char *file = NULL;
    const char *func = NULL;
    int line = 0;
    kf_err_last_site(&file, &line, &func);
    cr_assert_not_null(strstr(file, "test_kf_error.c"), "file %s", file);
    cr_assert_eq(line, bail_line);
    cr_assert_str_eq(func, "fail_plain");
    kf_err_last_site(NULL, NULL, NULL); /* every out-param is optional */
}

Test(error_macros, ensure_and_guard)
{
    kf_err_clear();
    cr_assert(kf_ok(ensure(true)));
    cr_assert_eq(kf_err_last_code(), 0, "a passing ENSURE records nothing");
    cr_assert_eq(ensure(false).code, KF_ERR_INVALID_ARG);
    cr_assert_eq(ensure_ref(NULL).code, KF_ERR_NULL);
    cr_assert(kf_ok(ensure_ref("x")));
    cr_assert_eq(guard_ossl(1).code, KF_ERR_OK);
    cr_assert_eq(guard_ossl(0).code, KF_ERR_OPENSSL);
    cr_assert_eq(guard_ossl(-1).code, KF_ERR_OPENSSL, "OpenSSL's -1 is a failure too");
    cr_assert_eq(guard_ossl(2).code, KF_ERR_OPENSSL, "only 1 is success");

    /* KF_GUARD passes the inner code and site through unchanged. */
    kf_result r = guard_only(inner_parse);
    cr_assert_eq(r.code, KF_ERR_MALFORMED);
    const char *func = NULL;
    int line = 0;
    kf_err_last_site(NULL, &line, &func);
    cr_assert_str_eq(func, "inner_parse");
    cr_assert_eq(line, inner_line);
    cr_assert_str_eq(kf_err_last_context(), "attribute CKA_EC_POINT");
}

Test(error_macros, guard_errno_notes_errno)
{
    kf_err_clear();
    cr_assert(kf_ok(guard_errno(0, EACCES)));
    bool set = true;
    kf_err_last_errno(&set);
    cr_assert_not(set, "a passing GUARD_ERRNO notes nothing");
    cr_assert_eq(guard_errno(-1, EACCES).code, KF_ERR_IO);
    cr_assert_eq(kf_err_last_errno(&set), EACCES);
    cr_assert(set);
    char buf[256];
    cr_assert_str_eq(kf_err_describe(buf, sizeof(buf)), "I/O error (Permission denied)");
}

#ifdef NDEBUG
#define DEBUG_ENSURE_FIRES 0
#else
#define DEBUG_ENSURE_FIRES 1
#endif

static KF_RESULT debug_ensure(bool cond)
{
    KF_DEBUG_ENSURE(cond, KF_ERR_INTERNAL);
    return KF_OK;
}

Test(error_macros, debug_ensure_follows_ndebug)
{
    cr_assert(kf_ok(debug_ensure(true)));
    cr_assert_eq(debug_ensure(false).code, DEBUG_ENSURE_FIRES ? KF_ERR_INTERNAL : KF_ERR_OK);
}

/* ---- detail and description ----------------------------------------------------------------- */

Test(error_detail, describe_names_context_and_ckr)
{
    kf_err_clear();
    cr_assert_eq(fail_with_ck().code, KF_ERR_PIN_INCORRECT);
    char buf[256];
    cr_assert_str_eq(kf_err_describe(buf, sizeof(buf)),
                     "wrong PIN: token 'keyfort-test' (CKR_PIN_INCORRECT)");
    bool set = false;
    cr_assert_eq(kf_err_last_ck(&set), 0xA0);
    cr_assert(set);
    kf_err_last_errno(&set);
    cr_assert_not(set);
    cr_assert_str_eq(kf_err_last_context(), "token 'keyfort-test'");
}

Test(error_detail, describe_ck_rv_without_a_name)
{
    kf_err_clear();
    kf_err_note_ck(0x80000123UL, NULL);
    kf_result r = fail_plain(KF_ERR_HSM_CALL);
    cr_assert_eq(r.code, KF_ERR_HSM_CALL);
    char buf[128];
    cr_assert_str_eq(kf_err_describe(buf, sizeof(buf)), "PKCS#11 call failed (CK_RV 0x80000123)");
}

Test(error_detail, describe_errno)
{
    kf_err_clear();
    cr_assert_eq(fail_with_errno(ENOENT).code, KF_ERR_FILE_OPEN);
    char buf[256];
    cr_assert_str_eq(kf_err_describe(buf, sizeof(buf)),
                     "file could not be opened: PIN file '/nonexistent/pin' "
                     "(No such file or directory)");
    bool set = false;
    cr_assert_eq(kf_err_last_errno(&set), ENOENT);
    cr_assert(set);
}

Test(error_detail, describe_without_detail_is_the_message)
{
    kf_err_clear();
    char buf[128];
    cr_assert_eq(fail_plain(KF_ERR_MALFORMED).code, KF_ERR_MALFORMED);
    cr_assert_str_eq(kf_err_describe(buf, sizeof(buf)), "malformed input");
    kf_err_clear();
    cr_assert_str_eq(kf_err_describe(buf, sizeof(buf)), "success");
}

Test(error_detail, a_later_failure_without_notes_clears_stale_detail)
{
    kf_err_clear();
    cr_assert_eq(fail_with_ck().code, KF_ERR_PIN_INCORRECT);
    cr_assert_eq(fail_plain(KF_ERR_MALFORMED).code, KF_ERR_MALFORMED);
    char buf[256];
    cr_assert_str_eq(kf_err_describe(buf, sizeof(buf)), "malformed input",
                     "stale CKR name or context survived: %s", buf);
    bool set = true;
    kf_err_last_ck(&set);
    cr_assert_not(set);
    cr_assert_str_eq(kf_err_last_context(), "");

    cr_assert_eq(fail_with_errno(EACCES).code, KF_ERR_FILE_OPEN);
    cr_assert_eq(fail_plain(KF_ERR_TRAILING).code, KF_ERR_TRAILING);
    kf_err_last_errno(&set);
    cr_assert_not(set, "stale errno survived");
    cr_assert_str_eq(kf_err_describe(buf, sizeof(buf)),
                     "unexpected bytes after the end of the input");
}

Test(error_detail, notes_belong_to_the_next_failure_only)
{
    kf_err_clear();
    cr_assert_eq(fail_with_errno(EACCES).code, KF_ERR_FILE_OPEN);
    /* New notes replace, not extend, the detail of an earlier failure. */
    kf_err_note_context("second");
    cr_assert_eq(fail_plain(KF_ERR_IO).code, KF_ERR_IO);
    bool set = true;
    kf_err_last_errno(&set);
    cr_assert_not(set, "errno of the earlier failure kept");
    cr_assert_str_eq(kf_err_last_context(), "second");
}

Test(error_detail, guard_ctx_appends_on_the_way_up)
{
    kf_err_clear();
    kf_result r = outer();
    cr_assert_eq(r.code, KF_ERR_MALFORMED, "the inner code is kept");
    cr_assert_str_eq(kf_err_last_context(),
                     "attribute CKA_EC_POINT, key 'signing-key', while signing 32 bytes");
    char buf[256];
    cr_assert_str_eq(kf_err_describe(buf, sizeof(buf)),
                     "malformed input: attribute CKA_EC_POINT, key 'signing-key', "
                     "while signing 32 bytes");
    /* The site stays the first failure, not where context was added. */
    const char *func = NULL;
    int line = 0;
    kf_err_last_site(NULL, &line, &func);
    cr_assert_str_eq(func, "inner_parse");
    cr_assert_eq(line, inner_line);
}

static KF_RESULT succeed(void)
{
    return KF_OK;
}

static KF_RESULT guard_ctx_of_success(void)
{
    KF_GUARD_CTX(succeed(), "must not appear");
    return KF_OK;
}

Test(error_detail, guard_ctx_on_success_adds_nothing)
{
    kf_err_clear();
    cr_assert_eq(fail_with_ck().code, KF_ERR_PIN_INCORRECT);
    cr_assert(kf_ok(guard_ctx_of_success()));
    cr_assert_str_eq(kf_err_last_context(), "token 'keyfort-test'");
    cr_assert_eq(kf_err_last_code(), KF_ERR_PIN_INCORRECT);
}

Test(error_detail, context_is_bounded)
{
    kf_err_clear();
    char big[300];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    kf_err_note_context("%s", big);
    cr_assert_eq(fail_plain(KF_ERR_MALFORMED).code, KF_ERR_MALFORMED);
    for (int i = 0; i < 10; i++) {
        kf_err_add_context("%s", big);
    }
    size_t n = strlen(kf_err_last_context());
    cr_assert_lt(n, 512, "context grew to %zu", n);
    cr_assert_gt(n, 300, "later context dropped too early (%zu)", n);
    /* A short description buffer truncates and terminates. */
    char small[16];
    memset(small, 'Z', sizeof(small));
    cr_assert_eq(kf_err_describe(small, sizeof(small)), small);
    cr_assert_eq(strlen(small), sizeof(small) - 1);
    cr_assert_eq(strncmp(small, "malformed input", sizeof(small) - 1), 0);
    /* Nothing to write into. */
    cr_assert_null(kf_err_describe(NULL, 10));
    small[0] = 'Q';
    cr_assert_eq(kf_err_describe(small, 0), small);
    cr_assert_eq(small[0], 'Q', "describe wrote into a zero-length buffer");
}

Test(error_detail, clear_forgets_everything)
{
    cr_assert_eq(fail_with_ck().code, KF_ERR_PIN_INCORRECT);
    kf_err_clear();
    cr_assert_eq(kf_err_last_code(), 0);
    bool set = true;
    cr_assert_eq(kf_err_last_ck(&set), 0);
    cr_assert_not(set);
    cr_assert_eq(kf_err_last_errno(&set), 0);
    cr_assert_not(set);
    cr_assert_str_eq(kf_err_last_context(), "");
    const char *file = "x";
    const char *func = "x";
    int line = -1;
    kf_err_last_site(&file, &line, &func);
    cr_assert_null(file);
    cr_assert_null(func);
    cr_assert_eq(line, 0);
}

/* ---- thread locality ------------------------------------------------------------------------- */

struct thread_view {
    int32_t code_seen;
    bool ck_seen;
    char context_seen[64];
    int32_t code_after;
    char describe_after[128];
};

static void *other_thread(void *arg)
{
    struct thread_view *v = arg;
    v->code_seen = kf_err_last_code();
    kf_err_last_ck(&v->ck_seen);
    snprintf(v->context_seen, sizeof(v->context_seen), "%s", kf_err_last_context());
    kf_result r = fail_with_errno(EACCES);
    v->code_after = r.code;
    kf_err_describe(v->describe_after, sizeof(v->describe_after));
    return NULL;
}

Test(error_thread, detail_is_thread_local)
{
    kf_err_clear();
    cr_assert_eq(fail_with_ck().code, KF_ERR_PIN_INCORRECT);
    struct thread_view v;
    memset(&v, 0x55, sizeof(v));
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, other_thread, &v), 0);
    cr_assert_eq(pthread_join(t, NULL), 0);
    cr_assert_eq(v.code_seen, 0, "the new thread saw this thread's failure");
    cr_assert_not(v.ck_seen, "the new thread saw this thread's CK_RV");
    cr_assert_str_eq(v.context_seen, "");
    cr_assert_eq(v.code_after, KF_ERR_FILE_OPEN);
    cr_assert_str_eq(v.describe_after,
                     "file could not be opened: PIN file '/nonexistent/pin' (Permission denied)");
    /* ... and its own failure did not replace ours. */
    char buf[256];
    cr_assert_eq(kf_err_last_code(), KF_ERR_PIN_INCORRECT);
    cr_assert_str_eq(kf_err_describe(buf, sizeof(buf)),
                     "wrong PIN: token 'keyfort-test' (CKR_PIN_INCORRECT)");
}

/* ---- kf_result ------------------------------------------------------------------------------ */

Test(error_result, ok_is_code_zero_only)
{
    cr_assert(kf_ok(KF_OK));
    cr_assert_eq(KF_OK.code, 0);
    for (int32_t c = 1; c < KF_ERR_COUNT; c++) {
        cr_assert_not(kf_ok((kf_result){ c }), "%s", kf_err_name(c));
    }
    cr_assert_not(kf_ok((kf_result){ -1 }));
    cr_assert_eq(sizeof(kf_result), sizeof(int32_t), "a one-field newtype");
}
