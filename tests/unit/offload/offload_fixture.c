/* tests/unit/offload/offload_fixture.c - what the offload engine's Criterion tests share
 * (offload_fixture.h; STYLE.md s14).
 */
#include "offload_fixture.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <inttypes.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- randomness, environment, printing ---------------------------------------------------- */

uint64_t fixture_rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

size_t fixture_rng_below(uint64_t *s, size_t n)
{
    return (size_t)(fixture_rng_next(s) % n);
}

void fixture_rng_fill(uint64_t *s, uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        p[i] = (uint8_t)fixture_rng_next(s);
    }
}

uint64_t fixture_env_u64(const char *name, uint64_t dflt)
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

const char *fixture_hex(char *buf, size_t size, const uint8_t *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    n = n < (size - 1) / 2 ? n : (size - 1) / 2;
    for (size_t i = 0; i < n; i++) {
        buf[2 * i] = digits[p[i] >> 4];
        buf[2 * i + 1] = digits[p[i] & 15];
    }
    buf[2 * n] = '\0';
    return buf;
}

const char *fixture_verdict_name(enum kf_offload_verdict v)
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

/* ---- big-endian arithmetic on byte strings ------------------------------------------------ */

bool fixture_be_add(uint8_t *out, const uint8_t *a, const uint8_t *b, size_t len)
{
    unsigned c = 0;
    for (size_t i = len; i-- > 0;) {
        unsigned t = (unsigned)a[i] + b[i] + c;
        out[i] = (uint8_t)t;
        c = t >> 8;
    }
    return c != 0;
}

void fixture_be_sub(uint8_t *out, const uint8_t *a, const uint8_t *b, size_t len)
{
    int borrow = 0;
    for (size_t i = len; i-- > 0;) {
        int t = (int)a[i] - b[i] - borrow;
        borrow = t < 0;
        out[i] = (uint8_t)(t + (borrow ? 256 : 0));
    }
}

void fixture_be_small(uint8_t *out, size_t len, unsigned v)
{
    memset(out, 0, len);
    out[len - 1] = (uint8_t)v;
}

/* ---- fixed RSA keys (test-only, generated for these tests): primes p and q ---------------- */

/* 2048-bit, e = 65537 */
const struct fixture_rsa_key fixture_rsa_a = {
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
const struct fixture_rsa_key fixture_rsa_b = {
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
const struct fixture_rsa_key fixture_rsa_e3 = {
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
const struct fixture_rsa_key fixture_rsa_ebig = {
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
const struct fixture_rsa_key fixture_rsa_1024 = {
    1024,
    65537u,
    "dd613eebe39a33ccb40a023fd3999d8c6ee0fb70821fd3ea32964b6c22f6990a929dd3778bb2b31ebcd892f9"
    "33f692ea99e1487c1d4e538751b7aa61220269c7",
    "cb8fa369430984a542d709fd33e68e2261b1b8e1d27cb92de001461e10786553b94ee383b7077c4ada75754e"
    "ae53c2335d3cdcd6ad03ab67f3c246ec953155ef",
};
/* 2047-bit, e = 65537 */
const struct fixture_rsa_key fixture_rsa_2047 = {
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
const struct fixture_rsa_key fixture_rsa_2049 = {
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
const struct fixture_rsa_key fixture_rsa_3072 = {
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
const struct fixture_rsa_key fixture_rsa_4096 = {
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

EVP_PKEY *fixture_rsa_load(const struct fixture_rsa_key *h)
{
    BN_CTX *bnc = BN_CTX_new();
    BIGNUM *p = NULL, *q = NULL;
    cr_assert_not_null(bnc);
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
    BN_CTX_free(bnc);
    return pk;
}

size_t fixture_rsa_modulus(EVP_PKEY *pk, uint8_t *n, size_t size)
{
    int k = EVP_PKEY_get_size(pk);
    cr_assert_gt(k, 0);
    cr_assert_leq((size_t)k, size);
    BIGNUM *bn = NULL;
    cr_assert_eq(EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_N, &bn), 1);
    cr_assert_eq(BN_bn2binpad(bn, n, k), k);
    BN_free(bn);
    return (size_t)k;
}

struct kf_offload_key *fixture_kf_rsa(const uint8_t *n, size_t n_len, uint64_t e)
{
    uint8_t eb[8];
    size_t e_len = 0;
    for (int sh = 56; sh >= 0; sh -= 8) {
        if (e_len > 0 || (uint8_t)(e >> sh) != 0) {
            eb[e_len++] = (uint8_t)(e >> sh);
        }
    }
    struct kf_offload_key *key = NULL;
    kf_result r = kf_offload_key_new_rsa(n, n_len, eb, e_len, 0, &key);
    cr_assert(kf_ok(r), "key_new_rsa: %s", kf_err_name(r.code));
    cr_assert_not_null(key);
    return key;
}

struct kf_offload_key *fixture_kf_from_pkey(EVP_PKEY *pk, unsigned flags)
{
    struct kf_offload_key *key = NULL;
    kf_result r = kf_offload_key_from_pkey(pk, flags, &key);
    cr_assert(kf_ok(r), "key_from_pkey: %s", kf_err_name(r.code));
    cr_assert_not_null(key);
    return key;
}

/* ---- EC groups (P-256, P-384) ------------------------------------------------------------- */

void fixture_ec_group_init(struct fixture_ec_group *w, int nid)
{
    cr_assert(nid == NID_X9_62_prime256v1 || nid == NID_secp384r1, "nid %d", nid);
    memset(w, 0, sizeof(*w));
    w->g = EC_GROUP_new_by_curve_name(nid);
    cr_assert_not_null(w->g);
    w->n = BN_dup(EC_GROUP_get0_order(w->g));
    w->p = BN_new();
    w->b = BN_new();
    w->bnc = BN_CTX_new();
    cr_assert(w->n && w->p && w->b && w->bnc);
    cr_assert_eq(EC_GROUP_get_curve(w->g, w->p, NULL, w->b, w->bnc), 1);
    w->comp = nid == NID_X9_62_prime256v1 ? 32 : 48;
    w->name = nid == NID_X9_62_prime256v1 ? "P-256" : "P-384";
}

void fixture_ec_group_free(struct fixture_ec_group *w)
{
    EC_GROUP_free(w->g);
    BN_free(w->n);
    BN_free(w->p);
    BN_free(w->b);
    BN_CTX_free(w->bnc);
    memset(w, 0, sizeof(*w));
}

void fixture_ec_random_scalar(uint64_t *rng, const struct fixture_ec_group *w, BIGNUM *out)
{
    uint8_t b[72];
    do {
        fixture_rng_fill(rng, b, w->comp);
        cr_assert_not_null(BN_bin2bn(b, (int)w->comp, out));
        cr_assert_eq(BN_mod(out, out, w->n, w->bnc), 1);
    } while (BN_is_zero(out));
}

void fixture_ec_point_xy(const struct fixture_ec_group *w, const EC_POINT *pt, uint8_t *xy)
{
    BIGNUM *x = BN_new(), *y = BN_new();
    cr_assert(x && y);
    cr_assert_eq(EC_POINT_get_affine_coordinates(w->g, pt, x, y, w->bnc), 1);
    cr_assert_eq(BN_bn2binpad(x, xy, (int)w->comp), (int)w->comp);
    cr_assert_eq(BN_bn2binpad(y, xy + w->comp, (int)w->comp), (int)w->comp);
    BN_free(x);
    BN_free(y);
}

void fixture_ec_pub_xy(const struct fixture_ec_group *w, const BIGNUM *d, uint8_t *xy)
{
    EC_POINT *q = EC_POINT_new(w->g);
    cr_assert_not_null(q);
    cr_assert_eq(EC_POINT_mul(w->g, q, d, NULL, NULL, w->bnc), 1);
    fixture_ec_point_xy(w, q, xy);
    EC_POINT_free(q);
}

EC_POINT *fixture_ec_point_from_x(const struct fixture_ec_group *w, const BIGNUM *x)
{
    BN_CTX *bnc = w->bnc;
    BIGNUM *rhs = BN_new(), *t = BN_new(), *y = BN_new();
    cr_assert(rhs && t && y);
    cr_assert(BN_mod_sqr(t, x, w->p, bnc) && BN_mod_mul(rhs, t, x, w->p, bnc) && BN_copy(t, x) &&
              BN_mul_word(t, 3) && BN_mod_sub(rhs, rhs, t, w->p, bnc) &&
              BN_mod_add(rhs, rhs, w->b, w->p, bnc));
    EC_POINT *pt = NULL;
    if (BN_mod_sqrt(y, rhs, w->p, bnc) != NULL && BN_mod_sqr(t, y, w->p, bnc) &&
        BN_cmp(t, rhs) == 0) {
        pt = EC_POINT_new(w->g);
        cr_assert_not_null(pt);
        cr_assert_eq(EC_POINT_set_affine_coordinates(w->g, pt, x, y, bnc), 1);
    }
    ERR_clear_error();
    BN_free(rhs);
    BN_free(t);
    BN_free(y);
    return pt;
}

EVP_PKEY *fixture_ec_pub_pkey(const char *group, const uint8_t *xy, size_t len)
{
    uint8_t oct[1 + 2 * 72];
    cr_assert_leq(len, 2 * 72);
    oct[0] = 0x04;
    memcpy(oct + 1, xy, len);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)group, 0),
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

bool fixture_ecdsa_sign_digest(const struct fixture_ec_group *w, const BIGNUM *d,
                               const uint8_t *digest, size_t dlen, const BIGNUM *k, uint8_t *sig)
{
    BN_CTX *bnc = w->bnc;
    BIGNUM *e = BN_bin2bn(digest, (int)(dlen < w->comp ? dlen : w->comp), NULL);
    BIGNUM *x = BN_new(), *r = BN_new(), *s = BN_new(), *ki = BN_new();
    EC_POINT *R = EC_POINT_new(w->g);
    cr_assert(e && x && r && s && ki && R);
    /* s = k^-1 (e + r d) mod n, r = x(k G) mod n */
    cr_assert(EC_POINT_mul(w->g, R, k, NULL, NULL, bnc) &&
              EC_POINT_get_affine_coordinates(w->g, R, x, NULL, bnc) && BN_nnmod(r, x, w->n, bnc) &&
              BN_mod_mul(s, r, d, w->n, bnc) && BN_mod_add(s, s, e, w->n, bnc) &&
              BN_mod_inverse(ki, k, w->n, bnc) != NULL && BN_mod_mul(s, s, ki, w->n, bnc));
    bool ok = !BN_is_zero(r) && !BN_is_zero(s);
    if (ok) {
        cr_assert_eq(BN_bn2binpad(r, sig, (int)w->comp), (int)w->comp);
        cr_assert_eq(BN_bn2binpad(s, sig + w->comp, (int)w->comp), (int)w->comp);
    }
    EC_POINT_free(R);
    BN_free(e);
    BN_free(x);
    BN_free(r);
    BN_free(s);
    BN_free(ki);
    return ok;
}

size_t fixture_ecdsa_rs_to_der(const uint8_t *rs, size_t comp, uint8_t *der, size_t size)
{
    ECDSA_SIG *es = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(rs, (int)comp, NULL), *s = BN_bin2bn(rs + comp, (int)comp, NULL);
    int len = 0;
    if (es != NULL && r != NULL && s != NULL && ECDSA_SIG_set0(es, r, s) == 1) {
        r = s = NULL; /* owned by es now */
        if ((size_t)i2d_ECDSA_SIG(es, NULL) <= size) {
            unsigned char *p = der;
            len = i2d_ECDSA_SIG(es, &p);
        }
    }
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(es);
    return len > 0 ? (size_t)len : 0;
}

void fixture_ecdsa_der_to_rs(const uint8_t *der, size_t der_len, size_t comp, uint8_t *rs)
{
    const unsigned char *p = der;
    ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
    cr_assert_not_null(es);
    cr_assert_eq(BN_bn2binpad(ECDSA_SIG_get0_r(es), rs, (int)comp), (int)comp);
    cr_assert_eq(BN_bn2binpad(ECDSA_SIG_get0_s(es), rs + comp, (int)comp), (int)comp);
    ECDSA_SIG_free(es);
}

/* ---- EdDSA -------------------------------------------------------------------------------- */

EVP_PKEY *fixture_eddsa_keygen(uint64_t *rng, enum kf_offload_alg alg, uint8_t *pub,
                               size_t *pub_len)
{
    bool is25519 = alg == KF_OFFLOAD_ED25519;
    uint8_t priv[57];
    size_t len = is25519 ? 32 : 57;
    fixture_rng_fill(rng, priv, len);
    EVP_PKEY *pk =
        EVP_PKEY_new_raw_private_key(is25519 ? EVP_PKEY_ED25519 : EVP_PKEY_ED448, NULL, priv, len);
    cr_assert_not_null(pk);
    *pub_len = len;
    cr_assert_eq(EVP_PKEY_get_raw_public_key(pk, pub, pub_len), 1);
    return pk;
}

/* ---- signing and the reference verdict ---------------------------------------------------- */

size_t fixture_digest(const EVP_MD *md, const uint8_t *msg, size_t len, uint8_t *out)
{
    unsigned int n = 0;
    cr_assert_eq(EVP_Digest(msg, len, out, &n, md, NULL), 1);
    return n;
}

size_t fixture_sign(EVP_PKEY *pk, const EVP_MD *md, const uint8_t *msg, size_t len, uint8_t *sig,
                    size_t size)
{
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    cr_assert_not_null(m);
    cr_assert_eq(EVP_DigestSignInit(m, NULL, md, NULL, pk), 1);
    size_t sl = size;
    cr_assert_eq(EVP_DigestSign(m, sig, &sl, msg, len), 1);
    EVP_MD_CTX_free(m);
    return sl;
}

int fixture_ossl_verify(EVP_PKEY *pk, const EVP_MD *md, size_t rs_comp, bool digest,
                        const uint8_t *msg, size_t msg_len, const uint8_t *sig, size_t sig_len)
{
    uint8_t der[256];
    if (rs_comp > 0) {
        if (sig_len != 2 * rs_comp) {
            return 0; /* r || s of another length is no signature (RFC 6605 s4) */
        }
        sig_len = fixture_ecdsa_rs_to_der(sig, rs_comp, der, sizeof(der));
        if (sig_len == 0) {
            return -1;
        }
        sig = der;
    }
    int r = -2;
    if (digest) {
        EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL);
        if (c != NULL && EVP_PKEY_verify_init(c) == 1 &&
            (!EVP_PKEY_is_a(pk, "RSA") ||
             EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING) == 1) &&
            EVP_PKEY_CTX_set_signature_md(c, md) == 1) {
            r = EVP_PKEY_verify(c, sig, sig_len, msg, msg_len);
        }
        EVP_PKEY_CTX_free(c);
    } else {
        EVP_MD_CTX *m = EVP_MD_CTX_new();
        if (m != NULL && EVP_DigestVerifyInit(m, NULL, md, NULL, pk) == 1) {
            r = EVP_DigestVerify(m, sig, sig_len, msg, msg_len);
        }
        EVP_MD_CTX_free(m);
    }
    ERR_clear_error();
    return r == -2 ? -1 : r == 1;
}

/* ---- EMSA-PKCS1-v1_5 (RFC 8017 s9.2) ------------------------------------------------------ */

const uint8_t fixture_di_sha1[15] = { 0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e,
                                      0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14 };
const uint8_t fixture_di_sha256[19] = { 0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
                                        0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20 };
const uint8_t fixture_di_sha512[19] = { 0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
                                        0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40 };

size_t fixture_emsa_t(const EVP_MD *md, const uint8_t *msg, size_t len, uint8_t *t)
{
    const uint8_t *di;
    size_t dl;
    switch (EVP_MD_get_type(md)) {
    case NID_sha1:
        di = fixture_di_sha1;
        dl = sizeof(fixture_di_sha1);
        break;
    case NID_sha256:
        di = fixture_di_sha256;
        dl = sizeof(fixture_di_sha256);
        break;
    case NID_sha512:
        di = fixture_di_sha512;
        dl = sizeof(fixture_di_sha512);
        break;
    default:
        cr_assert_fail("no DigestInfo here for %s", EVP_MD_get0_name(md));
        return 0;
    }
    memcpy(t, di, dl);
    return dl + fixture_digest(md, msg, len, t + dl);
}

size_t fixture_emsa_put(uint8_t *em, size_t k, const uint8_t *t, size_t tl)
{
    cr_assert_leq(tl + 11, k);
    size_t ps = k - 3 - tl;
    em[0] = 0x00;
    em[1] = 0x01;
    memset(em + 2, 0xff, ps);
    em[2 + ps] = 0x00;
    memcpy(em + 3 + ps, t, tl);
    return ps;
}

void fixture_rsa_raw_sign(EVP_PKEY *pk, const uint8_t *em, size_t k, uint8_t *sig)
{
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL);
    cr_assert_not_null(c);
    cr_assert_eq(EVP_PKEY_sign_init(c), 1);
    cr_assert_eq(EVP_PKEY_CTX_set_rsa_padding(c, RSA_NO_PADDING), 1);
    size_t len = k;
    cr_assert_eq(EVP_PKEY_sign(c, sig, &len, em, k), 1);
    cr_assert_eq(len, k);
    EVP_PKEY_CTX_free(c);
}

/* ---- the engine --------------------------------------------------------------------------- */

enum kf_offload_backend fixture_announce(const char *test)
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

struct kf_offload_engine *fixture_engine_new(const struct kf_offload_config *cfg)
{
    struct kf_offload_engine *e = NULL;
    kf_result r = kf_offload_engine_new(cfg, &e);
    cr_assert(kf_ok(r), "engine_new: %s", kf_err_name(r.code));
    cr_assert_not_null(e);
    cr_assert_eq(kf_offload_engine_backend(e), kf_offload_backend_default());
    if (cfg->workers > 0 && cfg->on_done == NULL) {
        cr_assert_geq(kf_offload_eventfd(e), 0, "poll mode without an eventfd");
    } else {
        cr_assert_eq(kf_offload_eventfd(e), -1);
    }
    return e;
}

void fixture_expect_lanes(const struct kf_offload_key *key, const char *what)
{
    if (kf_offload_backend_default() == KF_OFFLOAD_BACKEND_AVX512IFMA) {
        cr_assert(kf_offload_key_has_lanes(key),
                  "%s: no kernel precomputation under the avx512ifma backend", what);
    }
}

void fixture_check_stats(const char *what, const struct kf_offload_engine *e, uint64_t jobs,
                         struct kf_offload_stats *st)
{
    memset(st, 0xa5, sizeof(*st)); /* every field must be written */
    kf_offload_engine_stats(e, st);
    fprintf(stderr,
            "  %s: jobs %" PRIu64 ", lane jobs %" PRIu64 " in %" PRIu64
            " kernel calls, scalar jobs %" PRIu64 ", early jobs %" PRIu64
            ", deadline flushes %" PRIu64 "\n",
            what, st->jobs, st->lane_jobs, st->lane_calls, st->scalar_jobs, st->early_jobs,
            st->deadline_flushes);
    cr_assert_eq(st->jobs, jobs, "%s: stats count %" PRIu64 " jobs, %" PRIu64 " were run", what,
                 st->jobs, jobs);
    /* Jobs refused on their shape alone (length, s >= n) are early_jobs. */
    cr_assert_eq(st->lane_jobs + st->scalar_jobs + st->early_jobs, st->jobs,
                 "%s: lane %" PRIu64 " + scalar %" PRIu64 " + early %" PRIu64 " != jobs %" PRIu64,
                 what, st->lane_jobs, st->scalar_jobs, st->early_jobs, st->jobs);
    cr_assert_leq(st->lane_calls, st->lane_jobs);
}
