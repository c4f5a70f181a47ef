/* tests/unit/dnssec/test_zone_read.c - the parallel zone reader (dnssec/zone_read.c): pieces read
 * side by side give the zone one scanner gives, record for record and line for line; what the
 * pieces cannot prove they read right is read again by one scanner, errors included; and the
 * sort's shortcut for ordered input orders exactly as the general sort. */
#include "dnssec/dnssec.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A zone of @p names delegations and hosts in the shapes zone files take: directives, comments,
 * blank lines, inherited owners, mixed case, relative and absolute names, a quoted string with
 * a semicolon, and multi-line records whose continuation lines are indented. @p mid, if not
 * NULL, goes in before name @p at. */
static char *zr_text_at(size_t names, const char *mid, size_t at)
{
    size_t cap = 4096 + names * 400 + (mid != NULL ? strlen(mid) : 0);
    char *t = malloc(cap);
    cr_assert_not_null(t);
    size_t n = (size_t)snprintf(t, cap,
                                "; a test zone\n"
                                "$TTL 3600\n"
                                "@ IN SOA ns1 hostmaster 1 7200 3600 1209600 300\n"
                                "  NS ns1\n"
                                "ns1 A 192.0.2.1\n\n");
    for (size_t i = 0; i < names; i++) {
        if (mid != NULL && i == at) {
            n += (size_t)snprintf(t + n, cap - n, "%s", mid);
        }
        n += (size_t)snprintf(t + n, cap - n,
                              "D%zu 300 NS ns.d%zu\n"
                              "\tNS ns2.Example.\n"
                              "ns.d%zu A 198.51.100.%zu ; glue\n"
                              "h%zu.Example. TXT \"x;y\" plain\n"
                              "h%zu MX ( 10\n"
                              "    mail.h%zu )\n"
                              "\n",
                              i, i, i, i % 250, i, i, i);
    }
    cr_assert_lt(n, cap);
    return t;
}

/* ... with @p mid a quarter of the way in, before any cut into 2 or 3 pieces. */
static char *zr_text(size_t names, const char *mid)
{
    return zr_text_at(names, mid, names / 4);
}

static void zr_load_both(const char *text, unsigned pieces, struct kf_zone *one,
                         struct kf_zone *many)
{
    size_t len = strlen(text);
    cr_assert(kf_ok(kf_zone_load_string(text, len, "example.", "t", one)));
    cr_assert(kf_ok(kf_zone_load_string_pieces(text, len, "example.", "t", pieces, many)));
    cr_assert(kf_zone_same_records(one, many), "%u pieces", pieces);
}

Test(zone_read, pieces_give_the_one_scanner_zone)
{
    char *text = zr_text(3000, NULL);
    for (unsigned pieces = 2; pieces <= 9; pieces++) {
        struct kf_zone one;
        struct kf_zone many;
        zr_load_both(text, pieces, &one, &many);
        cr_assert_eq(one.pieces, 1);
        cr_assert_eq(many.pieces, pieces, "read in %u pieces, not %u", many.pieces, pieces);
        cr_assert_eq(one.n_rrs, 3 + 3000 * 5);
        /* Line numbers came through the merge: the last record is the last MX. */
        cr_assert_eq(many.rrs[many.n_rrs - 1].line, 5 + 3000 * 7);
        cr_assert(kf_ok(kf_zone_sort(&one)));
        cr_assert(kf_ok(kf_zone_sort(&many)));
        cr_assert_eq(one.n_rrsets, many.n_rrsets);
        cr_assert(kf_ok(kf_zone_analyse(&many)));
        kf_zone_cleanup(&one);
        kf_zone_cleanup(&many);
    }
    free(text);
}

/* A directive that changes what later records inherit, before a cut, leaves the piece after the
 * cut unproven; after the last cut it is read in its own piece. Both read right. */
Test(zone_read, directives_before_a_cut_fall_back)
{
    static const char *const mids[] = {
        "$ORIGIN sub.example.\nx A 192.0.2.9\n$ORIGIN example.\n" /* restored: still proven */,
        "$ORIGIN sub.example.\nx A 192.0.2.9\n",
        "$TTL 60\n",
    };
    static const unsigned want[] = { 2, 1, 1 };
    for (size_t i = 0; i < sizeof(mids) / sizeof(mids[0]); i++) {
        char *text = zr_text(400, mids[i]);
        struct kf_zone one;
        struct kf_zone many;
        zr_load_both(text, 2, &one, &many);
        cr_assert_eq(many.pieces, want[i], "case %zu: %u pieces", i, many.pieces);
        kf_zone_cleanup(&one);
        kf_zone_cleanup(&many);
        free(text);
    }
    /* The same $TTL in the last piece only: nothing before the cut changed. */
    char *text = zr_text(400, NULL);
    size_t len = strlen(text);
    char *late = malloc(len + 64);
    cr_assert_not_null(late);
    memcpy(late, text, len);
    strcpy(late + len, "$TTL 60\nlate A 192.0.2.10\n");
    struct kf_zone one;
    struct kf_zone many;
    zr_load_both(late, 2, &one, &many);
    cr_assert_eq(many.pieces, 2);
    cr_assert_eq(many.rrs[many.n_rrs - 1].ttl, 60);
    kf_zone_cleanup(&one);
    kf_zone_cleanup(&many);
    free(late);
    free(text);
}

/* Continuation lines that start in column 0 look like owners: a cut there ends the piece before
 * inside the parentheses, the scanner says so, and one scanner reads it all. */
Test(zone_read, cut_inside_parentheses_falls_back)
{
    char *text = zr_text(200, NULL);
    size_t len = strlen(text);
    size_t cap = len * 2 + 64;
    char *t = malloc(cap);
    cr_assert_not_null(t);
    size_t n = (size_t)snprintf(t, cap, "%sbig TXT (\n", text);
    for (int i = 0; n + 32 < cap && i < 4000; i++) {
        n += (size_t)snprintf(t + n, cap - n, "word%d\n", i);
    }
    n += (size_t)snprintf(t + n, cap - n, ")\n");
    for (unsigned pieces = 2; pieces <= 4; pieces++) {
        struct kf_zone one;
        struct kf_zone many;
        zr_load_both(t, pieces, &one, &many);
        cr_assert_eq(many.pieces, 1, "%u pieces: %u", pieces, many.pieces);
        kf_zone_cleanup(&one);
        kf_zone_cleanup(&many);
    }
    free(t);
    free(text);
}

/* Every error is the one-scanner read's: same code, same file:line and reason. */
Test(zone_read, errors_are_the_one_scanner_errors)
{
    static const char *const mids[] = {
        "bad A 300.1.1.1\n",                    /* syntax */
        "out.of.zone.org. A 192.0.2.1\n",       /* outside the zone */
        "ch CH TXT \"x\"\n",                    /* not IN */
        "unclosed TXT ( \"x\"\n",               /* a parenthesis left open to the end */
        "$INCLUDE /nonexistent/keyfort-zone\n", /* left to one scanner, then fails */
    };
    for (size_t c = 0; c < 2 * sizeof(mids) / sizeof(mids[0]); c++) {
        size_t i = c / 2;
        /* In the first piece, and in the last. */
        char *text = zr_text_at(400, mids[i], c % 2 == 0 ? 100 : 350);
        size_t len = strlen(text);
        struct kf_zone z;
        kf_result one = kf_zone_load_string(text, len, "example.", "t", &z);
        cr_assert(!kf_ok(one), "case %zu loads", i);
        char want[512];
        snprintf(want, sizeof(want), "%s", kf_err_last_context());
        kf_err_clear();
        kf_result many = kf_zone_load_string_pieces(text, len, "example.", "t", 3, &z);
        cr_assert_eq(many.code, one.code, "case %zu", i);
        cr_assert_str_eq(kf_err_last_context(), want, "case %zu", i);
        cr_assert_neq(want[0], '\0');
        free(text);
    }
}

/* The file path: a file of several MiB is cut when threads allow it. */
Test(zone_read, large_file_read_in_pieces)
{
    char *text = zr_text(50000, NULL);
    char path[] = "/tmp/keyfort-zone-read-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    size_t len = strlen(text);
    cr_assert_eq(write(fd, text, len), (ssize_t)len);
    close(fd);
    cr_assert_gt(len, 5u << 20, "%zu bytes: too small to be cut", len);
    struct kf_zone one;
    struct kf_zone many;
    cr_assert(kf_ok(kf_zone_load_file_threads(path, "example.", 1, &one)));
    cr_assert(kf_ok(kf_zone_load_file_threads(path, "example.", 2, &many)));
    unlink(path);
    cr_assert_eq(one.pieces, 1);
    cr_assert_eq(many.pieces, 2);
    cr_assert(kf_zone_same_records(&one, &many));
    kf_zone_cleanup(&one);
    kf_zone_cleanup(&many);
    free(text);
}

/* ---- sort ------------------------------------------------------------------------------------ */

/* The records of a sorted zone as text lines, in order, one string. */
static char *zr_sorted_text(struct kf_zone *z)
{
    cr_assert(kf_ok(kf_zone_sort(z)));
    size_t cap = 64 + z->n_rrs * 128;
    char *out = malloc(cap);
    cr_assert_not_null(out);
    size_t n = 0;
    for (size_t i = 0; i < z->n_rrs; i++) {
        const struct kf_zone_rr *rr = &z->rrs[i];
        char line[1024];
        cr_assert(kf_ok(kf_zone_rr_to_text(kf_zone_owner_name(z, rr->owner), rr->type, rr->ttl,
                                           kf_zone_rdata(z, rr), rr->rdlen, line, sizeof(line))));
        n += (size_t)snprintf(out + n, cap - n, "%s\n", line);
        cr_assert_lt(n, cap);
    }
    return out;
}

/* Input in canonical order takes the shortcut; the same records shuffled, or with one owner's
 * records apart, take the general sort: all three come out the same. */
Test(zone_read, sort_shortcut_orders_as_the_general_sort)
{
    static const char ordered[] = "example. SOA ns hm 1 2 3 4 5\n"
                                  "example. NS ns\n"
                                  "a.example. TXT \"b\"\n"
                                  "a.example. A 192.0.2.2\n"
                                  "a.example. TXT \"a\"\n"
                                  "a.example. A 192.0.2.1\n"
                                  "*.a.example. A 192.0.2.3\n"
                                  "b.a.example. A 192.0.2.4\n"
                                  "ns.example. A 192.0.2.5\n"
                                  "z.example. MX 1 a\n";
    static const char shuffled[] = "z.example. MX 1 a\n"
                                   "b.a.example. A 192.0.2.4\n"
                                   "a.example. A 192.0.2.1\n"
                                   "example. NS ns\n"
                                   "ns.example. A 192.0.2.5\n"
                                   "*.a.example. A 192.0.2.3\n"
                                   "a.example. TXT \"a\"\n"
                                   "example. SOA ns hm 1 2 3 4 5\n"
                                   "a.example. TXT \"b\"\n"
                                   "a.example. A 192.0.2.2\n";
    static const char apart[] = "example. SOA ns hm 1 2 3 4 5\n"
                                "example. NS ns\n"
                                "a.example. TXT \"b\"\n"
                                "a.example. A 192.0.2.2\n"
                                "*.a.example. A 192.0.2.3\n"
                                "a.example. TXT \"a\"\n"
                                "a.example. A 192.0.2.1\n"
                                "b.a.example. A 192.0.2.4\n"
                                "ns.example. A 192.0.2.5\n"
                                "z.example. MX 1 a\n";
    const char *texts[] = { ordered, shuffled, apart };
    char *out[3];
    for (int i = 0; i < 3; i++) {
        struct kf_zone z;
        cr_assert(kf_ok(kf_zone_load_string(texts[i], strlen(texts[i]), "example.", "t", &z)));
        out[i] = zr_sorted_text(&z);
        kf_zone_cleanup(&z);
    }
    cr_assert_str_eq(out[1], out[0]);
    cr_assert_str_eq(out[2], out[0]);
    /* And the order is the canonical one (RFC 4034 s6.1, s6.3). */
    cr_assert_not_null(strstr(out[0], "*.a.example."));
    cr_assert_lt(strstr(out[0], "192.0.2.1"), strstr(out[0], "192.0.2.2"));
    cr_assert_lt(strstr(out[0], "192.0.2.2"), strstr(out[0], "\"a\""));
    cr_assert_lt(strstr(out[0], "\"b\""), strstr(out[0], "*.a.example."));
    cr_assert_lt(strstr(out[0], "*.a.example."), strstr(out[0], "b.a.example."));
    for (int i = 0; i < 3; i++) {
        free(out[i]);
    }
}

/* The sort's dedup runs in parts side by side, cut at owner boundaries: any number of parts
 * gives the zone one part gives, duplicates dropped (keeping the lower TTL) across the whole
 * zone, for owners read in order and for owners read in reverse. */
Test(zone_read, sort_in_parts_as_in_one)
{
    size_t names = 70000;
    size_t cap = names * 120 + 64;
    char *fwd = malloc(cap);
    char *rev = malloc(cap);
    cr_assert(fwd != NULL && rev != NULL);
    size_t nf = 0;
    size_t nr = 0;
    for (size_t i = 0; i < names; i++) {
        size_t j = names - 1 - i;
        nf +=
            (size_t)snprintf(fwd + nf, cap - nf,
                             "h%zu 600 A 192.0.2.1\nh%zu 300 A 192.0.2.1\nh%zu 60 A 192.0.2.%zu\n",
                             i, i, i, 2 + i % 200);
        nr +=
            (size_t)snprintf(rev + nr, cap - nr,
                             "h%zu 600 A 192.0.2.1\nh%zu 300 A 192.0.2.1\nh%zu 60 A 192.0.2.%zu\n",
                             j, j, j, 2 + j % 200);
    }
    const char *texts[] = { fwd, rev };
    size_t lens[] = { nf, nr };
    for (int t = 0; t < 2; t++) {
        struct kf_zone one;
        struct kf_zone parts;
        cr_assert(kf_ok(kf_zone_load_string(texts[t], lens[t], "example.", "t", &one)));
        cr_assert(kf_ok(kf_zone_load_string(texts[t], lens[t], "example.", "t", &parts)));
        cr_assert_eq(one.n_rrs, 3 * names);
        one.threads = 1;
        parts.threads = 3;
        cr_assert(kf_ok(kf_zone_sort(&one)));
        cr_assert(kf_ok(kf_zone_sort(&parts)));
        cr_assert_eq(one.n_rrs, 2 * names, "one duplicate per name dropped");
        cr_assert(kf_zone_same_records(&one, &parts), "text %d", t);
        cr_assert_eq(one.n_rrsets, names);
        cr_assert_eq(parts.n_rrsets, names);
        for (size_t i = 0; i < parts.n_rrsets; i++) {
            cr_assert_eq(parts.rrsets[i].count, 2);
            cr_assert_eq(parts.rrsets[i].ttl, 60);
            cr_assert_eq(parts.rrs[parts.rrsets[i].first].ttl, 300, "the lower TTL kept");
        }
        kf_zone_cleanup(&one);
        kf_zone_cleanup(&parts);
    }
    free(fwd);
    free(rev);
}
