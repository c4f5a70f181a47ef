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
 * fixed below (generated for this file), EC and EdDSA keys and ECDSA nonces come from the
 * seed, so KF_DIFF_SEED=<seed> replays a run exactly; KF_DIFF_CASES changes the number of
 * cases per kernel (default 100000). The backend under test is the default one
 * ($KEYFORT_OFFLOAD), printed at the start of every test.
 */
#include "offload/offload.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <inttypes.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
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

/* ---- randomness: splitmix64, so (seed, case number) names a case -------------------------- */

static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static size_t rng_below(uint64_t *s, size_t n)
{
    return (size_t)(rng_next(s) % n);
}

static void rng_fill(uint64_t *s, uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        p[i] = (uint8_t)rng_next(s);
    }
}

static uint64_t env_u64(const char *name, uint64_t dflt)
{
    const char *v = getenv(name);
    if (v == NULL || *v == '\0') {
        return dflt;
    }
    char *end = NULL;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 0);
    cr_assert(errno == 0 && *end == '\0', "%s=%s is not a number", name, v);
    return (uint64_t)x;
}

static uint64_t test_seed(void)
{
    return env_u64("KF_DIFF_SEED", DEFAULT_SEED);
}

static size_t test_cases(void)
{
    return (size_t)env_u64("KF_DIFF_CASES", DEFAULT_CASES);
}

static const char *hex(char *buf, const uint8_t *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        buf[2 * i] = digits[p[i] >> 4];
        buf[2 * i + 1] = digits[p[i] & 15];
    }
    buf[2 * n] = '\0';
    return buf;
}

/* ---- big-endian helpers ------------------------------------------------------------------ */

/* out = a + b over len bytes; returns the carry out. */
static bool be_add(uint8_t *out, const uint8_t *a, const uint8_t *b, size_t len)
{
    unsigned c = 0;
    for (size_t i = len; i-- > 0;) {
        unsigned t = (unsigned)a[i] + b[i] + c;
        out[i] = (uint8_t)t;
        c = t >> 8;
    }
    return c != 0;
}

/* out = a - b over len bytes (a >= b). */
static void be_sub(uint8_t *out, const uint8_t *a, const uint8_t *b, size_t len)
{
    int borrow = 0;
    for (size_t i = len; i-- > 0;) {
        int t = (int)a[i] - b[i] - borrow;
        borrow = t < 0;
        out[i] = (uint8_t)(t + (borrow ? 256 : 0));
    }
}

static void be_small(uint8_t *out, size_t len, unsigned v)
{
    memset(out, 0, len);
    out[len - 1] = (uint8_t)v;
}

/* out = a + v (small); a must not be all ones. */
static void be_add_small(uint8_t *out, const uint8_t *a, size_t len, unsigned v)
{
    uint8_t b[SIG_MAX];
    be_small(b, len, v);
    cr_assert(!be_add(out, a, b, len));
}

static void be_sub_small(uint8_t *out, const uint8_t *a, size_t len, unsigned v)
{
    uint8_t b[SIG_MAX];
    be_small(b, len, v);
    be_sub(out, a, b, len);
}

/* ---- fixed RSA keys (test-only, generated for this file): primes p and q ------------------ */

struct rsa_key_hex {
    int bits;
    uint64_t e;
    const char *p;
    const char *q;
};

/* 2048-bit, e = 65537 */
static const struct rsa_key_hex key_a = {
    2048,
    65537u,
    "eeb3ca088d103aa84d7c671b85bd86d7491cc5fd59b48a6428ee72ccc8b4452d617c15b8f12094b2b1192e4c"
    "09fc26a5d5cf3cd78053eadc0d6d20da834084cd5afa64b87160fdbde3b99b4ab3a0c43a335066ac79ec18ef"
    "4c6f19876a8a4321fffc463d8c5598abaf66c34dcc8a63f728cbb2fa284d65a9a0b97382d8d94bcd",
    "d278d28f37485618ef5f4ebd8f0b52bbcd92ee835df0bdfd861f3932705f34716636c607aa13a33bfcea1815"
    "c2a641667228633e38a360fd118326dff3f983d31e85c645205868a9a6f1121bd580af48261917510c61c096"
    "505ccaa55fb501bc9e9d392758631c6fc9e3ed7bcb57dc206af73909cced0866d38832f116d99397",
};
/* 2048-bit, e = 65537 */
static const struct rsa_key_hex key_b = {
    2048,
    65537u,
    "fe2fe22b6780de94f0d49eaae3e9deb2ea6e93dbb6b65dc12d4dfec1483ba9b90f09a255b45386ec05a91567"
    "1ed15ae9a2e6dd3c0e5e9d901e7e18b7ee9e49e9b2fbb61b5fc1b9ee0b8977fc40fe781675df30caab4ba7fa"
    "47741724ad11dc7d505144930f5207c792c0337b322ba1fcd3d96502aad810183e4ebeb83049fd59",
    "cd2fd707286a2d9686403d5d27199cd06409d205fd35bdd7d76a74cd14770692255b982d08cf7a707f6e657a"
    "84fd0853928c2760d9450a2cdeac0f39a638b496bc6702489b9d7bfdfc84ed98ef11fd56c94b40e35cce9861"
    "a7ac7a06de706d6708a2c4dc23a2c62a00d649ecfd256d31f875bdea32049ae0fc9597fe6d0d0a51",
};
/* 2048-bit, e = 3 */
static const struct rsa_key_hex key_e3 = {
    2048,
    3u,
    "e36009002232127633547c3027d91082f8e9c6a551bcf03d5097d3ca63e2244fa44521f403242fa8e9e402f5"
    "9c5461024c79d1a3bb76f493b5352ef09daf8d298cf8afe626395ccc75c60f79d2f80043e30c4919e96dbdb7"
    "911989f68cd4b1331f5f69f4ac13ed1de48d54ce577e5ee09e8af43182cc6431ede6c2c14f30e847",
    "da22cf5a526cd0b4125dfa711094252ac9d14b2ee34c4542668890548a19351e91715afa8bd195e1141b89f7"
    "e82952b16d2b2af80abfc6b615a7e3b8f7eb5a997f51153a0699858fc05d5f0e47950accd20b33ed64503f91"
    "9832f9ad36db00d23e2789c11b8034349af7b7c57f323aad5ed15fd10182d6a874c3906f6816d4f5",
};
/* 2048-bit, e = 4294967311 */
static const struct rsa_key_hex key_ebig = {
    2048,
    4294967311u,
    "d3fd3f6914a30ec8264b254c70f86acdcac8e3878c094466526b914908fd035d5b78002afdb7f57a8aad5882"
    "ae15b87158246056965b57cdbe3110b30a12b20f7b8beff2a76d1bf3426337bac2ee78ac1a63170705f413bc"
    "345b840e15e8f6ca5a223fce1558093be00ad82de8bb9f93c9584e8d5af4b573ed8bb3bc0a5ea345",
    "c05edae027e72059e360295ea2e838b37c84d87fbcbe6a7562fa598e7f15c810b0b696b315efddd5c7541e8c"
    "9236d4cd0e55076d491745dcd1ea4ba16d153fb179618588836731714277736142c0e84e1438fdff9d92d9e8"
    "248dcbc3a36259ff9981b22d1d024e4f0eded389bce8e3fcf4dd5816831599eb09f483ae654bce75",
};
/* 1024-bit, e = 65537 */
static const struct rsa_key_hex key_r1024 = {
    1024,
    65537u,
    "dd613eebe39a33ccb40a023fd3999d8c6ee0fb70821fd3ea32964b6c22f6990a929dd3778bb2b31ebcd892f9"
    "33f692ea99e1487c1d4e538751b7aa61220269c7",
    "cb8fa369430984a542d709fd33e68e2261b1b8e1d27cb92de001461e10786553b94ee383b7077c4ada75754e"
    "ae53c2335d3cdcd6ad03ab67f3c246ec953155ef",
};
/* 2047-bit, e = 65537 */
static const struct rsa_key_hex key_r2047 = {
    2047,
    65537u,
    "ce4e301d41d7040fe31be3494e377d333426def1892f91ac9139c371112937d887f4d47978cfb7642ba91cf9"
    "306f79a920fca50017890ba0466b2953bcafcd6df419418e261a6cae3be8db64774478cff7883090cd301b44"
    "867334ce733ea7e2d94380e1f5d1f76208ab7b0ef93d9cbc4101ae61323e23a67b072b5433526b15",
    "6efdc4d5b838f39aed591e0b40eb70d607b44b6d4c7a75557b5a6dbf40e19b45c55d356ed593dcd656a8f25a"
    "4ac33f163ba3a4723d71f6f964cd8b885f8bd54b0b52d41f94d298f9d492de30ef17fde8944d74c464772163"
    "2964c66e414172ae4bf0ced5b0435a7a35f374a9bfdbc30d926e465a575b997c2a7f80ffcf76a8d5",
};
/* 2049-bit, e = 3 */
static const struct rsa_key_hex key_r2049 = {
    2049,
    3u,
    "01812eff5bdf032902054de8da6a62ec72e49f4b306842a13d9b1b4e3c39ab29414f90d80a73c600a155c4df"
    "4717dcc0dbebc8402c1a6624cf33f0be29a8eaca6a27c42e9accc51f43b9464f008af193d9ab57de7b1129d2"
    "a32758614367f273ac61dfb707a922bd02bb66ce5a3f8d56596752a09851787aab469c021950f856dd",
    "f52b6de10e6e9658c81a5609a5bbe3b7063509912bb908425e612351d13f298a89523d090438d7a5071d8eda"
    "f7ecadc8e90c7e6b05db84e00cfc90f7e9863bc8e9a820482d2ae38388ca9d730c64220098202067629ef591"
    "a913800d20c5bf6629b33733839613c20385703adbc1e582d68bb19d673626695e8947f905b91749",
};
/* 3072-bit, e = 65537 */
static const struct rsa_key_hex key_r3072 = {
    3072,
    65537u,
    "d9a9e28923c8dafad2a11cae23151c10813f04572b13ac2ef8ddaaa028dc901f2de2ef273e3d557312c977b2"
    "2f252f194ce8572ee3350e0c5e24671ecdd904cf34eb0ef571d5fceb410a0d33c0d70ce87389329869d9c347"
    "1004b7a182e89913beb9199f6262c89c3a721c3719098e384989b7194c345f39bbd06070fd5480408f29a615"
    "2d2a768de9e52f6034520d08ddf19446e3a8ce0f830c2a8bffcf53513cdaa977e6e3a49f14c106166e4245e0"
    "55d4c532b3a751571625ddcee82f81ff",
    "c4e869860447b823e1fe5d11da486533595b328a577bd3c156ac0d027c55455b14b5f51ab866bb8cfb59118b"
    "af0db255a8040bdb3c46d1f02b223092147b8c552f17ef4bb876a681f9ed1ee32beabc3b1239af36cb4a2812"
    "7492376dc7e17abfa3f44b0679f292e9fc3cbe603c95d07e472de5dde45cf8c07d3ff33e553ca3e4ceaccaaa"
    "568245f79ba99ca5a07050a4b9917bc5a4db4810b40310bf8d637bd07f81da2d07f639e51dcd0d75b785fdcc"
    "1b354fdef35298b7f504e46c8ef1ddc7",
};
/* 4096-bit, e = 65537 */
static const struct rsa_key_hex key_r4096 = {
    4096,
    65537u,
    "dea767049492b78d4b8517f20e8e2881dc9ab6e82c4bf5d8e42d2891bb7b6f533306dfbc80a59bc168cc2cd5"
    "69c97d93f098404277066e70b110b6d8764ed8eafdb8c0df40b624dae28fcd167a553e4ed3f3346265d24feb"
    "8665734096fca486ce60ed9539242b810f598327ad26795ac668b1f913882ccf4705f3992234bbb9cfe57741"
    "52a116192102023ed2caf92859cef1011cfd01a2d155af2df6084e359d27790ca74282d9118f80f3ccf4dab4"
    "04c8a20daab11da7058885726983d56e60486e1c916eacc32841dbb3efdc76022f25b43a1988166c0417c7c5"
    "024ed58e736b823bdeb60f2cb2492ea7f1cc5579281d6fc353170d6733ab58faa4934b6b",
    "b6172ff6bfb63423c95fee91896faecf389083f2913a194d93d8ee01d253439722edbcb5d7c3aff5d5bab894"
    "a2f83d3c263b08797dad7ef5fd2ce575992a4d57312ee31000378923c96cf8d318cdd19cc7a91f735f556008"
    "7bc307bf5fe5213b8e71e7342a3f22e65beb703b3c7586d336664ae14bb34826906d7a46529d5d26393b9d12"
    "36c69bd7e66adbccebfd588f2760e399ed9b137fe7ed3f1c90064e308a236e0af66d7f6e94d5d549dbe42f5d"
    "faba4bc4df906a8213f2b1b780f992341b8e00288f55aae10a717b23ac31c6c3d49bd9a06d3c0ba918a80990"
    "c84998f1a99e53e5b9a3dc93e516150920729c21c5f300a53b4f5319d0ca39a6557e56c1",
};
/* ---- keys under test --------------------------------------------------------------------- */

enum family {
    FAM_RSA,
    FAM_EC,
    FAM_ED,
    FAM_COUNT,
};

struct ecg {
    EC_GROUP *g;
    const char *name; /* OSSL_PKEY_PARAM_GROUP_NAME */
    size_t comp;      /* bytes of a coordinate, of r and of s */
    BIGNUM *n, *p;
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
    const EVP_MD *md;    /* the algorithm's digest; NULL for EdDSA */
    EVP_PKEY *pkey;      /* OpenSSL's key: the oracle verifies with it; RSA, EdDSA sign */
    bool own;            /* pkey, kf and d belong to this entry (not an alias) */
    BIGNUM *d;           /* ECDSA private scalar */
    const struct ecg *g; /* ECDSA group */
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
static struct ecg g256 = { NULL, "P-256", 32, NULL, NULL };
static struct ecg g384 = { NULL, "P-384", 48, NULL, NULL };
static BN_CTX *bnc;

static void ecg_init(struct ecg *g, int nid)
{
    if (g->g != NULL) {
        return;
    }
    g->g = EC_GROUP_new_by_curve_name(nid);
    cr_assert_not_null(g->g);
    g->n = BN_dup(EC_GROUP_get0_order(g->g));
    g->p = BN_new();
    cr_assert_not_null(g->n);
    cr_assert_not_null(g->p);
    cr_assert_eq(EC_GROUP_get_curve(g->g, g->p, NULL, NULL, NULL), 1);
}

static void ecg_free(struct ecg *g)
{
    EC_GROUP_free(g->g);
    BN_free(g->n);
    BN_free(g->p);
    g->g = NULL;
    g->n = g->p = NULL;
}

static void setup(void)
{
    bnc = BN_CTX_new();
    cr_assert_not_null(bnc);
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
    ecg_free(&g256);
    ecg_free(&g384);
    BN_CTX_free(bnc);
    bnc = NULL;
}

TestSuite(differential, .init = setup, .fini = teardown);

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

static EVP_PKEY *rsa_load(const struct rsa_key_hex *h)
{
    BIGNUM *p = NULL, *q = NULL;
    cr_assert_gt(BN_hex2bn(&p, h->p), 0);
    cr_assert_gt(BN_hex2bn(&q, h->q), 0);
    BIGNUM *n = BN_new(), *e = BN_new(), *d = BN_new(), *p1 = BN_dup(p), *q1 = BN_dup(q);
    BIGNUM *phi = BN_new(), *dp = BN_new(), *dq = BN_new(), *qi = BN_new();
    cr_assert(n && e && d && p1 && q1 && phi && dp && dq && qi);
    cr_assert(BN_mul(n, p, q, bnc) && BN_set_word(e, h->e) && BN_sub_word(p1, 1) &&
              BN_sub_word(q1, 1) && BN_mul(phi, p1, q1, bnc) &&
              BN_mod_inverse(d, e, phi, bnc) != NULL && BN_mod(dp, d, p1, bnc) &&
              BN_mod(dq, d, q1, bnc) && BN_mod_inverse(qi, q, p, bnc) != NULL);
    cr_assert_eq(BN_num_bits(n), h->bits);
    OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
    cr_assert_not_null(b);
    cr_assert(OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_N, n) &&
              OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_E, e) &&
              OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_D, d) &&
              OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_FACTOR1, p) &&
              OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_FACTOR2, q) &&
              OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_EXPONENT1, dp) &&
              OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_EXPONENT2, dq) &&
              OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_COEFFICIENT1, qi));
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(b);
    cr_assert_not_null(params);
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    EVP_PKEY *pk = NULL;
    cr_assert_not_null(c);
    cr_assert_eq(EVP_PKEY_fromdata_init(c), 1);
    cr_assert_eq(EVP_PKEY_fromdata(c, &pk, EVP_PKEY_KEYPAIR, params), 1);
    EVP_PKEY_CTX_free(c);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(b);
    BN_free(p);
    BN_free(q);
    BN_free(n);
    BN_free(e);
    BN_clear_free(d);
    BN_free(p1);
    BN_free(q1);
    BN_free(phi);
    BN_clear_free(dp);
    BN_clear_free(dq);
    BN_free(qi);
    return pk;
}

/* An RSA key; its engine key comes from the modulus and exponent bytes, or from the EVP_PKEY. */
static struct tkey *add_rsa(const char *name, const struct rsa_key_hex *h, bool via_pkey)
{
    struct tkey *k = key_slot(name, KF_OFFLOAD_RSA_PKCS1_SHA256, FAM_RSA);
    k->md = EVP_sha256();
    k->pkey = rsa_load(h);
    k->sig_len = (size_t)EVP_PKEY_get_size(k->pkey);
    BIGNUM *n = NULL;
    cr_assert_eq(EVP_PKEY_get_bn_param(k->pkey, OSSL_PKEY_PARAM_RSA_N, &n), 1);
    cr_assert_eq(BN_bn2binpad(n, k->n, (int)k->sig_len), (int)k->sig_len);
    BN_free(n);
    kf_result r;
    if (via_pkey) {
        r = kf_offload_key_from_pkey(k->pkey, 0, &k->kf);
    } else {
        uint8_t e[8];
        size_t e_len = 0;
        for (int sh = 56; sh >= 0; sh -= 8) {
            if (e_len > 0 || (uint8_t)(h->e >> sh) != 0) {
                e[e_len++] = (uint8_t)(h->e >> sh);
            }
        }
        r = kf_offload_key_new_rsa(k->n, k->sig_len, e, e_len, 0, &k->kf);
    }
    cr_assert(kf_ok(r), "%s: key creation failed: %s", name, kf_err_name(r.code));
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

static void ec_xy(const struct ecg *g, const EC_POINT *pt, uint8_t *xy)
{
    BIGNUM *x = BN_new(), *y = BN_new();
    cr_assert(x && y);
    cr_assert_eq(EC_POINT_get_affine_coordinates(g->g, pt, x, y, bnc), 1);
    cr_assert_eq(BN_bn2binpad(x, xy, (int)g->comp), (int)g->comp);
    cr_assert_eq(BN_bn2binpad(y, xy + g->comp, (int)g->comp), (int)g->comp);
    BN_free(x);
    BN_free(y);
}

/* OpenSSL's import of X || Y as a public key; NULL when OpenSSL refuses it. */
static EVP_PKEY *ec_pub_pkey(const struct ecg *g, const uint8_t *xy, size_t len)
{
    uint8_t oct[1 + 2 * 72];
    cr_assert_leq(len, 2 * 72);
    oct[0] = 0x04;
    memcpy(oct + 1, xy, len);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)g->name, 0),
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, oct, 1 + len),
        OSSL_PARAM_construct_end(),
    };
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    cr_assert_not_null(c);
    EVP_PKEY *pk = NULL;
    if (EVP_PKEY_fromdata_init(c) != 1 ||
        EVP_PKEY_fromdata(c, &pk, EVP_PKEY_PUBLIC_KEY, params) != 1) {
        pk = NULL;
    }
    EVP_PKEY_CTX_free(c);
    ERR_clear_error();
    return pk;
}

static void bn_random_scalar(uint64_t *rng, const struct ecg *g, BIGNUM *out)
{
    uint8_t b[72];
    do {
        rng_fill(rng, b, g->comp);
        cr_assert_not_null(BN_bin2bn(b, (int)g->comp, out));
        cr_assert_eq(BN_mod(out, out, g->n, bnc), 1);
    } while (BN_is_zero(out));
}

/* An ECDSA key with a private scalar from the seed (@p d_from: reuse that key's scalar). */
static struct tkey *add_ec(const char *name, struct ecg *g, enum kf_offload_alg alg, uint64_t *rng,
                           unsigned kflags, bool via_pkey, const struct tkey *d_from)
{
    ecg_init(g, g == &g256 ? NID_X9_62_prime256v1 : NID_secp384r1);
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
        bn_random_scalar(rng, g, k->d);
    }
    EC_POINT *q = EC_POINT_new(g->g);
    cr_assert_not_null(q);
    cr_assert_eq(EC_POINT_mul(g->g, q, k->d, NULL, NULL, bnc), 1);
    uint8_t xy[144];
    ec_xy(g, q, xy);
    EC_POINT_free(q);
    k->pkey = ec_pub_pkey(g, xy, 2 * g->comp);
    cr_assert_not_null(k->pkey);
    cr_assert_eq(BN_bn2binpad(g->n, k->n, (int)g->comp), (int)g->comp);
    cr_assert_eq(BN_bn2binpad(g->p, k->p, (int)g->comp), (int)g->comp);
    kf_result r = via_pkey ? kf_offload_key_from_pkey(k->pkey, kflags, &k->kf)
                           : kf_offload_key_new_ec(alg, xy, 2 * g->comp, kflags, &k->kf);
    cr_assert(kf_ok(r), "%s: key creation failed: %s", name, kf_err_name(r.code));
    return k;
}

static struct tkey *add_ed(const char *name, enum kf_offload_alg alg, uint64_t *rng, bool via_pkey)
{
    struct tkey *k = key_slot(name, alg, FAM_ED);
    bool is25519 = alg == KF_OFFLOAD_ED25519;
    uint8_t priv[57], pub[57];
    size_t priv_len = is25519 ? 32 : 57, pub_len = priv_len;
    rng_fill(rng, priv, priv_len);
    k->pkey = EVP_PKEY_new_raw_private_key(is25519 ? EVP_PKEY_ED25519 : EVP_PKEY_ED448, NULL, priv,
                                           priv_len);
    cr_assert_not_null(k->pkey);
    cr_assert_eq(EVP_PKEY_get_raw_public_key(k->pkey, pub, &pub_len), 1);
    k->sig_len = is25519 ? 64 : 114;
    kf_result r = via_pkey ? kf_offload_key_from_pkey(k->pkey, 0, &k->kf)
                           : kf_offload_key_new_eddsa(alg, pub, pub_len, &k->kf);
    cr_assert(kf_ok(r), "%s: key creation failed: %s", name, kf_err_name(r.code));
    return k;
}

/* ---- signing ----------------------------------------------------------------------------- */

static void sign_evp(const struct tkey *k, const uint8_t *msg, size_t msg_len, uint8_t *sig,
                     size_t *sig_len)
{
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    cr_assert_not_null(m);
    cr_assert_eq(EVP_DigestSignInit(m, NULL, k->md, NULL, k->pkey), 1);
    *sig_len = SIG_MAX;
    cr_assert_eq(EVP_DigestSign(m, sig, sig_len, msg, msg_len), 1);
    EVP_MD_CTX_free(m);
}

/* ECDSA (SEC 1 v2 s4.1.3) with the nonce from the seed, so a run is reproducible. */
static void sign_ecdsa(const struct tkey *k, uint64_t *rng, const uint8_t *digest,
                       size_t digest_len, uint8_t *sig)
{
    const struct ecg *g = k->g;
    BIGNUM *e = BN_bin2bn(digest, (int)(digest_len < g->comp ? digest_len : g->comp), NULL);
    BIGNUM *kk = BN_new(), *x = BN_new(), *r = BN_new(), *s = BN_new(), *t = BN_new();
    EC_POINT *R = EC_POINT_new(g->g);
    cr_assert(e && kk && x && r && s && t && R);
    for (;;) {
        bn_random_scalar(rng, g, kk);
        cr_assert_eq(EC_POINT_mul(g->g, R, kk, NULL, NULL, bnc), 1);
        cr_assert_eq(EC_POINT_get_affine_coordinates(g->g, R, x, NULL, bnc), 1);
        cr_assert_eq(BN_nnmod(r, x, g->n, bnc), 1);
        if (BN_is_zero(r)) {
            continue;
        }
        cr_assert(BN_mod_mul(t, r, k->d, g->n, bnc) && BN_mod_add(t, t, e, g->n, bnc) &&
                  BN_mod_inverse(kk, kk, g->n, bnc) != NULL && BN_mod_mul(s, kk, t, g->n, bnc));
        if (!BN_is_zero(s)) {
            break;
        }
    }
    cr_assert_eq(BN_bn2binpad(r, sig, (int)g->comp), (int)g->comp);
    cr_assert_eq(BN_bn2binpad(s, sig + g->comp, (int)g->comp), (int)g->comp);
    EC_POINT_free(R);
    BN_free(e);
    BN_free(kk);
    BN_free(x);
    BN_free(r);
    BN_free(s);
    BN_free(t);
}

static size_t digest_of(const EVP_MD *md, const uint8_t *msg, size_t len, uint8_t *out)
{
    unsigned int n = 0;
    cr_assert_eq(EVP_Digest(msg, len, out, &n, md, NULL), 1);
    return n;
}

/* ---- the oracle: OpenSSL, directly ------------------------------------------------------- */

/* r || s as the DER ECDSA-Sig-Value OpenSSL verifies (RFC 3279 s2.2.3); 0 on failure. */
static size_t ec_der(const uint8_t *sig, size_t comp, uint8_t *der)
{
    ECDSA_SIG *es = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(sig, (int)comp, NULL), *s = BN_bin2bn(sig + comp, (int)comp, NULL);
    int len = 0;
    if (es != NULL && r != NULL && s != NULL && ECDSA_SIG_set0(es, r, s) == 1) {
        r = s = NULL; /* owned by es now */
        unsigned char *p = der;
        len = i2d_ECDSA_SIG(es, &p);
    }
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(es);
    return len > 0 ? (size_t)len : 0;
}

/* OpenSSL's verdict: 1 valid, 0 not, -1 if OpenSSL could not be asked (allocation). Runs on
 * the oracle thread too, so it reports instead of asserting. */
static int oracle(const struct tkey *k, const uint8_t *msg, size_t msg_len, bool digest,
                  const uint8_t *sig, size_t sig_len)
{
    uint8_t der[256];
    if (k->fam == FAM_EC) {
        if (sig_len != 2 * k->comp) {
            return 0; /* r || s of another length is no signature (RFC 6605 s4) */
        }
        sig_len = ec_der(sig, k->comp, der);
        if (sig_len == 0) {
            return -1;
        }
        sig = der;
    }
    int r = -2;
    if (digest) {
        EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(NULL, k->pkey, NULL);
        if (c != NULL && EVP_PKEY_verify_init(c) == 1 &&
            (k->fam != FAM_RSA || EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING) == 1) &&
            EVP_PKEY_CTX_set_signature_md(c, k->md) == 1) {
            r = EVP_PKEY_verify(c, sig, sig_len, msg, msg_len);
        }
        EVP_PKEY_CTX_free(c);
    } else {
        EVP_MD_CTX *m = EVP_MD_CTX_new();
        if (m != NULL && EVP_DigestVerifyInit(m, NULL, k->md, NULL, k->pkey) == 1) {
            r = EVP_DigestVerify(m, sig, sig_len, msg, msg_len);
        }
        EVP_MD_CTX_free(m);
    }
    ERR_clear_error();
    return r == -2 ? -1 : r == 1;
}

/* ---- EMSA-PKCS1-v1_5 encodings, right and wrong (RFC 8017 s9.2) --------------------------- */

/* DigestInfo prefixes from RFC 8017 s9.2 note 1. */
static const uint8_t di_sha1[] = { 0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e,
                                   0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14 };
static const uint8_t di_sha256[] = { 0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
                                     0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20 };
static const uint8_t di_sha512[] = { 0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
                                     0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40 };

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
    const uint8_t *di = is256 ? di_sha256 : di_sha512;
    size_t hl = digest_of(md, msg, msg_len, h);
    switch (kind) {
    case EM_OID_SHA1:
        memcpy(t, di_sha1, sizeof(di_sha1));
        tl = sizeof(di_sha1) + digest_of(EVP_sha1(), msg, msg_len, t + sizeof(di_sha1));
        break;
    case EM_OID_OTHER:
        memcpy(t, is256 ? di_sha512 : di_sha256, 19);
        tl = 19 + digest_of(is256 ? EVP_sha512() : EVP_sha256(), msg, msg_len, t + 19);
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
        memcpy(t, di, 19);
        tl = 19 + digest_of(md, m2, msg_len + 1, t + 19);
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
            t[tl++] = (uint8_t)rng_next(rng);
            t[tl++] = (uint8_t)rng_next(rng);
        }
        break;
    }
    cr_assert_leq(tl + 11, k);
    size_t ps = k - 3 - tl;
    em[0] = 0x00;
    em[1] = 0x01;
    memset(em + 2, 0xff, ps);
    em[2 + ps] = 0x00;
    memcpy(em + 3 + ps, t, tl);
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
        em[2 + rng_below(rng, ps)] = (uint8_t)rng_below(rng, 255);
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

/* s = EM^d mod n: the raw private operation, so a wrong encoding becomes a real signature. */
static void rsa_raw_sign(const struct tkey *k, const uint8_t *em, uint8_t *sig)
{
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(NULL, k->pkey, NULL);
    cr_assert_not_null(c);
    cr_assert_eq(EVP_PKEY_sign_init(c), 1);
    cr_assert_eq(EVP_PKEY_CTX_set_rsa_padding(c, RSA_NO_PADDING), 1);
    size_t len = k->sig_len;
    cr_assert_eq(EVP_PKEY_sign(c, sig, &len, em, k->sig_len), 1);
    cr_assert_eq(len, k->sig_len);
    EVP_PKEY_CTX_free(c);
}

/* ---- pools ------------------------------------------------------------------------------- */

static void entry_judge(const struct tkey *k, struct entry *en)
{
    uint8_t h[64];
    int m = oracle(k, en->msg, en->msg_len, false, en->sig, en->sig_len);
    int d = k->md == NULL ? 0
                          : oracle(k, h, digest_of(k->md, en->msg, en->msg_len, h), true, en->sig,
                                   en->sig_len);
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
        en->msg_len = rng_below(rng, MSG_MAX - 8);
        rng_fill(rng, en->msg, en->msg_len);
        if (k->fam == FAM_EC) {
            uint8_t h[64];
            sign_ecdsa(k, rng, h, digest_of(k->md, en->msg, en->msg_len, h), en->sig);
            en->sig_len = k->sig_len;
        } else {
            sign_evp(k, en->msg, en->msg_len, en->sig, &en->sig_len);
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
        en->msg_len = rng_below(rng, MSG_MAX - 8);
        rng_fill(rng, en->msg, en->msg_len);
        make_em((enum bad_em)en->bad, k->md, en->msg, en->msg_len, rng, em, k->sig_len);
        rsa_raw_sign(k, em, en->sig);
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
    unsigned x = (unsigned)rng_below(rng, total);
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
        return (int)same[rng_below(rng, ns)];
    }
    return na > 0 ? (int)any[rng_below(rng, na)] : -1;
}

static void rsa_ge_n(uint64_t *rng, const struct tkey *k, struct dcase *c)
{
    size_t len = k->sig_len;
    c->detail = (unsigned)rng_below(rng, 5);
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
        if (!be_add(c->sig, c->sig, k->n, len)) {
            break;
        }
        /* fall through */
    case 4:
        if (k->n[0] < 0xff) {
            rng_fill(rng, c->sig, len);
            c->sig[0] = (uint8_t)(k->n[0] + 1 + rng_below(rng, 0xffu - k->n[0]));
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
    c->detail = (unsigned)rng_below(rng, 4);
    c->sig_len = k->sig_len;
    if (c->detail == 3) {
        be_sub_small(c->sig, k->n, k->sig_len, 1);
    } else {
        be_small(c->sig, k->sig_len, c->detail);
    }
}

/* Edge values for r and s: 0, 1, n - 1, n, n + 1, p, 2^bits - 1, top bit set, x + n, p - 1. */
static void ec_edge_value(uint64_t *rng, const struct tkey *k, unsigned v, uint8_t *x)
{
    size_t len = k->comp;
    switch (v) {
    case 0:
        be_small(x, len, 0);
        break;
    case 1:
        be_small(x, len, 1);
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
        rng_fill(rng, x, len);
        x[0] |= 0x80;
        break;
    case 8:
        if (be_add(x, x, k->n, len)) {
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
    c->key = (unsigned)rng_below(rng, nkeys);
    const struct tkey *k = &keys[c->key];
    c->kind = pick_kind(rng, k->fam);
    c->detail = 0;
    c->flags = 0;
    const struct entry *en;
    if (c->kind == K_RSA_BAD_EM && k->bad_n > 0) {
        en = &k->bad[rng_below(rng, k->bad_n)];
        c->detail = en->bad;
    } else {
        if (c->kind == K_RSA_BAD_EM) {
            c->kind = K_VALID;
        }
        en = &k->pool[rng_below(rng, k->pool_n)];
    }
    memcpy(c->msg, en->msg, en->msg_len);
    c->msg_len = en->msg_len;
    memcpy(c->sig, en->sig, en->sig_len);
    c->sig_len = en->sig_len;
    bool digest = k->md != NULL && rng_below(rng, 6) == 0;
    if (digest) {
        c->msg_len = digest_of(k->md, en->msg, en->msg_len, c->msg);
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
        n = 1 + rng_below(rng, 4);
        for (size_t i = 0; i < n; i++) {
            pos = rng_below(rng, c->sig_len * 8);
            c->sig[pos / 8] ^= (uint8_t)(1u << (pos % 8));
        }
        cached = false;
        break;
    case K_SIG_BYTE:
        c->sig[rng_below(rng, c->sig_len)] ^= (uint8_t)(1 + rng_below(rng, 255));
        cached = false;
        break;
    case K_SIG_TRUNC:
        n = 1 + rng_below(rng, 3);
        if (rng_next(rng) & 1) {
            memmove(c->sig, c->sig + n, c->sig_len - n);
        }
        c->sig_len -= n;
        cached = false;
        break;
    case K_SIG_EXTEND:
        n = 1 + rng_below(rng, 3);
        if (rng_next(rng) & 1) {
            memmove(c->sig + n, c->sig, c->sig_len);
            memset(c->sig, 0, n);
        } else {
            rng_fill(rng, c->sig + c->sig_len, n);
        }
        c->sig_len += n;
        cached = false;
        break;
    case K_SIG_SHORT:
        c->sig_len = rng_below(rng, c->sig_len);
        cached = false;
        break;
    case K_MSG_LEN:
        if (!digest) { /* a digest of the wrong length is an ERROR: test_edge.c has it */
            if (c->msg_len > 0 && (rng_next(rng) & 1)) {
                c->msg_len--;
            } else {
                c->msg[c->msg_len++] = (uint8_t)rng_next(rng);
            }
            cached = false;
            break;
        }
        /* fall through */
    case K_MSG_FLIP:
        if (c->msg_len == 0) {
            c->msg[c->msg_len++] = (uint8_t)rng_next(rng);
        } else {
            pos = rng_below(rng, c->msg_len * 8);
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
        be_sub(c->sig + k->comp, k->n, c->sig + k->comp, k->comp);
        cached = false;
        break;
    case K_EC_RS_EDGE: {
        unsigned v = (unsigned)rng_below(rng, 10), which = (unsigned)rng_below(rng, 3);
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
    return rng_next(rng) & 1 ? 1 + rng_below(rng, 8) : 9 + rng_below(rng, BATCH_MAX - 8);
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

static const char *verdict_name(enum kf_offload_verdict v)
{
    switch (v) {
    case KF_OFFLOAD_PENDING:
        return "PENDING";
    case KF_OFFLOAD_VALID:
        return "VALID";
    case KF_OFFLOAD_INVALID:
        return "INVALID";
    case KF_OFFLOAD_ERROR:
        return "ERROR";
    }
    return "(not a verdict)";
}

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
            verdict_name(c->got), c->got == KF_OFFLOAD_ERROR ? kf_err_name(c->err) : "none",
            hex(hm, c->msg, c->msg_len), hex(hs, c->sig, c->sig_len));
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

static enum kf_offload_backend announce(const char *test)
{
    enum kf_offload_backend b = kf_offload_backend_default();
    const char *env = getenv("KEYFORT_OFFLOAD");
    fprintf(stderr, "%s: backend %s (KEYFORT_OFFLOAD=%s)\n", test, kf_offload_backend_name(b),
            env != NULL ? env : "unset");
    if (env != NULL && strcmp(env, "scalar") == 0) {
        cr_assert_eq(b, KF_OFFLOAD_BACKEND_SCALAR);
    }
    if (env != NULL && strcmp(env, "avx512ifma") == 0 &&
        kf_offload_backend_available(KF_OFFLOAD_BACKEND_AVX512IFMA)) {
        cr_assert_eq(b, KF_OFFLOAD_BACKEND_AVX512IFMA,
                     "KEYFORT_OFFLOAD=avx512ifma on a CPU that has it, yet the default is %s",
                     kf_offload_backend_name(b));
    }
    return b;
}

static struct kf_offload_engine *engine(unsigned workers, struct sink *cb_sink)
{
    struct kf_offload_config cfg = {
        .workers = workers,
        .backend = KF_OFFLOAD_BACKEND_AUTO,
        .on_done = cb_sink != NULL ? on_done : NULL,
        .on_done_arg = cb_sink,
    };
    struct kf_offload_engine *e = NULL;
    kf_result r = kf_offload_engine_new(&cfg, &e);
    cr_assert(kf_ok(r), "engine_new: %s", kf_err_name(r.code));
    cr_assert_eq(kf_offload_engine_backend(e), kf_offload_backend_default());
    if (workers > 0 && cb_sink == NULL) {
        cr_assert_geq(kf_offload_eventfd(e), 0);
    } else {
        cr_assert_eq(kf_offload_eventfd(e), -1);
    }
    return e;
}

static void check_stats(const char *name, const struct kf_offload_engine *e, uint64_t jobs,
                        uint64_t *lane_jobs)
{
    struct kf_offload_stats st;
    memset(&st, 0xa5, sizeof(st));
    kf_offload_engine_stats(e, &st);
    fprintf(stderr,
            "  %s: jobs %" PRIu64 ", lane jobs %" PRIu64 " in %" PRIu64
            " kernel calls, scalar jobs %" PRIu64 "\n",
            name, st.jobs, st.lane_jobs, st.lane_calls, st.scalar_jobs);
    cr_assert_eq(st.jobs, jobs, "%s: stats count %" PRIu64 " jobs, %" PRIu64 " were run", name,
                 st.jobs, jobs);
    /* Jobs refused on their shape alone (length, s >= n) are early_jobs. */
    cr_assert_eq(st.lane_jobs + st.scalar_jobs + st.early_jobs, st.jobs,
                 "%s: lane %" PRIu64 " + scalar %" PRIu64 " + early %" PRIu64 " != jobs %" PRIu64,
                 name, st.lane_jobs, st.scalar_jobs, st.early_jobs, st.jobs);
    cr_assert_leq(st.lane_calls, st.lane_jobs);
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
    if (kf_offload_backend_default() == KF_OFFLOAD_BACKEND_AVX512IFMA) {
        cr_assert(kf_offload_key_has_lanes(k->kf), "%s: no kernel precomputation", k->name);
    }
}

/* ---- the tests --------------------------------------------------------------------------- */

Test(differential, rsa2048_pkcs1_sha256)
{
    announce("rsa2048_pkcs1_sha256");
    uint64_t seed = test_seed(), rng = seed;
    struct tkey *a = add_rsa("rsa2048-a", &key_a, false);
    struct tkey *b = add_rsa("rsa2048-b", &key_b, true);
    add_rsa("rsa2048-e3", &key_e3, false);
    add_rsa("rsa2048-e2^32+15", &key_ebig, true);
    for (size_t i = 0; i < nkeys; i++) {
        build_pool(&keys[i], &rng, 256, 4);
    }
    expect_lanes(a);
    expect_lanes(b);
    run_differential("rsa2048_pkcs1_sha256", test_cases(), seed, true);
}

Test(differential, p256_sha256)
{
    announce("p256_sha256");
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
    announce("rsa_other_sizes_and_exponents");
    uint64_t seed = test_seed(), rng = seed;
    add_rsa("rsa1024", &key_r1024, false);
    add_rsa("rsa2047-odd-size", &key_r2047, true);
    add_rsa("rsa2049-e3", &key_r2049, false);
    add_rsa("rsa3072", &key_r3072, true);
    add_rsa("rsa4096", &key_r4096, false);
    add_rsa("rsa2048-e3", &key_e3, true);
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
    announce("mixed_algorithms_in_one_call");
    uint64_t seed = test_seed(), rng = seed;
    struct tkey *a = add_rsa("rsa2048-a", &key_a, false);
    add_rsa("rsa2048-b", &key_b, true);
    add_rsa_alias("rsa2048-a-sha512", a, KF_OFFLOAD_RSA_PKCS1_SHA512, EVP_sha512());
    add_rsa("rsa1024", &key_r1024, true);
    add_rsa("rsa3072", &key_r3072, false);
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
    announce("ec_key_import_agrees_with_openssl");
    uint64_t rng = test_seed();
    struct ecg *groups[] = { &g256, &g384 };
    enum kf_offload_alg algs[] = { KF_OFFLOAD_ECDSA_P256_SHA256, KF_OFFLOAD_ECDSA_P384_SHA384 };
    size_t per = test_cases() / 100 > 200 ? test_cases() / 100 : 200;
    for (size_t gi = 0; gi < 2; gi++) {
        struct ecg *g = groups[gi];
        ecg_init(g, gi == 0 ? NID_X9_62_prime256v1 : NID_secp384r1);
        size_t c = g->comp;
        uint8_t pb[72];
        cr_assert_eq(BN_bn2binpad(g->p, pb, (int)c), (int)c);
        /* Points with small x (x = 0, 1, 2, ...), found by solving y^2 = x^3 - 3x + b. */
        uint8_t small[8][144];
        size_t n_small = 0;
        BIGNUM *x = BN_new(), *y = BN_new(), *rhs = BN_new(), *b = BN_new(), *t = BN_new();
        cr_assert(x && y && rhs && b && t);
        cr_assert_eq(EC_GROUP_get_curve(g->g, NULL, NULL, b, bnc), 1);
        for (unsigned xs = 0; n_small < 8 && xs < 200; xs++) {
            cr_assert(BN_set_word(x, xs) && BN_mod_sqr(t, x, g->p, bnc) &&
                      BN_mod_mul(rhs, t, x, g->p, bnc) && BN_mul_word(x, 3) &&
                      BN_mod_sub(rhs, rhs, x, g->p, bnc) && BN_mod_add(rhs, rhs, b, g->p, bnc));
            if (BN_mod_sqrt(y, rhs, g->p, bnc) == NULL) {
                ERR_clear_error();
                continue;
            }
            cr_assert_eq(BN_mod_sqr(t, y, g->p, bnc), 1);
            if (BN_cmp(t, rhs) != 0) {
                continue;
            }
            cr_assert(BN_set_word(x, xs));
            cr_assert_eq(BN_bn2binpad(x, small[n_small], (int)c), (int)c);
            cr_assert_eq(BN_bn2binpad(y, small[n_small] + c, (int)c), (int)c);
            n_small++;
        }
        cr_assert_gt(n_small, 2);
        BN_free(x);
        BN_free(y);
        BN_free(rhs);
        BN_free(b);
        BN_free(t);
        size_t accepted = 0, refused = 0;
        for (size_t i = 0; i < per; i++) {
            uint8_t xy[144];
            unsigned v = (unsigned)(i % 9);
            int expect = -1; /* -1: OpenSSL decides; else what SEC 1 says */
            if (v == 0 || v == 2 || v == 3) {
                BIGNUM *d = BN_new();
                EC_POINT *q = EC_POINT_new(g->g);
                cr_assert(d && q);
                bn_random_scalar(&rng, g, d);
                cr_assert_eq(EC_POINT_mul(g->g, q, d, NULL, NULL, bnc), 1);
                ec_xy(g, q, xy);
                EC_POINT_free(q);
                BN_free(d);
                expect = 1;
                if (v == 2) {
                    xy[c + rng_below(&rng, c)] ^= (uint8_t)(1u << rng_below(&rng, 8));
                    expect = 0; /* y changed: off the curve (the other root is p - y) */
                } else if (v == 3) {
                    be_sub(xy + c, pb, xy + c, c); /* -Q */
                }
            } else if (v == 1) {
                rng_fill(&rng, xy, 2 * c);
            } else if (v == 4) {
                memcpy(xy, small[rng_below(&rng, n_small)], 2 * c);
                expect = 1;
            } else if (v == 5) {
                memcpy(xy, small[rng_below(&rng, n_small)], 2 * c);
                cr_assert(!be_add(xy, xy, pb, c)); /* x + p: the same x mod p, not below p */
                expect = 0;
            } else if (v == 6) {
                memcpy(xy, pb, c); /* x = p */
                rng_fill(&rng, xy + c, c);
                expect = 0;
            } else if (v == 7) {
                rng_fill(&rng, xy, c);
                memset(xy + c, 0xff, c); /* y = 2^bits - 1 > p */
                expect = 0;
            } else {
                memset(xy, 0, 2 * c); /* (0, 0): how the point at infinity is often written */
                expect = 0;
            }
            EVP_PKEY *pk = ec_pub_pkey(g, xy, 2 * c);
            struct kf_offload_key *key = NULL;
            kf_result r =
                kf_offload_key_new_ec(algs[gi], xy, 2 * c, i % 2 ? KF_OFFLOAD_KEY_TABLE : 0, &key);
            char hb[2 * 144 + 1];
            cr_assert_eq(kf_ok(r), pk != NULL, "%s variant %u: engine %s, OpenSSL %s: %s", g->name,
                         v, kf_ok(r) ? "accepts" : "refuses", pk != NULL ? "accepts" : "refuses",
                         hex(hb, xy, 2 * c));
            if (expect >= 0) {
                cr_assert_eq(pk != NULL, expect == 1, "%s variant %u: OpenSSL %s %s", g->name, v,
                             pk != NULL ? "accepts" : "refuses", hex(hb, xy, 2 * c));
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
