/* perf/bench_verify.c - signature verifications per second: keyfort's offload engine
 * (offload/offload.h, scalar and AVX-512 IFMA backends) side by side with OpenSSL 3.0's
 * EVP_DigestVerify in the same run, for RSA-2048 (PKCS#1 v1.5, SHA-256, e = 65537) and ECDSA
 * P-256 with SHA-256.
 *
 * Cases, one table each, one row per algorithm and thread count:
 *
 *   raw     One hot key, 512 fixed 64-byte messages. OpenSSL: EVP_DigestVerify with an EVP_PKEY
 *           built once and a fresh EVP_MD_CTX per verification (EVP_MD_CTX_new,
 *           EVP_DigestVerifyInit_ex with "SHA256", EVP_DigestVerify, EVP_MD_CTX_free), DER
 *           signatures made beforehand. keyfort: kf_offload_verify_many() in batches of 64 jobs
 *           on engines whose .backend is forced to scalar and to avx512ifma, and for P-256 also
 *           avx512ifma with a key made with KF_OFFLOAD_KEY_TABLE.
 *   dnssec  4 keys, 10,000 distinct messages of 64-300 bytes shaped as RRSIG RDATA without the
 *           signature followed by the canonical RRset (RFC 4034 s3.1.8.1: A, AAAA or TXT sets
 *           of one owner), message i signed by key i % 4, SHA-256 over the whole message.
 *           OpenSSL as above with the 4 EVP_PKEYs cached, and a validator that imports the
 *           key from its DNSKEY bytes on every verification (RFC 3110 exponent and modulus, or
 *           P-256 X || Y, through OSSL_PARAM_BLD and EVP_PKEY_fromdata; for P-256 it also turns
 *           the wire r || s into DER, as such validators must). keyfort as above, its key
 *           handles made once from the same DNSKEY bytes.
 *   async   The dnssec set through kf_offload_submit() from one thread into an engine with T
 *           worker threads (callback mode), next to OpenSSL and verify_many on T threads: the
 *           queue's cost. When the queue is full the submitter sleeps (on a condition variable the
 *           callback signals) until at most half of it is in flight.
 *
 * T threads each take their own share of the messages (a contiguous slice, a multiple of 64
 * long); ops/s are totals over the threads. Every cell runs its sides in rounds of about 0.5 s,
 * in alternating order (A B C, C B A) so load from other processes hits all sides alike;
 * ratios are medians over rounds of the per-round rates. Before any timing every signature of
 * every data set is checked in every path (both OpenSSL sides, each engine, the async engines)
 * and must come back VALID, and tampered messages and signatures must come back INVALID;
 * during timing every verdict is checked again.
 *
 * Exit status: 0 when it has run, 1 when a path gave a wrong verdict, 2 on bad usage or a
 * failed setup. See perf/README.md. */
#include "perf/bench.h"

#include "offload/offload.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <unistd.h>

#define BENCH_MAX_THREADS 2
#define BENCH_BATCH 64                 /* jobs per kf_offload_verify_many call and per submit */
#define BENCH_ROUND_SECONDS 0.5        /* about this long per side per round */
#define BENCH_RAW_MSGS 512             /* raw case: messages, all under one key */
#define BENCH_RAW_LEN 64               /* raw case: message length */
#define BENCH_DNS_MSGS 10000           /* dnssec case: default message count */
#define BENCH_DNS_KEYS 4               /* dnssec case: keys */
#define BENCH_SIG_MAX 256              /* RSA-2048 */
#define BENCH_DER_MAX 80               /* a DER ECDSA-Sig-Value for P-256 is at most 72 bytes */
#define BENCH_DNSKEY_MAX (3 + 3 + 256) /* RFC 3110 field with a 3-byte exponent; P-256: 64 */
#define BENCH_NEG 16         /* tampered messages and tampered signatures checked per path */
#define BENCH_LAT_RING 16384 /* async submit times, indexed by tag; > 2 x queue depth */
#define BENCH_QUEUE_DEPTH 4096

static volatile sig_atomic_t bench_stop; /* set by SIGINT/SIGTERM only */

static void bench_on_signal(int sig)
{
    (void)sig;
    bench_stop = 1;
}

/* ---- algorithms, keys and data sets ------------------------------------------------------ */

struct bench_alg {
    const char *name; /* as printed */
    const char *cli;  /* as --alg takes it */
    enum kf_offload_alg kf_alg;
    bool ec;
};

static const struct bench_alg bench_algs[] = {
    { "RSA-2048", "rsa2048", KF_OFFLOAD_RSA_PKCS1_SHA256, false },
    { "P-256", "p256", KF_OFFLOAD_ECDSA_P256_SHA256, true },
};
#define BENCH_N_ALGS (sizeof(bench_algs) / sizeof(bench_algs[0]))

struct bench_key {
    EVP_PKEY *priv; /* owned: signs the data set */
    uint8_t dnskey[BENCH_DNSKEY_MAX];
    size_t dnskey_len;           /* the DNSKEY public key field */
    EVP_PKEY *pub;               /* owned: imported once from dnskey (OpenSSL cached side) */
    struct kf_offload_key *kf;   /* owned: from dnskey, flags 0 */
    struct kf_offload_key *kf_t; /* owned: P-256 with KF_OFFLOAD_KEY_TABLE; NULL for RSA */
};

struct bench_msg {
    const uint8_t *data; /* borrowed from the set's bytes */
    size_t len;
    uint8_t sig[BENCH_SIG_MAX]; /* the wire signature: RSA s, or r || s for P-256 */
    size_t sig_len;
    uint8_t der[BENCH_DER_MAX]; /* P-256: the DER form EVP_DigestVerify takes */
    size_t der_len;
    unsigned key;
};

struct bench_set {
    const struct bench_alg *alg;
    struct bench_key keys[BENCH_DNS_KEYS];
    size_t n_keys;
    struct bench_msg *msgs; /* owned */
    size_t n_msgs;
    uint8_t *bytes; /* owned: every message, back to back */
};

/* The signature EVP_DigestVerify takes for @p m. */
static const uint8_t *bench_ossl_sig(const struct bench_set *s, const struct bench_msg *m,
                                     size_t *len)
{
    if (s->alg->ec) {
        *len = m->der_len;
        return m->der;
    }
    *len = m->sig_len;
    return m->sig;
}

/* A fixed, non-cryptographic generator for the data sets (xorshift64*). */
static uint64_t bench_rand(uint64_t *st)
{
    uint64_t x = *st;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *st = x;
    return x * 0x2545F4914F6CDD1DULL;
}

/* r || s (32 bytes each) into DER; false if it does not fit. */
static bool bench_rs_to_der(const uint8_t *rs, uint8_t *out, size_t cap, size_t *out_len)
{
    ECDSA_SIG *sig = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(rs, 32, NULL);
    BIGNUM *s = BN_bin2bn(rs + 32, 32, NULL);
    bool ok = false;
    if (sig != NULL && r != NULL && s != NULL && ECDSA_SIG_set0(sig, r, s) == 1) {
        r = s = NULL; /* owned by sig now */
        int n = i2d_ECDSA_SIG(sig, NULL);
        unsigned char *p = out;
        if (n > 0 && (size_t)n <= cap && i2d_ECDSA_SIG(sig, &p) == n) {
            *out_len = (size_t)n;
            ok = true;
        }
    }
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(sig);
    return ok;
}

/* DER into r || s. */
static bool bench_der_to_rs(const uint8_t *der, size_t len, uint8_t rs[64])
{
    const unsigned char *p = der;
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)len);
    const BIGNUM *r = NULL;
    const BIGNUM *s = NULL;
    if (sig != NULL) {
        ECDSA_SIG_get0(sig, &r, &s);
    }
    bool ok = sig != NULL && BN_bn2binpad(r, rs, 32) == 32 && BN_bn2binpad(s, rs + 32, 32) == 32;
    ECDSA_SIG_free(sig);
    return ok;
}

/* The public key from DNSKEY key-field bytes, the way a validator imports it: RSA per RFC 3110
 * (exponent length, exponent, modulus), P-256 per RFC 6605 (X || Y). NULL on any failure. */
static EVP_PKEY *bench_import(const struct bench_alg *alg, const uint8_t *k, size_t len)
{
    EVP_PKEY *pkey = NULL;
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    BIGNUM *n = NULL;
    BIGNUM *e = NULL;
    uint8_t point[65]; /* OSSL_PARAM_BLD keeps a pointer to it until _to_param */
    bool ok = bld != NULL;
    if (ok && alg->ec) {
        ok = len == 64;
        if (ok) {
            point[0] = 0x04; /* SEC1 uncompressed */
            memcpy(point + 1, k, 64);
            ok = OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1",
                                                 0) == 1 &&
                 OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point,
                                                  sizeof(point)) == 1;
        }
    } else if (ok) {
        size_t off = 1;
        size_t e_len = len > 0 ? k[0] : 0;
        if (len >= 3 && k[0] == 0) {
            e_len = (size_t)k[1] << 8 | k[2];
            off = 3;
        }
        ok = e_len > 0 && len > off + e_len;
        if (ok) {
            e = BN_bin2bn(k + off, (int)e_len, NULL);
            n = BN_bin2bn(k + off + e_len, (int)(len - off - e_len), NULL);
            ok = e != NULL && n != NULL && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) &&
                 OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e);
        }
    }
    if (ok) {
        params = OSSL_PARAM_BLD_to_param(bld);
        ctx = EVP_PKEY_CTX_new_from_name(NULL, alg->ec ? "EC" : "RSA", NULL);
        ok = params != NULL && ctx != NULL && EVP_PKEY_fromdata_init(ctx) == 1 &&
             EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) == 1;
    }
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(n);
    BN_free(e);
    if (!ok) {
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }
    return pkey;
}

/* EVP_DigestVerify with a fresh EVP_MD_CTX: 1 valid, 0 invalid, -1 the call failed. */
static int bench_ossl_verify(EVP_PKEY *pkey, const uint8_t *msg, size_t len, const uint8_t *sig,
                             size_t sig_len)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int rc = -1;
    if (md != NULL && EVP_DigestVerifyInit_ex(md, NULL, "SHA256", NULL, NULL, pkey, NULL) == 1) {
        int v = EVP_DigestVerify(md, sig, sig_len, msg, len);
        rc = v == 1 ? 1 : v == 0 ? 0 : -1;
    }
    EVP_MD_CTX_free(md);
    if (rc != 1) {
        ERR_clear_error();
    }
    return rc;
}

/* The validator that imports the key for every verification (and, for P-256, converts the
 * wire signature to DER). */
static int bench_ossl_verify_import(const struct bench_alg *alg, const struct bench_key *k,
                                    const uint8_t *msg, size_t len, const uint8_t *sig,
                                    size_t sig_len)
{
    EVP_PKEY *pkey = bench_import(alg, k->dnskey, k->dnskey_len);
    if (pkey == NULL) {
        ERR_clear_error();
        return -1;
    }
    uint8_t der[BENCH_DER_MAX];
    size_t der_len = 0;
    int rc = -1;
    if (!alg->ec) {
        rc = bench_ossl_verify(pkey, msg, len, sig, sig_len);
    } else if (sig_len == 64 && bench_rs_to_der(sig, der, sizeof(der), &der_len)) {
        rc = bench_ossl_verify(pkey, msg, len, der, der_len);
    }
    EVP_PKEY_free(pkey);
    return rc;
}

/* A key pair, its DNSKEY bytes, the cached OpenSSL key and keyfort's key handles. */
static bool bench_key_make(const struct bench_alg *alg, struct bench_key *k, char *err,
                           size_t err_len)
{
    char buf[256];
    k->priv = alg->ec ? EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")
                      : EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    if (k->priv == NULL) {
        snprintf(err, err_len, "%s key generation failed", alg->name);
        return false;
    }
    if (alg->ec) {
        uint8_t point[65];
        size_t len = 0;
        if (EVP_PKEY_get_octet_string_param(k->priv, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point),
                                            &len) != 1 ||
            len != 65 || point[0] != 0x04) {
            snprintf(err, err_len, "P-256 public point not available uncompressed");
            return false;
        }
        memcpy(k->dnskey, point + 1, 64);
        k->dnskey_len = 64;
    } else {
        BIGNUM *n = NULL;
        BIGNUM *e = NULL;
        bool ok = EVP_PKEY_get_bn_param(k->priv, OSSL_PKEY_PARAM_RSA_N, &n) == 1 &&
                  EVP_PKEY_get_bn_param(k->priv, OSSL_PKEY_PARAM_RSA_E, &e) == 1 &&
                  BN_num_bytes(e) <= 3 && BN_num_bytes(n) == 256;
        if (ok) {
            int e_len = BN_num_bytes(e);
            k->dnskey[0] = (uint8_t)e_len;
            BN_bn2bin(e, k->dnskey + 1);
            BN_bn2bin(n, k->dnskey + 1 + e_len);
            k->dnskey_len = 1 + (size_t)e_len + 256;
        }
        BN_free(n);
        BN_free(e);
        if (!ok) {
            snprintf(err, err_len, "RSA-2048 key parameters not as expected");
            return false;
        }
    }
    k->pub = bench_import(alg, k->dnskey, k->dnskey_len);
    if (k->pub == NULL) {
        snprintf(err, err_len, "%s: EVP_PKEY_fromdata of the DNSKEY bytes failed", alg->name);
        return false;
    }
    kf_result r;
    if (alg->ec) {
        r = kf_offload_key_new_ec(alg->kf_alg, k->dnskey, 64, 0, &k->kf);
        if (kf_ok(r)) {
            r = kf_offload_key_new_ec(alg->kf_alg, k->dnskey, 64, KF_OFFLOAD_KEY_TABLE, &k->kf_t);
        }
    } else {
        size_t e_len = k->dnskey[0];
        r = kf_offload_key_new_rsa(k->dnskey + 1 + e_len, k->dnskey_len - 1 - e_len, k->dnskey + 1,
                                   e_len, 0, &k->kf);
    }
    if (!kf_ok(r)) {
        snprintf(err, err_len, "%s: kf_offload_key_new: %s", alg->name,
                 kf_err_describe(buf, sizeof(buf)));
        return false;
    }
    return true;
}

static void bench_key_cleanup(struct bench_key *k)
{
    EVP_PKEY_free(k->priv);
    EVP_PKEY_free(k->pub);
    kf_offload_key_free(k->kf);
    kf_offload_key_free(k->kf_t);
    memset(k, 0, sizeof(*k));
}

static void bench_set_cleanup(struct bench_set *s)
{
    for (size_t i = 0; i < s->n_keys; i++) {
        bench_key_cleanup(&s->keys[i]);
    }
    free(s->msgs);
    free(s->bytes);
    memset(s, 0, sizeof(*s));
}

/* Append a domain name in wire form ("w123.example.com" -> 4w123 7example 3com 0). */
static size_t bench_put_name(uint8_t *out, const char *name)
{
    size_t n = 0;
    while (*name != '\0') {
        size_t l = strcspn(name, ".");
        out[n++] = (uint8_t)l;
        memcpy(out + n, name, l);
        n += l;
        name += l;
        if (*name == '.') {
            name++;
        }
    }
    out[n++] = 0;
    return n;
}

static size_t bench_put16(uint8_t *out, unsigned v)
{
    out[0] = (uint8_t)(v >> 8);
    out[1] = (uint8_t)v;
    return 2;
}

static size_t bench_put32(uint8_t *out, uint32_t v)
{
    bench_put16(out, v >> 16);
    bench_put16(out + 2, v & 0xffffu);
    return 4;
}

#define BENCH_DNS_MAX_LEN 300
#define BENCH_DNS_MIN_LEN 60

/* Message @p i of the dnssec set into @p out (BENCH_DNS_MAX_LEN bytes): the RRSIG RDATA fields
 * before the signature, then the RRset in canonical form, all RRs of one owner and type, in
 * increasing RDATA order. Its length is drawn in [60, 300]; an RRset has at least one RR, so
 * the shortest are 64 bytes. */
static size_t bench_dns_message(uint64_t *rng, size_t i, unsigned key_tag, uint8_t *out)
{
    static const unsigned types[] = { 1 /* A */, 28 /* AAAA */, 16 /* TXT */ };
    size_t target =
        BENCH_DNS_MIN_LEN + (size_t)(bench_rand(rng) % (BENCH_DNS_MAX_LEN - BENCH_DNS_MIN_LEN + 1));
    unsigned type = types[bench_rand(rng) % 3];
    char owner[64];
    snprintf(owner, sizeof(owner), "w%zu.example.com", i);
    uint8_t owner_wire[64];
    size_t owner_len = bench_put_name(owner_wire, owner);
    const uint32_t ttl = 3600;

    size_t n = 0;
    n += bench_put16(out + n, type);                      /* type covered */
    out[n++] = 13;                                        /* algorithm (rewritten below) */
    out[n++] = 3;                                         /* labels: w<i>.example.com */
    n += bench_put32(out + n, ttl);                       /* original TTL */
    n += bench_put32(out + n, 1767225600u + (uint32_t)i); /* signature expiration */
    n += bench_put32(out + n, 1764547200u);               /* signature inception */
    n += bench_put16(out + n, key_tag);                   /* key tag */
    n += bench_put_name(out + n, "example.com");          /* signer's name */

    size_t rr_fixed = owner_len + 10; /* owner, type, class, TTL, RDLENGTH */
    if (type == 16) {
        /* One TXT RR filling the target: character-strings of at most 255 bytes. */
        size_t room = target > n + rr_fixed + 2 ? target - n - rr_fixed : 2;
        size_t rdlen = room;
        memcpy(out + n, owner_wire, owner_len);
        n += owner_len;
        n += bench_put16(out + n, type);
        n += bench_put16(out + n, 1);
        n += bench_put32(out + n, ttl);
        n += bench_put16(out + n, (unsigned)rdlen);
        while (rdlen > 0) {
            size_t l = rdlen - 1 < 255 ? rdlen - 1 : 255;
            out[n++] = (uint8_t)l;
            for (size_t j = 0; j < l; j++) {
                out[n++] = (uint8_t)('a' + bench_rand(rng) % 26);
            }
            rdlen -= l + 1;
        }
        return n;
    }
    size_t rdlen = type == 1 ? 4 : 16;
    size_t count = target > n ? (target - n) / (rr_fixed + rdlen) : 0;
    if (count == 0) {
        count = 1;
    }
    uint8_t base[16];
    for (size_t j = 0; j < sizeof(base); j++) {
        base[j] = (uint8_t)bench_rand(rng);
    }
    base[rdlen - 1] = 0; /* room to count up: RDATA in increasing order */
    for (size_t c = 0; c < count; c++) {
        memcpy(out + n, owner_wire, owner_len);
        n += owner_len;
        n += bench_put16(out + n, type);
        n += bench_put16(out + n, 1);
        n += bench_put32(out + n, ttl);
        n += bench_put16(out + n, (unsigned)rdlen);
        memcpy(out + n, base, rdlen);
        out[n + rdlen - 1] = (uint8_t)c;
        n += rdlen;
    }
    return n;
}

/* Sign messages [lo, hi) of a set (a thread of bench_sign_all). */
struct bench_signer {
    struct bench_set *set;
    size_t lo, hi;
    bool ok;
};

static void *bench_signer_main(void *arg)
{
    struct bench_signer *sg = arg;
    struct bench_set *s = sg->set;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    sg->ok = md != NULL;
    for (size_t i = sg->lo; i < sg->hi && sg->ok; i++) {
        struct bench_msg *m = &s->msgs[i];
        uint8_t sig[BENCH_SIG_MAX];
        size_t len = sizeof(sig);
        /* Reset: OpenSSL 3.0 re-initialises a used context with its old key and ignores the
         * new one, so without it every message would be signed by the thread's first key. */
        EVP_MD_CTX_reset(md);
        sg->ok = EVP_DigestSignInit_ex(md, NULL, "SHA256", NULL, NULL, s->keys[m->key].priv,
                                       NULL) == 1 &&
                 EVP_DigestSign(md, sig, &len, m->data, m->len) == 1;
        if (!sg->ok) {
            break;
        }
        if (s->alg->ec) {
            sg->ok = len <= sizeof(m->der) && bench_der_to_rs(sig, len, m->sig);
            if (sg->ok) {
                memcpy(m->der, sig, len);
                m->der_len = len;
                m->sig_len = 64;
            }
        } else {
            memcpy(m->sig, sig, len);
            m->sig_len = len;
        }
    }
    EVP_MD_CTX_free(md);
    return NULL;
}

/* Sign every message of @p s on two threads. */
static bool bench_sign_all(struct bench_set *s)
{
    struct bench_signer sg[2] = {
        { .set = s, .lo = 0, .hi = s->n_msgs / 2 },
        { .set = s, .lo = s->n_msgs / 2, .hi = s->n_msgs },
    };
    pthread_t tid;
    bool threaded = pthread_create(&tid, NULL, bench_signer_main, &sg[1]) == 0;
    bench_signer_main(&sg[0]);
    if (threaded) {
        pthread_join(tid, NULL);
    } else {
        bench_signer_main(&sg[1]);
    }
    return sg[0].ok && sg[1].ok;
}

/* The raw set (one key, BENCH_RAW_MSGS messages of BENCH_RAW_LEN bytes) or the dnssec set
 * (BENCH_DNS_KEYS keys, @p n_dns messages). */
static bool bench_set_make(const struct bench_alg *alg, bool dnssec, size_t n_dns,
                           struct bench_set *s, char *err, size_t err_len)
{
    memset(s, 0, sizeof(*s));
    s->alg = alg;
    s->n_keys = dnssec ? BENCH_DNS_KEYS : 1;
    for (size_t i = 0; i < s->n_keys; i++) {
        if (!bench_key_make(alg, &s->keys[i], err, err_len)) {
            return false;
        }
    }
    s->n_msgs = dnssec ? n_dns : BENCH_RAW_MSGS;
    size_t cap = s->n_msgs * (dnssec ? BENCH_DNS_MAX_LEN + 64 : BENCH_RAW_LEN);
    s->msgs = calloc(s->n_msgs, sizeof(*s->msgs));
    s->bytes = malloc(cap);
    if (s->msgs == NULL || s->bytes == NULL) {
        snprintf(err, err_len, "out of memory for the data set");
        return false;
    }
    uint64_t rng = dnssec ? 0x9E3779B97F4A7C15ULL : 0xD1B54A32D192ED03ULL; /* fixed inputs */
    size_t used = 0;
    for (size_t i = 0; i < s->n_msgs; i++) {
        struct bench_msg *m = &s->msgs[i];
        uint8_t *p = s->bytes + used;
        m->key = (unsigned)(i % s->n_keys);
        if (dnssec) {
            m->len = bench_dns_message(&rng, i, 20000u + m->key, p);
            p[2] = alg->ec ? 13 : 8; /* the RRSIG algorithm field */
        } else {
            for (size_t j = 0; j < BENCH_RAW_LEN; j++) {
                p[j] = (uint8_t)bench_rand(&rng);
            }
            m->len = BENCH_RAW_LEN;
        }
        m->data = p;
        used += m->len;
    }
    if (!bench_sign_all(s)) {
        snprintf(err, err_len, "%s: signing the data set failed", alg->name);
        return false;
    }
    return true;
}

/* ---- sides ---------------------------------------------------------------------------------- */

enum bench_side {
    SIDE_OSSL = 0,    /* EVP_DigestVerify, cached EVP_PKEY */
    SIDE_OSSL_IMPORT, /* EVP_PKEY_fromdata from DNSKEY bytes per verification */
    SIDE_SCALAR,      /* verify_many, backend scalar */
    SIDE_IFMA,        /* verify_many, backend avx512ifma */
    SIDE_IFMA_TABLE,  /* verify_many, backend avx512ifma, P-256 keys with the table */
    SIDE_ASYNC_SCALAR,
    SIDE_ASYNC_IFMA,
    N_SIDES,
};

static const char *const side_head[N_SIDES] = {
    "openssl/s", "ossl-imp/s", "scalar/s", "ifma/s", "ifma-tbl/s", "as-scal/s", "as-ifma/s",
};
static const char *const side_name[N_SIDES] = {
    "OpenSSL cached key",       "OpenSSL key import",       "keyfort scalar",
    "keyfort avx512ifma",       "keyfort avx512ifma table", "keyfort async scalar",
    "keyfort async avx512ifma",
};

static bool bench_side_async(enum bench_side s)
{
    return s == SIDE_ASYNC_SCALAR || s == SIDE_ASYNC_IFMA;
}

static bool bench_side_ifma(enum bench_side s)
{
    return s == SIDE_IFMA || s == SIDE_IFMA_TABLE || s == SIDE_ASYNC_IFMA;
}

/* The key handle a keyfort side uses for key @p k. */
static const struct kf_offload_key *bench_side_key(enum bench_side side, const struct bench_key *k)
{
    return side == SIDE_IFMA_TABLE && k->kf_t != NULL ? k->kf_t : k->kf;
}

/* What every side of one algorithm uses. */
struct bench_ctx {
    const struct bench_set *set;
    struct kf_offload_engine *sync[N_SIDES]; /* owned: SIDE_SCALAR, SIDE_IFMA, SIDE_IFMA_TABLE */
    bool ifma;                               /* the avx512ifma sides can run */
};

/* keyfort jobs for messages [lo, hi) of the set as @p side sends them. */
static struct kf_offload_job *bench_jobs(const struct bench_set *s, enum bench_side side, size_t lo,
                                         size_t hi)
{
    struct kf_offload_job *jobs = calloc(hi - lo + 1, sizeof(*jobs));
    for (size_t i = lo; i < hi && jobs != NULL; i++) {
        const struct bench_msg *m = &s->msgs[i];
        jobs[i - lo] = (struct kf_offload_job){
            .alg = s->alg->kf_alg,
            .key = bench_side_key(side, &s->keys[m->key]),
            .msg = m->data,
            .msg_len = m->len,
            .sig = m->sig,
            .sig_len = m->sig_len,
            .tag = i,
        };
    }
    return jobs;
}

/* ---- async engine --------------------------------------------------------------------------- */

struct bench_async {
    struct kf_offload_engine *e; /* owned */
    atomic_uint_fast64_t done;   /* completions seen */
    atomic_uint_fast64_t bad;    /* completions that were not VALID (all jobs are valid) */
    uint64_t seq;                /* tags given so far (submitter only) */
    _Atomic uint64_t t_submit[BENCH_LAT_RING];
    pthread_mutex_t lock; /* guards lat */
    struct bench_samples lat;
    atomic_bool keep_lat;
    /* The submitter sleeps on room while the queue is full; callbacks wake it. */
    pthread_mutex_t room_lock;
    pthread_cond_t room;
    atomic_bool waiting;
};

static void bench_async_done(void *arg, const struct kf_offload_completion *done, size_t n)
{
    struct bench_async *a = arg;
    uint64_t now = bench_now_ns();
    uint64_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        if (done[i].verdict != KF_OFFLOAD_VALID) {
            bad++;
        }
    }
    if (atomic_load(&a->keep_lat)) {
        pthread_mutex_lock(&a->lock);
        for (size_t i = 0; i < n; i++) {
            uint64_t t0 = atomic_load_explicit(&a->t_submit[done[i].tag % BENCH_LAT_RING],
                                               memory_order_relaxed);
            (void)bench_samples_add(&a->lat, now - t0);
        }
        pthread_mutex_unlock(&a->lock);
    }
    atomic_fetch_add(&a->bad, bad);
    atomic_fetch_add(&a->done, n);
    /* Sequentially consistent: either the submitter sees the new count, or this sees it
     * waiting and wakes it (it holds room_lock until it sleeps). */
    if (atomic_load(&a->waiting)) {
        pthread_mutex_lock(&a->room_lock);
        pthread_cond_signal(&a->room);
        pthread_mutex_unlock(&a->room_lock);
    }
}

static bool bench_async_new(struct bench_async *a, enum kf_offload_backend b, unsigned workers)
{
    memset(a, 0, sizeof(*a));
    pthread_mutex_init(&a->lock, NULL);
    pthread_mutex_init(&a->room_lock, NULL);
    pthread_cond_init(&a->room, NULL);
    struct kf_offload_config cfg = {
        .workers = workers,
        .max_batch = BENCH_BATCH,
        .queue_depth = BENCH_QUEUE_DEPTH,
        .backend = b,
        .on_done = bench_async_done,
        .on_done_arg = a,
    };
    return kf_ok(kf_offload_engine_new(&cfg, &a->e));
}

static void bench_async_free(struct bench_async *a)
{
    kf_offload_engine_free(a->e);
    pthread_mutex_destroy(&a->lock);
    pthread_mutex_destroy(&a->room_lock);
    pthread_cond_destroy(&a->room);
    bench_samples_cleanup(&a->lat);
    memset(a, 0, sizeof(*a));
}

/* Sleep until at most half the queue is in flight (or 1 ms passed), as an application would
 * that has nothing else to do: @p submitted jobs so far. */
static void bench_async_wait_room(struct bench_async *a, uint64_t submitted)
{
    pthread_mutex_lock(&a->room_lock);
    atomic_store(&a->waiting, true);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += 1000000;
    if (until.tv_nsec >= 1000000000) {
        until.tv_nsec -= 1000000000;
        until.tv_sec++;
    }
    while (submitted - atomic_load(&a->done) > BENCH_QUEUE_DEPTH / 2 &&
           pthread_cond_timedwait(&a->room, &a->room_lock, &until) == 0) {
    }
    atomic_store(&a->waiting, false);
    pthread_mutex_unlock(&a->room_lock);
}

/* Submit @p n jobs (tags set here); while the queue is full, wait for room. False when submit
 * fails otherwise. */
static bool bench_async_submit(struct bench_async *a, const struct kf_offload_job *jobs, size_t n)
{
    struct kf_offload_job chunk[BENCH_BATCH];
    for (size_t done = 0; done < n;) {
        size_t k = n - done < BENCH_BATCH ? n - done : BENCH_BATCH;
        memcpy(chunk, jobs + done, k * sizeof(*chunk));
        for (size_t j = 0; j < k; j++) {
            chunk[j].tag = a->seq + j;
        }
        size_t off = 0;
        while (off < k) {
            uint64_t now = bench_now_ns();
            for (size_t j = off; j < k; j++) {
                atomic_store_explicit(&a->t_submit[chunk[j].tag % BENCH_LAT_RING], now,
                                      memory_order_relaxed);
            }
            size_t acc = 0;
            kf_result r = kf_offload_submit(a->e, chunk + off, k - off, &acc);
            off += acc;
            if (off < k) {
                if (!kf_ok(r) && r.code != KF_ERR_RETRY) {
                    return false;
                }
                bench_async_wait_room(a, a->seq + off);
            }
        }
        a->seq += k;
        done += k;
    }
    return true;
}

/* ---- timing ---------------------------------------------------------------------------------- */

struct bench_worker {
    const struct bench_ctx *cx; /* borrowed */
    enum bench_side side;
    size_t lo, hi;               /* this thread's share of the messages */
    struct kf_offload_job *jobs; /* owned: keyfort sides, one per message of the share */
    uint64_t duration_ns;
    pthread_barrier_t *start;
    bool keep_lat;
    struct bench_samples lat; /* owned: per call (one verification, or one batch of 64) */
    uint64_t ops, bad, t_start, t_end;
    bool failed;
};

static void *bench_worker_main(void *arg)
{
    struct bench_worker *w = arg;
    const struct bench_set *s = w->cx->set;
    bool kf = w->side == SIDE_SCALAR || w->side == SIDE_IFMA || w->side == SIDE_IFMA_TABLE;
    if (kf) {
        w->jobs = bench_jobs(s, w->side, w->lo, w->hi);
    }
    pthread_barrier_wait(w->start);
    if (kf && w->jobs == NULL) {
        w->failed = true;
        return NULL;
    }
    const struct kf_offload_engine *e = w->cx->sync[w->side];
    size_t pos = w->lo;
    w->t_start = bench_now_ns();
    uint64_t deadline = w->t_start + w->duration_ns;
    uint64_t t = w->t_start;
    while (t < deadline && !bench_stop) {
        if (kf) {
            size_t n = w->hi - pos < BENCH_BATCH ? w->hi - pos : BENCH_BATCH;
            struct kf_offload_job *jobs = w->jobs + (pos - w->lo);
            kf_offload_verify_many(e, jobs, n);
            for (size_t j = 0; j < n; j++) {
                w->bad += jobs[j].verdict != KF_OFFLOAD_VALID;
            }
            w->ops += n;
            pos += n;
        } else {
            const struct bench_msg *m = &s->msgs[pos];
            int v;
            if (w->side == SIDE_OSSL) {
                size_t sig_len = 0;
                const uint8_t *sig = bench_ossl_sig(s, m, &sig_len);
                v = bench_ossl_verify(s->keys[m->key].pub, m->data, m->len, sig, sig_len);
            } else {
                v = bench_ossl_verify_import(s->alg, &s->keys[m->key], m->data, m->len, m->sig,
                                             m->sig_len);
            }
            w->bad += v != 1;
            w->ops++;
            pos++;
        }
        if (pos >= w->hi) {
            pos = w->lo;
        }
        uint64_t t2 = bench_now_ns();
        if (w->keep_lat) {
            (void)bench_samples_add(&w->lat, t2 - t);
        }
        t = t2;
    }
    w->t_end = t;
    return NULL;
}

/* Totals of one side of one cell over its rounds. */
struct bench_result {
    uint64_t ops, wall_ns, cpu_ns, bad;
    struct bench_samples lat; /* owned */
    bool failed;
};

static double bench_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* The messages [0, share * threads) split in @p threads slices of @p share (a multiple of 64,
 * so every batch is full). */
static size_t bench_share(size_t n_msgs, unsigned threads)
{
    size_t share = n_msgs / threads / BENCH_BATCH * BENCH_BATCH;
    return share != 0 ? share : n_msgs / threads;
}

/* One sync side for @p duration_ns on @p threads threads; adds to @p out. */
static void bench_run_sync(const struct bench_ctx *cx, enum bench_side side, unsigned threads,
                           uint64_t duration_ns, bool keep, struct bench_result *out)
{
    struct bench_worker w[BENCH_MAX_THREADS];
    pthread_t tid[BENCH_MAX_THREADS];
    pthread_barrier_t start;
    size_t share = bench_share(cx->set->n_msgs, threads);
    memset(w, 0, sizeof(w));
    pthread_barrier_init(&start, NULL, threads);
    double cpu0 = bench_cpu_ns();
    for (unsigned i = 0; i < threads; i++) {
        w[i] = (struct bench_worker){ .cx = cx,
                                      .side = side,
                                      .lo = i * share,
                                      .hi = (i + 1) * share,
                                      .duration_ns = duration_ns,
                                      .start = &start,
                                      .keep_lat = keep };
        if (pthread_create(&tid[i], NULL, bench_worker_main, &w[i]) != 0) {
            fprintf(stderr, "bench_verify: pthread_create failed\n");
            exit(2); /* the barrier can never fill: a broken setup, not a result */
        }
    }
    uint64_t first = UINT64_MAX;
    uint64_t last = 0;
    for (unsigned i = 0; i < threads; i++) {
        pthread_join(tid[i], NULL);
        free(w[i].jobs);
        out->failed |= w[i].failed;
        out->ops += w[i].ops;
        out->bad += w[i].bad;
        first = w[i].t_start < first ? w[i].t_start : first;
        last = w[i].t_end > last ? w[i].t_end : last;
        if (keep) {
            (void)bench_samples_merge(&out->lat, &w[i].lat);
        }
        bench_samples_cleanup(&w[i].lat);
    }
    out->cpu_ns += (uint64_t)(bench_cpu_ns() - cpu0);
    if (last > first) {
        out->wall_ns += last - first;
    }
    pthread_barrier_destroy(&start);
}

/* One async side: submit from this thread for @p duration_ns, then wait for every verdict. */
static void bench_run_async(struct bench_async *a, const struct kf_offload_job *jobs, size_t n_jobs,
                            uint64_t duration_ns, bool keep, struct bench_result *out)
{
    uint64_t done0 = atomic_load(&a->done);
    uint64_t bad0 = atomic_load(&a->bad);
    atomic_store(&a->keep_lat, keep);
    double cpu0 = bench_cpu_ns();
    uint64_t t0 = bench_now_ns();
    uint64_t deadline = t0 + duration_ns;
    size_t pos = 0;
    while (bench_now_ns() < deadline && !bench_stop) {
        size_t n = n_jobs - pos < BENCH_BATCH ? n_jobs - pos : BENCH_BATCH;
        if (!bench_async_submit(a, jobs + pos, n)) {
            out->failed = true;
            break;
        }
        pos = pos + n >= n_jobs ? 0 : pos + n;
    }
    kf_offload_drain(a->e);
    uint64_t t1 = bench_now_ns();
    out->cpu_ns += (uint64_t)(bench_cpu_ns() - cpu0);
    out->wall_ns += t1 - t0;
    out->ops += atomic_load(&a->done) - done0;
    out->bad += atomic_load(&a->bad) - bad0;
    if (keep) {
        pthread_mutex_lock(&a->lock);
        (void)bench_samples_merge(&out->lat, &a->lat);
        a->lat.n = 0;
        pthread_mutex_unlock(&a->lock);
    }
}

/* ---- correctness: every path, every signature ------------------------------------------------ */

/* One item to check: a message, its signature in both forms, and the expected verdict. */
struct bench_item {
    const uint8_t *msg;
    size_t len;
    const uint8_t *sig; /* wire */
    size_t sig_len;
    const uint8_t *der; /* OpenSSL's form (RSA: = sig) */
    size_t der_len;
    unsigned key;
    bool valid;
    const char *what; /* "as signed", "message tampered", "signature tampered" */
};

/* Every message of the set (valid), BENCH_NEG with one message byte flipped and BENCH_NEG with one
 * signature byte flipped (invalid), the invalid ones spread among the valid ones so that
 * batches mix verdicts and keys. @p scratch keeps the tampered bytes. */
static struct bench_item *bench_items(const struct bench_set *s, uint8_t *scratch, size_t *out_n)
{
    size_t n_neg = s->n_msgs < BENCH_NEG ? s->n_msgs : BENCH_NEG;
    size_t n = s->n_msgs + 2 * n_neg;
    struct bench_item *it = calloc(n, sizeof(*it));
    if (it == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < s->n_msgs; i++) {
        const struct bench_msg *m = &s->msgs[i];
        it[i] = (struct bench_item){ .msg = m->data,
                                     .len = m->len,
                                     .sig = m->sig,
                                     .sig_len = m->sig_len,
                                     .key = m->key,
                                     .valid = true,
                                     .what = "as signed" };
        it[i].der = bench_ossl_sig(s, m, &it[i].der_len);
    }
    for (size_t i = 0; i < n_neg; i++) {
        const struct bench_msg *m = &s->msgs[i];
        /* Per negative: a message copy (BENCH_DNS_MAX_LEN), a signature copy and its DER. */
        uint8_t *msg = scratch + i * (BENCH_DNS_MAX_LEN + BENCH_SIG_MAX + BENCH_DER_MAX);
        uint8_t *sig = msg + BENCH_DNS_MAX_LEN;
        uint8_t *der = sig + BENCH_SIG_MAX;
        memcpy(msg, m->data, m->len);
        msg[(i * 7) % m->len] ^= 0x01;
        struct bench_item *bad_msg = &it[s->n_msgs + i];
        *bad_msg = it[i];
        bad_msg->msg = msg;
        bad_msg->valid = false;
        bad_msg->what = "message tampered";

        memcpy(sig, m->sig, m->sig_len);
        sig[m->sig_len - 1 - i % 8] ^= 0x80;
        struct bench_item *bad_sig = &it[s->n_msgs + n_neg + i];
        *bad_sig = it[i];
        bad_sig->sig = sig;
        bad_sig->valid = false;
        bad_sig->what = "signature tampered";
        if (s->alg->ec) {
            if (!bench_rs_to_der(sig, der, BENCH_DER_MAX, &bad_sig->der_len)) {
                free(it);
                return NULL;
            }
            bad_sig->der = der;
        } else {
            bad_sig->der = sig;
        }
    }
    /* Spread: swap each invalid item with a valid one at an even stride. */
    size_t stride = s->n_msgs / (2 * n_neg);
    for (size_t j = 0; j < 2 * n_neg && stride != 0; j++) {
        struct bench_item t = it[j * stride + stride / 2];
        it[j * stride + stride / 2] = it[s->n_msgs + j];
        it[s->n_msgs + j] = t;
    }
    *out_n = n;
    return it;
}

static const char *bench_verdict_name(enum kf_offload_verdict v)
{
    switch (v) {
    case KF_OFFLOAD_VALID:
        return "VALID";
    case KF_OFFLOAD_INVALID:
        return "INVALID";
    case KF_OFFLOAD_ERROR:
        return "ERROR";
    case KF_OFFLOAD_PENDING:
    default:
        return "PENDING";
    }
}

/* Check every item through @p side; false (and a line on stderr) at the first wrong verdict. */
static bool bench_check_side(const struct bench_ctx *cx, enum bench_side side,
                             const struct bench_item *it, size_t n)
{
    const struct bench_set *s = cx->set;
    const char *what = s->alg->name;
    if (side == SIDE_OSSL || side == SIDE_OSSL_IMPORT) {
        for (size_t i = 0; i < n; i++) {
            int v = side == SIDE_OSSL
                        ? bench_ossl_verify(s->keys[it[i].key].pub, it[i].msg, it[i].len, it[i].der,
                                            it[i].der_len)
                        : bench_ossl_verify_import(s->alg, &s->keys[it[i].key], it[i].msg,
                                                   it[i].len, it[i].sig, it[i].sig_len);
            if (v != (it[i].valid ? 1 : 0)) {
                fprintf(stderr, "bench_verify: %s %s: item %zu: %s, expected %s\n", what,
                        side_name[side], i,
                        v == 1   ? "valid"
                        : v == 0 ? "invalid"
                                 : "error",
                        it[i].valid ? "valid" : "invalid");
                return false;
            }
        }
        return true;
    }
    struct kf_offload_job *jobs = calloc(n, sizeof(*jobs));
    if (jobs == NULL) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        jobs[i] = (struct kf_offload_job){ .alg = s->alg->kf_alg,
                                           .key = bench_side_key(side, &s->keys[it[i].key]),
                                           .msg = it[i].msg,
                                           .msg_len = it[i].len,
                                           .sig = it[i].sig,
                                           .sig_len = it[i].sig_len,
                                           .tag = i };
    }
    enum kf_offload_verdict *got = calloc(n, sizeof(*got));
    bool ok = got != NULL;
    if (ok && !bench_side_async(side)) {
        /* The same batch size as the timed loop: groups of 64 mix keys and verdicts. */
        for (size_t i = 0; i < n; i += BENCH_BATCH) {
            size_t k = n - i < BENCH_BATCH ? n - i : BENCH_BATCH;
            kf_offload_verify_many(cx->sync[side], jobs + i, k);
        }
        for (size_t i = 0; i < n; i++) {
            got[i] = jobs[i].verdict;
        }
    } else if (ok) {
        /* Through a fresh engine with two workers; verdicts collected by tag. */
        struct kf_offload_config cfg = { .workers = 2,
                                         .max_batch = BENCH_BATCH,
                                         .backend = side == SIDE_ASYNC_IFMA
                                                        ? KF_OFFLOAD_BACKEND_AVX512IFMA
                                                        : KF_OFFLOAD_BACKEND_SCALAR };
        struct kf_offload_engine *e = NULL;
        ok = kf_ok(kf_offload_engine_new(&cfg, &e));
        size_t polled = 0;
        for (size_t off = 0; ok && off < n;) {
            size_t acc = 0;
            kf_result r = kf_offload_submit(e, jobs + off, n - off, &acc);
            off += acc;
            ok = kf_ok(r) || r.code == KF_ERR_RETRY;
            if (ok && acc == 0) {
                struct timespec ts = { 0, 50000 };
                nanosleep(&ts, NULL);
            }
            struct kf_offload_completion c[BENCH_BATCH];
            size_t got_n;
            while ((got_n = kf_offload_poll(e, c, BENCH_BATCH)) > 0) {
                for (size_t j = 0; j < got_n; j++) {
                    if (c[j].tag < n) {
                        got[c[j].tag] = c[j].verdict;
                    }
                }
                polled += got_n;
            }
        }
        if (ok) {
            kf_offload_drain(e);
            struct kf_offload_completion c[BENCH_BATCH];
            size_t got_n;
            while ((got_n = kf_offload_poll(e, c, BENCH_BATCH)) > 0) {
                for (size_t j = 0; j < got_n; j++) {
                    if (c[j].tag < n) {
                        got[c[j].tag] = c[j].verdict;
                    }
                }
                polled += got_n;
            }
            if (polled != n) {
                fprintf(stderr, "bench_verify: %s %s: %zu completions for %zu jobs\n", what,
                        side_name[side], polled, n);
                ok = false;
            }
        } else {
            fprintf(stderr, "bench_verify: %s %s: engine or submit failed\n", what,
                    side_name[side]);
        }
        kf_offload_engine_free(e);
    }
    for (size_t i = 0; ok && i < n; i++) {
        enum kf_offload_verdict want = it[i].valid ? KF_OFFLOAD_VALID : KF_OFFLOAD_INVALID;
        if (got[i] != want) {
            fprintf(stderr, "bench_verify: %s %s: item %zu (%s): %s, expected %s\n", what,
                    side_name[side], i, it[i].what, bench_verdict_name(got[i]),
                    bench_verdict_name(want));
            ok = false;
        }
    }
    free(got);
    free(jobs);
    return ok;
}

/* ---- cells ------------------------------------------------------------------------------------
 */

struct bench_opts {
    double seconds; /* measured per side per cell */
    double warmup;  /* untimed per side per cell */
    unsigned thr_lo, thr_hi;
    const char *alg; /* NULL: all */
    bool raw, dnssec, async;
    size_t dns_msgs;
};

struct bench_cell {
    struct bench_result res[N_SIDES];
    double (*rate)[N_SIDES]; /* owned: [round][side] */
    size_t n_rounds;
    struct kf_offload_stats st0[N_SIDES], st1[N_SIDES]; /* engine counters around the cell */
};

static void bench_cell_cleanup(struct bench_cell *c)
{
    for (int i = 0; i < N_SIDES; i++) {
        bench_samples_cleanup(&c->res[i].lat);
    }
    free(c->rate);
    memset(c, 0, sizeof(*c));
}

static int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a;
    double y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median over rounds of rate[num] / rate[den]; 0 when there is none. */
static double bench_median_ratio(const struct bench_cell *c, enum bench_side num,
                                 enum bench_side den)
{
    double *v = calloc(c->n_rounds + 1, sizeof(*v));
    size_t n = 0;
    for (size_t i = 0; v != NULL && i < c->n_rounds; i++) {
        if (c->rate[i][den] > 0 && c->rate[i][num] > 0) {
            v[n++] = c->rate[i][num] / c->rate[i][den];
        }
    }
    double m = 0;
    if (n != 0) {
        qsort(v, n, sizeof(v[0]), bench_cmp_double);
        m = n % 2 != 0 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    }
    free(v);
    return m;
}

static double bench_rate(const struct bench_result *r)
{
    return r->wall_ns != 0 ? (double)r->ops * 1e9 / (double)r->wall_ns : 0;
}

/* Run @p sides at @p threads: a warm-up, then rounds in alternating order. */
static void bench_cell_run(const struct bench_ctx *cx, const enum bench_side *sides, size_t n_sides,
                           unsigned threads, const struct bench_opts *o, unsigned rounds,
                           struct bench_cell *c)
{
    memset(c, 0, sizeof(*c));
    struct bench_async *as = calloc(N_SIDES, sizeof(*as)); /* large: the submit-time rings */
    struct kf_offload_job *as_jobs[N_SIDES] = { 0 };
    if (as == NULL) {
        for (size_t i = 0; i < n_sides; i++) {
            c->res[sides[i]].failed = true;
        }
        return;
    }
    size_t n_as_jobs = bench_share(cx->set->n_msgs, 1);
    for (size_t i = 0; i < n_sides; i++) {
        enum bench_side s = sides[i];
        if (bench_side_async(s)) {
            enum kf_offload_backend b =
                s == SIDE_ASYNC_IFMA ? KF_OFFLOAD_BACKEND_AVX512IFMA : KF_OFFLOAD_BACKEND_SCALAR;
            as_jobs[s] = bench_jobs(cx->set, s, 0, n_as_jobs);
            if (as_jobs[s] == NULL || !bench_async_new(&as[s], b, threads)) {
                c->res[s].failed = true;
            }
            if (as[s].e != NULL) {
                kf_offload_engine_stats(as[s].e, &c->st0[s]);
            }
        } else if (cx->sync[s] != NULL) {
            kf_offload_engine_stats(cx->sync[s], &c->st0[s]);
        }
    }
    c->rate = calloc(rounds, sizeof(*c->rate));
    uint64_t warm = (uint64_t)(o->warmup * 1e9);
    uint64_t dur = (uint64_t)(o->seconds / rounds * 1e9);
    for (unsigned r = 0; c->rate != NULL && r <= rounds && !bench_stop; r++) {
        bool timed = r > 0; /* round 0 is the warm-up */
        if (!timed && warm == 0) {
            continue;
        }
        for (size_t j = 0; j < n_sides; j++) {
            enum bench_side s = sides[r % 2 != 0 ? j : n_sides - 1 - j];
            struct bench_result scratch;
            memset(&scratch, 0, sizeof(scratch));
            struct bench_result *res = timed ? &c->res[s] : &scratch;
            if (c->res[s].failed) {
                continue;
            }
            uint64_t ops0 = res->ops;
            uint64_t wall0 = res->wall_ns;
            if (bench_side_async(s)) {
                bench_run_async(&as[s], as_jobs[s], n_as_jobs, timed ? dur : warm, timed, res);
            } else {
                bench_run_sync(cx, s, threads, timed ? dur : warm, timed, res);
            }
            if (!timed) {
                c->res[s].failed |= scratch.failed;
                c->res[s].bad += scratch.bad;
                bench_samples_cleanup(&scratch.lat);
                continue;
            }
            uint64_t wall = res->wall_ns - wall0;
            c->rate[r - 1][s] = wall != 0 ? (double)(res->ops - ops0) * 1e9 / (double)wall : 0;
        }
        if (timed) {
            c->n_rounds++;
        }
    }
    for (size_t i = 0; i < n_sides; i++) {
        enum bench_side s = sides[i];
        if (bench_side_async(s)) {
            if (as[s].e != NULL) {
                kf_offload_engine_stats(as[s].e, &c->st1[s]);
            }
            bench_async_free(&as[s]);
            free(as_jobs[s]);
        } else if (cx->sync[s] != NULL) {
            kf_offload_engine_stats(cx->sync[s], &c->st1[s]);
        }
    }
    free(as);
}

/* A table: which sides it runs and which ratios it prints. */
struct bench_ratio {
    enum bench_side num, den;
    const char *head;
};

struct bench_case {
    const char *name;
    const char *title;
    bool dnssec_set; /* the dnssec data set (else the raw one) */
    enum bench_side sides[N_SIDES];
    size_t n_sides;
    struct bench_ratio ratios[4];
    size_t n_ratios;
    enum bench_side lat[2]; /* sides whose latency is printed */
    const char *lat_head;
};

static const struct bench_case bench_cases[] = {
    { "raw",
      "raw primitive, one hot key, 64-byte messages; OpenSSL: EVP_DigestVerify, pre-built "
      "EVP_PKEY,\nfresh EVP_MD_CTX per op; keyfort: kf_offload_verify_many, 64 jobs per call",
      false,
      { SIDE_OSSL, SIDE_SCALAR, SIDE_IFMA, SIDE_IFMA_TABLE },
      4,
      { { SIDE_IFMA, SIDE_OSSL, "ifma/ossl" },
        { SIDE_IFMA_TABLE, SIDE_OSSL, "tbl/ossl" },
        { SIDE_SCALAR, SIDE_OSSL, "scal/ossl" } },
      3,
      { SIDE_OSSL, SIDE_IFMA },
      "p50/p99 us: ossl op / ifma call" },
    { "dnssec",
      "DNSSEC-shaped: 4 keys, distinct RRSIG+RRset messages of 64-300 bytes, key i%4;\n"
      "OpenSSL with cached EVP_PKEYs, and importing the DNSKEY per verification",
      true,
      { SIDE_OSSL, SIDE_OSSL_IMPORT, SIDE_SCALAR, SIDE_IFMA, SIDE_IFMA_TABLE },
      5,
      { { SIDE_IFMA, SIDE_OSSL, "ifma/ossl" },
        { SIDE_IFMA_TABLE, SIDE_OSSL, "tbl/ossl" },
        { SIDE_IFMA, SIDE_OSSL_IMPORT, "ifma/imp" },
        { SIDE_SCALAR, SIDE_OSSL, "scal/ossl" } },
      4,
      { SIDE_OSSL, SIDE_IFMA },
      "p50/p99 us: ossl op / ifma call" },
    { "async",
      "async: the dnssec set submitted from one thread to an engine with <thr> workers\n"
      "(callback mode, 64 jobs per submit, queue 4096), vs OpenSSL and verify_many on <thr> "
      "threads",
      true,
      { SIDE_OSSL, SIDE_SCALAR, SIDE_IFMA, SIDE_ASYNC_SCALAR, SIDE_ASYNC_IFMA },
      5,
      { { SIDE_ASYNC_IFMA, SIDE_OSSL, "as-ifma/ossl" },
        { SIDE_ASYNC_IFMA, SIDE_IFMA, "as/sync ifma" },
        { SIDE_ASYNC_SCALAR, SIDE_SCALAR, "as/sync scal" } },
      3,
      { SIDE_ASYNC_SCALAR, SIDE_ASYNC_IFMA },
      "p50/p99 us submit->verdict: scal / ifma" },
};
#define BENCH_N_CASES (sizeof(bench_cases) / sizeof(bench_cases[0]))

/* Whether @p side runs for this algorithm on this machine. */
static bool bench_side_runs(const struct bench_ctx *cx, enum bench_side s)
{
    if (bench_side_ifma(s) && !cx->ifma) {
        return false;
    }
    if (s == SIDE_IFMA_TABLE && !cx->set->alg->ec) {
        return false; /* the table is a P-256 option */
    }
    return true;
}

static void bench_case_header(const struct bench_case *k)
{
    printf("\n== %s: %s\n", k->name, k->title);
    printf("%-8s %3s", "alg", "thr");
    for (size_t i = 0; i < k->n_sides; i++) {
        printf(" %10s", side_head[k->sides[i]]);
    }
    for (size_t i = 0; i < k->n_ratios; i++) {
        printf(" %12s", k->ratios[i].head);
    }
    printf(" %7s  %-25s  %s\n", "lanes%", k->lat_head, "cpu us/op (same order)");
    fflush(stdout);
}

/* Share of the jobs of the avx512ifma side(s) that went through a kernel, from the counters. */
static void bench_fmt_lanes(char *buf, size_t len, const struct bench_cell *c,
                            const struct bench_case *k, const struct bench_ctx *cx)
{
    snprintf(buf, len, "n/a");
    size_t used = 0;
    for (size_t i = 0; i < k->n_sides; i++) {
        enum bench_side s = k->sides[i];
        if (!bench_side_ifma(s) || !bench_side_runs(cx, s)) {
            continue;
        }
        uint64_t jobs = c->st1[s].jobs - c->st0[s].jobs;
        uint64_t lane = c->st1[s].lane_jobs - c->st0[s].lane_jobs;
        int w = snprintf(buf + used, len - used, "%s%.0f", used != 0 ? "/" : "",
                         jobs != 0 ? 100.0 * (double)lane / (double)jobs : 0.0);
        if (w < 0 || (size_t)w >= len - used) {
            break;
        }
        used += (size_t)w;
    }
}

/* Returns false when a side gave a wrong verdict during timing. */
static bool bench_case_row(const struct bench_ctx *cx, const struct bench_case *k, unsigned threads,
                           const struct bench_opts *o, unsigned rounds)
{
    enum bench_side sides[N_SIDES];
    size_t n = 0;
    for (size_t i = 0; i < k->n_sides; i++) {
        if (bench_side_runs(cx, k->sides[i])) {
            sides[n++] = k->sides[i];
        }
    }
    struct bench_cell c;
    bench_cell_run(cx, sides, n, threads, o, rounds, &c);

    bool good = true;
    printf("%-8s %3u", cx->set->alg->name, threads);
    for (size_t i = 0; i < k->n_sides; i++) {
        enum bench_side s = k->sides[i];
        if (!bench_side_runs(cx, s)) {
            printf(" %10s", "n/a");
        } else {
            printf(" %10.0f", bench_rate(&c.res[s]));
        }
    }
    for (size_t i = 0; i < k->n_ratios; i++) {
        const struct bench_ratio *r = &k->ratios[i];
        if (!bench_side_runs(cx, r->num) || !bench_side_runs(cx, r->den)) {
            printf(" %12s", "n/a");
        } else {
            printf(" %12.3f", bench_median_ratio(&c, r->num, r->den));
        }
    }
    char lanes[32];
    bench_fmt_lanes(lanes, sizeof(lanes), &c, k, cx);
    char lat[64] = "";
    size_t used = 0;
    for (size_t i = 0; i < 2; i++) {
        struct bench_result *r = &c.res[k->lat[i]];
        int w;
        if (!bench_side_runs(cx, k->lat[i])) {
            w = snprintf(lat + used, sizeof(lat) - used, "%sn/a", i != 0 ? " / " : "");
        } else {
            bench_samples_sort(&r->lat);
            w = snprintf(lat + used, sizeof(lat) - used, "%s%.1f/%.1f", i != 0 ? " / " : "",
                         (double)bench_percentile(&r->lat, 50) / 1e3,
                         (double)bench_percentile(&r->lat, 99) / 1e3);
        }
        if (w > 0 && (size_t)w < sizeof(lat) - used) {
            used += (size_t)w;
        }
    }
    char cpu[96] = "";
    used = 0;
    for (size_t i = 0; i < k->n_sides; i++) {
        enum bench_side s = k->sides[i];
        const struct bench_result *r = &c.res[s];
        int w = bench_side_runs(cx, s) && r->ops != 0
                    ? snprintf(cpu + used, sizeof(cpu) - used, "%s%.1f", i != 0 ? "/" : "",
                               (double)r->cpu_ns / (double)r->ops / 1e3)
                    : snprintf(cpu + used, sizeof(cpu) - used, "%s-", i != 0 ? "/" : "");
        if (w > 0 && (size_t)w < sizeof(cpu) - used) {
            used += (size_t)w;
        }
    }
    printf(" %7s  %-25s  %s", lanes, lat, cpu);
    for (size_t i = 0; i < n; i++) {
        const struct bench_result *r = &c.res[sides[i]];
        if (r->failed) {
            printf("  (%s: failed)", side_name[sides[i]]);
            good = false;
        }
        if (r->bad != 0) {
            printf("  (%s: %llu wrong verdicts)", side_name[sides[i]], (unsigned long long)r->bad);
            good = false;
        }
    }
    if (bench_stop) {
        printf("  (interrupted)");
    }
    printf("\n");
    fflush(stdout);
    bench_cell_cleanup(&c);
    return good;
}

/* ---- driver -----------------------------------------------------------------------------------
 */

static void bench_usage(FILE *f)
{
    fprintf(
        f,
        "usage: bench_verify [--seconds S] [--warmup S] [--alg rsa2048|p256|all]\n"
        "                    [--threads 1|2|both] [--case raw|dnssec|async|all] [--messages N]\n"
        "  --seconds S   measured seconds per side per cell (default 2; rounds of ~0.5 s)\n"
        "  --warmup S    untimed seconds per side before each cell (default 0.3)\n"
        "  --alg A       one algorithm, or all (default)\n"
        "  --threads T   1, 2 or both (default both); async: the engine's worker count\n"
        "  --case C      one table, or all (default)\n"
        "  --messages N  messages in the dnssec set (default %d)\n",
        BENCH_DNS_MSGS);
}

static bool bench_parse_num(const char *s, double lo, double hi, double *out)
{
    char *end = NULL;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || !(v >= lo && v <= hi)) {
        return false;
    }
    *out = v;
    return true;
}

static int bench_parse_args(int argc, char **argv, struct bench_opts *o)
{
    *o = (struct bench_opts){ .seconds = 2.0,
                              .warmup = 0.3,
                              .thr_lo = 1,
                              .thr_hi = 2,
                              .raw = true,
                              .dnssec = true,
                              .async = true,
                              .dns_msgs = BENCH_DNS_MSGS };
    for (int i = 1; i < argc; i += 2) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        double d = 0;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            bench_usage(stdout);
            exit(0);
        }
        if (v == NULL) {
            fprintf(stderr, "bench_verify: %s needs a value or is unknown\n", a);
            return -1;
        }
        if (strcmp(a, "--seconds") == 0 && bench_parse_num(v, 0.1, 3600, &d)) {
            o->seconds = d;
        } else if (strcmp(a, "--warmup") == 0 && bench_parse_num(v, 0, 60, &d)) {
            o->warmup = d;
        } else if (strcmp(a, "--alg") == 0 &&
                   (strcmp(v, "rsa2048") == 0 || strcmp(v, "p256") == 0 || strcmp(v, "all") == 0)) {
            o->alg = strcmp(v, "all") == 0 ? NULL : v;
        } else if (strcmp(a, "--threads") == 0 &&
                   (strcmp(v, "1") == 0 || strcmp(v, "2") == 0 || strcmp(v, "both") == 0)) {
            o->thr_lo = strcmp(v, "2") == 0 ? 2 : 1;
            o->thr_hi = strcmp(v, "1") == 0 ? 1 : 2;
        } else if (strcmp(a, "--case") == 0 && (strcmp(v, "raw") == 0 || strcmp(v, "dnssec") == 0 ||
                                                strcmp(v, "async") == 0 || strcmp(v, "all") == 0)) {
            bool all = strcmp(v, "all") == 0;
            o->raw = all || strcmp(v, "raw") == 0;
            o->dnssec = all || strcmp(v, "dnssec") == 0;
            o->async = all || strcmp(v, "async") == 0;
        } else if (strcmp(a, "--messages") == 0 && bench_parse_num(v, 256, 1e7, &d) &&
                   d == (double)(size_t)d) {
            o->dns_msgs = (size_t)d;
        } else {
            fprintf(stderr, "bench_verify: bad option or value: %s %s\n", a, v);
            return -1;
        }
    }
    return 0;
}

static void bench_print_header(const struct bench_opts *o, unsigned rounds, bool ifma)
{
    char cpu[256];
    char load[64];
    printf("keyfort bench_verify: verifications/s, keyfort offload (scalar, avx512ifma) vs "
           "OpenSSL EVP_DigestVerify\n");
    printf("cpu:     %s (%ld online CPUs)\n", bench_cpu_model(cpu, sizeof(cpu)),
           sysconf(_SC_NPROCESSORS_ONLN));
    printf("build:   %s\n", bench_build_flags());
    printf("openssl: %s\n", OpenSSL_version(OPENSSL_VERSION));
    printf("offload: default backend %s; avx512ifma %s\n",
           kf_offload_backend_name(kf_offload_backend_default()),
           ifma ? "available" : "NOT available on this CPU: scalar only");
    printf("cells:   %.1f s measured per side in %u interleaved rounds, %.1f s warm-up per side\n",
           o->seconds, rounds, o->warmup);
    printf("load:    %s (loadavg at start; other work on the machine adds noise)\n",
           bench_loadavg(load, sizeof(load)));
    if (!bench_build_is_release()) {
        printf("note:    not an optimised, sanitizer-free build: numbers are not representative\n");
    }
    printf(
        "ops/s are totals of all threads over all rounds; ratios are medians over rounds of\n"
        "the per-round rates; lanes%% = share of the avx512ifma side's jobs that went through a\n"
        "kernel (0 = no kernel for this algorithm yet: scalar fallback); cpu = process CPU\n"
        "time per verification\n");
    fflush(stdout);
}

/* The engines of the sync sides. */
static bool bench_ctx_init(struct bench_ctx *cx, const struct bench_set *s, bool ifma)
{
    memset(cx, 0, sizeof(*cx));
    cx->set = s;
    cx->ifma = ifma;
    struct kf_offload_config cfg = { .max_batch = BENCH_BATCH,
                                     .backend = KF_OFFLOAD_BACKEND_SCALAR };
    if (!kf_ok(kf_offload_engine_new(&cfg, &cx->sync[SIDE_SCALAR]))) {
        return false;
    }
    if (ifma) {
        cfg.backend = KF_OFFLOAD_BACKEND_AVX512IFMA;
        if (!kf_ok(kf_offload_engine_new(&cfg, &cx->sync[SIDE_IFMA])) ||
            !kf_ok(kf_offload_engine_new(&cfg, &cx->sync[SIDE_IFMA_TABLE]))) {
            return false;
        }
    }
    return true;
}

static void bench_ctx_cleanup(struct bench_ctx *cx)
{
    for (int i = 0; i < N_SIDES; i++) {
        kf_offload_engine_free(cx->sync[i]);
    }
    memset(cx, 0, sizeof(*cx));
}

/* Every path on every item of @p s; false at the first wrong verdict. */
static bool bench_check_set(const struct bench_ctx *cx)
{
    const struct bench_set *s = cx->set;
    uint8_t *scratch = calloc(BENCH_NEG, BENCH_DNS_MAX_LEN + BENCH_SIG_MAX + BENCH_DER_MAX);
    size_t n = 0;
    struct bench_item *it = scratch != NULL ? bench_items(s, scratch, &n) : NULL;
    bool ok = it != NULL;
    for (int side = 0; ok && side < N_SIDES; side++) {
        if (bench_side_runs(cx, (enum bench_side)side)) {
            ok = bench_check_side(cx, (enum bench_side)side, it, n);
        }
    }
    if (ok) {
        bool lanes = true;
        for (size_t i = 0; i < s->n_keys; i++) {
            lanes = lanes && kf_offload_key_has_lanes(s->keys[i].kf);
        }
        printf("checked: %s, %zu keys, %zu messages: every path gives VALID for each, INVALID "
               "for %d tampered messages and %d tampered signatures; kernel key data: %s\n",
               s->alg->name, s->n_keys, s->n_msgs, BENCH_NEG, BENCH_NEG, lanes ? "yes" : "no");
        fflush(stdout);
    }
    free(it);
    free(scratch);
    return ok;
}

int main(int argc, char **argv)
{
    struct bench_opts o;
    if (bench_parse_args(argc, argv, &o) != 0) {
        bench_usage(stderr);
        return 2;
    }
    unsigned rounds = (unsigned)(o.seconds / BENCH_ROUND_SECONDS + 0.5);
    rounds = rounds < 2 ? 2 : rounds + rounds % 2; /* even: each order runs equally often */

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = bench_on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    bool ifma = kf_offload_backend_available(KF_OFFLOAD_BACKEND_AVX512IFMA);
    bench_print_header(&o, rounds, ifma);

    /* Data sets first (signing takes a while), all checked before anything is timed. */
    struct bench_set sets[BENCH_N_ALGS][2];
    struct bench_ctx ctx[BENCH_N_ALGS][2];
    bool have[BENCH_N_ALGS][2];
    memset(sets, 0, sizeof(sets));
    memset(ctx, 0, sizeof(ctx));
    memset(have, 0, sizeof(have));
    int rc = 0;
    char err[320];
    for (size_t a = 0; a < BENCH_N_ALGS && rc == 0; a++) {
        if (o.alg != NULL && strcmp(o.alg, bench_algs[a].cli) != 0) {
            continue;
        }
        for (int d = 0; d < 2 && rc == 0; d++) {
            if ((d == 0 && !o.raw) || (d == 1 && !o.dnssec && !o.async)) {
                continue;
            }
            if (!bench_set_make(&bench_algs[a], d == 1, o.dns_msgs, &sets[a][d], err,
                                sizeof(err))) {
                fprintf(stderr, "bench_verify: %s\n", err);
                rc = 2;
            } else if (!bench_ctx_init(&ctx[a][d], &sets[a][d], ifma)) {
                fprintf(stderr, "bench_verify: kf_offload_engine_new: %s\n",
                        kf_err_describe(err, sizeof(err)));
                rc = 2;
            } else if (!bench_check_set(&ctx[a][d])) {
                fprintf(stderr, "bench_verify: %s: a path gave a wrong verdict; not timing\n",
                        bench_algs[a].name);
                rc = 1;
            } else {
                have[a][d] = true;
            }
        }
    }

    const bool want[BENCH_N_CASES] = { o.raw, o.dnssec, o.async };
    for (size_t k = 0; k < BENCH_N_CASES && rc == 0 && !bench_stop; k++) {
        if (!want[k]) {
            continue;
        }
        bench_case_header(&bench_cases[k]);
        int d = bench_cases[k].dnssec_set ? 1 : 0;
        for (size_t a = 0; a < BENCH_N_ALGS && !bench_stop; a++) {
            if (!have[a][d]) {
                continue;
            }
            for (unsigned t = o.thr_lo; t <= o.thr_hi && !bench_stop; t++) {
                if (!bench_case_row(&ctx[a][d], &bench_cases[k], t, &o, rounds)) {
                    rc = 1;
                }
            }
        }
    }

    for (size_t a = 0; a < BENCH_N_ALGS; a++) {
        for (int d = 0; d < 2; d++) {
            bench_ctx_cleanup(&ctx[a][d]);
            bench_set_cleanup(&sets[a][d]);
        }
    }
    return rc;
}
