/* dnssec/canon.c - canonical order (RFC 4034 s6.1, s6.3), RRsets and the zone's structure
 * (apex, zone cuts, occluded names). */
#include "dnssec/dnssec.h"

#include <stdlib.h>
#include <string.h>

static int canon_owner_cmp(const void *a, const void *b, void *arg)
{
    const struct kf_zone *z = arg;
    const struct kf_zone_owner *x = &z->owners[*(const uint32_t *)a];
    const struct kf_zone_owner *y = &z->owners[*(const uint32_t *)b];
    size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
    int c = memcmp(z->arena.data + x->key, z->arena.data + y->key, n);
    if (c != 0) {
        return c;
    }
    return (x->key_len > y->key_len) - (x->key_len < y->key_len);
}

/* RDATA in canonical order: as left-justified unsigned octet sequences, a shorter one that is
 * a prefix of the other first (RFC 4034 s6.3). */
static int canon_rdata_cmp(const struct kf_zone *z, const struct kf_zone_rr *x,
                           const struct kf_zone_rr *y)
{
    size_t n = x->rdlen < y->rdlen ? x->rdlen : y->rdlen;
    int c = memcmp(z->arena.data + x->rdata, z->arena.data + y->rdata, n);
    if (c != 0) {
        return c;
    }
    return (x->rdlen > y->rdlen) - (x->rdlen < y->rdlen);
}

static int canon_rr_cmp(const void *a, const void *b, void *arg)
{
    const struct kf_zone *z = arg;
    const struct kf_zone_rr *x = a;
    const struct kf_zone_rr *y = b;
    if (x->owner != y->owner) {
        uint32_t rx = z->owner_rank[x->owner];
        uint32_t ry = z->owner_rank[y->owner];
        return rx < ry ? -1 : 1;
    }
    if (x->type != y->type) {
        return x->type < y->type ? -1 : 1;
    }
    /* RRSIGs of one owner stay grouped by the type they cover through their RDATA's first
     * field, which the memcmp below already sorts on. */
    return canon_rdata_cmp(z, x, y);
}

/* Zone files, signers' output above all, list owners in canonical order and keep an owner's
 * records together; checking for that costs one comparison per owner and per record, where a
 * general sort costs log n of them and moves every record log n times. */
static bool canon_owners_in_order(const struct kf_zone *z)
{
    for (uint32_t i = 1; i < z->n_owners; i++) {
        uint32_t a = i - 1;
        if (canon_owner_cmp(&a, &i, (void *)z) >= 0) {
            return false;
        }
    }
    return true;
}

static bool canon_rrs_grouped(const struct kf_zone *z)
{
    for (size_t r = 1; r < z->n_rrs; r++) {
        if (z->owner_rank[z->rrs[r].owner] < z->owner_rank[z->rrs[r - 1].owner]) {
            return false;
        }
    }
    return true;
}

/* Sort the records of each owner among themselves (they are consecutive already). Insertion
 * sort for the handful an owner usually has; it is stable, as glibc's qsort_r is. */
static void canon_sort_groups(struct kf_zone *z)
{
    size_t a = 0;
    while (a < z->n_rrs) {
        size_t b = a + 1;
        while (b < z->n_rrs && z->rrs[b].owner == z->rrs[a].owner) {
            b++;
        }
        if (b - a > 32) {
            qsort_r(z->rrs + a, b - a, sizeof(*z->rrs), canon_rr_cmp, z);
        } else {
            for (size_t i = a + 1; i < b; i++) {
                struct kf_zone_rr x = z->rrs[i];
                size_t j = i;
                while (j > a && canon_rr_cmp(&z->rrs[j - 1], &x, z) > 0) {
                    z->rrs[j] = z->rrs[j - 1];
                    j--;
                }
                z->rrs[j] = x;
            }
        }
        a = b;
    }
}

kf_result kf_zone_sort(struct kf_zone *z)
{
    KF_ENSURE_REF(z);
    free(z->owner_order);
    free(z->owner_rank);
    free(z->owner_first_rrset);
    free(z->rrsets);
    z->owner_order = NULL;
    z->owner_rank = NULL;
    z->owner_first_rrset = NULL;
    z->rrsets = NULL;
    z->n_rrsets = 0;
    size_t no = z->n_owners;
    z->owner_order = malloc((no + 1) * sizeof(uint32_t));
    z->owner_rank = malloc((no + 1) * sizeof(uint32_t));
    z->owner_first_rrset = malloc((no + 1) * sizeof(uint32_t));
    z->rrsets = malloc((z->n_rrs + 1) * sizeof(*z->rrsets));
    KF_ENSURE(z->owner_order != NULL && z->owner_rank != NULL && z->owner_first_rrset != NULL &&
                  z->rrsets != NULL,
              KF_ERR_NOMEM);
    for (size_t i = 0; i < no; i++) {
        z->owner_order[i] = (uint32_t)i;
    }
    if (!canon_owners_in_order(z)) {
        qsort_r(z->owner_order, no, sizeof(uint32_t), canon_owner_cmp, z);
    }
    for (size_t i = 0; i < no; i++) {
        z->owner_rank[z->owner_order[i]] = (uint32_t)i;
        z->owner_first_rrset[i] = UINT32_MAX;
    }
    if (canon_rrs_grouped(z)) {
        canon_sort_groups(z);
    } else {
        qsort_r(z->rrs, z->n_rrs, sizeof(*z->rrs), canon_rr_cmp, z);
    }

    /* Drop duplicate RRs (same owner, type and RDATA; RFC 2181 s5), keeping the lower TTL,
     * then cut the sequence into RRsets. */
    size_t w = 0;
    for (size_t r = 0; r < z->n_rrs; r++) {
        struct kf_zone_rr *rr = &z->rrs[r];
        if (w > 0) {
            struct kf_zone_rr *prev = &z->rrs[w - 1];
            if (prev->owner == rr->owner && prev->type == rr->type &&
                canon_rdata_cmp(z, prev, rr) == 0) {
                if (rr->ttl < prev->ttl) {
                    prev->ttl = rr->ttl;
                }
                continue;
            }
        }
        z->rrs[w++] = *rr;
    }
    z->n_rrs = w;
    for (size_t r = 0; r < z->n_rrs; r++) {
        const struct kf_zone_rr *rr = &z->rrs[r];
        struct kf_zone_rrset *cur = z->n_rrsets > 0 ? &z->rrsets[z->n_rrsets - 1] : NULL;
        if (cur != NULL && cur->owner == rr->owner && cur->type == rr->type) {
            cur->count++;
            if (rr->ttl < cur->ttl) {
                cur->ttl = rr->ttl;
            }
            continue;
        }
        struct kf_zone_rrset *s = &z->rrsets[z->n_rrsets];
        s->owner = rr->owner;
        s->type = rr->type;
        s->first = (uint32_t)r;
        s->count = 1;
        s->ttl = rr->ttl;
        uint32_t rank = z->owner_rank[rr->owner];
        if (z->owner_first_rrset[rank] == UINT32_MAX) {
            z->owner_first_rrset[rank] = (uint32_t)z->n_rrsets;
        }
        z->n_rrsets++;
    }
    z->sorted = true;
    return KF_OK;
}

const struct kf_zone_rrset *kf_zone_find(const struct kf_zone *z, uint32_t owner, uint16_t type)
{
    if (!z->sorted || owner >= z->n_owners) {
        return NULL;
    }
    uint32_t i = z->owner_first_rrset[z->owner_rank[owner]];
    for (; i < z->n_rrsets && z->rrsets[i].owner == owner; i++) {
        if (z->rrsets[i].type == type) {
            return &z->rrsets[i];
        }
        if (z->rrsets[i].type > type) {
            break;
        }
    }
    return NULL;
}

static kf_result canon_data_error(const struct kf_zone *z, uint32_t owner, uint32_t line,
                                  const char *why)
{
    char name[1024];
    kf_err_record(KF_ERR_ZONE_DATA, __FILE__, __LINE__, __func__);
    kf_err_note_context("%s:%u: %s: %s", z->file, line,
                        kf_dnssec_name_to_text(kf_zone_owner_name(z, owner), name, sizeof(name)),
                        why);
    return (kf_result){ KF_ERR_ZONE_DATA };
}

kf_result kf_zone_analyse(struct kf_zone *z)
{
    KF_ENSURE_REF(z);
    KF_ENSURE(z->sorted, KF_ERR_INTERNAL);
    uint32_t apex = kf_zone_owner_lookup(z, z->origin);
    const struct kf_zone_rrset *soa = apex == UINT32_MAX ? NULL : kf_zone_find(z, apex, KF_DNS_SOA);
    if (soa == NULL) {
        char name[1024];
        kf_err_record(KF_ERR_ZONE_DATA, __FILE__, __LINE__, __func__);
        kf_err_note_context("%s: no SOA record at the apex %s", z->file,
                            kf_dnssec_name_to_text(z->origin, name, sizeof(name)));
        return (kf_result){ KF_ERR_ZONE_DATA };
    }
    if (soa->count != 1) {
        return canon_data_error(z, apex, z->rrs[soa->first + 1].line, "more than one SOA record");
    }
    const struct kf_zone_rr *soa_rr = &z->rrs[soa->first];
    const uint8_t *sd = kf_zone_rdata(z, soa_rr);
    size_t n1 = 0;
    size_t n2 = 0;
    if (!kf_ok(kf_dnssec_name_check(sd, soa_rr->rdlen, &n1)) ||
        !kf_ok(kf_dnssec_name_check(sd + n1, soa_rr->rdlen - n1, &n2)) ||
        soa_rr->rdlen != n1 + n2 + 20) {
        return canon_data_error(z, apex, soa_rr->line, "malformed SOA record");
    }
    const uint8_t *m = sd + n1 + n2 + 16;
    z->soa_minimum = (uint32_t)m[0] << 24 | (uint32_t)m[1] << 16 | (uint32_t)m[2] << 8 | m[3];
    z->soa_ttl = soa->ttl;

    /* Canonical order lists a name's subtree right after it, so one pass with the current
     * zone cut (or DNAME) finds everything below it. */
    const uint8_t *cut = NULL;
    for (size_t rank = 0; rank < z->n_owners; rank++) {
        uint32_t o = z->owner_order[rank];
        struct kf_zone_owner *ow = &z->owners[o];
        const uint8_t *name = kf_zone_owner_name(z, o);
        ow->flags = 0;
        uint32_t first = z->owner_first_rrset[rank];
        if (first == UINT32_MAX) {
            continue; /* an owner whose records were all removed */
        }
        if (o == apex) {
            ow->flags |= KF_OWNER_APEX;
        }
        if (cut != NULL && kf_dnssec_name_is_sub(name, cut)) {
            ow->flags |= KF_OWNER_OCCLUDED;
        } else {
            cut = NULL;
        }
        bool has_ns = false;
        bool has_cname = false;
        bool has_other = false;
        for (size_t i = first; i < z->n_rrsets && z->rrsets[i].owner == o; i++) {
            const struct kf_zone_rrset *s = &z->rrsets[i];
            uint32_t line = z->rrs[s->first].line;
            switch (s->type) {
            case KF_DNS_RRSIG:
            case KF_DNS_NSEC:
            case KF_DNS_NSEC3:
                continue;
            case KF_DNS_NS:
                has_ns = true;
                break;
            case KF_DNS_CNAME:
                has_cname = true;
                break;
            case KF_DNS_SOA:
                if (o != apex) {
                    return canon_data_error(z, o, line, "SOA record below the apex");
                }
                break;
            case KF_DNS_DS:
                if (o == apex) {
                    return canon_data_error(z, o, line,
                                            "DS record at the apex (it belongs in the parent)");
                }
                ow->flags |= KF_OWNER_HAS_DS;
                break;
            case KF_DNS_DNAME:
                if (cut == NULL && !(ow->flags & KF_OWNER_OCCLUDED)) {
                    cut = name; /* names below a DNAME are occluded (RFC 6672 s2.4) */
                }
                break;
            default:
                break;
            }
            if (s->type != KF_DNS_CNAME) {
                has_other = true;
            }
            ow->flags |= KF_OWNER_DATA;
        }
        if (has_cname && has_other) {
            return canon_data_error(z, o, z->rrs[z->rrsets[first].first].line,
                                    "CNAME beside other data (RFC 1034 s3.6.2)");
        }
        if (has_ns && o != apex && !(ow->flags & KF_OWNER_OCCLUDED)) {
            ow->flags |= KF_OWNER_DELEG;
            cut = name;
        }
    }
    return KF_OK;
}

kf_result kf_zone_adopt_soa_origin(struct kf_zone *z)
{
    KF_ENSURE_REF(z);
    /* One pass over the records, no sort: the caller sorts once, after. Two SOA records at one
     * owner are the analysis's finding (more than one SOA), two owners with an SOA are this. */
    uint32_t apex = UINT32_MAX;
    for (size_t i = 0; i < z->n_rrs; i++) {
        const struct kf_zone_rr *rr = &z->rrs[i];
        if (rr->type != KF_DNS_SOA || rr->owner == apex) {
            continue;
        }
        if (apex != UINT32_MAX) {
            return canon_data_error(z, rr->owner, rr->line,
                                    "a second SOA: give the zone's origin with -o");
        }
        apex = rr->owner;
    }
    if (apex == UINT32_MAX) {
        kf_err_record(KF_ERR_ZONE_DATA, __FILE__, __LINE__, __func__);
        kf_err_note_context("%s: no SOA record", z->file);
        return (kf_result){ KF_ERR_ZONE_DATA };
    }
    const uint8_t *origin = kf_zone_owner_name(z, apex);
    for (size_t i = 0; i < z->n_rrs; i++) {
        /* Records of one owner mostly come together: check each run's owner once. */
        if (i > 0 && z->rrs[i].owner == z->rrs[i - 1].owner) {
            continue;
        }
        if (!kf_dnssec_name_is_sub(kf_zone_owner_name(z, z->rrs[i].owner), origin)) {
            return canon_data_error(z, z->rrs[i].owner, z->rrs[i].line,
                                    "outside the zone of the SOA record");
        }
    }
    z->origin_len = z->owners[apex].name_len;
    memcpy(z->origin, origin, z->origin_len);
    return KF_OK;
}
