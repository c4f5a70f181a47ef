/* common/kf_error.c - tables generated from kf_error.def and the thread-local failure record. */
#include "common/kf_result.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct kf_err_entry {
    const char *name;
    const char *message;
    enum kf_err_class cls;
};

static const struct kf_err_entry kf_err_table[KF_ERR_COUNT] = {
    [KF_ERR_OK] = { "KF_ERR_OK", "success", KF_CLASS_OK },
#define X(name, cls, msg) [name] = { #name, msg, KF_CLASS_##cls },
#include "common/kf_error.def"
#undef X
};

/* One record per thread: errors never cross threads, so no lock is needed. */
struct kf_err_state {
    int32_t code;
    const char *file;
    const char *func;
    int line;
    bool armed; /* a note was made since the last record: keep it for this record */
    bool ck_set;
    bool errno_set;
    unsigned long ck_rv;
    const char *ck_name;
    int sys_errno;
    char context[512];
};

static _Thread_local struct kf_err_state kf_err_tls;
static _Thread_local unsigned kf_err_muted;

void kf_err_mute_begin(void)
{
    kf_err_muted++;
}

void kf_err_mute_end(void)
{
    if (kf_err_muted > 0) {
        kf_err_muted--;
    }
}

static void kf_err_clear_detail(struct kf_err_state *s)
{
    s->ck_set = false;
    s->errno_set = false;
    s->ck_rv = 0;
    s->ck_name = NULL;
    s->sys_errno = 0;
    s->context[0] = '\0';
}

void kf_err_record(int32_t code, const char *file, int line, const char *func)
{
    if (kf_err_muted > 0) {
        return;
    }
    struct kf_err_state *s = &kf_err_tls;
    if (!s->armed) {
        kf_err_clear_detail(s);
    }
    s->armed = false;
    s->code = code;
    s->file = file;
    s->line = line;
    s->func = func;
}

static void kf_err_arm(struct kf_err_state *s)
{
    if (!s->armed) {
        kf_err_clear_detail(s);
        s->armed = true;
    }
}

void kf_err_note_ck(unsigned long rv, const char *ck_name)
{
    if (kf_err_muted > 0) {
        return;
    }
    struct kf_err_state *s = &kf_err_tls;
    kf_err_arm(s);
    s->ck_set = true;
    s->ck_rv = rv;
    s->ck_name = ck_name;
}

void kf_err_note_errno(int err)
{
    if (kf_err_muted > 0) {
        return;
    }
    struct kf_err_state *s = &kf_err_tls;
    kf_err_arm(s);
    s->errno_set = true;
    s->sys_errno = err;
}

/* format(printf, 2, 0): callers pass their own checked format on; clang's -Wformat=2 needs
 * this to accept the vsnprintf below. */
__attribute__((format(printf, 2, 0))) static void kf_err_append(struct kf_err_state *s,
                                                                const char *fmt, va_list ap)
{
    size_t used = strlen(s->context);
    if (used + 3 >= sizeof(s->context)) {
        return;
    }
    if (used > 0) {
        memcpy(s->context + used, ", ", 2);
        used += 2;
        s->context[used] = '\0';
    }
    vsnprintf(s->context + used, sizeof(s->context) - used, fmt, ap);
}

void kf_err_note_context(const char *fmt, ...)
{
    if (kf_err_muted > 0) {
        return;
    }
    struct kf_err_state *s = &kf_err_tls;
    kf_err_arm(s);
    va_list ap;
    va_start(ap, fmt);
    kf_err_append(s, fmt, ap);
    va_end(ap);
}

void kf_err_add_context(const char *fmt, ...)
{
    if (kf_err_muted > 0) {
        return;
    }
    struct kf_err_state *s = &kf_err_tls;
    va_list ap;
    va_start(ap, fmt);
    kf_err_append(s, fmt, ap);
    va_end(ap);
}

void kf_err_clear(void)
{
    struct kf_err_state *s = &kf_err_tls;
    kf_err_clear_detail(s);
    s->armed = false;
    s->code = 0;
    s->file = NULL;
    s->func = NULL;
    s->line = 0;
}

static const struct kf_err_entry *kf_err_entry_of(int32_t code)
{
    if (code < 0 || code >= KF_ERR_COUNT || kf_err_table[code].name == NULL) {
        return NULL;
    }
    return &kf_err_table[code];
}

const char *kf_err_str(int32_t code)
{
    const struct kf_err_entry *e = kf_err_entry_of(code);
    return e != NULL ? e->message : "unknown error";
}

const char *kf_err_name(int32_t code)
{
    const struct kf_err_entry *e = kf_err_entry_of(code);
    return e != NULL ? e->name : "KF_ERR_UNKNOWN";
}

enum kf_err_class kf_err_class_of(int32_t code)
{
    const struct kf_err_entry *e = kf_err_entry_of(code);
    return e != NULL ? e->cls : KF_CLASS_INTERNAL;
}

const char *kf_err_class_name(enum kf_err_class cls)
{
    switch (cls) {
    case KF_CLASS_OK:
        return "OK";
    case KF_CLASS_USAGE:
        return "USAGE";
    case KF_CLASS_INPUT:
        return "INPUT";
    case KF_CLASS_HSM:
        return "HSM";
    case KF_CLASS_CRYPTO:
        return "CRYPTO";
    case KF_CLASS_RESOURCE:
        return "RESOURCE";
    case KF_CLASS_BLOCKED:
        return "BLOCKED";
    case KF_CLASS_INTERNAL:
        return "INTERNAL";
    default:
        return "UNKNOWN";
    }
}

int32_t kf_err_last_code(void)
{
    return kf_err_tls.code;
}

unsigned long kf_err_last_ck(bool *out_set)
{
    if (out_set != NULL) {
        *out_set = kf_err_tls.ck_set;
    }
    return kf_err_tls.ck_rv;
}

int kf_err_last_errno(bool *out_set)
{
    if (out_set != NULL) {
        *out_set = kf_err_tls.errno_set;
    }
    return kf_err_tls.sys_errno;
}

const char *kf_err_last_context(void)
{
    return kf_err_tls.context;
}

void kf_err_last_site(const char **out_file, int *out_line, const char **out_func)
{
    if (out_file != NULL) {
        *out_file = kf_err_tls.file;
    }
    if (out_line != NULL) {
        *out_line = kf_err_tls.line;
    }
    if (out_func != NULL) {
        *out_func = kf_err_tls.func;
    }
}

const char *kf_err_describe(char *buf, size_t len)
{
    const struct kf_err_state *s = &kf_err_tls;
    if (buf == NULL || len == 0) {
        return buf;
    }
    char detail[128] = "";
    if (s->ck_set) {
        if (s->ck_name != NULL) {
            snprintf(detail, sizeof(detail), " (%s)", s->ck_name);
        } else {
            snprintf(detail, sizeof(detail), " (CK_RV 0x%08lx)", s->ck_rv);
        }
    } else if (s->errno_set) {
        char ebuf[96];
        /* GNU strerror_r returns the message, possibly not in ebuf. */
        const char *msg = strerror_r(s->sys_errno, ebuf, sizeof(ebuf));
        snprintf(detail, sizeof(detail), " (%s)", msg);
    }
    snprintf(buf, len, "%s%s%s%s", kf_err_str(s->code), s->context[0] != '\0' ? ": " : "",
             s->context, detail);
    return buf;
}
