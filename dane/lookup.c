/* dane/lookup.c - validated lookups through libunbound. */
#include "dane/lookup.h"
#include "dnssec/dnssec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unbound.h>

struct kf_dane_resolver {
    struct ub_ctx *ub;
};

const char *kf_dane_security_name(enum kf_dane_security s)
{
    return s == KF_DANE_SECURE ? "secure" : s == KF_DANE_INSECURE ? "insecure" : "bogus";
}

static kf_result lookup_ub_error(int rc, const char *what)
{
    kf_err_record(KF_ERR_DNS_LOOKUP, __FILE__, __LINE__, __func__);
    kf_err_note_context("%s: %s", what, ub_strerror(rc));
    return (kf_result){ KF_ERR_DNS_LOOKUP };
}

kf_result kf_dane_resolver_new(const char *forward, const char *anchor_file,
                               struct kf_dane_resolver **out)
{
    KF_ENSURE_REF(anchor_file);
    KF_ENSURE_REF(out);
    /* Read the anchor here first: libunbound would only fail at the first query, with
     * "initialization failure" and its reasons on stderr. This names the file and line. */
    struct kf_zone az;
    KF_GUARD_CTX(kf_zone_load_file(anchor_file, ".", &az), "trust anchor file");
    size_t anchors = 0;
    for (size_t i = 0; i < az.n_rrs; i++) {
        anchors += az.rrs[i].type == KF_DNS_DS || az.rrs[i].type == KF_DNS_DNSKEY;
    }
    kf_zone_cleanup(&az);
    if (anchors == 0) {
        kf_err_note_context("trust anchor file '%s' holds no DS or DNSKEY record", anchor_file);
        KF_BAIL(KF_ERR_ZONE_DATA);
    }
    struct kf_dane_resolver *r = calloc(1, sizeof(*r));
    KF_ENSURE(r != NULL, KF_ERR_NOMEM);
    r->ub = ub_ctx_create();
    if (r->ub == NULL) {
        free(r);
        KF_BAIL(KF_ERR_NOMEM);
    }
    /* A resolver on this host or in a test namespace is on loopback: allowed. */
    int rc = ub_ctx_set_option(r->ub, "do-not-query-localhost:", "no");
    if (rc != 0) {
        kf_dane_resolver_free(r);
        return lookup_ub_error(rc, "resolver options");
    }
    rc = forward != NULL ? ub_ctx_set_fwd(r->ub, forward) : ub_ctx_resolvconf(r->ub, NULL);
    if (rc != 0) {
        kf_dane_resolver_free(r);
        kf_err_note_context("resolver '%s': %s", forward != NULL ? forward : "/etc/resolv.conf",
                            ub_strerror(rc));
        KF_BAIL(KF_ERR_INVALID_ARG);
    }
    if ((rc = ub_ctx_add_ta_file(r->ub, anchor_file)) != 0) {
        kf_dane_resolver_free(r);
        kf_err_note_context("trust anchor file '%s': %s", anchor_file, ub_strerror(rc));
        KF_BAIL(KF_ERR_ZONE_DATA);
    }
    /* libunbound answers names under special-use TLDs (test., invalid., ...) from built-in
     * local zones: NXDOMAIN, "insecure". Only the resolver and the anchor may decide, so
     * those zones go. (The "local-zone: ... nodefault" option has no effect through
     * ub_ctx_set_option; removing the zones does, and must come last: it finalises the
     * context.) */
    static const char *const special[] = { "test.", "invalid.", "localhost.", "onion.",
                                           "home.arpa." };
    for (size_t i = 0; i < sizeof(special) / sizeof(special[0]); i++) {
        (void)ub_ctx_zone_remove(r->ub, special[i]);
    }
    *out = r;
    return KF_OK;
}

void kf_dane_resolver_free(struct kf_dane_resolver *r)
{
    if (r != NULL) {
        ub_ctx_delete(r->ub);
        free(r);
    }
}

void kf_dane_answer_cleanup(struct kf_dane_answer *a)
{
    if (a == NULL) {
        return;
    }
    for (size_t i = 0; i < a->n; i++) {
        free(a->rdata[i]);
    }
    free(a->rdata);
    free(a->len);
    memset(a, 0, sizeof(*a));
}

kf_result kf_dane_resolve(struct kf_dane_resolver *r, const char *name, uint16_t type,
                          struct kf_dane_answer *out)
{
    KF_ENSURE_REF(r);
    KF_ENSURE_REF(name);
    KF_ENSURE_REF(out);
    memset(out, 0, sizeof(*out));
    struct ub_result *res = NULL;
    int rc = ub_resolve(r->ub, name, type, 1 /* IN */, &res);
    if (rc != 0) {
        return lookup_ub_error(rc, name);
    }
    out->rcode = res->rcode;
    out->nxdomain = res->nxdomain != 0;
    out->security = res->secure ? KF_DANE_SECURE : res->bogus ? KF_DANE_BOGUS : KF_DANE_INSECURE;
    if (res->bogus && res->why_bogus != NULL) {
        (void)snprintf(out->why, sizeof(out->why), "%s", res->why_bogus);
    }
    if (res->rcode == 2 /* SERVFAIL */ && !res->bogus) {
        /* No answer at all: the resolver is down, unreachable, or failed itself. */
        kf_err_record(KF_ERR_DNS_LOOKUP, __FILE__, __LINE__, __func__);
        kf_err_note_context("%s: the resolver answered SERVFAIL or did not answer", name);
        ub_resolve_free(res);
        return (kf_result){ KF_ERR_DNS_LOOKUP };
    }
    size_t n = 0;
    while (res->havedata && res->data[n] != NULL) {
        n++;
    }
    kf_result ret = KF_OK;
    if (n > 0) {
        out->rdata = calloc(n, sizeof(*out->rdata));
        out->len = calloc(n, sizeof(*out->len));
        if (out->rdata == NULL || out->len == NULL) {
            ret = (kf_result){ KF_ERR_NOMEM };
            kf_err_record(KF_ERR_NOMEM, __FILE__, __LINE__, __func__);
        }
        for (size_t i = 0; i < n && kf_ok(ret); i++) {
            out->rdata[i] = malloc((size_t)res->len[i] + 1);
            if (out->rdata[i] == NULL) {
                ret = (kf_result){ KF_ERR_NOMEM };
                kf_err_record(KF_ERR_NOMEM, __FILE__, __LINE__, __func__);
                break;
            }
            memcpy(out->rdata[i], res->data[i], (size_t)res->len[i]);
            out->len[i] = (size_t)res->len[i];
            out->n = i + 1;
        }
    }
    ub_resolve_free(res);
    if (!kf_ok(ret)) {
        kf_dane_answer_cleanup(out);
    }
    return ret;
}
