/* common/kf_secret.h - memory for PINs and other secrets (STYLE.md s6).
 *
 * Page-aligned, mlock()ed, excluded from core dumps (MADV_DONTDUMP) and wiped before release.
 * There is deliberately no function that formats a secret. */
#ifndef KF_COMMON_SECRET_H
#define KF_COMMON_SECRET_H

#include "common/kf_result.h"

#include <stddef.h>
#include <stdint.h>

struct kf_secret;

/* PINs longer than this are refused: no token accepts them and it bounds every read. */
#define KF_SECRET_PIN_MAX 256

/** Allocate a secret of capacity @p cap (length 0). Errors: NOMEM, MLOCK, TOO_LARGE. */
KF_RESULT kf_secret_new(size_t cap, struct kf_secret **out);
/** Wipe and release. NULL is a no-op. */
void kf_secret_free(struct kf_secret *s);
/** Copy @p n bytes into a new secret. */
KF_RESULT kf_secret_from_bytes(const uint8_t *p, size_t n, struct kf_secret **out);
/**
 * Read a PIN from a file: at most KF_SECRET_PIN_MAX bytes, one trailing "\n" or "\r\n"
 * dropped. Read with read(2) straight into locked memory (no stdio buffer keeps a copy).
 * Errors: FILE_OPEN / IO (errno noted, path in context), TOO_LARGE, EMPTY_PIN.
 */
KF_RESULT kf_secret_from_file(const char *path, struct kf_secret **out);
/** Prompt on /dev/tty with echo off. Errors: NO_TTY, IO, EMPTY_PIN. */
KF_RESULT kf_secret_from_prompt(const char *prompt, struct kf_secret **out);
/** Duplicate. */
KF_RESULT kf_secret_dup(const struct kf_secret *s, struct kf_secret **out);

const uint8_t *kf_secret_data(const struct kf_secret *s);
size_t kf_secret_len(const struct kf_secret *s);
/** Constant-time equality (time depends only on the lengths). */
bool kf_secret_equal(const struct kf_secret *a, const struct kf_secret *b);
/** True when the pages are locked in memory (false in sanitizer/fuzz builds). */
bool kf_secret_is_locked(const struct kf_secret *s);

/* Cleanup helper for KF_DEFER-style locals: struct kf_secret *pin KF_SECRET_AUTO = NULL; */
void kf_secret_cleanup_ptr(struct kf_secret **p);
#define KF_SECRET_AUTO __attribute__((cleanup(kf_secret_cleanup_ptr)))

#endif
