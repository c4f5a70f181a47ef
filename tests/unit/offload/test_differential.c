/* tests/unit/offload/test_differential.c - offload/ against OpenSSL (STYLE.md s14).
 *
 * Every case is judged twice: by the engine, and by OpenSSL directly (EVP_DigestVerify, or
 * EVP_PKEY_verify for KF_OFFLOAD_JOB_DIGEST jobs), never through the engine. The engine runs
 * each case through kf_offload_verify_many() (on an engine without workers, or with a NULL
 * engine) and through kf_offload_submit() on an engine with two workers, whose completions
 * come by callback or from kf_offload_poll() after the eventfd fired. VALID must match
 * OpenSSL's 1; INVALID or ERROR match anything else. A well-formed job never gets ERROR either
 * (offload.h: ERROR means the job could not be checked, and every job here can be).
 *
 * Signing is slow, so each key gets a pool of valid signatures and, for RSA, a pool of
 * signatures over deliberately wrong EMSA-PKCS1-v1_5 encodings (RFC 8017 s9.2), made with the
 * raw private operation; the cases are drawn from the pools and damaged at random. RSA keys are
 * fixed (offload_fixture.c, which holds what this file shares with test_edge.c and
 * test_queue_stress.c), EC and EdDSA keys and ECDSA nonces come from the seed, so
 * KF_DIFF_SEED=<seed> replays a run exactly; KF_DIFF_CASES changes the number of cases per kernel
 * (default 100000). The backend under test is the default one
 * ($KEYFORT_OFFLOAD), printed at the start of every test.
 */
#include "offload/offload.h"
#include "offload_fixture.h"

#include <criterion/criterion.h>
#include <inttypes.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MSG_MAX 160 /* pool messages are shorter, so a case may append to them */
#define SIG_MAX 520 /* RSA-4096 (512 bytes) and room to extend it */
#define KEYS_MAX 16
#define CHUNK 2048   /* cases generated, judged and run at once */
#define BATCH_MAX 70 /* jobs per call: 1..8 (a kernel's lanes) and bursts above */
#define PRINT_MAX 12 /* mismatches printed in full per test */
#define DEFAULT_CASES 100000u
#define DEFAULT_SEED 0x6b66646966663031u /* "kfdiff01" */

/* ---- randomness: splitmix64 (offload_fixture.c), so (seed, case number) names a case ------ */

static uint64_t test_seed(void)
{
    return fixture_env_u64("KF_DIFF_SEED", DEFAULT_SEED);
}

static size_t test_cases(void)
{
    return (size_t)fixture_env_u64("KF_DIFF_CASES", DEFAULT_CASES);
}

/* ---- big-endian helpers ------------------------------------------------------------------ */

/* out = a + v (small); a must not be all ones. */
static void be_add_small(uint8_t *out, const uint8_t *a, size_t len, unsigned v)
{
    uint8_t b[SIG_MAX];
    fixture_be_small(b, len, v);
    cr_assert(!fixture_be_add(out, a, b, len));
}

static void be_sub_small(uint8_t *out, const uint8_t *a, size_t len, unsigned v)
{
    uint8_t b[SIG_MAX];
    fixture_be_small(b, len, v);
    fixture_be_sub(out, a, b, len);
}

/* ---- keys under test --------------------------------------------------------------------- */

enum family {
    FAM_RSA,
    FAM_EC,
    FAM_ED,
    FAM_COUNT,
};

/* One pool entry: a message and a signature (valid, or over a bad encoding), with OpenSSL's
 * verdicts on them as a message job and as a digest job. */
struct entry {
    uint8_t msg[MSG_MAX];
    size_t msg_len;
    uint8_t sig[SIG_MAX];
    size_t sig_len;
    unsigned bad; /* RSA bad-encoding kind (enum bad_em), 0 for a pool signature */
    bool ok_msg, ok_digest;
};

struct tkey {
    char name[40];
    enum kf_offload_alg alg;
    enum family fam;
    const EVP_MD *md; /* the algorithm's digest; NULL for EdDSA */
    EVP_PKEY *pkey;   /* OpenSSL's key: the oracle verifies with it; RSA, EdDSA sign */
    bool own;         /* pkey, kf and d belong to this entry (not an alias) */
    BIGNUM *d;        /* ECDSA private scalar */
    const struct fixture_ec_group *g; /* ECDSA group */
    struct kf_offload_key *kf;
    size_t sig_len; /* of a well-formed signature */
    size_t comp;
    uint8_t n[SIG_MAX]; /* RSA modulus (sig_len bytes) or EC group order (comp bytes) */
    uint8_t p[72];      /* EC field prime (comp bytes) */
    struct entry *pool;
    size_t pool_n;
    struct entry *bad;
    size_t bad_n;
};

static struct tkey keys[KEYS_MAX];
static size_t nkeys;
static struct fixture_ec_group g256, g384; /* set up on first use */

/* @p g (g256 or g384), set up if it is not yet. */
static struct fixture_ec_group *ecg_ready(struct fixture_ec_group *g)
{
    if (g->g == NULL) {
        fixture_ec_group_init(g, g == &g256 ? NID_X9_62_prime256v1 : NID_secp384r1);
    }
    return g;
}

static void teardown(void)
{
    for (size_t i = 0; i < nkeys; i++) {
        struct tkey *k = &keys[i];
        if (k->own) {
            kf_offload_key_free(k->kf);
            EVP_PKEY_free(k->pkey);
            BN_free(k->d);
        }
        free(k->pool);
        free(k->bad);
    }
    memset(keys, 0, sizeof(keys));
    nkeys = 0;
    fixture_ec_group_free(&g256);
    fixture_ec_group_free(&g384);
}

TestSuite(differential, .fini = teardown);

static struct tkey *key_slot(const char *name, enum kf_offload_alg alg, enum family fam)
{
    cr_assert_lt(nkeys, KEYS_MAX);
    struct tkey *k = &keys[nkeys++];
    memset(k, 0, sizeof(*k));
    snprintf(k->name, sizeof(k->name), "%s", name);
    k->alg = alg;
    k->fam = fam;
    k->own = true;
    return k;
}

/* An RSA key; its engine key comes from the modulus and exponent bytes, or from the EVP_PKEY. */
static struct tkey *add_rsa(const char *name, const struct fixture_rsa_key *h, bool via_pkey)
{
    struct tkey *k = key_slot(name, KF_OFFLOAD_RSA_PKCS1_SHA256, FAM_RSA);
    k->md = EVP_sha256();
    k->pkey = fixture_rsa_load(h);
    k->sig_len = fixture_rsa_modulus(k->pkey, k->n, sizeof(k->n));
    k->kf = via_pkey ? fixture_kf_from_pkey(k->pkey, 0) : fixture_kf_rsa(k->n, k->sig_len, h->e);
    return k;
}

/* The same RSA key under another algorithm (RSA keys serve both PKCS#1 digests). */
static struct tkey *add_rsa_alias(const char *name, const struct tkey *src, enum kf_offload_alg alg,
                                  const EVP_MD *md)
{
    struct tkey *k = key_slot(name, alg, FAM_RSA);
    struct entry *keep_pool = k->pool;
    *k = *src;
    snprintf(k->name, sizeof(k->name), "%s", name);
    k->alg = alg;
    k->md = md;
    k->own = false;
    k->pool = keep_pool;
    k->bad = NULL;
    k->pool_n = k->bad_n = 0;
    return k;
}

/* An ECDSA key with a private scalar from the seed (@p d_from: reuse that key's scalar). */
static struct tkey *add_ec(const char *name, struct fixture_ec_group *g, enum kf_offload_alg alg,
                           uint64_t *rng, unsigned kflags, bool via_pkey, const struct tkey *d_from)
{
    ecg_ready(g);
    struct tkey *k = key_slot(name, alg, FAM_EC);
    k->md = g == &g256 ? EVP_sha256() : EVP_sha384();
    k->g = g;
    k->comp = g->comp;
    k->sig_len = 2 * g->comp;
    k->d = BN_new();
    cr_assert_not_null(k->d);
    if (d_from != NULL) {
        cr_assert_not_null(BN_copy(k->d, d_from->d));
    } else {
        fixture_ec_random_scalar(rng, g, k->d);
    }
    uint8_t xy[144];
    fixture_ec_pub_xy(g, k->d, xy);
    k->pkey = fixture_ec_pub_pkey(g->name, xy, 2 * g->comp);
    cr_assert_not_null(k->pkey);
    cr_assert_eq(BN_bn2binpad(g->n, k->n, (int)g->comp), (int)g->comp);
    cr_assert_eq(BN_bn2binpad(g->p, k->p, (int)g->comp), (int)g->comp);
    if (via_pkey) {
        k->kf = fixture_kf_from_pkey(k->pkey, kflags);
    } else {
        kf_result r = kf_offload_key_new_ec(alg, xy, 2 * g->comp, kflags, &k->kf);
        cr_assert(kf_ok(r), "%s: key creation failed: %s", name, kf_err_name(r.code));
    }
    return k;
}

static struct tkey *add_ed(const char *name, enum kf_offload_alg alg, uint64_t *rng, bool via_pkey)
{
    struct tkey *k = key_slot(name, alg, FAM_ED);
    uint8_t pub[57];
    size_t pub_len = 0;
    k->pkey = fixture_eddsa_keygen(rng, alg, pub, &pub_len);
    k->sig_len = alg == KF_OFFLOAD_ED25519 ? 64 : 114;
    if (via_pkey) {
        k->kf = fixture_kf_from_pkey(k->pkey, 0);
    } else {
        kf_result r = kf_offload_key_new_eddsa(alg, pub, pub_len, &k->kf);
        cr_assert(kf_ok(r), "%s: key creation failed: %s", name, kf_err_name(r.code));
    }
    return k;
}

/* ---- signing ----------------------------------------------------------------------------- */

/* ECDSA (SEC 1 v2 s4.1.3) with the nonce from the seed, so a run is reproducible. */
static void sign_ecdsa(const struct tkey *k, uint64_t *rng, const uint8_t *digest,
                       size_t digest_len, uint8_t *sig)
{
    BIGNUM *nonce = BN_new();
    cr_assert_not_null(nonce);
    do {
        fixture_ec_random_scalar(rng, k->g, nonce);
    } while (!fixture_ecdsa_sign_digest(k->g, k->d, digest, digest_len, nonce, sig));
    BN_free(nonce);
}

/* ---- the oracle: OpenSSL, directly ------------------------------------------------------- */

/* OpenSSL's verdict: 1 valid, 0 not, -1 if OpenSSL could not be asked (allocation). Runs on
 * the oracle thread too, so it reports instead of asserting (fixture_ossl_verify does not). */
static int oracle(const struct tkey *k, const uint8_t *msg, size_t msg_len, bool digest,
                  const uint8_t *sig, size_t sig_len)
{
    return fixture_ossl_verify(k->pkey, k->md, k->fam == FAM_EC ? k->comp : 0, digest, msg, msg_len,
                               sig, sig_len);
}

/* ---- EMSA-PKCS1-v1_5 encodings, right and wrong (RFC 8017 s9.2) --------------------------- */

enum bad_em {
    EM_GOOD,       /* the right encoding, made here: must verify */
    EM_BT02,       /* block type 02 */
    EM_BT00,       /* block type 00 */
    EM_PS_ZERO,    /* padding of 00 instead of FF */
    EM_PS_BYTE,    /* one padding byte not FF */
    EM_PS_SHORT,   /* 8 FF, the separator, then zeros before T */
    EM_NO_SEP,     /* the 00 separator replaced by FF */
    EM_SEP_01,     /* separator 01 */
    EM_OID_SHA1,   /* SHA-1 DigestInfo and hash */
    EM_OID_OTHER,  /* SHA-512 DigestInfo under SHA-256 and the other way round */
    EM_OID_ARC,    /* the hash's OID with its last arc changed */
    EM_NO_NULL,    /* AlgorithmIdentifier without the NULL parameters */
    EM_HASH_SHORT, /* hash one byte short, lengths adjusted */
    EM_HASH_LONG,  /* hash one byte long, lengths adjusted */
    EM_TRAILING,   /* two bytes after the hash, padding shortened */
    EM_SHIFTED,    /* 00 00 01 FF..: the 01 not at index 1 */
    EM_OTHER_MSG,  /* the hash of another message */
    EM_LONG_LEN,   /* DigestInfo SEQUENCE length in long form (30 81 ..) */
    EM_COUNT,
};

static const char *const bad_em_names[EM_COUNT] = {
    "good",       "bt02",      "bt00",     "ps-zero",   "ps-byte",   "ps-short",
    "no-sep",     "sep-01",    "oid-sha1", "oid-other", "oid-arc",   "no-null",
    "hash-short", "hash-long", "trailing", "shifted",   "other-msg", "long-len",
};

static void make_em(enum bad_em kind, const EVP_MD *md, const uint8_t *msg, size_t msg_len,
                    uint64_t *rng, uint8_t *em, size_t k)
{
    uint8_t t[128], h[64];
    size_t tl = 0;
    bool is256 = EVP_MD_get_size(md) == 32;
    const uint8_t *di = is256 ? fixture_di_sha256 : fixture_di_sha512;
    size_t hl = fixture_digest(md, msg, msg_len, h);
    switch (kind) {
    case EM_OID_SHA1:
        tl = fixture_emsa_t(EVP_sha1(), msg, msg_len, t);
        break;
    case EM_OID_OTHER:
        tl = fixture_emsa_t(is256 ? EVP_sha512() : EVP_sha256(), msg, msg_len, t);
        break;
    case EM_NO_NULL:
        memcpy(t, di, 15); /* up to the OID's end */
        t[1] -= 2;
        t[3] -= 2;
        t[15] = 0x04;
        t[16] = (uint8_t)hl;
        memcpy(t + 17, h, hl);
        tl = 17 + hl;
        break;
    case EM_HASH_SHORT:
    case EM_HASH_LONG: {
        size_t hl2 = kind == EM_HASH_SHORT ? hl - 1 : hl + 1;
        memcpy(t, di, 19);
        t[1] = (uint8_t)(t[1] + hl2 - hl);
        t[18] = (uint8_t)hl2;
        memcpy(t + 19, h, hl);
        t[19 + hl] = 0x5a;
        tl = 19 + hl2;
        break;
    }
    case EM_LONG_LEN:
        t[0] = 0x30;
        t[1] = 0x81;
        memcpy(t + 2, di + 1, 18);
        memcpy(t + 20, h, hl);
        tl = 20 + hl;
        break;
    case EM_OTHER_MSG: {
        uint8_t m2[MSG_MAX + 1];
        memcpy(m2, msg, msg_len);
        m2[msg_len] = 0x00;
        tl = fixture_emsa_t(md, m2, msg_len + 1, t);
        break;
    }
    default:
        memcpy(t, di, 19);
        if (kind == EM_OID_ARC) {
            t[14] ^= 0x06; /* another arc under 2.16.840.1.101.3.4.2 */
        }
        memcpy(t + 19, h, hl);
        tl = 19 + hl;
        if (kind == EM_TRAILING) {
            t[tl++] = (uint8_t)fixture_rng_next(rng);
            t[tl++] = (uint8_t)fixture_rng_next(rng);
        }
        break;
    }
    size_t ps = fixture_emsa_put(em, k, t, tl);
    switch (kind) {
    case EM_BT02:
        em[1] = 0x02;
        break;
    case EM_BT00:
        em[1] = 0x00;
        break;
    case EM_PS_ZERO:
        memset(em + 2, 0x00, ps);
        break;
    case EM_PS_BYTE:
        em[2 + fixture_rng_below(rng, ps)] = (uint8_t)fixture_rng_below(rng, 255);
        break;
    case EM_PS_SHORT:
        em[10] = 0x00;
        memset(em + 11, 0x00, ps - 8);
        break;
    case EM_NO_SEP:
        em[2 + ps] = 0xff;
        break;
    case EM_SEP_01:
        em[2 + ps] = 0x01;
        break;
    case EM_SHIFTED:
        em[1] = 0x00;
        em[2] = 0x01;
        break;
    default:
        break;
    }
}

/* ---- pools ------------------------------------------------------------------------------- */

static void entry_judge(const struct tkey *k, struct entry *en)
{
    uint8_t h[64];
    int m = oracle(k, en->msg, en->msg_len, false, en->sig, en->sig_len);
    int d = k->md == NULL ? 0
                          : oracle(k, h, fixture_digest(k->md, en->msg, en->msg_len, h), true,
                                   en->sig, en->sig_len);
    cr_assert(m >= 0 && d >= 0, "OpenSSL could not be asked");
    en->ok_msg = m == 1;
    en->ok_digest = d == 1;
}

static void build_pool(struct tkey *k, uint64_t *rng, size_t count, size_t bad_per_kind)
{
    k->pool = calloc(count, sizeof(*k->pool));
    cr_assert_not_null(k->pool);
    k->pool_n = count;
    for (size_t i = 0; i < count; i++) {
        struct entry *en = &k->pool[i];
        en->msg_len = fixture_rng_below(rng, MSG_MAX - 8);
        fixture_rng_fill(rng, en->msg, en->msg_len);
        if (k->fam == FAM_EC) {
            uint8_t h[64];
            sign_ecdsa(k, rng, h, fixture_digest(k->md, en->msg, en->msg_len, h), en->sig);
            en->sig_len = k->sig_len;
        } else {
            en->sig_len = fixture_sign(k->pkey, k->md, en->msg, en->msg_len, en->sig, SIG_MAX);
        }
        entry_judge(k, en);
        cr_assert(en->ok_msg && (k->md == NULL || en->ok_digest),
                  "%s: OpenSSL refuses pool signature %zu", k->name, i);
    }
    if (k->fam != FAM_RSA || bad_per_kind == 0) {
        return;
    }
    k->bad_n = EM_COUNT * bad_per_kind;
    k->bad = calloc(k->bad_n, sizeof(*k->bad));
    cr_assert_not_null(k->bad);
    for (size_t i = 0; i < k->bad_n; i++) {
        struct entry *en = &k->bad[i];
        uint8_t em[SIG_MAX];
        en->bad = (unsigned)(i % EM_COUNT);
        en->msg_len = fixture_rng_below(rng, MSG_MAX - 8);
        fixture_rng_fill(rng, en->msg, en->msg_len);
        make_em((enum bad_em)en->bad, k->md, en->msg, en->msg_len, rng, em, k->sig_len);
        fixture_rsa_raw_sign(k->pkey, em, k->sig_len, en->sig);
        en->sig_len = k->sig_len;
        entry_judge(k, en);
        if (en->bad == EM_GOOD) {
            cr_assert(en->ok_msg && en->ok_digest, "%s: OpenSSL refuses our own EMSA encoding",
                      k->name);
        }
    }
}

/* ---- cases ------------------------------------------------------------------------------- */

enum kind {
    K_VALID,
    K_SIG_FLIP,    /* 1..4 bits of the signature flipped */
    K_SIG_BYTE,    /* one byte of the signature changed */
    K_SIG_TRUNC,   /* 1..3 bytes cut from the front or the end */
    K_SIG_EXTEND,  /* 1..3 bytes added: leading zeros or trailing garbage */
    K_SIG_SHORT,   /* a prefix of the signature, possibly empty */
    K_MSG_FLIP,    /* one bit of the message (or digest) flipped */
    K_MSG_LEN,     /* a byte more or less of message */
    K_WRONG_KEY,   /* checked under another key of the same algorithm (and size if any) */
    K_RSA_GE_N,    /* signature >= n: n, n + 1, all ones, s + n, random above n */
    K_RSA_SMALL,   /* signature 0, 1, 2 or n - 1 */
    K_RSA_BAD_EM,  /* a signature over a wrong encoding (enum bad_em) */
    K_EC_MALLEATE, /* (r, n - s): also a valid signature */
    K_EC_RS_EDGE,  /* r or s or both replaced by an edge value */
    K_EC_SWAP,     /* (s, r) */
    K_COUNT,
};

static const char *const kind_names[K_COUNT] = {
    "valid",     "sig-flip",   "sig-byte",    "sig-trunc",  "sig-extend",
    "sig-short", "msg-flip",   "msg-len",     "wrong-key",  "rsa-ge-n",
    "rsa-small", "rsa-bad-em", "ec-malleate", "ec-rs-edge", "ec-swap",
};

static const unsigned kind_weight[FAM_COUNT][K_COUNT] = {
    [FAM_RSA] = { [K_VALID] = 30,
                  [K_SIG_FLIP] = 8,
                  [K_SIG_BYTE] = 3,
                  [K_SIG_TRUNC] = 3,
                  [K_SIG_EXTEND] = 3,
                  [K_SIG_SHORT] = 2,
                  [K_MSG_FLIP] = 8,
                  [K_MSG_LEN] = 4,
                  [K_WRONG_KEY] = 8,
                  [K_RSA_GE_N] = 5,
                  [K_RSA_SMALL] = 3,
                  [K_RSA_BAD_EM] = 20 },
    [FAM_EC] = { [K_VALID] = 30,
                 [K_SIG_FLIP] = 8,
                 [K_SIG_BYTE] = 3,
                 [K_SIG_TRUNC] = 3,
                 [K_SIG_EXTEND] = 3,
                 [K_SIG_SHORT] = 2,
                 [K_MSG_FLIP] = 8,
                 [K_MSG_LEN] = 4,
                 [K_WRONG_KEY] = 8,
                 [K_EC_MALLEATE] = 8,
                 [K_EC_RS_EDGE] = 14,
                 [K_EC_SWAP] = 3 },
    [FAM_ED] = { [K_VALID] = 40,
                 [K_SIG_FLIP] = 10,
                 [K_SIG_BYTE] = 5,
                 [K_SIG_TRUNC] = 5,
                 [K_SIG_EXTEND] = 5,
                 [K_SIG_SHORT] = 3,
                 [K_MSG_FLIP] = 10,
                 [K_MSG_LEN] = 5,
                 [K_WRONG_KEY] = 10 },
};

struct dcase {
    unsigned key, kind, detail;
    unsigned flags;
    size_t msg_len, sig_len;
    uint8_t msg[MSG_MAX + 8];
    uint8_t sig[SIG_MAX + 8];
    bool cached; /* want is known from the pool entry (its bytes are unchanged) */
    bool want;   /* OpenSSL's verdict */
    enum kf_offload_verdict got;
    int32_t err;
};

static enum kind pick_kind(uint64_t *rng, enum family fam)
{
    unsigned total = 0;
    for (unsigned i = 0; i < K_COUNT; i++) {
        total += kind_weight[fam][i];
    }
    unsigned x = (unsigned)fixture_rng_below(rng, total);
    for (unsigned i = 0; i < K_COUNT; i++) {
        if (x < kind_weight[fam][i]) {
            return (enum kind)i;
        }
        x -= kind_weight[fam][i];
    }
    return K_VALID;
}

/* Another key of the same algorithm, of the same signature size if there is one; -1: none. */
static int other_key(uint64_t *rng, unsigned self)
{
    unsigned same[KEYS_MAX], any[KEYS_MAX], ns = 0, na = 0;
    for (unsigned i = 0; i < nkeys; i++) {
        if (i == self || keys[i].alg != keys[self].alg) {
            continue;
        }
        any[na++] = i;
        if (keys[i].sig_len == keys[self].sig_len) {
            same[ns++] = i;
        }
    }
    if (ns > 0) {
        return (int)same[fixture_rng_below(rng, ns)];
    }
    return na > 0 ? (int)any[fixture_rng_below(rng, na)] : -1;
}

static void rsa_ge_n(uint64_t *rng, const struct tkey *k, struct dcase *c)
{
    size_t len = k->sig_len;
    c->detail = (unsigned)fixture_rng_below(rng, 5);
    c->sig_len = len;
    switch (c->detail) {
    case 0:
        memcpy(c->sig, k->n, len);
        break;
    case 1:
        be_add_small(c->sig, k->n, len, 1);
        break;
    case 3:
        /* s + n: congruent to a valid signature, but not below n; if it does not fit, a
         * random value above n. */
        if (!fixture_be_add(c->sig, c->sig, k->n, len)) {
            break;
        }
        /* fall through */
    case 4:
        if (k->n[0] < 0xff) {
            fixture_rng_fill(rng, c->sig, len);
            c->sig[0] = (uint8_t)(k->n[0] + 1 + fixture_rng_below(rng, 0xffu - k->n[0]));
            break;
        }
        /* n starts with FF: nothing above it starts with a bigger byte */
        /* fall through */
    default:
        memset(c->sig, 0xff, len);
        break;
    }
}

static void rsa_small(uint64_t *rng, const struct tkey *k, struct dcase *c)
{
    c->detail = (unsigned)fixture_rng_below(rng, 4);
    c->sig_len = k->sig_len;
    if (c->detail == 3) {
        be_sub_small(c->sig, k->n, k->sig_len, 1);
    } else {
        fixture_be_small(c->sig, k->sig_len, c->detail);
    }
}

/* Edge values for r and s: 0, 1, n - 1, n, n + 1, p, 2^bits - 1, top bit set, x + n, p - 1. */
static void ec_edge_value(uint64_t *rng, const struct tkey *k, unsigned v, uint8_t *x)
{
    size_t len = k->comp;
    switch (v) {
    case 0:
        fixture_be_small(x, len, 0);
        break;
    case 1:
        fixture_be_small(x, len, 1);
        break;
    case 2:
        be_sub_small(x, k->n, len, 1);
        break;
    case 3:
        memcpy(x, k->n, len);
        break;
    case 4:
        be_add_small(x, k->n, len, 1);
        break;
    case 5:
        memcpy(x, k->p, len);
        break;
    case 6:
        memset(x, 0xff, len);
        break;
    case 7:
        fixture_rng_fill(rng, x, len);
        x[0] |= 0x80;
        break;
    case 8:
        if (fixture_be_add(x, x, k->n, len)) {
            be_add_small(x, k->n, len, 2);
        }
        break;
    default:
        be_sub_small(x, k->p, len, 1);
        break;
    }
}

static void make_case(uint64_t *rng, struct dcase *c)
{
    c->key = (unsigned)fixture_rng_below(rng, nkeys);
    const struct tkey *k = &keys[c->key];
    c->kind = pick_kind(rng, k->fam);
    c->detail = 0;
    c->flags = 0;
    const struct entry *en;
    if (c->kind == K_RSA_BAD_EM && k->bad_n > 0) {
        en = &k->bad[fixture_rng_below(rng, k->bad_n)];
        c->detail = en->bad;
    } else {
        if (c->kind == K_RSA_BAD_EM) {
            c->kind = K_VALID;
        }
        en = &k->pool[fixture_rng_below(rng, k->pool_n)];
    }
    memcpy(c->msg, en->msg, en->msg_len);
    c->msg_len = en->msg_len;
    memcpy(c->sig, en->sig, en->sig_len);
    c->sig_len = en->sig_len;
    bool digest = k->md != NULL && fixture_rng_below(rng, 6) == 0;
    if (digest) {
        c->msg_len = fixture_digest(k->md, en->msg, en->msg_len, c->msg);
        c->flags = KF_OFFLOAD_JOB_DIGEST;
    }
    bool cached = true;
    size_t pos, n;
    int other;
    switch ((enum kind)c->kind) {
    case K_VALID:
    case K_RSA_BAD_EM:
        break;
    case K_SIG_FLIP:
        n = 1 + fixture_rng_below(rng, 4);
        for (size_t i = 0; i < n; i++) {
            pos = fixture_rng_below(rng, c->sig_len * 8);
            c->sig[pos / 8] ^= (uint8_t)(1u << (pos % 8));
        }
        cached = false;
        break;
    case K_SIG_BYTE:
        c->sig[fixture_rng_below(rng, c->sig_len)] ^= (uint8_t)(1 + fixture_rng_below(rng, 255));
        cached = false;
        break;
    case K_SIG_TRUNC:
        n = 1 + fixture_rng_below(rng, 3);
        if (fixture_rng_next(rng) & 1) {
            memmove(c->sig, c->sig + n, c->sig_len - n);
        }
        c->sig_len -= n;
        cached = false;
        break;
    case K_SIG_EXTEND:
        n = 1 + fixture_rng_below(rng, 3);
        if (fixture_rng_next(rng) & 1) {
            memmove(c->sig + n, c->sig, c->sig_len);
            memset(c->sig, 0, n);
        } else {
            fixture_rng_fill(rng, c->sig + c->sig_len, n);
        }
        c->sig_len += n;
        cached = false;
        break;
    case K_SIG_SHORT:
        c->sig_len = fixture_rng_below(rng, c->sig_len);
        cached = false;
        break;
    case K_MSG_LEN:
        if (!digest) { /* a digest of the wrong length is an ERROR: test_edge.c has it */
            if (c->msg_len > 0 && (fixture_rng_next(rng) & 1)) {
                c->msg_len--;
            } else {
                c->msg[c->msg_len++] = (uint8_t)fixture_rng_next(rng);
            }
            cached = false;
            break;
        }
        /* fall through */
    case K_MSG_FLIP:
        if (c->msg_len == 0) {
            c->msg[c->msg_len++] = (uint8_t)fixture_rng_next(rng);
        } else {
            pos = fixture_rng_below(rng, c->msg_len * 8);
            c->msg[pos / 8] ^= (uint8_t)(1u << (pos % 8));
        }
        cached = false;
        break;
    case K_WRONG_KEY:
        other = other_key(rng, c->key);
        if (other >= 0) {
            c->key = (unsigned)other;
        } else {
            c->sig[0] ^= 0x01;
        }
        cached = false;
        break;
    case K_RSA_GE_N:
        rsa_ge_n(rng, k, c);
        cached = false;
        break;
    case K_RSA_SMALL:
        rsa_small(rng, k, c);
        cached = false;
        break;
    case K_EC_MALLEATE:
        fixture_be_sub(c->sig + k->comp, k->n, c->sig + k->comp, k->comp);
        cached = false;
        break;
    case K_EC_RS_EDGE: {
        unsigned v = (unsigned)fixture_rng_below(rng, 10),
                 which = (unsigned)fixture_rng_below(rng, 3);
        c->detail = v * 3 + which;
        if (which != 1) {
            ec_edge_value(rng, k, v, c->sig);
        }
        if (which != 0) {
            ec_edge_value(rng, k, v, c->sig + k->comp);
        }
        cached = false;
        break;
    }
    case K_EC_SWAP: {
        uint8_t t[72];
        memcpy(t, c->sig, k->comp);
        memmove(c->sig, c->sig + k->comp, k->comp);
        memcpy(c->sig + k->comp, t, k->comp);
        cached = false;
        break;
    }
    case K_COUNT:
        break;
    }
    c->cached = cached;
    c->want = cached && (digest ? en->ok_digest : en->ok_msg);
    c->got = KF_OFFLOAD_PENDING;
    c->err = 0;
}

static void to_job(const struct dcase *c, uint64_t tag, struct kf_offload_job *j)
{
    memset(j, 0, sizeof(*j));
    j->alg = keys[c->key].alg;
    j->key = keys[c->key].kf;
    j->msg = c->msg;
    j->msg_len = c->msg_len;
    j->sig = c->sig;
    j->sig_len = c->sig_len;
    j->tag = tag;
    j->flags = c->flags;
    j->verdict = KF_OFFLOAD_PENDING;
    j->err = -1; /* the engine must overwrite it */
}

/* OpenSSL's verdicts on a chunk, on a thread of its own while the engine's verify_many runs
 * on the test's thread (the two are independent; this halves the wall time). */
struct oracle_run {
    struct dcase *cs;
    size_t n;
    size_t failures;
};

static void *oracle_thread(void *arg)
{
    struct oracle_run *o = arg;
    for (size_t i = 0; i < o->n; i++) {
        struct dcase *c = &o->cs[i];
        if (!c->cached) {
            int r = oracle(&keys[c->key], c->msg, c->msg_len,
                           (c->flags & KF_OFFLOAD_JOB_DIGEST) != 0, c->sig, c->sig_len);
            o->failures += r < 0;
            c->want = r == 1;
        }
    }
    return NULL;
}

/* Calls carry 1..8 jobs (a kernel's width and less) half the time, else bursts up to 70. */
static size_t draw_batch(uint64_t *rng)
{
    return fixture_rng_next(rng) & 1 ? 1 + fixture_rng_below(rng, 8)
                                     : 9 + fixture_rng_below(rng, BATCH_MAX - 8);
}

/* ---- the engine's runs ------------------------------------------------------------------- */

static void run_sync(const struct kf_offload_engine *e, struct dcase *cs, size_t n, uint64_t *rng)
{
    struct kf_offload_job jobs[BATCH_MAX];
    for (size_t off = 0; off < n;) {
        size_t m = draw_batch(rng);
        m = m < n - off ? m : n - off;
        for (size_t i = 0; i < m; i++) {
            to_job(&cs[off + i], off + i, &jobs[i]);
        }
        kf_offload_verify_many(e, jobs, m);
        for (size_t i = 0; i < m; i++) {
            cs[off + i].got = jobs[i].verdict;
            cs[off + i].err = jobs[i].err;
            cr_assert_eq(jobs[i].tag, off + i, "verify_many changed a tag");
        }
        off += m;
    }
}

/* Where completions land: one slot per case of the chunk, indexed by tag - base. */
struct sink {
    uint64_t base;
    size_t n;
    _Atomic uint32_t seen[CHUNK];
    _Atomic int32_t verdict[CHUNK];
    _Atomic int32_t err[CHUNK];
    atomic_size_t stray, done;
};

static void sink_take(struct sink *s, const struct kf_offload_completion *d, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t idx = d[i].tag - s->base;
        if (d[i].tag < s->base || idx >= s->n) {
            atomic_fetch_add(&s->stray, 1);
            continue;
        }
        atomic_store(&s->verdict[idx], (int32_t)d[i].verdict);
        atomic_store(&s->err[idx], d[i].err);
        atomic_fetch_add(&s->seen[idx], 1);
    }
    atomic_fetch_add(&s->done, n);
}

static void on_done(void *arg, const struct kf_offload_completion *d, size_t n)
{
    sink_take(arg, d, n);
}

/* Poll mode: wait up to @p ms for the eventfd, clear it, and take every waiting completion. */
static void poll_some(struct kf_offload_engine *e, struct sink *s, int ms)
{
    int fd = kf_offload_eventfd(e);
    cr_assert_geq(fd, 0, "poll mode without an eventfd");
    struct pollfd p = { .fd = fd, .events = POLLIN };
    if (poll(&p, 1, ms) == 1) {
        uint64_t v = 0;
        cr_assert_eq(read(fd, &v, sizeof(v)), (ssize_t)sizeof(v));
        cr_assert_gt(v, 0);
    }
    struct kf_offload_completion buf[64];
    size_t got;
    while ((got = kf_offload_poll(e, buf, 64)) > 0) {
        cr_assert_leq(got, 64);
        sink_take(s, buf, got);
    }
}

static void run_async(struct kf_offload_engine *e, bool poll_mode, struct sink *s, struct dcase *cs,
                      size_t n, uint64_t base, uint64_t *rng)
{
    /* The engine is idle here (drained), so the sink can be reset without a race. */
    s->base = base;
    s->n = n;
    for (size_t i = 0; i < n; i++) {
        atomic_store(&s->seen[i], 0);
        atomic_store(&s->verdict[i], KF_OFFLOAD_PENDING);
        atomic_store(&s->err[i], 0);
    }
    atomic_store(&s->stray, 0);
    atomic_store(&s->done, 0);
    struct kf_offload_job jobs[BATCH_MAX];
    for (size_t off = 0; off < n;) {
        size_t m = draw_batch(rng);
        m = m < n - off ? m : n - off;
        for (size_t i = 0; i < m; i++) {
            to_job(&cs[off + i], base + off + i, &jobs[i]);
        }
        size_t acc = SIZE_MAX;
        kf_result r = kf_offload_submit(e, jobs, m, &acc);
        cr_assert_leq(acc, m);
        if (kf_ok(r)) {
            cr_assert_eq(acc, m, "submit said OK but took %zu of %zu", acc, m);
        } else {
            cr_assert_eq(r.code, KF_ERR_RETRY, "submit: %s", kf_err_name(r.code));
            cr_assert_lt(acc, m);
        }
        off += acc;
        if (poll_mode) {
            poll_some(e, s, kf_ok(r) ? 0 : 1);
        } else if (!kf_ok(r)) {
            sched_yield();
        }
    }
    kf_offload_drain(e);
    if (poll_mode) {
        /* After drain every completion waits in the poll queue: no need to wait. */
        poll_some(e, s, 0);
    }
    cr_assert_eq(atomic_load(&s->done), n, "%zu completions for %zu jobs", atomic_load(&s->done),
                 n);
    cr_assert_eq(atomic_load(&s->stray), 0, "completions with tags never submitted");
    for (size_t i = 0; i < n; i++) {
        cr_assert_eq(atomic_load(&s->seen[i]), 1, "job %" PRIu64 " completed %u times", base + i,
                     atomic_load(&s->seen[i]));
        cs[i].got = (enum kf_offload_verdict)atomic_load(&s->verdict[i]);
        cs[i].err = atomic_load(&s->err[i]);
    }
}

/* ---- judging ----------------------------------------------------------------------------- */

struct tally {
    uint64_t seed;
    size_t mismatches, errors, printed;
    size_t valid, cases;
    size_t by_kind[K_COUNT];
};

static void print_case(struct tally *t, const char *path, const char *what, size_t number,
                       const struct dcase *c)
{
    if (t->printed++ >= PRINT_MAX) {
        return;
    }
    static char hm[2 * (MSG_MAX + 8) + 1], hs[2 * (SIG_MAX + 8) + 1];
    const struct tkey *k = &keys[c->key];
    fprintf(stderr,
            "%s: seed %#" PRIx64 " case %zu via %s: key %u (%s) kind %s detail %u%s%s: "
            "OpenSSL %s, engine %s (err %s)\n  msg %s\n  sig %s\n",
            what, t->seed, number, path, c->key, k->name, kind_names[c->kind], c->detail,
            c->kind == K_RSA_BAD_EM ? " em " : "",
            c->kind == K_RSA_BAD_EM ? bad_em_names[c->detail] : "", c->want ? "valid" : "invalid",
            fixture_verdict_name(c->got), c->got == KF_OFFLOAD_ERROR ? kf_err_name(c->err) : "none",
            fixture_hex(hm, sizeof(hm), c->msg, c->msg_len),
            fixture_hex(hs, sizeof(hs), c->sig, c->sig_len));
}

static void judge(struct tally *t, const char *path, const struct dcase *cs, size_t n, size_t base)
{
    for (size_t i = 0; i < n; i++) {
        const struct dcase *c = &cs[i];
        bool known = c->got == KF_OFFLOAD_VALID || c->got == KF_OFFLOAD_INVALID ||
                     c->got == KF_OFFLOAD_ERROR;
        if (!known || (c->got == KF_OFFLOAD_VALID) != c->want) {
            t->mismatches++;
            print_case(t, path, "MISMATCH", base + i, c);
        } else if (c->got == KF_OFFLOAD_ERROR) {
            t->errors++;
            print_case(t, path, "ERROR on a well-formed job", base + i, c);
        } else if (c->got != KF_OFFLOAD_ERROR && c->err != 0) {
            t->errors++;
            print_case(t, path, "err set without ERROR", base + i, c);
        }
    }
}

static struct kf_offload_engine *engine(unsigned workers, struct sink *cb_sink)
{
    struct kf_offload_config cfg = {
        .workers = workers,
        .backend = KF_OFFLOAD_BACKEND_AUTO,
        .on_done = cb_sink != NULL ? on_done : NULL,
        .on_done_arg = cb_sink,
    };
    return fixture_engine_new(&cfg);
}

static void check_stats(const char *name, const struct kf_offload_engine *e, uint64_t jobs,
                        uint64_t *lane_jobs)
{
    struct kf_offload_stats st;
    fixture_check_stats(name, e, jobs, &st);
    *lane_jobs += st.lane_jobs;
}

/* Runs @p ncases cases over the keys set up so far. @p lanes_expected: under the AVX-512 IFMA
 * backend some jobs must have gone through a kernel (else the kernels were never tested). */
static void run_differential(const char *label, size_t ncases, uint64_t seed, bool lanes_expected)
{
    enum kf_offload_backend b = kf_offload_backend_default();
    struct sink *s = calloc(1, sizeof(*s));
    struct dcase *cs = calloc(CHUNK, sizeof(*cs));
    cr_assert(s != NULL && cs != NULL);
    struct kf_offload_engine *sync_e = engine(0, NULL);
    struct kf_offload_engine *poll_e = engine(2, NULL);
    struct kf_offload_engine *cb_e = engine(2, s);
    struct tally t = { .seed = seed };
    uint64_t case_rng = seed ^ 0x63617365u, batch_rng = seed ^ 0x62617463u;
    uint64_t n_sync = 0, n_poll = 0, n_cb = 0;
    for (size_t base = 0, chunk = 0; base < ncases; base += CHUNK, chunk++) {
        size_t m = ncases - base < CHUNK ? ncases - base : CHUNK;
        for (size_t i = 0; i < m; i++) {
            make_case(&case_rng, &cs[i]);
            t.by_kind[cs[i].kind]++;
        }
        struct oracle_run o = { cs, m, 0 };
        pthread_t th;
        cr_assert_eq(pthread_create(&th, NULL, oracle_thread, &o), 0);
        bool null_engine = chunk % 2 == 1;
        /* run_sync writes only got and err, the oracle only want */
        struct dcase *got = calloc(m, sizeof(*got));
        cr_assert_not_null(got);
        memcpy(got, cs, m * sizeof(*got));
        run_sync(null_engine ? NULL : sync_e, got, m, &batch_rng);
        cr_assert_eq(pthread_join(th, NULL), 0);
        cr_assert_eq(o.failures, 0, "OpenSSL could not be asked");
        for (size_t i = 0; i < m; i++) {
            cs[i].got = got[i].got;
            cs[i].err = got[i].err;
            t.valid += cs[i].want;
        }
        free(got);
        n_sync += null_engine ? 0 : m;
        judge(&t, null_engine ? "verify_many(NULL engine)" : "verify_many", cs, m, base);
        for (size_t i = 0; i < m; i++) {
            cs[i].got = KF_OFFLOAD_PENDING;
        }
        bool use_poll = chunk % 2 == 0;
        run_async(use_poll ? poll_e : cb_e, use_poll, s, cs, m, base, &batch_rng);
        *(use_poll ? &n_poll : &n_cb) += m;
        judge(&t, use_poll ? "submit+poll" : "submit+callback", cs, m, base);
    }
    t.cases = ncases;
    fprintf(stderr, "%s: %zu cases (%zu valid), seed %#" PRIx64 "; by kind:", label, t.cases,
            t.valid, seed);
    for (unsigned i = 0; i < K_COUNT; i++) {
        if (t.by_kind[i] > 0) {
            fprintf(stderr, " %s %zu", kind_names[i], t.by_kind[i]);
        }
    }
    fprintf(stderr, "\n");
    cr_assert_eq(t.mismatches, 0,
                 "%s: %zu verdicts differ from OpenSSL's (seed %#" PRIx64 ", see above)", label,
                 t.mismatches, seed);
    cr_assert_eq(t.errors, 0, "%s: %zu well-formed jobs got ERROR (seed %#" PRIx64 ")", label,
                 t.errors, seed);
    uint64_t lane_jobs = 0;
    check_stats("verify_many engine", sync_e, n_sync, &lane_jobs);
    check_stats("poll engine", poll_e, n_poll, &lane_jobs);
    check_stats("callback engine", cb_e, n_cb, &lane_jobs);
    kf_offload_engine_free(sync_e);
    kf_offload_engine_free(poll_e);
    kf_offload_engine_free(cb_e);
    free(cs);
    free(s);
    cr_assert_gt(t.valid, 0);
    cr_assert_lt(t.valid, t.cases);
    if (b == KF_OFFLOAD_BACKEND_AVX512IFMA && lanes_expected) {
        cr_assert_gt(lane_jobs, 0, "%s: the AVX-512 IFMA backend ran no job through a kernel",
                     label);
    }
}

static void expect_lanes(const struct tkey *k)
{
    fixture_expect_lanes(k->kf, k->name);
}

/* ---- the tests --------------------------------------------------------------------------- */

Test(differential, rsa2048_pkcs1_sha256)
{
    fixture_announce("rsa2048_pkcs1_sha256");
    uint64_t seed = test_seed(), rng = seed;
    struct tkey *a = add_rsa("rsa2048-a", &fixture_rsa_a, false);
    struct tkey *b = add_rsa("rsa2048-b", &fixture_rsa_b, true);
    add_rsa("rsa2048-e3", &fixture_rsa_e3, false);
    add_rsa("rsa2048-e2^32+15", &fixture_rsa_ebig, true);
    for (size_t i = 0; i < nkeys; i++) {
        build_pool(&keys[i], &rng, 256, 4);
    }
    expect_lanes(a);
    expect_lanes(b);
    run_differential("rsa2048_pkcs1_sha256", test_cases(), seed, true);
}

Test(differential, p256_sha256)
{
    fixture_announce("p256_sha256");
    uint64_t seed = test_seed(), rng = seed;
    /* Keys 0 and 1 are one key, with and without the per-key table. */
    struct tkey *t0 = add_ec("p256-0-table", &g256, KF_OFFLOAD_ECDSA_P256_SHA256, &rng,
                             KF_OFFLOAD_KEY_TABLE, false, NULL);
    add_ec("p256-0-plain", &g256, KF_OFFLOAD_ECDSA_P256_SHA256, &rng, 0, true, t0);
    add_ec("p256-2-table", &g256, KF_OFFLOAD_ECDSA_P256_SHA256, &rng, KF_OFFLOAD_KEY_TABLE, true,
           NULL);
    add_ec("p256-3-plain", &g256, KF_OFFLOAD_ECDSA_P256_SHA256, &rng, 0, false, NULL);
    for (size_t i = 0; i < nkeys; i++) {
        build_pool(&keys[i], &rng, 256, 0);
        expect_lanes(&keys[i]);
    }
    run_differential("p256_sha256", test_cases(), seed, true);
}

Test(differential, rsa_other_sizes_and_exponents)
{
    fixture_announce("rsa_other_sizes_and_exponents");
    uint64_t seed = test_seed(), rng = seed;
    add_rsa("rsa1024", &fixture_rsa_1024, false);
    add_rsa("rsa2047-odd-size", &fixture_rsa_2047, true);
    add_rsa("rsa2049-e3", &fixture_rsa_2049, false);
    add_rsa("rsa3072", &fixture_rsa_3072, true);
    add_rsa("rsa4096", &fixture_rsa_4096, false);
    add_rsa("rsa2048-e3", &fixture_rsa_e3, true);
    for (size_t i = 0; i < nkeys; i++) {
        build_pool(&keys[i], &rng, 48, 1);
    }
    size_t n = test_cases() / 10;
    run_differential("rsa_other_sizes_and_exponents", n > 0 ? n : 1, seed, false);
}

/* One call carries RSA of several sizes and both digests, P-256 with and without a table,
 * P-384, Ed25519 and Ed448: kernel jobs and scalar jobs side by side. */
Test(differential, mixed_algorithms_in_one_call)
{
    fixture_announce("mixed_algorithms_in_one_call");
    uint64_t seed = test_seed(), rng = seed;
    struct tkey *a = add_rsa("rsa2048-a", &fixture_rsa_a, false);
    add_rsa("rsa2048-b", &fixture_rsa_b, true);
    add_rsa_alias("rsa2048-a-sha512", a, KF_OFFLOAD_RSA_PKCS1_SHA512, EVP_sha512());
    add_rsa("rsa1024", &fixture_rsa_1024, true);
    add_rsa("rsa3072", &fixture_rsa_3072, false);
    add_ec("p256-table", &g256, KF_OFFLOAD_ECDSA_P256_SHA256, &rng, KF_OFFLOAD_KEY_TABLE, false,
           NULL);
    add_ec("p256-plain", &g256, KF_OFFLOAD_ECDSA_P256_SHA256, &rng, 0, true, NULL);
    add_ec("p384", &g384, KF_OFFLOAD_ECDSA_P384_SHA384, &rng, 0, true, NULL);
    add_ed("ed25519", KF_OFFLOAD_ED25519, &rng, false);
    add_ed("ed25519-b", KF_OFFLOAD_ED25519, &rng, true);
    add_ed("ed448", KF_OFFLOAD_ED448, &rng, true);
    for (size_t i = 0; i < nkeys; i++) {
        build_pool(&keys[i], &rng, 64, 1);
    }
    size_t n = test_cases() / 20;
    run_differential("mixed_algorithms_in_one_call", n > 0 ? n : 1, seed, true);
}

/* Public keys: the engine must refuse exactly what OpenSSL's import refuses (SEC 1 v2
 * s3.2.2.1: coordinates in [0, p-1] and on the curve), with MALFORMED. */
Test(differential, ec_key_import_agrees_with_openssl)
{
    fixture_announce("ec_key_import_agrees_with_openssl");
    uint64_t rng = test_seed();
    struct fixture_ec_group *groups[] = { &g256, &g384 };
    enum kf_offload_alg algs[] = { KF_OFFLOAD_ECDSA_P256_SHA256, KF_OFFLOAD_ECDSA_P384_SHA384 };
    size_t per = test_cases() / 100 > 200 ? test_cases() / 100 : 200;
    for (size_t gi = 0; gi < 2; gi++) {
        const struct fixture_ec_group *g = ecg_ready(groups[gi]);
        size_t c = g->comp;
        uint8_t pb[72];
        cr_assert_eq(BN_bn2binpad(g->p, pb, (int)c), (int)c);
        /* Points with small x (x = 0, 1, 2, ...), found by solving y^2 = x^3 - 3x + b. */
        uint8_t small[8][144];
        size_t n_small = 0;
        BIGNUM *x = BN_new();
        cr_assert_not_null(x);
        for (unsigned xs = 0; n_small < 8 && xs < 200; xs++) {
            cr_assert(BN_set_word(x, xs));
            EC_POINT *pt = fixture_ec_point_from_x(g, x);
            if (pt != NULL) {
                fixture_ec_point_xy(g, pt, small[n_small++]);
                EC_POINT_free(pt);
            }
        }
        cr_assert_gt(n_small, 2);
        BN_free(x);
        size_t accepted = 0, refused = 0;
        for (size_t i = 0; i < per; i++) {
            uint8_t xy[144];
            unsigned v = (unsigned)(i % 9);
            int expect = -1; /* -1: OpenSSL decides; else what SEC 1 says */
            if (v == 0 || v == 2 || v == 3) {
                BIGNUM *d = BN_new();
                cr_assert_not_null(d);
                fixture_ec_random_scalar(&rng, g, d);
                fixture_ec_pub_xy(g, d, xy);
                BN_free(d);
                expect = 1;
                if (v == 2) {
                    xy[c + fixture_rng_below(&rng, c)] ^=
                        (uint8_t)(1u << fixture_rng_below(&rng, 8));
                    expect = 0; /* y changed: off the curve (the other root is p - y) */
                } else if (v == 3) {
                    fixture_be_sub(xy + c, pb, xy + c, c); /* -Q */
                }
            } else if (v == 1) {
                fixture_rng_fill(&rng, xy, 2 * c);
            } else if (v == 4) {
                memcpy(xy, small[fixture_rng_below(&rng, n_small)], 2 * c);
                expect = 1;
            } else if (v == 5) {
                memcpy(xy, small[fixture_rng_below(&rng, n_small)], 2 * c);
                cr_assert(
                    !fixture_be_add(xy, xy, pb, c)); /* x + p: the same x mod p, not below p */
                expect = 0;
            } else if (v == 6) {
                memcpy(xy, pb, c); /* x = p */
                fixture_rng_fill(&rng, xy + c, c);
                expect = 0;
            } else if (v == 7) {
                fixture_rng_fill(&rng, xy, c);
                memset(xy + c, 0xff, c); /* y = 2^bits - 1 > p */
                expect = 0;
            } else {
                memset(xy, 0, 2 * c); /* (0, 0): how the point at infinity is often written */
                expect = 0;
            }
            EVP_PKEY *pk = fixture_ec_pub_pkey(g->name, xy, 2 * c);
            struct kf_offload_key *key = NULL;
            kf_result r =
                kf_offload_key_new_ec(algs[gi], xy, 2 * c, i % 2 ? KF_OFFLOAD_KEY_TABLE : 0, &key);
            char hb[2 * 144 + 1];
            cr_assert_eq(kf_ok(r), pk != NULL, "%s variant %u: engine %s, OpenSSL %s: %s", g->name,
                         v, kf_ok(r) ? "accepts" : "refuses", pk != NULL ? "accepts" : "refuses",
                         fixture_hex(hb, sizeof(hb), xy, 2 * c));
            if (expect >= 0) {
                cr_assert_eq(pk != NULL, expect == 1, "%s variant %u: OpenSSL %s %s", g->name, v,
                             pk != NULL ? "accepts" : "refuses",
                             fixture_hex(hb, sizeof(hb), xy, 2 * c));
            }
            if (kf_ok(r)) {
                accepted++;
                cr_assert_not_null(key);
            } else {
                refused++;
                cr_assert_eq(r.code, KF_ERR_MALFORMED, "%s: refused with %s", g->name,
                             kf_err_name(r.code));
            }
            kf_offload_key_free(key);
            EVP_PKEY_free(pk);
        }
        cr_assert_gt(accepted, 0);
        cr_assert_gt(refused, 0);
        /* X || Y of the wrong length. */
        static const size_t bad_len[] = { 0, 1, 31, 63, 65, 95, 97, 128 };
        uint8_t buf[160];
        memset(buf, 0x11, sizeof(buf));
        memcpy(buf, small[0], 2 * c);
        for (size_t i = 0; i < sizeof(bad_len) / sizeof(bad_len[0]); i++) {
            if (bad_len[i] == 2 * c) {
                continue;
            }
            struct kf_offload_key *key = NULL;
            kf_result r = kf_offload_key_new_ec(algs[gi], buf, bad_len[i], 0, &key);
            cr_assert_eq(r.code, KF_ERR_MALFORMED, "%s: %zu-byte key: %s", g->name, bad_len[i],
                         kf_err_name(r.code));
            cr_assert_null(key);
        }
    }
}
