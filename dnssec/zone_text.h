/* dnssec/zone_text.h - inside the zone reader: what its two scanners share.
 *
 * zone_read.c reads zone text with libzscanner; zone_fast.c reads the plain one-record-per-line
 * text signers write, several times faster, and hands every line it does not take back to
 * libzscanner. Both add records through zone_text_add, so a record's owner check, interning,
 * canonical form and storage are one code path whichever scanner read its text.
 */
#ifndef KF_DNSSEC_ZONE_TEXT_H
#define KF_DNSSEC_ZONE_TEXT_H

#include "dnssec/dnssec.h"

#include <string.h>

/* The longest owner a scanner can hand over, in wire form (libzscanner's own bound). */
#define ZONE_TEXT_MAX_RAW_OWNER (KF_DNS_MAX_NAME + 64)

/* The TTL of a record written without one, in text without $TTL: what zone_read.c gives
 * libzscanner, and so what the fast scanner must give too. */
#define ZONE_TEXT_DEFAULT_TTL 3600u

/* Whether a line starting with @p c starts with an owner name or a directive (not a blank, a
 * comment, a parenthesis or a quote): where a scanner can start reading with no state from
 * the lines before. */
static inline bool zone_text_line_named(char c)
{
    return c != '\0' && strchr(" \t\r\n;()\"", c) == NULL;
}

struct zone_text {
    struct kf_zone *z;
    kf_result res;
    /* Added to a scanner's line numbers: the lines of the text before the part it reads. */
    uint64_t line_base;
    /* The previous record's owner as the scanner gave it and its index: zone files list an
     * owner's records together, so most records skip lower-casing, the zone check and the
     * hash lookup. */
    uint32_t last_owner;
    uint32_t last_raw_len;
    uint8_t last_raw[ZONE_TEXT_MAX_RAW_OWNER];
    char origin_text[1024];
};

/* Record a reading error at @p line of the zone's file ("FILE:LINE: why"), keep it in
 * l->res and return it. */
kf_result zone_text_fail(struct zone_text *l, uint64_t line, int32_t code, const char *why);

/* Add one record as a scanner read it: @p owner in wire form as written (any case), @p rdata
 * in wire form, canonicalised here in place. Errors (also kept in l->res): ZONE_DATA (class not
 * IN, owner outside the zone), MALFORMED, TOO_LARGE, NOMEM. */
kf_result zone_text_add(struct zone_text *l, const uint8_t *owner, size_t owner_len, uint16_t type,
                        uint16_t rclass, uint32_t ttl, uint8_t *rdata, size_t rdlen, uint64_t line);

/*
 * Read lines of @p text (@p len bytes) from its start for as long as each is a record in the
 * plain form zone_fast.c takes (or blank, or a comment), adding them through zone_text_add;
 * @p line_base is the number of lines before @p text. Stops at the first line it does not
 * take and gives in *used the bytes and in *lines the lines before it (*used == len: all of
 * @p text was read). *stop_named tells whether that line starts with an owner name, where
 * another scanner can take over. Errors: those of zone_text_add; the zone is then unusable.
 */
kf_result zone_fast_read(struct zone_text *l, const char *text, size_t len, uint64_t line_base,
                         size_t *used, uint64_t *lines, bool *stop_named);

/* Decode the leading whole blocks of 64 Base64 alphabet characters (no blanks, no padding) of
 * @p in (@p len bytes) into @p out, 48 bytes per block; stops at the first block with any
 * other character, or with fewer than 64 bytes left. Returns the characters decoded, a
 * multiple of 64. Needs AVX-512 BW and VBMI (base64_avx512.c): called only through
 * zone_fast.c's CPU check. */
size_t zone_base64_blocks_avx512(const char *in, size_t len, uint8_t *out);

/* Test hook: true makes the fast scanner decode Base64 with its scalar loop alone, even where
 * the CPU has AVX-512 VBMI, so tests can compare both ways on one machine. */
void zone_fast_force_scalar(bool on);

#endif
