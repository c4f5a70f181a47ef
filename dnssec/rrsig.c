/* dnssec/rrsig.c - the data an RRSIG covers (RFC 4034 s3.1.8.1, s6.2). */
#include "dnssec/dnssec.h"

#include <string.h>

kf_result kf_dnssec_signed_data(const struct kf_zone *z, const struct kf_zone_rrset *set,
                                const uint8_t *rrsig_header, size_t header_len, uint8_t labels,
                                uint32_t orig_ttl, struct kf_buf *out)
{
    KF_ENSURE_REF(z);
    KF_ENSURE_REF(set);
    KF_ENSURE_REF(rrsig_header);
    const uint8_t *owner = kf_zone_owner_name(z, set->owner);
    unsigned have = z->owners[set->owner].labels;
    /* RFC 4034 s3.1.3: a label count below the owner's means the RRset was synthesised from
     * the wildcard "*.<rightmost labels>"; signers of zone files sign "*" owners whose count
     * excludes the "*", which the same rule reconstructs. */
    KF_ENSURE(labels <= have, KF_ERR_MALFORMED);
    uint8_t wild[KF_DNS_MAX_NAME + 2];
    size_t owner_len = z->owners[set->owner].name_len;
    if (labels < have) {
        const uint8_t *p = owner;
        for (unsigned i = 0; i < have - labels; i++) {
            p += 1u + *p;
        }
        size_t rest = owner_len - (size_t)(p - owner);
        wild[0] = 1;
        wild[1] = '*';
        memcpy(wild + 2, p, rest);
        owner = wild;
        owner_len = rest + 2;
    }
    KF_GUARD(kf_buf_write_bytes(out, rrsig_header, header_len));
    for (uint32_t i = 0; i < set->count; i++) {
        const struct kf_zone_rr *rr = &z->rrs[set->first + i];
        KF_GUARD(kf_buf_write_bytes(out, owner, owner_len));
        KF_GUARD(kf_buf_write_u16(out, set->type));
        KF_GUARD(kf_buf_write_u16(out, KF_DNS_CLASS_IN));
        KF_GUARD(kf_buf_write_u32(out, orig_ttl));
        KF_GUARD(kf_buf_write_u16(out, rr->rdlen));
        KF_GUARD(kf_buf_write_bytes(out, kf_zone_rdata(z, rr), rr->rdlen));
    }
    return KF_OK;
}
