/* tests/unit/common/test_kf_secret.c - common/kf_secret.c (STYLE.md s6).
 *
 * PIN files: exactly one trailing "\n" or "\r\n" is dropped, the size limit holds at its
 * boundary, failures carry the errno and the path. Memory: locked and kept out of core dumps
 * in normal builds (not in ASan/fuzz builds, where kf_secret_is_locked is false by design).
 * Prompting without a controlling terminal fails with NO_TTY instead of reading stdin. */
#include "common/kf_secret.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(KF_SANITIZE) || defined(KF_FUZZ)
#define EXPECT_LOCKED 0
#else
#define EXPECT_LOCKED 1
#endif

/* ---- helpers -------------------------------------------------------------------------------- */

static char tmp_path[64];

static void make_tmpdir(void)
{
    snprintf(tmp_path, sizeof(tmp_path), "/tmp/kf-test-secret-XXXXXX");
    cr_assert_not_null(mkdtemp(tmp_path), "mkdtemp: %s", strerror(errno));
}

static void remove_tmpdir(void)
{
    char pin[128];
    snprintf(pin, sizeof(pin), "%s/pin", tmp_path);
    (void)unlink(pin);
    (void)rmdir(tmp_path);
}

/* Write bytes to <tmpdir>/pin and return the path. */
static const char *write_pin_file(const uint8_t *p, size_t n)
{
    static char path[128];
    snprintf(path, sizeof(path), "%s/pin", tmp_path);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    cr_assert_geq(fd, 0, "open %s: %s", path, strerror(errno));
    size_t done = 0;
    while (done < n) {
        ssize_t w = write(fd, p + done, n - done);
        cr_assert_gt(w, 0, "write: %s", strerror(errno));
        done += (size_t)w;
    }
    cr_assert_eq(close(fd), 0);
    return path;
}

static struct kf_secret *secret_of(const char *s)
{
    struct kf_secret *out = NULL;
    cr_assert(kf_ok(kf_secret_from_bytes((const uint8_t *)s, strlen(s), &out)));
    return out;
}

/* ---- from_bytes, dup, free ------------------------------------------------------------------- */

Test(secret_basic, from_bytes_copies)
{
    uint8_t src[40];
    for (size_t i = 0; i < sizeof(src); i++) {
        src[i] = (uint8_t)(i * 7 + 1);
    }
    struct kf_secret *s = NULL;
    cr_assert(kf_ok(kf_secret_from_bytes(src, sizeof(src), &s)));
    cr_assert_not_null(s);
    cr_assert_eq(kf_secret_len(s), sizeof(src));
    cr_assert_neq(kf_secret_data(s), src, "a copy, not a borrow");
    cr_assert_eq(memcmp(kf_secret_data(s), src, sizeof(src)), 0);
    memset(src, 0, sizeof(src));
    cr_assert_eq(kf_secret_data(s)[0], 1, "the secret changed with its source");
    kf_secret_free(s);
}

Test(secret_basic, empty_and_null)
{
    struct kf_secret *s = NULL;
    cr_assert(kf_ok(kf_secret_from_bytes(NULL, 0, &s)));
    cr_assert_eq(kf_secret_len(s), 0);
    kf_secret_free(s);

    static const uint8_t b[1] = { 1 };
    struct kf_secret *untouched = (struct kf_secret *)(uintptr_t)0x1;
    cr_assert_eq(kf_secret_from_bytes(NULL, 1, &untouched).code, KF_ERR_NULL);
    cr_assert_eq(untouched, (struct kf_secret *)(uintptr_t)0x1, "out written on failure");
    cr_assert_eq(kf_secret_from_bytes(b, 1, NULL).code, KF_ERR_NULL);
    cr_assert_eq(kf_secret_new(1, NULL).code, KF_ERR_NULL);
    cr_assert_eq(kf_secret_dup(NULL, &untouched).code, KF_ERR_NULL);
    cr_assert_eq(kf_secret_from_file(NULL, &untouched).code, KF_ERR_NULL);
    cr_assert_eq(kf_secret_from_file("/dev/null", NULL).code, KF_ERR_NULL);
    cr_assert_eq(kf_secret_from_prompt(NULL, &untouched).code, KF_ERR_NULL);
    cr_assert_eq(kf_secret_from_prompt("PIN: ", NULL).code, KF_ERR_NULL);
    cr_assert_eq(untouched, (struct kf_secret *)(uintptr_t)0x1);
    cr_assert_null(kf_secret_data(NULL));
    cr_assert_eq(kf_secret_len(NULL), 0);
    cr_assert_not(kf_secret_is_locked(NULL));
    kf_secret_free(NULL); /* a no-op */
}

Test(secret_basic, new_enforces_its_cap)
{
    struct kf_secret *s = NULL;
    cr_assert(kf_ok(kf_secret_new(1u << 20, &s)), "the largest secret");
    cr_assert_eq(kf_secret_len(s), 0);
    kf_secret_free(s);
    s = NULL;
    cr_assert_eq(kf_secret_new((1u << 20) + 1, &s).code, KF_ERR_TOO_LARGE);
    cr_assert_eq(kf_secret_new(SIZE_MAX, &s).code, KF_ERR_TOO_LARGE);
    cr_assert_null(s);
}

Test(secret_basic, dup_is_equal_and_separate)
{
    struct kf_secret *a = secret_of("correct horse battery staple");
    struct kf_secret *b = NULL;
    cr_assert(kf_ok(kf_secret_dup(a, &b)));
    cr_assert(kf_secret_equal(a, b));
    cr_assert_neq(kf_secret_data(a), kf_secret_data(b));
    kf_secret_free(a);
    cr_assert_eq(kf_secret_len(b), strlen("correct horse battery staple"));
    cr_assert_eq(memcmp(kf_secret_data(b), "correct horse battery staple", kf_secret_len(b)), 0);
    kf_secret_free(b);
}

Test(secret_basic, auto_cleanup_frees_and_nulls)
{
    struct kf_secret *keep = NULL;
    {
        struct kf_secret *pin KF_SECRET_AUTO = secret_of("1234");
        keep = pin;
        cr_assert_not_null(keep);
    }
    /* The pages are unmapped now; only the NULL-ing of a cleared pointer is observable. */
    struct kf_secret *p = secret_of("5678");
    kf_secret_cleanup_ptr(&p);
    cr_assert_null(p);
    kf_secret_cleanup_ptr(&p); /* twice is fine */
    kf_secret_cleanup_ptr(NULL);
}

/* ---- memory protection ------------------------------------------------------------------------
 */

/* Locked kB of this process, from /proc/self/status (the kernel's view, not the library's). */
static long vm_locked_kb(void)
{
    FILE *f = fopen("/proc/self/status", "re");
    cr_assert_not_null(f);
    char line[256];
    long kb = -1;
    while (fgets(line, sizeof(line), f) != NULL) {
        if (sscanf(line, "VmLck: %ld kB", &kb) == 1) {
            break;
        }
    }
    fclose(f);
    cr_assert_geq(kb, 0, "no VmLck line");
    return kb;
}

/* VmFlags of the mapping holding addr, from /proc/self/smaps ("dd" = MADV_DONTDUMP). */
static bool mapping_has_flag(const void *addr, const char *flag)
{
    FILE *f = fopen("/proc/self/smaps", "re");
    cr_assert_not_null(f);
    char line[512];
    bool in = false;
    bool found = false;
    uintptr_t a = (uintptr_t)addr;
    while (fgets(line, sizeof(line), f) != NULL) {
        unsigned long lo, hi;
        if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' ')) {
            in = a >= lo && a < hi;
            continue;
        }
        if (in && strncmp(line, "VmFlags:", 8) == 0) {
            char needle[8];
            snprintf(needle, sizeof(needle), " %s", flag);
            found = strstr(line + 8, needle) != NULL;
            break;
        }
    }
    fclose(f);
    return found;
}

Test(secret_memory, locked_in_a_normal_build)
{
    long before = vm_locked_kb();
    struct kf_secret *s = secret_of("0000");
#if EXPECT_LOCKED
    cr_assert(kf_secret_is_locked(s));
    cr_assert_gt(vm_locked_kb(), before, "VmLck did not grow");
    cr_assert(mapping_has_flag(kf_secret_data(s), "dd"), "not excluded from core dumps");
    cr_assert(mapping_has_flag(kf_secret_data(s), "lo"), "kernel does not show it locked");
#else
    /* ASan and fuzz builds: shadow memory makes locking meaningless (kf_secret.c). */
    cr_assert_not(kf_secret_is_locked(s));
    cr_assert_eq(vm_locked_kb(), before);
    cr_assert_not(mapping_has_flag(kf_secret_data(s), "lo"));
#endif
    kf_secret_free(s);
#if EXPECT_LOCKED
    cr_assert_eq(vm_locked_kb(), before, "free did not unlock");
#endif
}

Test(secret_memory, file_and_dup_secrets_are_locked_too, .init = make_tmpdir, .fini = remove_tmpdir)
{
    struct kf_secret *f = NULL;
    struct kf_secret *d = NULL;
    const char *path = write_pin_file((const uint8_t *)"9999\n", 5);
    cr_assert(kf_ok(kf_secret_from_file(path, &f)));
    cr_assert(kf_ok(kf_secret_dup(f, &d)));
    cr_assert_eq(kf_secret_is_locked(f), EXPECT_LOCKED);
    cr_assert_eq(kf_secret_is_locked(d), EXPECT_LOCKED);
    kf_secret_free(f);
    kf_secret_free(d);
}

/* ---- equality -----------------------------------------------------------------------------------
 */

Test(secret_equal, semantics)
{
    struct kf_secret *a = secret_of("123456");
    struct kf_secret *b = secret_of("123456");
    struct kf_secret *prefix = secret_of("12345");
    struct kf_secret *longer = secret_of("1234567");
    struct kf_secret *e1 = secret_of("");
    struct kf_secret *e2 = secret_of("");
    cr_assert(kf_secret_equal(a, b));
    cr_assert(kf_secret_equal(b, a));
    cr_assert(kf_secret_equal(a, a));
    cr_assert(kf_secret_equal(e1, e2), "two empty secrets are equal");
    cr_assert_not(kf_secret_equal(a, prefix), "a prefix is not equal");
    cr_assert_not(kf_secret_equal(prefix, a));
    cr_assert_not(kf_secret_equal(a, longer));
    cr_assert_not(kf_secret_equal(a, e1));
    cr_assert_not(kf_secret_equal(a, NULL));
    cr_assert_not(kf_secret_equal(NULL, a));
    cr_assert_not(kf_secret_equal(NULL, NULL), "NULL is no secret");
    kf_secret_free(a);
    kf_secret_free(b);
    kf_secret_free(prefix);
    kf_secret_free(longer);
    kf_secret_free(e1);
    kf_secret_free(e2);
}

/* Every byte counts: flipping any single bit at any position of any length 1..64 makes the
 * secrets differ (an early-exit or partial compare would miss some). */
Test(secret_equal, every_bit_of_every_byte_counts)
{
    uint8_t buf[64];
    for (size_t len = 1; len <= sizeof(buf); len++) {
        for (size_t i = 0; i < len; i++) {
            buf[i] = (uint8_t)(0x30 + (i * 13) % 64);
        }
        struct kf_secret *ref = NULL;
        cr_assert(kf_ok(kf_secret_from_bytes(buf, len, &ref)));
        for (size_t pos = 0; pos < len; pos++) {
            for (unsigned bit = 0; bit < 8; bit++) {
                buf[pos] ^= (uint8_t)(1u << bit);
                struct kf_secret *other = NULL;
                cr_assert(kf_ok(kf_secret_from_bytes(buf, len, &other)));
                cr_assert_not(kf_secret_equal(ref, other), "len %zu pos %zu bit %u", len, pos, bit);
                buf[pos] ^= (uint8_t)(1u << bit);
                kf_secret_free(other);
            }
        }
        struct kf_secret *same = NULL;
        cr_assert(kf_ok(kf_secret_from_bytes(buf, len, &same)));
        cr_assert(kf_secret_equal(ref, same), "len %zu", len);
        kf_secret_free(same);
        kf_secret_free(ref);
    }
}

/* ---- PIN files
 * ------------------------------------------------------------------------------------ */

struct pin_case {
    uint8_t head[12]; /* first bytes of the file */
    size_t head_len;
    size_t fill;     /* then this many 'p' */
    uint8_t tail[4]; /* then these */
    size_t tail_len;
    int32_t expected;
    size_t pin_len; /* on success: length of the PIN */
    char why[80];
};

#define PIN_MAX KF_SECRET_PIN_MAX

ParameterizedTestParameters(secret_file, cases)
{
    static const struct pin_case cases[] = {
        { "1234", 4, 0, "\n", 1, KF_ERR_OK, 4, "one LF dropped" },
        { "1234", 4, 0, "\r\n", 2, KF_ERR_OK, 4, "one CRLF dropped" },
        { "1234", 4, 0, "", 0, KF_ERR_OK, 4, "no newline" },
        { "1234", 4, 0, "\n\n", 2, KF_ERR_OK, 5, "only one of two LFs dropped" },
        { "1234", 4, 0, "\r\n\r\n", 4, KF_ERR_OK, 6, "only one of two CRLFs dropped" },
        { "1234", 4, 0, "\r", 1, KF_ERR_OK, 5, "a lone CR is part of the PIN" },
        { "1234", 4, 0, "\n\r", 2, KF_ERR_OK, 6, "LF CR is not a line end" },
        { "12\n34", 5, 0, "", 0, KF_ERR_OK, 5, "inner LF kept" },
        { " 12 ", 4, 0, "\n", 1, KF_ERR_OK, 4, "spaces are PIN bytes" },
        { "\r", 1, 0, "", 0, KF_ERR_OK, 1, "a lone CR is a 1-byte PIN" },
        { "\0\0", 2, 0, "", 0, KF_ERR_OK, 2, "NUL bytes are PIN bytes" },
        { "", 0, 0, "", 0, KF_ERR_EMPTY_PIN, 0, "empty file" },
        { "", 0, 0, "\n", 1, KF_ERR_EMPTY_PIN, 0, "only a LF" },
        { "", 0, 0, "\r\n", 2, KF_ERR_EMPTY_PIN, 0, "only a CRLF" },
        { "", 0, PIN_MAX, "", 0, KF_ERR_OK, PIN_MAX, "exactly the maximum" },
        { "", 0, PIN_MAX, "\n", 1, KF_ERR_OK, PIN_MAX, "maximum plus LF" },
        { "", 0, PIN_MAX, "\r\n", 2, KF_ERR_OK, PIN_MAX, "maximum plus CRLF" },
        { "", 0, PIN_MAX - 1, "\r\n", 2, KF_ERR_OK, PIN_MAX - 1, "one under, CRLF" },
        { "", 0, PIN_MAX + 1, "", 0, KF_ERR_TOO_LARGE, 0, "one over" },
        { "", 0, PIN_MAX + 1, "\n", 1, KF_ERR_TOO_LARGE, 0, "one over plus LF" },
        { "", 0, PIN_MAX + 1, "\r\n", 2, KF_ERR_TOO_LARGE, 0, "one over plus CRLF" },
        { "", 0, PIN_MAX, "\n\n", 2, KF_ERR_TOO_LARGE, 0, "maximum plus two LFs" },
        { "", 0, PIN_MAX, "\r\r\n", 3, KF_ERR_TOO_LARGE, 0, "maximum plus CR CRLF" },
        { "", 0, PIN_MAX + 2, "", 0, KF_ERR_TOO_LARGE, 0, "two over" },
        { "", 0, PIN_MAX + 3, "", 0, KF_ERR_TOO_LARGE, 0, "three over" },
        { "", 0, 65536, "", 0, KF_ERR_TOO_LARGE, 0, "64 KiB" },
    };
    return cr_make_param_array(struct pin_case, (void *)(uintptr_t)cases,
                               sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(const struct pin_case *tc, secret_file, cases, .init = make_tmpdir,
                  .fini = remove_tmpdir)
{
    size_t n = tc->head_len + tc->fill + tc->tail_len;
    uint8_t *content = malloc(n + 1);
    cr_assert_not_null(content);
    memcpy(content, tc->head, tc->head_len);
    memset(content + tc->head_len, 'p', tc->fill);
    memcpy(content + tc->head_len + tc->fill, tc->tail, tc->tail_len);
    const char *path = write_pin_file(content, n);

    struct kf_secret *s = NULL;
    kf_err_clear();
    kf_result r = kf_secret_from_file(path, &s);
    cr_assert_eq(r.code, tc->expected, "%s: got %s, want %s", tc->why, kf_err_name(r.code),
                 kf_err_name(tc->expected));
    if (tc->expected == KF_ERR_OK) {
        cr_assert_eq(kf_secret_len(s), tc->pin_len, "%s: PIN of %zu bytes", tc->why,
                     kf_secret_len(s));
        cr_assert_eq(memcmp(kf_secret_data(s), content, tc->pin_len), 0, "%s", tc->why);
        kf_secret_free(s);
    } else {
        cr_assert_null(s, "%s: out written on failure", tc->why);
        cr_assert_eq(kf_err_last_code(), tc->expected);
        cr_assert_not_null(strstr(kf_err_last_context(), path), "%s: path not in context '%s'",
                           tc->why, kf_err_last_context());
    }
    free(content);
}

Test(secret_file, missing_file_names_path_and_errno)
{
    struct kf_secret *s = NULL;
    const char *path = "/nonexistent-kf-dir/pin.txt";
    kf_err_clear();
    kf_result r = kf_secret_from_file(path, &s);
    cr_assert_eq(r.code, KF_ERR_FILE_OPEN, "%s", kf_err_name(r.code));
    cr_assert_null(s);
    bool set = false;
    cr_assert_eq(kf_err_last_errno(&set), ENOENT);
    cr_assert(set);
    cr_assert_not_null(strstr(kf_err_last_context(), path), "context '%s'", kf_err_last_context());
    char buf[256];
    kf_err_describe(buf, sizeof(buf));
    cr_assert_not_null(strstr(buf, path), "%s", buf);
    cr_assert_not_null(strstr(buf, "No such file or directory"), "%s", buf);
}

Test(secret_file, directory_is_an_io_error)
{
    struct kf_secret *s = NULL;
    kf_err_clear();
    kf_result r = kf_secret_from_file("/", &s);
    cr_assert_eq(r.code, KF_ERR_IO, "%s", kf_err_name(r.code));
    cr_assert_null(s);
    bool set = false;
    cr_assert_eq(kf_err_last_errno(&set), EISDIR);
    cr_assert(set);
    cr_assert_not_null(strstr(kf_err_last_context(), "'/'"), "%s", kf_err_last_context());
}

Test(secret_file, endless_file_stops_at_the_limit)
{
    struct kf_secret *s = NULL;
    cr_assert_eq(kf_secret_from_file("/dev/zero", &s).code, KF_ERR_TOO_LARGE);
    cr_assert_null(s);
}

Test(secret_file, empty_device_is_an_empty_pin)
{
    struct kf_secret *s = NULL;
    cr_assert_eq(kf_secret_from_file("/dev/null", &s).code, KF_ERR_EMPTY_PIN);
    cr_assert_null(s);
    cr_assert_not_null(strstr(kf_err_last_context(), "/dev/null"));
}

Test(secret_file, pin_bytes_never_reach_the_error_text, .init = make_tmpdir, .fini = remove_tmpdir)
{
    char big[PIN_MAX + 40];
    memset(big, 'S', sizeof(big));
    memcpy(big, "TOPSECRET", 9);
    const char *path = write_pin_file((const uint8_t *)big, sizeof(big));
    struct kf_secret *s = NULL;
    cr_assert_eq(kf_secret_from_file(path, &s).code, KF_ERR_TOO_LARGE);
    char buf[512];
    kf_err_describe(buf, sizeof(buf));
    cr_assert_null(strstr(buf, "TOPSECRET"), "%s", buf);
    cr_assert_null(strstr(buf, "SSSS"), "%s", buf);
}

/* ---- prompting ---------------------------------------------------------------------------------
 */

struct prompt_report {
    int32_t code;
    bool errno_set;
    int sys_errno;
    bool out_untouched;
};

/* setsid() in a child drops the controlling terminal, so /dev/tty cannot be opened: the
 * situation of a daemon or a CI job. The prompt must fail rather than read stdin. */
Test(secret_prompt, without_a_terminal_is_no_tty)
{
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        struct prompt_report rep = { 0 };
        close(fds[0]);
        if (setsid() < 0) {
            _exit(2);
        }
        struct kf_secret *s = (struct kf_secret *)(uintptr_t)0x1;
        kf_result r = kf_secret_from_prompt("PIN: ", &s);
        rep.code = r.code;
        rep.sys_errno = kf_err_last_errno(&rep.errno_set);
        rep.out_untouched = s == (struct kf_secret *)(uintptr_t)0x1;
        ssize_t w = write(fds[1], &rep, sizeof(rep));
        _exit(w == (ssize_t)sizeof(rep) ? 0 : 3);
    }
    close(fds[1]);
    struct prompt_report rep;
    ssize_t got = read(fds[0], &rep, sizeof(rep));
    close(fds[0]);
    int status = 0;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status 0x%x", status);
    cr_assert_eq(got, (ssize_t)sizeof(rep));
    cr_assert_eq(rep.code, KF_ERR_NO_TTY, "got %s", kf_err_name(rep.code));
    cr_assert(rep.errno_set, "the open(2) errno is kept as detail");
    cr_assert_neq(rep.sys_errno, 0);
    cr_assert(rep.out_untouched);
}
