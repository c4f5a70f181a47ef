/* common/kf_buf.c */
#include "common/kf_buf.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

bool kf_buf_is_valid(const struct kf_buf *b)
{
    return b != NULL && (b->data != NULL || b->cap == 0) && b->len <= b->cap &&
           b->cap <= KF_BUF_MAX_LEN;
}

KF_RESULT kf_buf_init_fixed(struct kf_buf *out, uint8_t *storage, size_t cap)
{
    KF_ENSURE_REF(out);
    KF_ENSURE(storage != NULL || cap == 0, KF_ERR_NULL);
    KF_ENSURE(cap <= KF_BUF_MAX_LEN, KF_ERR_TOO_LARGE);
    *out = (struct kf_buf){ .data = storage, .len = 0, .cap = cap, .growable = false };
    return KF_OK;
}

KF_RESULT kf_buf_init_growable(struct kf_buf *out, size_t initial_cap)
{
    KF_ENSURE_REF(out);
    KF_ENSURE(initial_cap <= KF_BUF_MAX_LEN, KF_ERR_TOO_LARGE);
    uint8_t *p = NULL;
    if (initial_cap > 0) {
        p = malloc(initial_cap);
        KF_ENSURE(p != NULL, KF_ERR_NOMEM);
    }
    *out = (struct kf_buf){ .data = p, .len = 0, .cap = initial_cap, .growable = true };
    return KF_OK;
}

KF_RESULT kf_buf_init_public(struct kf_buf *out, size_t initial_cap)
{
    KF_GUARD(kf_buf_init_growable(out, initial_cap));
    out->public_data = true;
    return KF_OK;
}

KF_RESULT kf_buf_adopt_public(struct kf_buf *out, uint8_t *data, size_t len, size_t cap)
{
    KF_ENSURE_REF(out);
    KF_ENSURE(data != NULL || cap == 0, KF_ERR_NULL);
    KF_ENSURE(len <= cap && cap <= KF_BUF_MAX_LEN, KF_ERR_INVALID_ARG);
    *out = (struct kf_buf){
        .data = data, .len = len, .cap = cap, .growable = true, .public_data = true
    };
    return KF_OK;
}

void kf_buf_cleanup(struct kf_buf *b)
{
    if (b == NULL) {
        return;
    }
    if (b->growable && b->data != NULL) {
        if (!b->public_data) {
            OPENSSL_cleanse(b->data, b->cap);
        }
        free(b->data);
    }
    *b = (struct kf_buf){ 0 };
}

/* Make room for n more bytes; on failure nothing changes. */
static KF_RESULT buf_room(struct kf_buf *b, size_t n)
{
    KF_ENSURE_REF(b);
    KF_DEBUG_ENSURE(kf_buf_is_valid(b), KF_ERR_INTERNAL);
    if (b->cap - b->len >= n) {
        return KF_OK;
    }
    KF_ENSURE(b->growable, KF_ERR_BUFFER_TOO_SMALL);
    KF_ENSURE(n <= KF_BUF_MAX_LEN - b->len, KF_ERR_TOO_LARGE);
    size_t want = b->len + n;
    size_t cap = b->cap < 64 ? 64 : b->cap;
    while (cap < want) {
        cap = cap > KF_BUF_MAX_LEN / 2 ? KF_BUF_MAX_LEN : cap * 2;
    }
    if (b->public_data) {
        uint8_t *q = realloc(b->data, cap);
        KF_ENSURE(q != NULL, KF_ERR_NOMEM);
        b->data = q;
        b->cap = cap;
        return KF_OK;
    }
    /* Not realloc: the old block may hold key material and must be wiped before release. */
    uint8_t *p = malloc(cap);
    KF_ENSURE(p != NULL, KF_ERR_NOMEM);
    if (b->len > 0) {
        memcpy(p, b->data, b->len);
    }
    if (b->data != NULL) {
        OPENSSL_cleanse(b->data, b->cap);
        free(b->data);
    }
    b->data = p;
    b->cap = cap;
    return KF_OK;
}

KF_RESULT kf_buf_write_bytes(struct kf_buf *b, const uint8_t *p, size_t n)
{
    KF_ENSURE(p != NULL || n == 0, KF_ERR_NULL);
    KF_ENSURE_REF(b);
    /* p may point into b itself (appending a copy of earlier output). Growing wipes and frees
     * the old block, so keep such a source as an offset and copy from the new block. */
    uintptr_t start = (uintptr_t)b->data;
    bool inside =
        n > 0 && b->data != NULL && (uintptr_t)p >= start && (uintptr_t)p - start < b->cap;
    size_t offset = inside ? (size_t)((uintptr_t)p - start) : 0;
    KF_GUARD(buf_room(b, n));
    if (inside) {
        p = b->data + offset;
    }
    if (n > 0) {
        memmove(b->data + b->len, p, n); /* memmove: the source may overlap the destination */
    }
    b->len += n;
    return KF_OK;
}

KF_RESULT kf_buf_write_u8(struct kf_buf *b, uint8_t v)
{
    return kf_buf_write_bytes(b, &v, 1);
}

KF_RESULT kf_buf_write_u16(struct kf_buf *b, uint16_t v)
{
    const uint8_t be[2] = { (uint8_t)(v >> 8), (uint8_t)v };
    return kf_buf_write_bytes(b, be, sizeof(be));
}

KF_RESULT kf_buf_write_u32(struct kf_buf *b, uint32_t v)
{
    const uint8_t be[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
    return kf_buf_write_bytes(b, be, sizeof(be));
}

KF_RESULT kf_buf_reserve_u16(struct kf_buf *b, struct kf_buf_mark *out)
{
    KF_ENSURE_REF(out);
    KF_GUARD(buf_room(b, 2));
    struct kf_buf_mark m = { .at = b->len };
    b->data[b->len] = 0;
    b->data[b->len + 1] = 0;
    b->len += 2;
    *out = m;
    return KF_OK;
}

KF_RESULT kf_buf_fill_u16(struct kf_buf *b, struct kf_buf_mark mark)
{
    KF_ENSURE_REF(b);
    KF_ENSURE(mark.at <= b->len && b->len - mark.at >= 2, KF_ERR_INVALID_ARG);
    size_t body = b->len - mark.at - 2;
    KF_ENSURE(body <= UINT16_MAX, KF_ERR_TOO_LARGE);
    b->data[mark.at] = (uint8_t)(body >> 8);
    b->data[mark.at + 1] = (uint8_t)body;
    return KF_OK;
}
