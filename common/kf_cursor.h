/* common/kf_cursor.h - a bounded, read-only view of untrusted bytes (STYLE.md s4).
 *
 * Invariant: data != NULL || len == 0, and pos <= len. A failed read leaves the cursor exactly
 * where it was; a failed *parse* of a structure leaves it somewhere in the middle, so callers
 * discard it (or parse a copy and commit only on success). */
#ifndef KF_COMMON_CURSOR_H
#define KF_COMMON_CURSOR_H

#include "common/kf_result.h"

#include <stddef.h>
#include <stdint.h>

struct kf_cursor {
    const uint8_t *data; /* borrowed: never freed or written through the cursor */
    size_t len;
    size_t pos; /* invariant: pos <= len */
};

/* Lengths above this are absurd for anything keyfort parses (as OpenSSL's PACKET_buf_init). */
#define KF_CURSOR_MAX_LEN (SIZE_MAX / 2)

static inline size_t kf_cursor_left(const struct kf_cursor *c)
{
    return c->len - c->pos;
}

/** Point @p out at @p len bytes at @p data. Errors: NULL, TOO_LARGE. */
KF_RESULT kf_cursor_init(struct kf_cursor *out, const uint8_t *data, size_t len);
/** True when the invariant holds (used by KF_DEBUG_ENSURE and by tests). */
bool kf_cursor_is_valid(const struct kf_cursor *c);

/** Big-endian (network order) integer reads. Errors: NULL, SHORT_INPUT. */
KF_RESULT kf_cursor_read_u8(struct kf_cursor *c, uint8_t *out);
KF_RESULT kf_cursor_read_u16(struct kf_cursor *c, uint16_t *out);
KF_RESULT kf_cursor_read_u24(struct kf_cursor *c, uint32_t *out);
KF_RESULT kf_cursor_read_u32(struct kf_cursor *c, uint32_t *out);
KF_RESULT kf_cursor_read_u64(struct kf_cursor *c, uint64_t *out);
/** Copy @p n bytes into @p out. Errors: NULL, SHORT_INPUT. */
KF_RESULT kf_cursor_read_bytes(struct kf_cursor *c, uint8_t *out, size_t n);
/** Advance by @p n bytes. Errors: NULL, SHORT_INPUT. */
KF_RESULT kf_cursor_skip(struct kf_cursor *c, size_t n);
/** Split off the next @p n bytes as a sub-cursor @p out (positioned at 0). */
KF_RESULT kf_cursor_take(struct kf_cursor *c, size_t n, struct kf_cursor *out);
/** Sub-cursor of a length prefix of 1 or 2 bytes (the prefix and body both consumed). */
KF_RESULT kf_cursor_take_prefixed_u8(struct kf_cursor *c, struct kf_cursor *out);
KF_RESULT kf_cursor_take_prefixed_u16(struct kf_cursor *c, struct kf_cursor *out);
/**
 * Borrow a raw pointer to the next @p n bytes and advance, for EVP calls only. The pointer is
 * valid as long as the underlying buffer is (STYLE.md s4: raw pointers only come from here).
 */
KF_RESULT kf_cursor_borrow(struct kf_cursor *c, size_t n, const uint8_t **out);
/** Peek at the next byte without advancing. Errors: NULL, SHORT_INPUT. */
KF_RESULT kf_cursor_peek_u8(const struct kf_cursor *c, uint8_t *out);
/** Fail with TRAILING unless every byte was consumed. */
KF_RESULT kf_cursor_expect_end(const struct kf_cursor *c);

/**
 * DER: read one tag-length-value with the given single-byte @p tag and definite length
 * (short or long form, at most 4 length octets, minimal encoding) and return its contents as
 * a sub-cursor. Errors: SHORT_INPUT, MALFORMED (other tag, indefinite/non-minimal length).
 */
KF_RESULT kf_cursor_take_der(struct kf_cursor *c, uint8_t tag, struct kf_cursor *out);

#endif
