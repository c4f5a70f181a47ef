/* tests/unit/dnssec/test_rdata.c - RDATA parsers and canonical case, good and bad input. */
#include "dnssec/dnssec.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <string.h>

struct rdata_case {
    uint8_t bytes[48];
    size_t len;
    int32_t code; /* 0 = accepted */
    char why[48]; /* arrays, not pointers: Criterion runs each case in a new process */
};

static struct rdata_case rrsig_cases[] = {
    { { 0, 1, 13, 2, 0, 0, 14, 16, 0x5f, 0, 0, 0, 0x5e, 0, 0, 0, 0x30, 0x39, 0, 0xAA },
      20,
      0,
      "minimal: root signer, one-byte signature" },
    { { 0, 1, 13, 2, 0, 0, 14, 16 }, 8, KF_ERR_SHORT_INPUT, "cut in the times" },
    { { 0, 1, 13, 2, 0, 0, 14, 16, 0x5f, 0, 0, 0, 0x5e, 0, 0, 0, 0x30, 0x39, 0 },
      19,
      KF_ERR_SHORT_INPUT,
      "no signature" },
    { { 0, 1, 13, 2, 0, 0, 14, 16, 0x5f, 0, 0, 0, 0x5e, 0, 0, 0, 0x30, 0x39, 0xC0, 0x0C, 1 },
      21,
      KF_ERR_MALFORMED,
      "compressed signer" },
    { { 0, 1, 13, 2, 0, 0, 14, 16, 0x5f, 0, 0, 0, 0x5e, 0, 0, 0, 0x30, 0x39, 5, 'a' },
      20,
      KF_ERR_SHORT_INPUT,
      "signer runs past the end" },
};

ParameterizedTestParameters(rdata, rrsig)
{
    return cr_make_param_array(struct rdata_case, rrsig_cases,
                               sizeof(rrsig_cases) / sizeof(rrsig_cases[0]));
}

ParameterizedTest(struct rdata_case *c, rdata, rrsig)
{
    struct kf_rrsig s;
    cr_assert_eq(kf_dnssec_rrsig_parse(c->bytes, c->len, &s).code, c->code, "%s", c->why);
    if (c->code == 0) {
        cr_assert_eq(s.type_covered, 1);
        cr_assert_eq(s.alg, 13);
        cr_assert_eq(s.key_tag, 12345);
        cr_assert_eq(s.sig_len, 1);
        cr_assert_eq(s.header_len, 19);
    }
}

static struct rdata_case nsec3_cases[] = {
    { { 1, 1, 0, 12, 4, 0xaa, 0xbb, 0xcc, 0xdd, 2, 0x11, 0x22, 0, 1, 0x40 },
      15,
      0,
      "hash, salt, next, bitmap with A" },
    { { 1, 0, 0, 0, 0, 1, 0x11 }, 7, 0, "empty salt, empty bitmap" },
    { { 1, 0, 0, 0, 0, 0 }, 6, KF_ERR_MALFORMED, "zero-length next hash" },
    { { 1, 0, 0, 0, 5, 1 }, 6, KF_ERR_SHORT_INPUT, "salt longer than the RDATA" },
    { { 1, 0, 0 }, 3, KF_ERR_SHORT_INPUT, "cut in the iterations" },
};

ParameterizedTestParameters(rdata, nsec3)
{
    return cr_make_param_array(struct rdata_case, nsec3_cases,
                               sizeof(nsec3_cases) / sizeof(nsec3_cases[0]));
}

ParameterizedTest(struct rdata_case *c, rdata, nsec3)
{
    struct kf_nsec3 n;
    cr_assert_eq(kf_dnssec_nsec3_parse(c->bytes, c->len, false, &n).code, c->code, "%s", c->why);
}

static struct rdata_case bitmap_cases[] = {
    { { 0, 1, 0x40 }, 3, 0, "A" },
    { { 0, 6, 0x40, 0x01, 0, 0, 0, 0x03 }, 8, 0, "A, MX, RRSIG, NSEC" },
    { { 0, 1, 0x40, 1, 1, 0x40 }, 6, 0, "two windows" },
    { { 1, 1, 0x40, 0, 1, 0x40 }, 6, KF_ERR_MALFORMED, "windows out of order" },
    { { 0, 1, 0x40, 0, 1, 0x40 }, 6, KF_ERR_MALFORMED, "a window twice" },
    { { 0, 0 }, 2, KF_ERR_MALFORMED, "zero-length window" },
    { { 0, 33 }, 2, KF_ERR_MALFORMED, "window longer than 32" },
    { { 0, 2, 0x40, 0 }, 4, KF_ERR_MALFORMED, "trailing zero octet" },
    { { 0, 3, 0x40 }, 3, KF_ERR_SHORT_INPUT, "window past the end" },
};

ParameterizedTestParameters(rdata, bitmap)
{
    return cr_make_param_array(struct rdata_case, bitmap_cases,
                               sizeof(bitmap_cases) / sizeof(bitmap_cases[0]));
}

ParameterizedTest(struct rdata_case *c, rdata, bitmap)
{
    struct kf_typeset *s = calloc(1, sizeof(*s));
    cr_assert_eq(kf_dnssec_bitmap_parse(c->bytes, c->len, s).code, c->code, "%s", c->why);
    if (c->code == 0) {
        /* Written back, a valid bitmap is the same bytes. */
        uint8_t out[64];
        struct kf_buf b;
        cr_assert(kf_ok(kf_buf_init_fixed(&b, out, sizeof(out))));
        cr_assert(kf_ok(kf_dnssec_bitmap_write(s, &b)));
        cr_assert_eq(b.len, c->len);
        cr_assert_eq(memcmp(out, c->bytes, c->len), 0);
        cr_assert(kf_typeset_has(s, KF_DNS_A));
    }
    free(s);
}

Test(rdata, canonical_case)
{
    /* MX: names lower-cased; NSEC's next name kept (RFC 6840 s5.1); TXT untouched. */
    uint8_t mx[] = { 0, 10, 4, 'M', 'a', 'I', 'l', 2, 'E', 'x', 0 };
    cr_assert(kf_ok(kf_dnssec_rdata_canonicalise(KF_DNS_MX, mx, sizeof(mx))));
    cr_assert_eq(memcmp(mx,
                        "\x00\x0a\x04mail\x02"
                        "ex\x00",
                        sizeof(mx)),
                 0);
    uint8_t nsec[] = { 1, 'A', 0, 0, 1, 0x40 };
    cr_assert(kf_ok(kf_dnssec_rdata_canonicalise(KF_DNS_NSEC, nsec, sizeof(nsec))));
    cr_assert_eq(nsec[1], 'A');
    uint8_t txt[] = { 3, 'A', 'b', 'C' };
    cr_assert(kf_ok(kf_dnssec_rdata_canonicalise(16, txt, sizeof(txt))));
    cr_assert_eq(txt[1], 'A');
    uint8_t soa[] = { 1, 'N', 0, 1, 'H', 0, 0, 0, 0, 1, 0, 0, 0,
                      2, 0,   0, 0, 3,   0, 0, 0, 4, 0, 0, 0, 5 };
    cr_assert(kf_ok(kf_dnssec_rdata_canonicalise(KF_DNS_SOA, soa, sizeof(soa))));
    cr_assert(soa[1] == 'n' && soa[4] == 'h');
    uint8_t bad_mx[] = { 0, 10, 9, 'm' };
    cr_assert_eq(kf_dnssec_rdata_canonicalise(KF_DNS_MX, bad_mx, sizeof(bad_mx)).code,
                 KF_ERR_SHORT_INPUT);
}

Test(rdata, key_tag_and_dnskey)
{
    /* RFC 4034 s5.4's DNSKEY has tag 60485 (tests/vectors/dnssec checks the whole record);
     * here: the sum folds its carry as Appendix B says. */
    uint8_t k[] = { 0xff, 0xff, 0xff, 0xff };
    cr_assert_eq(kf_dnssec_key_tag(k, sizeof(k)), (uint16_t)(0x1fffe + 1));
    struct kf_dnskey d;
    uint8_t dk[] = { 1, 1, 3, 13, 0xaa };
    cr_assert(kf_ok(kf_dnssec_dnskey_parse(dk, sizeof(dk), &d)));
    cr_assert(d.flags == 257 && d.protocol == 3 && d.alg == 13 && d.pub_len == 1);
    cr_assert_eq(kf_dnssec_dnskey_parse(dk, 4, &d).code, KF_ERR_SHORT_INPUT);
    struct kf_dnssec_pubkey *pk = NULL;
    cr_assert_eq(kf_dnssec_pubkey_new(dk, sizeof(dk), &pk).code, KF_ERR_MALFORMED,
                 "a P-256 key of one byte");
    uint8_t dsa[] = { 1, 0, 3, 3, 0xaa };
    cr_assert_eq(kf_dnssec_pubkey_new(dsa, sizeof(dsa), &pk).code, KF_ERR_UNSUPPORTED);
}
