/* dnssec/dnssec.h - DNSSEC record logic: zones in canonical form, keys, signing, verifying.
 *
 * A zone is read once (Knot's libzscanner does the text), kept in canonical form (owners and
 * the RDATA names RFC 4034 s6.2 / RFC 6840 s5.1 list are lower-cased on load) and sorted in
 * canonical order (RFC 4034 s6.1, s6.3). Signing and verifying work on that one copy.
 * Cryptography goes only through dnssec/crypto.c (STYLE.md s10). */
#ifndef KF_DNSSEC_DNSSEC_H
#define KF_DNSSEC_DNSSEC_H

#include "common/kf_buf.h"
#include "common/kf_result.h"

#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* RR types keyfort's record logic knows by number. */
enum kf_dns_type {
    KF_DNS_A = 1,
    KF_DNS_NS = 2,
    KF_DNS_CNAME = 5,
    KF_DNS_SOA = 6,
    KF_DNS_MX = 15,
    KF_DNS_AAAA = 28,
    KF_DNS_DNAME = 39,
    KF_DNS_DS = 43,
    KF_DNS_RRSIG = 46,
    KF_DNS_NSEC = 47,
    KF_DNS_DNSKEY = 48,
    KF_DNS_NSEC3 = 50,
    KF_DNS_NSEC3PARAM = 51,
    KF_DNS_CDS = 59,
    KF_DNS_CDNSKEY = 60,
};

/* DNSSEC algorithm numbers (IANA "DNS Security Algorithm Numbers"). */
enum kf_dns_alg {
    KF_DNS_ALG_RSASHA256 = 8,
    KF_DNS_ALG_RSASHA512 = 10,
    KF_DNS_ALG_ECDSAP256SHA256 = 13,
    KF_DNS_ALG_ECDSAP384SHA384 = 14,
    KF_DNS_ALG_ED25519 = 15,
    KF_DNS_ALG_ED448 = 16,
};

/* DS digest types. */
enum kf_dns_digest {
    KF_DNS_DS_SHA1 = 1,
    KF_DNS_DS_SHA256 = 2,
    KF_DNS_DS_SHA384 = 4,
};

#define KF_DNS_CLASS_IN 1
#define KF_DNS_MAX_NAME 255
#define KF_DNS_DNSKEY_ZONE 0x0100u /* DNSKEY flags: Zone Key */
#define KF_DNS_DNSKEY_SEP 0x0001u  /* Secure Entry Point (KSK) */
#define KF_DNS_DNSKEY_REVOKE 0x0080u

/* ---- names (name.c) ------------------------------------------------------------------------ */

/** Check a wire name (labels <= 63, total <= 255, no compression) of at most @p max bytes and
 *  give its length. Errors: MALFORMED, SHORT_INPUT. */
KF_RESULT kf_dnssec_name_check(const uint8_t *name, size_t max, size_t *out_len);
/** Lower-case the ASCII letters of a wire name in place (RFC 4034 s6.2). */
void kf_dnssec_name_lower(uint8_t *name);
/** Labels of a wire name, root excluded ("a.b." is 2). */
unsigned kf_dnssec_name_labels(const uint8_t *name);
/** Canonical order of two wire names (RFC 4034 s6.1): <0, 0, >0. */
int kf_dnssec_name_cmp(const uint8_t *a, const uint8_t *b);
/** Octet strings as left-justified unsigned sequences, a prefix before the longer string:
 *  the order of canonical RDATA (RFC 4034 s6.3) and of the zone's owner sort keys. */
static inline int kf_dnssec_octets_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);
    if (c != 0) {
        return c;
    }
    return (alen > blen) - (alen < blen);
}

/** True if @p name equals @p parent or lies below it (case-insensitive). */
bool kf_dnssec_name_is_sub(const uint8_t *name, const uint8_t *parent);
/** Presentation form with a trailing dot, escaping as RFC 1035 s5.1; @p out gets at least
 *  1005 bytes. Returns @p out. */
char *kf_dnssec_name_to_text(const uint8_t *name, char *out, size_t cap);
/** Parse a presentation name (absolute; a missing trailing dot is added) into @p out
 *  (KF_DNS_MAX_NAME bytes). Errors: MALFORMED. */
KF_RESULT kf_dnssec_name_from_text(const char *text, uint8_t *out, size_t *out_len);

/* ---- time (time.c) ------------------------------------------------------------------------- */

/** Parse "YYYYMMDDHHMMSS" (UTC) or a decimal count of seconds since the epoch, or "now",
 *  "now+N", "now-N" (seconds) relative to @p now. Errors: INVALID_ARG. */
KF_RESULT kf_dnssec_time_parse(const char *text, int64_t now, int64_t *out);
/** Days from 1970-01-01 to @p y-@p m-@p d (proleptic Gregorian, no time zone). */
int64_t kf_dnssec_days_from_civil(int64_t y, unsigned m, unsigned d);
/** RFC 4034 s3.1.5: a 32-bit signature time nearest to @p now (serial arithmetic, RFC 1982). */
int64_t kf_dnssec_time_expand(uint32_t t, int64_t now);
/** "YYYYMMDDHHMMSS" of a time; @p out gets at least 16 bytes. */
char *kf_dnssec_time_to_text(int64_t t, char *out, size_t cap);

/* ---- zones (zone.c, canon.c, zone_write.c) ------------------------------------------------- */

/* One resource record in canonical form. Offsets point into the zone's arena. */
struct kf_zone_rr {
    uint32_t owner; /* index into owners[] */
    uint16_t type;
    uint16_t rdlen;
    uint32_t ttl;
    uint32_t rdata; /* offset of the RDATA in the arena */
    uint32_t line;  /* line in the source file, 0 for records keyfort made */
};

/* A distinct owner name. */
struct kf_zone_owner {
    uint32_t name; /* offset of the lower-cased wire name in the arena */
    uint32_t key;  /* offset of the canonical sort key (name.c) */
    uint16_t key_len;
    uint8_t name_len;
    uint8_t labels;
    uint8_t flags; /* enum kf_zone_owner_flag, set by kf_zone_analyse() */
};

enum kf_zone_owner_flag {
    KF_OWNER_APEX = 1u << 0,
    KF_OWNER_DELEG = 1u << 1,    /* a zone cut below the apex (has NS) */
    KF_OWNER_OCCLUDED = 1u << 2, /* below a zone cut or DNAME: glue or occluded, not signed */
    KF_OWNER_HAS_DS = 1u << 3,
    KF_OWNER_DATA = 1u << 4, /* holds records other than RRSIG/NSEC/NSEC3 */
};

/* The RRs of one owner and type, consecutive in rrs[] once sorted. */
struct kf_zone_rrset {
    uint32_t owner;
    uint16_t type;
    uint32_t first; /* index into rrs[] */
    uint32_t count;
    uint32_t ttl; /* the RRset's TTL: the smallest of its RRs (RFC 2181 s5.2) */
};

struct kf_zone {
    uint8_t origin[KF_DNS_MAX_NAME]; /* lower-cased wire form */
    size_t origin_len;
    char *file; /* source name for messages (owned) */
    struct kf_buf arena;
    struct kf_zone_rr *rrs;
    size_t n_rrs, cap_rrs;
    struct kf_zone_owner *owners;
    size_t n_owners, cap_owners;
    /* Open addressing: hash << 32 | (owner index + 1), 0 = empty. Built only once an owner
     * arrives out of canonical order (kf_zone_intern): until then the owners ascend, which
     * rules out repeats, and lookups search them by sort key. */
    uint64_t *owner_hash;
    size_t hash_cap;
    bool owners_hashed;
    struct kf_zone_rrset *rrsets; /* valid after kf_zone_sort() */
    size_t n_rrsets;
    uint32_t *owner_order;       /* owner indices in canonical order, after kf_zone_sort() */
    uint32_t *owner_rank;        /* inverse of owner_order */
    uint32_t *owner_first_rrset; /* per owner rank: index of its first RRset, n_rrsets if none */
    uint32_t soa_ttl, soa_minimum;
    unsigned pieces;  /* scanners that read the text side by side (zone_read.c); 0 if not read */
    size_t fast_rrs;  /* records read by the fast scanner (zone_fast.c), the rest libzscanner's */
    unsigned threads; /* threads the zone's own passes (reading, sorting) use; 0: CPUs online */
    bool sorted;
};

/* Limits on untrusted zone input (named budgets, STYLE.md s10). */
#define KF_ZONE_MAX_RRS (64u * 1024 * 1024)
#define KF_ZONE_MAX_ARENA (UINT32_MAX - 65536u)

/**
 * Read a zone file as libzscanner reads it (see kf_zone_load_file_threads). Every record must
 * be class IN and at or below @p origin (presentation form); its owner and listed RDATA names
 * are lower-cased. $INCLUDE is followed as libzscanner does. Errors: FILE_OPEN, ZONE_SYNTAX,
 * ZONE_DATA (context "FILE:LINE: reason"), NOMEM, TOO_LARGE.
 */
KF_RESULT kf_zone_load_file(const char *path, const char *origin, struct kf_zone *out);
/**
 * The same on @p threads threads (0: the CPUs online): a large file is cut at line starts into
 * pieces that separate scanners read side by side, each with the fast scanner for plain
 * one-line records and libzscanner for the rest (zone_read.c, zone_fast.c). The zone is the
 * one libzscanner alone builds, record for record, line numbers included; input the pieces
 * cannot prove they read exactly as it would ($INCLUDE, a cut inside parentheses, a directive
 * that changes the origin or TTL, any error) is read again by one libzscanner, so errors and
 * their messages are always its own.
 */
KF_RESULT kf_zone_load_file_threads(const char *path, const char *origin, unsigned threads,
                                    struct kf_zone *out);
/** The same from a string (tests and fuzzing); @p name is used in messages. */
KF_RESULT kf_zone_load_string(const char *text, size_t len, const char *origin, const char *name,
                              struct kf_zone *out);
/** kf_zone_load_string cut into up to @p pieces (at most 64) whatever its size: the parallel
 *  reader's path for tests and fuzzing, which compare it with the one-scanner read. */
KF_RESULT kf_zone_load_string_pieces(const char *text, size_t len, const char *origin,
                                     const char *name, unsigned pieces, struct kf_zone *out);
void kf_zone_cleanup(struct kf_zone *z);

/** Take the owner of the zone's one SOA record as its origin (for a file read at "."), and
 *  check every record lies at or below it. Errors: ZONE_DATA. */
KF_RESULT kf_zone_adopt_soa_origin(struct kf_zone *z);
/** Add one RR (canonical form expected: lower-case owner, canonical RDATA). */
KF_RESULT kf_zone_add(struct kf_zone *z, const uint8_t *owner, uint16_t type, uint32_t ttl,
                      const uint8_t *rdata, size_t rdlen, uint32_t line);
/** Room for @p owners owners and @p rrs records without growing (a reader's estimate: each
 *  growth rehashes or copies, and touches fresh memory). Errors: NOMEM. */
KF_RESULT kf_zone_reserve(struct kf_zone *z, size_t owners, size_t rrs);
/** The index of a lower-case, checked owner name, added when new. Errors: MALFORMED,
 *  TOO_LARGE, NOMEM. */
KF_RESULT kf_zone_intern(struct kf_zone *z, const uint8_t *name, uint32_t *out);
/** Move the records of @p src (read from a later part of the same file) to the end of @p dst,
 *  as if added one by one, their lines shifted by @p line_offset. @p src's arena lies inside
 *  dst's already, at offset @p arena_at (the parallel reader's shared block); @p src keeps its
 *  other storage for kf_zone_cleanup. Errors: TOO_LARGE, NOMEM, INVALID_ARG. */
KF_RESULT kf_zone_absorb(struct kf_zone *dst, struct kf_zone *src, uint32_t arena_at,
                         uint32_t line_offset);
/** Same origin, owners (by index) and records (owner, type, TTL, RDATA, line, in order):
 *  how tests and fuzzing check that two ways of reading one text agree. */
bool kf_zone_same_records(const struct kf_zone *a, const struct kf_zone *b);
/** The same for an owner already in the zone (its index), without looking the name up.
 *  Errors: INVALID_ARG (no such owner), TOO_LARGE, NOMEM. */
KF_RESULT kf_zone_add_at(struct kf_zone *z, uint32_t owner, uint16_t type, uint32_t ttl,
                         const uint8_t *rdata, size_t rdlen, uint32_t line);
/** Remove every RR whose type makes @p drop return true (marks the zone unsorted). */
void kf_zone_remove_if(struct kf_zone *z, bool (*drop)(const struct kf_zone_rr *rr, void *arg),
                       void *arg);
/** Sort owners and RRs canonically, drop duplicate RRs, build rrsets[]. */
KF_RESULT kf_zone_sort(struct kf_zone *z);
/** After sort: mark the apex, zone cuts, occluded names; read SOA TTL/minimum.
 *  Errors: ZONE_DATA (no SOA at the apex, more than one SOA, CNAME beside other data). */
KF_RESULT kf_zone_analyse(struct kf_zone *z);

static inline const uint8_t *kf_zone_rdata(const struct kf_zone *z, const struct kf_zone_rr *rr)
{
    return z->arena.data + rr->rdata;
}
static inline const uint8_t *kf_zone_owner_name(const struct kf_zone *z, uint32_t owner)
{
    return z->arena.data + z->owners[owner].name;
}
/** Whether owner @p o is @p parent or below it: its sort key starts with the parent's (each
 *  label of a key ends in a separator no label byte equals, so a prefix ends on a label). What
 *  kf_dnssec_name_is_sub says of the two names, without walking their labels. */
static inline bool kf_zone_owner_is_sub(const struct kf_zone *z, uint32_t o, uint32_t parent)
{
    const struct kf_zone_owner *a = &z->owners[o];
    const struct kf_zone_owner *p = &z->owners[parent];
    return a->key_len >= p->key_len &&
           memcmp(z->arena.data + a->key, z->arena.data + p->key, p->key_len) == 0;
}
/** The RRset of (@p owner, @p type), or NULL. After sort. */
const struct kf_zone_rrset *kf_zone_find(const struct kf_zone *z, uint32_t owner, uint16_t type);
/** Owner index of a wire name, or UINT32_MAX. */
uint32_t kf_zone_owner_lookup(const struct kf_zone *z, const uint8_t *name);

/**
 * Write the zone in canonical order as presentation text to @p path: written to a temporary
 * file in the same directory and renamed over @p path once complete and flushed, so a failure
 * leaves no partial file and an existing @p path untouched. Errors: FILE_OPEN, IO.
 */
KF_RESULT kf_zone_write_file(const struct kf_zone *z, const char *path);
/** Write the zone as text to a stream (no atomicity). */
KF_RESULT kf_zone_write(const struct kf_zone *z, FILE *f);
/** One RR as a presentation line (no newline) into @p out. Errors: BUFFER_TOO_SMALL. */
KF_RESULT kf_zone_rr_to_text(const uint8_t *owner, uint16_t type, uint32_t ttl,
                             const uint8_t *rdata, size_t rdlen, char *out, size_t cap);
/** A type's mnemonic ("A", "TYPE65534"); @p out gets at least 16 bytes. */
const char *kf_dnssec_type_name(uint16_t type, char *out, size_t cap);

/* ---- RDATA (rdata.c) ------------------------------------------------------------------------ */

/** Lower-case the embedded names of @p type's RDATA in place (RFC 4034 s6.2 as amended by
 *  RFC 6840 s5.1). Errors: MALFORMED (a name runs past the RDATA). */
KF_RESULT kf_dnssec_rdata_canonicalise(uint16_t type, uint8_t *rdata, size_t rdlen);

struct kf_rrsig {
    uint16_t type_covered;
    uint8_t alg;
    uint8_t labels;
    uint32_t orig_ttl;
    uint32_t expiration;
    uint32_t inception;
    uint16_t key_tag;
    const uint8_t *signer; /* wire name inside the RDATA */
    size_t signer_len;
    const uint8_t *sig;
    size_t sig_len;
    size_t header_len; /* bytes before the signature */
};
/** Errors: SHORT_INPUT, MALFORMED. */
KF_RESULT kf_dnssec_rrsig_parse(const uint8_t *rdata, size_t len, struct kf_rrsig *out);

struct kf_dnskey {
    uint16_t flags;
    uint8_t protocol;
    uint8_t alg;
    const uint8_t *pub;
    size_t pub_len;
};
KF_RESULT kf_dnssec_dnskey_parse(const uint8_t *rdata, size_t len, struct kf_dnskey *out);

struct kf_ds {
    uint16_t key_tag;
    uint8_t alg;
    uint8_t digest_type;
    const uint8_t *digest;
    size_t digest_len;
};
KF_RESULT kf_dnssec_ds_parse(const uint8_t *rdata, size_t len, struct kf_ds *out);

struct kf_nsec3 {
    uint8_t hash_alg;
    uint8_t flags;
    uint16_t iterations;
    const uint8_t *salt;
    size_t salt_len;
    const uint8_t *next; /* NSEC3: next hashed owner (raw hash) */
    size_t next_len;
    const uint8_t *bitmap; /* NSEC3: type bitmaps */
    size_t bitmap_len;
};
/** NSEC3 (with @p param false) or NSEC3PARAM (true). */
KF_RESULT kf_dnssec_nsec3_parse(const uint8_t *rdata, size_t len, bool param, struct kf_nsec3 *out);

/* Type bitmaps (RFC 4034 s4.1.2): a set of up to 65536 types. `used` marks the 256-type
 * windows that may hold bits, so clearing, comparing and writing cost what the set holds, not
 * 8 KiB per NSEC (a 110,000-name zone builds and checks one set per name). */
struct kf_typeset {
    uint64_t used[4];
    uint8_t bits[8192];
};
/** Parse into @p out, which must be zeroed or a set used before (only its used windows are
 *  cleared). Errors: MALFORMED (window order, length 0 or > 32, trailing zero octet). */
KF_RESULT kf_dnssec_bitmap_parse(const uint8_t *p, size_t len, struct kf_typeset *out);
KF_RESULT kf_dnssec_bitmap_write(const struct kf_typeset *set, struct kf_buf *out);
/** Empty the set (an all-zero struct is empty too). */
void kf_typeset_clear(struct kf_typeset *s);
/** Same types in both. */
bool kf_typeset_equal(const struct kf_typeset *a, const struct kf_typeset *b);
static inline void kf_typeset_add(struct kf_typeset *s, uint16_t t)
{
    s->used[t >> 14] |= (uint64_t)1 << ((t >> 8) & 63);
    s->bits[t >> 3] |= (uint8_t)(0x80u >> (t & 7));
}
static inline bool kf_typeset_has(const struct kf_typeset *s, uint16_t t)
{
    return (s->bits[t >> 3] & (0x80u >> (t & 7))) != 0;
}

/* ---- keys (keys.c) -------------------------------------------------------------------------- */

/** RFC 4034 Appendix B key tag of DNSKEY RDATA. */
uint16_t kf_dnssec_key_tag(const uint8_t *rdata, size_t len);
/** DS RDATA for a DNSKEY (@p owner lower-cased wire name). Errors: UNSUPPORTED, OPENSSL. */
KF_RESULT kf_dnssec_ds_make(const uint8_t *owner, size_t owner_len, const uint8_t *dnskey,
                            size_t dnskey_len, uint8_t digest_type, struct kf_buf *out);

/* ---- crypto (crypto.c: the only file that calls EVP) ---------------------------------------- */

/** The DNSSEC algorithm of a key: RSA -> @p rsa_alg (8 or 10), EC P-256 -> 13, P-384 -> 14,
 *  Ed25519 -> 15, Ed448 -> 16. Errors: UNSUPPORTED (other key types, RSA under 1024 bits). */
KF_RESULT kf_dnssec_key_alg(EVP_PKEY *key, uint8_t rsa_alg, uint8_t *out);
/** DNSKEY public-key field of @p key for @p alg (RFC 3110, RFC 6605, RFC 8080). */
KF_RESULT kf_dnssec_key_public(EVP_PKEY *key, uint8_t alg, struct kf_buf *out);

/* A signer for one key and algorithm, one per thread (it holds an EVP_PKEY_CTX). */
struct kf_dnssec_signer;
KF_RESULT kf_dnssec_signer_new(EVP_PKEY *key, uint8_t alg, OSSL_LIB_CTX *libctx,
                               struct kf_dnssec_signer **out);
void kf_dnssec_signer_free(struct kf_dnssec_signer *s);
/** Sign @p data; the DNSSEC signature (ECDSA as r||s) is appended to @p out.
 *  Errors: OPENSSL (with the queue's reason), BUFFER_TOO_SMALL. */
KF_RESULT kf_dnssec_signer_sign(struct kf_dnssec_signer *s, const uint8_t *data, size_t len,
                                struct kf_buf *out);
/** Largest signature of the signer's key. */
size_t kf_dnssec_signer_max_len(const struct kf_dnssec_signer *s);

/* A public key parsed from DNSKEY RDATA once, for many verifications. */
struct kf_dnssec_pubkey;
/** Errors: UNSUPPORTED (algorithm), MALFORMED or SHORT_INPUT (key field, with the cause
 *  recorded: an even modulus, a point off the curve, ...), NOMEM. */
KF_RESULT kf_dnssec_pubkey_new(const uint8_t *dnskey_rdata, size_t len,
                               struct kf_dnssec_pubkey **out);
void kf_dnssec_pubkey_free(struct kf_dnssec_pubkey *k);

/* One signature check. The offload engine (issue 7) takes arrays of these. */
struct kf_dnssec_vjob {
    const struct kf_dnssec_pubkey *key;
    const uint8_t *data; /* the signed data (RFC 4034 s3.1.8.1) */
    size_t data_len;
    const uint8_t *sig;
    size_t sig_len;
    bool valid; /* out */
};
/**
 * The one narrow verification entry point: check @p n signatures and set each job's valid.
 * Today a scalar loop over OpenSSL; the batch engine replaces it. Never fails as a whole: a
 * job that cannot be checked is invalid.
 */
void kf_dnssec_verify_batch(struct kf_dnssec_vjob *jobs, size_t n);

/** NSEC3 hash (RFC 5155 s5) of a wire name into @p out (20 bytes, SHA-1).
 *  Errors: UNSUPPORTED (hash algorithm), OPENSSL. */
KF_RESULT kf_dnssec_nsec3_hash(const uint8_t *name, size_t name_len, uint8_t hash_alg,
                               const uint8_t *salt, size_t salt_len, uint16_t iterations,
                               uint8_t out[20]);
/** Base32hex without padding (RFC 4648 s7), lower case; @p out gets 2*len+1 bytes. */
void kf_dnssec_base32hex(const uint8_t *p, size_t len, char *out);
/** Decode base32hex (case-insensitive, no padding). Errors: MALFORMED, BUFFER_TOO_SMALL. */
KF_RESULT kf_dnssec_base32hex_decode(const char *text, size_t len, uint8_t *out, size_t cap,
                                     size_t *out_len);

/* ---- signed data (rrsig.c) ----------------------------------------------------------------- */

/**
 * The data an RRSIG signs (RFC 4034 s3.1.8.1): the RRSIG RDATA without its signature, then each
 * RR of the RRset in canonical form and order, owned by the owner as the RRSIG's label count
 * says (a wildcard owner "*.<labels>" when fewer labels than the owner has).
 */
KF_RESULT kf_dnssec_signed_data(const struct kf_zone *z, const struct kf_zone_rrset *set,
                                const uint8_t *rrsig_header, size_t header_len, uint8_t labels,
                                uint32_t orig_ttl, struct kf_buf *out);

/* ---- signing (sign.c, nsec.c, nsec3.c) ------------------------------------------------------ */

struct kf_dnssec_key {
    EVP_PKEY *pkey; /* borrowed */
    uint8_t alg;
    uint16_t flags; /* 257 KSK / CSK, 256 ZSK */
    uint16_t tag;
    uint8_t dnskey[2048]; /* RDATA */
    size_t dnskey_len;
    bool sign_dnskey; /* signs the DNSKEY (and CDS/CDNSKEY) RRsets */
    bool sign_other;  /* signs every other RRset */
};

/** Workers for @p work items taken @p chunk at a time: @p requested, or the CPUs online when
 *  0, at most 64, and no more than the work can keep busy. */
unsigned kf_dnssec_threads(unsigned requested, size_t work, size_t chunk);

/** Fill @p out from a key: algorithm, DNSKEY RDATA, key tag. */
KF_RESULT kf_dnssec_key_init(EVP_PKEY *pkey, uint8_t rsa_alg, uint16_t flags,
                             struct kf_dnssec_key *out);

struct kf_nsec3_params {
    uint16_t iterations;
    uint8_t salt[255];
    uint8_t salt_len;
    bool opt_out;
};

struct kf_sign_opts {
    struct kf_dnssec_key *keys;
    size_t n_keys;
    OSSL_LIB_CTX *libctx; /* where the keys' providers live (NULL: default) */
    int64_t inception, expiration;
    uint32_t jitter; /* expiration of each RRset moves earlier by up to this many seconds */
    bool nsec3;
    struct kf_nsec3_params nsec3p;
    bool cds; /* publish CDS (SHA-256) and CDNSKEY for the KSKs */
    unsigned threads;
    uint32_t dnskey_ttl; /* 0: the SOA's TTL */
    /* Incremental re-signing: an RRset unchanged since @p previous (the last signed version
     * of the zone, loaded and sorted) keeps its RRSIG by the same key when that RRSIG is valid
     * at @p now and still for at least @p refresh seconds. NSEC/NSEC3 records are rebuilt,
     * and only the links whose content changed get new signatures. */
    const struct kf_zone *previous;
    int64_t now;
    uint32_t refresh;
};

struct kf_sign_stats {
    size_t rrsets_signed, signatures, nsec, nsec3;
    size_t reused; /* of the signatures, kept from the previous version */
};

/**
 * Sign a loaded zone in place: drop its old RRSIG/NSEC/NSEC3/NSEC3PARAM records, add the keys'
 * DNSKEYs (and CDS/CDNSKEY), build the NSEC or NSEC3 chain, sign every authoritative RRset
 * (delegation NS and glue excepted) in parallel, and leave the zone sorted.
 */
KF_RESULT kf_dnssec_sign_zone(struct kf_zone *z, const struct kf_sign_opts *o,
                              struct kf_sign_stats *out);

/** Types the NSEC/NSEC3 bitmap of an authoritative @p owner lists, besides NSEC itself: its
 *  RRsets (only NS and DS at a zone cut, RFC 4035 s2.3) and RRSIG where anything is signed. */
void kf_dnssec_denial_types(const struct kf_zone *z, uint32_t owner, struct kf_typeset *set);
/** NSEC chain (nsec.c): add one NSEC per authoritative name. The zone must be analysed. */
KF_RESULT kf_dnssec_nsec_build(struct kf_zone *z, uint32_t ttl, size_t *out_count);
/** NSEC3 chain (nsec3.c): NSEC3 per hashed name (empty non-terminals included, insecure
 *  delegations skipped with opt-out) and NSEC3PARAM at the apex. Errors: ZONE_DATA on a
 *  hash collision. */
KF_RESULT kf_dnssec_nsec3_build(struct kf_zone *z, const struct kf_nsec3_params *p, uint32_t ttl,
                                size_t *out_count);

/* ---- verifying (verify.c) ------------------------------------------------------------------- */

enum kf_verify_problem {
    KF_VP_SIG_INVALID = 1,
    KF_VP_SIG_EXPIRED,
    KF_VP_SIG_NOT_YET,
    KF_VP_NO_KEY,       /* no DNSKEY with the RRSIG's tag and algorithm */
    KF_VP_UNSIGNED,     /* an authoritative RRset without a valid RRSIG */
    KF_VP_BAD_RRSIG,    /* malformed or inconsistent fields */
    KF_VP_NSEC_MISSING, /* a name without its NSEC */
    KF_VP_NSEC_CHAIN,   /* next pointer or order wrong */
    KF_VP_NSEC_BITMAP,  /* type bitmap does not match the data */
    KF_VP_NSEC3_MISSING,
    KF_VP_NSEC3_CHAIN,
    KF_VP_NSEC3_BITMAP,
    KF_VP_NSEC3_PARAM,
    KF_VP_ANCHOR, /* no DNSKEY matching the trust anchor signs the DNSKEY RRset */
    KF_VP_NO_DNSKEY,
    KF_VP_NO_CHAIN, /* neither NSEC nor NSEC3 */
};

struct kf_verify_report {
    uint32_t owner; /* owner index, or UINT32_MAX */
    uint16_t type;
    uint16_t key_tag;
    uint8_t alg;
    enum kf_verify_problem problem;
    char detail[160];
};

struct kf_verify_opts {
    int64_t now;
    const uint8_t *anchor_rdata[16]; /* DS or DNSKEY RDATA of the trust anchor */
    size_t anchor_len[16];
    uint16_t anchor_type[16];
    size_t n_anchor;
    unsigned threads;
};

struct kf_verify_result {
    struct kf_verify_report *reports; /* owned; kf_verify_result_cleanup frees */
    size_t n_reports, cap_reports;
    size_t rrsigs_checked, rrsets_checked, names_checked;
    bool nsec3;
};

/** Verify a loaded zone. Returns OK with reports when it could be checked (bogus or not);
 *  errors only for resources. */
KF_RESULT kf_dnssec_verify_zone(struct kf_zone *z, const struct kf_verify_opts *o,
                                struct kf_verify_result *out);
void kf_verify_result_cleanup(struct kf_verify_result *r);
const char *kf_verify_problem_name(enum kf_verify_problem p);

#endif
