/* dnssec/sign.c - signing a zone: keys in, chain built, every authoritative RRset signed in
 * parallel, results added back in a fixed order so the output does not depend on threads. */
#include "common/kf_log.h"
#include "dnssec/dnssec.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static bool sign_drop_old(const struct kf_zone_rr *rr, void *arg)
{
    (void)arg;
    return rr->type == KF_DNS_RRSIG || rr->type == KF_DNS_NSEC || rr->type == KF_DNS_NSEC3 ||
           rr->type == KF_DNS_NSEC3PARAM;
}

/* One signature to make: an RRset (index into rrsets[]) and a key. */
struct sign_job {
    uint32_t rrset;
    uint16_t key;
    bool reuse;        /* an RRSIG of the previous version is kept */
    uint32_t reuse_rr; /* ... this one: index into previous->rrs[] */
};

/* A finished RRSIG RDATA: where it is in its thread's output buffer. */
struct sign_out {
    uint32_t off;
    uint16_t len;
    uint8_t worker;
};

#define SIGN_MAX_THREADS 64
#define SIGN_CHUNK 64 /* jobs taken at once: keeps the shared counter cool */

struct sign_run {
    struct kf_zone *z;
    const struct kf_sign_opts *o;
    struct sign_job *jobs;
    struct sign_out *outs;
    size_t n_jobs;
    size_t n_rrsets; /* RRsets with at least one job */
    size_t n_reused; /* jobs that keep the previous version's RRSIG */
    bool key_in_previous[16];
    atomic_size_t next;
    atomic_bool failed;
    pthread_mutex_t err_lock; /* guards err_* : the first failure wins */
    int32_t err_code;
    char err_text[512];
};

struct sign_worker {
    struct sign_run *run;
    unsigned id;
    struct kf_buf out;  /* RRSIG RDATA of this worker's jobs */
    struct kf_buf data; /* signed data, reused per job */
    struct kf_dnssec_signer *signers[16];
};

static uint32_t sign_jitter(const struct kf_zone *z, const struct kf_zone_rrset *s, uint32_t max)
{
    if (max == 0) {
        return 0;
    }
    /* Deterministic spread from the owner and type: re-signing the same zone gives the same
     * output, and a zone's signatures still expire over a window rather than all at once. */
    uint32_t h = 2166136261u;
    const uint8_t *n = kf_zone_owner_name(z, s->owner);
    for (size_t i = 0; i < z->owners[s->owner].name_len; i++) {
        h = (h ^ n[i]) * 16777619u;
    }
    h = (h ^ s->type) * 16777619u;
    return h % (max + 1);
}

/* RRSIG RDATA for one job, appended to w->out. */
static kf_result sign_one(struct sign_worker *w, const struct sign_job *j, struct sign_out *out)
{
    struct sign_run *run = w->run;
    const struct kf_zone *z = run->z;
    const struct kf_zone_rrset *s = &z->rrsets[j->rrset];
    const struct kf_dnssec_key *k = &run->o->keys[j->key];
    const struct kf_zone_owner *ow = &z->owners[s->owner];
    const uint8_t *owner = kf_zone_owner_name(z, s->owner);
    /* RFC 4034 s3.1.3: labels without the root and without a leading "*". */
    uint8_t labels = ow->labels;
    if (owner[0] == 1 && owner[1] == '*') {
        labels--;
    }
    uint32_t exp = (uint32_t)(run->o->expiration - sign_jitter(z, s, run->o->jitter));
    size_t start = w->out.len;
    KF_ENSURE(start + 2048 < UINT32_MAX, KF_ERR_TOO_LARGE);
    KF_GUARD(kf_buf_write_u16(&w->out, s->type));
    KF_GUARD(kf_buf_write_u8(&w->out, k->alg));
    KF_GUARD(kf_buf_write_u8(&w->out, labels));
    KF_GUARD(kf_buf_write_u32(&w->out, s->ttl));
    KF_GUARD(kf_buf_write_u32(&w->out, exp));
    KF_GUARD(kf_buf_write_u32(&w->out, (uint32_t)run->o->inception));
    KF_GUARD(kf_buf_write_u16(&w->out, k->tag));
    KF_GUARD(kf_buf_write_bytes(&w->out, z->origin, z->origin_len));
    size_t header_len = w->out.len - start;
    w->data.len = 0;
    KF_GUARD(
        kf_dnssec_signed_data(z, s, w->out.data + start, header_len, labels, s->ttl, &w->data));
    KF_GUARD(kf_dnssec_signer_sign(w->signers[j->key], w->data.data, w->data.len, &w->out));
    out->off = (uint32_t)start;
    out->len = (uint16_t)(w->out.len - start);
    out->worker = (uint8_t)w->id;
    return KF_OK;
}

static void sign_fail(struct sign_run *run, kf_result r)
{
    char text[512];
    kf_err_describe(text, sizeof(text));
    pthread_mutex_lock(&run->err_lock);
    if (!atomic_load(&run->failed)) {
        run->err_code = r.code;
        (void)snprintf(run->err_text, sizeof(run->err_text), "%s", text);
        atomic_store(&run->failed, true);
    }
    pthread_mutex_unlock(&run->err_lock);
}

static void *sign_worker_main(void *arg)
{
    struct sign_worker *w = arg;
    struct sign_run *run = w->run;
    while (!atomic_load_explicit(&run->failed, memory_order_relaxed)) {
        size_t at = atomic_fetch_add(&run->next, SIGN_CHUNK);
        if (at >= run->n_jobs) {
            break;
        }
        size_t end = at + SIGN_CHUNK < run->n_jobs ? at + SIGN_CHUNK : run->n_jobs;
        for (size_t i = at; i < end; i++) {
            if (run->jobs[i].reuse) {
                continue;
            }
            kf_result r = sign_one(w, &run->jobs[i], &run->outs[i]);
            if (!kf_ok(r)) {
                kf_err_add_context("signing job %zu", i);
                sign_fail(run, r);
                return NULL;
            }
        }
    }
    return NULL;
}

static kf_result sign_worker_init(struct sign_worker *w, struct sign_run *run, unsigned id)
{
    memset(w, 0, sizeof(*w));
    w->run = run;
    w->id = id;
    KF_GUARD(kf_buf_init_growable(&w->out, 1u << 20));
    KF_GUARD(kf_buf_init_growable(&w->data, 1u << 16));
    for (size_t k = 0; k < run->o->n_keys; k++) {
        const struct kf_dnssec_key *key = &run->o->keys[k];
        KF_GUARD(kf_dnssec_signer_new(key->pkey, key->alg, run->o->libctx, &w->signers[k]));
    }
    return KF_OK;
}

static void sign_worker_cleanup(struct sign_worker *w)
{
    for (size_t k = 0; k < 16; k++) {
        kf_dnssec_signer_free(w->signers[k]);
    }
    free(w->out.data); /* public data: no wipe needed */
    free(w->data.data);
}

/* Same owner, type, TTL and RDATA in both zones (both sorted, so RDATA in the same order). */
static bool sign_same_rrset(const struct kf_zone *z, const struct kf_zone_rrset *s,
                            const struct kf_zone *p, const struct kf_zone_rrset *ps)
{
    if (ps->count != s->count || ps->ttl != s->ttl) {
        return false;
    }
    for (uint32_t i = 0; i < s->count; i++) {
        const struct kf_zone_rr *a = &z->rrs[s->first + i];
        const struct kf_zone_rr *b = &p->rrs[ps->first + i];
        if (a->rdlen != b->rdlen ||
            memcmp(kf_zone_rdata(z, a), kf_zone_rdata(p, b), a->rdlen) != 0) {
            return false;
        }
    }
    return true;
}

/*
 * The RRSIG of the previous version to keep for (@p s, key @p k), if any: the RRset is
 * unchanged, the key is the same DNSKEY (tag, algorithm, and its RDATA published in the
 * previous version), and the signature's window holds now and @p refresh seconds more.
 */
static bool sign_find_reuse(const struct sign_run *run, const struct kf_zone_rrset *s, size_t k,
                            uint32_t *out_rr)
{
    const struct kf_sign_opts *o = run->o;
    const struct kf_zone *z = run->z;
    const struct kf_zone *p = o->previous;
    const struct kf_dnssec_key *key = &o->keys[k];
    if (p == NULL || !run->key_in_previous[k]) {
        return false;
    }
    uint32_t po = kf_zone_owner_lookup(p, kf_zone_owner_name(z, s->owner));
    const struct kf_zone_rrset *ps = po == UINT32_MAX ? NULL : kf_zone_find(p, po, s->type);
    const struct kf_zone_rrset *sigs = ps == NULL ? NULL : kf_zone_find(p, po, KF_DNS_RRSIG);
    if (sigs == NULL || !sign_same_rrset(z, s, p, ps)) {
        return false;
    }
    for (uint32_t i = 0; i < sigs->count; i++) {
        const struct kf_zone_rr *rr = &p->rrs[sigs->first + i];
        struct kf_rrsig sig;
        if (!kf_ok(kf_dnssec_rrsig_parse(kf_zone_rdata(p, rr), rr->rdlen, &sig))) {
            continue;
        }
        int64_t inc = kf_dnssec_time_expand(sig.inception, o->now);
        int64_t exp = kf_dnssec_time_expand(sig.expiration, o->now);
        if (sig.type_covered == s->type && sig.alg == key->alg && sig.key_tag == key->tag &&
            sig.orig_ttl == s->ttl && sig.signer_len == z->origin_len &&
            memcmp(sig.signer, z->origin, z->origin_len) == 0 && inc <= o->now &&
            exp - o->now >= (int64_t)o->refresh) {
            *out_rr = sigs->first + i;
            return true;
        }
    }
    return false;
}

/* Which keys of this run were already published in the previous version. */
static void sign_keys_in_previous(struct sign_run *run)
{
    const struct kf_zone *p = run->o->previous;
    if (p == NULL) {
        return;
    }
    const struct kf_zone_rrset *ks =
        kf_zone_find(p, kf_zone_owner_lookup(p, p->origin), KF_DNS_DNSKEY);
    for (size_t k = 0; ks != NULL && k < run->o->n_keys; k++) {
        const struct kf_dnssec_key *key = &run->o->keys[k];
        for (uint32_t i = 0; i < ks->count; i++) {
            const struct kf_zone_rr *rr = &p->rrs[ks->first + i];
            if (rr->rdlen == key->dnskey_len &&
                memcmp(kf_zone_rdata(p, rr), key->dnskey, key->dnskey_len) == 0) {
                run->key_in_previous[k] = true;
            }
        }
    }
}

/* Which RRsets are signed, and by which keys (RFC 4035 s2.2). */
static kf_result sign_plan(struct sign_run *run)
{
    struct kf_zone *z = run->z;
    const struct kf_sign_opts *o = run->o;
    size_t cap = z->n_rrsets * 2 + 16;
    run->jobs = malloc(cap * sizeof(*run->jobs));
    KF_ENSURE(run->jobs != NULL, KF_ERR_NOMEM);
    size_t n = 0;
    for (size_t i = 0; i < z->n_rrsets; i++) {
        const struct kf_zone_rrset *s = &z->rrsets[i];
        uint8_t f = z->owners[s->owner].flags;
        if (s->type == KF_DNS_RRSIG || (f & KF_OWNER_OCCLUDED)) {
            continue; /* glue and occluded data are not signed */
        }
        if ((f & KF_OWNER_DELEG) && s->type != KF_DNS_DS && s->type != KF_DNS_NSEC) {
            continue; /* at a zone cut only DS and NSEC are the parent's to sign */
        }
        bool keyset =
            s->type == KF_DNS_DNSKEY || s->type == KF_DNS_CDS || s->type == KF_DNS_CDNSKEY;
        size_t before = n;
        for (size_t k = 0; k < o->n_keys; k++) {
            if (keyset ? o->keys[k].sign_dnskey : o->keys[k].sign_other) {
                if (n == cap) {
                    cap *= 2;
                    struct sign_job *j = realloc(run->jobs, cap * sizeof(*j));
                    KF_ENSURE(j != NULL, KF_ERR_NOMEM);
                    run->jobs = j;
                }
                struct sign_job *j = &run->jobs[n++];
                j->rrset = (uint32_t)i;
                j->key = (uint16_t)k;
                j->reuse = sign_find_reuse(run, s, k, &j->reuse_rr);
                run->n_reused += j->reuse;
            }
        }
        run->n_rrsets += n > before;
    }
    run->n_jobs = n;
    run->outs = calloc(n + 1, sizeof(*run->outs));
    KF_ENSURE(run->outs != NULL, KF_ERR_NOMEM);
    return KF_OK;
}

static kf_result sign_add_keys(struct kf_zone *z, const struct kf_sign_opts *o)
{
    /* The SOA's TTL without sorting first (the zone is checked for one SOA later). */
    uint32_t soa_ttl = 0;
    uint32_t apex_owner = kf_zone_owner_lookup(z, z->origin);
    for (size_t i = 0; i < z->n_rrs; i++) {
        if (z->rrs[i].owner == apex_owner && z->rrs[i].type == KF_DNS_SOA) {
            soa_ttl = z->rrs[i].ttl;
            break;
        }
    }
    uint32_t ttl = o->dnskey_ttl != 0 ? o->dnskey_ttl : soa_ttl;
    uint8_t apex[KF_DNS_MAX_NAME];
    memcpy(apex, z->origin, z->origin_len);
    for (size_t k = 0; k < o->n_keys; k++) {
        const struct kf_dnssec_key *key = &o->keys[k];
        KF_GUARD(kf_zone_add(z, apex, KF_DNS_DNSKEY, ttl, key->dnskey, key->dnskey_len, 0));
        if (o->cds && (key->flags & KF_DNS_DNSKEY_SEP)) {
            /* RFC 7344: CDS/CDNSKEY tell the parent which DS to publish. */
            uint8_t ds[128];
            struct kf_buf b;
            KF_GUARD(kf_buf_init_fixed(&b, ds, sizeof(ds)));
            KF_GUARD(kf_dnssec_ds_make(apex, z->origin_len, key->dnskey, key->dnskey_len,
                                       KF_DNS_DS_SHA256, &b));
            KF_GUARD(kf_zone_add(z, apex, KF_DNS_CDS, ttl, b.data, b.len, 0));
            KF_GUARD(kf_zone_add(z, apex, KF_DNS_CDNSKEY, ttl, key->dnskey, key->dnskey_len, 0));
        }
    }
    return KF_OK;
}

unsigned kf_dnssec_threads(unsigned requested, size_t work, size_t chunk)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned t = requested != 0 ? requested : (cpus > 0 ? (unsigned)cpus : 1);
    if (t > SIGN_MAX_THREADS) {
        t = SIGN_MAX_THREADS;
    }
    if (work < (size_t)t * chunk) {
        t = (unsigned)(work / chunk) + 1;
    }
    return t;
}

static kf_result sign_execute(struct sign_run *run, struct kf_sign_stats *st)
{
    unsigned nt = kf_dnssec_threads(run->o->threads, run->n_jobs - run->n_reused, SIGN_CHUNK);
    struct sign_worker *w = calloc(nt, sizeof(*w));
    pthread_t *tids = calloc(nt, sizeof(*tids));
    kf_result r = KF_OK;
    unsigned started = 0;
    if (w == NULL || tids == NULL) {
        kf_err_record(KF_ERR_NOMEM, __FILE__, __LINE__, __func__);
        r = (kf_result){ KF_ERR_NOMEM };
    }
    for (unsigned i = 0; i < nt && kf_ok(r); i++) {
        r = sign_worker_init(&w[i], run, i);
    }
    /* Worker 0 is this thread: one thread fewer to start, and a one-thread run starts none. */
    for (unsigned i = 1; i < nt && kf_ok(r); i++) {
        if (pthread_create(&tids[i], NULL, sign_worker_main, &w[i]) != 0) {
            kf_err_record(KF_ERR_THREAD, __FILE__, __LINE__, __func__);
            r = (kf_result){ KF_ERR_THREAD };
            atomic_store(&run->failed, true);
            break;
        }
        started = i;
    }
    if (kf_ok(r)) {
        (void)sign_worker_main(&w[0]);
    }
    for (unsigned i = 1; i <= started; i++) {
        (void)pthread_join(tids[i], NULL);
    }
    if (kf_ok(r) && atomic_load(&run->failed)) {
        kf_err_record(run->err_code, __FILE__, __LINE__, __func__);
        kf_err_note_context("%s", run->err_text);
        r = (kf_result){ run->err_code };
    }
    /* Add the RRSIGs in job order: the zone's content never depends on scheduling. */
    for (size_t i = 0; i < run->n_jobs && kf_ok(r); i++) {
        const struct sign_out *so = &run->outs[i];
        const struct sign_job *j = &run->jobs[i];
        const struct kf_zone_rrset *s = &run->z->rrsets[j->rrset];
        if (j->reuse) {
            const struct kf_zone *p = run->o->previous;
            const struct kf_zone_rr *old = &p->rrs[j->reuse_rr];
            r = kf_zone_add_at(run->z, s->owner, KF_DNS_RRSIG, s->ttl, kf_zone_rdata(p, old),
                               old->rdlen, 0);
            continue;
        }
        r = kf_zone_add_at(run->z, s->owner, KF_DNS_RRSIG, s->ttl, w[so->worker].out.data + so->off,
                           so->len, 0);
    }
    if (kf_ok(r)) {
        st->signatures = run->n_jobs;
        st->reused = run->n_reused;
    }
    for (unsigned i = 0; w != NULL && i < nt; i++) {
        sign_worker_cleanup(&w[i]);
    }
    free(w);
    free(tids);
    return r;
}

/* Milliseconds since @p t0, for the phase timings KEYFORT_LOG=info shows. */
static double sign_ms(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) * 1e3 + (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}

kf_result kf_dnssec_sign_zone(struct kf_zone *z, const struct kf_sign_opts *o,
                              struct kf_sign_stats *out)
{
    KF_ENSURE_REF(z);
    KF_ENSURE_REF(o);
    KF_ENSURE(o->n_keys > 0 && o->n_keys <= 16, KF_ERR_INVALID_ARG);
    KF_ENSURE(o->expiration > o->inception, KF_ERR_INVALID_ARG);
    KF_ENSURE(o->previous == NULL || o->previous->sorted, KF_ERR_INVALID_ARG);
    struct kf_sign_stats st = { 0 };
    kf_zone_remove_if(z, sign_drop_old, NULL);
    KF_GUARD(sign_add_keys(z, o)); /* before the first sort: one sort fewer */
    KF_GUARD(kf_zone_sort(z));
    KF_GUARD(kf_zone_analyse(z));
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    /* RFC 9077: the denial records' TTL is the lower of the SOA's TTL and its MINIMUM. */
    uint32_t neg_ttl = z->soa_ttl < z->soa_minimum ? z->soa_ttl : z->soa_minimum;
    if (o->nsec3) {
        KF_GUARD(kf_dnssec_nsec3_build(z, &o->nsec3p, neg_ttl, &st.nsec3));
    } else {
        KF_GUARD(kf_dnssec_nsec_build(z, neg_ttl, &st.nsec));
    }
    KF_GUARD(kf_zone_sort(z));
    KF_GUARD(kf_zone_analyse(z));
    kf_log(KF_LOG_INFO, "dnssec", "denial chain built and zone sorted: %.0f ms", sign_ms(&t0));

    struct sign_run run = { .z = z, .o = o };
    atomic_init(&run.next, 0);
    atomic_init(&run.failed, false);
    pthread_mutex_init(&run.err_lock, NULL);
    sign_keys_in_previous(&run);
    kf_result r = sign_plan(&run);
    if (kf_ok(r)) {
        r = sign_execute(&run, &st);
    }
    pthread_mutex_destroy(&run.err_lock);
    free(run.jobs);
    free(run.outs);
    KF_GUARD(r);
    kf_log(KF_LOG_INFO, "dnssec", "%zu signatures made, %zu kept: %.0f ms",
           run.n_jobs - run.n_reused, run.n_reused, sign_ms(&t0));
    KF_GUARD(kf_zone_sort(z));
    KF_GUARD(kf_zone_analyse(z));
    kf_log(KF_LOG_INFO, "dnssec", "signed zone sorted: %.0f ms", sign_ms(&t0));
    st.rrsets_signed = run.n_rrsets;
    if (out != NULL) {
        *out = st;
    }
    return KF_OK;
}
