/* fuzz_der covers: kf_cursor_take_der, kf_cursor_take_prefixed_u8/u16, kf_cursor_read_*. */
/* tests/fuzz/fuzz_der.c - also kf_cursor_init/skip/take/borrow/peek_u8/expect_end.
 *
 * Input: byte 0 selects the mode (tests/fuzz/README.md).
 *   even: DER walk. The rest is a stream of DER elements, walked recursively (constructed
 *         tags, bit 0x20, are descended into, up to a depth of 8); unparsable bytes are skipped.
 *   odd:  cursor program. Then a 1-byte-prefixed list of op bytes (kf_cursor_take_prefixed_u8),
 *         and the data the ops run on. Op byte: low nibble the operation, high nibble its
 *         argument (a count, or an index into der_tags).
 * Every call is checked against the cursor contract and a reference model: the cursor stays
 * valid, a failure moves nothing and writes no out-param, a success advances by exactly the
 * field size, values are the big-endian bytes, and take_der agrees with X.690 DER. A
 * violation aborts. No clock, no RNG: the same input always takes the same path. */
#include "common/kf_cursor.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define DER_MAX_DEPTH 8

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static const uint8_t der_tags[16] = {
    0x30, /* SEQUENCE */
    0x31, /* SET */
    0x02, /* INTEGER */
    0x03, /* BIT STRING */
    0x04, /* OCTET STRING */
    0x05, /* NULL */
    0x06, /* OBJECT IDENTIFIER */
    0x0C, /* UTF8String */
    0x13, /* PrintableString */
    0x17, /* UTCTime */
    0x18, /* GeneralizedTime */
    0xA0, /* [0] constructed */
    0xA1, /* [1] constructed */
    0x80, /* [0] primitive */
    0x01, /* BOOLEAN */
    0xFF, /* not a tag any keyfort structure uses */
};

static uint64_t be(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        v = (v << 8) | p[i];
    }
    return v;
}

static bool same(const struct kf_cursor *a, const struct kf_cursor *b)
{
    return a->data == b->data && a->len == b->len && a->pos == b->pos;
}

/* The DER header model (X.690 s8.1.3, s10.1): the code take_der must return, and on success
 * the header and content lengths. */
static int32_t der_model(const struct kf_cursor *c, uint8_t tag, size_t *out_hdr, size_t *out_len)
{
    size_t left = kf_cursor_left(c);
    const uint8_t *p = left > 0 ? c->data + c->pos : NULL;
    if (left < 2) {
        return KF_ERR_SHORT_INPUT;
    }
    if (p[0] != tag) {
        return KF_ERR_MALFORMED;
    }
    size_t n = p[1];
    size_t hdr = 2;
    if (p[1] & 0x80) {
        size_t octets = p[1] & 0x7F;
        if (octets < 1 || octets > 4) {
            return KF_ERR_MALFORMED;
        }
        if (left - 2 < octets) {
            return KF_ERR_SHORT_INPUT;
        }
        n = (size_t)be(p + 2, octets);
        if (p[2] == 0 || n < 0x80) {
            return KF_ERR_MALFORMED;
        }
        hdr += octets;
    }
    if (left - hdr < n) {
        return KF_ERR_SHORT_INPUT;
    }
    *out_hdr = hdr;
    *out_len = n;
    return KF_ERR_OK;
}

/* take_der, checked against the model and the cursor contract. */
static kf_result checked_take_der(struct kf_cursor *c, uint8_t tag, struct kf_cursor *out)
{
    const struct kf_cursor before = *c;
    const struct kf_cursor sentinel = { .data = NULL, .len = 1, .pos = 1 };
    struct kf_cursor sub = sentinel;
    size_t hdr = 0;
    size_t n = 0;
    int32_t want = der_model(c, tag, &hdr, &n);
    kf_result r = kf_cursor_take_der(c, tag, &sub);
    CHECK(r.code == want);
    CHECK(kf_cursor_is_valid(c));
    if (!kf_ok(r)) {
        CHECK(same(c, &before));
        CHECK(same(&sub, &sentinel));
        return r;
    }
    CHECK(c->data == before.data && c->len == before.len);
    CHECK(c->pos == before.pos + hdr + n);
    CHECK(kf_cursor_is_valid(&sub) && sub.pos == 0 && sub.len == n);
    /* The contents are exactly the bytes between the header and the new position. */
    CHECK(n == 0 || sub.data == before.data + before.pos + hdr);
    *out = sub;
    return r;
}

/* Integer reads: value, advance and failure behaviour. */
static void checked_read_int(struct kf_cursor *c, size_t width)
{
    const struct kf_cursor before = *c;
    const uint64_t sentinel = 0x5A5A5A5A5A5A5A5AULL;
    uint64_t got = sentinel;
    kf_result r;
    switch (width) {
    case 1: {
        uint8_t v = 0x5A;
        r = kf_cursor_read_u8(c, &v);
        got = kf_ok(r) ? v : (v == 0x5A ? sentinel : 0);
        break;
    }
    case 2: {
        uint16_t v = 0x5A5A;
        r = kf_cursor_read_u16(c, &v);
        got = kf_ok(r) ? v : (v == 0x5A5A ? sentinel : 0);
        break;
    }
    case 3: {
        uint32_t v = 0x5A5A5A5A;
        r = kf_cursor_read_u24(c, &v);
        got = kf_ok(r) ? v : (v == 0x5A5A5A5A ? sentinel : 0);
        break;
    }
    case 4: {
        uint32_t v = 0x5A5A5A5A;
        r = kf_cursor_read_u32(c, &v);
        got = kf_ok(r) ? v : (v == 0x5A5A5A5A ? sentinel : 0);
        break;
    }
    default: {
        uint64_t v = sentinel;
        r = kf_cursor_read_u64(c, &v);
        got = kf_ok(r) ? v : (v == sentinel ? sentinel : 0);
        width = 8;
        break;
    }
    }
    CHECK(kf_cursor_is_valid(c));
    if (kf_cursor_left(&before) >= width) {
        CHECK(kf_ok(r));
        CHECK(c->pos == before.pos + width);
        CHECK(got == be(before.data + before.pos, width));
    } else {
        CHECK(r.code == KF_ERR_SHORT_INPUT);
        CHECK(same(c, &before));
        CHECK(got == sentinel);
    }
}

/* Consume a primitive element's contents with a mix of reads, ending exactly at its end. */
static void consume_contents(struct kf_cursor *c)
{
    while (kf_cursor_left(c) >= 8) {
        checked_read_int(c, 8);
    }
    checked_read_int(c, 4);
    checked_read_int(c, 2);
    checked_read_int(c, 3);
    checked_read_int(c, 1);
    uint8_t rest[8];
    size_t left = kf_cursor_left(c);
    CHECK(left < 8);
    CHECK(kf_ok(kf_cursor_read_bytes(c, rest, left)));
    CHECK(kf_ok(kf_cursor_expect_end(c)));
}

static void der_walk(struct kf_cursor *c, unsigned depth)
{
    while (kf_cursor_left(c) > 0) {
        uint8_t tag = 0;
        CHECK(kf_ok(kf_cursor_peek_u8(c, &tag)));
        struct kf_cursor sub;
        if (!kf_ok(checked_take_der(c, tag, &sub))) {
            /* Also ask for a tag that is not there: must be MALFORMED or SHORT_INPUT. */
            (void)checked_take_der(c, (uint8_t)(tag ^ 0x01), &sub);
            CHECK(kf_ok(kf_cursor_skip(c, 1)));
            continue;
        }
        if ((tag & 0x20) != 0 && depth < DER_MAX_DEPTH) {
            der_walk(&sub, depth + 1);
        } else {
            consume_contents(&sub);
        }
        CHECK(kf_ok(kf_cursor_expect_end(&sub)));
    }
    CHECK(kf_ok(kf_cursor_expect_end(c)));
    CHECK(kf_cursor_expect_end(c).code == KF_ERR_OK);
}

/* Count-taking operations: read_bytes, skip, take, borrow. */
static void checked_counted(struct kf_cursor *c, unsigned op, size_t n, struct kf_cursor *last)
{
    const struct kf_cursor before = *c;
    const struct kf_cursor sentinel = { .data = NULL, .len = 2, .pos = 2 };
    uint8_t buf[16];
    memset(buf, 0x5A, sizeof(buf));
    struct kf_cursor sub = sentinel;
    const uint8_t *p = (const uint8_t *)&sentinel;
    kf_result r;
    switch (op) {
    case 5:
        r = kf_cursor_read_bytes(c, buf, n);
        break;
    case 6:
        r = kf_cursor_skip(c, n);
        break;
    case 7:
        r = kf_cursor_take(c, n, &sub);
        break;
    default:
        r = kf_cursor_borrow(c, n, &p);
        break;
    }
    CHECK(kf_cursor_is_valid(c));
    if (kf_cursor_left(&before) < n) {
        CHECK(r.code == KF_ERR_SHORT_INPUT);
        CHECK(same(c, &before));
        CHECK(same(&sub, &sentinel));
        CHECK(p == (const uint8_t *)&sentinel);
        for (size_t i = 0; i < sizeof(buf); i++) {
            CHECK(buf[i] == 0x5A);
        }
        return;
    }
    CHECK(kf_ok(r));
    CHECK(c->pos == before.pos + n);
    const uint8_t *at = before.data != NULL ? before.data + before.pos : NULL; /* no NULL + 0 */
    switch (op) {
    case 5:
        CHECK(n == 0 || memcmp(buf, at, n) == 0);
        break;
    case 7:
        CHECK(kf_cursor_is_valid(&sub) && sub.len == n && sub.pos == 0);
        CHECK(n == 0 || sub.data == at);
        *last = sub;
        break;
    case 8:
        CHECK(p == at);
        break;
    default:
        break;
    }
}

static void checked_prefixed(struct kf_cursor *c, size_t width, struct kf_cursor *last)
{
    const struct kf_cursor before = *c;
    const struct kf_cursor sentinel = { .data = NULL, .len = 3, .pos = 3 };
    struct kf_cursor sub = sentinel;
    kf_result r =
        width == 1 ? kf_cursor_take_prefixed_u8(c, &sub) : kf_cursor_take_prefixed_u16(c, &sub);
    size_t left = kf_cursor_left(&before);
    size_t n = left >= width ? (size_t)be(before.data + before.pos, width) : 0;
    CHECK(kf_cursor_is_valid(c));
    if (left < width || left - width < n) {
        CHECK(r.code == KF_ERR_SHORT_INPUT);
        CHECK(same(c, &before));
        CHECK(same(&sub, &sentinel));
        return;
    }
    CHECK(kf_ok(r));
    CHECK(c->pos == before.pos + width + n);
    CHECK(kf_cursor_is_valid(&sub) && sub.len == n && sub.pos == 0);
    CHECK(n == 0 || sub.data == before.data + before.pos + width);
    *last = sub;
}

static void run_program(struct kf_cursor *ops, struct kf_cursor *c)
{
    struct kf_cursor last = *c;
    uint8_t op = 0;
    while (kf_ok(kf_cursor_read_u8(ops, &op))) {
        unsigned code = op & 0x0F;
        unsigned arg = op >> 4;
        switch (code) {
        case 0:
        case 1:
        case 2:
        case 3:
        case 4:
            checked_read_int(c, code == 4 ? 8 : code + 1);
            break;
        case 5:
        case 6:
        case 7:
        case 8:
            /* arg 15 asks for more than any input holds: the overflow-prone path. */
            checked_counted(c, code, arg == 15 ? SIZE_MAX - arg : arg, &last);
            break;
        case 9:
            checked_prefixed(c, 1, &last);
            break;
        case 10:
            checked_prefixed(c, 2, &last);
            break;
        case 11: {
            const struct kf_cursor before = *c;
            uint8_t v = 0x5A;
            kf_result r = kf_cursor_peek_u8(c, &v);
            CHECK(same(c, &before));
            CHECK(kf_ok(r) == (kf_cursor_left(c) > 0));
            CHECK(kf_ok(r) ? v == c->data[c->pos] : v == 0x5A);
            break;
        }
        case 12: {
            const struct kf_cursor before = *c;
            kf_result r = kf_cursor_expect_end(c);
            CHECK(same(c, &before));
            CHECK(r.code == (kf_cursor_left(c) == 0 ? KF_ERR_OK : KF_ERR_TRAILING));
            break;
        }
        case 13: {
            struct kf_cursor sub;
            if (kf_ok(checked_take_der(c, der_tags[arg], &sub))) {
                last = sub;
            }
            break;
        }
        case 14:
            *c = last; /* descend into the last sub-cursor taken */
            break;
        default: {
            /* Re-view what is left as a fresh cursor. */
            struct kf_cursor fresh;
            size_t left = kf_cursor_left(c);
            CHECK(kf_ok(kf_cursor_init(&fresh, left > 0 ? c->data + c->pos : NULL, left)));
            CHECK(fresh.pos == 0 && fresh.len == left);
            *c = fresh;
            break;
        }
        }
        CHECK(kf_cursor_is_valid(c));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct kf_cursor in;
    uint8_t mode = 0;
    if (!kf_ok(kf_cursor_init(&in, data, size)) || !kf_ok(kf_cursor_read_u8(&in, &mode))) {
        return 0;
    }
    if ((mode & 1) == 0) {
        der_walk(&in, 0);
        return 0;
    }
    struct kf_cursor ops;
    if (!kf_ok(kf_cursor_take_prefixed_u8(&in, &ops))) {
        return 0;
    }
    run_program(&ops, &in);
    return 0;
}
