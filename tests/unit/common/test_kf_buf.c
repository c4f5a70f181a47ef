/* tests/unit/common/test_kf_buf.c - common/kf_buf.c (STYLE.md s4, s14).
 *
 * Exhaustive properties for every capacity 0..64 and every fill level: a write keeps the
 * buffer valid, leaves len and every stored byte untouched on failure, and on success advances
 * len by exactly the field size and stores the big-endian bytes. Fixed buffers use heap blocks
 * of exactly `cap` bytes, so the ASan build flags a write past the end. */
#include "common/kf_buf.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LEN 64

#if defined(KF_SANITIZE)
/* The NOMEM test asks for an impossible allocation; ASan must return NULL, not abort. Exported
 * (the project builds with hidden visibility) so the ASan runtime finds it. */
__attribute__((visibility("default"))) const char *__asan_default_options(void);
__attribute__((visibility("default"))) const char *__asan_default_options(void)
{
    return "allocator_may_return_null=1";
}
#endif

/* Bytes already in the buffer before the write under test. */
static uint8_t fill_byte(size_t i)
{
    return (uint8_t)(0x5A ^ (i * 29 + 3));
}

/* Bytes the write under test stores: distinct from fill_byte at every index. */
static uint8_t src_byte(size_t i)
{
    return (uint8_t)~fill_byte(i + 1);
}

static uint8_t *make_storage(size_t cap)
{
    if (cap == 0) {
        return NULL;
    }
    uint8_t *p = malloc(cap);
    cr_assert_not_null(p);
    memset(p, 0xEE, cap);
    return p;
}

/* Write `start` fill bytes through the API under test (it must succeed). */
static void prefill(struct kf_buf *b, size_t start)
{
    for (size_t i = 0; i < start; i++) {
        cr_assert(kf_ok(kf_buf_write_u8(b, fill_byte(i))), "prefill byte %zu", i);
    }
    cr_assert_eq(b->len, start);
}

static void be_bytes(uint64_t v, size_t width, uint8_t *out)
{
    for (size_t i = 0; i < width; i++) {
        out[i] = (uint8_t)(v >> (8 * (width - 1 - i)));
    }
}

/* The write under test, behind one signature. */
enum write_op {
    W_U8,
    W_U16,
    W_U32,
    W_BYTES,
    W_RESERVE,
};

static const char *const op_names[] = { "write_u8", "write_u16", "write_u32", "write_bytes",
                                        "reserve_u16" };

/* Perform op; report how many bytes it should add and what they should be. */
static kf_result do_write(struct kf_buf *b, enum write_op op, size_t n, size_t *out_width,
                          uint8_t *out_expect, struct kf_buf_mark *mark)
{
    uint32_t v = 0x89ABCDEF ^ (uint32_t)(n * 0x01010101u);
    uint8_t src[MAX_LEN + 2];
    for (size_t i = 0; i < sizeof(src); i++) {
        src[i] = src_byte(i);
    }
    switch (op) {
    case W_U8:
        *out_width = 1;
        be_bytes((uint8_t)v, 1, out_expect);
        return kf_buf_write_u8(b, (uint8_t)v);
    case W_U16:
        *out_width = 2;
        be_bytes((uint16_t)v, 2, out_expect);
        return kf_buf_write_u16(b, (uint16_t)v);
    case W_U32:
        *out_width = 4;
        be_bytes(v, 4, out_expect);
        return kf_buf_write_u32(b, v);
    case W_BYTES:
        *out_width = n;
        memcpy(out_expect, src, n);
        return kf_buf_write_bytes(b, src, n);
    case W_RESERVE:
        *out_width = 2;
        out_expect[0] = 0;
        out_expect[1] = 0;
        return kf_buf_reserve_u16(b, mark);
    default:
        cr_assert_fail("op %d", (int)op);
    }
    return KF_OK;
}

static void check_fixed(enum write_op op, size_t n)
{
    const char *what = op_names[op];
    for (size_t cap = 0; cap <= MAX_LEN; cap++) {
        uint8_t *storage = make_storage(cap);
        for (size_t start = 0; start <= cap; start++) {
            struct kf_buf b;
            cr_assert(kf_ok(kf_buf_init_fixed(&b, storage, cap)));
            prefill(&b, start);
            uint8_t snapshot[MAX_LEN];
            if (cap > 0) {
                memcpy(snapshot, storage, cap);
            }
            size_t width = 0;
            uint8_t expect[MAX_LEN + 2];
            struct kf_buf_mark mark = { .at = 0xDEAD };
            kf_err_clear();
            kf_result r = do_write(&b, op, n, &width, expect, &mark);
            cr_assert(kf_buf_is_valid(&b), "%s cap %zu start %zu: invalid", what, cap, start);
            cr_assert_eq(b.data, storage, "%s: a fixed buffer moved", what);
            cr_assert_eq(b.cap, cap, "%s: a fixed buffer changed capacity", what);
            cr_assert_not(b.growable);
            if (cap - start >= width) {
                cr_assert(kf_ok(r), "%s cap %zu start %zu n %zu: %s", what, cap, start, n,
                          kf_err_name(r.code));
                cr_assert_eq(b.len, start + width, "%s cap %zu start %zu: len %zu", what, cap,
                             start, b.len);
                cr_assert(width == 0 || memcmp(storage + start, expect, width) == 0,
                          "%s cap %zu start %zu: wrong bytes", what, cap, start);
                if (op == W_RESERVE) {
                    cr_assert_eq(mark.at, start, "reserve_u16: mark at %zu", mark.at);
                }
            } else {
                cr_assert_eq(r.code, KF_ERR_BUFFER_TOO_SMALL, "%s cap %zu start %zu: %s", what, cap,
                             start, kf_err_name(r.code));
                cr_assert_eq(kf_err_last_code(), KF_ERR_BUFFER_TOO_SMALL);
                cr_assert_eq(b.len, start, "%s cap %zu start %zu: len moved on failure", what, cap,
                             start);
                cr_assert_eq(mark.at, 0xDEAD, "reserve_u16 wrote its mark on failure");
                width = 0;
            }
            /* Nothing outside the new field changed: not the prefix, not the spare room. */
            for (size_t i = 0; i < cap; i++) {
                if (i >= start && i < start + width) {
                    continue;
                }
                cr_assert_eq(storage[i], snapshot[i], "%s cap %zu start %zu: byte %zu changed",
                             what, cap, start, i);
            }
        }
        free(storage);
    }
}

Test(buf_fixed_exhaustive, write_u8)
{
    check_fixed(W_U8, 0);
}

Test(buf_fixed_exhaustive, write_u16)
{
    check_fixed(W_U16, 0);
}

Test(buf_fixed_exhaustive, write_u32)
{
    check_fixed(W_U32, 0);
}

Test(buf_fixed_exhaustive, write_bytes)
{
    for (size_t n = 0; n <= MAX_LEN + 1; n++) {
        check_fixed(W_BYTES, n);
    }
}

Test(buf_fixed_exhaustive, reserve_u16)
{
    check_fixed(W_RESERVE, 0);
}

/* fill_u16 for every capacity, fill level and mark position, valid or not. */
Test(buf_fixed_exhaustive, fill_u16)
{
    for (size_t cap = 0; cap <= MAX_LEN; cap++) {
        uint8_t *storage = make_storage(cap);
        for (size_t len = 0; len <= cap; len++) {
            for (size_t at = 0; at <= cap + 2; at++) {
                struct kf_buf b;
                cr_assert(kf_ok(kf_buf_init_fixed(&b, storage, cap)));
                prefill(&b, len);
                uint8_t snapshot[MAX_LEN];
                if (cap > 0) {
                    memcpy(snapshot, storage, cap);
                }
                kf_err_clear();
                kf_result r = kf_buf_fill_u16(&b, (struct kf_buf_mark){ .at = at });
                cr_assert(kf_buf_is_valid(&b));
                cr_assert_eq(b.len, len, "fill_u16 changed len");
                size_t changed_from = cap;
                if (at <= len && len - at >= 2) {
                    size_t body = len - at - 2;
                    cr_assert(kf_ok(r), "cap %zu len %zu at %zu: %s", cap, len, at,
                              kf_err_name(r.code));
                    cr_assert_eq(storage[at], (uint8_t)(body >> 8));
                    cr_assert_eq(storage[at + 1], (uint8_t)body, "cap %zu len %zu at %zu", cap, len,
                                 at);
                    changed_from = at;
                } else {
                    cr_assert_eq(r.code, KF_ERR_INVALID_ARG, "cap %zu len %zu at %zu: %s", cap, len,
                                 at, kf_err_name(r.code));
                }
                for (size_t i = 0; i < cap; i++) {
                    if (i == changed_from || i == changed_from + 1) {
                        continue;
                    }
                    cr_assert_eq(storage[i], snapshot[i], "cap %zu len %zu at %zu: byte %zu", cap,
                                 len, at, i);
                }
            }
        }
        free(storage);
    }
}

/* Growable buffers: every initial capacity and fill level; every write succeeds, moving the
 * contents intact when it grows. */
static void check_growable(enum write_op op, size_t n)
{
    const char *what = op_names[op];
    for (size_t initial = 0; initial <= MAX_LEN; initial++) {
        for (size_t start = 0; start <= MAX_LEN; start++) {
            struct kf_buf b;
            cr_assert(kf_ok(kf_buf_init_growable(&b, initial)));
            cr_assert(b.growable);
            cr_assert_eq(b.cap, initial);
            prefill(&b, start);
            size_t width = 0;
            uint8_t expect[MAX_LEN + 2];
            struct kf_buf_mark mark = { .at = 0xDEAD };
            kf_result r = do_write(&b, op, n, &width, expect, &mark);
            cr_assert(kf_ok(r), "%s initial %zu start %zu: %s", what, initial, start,
                      kf_err_name(r.code));
            cr_assert(kf_buf_is_valid(&b), "%s initial %zu start %zu", what, initial, start);
            cr_assert_eq(b.len, start + width);
            cr_assert_geq(b.cap, b.len);
            for (size_t i = 0; i < start; i++) {
                cr_assert_eq(b.data[i], fill_byte(i), "%s initial %zu start %zu: byte %zu lost",
                             what, initial, start, i);
            }
            cr_assert(width == 0 || memcmp(b.data + start, expect, width) == 0,
                      "%s initial %zu start %zu: wrong bytes", what, initial, start);
            if (op == W_RESERVE) {
                cr_assert_eq(mark.at, start);
            }
            kf_buf_cleanup(&b);
        }
    }
}

Test(buf_growable_exhaustive, write_u8)
{
    check_growable(W_U8, 0);
}

Test(buf_growable_exhaustive, write_u16)
{
    check_growable(W_U16, 0);
}

Test(buf_growable_exhaustive, write_u32)
{
    check_growable(W_U32, 0);
}

Test(buf_growable_exhaustive, write_bytes)
{
    for (size_t n = 0; n <= MAX_LEN + 1; n++) {
        check_growable(W_BYTES, n);
    }
}

Test(buf_growable_exhaustive, reserve_u16)
{
    check_growable(W_RESERVE, 0);
}

/* Failures of a growable buffer leave data, len and cap as they were. */
Test(buf_growable, refuses_absurd_sizes_without_moving)
{
    static const uint8_t src[4] = { 1, 2, 3, 4 };
    for (size_t start = 0; start <= MAX_LEN; start++) {
        struct kf_buf b;
        cr_assert(kf_ok(kf_buf_init_growable(&b, 8)));
        prefill(&b, start);
        const struct kf_buf before = b;
        const size_t huge[] = { SIZE_MAX, SIZE_MAX - start, KF_BUF_MAX_LEN - start + 1 };
        for (size_t i = 0; i < sizeof(huge) / sizeof(huge[0]); i++) {
            /* The size check comes before any copy, so src is never read past its 4 bytes. */
            kf_result r = kf_buf_write_bytes(&b, src, huge[i]);
            cr_assert_eq(r.code, KF_ERR_TOO_LARGE, "start %zu n %zu: %s", start, huge[i],
                         kf_err_name(r.code));
            cr_assert_eq(memcmp(&b, &before, sizeof(b)), 0, "start %zu: buffer changed", start);
        }
        for (size_t i = 0; i < start; i++) {
            cr_assert_eq(b.data[i], fill_byte(i));
        }
        kf_buf_cleanup(&b);
    }
}

Test(buf_growable, out_of_memory_leaves_the_buffer_intact)
{
    static const uint8_t src[4] = { 1, 2, 3, 4 };
    struct kf_buf b;
    cr_assert(kf_ok(kf_buf_init_growable(&b, 0)));
    prefill(&b, 10);
    const struct kf_buf before = b;
    /* Passes the size cap, but no allocator can provide 2^63 bytes. */
    kf_result r = kf_buf_write_bytes(&b, src, KF_BUF_MAX_LEN - b.len);
    cr_assert_eq(r.code, KF_ERR_NOMEM, "%s", kf_err_name(r.code));
    cr_assert_eq(memcmp(&b, &before, sizeof(b)), 0);
    for (size_t i = 0; i < 10; i++) {
        cr_assert_eq(b.data[i], fill_byte(i));
    }
    kf_buf_cleanup(&b);
}

/* Appending a copy of the buffer's own bytes while it grows: the source block is freed by the
 * growth, so the write must copy from the new block. */
Test(buf_growable, append_from_itself_while_growing)
{
    for (size_t len = 1; len <= MAX_LEN; len++) {
        struct kf_buf b;
        cr_assert(kf_ok(kf_buf_init_growable(&b, len)));
        prefill(&b, len);
        cr_assert_eq(b.cap, len, "full: the next write must grow");
        cr_assert(kf_ok(kf_buf_write_bytes(&b, b.data, len)), "len %zu", len);
        cr_assert_eq(b.len, 2 * len);
        for (size_t i = 0; i < 2 * len; i++) {
            cr_assert_eq(b.data[i], fill_byte(i % len), "len %zu: byte %zu", len, i);
        }
        /* And a tail of itself, without growing. */
        struct kf_buf c;
        cr_assert(kf_ok(kf_buf_init_growable(&c, 4 * len)));
        prefill(&c, len);
        cr_assert(kf_ok(kf_buf_write_bytes(&c, c.data + len / 2, len - len / 2)));
        for (size_t i = 0; i < len - len / 2; i++) {
            cr_assert_eq(c.data[len + i], fill_byte(len / 2 + i));
        }
        kf_buf_cleanup(&b);
        kf_buf_cleanup(&c);
    }
}

Test(buf_growable, grows_across_large_sizes)
{
    struct kf_buf b;
    cr_assert(kf_ok(kf_buf_init_growable(&b, 0)));
    cr_assert_null(b.data);
    for (size_t i = 0; i < 100000; i++) {
        cr_assert(kf_ok(kf_buf_write_u8(&b, fill_byte(i))));
    }
    cr_assert_eq(b.len, 100000);
    cr_assert(kf_buf_is_valid(&b));
    for (size_t i = 0; i < 100000; i++) {
        cr_assert_eq(b.data[i], fill_byte(i), "byte %zu", i);
    }
    kf_buf_cleanup(&b);
    const struct kf_buf zero = { 0 };
    cr_assert_eq(memcmp(&b, &zero, sizeof(b)), 0, "cleanup leaves a zeroed struct");
}

/* ---- length reservations ------------------------------------------------------------------ */

Test(buf_reserve, fills_the_length_of_what_follows)
{
    uint8_t storage[16];
    struct kf_buf b;
    struct kf_buf_mark outer, inner;
    cr_assert(kf_ok(kf_buf_init_fixed(&b, storage, sizeof(storage))));
    cr_assert(kf_ok(kf_buf_write_u8(&b, 0xAA)));
    cr_assert(kf_ok(kf_buf_reserve_u16(&b, &outer)));
    cr_assert(kf_ok(kf_buf_write_u8(&b, 0x01)));
    cr_assert(kf_ok(kf_buf_reserve_u16(&b, &inner)));
    cr_assert(kf_ok(kf_buf_write_u32(&b, 0x11223344)));
    cr_assert(kf_ok(kf_buf_fill_u16(&b, inner)));
    cr_assert(kf_ok(kf_buf_fill_u16(&b, outer)));
    static const uint8_t want[] = { 0xAA, 0x00, 0x07, 0x01, 0x00, 0x04, 0x11, 0x22, 0x33, 0x44 };
    cr_assert_eq(b.len, sizeof(want));
    cr_assert_eq(memcmp(storage, want, sizeof(want)), 0);
    /* An empty body is a length of zero. */
    struct kf_buf_mark empty;
    cr_assert(kf_ok(kf_buf_reserve_u16(&b, &empty)));
    storage[b.len - 1] = 0x77;
    cr_assert(kf_ok(kf_buf_fill_u16(&b, empty)));
    cr_assert_eq(storage[b.len - 2], 0);
    cr_assert_eq(storage[b.len - 1], 0);
}

Test(buf_reserve, body_of_65535_fits_and_65536_does_not)
{
    static const uint8_t zeros[0x10000] = { 0 };
    for (size_t body = 0xFFFE; body <= 0x10001; body++) {
        struct kf_buf b;
        struct kf_buf_mark m;
        cr_assert(kf_ok(kf_buf_init_growable(&b, 0)));
        cr_assert(kf_ok(kf_buf_reserve_u16(&b, &m)));
        cr_assert(
            kf_ok(kf_buf_write_bytes(&b, zeros, body > sizeof(zeros) ? sizeof(zeros) : body)));
        if (body > sizeof(zeros)) {
            cr_assert(kf_ok(kf_buf_write_u8(&b, 0)));
        }
        cr_assert_eq(b.len, 2 + body);
        kf_result r = kf_buf_fill_u16(&b, m);
        if (body <= 0xFFFF) {
            cr_assert(kf_ok(r), "body %zu", body);
            cr_assert_eq(b.data[0], (uint8_t)(body >> 8));
            cr_assert_eq(b.data[1], (uint8_t)body);
        } else {
            cr_assert_eq(r.code, KF_ERR_TOO_LARGE, "body %zu: %s", body, kf_err_name(r.code));
            cr_assert_eq(b.data[0], 0, "a refused fill wrote the prefix");
            cr_assert_eq(b.data[1], 0);
        }
        cr_assert_eq(b.len, 2 + body);
        kf_buf_cleanup(&b);
    }
}

/* ---- init, cleanup, validity --------------------------------------------------------------- */

Test(buf_init, fixed_and_growable)
{
    uint8_t storage[8];
    struct kf_buf b;
    cr_assert(kf_ok(kf_buf_init_fixed(&b, storage, sizeof(storage))));
    cr_assert_eq(b.data, storage);
    cr_assert_eq(b.len, 0);
    cr_assert_eq(b.cap, sizeof(storage));
    cr_assert_not(b.growable);
    cr_assert(kf_ok(kf_buf_init_fixed(&b, NULL, 0)));
    cr_assert(kf_buf_is_valid(&b));
    cr_assert(kf_ok(kf_buf_init_growable(&b, 0)));
    cr_assert(b.growable);
    cr_assert(kf_buf_is_valid(&b));
    kf_buf_cleanup(&b);
}

Test(buf_init, cleanup_never_frees_caller_storage)
{
    uint8_t storage[8];
    struct kf_buf b;
    cr_assert(kf_ok(kf_buf_init_fixed(&b, storage, sizeof(storage))));
    cr_assert(kf_ok(kf_buf_write_u32(&b, 0x01020304)));
    kf_buf_cleanup(&b); /* free() of a stack array would crash (and ASan would report it) */
    cr_assert_eq(storage[0], 1);
    cr_assert_eq(storage[3], 4);
    const struct kf_buf zero = { 0 };
    cr_assert_eq(memcmp(&b, &zero, sizeof(b)), 0);
    kf_buf_cleanup(&b); /* cleanup of a zeroed struct is a no-op */
    kf_buf_cleanup(NULL);
    cr_assert(kf_buf_is_valid(&b));
}

Test(buf_valid, states_the_invariant)
{
    uint8_t s[4];
    const struct kf_buf good[] = {
        { NULL, 0, 0, false, false },
        { s, 0, 4, false, false },
        { s, 4, 4, false, false },
        { NULL, 0, 0, true, false },
    };
    const struct kf_buf bad[] = {
        { NULL, 0, 4, false, false },               /* room promised, none given */
        { s, 5, 4, false, false },                  /* len past cap */
        { s, 0, KF_BUF_MAX_LEN + 1, false, false }, /* absurd capacity */
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        cr_assert(kf_buf_is_valid(&good[i]), "good[%zu]", i);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cr_assert_not(kf_buf_is_valid(&bad[i]), "bad[%zu]", i);
    }
    cr_assert_not(kf_buf_is_valid(NULL));
}

/* ---- table-driven negative cases ------------------------------------------------------------ */

enum buf_case_op {
    C_INIT_FIXED,
    C_INIT_GROWABLE,
    C_U8,
    C_U16,
    C_U32,
    C_BYTES,
    C_BYTES_NULL,
    C_RESERVE,
    C_RESERVE_NULL_MARK,
    C_FILL,
    C_NULL_BUF,
};

struct buf_case {
    uint8_t prefill[8]; /* bytes written before the operation */
    size_t len;         /* how many of them */
    size_t cap;         /* fixed capacity */
    enum buf_case_op op;
    size_t arg; /* count, capacity or mark position */
    int32_t expected;
    char why[80];
};

ParameterizedTestParameters(buf_reject, table)
{
    static const struct buf_case cases[] = {
        { { 0 }, 0, 0, C_U8, 0, KF_ERR_BUFFER_TOO_SMALL, "u8 into a zero-capacity buffer" },
        { { 1, 2, 3 }, 3, 3, C_U8, 0, KF_ERR_BUFFER_TOO_SMALL, "u8 into a full buffer" },
        { { 1, 2, 3 }, 3, 4, C_U16, 0, KF_ERR_BUFFER_TOO_SMALL, "u16 with one byte of room" },
        { { 1 }, 1, 4, C_U32, 0, KF_ERR_BUFFER_TOO_SMALL, "u32 with three bytes of room" },
        { { 0 }, 0, 3, C_BYTES, 4, KF_ERR_BUFFER_TOO_SMALL, "4 bytes into 3" },
        { { 0 }, 0, 3, C_BYTES, SIZE_MAX, KF_ERR_BUFFER_TOO_SMALL, "SIZE_MAX bytes, fixed" },
        { { 0 }, 0, 3, C_BYTES_NULL, 1, KF_ERR_NULL, "NULL source with a count" },
        { { 1, 2, 3 }, 3, 4, C_RESERVE, 0, KF_ERR_BUFFER_TOO_SMALL, "reserve with 1 byte left" },
        { { 0 }, 0, 4, C_RESERVE_NULL_MARK, 0, KF_ERR_NULL, "reserve without a mark" },
        { { 1 }, 1, 4, C_FILL, 0, KF_ERR_INVALID_ARG, "mark whose prefix is cut off" },
        { { 1, 2 }, 2, 4, C_FILL, 1, KF_ERR_INVALID_ARG, "mark one past the last prefix" },
        { { 1, 2 }, 2, 4, C_FILL, 3, KF_ERR_INVALID_ARG, "mark past len" },
        { { 1, 2 }, 2, 4, C_FILL, SIZE_MAX, KF_ERR_INVALID_ARG, "mark that wraps" },
        { { 0 }, 0, 4, C_NULL_BUF, 0, KF_ERR_NULL, "every write with a NULL buffer" },
        { { 0 }, 0, 4, C_INIT_FIXED, SIZE_MAX, KF_ERR_TOO_LARGE, "fixed capacity SIZE_MAX" },
        { { 0 },
          0,
          4,
          C_INIT_FIXED,
          KF_BUF_MAX_LEN + 1,
          KF_ERR_TOO_LARGE,
          "fixed capacity past the cap" },
        { { 0 },
          0,
          4,
          C_INIT_GROWABLE,
          KF_BUF_MAX_LEN + 1,
          KF_ERR_TOO_LARGE,
          "growable capacity past the cap" },
    };
    return cr_make_param_array(struct buf_case, (void *)(uintptr_t)cases,
                               sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(const struct buf_case *tc, buf_reject, table)
{
    uint8_t storage[8];
    memset(storage, 0xEE, sizeof(storage));
    struct kf_buf b;
    cr_assert(kf_ok(kf_buf_init_fixed(&b, storage, tc->cap)));
    cr_assert(kf_ok(kf_buf_write_bytes(&b, tc->prefill, tc->len)));
    const struct kf_buf before = b;
    uint8_t snapshot[8];
    memcpy(snapshot, storage, sizeof(storage));
    struct kf_buf_mark mark = { .at = 0xDEAD };
    static const uint8_t src[8] = { 9, 9, 9, 9, 9, 9, 9, 9 };
    kf_result r = KF_OK;
    kf_err_clear();
    switch (tc->op) {
    case C_INIT_FIXED:
        r = kf_buf_init_fixed(&b, storage, tc->arg);
        break;
    case C_INIT_GROWABLE:
        r = kf_buf_init_growable(&b, tc->arg);
        break;
    case C_U8:
        r = kf_buf_write_u8(&b, 0x42);
        break;
    case C_U16:
        r = kf_buf_write_u16(&b, 0x4243);
        break;
    case C_U32:
        r = kf_buf_write_u32(&b, 0x42434445);
        break;
    case C_BYTES:
        r = kf_buf_write_bytes(&b, src, tc->arg);
        break;
    case C_BYTES_NULL:
        r = kf_buf_write_bytes(&b, NULL, tc->arg);
        break;
    case C_RESERVE:
        r = kf_buf_reserve_u16(&b, &mark);
        break;
    case C_RESERVE_NULL_MARK:
        r = kf_buf_reserve_u16(&b, NULL);
        break;
    case C_FILL:
        r = kf_buf_fill_u16(&b, (struct kf_buf_mark){ .at = tc->arg });
        break;
    case C_NULL_BUF:
        cr_assert_eq(kf_buf_write_u8(NULL, 1).code, KF_ERR_NULL);
        cr_assert_eq(kf_buf_write_u16(NULL, 1).code, KF_ERR_NULL);
        cr_assert_eq(kf_buf_write_u32(NULL, 1).code, KF_ERR_NULL);
        cr_assert_eq(kf_buf_write_bytes(NULL, src, 1).code, KF_ERR_NULL);
        cr_assert_eq(kf_buf_reserve_u16(NULL, &mark).code, KF_ERR_NULL);
        cr_assert_eq(kf_buf_fill_u16(NULL, mark).code, KF_ERR_NULL);
        cr_assert_eq(kf_buf_init_fixed(NULL, storage, 1).code, KF_ERR_NULL);
        cr_assert_eq(kf_buf_init_fixed(&b, NULL, 1).code, KF_ERR_NULL);
        r = kf_buf_init_growable(NULL, 1);
        break;
    default:
        cr_assert_fail("op %d", (int)tc->op);
    }
    cr_assert_eq(r.code, tc->expected, "%s: got %s, want %s", tc->why, kf_err_name(r.code),
                 kf_err_name(tc->expected));
    cr_assert_eq(kf_err_last_code(), tc->expected, "%s: not recorded", tc->why);
    cr_assert_eq(memcmp(&b, &before, sizeof(b)), 0, "%s: buffer changed on failure", tc->why);
    cr_assert_eq(memcmp(storage, snapshot, sizeof(storage)), 0, "%s: bytes changed", tc->why);
    cr_assert_eq(mark.at, 0xDEAD, "%s: mark written on failure", tc->why);
}

/* A public buffer grows in place of the wipe-and-copy and keeps what it held; an adopted block
 * is owned (freed by cleanup, which ASan's leak check would report otherwise). */
Test(buf_init, public_grows_and_keeps_its_bytes)
{
    struct kf_buf b;
    cr_assert(kf_ok(kf_buf_init_public(&b, 4)));
    cr_assert(b.public_data && b.growable);
    for (unsigned i = 0; i < 100000; i++) {
        cr_assert(kf_ok(kf_buf_write_u8(&b, (uint8_t)i)));
    }
    cr_assert_eq(b.len, 100000);
    cr_assert_geq(b.cap, b.len);
    for (unsigned i = 0; i < 100000; i++) {
        cr_assert_eq(b.data[i], (uint8_t)i);
    }
    kf_buf_cleanup(&b);
    cr_assert_null(b.data);

    uint8_t *block = malloc(16);
    cr_assert_not_null(block);
    memcpy(block, "abcd", 4);
    cr_assert_eq(kf_buf_adopt_public(&b, block, 5, 4).code, KF_ERR_INVALID_ARG);
    cr_assert(kf_ok(kf_buf_adopt_public(&b, block, 4, 16)));
    cr_assert(kf_ok(kf_buf_write_bytes(&b, (const uint8_t *)"efghijklmnopqrstuvwxyz", 22)));
    cr_assert_eq(memcmp(b.data, "abcdefghijklmnopqrstuvwxyz", 26), 0);
    kf_buf_cleanup(&b);
}
