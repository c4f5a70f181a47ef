/* common/kf_log.c */
#include "common/kf_log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Global level: written once from the environment (or by kf_log_set_level), then only read.
 * An atomic rather than a lock: it is read on every kf_log() call, on hot paths. */
static atomic_int kf_log_current = -1;

bool kf_log_parse_level(const char *name, enum kf_log_level *out)
{
    static const struct {
        const char *name;
        enum kf_log_level level;
    } names[] = {
        { "none", KF_LOG_NONE }, { "error", KF_LOG_ERROR }, { "warn", KF_LOG_WARN },
        { "info", KF_LOG_INFO }, { "debug", KF_LOG_DEBUG },
    };
    if (name == NULL || out == NULL) {
        return false;
    }
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(name, names[i].name) == 0) {
            *out = names[i].level;
            return true;
        }
    }
    return false;
}

enum kf_log_level kf_log_level(void)
{
    int lvl = atomic_load_explicit(&kf_log_current, memory_order_relaxed);
    if (lvl >= 0) {
        return (enum kf_log_level)lvl;
    }
    enum kf_log_level parsed = KF_LOG_WARN;
    const char *env = getenv("KEYFORT_LOG");
    if (env != NULL && !kf_log_parse_level(env, &parsed)) {
        parsed = KF_LOG_WARN;
    }
    int expected = -1;
    atomic_compare_exchange_strong(&kf_log_current, &expected, (int)parsed);
    return (enum kf_log_level)atomic_load(&kf_log_current);
}

void kf_log_set_level(enum kf_log_level level)
{
    atomic_store(&kf_log_current, (int)level);
}

void kf_log_write(enum kf_log_level level, const char *module, const char *fmt, ...)
{
    static const char *const tags[] = { "none", "error", "warn", "info", "debug" };
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    const char *tag = (unsigned)level < 5 ? tags[level] : "?";
    /* One fprintf per line so lines from threads do not interleave. */
    fprintf(stderr, "keyfort[%s] %s: %s\n", tag, module != NULL ? module : "-", line);
}
