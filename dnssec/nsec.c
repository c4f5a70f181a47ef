/* dnssec/nsec.c - the NSEC chain (RFC 4034 s4, RFC 4035 s2.3). */
#include "dnssec/dnssec.h"

#include <stdlib.h>
#include <string.h>

/* An owner that appears in the chain: authoritative data, or a zone cut. */
static bool nsec_in_chain(const struct kf_zone_owner *o)
{
    return (o->flags & KF_OWNER_DATA) && !(o->flags & KF_OWNER_OCCLUDED);
}

void kf_dnssec_denial_types(const struct kf_zone *z, uint32_t owner, struct kf_typeset *set)
{
    uint8_t f = z->owners[owner].flags;
    bool cut = (f & KF_OWNER_DELEG) != 0;
    uint32_t i = z->owner_first_rrset[z->owner_rank[owner]];
    for (; i < z->n_rrsets && z->rrsets[i].owner == owner; i++) {
        uint16_t t = z->rrsets[i].type;
        if (t == KF_DNS_RRSIG || t == KF_DNS_NSEC || t == KF_DNS_NSEC3) {
            continue;
        }
        if (cut && t != KF_DNS_NS && t != KF_DNS_DS) {
            continue;
        }
        kf_typeset_add(set, t);
    }
    if (!cut || (f & KF_OWNER_HAS_DS)) {
        kf_typeset_add(set, KF_DNS_RRSIG); /* something here is signed */
    }
}

kf_result kf_dnssec_nsec_build(struct kf_zone *z, uint32_t ttl, size_t *out_count)
{
    KF_ENSURE_REF(z);
    KF_ENSURE(z->sorted, KF_ERR_INTERNAL);
    /* Collect the chain first: adding records grows the arena, so no pointer into it may be
     * held across kf_zone_add. Owner indices stay valid. */
    uint32_t *chain = malloc((z->n_owners + 1) * sizeof(*chain));
    KF_ENSURE(chain != NULL, KF_ERR_NOMEM);
    size_t n = 0;
    for (size_t rank = 0; rank < z->n_owners; rank++) {
        uint32_t o = z->owner_order[rank];
        if (z->owner_first_rrset[rank] != UINT32_MAX && nsec_in_chain(&z->owners[o])) {
            chain[n++] = o;
        }
    }
    struct kf_typeset *set = calloc(1, sizeof(*set));
    uint8_t *rd = malloc(KF_DNS_MAX_NAME + 8192 + 512);
    kf_result r = KF_OK;
    if (set == NULL || rd == NULL) {
        kf_err_record(KF_ERR_NOMEM, __FILE__, __LINE__, __func__);
        r = (kf_result){ KF_ERR_NOMEM };
    }
    for (size_t i = 0; i < n && kf_ok(r); i++) {
        uint32_t o = chain[i];
        uint32_t next = chain[(i + 1) % n];
        kf_typeset_clear(set);
        kf_dnssec_denial_types(z, o, set);
        kf_typeset_add(set, KF_DNS_NSEC);
        kf_typeset_add(set, KF_DNS_RRSIG);
        struct kf_buf b;
        r = kf_buf_init_fixed(&b, rd, KF_DNS_MAX_NAME + 8192 + 512);
        if (kf_ok(r)) {
            r = kf_buf_write_bytes(&b, kf_zone_owner_name(z, next), z->owners[next].name_len);
        }
        if (kf_ok(r)) {
            r = kf_dnssec_bitmap_write(set, &b);
        }
        if (kf_ok(r)) {
            r = kf_zone_add_at(z, o, KF_DNS_NSEC, ttl, b.data, b.len, 0);
        }
    }
    free(set);
    free(rd);
    free(chain);
    if (kf_ok(r) && out_count != NULL) {
        *out_count = n;
    }
    return r;
}
