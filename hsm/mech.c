/* hsm/mech.c - digests, their PKCS#11 mechanisms, and the key-type names of the
 * CLI. */
#include "hsm/internal.h"

#include <pthread.h>
#include <string.h>

static const char *const key_type_names[KF_KEY_TYPE_COUNT] = {
    [KF_KEY_RSA2048] = "rsa2048", [KF_KEY_RSA3072] = "rsa3072", [KF_KEY_RSA4096] = "rsa4096",
    [KF_KEY_P256] = "p256",       [KF_KEY_P384] = "p384",       [KF_KEY_ED25519] = "ed25519",
    [KF_KEY_ED448] = "ed448",
};

const char *kf_hsm_key_type_name(enum kf_hsm_key_type t)
{
    return (unsigned)t < KF_KEY_TYPE_COUNT ? key_type_names[t] : "unknown";
}

KF_RESULT kf_hsm_key_type_parse(const char *name, enum kf_hsm_key_type *out)
{
    KF_ENSURE_REF(name);
    KF_ENSURE_REF(out);
    for (unsigned i = 0; i < KF_KEY_TYPE_COUNT; i++) {
        if (strcmp(name, key_type_names[i]) == 0) {
            *out = (enum kf_hsm_key_type)i;
            return KF_OK;
        }
    }
    kf_err_note_context("key type '%.32s' (use rsa2048, rsa3072, rsa4096, p256, p384, ed25519 "
                        "or ed448)",
                        name);
    KF_BAIL(KF_ERR_INVALID_ARG);
}

struct digest_row {
    enum kf_hsm_digest digest;
    size_t len;
    CK_MECHANISM_TYPE hash;
    CK_RSA_PKCS_MGF_TYPE mgf;
    const char *md_name;
};

static const struct digest_row digest_rows[] = {
    { KF_DIGEST_SHA1, 20, CKM_SHA_1, CKG_MGF1_SHA1, "SHA1" },
    { KF_DIGEST_SHA224, 28, CKM_SHA224, CKG_MGF1_SHA224, "SHA224" },
    { KF_DIGEST_SHA256, 32, CKM_SHA256, CKG_MGF1_SHA256, "SHA256" },
    { KF_DIGEST_SHA384, 48, CKM_SHA384, CKG_MGF1_SHA384, "SHA384" },
    { KF_DIGEST_SHA512, 64, CKM_SHA512, CKG_MGF1_SHA512, "SHA512" },
    { KF_DIGEST_NONE, 0, 0, 0, NULL }, /* sentinel */
};

static const struct digest_row *digest_row(enum kf_hsm_digest d)
{
    for (const struct digest_row *r = digest_rows; r->md_name != NULL; r++) {
        if (r->digest == d) {
            return r;
        }
    }
    return NULL;
}

size_t kf_hsm_digest_len(enum kf_hsm_digest d)
{
    const struct digest_row *r = digest_row(d);
    return r != NULL ? r->len : 0;
}

/* Digests fetched once for the process: an implicit fetch on every signature takes OpenSSL's
 * method-store lock on the hot path, and a lock held by another thread at fork() would stay
 * held in the child (OpenSSL 3.0 has no fork handlers). Global, written once under
 * pthread_once, read-only afterwards; never freed (they live as long as libcrypto). */
static EVP_MD *digest_fetched[6];
static pthread_once_t digest_once = PTHREAD_ONCE_INIT;

static void digest_fetch_all(void)
{
    for (const struct digest_row *r = digest_rows; r->md_name != NULL; r++) {
        digest_fetched[r->digest] = EVP_MD_fetch(NULL, r->md_name, KF_HSM_SW_PROPQ);
    }
}

const EVP_MD *kf_hsm_digest_md(enum kf_hsm_digest d)
{
    if ((unsigned)d >= sizeof(digest_fetched) / sizeof(digest_fetched[0])) {
        return NULL;
    }
    pthread_once(&digest_once, digest_fetch_all);
    return digest_fetched[d];
}

CK_MECHANISM_TYPE kf_hsm_digest_mech(enum kf_hsm_digest d)
{
    const struct digest_row *r = digest_row(d);
    return r != NULL ? r->hash : CK_UNAVAILABLE_INFORMATION;
}

CK_RSA_PKCS_MGF_TYPE kf_hsm_digest_mgf(enum kf_hsm_digest d)
{
    const struct digest_row *r = digest_row(d);
    return r != NULL ? r->mgf : 0;
}

const char *kf_hsm_mech_name(CK_MECHANISM_TYPE m)
{
    switch (m) {
    case CKM_RSA_PKCS:
        return "CKM_RSA_PKCS";
    case CKM_RSA_PKCS_PSS:
        return "CKM_RSA_PKCS_PSS";
    case CKM_RSA_PKCS_OAEP:
        return "CKM_RSA_PKCS_OAEP";
    case CKM_ECDSA:
        return "CKM_ECDSA";
    case CKM_EDDSA:
        return "CKM_EDDSA";
    case CKM_ECDH1_DERIVE:
        return "CKM_ECDH1_DERIVE";
    case CKM_RSA_PKCS_KEY_PAIR_GEN:
        return "CKM_RSA_PKCS_KEY_PAIR_GEN";
    case CKM_EC_KEY_PAIR_GEN:
        return "CKM_EC_KEY_PAIR_GEN";
    case CKM_EC_EDWARDS_KEY_PAIR_GEN:
        return "CKM_EC_EDWARDS_KEY_PAIR_GEN";
    case CKM_SHA1_RSA_PKCS:
        return "CKM_SHA1_RSA_PKCS";
    case CKM_SHA224_RSA_PKCS:
        return "CKM_SHA224_RSA_PKCS";
    case CKM_SHA256_RSA_PKCS:
        return "CKM_SHA256_RSA_PKCS";
    case CKM_SHA384_RSA_PKCS:
        return "CKM_SHA384_RSA_PKCS";
    case CKM_SHA512_RSA_PKCS:
        return "CKM_SHA512_RSA_PKCS";
    case CKM_SHA1_RSA_PKCS_PSS:
        return "CKM_SHA1_RSA_PKCS_PSS";
    case CKM_SHA224_RSA_PKCS_PSS:
        return "CKM_SHA224_RSA_PKCS_PSS";
    case CKM_SHA256_RSA_PKCS_PSS:
        return "CKM_SHA256_RSA_PKCS_PSS";
    case CKM_SHA384_RSA_PKCS_PSS:
        return "CKM_SHA384_RSA_PKCS_PSS";
    case CKM_SHA512_RSA_PKCS_PSS:
        return "CKM_SHA512_RSA_PKCS_PSS";
    case CKM_ECDSA_SHA1:
        return "CKM_ECDSA_SHA1";
    case CKM_ECDSA_SHA224:
        return "CKM_ECDSA_SHA224";
    case CKM_ECDSA_SHA256:
        return "CKM_ECDSA_SHA256";
    case CKM_ECDSA_SHA384:
        return "CKM_ECDSA_SHA384";
    case CKM_ECDSA_SHA512:
        return "CKM_ECDSA_SHA512";
    default:
        return "CKM_?";
    }
}
