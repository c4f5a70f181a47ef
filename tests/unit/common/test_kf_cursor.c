/* tests/unit/common/test_kf_cursor.c - common/kf_cursor.c (STYLE.md s4, s14).
 *
 * The exhaustive tests state what s2n-tls proves with CBMC for its stuffer: for every buffer
 * length 0..64 and every start position, a read keeps the cursor valid, leaves it (and the
 * out-param) untouched on failure, and advances by exactly the field size on success. Every
 * buffer is a heap block of exactly `len` bytes, so the ASan build flags a read past the end.
 * The negative cases are tables of {bytes, len, expected error, why}. */
#include "common/kf_cursor.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LEN 64

/* Distinct in every position 0..255 (29 is odd), so a read from a wrong offset shows. */
static uint8_t pattern_byte(size_t i)
{
    return (uint8_t)(0xA5 ^ (i * 29 + 7));
}

/* A heap block of exactly len pattern bytes; NULL for len 0 (the cursor allows that). */
static uint8_t *make_buf(size_t len)
{
    if (len == 0) {
        return NULL;
    }
    uint8_t *p = malloc(len);
    cr_assert_not_null(p);
    for (size_t i = 0; i < len; i++) {
        p[i] = pattern_byte(i);
    }
    return p;
}

/* buf + off without the undefined NULL + 0 of an empty (NULL) buffer. */
static const uint8_t *at(const uint8_t *buf, size_t off)
{
    return buf == NULL ? NULL : buf + off;
}

static struct kf_cursor cursor_at(const uint8_t *buf, size_t len, size_t pos)
{
    struct kf_cursor c;
    cr_assert(kf_ok(kf_cursor_init(&c, buf, len)), "init len %zu", len);
    cr_assert_eq(c.pos, 0);
    c.pos = pos;
    cr_assert(kf_cursor_is_valid(&c));
    return c;
}

/* Reference big-endian decoding, written differently from the library's loop. */
static uint64_t ref_be(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        v |= (uint64_t)p[i] << (8 * (n - 1 - i));
    }
    return v;
}

/* Assert a failure: exact code, recorded as this thread's last error, cursor untouched. */
static void assert_failed(kf_result r, int32_t code, const struct kf_cursor *c,
                          const struct kf_cursor *before, const char *what, size_t len, size_t pos)
{
    cr_assert_eq(r.code, code, "%s len %zu pos %zu: got %s, want %s", what, len, pos,
                 kf_err_name(r.code), kf_err_name(code));
    cr_assert_eq(kf_err_last_code(), code, "%s: failure not recorded", what);
    cr_assert(kf_cursor_is_valid(c), "%s len %zu pos %zu: invalid after failure", what, len, pos);
    cr_assert_eq(c->data, before->data, "%s: data moved", what);
    cr_assert_eq(c->len, before->len, "%s: len changed", what);
    cr_assert_eq(c->pos, before->pos, "%s len %zu pos %zu: pos moved on failure", what, len, pos);
}

static void assert_advanced(kf_result r, const struct kf_cursor *c, const struct kf_cursor *before,
                            size_t by, const char *what, size_t len, size_t pos)
{
    cr_assert(kf_ok(r), "%s len %zu pos %zu: unexpected %s", what, len, pos, kf_err_name(r.code));
    cr_assert(kf_cursor_is_valid(c), "%s len %zu pos %zu: invalid after success", what, len, pos);
    cr_assert_eq(c->data, before->data, "%s: data moved", what);
    cr_assert_eq(c->len, before->len, "%s: len changed", what);
    cr_assert_eq(c->pos, before->pos + by, "%s len %zu pos %zu: advanced %zu, want %zu", what, len,
                 pos, c->pos - before->pos, by);
}

/* ---- init and the invariant ------------------------------------------------------------ */

Test(cursor_init, accepts_every_length_and_starts_at_zero)
{
    for (size_t len = 0; len <= MAX_LEN; len++) {
        uint8_t *buf = make_buf(len);
        struct kf_cursor c = { .data = (const uint8_t *)&c, .len = 99, .pos = 7 };
        cr_assert(kf_ok(kf_cursor_init(&c, buf, len)));
        cr_assert_eq(c.data, buf);
        cr_assert_eq(c.len, len);
        cr_assert_eq(c.pos, 0);
        cr_assert_eq(kf_cursor_left(&c), len);
        cr_assert(kf_cursor_is_valid(&c));
        free(buf);
    }
}

Test(cursor_init, rejects_null_and_absurd_lengths_without_writing)
{
    static const uint8_t byte = 0;
    const struct kf_cursor sentinel = { .data = &byte, .len = 1, .pos = 1 };
    struct kf_cursor c = sentinel;

    cr_assert_eq(kf_cursor_init(NULL, &byte, 1).code, KF_ERR_NULL);
    cr_assert_eq(kf_cursor_init(&c, NULL, 1).code, KF_ERR_NULL, "NULL data with len > 0");
    cr_assert_eq(kf_cursor_init(&c, &byte, KF_CURSOR_MAX_LEN + 1).code, KF_ERR_TOO_LARGE);
    cr_assert_eq(kf_cursor_init(&c, &byte, SIZE_MAX).code, KF_ERR_TOO_LARGE);
    cr_assert_eq(memcmp(&c, &sentinel, sizeof(c)), 0, "out written on failure");
    cr_assert(kf_ok(kf_cursor_init(&c, NULL, 0)), "NULL data with len 0 is an empty cursor");
    cr_assert(kf_cursor_is_valid(&c));
}

Test(cursor_valid, states_the_invariant)
{
    static const uint8_t b[4] = { 0 };
    const struct kf_cursor good[] = {
        { NULL, 0, 0 }, { b, 0, 0 }, { b, 4, 0 }, { b, 4, 4 }, { b, KF_CURSOR_MAX_LEN, 3 },
    };
    const struct kf_cursor bad[] = {
        { NULL, 1, 0 },                  /* bytes promised, none given */
        { b, 4, 5 },                     /* pos past the end */
        { b, 0, 1 },                     /* pos past an empty view */
        { b, KF_CURSOR_MAX_LEN + 1, 0 }, /* absurd length */
        { b, SIZE_MAX, SIZE_MAX },       /* absurd length, pos at its end */
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        cr_assert(kf_cursor_is_valid(&good[i]), "good[%zu]", i);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cr_assert_not(kf_cursor_is_valid(&bad[i]), "bad[%zu]", i);
    }
    cr_assert_not(kf_cursor_is_valid(NULL));
}

#ifndef NDEBUG
/* Debug builds check the invariant on entry (KF_DEBUG_ENSURE), so a corrupt cursor is a bug
 * report, not an out-of-bounds read. Release builds compile the check out. */
Test(cursor_valid, debug_build_rejects_a_corrupt_cursor)
{
    static const uint8_t b[4] = { 1, 2, 3, 4 };
    struct kf_cursor c = { .data = b, .len = 4, .pos = 5 };
    uint8_t v = 0xEE;
    cr_assert_eq(kf_cursor_read_u8(&c, &v).code, KF_ERR_INTERNAL);
    cr_assert_eq(v, 0xEE);
    cr_assert_eq(c.pos, 5);
}
#endif

/* ---- NULL arguments --------------------------------------------------------------------- */

Test(cursor_null, every_function_rejects_null)
{
    static const uint8_t b[8] = { 0x30, 0x01, 0x00, 2, 3, 4, 5, 6 };
    struct kf_cursor c = cursor_at(b, sizeof(b), 0);
    struct kf_cursor sub;
    uint8_t u8;
    uint16_t u16;
    uint32_t u32;
    uint64_t u64;
    const uint8_t *p;

    cr_assert_eq(kf_cursor_read_u8(NULL, &u8).code, KF_ERR_NULL);
    cr_assert_eq(kf_cursor_read_u8(&c, NULL).code, KF_ERR_NULL);
    cr_assert_eq(kf_cursor_read_u16(NULL, &u16).code, KF_ERR_NULL);
    cr_assert_eq(kf_cursor_read_u16(&c, NULL).code, KF_ERR_NULL);
    cr_assert_eq(kf_cursor_read_u24(NULL, &u32).code, KF_ERR_NULL);
    cr_assert_eq(kf_cursor_read_u24(&c, NULL).code, KF_ERR_NULL);
    cr_assert_eq(kf_cursor_read_u32(NULL, &u32).code, KF_ERR_NULL);
    cr_assert_eq(kf_cursor_read_u32(&c, NULL).code, KF_ERR_NULL);
    cr_assert_eq(kf_cursor_read_u64(NULL, &u64).code, KF_ERR_NULL);
    cr_assert_eq(kf_cursor_read_u64(&c, NULL).code, KF_ERR_NULL);
    cr_assert_eq(kf_cursor_read_bytes(NULL, &u8, 1).code, KF_ERR_NULL);
    cr_assert_eq(kf_cursor_read_bytes(&c, NULL, 1).code, KF_ERR_NULL);
    cr_assert_eq(kf_cursor_skip(NULL, 0).code, KF_ERR_NULL);
    cr_assert_eq(kf_cursor_take(NULL, 1, &sub).code, KF_ERR_NULL);
    cr_assert_eq(kf_cursor_take(&c, 1, NULL).code, KF_ERR_NULL);
    cr_assert_eq(kf_cursor_take_prefixed_u8(NULL, &sub).code, KF_ERR_NULL);
    cr_assert_eq(kf_cursor_take_prefixed_u8(&c, NULL).code, KF_ERR_NULL);
    cr_assert_eq(kf_cursor_take_prefixed_u16(NULL, &sub).code, KF_ERR_NULL);
    cr_assert_eq(kf_cursor_take_prefixed_u16(&c, NULL).code, KF_ERR_NULL);
    cr_assert_eq(kf_cursor_borrow(NULL, 1, &p).code, KF_ERR_NULL);
    cr_assert_eq(kf_cursor_borrow(&c, 1, NULL).code, KF_ERR_NULL);
    cr_assert_eq(kf_cursor_peek_u8(NULL, &u8).code, KF_ERR_NULL);
    cr_assert_eq(kf_cursor_peek_u8(&c, NULL).code, KF_ERR_NULL);
    cr_assert_eq(kf_cursor_expect_end(NULL).code, KF_ERR_NULL);
    cr_assert_eq(kf_cursor_take_der(NULL, 0x30, &sub).code, KF_ERR_NULL);
    cr_assert_eq(kf_cursor_take_der(&c, 0x30, NULL).code, KF_ERR_NULL);
    cr_assert_eq(c.pos, 0, "a NULL out-param moved the cursor");
}

/* ---- integer reads: every length, every position ------------------------------------------ */

struct int_reader {
    const char *name;
    size_t width;
    kf_result (*fn)(struct kf_cursor *c, uint64_t *out);
};

/* Each wrapper starts the out-param at 0xEE.. and reports it whatever happens, so the test
 * sees whether a failed read wrote it. */
static kf_result rd_u8(struct kf_cursor *c, uint64_t *out)
{
    uint8_t v = 0xEE;
    kf_result r = kf_cursor_read_u8(c, &v);
    *out = v;
    return r;
}

static kf_result rd_u16(struct kf_cursor *c, uint64_t *out)
{
    uint16_t v = 0xEEEE;
    kf_result r = kf_cursor_read_u16(c, &v);
    *out = v;
    return r;
}

static kf_result rd_u24(struct kf_cursor *c, uint64_t *out)
{
    uint32_t v = 0xEEEEEEEE;
    kf_result r = kf_cursor_read_u24(c, &v);
    *out = v;
    return r;
}

static kf_result rd_u32(struct kf_cursor *c, uint64_t *out)
{
    uint32_t v = 0xEEEEEEEE;
    kf_result r = kf_cursor_read_u32(c, &v);
    *out = v;
    return r;
}

static kf_result rd_u64(struct kf_cursor *c, uint64_t *out)
{
    uint64_t v = 0xEEEEEEEEEEEEEEEE;
    kf_result r = kf_cursor_read_u64(c, &v);
    *out = v;
    return r;
}

static kf_result rd_peek(struct kf_cursor *c, uint64_t *out)
{
    uint8_t v = 0xEE;
    kf_result r = kf_cursor_peek_u8(c, &v);
    *out = v;
    return r;
}

static uint64_t sentinel_of(size_t width)
{
    /* u24 reads into a uint32_t, so its sentinel is four bytes wide. */
    size_t bytes = width == 3 ? 4 : width;
    return bytes == 8 ? UINT64_MAX / 0xFF * 0xEE
                      : ref_be((const uint8_t[8]){ 0xEE, 0xEE, 0xEE, 0xEE, 0xEE, 0xEE, 0xEE, 0xEE },
                               bytes);
}

static void check_int_reader(const struct int_reader *rd, bool advances)
{
    for (size_t len = 0; len <= MAX_LEN; len++) {
        uint8_t *buf = make_buf(len);
        for (size_t pos = 0; pos <= len; pos++) {
            struct kf_cursor c = cursor_at(buf, len, pos);
            const struct kf_cursor before = c;
            uint64_t v = 0;
            kf_err_clear();
            kf_result r = rd->fn(&c, &v);
            if (len - pos >= rd->width) {
                assert_advanced(r, &c, &before, advances ? rd->width : 0, rd->name, len, pos);
                cr_assert_eq(v, ref_be(buf + pos, rd->width),
                             "%s len %zu pos %zu: value 0x%llx, want 0x%llx", rd->name, len, pos,
                             (unsigned long long)v,
                             (unsigned long long)ref_be(buf + pos, rd->width));
            } else {
                assert_failed(r, KF_ERR_SHORT_INPUT, &c, &before, rd->name, len, pos);
                cr_assert_eq(v, sentinel_of(rd->width), "%s len %zu pos %zu: out written", rd->name,
                             len, pos);
            }
        }
        free(buf);
    }
}

Test(cursor_exhaustive, read_u8)
{
    check_int_reader(&(struct int_reader){ "read_u8", 1, rd_u8 }, true);
}

Test(cursor_exhaustive, read_u16)
{
    check_int_reader(&(struct int_reader){ "read_u16", 2, rd_u16 }, true);
}

Test(cursor_exhaustive, read_u24)
{
    check_int_reader(&(struct int_reader){ "read_u24", 3, rd_u24 }, true);
}

Test(cursor_exhaustive, read_u32)
{
    check_int_reader(&(struct int_reader){ "read_u32", 4, rd_u32 }, true);
}

Test(cursor_exhaustive, read_u64)
{
    check_int_reader(&(struct int_reader){ "read_u64", 8, rd_u64 }, true);
}

Test(cursor_exhaustive, peek_u8_never_moves)
{
    check_int_reader(&(struct int_reader){ "peek_u8", 1, rd_peek }, false);
}

/* Known values, so the big-endian claim does not rest on the reference function alone. */
Test(cursor_values, big_endian_known_answers)
{
    static const uint8_t b[] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0xFF, 0x80 };
    struct kf_cursor c = cursor_at(b, sizeof(b), 0);
    uint8_t u8;
    uint16_t u16;
    uint32_t u32;
    uint64_t u64;
    cr_assert(kf_ok(kf_cursor_read_u64(&c, &u64)));
    cr_assert_eq(u64, 0x0102030405060708ULL);
    cr_assert(kf_ok(kf_cursor_read_u16(&c, &u16)));
    cr_assert_eq(u16, 0xFF80);
    c.pos = 1;
    cr_assert(kf_ok(kf_cursor_read_u24(&c, &u32)));
    cr_assert_eq(u32, 0x020304);
    cr_assert(kf_ok(kf_cursor_read_u32(&c, &u32)));
    cr_assert_eq(u32, 0x05060708);
    cr_assert(kf_ok(kf_cursor_read_u8(&c, &u8)));
    cr_assert_eq(u8, 0xFF);
    cr_assert(kf_ok(kf_cursor_peek_u8(&c, &u8)));
    cr_assert_eq(u8, 0x80);
    cr_assert_eq(c.pos, 9);
}

/* ---- byte-count functions: every length, position and count ------------------------------- */

/* Counts 0..MAX_LEN+1 and counts chosen to overflow pos + n. */
static const size_t big_counts[] = { SIZE_MAX, SIZE_MAX - 1, KF_CURSOR_MAX_LEN,
                                     KF_CURSOR_MAX_LEN + 1 };
#define N_COUNTS (MAX_LEN + 2 + sizeof(big_counts) / sizeof(big_counts[0]))

static size_t count_at(size_t i)
{
    return i <= MAX_LEN + 1 ? i : big_counts[i - (MAX_LEN + 2)];
}

Test(cursor_exhaustive, read_bytes)
{
    for (size_t len = 0; len <= MAX_LEN; len++) {
        uint8_t *buf = make_buf(len);
        for (size_t pos = 0; pos <= len; pos++) {
            for (size_t i = 0; i < N_COUNTS; i++) {
                size_t n = count_at(i);
                uint8_t out[MAX_LEN + 4];
                memset(out, 0xEE, sizeof(out));
                struct kf_cursor c = cursor_at(buf, len, pos);
                const struct kf_cursor before = c;
                kf_err_clear();
                /* Huge counts only reach the length check: the out buffer is never used. */
                kf_result r = kf_cursor_read_bytes(&c, out, n);
                size_t written = 0;
                if (len - pos >= n) {
                    assert_advanced(r, &c, &before, n, "read_bytes", len, pos);
                    cr_assert(n == 0 || memcmp(out, buf + pos, n) == 0, "len %zu pos %zu n %zu",
                              len, pos, n);
                    written = n;
                } else {
                    assert_failed(r, KF_ERR_SHORT_INPUT, &c, &before, "read_bytes", len, pos);
                }
                for (size_t k = written; k < sizeof(out); k++) {
                    cr_assert_eq(out[k], 0xEE, "len %zu pos %zu n %zu: wrote out[%zu]", len, pos, n,
                                 k);
                }
            }
        }
        free(buf);
    }
}

Test(cursor_values, read_bytes_of_zero_accepts_null)
{
    struct kf_cursor c = cursor_at(NULL, 0, 0);
    cr_assert(kf_ok(kf_cursor_read_bytes(&c, NULL, 0)));
    cr_assert_eq(c.pos, 0);
}

Test(cursor_exhaustive, skip)
{
    for (size_t len = 0; len <= MAX_LEN; len++) {
        uint8_t *buf = make_buf(len);
        for (size_t pos = 0; pos <= len; pos++) {
            for (size_t i = 0; i < N_COUNTS; i++) {
                size_t n = count_at(i);
                struct kf_cursor c = cursor_at(buf, len, pos);
                const struct kf_cursor before = c;
                kf_err_clear();
                kf_result r = kf_cursor_skip(&c, n);
                if (len - pos >= n) {
                    assert_advanced(r, &c, &before, n, "skip", len, pos);
                } else {
                    assert_failed(r, KF_ERR_SHORT_INPUT, &c, &before, "skip", len, pos);
                }
            }
        }
        free(buf);
    }
}

static void assert_sub(const struct kf_cursor *sub, const uint8_t *at, size_t n, const char *what,
                       size_t len, size_t pos)
{
    cr_assert(kf_cursor_is_valid(sub), "%s len %zu pos %zu: sub-cursor invalid", what, len, pos);
    cr_assert_eq(sub->len, n, "%s len %zu pos %zu: sub len %zu, want %zu", what, len, pos, sub->len,
                 n);
    cr_assert_eq(sub->pos, 0, "%s: sub-cursor not at its start", what);
    if (n > 0) {
        cr_assert_eq(sub->data, at, "%s len %zu pos %zu: sub-cursor points elsewhere", what, len,
                     pos);
    }
}

static const struct kf_cursor sub_sentinel = { .data = (const uint8_t *)&sub_sentinel,
                                               .len = 12345,
                                               .pos = 678 };

static void assert_sub_untouched(const struct kf_cursor *sub, const char *what)
{
    cr_assert_eq(memcmp(sub, &sub_sentinel, sizeof(*sub)), 0, "%s wrote its out-param on failure",
                 what);
}

Test(cursor_exhaustive, take)
{
    for (size_t len = 0; len <= MAX_LEN; len++) {
        uint8_t *buf = make_buf(len);
        for (size_t pos = 0; pos <= len; pos++) {
            for (size_t i = 0; i < N_COUNTS; i++) {
                size_t n = count_at(i);
                struct kf_cursor c = cursor_at(buf, len, pos);
                const struct kf_cursor before = c;
                struct kf_cursor sub = sub_sentinel;
                kf_err_clear();
                kf_result r = kf_cursor_take(&c, n, &sub);
                if (len - pos >= n) {
                    assert_advanced(r, &c, &before, n, "take", len, pos);
                    assert_sub(&sub, at(buf, pos), n, "take", len, pos);
                } else {
                    assert_failed(r, KF_ERR_SHORT_INPUT, &c, &before, "take", len, pos);
                    assert_sub_untouched(&sub, "take");
                }
            }
        }
        free(buf);
    }
}

Test(cursor_exhaustive, borrow)
{
    for (size_t len = 0; len <= MAX_LEN; len++) {
        uint8_t *buf = make_buf(len);
        for (size_t pos = 0; pos <= len; pos++) {
            for (size_t i = 0; i < N_COUNTS; i++) {
                size_t n = count_at(i);
                struct kf_cursor c = cursor_at(buf, len, pos);
                const struct kf_cursor before = c;
                const uint8_t *p = (const uint8_t *)&sub_sentinel;
                kf_err_clear();
                kf_result r = kf_cursor_borrow(&c, n, &p);
                if (len - pos >= n) {
                    assert_advanced(r, &c, &before, n, "borrow", len, pos);
                    cr_assert_eq(p, at(buf, pos), "len %zu pos %zu", len, pos);
                } else {
                    assert_failed(r, KF_ERR_SHORT_INPUT, &c, &before, "borrow", len, pos);
                    cr_assert_eq(p, (const uint8_t *)&sub_sentinel, "borrow wrote out on failure");
                }
            }
        }
        free(buf);
    }
}

/* Found by fuzz_der (corpus/fuzz_der/crash_borrow_zero_of_empty_subcursor): an empty
 * sub-cursor has data == NULL, and borrowing its zero bytes computed NULL + 0, which is
 * undefined in C (clang's UBSan reports it; run this file in a clang sanitizer build). */
Test(cursor_values, borrow_zero_bytes_of_an_empty_sub_cursor)
{
    static const uint8_t b[] = { 0x00, 0x04, 0x00, 0xAA };
    struct kf_cursor c = cursor_at(b, sizeof(b), 0);
    struct kf_cursor empty;
    const uint8_t *p = b;
    cr_assert(kf_ok(kf_cursor_take_prefixed_u8(&c, &empty)));
    cr_assert_eq(empty.len, 0);
    cr_assert(kf_ok(kf_cursor_borrow(&empty, 0, &p)));
    cr_assert_null(p, "a NULL-data cursor lends no pointer");
    cr_assert_eq(empty.pos, 0);
    /* The same through DER: an empty OCTET STRING handed to an EVP-style call. */
    struct kf_cursor octets;
    cr_assert(kf_ok(kf_cursor_take_der(&c, 0x04, &octets)));
    cr_assert(kf_ok(kf_cursor_borrow(&octets, kf_cursor_left(&octets), &p)));
    cr_assert_null(p);
    cr_assert_eq(kf_cursor_borrow(&octets, 1, &p).code, KF_ERR_SHORT_INPUT);
    /* A non-empty cursor lends a pointer to its next byte, even for zero bytes. */
    cr_assert(kf_ok(kf_cursor_borrow(&c, 0, &p)));
    cr_assert_eq(p, b + 3);
}

Test(cursor_exhaustive, expect_end)
{
    for (size_t len = 0; len <= MAX_LEN; len++) {
        uint8_t *buf = make_buf(len);
        for (size_t pos = 0; pos <= len; pos++) {
            struct kf_cursor c = cursor_at(buf, len, pos);
            const struct kf_cursor before = c;
            kf_err_clear();
            kf_result r = kf_cursor_expect_end(&c);
            if (pos == len) {
                assert_advanced(r, &c, &before, 0, "expect_end", len, pos);
            } else {
                assert_failed(r, KF_ERR_TRAILING, &c, &before, "expect_end", len, pos);
            }
        }
        free(buf);
    }
}

/* ---- length-prefixed fields ----------------------------------------------------------------- */

/* Prefix values: every length that fits in 64 bytes, one past it, and the extremes. */
static const uint16_t u8_prefixes[] = { 0,  1,  2,  3,  7,  8,  15,  16,  31,  32, 33,
                                        61, 62, 63, 64, 65, 66, 127, 128, 254, 255 };
static const uint16_t u16_prefixes[] = { 0,      1,      2,      3,      7,      8,
                                         31,     32,     60,     61,     62,     63,
                                         64,     65,     255,    0x0100, 0x0101, 0x0140,
                                         0x1000, 0x7FFF, 0x8000, 0xFF00, 0xFFFF };

static void check_prefixed(size_t width)
{
    const uint16_t *prefixes = width == 1 ? u8_prefixes : u16_prefixes;
    size_t n_prefixes = width == 1 ? sizeof(u8_prefixes) / sizeof(u8_prefixes[0])
                                   : sizeof(u16_prefixes) / sizeof(u16_prefixes[0]);
    const char *what = width == 1 ? "take_prefixed_u8" : "take_prefixed_u16";
    for (size_t len = 0; len <= MAX_LEN; len++) {
        uint8_t *buf = make_buf(len);
        for (size_t pos = 0; pos <= len; pos++) {
            for (size_t i = 0; i < n_prefixes; i++) {
                size_t v = prefixes[i];
                /* Write the big-endian prefix at pos, as far as the buffer reaches. */
                for (size_t k = 0; k < width && pos + k < len; k++) {
                    buf[pos + k] = (uint8_t)(v >> (8 * (width - 1 - k)));
                }
                struct kf_cursor c = cursor_at(buf, len, pos);
                const struct kf_cursor before = c;
                struct kf_cursor sub = sub_sentinel;
                kf_err_clear();
                kf_result r = width == 1 ? kf_cursor_take_prefixed_u8(&c, &sub)
                                         : kf_cursor_take_prefixed_u16(&c, &sub);
                size_t left = len - pos;
                if (left >= width && left - width >= v) {
                    assert_advanced(r, &c, &before, width + v, what, len, pos);
                    assert_sub(&sub, at(buf, pos + width), v, what, len, pos);
                    if (v > 0) {
                        cr_assert_eq(sub.data[0], buf[pos + width]);
                    }
                } else {
                    assert_failed(r, KF_ERR_SHORT_INPUT, &c, &before, what, len, pos);
                    assert_sub_untouched(&sub, what);
                }
                /* Restore the pattern for the next prefix. */
                for (size_t k = 0; k < width && pos + k < len; k++) {
                    buf[pos + k] = pattern_byte(pos + k);
                }
            }
        }
        free(buf);
    }
}

Test(cursor_exhaustive, take_prefixed_u8)
{
    check_prefixed(1);
}

Test(cursor_exhaustive, take_prefixed_u16)
{
    check_prefixed(2);
}

Test(cursor_values, prefixed_fields_in_sequence)
{
    /* A 1-byte-prefixed "ab", a 2-byte-prefixed "xyz", then an empty 1-byte-prefixed field. */
    static const uint8_t b[] = { 2, 'a', 'b', 0, 3, 'x', 'y', 'z', 0 };
    struct kf_cursor c = cursor_at(b, sizeof(b), 0);
    struct kf_cursor s1, s2, s3;
    cr_assert(kf_ok(kf_cursor_take_prefixed_u8(&c, &s1)));
    cr_assert(kf_ok(kf_cursor_take_prefixed_u16(&c, &s2)));
    cr_assert(kf_ok(kf_cursor_take_prefixed_u8(&c, &s3)));
    cr_assert(kf_ok(kf_cursor_expect_end(&c)));
    cr_assert_eq(s1.len, 2);
    cr_assert_eq(memcmp(s1.data, "ab", 2), 0);
    cr_assert_eq(s2.len, 3);
    cr_assert_eq(memcmp(s2.data, "xyz", 3), 0);
    cr_assert_eq(s3.len, 0);
    cr_assert(kf_ok(kf_cursor_expect_end(&s3)));
    /* Consuming a sub-cursor never moves its parent. */
    uint16_t v;
    cr_assert(kf_ok(kf_cursor_read_u16(&s2, &v)));
    cr_assert_eq(v, ('x' << 8) | 'y');
    cr_assert_eq(kf_cursor_expect_end(&s2).code, KF_ERR_TRAILING);
    cr_assert_eq(c.pos, sizeof(b));
}

/* ---- DER ---------------------------------------------------------------------------------- */

/* The model of kf_cursor_take_der, from X.690: tag, then a definite length in short form
 * (< 0x80) or long form (0x81..0x84 then 1..4 octets, minimal: no leading zero octet and at
 * least 0x80), then that many content bytes. Errors in the order the header is read. */
static int32_t ref_der(const uint8_t *p, size_t left, uint8_t tag, size_t *out_hdr, size_t *out_len)
{
    if (left < 2) {
        return KF_ERR_SHORT_INPUT;
    }
    if (p[0] != tag) {
        return KF_ERR_MALFORMED;
    }
    size_t hdr = 2;
    size_t n = p[1];
    if (p[1] >= 0x80) {
        size_t octets = p[1] - 0x80;
        if (octets == 0 || octets > 4) {
            return KF_ERR_MALFORMED; /* 0x80: indefinite (BER only); > 4: no such field */
        }
        if (left < 2 + octets) {
            return KF_ERR_SHORT_INPUT;
        }
        n = 0;
        for (size_t i = 0; i < octets; i++) {
            n = n * 256 + p[2 + i];
        }
        if (p[2] == 0 || n < 0x80) {
            return KF_ERR_MALFORMED; /* X.690 s10.1: the shortest form is required */
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

struct der_header {
    uint8_t b[6];
    size_t len;
};

/* Headers tried at every position of every buffer: the asked-for tag and another, every short
 * length that fits, long forms minimal and not, indefinite, and length-of-length 1..5, 0x7F. */
static size_t der_headers(struct der_header *out, size_t cap)
{
    size_t n = 0;
#define ADD(...)                                                                                   \
    do {                                                                                           \
        const uint8_t h_[] = { __VA_ARGS__ };                                                      \
        cr_assert(n < cap);                                                                        \
        memcpy(out[n].b, h_, sizeof(h_));                                                          \
        out[n].len = sizeof(h_);                                                                   \
        n++;                                                                                       \
    } while (0)
    for (unsigned tag = 0x30; tag <= 0x31; tag++) {
        for (unsigned l = 0; l <= MAX_LEN + 2; l++) {
            ADD((uint8_t)tag, (uint8_t)l); /* every short form a 64-byte buffer can hold */
        }
        ADD((uint8_t)tag, 0x7F);
        for (unsigned l = 0; l <= 0xFF; l += (l < 0x7E ? 0x3F : 1)) {
            ADD((uint8_t)tag, 0x81, (uint8_t)l); /* 0, 0x3F, 0x7E: not minimal; then minimal */
        }
        ADD((uint8_t)tag, 0x80);
        ADD((uint8_t)tag, 0x82, 0x00, 0x20);
        ADD((uint8_t)tag, 0x82, 0x00, 0x80);
        ADD((uint8_t)tag, 0x82, 0x01, 0x00);
        ADD((uint8_t)tag, 0x82, 0xFF, 0xFF);
        ADD((uint8_t)tag, 0x83, 0x00, 0x01, 0x00);
        ADD((uint8_t)tag, 0x83, 0x01, 0x00, 0x00);
        ADD((uint8_t)tag, 0x84, 0x00, 0x00, 0x00, 0x30);
        ADD((uint8_t)tag, 0x84, 0x01, 0x00, 0x00, 0x00);
        ADD((uint8_t)tag, 0x84, 0xFF, 0xFF, 0xFF, 0xFF);
        ADD((uint8_t)tag, 0x85, 0x01, 0x00, 0x00, 0x00);
        ADD((uint8_t)tag, 0xFF);
    }
    ADD(0x00, 0x00);
    ADD(0xFF, 0x01);
#undef ADD
    return n;
}

Test(cursor_exhaustive, take_der)
{
    static struct der_header headers[1024];
    size_t n_headers = der_headers(headers, sizeof(headers) / sizeof(headers[0]));
    size_t successes = 0;
    size_t failures[KF_ERR_COUNT] = { 0 };
    for (size_t len = 0; len <= MAX_LEN; len++) {
        uint8_t *buf = make_buf(len);
        for (size_t pos = 0; pos <= len; pos++) {
            for (size_t h = 0; h < n_headers; h++) {
                size_t k;
                for (k = 0; k < headers[h].len && pos + k < len; k++) {
                    buf[pos + k] = headers[h].b[k];
                }
                struct kf_cursor c = cursor_at(buf, len, pos);
                const struct kf_cursor before = c;
                struct kf_cursor sub = sub_sentinel;
                size_t hdr = 0;
                size_t body = 0;
                int32_t want = ref_der(at(buf, pos), len - pos, 0x30, &hdr, &body);
                kf_err_clear();
                kf_result r = kf_cursor_take_der(&c, 0x30, &sub);
                if (want == KF_ERR_OK) {
                    assert_advanced(r, &c, &before, hdr + body, "take_der", len, pos);
                    assert_sub(&sub, at(buf, pos + hdr), body, "take_der", len, pos);
                    successes++;
                } else {
                    assert_failed(r, want, &c, &before, "take_der", len, pos);
                    assert_sub_untouched(&sub, "take_der");
                    failures[want]++;
                }
                for (k = 0; k < headers[h].len && pos + k < len; k++) {
                    buf[pos + k] = pattern_byte(pos + k);
                }
            }
        }
        free(buf);
    }
    /* The sweep must reach every outcome, or it proves less than it claims. */
    cr_assert_gt(successes, 1000);
    cr_assert_gt(failures[KF_ERR_SHORT_INPUT], 1000);
    cr_assert_gt(failures[KF_ERR_MALFORMED], 1000);
}

struct der_case {
    uint8_t bytes[16];
    size_t len;
    uint8_t tag;
    int32_t expected; /* KF_ERR_OK for the positive cases */
    size_t body_at;   /* positive cases: where the contents start */
    size_t body_len;
    char why[80];
};

ParameterizedTestParameters(cursor_der, rejects)
{
    static const struct der_case cases[] = {
        { { 0 }, 0, 0x30, KF_ERR_SHORT_INPUT, 0, 0, "empty input" },
        { { 0x30 }, 1, 0x30, KF_ERR_SHORT_INPUT, 0, 0, "tag without length" },
        { { 0x31 }, 1, 0x30, KF_ERR_SHORT_INPUT, 0, 0, "one byte: too short even for a tag" },
        { { 0x31, 0x00 }, 2, 0x30, KF_ERR_MALFORMED, 0, 0, "SET where SEQUENCE was asked for" },
        { { 0x04, 0x01, 0xAA }, 3, 0x30, KF_ERR_MALFORMED, 0, 0, "OCTET STRING, not SEQUENCE" },
        { { 0x30, 0x01 }, 2, 0x30, KF_ERR_SHORT_INPUT, 0, 0, "contents missing" },
        { { 0x30, 0x03, 0x01, 0x02 }, 4, 0x30, KF_ERR_SHORT_INPUT, 0, 0, "contents one short" },
        { { 0x30, 0x80, 0x00, 0x00 },
          4,
          0x30,
          KF_ERR_MALFORMED,
          0,
          0,
          "indefinite length (BER only, X.690 s10.1)" },
        { { 0x30, 0x81, 0x05, 1, 2, 3, 4, 5 },
          8,
          0x30,
          KF_ERR_MALFORMED,
          0,
          0,
          "long form for a length < 128 is not minimal" },
        { { 0x30, 0x81, 0x7F }, 3, 0x30, KF_ERR_MALFORMED, 0, 0, "long form of 127: not minimal" },
        { { 0x30, 0x81, 0x00 }, 3, 0x30, KF_ERR_MALFORMED, 0, 0, "long form of 0: not minimal" },
        { { 0x30, 0x82, 0x00, 0x80 },
          4,
          0x30,
          KF_ERR_MALFORMED,
          0,
          0,
          "leading zero length octet: not minimal" },
        { { 0x30, 0x82, 0x00, 0x05, 1, 2, 3, 4, 5 },
          9,
          0x30,
          KF_ERR_MALFORMED,
          0,
          0,
          "two length octets for 5" },
        { { 0x30, 0x84, 0x00, 0x00, 0x00, 0x81 },
          6,
          0x30,
          KF_ERR_MALFORMED,
          0,
          0,
          "four length octets with leading zeros" },
        { { 0x30, 0x85, 0x01, 0x00, 0x00, 0x00, 0x00 },
          7,
          0x30,
          KF_ERR_MALFORMED,
          0,
          0,
          "five length octets: more than any field keyfort reads" },
        { { 0x30, 0xFF }, 2, 0x30, KF_ERR_MALFORMED, 0, 0, "length-of-length 127 (reserved)" },
        { { 0x30, 0x81 }, 2, 0x30, KF_ERR_SHORT_INPUT, 0, 0, "length octet missing" },
        { { 0x30, 0x82, 0x01 }, 3, 0x30, KF_ERR_SHORT_INPUT, 0, 0, "second length octet missing" },
        { { 0x30, 0x81, 0x80, 0x00 },
          4,
          0x30,
          KF_ERR_SHORT_INPUT,
          0,
          0,
          "128 bytes promised, one given" },
        { { 0x30, 0x84, 0xFF, 0xFF, 0xFF, 0xFF, 0x00 },
          7,
          0x30,
          KF_ERR_SHORT_INPUT,
          0,
          0,
          "4 GiB promised" },
        { { 0x30, 0x84, 0x7F, 0xFF, 0xFF, 0xFF },
          6,
          0x30,
          KF_ERR_SHORT_INPUT,
          0,
          0,
          "2 GiB promised, nothing given" },
        /* Positive cases in the same table, so the boundaries are pinned from both sides. */
        { { 0x30, 0x00 }, 2, 0x30, KF_ERR_OK, 2, 0, "empty SEQUENCE" },
        { { 0x02, 0x01, 0x05 }, 3, 0x02, KF_ERR_OK, 2, 1, "INTEGER 5" },
        { { 0x30, 0x03, 0x02, 0x01, 0x05, 0xEE },
          6,
          0x30,
          KF_ERR_OK,
          2,
          3,
          "SEQUENCE followed by a trailing byte (left to the caller)" },
        { { 0x06, 0x03, 0x2B, 0x65, 0x70 }, 5, 0x06, KF_ERR_OK, 2, 3, "OID 1.3.101.112 (Ed25519)" },
        { { 0x04, 0x7F }, 2, 0x04, KF_ERR_SHORT_INPUT, 0, 0, "largest short form, no body" },
    };
    return cr_make_param_array(struct der_case, (void *)(uintptr_t)cases,
                               sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(const struct der_case *tc, cursor_der, rejects)
{
    struct kf_cursor c = cursor_at(tc->bytes, tc->len, 0);
    struct kf_cursor sub = sub_sentinel;
    kf_err_clear();
    kf_result r = kf_cursor_take_der(&c, tc->tag, &sub);
    cr_assert_eq(r.code, tc->expected, "%s: got %s, want %s", tc->why, kf_err_name(r.code),
                 kf_err_name(tc->expected));
    if (tc->expected != KF_ERR_OK) {
        cr_assert_eq(c.pos, 0, "%s: cursor moved", tc->why);
        assert_sub_untouched(&sub, tc->why);
        cr_assert_eq(kf_err_last_code(), tc->expected, "%s", tc->why);
        return;
    }
    cr_assert_eq(c.pos, tc->body_at + tc->body_len, "%s", tc->why);
    cr_assert_eq(sub.len, tc->body_len, "%s", tc->why);
    cr_assert_eq(sub.pos, 0, "%s", tc->why);
    if (tc->body_len > 0) {
        cr_assert_eq(sub.data, tc->bytes + tc->body_at, "%s", tc->why);
    }
}

/* The long-form boundaries need more than 16 bytes of input. */
Test(cursor_der, long_forms_at_their_boundaries)
{
    static const struct {
        size_t body;
        size_t hdr;
    } cases[] = {
        { 0x7F, 2 }, { 0x80, 3 }, { 0xFF, 3 }, { 0x100, 4 }, { 0xFFFF, 4 }, { 0x10000, 5 }
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t body = cases[i].body;
        size_t hdr = cases[i].hdr;
        uint8_t *buf = calloc(1, hdr + body);
        cr_assert_not_null(buf);
        buf[0] = 0x04;
        if (hdr == 2) {
            buf[1] = (uint8_t)body;
        } else {
            buf[1] = (uint8_t)(0x80 | (hdr - 2));
            for (size_t k = 0; k < hdr - 2; k++) {
                buf[2 + k] = (uint8_t)(body >> (8 * (hdr - 3 - k)));
            }
        }
        struct kf_cursor c = cursor_at(buf, hdr + body, 0);
        struct kf_cursor sub;
        cr_assert(kf_ok(kf_cursor_take_der(&c, 0x04, &sub)), "body %zu", body);
        cr_assert_eq(sub.len, body);
        cr_assert_eq(sub.data, buf + hdr);
        cr_assert(kf_ok(kf_cursor_expect_end(&c)));
        /* One byte fewer: the same header now promises more than there is. */
        c = cursor_at(buf, hdr + body - 1, 0);
        cr_assert_eq(kf_cursor_take_der(&c, 0x04, &sub).code, KF_ERR_SHORT_INPUT, "body %zu", body);
        cr_assert_eq(c.pos, 0);
        free(buf);
    }
}

Test(cursor_der, nested_structure_parses_like_its_grammar)
{
    /* ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER } (RFC 3279 s2.2.3). */
    static const uint8_t sig[] = { 0x30, 0x08, 0x02, 0x02, 0x00, 0x80, 0x02, 0x02, 0x12, 0x34 };
    struct kf_cursor c = cursor_at(sig, sizeof(sig), 0);
    struct kf_cursor seq, r, s;
    uint16_t rv, sv;
    cr_assert(kf_ok(kf_cursor_take_der(&c, 0x30, &seq)));
    cr_assert(kf_ok(kf_cursor_expect_end(&c)));
    cr_assert(kf_ok(kf_cursor_take_der(&seq, 0x02, &r)));
    cr_assert(kf_ok(kf_cursor_take_der(&seq, 0x02, &s)));
    cr_assert(kf_ok(kf_cursor_expect_end(&seq)));
    cr_assert(kf_ok(kf_cursor_read_u16(&r, &rv)));
    cr_assert(kf_ok(kf_cursor_read_u16(&s, &sv)));
    cr_assert_eq(rv, 0x0080);
    cr_assert_eq(sv, 0x1234);
    /* A third INTEGER is not there: SHORT_INPUT, and seq stays at its end. */
    cr_assert_eq(kf_cursor_take_der(&seq, 0x02, &r).code, KF_ERR_SHORT_INPUT);
    cr_assert_eq(seq.pos, seq.len);
}

/* ---- table-driven negative cases of the plain reads --------------------------------------- */

enum read_op {
    OP_U8,
    OP_U16,
    OP_U24,
    OP_U32,
    OP_U64,
    OP_BYTES,
    OP_SKIP,
    OP_TAKE,
    OP_BORROW,
    OP_PREFIXED_U8,
    OP_PREFIXED_U16,
    OP_PEEK,
    OP_END,
};

struct read_case {
    uint8_t bytes[16];
    size_t len;
    size_t pos;
    enum read_op op;
    size_t n; /* count for BYTES, SKIP, TAKE, BORROW */
    int32_t expected;
    char why[80];
};

ParameterizedTestParameters(cursor_reads, reject)
{
    static const struct read_case cases[] = {
        { { 0 }, 0, 0, OP_U8, 0, KF_ERR_SHORT_INPUT, "u8 of nothing" },
        { { 1 }, 1, 1, OP_U8, 0, KF_ERR_SHORT_INPUT, "u8 at the end" },
        { { 1 }, 1, 0, OP_U16, 0, KF_ERR_SHORT_INPUT, "u16 of one byte" },
        { { 1, 2, 3 }, 3, 2, OP_U16, 0, KF_ERR_SHORT_INPUT, "u16 straddling the end" },
        { { 1, 2 }, 2, 0, OP_U24, 0, KF_ERR_SHORT_INPUT, "u24 of two bytes" },
        { { 1, 2, 3 }, 3, 0, OP_U32, 0, KF_ERR_SHORT_INPUT, "u32 of three bytes" },
        { { 1, 2, 3, 4, 5, 6, 7 }, 7, 0, OP_U64, 0, KF_ERR_SHORT_INPUT, "u64 of seven bytes" },
        { { 1, 2, 3, 4, 5, 6, 7, 8 }, 8, 1, OP_U64, 0, KF_ERR_SHORT_INPUT, "u64 from pos 1 of 8" },
        { { 1, 2, 3 }, 3, 0, OP_BYTES, 4, KF_ERR_SHORT_INPUT, "4 bytes of 3" },
        { { 1, 2, 3 }, 3, 1, OP_SKIP, 3, KF_ERR_SHORT_INPUT, "skip past the end" },
        { { 1, 2, 3 }, 3, 1, OP_SKIP, SIZE_MAX, KF_ERR_SHORT_INPUT, "skip that wraps pos" },
        { { 1, 2, 3 }, 3, 3, OP_TAKE, 1, KF_ERR_SHORT_INPUT, "take at the end" },
        { { 1, 2, 3 }, 3, 2, OP_TAKE, SIZE_MAX - 1, KF_ERR_SHORT_INPUT, "take that wraps pos" },
        { { 1, 2, 3 }, 3, 0, OP_BORROW, 4, KF_ERR_SHORT_INPUT, "borrow 4 of 3" },
        { { 0 }, 0, 0, OP_PREFIXED_U8, 0, KF_ERR_SHORT_INPUT, "u8 prefix missing" },
        { { 3, 'a', 'b' }, 3, 0, OP_PREFIXED_U8, 0, KF_ERR_SHORT_INPUT, "prefix 3, body 2" },
        { { 0xFF, 'a' }, 2, 0, OP_PREFIXED_U8, 0, KF_ERR_SHORT_INPUT, "prefix 255, body 1" },
        { { 0 }, 1, 0, OP_PREFIXED_U16, 0, KF_ERR_SHORT_INPUT, "u16 prefix cut in half" },
        { { 0, 2, 'a' }, 3, 0, OP_PREFIXED_U16, 0, KF_ERR_SHORT_INPUT, "prefix 2, body 1" },
        { { 1, 0, 'a', 'b' },
          4,
          0,
          OP_PREFIXED_U16,
          0,
          KF_ERR_SHORT_INPUT,
          "prefix 256: the high byte counts" },
        { { 0xFF, 0xFF, 'a' }, 3, 0, OP_PREFIXED_U16, 0, KF_ERR_SHORT_INPUT, "prefix 65535" },
        { { 9 }, 1, 1, OP_PEEK, 0, KF_ERR_SHORT_INPUT, "peek at the end" },
        { { 1, 2 }, 2, 0, OP_END, 0, KF_ERR_TRAILING, "two bytes left" },
        { { 1, 2 }, 2, 1, OP_END, 0, KF_ERR_TRAILING, "one byte left" },
    };
    return cr_make_param_array(struct read_case, (void *)(uintptr_t)cases,
                               sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(const struct read_case *tc, cursor_reads, reject)
{
    struct kf_cursor c = cursor_at(tc->bytes, tc->len, tc->pos);
    const struct kf_cursor before = c;
    uint8_t u8 = 0xEE;
    uint16_t u16 = 0xEEEE;
    uint32_t u32 = 0xEEEEEEEE;
    uint64_t u64 = 0xEEEEEEEEEEEEEEEE;
    uint8_t bytes[16];
    memset(bytes, 0xEE, sizeof(bytes));
    struct kf_cursor sub = sub_sentinel;
    const uint8_t *p = NULL;
    kf_result r = KF_OK;
    kf_err_clear();
    switch (tc->op) {
    case OP_U8:
        r = kf_cursor_read_u8(&c, &u8);
        break;
    case OP_U16:
        r = kf_cursor_read_u16(&c, &u16);
        break;
    case OP_U24:
        r = kf_cursor_read_u24(&c, &u32);
        break;
    case OP_U32:
        r = kf_cursor_read_u32(&c, &u32);
        break;
    case OP_U64:
        r = kf_cursor_read_u64(&c, &u64);
        break;
    case OP_BYTES:
        cr_assert_leq(tc->n, sizeof(bytes));
        r = kf_cursor_read_bytes(&c, bytes, tc->n);
        break;
    case OP_SKIP:
        r = kf_cursor_skip(&c, tc->n);
        break;
    case OP_TAKE:
        r = kf_cursor_take(&c, tc->n, &sub);
        break;
    case OP_BORROW:
        r = kf_cursor_borrow(&c, tc->n, &p);
        break;
    case OP_PREFIXED_U8:
        r = kf_cursor_take_prefixed_u8(&c, &sub);
        break;
    case OP_PREFIXED_U16:
        r = kf_cursor_take_prefixed_u16(&c, &sub);
        break;
    case OP_PEEK:
        r = kf_cursor_peek_u8(&c, &u8);
        break;
    case OP_END:
        r = kf_cursor_expect_end(&c);
        break;
    default:
        cr_assert_fail("unknown op %d", (int)tc->op);
    }
    assert_failed(r, tc->expected, &c, &before, tc->why, tc->len, tc->pos);
    cr_assert_eq(u8, 0xEE, "%s: out written", tc->why);
    cr_assert_eq(u16, 0xEEEE, "%s: out written", tc->why);
    cr_assert_eq(u32, 0xEEEEEEEE, "%s: out written", tc->why);
    cr_assert_eq(u64, 0xEEEEEEEEEEEEEEEE, "%s: out written", tc->why);
    cr_assert_eq(bytes[0], 0xEE, "%s: out written", tc->why);
    cr_assert_null(p, "%s: out written", tc->why);
    assert_sub_untouched(&sub, tc->why);
}
