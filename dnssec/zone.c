/* dnssec/zone.c - a zone in memory: reading it with libzscanner, owners, records.
 *
 * Records live in one arena (offsets, not pointers, so it can grow) and refer to interned
 * owners. Everything is stored in canonical form, so signing and verifying never lower-case
 * again. */
#include "dnssec/dnssec.h"

#include <libzscanner/scanner.h>
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
    size_t start = out->len;
    while (n > 0) {
        const uint8_t *l = name + off[--n];
        for (uint8_t i = 1; i <= l[0]; i++) {
            if (l[i] <= 1) {
                KF_GUARD(kf_buf_write_u8(out, 1));
                KF_GUARD(kf_buf_write_u8(out, (uint8_t)(l[i] + 1)));
            } else {
                KF_GUARD(kf_buf_write_u8(out, l[i]));
            }
        }
        KF_GUARD(kf_buf_write_u8(out, 0));
    }
    *out_len = (uint16_t)(out->len - start);
    return KF_OK;
}

static kf_result zone_grow_hash(struct kf_zone *z)
{
    size_t cap = z->hash_cap == 0 ? 1024 : z->hash_cap * 2;
    uint32_t *h = calloc(cap, sizeof(*h));
    KF_ENSURE(h != NULL, KF_ERR_NOMEM);
    for (size_t i = 0; i < z->n_owners; i++) {
        const struct kf_zone_owner *o = &z->owners[i];
        size_t slot = zone_hash(z->arena.data + o->name, o->name_len) & (cap - 1);
        while (h[slot] != 0) {
            slot = (slot + 1) & (cap - 1);
        }
        h[slot] = (uint32_t)i + 1;
    }
    free(z->owner_hash);
    z->owner_hash = h;
    z->hash_cap = cap;
    return KF_OK;
}

uint32_t kf_zone_owner_lookup(const struct kf_zone *z, const uint8_t *name)
{
    if (z->hash_cap == 0) {
        return UINT32_MAX;
    }
    size_t len = 0;
    if (!kf_ok(kf_dnssec_name_check(name, KF_DNS_MAX_NAME, &len))) {
        return UINT32_MAX;
    }
    size_t slot = zone_hash(name, len) & (z->hash_cap - 1);
    while (z->owner_hash[slot] != 0) {
        uint32_t i = z->owner_hash[slot] - 1;
        const struct kf_zone_owner *o = &z->owners[i];
        if (o->name_len == len && memcmp(z->arena.data + o->name, name, len) == 0) {
            return i;
        }
        slot = (slot + 1) & (z->hash_cap - 1);
    }
    return UINT32_MAX;
}

/* The index of a lower-case owner, added when new. */
static kf_result zone_intern(struct kf_zone *z, const uint8_t *name, uint32_t *out)
{
    uint32_t found = kf_zone_owner_lookup(z, name);
    if (found != UINT32_MAX) {
        *out = found;
        return KF_OK;
    }
    size_t len = 0;
    KF_GUARD(kf_dnssec_name_check(name, KF_DNS_MAX_NAME, &len));
    if ((z->n_owners + 1) * 2 > z->hash_cap) {
        KF_GUARD(zone_grow_hash(z));
    }
    if (z->n_owners == z->cap_owners) {
        size_t cap = z->cap_owners == 0 ? 1024 : z->cap_owners * 2;
        struct kf_zone_owner *o = realloc(z->owners, cap * sizeof(*o));
        KF_ENSURE(o != NULL, KF_ERR_NOMEM);
        z->owners = o;
        z->cap_owners = cap;
    }
    KF_ENSURE(z->arena.len + 3 * len + 4 < KF_ZONE_MAX_ARENA, KF_ERR_TOO_LARGE);
    struct kf_zone_owner o = { 0 };
    o.name = (uint32_t)z->arena.len;
    o.name_len = (uint8_t)len;
    o.labels = (uint8_t)kf_dnssec_name_labels(name);
    KF_GUARD(kf_buf_write_bytes(&z->arena, name, len));
    o.key = (uint32_t)z->arena.len;
    KF_GUARD(zone_sort_key(name, &z->arena, &o.key_len));
    uint32_t idx = (uint32_t)z->n_owners++;
    z->owners[idx] = o;
    size_t slot = zone_hash(name, len) & (z->hash_cap - 1);
    while (z->owner_hash[slot] != 0) {
        slot = (slot + 1) & (z->hash_cap - 1);
    }
    z->owner_hash[slot] = idx + 1;
    *out = idx;
    return KF_OK;
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
    KF_GUARD(zone_intern(z, owner, &idx));
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

/* ---- reading ----------------------------------------------------------------------------------
 */

struct zone_load {
    struct kf_zone *z;
    kf_result res;
    char origin_text[1024];
};

static void zone_load_fail(zs_scanner_t *s, struct zone_load *l, int32_t code, const char *why)
{
    kf_err_record(code, __FILE__, __LINE__, __func__);
    kf_err_note_context("%s:%llu: %s", l->z->file, (unsigned long long)s->line_counter, why);
    l->res = (kf_result){ code };
    s->state = ZS_STATE_STOP;
}

static void zone_load_record(zs_scanner_t *s)
{
    struct zone_load *l = s->process.data;
    struct kf_zone *z = l->z;
    char why[1400];
    if (!kf_ok(l->res)) {
        s->state = ZS_STATE_STOP;
        return;
    }
    if (s->r_class != KF_DNS_CLASS_IN) {
        (void)snprintf(why, sizeof(why), "class %u is not IN", s->r_class);
        zone_load_fail(s, l, KF_ERR_ZONE_DATA, why);
        return;
    }
    uint8_t owner[KF_DNS_MAX_NAME];
    memcpy(owner, s->r_owner, s->r_owner_length);
    kf_dnssec_name_lower(owner);
    if (!kf_dnssec_name_is_sub(owner, z->origin)) {
        char name[1024];
        (void)snprintf(why, sizeof(why), "%s is outside the zone %s",
                       kf_dnssec_name_to_text(owner, name, sizeof(name)), l->origin_text);
        zone_load_fail(s, l, KF_ERR_ZONE_DATA, why);
        return;
    }
    /* Canonical RDATA in place (the scanner's buffer is ours until the next record). */
    kf_result r = kf_dnssec_rdata_canonicalise(s->r_type, s->r_data, s->r_data_length);
    if (kf_ok(r)) {
        r = kf_zone_add(z, owner, s->r_type, s->r_ttl, s->r_data, s->r_data_length,
                        (uint32_t)s->line_counter);
    }
    if (!kf_ok(r)) {
        char name[16];
        (void)snprintf(why, sizeof(why), "%s record: %s",
                       kf_dnssec_type_name(s->r_type, name, sizeof(name)), kf_err_str(r.code));
        zone_load_fail(s, l, r.code, why);
    }
}

static void zone_load_error(zs_scanner_t *s)
{
    struct zone_load *l = s->process.data;
    if (!kf_ok(l->res)) {
        s->state = ZS_STATE_STOP;
        return;
    }
    char why[256];
    (void)snprintf(why, sizeof(why), "%s", zs_strerror(s->error.code));
    zone_load_fail(s, l, KF_ERR_ZONE_SYNTAX, why);
}

static kf_result zone_load(zs_scanner_t *s, struct zone_load *l)
{
    KF_ENSURE(zs_set_processing(s, zone_load_record, zone_load_error, l) == 0, KF_ERR_INTERNAL);
    int rc = zs_parse_all(s);
    KF_GUARD(l->res);
    if (rc != 0) {
        /* An error the callbacks did not see: a file that cannot be read, say. */
        char why[256];
        (void)snprintf(why, sizeof(why), "%s", zs_strerror(s->error.code));
        zone_load_fail(s, l, KF_ERR_ZONE_SYNTAX, why);
        return l->res;
    }
    return KF_OK;
}

static kf_result zone_prepare(struct kf_zone *z, const char *origin, const char *name,
                              struct zone_load *l)
{
    memset(z, 0, sizeof(*z));
    KF_GUARD(kf_buf_init_growable(&z->arena, 1u << 20));
    z->file = strdup(name);
    KF_ENSURE(z->file != NULL, KF_ERR_NOMEM);
    if (!kf_ok(kf_dnssec_name_from_text(origin, z->origin, &z->origin_len))) {
        kf_err_note_context("origin \"%s\" is not a domain name", origin);
        KF_BAIL(KF_ERR_INVALID_ARG);
    }
    kf_dnssec_name_lower(z->origin);
    l->z = z;
    l->res = KF_OK;
    kf_dnssec_name_to_text(z->origin, l->origin_text, sizeof(l->origin_text));
    return KF_OK;
}

static kf_result zone_load_with(struct kf_zone *z, const char *origin, const char *name,
                                const char *path, const char *text, size_t len)
{
    struct zone_load l;
    kf_result r = zone_prepare(z, origin, name, &l);
    if (!kf_ok(r)) {
        kf_zone_cleanup(z);
        return r;
    }
    /* The scanner is about 300 KiB: never on the stack. */
    zs_scanner_t *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        kf_zone_cleanup(z);
        KF_BAIL(KF_ERR_NOMEM);
    }
    if (zs_init(s, l.origin_text, KF_DNS_CLASS_IN, 3600) != 0) {
        free(s);
        kf_zone_cleanup(z);
        KF_BAIL(KF_ERR_NOMEM);
    }
    int set = path != NULL ? zs_set_input_file(s, path) : zs_set_input_string(s, text, len);
    if (set != 0) {
        kf_err_record(KF_ERR_FILE_OPEN, __FILE__, __LINE__, __func__);
        kf_err_note_context("%s: %s", name, zs_strerror(s->error.code));
        r = (kf_result){ KF_ERR_FILE_OPEN };
    } else {
        r = zone_load(s, &l);
    }
    zs_deinit(s);
    free(s);
    if (!kf_ok(r)) {
        kf_zone_cleanup(z);
    }
    return r;
}

kf_result kf_zone_load_file(const char *path, const char *origin, struct kf_zone *out)
{
    KF_ENSURE_REF(path);
    KF_ENSURE_REF(origin);
    KF_ENSURE_REF(out);
    return zone_load_with(out, origin, path, path, NULL, 0);
}

kf_result kf_zone_load_string(const char *text, size_t len, const char *origin, const char *name,
                              struct kf_zone *out)
{
    KF_ENSURE_REF(text);
    KF_ENSURE_REF(origin);
    KF_ENSURE_REF(out);
    return zone_load_with(out, origin, name != NULL ? name : "(string)", NULL, text, len);
}
