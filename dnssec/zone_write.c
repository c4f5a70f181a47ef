/* dnssec/zone_write.c - a zone as presentation text, written atomically.
 *
 * The text of each record comes from libknot's dumper, so every type Knot knows prints in its
 * standard form and the peers (ldns, BIND, Knot) read the output back. */
#include "dnssec/dnssec.h"

#include <errno.h>
#include <libgen.h>
#include <libknot/descriptor.h>
#include <libknot/rrset-dump.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *kf_dnssec_type_name(uint16_t type, char *out, size_t cap)
{
    if (knot_rrtype_to_string(type, out, cap) < 0) {
        (void)snprintf(out, cap, "TYPE%u", type);
    }
    return out;
}

kf_result kf_zone_rr_to_text(const uint8_t *owner, uint16_t type, uint32_t ttl,
                             const uint8_t *rdata, size_t rdlen, char *out, size_t cap)
{
    KF_ENSURE_REF(owner);
    KF_ENSURE_REF(out);
    KF_ENSURE(rdlen <= UINT16_MAX, KF_ERR_TOO_LARGE);
    /* One knot_rdata_t: a 16-bit length and the data, padded to an even size. */
    uint16_t storage[(2 + 65536) / 2 + 1];
    knot_rdata_t *rd = (knot_rdata_t *)storage;
    rd->len = (uint16_t)rdlen;
    memcpy(rd->data, rdata, rdlen);
    knot_rrset_t set;
    memset(&set, 0, sizeof(set));
    set.owner = (knot_dname_t *)(uintptr_t)owner;
    set.ttl = ttl;
    set.type = type;
    set.rclass = KF_DNS_CLASS_IN;
    set.rrs.count = 1;
    set.rrs.size = (uint32_t)(2 + rdlen + (rdlen & 1));
    set.rrs.rdata = rd;
    int h = knot_rrset_txt_dump_header(&set, ttl, out, cap, &KNOT_DUMP_STYLE_DEFAULT);
    KF_ENSURE(h > 0 && (size_t)h < cap, KF_ERR_BUFFER_TOO_SMALL);
    int d = knot_rrset_txt_dump_data(&set, 0, out + h, cap - (size_t)h, &KNOT_DUMP_STYLE_DEFAULT);
    KF_ENSURE(d >= 0, KF_ERR_BUFFER_TOO_SMALL);
    return KF_OK;
}

/* Text of RRsets [from, to) appended to @p out (a growable buffer of chars). */
static kf_result zone_write_block(const struct kf_zone *z, size_t from, size_t to,
                                  struct kf_buf *out)
{
    /* RDATA of up to 64 KiB becomes at most ~2 bytes of hex or base64 per byte plus fields. */
    enum { LINE_CAP = 256 * 1024 };
    for (size_t i = from; i < to; i++) {
        const struct kf_zone_rrset *s = &z->rrsets[i];
        for (uint32_t j = 0; j < s->count; j++) {
            const struct kf_zone_rr *rr = &z->rrs[s->first + j];
            if (out->cap - out->len < LINE_CAP) {
                /* Room for the longest line, then format in place. */
                size_t cap =
                    out->cap * 2 > out->len + LINE_CAP ? out->cap * 2 : out->len + LINE_CAP;
                uint8_t *big = realloc(out->data, cap);
                KF_ENSURE(big != NULL, KF_ERR_NOMEM);
                out->data = big;
                out->cap = cap;
            }
            /* An owner's RRSIGs form one "RRset" here but keep the TTLs of the RRsets they
             * cover (RFC 4034 s3: the RRSIG's TTL equals the covered RRset's). */
            uint32_t ttl = rr->type == KF_DNS_RRSIG ? rr->ttl : s->ttl;
            char *line = (char *)out->data + out->len;
            KF_GUARD(kf_zone_rr_to_text(kf_zone_owner_name(z, rr->owner), rr->type, ttl,
                                        kf_zone_rdata(z, rr), rr->rdlen, line, LINE_CAP - 1));
            size_t n = strlen(line);
            line[n] = '\n';
            out->len += n + 1;
        }
    }
    return KF_OK;
}

#define ZONE_WRITE_BLOCK 4096 /* RRsets formatted by one thread at a time */
#define ZONE_WRITE_MAX_THREADS 8

struct zone_write_job {
    const struct kf_zone *z;
    size_t from, to;
    struct kf_buf out;
    kf_result r;
};

static void *zone_write_worker(void *arg)
{
    struct zone_write_job *j = arg;
    j->out.len = 0;
    j->r = zone_write_block(j->z, j->from, j->to, &j->out);
    return NULL;
}

static kf_result zone_write_out(FILE *f, const struct kf_buf *b)
{
    if (b->len > 0 && fwrite(b->data, 1, b->len, f) != b->len) {
        kf_err_record(KF_ERR_IO, __FILE__, __LINE__, __func__);
        kf_err_note_errno(errno);
        return (kf_result){ KF_ERR_IO };
    }
    return KF_OK;
}

kf_result kf_zone_write(const struct kf_zone *z, FILE *f)
{
    KF_ENSURE_REF(z);
    KF_ENSURE_REF(f);
    KF_ENSURE(z->sorted, KF_ERR_INTERNAL);
    /* Formatting the text costs more than writing it: blocks of RRsets are formatted by a few
     * threads side by side and written in order, so memory stays at a few blocks. */
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    size_t nt = cpus > 1 ? (size_t)cpus : 1;
    nt = nt > ZONE_WRITE_MAX_THREADS ? ZONE_WRITE_MAX_THREADS : nt;
    if (z->n_rrsets < 2 * ZONE_WRITE_BLOCK) {
        nt = 1;
    }
    struct zone_write_job jobs[ZONE_WRITE_MAX_THREADS];
    memset(jobs, 0, sizeof(jobs));
    kf_result r = KF_OK;
    for (size_t t = 0; t < nt && kf_ok(r); t++) {
        jobs[t].z = z;
        r = kf_buf_init_growable(&jobs[t].out, 1u << 20);
    }
    for (size_t at = 0; at < z->n_rrsets && kf_ok(r); at += nt * ZONE_WRITE_BLOCK) {
        pthread_t tids[ZONE_WRITE_MAX_THREADS];
        bool running[ZONE_WRITE_MAX_THREADS] = { false };
        for (size_t t = 0; t < nt; t++) {
            size_t from = at + t * ZONE_WRITE_BLOCK;
            jobs[t].from = from < z->n_rrsets ? from : z->n_rrsets;
            jobs[t].to =
                from + ZONE_WRITE_BLOCK < z->n_rrsets ? from + ZONE_WRITE_BLOCK : z->n_rrsets;
            jobs[t].r = KF_OK;
            if (t > 0) {
                running[t] = pthread_create(&tids[t], NULL, zone_write_worker, &jobs[t]) == 0;
            }
        }
        for (size_t t = 0; t < nt; t++) {
            if (!running[t]) {
                (void)zone_write_worker(&jobs[t]); /* block 0, or a thread that did not start */
            }
        }
        for (size_t t = 1; t < nt; t++) {
            if (running[t]) {
                (void)pthread_join(tids[t], NULL);
            }
        }
        for (size_t t = 0; t < nt && kf_ok(r); t++) {
            r = kf_ok(jobs[t].r) ? zone_write_out(f, &jobs[t].out) : jobs[t].r;
        }
    }
    for (size_t t = 0; t < nt; t++) {
        free(jobs[t].out.data); /* public zone text: no wipe */
    }
    return r;
}

static mode_t zone_write_umask(void)
{
    mode_t mask = 022;
    FILE *f = fopen("/proc/self/status", "r");
    char line[128];
    while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
        unsigned m = 0;
        if (sscanf(line, "Umask: %o", &m) == 1) {
            mask = (mode_t)m;
            break;
        }
    }
    if (f != NULL) {
        fclose(f);
    }
    return mask;
}

kf_result kf_zone_write_file(const struct kf_zone *z, const char *path)
{
    KF_ENSURE_REF(z);
    KF_ENSURE_REF(path);
    /* The temporary file sits beside the target, so rename() replaces it atomically. */
    char tmp[4096];
    int n = snprintf(tmp, sizeof(tmp), "%s.kf-XXXXXX", path);
    KF_ENSURE(n > 0 && (size_t)n < sizeof(tmp), KF_ERR_TOO_LARGE);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        kf_err_note_errno(errno);
        kf_err_note_context("temporary file beside %s", path);
        KF_BAIL(KF_ERR_FILE_OPEN);
    }
    /* mkstemp makes the file 0600; a zone file is public, so give it what open(2) would
     * have: 0644 less the umask (read from /proc: umask(2) cannot be read without being set,
     * which would race with other threads). */
    (void)fchmod(fd, 0644 & ~zone_write_umask());
    FILE *f = fdopen(fd, "w");
    if (f == NULL) {
        int e = errno;
        (void)close(fd);
        (void)unlink(tmp);
        kf_err_note_errno(e);
        KF_BAIL(KF_ERR_NOMEM);
    }
    kf_result r = kf_zone_write(z, f);
    if (kf_ok(r) && (fflush(f) != 0 || fsync(fileno(f)) != 0)) {
        kf_err_record(KF_ERR_IO, __FILE__, __LINE__, __func__);
        kf_err_note_errno(errno);
        r = (kf_result){ KF_ERR_IO };
    }
    if (fclose(f) != 0 && kf_ok(r)) {
        kf_err_record(KF_ERR_IO, __FILE__, __LINE__, __func__);
        kf_err_note_errno(errno);
        r = (kf_result){ KF_ERR_IO };
    }
    if (kf_ok(r) && rename(tmp, path) != 0) {
        kf_err_record(KF_ERR_IO, __FILE__, __LINE__, __func__);
        kf_err_note_errno(errno);
        r = (kf_result){ KF_ERR_IO };
    }
    if (!kf_ok(r)) {
        (void)unlink(tmp);
        kf_err_add_context("writing %s", path);
    }
    return r;
}
