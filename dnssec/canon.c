/* dnssec/canon.c - canonical order (RFC 4034 s6.1, s6.3), RRsets and the zone's structure
 * (apex, zone cuts, occluded names). */
#include "dnssec/dnssec.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static int canon_owner_cmp(const void *a, const void *b, void *arg)
{
    const struct kf_zone *z = arg;
    const struct kf_zone_owner *x = &z->owners[*(const uint32_t *)a];
    const struct kf_zone_owner *y = &z->owners[*(const uint32_t *)b];
    return kf_dnssec_octets_cmp(z->arena.data + x->key, x->key_len, z->arena.data + y->key,
                                y->key_len);
}

/* RDATA in canonical order: as left-justified unsigned octet sequences, a shorter one that is
 * a prefix of the other first (RFC 4034 s6.3). */
static int canon_rdata_cmp(const struct kf_zone *z, const struct kf_zone_rr *x,
                           const struct kf_zone_rr *y)
{
    return kf_dnssec_octets_cmp(z->arena.data + x->rdata, x->rdlen, z->arena.data + y->rdata,
                                y->rdlen);
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
 * general sort costs log n of them and moves every record log n times. A zone whose owners
 * have no hash was interned in ascending order (kf_zone_intern): no check needed. */
static bool canon_owners_in_order(const struct kf_zone *z)
{
    if (!z->owners_hashed) {
        return true;
    }
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

/*
 * For each owner's records in rrs[from, to) (consecutive already): sort them among themselves
 * unless @p sorted, and drop duplicate RRs (same type and RDATA; RFC 2181 s5), keeping the
 * lower TTL. The survivors are moved down to start at @p from; returns their count. Insertion
 * sort for the handful an owner usually has; it is stable, as glibc's qsort_r is. Deduplicating
 * right after sorting reads each RDATA while the sort has it in cache.
 */
static size_t canon_groups(struct kf_zone *z, size_t from, size_t to, bool sorted)
{
    struct kf_zone_rr *rrs = z->rrs;
    size_t w = from;
    size_t a = from;
    while (a < to) {
        size_t b = a + 1;
        while (b < to && rrs[b].owner == rrs[a].owner) {
            b++;
        }
        if (sorted) {
            /* in order already */
        } else if (b - a > 32) {
            qsort_r(rrs + a, b - a, sizeof(*rrs), canon_rr_cmp, z);
        } else {
            for (size_t i = a + 1; i < b; i++) {
                struct kf_zone_rr x = rrs[i];
                size_t j = i;
                while (j > a && canon_rr_cmp(&rrs[j - 1], &x, z) > 0) {
                    rrs[j] = rrs[j - 1];
                    j--;
                }
                rrs[j] = x;
            }
        }
        size_t first = w;
        for (size_t r = a; r < b; r++) {
            struct kf_zone_rr *prev = w > first ? &rrs[w - 1] : NULL;
            if (prev != NULL && prev->type == rrs[r].type &&
                canon_rdata_cmp(z, prev, &rrs[r]) == 0) {
                if (rrs[r].ttl < prev->ttl) {
                    prev->ttl = rrs[r].ttl;
                }
                continue;
            }
            rrs[w++] = rrs[r];
        }
        a = b;
    }
    return w - from;
}

/* canon_groups on a part of the records, on a thread of its own. */
struct canon_part {
    struct kf_zone *z;
    size_t from, to, kept;
    bool sorted;
};

static void *canon_part_main(void *arg)
{
    struct canon_part *p = arg;
    p->kept = canon_groups(p->z, p->from, p->to, p->sorted);
    return NULL;
}

/* Parts too small to be worth a thread. */
#define CANON_PART_MIN (64u * 1024)
#define CANON_MAX_PARTS 8u

/* canon_groups over all records, cut at owner boundaries into parts done side by side. */
static void canon_all_groups(struct kf_zone *z, bool sorted)
{
    struct canon_part part[CANON_MAX_PARTS];
    pthread_t tid[CANON_MAX_PARTS];
    bool started[CANON_MAX_PARTS] = { false };
    unsigned want = kf_dnssec_threads(z->threads, z->n_rrs, CANON_PART_MIN);
    want = want < CANON_MAX_PARTS ? want : CANON_MAX_PARTS;
    unsigned n = 0;
    size_t at = 0;
    for (unsigned k = 0; k < want && at < z->n_rrs; k++) {
        size_t end = k + 1 == want ? z->n_rrs : z->n_rrs / want * (k + 1);
        while (end > at && end < z->n_rrs && z->rrs[end].owner == z->rrs[end - 1].owner) {
            end++;
        }
        if (end <= at) {
            continue;
        }
        part[n] = (struct canon_part){ .z = z, .from = at, .to = end, .sorted = sorted };
        n++;
        at = end;
    }
    for (unsigned k = 1; k < n; k++) {
        started[k] = pthread_create(&tid[k], NULL, canon_part_main, &part[k]) == 0;
    }
    size_t kept = n > 0 ? canon_groups(z, part[0].from, part[0].to, sorted) : 0;
    for (unsigned k = 1; k < n; k++) {
        if (started[k]) {
            (void)pthread_join(tid[k], NULL);
        } else {
            (void)canon_part_main(&part[k]);
        }
        memmove(z->rrs + kept, z->rrs + part[k].from, part[k].kept * sizeof(*z->rrs));
        kept += part[k].kept;
    }
    z->n_rrs = kept;
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
    /* Then drop duplicate RRs and cut the sequence into RRsets. */
    if (canon_rrs_grouped(z)) {
        canon_all_groups(z, false);
    } else {
        qsort_r(z->rrs, z->n_rrs, sizeof(*z->rrs), canon_rr_cmp, z);
        canon_all_groups(z, true);
    }
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
    uint32_t cut = UINT32_MAX;
    for (size_t rank = 0; rank < z->n_owners; rank++) {
        uint32_t o = z->owner_order[rank];
        struct kf_zone_owner *ow = &z->owners[o];
        ow->flags = 0;
        uint32_t first = z->owner_first_rrset[rank];
        if (first == UINT32_MAX) {
            continue; /* an owner whose records were all removed */
        }
        if (o == apex) {
            ow->flags |= KF_OWNER_APEX;
        }
        if (cut != UINT32_MAX && kf_zone_owner_is_sub(z, o, cut)) {
            ow->flags |= KF_OWNER_OCCLUDED;
        } else {
            cut = UINT32_MAX;
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
                if (cut == UINT32_MAX && !(ow->flags & KF_OWNER_OCCLUDED)) {
                    cut = o; /* names below a DNAME are occluded (RFC 6672 s2.4) */
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
            cut = o;
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
    /* Owners interned in ascending order (no hash) starting at the SOA's: the names at or below
     * it are one interval of the canonical order that starts with it, so the last owner being
     * below it puts every owner there. */
    bool ordered =
        !z->owners_hashed && apex == 0 &&
        kf_dnssec_name_is_sub(kf_zone_owner_name(z, (uint32_t)(z->n_owners - 1)), origin);
    for (size_t i = 0; i < z->n_rrs && !ordered; i++) {
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
