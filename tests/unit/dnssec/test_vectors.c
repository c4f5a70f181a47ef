/* tests/unit/dnssec/test_vectors.c - the RFC examples (tests/vectors/dnssec/README.md):
 * RRSIGs verify at the example's date, key tags and DS records match what the RFCs print,
 * and RFC 5155's NSEC3 hashes come out. Each file's header gives "now", key tags and DS. */
#include "dnssec/dnssec.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#ifndef KF_VECTOR_DIR
#error KF_VECTOR_DIR must name tests/vectors/dnssec
#endif

struct vec_header {
    int64_t now;
    unsigned tags[4];
    size_t n_tags;
    char ds[4][512];
    size_t n_ds;
};

static void vec_path(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", KF_VECTOR_DIR, name);
}

static void vec_read_header(const char *path, struct vec_header *h)
{
    memset(h, 0, sizeof(*h));
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "open %s", path);
    char line[512];
    while (fgets(line, sizeof(line), f) != NULL && line[0] == ';') {
        line[strcspn(line, "\n")] = '\0';
        if (strncmp(line, "; now: ", 7) == 0) {
            cr_assert(kf_ok(kf_dnssec_time_parse(line + 7, 0, &h->now)), "%s", line);
        } else if (strncmp(line, "; keytag: ", 10) == 0) {
            h->tags[h->n_tags++] = (unsigned)strtoul(line + 10, NULL, 10);
        } else if (strncmp(line, "; ds: ", 6) == 0) {
            snprintf(h->ds[h->n_ds++], sizeof(h->ds[0]), "%s", line + 6);
        }
    }
    fclose(f);
}

static void vec_load(const char *name, struct kf_zone *z, struct vec_header *h)
{
    char path[1024];
    vec_path(path, sizeof(path), name);
    vec_read_header(path, h);
    cr_assert(kf_ok(kf_zone_load_file(path, ".", z)), "load %s", path);
    cr_assert(kf_ok(kf_zone_sort(z)));
}

/* Every RRSIG in the file, checked against the DNSKEY with its tag; returns how many. */
static size_t vec_verify_all(struct kf_zone *z, int64_t now, bool flip)
{
    size_t checked = 0;
    for (size_t i = 0; i < z->n_rrsets; i++) {
        const struct kf_zone_rrset *s = &z->rrsets[i];
        if (s->type != KF_DNS_RRSIG) {
            continue;
        }
        for (uint32_t j = 0; j < s->count; j++) {
            const struct kf_zone_rr *rr = &z->rrs[s->first + j];
            struct kf_rrsig sig;
            cr_assert(kf_ok(kf_dnssec_rrsig_parse(kf_zone_rdata(z, rr), rr->rdlen, &sig)));
            uint32_t apex = kf_zone_owner_lookup(z, sig.signer);
            const struct kf_zone_rrset *keys = kf_zone_find(z, apex, KF_DNS_DNSKEY);
            cr_assert_not_null(keys);
            const struct kf_zone_rrset *cov = kf_zone_find(z, s->owner, sig.type_covered);
            cr_assert_not_null(cov);
            struct kf_dnssec_pubkey *pk = NULL;
            for (uint32_t k = 0; k < keys->count && pk == NULL; k++) {
                const struct kf_zone_rr *kr = &z->rrs[keys->first + k];
                if (kf_dnssec_key_tag(kf_zone_rdata(z, kr), kr->rdlen) == sig.key_tag) {
                    cr_assert(kf_ok(kf_dnssec_pubkey_new(kf_zone_rdata(z, kr), kr->rdlen, &pk)));
                }
            }
            cr_assert_not_null(pk, "no DNSKEY with tag %u", sig.key_tag);
            struct kf_buf data;
            cr_assert(kf_ok(kf_buf_init_growable(&data, 1024)));
            cr_assert(kf_ok(kf_dnssec_signed_data(z, cov, kf_zone_rdata(z, rr), sig.header_len,
                                                  sig.labels, sig.orig_ttl, &data)));
            if (flip) {
                data.data[data.len - 1] ^= 1; /* the last byte of the RRset's RDATA */
            }
            struct kf_dnssec_vjob job = { .key = pk,
                                          .data = data.data,
                                          .data_len = data.len,
                                          .sig = sig.sig,
                                          .sig_len = sig.sig_len };
            kf_dnssec_verify_batch(&job, 1);
            cr_assert_eq(job.valid, !flip, "RRSIG %u by %u: valid=%d", sig.type_covered,
                         sig.key_tag, job.valid);
            int64_t inc = kf_dnssec_time_expand(sig.inception, now);
            int64_t exp = kf_dnssec_time_expand(sig.expiration, now);
            cr_assert(inc <= now && now <= exp, "now inside the validity window");
            kf_buf_cleanup(&data);
            kf_dnssec_pubkey_free(pk);
            checked++;
        }
    }
    return checked;
}

static void vec_check_keys(struct kf_zone *z, const struct vec_header *h)
{
    size_t tags = 0;
    size_t ds_found = 0;
    for (size_t i = 0; i < z->n_rrsets; i++) {
        const struct kf_zone_rrset *s = &z->rrsets[i];
        if (s->type != KF_DNS_DNSKEY) {
            continue;
        }
        for (uint32_t j = 0; j < s->count; j++, tags++) {
            const struct kf_zone_rr *rr = &z->rrs[s->first + j];
            uint16_t tag = kf_dnssec_key_tag(kf_zone_rdata(z, rr), rr->rdlen);
            bool listed = false;
            for (size_t t = 0; t < h->n_tags; t++) {
                listed = listed || h->tags[t] == tag;
            }
            cr_assert(listed, "key tag %u not in the RFC's list", tag);
            /* Every DS the RFC prints for this key must come out byte for byte. */
            for (size_t d = 0; d < h->n_ds; d++) {
                unsigned dtag = 0;
                unsigned alg = 0;
                unsigned type = 0;
                char hex[160];
                cr_assert_eq(sscanf(h->ds[d], "%u %u %u %159s", &dtag, &alg, &type, hex), 4);
                if (dtag != tag) {
                    continue;
                }
                uint8_t out[128];
                struct kf_buf b;
                cr_assert(kf_ok(kf_buf_init_fixed(&b, out, sizeof(out))));
                const uint8_t *owner = kf_zone_owner_name(z, rr->owner);
                cr_assert(
                    kf_ok(kf_dnssec_ds_make(owner, z->owners[rr->owner].name_len,
                                            kf_zone_rdata(z, rr), rr->rdlen, (uint8_t)type, &b)));
                char mine[260] = "";
                for (size_t k = 4; k < b.len; k++) {
                    snprintf(mine + 2 * (k - 4), 3, "%02x", out[k]);
                }
                cr_assert_eq(out[2], alg);
                cr_assert_eq(strcasecmp(mine, hex), 0, "DS %u type %u: %s vs %s", tag, type, mine,
                             hex);
                ds_found++;
            }
        }
    }
    cr_assert_eq(tags, h->n_tags, "every DNSKEY's tag is listed");
    cr_assert_eq(ds_found, h->n_ds, "every DS the RFC gives was computed");
}

struct vec_file {
    char name[40]; /* an array, not a pointer: Criterion runs each case in a new process */
};

static struct vec_file vec_signed[] = {
    { "rfc5702-rsasha256.zone" }, { "rfc5702-rsasha512.zone" }, { "rfc6605-p256.zone" },
    { "rfc6605-p384.zone" },      { "rfc8080-ed25519.zone" },   { "rfc8080-ed448.zone" },
};

ParameterizedTestParameters(vectors, rrsig)
{
    return cr_make_param_array(struct vec_file, vec_signed,
                               sizeof(vec_signed) / sizeof(vec_signed[0]));
}

ParameterizedTest(struct vec_file *f, vectors, rrsig)
{
    struct kf_zone z;
    struct vec_header h;
    vec_load(f->name, &z, &h);
    cr_assert_gt(h.now, 0);
    cr_assert_gt(vec_verify_all(&z, h.now, false), 0, "the file has RRSIGs");
    cr_assert_gt(vec_verify_all(&z, h.now, true), 0, "and a changed RRset fails");
    vec_check_keys(&z, &h);
    kf_zone_cleanup(&z);
}

Test(vectors, rfc4034_ds)
{
    struct kf_zone z;
    struct vec_header h;
    vec_load("rfc4034-ds.zone", &z, &h);
    cr_assert_eq(h.n_ds, 1);
    vec_check_keys(&z, &h);
    kf_zone_cleanup(&z);
}

Test(vectors, rfc5155_hashes)
{
    char path[1024];
    vec_path(path, sizeof(path), "rfc5155-hashes.txt");
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f);
    char line[512];
    uint8_t salt[4] = { 0xaa, 0xbb, 0xcc, 0xdd };
    size_t n = 0;
    bool params = false;
    while (fgets(line, sizeof(line), f) != NULL) {
        if (line[0] == ';' || line[0] == '\n') {
            continue;
        }
        if (strncmp(line, "salt ", 5) == 0) {
            cr_assert_str_eq(line, "salt aabbccdd iterations 12\n");
            params = true;
            continue;
        }
        char name[300];
        char want[64];
        cr_assert_eq(sscanf(line, "%299s %63s", name, want), 2);
        uint8_t wire[KF_DNS_MAX_NAME];
        size_t len = 0;
        cr_assert(kf_ok(kf_dnssec_name_from_text(name, wire, &len)));
        uint8_t h[20];
        cr_assert(kf_ok(kf_dnssec_nsec3_hash(wire, len, 1, salt, sizeof(salt), 12, h)));
        char got[40];
        kf_dnssec_base32hex(h, 20, got);
        cr_assert_str_eq(got, want, "%s", name);
        uint8_t back[20];
        size_t blen = 0;
        cr_assert(kf_ok(kf_dnssec_base32hex_decode(got, strlen(got), back, sizeof(back), &blen)));
        cr_assert(blen == 20 && memcmp(back, h, 20) == 0);
        n++;
    }
    fclose(f);
    cr_assert(params);
    cr_assert_geq(n, 10, "the whole Appendix A list");
}
