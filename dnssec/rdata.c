/* dnssec/rdata.c - RDATA layouts: canonical case of embedded names, and the parsers of the
 * DNSSEC record types (DNSKEY, RRSIG, DS, NSEC3, NSEC3PARAM, type bitmaps). Every parse of
 * RDATA goes through kf_cursor (STYLE.md s4). */
#include "common/kf_cursor.h"
#include "dnssec/dnssec.h"

#include <string.h>

/*
 * The types whose RDATA names are lower-cased in canonical form: RFC 4034 s6.2 item 3, less
 * NSEC (RFC 6840 s5.1 keeps NSEC's next name as it is) and HINFO (it holds no name). Each
 * layout lists the fields up to the last name: 'n' a name, '2' two octets, 's' a
 * <character-string>. What follows the last name is left alone.
 */
struct rdata_layout {
    uint16_t type;
    const char *fields;
};

static const struct rdata_layout rdata_layouts[] = {
    { 2, "n" },           /* NS */
    { 3, "n" },           /* MD */
    { 4, "n" },           /* MF */
    { 5, "n" },           /* CNAME */
    { 6, "nn" },          /* SOA: MNAME RNAME, then serial and timers */
    { 7, "n" },           /* MB */
    { 8, "n" },           /* MG */
    { 9, "n" },           /* MR */
    { 12, "n" },          /* PTR */
    { 14, "nn" },         /* MINFO */
    { 15, "2n" },         /* MX */
    { 17, "nn" },         /* RP */
    { 18, "2n" },         /* AFSDB */
    { 21, "2n" },         /* RT */
    { 24, "222222222n" }, /* SIG: 18 octets, then the signer */
    { 26, "2nn" },        /* PX */
    { 30, "n" },          /* NXT */
    { 33, "222n" },       /* SRV */
    { 35, "22sssn" },     /* NAPTR */
    { 36, "2n" },         /* KX */
    { 39, "n" },          /* DNAME */
    { 46, "222222222n" }, /* RRSIG: 18 octets, then the signer name */
};

static const char *rdata_layout_of(uint16_t type)
{
    for (size_t i = 0; i < sizeof(rdata_layouts) / sizeof(rdata_layouts[0]); i++) {
        if (rdata_layouts[i].type == type) {
            return rdata_layouts[i].fields;
        }
    }
    return NULL;
}

static kf_result rdata_lower_name(struct kf_cursor *c)
{
    size_t len = 0;
    uint8_t *p = (uint8_t *)(uintptr_t)(c->data + c->pos);
    KF_GUARD(kf_dnssec_name_check(p, kf_cursor_left(c), &len));
    kf_dnssec_name_lower(p);
    return kf_cursor_skip(c, len);
}

kf_result kf_dnssec_rdata_canonicalise(uint16_t type, uint8_t *rdata, size_t rdlen)
{
    struct kf_cursor c;
    KF_GUARD(kf_cursor_init(&c, rdata, rdlen));
    if (type == 38) {
        /* A6 (RFC 2874): prefix length, address suffix, prefix name when the length is not 0. */
        uint8_t plen = 0;
        KF_GUARD(kf_cursor_read_u8(&c, &plen));
        KF_ENSURE(plen <= 128, KF_ERR_MALFORMED);
        KF_GUARD(kf_cursor_skip(&c, (size_t)(128 - plen + 7) / 8));
        return plen == 0 ? KF_OK : rdata_lower_name(&c);
    }
    const char *f = rdata_layout_of(type);
    for (; f != NULL && *f != '\0'; f++) {
        switch (*f) {
        case 'n':
            KF_GUARD(rdata_lower_name(&c));
            break;
        case '2':
            KF_GUARD(kf_cursor_skip(&c, 2));
            break;
        case 's': {
            struct kf_cursor s;
            KF_GUARD(kf_cursor_take_prefixed_u8(&c, &s));
            break;
        }
        default:
            KF_BAIL(KF_ERR_INTERNAL);
        }
    }
    return KF_OK;
}

static kf_result rdata_take_name(struct kf_cursor *c, const uint8_t **out, size_t *out_len)
{
    size_t len = 0;
    KF_GUARD(kf_dnssec_name_check(c->data + c->pos, kf_cursor_left(c), &len));
    KF_GUARD(kf_cursor_borrow(c, len, out));
    *out_len = len;
    return KF_OK;
}

kf_result kf_dnssec_rrsig_parse(const uint8_t *rdata, size_t len, struct kf_rrsig *out)
{
    KF_ENSURE_REF(out);
    struct kf_cursor c;
    struct kf_rrsig r;
    KF_GUARD(kf_cursor_init(&c, rdata, len));
    KF_GUARD(kf_cursor_read_u16(&c, &r.type_covered));
    KF_GUARD(kf_cursor_read_u8(&c, &r.alg));
    KF_GUARD(kf_cursor_read_u8(&c, &r.labels));
    KF_GUARD(kf_cursor_read_u32(&c, &r.orig_ttl));
    KF_GUARD(kf_cursor_read_u32(&c, &r.expiration));
    KF_GUARD(kf_cursor_read_u32(&c, &r.inception));
    KF_GUARD(kf_cursor_read_u16(&c, &r.key_tag));
    KF_GUARD(rdata_take_name(&c, &r.signer, &r.signer_len));
    r.header_len = c.pos;
    r.sig_len = kf_cursor_left(&c);
    KF_ENSURE(r.sig_len > 0, KF_ERR_SHORT_INPUT);
    KF_GUARD(kf_cursor_borrow(&c, r.sig_len, &r.sig));
    *out = r;
    return KF_OK;
}

kf_result kf_dnssec_dnskey_parse(const uint8_t *rdata, size_t len, struct kf_dnskey *out)
{
    KF_ENSURE_REF(out);
    struct kf_cursor c;
    struct kf_dnskey k;
    KF_GUARD(kf_cursor_init(&c, rdata, len));
    KF_GUARD(kf_cursor_read_u16(&c, &k.flags));
    KF_GUARD(kf_cursor_read_u8(&c, &k.protocol));
    KF_GUARD(kf_cursor_read_u8(&c, &k.alg));
    k.pub_len = kf_cursor_left(&c);
    KF_ENSURE(k.pub_len > 0, KF_ERR_SHORT_INPUT);
    KF_GUARD(kf_cursor_borrow(&c, k.pub_len, &k.pub));
    *out = k;
    return KF_OK;
}

kf_result kf_dnssec_ds_parse(const uint8_t *rdata, size_t len, struct kf_ds *out)
{
    KF_ENSURE_REF(out);
    struct kf_cursor c;
    struct kf_ds d;
    KF_GUARD(kf_cursor_init(&c, rdata, len));
    KF_GUARD(kf_cursor_read_u16(&c, &d.key_tag));
    KF_GUARD(kf_cursor_read_u8(&c, &d.alg));
    KF_GUARD(kf_cursor_read_u8(&c, &d.digest_type));
    d.digest_len = kf_cursor_left(&c);
    KF_ENSURE(d.digest_len > 0, KF_ERR_SHORT_INPUT);
    KF_GUARD(kf_cursor_borrow(&c, d.digest_len, &d.digest));
    *out = d;
    return KF_OK;
}

kf_result kf_dnssec_nsec3_parse(const uint8_t *rdata, size_t len, bool param, struct kf_nsec3 *out)
{
    KF_ENSURE_REF(out);
    struct kf_cursor c;
    struct kf_cursor f;
    struct kf_nsec3 n;
    memset(&n, 0, sizeof(n));
    KF_GUARD(kf_cursor_init(&c, rdata, len));
    KF_GUARD(kf_cursor_read_u8(&c, &n.hash_alg));
    KF_GUARD(kf_cursor_read_u8(&c, &n.flags));
    KF_GUARD(kf_cursor_read_u16(&c, &n.iterations));
    KF_GUARD(kf_cursor_take_prefixed_u8(&c, &f));
    n.salt = f.data;
    n.salt_len = f.len;
    if (!param) {
        KF_GUARD(kf_cursor_take_prefixed_u8(&c, &f));
        KF_ENSURE(f.len > 0, KF_ERR_MALFORMED);
        n.next = f.data;
        n.next_len = f.len;
        n.bitmap_len = kf_cursor_left(&c);
        KF_GUARD(kf_cursor_borrow(&c, n.bitmap_len, &n.bitmap));
    }
    KF_GUARD(kf_cursor_expect_end(&c));
    *out = n;
    return KF_OK;
}

kf_result kf_dnssec_bitmap_parse(const uint8_t *p, size_t len, struct kf_typeset *out)
{
    KF_ENSURE_REF(out);
    struct kf_cursor c;
    kf_typeset_clear(out);
    KF_GUARD(kf_cursor_init(&c, p, len));
    int last_window = -1;
    while (kf_cursor_left(&c) > 0) {
        uint8_t window = 0;
        uint8_t blen = 0;
        struct kf_cursor bits;
        KF_GUARD(kf_cursor_read_u8(&c, &window));
        KF_GUARD(kf_cursor_read_u8(&c, &blen));
        /* RFC 4034 s4.1.2: windows in increasing order, 1..32 octets, no trailing zero octet */
        KF_ENSURE((int)window > last_window, KF_ERR_MALFORMED);
        KF_ENSURE(blen >= 1 && blen <= 32, KF_ERR_MALFORMED);
        KF_GUARD(kf_cursor_take(&c, blen, &bits));
        KF_ENSURE(bits.data[bits.len - 1] != 0, KF_ERR_MALFORMED);
        memcpy(out->bits + (size_t)window * 32, bits.data, bits.len);
        out->used[window >> 6] |= (uint64_t)1 << (window & 63);
        last_window = window;
    }
    return KF_OK;
}

/* Visit only the used windows (a set usually has one or two of 256): a zone check clears and
 * compares two sets per name. */
void kf_typeset_clear(struct kf_typeset *s)
{
    for (unsigned q = 0; q < 4; q++) {
        for (uint64_t m = s->used[q]; m != 0; m &= m - 1) {
            unsigned w = q * 64 + (unsigned)__builtin_ctzll(m);
            memset(s->bits + (size_t)w * 32, 0, 32);
        }
        s->used[q] = 0;
    }
}

bool kf_typeset_equal(const struct kf_typeset *a, const struct kf_typeset *b)
{
    for (unsigned q = 0; q < 4; q++) {
        for (uint64_t m = a->used[q] | b->used[q]; m != 0; m &= m - 1) {
            unsigned w = q * 64 + (unsigned)__builtin_ctzll(m);
            if (memcmp(a->bits + (size_t)w * 32, b->bits + (size_t)w * 32, 32) != 0) {
                return false;
            }
        }
    }
    return true;
}

kf_result kf_dnssec_bitmap_write(const struct kf_typeset *set, struct kf_buf *out)
{
    KF_ENSURE_REF(set);
    for (unsigned w = 0; w < 256; w++) {
        if (!(set->used[w >> 6] & ((uint64_t)1 << (w & 63)))) {
            continue;
        }
        const uint8_t *win = set->bits + (size_t)w * 32;
        unsigned used = 32;
        while (used > 0 && win[used - 1] == 0) {
            used--;
        }
        if (used == 0) {
            continue;
        }
        KF_GUARD(kf_buf_write_u8(out, (uint8_t)w));
        KF_GUARD(kf_buf_write_u8(out, (uint8_t)used));
        KF_GUARD(kf_buf_write_bytes(out, win, used));
    }
    return KF_OK;
}
