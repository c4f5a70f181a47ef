/* dnssec/nsec3.c - hashed denial of existence (RFC 5155, RFC 9276): hashes, base32hex, and
 * the NSEC3 chain with empty non-terminals and opt-out. */
#include "dnssec/dnssec.h"

#include <stdlib.h>
#include <string.h>

static const char nsec3_b32[] = "0123456789abcdefghijklmnopqrstuv";

void kf_dnssec_base32hex(const uint8_t *p, size_t len, char *out)
{
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        acc = (acc << 8) | p[i];
        bits += 8;
        while (bits >= 5) {
            bits -= 5;
            out[o++] = nsec3_b32[(acc >> bits) & 31];
        }
    }
    if (bits > 0) {
        out[o++] = nsec3_b32[(acc << (5 - bits)) & 31];
    }
    out[o] = '\0';
}

kf_result kf_dnssec_base32hex_decode(const char *text, size_t len, uint8_t *out, size_t cap,
                                     size_t *out_len)
{
    KF_ENSURE_REF(text);
    KF_ENSURE_REF(out_len);
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        unsigned v;
        if (c >= '0' && c <= '9') {
            v = (unsigned)(c - '0');
        } else if (c >= 'a' && c <= 'v') {
            v = (unsigned)(c - 'a' + 10);
        } else if (c >= 'A' && c <= 'V') {
            v = (unsigned)(c - 'A' + 10);
        } else {
            KF_BAIL(KF_ERR_MALFORMED);
        }
        acc = (acc << 5) | v;
        bits += 5;
        if (bits >= 8) {
            bits -= 8;
            KF_ENSURE(o < cap, KF_ERR_BUFFER_TOO_SMALL);
            out[o++] = (uint8_t)(acc >> bits);
        }
    }
    /* Leftover bits must be zero padding of fewer than 5 bits... */
    KF_ENSURE(bits < 5 && (acc & ((1u << bits) - 1)) == 0, KF_ERR_MALFORMED);
    *out_len = o;
    return KF_OK;
}

struct nsec3_name {
    uint8_t hash[20];
    uint32_t owner; /* owner index, or UINT32_MAX for an empty non-terminal */
    uint32_t ent;   /* offset of the ENT's name in the ents buffer */
};

static int nsec3_hash_cmp(const void *a, const void *b)
{
    return memcmp(((const struct nsec3_name *)a)->hash, ((const struct nsec3_name *)b)->hash, 20);
}

/* Does the owner enter the NSEC3 chain? */
static bool nsec3_hashed(const struct kf_zone_owner *o, bool opt_out)
{
    if (!(o->flags & KF_OWNER_DATA) || (o->flags & KF_OWNER_OCCLUDED)) {
        return false;
    }
    /* RFC 5155 s7.1: with opt-out, insecure delegations may stay out of the chain. */
    return !(opt_out && (o->flags & KF_OWNER_DELEG) && !(o->flags & KF_OWNER_HAS_DS));
}

struct nsec3_list {
    struct nsec3_name *v;
    size_t n, cap;
    struct kf_buf ents; /* empty non-terminal names, back to back */
};

static kf_result nsec3_push(struct nsec3_list *l, const struct nsec3_name *x)
{
    if (l->n == l->cap) {
        size_t cap = l->cap == 0 ? 1024 : l->cap * 2;
        struct nsec3_name *v = realloc(l->v, cap * sizeof(*v));
        KF_ENSURE(v != NULL, KF_ERR_NOMEM);
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = *x;
    return KF_OK;
}

/*
 * Empty non-terminals: every ancestor of a hashed name, up to the apex, that owns no data
 * itself. Canonical order visits a name's ancestors before the name, so a name's ancestors
 * that are owners are known; ENTs found are deduplicated by hash afterwards.
 */
static kf_result nsec3_add_ents(const struct kf_zone *z, uint32_t o,
                                const struct kf_nsec3_params *p, struct nsec3_list *l)
{
    const uint8_t *name = kf_zone_owner_name(z, o);
    unsigned labels = z->owners[o].labels;
    unsigned apex_labels = kf_dnssec_name_labels(z->origin);
    const uint8_t *anc = name;
    for (unsigned i = labels; i > apex_labels + 1; i--) {
        anc += 1u + *anc; /* the parent */
        uint32_t a = kf_zone_owner_lookup(z, anc);
        if (a != UINT32_MAX && (z->owners[a].flags & KF_OWNER_DATA)) {
            continue; /* a real name: hashed on its own */
        }
        struct nsec3_name x = { .owner = UINT32_MAX, .ent = (uint32_t)l->ents.len };
        size_t len = 0;
        KF_GUARD(kf_dnssec_name_check(anc, KF_DNS_MAX_NAME, &len));
        KF_GUARD(kf_dnssec_nsec3_hash(anc, len, 1, p->salt, p->salt_len, p->iterations, x.hash));
        KF_GUARD(kf_buf_write_bytes(&l->ents, anc, len));
        KF_GUARD(nsec3_push(l, &x));
    }
    return KF_OK;
}

/* Types at a hashed name (RFC 5155 s7.1); an empty non-terminal has none. NSEC3PARAM is
 * added at the apex because the record itself is added only after the chain. */
static void nsec3_types(const struct kf_zone *z, const struct nsec3_name *x, struct kf_typeset *s)
{
    if (x->owner == UINT32_MAX) {
        return;
    }
    kf_dnssec_denial_types(z, x->owner, s);
    if (z->owners[x->owner].flags & KF_OWNER_APEX) {
        kf_typeset_add(s, KF_DNS_NSEC3PARAM);
    }
}

static kf_result nsec3_emit(struct kf_zone *z, const struct kf_nsec3_params *p, uint32_t ttl,
                            struct nsec3_list *l)
{
    struct kf_typeset *set = calloc(1, sizeof(*set));
    uint8_t *rd = malloc(8192 + 600);
    kf_result r = KF_OK;
    if (set == NULL || rd == NULL) {
        free(set);
        free(rd);
        KF_BAIL(KF_ERR_NOMEM);
    }
    for (size_t i = 0; i < l->n && kf_ok(r); i++) {
        const struct nsec3_name *x = &l->v[i];
        const struct nsec3_name *next = &l->v[(i + 1) % l->n];
        kf_typeset_clear(set);
        nsec3_types(z, x, set);
        struct kf_buf b;
        r = kf_buf_init_fixed(&b, rd, 8192 + 600);
        if (kf_ok(r)) {
            r = kf_buf_write_u8(&b, 1); /* SHA-1 */
        }
        if (kf_ok(r)) {
            r = kf_buf_write_u8(&b, p->opt_out ? 1 : 0);
        }
        if (kf_ok(r)) {
            r = kf_buf_write_u16(&b, p->iterations);
        }
        if (kf_ok(r)) {
            r = kf_buf_write_u8(&b, p->salt_len);
        }
        if (kf_ok(r)) {
            r = kf_buf_write_bytes(&b, p->salt, p->salt_len);
        }
        if (kf_ok(r)) {
            r = kf_buf_write_u8(&b, 20);
        }
        if (kf_ok(r)) {
            r = kf_buf_write_bytes(&b, next->hash, 20);
        }
        if (kf_ok(r)) {
            r = kf_dnssec_bitmap_write(set, &b);
        }
        /* Owner: the base32hex hash as one label under the apex. */
        uint8_t owner[KF_DNS_MAX_NAME];
        char label[40];
        kf_dnssec_base32hex(x->hash, 20, label);
        if (kf_ok(r) && 1 + 32 + z->origin_len > KF_DNS_MAX_NAME) {
            kf_err_record(KF_ERR_ZONE_DATA, __FILE__, __LINE__, __func__);
            kf_err_note_context("origin too long for NSEC3 owner names");
            r = (kf_result){ KF_ERR_ZONE_DATA };
        }
        if (kf_ok(r)) {
            owner[0] = 32;
            memcpy(owner + 1, label, 32);
            memcpy(owner + 33, z->origin, z->origin_len);
            r = kf_zone_add(z, owner, KF_DNS_NSEC3, ttl, b.data, b.len, 0);
        }
    }
    free(set);
    free(rd);
    return r;
}

kf_result kf_dnssec_nsec3_build(struct kf_zone *z, const struct kf_nsec3_params *p, uint32_t ttl,
                                size_t *out_count)
{
    KF_ENSURE_REF(z);
    KF_ENSURE_REF(p);
    KF_ENSURE(z->sorted, KF_ERR_INTERNAL);
    struct nsec3_list l = { 0 };
    kf_result r = kf_buf_init_growable(&l.ents, 4096);
    for (size_t rank = 0; rank < z->n_owners && kf_ok(r); rank++) {
        uint32_t o = z->owner_order[rank];
        if (z->owner_first_rrset[rank] == UINT32_MAX || !nsec3_hashed(&z->owners[o], p->opt_out)) {
            continue;
        }
        struct nsec3_name x = { .owner = o };
        const uint8_t *name = kf_zone_owner_name(z, o);
        r = kf_dnssec_nsec3_hash(name, z->owners[o].name_len, 1, p->salt, p->salt_len,
                                 p->iterations, x.hash);
        if (kf_ok(r)) {
            r = nsec3_push(&l, &x);
        }
        if (kf_ok(r)) {
            r = nsec3_add_ents(z, o, p, &l);
        }
    }
    if (kf_ok(r)) {
        qsort(l.v, l.n, sizeof(*l.v), nsec3_hash_cmp);
        /* The same ENT reached from several names: keep one. Two different names with one
         * hash: a SHA-1 collision the zone cannot be signed with (RFC 5155 s7.1). */
        size_t w = 0;
        for (size_t i = 0; i < l.n && kf_ok(r); i++) {
            if (w > 0 && memcmp(l.v[w - 1].hash, l.v[i].hash, 20) == 0) {
                bool both_ent = l.v[w - 1].owner == UINT32_MAX && l.v[i].owner == UINT32_MAX;
                const uint8_t *a = l.ents.data + l.v[w - 1].ent;
                const uint8_t *b = l.ents.data + l.v[i].ent;
                if (both_ent && kf_dnssec_name_cmp(a, b) == 0) {
                    continue;
                }
                kf_err_record(KF_ERR_ZONE_DATA, __FILE__, __LINE__, __func__);
                kf_err_note_context("NSEC3 hash collision: choose another salt");
                r = (kf_result){ KF_ERR_ZONE_DATA };
                break;
            }
            l.v[w++] = l.v[i];
        }
        l.n = w;
    }
    if (kf_ok(r) && l.n > 0) {
        r = nsec3_emit(z, p, ttl, &l);
    }
    if (kf_ok(r)) {
        /* NSEC3PARAM at the apex: flags 0 (opt-out is a property of the NSEC3 records). */
        uint8_t rd[5 + 255];
        rd[0] = 1;
        rd[1] = 0;
        rd[2] = (uint8_t)(p->iterations >> 8);
        rd[3] = (uint8_t)p->iterations;
        rd[4] = p->salt_len;
        memcpy(rd + 5, p->salt, p->salt_len);
        uint8_t apex[KF_DNS_MAX_NAME];
        memcpy(apex, z->origin, z->origin_len);
        r = kf_zone_add(z, apex, KF_DNS_NSEC3PARAM, 0, rd, 5u + p->salt_len, 0);
    }
    if (kf_ok(r) && out_count != NULL) {
        *out_count = l.n;
    }
    free(l.v);
    free(l.ents.data);
    return r;
}
