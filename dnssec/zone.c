/* dnssec/zone.c - a zone in memory: reading it with libzscanner, owners, records.
 *
 * Records live in one arena (offsets, not pointers, so it can grow) and refer to interned
 * owners. Everything is stored in canonical form, so signing and verifying never lower-case
 * again. */
#include "dnssec/dnssec.h"

#include <stdlib.h>
#include <string.h>

static uint32_t zone_hash(const uint8_t *name, size_t len)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < len; i++) {
        h = (h ^ name[i]) * 16777619u;
    }
    return h;
}

/*
 * A byte string whose memcmp order is the canonical name order (RFC 4034 s6.1): the labels
 * right to left, each followed by a 0x00 separator, with 0x00 and 0x01 inside a label escaped
 * as 0x01 0x01 and 0x01 0x02 so a separator always sorts before any label byte. Names are
 * lower-case already.
 */
static kf_result zone_sort_key(const uint8_t *name, struct kf_buf *out, uint16_t *out_len)
{
    uint8_t off[128];
    unsigned n = 0;
    for (size_t p = 0; name[p] != 0; p += 1u + name[p]) {
        off[n++] = (uint8_t)p;
    }
    /* At most two bytes per name byte: built here, appended in one write. */
    uint8_t key[2 * KF_DNS_MAX_NAME];
    size_t k = 0;
    while (n > 0) {
        const uint8_t *l = name + off[--n];
        for (uint8_t i = 1; i <= l[0]; i++) {
            if (l[i] <= 1) {
                key[k++] = 1;
                key[k++] = (uint8_t)(l[i] + 1);
            } else {
                key[k++] = l[i];
            }
        }
        key[k++] = 0;
    }
    KF_GUARD(kf_buf_write_bytes(out, key, k));
    *out_len = (uint16_t)k;
    return KF_OK;
}

/* A slot holds the name's hash beside the owner index, so probing past other names compares
 * hashes and touches neither the owner table nor the arena. */
static inline uint64_t zone_slot(uint32_t hash, uint32_t idx)
{
    return (uint64_t)hash << 32 | (uint64_t)(idx + 1);
}

static kf_result zone_grow_hash(struct kf_zone *z, size_t want)
{
    size_t cap = z->hash_cap == 0 ? 1024 : z->hash_cap * 2;
    while (cap < want) {
        cap *= 2;
    }
    /* malloc and memset, not calloc: calloc's fresh pages are read first (probing) and written
     * after, and each such page costs a second fault, one that flushes the TLB of every CPU
     * the process runs on (the parallel reader's other threads). */
    uint64_t *h = malloc(cap * sizeof(*h));
    KF_ENSURE(h != NULL, KF_ERR_NOMEM);
    memset(h, 0, cap * sizeof(*h));
    for (size_t s = 0; s < z->hash_cap; s++) {
        uint64_t v = z->owner_hash[s];
        if (v == 0) {
            continue;
        }
        size_t slot = (uint32_t)(v >> 32) & (cap - 1);
        while (h[slot] != 0) {
            slot = (slot + 1) & (cap - 1);
        }
        h[slot] = v;
    }
    free(z->owner_hash);
    z->owner_hash = h;
    z->hash_cap = cap;
    return KF_OK;
}

/* Hash every owner so far: the first owner that breaks the ascending order (or the first
 * lookup of a zone whose owners are unordered) needs it. */
static kf_result zone_build_hash(struct kf_zone *z)
{
    KF_GUARD(zone_grow_hash(z, (z->n_owners + 1) * 2));
    for (size_t i = 0; i < z->n_owners; i++) {
        const struct kf_zone_owner *o = &z->owners[i];
        uint32_t hash = zone_hash(z->arena.data + o->name, o->name_len);
        size_t slot = hash & (z->hash_cap - 1);
        while (z->owner_hash[slot] != 0) {
            slot = (slot + 1) & (z->hash_cap - 1);
        }
        z->owner_hash[slot] = zone_slot(hash, (uint32_t)i);
    }
    z->owners_hashed = true;
    return KF_OK;
}

kf_result kf_zone_reserve(struct kf_zone *z, size_t owners, size_t rrs)
{
    KF_ENSURE_REF(z);
    owners = owners < KF_ZONE_MAX_RRS ? owners : KF_ZONE_MAX_RRS;
    rrs = rrs < KF_ZONE_MAX_RRS ? rrs : KF_ZONE_MAX_RRS;
    /* The hash only if there is one already: a zone read in order never needs it. */
    if (z->owners_hashed && owners * 2 > z->hash_cap) {
        KF_GUARD(zone_grow_hash(z, owners * 2));
    }
    if (owners > z->cap_owners) {
        struct kf_zone_owner *o = realloc(z->owners, owners * sizeof(*o));
        KF_ENSURE(o != NULL, KF_ERR_NOMEM);
        z->owners = o;
        z->cap_owners = owners;
    }
    if (rrs > z->cap_rrs) {
        struct kf_zone_rr *r = realloc(z->rrs, rrs * sizeof(*r));
        KF_ENSURE(r != NULL, KF_ERR_NOMEM);
        z->rrs = r;
        z->cap_rrs = rrs;
    }
    return KF_OK;
}

/* The owner of a checked name of @p len bytes and hash @p hash, or UINT32_MAX. */
static uint32_t zone_find(const struct kf_zone *z, const uint8_t *name, size_t len, uint32_t hash)
{
    if (z->hash_cap == 0) {
        return UINT32_MAX;
    }
    size_t slot = hash & (z->hash_cap - 1);
    for (uint64_t v; (v = z->owner_hash[slot]) != 0; slot = (slot + 1) & (z->hash_cap - 1)) {
        if ((uint32_t)(v >> 32) != hash) {
            continue;
        }
        uint32_t i = (uint32_t)v - 1;
        const struct kf_zone_owner *o = &z->owners[i];
        if (o->name_len == len && memcmp(z->arena.data + o->name, name, len) == 0) {
            return i;
        }
    }
    return UINT32_MAX;
}

/* The owner whose sort key is @p key, by binary search: only while the owners ascend. */
static uint32_t zone_find_ordered(const struct kf_zone *z, const uint8_t *key, size_t key_len)
{
    size_t lo = 0;
    size_t hi = z->n_owners;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct kf_zone_owner *o = &z->owners[mid];
        int c = kf_dnssec_octets_cmp(z->arena.data + o->key, o->key_len, key, key_len);
        if (c == 0) {
            return (uint32_t)mid;
        }
        if (c < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return UINT32_MAX;
}

uint32_t kf_zone_owner_lookup(const struct kf_zone *z, const uint8_t *name)
{
    size_t len = 0;
    if (z->n_owners == 0 || !kf_ok(kf_dnssec_name_check(name, KF_DNS_MAX_NAME, &len))) {
        return UINT32_MAX;
    }
    if (z->owners_hashed) {
        return zone_find(z, name, len, zone_hash(name, len));
    }
    /* No hash: the owners ascend (kf_zone_intern), so the sort key finds the name. */
    uint8_t key[2 * KF_DNS_MAX_NAME];
    struct kf_buf b;
    uint16_t key_len = 0;
    if (!kf_ok(kf_buf_init_fixed(&b, key, sizeof(key))) ||
        !kf_ok(zone_sort_key(name, &b, &key_len))) {
        return UINT32_MAX;
    }
    return zone_find_ordered(z, key, key_len);
}

/* Append an owner whose name and sort key are in the arena already, and hash it if the zone
 * keeps a hash. */
static kf_result zone_insert_owner(struct kf_zone *z, const struct kf_zone_owner *o, uint32_t hash,
                                   uint32_t *out)
{
    if (z->owners_hashed && (z->n_owners + 1) * 2 > z->hash_cap) {
        KF_GUARD(zone_grow_hash(z, 0));
    }
    if (z->n_owners == z->cap_owners) {
        size_t cap = z->cap_owners == 0 ? 1024 : z->cap_owners * 2;
        struct kf_zone_owner *p = realloc(z->owners, cap * sizeof(*p));
        KF_ENSURE(p != NULL, KF_ERR_NOMEM);
        z->owners = p;
        z->cap_owners = cap;
    }
    uint32_t idx = (uint32_t)z->n_owners++;
    z->owners[idx] = *o;
    if (z->owners_hashed) {
        size_t slot = hash & (z->hash_cap - 1);
        while (z->owner_hash[slot] != 0) {
            slot = (slot + 1) & (z->hash_cap - 1);
        }
        z->owner_hash[slot] = zone_slot(hash, idx);
    }
    *out = idx;
    return KF_OK;
}

/* Whether owner @p o sorts after the zone's last owner (true for the first). */
static bool zone_after_last(const struct kf_zone *z, const struct kf_zone_owner *o,
                            const uint8_t *key_base)
{
    if (z->n_owners == 0) {
        return true;
    }
    const struct kf_zone_owner *last = &z->owners[z->n_owners - 1];
    return kf_dnssec_octets_cmp(key_base + o->key, o->key_len, z->arena.data + last->key,
                                last->key_len) > 0;
}

/*
 * The index of a lower-case owner, added when new.
 *
 * Signers write owners in canonical order, and while each new owner sorts after the last one
 * it cannot be a repeat: it is appended with no hash lookup at all. A hash table probe is a
 * cache and TLB miss per owner (a quarter of a million owners in the perf/ zone), which cost
 * more than the rest of interning. The first owner out of order builds the hash over all
 * owners so far, and from then on every owner is looked up in it.
 */
kf_result kf_zone_intern(struct kf_zone *z, const uint8_t *name, uint32_t *out)
{
    size_t len = 0;
    KF_GUARD(kf_dnssec_name_check(name, KF_DNS_MAX_NAME, &len));
    uint32_t hash = 0;
    if (z->owners_hashed) {
        hash = zone_hash(name, len);
        uint32_t found = zone_find(z, name, len, hash);
        if (found != UINT32_MAX) {
            *out = found;
            return KF_OK;
        }
    }
    KF_ENSURE(z->arena.len + 3 * len + 4 < KF_ZONE_MAX_ARENA, KF_ERR_TOO_LARGE);
    size_t mark = z->arena.len;
    struct kf_zone_owner o = { 0 };
    o.name = (uint32_t)z->arena.len;
    o.name_len = (uint8_t)len;
    o.labels = (uint8_t)kf_dnssec_name_labels(name);
    KF_GUARD(kf_buf_write_bytes(&z->arena, name, len));
    o.key = (uint32_t)z->arena.len;
    KF_GUARD(zone_sort_key(name, &z->arena, &o.key_len));
    if (!z->owners_hashed && !zone_after_last(z, &o, z->arena.data)) {
        /* Out of order: it may repeat an earlier owner. From here on, the hash. */
        KF_GUARD(zone_build_hash(z));
        hash = zone_hash(name, len);
        uint32_t found = zone_find(z, name, len, hash);
        if (found != UINT32_MAX) {
            z->arena.len = mark; /* the copy just written is not needed */
            *out = found;
            return KF_OK;
        }
    }
    return zone_insert_owner(z, &o, hash, out);
}

kf_result kf_zone_add_at(struct kf_zone *z, uint32_t owner, uint16_t type, uint32_t ttl,
                         const uint8_t *rdata, size_t rdlen, uint32_t line)
{
    KF_ENSURE_REF(z);
    KF_ENSURE(owner < z->n_owners, KF_ERR_INVALID_ARG);
    KF_ENSURE(rdlen <= UINT16_MAX, KF_ERR_TOO_LARGE);
    KF_ENSURE(z->n_rrs < KF_ZONE_MAX_RRS, KF_ERR_TOO_LARGE);
    KF_ENSURE(z->arena.len + rdlen < KF_ZONE_MAX_ARENA, KF_ERR_TOO_LARGE);
    if (z->n_rrs == z->cap_rrs) {
        size_t cap = z->cap_rrs == 0 ? 4096 : z->cap_rrs * 2;
        struct kf_zone_rr *r = realloc(z->rrs, cap * sizeof(*r));
        KF_ENSURE(r != NULL, KF_ERR_NOMEM);
        z->rrs = r;
        z->cap_rrs = cap;
    }
    struct kf_zone_rr rr = { 0 };
    rr.owner = owner;
    rr.type = type;
    rr.rdlen = (uint16_t)rdlen;
    rr.ttl = ttl;
    rr.rdata = (uint32_t)z->arena.len;
    rr.line = line;
    KF_GUARD(kf_buf_write_bytes(&z->arena, rdata, rdlen));
    z->rrs[z->n_rrs++] = rr;
    z->sorted = false;
    return KF_OK;
}

kf_result kf_zone_add(struct kf_zone *z, const uint8_t *owner, uint16_t type, uint32_t ttl,
                      const uint8_t *rdata, size_t rdlen, uint32_t line)
{
    KF_ENSURE_REF(z);
    uint32_t idx = 0;
    KF_GUARD(kf_zone_intern(z, owner, &idx));
    return kf_zone_add_at(z, idx, type, ttl, rdata, rdlen, line);
}

void kf_zone_remove_if(struct kf_zone *z, bool (*drop)(const struct kf_zone_rr *rr, void *arg),
                       void *arg)
{
    size_t w = 0;
    for (size_t r = 0; r < z->n_rrs; r++) {
        if (!drop(&z->rrs[r], arg)) {
            z->rrs[w++] = z->rrs[r];
        }
    }
    z->n_rrs = w;
    z->sorted = false;
}

void kf_zone_cleanup(struct kf_zone *z)
{
    if (z == NULL) {
        return;
    }
    /* The arena holds only public zone data: release it without kf_buf's wipe, which would
     * cost a pass over tens of megabytes for nothing. */
    free(z->arena.data);
    free(z->file);
    free(z->rrs);
    free(z->owners);
    free(z->owner_hash);
    free(z->rrsets);
    free(z->owner_order);
    free(z->owner_rank);
    free(z->owner_first_rrset);
    memset(z, 0, sizeof(*z));
}

kf_result kf_zone_absorb(struct kf_zone *dst, struct kf_zone *src, uint32_t arena_at,
                         uint32_t line_offset)
{
    KF_ENSURE_REF(dst);
    KF_ENSURE_REF(src);
    KF_ENSURE(dst->n_rrs + src->n_rrs <= KF_ZONE_MAX_RRS, KF_ERR_TOO_LARGE);
    /* src's arena is in dst's already, so its names, sort keys and RDATA keep their offsets
     * plus base. An owner both zones know keeps dst's copy; the other is a few dead bytes. */
    uint32_t base = arena_at;
    KF_ENSURE(base <= dst->arena.len, KF_ERR_INVALID_ARG);
    uint32_t *map = malloc((src->n_owners + 1) * sizeof(*map));
    KF_ENSURE(map != NULL, KF_ERR_NOMEM);
    kf_result r = KF_OK;
    /* Both in order and src's first owner at or after dst's last: src's owners are new (but
     * for a first one equal to dst's last, the owner a cut fell inside of) and keep the order,
     * so neither zone needs a hash. Otherwise dst gets one and each owner is looked up. */
    int first = 1;
    if (!dst->owners_hashed && !src->owners_hashed && src->n_owners > 0 && dst->n_owners > 0) {
        const struct kf_zone_owner *a = &src->owners[0];
        const struct kf_zone_owner *b = &dst->owners[dst->n_owners - 1];
        first = kf_dnssec_octets_cmp(dst->arena.data + base + a->key, a->key_len,
                                     dst->arena.data + b->key, b->key_len);
    }
    bool append = !dst->owners_hashed && !src->owners_hashed && first >= 0;
    if (!append && !dst->owners_hashed) {
        r = zone_build_hash(dst);
    }
    size_t from = 0;
    if (append && first == 0) {
        map[0] = (uint32_t)(dst->n_owners - 1);
        from = 1;
    }
    for (size_t i = from; i < src->n_owners && kf_ok(r); i++) {
        struct kf_zone_owner o = src->owners[i];
        o.name += base;
        o.key += base;
        uint32_t hash = 0;
        if (!append) {
            const uint8_t *name = dst->arena.data + o.name;
            hash = zone_hash(name, o.name_len);
            uint32_t found = zone_find(dst, name, o.name_len, hash);
            if (found != UINT32_MAX) {
                map[i] = found;
                continue;
            }
        }
        r = zone_insert_owner(dst, &o, hash, &map[i]);
    }
    size_t need = dst->n_rrs + src->n_rrs;
    if (kf_ok(r) && need > dst->cap_rrs) {
        struct kf_zone_rr *rrs = realloc(dst->rrs, need * sizeof(*rrs));
        if (rrs == NULL) {
            kf_err_record(KF_ERR_NOMEM, __FILE__, __LINE__, __func__);
            r = (kf_result){ KF_ERR_NOMEM };
        } else {
            dst->rrs = rrs;
            dst->cap_rrs = need;
        }
    }
    if (kf_ok(r)) {
        for (size_t i = 0; i < src->n_rrs; i++) {
            struct kf_zone_rr rr = src->rrs[i];
            rr.owner = map[rr.owner];
            rr.rdata += base;
            rr.line += line_offset;
            dst->rrs[dst->n_rrs++] = rr;
        }
        dst->fast_rrs += src->fast_rrs;
        dst->sorted = false;
    }
    free(map);
    return r;
}

bool kf_zone_same_records(const struct kf_zone *a, const struct kf_zone *b)
{
    if (a->n_owners != b->n_owners || a->n_rrs != b->n_rrs || a->origin_len != b->origin_len ||
        memcmp(a->origin, b->origin, a->origin_len) != 0) {
        return false;
    }
    for (size_t i = 0; i < a->n_owners; i++) {
        const struct kf_zone_owner *x = &a->owners[i];
        const struct kf_zone_owner *y = &b->owners[i];
        if (x->name_len != y->name_len || x->key_len != y->key_len || x->labels != y->labels ||
            memcmp(a->arena.data + x->name, b->arena.data + y->name, x->name_len) != 0 ||
            memcmp(a->arena.data + x->key, b->arena.data + y->key, x->key_len) != 0) {
            return false;
        }
    }
    for (size_t i = 0; i < a->n_rrs; i++) {
        const struct kf_zone_rr *x = &a->rrs[i];
        const struct kf_zone_rr *y = &b->rrs[i];
        if (x->owner != y->owner || x->type != y->type || x->rdlen != y->rdlen ||
            x->ttl != y->ttl || x->line != y->line ||
            memcmp(kf_zone_rdata(a, x), kf_zone_rdata(b, y), x->rdlen) != 0) {
            return false;
        }
    }
    return true;
}
