/* dnssec/verify.c - verifying a whole signed zone: every RRSIG against the DNSKEY set, every
 * authoritative RRset signed, the NSEC or NSEC3 chain complete and ordered, the trust anchor.
 *
 * Order of work per signature (STYLE.md s10): structural checks first, then the signed data
 * once, then the crypto (in batches through kf_dnssec_verify_batch, the one entry point the
 * offload engine will take over), dates last. */
#include "common/kf_log.h"
#include "dnssec/dnssec.h"
#include "offload/offload.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define VERIFY_BATCH 64    /* signatures per kf_dnssec_verify_batch call */
#define VERIFY_MAX_KEYS 64 /* DNSKEYs at the apex considered (a budget: more is bogus) */

struct verify_key {
    uint16_t tag;
    uint8_t alg;
    uint16_t flags;
    struct kf_dnssec_pubkey *pk; /* NULL when the key could not be parsed */
    const uint8_t *rdata;
    size_t rdlen;
    bool signs_keyset; /* has a valid RRSIG over the DNSKEY RRset */
};

enum verify_state {
    VS_PENDING = 0,
    VS_VALID,
    VS_INVALID,
    VS_NO_KEY,
    VS_BAD, /* structurally wrong */
};

struct verify_item {
    uint32_t rrsig_rr; /* index into rrs[] */
    uint32_t covered;  /* rrset index, UINT32_MAX when the covered RRset is absent */
    uint8_t key;       /* first candidate key */
    uint8_t state;
    uint8_t date; /* 0 ok, 1 expired, 2 not yet valid */
};

struct verify_run {
    struct kf_zone *z;
    const struct kf_verify_opts *o;
    struct verify_key keys[VERIFY_MAX_KEYS];
    size_t n_keys;
    struct verify_item *items;
    size_t n_items;
    atomic_size_t next;
    struct kf_verify_result *res;
};

const char *kf_verify_problem_name(enum kf_verify_problem p)
{
    switch (p) {
    case KF_VP_SIG_INVALID:
        return "signature invalid";
    case KF_VP_SIG_EXPIRED:
        return "signature expired";
    case KF_VP_SIG_NOT_YET:
        return "signature not yet valid";
    case KF_VP_NO_KEY:
        return "no DNSKEY for the signature";
    case KF_VP_UNSIGNED:
        return "RRset not signed";
    case KF_VP_BAD_RRSIG:
        return "malformed RRSIG";
    case KF_VP_NSEC_MISSING:
        return "NSEC missing";
    case KF_VP_NSEC_CHAIN:
        return "NSEC chain broken";
    case KF_VP_NSEC_BITMAP:
        return "NSEC type bitmap wrong";
    case KF_VP_NSEC3_MISSING:
        return "NSEC3 missing";
    case KF_VP_NSEC3_CHAIN:
        return "NSEC3 chain broken";
    case KF_VP_NSEC3_BITMAP:
        return "NSEC3 type bitmap wrong";
    case KF_VP_NSEC3_PARAM:
        return "NSEC3 parameters wrong";
    case KF_VP_ANCHOR:
        return "trust anchor does not match";
    case KF_VP_NO_DNSKEY:
        return "no DNSKEY at the apex";
    case KF_VP_NO_CHAIN:
        return "no NSEC or NSEC3 chain";
    }
    return "unknown problem";
}

static kf_result verify_report(struct kf_verify_result *res, uint32_t owner, uint16_t type,
                               uint16_t tag, uint8_t alg, enum kf_verify_problem p,
                               const char *detail)
{
    if (res->n_reports == res->cap_reports) {
        size_t cap = res->cap_reports == 0 ? 16 : res->cap_reports * 2;
        struct kf_verify_report *r = realloc(res->reports, cap * sizeof(*r));
        KF_ENSURE(r != NULL, KF_ERR_NOMEM);
        res->reports = r;
        res->cap_reports = cap;
    }
    struct kf_verify_report *r = &res->reports[res->n_reports++];
    memset(r, 0, sizeof(*r));
    r->owner = owner;
    r->type = type;
    r->key_tag = tag;
    r->alg = alg;
    r->problem = p;
    (void)snprintf(r->detail, sizeof(r->detail), "%s", detail != NULL ? detail : "");
    return KF_OK;
}

void kf_verify_result_cleanup(struct kf_verify_result *r)
{
    if (r != NULL) {
        free(r->reports);
        memset(r, 0, sizeof(*r));
    }
}

/* Should this RRset carry RRSIGs (the rule sign.c follows, RFC 4035 s2.2)? */
static bool verify_must_sign(const struct kf_zone *z, const struct kf_zone_rrset *s)
{
    uint8_t f = z->owners[s->owner].flags;
    if (s->type == KF_DNS_RRSIG || (f & KF_OWNER_OCCLUDED)) {
        return false;
    }
    if (f & KF_OWNER_DELEG) {
        return s->type == KF_DNS_DS || s->type == KF_DNS_NSEC;
    }
    return true;
}

static kf_result verify_load_keys(struct verify_run *v)
{
    struct kf_zone *z = v->z;
    uint32_t apex = kf_zone_owner_lookup(z, z->origin);
    const struct kf_zone_rrset *ks = kf_zone_find(z, apex, KF_DNS_DNSKEY);
    if (ks == NULL) {
        return verify_report(v->res, apex, KF_DNS_DNSKEY, 0, 0, KF_VP_NO_DNSKEY, NULL);
    }
    for (uint32_t i = 0; i < ks->count; i++) {
        const struct kf_zone_rr *rr = &z->rrs[ks->first + i];
        struct kf_dnskey k;
        if (v->n_keys == VERIFY_MAX_KEYS) {
            return verify_report(v->res, apex, KF_DNS_DNSKEY, 0, 0, KF_VP_BAD_RRSIG,
                                 "more DNSKEYs than keyfort checks (64)");
        }
        struct verify_key *vk = &v->keys[v->n_keys];
        memset(vk, 0, sizeof(*vk));
        vk->rdata = kf_zone_rdata(z, rr);
        vk->rdlen = rr->rdlen;
        vk->tag = kf_dnssec_key_tag(vk->rdata, vk->rdlen);
        if (!kf_ok(kf_dnssec_dnskey_parse(vk->rdata, vk->rdlen, &k))) {
            KF_GUARD(verify_report(v->res, apex, KF_DNS_DNSKEY, vk->tag, 0, KF_VP_BAD_RRSIG,
                                   "malformed DNSKEY"));
            continue;
        }
        vk->alg = k.alg;
        vk->flags = k.flags;
        v->n_keys++;
        /* Only zone keys with protocol 3 and not revoked may sign (RFC 4034 s2.1.1, 5011). */
        if (!(k.flags & KF_DNS_DNSKEY_ZONE) || k.protocol != 3 ||
            (k.flags & KF_DNS_DNSKEY_REVOKE)) {
            continue;
        }
        kf_err_mute_begin();
        kf_result r = kf_dnssec_pubkey_new(vk->rdata, vk->rdlen, &vk->pk);
        kf_err_mute_end();
        if (!kf_ok(r)) {
            KF_GUARD(verify_report(v->res, apex, KF_DNS_DNSKEY, vk->tag, k.alg, KF_VP_BAD_RRSIG,
                                   r.code == KF_ERR_UNSUPPORTED ? "unsupported algorithm"
                                                                : "DNSKEY public key malformed"));
        }
    }
    return KF_OK;
}

static int verify_key_for(const struct verify_run *v, uint16_t tag, uint8_t alg, int after)
{
    for (size_t i = (size_t)(after + 1); i < v->n_keys; i++) {
        if (v->keys[i].tag == tag && v->keys[i].alg == alg && v->keys[i].pk != NULL) {
            return (int)i;
        }
    }
    return -1;
}

/* Structural checks of every RRSIG; the ones that pass become items for the crypto. */
/* One item per RRSIG record; the workers plan and check each (verify_item_plan). */
static kf_result verify_plan(struct verify_run *v)
{
    struct kf_zone *z = v->z;
    size_t n = 0;
    for (size_t i = 0; i < z->n_rrsets; i++) {
        if (z->rrsets[i].type == KF_DNS_RRSIG) {
            n += z->rrsets[i].count;
        }
    }
    v->items = calloc(n + 1, sizeof(*v->items));
    KF_ENSURE(v->items != NULL, KF_ERR_NOMEM);
    for (size_t i = 0; i < z->n_rrsets; i++) {
        const struct kf_zone_rrset *s = &z->rrsets[i];
        if (s->type != KF_DNS_RRSIG) {
            continue;
        }
        for (uint32_t j = 0; j < s->count; j++) {
            struct verify_item *it = &v->items[v->n_items++];
            it->rrsig_rr = s->first + j;
            it->covered = UINT32_MAX;
            it->state = VS_PENDING;
        }
    }
    return KF_OK;
}

/*
 * What an item's RRSIG covers, the key it names and whether its dates hold now, into the
 * item; @p sig gets the parsed RRSIG. False if there is nothing to verify (the item's state
 * says why). Done by the workers: it reads each RRSIG for the first time, and a zone's worth
 * of them is tens of megabytes.
 */
static bool verify_item_plan(const struct verify_run *v, struct verify_item *it,
                             struct kf_rrsig *sig)
{
    const struct kf_zone *z = v->z;
    const struct kf_zone_rr *rr = &z->rrs[it->rrsig_rr];
    if (!kf_ok(kf_dnssec_rrsig_parse(kf_zone_rdata(z, rr), rr->rdlen, sig))) {
        it->state = VS_BAD;
        return false;
    }
    const struct kf_zone_rrset *cov = kf_zone_find(z, rr->owner, sig->type_covered);
    if (cov == NULL || sig->labels > z->owners[rr->owner].labels ||
        sig->signer_len != z->origin_len || memcmp(sig->signer, z->origin, z->origin_len) != 0) {
        it->state = VS_BAD;
        return false;
    }
    it->covered = (uint32_t)(cov - z->rrsets);
    int k = verify_key_for(v, sig->key_tag, sig->alg, -1);
    if (k < 0) {
        it->state = VS_NO_KEY;
        return false;
    }
    it->key = (uint8_t)k;
    int64_t inc = kf_dnssec_time_expand(sig->inception, v->o->now);
    int64_t exp = kf_dnssec_time_expand(sig->expiration, v->o->now);
    it->date = v->o->now > exp ? 1 : v->o->now < inc ? 2 : 0;
    return true;
}

struct verify_worker {
    struct verify_run *run;
    struct kf_buf data;
};

/* The signed data of one item, whose RRSIG is @p sig, into w->data at @p at; returns false
 * if it cannot be built. */
static bool verify_build(struct verify_worker *w, const struct verify_item *it,
                         const struct kf_rrsig *sig, size_t *at, size_t *len)
{
    const struct kf_zone *z = w->run->z;
    const struct kf_zone_rr *rr = &z->rrs[it->rrsig_rr];
    *at = w->data.len;
    kf_err_mute_begin();
    kf_result r = kf_dnssec_signed_data(z, &z->rrsets[it->covered], kf_zone_rdata(z, rr),
                                        sig->header_len, sig->labels, sig->orig_ttl, &w->data);
    kf_err_mute_end();
    *len = w->data.len - *at;
    return kf_ok(r);
}

static void verify_chunk(struct verify_worker *w, size_t from, size_t to)
{
    struct verify_run *v = w->run;
    struct kf_dnssec_vjob jobs[VERIFY_BATCH];
    size_t idx[VERIFY_BATCH];
    size_t at[VERIFY_BATCH];
    size_t nj = 0;
    w->data.len = 0;
    for (size_t i = from; i < to; i++) {
        struct verify_item *it = &v->items[i];
        struct kf_rrsig sig;
        if (!verify_item_plan(v, it, &sig)) {
            continue;
        }
        size_t len = 0;
        if (!verify_build(w, it, &sig, &at[nj], &len)) {
            it->state = VS_BAD;
            continue;
        }
        jobs[nj] = (struct kf_dnssec_vjob){
            .key = v->keys[it->key].pk, .data_len = len, .sig = sig.sig, .sig_len = sig.sig_len
        };
        idx[nj++] = i;
    }
    /* The data buffer may have moved while it grew: point the jobs at it only now. */
    for (size_t j = 0; j < nj; j++) {
        jobs[j].data = w->data.data + at[j];
    }
    kf_dnssec_verify_batch(jobs, nj);
    for (size_t j = 0; j < nj; j++) {
        struct verify_item *it = &v->items[idx[j]];
        if (jobs[j].valid) {
            it->state = VS_VALID;
            continue;
        }
        /* A key tag shared by two keys (RFC 4034 Appendix B allows it): try the others. */
        int k = it->key;
        it->state = VS_INVALID;
        while ((k = verify_key_for(v, v->keys[it->key].tag, v->keys[it->key].alg, k)) >= 0) {
            struct kf_dnssec_vjob one = jobs[j];
            one.key = v->keys[k].pk;
            kf_dnssec_verify_batch(&one, 1);
            if (one.valid) {
                it->key = (uint8_t)k;
                it->state = VS_VALID;
                break;
            }
        }
    }
}

static void *verify_worker_main(void *arg)
{
    struct verify_worker *w = arg;
    struct verify_run *v = w->run;
    for (;;) {
        size_t from = atomic_fetch_add(&v->next, VERIFY_BATCH);
        if (from >= v->n_items) {
            break;
        }
        size_t to = from + VERIFY_BATCH < v->n_items ? from + VERIFY_BATCH : v->n_items;
        verify_chunk(w, from, to);
    }
    return NULL;
}

static kf_result verify_crypto(struct verify_run *v)
{
    unsigned nt = kf_dnssec_threads(v->o->threads, v->n_items, VERIFY_BATCH);
    kf_log(KF_LOG_INFO, "dnssec", "verify: %zu signatures on %u threads, offload backend %s",
           v->n_items, nt, kf_offload_backend_name(kf_offload_backend_default()));
    struct verify_worker *w = calloc(nt, sizeof(*w));
    pthread_t *tids = calloc(nt, sizeof(*tids));
    kf_result r = KF_OK;
    unsigned started = 0;
    if (w == NULL || tids == NULL) {
        free(w);
        free(tids);
        KF_BAIL(KF_ERR_NOMEM);
    }
    for (unsigned i = 0; i < nt && kf_ok(r); i++) {
        w[i].run = v;
        r = kf_buf_init_growable(&w[i].data, 1u << 16);
    }
    for (unsigned i = 1; i < nt && kf_ok(r); i++) {
        if (pthread_create(&tids[i], NULL, verify_worker_main, &w[i]) != 0) {
            kf_err_record(KF_ERR_THREAD, __FILE__, __LINE__, __func__);
            r = (kf_result){ KF_ERR_THREAD };
            break;
        }
        started = i;
    }
    /* This thread works too; on a thread failure it finishes the work alone. */
    (void)verify_worker_main(&w[0]);
    for (unsigned i = 1; i <= started; i++) {
        (void)pthread_join(tids[i], NULL);
    }
    for (unsigned i = 0; i < nt; i++) {
        free(w[i].data.data);
    }
    free(w);
    free(tids);
    return kf_ok(r) || r.code == KF_ERR_THREAD ? KF_OK : r;
}

/* Bit of a DNSSEC algorithm in a per-RRset mask of the algorithms that signed it. */
static uint32_t verify_alg_bit(uint8_t alg)
{
    return alg < 32 ? 1u << alg : 0;
}

/*
 * Reports for the RRSIGs, and for authoritative RRsets without a valid one from each
 * algorithm of the DNSKEY RRset (RFC 4035 s2.2, RFC 6840 s5.11: validators may require every
 * algorithm; signers must provide it).
 */
static kf_result verify_signatures(struct verify_run *v)
{
    struct kf_zone *z = v->z;
    uint32_t *ok = calloc(z->n_rrsets + 1, sizeof(*ok));
    uint8_t *seen = calloc(z->n_rrsets + 1, 1); /* has an RRSIG already reported */
    if (ok == NULL || seen == NULL) {
        free(ok);
        free(seen);
        KF_BAIL(KF_ERR_NOMEM);
    }
    uint32_t algs = 0;
    for (size_t k = 0; k < v->n_keys; k++) {
        algs |= v->keys[k].pk != NULL ? verify_alg_bit(v->keys[k].alg) : 0;
    }
    kf_result r = KF_OK;
    for (size_t i = 0; i < v->n_items && kf_ok(r); i++) {
        const struct verify_item *it = &v->items[i];
        v->res->rrsigs_checked++;
        if (it->state == VS_VALID && it->date == 0) {
            ok[it->covered] |= verify_alg_bit(v->keys[it->key].alg);
            if (z->rrsets[it->covered].type == KF_DNS_DNSKEY) {
                v->keys[it->key].signs_keyset = true;
            }
            continue;
        }
        /* Parsed again only to be reported: a zone's worth of RRSIGs is tens of megabytes. */
        const struct kf_zone_rr *rr = &z->rrs[it->rrsig_rr];
        struct kf_rrsig sig = { 0 };
        char d[160] = "";
        bool parsed = kf_ok(kf_dnssec_rrsig_parse(kf_zone_rdata(z, rr), rr->rdlen, &sig));
        enum kf_verify_problem p = KF_VP_BAD_RRSIG;
        if (it->covered != UINT32_MAX) {
            seen[it->covered] = 1;
        }
        if (it->state == VS_VALID) {
            char t[20];
            int64_t when =
                kf_dnssec_time_expand(it->date == 1 ? sig.expiration : sig.inception, v->o->now);
            p = it->date == 1 ? KF_VP_SIG_EXPIRED : KF_VP_SIG_NOT_YET;
            (void)snprintf(d, sizeof(d), "%s %s", it->date == 1 ? "expired at" : "valid from",
                           kf_dnssec_time_to_text(when, t, sizeof(t)));
        } else if (it->state == VS_INVALID) {
            p = KF_VP_SIG_INVALID;
            (void)snprintf(d, sizeof(d), "the signature does not match the RRset");
        } else if (it->state == VS_NO_KEY) {
            p = KF_VP_NO_KEY;
            (void)snprintf(d, sizeof(d), "no usable DNSKEY with tag %u, algorithm %u", sig.key_tag,
                           sig.alg);
        } else if (!parsed) {
            (void)snprintf(d, sizeof(d), "RRSIG RDATA does not parse");
        } else if (it->covered == UINT32_MAX) {
            char t[16];
            (void)snprintf(d, sizeof(d),
                           "covers %s, which has no RRset at this name, or its "
                           "signer name or label count is wrong",
                           kf_dnssec_type_name(sig.type_covered, t, sizeof(t)));
        } else {
            (void)snprintf(d, sizeof(d), "signed data could not be built");
        }
        r = verify_report(v->res, z->rrs[it->rrsig_rr].owner, parsed ? sig.type_covered : 0,
                          sig.key_tag, sig.alg, p, d);
    }
    for (size_t i = 0; i < z->n_rrsets && kf_ok(r); i++) {
        const struct kf_zone_rrset *s = &z->rrsets[i];
        if (!verify_must_sign(z, s)) {
            continue;
        }
        v->res->rrsets_checked++;
        if (ok[i] == 0 && seen[i]) {
            continue; /* its RRSIGs are reported above, each with its reason */
        }
        if (ok[i] == 0) {
            r = verify_report(v->res, s->owner, s->type, 0, 0, KF_VP_UNSIGNED,
                              "no valid RRSIG from a DNSKEY of the zone");
            continue;
        }
        uint32_t missing = algs & ~ok[i];
        for (uint8_t alg = 0; alg < 32 && missing != 0 && kf_ok(r); alg++) {
            if (missing & verify_alg_bit(alg)) {
                char d[160];
                (void)snprintf(d, sizeof(d),
                               "no valid RRSIG of algorithm %u, which the DNSKEY RRset has "
                               "(RFC 4035 s2.2)",
                               alg);
                r = verify_report(v->res, s->owner, s->type, 0, alg, KF_VP_UNSIGNED, d);
            }
        }
    }
    free(ok);
    free(seen);
    return r;
}

static kf_result verify_anchor(struct verify_run *v)
{
    const struct kf_verify_opts *o = v->o;
    struct kf_zone *z = v->z;
    if (o->n_anchor == 0) {
        return KF_OK;
    }
    for (size_t a = 0; a < o->n_anchor; a++) {
        for (size_t k = 0; k < v->n_keys; k++) {
            const struct verify_key *vk = &v->keys[k];
            if (!vk->signs_keyset) {
                continue;
            }
            if (o->anchor_type[a] == KF_DNS_DNSKEY) {
                if (o->anchor_len[a] == vk->rdlen &&
                    memcmp(o->anchor_rdata[a], vk->rdata, vk->rdlen) == 0) {
                    return KF_OK;
                }
                continue;
            }
            struct kf_ds ds;
            if (!kf_ok(kf_dnssec_ds_parse(o->anchor_rdata[a], o->anchor_len[a], &ds)) ||
                ds.key_tag != vk->tag || ds.alg != vk->alg) {
                continue;
            }
            uint8_t mine[128];
            struct kf_buf b;
            KF_GUARD(kf_buf_init_fixed(&b, mine, sizeof(mine)));
            kf_err_mute_begin();
            kf_result r = kf_dnssec_ds_make(z->origin, z->origin_len, vk->rdata, vk->rdlen,
                                            ds.digest_type, &b);
            kf_err_mute_end();
            if (kf_ok(r) && b.len == o->anchor_len[a] &&
                memcmp(mine, o->anchor_rdata[a], b.len) == 0) {
                return KF_OK;
            }
        }
    }
    return verify_report(v->res, kf_zone_owner_lookup(z, z->origin), KF_DNS_DNSKEY, 0, 0,
                         KF_VP_ANCHOR,
                         "no DNSKEY that matches the anchor has a valid signature over the "
                         "DNSKEY RRset");
}

/* ---- denial of existence --------------------------------------------------------------------- */

static bool verify_in_chain(const struct kf_zone_owner *o)
{
    return (o->flags & KF_OWNER_DATA) && !(o->flags & KF_OWNER_OCCLUDED);
}

static kf_result verify_bitmap_diff(const struct kf_typeset *want, const struct kf_typeset *got,
                                    char *d, size_t cap)
{
    size_t o = 0;
    d[0] = '\0';
    for (unsigned t = 0; t < 65536 && o + 40 < cap; t++) {
        bool w = kf_typeset_has(want, (uint16_t)t);
        bool g = kf_typeset_has(got, (uint16_t)t);
        if (w != g) {
            char name[16];
            o += (size_t)snprintf(d + o, cap - o, "%s%s %s", o == 0 ? "" : ", ",
                                  kf_dnssec_type_name((uint16_t)t, name, sizeof(name)),
                                  w ? "missing" : "listed but absent");
        }
    }
    return KF_OK;
}

static kf_result verify_nsec(struct verify_run *v)
{
    struct kf_zone *z = v->z;
    struct kf_typeset *want = calloc(1, sizeof(*want));
    struct kf_typeset *got = calloc(1, sizeof(*got));
    uint32_t *chain = malloc((z->n_owners + 1) * sizeof(*chain));
    kf_result r = KF_OK;
    if (want == NULL || got == NULL || chain == NULL) {
        free(want);
        free(got);
        free(chain);
        KF_BAIL(KF_ERR_NOMEM);
    }
    size_t n = 0;
    for (size_t rank = 0; rank < z->n_owners; rank++) {
        uint32_t o = z->owner_order[rank];
        if (z->owner_first_rrset[rank] == UINT32_MAX) {
            continue;
        }
        if (verify_in_chain(&z->owners[o])) {
            chain[n++] = o;
        } else if (kf_zone_find(z, o, KF_DNS_NSEC) != NULL) {
            r = verify_report(v->res, o, KF_DNS_NSEC, 0, 0, KF_VP_NSEC_CHAIN,
                              "NSEC at a name that is not authoritative (glue or occluded)");
        }
    }
    for (size_t i = 0; i < n && kf_ok(r); i++) {
        uint32_t o = chain[i];
        uint32_t next = chain[(i + 1) % n];
        const struct kf_zone_rrset *s = kf_zone_find(z, o, KF_DNS_NSEC);
        v->res->names_checked++;
        if (s == NULL) {
            r = verify_report(v->res, o, KF_DNS_NSEC, 0, 0, KF_VP_NSEC_MISSING,
                              "authoritative name without NSEC");
            continue;
        }
        const struct kf_zone_rr *rr = &z->rrs[s->first];
        const uint8_t *rd = kf_zone_rdata(z, rr);
        size_t nlen = 0;
        if (s->count != 1 || !kf_ok(kf_dnssec_name_check(rd, rr->rdlen, &nlen)) ||
            !kf_ok(kf_dnssec_bitmap_parse(rd + nlen, rr->rdlen - nlen, got))) {
            r = verify_report(v->res, o, KF_DNS_NSEC, 0, 0, KF_VP_NSEC_CHAIN,
                              "malformed NSEC, or more than one");
            continue;
        }
        if (kf_dnssec_name_cmp(rd, kf_zone_owner_name(z, next)) != 0) {
            char a[1024];
            char b[1024];
            char d[160];
            kf_dnssec_name_to_text(rd, a, sizeof(a));
            kf_dnssec_name_to_text(kf_zone_owner_name(z, next), b, sizeof(b));
            (void)snprintf(d, sizeof(d), "next name %.60s, the zone's next name is %.60s", a, b);
            r = verify_report(v->res, o, KF_DNS_NSEC, 0, 0, KF_VP_NSEC_CHAIN, d);
            continue;
        }
        kf_typeset_clear(want);
        kf_dnssec_denial_types(z, o, want);
        kf_typeset_add(want, KF_DNS_NSEC);
        kf_typeset_add(want, KF_DNS_RRSIG);
        if (!kf_typeset_equal(want, got)) {
            char d[160];
            KF_GUARD(verify_bitmap_diff(want, got, d, sizeof(d)));
            r = verify_report(v->res, o, KF_DNS_NSEC, 0, 0, KF_VP_NSEC_BITMAP, d);
        }
    }
    free(want);
    free(got);
    free(chain);
    return r;
}

struct verify_n3 {
    uint8_t hash[20];
    uint32_t owner; /* the NSEC3 record's owner (index) */
    uint32_t rr;
    bool matched;
};

static int verify_n3_cmp(const void *a, const void *b)
{
    return memcmp(((const struct verify_n3 *)a)->hash, ((const struct verify_n3 *)b)->hash, 20);
}

static struct verify_n3 *verify_n3_find(struct verify_n3 *v, size_t n, const uint8_t h[20])
{
    struct verify_n3 key;
    memcpy(key.hash, h, 20);
    return bsearch(&key, v, n, sizeof(*v), verify_n3_cmp);
}

/* The NSEC3 preceding a hash in the chain: the one that covers it. */
static const struct verify_n3 *verify_n3_cover(const struct verify_n3 *v, size_t n,
                                               const uint8_t h[20])
{
    size_t lo = 0;
    size_t hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (memcmp(v[mid].hash, h, 20) < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo == 0 ? &v[n - 1] : &v[lo - 1];
}

struct verify_n3_ctx {
    struct verify_run *v;
    struct verify_n3 *recs;
    size_t n;
    struct kf_nsec3 param;
    struct kf_typeset *want, *got;
};

/* One name that must be hashed: its NSEC3 exists (bitmap right), or opt-out covers it. */
static kf_result verify_n3_name(struct verify_n3_ctx *c, uint32_t owner, const uint8_t *name,
                                size_t name_len, bool insecure_deleg)
{
    struct verify_run *v = c->v;
    struct kf_zone *z = v->z;
    uint8_t h[20];
    KF_GUARD(kf_dnssec_nsec3_hash(name, name_len, 1, c->param.salt, c->param.salt_len,
                                  c->param.iterations, h));
    v->res->names_checked++;
    struct verify_n3 *m = verify_n3_find(c->recs, c->n, h);
    if (m == NULL) {
        const struct verify_n3 *cov = verify_n3_cover(c->recs, c->n, h);
        struct kf_nsec3 n3;
        const struct kf_zone_rr *rr = &z->rrs[cov->rr];
        if (insecure_deleg &&
            kf_ok(kf_dnssec_nsec3_parse(kf_zone_rdata(z, rr), rr->rdlen, false, &n3)) &&
            (n3.flags & 1)) {
            return KF_OK; /* skipped under an opt-out span (RFC 5155 s6) */
        }
        char b32[40];
        char d[160];
        kf_dnssec_base32hex(h, 20, b32);
        (void)snprintf(d, sizeof(d), "no NSEC3 for this name (hash %s)", b32);
        return verify_report(v->res, owner, KF_DNS_NSEC3, 0, 0, KF_VP_NSEC3_MISSING, d);
    }
    m->matched = true;
    const struct kf_zone_rr *rr = &z->rrs[m->rr];
    struct kf_nsec3 n3;
    if (!kf_ok(kf_dnssec_nsec3_parse(kf_zone_rdata(z, rr), rr->rdlen, false, &n3)) ||
        !kf_ok(kf_dnssec_bitmap_parse(n3.bitmap, n3.bitmap_len, c->got))) {
        return KF_OK; /* reported with the chain */
    }
    kf_typeset_clear(c->want);
    if (owner != UINT32_MAX) {
        kf_dnssec_denial_types(z, owner, c->want);
    }
    if (!kf_typeset_equal(c->want, c->got)) {
        char d[160];
        KF_GUARD(verify_bitmap_diff(c->want, c->got, d, sizeof(d)));
        return verify_report(v->res, owner != UINT32_MAX ? owner : m->owner, KF_DNS_NSEC3, 0, 0,
                             KF_VP_NSEC3_BITMAP, d);
    }
    return KF_OK;
}

/* Collect the NSEC3 records; check parameters, owner form and the chain's next hashes. */
static kf_result verify_n3_collect(struct verify_n3_ctx *c)
{
    struct verify_run *v = c->v;
    struct kf_zone *z = v->z;
    size_t cap = 0;
    for (size_t i = 0; i < z->n_rrsets; i++) {
        cap += z->rrsets[i].type == KF_DNS_NSEC3 ? z->rrsets[i].count : 0;
    }
    c->recs = calloc(cap + 1, sizeof(*c->recs));
    KF_ENSURE(c->recs != NULL, KF_ERR_NOMEM);
    for (size_t i = 0; i < z->n_rrsets; i++) {
        const struct kf_zone_rrset *s = &z->rrsets[i];
        if (s->type != KF_DNS_NSEC3) {
            continue;
        }
        const uint8_t *name = kf_zone_owner_name(z, s->owner);
        const struct kf_zone_rr *rr = &z->rrs[s->first];
        struct kf_nsec3 n3;
        size_t hl = 0;
        struct verify_n3 x = { .owner = s->owner, .rr = s->first };
        bool shape = s->count == 1 &&
                     z->owners[s->owner].labels == kf_dnssec_name_labels(z->origin) + 1 &&
                     kf_ok(kf_dnssec_base32hex_decode((const char *)name + 1, name[0], x.hash,
                                                      sizeof(x.hash), &hl)) &&
                     hl == 20;
        if (!shape || !kf_ok(kf_dnssec_nsec3_parse(kf_zone_rdata(z, rr), rr->rdlen, false, &n3))) {
            KF_GUARD(verify_report(v->res, s->owner, KF_DNS_NSEC3, 0, 0, KF_VP_NSEC3_CHAIN,
                                   "malformed NSEC3 record or owner name"));
            continue;
        }
        if (n3.hash_alg != c->param.hash_alg || n3.iterations != c->param.iterations ||
            n3.salt_len != c->param.salt_len ||
            (n3.salt_len != 0 && memcmp(n3.salt, c->param.salt, n3.salt_len) != 0)) {
            KF_GUARD(verify_report(v->res, s->owner, KF_DNS_NSEC3, 0, 0, KF_VP_NSEC3_PARAM,
                                   "hash, iterations or salt differ from NSEC3PARAM"));
            continue;
        }
        c->recs[c->n++] = x;
    }
    qsort(c->recs, c->n, sizeof(*c->recs), verify_n3_cmp);
    for (size_t i = 0; i < c->n; i++) {
        const struct kf_zone_rr *rr = &z->rrs[c->recs[i].rr];
        struct kf_nsec3 n3;
        (void)kf_ok(kf_dnssec_nsec3_parse(kf_zone_rdata(z, rr), rr->rdlen, false, &n3));
        const uint8_t *want = c->recs[(i + 1) % c->n].hash;
        if (n3.next_len != 20 || memcmp(n3.next, want, 20) != 0) {
            char b32[40];
            char d[160];
            kf_dnssec_base32hex(want, 20, b32);
            (void)snprintf(d, sizeof(d), "next hashed owner should be %s", b32);
            KF_GUARD(
                verify_report(v->res, c->recs[i].owner, KF_DNS_NSEC3, 0, 0, KF_VP_NSEC3_CHAIN, d));
        }
    }
    return KF_OK;
}

static kf_result verify_nsec3_names(struct verify_n3_ctx *c)
{
    struct kf_zone *z = c->v->z;
    unsigned apex_labels = kf_dnssec_name_labels(z->origin);
    for (size_t rank = 0; rank < z->n_owners; rank++) {
        uint32_t o = z->owner_order[rank];
        const struct kf_zone_owner *ow = &z->owners[o];
        if (z->owner_first_rrset[rank] == UINT32_MAX || !verify_in_chain(ow)) {
            continue;
        }
        bool insecure = (ow->flags & KF_OWNER_DELEG) && !(ow->flags & KF_OWNER_HAS_DS);
        const uint8_t *name = kf_zone_owner_name(z, o);
        KF_GUARD(verify_n3_name(c, o, name, ow->name_len, insecure));
        /* Empty non-terminals above it (each checked once per child; cheap enough). */
        const uint8_t *anc = name;
        for (unsigned i = ow->labels; i > apex_labels + 1; i--) {
            anc += 1u + *anc;
            uint32_t a = kf_zone_owner_lookup(z, anc);
            if (a != UINT32_MAX && (z->owners[a].flags & KF_OWNER_DATA)) {
                break; /* a real name: checked on its own, and so are its ancestors */
            }
            size_t len = 0;
            KF_GUARD(kf_dnssec_name_check(anc, KF_DNS_MAX_NAME, &len));
            KF_GUARD(verify_n3_name(c, UINT32_MAX, anc, len, insecure));
        }
    }
    for (size_t i = 0; i < c->n; i++) {
        if (!c->recs[i].matched) {
            KF_GUARD(verify_report(c->v->res, c->recs[i].owner, KF_DNS_NSEC3, 0, 0,
                                   KF_VP_NSEC3_CHAIN, "NSEC3 whose hash matches no name"));
        }
    }
    return KF_OK;
}

static kf_result verify_nsec3(struct verify_run *v, const struct kf_zone_rrset *param_set)
{
    struct kf_zone *z = v->z;
    struct verify_n3_ctx c = { .v = v };
    const struct kf_zone_rr *prr = &z->rrs[param_set->first];
    if (!kf_ok(kf_dnssec_nsec3_parse(kf_zone_rdata(z, prr), prr->rdlen, true, &c.param)) ||
        c.param.hash_alg != 1) {
        return verify_report(v->res, param_set->owner, KF_DNS_NSEC3PARAM, 0, 0, KF_VP_NSEC3_PARAM,
                             "malformed NSEC3PARAM or unknown hash");
    }
    c.want = calloc(1, sizeof(*c.want));
    c.got = calloc(1, sizeof(*c.got));
    kf_result r = KF_OK;
    if (c.want == NULL || c.got == NULL) {
        kf_err_record(KF_ERR_NOMEM, __FILE__, __LINE__, __func__);
        r = (kf_result){ KF_ERR_NOMEM };
    }
    if (kf_ok(r)) {
        r = verify_n3_collect(&c);
    }
    if (kf_ok(r) && c.n == 0) {
        r = verify_report(v->res, param_set->owner, KF_DNS_NSEC3, 0, 0, KF_VP_NSEC3_MISSING,
                          "NSEC3PARAM but no NSEC3 records");
    } else if (kf_ok(r)) {
        r = verify_nsec3_names(&c);
    }
    free(c.recs);
    free(c.want);
    free(c.got);
    return r;
}

/* Milliseconds since @p t0, and @p t0 moved to now: the phase timings KEYFORT_LOG=info shows. */
static double verify_ms(struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    double ms = (double)(t.tv_sec - t0->tv_sec) * 1e3 + (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
    *t0 = t;
    return ms;
}

/* The denial-of-existence check: NSEC or NSEC3 chain, whichever the apex has. It needs only
 * the sorted, analysed zone and writes only its own result, so it runs beside the signature
 * checks (below). */
struct verify_chain {
    struct verify_run run; /* z, o and res (the chain's own result) only */
    struct kf_verify_result res;
    kf_result r;
    double ms;
};

static void *verify_chain_main(void *arg)
{
    struct verify_chain *c = arg;
    struct verify_run *v = &c->run;
    struct kf_zone *z = v->z;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    uint32_t apex = kf_zone_owner_lookup(z, z->origin);
    const struct kf_zone_rrset *p = kf_zone_find(z, apex, KF_DNS_NSEC3PARAM);
    if (p != NULL) {
        c->res.nsec3 = true;
        c->r = verify_nsec3(v, p);
    } else if (kf_zone_find(z, apex, KF_DNS_NSEC) != NULL) {
        c->r = verify_nsec(v);
    } else {
        c->r = verify_report(&c->res, apex, 0, 0, 0, KF_VP_NO_CHAIN,
                             "the apex has neither NSEC nor NSEC3PARAM");
    }
    c->ms = verify_ms(&t0);
    return NULL;
}

/* The chain's reports after the ones before them, as if it had run last. */
static kf_result verify_chain_merge(struct kf_verify_result *out, struct verify_chain *c)
{
    out->nsec3 = c->res.nsec3;
    out->names_checked += c->res.names_checked;
    kf_result r = c->r;
    for (size_t i = 0; i < c->res.n_reports && kf_ok(r); i++) {
        const struct kf_verify_report *rep = &c->res.reports[i];
        r = verify_report(out, rep->owner, rep->type, rep->key_tag, rep->alg, rep->problem,
                          rep->detail);
    }
    kf_verify_result_cleanup(&c->res);
    return r;
}

kf_result kf_dnssec_verify_zone(struct kf_zone *z, const struct kf_verify_opts *o,
                                struct kf_verify_result *out)
{
    KF_ENSURE_REF(z);
    KF_ENSURE_REF(o);
    KF_ENSURE_REF(out);
    memset(out, 0, sizeof(*out));
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    KF_GUARD(kf_zone_sort(z));
    KF_GUARD(kf_zone_analyse(z));
    kf_log(KF_LOG_INFO, "dnssec", "verify: zone sorted and analysed: %.0f ms", verify_ms(&t0));
    struct verify_run v = { .z = z, .o = o, .res = out };
    atomic_init(&v.next, 0);
    kf_result r = verify_load_keys(&v);
    if (kf_ok(r)) {
        r = verify_plan(&v);
        kf_log(KF_LOG_INFO, "dnssec", "verify: keys loaded, RRSIGs listed: %.0f ms",
               verify_ms(&t0));
    }
    /* The chain check runs on a thread of its own while the signatures are checked: it is
     * serial work (about 15 ms for 110,000 names), and beside the signature workers it fills
     * the gaps instead of adding to the wall time. Its reports still come last. With one
     * thread asked for (or the thread failing to start), it runs here afterwards. */
    struct verify_chain *chain = calloc(1, sizeof(*chain));
    bool chain_started = false;
    if (chain == NULL && kf_ok(r)) {
        r = (kf_result){ KF_ERR_NOMEM };
    }
    if (kf_ok(r)) {
        chain->run.z = z;
        chain->run.o = o;
        chain->run.res = &chain->res;
        pthread_t chain_tid;
        chain_started = kf_dnssec_threads(o->threads, v.n_items, VERIFY_BATCH) > 1 &&
                        pthread_create(&chain_tid, NULL, verify_chain_main, chain) == 0;
        r = verify_crypto(&v);
        kf_log(KF_LOG_INFO, "dnssec", "verify: signatures checked: %.0f ms", verify_ms(&t0));
        if (chain_started) {
            (void)pthread_join(chain_tid, NULL);
        } else {
            (void)verify_chain_main(chain);
        }
    }
    if (kf_ok(r)) {
        r = verify_signatures(&v);
    }
    if (kf_ok(r)) {
        r = verify_anchor(&v);
    }
    if (kf_ok(r)) {
        r = verify_chain_merge(out, chain);
    }
    if (chain != NULL) {
        kf_verify_result_cleanup(&chain->res);
        kf_log(KF_LOG_INFO, "dnssec",
               "verify: coverage and anchor: %.0f ms; denial chain (beside the signatures): %.0f "
               "ms",
               verify_ms(&t0), chain->ms);
        free(chain);
    }
    for (size_t k = 0; k < v.n_keys; k++) {
        kf_dnssec_pubkey_free(v.keys[k].pk);
    }
    free(v.items);
    if (!kf_ok(r)) {
        kf_verify_result_cleanup(out);
    }
    return r;
}
