/* tools/keyfort/cmd_dnssec.c - keyfort zone sign, zone verify and key dnskey.
 *
 * Keys come through OpenSSL's store: a pkcs11: URI (the token, through keyfort.so) or a key
 * file. The zone logic is dnssec/; this file turns options into its parameters and its results
 * into text. */
#include "common/kf_log.h"
#include "dnssec/dnssec.h"
#include "tools/keyfort/cli.h"
#include "tools/keyfort/ossl.h"
#include "tools/keyfort/out.h"
#include "tools/keyfort/uri.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CLI_DNSSEC_DEFAULT_VALIDITY (30 * 86400) /* expiration: now + 30 days */
#define CLI_DNSSEC_DEFAULT_BACKDATE 3600         /* inception: now - 1 hour (clock skew) */

/* Milliseconds since @p t0 (phase timings at KEYFORT_LOG=info). */
static double cli_dnssec_ms(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) * 1e3 + (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}

static KF_RESULT cli_dnssec_u32(const char *text, const char *what, uint32_t max, uint32_t *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long v = strtoul(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || text[0] == '-' || v > max) {
        return kf_cli_usage_error("%s: expected a number from 0 to %u, got '%s'", what, max, text);
    }
    *out = (uint32_t)v;
    return KF_OK;
}

static KF_RESULT cli_dnssec_time(const char *text, const char *what, int64_t now, int64_t *out)
{
    if (!kf_ok(kf_dnssec_time_parse(text, now, out))) {
        return kf_cli_usage_error("%s: expected YYYYMMDDHHMMSS, seconds since 1970, or now[+-N], "
                                  "got '%s'",
                                  what, text);
    }
    return KF_OK;
}

static KF_RESULT cli_dnssec_rsa_alg(const struct kf_cli_args *a, uint8_t *out)
{
    if (a->alg == NULL || strcmp(a->alg, "8") == 0 || strcasecmp(a->alg, "RSASHA256") == 0) {
        *out = KF_DNS_ALG_RSASHA256;
        return KF_OK;
    }
    if (strcmp(a->alg, "10") == 0 || strcasecmp(a->alg, "RSASHA512") == 0) {
        *out = KF_DNS_ALG_RSASHA512;
        return KF_OK;
    }
    return kf_cli_usage_error("--alg: RSA keys sign as 8 (RSASHA256) or 10 (RSASHA512), got '%s'",
                              a->alg);
}

/* The keys of a command, loaded once; EVP_PKEYs freed by cli_dnssec_keys_cleanup. */
struct cli_dnssec_keys {
    OSSL_LIB_CTX *lib;
    EVP_PKEY *pkey[3];
    struct kf_dnssec_key keys[3];
    size_t n;
};

static void cli_dnssec_keys_cleanup(struct cli_dnssec_keys *k)
{
    for (size_t i = 0; i < 3; i++) {
        EVP_PKEY_free(k->pkey[i]);
    }
    OSSL_LIB_CTX_free(k->lib);
    memset(k, 0, sizeof(*k));
}

static KF_RESULT cli_dnssec_add_key(struct cli_dnssec_keys *k, const char *spec, uint16_t flags,
                                    uint8_t rsa_alg, bool sign_dnskey, bool sign_other,
                                    const char *role)
{
    if (kf_cli_uri_text_has_pin_value(spec)) {
        kf_err_note_context("%s: the URI carries a pin-value; use --pin-file or pin-source=", role);
        KF_BAIL(KF_ERR_PIN_IN_ARGV);
    }
    size_t i = k->n;
    KF_GUARD_CTX(kf_cli_ossl_load_key(k->lib, spec, &k->pkey[i]), "%s", role);
    k->n++;
    KF_GUARD_CTX(kf_dnssec_key_init(k->pkey[i], rsa_alg, flags, &k->keys[i]), "%s %s", role, spec);
    k->keys[i].sign_dnskey = sign_dnskey;
    k->keys[i].sign_other = sign_other;
    return KF_OK;
}

static KF_RESULT cli_dnssec_libctx(const struct kf_cli_args *a, const char *const *specs, size_t n,
                                   OSSL_LIB_CTX **out)
{
    bool uri = false;
    for (size_t i = 0; i < n; i++) {
        uri = uri || kf_cli_ossl_is_uri(specs[i]);
    }
    return kf_cli_ossl_libctx(a, uri, out);
}

/* ---- zone sign ---------------------------------------------------------------------------------
 */

static KF_RESULT cli_zone_sign_opts(const struct kf_cli_args *a, int64_t now,
                                    struct kf_sign_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->inception = now - CLI_DNSSEC_DEFAULT_BACKDATE;
    o->expiration = now + CLI_DNSSEC_DEFAULT_VALIDITY;
    if (a->inception != NULL) {
        KF_GUARD(cli_dnssec_time(a->inception, "--inception", now, &o->inception));
    }
    if (a->expiration != NULL) {
        KF_GUARD(cli_dnssec_time(a->expiration, "--expiration", now, &o->expiration));
    }
    if (o->expiration <= o->inception) {
        return kf_cli_usage_error("--expiration must come after --inception");
    }
    if (a->jitter != NULL) {
        KF_GUARD(cli_dnssec_u32(a->jitter, "--jitter", 365u * 86400, &o->jitter));
        if (o->expiration - o->jitter <= o->inception) {
            return kf_cli_usage_error("--jitter is longer than the validity period");
        }
    }
    if (a->threads != NULL) {
        uint32_t t = 0;
        KF_GUARD(cli_dnssec_u32(a->threads, "--threads", 64, &t));
        o->threads = t;
    }
    if (a->ttl != NULL) {
        KF_GUARD(cli_dnssec_u32(a->ttl, "--ttl", INT32_MAX, &o->dnskey_ttl));
    }
    o->cds = a->cds;
    o->nsec3 = a->nsec3;
    if (!a->nsec3 && (a->salt != NULL || a->iterations != NULL || a->opt_out)) {
        return kf_cli_usage_error("--salt, --iterations and --opt-out need --nsec3");
    }
    if (a->iterations != NULL) {
        uint32_t it = 0;
        /* RFC 9276 s3.1: iterations 0; validators treat high counts as insecure. */
        KF_GUARD(cli_dnssec_u32(a->iterations, "--iterations", 500, &it));
        o->nsec3p.iterations = (uint16_t)it;
    }
    if (a->salt != NULL && strcmp(a->salt, "-") != 0) {
        size_t len = 0;
        KF_GUARD(kf_cli_parse_hex(a->salt, "--salt", o->nsec3p.salt, sizeof(o->nsec3p.salt), &len));
        o->nsec3p.salt_len = (uint8_t)len;
    }
    o->nsec3p.opt_out = a->opt_out;
    o->now = now;
    o->refresh = (uint32_t)((o->expiration - o->inception) / 4);
    if (a->refresh != NULL) {
        if (a->previous == NULL) {
            return kf_cli_usage_error("--refresh needs --previous");
        }
        KF_GUARD(cli_dnssec_u32(a->refresh, "--refresh", 10u * 365 * 86400, &o->refresh));
    }
    return KF_OK;
}

static KF_RESULT cli_zone_sign_keys(const struct kf_cli_args *a, struct cli_dnssec_keys *k)
{
    if (a->csk != NULL && (a->ksk != NULL || a->zsk != NULL)) {
        return kf_cli_usage_error("give --csk alone, or --ksk with --zsk");
    }
    if (a->csk == NULL && (a->ksk == NULL || a->zsk == NULL)) {
        return kf_cli_usage_error("signing needs --ksk and --zsk, or --csk");
    }
    uint8_t rsa_alg = 0;
    KF_GUARD(cli_dnssec_rsa_alg(a, &rsa_alg));
    const char *specs[2] = { a->csk != NULL ? a->csk : a->ksk, a->zsk };
    KF_GUARD(cli_dnssec_libctx(a, specs, a->csk != NULL ? 1 : 2, &k->lib));
    uint16_t ksk_flags = KF_DNS_DNSKEY_ZONE | KF_DNS_DNSKEY_SEP;
    if (a->csk != NULL) {
        return cli_dnssec_add_key(k, a->csk, ksk_flags, rsa_alg, true, true, "--csk");
    }
    KF_GUARD(cli_dnssec_add_key(k, a->ksk, ksk_flags, rsa_alg, true, false, "--ksk"));
    KF_GUARD(cli_dnssec_add_key(k, a->zsk, KF_DNS_DNSKEY_ZONE, rsa_alg, false, true, "--zsk"));
    if (k->keys[0].alg != k->keys[1].alg) {
        /* Every algorithm in the DNSKEY RRset must sign every RRset (RFC 4035 s2.2): with a
         * KSK of one algorithm and a ZSK of another, neither would. */
        return kf_cli_usage_error("--ksk is algorithm %u and --zsk algorithm %u: use two keys "
                                  "of one algorithm",
                                  k->keys[0].alg, k->keys[1].alg);
    }
    if (k->keys[0].tag == k->keys[1].tag) {
        return kf_cli_usage_error("--ksk and --zsk have the same key tag %u: use --csk for one "
                                  "key, or two keys",
                                  k->keys[0].tag);
    }
    return KF_OK;
}

kf_result kf_cli_zone_sign(const struct kf_cli_args *a)
{
    KF_GUARD(kf_cli_args_expect(a, 1, 1, "IN.zone"));
    if (a->origin == NULL) {
        return kf_cli_usage_error("missing -o ORIGIN");
    }
    if (a->file == NULL) {
        return kf_cli_usage_error("missing -f OUT.zone");
    }
    int64_t now = (int64_t)time(NULL);
    struct kf_sign_opts o;
    KF_GUARD(cli_zone_sign_opts(a, now, &o));
    struct cli_dnssec_keys k = { 0 };
    struct kf_zone z = { 0 };
    struct kf_zone prev = { 0 };
    bool have_prev = false;
    struct kf_sign_stats st = { 0 };
    /* Keys first: a wrong PIN or URI should fail before a large zone is read. */
    kf_result r = cli_zone_sign_keys(a, &k);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (kf_ok(r)) {
        r = kf_zone_load_file_threads(a->pos[0], a->origin, o.threads, &z);
        kf_log(KF_LOG_INFO, "zone", "%s read: %zu records, %u piece%s side by side, %.0f ms",
               a->pos[0], z.n_rrs, z.pieces, z.pieces == 1 ? "" : "s", cli_dnssec_ms(&t0));
    }
    if (kf_ok(r) && a->previous != NULL) {
        r = kf_zone_load_file(a->previous, a->origin, &prev);
        have_prev = kf_ok(r);
        if (kf_ok(r)) {
            r = kf_zone_sort(&prev);
        }
        if (!kf_ok(r)) {
            kf_err_add_context("--previous");
        }
        o.previous = have_prev ? &prev : NULL;
    }
    if (kf_ok(r)) {
        o.keys = k.keys;
        o.n_keys = k.n;
        o.libctx = k.lib;
        r = kf_dnssec_sign_zone(&z, &o, &st);
    }
    if (kf_ok(r)) {
        kf_log(KF_LOG_INFO, "zone", "signed: %.0f ms", cli_dnssec_ms(&t0));
        r = kf_zone_write_file(&z, a->file);
        kf_log(KF_LOG_INFO, "zone", "%s written: %.0f ms", a->file, cli_dnssec_ms(&t0));
    }
    if (kf_ok(r)) {
        char origin[1024];
        printf("signed %s: %zu RRsets, %zu signatures (%zu new, %zu kept), %s chain of %zu "
               "names; keys",
               kf_dnssec_name_to_text(z.origin, origin, sizeof(origin)), st.rrsets_signed,
               st.signatures, st.signatures - st.reused, st.reused, o.nsec3 ? "NSEC3" : "NSEC",
               o.nsec3 ? st.nsec3 : st.nsec);
        for (size_t i = 0; i < k.n; i++) {
            printf(" %u/%u%s", k.keys[i].tag, k.keys[i].alg,
                   k.keys[i].sign_dnskey && k.keys[i].sign_other ? " (CSK)"
                   : k.keys[i].sign_dnskey                       ? " (KSK)"
                                                                 : " (ZSK)");
        }
        printf("; written to %s\n", a->file);
    }
    if (have_prev) {
        kf_zone_cleanup(&prev);
    }
    kf_zone_cleanup(&z);
    cli_dnssec_keys_cleanup(&k);
    return r;
}

/* ---- zone verify -------------------------------------------------------------------------------
 */

/* Anchors: DS or DNSKEY records for the zone's apex, in zone-file form. */
struct cli_anchor {
    struct kf_zone z;
    bool loaded;
};

static KF_RESULT cli_zone_anchor(const char *path, const struct kf_zone *zone,
                                 struct cli_anchor *an, struct kf_verify_opts *o)
{
    char origin[1024];
    kf_dnssec_name_to_text(zone->origin, origin, sizeof(origin));
    KF_GUARD_CTX(kf_zone_load_file(path, ".", &an->z), "reading the trust anchor");
    an->loaded = true;
    for (size_t i = 0; i < an->z.n_rrs; i++) {
        const struct kf_zone_rr *rr = &an->z.rrs[i];
        const uint8_t *owner = kf_zone_owner_name(&an->z, rr->owner);
        if (rr->type != KF_DNS_DS && rr->type != KF_DNS_DNSKEY) {
            continue;
        }
        if (kf_dnssec_name_cmp(owner, zone->origin) != 0) {
            continue; /* an anchor file may hold several zones' anchors */
        }
        if (o->n_anchor == sizeof(o->anchor_len) / sizeof(o->anchor_len[0])) {
            return kf_cli_usage_error("%s: more than 16 anchors for %s", path, origin);
        }
        o->anchor_rdata[o->n_anchor] = kf_zone_rdata(&an->z, rr);
        o->anchor_len[o->n_anchor] = rr->rdlen;
        o->anchor_type[o->n_anchor] = rr->type;
        o->n_anchor++;
    }
    if (o->n_anchor == 0) {
        kf_err_note_context("%s: no DS or DNSKEY record for %s", path, origin);
        KF_BAIL(KF_ERR_ZONE_DATA);
    }
    return KF_OK;
}

static void cli_zone_print_report(const struct kf_zone *z, const struct kf_verify_report *rep)
{
    char owner[1024] = "-";
    char type[16] = "-";
    if (rep->owner != UINT32_MAX) {
        kf_dnssec_name_to_text(kf_zone_owner_name(z, rep->owner), owner, sizeof(owner));
    }
    if (rep->type != 0) {
        kf_dnssec_type_name(rep->type, type, sizeof(type));
    }
    printf("bogus: %s %s", owner, type);
    if (rep->key_tag != 0 || rep->alg != 0) {
        printf(" key %u/%u", rep->key_tag, rep->alg);
    }
    printf(": %s", kf_verify_problem_name(rep->problem));
    if (rep->detail[0] != '\0') {
        fputs(": ", stdout);
        kf_cli_text_safe(stdout, rep->detail);
    }
    fputc('\n', stdout);
}

static KF_RESULT cli_zone_load_any(const struct kf_cli_args *a, unsigned threads, struct kf_zone *z)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    /* No origin given: read at the root, then take the SOA's owner as the apex. */
    KF_GUARD(kf_zone_load_file_threads(a->pos[0], a->origin != NULL ? a->origin : ".", threads, z));
    if (a->origin == NULL) {
        KF_GUARD(kf_zone_adopt_soa_origin(z));
    }
    kf_log(KF_LOG_INFO, "zone", "%s read: %zu records, %u piece%s side by side, %.0f ms", a->pos[0],
           z->n_rrs, z->pieces, z->pieces == 1 ? "" : "s", cli_dnssec_ms(&t0));
    return KF_OK;
}

kf_result kf_cli_zone_verify(const struct kf_cli_args *a)
{
    KF_GUARD(kf_cli_args_expect(a, 1, 1, "SIGNED.zone"));
    struct kf_verify_opts o;
    memset(&o, 0, sizeof(o));
    o.now = (int64_t)time(NULL);
    if (a->now != NULL) {
        KF_GUARD(cli_dnssec_time(a->now, "--now", o.now, &o.now));
    }
    if (a->threads != NULL) {
        uint32_t t = 0;
        KF_GUARD(cli_dnssec_u32(a->threads, "--threads", 64, &t));
        o.threads = t;
    }
    struct kf_zone z = { 0 };
    struct cli_anchor an = { 0 };
    struct kf_verify_result res = { 0 };
    kf_result r = cli_zone_load_any(a, o.threads, &z);
    if (kf_ok(r) && a->anchor != NULL) {
        r = cli_zone_anchor(a->anchor, &z, &an, &o);
    }
    if (kf_ok(r)) {
        r = kf_dnssec_verify_zone(&z, &o, &res);
    }
    if (kf_ok(r)) {
        for (size_t i = 0; i < res.n_reports; i++) {
            cli_zone_print_report(&z, &res.reports[i]);
        }
        char origin[1024];
        kf_dnssec_name_to_text(z.origin, origin, sizeof(origin));
        printf("%s %s: %zu RRSIGs, %zu RRsets, %zu %s names checked%s; %zu problem%s\n",
               res.n_reports == 0 ? "secure" : "bogus", origin, res.rrsigs_checked,
               res.rrsets_checked, res.names_checked, res.nsec3 ? "NSEC3" : "NSEC",
               o.n_anchor > 0 ? ", trust anchor matched" : "", res.n_reports,
               res.n_reports == 1 ? "" : "s");
        if (res.n_reports > 0) {
            kf_err_record(KF_ERR_ZONE_BOGUS, __FILE__, __LINE__, __func__);
            kf_err_note_context("%s: %zu problem%s (listed on standard output)", origin,
                                res.n_reports, res.n_reports == 1 ? "" : "s");
            r = (kf_result){ KF_ERR_ZONE_BOGUS };
        }
    }
    kf_verify_result_cleanup(&res);
    if (an.loaded) {
        kf_zone_cleanup(&an.z);
    }
    kf_zone_cleanup(&z);
    return r;
}

/* ---- key dnskey --------------------------------------------------------------------------------
 */

static KF_RESULT cli_dnskey_print(const uint8_t *owner, uint16_t type, uint32_t ttl,
                                  const uint8_t *rdata, size_t len)
{
    char line[8192];
    KF_GUARD(kf_zone_rr_to_text(owner, type, ttl, rdata, len, line, sizeof(line)));
    printf("%s\n", line);
    return KF_OK;
}

kf_result kf_cli_key_dnskey(const struct kf_cli_args *a)
{
    KF_GUARD(kf_cli_args_expect(a, 1, 1, "KEY"));
    if (a->origin == NULL) {
        return kf_cli_usage_error("missing --origin ZONE");
    }
    uint8_t owner[KF_DNS_MAX_NAME];
    size_t owner_len = 0;
    if (!kf_ok(kf_dnssec_name_from_text(a->origin, owner, &owner_len))) {
        return kf_cli_usage_error("--origin: '%s' is not a domain name", a->origin);
    }
    kf_dnssec_name_lower(owner);
    uint32_t ttl = 3600;
    if (a->ttl != NULL) {
        KF_GUARD(cli_dnssec_u32(a->ttl, "--ttl", INT32_MAX, &ttl));
    }
    uint8_t rsa_alg = 0;
    KF_GUARD(cli_dnssec_rsa_alg(a, &rsa_alg));
    struct cli_dnssec_keys k = { 0 };
    uint16_t flags = KF_DNS_DNSKEY_ZONE | (a->ksk_flag ? KF_DNS_DNSKEY_SEP : 0);
    kf_result r = cli_dnssec_libctx(a, &a->pos[0], 1, &k.lib);
    if (kf_ok(r)) {
        r = cli_dnssec_add_key(&k, a->pos[0], flags, rsa_alg, true, true, "key");
    }
    if (kf_ok(r)) {
        const struct kf_dnssec_key *key = &k.keys[0];
        printf("; key tag %u, algorithm %u, %s\n", key->tag, key->alg,
               a->ksk_flag ? "KSK (flags 257)" : "ZSK (flags 256)");
        r = cli_dnskey_print(owner, KF_DNS_DNSKEY, ttl, key->dnskey, key->dnskey_len);
        const uint8_t digests[] = { KF_DNS_DS_SHA256, KF_DNS_DS_SHA384 };
        for (size_t i = 0; i < sizeof(digests) && kf_ok(r); i++) {
            uint8_t ds[128];
            struct kf_buf b;
            r = kf_buf_init_fixed(&b, ds, sizeof(ds));
            if (kf_ok(r)) {
                r = kf_dnssec_ds_make(owner, owner_len, key->dnskey, key->dnskey_len, digests[i],
                                      &b);
            }
            if (kf_ok(r)) {
                r = cli_dnskey_print(owner, KF_DNS_DS, ttl, b.data, b.len);
            }
        }
    }
    cli_dnssec_keys_cleanup(&k);
    return r;
}
