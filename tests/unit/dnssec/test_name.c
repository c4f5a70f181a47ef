/* tests/unit/dnssec/test_name.c - wire names: checks, canonical order, text both ways. */
#include "dnssec/dnssec.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <string.h>

static size_t name_wire(const char *text, uint8_t *out)
{
    size_t len = 0;
    cr_assert(kf_ok(kf_dnssec_name_from_text(text, out, &len)), "%s", text);
    return len;
}

Test(name, canonical_order_rfc4034_s6_1)
{
    /* The example list of RFC 4034 s6.1, in canonical order (\001 and \200 as escapes). */
    static const char *const order[] = {
        "example.",         "a.example.",      "yljkjljk.a.example.",
        "Z.a.example.",     "zABC.a.EXAMPLE.", "z.example.",
        "\\001.z.example.", "*.z.example.",    "\\200.z.example.",
    };
    size_t n = sizeof(order) / sizeof(order[0]);
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < n; j++) {
            uint8_t a[KF_DNS_MAX_NAME];
            uint8_t b[KF_DNS_MAX_NAME];
            name_wire(order[i], a);
            name_wire(order[j], b);
            int c = kf_dnssec_name_cmp(a, b);
            cr_assert_eq(c < 0   ? -1
                         : c > 0 ? 1
                                 : 0,
                         i < j   ? -1
                         : i > j ? 1
                                 : 0,
                         "%s vs %s", order[i], order[j]);
        }
    }
}

Test(name, case_and_subdomains)
{
    uint8_t a[KF_DNS_MAX_NAME];
    uint8_t b[KF_DNS_MAX_NAME];
    name_wire("WWW.Example.COM.", a);
    name_wire("example.com", b);
    cr_assert(kf_dnssec_name_is_sub(a, b));
    cr_assert_not(kf_dnssec_name_is_sub(b, a));
    cr_assert_eq(kf_dnssec_name_labels(a), 3);
    kf_dnssec_name_lower(a);
    char text[1024];
    cr_assert_str_eq(kf_dnssec_name_to_text(a, text, sizeof(text)), "www.example.com.");
    name_wire("xexample.com.", a);
    cr_assert_not(kf_dnssec_name_is_sub(a, b), "a label suffix is not a subdomain");
    name_wire("a\\.b\\032c.example.", a);
    cr_assert_str_eq(kf_dnssec_name_to_text(a, text, sizeof(text)), "a\\.b\\032c.example.");
}

struct name_bad {
    char text[96]; /* arrays, not pointers: Criterion runs each case in a new process */
    char why[40];
};

static struct name_bad name_bad_cases[] = {
    { "a..b.", "empty label" },
    { ".a.", "leading dot" },
    { "0123456789012345678901234567890123456789012345678901234567890123.x.", "label of 64 octets" },
    { "a\\", "escape at the end" },
    { "a\\999.", "escape above 255" },
};

ParameterizedTestParameters(name, bad_text)
{
    return cr_make_param_array(struct name_bad, name_bad_cases,
                               sizeof(name_bad_cases) / sizeof(name_bad_cases[0]));
}

ParameterizedTest(struct name_bad *c, name, bad_text)
{
    uint8_t out[KF_DNS_MAX_NAME];
    size_t len = 0;
    kf_result r = kf_dnssec_name_from_text(c->text, out, &len);
    cr_assert_eq(r.code, KF_ERR_MALFORMED, "%s", c->why);
}

Test(name, too_long_name)
{
    char text[400] = "";
    for (int i = 0; i < 64; i++) {
        strcat(text, "abc."); /* 64 * 4 + 1 = 257 octets of wire form */
    }
    uint8_t out[KF_DNS_MAX_NAME];
    size_t len = 0;
    cr_assert_eq(kf_dnssec_name_from_text(text, out, &len).code, KF_ERR_MALFORMED);
}

struct wire_bad {
    uint8_t bytes[8];
    size_t len;
    int32_t code;
    char why[40];
};

static struct wire_bad wire_bad_cases[] = {
    { { 0xC0, 0x0C }, 2, KF_ERR_MALFORMED, "compression pointer" },
    { { 0x40, 0x00 }, 2, KF_ERR_MALFORMED, "extended label type" },
    { { 0x03, 'a', 'b' }, 3, KF_ERR_SHORT_INPUT, "label past the end" },
    { { 0x01, 'a' }, 2, KF_ERR_SHORT_INPUT, "no root label" },
    { { 0 }, 0, KF_ERR_SHORT_INPUT, "empty" },
};

ParameterizedTestParameters(name, bad_wire)
{
    return cr_make_param_array(struct wire_bad, wire_bad_cases,
                               sizeof(wire_bad_cases) / sizeof(wire_bad_cases[0]));
}

ParameterizedTest(struct wire_bad *c, name, bad_wire)
{
    size_t len = 0;
    cr_assert_eq(kf_dnssec_name_check(c->bytes, c->len, &len).code, c->code, "%s", c->why);
}

Test(name, times)
{
    int64_t t = 0;
    cr_assert(kf_ok(kf_dnssec_time_parse("20100909100439", 0, &t)));
    cr_assert_eq(t, 1284026679);
    char text[20];
    cr_assert_str_eq(kf_dnssec_time_to_text(t, text, sizeof(text)), "20100909100439");
    cr_assert(kf_ok(kf_dnssec_time_parse("now+60", 1000, &t)));
    cr_assert_eq(t, 1060);
    cr_assert(kf_ok(kf_dnssec_time_parse("1440021600", 0, &t)));
    cr_assert_eq(t, 1440021600);
    cr_assert_eq(kf_dnssec_time_parse("2010090910043", 0, &t).code, KF_ERR_INVALID_ARG);
    cr_assert_eq(kf_dnssec_time_parse("20101309100439", 0, &t).code, KF_ERR_INVALID_ARG);
    cr_assert_eq(kf_dnssec_time_parse("now*3", 0, &t).code, KF_ERR_INVALID_ARG);
    /* RFC 1982: a 32-bit time just past 2^32 seconds is read near "now", not in 1970. */
    int64_t now = ((int64_t)1 << 32) + 100;
    cr_assert_eq(kf_dnssec_time_expand(50, now), ((int64_t)1 << 32) + 50);
    cr_assert_eq(kf_dnssec_time_expand(UINT32_MAX, now), (int64_t)UINT32_MAX);
}
