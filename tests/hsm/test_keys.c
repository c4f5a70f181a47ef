/* tests/hsm/test_keys.c - every key type on a fresh SoftHSM2 token: generate,
 * sign on the token, verify in software; RSA decryption, ECDH, import; private
 * parts unreadable. */
#include "tests/hsm/token_fixture.h"
#include "tests/hsm/verify_util.h"

#include "hsm/hsm.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <openssl/core_names.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <string.h>

static struct kf_test_token tok;
static struct kf_hsm_token *token;

static void setup(void)
{
    kf_test_token_setup(&tok, KF_TEST_TOKEN_LABEL);
    struct kf_hsm_uri *uri = NULL;
    cr_assert(kf_ok(kf_hsm_uri_parse(tok.uri, &uri)));
    struct kf_hsm_open_opts opts = { .pin_file = tok.pin_file };
    kf_result r = kf_hsm_token_open(uri, &opts, &token);
    kf_hsm_uri_free(uri);
    char msg[600];
    cr_assert(kf_ok(r), "open: %s", kf_err_describe(msg, sizeof(msg)));
}

static void teardown(void)
{
    kf_hsm_token_unref(token);
    token = NULL;
    kf_test_token_teardown(&tok);
}

static struct kf_hsm_key *gen(enum kf_hsm_key_type type, const char *label)
{
    struct kf_hsm_key *k = NULL;
    kf_result r = kf_hsm_keygen(token, type, label, NULL, 0, &k);
    char msg[600];
    cr_assert(kf_ok(r), "keygen %s: %s", kf_hsm_key_type_name(type),
              kf_err_describe(msg, sizeof(msg)));
    return k;
}

static const uint8_t message[] = "SP 1800-6: DNS-based e-mail security";

struct sig_case {
    enum kf_hsm_key_type type;
    struct kf_hsm_sig_params params;
};

ParameterizedTestParameters(keys, sign_verify)
{
    static struct sig_case cases[] = {
        { KF_KEY_RSA2048, { KF_SIG_RSA_PKCS, KF_DIGEST_SHA256, false, KF_DIGEST_NONE, -1 } },
        { KF_KEY_RSA2048, { KF_SIG_RSA_PKCS, KF_DIGEST_SHA1, false, KF_DIGEST_NONE, -1 } },
        { KF_KEY_RSA2048, { KF_SIG_RSA_PKCS, KF_DIGEST_SHA384, true, KF_DIGEST_NONE, -1 } },
        { KF_KEY_RSA2048, { KF_SIG_RSA_PSS, KF_DIGEST_SHA256, false, KF_DIGEST_NONE, -1 } },
        { KF_KEY_RSA2048, { KF_SIG_RSA_PSS, KF_DIGEST_SHA512, true, KF_DIGEST_SHA512, 20 } },
        { KF_KEY_RSA2048, { KF_SIG_RSA_PSS, KF_DIGEST_SHA256, true, KF_DIGEST_SHA256, 0 } },
        { KF_KEY_RSA3072, { KF_SIG_RSA_PKCS, KF_DIGEST_SHA512, false, KF_DIGEST_NONE, -1 } },
        { KF_KEY_RSA4096, { KF_SIG_RSA_PSS, KF_DIGEST_SHA384, false, KF_DIGEST_NONE, -1 } },
        { KF_KEY_P256, { KF_SIG_ECDSA, KF_DIGEST_SHA256, false, KF_DIGEST_NONE, -1 } },
        { KF_KEY_P256, { KF_SIG_ECDSA, KF_DIGEST_SHA256, true, KF_DIGEST_NONE, -1 } },
        { KF_KEY_P384, { KF_SIG_ECDSA, KF_DIGEST_SHA384, false, KF_DIGEST_NONE, -1 } },
        { KF_KEY_P384, { KF_SIG_ECDSA, KF_DIGEST_SHA224, false, KF_DIGEST_NONE, -1 } },
        { KF_KEY_ED25519, { KF_SIG_EDDSA, KF_DIGEST_NONE, false, KF_DIGEST_NONE, -1 } },
        { KF_KEY_ED448, { KF_SIG_EDDSA, KF_DIGEST_NONE, false, KF_DIGEST_NONE, -1 } },
    };
    return cr_make_param_array(struct sig_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct sig_case *c, keys, sign_verify, .init = setup, .fini = teardown,
                  .timeout = 120)
{
    struct kf_hsm_key *k = gen(c->type, "signer");
    const struct kf_hsm_sig_params *p = &c->params;
    uint8_t digest[64];
    const uint8_t *in = message;
    size_t in_len = sizeof(message);
    if (p->prehashed) {
        unsigned int n = 0;
        cr_assert_eq(
            EVP_Digest(message, sizeof(message), digest, &n, kf_hsm_digest_md(p->digest), NULL), 1);
        in = digest;
        in_len = n;
    }
    cr_assert_eq(kf_test_sign_verify(k, p, in, in_len), 1,
                 "%s scheme %d digest %d prehashed %d: signature did not verify",
                 kf_hsm_key_type_name(c->type), p->scheme, p->digest, p->prehashed);

    /* The check is real: a changed message must fail under the same signature. */
    uint8_t sig[1024];
    size_t sig_len = 0;
    cr_assert(kf_ok(kf_hsm_sign(k, p, in, in_len, sig, sizeof(sig), &sig_len)));
    EVP_PKEY *pub = NULL;
    cr_assert(kf_ok(kf_hsm_key_public(k, &pub)));
    uint8_t other[sizeof(digest)];
    memcpy(other, in, in_len);
    other[0] ^= 0x01;
    cr_assert_eq(kf_test_verify(pub, p, other, in_len, sig, sig_len), 0);
    EVP_PKEY_free(pub);

    struct kf_hsm_key_info info;
    cr_assert(kf_ok(kf_hsm_key_get_info(k, &info)));
    cr_assert(info.has_private && info.has_public);
    cr_assert_str_eq(info.label, "signer");
    cr_assert_eq(info.id_len, 16);
    kf_hsm_key_unref(k);
}

Test(keys, refused_requests, .init = setup, .fini = teardown)
{
    struct kf_hsm_key *rsa = gen(KF_KEY_RSA2048, "rsa");
    struct kf_hsm_key *ed = gen(KF_KEY_ED25519, "ed");
    uint8_t sig[512];
    size_t sig_len = 0;
    uint8_t digest[32] = { 0 };
    /* MGF1 digest other than the message digest: refused, never signed wrongly. */
    struct kf_hsm_sig_params pss = { KF_SIG_RSA_PSS, KF_DIGEST_SHA256, true, KF_DIGEST_SHA1, 0 };
    kf_result r = kf_hsm_sign(rsa, &pss, digest, sizeof(digest), sig, sizeof(sig), &sig_len);
    cr_assert_eq(r.code, KF_ERR_UNSUPPORTED);
    /* A scheme that does not fit the key. */
    struct kf_hsm_sig_params ecdsa = { KF_SIG_ECDSA, KF_DIGEST_SHA256, false, KF_DIGEST_NONE, -1 };
    r = kf_hsm_sign(ed, &ecdsa, message, sizeof(message), sig, sizeof(sig), &sig_len);
    cr_assert_eq(r.code, KF_ERR_UNSUPPORTED);
    /* A buffer too small is refused before the token is asked. */
    struct kf_hsm_sig_params pkcs1 = { KF_SIG_RSA_PKCS, KF_DIGEST_SHA256, false, KF_DIGEST_NONE,
                                       -1 };
    r = kf_hsm_sign(rsa, &pkcs1, message, sizeof(message), sig, 255, &sig_len);
    cr_assert_eq(r.code, KF_ERR_BUFFER_TOO_SMALL);
    /* The size query. */
    cr_assert(kf_ok(kf_hsm_sign(rsa, &pkcs1, message, sizeof(message), NULL, 0, &sig_len)));
    cr_assert_eq(sig_len, 256);
    /* A prehashed digest of the wrong length. */
    struct kf_hsm_sig_params pre = { KF_SIG_RSA_PKCS, KF_DIGEST_SHA256, true, KF_DIGEST_NONE, -1 };
    r = kf_hsm_sign(rsa, &pre, digest, 20, sig, sizeof(sig), &sig_len);
    cr_assert_eq(r.code, KF_ERR_INVALID_ARG);
    kf_hsm_key_unref(rsa);
    kf_hsm_key_unref(ed);
}

Test(keys, key_find_by_uri_and_public_matches, .init = setup, .fini = teardown)
{
    struct kf_hsm_key *k = gen(KF_KEY_P256, "findme");
    char uri_text[600];
    snprintf(uri_text, sizeof(uri_text), "%s;object=findme;type=private", tok.uri);
    struct kf_hsm_uri *uri = NULL;
    cr_assert(kf_ok(kf_hsm_uri_parse(uri_text, &uri)));
    struct kf_hsm_key *found = NULL;
    cr_assert(kf_ok(kf_hsm_key_find(token, uri, &found)));
    kf_hsm_uri_free(uri);
    EVP_PKEY *a = NULL;
    EVP_PKEY *b = NULL;
    cr_assert(kf_ok(kf_hsm_key_public(k, &a)));
    cr_assert(kf_ok(kf_hsm_key_public(found, &b)));
    cr_assert_eq(EVP_PKEY_eq(a, b), 1);
    char *key_uri = NULL;
    cr_assert(kf_ok(kf_hsm_key_uri(found, &key_uri)));
    cr_assert(strstr(key_uri, "object=findme") != NULL, "%s", key_uri);
    cr_assert(strstr(key_uri, "token=" KF_TEST_TOKEN_LABEL) != NULL, "%s", key_uri);
    free(key_uri);
    EVP_PKEY_free(a);
    EVP_PKEY_free(b);
    kf_hsm_key_unref(found);
    kf_hsm_key_unref(k);
}

Test(keys, private_parts_cannot_be_read, .init = setup, .fini = teardown, .timeout = 60)
{
    struct kf_hsm_key *rsa = gen(KF_KEY_RSA2048, "rsa");
    struct kf_hsm_key *ec = gen(KF_KEY_P256, "ec");
    CK_FUNCTION_LIST *fl = kf_hsm_token_functions(token);
    struct kf_hsm_session *s = NULL;
    cr_assert(kf_ok(kf_hsm_session_acquire(token, &s)));
    CK_SESSION_HANDLE h = kf_hsm_session_handle(s);
    static const struct {
        const char *label;
        CK_ATTRIBUTE_TYPE attr;
    } probes[] = { { "rsa", CKA_PRIVATE_EXPONENT }, { "rsa", CKA_PRIME_1 }, { "ec", CKA_VALUE } };
    for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
        CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
        CK_ATTRIBUTE tmpl[] = { { CKA_CLASS, &cls, sizeof(cls) },
                                { CKA_LABEL, (void *)probes[i].label, strlen(probes[i].label) } };
        CK_OBJECT_HANDLE obj;
        CK_ULONG n = 0;
        cr_assert_eq(fl->C_FindObjectsInit(h, tmpl, 2), CKR_OK);
        cr_assert_eq(fl->C_FindObjects(h, &obj, 1, &n), CKR_OK);
        cr_assert_eq(fl->C_FindObjectsFinal(h), CKR_OK);
        cr_assert_eq(n, 1);
        uint8_t buf[1024];
        CK_ATTRIBUTE get = { probes[i].attr, buf, sizeof(buf) };
        CK_RV rv = fl->C_GetAttributeValue(h, obj, &get, 1);
        cr_assert_eq(rv, CKR_ATTRIBUTE_SENSITIVE, "attribute 0x%lx readable (rv 0x%lx)",
                     (unsigned long)probes[i].attr, (unsigned long)rv);
        CK_BBOOL sensitive = CK_FALSE;
        CK_BBOOL extractable = CK_TRUE;
        CK_BBOOL never_extractable = CK_FALSE;
        CK_ATTRIBUTE flags[] = { { CKA_SENSITIVE, &sensitive, sizeof(sensitive) },
                                 { CKA_EXTRACTABLE, &extractable, sizeof(extractable) },
                                 { CKA_NEVER_EXTRACTABLE, &never_extractable,
                                   sizeof(never_extractable) } };
        cr_assert_eq(fl->C_GetAttributeValue(h, obj, flags, 3), CKR_OK);
        cr_assert_eq(sensitive, CK_TRUE);
        cr_assert_eq(extractable, CK_FALSE);
        cr_assert_eq(never_extractable, CK_TRUE);
    }
    kf_hsm_session_release(token, s, (kf_result){ 0 });
    kf_hsm_key_unref(rsa);
    kf_hsm_key_unref(ec);
}

static size_t encrypt_sw(EVP_PKEY *pub, int padding, const uint8_t *in, size_t in_len, uint8_t *out,
                         size_t cap)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(pub, NULL);
    cr_assert_eq(EVP_PKEY_encrypt_init(ctx), 1);
    cr_assert_eq(EVP_PKEY_CTX_set_rsa_padding(ctx, padding), 1);
    size_t n = cap;
    cr_assert_eq(EVP_PKEY_encrypt(ctx, out, &n, in, in_len), 1);
    EVP_PKEY_CTX_free(ctx);
    return n;
}

Test(keys, rsa_decrypt_pkcs1_and_oaep, .init = setup, .fini = teardown, .timeout = 60)
{
    struct kf_hsm_key *k = gen(KF_KEY_RSA2048, "decrypter");
    EVP_PKEY *pub = NULL;
    cr_assert(kf_ok(kf_hsm_key_public(k, &pub)));
    static const uint8_t secret[] = "session key material 0123456789";
    uint8_t ct[512];
    uint8_t pt[512];
    size_t pt_len = 0;

    size_t ct_len = encrypt_sw(pub, RSA_PKCS1_PADDING, secret, sizeof(secret), ct, sizeof(ct));
    struct kf_hsm_dec_params pkcs1 = { .scheme = KF_ENC_RSA_PKCS };
    cr_assert(kf_ok(kf_hsm_decrypt(k, &pkcs1, ct, ct_len, pt, sizeof(pt), &pt_len)));
    cr_assert_eq(pt_len, sizeof(secret));
    cr_assert_arr_eq(pt, secret, sizeof(secret));

    ct_len = encrypt_sw(pub, RSA_PKCS1_OAEP_PADDING, secret, sizeof(secret), ct, sizeof(ct));
    struct kf_hsm_dec_params oaep = { .scheme = KF_ENC_RSA_OAEP };
    cr_assert(kf_ok(kf_hsm_decrypt(k, &oaep, ct, ct_len, pt, sizeof(pt), &pt_len)));
    cr_assert_eq(pt_len, sizeof(secret));
    cr_assert_arr_eq(pt, secret, sizeof(secret));

    /* A damaged ciphertext is refused by the token, not decrypted into garbage.
     */
    ct[ct_len / 2] ^= 0x40;
    kf_result r = kf_hsm_decrypt(k, &oaep, ct, ct_len, pt, sizeof(pt), &pt_len);
    cr_assert_not(kf_ok(r));
    cr_assert_eq(r.code, KF_ERR_DECRYPT, "%s", kf_err_name(r.code));
    EVP_PKEY_free(pub);
    kf_hsm_key_unref(k);
}

ParameterizedTestParameters(keys, ecdh_matches_software)
{
    static enum kf_hsm_key_type types[] = { KF_KEY_P256, KF_KEY_P384 };
    return cr_make_param_array(enum kf_hsm_key_type, types, 2);
}

ParameterizedTest(enum kf_hsm_key_type *type, keys, ecdh_matches_software, .init = setup,
                  .fini = teardown)
{
    struct kf_hsm_key *k = gen(*type, "agree");
    EVP_PKEY *token_pub = NULL;
    cr_assert(kf_ok(kf_hsm_key_public(k, &token_pub)));
    /* A software peer on the same curve. */
    EVP_PKEY *peer = EVP_PKEY_Q_keygen(NULL, NULL, "EC", *type == KF_KEY_P256 ? "P-256" : "P-384");
    cr_assert_not_null(peer);
    uint8_t peer_point[200];
    size_t peer_len = 0;
    cr_assert_eq(EVP_PKEY_get_octet_string_param(peer, OSSL_PKEY_PARAM_PUB_KEY, peer_point,
                                                 sizeof(peer_point), &peer_len),
                 1);
    uint8_t on_token[64];
    size_t on_token_len = 0;
    char msg[600];
    cr_assert(kf_ok(kf_hsm_derive_ecdh(k, peer_point, peer_len, on_token, sizeof(on_token),
                                       &on_token_len)),
              "%s", kf_err_describe(msg, sizeof(msg)));
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(peer, NULL);
    cr_assert_eq(EVP_PKEY_derive_init(ctx), 1);
    cr_assert_eq(EVP_PKEY_derive_set_peer(ctx, token_pub), 1);
    uint8_t in_sw[64];
    size_t in_sw_len = sizeof(in_sw);
    cr_assert_eq(EVP_PKEY_derive(ctx, in_sw, &in_sw_len), 1);
    cr_assert_eq(on_token_len, in_sw_len);
    cr_assert_arr_eq(on_token, in_sw, in_sw_len);
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(peer);
    EVP_PKEY_free(token_pub);
    kf_hsm_key_unref(k);
}

struct import_case {
    char alg[16];
};

ParameterizedTestParameters(keys, import_pem)
{
    /* Values, not pointers: Criterion runs each test in a new process image. */
    static struct import_case cases[] = {
        { "RSA" }, { "P-256" }, { "P-384" }, { "ED25519" }, { "ED448" }
    };
    return cr_make_param_array(struct import_case, cases, 5);
}

ParameterizedTest(struct import_case *c, keys, import_pem, .init = setup, .fini = teardown)
{
    const char *const *alg = &(const char *){ c->alg };
    EVP_PKEY *sw = NULL;
    if (strcmp(*alg, "RSA") == 0) {
        sw = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    } else if (strncmp(*alg, "P-", 2) == 0) {
        sw = EVP_PKEY_Q_keygen(NULL, NULL, "EC", *alg);
    } else {
        sw = EVP_PKEY_Q_keygen(NULL, NULL, *alg);
    }
    cr_assert_not_null(sw);
    char path[400];
    snprintf(path, sizeof(path), "%s/import.pem", tok.dir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    cr_assert_eq(PEM_write_PrivateKey(f, sw, NULL, NULL, 0, NULL, NULL), 1);
    fclose(f);
    struct kf_hsm_key *k = NULL;
    char msg[600];
    cr_assert(kf_ok(kf_hsm_key_import_pem(token, path, "imported", NULL, 0, &k)), "%s",
              kf_err_describe(msg, sizeof(msg)));
    EVP_PKEY *pub = NULL;
    cr_assert(kf_ok(kf_hsm_key_public(k, &pub)));
    cr_assert_eq(EVP_PKEY_eq(pub, sw), 1, "imported public key differs");
    struct kf_hsm_key_info info;
    cr_assert(kf_ok(kf_hsm_key_get_info(k, &info)));
    struct kf_hsm_sig_params p = { .pss_salt_len = -1 };
    p.scheme = info.kind == KF_KIND_RSA  ? KF_SIG_RSA_PKCS
               : info.kind == KF_KIND_EC ? KF_SIG_ECDSA
                                         : KF_SIG_EDDSA;
    p.digest = info.kind == KF_KIND_EDDSA ? KF_DIGEST_NONE : KF_DIGEST_SHA256;
    uint8_t sig[1024];
    size_t sig_len = 0;
    cr_assert(kf_ok(kf_hsm_sign(k, &p, message, sizeof(message), sig, sizeof(sig), &sig_len)));
    /* Verified with the original software key: the token holds the same private
     * key. */
    cr_assert_eq(kf_test_verify(sw, &p, message, sizeof(message), sig, sig_len), 1);

    /* Imported keys obey the custody rule too. */
    struct kf_hsm_uri *uri = NULL;
    cr_assert(kf_ok(kf_hsm_uri_parse("pkcs11:object=imported;type=private", &uri)));
    struct kf_hsm_object_info *objs = NULL;
    size_t n = 0;
    cr_assert(kf_ok(kf_hsm_object_list(token, uri, &objs, &n)));
    cr_assert_eq(n, 1);
    cr_assert(objs[0].sensitive);
    cr_assert_not(objs[0].extractable);
    free(objs);
    kf_hsm_uri_free(uri);

    /* A second import under the same label is refused: it would make the URI
     * ambiguous. */
    struct kf_hsm_key *again = NULL;
    kf_result r = kf_hsm_key_import_pem(token, path, "imported", NULL, 0, &again);
    cr_assert_eq(r.code, KF_ERR_OBJECT_EXISTS);
    cr_assert(strstr(kf_err_describe(msg, sizeof(msg)), "already exists") != NULL, "%s", msg);
    EVP_PKEY_free(pub);
    EVP_PKEY_free(sw);
    kf_hsm_key_unref(k);
}

Test(keys, import_rejects_bad_files, .init = setup, .fini = teardown)
{
    char path[400];
    snprintf(path, sizeof(path), "%s/garbage.pem", tok.dir);
    FILE *f = fopen(path, "w");
    fputs("-----BEGIN PRIVATE KEY-----\nnot base64 at all\n-----END PRIVATE "
          "KEY-----\n",
          f);
    fclose(f);
    struct kf_hsm_key *k = NULL;
    char msg[600];
    kf_result r = kf_hsm_key_import_pem(token, path, "bad", NULL, 0, &k);
    cr_assert_eq(r.code, KF_ERR_BAD_KEY_FILE, "%s", kf_err_name(r.code));
    cr_assert(strstr(kf_err_describe(msg, sizeof(msg)), "garbage.pem") != NULL, "%s", msg);
    snprintf(path, sizeof(path), "%s/missing.pem", tok.dir);
    r = kf_hsm_key_import_pem(token, path, "bad", NULL, 0, &k);
    cr_assert_eq(r.code, KF_ERR_FILE_OPEN);
    cr_assert(strstr(kf_err_describe(msg, sizeof(msg)), "No such file") != NULL, "%s", msg);
    /* Nothing was left on the token by the failed imports. */
    struct kf_hsm_object_info *objs = NULL;
    size_t n = 99;
    cr_assert(kf_ok(kf_hsm_object_list(token, NULL, &objs, &n)));
    cr_assert_eq(n, 0);
    free(objs);
}

Test(keys, list_and_delete, .init = setup, .fini = teardown)
{
    struct kf_hsm_key *a = gen(KF_KEY_ED25519, "alpha");
    struct kf_hsm_key *b = gen(KF_KEY_P256, "beta");
    struct kf_hsm_object_info *objs = NULL;
    size_t n = 0;
    cr_assert(kf_ok(kf_hsm_object_list(token, NULL, &objs, &n)));
    cr_assert_eq(n, 4); /* two pairs */
    int privates = 0;
    for (size_t i = 0; i < n; i++) {
        if (objs[i].cls == CKO_PRIVATE_KEY) {
            privates++;
            cr_assert(objs[i].is_private && objs[i].sensitive && !objs[i].extractable);
        }
        cr_assert(strcmp(kf_hsm_object_alg_name(&objs[i]), "ed25519") == 0 ||
                  strcmp(kf_hsm_object_alg_name(&objs[i]), "p256") == 0);
    }
    cr_assert_eq(privates, 2);
    free(objs);
    struct kf_hsm_uri *uri = NULL;
    cr_assert(kf_ok(kf_hsm_uri_parse("pkcs11:object=alpha", &uri)));
    size_t deleted = 0;
    cr_assert(kf_ok(kf_hsm_object_delete(token, uri, &deleted)));
    cr_assert_eq(deleted, 2);
    cr_assert(kf_ok(kf_hsm_object_list(token, NULL, &objs, &n)));
    cr_assert_eq(n, 2);
    cr_assert_str_eq(objs[0].label, "beta");
    free(objs);
    /* Signing with the deleted key: the cached handle is stale
     * (CKR_OBJECT_HANDLE_INVALID), the search again finds nothing. */
    struct kf_hsm_sig_params p = { KF_SIG_EDDSA, KF_DIGEST_NONE, false, KF_DIGEST_NONE, -1 };
    uint8_t sig[128];
    size_t sig_len = 0;
    kf_result r = kf_hsm_sign(a, &p, message, sizeof(message), sig, sizeof(sig), &sig_len);
    cr_assert_eq(r.code, KF_ERR_OBJECT_NOT_FOUND, "%s", kf_err_name(r.code));
    /* A URI naming only the token deletes nothing. */
    kf_hsm_uri_free(uri);
    cr_assert(kf_ok(kf_hsm_uri_parse(tok.uri, &uri)));
    r = kf_hsm_object_delete(token, uri, &deleted);
    cr_assert_eq(r.code, KF_ERR_INVALID_ARG);
    kf_hsm_uri_free(uri);
    kf_hsm_key_unref(a);
    kf_hsm_key_unref(b);
}
