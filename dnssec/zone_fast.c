/* dnssec/zone_fast.c - a fast scanner for the plain zone text signers write.
 *
 * Signed zones come out of signers (ours, ldns-signzone, kzonesign) one record per line:
 * owner, TTL, class, type and RDATA on one line, no parentheses, no directives after the
 * start. libzscanner reads any zone text, at about 270 MB/s here, and for the 83 MB RSA zone
 * of perf/ that was the largest part of `keyfort zone verify` after the signatures. This
 * scanner reads only that plain form, and only the record types signed zones are made of, at
 * several times the speed.
 *
 * It is strict rather than complete: a line it does not take in full is not an error but the
 * point where libzscanner takes over (zone_read.c), so everything it accepts must give the
 * record libzscanner would give, byte for byte, and everything else is left to libzscanner,
 * whose errors are the only ones ever reported. Where libzscanner accepts several spellings
 * (leading zeros, TTL units, algorithm mnemonics, padding inside Base64) this scanner takes
 * the one signers write and refuses the rest. fuzz_zone and test_zone_fast compare the two on
 * every input they read.
 */
#include "dnssec/zone_text.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* Character classes and decoding tables, built once (a static initialiser would need GNU
 * range designators). */
enum {
    FAST_NAME = 1u << 0, /* may appear in a label: what libzscanner takes unescaped */
    FAST_DIGIT = 1u << 1,
};
#define FAST_BAD 0xffu

static uint8_t fast_class[256];
static uint8_t fast_b64[256];
static uint8_t fast_hex[256];
/* Whether this CPU runs zone_base64_blocks_avx512: set once with the tables. */
static bool fast_vbmi;
static pthread_once_t fast_once = PTHREAD_ONCE_INIT;
/* zone_fast_force_scalar's switch: a test hook, atomic so that setting it races with nothing. */
static atomic_bool fast_scalar_only;

void zone_fast_force_scalar(bool on)
{
    atomic_store_explicit(&fast_scalar_only, on, memory_order_relaxed);
}

static void fast_tables(void)
{
#if KF_DNSSEC_HAVE_VBMI
    __builtin_cpu_init();
    fast_vbmi = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                __builtin_cpu_supports("avx512vbmi");
#endif
    memset(fast_b64, FAST_BAD, sizeof(fast_b64));
    memset(fast_hex, FAST_BAD, sizeof(fast_hex));
    for (unsigned i = 0; i < 26; i++) {
        fast_class['A' + i] = FAST_NAME;
        fast_class['a' + i] = FAST_NAME;
        fast_b64['A' + i] = (uint8_t)i;
        fast_b64['a' + i] = (uint8_t)(26 + i);
    }
    for (unsigned i = 0; i < 10; i++) {
        fast_class['0' + i] = FAST_NAME | FAST_DIGIT;
        fast_b64['0' + i] = (uint8_t)(52 + i);
        fast_hex['0' + i] = (uint8_t)i;
    }
    for (unsigned i = 0; i < 6; i++) {
        fast_hex['a' + i] = (uint8_t)(10 + i);
        fast_hex['A' + i] = (uint8_t)(10 + i);
    }
    fast_b64['+'] = 62;
    fast_b64['/'] = 63;
    fast_class['-'] = FAST_NAME;
    fast_class['_'] = FAST_NAME;
    fast_class['*'] = FAST_NAME;
    fast_class['/'] = FAST_NAME;
}

/* Type mnemonics libzscanner 3.2 knows in type bitmaps and RRSIG's type covered (checked one
 * by one against it), upper-case, the ones signed zones are made of first: a lookup walks the
 * table comparing lengths and first letters. */
struct fast_mnemonic {
    char text[11];
    uint8_t len;
    uint16_t type;
};

#define FAST_MN(s, t)                                                                              \
    {                                                                                              \
        s, sizeof(s) - 1, t                                                                        \
    }
static const struct fast_mnemonic fast_mnemonics[] = {
    FAST_MN("RRSIG", 46),      FAST_MN("NSEC", 47),   FAST_MN("A", 1),
    FAST_MN("NS", 2),          FAST_MN("DS", 43),     FAST_MN("AAAA", 28),
    FAST_MN("NSEC3", 50),      FAST_MN("DNSKEY", 48), FAST_MN("SOA", 6),
    FAST_MN("TXT", 16),        FAST_MN("MX", 15),     FAST_MN("CNAME", 5),
    FAST_MN("NSEC3PARAM", 51), FAST_MN("CDS", 59),    FAST_MN("CDNSKEY", 60),
    FAST_MN("TLSA", 52),       FAST_MN("SMIMEA", 53), FAST_MN("PTR", 12),
    FAST_MN("SRV", 33),        FAST_MN("CAA", 257),   FAST_MN("HINFO", 13),
    FAST_MN("MINFO", 14),      FAST_MN("RP", 17),     FAST_MN("AFSDB", 18),
    FAST_MN("RT", 21),         FAST_MN("KEY", 25),    FAST_MN("LOC", 29),
    FAST_MN("NAPTR", 35),      FAST_MN("KX", 36),     FAST_MN("CERT", 37),
    FAST_MN("DNAME", 39),      FAST_MN("APL", 42),    FAST_MN("SSHFP", 44),
    FAST_MN("IPSECKEY", 45),   FAST_MN("DHCID", 49),  FAST_MN("OPENPGPKEY", 61),
    FAST_MN("CSYNC", 62),      FAST_MN("ZONEMD", 63), FAST_MN("SVCB", 64),
    FAST_MN("HTTPS", 65),      FAST_MN("SPF", 99),    FAST_MN("NID", 104),
    FAST_MN("L32", 105),       FAST_MN("L64", 106),   FAST_MN("LP", 107),
    FAST_MN("EUI48", 108),     FAST_MN("EUI64", 109), FAST_MN("URI", 256),
};
#undef FAST_MN

/* A line without its newline, read from the front. */
struct fast_line {
    const char *p;
    const char *e;
};

/* The next blank-separated token, or false at the end of the line. */
static inline bool fast_token(struct fast_line *c, const char **t, size_t *n)
{
    while (c->p < c->e && (*c->p == ' ' || *c->p == '\t')) {
        c->p++;
    }
    if (c->p == c->e) {
        return false;
    }
    const char *s = c->p;
    while (c->p < c->e && *c->p != ' ' && *c->p != '\t') {
        c->p++;
    }
    *t = s;
    *n = (size_t)(c->p - s);
    return true;
}

static inline bool fast_end(struct fast_line *c)
{
    const char *t = NULL;
    size_t n = 0;
    return !fast_token(c, &t, &n);
}

/* RDATA being written, bounded by the 16-bit RDLENGTH. */
struct fast_out {
    uint8_t b[UINT16_MAX];
    size_t len;
};

static inline bool fast_put(struct fast_out *o, const void *p, size_t n)
{
    if (n > sizeof(o->b) - o->len) {
        return false;
    }
    memcpy(o->b + o->len, p, n);
    o->len += n;
    return true;
}

static inline bool fast_put_u8(struct fast_out *o, uint64_t v)
{
    uint8_t b = (uint8_t)v;
    return fast_put(o, &b, 1);
}

static inline bool fast_put_u16(struct fast_out *o, uint64_t v)
{
    uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };
    return fast_put(o, b, 2);
}

static inline bool fast_put_u32(struct fast_out *o, uint64_t v)
{
    uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
    return fast_put(o, b, 4);
}

/* A decimal number up to @p max, written without a sign or leading zeros. */
static bool fast_number(const char *t, size_t n, uint64_t max, uint64_t *out)
{
    if (n == 0 || n > 10 || (n > 1 && t[0] == '0')) {
        return false;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if ((fast_class[(uint8_t)t[i]] & FAST_DIGIT) == 0) {
            return false;
        }
        v = v * 10 + (uint64_t)(t[i] - '0');
    }
    if (v > max) {
        return false;
    }
    *out = v;
    return true;
}

static bool fast_field(struct fast_line *c, uint64_t max, uint64_t *out)
{
    const char *t = NULL;
    size_t n = 0;
    return fast_token(c, &t, &n) && fast_number(t, n, max, out);
}

/* Fields of @p bytes bytes each (1, 2 or 4), written as they are read. */
static bool fast_fields(struct fast_line *c, struct fast_out *o, const uint8_t *bytes, size_t k)
{
    for (size_t i = 0; i < k; i++) {
        uint64_t v = 0;
        uint64_t max = bytes[i] == 1 ? UINT8_MAX : bytes[i] == 2 ? UINT16_MAX : UINT32_MAX;
        if (!fast_field(c, max, &v)) {
            return false;
        }
        bool ok = bytes[i] == 1   ? fast_put_u8(o, v)
                  : bytes[i] == 2 ? fast_put_u16(o, v)
                                  : fast_put_u32(o, v);
        if (!ok) {
            return false;
        }
    }
    return true;
}

/* A type mnemonic from the table or TYPEnnn. */
static bool fast_type(const char *t, size_t n, uint16_t *out)
{
    if (n > 4 && memcmp(t, "TYPE", 4) == 0) {
        uint64_t v = 0;
        if (!fast_number(t + 4, n - 4, UINT16_MAX, &v)) {
            return false;
        }
        *out = (uint16_t)v;
        return true;
    }
    /* Upper-cased and zero-padded like the table's texts, so that one compare of a constant
     * size (inlined, no call) decides: this runs for every type and type-covered field. */
    char up[sizeof(fast_mnemonics[0].text)] = { 0 };
    if (n == 0 || n >= sizeof(up)) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char ch = t[i];
        bool alnum =
            (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
        if (!alnum) {
            return false;
        }
        up[i] = ch >= 'a' && ch <= 'z' ? (char)(ch - 'a' + 'A') : ch;
    }
    for (size_t i = 0; i < sizeof(fast_mnemonics) / sizeof(fast_mnemonics[0]); i++) {
        const struct fast_mnemonic *m = &fast_mnemonics[i];
        if (m->len == n && m->text[0] == up[0] && memcmp(m->text, up, sizeof(up)) == 0) {
            *out = m->type;
            return true;
        }
    }
    return false;
}

/*
 * A domain name: "@" (the origin), "." (the root), or labels of letters, digits and - _ * /
 * (what libzscanner takes without an escape) separated by single dots, absolute with a final
 * dot, else relative to the origin. No escapes.
 */
static bool fast_name(const char *t, size_t n, const struct kf_zone *z, uint8_t *out,
                      size_t *out_len)
{
    if (n == 1 && t[0] == '@') {
        memcpy(out, z->origin, z->origin_len);
        *out_len = z->origin_len;
        return true;
    }
    if (n == 1 && t[0] == '.') {
        out[0] = 0;
        *out_len = 1;
        return true;
    }
    size_t w = 0;
    size_t i = 0;
    while (i < n) {
        size_t s = i;
        while (i < n && t[i] != '.') {
            if ((fast_class[(uint8_t)t[i]] & FAST_NAME) == 0) {
                return false;
            }
            i++;
        }
        size_t label = i - s;
        /* Room for the label and the root byte after it. */
        if (label == 0 || label > 63 || w + 1 + label + 1 > KF_DNS_MAX_NAME) {
            return false;
        }
        out[w++] = (uint8_t)label;
        memcpy(out + w, t + s, label);
        w += label;
        if (i < n) {
            i++; /* the dot */
            if (i == n) {
                out[w++] = 0;
                *out_len = w;
                return true;
            }
        }
    }
    if (w + z->origin_len > KF_DNS_MAX_NAME) {
        return false;
    }
    memcpy(out + w, z->origin, z->origin_len);
    *out_len = w + z->origin_len;
    return true;
}

static bool fast_name_field(struct fast_line *c, const struct kf_zone *z, struct fast_out *o)
{
    const char *t = NULL;
    size_t n = 0;
    uint8_t name[KF_DNS_MAX_NAME];
    size_t len = 0;
    return fast_token(c, &t, &n) && fast_name(t, n, z, name, &len) && fast_put(o, name, len);
}

/* Dotted-quad IPv4, four numbers 0-255 without leading zeros. */
static bool fast_ipv4(const char *t, size_t n, struct fast_out *o)
{
    uint8_t a[4];
    size_t i = 0;
    for (unsigned k = 0; k < 4; k++) {
        size_t s = i;
        while (i < n && t[i] != '.') {
            i++;
        }
        uint64_t v = 0;
        if (!fast_number(t + s, i - s, 255, &v) || (k < 3) != (i < n)) {
            return false;
        }
        a[k] = (uint8_t)v;
        i++;
    }
    return i == n + 1 && fast_put(o, a, 4);
}

/* IPv6 in hex groups and "::" only (no embedded IPv4), as inet_pton reads it. */
static bool fast_ipv6(const char *t, size_t n, struct fast_out *o)
{
    char buf[40];
    if (n == 0 || n >= sizeof(buf)) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (t[i] != ':' && fast_hex[(uint8_t)t[i]] == FAST_BAD) {
            return false;
        }
    }
    memcpy(buf, t, n);
    buf[n] = '\0';
    uint8_t a[16];
    return inet_pton(AF_INET6, buf, a) == 1 && fast_put(o, a, 16);
}

/* The Base64 characters of one token from @p t (@p n of them, a multiple of 4) into @p w: whole
 * quartets, padding only in the last. *padded tells whether it had padding. */
static bool fast_base64_quartets(const char *t, size_t n, uint8_t **w, bool *padded)
{
    for (size_t i = 0; i < n; i += 4) {
        const uint8_t *q = (const uint8_t *)t + i;
        uint32_t a = fast_b64[q[0]];
        uint32_t b = fast_b64[q[1]];
        if (a == FAST_BAD || b == FAST_BAD) {
            return false;
        }
        if (q[3] == '=') {
            if (i + 4 != n) {
                return false;
            }
            *padded = true;
            *(*w)++ = (uint8_t)(a << 2 | b >> 4);
            if (q[2] != '=') {
                uint32_t d = fast_b64[q[2]];
                if (d == FAST_BAD) {
                    return false;
                }
                *(*w)++ = (uint8_t)(b << 4 | d >> 2);
            }
            return true;
        }
        uint32_t d = fast_b64[q[2]];
        uint32_t e = fast_b64[q[3]];
        if (d == FAST_BAD || e == FAST_BAD) {
            return false;
        }
        uint32_t v = a << 18 | b << 12 | d << 6 | e;
        (*w)[0] = (uint8_t)(v >> 16);
        (*w)[1] = (uint8_t)(v >> 8);
        (*w)[2] = (uint8_t)v;
        *w += 3;
    }
    return true;
}

/* The rest of the line as Base64 in whole quartets, padding only at the very end; at least
 * one token. Where the CPU allows, each token's leading blocks of 64 alphabet characters are
 * decoded by zone_base64_blocks_avx512 and the scalar loop does the rest, so what is accepted
 * and what is written are the scalar loop's either way. */
static bool fast_base64(struct fast_line *c, struct fast_out *o)
{
    bool vector = fast_vbmi && !atomic_load_explicit(&fast_scalar_only, memory_order_relaxed);
    bool any = false;
    bool padded = false;
    for (;;) {
        while (c->p < c->e && (*c->p == ' ' || *c->p == '\t')) {
            c->p++;
        }
        if (c->p == c->e) {
            return any;
        }
        if (padded) {
            return false;
        }
        size_t done = 0;
#if KF_DNSSEC_HAVE_VBMI
        if (vector) {
            /* No further than the output has room for: the scalar check below refuses the rest
             * as it would have refused the whole token. */
            size_t room = (sizeof(o->b) - o->len) / 3 * 4;
            size_t left = (size_t)(c->e - c->p);
            done = zone_base64_blocks_avx512(c->p, left < room ? left : room, o->b + o->len);
            o->len += done / 4 * 3;
            c->p += done;
        }
#else
        (void)vector;
#endif
        const char *t = c->p;
        while (c->p < c->e && *c->p != ' ' && *c->p != '\t') {
            c->p++;
        }
        size_t n = (size_t)(c->p - t);
        if ((done + n) % 4 != 0 || n / 4 * 3 > sizeof(o->b) - o->len) {
            return false;
        }
        uint8_t *w = o->b + o->len;
        if (!fast_base64_quartets(t, n, &w, &padded)) {
            return false;
        }
        o->len = (size_t)(w - o->b);
        any = true;
    }
}

/* Hex digits in one token of even length. */
static bool fast_hex_token(const char *t, size_t n, struct fast_out *o)
{
    if (n % 2 != 0 || n / 2 > sizeof(o->b) - o->len) {
        return false;
    }
    for (size_t i = 0; i < n; i += 2) {
        uint8_t hi = fast_hex[(uint8_t)t[i]];
        uint8_t lo = fast_hex[(uint8_t)t[i + 1]];
        if (hi == FAST_BAD || lo == FAST_BAD) {
            return false;
        }
        o->b[o->len++] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}

/* The rest of the line as hex tokens of even length; at least one. */
static bool fast_hex_rest(struct fast_line *c, struct fast_out *o)
{
    const char *t = NULL;
    size_t n = 0;
    bool any = false;
    while (fast_token(c, &t, &n)) {
        if (!fast_hex_token(t, n, o)) {
            return false;
        }
        any = true;
    }
    return any;
}

/* An NSEC3 salt: "-" (none) or hex, behind its length byte. */
static bool fast_salt(struct fast_line *c, struct fast_out *o)
{
    const char *t = NULL;
    size_t n = 0;
    if (!fast_token(c, &t, &n)) {
        return false;
    }
    if (n == 1 && t[0] == '-') {
        return fast_put_u8(o, 0);
    }
    size_t at = o->len;
    if (n > 2 * UINT8_MAX || !fast_put_u8(o, 0) || !fast_hex_token(t, n, o)) {
        return false;
    }
    o->b[at] = (uint8_t)(n / 2);
    return true;
}

/* An NSEC3 next hashed owner: Base32hex without padding, in whole 8-character groups, behind
 * its length byte. */
static bool fast_b32hex_field(struct fast_line *c, struct fast_out *o)
{
    const char *t = NULL;
    size_t n = 0;
    size_t got = 0;
    if (!fast_token(c, &t, &n) || n % 8 != 0 || n / 8 * 5 > UINT8_MAX ||
        1 + n / 8 * 5 > sizeof(o->b) - o->len ||
        !kf_ok(
            kf_dnssec_base32hex_decode(t, n, o->b + o->len + 1, sizeof(o->b) - o->len - 1, &got))) {
        return false;
    }
    o->b[o->len] = (uint8_t)got;
    o->len += 1 + got;
    return true;
}

static int fast_type_cmp(const void *a, const void *b)
{
    uint16_t x = *(const uint16_t *)a;
    uint16_t y = *(const uint16_t *)b;
    return (x > y) - (x < y);
}

/* The rest of the line as a type bitmap (RFC 4034 s4.1.2): windows in order, each as long as
 * its last set bit needs; repeats allowed, no types at all too. */
static bool fast_bitmap(struct fast_line *c, struct fast_out *o)
{
    uint16_t types[256];
    size_t k = 0;
    const char *t = NULL;
    size_t n = 0;
    while (fast_token(c, &t, &n)) {
        if (k == sizeof(types) / sizeof(types[0]) || !fast_type(t, n, &types[k])) {
            return false;
        }
        k++;
    }
    if (k > 1) {
        qsort(types, k, sizeof(types[0]), fast_type_cmp);
    }
    size_t i = 0;
    while (i < k) {
        uint8_t window = (uint8_t)(types[i] >> 8);
        uint8_t bits[32] = { 0 };
        size_t used = 0;
        for (; i < k && (types[i] >> 8) == window; i++) {
            uint8_t low = (uint8_t)types[i];
            bits[low / 8] |= (uint8_t)(0x80u >> (low % 8));
            used = (size_t)low / 8 + 1;
        }
        if (!fast_put_u8(o, window) || !fast_put_u8(o, used) || !fast_put(o, bits, used)) {
            return false;
        }
    }
    return true;
}

/* An RRSIG time: YYYYMMDDHHmmSS from 1970 to 2105 (no wrap past 2^32) or plain seconds. */
static bool fast_time(struct fast_line *c, struct fast_out *o)
{
    const char *t = NULL;
    size_t n = 0;
    if (!fast_token(c, &t, &n)) {
        return false;
    }
    if (n != 14) {
        uint64_t v = 0;
        return fast_number(t, n, UINT32_MAX, &v) && fast_put_u32(o, v);
    }
    unsigned f[6] = { 0 };
    static const unsigned width[6] = { 4, 2, 2, 2, 2, 2 };
    size_t at = 0;
    for (unsigned k = 0; k < 6; k++) {
        for (unsigned i = 0; i < width[k]; i++, at++) {
            if ((fast_class[(uint8_t)t[at]] & FAST_DIGIT) == 0) {
                return false;
            }
            f[k] = f[k] * 10 + (unsigned)(t[at] - '0');
        }
    }
    static const unsigned mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    unsigned y = f[0];
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (y < 1970 || y > 2105 || f[1] < 1 || f[1] > 12 || f[2] < 1 || f[2] > mdays[f[1] - 1] ||
        (f[1] == 2 && f[2] == 29 && !leap) || f[3] > 23 || f[4] > 59 || f[5] > 59) {
        return false;
    }
    int64_t v = kf_dnssec_days_from_civil(y, f[1], f[2]) * 86400 + f[3] * 3600 + f[4] * 60 + f[5];
    return v >= 0 && v <= UINT32_MAX && fast_put_u32(o, (uint64_t)v);
}

/* The RDATA of @p type from the rest of the line, or false if the type or its text is not
 * one this scanner takes. */
static bool fast_rdata(uint16_t type, struct fast_line *c, const struct kf_zone *z,
                       struct fast_out *o)
{
    const char *t = NULL;
    size_t n = 0;
    switch (type) {
    case KF_DNS_A:
        return fast_token(c, &t, &n) && fast_ipv4(t, n, o) && fast_end(c);
    case KF_DNS_AAAA:
        return fast_token(c, &t, &n) && fast_ipv6(t, n, o) && fast_end(c);
    case KF_DNS_NS:
    case KF_DNS_CNAME:
    case KF_DNS_DNAME:
    case 12: /* PTR */
        return fast_name_field(c, z, o) && fast_end(c);
    case KF_DNS_MX: {
        static const uint8_t f[] = { 2 };
        return fast_fields(c, o, f, 1) && fast_name_field(c, z, o) && fast_end(c);
    }
    case KF_DNS_SOA: {
        static const uint8_t f[] = { 4, 4, 4, 4, 4 };
        return fast_name_field(c, z, o) && fast_name_field(c, z, o) && fast_fields(c, o, f, 5) &&
               fast_end(c);
    }
    case KF_DNS_DS:
    case KF_DNS_CDS: {
        static const uint8_t f[] = { 2, 1, 1 };
        return fast_fields(c, o, f, 3) && fast_hex_rest(c, o);
    }
    case 52: /* TLSA */
    case 53: /* SMIMEA */ {
        static const uint8_t f[] = { 1, 1, 1 };
        return fast_fields(c, o, f, 3) && fast_hex_rest(c, o);
    }
    case KF_DNS_DNSKEY:
    case KF_DNS_CDNSKEY: {
        static const uint8_t f[] = { 2, 1, 1 };
        return fast_fields(c, o, f, 3) && fast_base64(c, o);
    }
    case KF_DNS_RRSIG: {
        static const uint8_t f[] = { 1, 1, 4 };
        static const uint8_t tag[] = { 2 };
        uint16_t covered = 0;
        return fast_token(c, &t, &n) && fast_type(t, n, &covered) && fast_put_u16(o, covered) &&
               fast_fields(c, o, f, 3) && fast_time(c, o) && fast_time(c, o) &&
               fast_fields(c, o, tag, 1) && fast_name_field(c, z, o) && fast_base64(c, o);
    }
    case KF_DNS_NSEC:
        return fast_name_field(c, z, o) && fast_bitmap(c, o);
    case KF_DNS_NSEC3: {
        static const uint8_t f[] = { 1, 1, 2 };
        return fast_fields(c, o, f, 3) && fast_salt(c, o) && fast_b32hex_field(c, o) &&
               fast_bitmap(c, o);
    }
    case KF_DNS_NSEC3PARAM: {
        static const uint8_t f[] = { 1, 1, 2 };
        return fast_fields(c, o, f, 3) && fast_salt(c, o) && fast_end(c);
    }
    default:
        return false;
    }
}

static bool fast_is_in(const char *t, size_t n)
{
    return n == 2 && (t[0] == 'I' || t[0] == 'i') && (t[1] == 'N' || t[1] == 'n');
}

/* What the scanner keeps from line to line: the owner of the last record, for lines that
 * start with a blank, and its text, so a repeated owner is not parsed again. */
struct fast_state {
    bool have_owner;
    const char *owner_text;
    size_t owner_text_len;
    size_t owner_len;
    uint8_t owner[KF_DNS_MAX_NAME];
    struct fast_out rd;
};

enum fast_verdict { FAST_TAKEN, FAST_SKIPPED, FAST_REFUSED };

/* One line (without its newline): a record taken into @p st (owner, and RDATA in st->rd),
 * a blank or comment line skipped, or refused. */
static enum fast_verdict fast_line_read(struct fast_state *st, struct fast_line *c,
                                        const struct kf_zone *z, uint16_t *type, uint32_t *ttl)
{
    const char *t = NULL;
    size_t n = 0;
    if (c->p < c->e && c->p[0] != ' ' && c->p[0] != '\t') {
        if (!fast_token(c, &t, &n)) {
            return FAST_REFUSED;
        }
        if (t[0] == ';') {
            return FAST_SKIPPED; /* a comment from the line's start */
        }
        if (!st->have_owner || n != st->owner_text_len || memcmp(t, st->owner_text, n) != 0) {
            st->have_owner = false;
            if (!fast_name(t, n, z, st->owner, &st->owner_len)) {
                return FAST_REFUSED;
            }
            st->have_owner = true;
            st->owner_text = t;
            st->owner_text_len = n;
        }
    } else {
        /* An indented line, even a blank one, takes the owner before it: with none, it is
         * libzscanner's ("previous owner is invalid"). A line with no character at all is
         * not indented. */
        struct fast_line peek = *c;
        bool empty = c->p == c->e;
        if (!empty && !st->have_owner) {
            return FAST_REFUSED;
        }
        if (!fast_token(&peek, &t, &n) || t[0] == ';') {
            return FAST_SKIPPED; /* blank, or blanks and a comment */
        }
    }
    /* [TTL] [IN] or [IN] [TTL], then the type. */
    bool have_ttl = false;
    bool have_class = false;
    *ttl = ZONE_TEXT_DEFAULT_TTL;
    for (;;) {
        if (!fast_token(c, &t, &n)) {
            return FAST_REFUSED;
        }
        uint64_t v = 0;
        if (!have_ttl && (fast_class[(uint8_t)t[0]] & FAST_DIGIT) != 0) {
            if (!fast_number(t, n, UINT32_MAX, &v)) {
                return FAST_REFUSED;
            }
            *ttl = (uint32_t)v;
            have_ttl = true;
        } else if (!have_class && fast_is_in(t, n)) {
            have_class = true;
        } else {
            break;
        }
    }
    if (n > 4 && memcmp(t, "TYPE", 4) == 0) {
        return FAST_REFUSED; /* generic RDATA (\# ...) is libzscanner's */
    }
    if (!fast_type(t, n, type)) {
        return FAST_REFUSED;
    }
    st->rd.len = 0;
    return fast_rdata(*type, c, z, &st->rd) ? FAST_TAKEN : FAST_REFUSED;
}

kf_result zone_fast_read(struct zone_text *l, const char *text, size_t len, uint64_t line_base,
                         size_t *used, uint64_t *lines, bool *stop_named)
{
    (void)pthread_once(&fast_once, fast_tables);
    struct fast_state *st = malloc(sizeof(*st));
    KF_ENSURE(st != NULL, KF_ERR_NOMEM);
    st->have_owner = false;
    kf_result r = KF_OK;
    const char *p = text;
    const char *end = text + len;
    uint64_t ln = 0;
    size_t taken = 0;
    while (p < end) {
        /* A last line without a newline is left to libzscanner. */
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (nl == NULL) {
            break;
        }
        struct fast_line c = { p, nl };
        uint16_t type = 0;
        uint32_t ttl = 0;
        enum fast_verdict v = fast_line_read(st, &c, l->z, &type, &ttl);
        if (v == FAST_REFUSED) {
            break;
        }
        if (v == FAST_TAKEN) {
            r = zone_text_add(l, st->owner, st->owner_len, type, KF_DNS_CLASS_IN, ttl, st->rd.b,
                              st->rd.len, line_base + ln + 1);
            if (!kf_ok(r)) {
                break;
            }
            taken++;
        }
        p = nl + 1;
        ln++;
    }
    free(st);
    l->z->fast_rrs += taken;
    *used = (size_t)(p - text);
    *lines = ln;
    *stop_named = p < end && zone_text_line_named(*p);
    return r;
}
