/* dnssec/zone_write.c - a zone as presentation text, written atomically.
 *
 * The text of each record comes from libknot's dumper, so every type Knot knows prints in its
 * standard form and the peers (ldns, BIND, Knot) read the output back. */
#include "dnssec/dnssec.h"

#include <errno.h>
#include <libgen.h>
#include <libknot/descriptor.h>
#include <libknot/rrset-dump.h>
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

kf_result kf_zone_write(const struct kf_zone *z, FILE *f)
{
    KF_ENSURE_REF(z);
    KF_ENSURE_REF(f);
    KF_ENSURE(z->sorted, KF_ERR_INTERNAL);
    /* RDATA of up to 64 KiB becomes at most ~2 bytes of hex or base64 per byte plus fields. */
    size_t cap = 256 * 1024;
    char *line = malloc(cap);
    KF_ENSURE(line != NULL, KF_ERR_NOMEM);
    kf_result r = KF_OK;
    for (size_t i = 0; i < z->n_rrsets && kf_ok(r); i++) {
        const struct kf_zone_rrset *s = &z->rrsets[i];
        for (uint32_t j = 0; j < s->count; j++) {
            const struct kf_zone_rr *rr = &z->rrs[s->first + j];
            /* An owner's RRSIGs form one "RRset" here but keep the TTLs of the RRsets they
             * cover (RFC 4034 s3: the RRSIG's TTL equals the covered RRset's). */
            uint32_t ttl = rr->type == KF_DNS_RRSIG ? rr->ttl : s->ttl;
            r = kf_zone_rr_to_text(kf_zone_owner_name(z, rr->owner), rr->type, ttl,
                                   kf_zone_rdata(z, rr), rr->rdlen, line, cap);
            if (!kf_ok(r)) {
                break;
            }
            if (fputs(line, f) == EOF || fputc('\n', f) == EOF) {
                kf_err_record(KF_ERR_IO, __FILE__, __LINE__, __func__);
                kf_err_note_errno(errno);
                r = (kf_result){ KF_ERR_IO };
                break;
            }
        }
    }
    free(line);
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
