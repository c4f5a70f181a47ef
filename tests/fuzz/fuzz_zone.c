/* fuzz_zone covers: kf_zone_load_string, kf_zone_load_string_pieces (zone_read.c's parallel
 * reader) and the fast scanner (zone_fast.c), kf_zone_sort, kf_zone_analyse,
 * kf_zone_adopt_soa_origin, kf_dnssec_rdata_canonicalise, kf_dnssec_verify_zone and the
 * parsers it calls (RRSIG, DNSKEY, DS, NSEC3, type bitmaps), kf_zone_write (dnssec/). */
/* tests/fuzz/fuzz_zone.c - a zone file is untrusted text (keyfort zone verify reads zones that
 * peers signed). Byte 0 picks the origin: even "example.", odd the SOA's owner. The rest is
 * the zone text. Byte 0 also picks the pieces (bits 1-3) and, bit 4, whether the fast scanner
 * decodes Base64 with its scalar loop alone or with the vector decoder too. Checked: the parallel
 * reader with the fast scanner agrees with libzscanner alone (same zone, or the same error); a zone
 * that loads is sorted canonically with no duplicate RR, every owner at or below the origin;
 * verification either fails for resources or yields reports that name real owners; writing it out
 * works. The clock is fixed; no RNG. */
#include "dnssec/dnssec.h"
#include "dnssec/zone_text.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static void fuzz_check_sorted(const struct kf_zone *z)
{
    for (size_t i = 1; i < z->n_rrs; i++) {
        const struct kf_zone_rr *a = &z->rrs[i - 1];
        const struct kf_zone_rr *b = &z->rrs[i];
        int c =
            kf_dnssec_name_cmp(kf_zone_owner_name(z, a->owner), kf_zone_owner_name(z, b->owner));
        CHECK(c <= 0);
        if (c == 0) {
            CHECK(a->owner == b->owner);
            CHECK(a->type <= b->type);
            if (a->type == b->type) {
                CHECK(a->rdlen != b->rdlen ||
                      memcmp(kf_zone_rdata(z, a), kf_zone_rdata(z, b), a->rdlen) != 0);
            }
        }
    }
    for (size_t i = 0; i < z->n_owners; i++) {
        CHECK(kf_dnssec_name_is_sub(kf_zone_owner_name(z, (uint32_t)i), z->origin));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 65536) {
        return 0;
    }
    struct kf_zone z;
    const char *text = (const char *)data + 1;
    bool from_soa = (data[0] & 1) != 0;
    const char *origin = from_soa ? "." : "example.";
    kf_result r = kf_zone_load_string(text, size - 1, origin, "fuzz", &z);
    /* The parallel reader, cut into 1..8 pieces by byte 0 and reading with the fast scanner
     * (zone_fast.c) what it takes, reads the same zone or fails the same way. */
    struct kf_zone zp;
    zone_fast_force_scalar((data[0] & 0x10) != 0);
    kf_result rp = kf_zone_load_string_pieces(text, size - 1, origin, "fuzz",
                                              1u + ((unsigned)data[0] >> 1) % 8u, &zp);
    CHECK(rp.code == r.code);
    if (!kf_ok(r)) {
        return 0;
    }
    CHECK(kf_zone_same_records(&z, &zp));
    kf_zone_cleanup(&zp);
    if (from_soa && !kf_ok(kf_zone_adopt_soa_origin(&z))) {
        kf_zone_cleanup(&z);
        return 0;
    }
    CHECK(kf_ok(kf_zone_sort(&z)));
    fuzz_check_sorted(&z);
    if (kf_ok(kf_zone_analyse(&z))) {
        struct kf_verify_opts o = { .now = 1800000000, .threads = 1 };
        struct kf_verify_result res;
        if (kf_ok(kf_dnssec_verify_zone(&z, &o, &res))) {
            for (size_t i = 0; i < res.n_reports; i++) {
                CHECK(res.reports[i].owner == UINT32_MAX || res.reports[i].owner < z.n_owners);
                CHECK(kf_verify_problem_name(res.reports[i].problem) != NULL);
            }
            kf_verify_result_cleanup(&res);
        }
        FILE *f = fopen("/dev/null", "w");
        CHECK(f != NULL);
        CHECK(kf_ok(kf_zone_write(&z, f)));
        fclose(f);
    }
    kf_zone_cleanup(&z);
    return 0;
}
