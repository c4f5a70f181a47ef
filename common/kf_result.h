/* common/kf_result.h - the one error scheme of keyfort (STYLE.md s3).
 *
 * Every fallible function returns kf_result. The first failure site, and any detail the
 * failing call noted just before bailing (a CK_RV, an errno, the object concerned), are kept
 * in thread-local storage and read with kf_err_describe(). */
#ifndef KF_COMMON_RESULT_H
#define KF_COMMON_RESULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum kf_err_class {
    KF_CLASS_OK = 0,
    KF_CLASS_USAGE,
    KF_CLASS_INPUT,
    KF_CLASS_HSM,
    KF_CLASS_CRYPTO,
    KF_CLASS_RESOURCE,
    KF_CLASS_BLOCKED,
    KF_CLASS_INTERNAL,
};

enum kf_err {
    KF_ERR_OK = 0,
#define X(name, cls, msg) name,
#include "common/kf_error.def"
#undef X
    KF_ERR_COUNT
};

typedef struct {
    int32_t code;
} kf_result; /* a newtype, deliberately not an int */

#define KF_RESULT __attribute__((warn_unused_result)) kf_result
#define KF_OK ((kf_result){ 0 })

static inline bool kf_ok(kf_result r)
{
    return r.code == 0;
}

/** Drop a result on purpose: best-effort cleanup whose failure changes nothing for the caller
 *  (closing a session on the way out). A (void) cast does not silence warn_unused_result. */
static inline void kf_result_ignore(kf_result r)
{
    (void)r;
}

/** While muted (nesting counts), failures and notes are not recorded: best-effort cleanup on
 *  an error path must not replace the cause the caller is about to report. */
void kf_err_mute_begin(void);
void kf_err_mute_end(void);
/* Run a cleanup call whose failure is neither recorded nor returned. */
#define KF_QUIET(expr)                                                                             \
    do {                                                                                           \
        kf_err_mute_begin();                                                                       \
        kf_result_ignore(expr);                                                                    \
        kf_err_mute_end();                                                                         \
    } while (0)

/** Record a failure of @p code at a site. Clears stale detail unless a note was just made. */
void kf_err_record(int32_t code, const char *file, int line, const char *func);
/** Note the CK_RV of the failing PKCS#11 call and its CKR_ name (a static string). */
void kf_err_note_ck(unsigned long rv, const char *ck_name);
/** Note the errno of the failing OS call. */
void kf_err_note_errno(int err);
/** Note which object/file/URI the failure concerns (printf-style; never pass a secret). */
void kf_err_note_context(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/** Append context to an already recorded failure (used by KF_GUARD_CTX on the way up). */
void kf_err_add_context(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/** Forget the recorded failure of this thread. */
void kf_err_clear(void);

/** Static message and name of a code; "unknown error" / "KF_ERR_UNKNOWN" for codes not listed. */
const char *kf_err_str(int32_t code);
const char *kf_err_name(int32_t code);
enum kf_err_class kf_err_class_of(int32_t code);
const char *kf_err_class_name(enum kf_err_class cls);

/** Detail recorded for the last failure of this thread. */
int32_t kf_err_last_code(void);
unsigned long kf_err_last_ck(bool *out_set);
int kf_err_last_errno(bool *out_set);
const char *kf_err_last_context(void);
void kf_err_last_site(const char **out_file, int *out_line, const char **out_func);

/**
 * Write a one-line description of the last failure of this thread:
 * "<message>: <context> (<CKR_NAME> | <strerror>)". Never contains secrets, because nothing
 * that records detail is given any. Returns @p buf.
 */
const char *kf_err_describe(char *buf, size_t len);

#define KF_BAIL(code)                                                                              \
    do {                                                                                           \
        kf_err_record((code), __FILE__, __LINE__, __func__);                                       \
        return (kf_result){ (code) };                                                              \
    } while (0)

#define KF_ENSURE(cond, code)                                                                      \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            KF_BAIL(code);                                                                         \
        }                                                                                          \
    } while (0)

#define KF_ENSURE_REF(p) KF_ENSURE((p) != NULL, KF_ERR_NULL)

#define KF_GUARD(expr)                                                                             \
    do {                                                                                           \
        kf_result kf__r = (expr);                                                                  \
        if (!kf_ok(kf__r)) {                                                                       \
            return kf__r; /* keep the inner code */                                                \
        }                                                                                          \
    } while (0)

/* Propagate a failure and add what this level knows (which object, which file). */
#define KF_GUARD_CTX(expr, ...)                                                                    \
    do {                                                                                           \
        kf_result kf__r = (expr);                                                                  \
        if (!kf_ok(kf__r)) {                                                                       \
            kf_err_add_context(__VA_ARGS__);                                                       \
            return kf__r;                                                                          \
        }                                                                                          \
    } while (0)

/* Foreign conventions are translated once, at the foreign call. */
#define KF_GUARD_OSSL(call, code) KF_ENSURE((call) == 1, (code))
#define KF_GUARD_ERRNO(cond, code)                                                                 \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            kf_err_note_errno(errno);                                                              \
            KF_BAIL(code);                                                                         \
        }                                                                                          \
    } while (0)

#ifdef NDEBUG
#define KF_DEBUG_ENSURE(cond, code) ((void)0)
#else
#define KF_DEBUG_ENSURE(cond, code) KF_ENSURE(cond, code)
#endif

#endif
