/* dnssec/zone_read.c - reading zone text: the fast scanner where it can, libzscanner for the
 * rest, and several of them side by side on pieces of one file.
 *
 * A signed zone is mostly RRSIG text, and libzscanner reads it at about 270 MB/s here: for the
 * 83 MB perf/ zone that was a third of `keyfort zone verify`. Two things make it faster:
 *
 * - The fast scanner (zone_fast.c) reads the plain one-record-per-line text signers write, a
 *   few times faster. Where it stops (another type, parentheses, a directive), libzscanner
 *   reads on from that line to an owner line some way further, proves it ended in the state it
 *   started in (below), and the fast scanner resumes. A piece where that fails is read again
 *   by libzscanner alone.
 * - A large file is cut into as many pieces as there are threads and each piece gets its own
 *   scanners and its own kf_zone, merged in file order afterwards (kf_zone_absorb) into the
 *   zone one scanner would have built.
 *
 * A piece (or a stretch libzscanner reads for the fast scanner) can only be read alone if it
 * starts where a record starts and the scanner's state there is the one a fresh scanner has.
 * The cuts are at line starts that begin with a name or a directive, so no owner is inherited
 * across a cut; and the text before a cut proves the rest: it must end without an error (a cut
 * inside parentheses or quotes ends it in the middle of a record, which the scanner reports)
 * and with the origin, default TTL and class it began with ($ORIGIN and $TTL are the only
 * directives that change them). Whatever fails that proof, or has an $INCLUDE, or has any
 * error at all, is read again by one libzscanner, so every error and its message is exactly
 * the one-scanner read's.
 */
#include "common/kf_log.h"
#include "dnssec/zone_text.h"

#include <fcntl.h>
#include <libzscanner/scanner.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Pieces smaller than this are not worth a thread and a merge. */
#define ZONE_PIECE_MIN (4u << 20)
#define ZONE_MAX_PIECES 64u
/* Arena room reserved up front beyond the text's size (see zone_prepare). */
#define ZONE_ARENA_SLACK (64u << 10)

kf_result zone_text_fail(struct zone_text *l, uint64_t line, int32_t code, const char *why)
{
    kf_err_record(code, __FILE__, __LINE__, __func__);
    kf_err_note_context("%s:%llu: %s", l->z->file, (unsigned long long)line, why);
    l->res = (kf_result){ code };
    return l->res;
}

static kf_result zone_text_record_fail(struct zone_text *l, uint64_t line, uint16_t type,
                                       kf_result r)
{
    char why[64];
    char name[16];
    (void)snprintf(why, sizeof(why), "%s record: %s", kf_dnssec_type_name(type, name, sizeof(name)),
                   kf_err_str(r.code));
    return zone_text_fail(l, line, r.code, why);
}

/* The owner index of a record's owner as written, checked to lie in the zone. */
static kf_result zone_text_owner(struct zone_text *l, const uint8_t *raw, size_t raw_len,
                                 uint16_t type, uint64_t line, uint32_t *out)
{
    struct kf_zone *z = l->z;
    if (l->last_owner != UINT32_MAX && raw_len == l->last_raw_len &&
        memcmp(raw, l->last_raw, raw_len) == 0) {
        *out = l->last_owner;
        return KF_OK;
    }
    if (raw_len > KF_DNS_MAX_NAME) {
        return zone_text_record_fail(l, line, type, (kf_result){ KF_ERR_MALFORMED });
    }
    uint8_t owner[KF_DNS_MAX_NAME];
    memcpy(owner, raw, raw_len);
    kf_dnssec_name_lower(owner);
    if (!kf_dnssec_name_is_sub(owner, z->origin)) {
        char why[1400];
        char name[1024];
        (void)snprintf(why, sizeof(why), "%s is outside the zone %s",
                       kf_dnssec_name_to_text(owner, name, sizeof(name)), l->origin_text);
        return zone_text_fail(l, line, KF_ERR_ZONE_DATA, why);
    }
    kf_result r = kf_zone_intern(z, owner, out);
    if (!kf_ok(r)) {
        return zone_text_record_fail(l, line, type, r);
    }
    l->last_owner = *out;
    l->last_raw_len = (uint32_t)raw_len;
    memcpy(l->last_raw, raw, raw_len);
    return KF_OK;
}

kf_result zone_text_add(struct zone_text *l, const uint8_t *owner, size_t owner_len, uint16_t type,
                        uint16_t rclass, uint32_t ttl, uint8_t *rdata, size_t rdlen, uint64_t line)
{
    if (rclass != KF_DNS_CLASS_IN) {
        char why[64];
        (void)snprintf(why, sizeof(why), "class %u is not IN", rclass);
        return zone_text_fail(l, line, KF_ERR_ZONE_DATA, why);
    }
    uint32_t idx = 0;
    KF_GUARD(zone_text_owner(l, owner, owner_len, type, line, &idx));
    kf_result r = kf_dnssec_rdata_canonicalise(type, rdata, rdlen);
    if (kf_ok(r)) {
        r = kf_zone_add_at(l->z, idx, type, ttl, rdata, rdlen, (uint32_t)line);
    }
    if (!kf_ok(r)) {
        return zone_text_record_fail(l, line, type, r);
    }
    return KF_OK;
}

static void zone_load_record(zs_scanner_t *s)
{
    struct zone_text *l = s->process.data;
    /* The scanner's RDATA buffer is ours until the next record: canonicalised in place. */
    if (!kf_ok(l->res) ||
        !kf_ok(zone_text_add(l, s->r_owner, s->r_owner_length, s->r_type, s->r_class, s->r_ttl,
                             s->r_data, s->r_data_length, l->line_base + s->line_counter))) {
        s->state = ZS_STATE_STOP;
    }
}

static void zone_load_error(zs_scanner_t *s)
{
    struct zone_text *l = s->process.data;
    if (kf_ok(l->res)) {
        char why[256];
        (void)snprintf(why, sizeof(why), "%s", zs_strerror(s->error.code));
        kf_result_ignore(
            zone_text_fail(l, l->line_base + s->line_counter, KF_ERR_ZONE_SYNTAX, why));
    }
    s->state = ZS_STATE_STOP;
}

static kf_result zone_load(zs_scanner_t *s, struct zone_text *l)
{
    KF_ENSURE(zs_set_processing(s, zone_load_record, zone_load_error, l) == 0, KF_ERR_INTERNAL);
    int rc = zs_parse_all(s);
    KF_GUARD(l->res);
    if (rc != 0) {
        /* An error the callbacks did not see: a file that cannot be read, say. */
        char why[256];
        (void)snprintf(why, sizeof(why), "%s", zs_strerror(s->error.code));
        return zone_text_fail(l, l->line_base + s->line_counter, KF_ERR_ZONE_SYNTAX, why);
    }
    return KF_OK;
}

/* An empty zone for @p origin. Its arena is @p window (a piece's part of a shared block, see
 * zone_read_pieces) or, if NULL, its own, reserving @p text_len bytes and some: RDATA and names
 * in wire form take less room than their text in all but contrived zones, so reading grows
 * the arena rarely, and the reservation costs address space only until it is written. */
static kf_result zone_prepare(struct kf_zone *z, const char *origin, const char *name,
                              size_t text_len, uint8_t *window, size_t window_len,
                              struct zone_text *l)
{
    memset(z, 0, sizeof(*z));
    size_t hint = text_len < KF_ZONE_MAX_ARENA - ZONE_ARENA_SLACK ? text_len + ZONE_ARENA_SLACK
                                                                  : KF_ZONE_MAX_ARENA;
    if (window != NULL) {
        KF_GUARD(kf_buf_init_fixed(&z->arena, window, window_len));
    } else {
        KF_GUARD(kf_buf_init_public(&z->arena, hint));
    }
    z->file = strdup(name);
    KF_ENSURE(z->file != NULL, KF_ERR_NOMEM);
    if (!kf_ok(kf_dnssec_name_from_text(origin, z->origin, &z->origin_len))) {
        kf_err_note_context("origin \"%s\" is not a domain name", origin);
        KF_BAIL(KF_ERR_INVALID_ARG);
    }
    kf_dnssec_name_lower(z->origin);
    l->z = z;
    l->res = KF_OK;
    l->line_base = 0;
    l->last_owner = UINT32_MAX;
    l->last_raw_len = 0;
    kf_dnssec_name_to_text(z->origin, l->origin_text, sizeof(l->origin_text));
    return KF_OK;
}

/* One scanner over a file (@p path) or a string. */
static kf_result zone_load_with(struct kf_zone *z, const char *origin, const char *name,
                                const char *path, const char *text, size_t len)
{
    struct zone_text l;
    kf_result r = zone_prepare(z, origin, name, len, NULL, 0, &l);
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
    if (zs_init(s, l.origin_text, KF_DNS_CLASS_IN, ZONE_TEXT_DEFAULT_TTL) != 0) {
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
    z->pieces = kf_ok(r) ? 1 : 0;
    return r;
}

/* ---- pieces side by side --------------------------------------------------------------------
 */

/* What a scanner's next record inherits from the records and directives before it, besides
 * the owner (a piece starts with an explicit one). */
struct zone_scan_state {
    uint32_t origin_len;
    uint8_t origin[ZS_MAX_DNAME_LENGTH + ZS_MAX_LABEL_LENGTH];
    uint32_t ttl;
    uint16_t rclass;
};

static void zone_scan_state_get(const zs_scanner_t *s, struct zone_scan_state *out)
{
    memset(out, 0, sizeof(*out));
    out->origin_len = s->zone_origin_length;
    if (out->origin_len <= sizeof(out->origin)) {
        memcpy(out->origin, s->zone_origin, out->origin_len);
    }
    out->ttl = s->default_ttl;
    out->rclass = s->default_class;
}

static bool zone_scan_state_equal(const struct zone_scan_state *a, const struct zone_scan_state *b)
{
    return a->origin_len == b->origin_len && a->ttl == b->ttl && a->rclass == b->rclass &&
           memcmp(a->origin, b->origin, sizeof(a->origin)) == 0;
}

struct zone_piece;
static void zone_piece_scan(struct zone_piece *p);
static size_t zone_cut_at(const char *t, size_t len, size_t from);
static bool zone_has_include(const char *t, size_t len);

struct zone_piece {
    const char *text;
    size_t len;
    uint8_t *window; /* the piece's arena, in the block all pieces share */
    size_t window_len;
    size_t window_at; /* its offset in the block */
    size_t text_at;   /* its offset in the text, for the debug log */
    const char *origin;
    const char *name;
    struct kf_zone z;
    struct zone_text l;
    zs_scanner_t *s; /* for the lines the fast scanner leaves, allocated when first needed */
    bool ok;         /* read to its end without an error */
    bool end_fresh;  /* and with the state a fresh scanner has */
    uint64_t newlines;
};

static void zone_piece_read(struct zone_piece *p)
{
    struct timespec t0;
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    zone_piece_scan(p);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    kf_log(KF_LOG_DEBUG, "dnssec",
           "%s: piece of %zu bytes at +%zu: %zu records (%zu by the fast scanner), %s, %.0f ms",
           p->name, p->len, p->text_at, p->z.n_rrs, p->z.fast_rrs, p->ok ? "read" : "not read",
           (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
}

/* An empty zone for the piece, in its window. */
static bool zone_piece_prepare(struct zone_piece *p)
{
    return kf_ok(
               zone_prepare(&p->z, p->origin, p->name, p->len, p->window, p->window_len, &p->l)) &&
           kf_ok(kf_zone_reserve(&p->z, p->newlines / 2 + 1, p->newlines + 1));
}

/*
 * libzscanner over text[from, to) of the piece, its lines numbered after @p line_base, into
 * the piece's zone. True if it read to the end without an error and its state there is a
 * fresh scanner's (what the text after @p to is read with).
 */
static bool zone_piece_zscan(struct zone_piece *p, size_t from, size_t to, uint64_t line_base)
{
    if (p->s == NULL) {
        /* The scanner is about 300 KiB: never on the stack. */
        p->s = calloc(1, sizeof(*p->s));
        if (p->s == NULL) {
            return false;
        }
    }
    zs_scanner_t *s = p->s;
    if (zs_init(s, p->l.origin_text, KF_DNS_CLASS_IN, ZONE_TEXT_DEFAULT_TTL) != 0) {
        return false;
    }
    struct zone_scan_state start;
    struct zone_scan_state end;
    zone_scan_state_get(s, &start);
    p->l.line_base = line_base;
    bool ok = zs_set_input_string(s, p->text + from, to - from) == 0 && kf_ok(zone_load(s, &p->l));
    p->l.line_base = 0;
    zone_scan_state_get(s, &end);
    zs_deinit(s);
    p->end_fresh = zone_scan_state_equal(&start, &end);
    return ok;
}

/* The fast scanner's share of a piece's text: it hands the rest over at a line of no fewer
 * bytes, so a zone with an odd record now and then does not start a scanner for each. */
#define ZONE_ZSCAN_MIN (16u << 10)

/*
 * Read the piece with the fast scanner (zone_fast.c) and give each stretch of lines it does
 * not take to libzscanner: from the line it stopped at, which starts with an owner name, to
 * the first such line ZONE_ZSCAN_MIN bytes on. That stretch must prove it can be read alone
 * the way the pieces do (no error, so no open parenthesis at its end, and a fresh scanner's
 * state), and the fast scanner goes on after it. False if anything fails that.
 */
static bool zone_piece_mixed(struct zone_piece *p)
{
    size_t at = 0;
    uint64_t line = 0;
    while (at < p->len) {
        size_t used = 0;
        uint64_t lines = 0;
        bool named = false;
        if (!kf_ok(zone_fast_read(&p->l, p->text + at, p->len - at, line, &used, &lines, &named))) {
            return false;
        }
        at += used;
        line += lines;
        if (at == p->len) {
            break;
        }
        if (!named) {
            return false; /* a record of the owner before, or a continuation */
        }
        size_t from = p->len - at > ZONE_ZSCAN_MIN ? at + ZONE_ZSCAN_MIN : p->len;
        size_t to = zone_cut_at(p->text, p->len, from);
        if (!zone_piece_zscan(p, at, to, line) || !p->end_fresh) {
            return false;
        }
        for (const char *c = p->text + at, *e = p->text + to; c < e; c++) {
            c = memchr(c, '\n', (size_t)(e - c));
            if (c == NULL) {
                break;
            }
            line++;
        }
        at = to;
    }
    p->end_fresh = true;
    return true;
}

static void zone_piece_scan(struct zone_piece *p)
{
    p->ok = false;
    /* Each piece looks for $INCLUDE in its own text, side by side with the others. */
    if (zone_has_include(p->text, p->len)) {
        return;
    }
    /* The merge shifts line numbers by the lines of the pieces before; the count also sizes
     * the tables: a record per line at most (most zone files), an owner per two lines. */
    for (const char *c = p->text, *e = p->text + p->len; c < e; c++) {
        c = memchr(c, '\n', (size_t)(e - c));
        if (c == NULL) {
            break;
        }
        p->newlines++;
    }
    if (!zone_piece_prepare(p)) {
        return;
    }
    if (zone_piece_mixed(p)) {
        p->ok = true;
    } else {
        /* Start again with libzscanner alone: the window is the piece's, its tables not. */
        p->z.arena.data = NULL;
        kf_zone_cleanup(&p->z);
        p->ok = zone_piece_prepare(p) && zone_piece_zscan(p, 0, p->len, 0);
    }
    free(p->s);
    p->s = NULL;
}

static void *zone_piece_main(void *arg)
{
    zone_piece_read(arg);
    return NULL;
}

/* The first line start at or after @p from whose first byte can begin an owner name or a
 * directive (not a blank, a comment, a parenthesis or a quote), or @p len. */
static size_t zone_cut_at(const char *t, size_t len, size_t from)
{
    size_t p = from;
    while (p > 0 && p < len && t[p - 1] != '\n') {
        const char *nl = memchr(t + p, '\n', len - p);
        if (nl == NULL) {
            return len;
        }
        p = (size_t)(nl - t) + 1;
    }
    while (p < len) {
        if (zone_text_line_named(t[p])) {
            return p;
        }
        const char *nl = memchr(t + p, '\n', len - p);
        if (nl == NULL) {
            return len;
        }
        p = (size_t)(nl - t) + 1;
    }
    return len;
}

/* $INCLUDE reads another file relative to this one's path: left to the one-scanner read. */
static bool zone_has_include(const char *t, size_t len)
{
    for (const char *c = t, *e = t + len; c < e; c++) {
        c = memchr(c, '$', (size_t)(e - c));
        if (c == NULL) {
            return false;
        }
        if ((size_t)(e - c) >= 8 && strncasecmp(c, "$INCLUDE", 8) == 0) {
            return true;
        }
    }
    return false;
}

/*
 * Read @p text in up to @p want pieces side by side (one piece: only the fast scanner's gain).
 * *out_pieces gets the number read, and the zone is in @p out only when that is above 0 and
 * the result is KF_OK. Any other outcome leaves the read to one scanner, which alone reports
 * errors.
 */
static kf_result zone_read_pieces(const char *text, size_t len, const char *origin,
                                  const char *name, unsigned want, struct kf_zone *out,
                                  unsigned *out_pieces)
{
    *out_pieces = 0;
    if (want > ZONE_MAX_PIECES) {
        want = ZONE_MAX_PIECES;
    }
    if (want < 1 || len == 0) {
        return KF_OK;
    }
    struct zone_piece *pc = calloc(want, sizeof(*pc));
    pthread_t *tid = calloc(want, sizeof(*tid));
    bool *started = calloc(want, sizeof(*started));
    if (pc == NULL || tid == NULL || started == NULL) {
        free(pc);
        free(tid);
        free(started);
        KF_BAIL(KF_ERR_NOMEM);
    }
    unsigned n = 0;
    size_t at = 0;
    for (unsigned k = 0; k < want && at < len; k++) {
        size_t end =
            k + 1 == want ? len : zone_cut_at(text, len, (size_t)((double)len * (k + 1) / want));
        if (end <= at) {
            continue;
        }
        pc[n].text = text + at;
        pc[n].len = end - at;
        pc[n].origin = origin;
        pc[n].name = name;
        pc[n].text_at = at;
        n++;
        at = end;
    }
    if (n < 1) {
        free(pc);
        free(tid);
        free(started);
        return KF_OK;
    }
    /* One block holds the arenas of all pieces, each in a window twice its text, so the merge
     * moves no RDATA: writing fresh memory is what a copy would cost most, and the part of a
     * window a piece leaves unwritten is address space only. A piece that overflows its window
     * fails and leaves the read to one scanner. */
    size_t block = 0;
    for (unsigned k = 0; k < n; k++) {
        pc[k].window_at = block;
        pc[k].window_len = 2 * pc[k].len + ZONE_ARENA_SLACK;
        block += pc[k].window_len;
    }
    uint8_t *arena = block < KF_ZONE_MAX_ARENA ? malloc(block) : NULL;
    if (arena == NULL) {
        free(pc);
        free(tid);
        free(started);
        return KF_OK; /* too large for one arena, or no memory: one scanner tells */
    }
    for (unsigned k = 0; k < n; k++) {
        pc[k].window = arena + pc[k].window_at;
    }
    for (unsigned k = 1; k < n; k++) {
        started[k] = pthread_create(&tid[k], NULL, zone_piece_main, &pc[k]) == 0;
    }
    /* This thread reads piece 0 (and any piece no thread could be started for). A piece's
     * failure is not this read's error: the one-scanner read decides that. */
    kf_err_mute_begin();
    zone_piece_read(&pc[0]);
    for (unsigned k = 1; k < n; k++) {
        if (started[k]) {
            (void)pthread_join(tid[k], NULL);
        } else {
            zone_piece_read(&pc[k]);
        }
    }
    /* Each piece was read from a fresh scanner's state: right if the one before it ended in
     * that state. */
    bool proven = true;
    for (unsigned k = 0; k < n; k++) {
        proven = proven && pc[k].ok && (k + 1 == n || pc[k].end_fresh);
    }
    /* The pieces' arenas are borrowed windows: the block becomes piece 0's (growable, owned)
     * arena, ending where the last piece's data ends. It can only fail on arguments that hold
     * by construction (len <= cap, block below KF_ZONE_MAX_ARENA). A later growth (signing
     * adds records) reallocs: the unwritten parts of the windows are never touched. */
    for (unsigned k = 0; k < n; k++) {
        pc[k].z.arena.data = NULL;
    }
    struct kf_zone *z = &pc[0].z;
    kf_result_ignore(
        kf_buf_adopt_public(&z->arena, arena, pc[n - 1].window_at + pc[n - 1].z.arena.len, block));
    size_t owners = 0;
    size_t rrs = 0;
    for (unsigned k = 0; k < n; k++) {
        owners += pc[k].z.n_owners;
        rrs += pc[k].z.n_rrs;
    }
    uint64_t lines = pc[0].newlines;
    kf_result r = proven ? kf_zone_reserve(z, owners, rrs) : KF_OK;
    for (unsigned k = 1; k < n && proven && kf_ok(r); k++) {
        r = kf_zone_absorb(z, &pc[k].z, (uint32_t)pc[k].window_at, (uint32_t)lines);
        lines += pc[k].newlines;
    }
    kf_err_mute_end();
    for (unsigned k = 1; k < n; k++) {
        kf_zone_cleanup(&pc[k].z);
    }
    if (proven && kf_ok(r)) {
        *out = *z;
        out->pieces = n;
        *out_pieces = n;
    } else {
        kf_zone_cleanup(z); /* frees the block */
    }
    free(pc);
    free(tid);
    free(started);
    return KF_OK;
}

/* ---- entry points ---------------------------------------------------------------------------
 */

kf_result kf_zone_load_file_threads(const char *path, const char *origin, unsigned threads,
                                    struct kf_zone *out)
{
    KF_ENSURE_REF(path);
    KF_ENSURE_REF(origin);
    KF_ENSURE_REF(out);
    /* Anything unusual about the file (not a regular file, cannot be mapped) is left to the
     * scanner, whose messages say what went wrong. */
    size_t size = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
        size = (size_t)st.st_size;
        unsigned want = kf_dnssec_threads(threads, size, ZONE_PIECE_MIN);
        void *map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (map != MAP_FAILED) {
            (void)madvise(map, size, MADV_SEQUENTIAL);
            unsigned used = 0;
            kf_result r = zone_read_pieces(map, size, origin, path, want, out, &used);
            (void)munmap(map, size);
            if (!kf_ok(r) || used > 0) {
                (void)close(fd);
                out->threads = threads;
                return r;
            }
        }
    }
    if (fd >= 0) {
        (void)close(fd);
    }
    kf_result r = zone_load_with(out, origin, path, path, NULL, size);
    out->threads = threads;
    return r;
}

kf_result kf_zone_load_file(const char *path, const char *origin, struct kf_zone *out)
{
    return kf_zone_load_file_threads(path, origin, 0, out);
}

kf_result kf_zone_load_string(const char *text, size_t len, const char *origin, const char *name,
                              struct kf_zone *out)
{
    KF_ENSURE_REF(text);
    KF_ENSURE_REF(origin);
    KF_ENSURE_REF(out);
    return zone_load_with(out, origin, name != NULL ? name : "(string)", NULL, text, len);
}

kf_result kf_zone_load_string_pieces(const char *text, size_t len, const char *origin,
                                     const char *name, unsigned pieces, struct kf_zone *out)
{
    KF_ENSURE_REF(text);
    KF_ENSURE_REF(origin);
    KF_ENSURE_REF(out);
    name = name != NULL ? name : "(string)";
    unsigned used = 0;
    KF_GUARD(zone_read_pieces(text, len, origin, name, pieces, out, &used));
    if (used > 0) {
        return KF_OK;
    }
    return zone_load_with(out, origin, name, NULL, text, len);
}
