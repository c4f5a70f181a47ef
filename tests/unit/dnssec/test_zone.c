/* tests/unit/dnssec/test_zone.c - zones from text: errors with file:line, canonical form and
 * order, structure; sign and verify round trips with software keys; tampering detected. */
#include "dnssec/dnssec.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char zone_text[] =
    "$ORIGIN Example.\n"
    "$TTL 3600\n"
    "@ SOA ns1 host 1 7200 3600 1209600 300\n"
    "@ NS ns1\n"
    "@ MX 10 MAIL\n"
    "ns1 A 192.0.2.1\n"
    "mail A 192.0.2.3\n"
    "mail A 192.0.2.3\n" /* a duplicate: dropped */
    "*.wild TXT \"w\"\n"
    "a.b.c A 192.0.2.4\n"
    "sub NS ns.sub\n"
    "ns.sub A 192.0.2.5\n"
    "sec NS ns.sec\n"
    "sec DS 12345 13 2 "
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n";

static void zone_load(struct kf_zone *z)
{
    cr_assert(kf_ok(kf_zone_load_string(zone_text, strlen(zone_text), "example.", "t", z)));
    cr_assert(kf_ok(kf_zone_sort(z)));
    cr_assert(kf_ok(kf_zone_analyse(z)));
}

static uint32_t zone_owner(const struct kf_zone *z, const char *name)
{
    uint8_t w[KF_DNS_MAX_NAME];
    size_t len = 0;
    cr_assert(kf_ok(kf_dnssec_name_from_text(name, w, &len)));
    return kf_zone_owner_lookup(z, w);
}

Test(zone, structure)
{
    struct kf_zone z;
    zone_load(&z);
    uint32_t mail = zone_owner(&z, "mail.example.");
    cr_assert_neq(mail, UINT32_MAX, "owners are lower-cased");
    cr_assert_eq(kf_zone_find(&z, mail, KF_DNS_A)->count, 1, "duplicate RR dropped");
    const struct kf_zone_rrset *mx = kf_zone_find(&z, zone_owner(&z, "example."), KF_DNS_MX);
    const struct kf_zone_rr *rr = &z.rrs[mx->first];
    cr_assert_eq(memcmp(kf_zone_rdata(&z, rr) + 2,
                        "\x04mail\x07"
                        "example",
                        13),
                 0, "MX target lower-cased");
    cr_assert(z.owners[zone_owner(&z, "example.")].flags & KF_OWNER_APEX);
    cr_assert(z.owners[zone_owner(&z, "sub.example.")].flags & KF_OWNER_DELEG);
    cr_assert(z.owners[zone_owner(&z, "ns.sub.example.")].flags & KF_OWNER_OCCLUDED);
    cr_assert(z.owners[zone_owner(&z, "sec.example.")].flags & KF_OWNER_HAS_DS);
    cr_assert_eq(z.soa_minimum, 300);
    /* Canonical order of owners: example, a.b.c, mail, ns1, sec, ns.sec?, sub, ns.sub, *.wild */
    uint32_t prev = z.owner_order[0];
    for (size_t i = 1; i < z.n_owners; i++) {
        uint32_t o = z.owner_order[i];
        cr_assert_lt(kf_dnssec_name_cmp(kf_zone_owner_name(&z, prev), kf_zone_owner_name(&z, o)),
                     0);
        prev = o;
    }
    kf_zone_cleanup(&z);
}

struct zone_bad {
    char text[96]; /* arrays, not pointers: Criterion runs each case in a new process */
    int32_t code;
    char where[64]; /* expected in the error context */
};

static struct zone_bad zone_bad_cases[] = {
    { "example. 60 IN SOA a b 1 2 3 4 5\nx.other. 60 IN A 192.0.2.1\n", KF_ERR_ZONE_DATA,
      "t:2: x.other. is outside the zone example." },
    { "example. 60 IN SOA a b 1 2 3 4 5\nx 60 IN FROB 1\n", KF_ERR_ZONE_SYNTAX, "t:2:" },
    { "example. 60 IN SOA a b 1 2 3 4 5\n\nx 60 IN A 192.0.2.300\n", KF_ERR_ZONE_SYNTAX, "t:3:" },
    /* libzscanner reads only class IN: CH is refused as it parses. */
    { "example. 60 CH TXT \"x\"\n", KF_ERR_ZONE_SYNTAX, "t:1:" },
    { "example. 60 IN SOA a b 1 2 3 4 5\nx 60 IN TYPE65000 \\# 3 0102\n", KF_ERR_ZONE_SYNTAX,
      "t:2:" },
};

ParameterizedTestParameters(zone, bad_input)
{
    return cr_make_param_array(struct zone_bad, zone_bad_cases,
                               sizeof(zone_bad_cases) / sizeof(zone_bad_cases[0]));
}

ParameterizedTest(struct zone_bad *c, zone, bad_input)
{
    struct kf_zone z;
    kf_result r = kf_zone_load_string(c->text, strlen(c->text), "example.", "t", &z);
    cr_assert_eq(r.code, c->code, "%s", c->text);
    char msg[512];
    kf_err_describe(msg, sizeof(msg));
    cr_assert_not_null(strstr(msg, c->where), "'%s' in '%s'", c->where, msg);
}

Test(zone, structural_errors)
{
    static const char *const texts[] = {
        "x.example. 60 IN A 192.0.2.1\n",                                  /* no SOA */
        "example. 60 IN SOA a b 1 2 3 4 5\nexample. 60 IN DS 1 13 2 00\n", /* DS at apex */
        "example. 60 IN SOA a b 1 2 3 4 5\nw 60 IN CNAME x\nw 60 IN A 192.0.2.1\n",
    };
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        struct kf_zone z;
        cr_assert(kf_ok(kf_zone_load_string(texts[i], strlen(texts[i]), "example.", "t", &z)));
        cr_assert(kf_ok(kf_zone_sort(&z)));
        cr_assert_eq(kf_zone_analyse(&z).code, KF_ERR_ZONE_DATA, "%s", texts[i]);
        kf_zone_cleanup(&z);
    }
}

/* ---- sign and verify ------------------------------------------------------------------------ */

static EVP_PKEY *zone_key(const char *alg)
{
    EVP_PKEY *k = NULL;
    if (strcmp(alg, "P-256") == 0) {
        k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    } else if (strcmp(alg, "RSA") == 0) {
        k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
    } else {
        k = EVP_PKEY_Q_keygen(NULL, NULL, alg);
    }
    cr_assert_not_null(k, "%s", alg);
    return k;
}

struct zone_signed {
    struct kf_zone z;
    EVP_PKEY *pk[2];
    struct kf_dnssec_key keys[2];
    int64_t now;
};

static void zone_sign(struct zone_signed *s, const char *alg, bool nsec3, bool opt_out)
{
    memset(s, 0, sizeof(*s));
    zone_load(&s->z);
    s->now = 1800000000;
    for (int i = 0; i < 2; i++) {
        s->pk[i] = zone_key(alg);
        cr_assert(kf_ok(
            kf_dnssec_key_init(s->pk[i], KF_DNS_ALG_RSASHA256, i == 0 ? 257 : 256, &s->keys[i])));
        s->keys[i].sign_dnskey = i == 0;
        s->keys[i].sign_other = i == 1;
    }
    struct kf_sign_opts o = { .keys = s->keys,
                              .n_keys = 2,
                              .inception = s->now - 3600,
                              .expiration = s->now + 86400,
                              .jitter = 600,
                              .nsec3 = nsec3,
                              .threads = 2 };
    o.nsec3p.opt_out = opt_out;
    o.nsec3p.iterations = 3;
    o.nsec3p.salt_len = 2;
    o.nsec3p.salt[0] = 0xab;
    o.nsec3p.salt[1] = 0xcd;
    struct kf_sign_stats st;
    cr_assert(kf_ok(kf_dnssec_sign_zone(&s->z, &o, &st)));
    cr_assert_gt(st.signatures, 8);
}

static size_t zone_verify(struct zone_signed *s, int64_t now, struct kf_verify_result *res)
{
    struct kf_verify_opts o = { .now = now, .threads = 2 };
    cr_assert(kf_ok(kf_dnssec_verify_zone(&s->z, &o, res)));
    return res->n_reports;
}

static void zone_signed_cleanup(struct zone_signed *s)
{
    kf_zone_cleanup(&s->z);
    EVP_PKEY_free(s->pk[0]);
    EVP_PKEY_free(s->pk[1]);
}

struct zone_mode {
    char alg[16];
    bool nsec3;
    bool opt_out;
};

static struct zone_mode zone_modes[] = {
    { "P-256", false, false },   { "P-256", true, false }, { "P-256", true, true },
    { "ED25519", false, false }, { "ED448", true, false }, { "RSA", true, true },
};

ParameterizedTestParameters(zone, round_trip)
{
    return cr_make_param_array(struct zone_mode, zone_modes,
                               sizeof(zone_modes) / sizeof(zone_modes[0]));
}

ParameterizedTest(struct zone_mode *m, zone, round_trip)
{
    struct zone_signed s;
    zone_sign(&s, m->alg, m->nsec3, m->opt_out);
    struct kf_verify_result res;
    cr_assert_eq(zone_verify(&s, s.now, &res), 0, "freshly signed zone is secure");
    cr_assert_gt(res.rrsigs_checked, 8);
    cr_assert_eq(res.nsec3, m->nsec3);
    kf_verify_result_cleanup(&res);
    /* After expiry every RRSIG is reported as expired. */
    cr_assert_gt(zone_verify(&s, s.now + 2 * 86400, &res), 8);
    cr_assert_eq(res.reports[0].problem, KF_VP_SIG_EXPIRED);
    kf_verify_result_cleanup(&res);
    /* Glue stays unsigned and out of the chain. */
    uint32_t glue = zone_owner(&s.z, "ns.sub.example.");
    cr_assert_null(kf_zone_find(&s.z, glue, KF_DNS_RRSIG));
    cr_assert_null(kf_zone_find(&s.z, glue, KF_DNS_NSEC));
    /* The insecure delegation's NS is not signed either. */
    uint32_t sub = zone_owner(&s.z, "sub.example.");
    const struct kf_zone_rrset *sigs = kf_zone_find(&s.z, sub, KF_DNS_RRSIG);
    for (uint32_t i = 0; sigs != NULL && i < sigs->count; i++) {
        const uint8_t *rd = kf_zone_rdata(&s.z, &s.z.rrs[sigs->first + i]);
        cr_assert_neq(rd[0] << 8 | rd[1], KF_DNS_NS);
    }
    zone_signed_cleanup(&s);
}

static bool zone_is_type(const struct kf_zone_rr *rr, void *arg)
{
    return rr->type == *(const uint16_t *)arg;
}

Test(zone, tampering_is_named)
{
    struct zone_signed s;
    zone_sign(&s, "P-256", true, false);
    /* One flipped RDATA byte of mail.example. A. */
    const struct kf_zone_rrset *a = kf_zone_find(&s.z, zone_owner(&s.z, "mail.example."), KF_DNS_A);
    s.z.arena.data[s.z.rrs[a->first].rdata + 3] ^= 0x01;
    struct kf_verify_result res;
    cr_assert_eq(zone_verify(&s, s.now, &res), 1);
    cr_assert_eq(res.reports[0].problem, KF_VP_SIG_INVALID);
    cr_assert_eq(res.reports[0].type, KF_DNS_A);
    cr_assert_eq(res.reports[0].owner, zone_owner(&s.z, "mail.example."));
    kf_verify_result_cleanup(&res);
    a = kf_zone_find(&s.z, zone_owner(&s.z, "mail.example."), KF_DNS_A); /* verify re-sorted */
    s.z.arena.data[s.z.rrs[a->first].rdata + 3] ^= 0x01;
    /* No NSEC3 records at all: every name misses its record. */
    uint16_t t = KF_DNS_NSEC3;
    kf_zone_remove_if(&s.z, zone_is_type, &t);
    cr_assert_gt(zone_verify(&s, s.now, &res), 3);
    bool missing = false;
    for (size_t i = 0; i < res.n_reports; i++) {
        missing = missing || res.reports[i].problem == KF_VP_NSEC3_MISSING;
    }
    cr_assert(missing);
    kf_verify_result_cleanup(&res);
    zone_signed_cleanup(&s);
}

Test(zone, write_is_atomic)
{
    struct zone_signed s;
    zone_sign(&s, "ED25519", false, false);
    char dir[] = "/tmp/kf-zone-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof(path), "%s/out.zone", dir);
    cr_assert(kf_ok(kf_zone_write_file(&s.z, path)));
    struct kf_zone back;
    cr_assert(kf_ok(kf_zone_load_file(path, "example.", &back)));
    struct kf_verify_opts o = { .now = s.now };
    struct kf_verify_result res;
    cr_assert(kf_ok(kf_dnssec_verify_zone(&back, &o, &res)));
    cr_assert_eq(res.n_reports, 0, "the written zone reads back secure");
    kf_verify_result_cleanup(&res);
    kf_zone_cleanup(&back);
    /* A directory that does not exist: an error, and nothing left behind. */
    char bad[300];
    snprintf(bad, sizeof(bad), "%s/missing/out.zone", dir);
    cr_assert_eq(kf_zone_write_file(&s.z, bad).code, KF_ERR_FILE_OPEN);
    cr_assert_eq(remove(path), 0);
    cr_assert_eq(rmdir(dir), 0, "only out.zone was ever in the directory");
    zone_signed_cleanup(&s);
}

Test(zone, incremental_resign_keeps_unchanged)
{
    struct zone_signed s;
    zone_sign(&s, "P-256", true, false);
    /* Version 2: one address changed and one name added; same keys, a day later. */
    static const char v2_extra[] = "new.example. 3600 IN A 192.0.2.9\n";
    struct kf_zone z2;
    char *text = malloc(sizeof(zone_text) + sizeof(v2_extra));
    snprintf(text, sizeof(zone_text) + sizeof(v2_extra), "%s%s", zone_text, v2_extra);
    char *addr = strstr(text, "192.0.2.3");
    addr[8] = '7';
    cr_assert(kf_ok(kf_zone_load_string(text, strlen(text), "example.", "v2", &z2)));
    free(text);
    struct kf_sign_opts o = { .keys = s.keys,
                              .n_keys = 2,
                              .inception = s.now,
                              .expiration = s.now + 86400,
                              .nsec3 = true,
                              .previous = &s.z,
                              .now = s.now + 600,
                              .refresh = 3600 };
    o.nsec3p = (struct kf_nsec3_params){ .iterations = 3, .salt = { 0xab, 0xcd }, .salt_len = 2 };
    struct kf_sign_stats st;
    cr_assert(kf_ok(kf_dnssec_sign_zone(&z2, &o, &st)));
    /* New: mail A, new A, new's NSEC3, the NSEC3 link before it; everything else kept. */
    cr_assert_eq(st.signatures - st.reused, 4, "%zu new of %zu", st.signatures - st.reused,
                 st.signatures);
    struct kf_verify_opts vo = { .now = s.now + 600 };
    struct kf_verify_result res;
    cr_assert(kf_ok(kf_dnssec_verify_zone(&z2, &vo, &res)));
    cr_assert_eq(res.n_reports, 0, "the incrementally signed zone is secure");
    kf_verify_result_cleanup(&res);
    /* With a refresh longer than the old signatures have left, nothing is kept. */
    o.refresh = 2 * 86400;
    struct kf_zone z3;
    cr_assert(kf_ok(kf_zone_load_string(zone_text, strlen(zone_text), "example.", "v3", &z3)));
    cr_assert(kf_ok(kf_dnssec_sign_zone(&z3, &o, &st)));
    cr_assert_eq(st.reused, 0);
    kf_zone_cleanup(&z3);
    kf_zone_cleanup(&z2);
    zone_signed_cleanup(&s);
}

/* Found by fuzz_zone: sorting a zone with no records, and NSEC3 records with an empty salt
 * compared against NSEC3PARAM (both passed NULL to memcmp/qsort). */
Test(zone, fuzz_found_empty_inputs)
{
    struct kf_zone z;
    cr_assert(kf_ok(kf_zone_load_string("", 0, "example.", "t", &z)));
    cr_assert(kf_ok(kf_zone_sort(&z)));
    cr_assert_eq(kf_zone_analyse(&z).code, KF_ERR_ZONE_DATA, "no SOA");
    kf_zone_cleanup(&z);
    static const char text[] = "example. 60 IN SOA a b 1 2 3 4 5\n"
                               "example. 60 IN NSEC3PARAM 1 0 0 -\n"
                               "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom.example. 60 IN NSEC3 1 0 0 - "
                               "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom SOA\n";
    cr_assert(kf_ok(kf_zone_load_string(text, strlen(text), "example.", "t", &z)));
    struct kf_verify_opts o = { .now = 1800000000 };
    struct kf_verify_result res;
    cr_assert(kf_ok(kf_dnssec_verify_zone(&z, &o, &res)));
    cr_assert_gt(res.n_reports, 0, "unsigned: bogus, with reasons");
    kf_verify_result_cleanup(&res);
    kf_zone_cleanup(&z);
}

/* Owners interned in canonical order need no hash (kf_zone_intern); the first one out of
 * order builds it. Either way a repeat gets its first index and every name is found. */
static uint32_t zone_intern_text(struct kf_zone *z, const char *name)
{
    uint8_t w[KF_DNS_MAX_NAME];
    size_t len = 0;
    cr_assert(kf_ok(kf_dnssec_name_from_text(name, w, &len)));
    uint32_t idx = UINT32_MAX;
    cr_assert(kf_ok(kf_zone_intern(z, w, &idx)), "intern %s", name);
    return idx;
}

static void zone_empty(struct kf_zone *z)
{
    memset(z, 0, sizeof(*z));
    cr_assert(kf_ok(kf_buf_init_public(&z->arena, 256)));
}

Test(zone, owners_interned_in_order_or_not)
{
    static const char *ordered[] = { "example.",     "a.example.", "*.a.example.",
                                     "b.a.example.", "z.example.", "\\000.z.example.",
                                     "a.zz.example." };
    struct kf_zone z;
    zone_empty(&z);
    for (uint32_t i = 0; i < 7; i++) {
        cr_assert_eq(zone_intern_text(&z, ordered[i]), i);
    }
    cr_assert_not(z.owners_hashed, "owners in canonical order need no hash");
    for (uint32_t i = 0; i < 7; i++) {
        cr_assert_eq(zone_owner(&z, ordered[i]), i, "%s found by its sort key", ordered[i]);
    }
    cr_assert_eq(zone_owner(&z, "c.example."), UINT32_MAX);
    cr_assert_eq(zone_owner(&z, "zzz.example."), UINT32_MAX);
    cr_assert_eq(zone_owner(&z, "com."), UINT32_MAX);
    cr_assert_eq(zone_intern_text(&z, "zz.example."), 7, "after the last: appended");
    /* A repeat of an earlier owner is out of order: the hash is built and finds it. */
    size_t arena = z.arena.len;
    cr_assert_eq(zone_intern_text(&z, "b.a.example."), 3);
    cr_assert(z.owners_hashed);
    cr_assert_eq(z.arena.len, arena, "a repeat leaves no bytes behind");
    cr_assert_eq(zone_intern_text(&z, "m.example."), 8);
    cr_assert_eq(zone_intern_text(&z, "m.example."), 8);
    cr_assert_eq(zone_intern_text(&z, "example."), 0);
    cr_assert_eq(zone_owner(&z, "m.example."), 8);
    cr_assert_eq(zone_owner(&z, "a.zz.example."), 6);
    cr_assert_eq(z.n_owners, 9);
    kf_zone_cleanup(&z);
}

/* kf_zone_owner_is_sub (sort-key prefix) says what kf_dnssec_name_is_sub says, for every pair
 * of a set of names made to trip a prefix test: labels that are prefixes of others, bytes 0 and
 * 1 (escaped in keys), a name whose last label's bytes look like a whole shorter name, and the
 * root. (Owners are lower-cased before they are interned.) */
Test(zone, owner_is_sub_as_names_are)
{
    static const char *names[] = {
        ".",
        "example.",
        "a.example.",
        "ab.example.",
        "b.ab.example.",
        "a.b.example.",
        "\000.example.",
        "\001.example.",
        "\000\001.a.example.",
        "xexample.",
        "example.example.",
        "\007example.",
        "a\000.example.",
        "\001a.example.",
        "*.a.example.",
        "\002a\000.example.",
    };
    enum { N = sizeof(names) / sizeof(names[0]) };
    struct kf_zone z;
    zone_empty(&z);
    uint32_t idx[N];
    for (size_t i = 0; i < N; i++) {
        idx[i] = zone_intern_text(&z, names[i]);
    }
    unsigned subs = 0;
    for (size_t i = 0; i < N; i++) {
        for (size_t j = 0; j < N; j++) {
            bool want = kf_dnssec_name_is_sub(kf_zone_owner_name(&z, idx[i]),
                                              kf_zone_owner_name(&z, idx[j]));
            cr_assert_eq(kf_zone_owner_is_sub(&z, idx[i], idx[j]), want, "%s under %s: %s",
                         names[i], names[j], want ? "yes" : "no");
            subs += want;
        }
    }
    cr_assert_geq(subs, 2 * N, "the set has names below others");
    kf_zone_cleanup(&z);
}

/* kf_zone_absorb keeps owner indices what one zone would have given: a piece that starts
 * inside the last owner of the one before maps to it, and pieces out of order are merged
 * through the hash. */
Test(zone, absorb_maps_owners)
{
    static const struct {
        const char *first, *second, *third;
        bool hashed;
    } cases[] = {
        { "a.example.", "b.example.", "c.example.", false }, /* after the last */
        { "b.example.", "b.example.", "c.example.", false }, /* a cut inside b */
        { "c.example.", "a.example.", "b.example.", true },  /* out of order */
    };
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        /* Both zones share one arena, as the parallel reader's pieces do. */
        struct kf_zone one;
        zone_empty(&one);
        (void)zone_intern_text(&one, "example.");
        (void)zone_intern_text(&one, cases[c].first);
        struct kf_zone two;
        memset(&two, 0, sizeof(two));
        cr_assert(kf_ok(kf_buf_init_public(&two.arena, 256)));
        (void)zone_intern_text(&two, cases[c].second);
        (void)zone_intern_text(&two, cases[c].third);
        cr_assert(kf_ok(kf_zone_add_at(&two, 1, KF_DNS_A, 60, (const uint8_t *)"\1\2\3\4", 4, 9)));
        uint32_t at = (uint32_t)one.arena.len;
        cr_assert(kf_ok(kf_buf_write_bytes(&one.arena, two.arena.data, two.arena.len)));
        cr_assert(kf_ok(kf_zone_absorb(&one, &two, at, 100)));
        cr_assert_eq(one.owners_hashed, cases[c].hashed, "case %zu", c);
        uint32_t want = zone_owner(&one, cases[c].third);
        cr_assert_neq(want, UINT32_MAX, "case %zu", c);
        cr_assert_eq(one.rrs[one.n_rrs - 1].owner, want, "case %zu", c);
        cr_assert_eq(one.rrs[one.n_rrs - 1].line, 109);
        size_t distinct = strcmp(cases[c].first, cases[c].second) == 0 ? 3 : 4;
        cr_assert_eq(one.n_owners, distinct, "case %zu: %zu owners", c, one.n_owners);
        cr_assert_neq(zone_owner(&one, cases[c].second), UINT32_MAX);
        kf_zone_cleanup(&two);
        kf_zone_cleanup(&one);
    }
}

/* Reading without -o: the SOA's owner becomes the origin, and every owner must be at or below
 * it, whether the owners came in canonical order (checked through the first and last owner)
 * or not (checked one by one); an error names the first record outside. */
Test(zone, soa_owner_becomes_the_origin)
{
    static const struct {
        const char *text;
        int32_t code;
        const char *where; /* start of the error context */
    } cases[] = {
        { "example. 60 SOA ns hm 1 2 3 4 5\na.example. 60 A 192.0.2.1\nz.a.example. 60 A "
          "192.0.2.2\n",
          0, NULL },
        { "example. 60 SOA ns hm 1 2 3 4 5\na.example. 60 A 192.0.2.1\nb.other. 60 A 192.0.2.2\n",
          KF_ERR_ZONE_DATA, "t:3: b.other.: outside" },
        { "example. 60 SOA ns hm 1 2 3 4 5\nb.other. 60 A 192.0.2.2\na.example. 60 A 192.0.2.1\n",
          KF_ERR_ZONE_DATA, "t:2: b.other.: outside" },
        { "a. 60 A 192.0.2.2\nexample. 60 SOA ns hm 1 2 3 4 5\nz.example. 60 A 192.0.2.1\n",
          KF_ERR_ZONE_DATA, "t:1: a.: outside" },
        { "example. 60 SOA ns hm 1 2 3 4 5\nsub.example. 60 SOA ns hm 1 2 3 4 5\n",
          KF_ERR_ZONE_DATA, "t:2: sub.example.: a second SOA" },
        { "example. 60 NS ns\n", KF_ERR_ZONE_DATA, "t: no SOA record" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct kf_zone z;
        const char *t = cases[i].text;
        cr_assert(kf_ok(kf_zone_load_string(t, strlen(t), ".", "t", &z)), "case %zu", i);
        kf_result r = kf_zone_adopt_soa_origin(&z);
        cr_assert_eq(r.code, cases[i].code, "case %zu: %s", i, kf_err_last_context());
        if (cases[i].where != NULL) {
            cr_assert_eq(strncmp(kf_err_last_context(), cases[i].where, strlen(cases[i].where)), 0,
                         "case %zu: %s", i, kf_err_last_context());
        } else {
            cr_assert_eq(z.origin_len, 9);
            cr_assert_eq(memcmp(z.origin, "\7example", 9), 0);
        }
        kf_zone_cleanup(&z);
    }
}
