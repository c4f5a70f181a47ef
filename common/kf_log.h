/* common/kf_log.h - levelled logging to stderr (STYLE.md s6).
 *
 * The level comes from KEYFORT_LOG (error|warn|info|debug, default warn), read once. The level
 * is checked before any formatting. Never pass a PIN, key bytes or plaintext: log presence,
 * lengths, handles and mechanism/slot IDs. */
#ifndef KF_COMMON_LOG_H
#define KF_COMMON_LOG_H

#include <stdbool.h>

enum kf_log_level {
    KF_LOG_NONE = 0,
    KF_LOG_ERROR = 1,
    KF_LOG_WARN = 2,
    KF_LOG_INFO = 3,
    KF_LOG_DEBUG = 4,
};

/** The level in force (reads KEYFORT_LOG on first use). */
enum kf_log_level kf_log_level(void);
/** Override the level (tests, and the CLI's --verbose). */
void kf_log_set_level(enum kf_log_level level);
/** Parse a level name; returns false for unknown names. */
bool kf_log_parse_level(const char *name, enum kf_log_level *out);

void kf_log_write(enum kf_log_level level, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define kf_log(level, module, ...)                                                                 \
    do {                                                                                           \
        if ((level) != KF_LOG_NONE && (level) <= kf_log_level()) {                                 \
            kf_log_write((level), (module), __VA_ARGS__);                                          \
        }                                                                                          \
    } while (0)

#endif
