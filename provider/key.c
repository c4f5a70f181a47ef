/* provider/key.c - the key data behind keyfort's keymgmt: a token key and its public copy, or a
 * software key held for the default provider (prov.h says why). */
#include "provider/prov.h"

#include <openssl/crypto.h>
#include <openssl/obj_mac.h>
#include <stdlib.h>
#include <string.h>

static int key_evp_type(const struct kf_hsm_key_info *info)
{
    switch (info->kind) {
    case KF_KIND_RSA:
        return EVP_PKEY_RSA;
    case KF_KIND_EC:
        return EVP_PKEY_EC;
    case KF_KIND_EDDSA:
        return info->nid == NID_ED25519 ? EVP_PKEY_ED25519 : EVP_PKEY_ED448;
    default:
        return EVP_PKEY_NONE;
    }
}

KF_RESULT kf_prov_key_new(struct kf_prov *prov, struct kf_hsm_key *hk, const char *pin_source,
                          struct kf_prov_key **out)
{
    KF_ENSURE_REF(hk);
    KF_ENSURE_REF(out);
    struct kf_hsm_key_info info;
    kf_result r = kf_hsm_key_get_info(hk, &info);
    EVP_PKEY *pub = NULL;
    if (kf_ok(r)) {
        /* A token key without a readable public half (an EC private key alone) is still
         * usable for signing when the application brings the certificate; pub stays NULL. */
        if (!kf_ok(kf_hsm_key_public(hk, &pub))) {
            pub = NULL;
        }
    }
    struct kf_prov_key *k = kf_ok(r) ? calloc(1, sizeof(*k)) : NULL;
    if (k != NULL && pin_source != NULL && (k->pin_source = strdup(pin_source)) == NULL) {
        free(k);
        k = NULL;
    }
    if (k == NULL) {
        EVP_PKEY_free(pub);
        kf_hsm_key_unref(hk);
        KF_GUARD(r);
        KF_BAIL(KF_ERR_NOMEM);
    }
    atomic_init(&k->refs, 1);
    pthread_mutex_init(&k->ir_lock, NULL);
    k->prov = prov;
    k->hk = hk;
    k->pub = pub;
    k->evp_type = key_evp_type(&info);
    *out = k;
    return KF_OK;
}

KF_RESULT kf_prov_key_new_soft(struct kf_prov *prov, int evp_type, EVP_PKEY *sw,
                               struct kf_prov_key **out)
{
    KF_ENSURE_REF(out);
    struct kf_prov_key *k = calloc(1, sizeof(*k));
    if (k == NULL) {
        EVP_PKEY_free(sw);
        KF_BAIL(KF_ERR_NOMEM);
    }
    atomic_init(&k->refs, 1);
    pthread_mutex_init(&k->ir_lock, NULL);
    k->prov = prov;
    k->pub = sw;
    k->evp_type = evp_type;
    *out = k;
    return KF_OK;
}

const char *kf_prov_alg_name(int evp_type)
{
    switch (evp_type) {
    case EVP_PKEY_RSA:
        return "RSA";
    case EVP_PKEY_EC:
        return "EC";
    case EVP_PKEY_ED25519:
        return "ED25519";
    case EVP_PKEY_ED448:
        return "ED448";
    default:
        return NULL;
    }
}

struct kf_prov_key *kf_prov_key_ref(struct kf_prov_key *k)
{
    if (k != NULL) {
        atomic_fetch_add(&k->refs, 1);
    }
    return k;
}

void kf_prov_key_unref(struct kf_prov_key *k)
{
    if (k == NULL || atomic_fetch_sub(&k->refs, 1) != 1) {
        return;
    }
    EVP_PKEY_free(k->pub);
    kf_hsm_key_unref(k->hk);
    free(k->pin_source);
    OPENSSL_cleanse(k->ir_secret, sizeof(k->ir_secret));
    pthread_mutex_destroy(&k->ir_lock);
    free(k);
}
