/* common/kf_cursor.c - every read checks first and advances last, so a failure moves nothing. */
#include "common/kf_cursor.h"

#include <string.h>

bool kf_cursor_is_valid(const struct kf_cursor *c)
{
    return c != NULL && (c->data != NULL || c->len == 0) && c->pos <= c->len &&
           c->len <= KF_CURSOR_MAX_LEN;
}

KF_RESULT kf_cursor_init(struct kf_cursor *out, const uint8_t *data, size_t len)
{
    KF_ENSURE_REF(out);
    KF_ENSURE(data != NULL || len == 0, KF_ERR_NULL);
    KF_ENSURE(len <= KF_CURSOR_MAX_LEN, KF_ERR_TOO_LARGE);
    *out = (struct kf_cursor){ .data = data, .len = len, .pos = 0 };
    return KF_OK;
}

/* Shared precondition of every read: a valid cursor holding at least n more bytes. */
static KF_RESULT cursor_need(const struct kf_cursor *c, size_t n)
{
    KF_ENSURE_REF(c);
    KF_DEBUG_ENSURE(kf_cursor_is_valid(c), KF_ERR_INTERNAL);
    KF_ENSURE(kf_cursor_left(c) >= n, KF_ERR_SHORT_INPUT);
    return KF_OK;
}

static uint64_t cursor_be(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        v = (v << 8) | p[i]; /* byte-wise: no unaligned load */
    }
    return v;
}

KF_RESULT kf_cursor_read_u8(struct kf_cursor *c, uint8_t *out)
{
    KF_ENSURE_REF(out);
    KF_GUARD(cursor_need(c, 1));
    *out = c->data[c->pos];
    c->pos += 1;
    return KF_OK;
}

KF_RESULT kf_cursor_read_u16(struct kf_cursor *c, uint16_t *out)
{
    KF_ENSURE_REF(out);
    KF_GUARD(cursor_need(c, 2));
    *out = (uint16_t)cursor_be(c->data + c->pos, 2);
    c->pos += 2;
    return KF_OK;
}

KF_RESULT kf_cursor_read_u24(struct kf_cursor *c, uint32_t *out)
{
    KF_ENSURE_REF(out);
    KF_GUARD(cursor_need(c, 3));
    *out = (uint32_t)cursor_be(c->data + c->pos, 3);
    c->pos += 3;
    return KF_OK;
}

KF_RESULT kf_cursor_read_u32(struct kf_cursor *c, uint32_t *out)
{
    KF_ENSURE_REF(out);
    KF_GUARD(cursor_need(c, 4));
    *out = (uint32_t)cursor_be(c->data + c->pos, 4);
    c->pos += 4;
    return KF_OK;
}

KF_RESULT kf_cursor_read_u64(struct kf_cursor *c, uint64_t *out)
{
    KF_ENSURE_REF(out);
    KF_GUARD(cursor_need(c, 8));
    *out = cursor_be(c->data + c->pos, 8);
    c->pos += 8;
    return KF_OK;
}

KF_RESULT kf_cursor_read_bytes(struct kf_cursor *c, uint8_t *out, size_t n)
{
    KF_ENSURE(out != NULL || n == 0, KF_ERR_NULL);
    KF_GUARD(cursor_need(c, n));
    if (n > 0) {
        memcpy(out, c->data + c->pos, n);
    }
    c->pos += n;
    return KF_OK;
}

KF_RESULT kf_cursor_skip(struct kf_cursor *c, size_t n)
{
    KF_GUARD(cursor_need(c, n));
    c->pos += n;
    return KF_OK;
}

KF_RESULT kf_cursor_take(struct kf_cursor *c, size_t n, struct kf_cursor *out)
{
    KF_ENSURE_REF(out);
    KF_GUARD(cursor_need(c, n));
    *out = (struct kf_cursor){ .data = n > 0 ? c->data + c->pos : NULL, .len = n, .pos = 0 };
    c->pos += n;
    return KF_OK;
}

KF_RESULT kf_cursor_take_prefixed_u8(struct kf_cursor *c, struct kf_cursor *out)
{
    KF_ENSURE_REF(out);
    KF_GUARD(cursor_need(c, 1));
    size_t n = c->data[c->pos];
    KF_GUARD(cursor_need(c, 1 + n));
    *out = (struct kf_cursor){ .data = n > 0 ? c->data + c->pos + 1 : NULL, .len = n };
    c->pos += 1 + n;
    return KF_OK;
}

KF_RESULT kf_cursor_take_prefixed_u16(struct kf_cursor *c, struct kf_cursor *out)
{
    KF_ENSURE_REF(out);
    KF_GUARD(cursor_need(c, 2));
    size_t n = (size_t)cursor_be(c->data + c->pos, 2);
    KF_GUARD(cursor_need(c, 2 + n));
    *out = (struct kf_cursor){ .data = n > 0 ? c->data + c->pos + 2 : NULL, .len = n };
    c->pos += 2 + n;
    return KF_OK;
}

KF_RESULT kf_cursor_borrow(struct kf_cursor *c, size_t n, const uint8_t **out)
{
    KF_ENSURE_REF(out);
    KF_GUARD(cursor_need(c, n));
    /* An empty cursor may have data == NULL (kf_cursor_take of 0 bytes), and NULL + 0 is
     * undefined in C: lend NULL then (found by tests/fuzz/fuzz_der.c). */
    *out = c->data != NULL ? c->data + c->pos : NULL;
    c->pos += n;
    return KF_OK;
}

KF_RESULT kf_cursor_peek_u8(const struct kf_cursor *c, uint8_t *out)
{
    KF_ENSURE_REF(out);
    KF_GUARD(cursor_need(c, 1));
    *out = c->data[c->pos];
    return KF_OK;
}

KF_RESULT kf_cursor_expect_end(const struct kf_cursor *c)
{
    KF_GUARD(cursor_need(c, 0));
    KF_ENSURE(kf_cursor_left(c) == 0, KF_ERR_TRAILING);
    return KF_OK;
}

KF_RESULT kf_cursor_take_der(struct kf_cursor *c, uint8_t tag, struct kf_cursor *out)
{
    KF_ENSURE_REF(out);
    KF_GUARD(cursor_need(c, 2));
    /* Work on a copy and commit only on success, so a failure leaves c untouched. */
    struct kf_cursor tmp = *c;
    uint8_t got = 0;
    uint8_t first = 0;
    KF_GUARD(kf_cursor_read_u8(&tmp, &got));
    KF_ENSURE(got == tag, KF_ERR_MALFORMED);
    KF_GUARD(kf_cursor_read_u8(&tmp, &first));
    size_t n = first;
    if (first & 0x80) {
        size_t octets = first & 0x7f;
        /* X.690 s8.1.3: 0x80 is the indefinite form, not allowed in DER; cap at 4 octets. */
        KF_ENSURE(octets >= 1 && octets <= 4, KF_ERR_MALFORMED);
        uint8_t lenbuf[4];
        KF_GUARD(kf_cursor_read_bytes(&tmp, lenbuf, octets));
        n = (size_t)cursor_be(lenbuf, octets);
        /* DER s10.1: minimal length encoding. */
        KF_ENSURE(lenbuf[0] != 0 && n >= 0x80, KF_ERR_MALFORMED);
    }
    KF_GUARD(kf_cursor_take(&tmp, n, out));
    *c = tmp;
    return KF_OK;
}
