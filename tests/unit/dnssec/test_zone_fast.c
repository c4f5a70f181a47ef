/* tests/unit/dnssec/test_zone_fast.c - the fast zone scanner (dnssec/zone_fast.c): every line
 * it takes gives exactly libzscanner's record, and every line it does not take is read by
 * libzscanner, with the same result or the same error as libzscanner alone. Each case is read
 * both ways: kf_zone_load_string (libzscanner only) and kf_zone_load_string_pieces with one
 * piece (the fast scanner, handing over what it leaves). */
#include "dnssec/dnssec.h"
#include "dnssec/zone_text.h"

#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Read @p text both ways; both must succeed or fail alike. Returns the records the fast
 * scanner read (0 when the read failed). */
static size_t zf_both(const char *text, size_t *n_rrs)
{
    size_t len = strlen(text);
    struct kf_zone one;
    struct kf_zone fast;
    kf_result a = kf_zone_load_string(text, len, "example.", "t", &one);
    kf_result b = kf_zone_load_string_pieces(text, len, "example.", "t", 1, &fast);
    cr_assert_eq(a.code, b.code, "same result for: %s", text);
    *n_rrs = 0;
    if (!kf_ok(a)) {
        return 0;
    }
    cr_assert(kf_zone_same_records(&one, &fast), "same records for: %s", text);
    *n_rrs = one.n_rrs;
    size_t taken = fast.fast_rrs;
    kf_zone_cleanup(&one);
    kf_zone_cleanup(&fast);
    return taken;
}

/* Lines in the form signers write, which the fast scanner must take. */
static const char *const zf_taken[] = {
    "a 300 IN A 192.0.2.1\n",
    "a 300 in a 0.0.0.0\n",
    "a IN 300 A 255.255.255.255\n",
    "a A 192.0.2.1\n", /* no TTL: the default */
    "a 0 A 192.0.2.1\n",
    "a 4294967295 A 192.0.2.1\n",
    "a.b.C 300 A 192.0.2.1\n",
    "@ 300 A 192.0.2.1\n",
    "*.w 300 A 192.0.2.1\n",
    "a*b 300 A 192.0.2.1\n",
    "a_b-c/d 300 A 192.0.2.1\n",
    "x.example. 300 A 192.0.2.1\n",
    "X.EXAMPLE. 300 A 192.0.2.1\n",
    "a\t300\tIN\tA\t192.0.2.1\t \n",
    "a 300 AAAA ::1\n",
    "a 300 AAAA 2001:DB8::1:2\n",
    "a 300 AAAA 2001:db8:0:0:0:0:0:1\n",
    "a 300 AAAA ::\n",
    "a 300 AAAA 1::\n",
    "a 300 AAAA ::1:2:3:4:5:6:7\n",
    "a 300 AAAA 1:2:3:4:5:6:7::\n",
    "a 300 AAAA ::0:0:0:0:0:0:0\n",
    "a 300 NS ns1\n",
    "a 300 NS Ns1.Other.\n",
    "a 300 NS @\n",
    "a 300 CNAME x\n",
    "a 300 DNAME x.\n",
    "a 300 PTR x\n",
    "a 300 MX 10 mail\n",
    "a 300 MX 0 .\n",
    "@ 300 SOA ns1 host. 4294967295 7200 3600 1209600 300\n",
    "a 300 DS 12345 8 2 0123456789abcdef0123456789ABCDEF0123456789abcdef0123456789abcdef\n",
    "a 300 DS 1 8 2 01 23\n",
    "a 300 CDS 0 0 0 00\n",
    "a 300 DNSKEY 256 3 8 AwEAAQ==\n",
    "a 300 DNSKEY 257 3 13 AwEA AQ==\n",
    "a 300 CDNSKEY 0 3 0 AA==\n",
    "a 300 TLSA 3 1 1 0123\n",
    "a 300 SMIMEA 3 0 1 abCD\n",
    "a 300 RRSIG A 8 2 300 20261224004054 20261123234054 61299 example. AAAA\n",
    "a 300 RRSIG a 13 2 300 20240229000000 19700101000000 0 Example. AAB=\n",
    "a 300 RRSIG TYPE1 8 2 300 21051231235959 0 65535 x AAAA BBBB CC==\n",
    "a 300 RRSIG NSEC3PARAM 8 2 300 4294967295 1700000000 1 . AA==\n",
    "a 300 NSEC b.example. A NS SOA RRSIG NSEC DNSKEY\n",
    "a 300 NSEC b\n",
    "a 300 NSEC b A TYPE65534 nsec rrsig A TYPE0 CAA URI SPF EUI64\n",
    "a 300 NSEC3 1 1 10 - 0123456789ABCDEFGHIJKLMNOPQRSTUV A RRSIG\n",
    "a 300 NSEC3 1 0 0 aabb 0123456789abcdefghijklmnopqrstuv\n",
    "a 300 NSEC3 1 0 65535 AABB 01234567\n",
    "a 300 NSEC3PARAM 1 0 10 -\n",
    "a 300 NSEC3PARAM 1 0 10 AABB\n",
    "; a comment line\n",
    "\n",
    "a 300 A 192.0.2.1\n   \n  ; an indented comment\n\t300 A 192.0.2.2\n",
};

/* Lines the fast scanner must leave to libzscanner: other spellings libzscanner takes, other
 * types, and what it rejects. */
static const char *const zf_left[] = {
    "a 0300 A 192.0.2.1\n",                                           /* leading zero */
    "a 1h A 192.0.2.1\n",                                             /* TTL unit */
    "a 4294967296 A 192.0.2.1\n",                                     /* error: 33 bits */
    "a 300 A 01.2.3.4\n",                                             /* error */
    "a 300 A 1.2.3\n",                                                /* error */
    "a 300 A 1.2.3.4;c\n",                                            /* comment without a blank */
    "a 300 A 1.2.3.4 ;c\n",                                           /* trailing comment */
    "a 300 A 1.2.3.4\r\n",                                            /* CR */
    "a 300 CH A 1.2.3.4\n",                                           /* not a class: error */
    "a 300 TXT \"x y\"\n",                                            /* another type */
    "a 300 TYPE1 \\# 4 01020304\n",                                   /* generic RDATA */
    "a 300 AAAA ::ffff:1.2.3.4\n",                                    /* embedded IPv4 */
    "a 300 AAAA 00001::\n",                                           /* error */
    "a 300 AAAA 1::2::3\n",                                           /* error */
    "a 300 AAAA 1:2:3:4:5:6::7:8\n",                                  /* error */
    "a+b 300 A 192.0.2.1\n",                                          /* error: name character */
    "a..b 300 A 192.0.2.1\n",                                         /* error: empty label */
    "a\\.b 300 A 192.0.2.1\n",                                        /* escape */
    "a 300 MX ( 10 mail )\n",                                         /* parentheses */
    "a 300 RRSIG A 8 2 300 20260230000000 20260101000000 1 x AAAA\n", /* error: date */
    "a 300 RRSIG A 8 2 300 21060207062816 20260101000000 1 x AAAA\n", /* wraps past 2^32 */
    "a 300 RRSIG A 8 2 300 20261201000060 20260101000000 1 x AAAA\n", /* error: time */
    "a 300 RRSIG A 8 2 300 2026120100006 20260101000000 1 x AAAA\n",  /* error: length */
    "a 300 RRSIG A RSASHA256 2 300 20261201000000 20260101000000 1 x AAAA\n",
    "a 300 RRSIG A 8 2 300 20261201000000 20260101000000 1 x AA== AAAA\n", /* padding inside */
    "a 300 RRSIG A 8 2 300 20261201000000 20260101000000 1 x AA AA\n",     /* error */
    "a 300 RRSIG A 8 2 300 20261201000000 20260101000000 1 x\n",           /* error: no sig */
    "a 300 RRSIG A 8 2 300 20261201000000 20260101000000 65536 x AAAA\n",  /* error */
    "a 300 DS 1 8 2 0 123\n",                                              /* error */
    "a 300 DS 1 8 2\n",                                                    /* error */
    "a 300 DNSKEY 256 3 RSASHA256 AwEAAQ==\n",
    "a 300 NSEC b A AXFR\n", /* error */
    "a 300 NSEC b A type1\n",
    "a 300 NSEC3 1 0 0 aabb 0123456\n", /* error */
    "a 300 NSEC3 1 0 0 a 01234567\n",   /* error */
    "a 300 A 192.0.2.1 5\n",            /* error: extra data */
    "a 300 MX 10\n",                    /* error: missing name */
    "$TTL 300\na A 192.0.2.1\n",        /* a directive */
    "$ORIGIN other.\na A 192.0.2.1\n",  /* error: outside the zone */
    "a 300 A 192.0.2.1",                /* no final newline */
    "x.other. 300 A 192.0.2.1\n",       /* error: outside the zone */
};

Test(zone_fast, takes_plain_lines_as_libzscanner_reads_them)
{
    for (size_t i = 0; i < sizeof(zf_taken) / sizeof(zf_taken[0]); i++) {
        size_t n = 0;
        size_t taken = zf_both(zf_taken[i], &n);
        cr_assert_eq(taken, n, "the fast scanner read %zu of %zu records of: %s", taken, n,
                     zf_taken[i]);
    }
}

Test(zone_fast, leaves_other_lines_to_libzscanner)
{
    for (size_t i = 0; i < sizeof(zf_left) / sizeof(zf_left[0]); i++) {
        size_t n = 0;
        size_t taken = zf_both(zf_left[i], &n);
        cr_assert_eq(taken, 0, "the fast scanner read: %s", zf_left[i]);
    }
}

/* A line the fast scanner leaves hands over to libzscanner only up to the next owner line at
 * least 16 KiB on, where the fast scanner resumes; line numbers run on across the hand-overs,
 * and a record of a blank owner after the hand-over gets the owner libzscanner read. */
Test(zone_fast, hands_over_and_resumes)
{
    size_t cap = 4u << 20;
    char *t = malloc(cap);
    cr_assert_not_null(t);
    size_t n = 0;
    size_t lines = 0;
    for (unsigned i = 0; i < 20000; i++) {
        if (i == 10 || i == 12000) {
            n +=
                (size_t)snprintf(t + n, cap - n, "t%u 300 TXT \"odd one\"\n\t300 A 192.0.2.9\n", i);
            lines += 2;
        }
        n += (size_t)snprintf(t + n, cap - n, "h%u 300 A 192.0.2.%u\n\t300 AAAA ::%x\n", i, i % 250,
                              i);
        lines += 2;
    }
    size_t rrs = 0;
    size_t taken = zf_both(t, &rrs);
    cr_assert_eq(rrs, lines);
    cr_assert_gt(taken, rrs * 9 / 10, "the fast scanner resumed: %zu of %zu", taken, rrs);
    cr_assert_lt(taken, rrs, "libzscanner read the TXT records and some after them");
    /* An error past a hand-over is reported at its line by libzscanner. */
    n += (size_t)snprintf(t + n, cap - n, "bad 300 A 1.2.3\n");
    struct kf_zone z;
    cr_assert_eq(kf_zone_load_string_pieces(t, n, "example.", "t", 1, &z).code, KF_ERR_ZONE_SYNTAX);
    const char *msg = kf_err_last_context();
    char want[64];
    (void)snprintf(want, sizeof(want), "t:%zu:", lines + 1);
    cr_assert_not_null(strstr(msg, want), "%s names line %zu", msg, lines + 1);
    free(t);
}

/* Every byte of a plain signed record changed to every other value in turn: each variant is
 * read the same both ways (most are refused by the fast scanner or errors; some are other
 * valid records). */
Test(zone_fast, every_single_byte_change)
{
    static const char *const base[] = {
        "a.example. 300 IN RRSIG NSEC 8 3 300 20261224004054 20261123234054 61299 example. "
        "Cn8YsRq9F4FZIMK4uED6fUNz2KEg\n",
        "a 300 NSEC3 1 1 10 aabb 0123456789abcdefghijklmnopqrstuv A NS RRSIG\n",
        "b 300 DS 1 13 2 0123456789abcdef\n",
        "b 300 AAAA 2001:db8::1\n"
        "  300 A 192.0.2.1\n",
    };
    static const char alphabet[] = "\n\t ;()\"\\$@.*-_/=+0129AaFfGgVvWwZz:";
    for (size_t b = 0; b < sizeof(base) / sizeof(base[0]); b++) {
        size_t len = strlen(base[b]);
        char *v = strdup(base[b]);
        cr_assert_not_null(v);
        for (size_t at = 0; at < len; at++) {
            for (size_t k = 0; k + 1 < sizeof(alphabet); k++) {
                v[at] = alphabet[k];
                size_t n = 0;
                (void)zf_both(v, &n);
            }
            v[at] = base[b][at];
        }
        free(v);
    }
}

/* ---- Base64: the vector blocks (dnssec/base64_avx512.c) and the scalar loop ------------------ */

static const char zf_b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* splitmix64: reproducible cases. */
static uint64_t zf_rng(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static bool zf_cpu_has_vbmi(void)
{
    if (!KF_DNSSEC_HAVE_VBMI) {
        return false; /* built without the vector decoder */
    }
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vbmi");
}

/* The vector decoder against OpenSSL's EVP_DecodeBlock: random alphabet text of 0 .. 700
 * characters, with one byte of every value in turn put at a random place. It must decode
 * exactly the whole blocks before the first block holding a byte outside the alphabet, and
 * those bytes as OpenSSL does, and write nothing past them. */
Test(zone_fast, base64_blocks_match_openssl)
{
    if (!zf_cpu_has_vbmi()) {
        cr_skip_test("this CPU lacks AVX-512 VBMI, so the vector decoder cannot run here");
    }
    uint64_t s = 4648;
    char in[704];
    uint8_t out[704], want[704];
    for (unsigned c = 0; c < 6000; c++) {
        size_t len = (size_t)(zf_rng(&s) % 701);
        for (size_t i = 0; i < len; i++) {
            in[i] = zf_b64[zf_rng(&s) % 64];
        }
        size_t bad_at = len;
        if (c % 3 != 0 && len > 0) {
            bad_at = (size_t)(zf_rng(&s) % len);
            in[bad_at] = (char)(c % 256);
            if (strchr(zf_b64, in[bad_at]) != NULL && in[bad_at] != '\0') {
                bad_at = len; /* that byte is alphabet after all */
            }
        }
        size_t expect = (bad_at < len ? bad_at : len) / 64 * 64;
        memset(out, 0xee, sizeof(out));
#if KF_DNSSEC_HAVE_VBMI
        size_t done = zone_base64_blocks_avx512(in, len, out);
#else
        size_t done = 0;
#endif
        cr_assert_eq(done, expect, "case %u: decoded %zu of %zu characters, expected %zu", c, done,
                     len, expect);
        cr_assert_eq(EVP_DecodeBlock(want, (const unsigned char *)in, (int)done),
                     (int)(done / 4 * 3));
        cr_assert(memcmp(out, want, done / 4 * 3) == 0, "case %u: bytes differ from OpenSSL's", c);
        for (size_t i = done / 4 * 3; i < sizeof(out); i++) {
            cr_assert_eq(out[i], 0xee, "case %u: byte %zu written past the output", c, i);
        }
    }
}

/* RRSIG and DNSKEY lines with Base64 of every length around the 64-character blocks, in one to
 * three tokens, with padding, and with a stray character at every place of a long signature:
 * each read the same as libzscanner reads it, with the vector decoder and with the scalar
 * loop alone. */
Test(zone_fast, base64_fields_both_ways)
{
    uint64_t s = 2045;
    static const char *const stray = "=!-_.\\\"(;\x80\xff";
    char b64[520];
    char line[1200];
    for (int pass = 0; pass < 2; pass++) {
        zone_fast_force_scalar(pass == 1);
        size_t taken_total = 0, rrs_total = 0;
        for (size_t len = 0; len <= 400; len++) {
            for (size_t i = 0; i < len; i++) {
                b64[i] = zf_b64[zf_rng(&s) % 64];
            }
            b64[len] = '\0';
            if (len % 4 == 0 && len >= 4 && len % 12 == 4) {
                b64[len - 1] = '=';
                if (len % 24 == 4) {
                    b64[len - 2] = '=';
                }
            }
            /* One token, then the same split into two and three. */
            size_t cut1 = len / 3, cut2 = 2 * len / 3;
            for (int split = 0; split < 3; split++) {
                int n;
                if (split == 0) {
                    n = snprintf(line, sizeof(line),
                                 "a 300 RRSIG A 8 2 300 20261224004054 20261123234054 61299 "
                                 "example. %s\nk 300 DNSKEY 256 3 8 %s\n",
                                 b64, b64);
                } else if (split == 1) {
                    n = snprintf(line, sizeof(line),
                                 "a 300 RRSIG A 8 2 300 20261224004054 20261123234054 61299 "
                                 "example. %.*s %s\n",
                                 (int)cut2, b64, b64 + cut2);
                } else {
                    n = snprintf(line, sizeof(line), "k 300 DNSKEY 257 3 8 %.*s\t%.*s %s\n",
                                 (int)cut1, b64, (int)(cut2 - cut1), b64 + cut1, b64 + cut2);
                }
                cr_assert(n > 0 && (size_t)n < sizeof(line));
                size_t rrs = 0;
                taken_total += zf_both(line, &rrs);
                rrs_total += rrs;
            }
        }
        /* Most lengths are whole quartets with the right padding: the fast scanner reads
         * those itself, in either mode. */
        cr_assert_gt(taken_total, rrs_total / 5, "pass %d: taken %zu of %zu", pass, taken_total,
                     rrs_total);
        /* A 344-character signature with one stray byte at each place. */
        for (size_t i = 0; i < 344; i++) {
            b64[i] = zf_b64[zf_rng(&s) % 64];
        }
        b64[344] = '\0';
        for (size_t at = 0; at < 344; at++) {
            for (const char *p = stray; *p != '\0'; p++) {
                char keep = b64[at];
                b64[at] = *p;
                (void)snprintf(line, sizeof(line),
                               "a 300 RRSIG A 8 2 300 20261224004054 20261123234054 61299 "
                               "example. %s\n",
                               b64);
                size_t rrs = 0;
                (void)zf_both(line, &rrs);
                b64[at] = keep;
            }
        }
    }
    zone_fast_force_scalar(false);
}
