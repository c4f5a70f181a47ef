/* common/kf_buf.h - bounded writer for bytes keyfort produces (STYLE.md s4).
 *
 * Either fixed (caller storage, never grows) or growable (owned heap memory). A failed write
 * leaves len unchanged. Invariant: len <= cap, data != NULL || cap == 0. */
#ifndef KF_COMMON_BUF_H
#define KF_COMMON_BUF_H

#include "common/kf_result.h"

#include <stddef.h>
#include <stdint.h>

struct kf_buf {
    uint8_t *data; /* owned when growable, borrowed otherwise */
    size_t len;
    size_t cap;
    bool growable;
    bool public_data; /* growable, never holds secrets: grows by realloc, freed unwiped */
};

/** A reserved length prefix, filled in by kf_buf_fill_u16 once the body is written. */
struct kf_buf_mark {
    size_t at;
};

#define KF_BUF_MAX_LEN (SIZE_MAX / 2)

/** Write into caller storage of @p cap bytes; never allocates. */
KF_RESULT kf_buf_init_fixed(struct kf_buf *out, uint8_t *storage, size_t cap);
/** Write into owned heap memory that grows as needed; release with kf_buf_cleanup. */
KF_RESULT kf_buf_init_growable(struct kf_buf *out, size_t initial_cap);
/** A growable buffer for public data only (zone text and records, tens of megabytes): it grows
 *  by realloc, which moves large blocks without copying or touching them, and is freed
 *  without the wipe. Never put key material in one. */
KF_RESULT kf_buf_init_public(struct kf_buf *out, size_t initial_cap);
/** Take ownership of @p data (from malloc, @p cap bytes, @p len used) as a public buffer. */
KF_RESULT kf_buf_adopt_public(struct kf_buf *out, uint8_t *data, size_t len, size_t cap);
/** Free owned memory (wiped first: a buffer may have held key material). No-op when zeroed. */
void kf_buf_cleanup(struct kf_buf *b);
bool kf_buf_is_valid(const struct kf_buf *b);

/** Errors: NULL, BUFFER_TOO_SMALL (fixed), NOMEM / TOO_LARGE (growable). */
KF_RESULT kf_buf_write_u8(struct kf_buf *b, uint8_t v);
KF_RESULT kf_buf_write_u16(struct kf_buf *b, uint16_t v);
KF_RESULT kf_buf_write_u32(struct kf_buf *b, uint32_t v);
KF_RESULT kf_buf_write_bytes(struct kf_buf *b, const uint8_t *p, size_t n);
/** Reserve two bytes for a big-endian length of what is written after them. */
KF_RESULT kf_buf_reserve_u16(struct kf_buf *b, struct kf_buf_mark *out);
/** Fill a reservation with the number of bytes written since. Errors: TOO_LARGE, INVALID_ARG. */
KF_RESULT kf_buf_fill_u16(struct kf_buf *b, struct kf_buf_mark mark);

#endif
