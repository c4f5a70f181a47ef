/* provider/digest.c - the digest names keyfort accepts from OpenSSL, and hsm/'s digest enum. */
#include "provider/prov.h"

#include <strings.h>

static const struct {
    const char *name;
    enum kf_hsm_digest digest;
} prov_digests[] = {
    { "SHA1", KF_DIGEST_SHA1 },     { "SHA-1", KF_DIGEST_SHA1 },
    { "SHA224", KF_DIGEST_SHA224 }, { "SHA2-224", KF_DIGEST_SHA224 },
    { "SHA256", KF_DIGEST_SHA256 }, { "SHA2-256", KF_DIGEST_SHA256 },
    { "SHA384", KF_DIGEST_SHA384 }, { "SHA2-384", KF_DIGEST_SHA384 },
    { "SHA512", KF_DIGEST_SHA512 }, { "SHA2-512", KF_DIGEST_SHA512 },
    { NULL, KF_DIGEST_NONE },
};

KF_RESULT kf_prov_digest_of(const char *name, enum kf_hsm_digest *out)
{
    for (size_t i = 0; prov_digests[i].name != NULL; i++) {
        if (strcasecmp(name, prov_digests[i].name) == 0) {
            *out = prov_digests[i].digest;
            return KF_OK;
        }
    }
    kf_err_note_context("digest '%.32s' (SHA-1 and SHA-2 only)", name);
    KF_BAIL(KF_ERR_UNSUPPORTED);
}

const char *kf_prov_digest_name(enum kf_hsm_digest d)
{
    for (size_t i = 0; prov_digests[i].name != NULL; i++) {
        if (prov_digests[i].digest == d) {
            return prov_digests[i].name;
        }
    }
    return NULL;
}

const EVP_MD *kf_prov_md(struct kf_prov *prov, enum kf_hsm_digest d)
{
    if (d <= KF_DIGEST_NONE || d > KF_DIGEST_SHA512) {
        return NULL;
    }
    EVP_MD *md = atomic_load_explicit(&prov->mds[d], memory_order_acquire);
    if (md != NULL) {
        return md;
    }
    EVP_MD *fresh = EVP_MD_fetch(prov->libctx, kf_prov_digest_name(d), KF_PROV_SW_PROPQ);
    if (fresh == NULL) {
        return NULL;
    }
    EVP_MD *expected = NULL;
    if (!atomic_compare_exchange_strong(&prov->mds[d], &expected, fresh)) {
        EVP_MD_free(fresh); /* another thread was first */
        return expected;
    }
    return fresh;
}
