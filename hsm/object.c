/* hsm/object.c - finding keys by URI, the handle cache, listing and deleting
 * objects. */
#include "hsm/ck_call.h"

#include "common/kf_log.h"

#include <openssl/obj_mac.h>
#include <p11-kit/uri.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Enough for any object count a URI should match; more are counted, not stored.
 */
#define OBJECT_FIND_MAX 256

KF_RESULT kf_hsm_find(struct kf_hsm_token *t, CK_SESSION_HANDLE s, CK_ATTRIBUTE *tmpl, CK_ULONG n,
                      CK_OBJECT_HANDLE *out, size_t max, size_t *out_count)
{
    CK_ULONG count = 0;
    KF_GUARD(kf_ck_find_objects(t->mod, s, tmpl, n, out, max, &count));
    *out_count = count;
    return KF_OK;
}

/* Search template for one class of the key: its id when it has one, else its
 * label. */
/* Searches look at token objects only: the session-object copies of the fast path
 * (session.c) carry the same label and id and must never make a key look ambiguous. Never
 * written (PKCS#11 templates take a non-const pointer). */
static CK_BBOOL object_on_token = CK_TRUE;
#define OBJECT_TEMPLATE_MAX 4

static CK_ULONG key_template(struct kf_hsm_key *k, CK_OBJECT_CLASS *cls, CK_ATTRIBUTE *tmpl)
{
    CK_ULONG n = 0;
    tmpl[n++] = (CK_ATTRIBUTE){ CKA_TOKEN, &object_on_token, sizeof(object_on_token) };
    tmpl[n++] = (CK_ATTRIBUTE){ CKA_CLASS, cls, sizeof(*cls) };
    if (k->id_len > 0) {
        tmpl[n++] = (CK_ATTRIBUTE){ CKA_ID, k->id, k->id_len };
    }
    if (k->label[0] != '\0') {
        tmpl[n++] = (CK_ATTRIBUTE){ CKA_LABEL, k->label, strlen(k->label) };
    }
    return n;
}

static KF_RESULT key_search(struct kf_hsm_key *k, CK_SESSION_HANDLE s, CK_OBJECT_CLASS cls,
                            CK_OBJECT_HANDLE *out)
{
    CK_ATTRIBUTE tmpl[OBJECT_TEMPLATE_MAX];
    CK_ULONG n = key_template(k, &cls, tmpl);
    CK_OBJECT_HANDLE found[2];
    size_t count = 0;
    KF_GUARD(kf_hsm_find(k->tok, s, tmpl, n, found, 2, &count));
    if (count == 0) {
        kf_err_note_context("the key is no longer on the token");
        KF_BAIL(KF_ERR_OBJECT_NOT_FOUND);
    }
    if (count > 1) {
        kf_err_note_context("the key now matches %zu objects", count);
        KF_BAIL(KF_ERR_OBJECT_AMBIGUOUS);
    }
    *out = found[0];
    return KF_OK;
}

KF_RESULT kf_hsm_key_handle(struct kf_hsm_key *k, CK_SESSION_HANDLE s, bool want_private,
                            CK_OBJECT_HANDLE *out)
{
    KF_ENSURE_REF(k);
    KF_ENSURE_REF(out);
    uint64_t gen = kf_hsm_fork_gen();
    if (atomic_load_explicit(&k->handle_gen, memory_order_acquire) == gen) {
        *out = want_private ? atomic_load_explicit(&k->priv_h, memory_order_relaxed)
                            : atomic_load_explicit(&k->pub_h, memory_order_relaxed);
        return KF_OK;
    }
    /* Handles are per application (PKCS#11 s4.4.1): search again after a fork or
     * after the token said CKR_OBJECT_HANDLE_INVALID. */
    CK_OBJECT_HANDLE priv = CK_INVALID_HANDLE;
    CK_OBJECT_HANDLE pub = CK_INVALID_HANDLE;
    /* The half the caller needs must be there; the other one is optional (a public object
     * deleted after the pair was made must not stop the private key from signing). */
    if (k->has_private) {
        kf_result r = key_search(k, s, CKO_PRIVATE_KEY, &priv);
        if (want_private) {
            KF_GUARD(r);
        }
    }
    if (k->has_public) {
        kf_result r = key_search(k, s, CKO_PUBLIC_KEY, &pub);
        if (!want_private) {
            KF_GUARD(r);
        }
    }
    atomic_store_explicit(&k->priv_h, priv, memory_order_relaxed);
    atomic_store_explicit(&k->pub_h, pub, memory_order_relaxed);
    atomic_store_explicit(&k->handle_gen, gen, memory_order_release);
    *out = want_private ? priv : pub;
    return KF_OK;
}

void kf_hsm_key_invalidate(struct kf_hsm_key *k)
{
    atomic_store_explicit(&k->handle_gen, 0, memory_order_release);
}

static CK_OBJECT_CLASS object_class_of(enum kf_hsm_obj_type t)
{
    switch (t) {
    case KF_OBJ_PRIVATE:
        return CKO_PRIVATE_KEY;
    case KF_OBJ_PUBLIC:
        return CKO_PUBLIC_KEY;
    case KF_OBJ_CERT:
        return CKO_CERTIFICATE;
    case KF_OBJ_SECRET_KEY:
        return CKO_SECRET_KEY;
    case KF_OBJ_DATA:
        return CKO_DATA;
    case KF_OBJ_ANY:
    default:
        return (CK_OBJECT_CLASS)-1;
    }
}

/* Template from a URI's object part (label, id, class). */
static CK_ULONG uri_template(const struct kf_hsm_uri *uri, CK_OBJECT_CLASS *cls, CK_ATTRIBUTE *tmpl)
{
    CK_ULONG n = 0;
    tmpl[n++] = (CK_ATTRIBUTE){ CKA_TOKEN, &object_on_token, sizeof(object_on_token) };
    if (uri == NULL) {
        return n;
    }
    if (kf_hsm_uri_object(uri) != NULL) {
        const char *label = kf_hsm_uri_object(uri);
        tmpl[n++] = (CK_ATTRIBUTE){ CKA_LABEL, (void *)label, strlen(label) };
    }
    if (kf_hsm_uri_has_id(uri)) {
        size_t id_len = 0;
        const uint8_t *id = kf_hsm_uri_id(uri, &id_len);
        tmpl[n++] = (CK_ATTRIBUTE){ CKA_ID, (void *)id, id_len };
    }
    if (*cls != (CK_OBJECT_CLASS)-1) {
        tmpl[n++] = (CK_ATTRIBUTE){ CKA_CLASS, cls, sizeof(*cls) };
    }
    return n;
}

struct obj_attrs {
    CK_OBJECT_CLASS cls;
    CK_KEY_TYPE key_type;
    CK_BBOOL is_private, sensitive, extractable;
    char label[129];
    uint8_t id[64];
    uint8_t ec_params[64];
    uint8_t modulus[1024];
    uint8_t exponent[16];
    CK_ULONG label_len, id_len, ec_params_len, modulus_len, exponent_len;
    bool have_private, have_sensitive, have_extractable;
};

/* Read what list and find need from one object; absent attributes stay absent.
 */
static KF_RESULT object_read(struct kf_hsm_token *t, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h,
                             struct obj_attrs *a)
{
    memset(a, 0, sizeof(*a));
    CK_ATTRIBUTE tmpl[] = {
        { CKA_CLASS, &a->cls, sizeof(a->cls) },
        { CKA_KEY_TYPE, &a->key_type, sizeof(a->key_type) },
        { CKA_PRIVATE, &a->is_private, sizeof(a->is_private) },
        { CKA_SENSITIVE, &a->sensitive, sizeof(a->sensitive) },
        { CKA_EXTRACTABLE, &a->extractable, sizeof(a->extractable) },
        { CKA_LABEL, a->label, sizeof(a->label) - 1 },
        { CKA_ID, a->id, sizeof(a->id) },
        { CKA_EC_PARAMS, a->ec_params, sizeof(a->ec_params) },
        { CKA_MODULUS, a->modulus, sizeof(a->modulus) },
        { CKA_PUBLIC_EXPONENT, a->exponent, sizeof(a->exponent) },
    };
    KF_GUARD(kf_ck_get_attributes(t->mod, s, h, tmpl, sizeof(tmpl) / sizeof(tmpl[0]), true));
    KF_ENSURE(tmpl[0].ulValueLen == sizeof(a->cls), KF_ERR_ATTRIBUTE);
    if (tmpl[1].ulValueLen != sizeof(a->key_type)) {
        a->key_type = CK_UNAVAILABLE_INFORMATION;
    }
    a->have_private = tmpl[2].ulValueLen == sizeof(CK_BBOOL);
    a->have_sensitive = tmpl[3].ulValueLen == sizeof(CK_BBOOL);
    a->have_extractable = tmpl[4].ulValueLen == sizeof(CK_BBOOL);
    /* CK_UNAVAILABLE_INFORMATION is (CK_ULONG)-1: treat every out-of-range length
     * as absent */
    /* Longer labels and ids than keyfort keeps are refused, not dropped: a key remembered
     * without them could not be told from the others when searched for again. */
    if ((tmpl[5].ulValueLen != CK_UNAVAILABLE_INFORMATION &&
         tmpl[5].ulValueLen > sizeof(a->label) - 1) ||
        (tmpl[6].ulValueLen != CK_UNAVAILABLE_INFORMATION && tmpl[6].ulValueLen > sizeof(a->id))) {
        kf_err_note_context("object label or id longer than %zu / %zu bytes", sizeof(a->label) - 1,
                            sizeof(a->id));
        KF_BAIL(KF_ERR_UNSUPPORTED);
    }
    a->label_len = tmpl[5].ulValueLen <= sizeof(a->label) - 1 ? tmpl[5].ulValueLen : 0;
    a->label[a->label_len] = '\0';
    a->id_len = tmpl[6].ulValueLen <= sizeof(a->id) ? tmpl[6].ulValueLen : 0;
    a->ec_params_len = tmpl[7].ulValueLen <= sizeof(a->ec_params) ? tmpl[7].ulValueLen : 0;
    a->modulus_len = tmpl[8].ulValueLen <= sizeof(a->modulus) ? tmpl[8].ulValueLen : 0;
    a->exponent_len = tmpl[9].ulValueLen <= sizeof(a->exponent) ? tmpl[9].ulValueLen : 0;
    return KF_OK;
}

static KF_RESULT attrs_kind(const struct obj_attrs *a, enum kf_hsm_key_kind *kind, int *nid,
                            unsigned *bits)
{
    switch (a->key_type) {
    case CKK_RSA: {
        *kind = KF_KIND_RSA;
        *nid = 0;
        size_t n = a->modulus_len;
        size_t i = 0;
        while (i < n && a->modulus[i] == 0) {
            i++;
        }
        *bits = 0;
        if (i < n) {
            unsigned top = a->modulus[i];
            unsigned tb = 0;
            while (top != 0) {
                tb++;
                top >>= 1;
            }
            *bits = (unsigned)((n - i - 1) * 8 + tb);
        }
        return KF_OK;
    }
    case CKK_EC:
    case CKK_EC_EDWARDS:
        *kind = a->key_type == CKK_EC ? KF_KIND_EC : KF_KIND_EDDSA;
        KF_GUARD(kf_hsm_parse_ec_params(a->ec_params, a->ec_params_len, nid));
        *bits = *nid == NID_X9_62_prime256v1 ? 256
                : *nid == NID_secp384r1      ? 384
                : *nid == NID_ED25519        ? 255
                                             : 448;
        return KF_OK;
    default:
        kf_err_note_context("key type 0x%lx", (unsigned long)a->key_type);
        KF_BAIL(KF_ERR_UNSUPPORTED);
    }
}

static KF_RESULT key_load_public(struct kf_hsm_key *k, CK_SESSION_HANDLE s,
                                 const struct obj_attrs *main_attrs, CK_OBJECT_HANDLE pub_h)
{
    if (k->kind == KF_KIND_RSA) {
        if (main_attrs->modulus_len > 0 && main_attrs->exponent_len > 0) {
            return kf_hsm_pubkey_rsa(main_attrs->modulus, main_attrs->modulus_len,
                                     main_attrs->exponent, main_attrs->exponent_len, &k->pub);
        }
        return KF_OK;
    }
    if (pub_h == CK_INVALID_HANDLE) {
        return KF_OK; /* a private EC key alone does not carry its point
                         (CKA_EC_POINT) */
    }
    uint8_t point[160];
    CK_ATTRIBUTE tmpl[] = { { CKA_EC_POINT, point, sizeof(point) } };
    KF_GUARD(kf_ck_get_attributes(k->tok->mod, s, pub_h, tmpl, 1, false));
    const uint8_t *raw = NULL;
    size_t raw_len = 0;
    KF_GUARD_CTX(kf_hsm_parse_ec_point(k->nid, point, tmpl[0].ulValueLen, &raw, &raw_len),
                 "CKA_EC_POINT of key '%s'", k->display);
    return kf_hsm_pubkey_ec(k->nid, raw, raw_len, &k->pub);
}

static size_t key_sig_len(const struct kf_hsm_key *k)
{
    switch (k->kind) {
    case KF_KIND_RSA:
        return (k->bits + 7) / 8;
    case KF_KIND_EC:
    case KF_KIND_EDDSA:
        return 2 * kf_hsm_ec_field_len(k->nid);
    default:
        return 0;
    }
}

static KF_RESULT key_make_display(struct kf_hsm_key *k, CK_OBJECT_CLASS cls)
{
    struct kf_hsm_object_info o = { .cls = cls, .id_len = k->id_len };
    memcpy(o.label, k->label, sizeof(o.label));
    memcpy(o.id, k->id, k->id_len);
    return kf_hsm_object_uri(&k->tok->info, &o, &k->display);
}

KF_RESULT kf_hsm_key_from_object(struct kf_hsm_token *t, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE obj,
                                 struct kf_hsm_key **out)
{
    struct obj_attrs a;
    KF_GUARD(object_read(t, s, obj, &a));
    KF_ENSURE(a.cls == CKO_PRIVATE_KEY || a.cls == CKO_PUBLIC_KEY, KF_ERR_UNSUPPORTED);
    static _Atomic uint64_t key_serials = 1;
    struct kf_hsm_key *k = calloc(1, sizeof(*k));
    KF_ENSURE(k != NULL, KF_ERR_NOMEM);
    atomic_init(&k->refs, 1);
    k->serial = atomic_fetch_add(&key_serials, 1);
    k->tok = kf_hsm_token_ref(t);
    memcpy(k->label, a.label, a.label_len + 1);
    memcpy(k->id, a.id, a.id_len);
    k->id_len = a.id_len;
    kf_result r = KF_OK;
    if (a.label_len == 0 && a.id_len == 0) {
        /* Nothing to find it by again (after a fork, a re-login): refuse rather than pair
         * or re-find by class alone, which could pick another key. */
        kf_err_note_context("the key object has neither CKA_LABEL nor CKA_ID");
        kf_err_record(KF_ERR_UNSUPPORTED, __FILE__, __LINE__, __func__);
        r = (kf_result){ KF_ERR_UNSUPPORTED };
    }
    if (kf_ok(r)) {
        r = key_make_display(k, a.cls);
    }
    if (kf_ok(r)) {
        r = attrs_kind(&a, &k->kind, &k->nid, &k->bits);
    }
    CK_OBJECT_HANDLE partner = CK_INVALID_HANDLE;
    if (kf_ok(r)) {
        /* The other half of the pair: same id (or label), other class. */
        CK_OBJECT_CLASS other = a.cls == CKO_PRIVATE_KEY ? CKO_PUBLIC_KEY : CKO_PRIVATE_KEY;
        CK_ATTRIBUTE tmpl[OBJECT_TEMPLATE_MAX];
        CK_ULONG n = key_template(k, &other, tmpl);
        CK_OBJECT_HANDLE found[2];
        size_t count = 0;
        r = kf_hsm_find(t, s, tmpl, n, found, 2, &count);
        if (kf_ok(r) && count == 1) {
            partner = found[0];
        }
    }
    if (kf_ok(r)) {
        k->has_private = a.cls == CKO_PRIVATE_KEY || partner != CK_INVALID_HANDLE;
        k->has_public = a.cls == CKO_PUBLIC_KEY || partner != CK_INVALID_HANDLE;
        CK_OBJECT_HANDLE priv = a.cls == CKO_PRIVATE_KEY ? obj : partner;
        CK_OBJECT_HANDLE pub = a.cls == CKO_PUBLIC_KEY ? obj : partner;
        atomic_init(&k->priv_h, priv);
        atomic_init(&k->pub_h, pub);
        atomic_init(&k->handle_gen, kf_hsm_fork_gen());
        r = key_load_public(k, s, &a, pub);
        if (kf_ok(r) && k->pub == NULL && a.cls == CKO_PRIVATE_KEY && k->kind == KF_KIND_RSA &&
            pub != CK_INVALID_HANDLE) {
            struct obj_attrs pa;
            r = object_read(t, s, pub, &pa);
            if (kf_ok(r)) {
                r = key_load_public(k, s, &pa, pub);
            }
        }
        k->max_sig = key_sig_len(k);
    }
    if (!kf_ok(r)) {
        kf_hsm_key_unref(k);
        return r;
    }
    *out = k;
    return KF_OK;
}

/* Find objects of one class matching the URI. */
static KF_RESULT object_find_class(struct kf_hsm_token *t, CK_SESSION_HANDLE s,
                                   const struct kf_hsm_uri *uri, CK_OBJECT_CLASS cls,
                                   CK_OBJECT_HANDLE *found, size_t max, size_t *count)
{
    CK_ATTRIBUTE tmpl[OBJECT_TEMPLATE_MAX];
    CK_ULONG n = uri_template(uri, &cls, tmpl);
    return kf_hsm_find(t, s, tmpl, n, found, max, count);
}

static KF_RESULT key_find_on(struct kf_hsm_token *t, CK_SESSION_HANDLE s,
                             const struct kf_hsm_uri *uri, struct kf_hsm_key **out)
{
    enum kf_hsm_obj_type type = kf_hsm_uri_type(uri);
    CK_OBJECT_HANDLE found[OBJECT_FIND_MAX];
    size_t count = 0;
    if (type == KF_OBJ_ANY || type == KF_OBJ_PRIVATE) {
        KF_GUARD(object_find_class(t, s, uri, CKO_PRIVATE_KEY, found, OBJECT_FIND_MAX, &count));
    }
    if (count == 0 && (type == KF_OBJ_ANY || type == KF_OBJ_PUBLIC)) {
        KF_GUARD(object_find_class(t, s, uri, CKO_PUBLIC_KEY, found, OBJECT_FIND_MAX, &count));
    }
    if (count == 0) {
        bool logged_in = atomic_load(&t->login_gen) == kf_hsm_fork_gen();
        kf_err_note_context("'%s'%s", kf_hsm_uri_display(uri),
                            logged_in ? ""
                                      : " (not logged in: private keys are visible only with "
                                        "a PIN from --pin-file or pin-source)");
        KF_BAIL(KF_ERR_OBJECT_NOT_FOUND);
    }
    if (count > 1) {
        kf_err_note_context("'%s' matches %zu keys; add id= or a distinct object= label",
                            kf_hsm_uri_display(uri), count);
        KF_BAIL(KF_ERR_OBJECT_AMBIGUOUS);
    }
    return kf_hsm_key_from_object(t, s, found[0], out);
}

KF_RESULT kf_hsm_key_find(struct kf_hsm_token *t, const struct kf_hsm_uri *uri,
                          struct kf_hsm_key **out)
{
    KF_ENSURE_REF(t);
    KF_ENSURE_REF(uri);
    KF_ENSURE_REF(out);
    if (!kf_hsm_uri_names_object(uri)) {
        kf_err_note_context("'%s' names a token, not a key: add object= or id=",
                            kf_hsm_uri_display(uri));
        KF_BAIL(KF_ERR_INVALID_ARG);
    }
    struct kf_hsm_session *s = NULL;
    KF_GUARD(kf_hsm_session_acquire(t, &s));
    kf_result r = key_find_on(t, s->handle, uri, out);
    kf_hsm_session_release(t, s, r);
    return r;
}

struct kf_hsm_key *kf_hsm_key_ref(struct kf_hsm_key *k)
{
    if (k != NULL) {
        atomic_fetch_add_explicit(&k->refs, 1, memory_order_relaxed);
    }
    return k;
}

void kf_hsm_key_unref(struct kf_hsm_key *k)
{
    if (k == NULL || atomic_fetch_sub_explicit(&k->refs, 1, memory_order_acq_rel) != 1) {
        return;
    }
    EVP_PKEY_free(k->pub);
    free(k->display);
    kf_hsm_token_unref(k->tok);
    free(k);
}

KF_RESULT kf_hsm_key_get_info(const struct kf_hsm_key *k, struct kf_hsm_key_info *out)
{
    KF_ENSURE_REF(k);
    KF_ENSURE_REF(out);
    memset(out, 0, sizeof(*out));
    out->kind = k->kind;
    out->bits = k->bits;
    out->nid = k->nid;
    memcpy(out->label, k->label, sizeof(out->label));
    memcpy(out->id, k->id, k->id_len);
    out->id_len = k->id_len;
    out->has_private = k->has_private;
    out->has_public = k->has_public;
    return KF_OK;
}

KF_RESULT kf_hsm_key_uri(struct kf_hsm_key *k, char **out)
{
    KF_ENSURE_REF(k);
    KF_ENSURE_REF(out);
    char *s = strdup(k->display);
    KF_ENSURE(s != NULL, KF_ERR_NOMEM);
    *out = s;
    return KF_OK;
}

KF_RESULT kf_hsm_key_public(struct kf_hsm_key *k, EVP_PKEY **out)
{
    KF_ENSURE_REF(k);
    KF_ENSURE_REF(out);
    if (k->pub == NULL) {
        kf_err_note_context("key '%s' has no readable public key object", k->display);
        KF_BAIL(KF_ERR_OBJECT_NOT_FOUND);
    }
    KF_ENSURE(EVP_PKEY_up_ref(k->pub) == 1, KF_ERR_OPENSSL);
    *out = k->pub;
    return KF_OK;
}

size_t kf_hsm_key_max_sig_len(const struct kf_hsm_key *k)
{
    return k != NULL ? k->max_sig : 0;
}

const char *kf_hsm_class_name(CK_OBJECT_CLASS cls)
{
    switch (cls) {
    case CKO_PRIVATE_KEY:
        return "private";
    case CKO_PUBLIC_KEY:
        return "public";
    case CKO_CERTIFICATE:
        return "cert";
    case CKO_SECRET_KEY:
        return "secret-key";
    case CKO_DATA:
        return "data";
    default:
        return "other";
    }
}

const char *kf_hsm_object_alg_name(const struct kf_hsm_object_info *o)
{
    switch (o->key_type) {
    case CKK_RSA:
        return "rsa";
    case CKK_EC:
        return o->nid == NID_X9_62_prime256v1 ? "p256" : o->nid == NID_secp384r1 ? "p384" : "ec";
    case CKK_EC_EDWARDS:
        return o->nid == NID_ED25519 ? "ed25519" : o->nid == NID_ED448 ? "ed448" : "eddsa";
    default:
        return o->cls == CKO_CERTIFICATE ? "x509" : "other";
    }
}

static KF_RESULT object_list_on(struct kf_hsm_token *t, CK_SESSION_HANDLE s,
                                const struct kf_hsm_uri *filter, struct kf_hsm_object_info **out,
                                size_t *out_n)
{
    CK_OBJECT_CLASS cls = object_class_of(filter != NULL ? kf_hsm_uri_type(filter) : KF_OBJ_ANY);
    CK_ATTRIBUTE tmpl[OBJECT_TEMPLATE_MAX];
    CK_ULONG n = uri_template(filter, &cls, tmpl);
    /* The search counts past its buffer: when the token holds more objects than fit, search
     * again with room for all of them (objects created in between are left to the next
     * listing). */
    size_t cap = 1024;
    CK_OBJECT_HANDLE *found = NULL;
    size_t count = 0;
    kf_result r = KF_OK;
    for (int pass = 0; pass < 2; pass++) {
        free(found);
        found = calloc(cap, sizeof(*found));
        KF_ENSURE(found != NULL, KF_ERR_NOMEM);
        r = kf_hsm_find(t, s, tmpl, n, found, cap, &count);
        if (!kf_ok(r) || count <= cap) {
            break;
        }
        cap = count;
    }
    if (count > cap) {
        count = cap;
    }
    struct kf_hsm_object_info *infos = NULL;
    if (kf_ok(r)) {
        infos = calloc(count + 1, sizeof(*infos));
        r = infos != NULL ? KF_OK : (kf_result){ KF_ERR_NOMEM };
    }
    size_t got = 0;
    for (size_t i = 0; kf_ok(r) && i < count; i++) {
        struct obj_attrs a;
        r = object_read(t, s, found[i], &a);
        if (!kf_ok(r)) {
            break;
        }
        struct kf_hsm_object_info *o = &infos[got++];
        o->cls = a.cls;
        o->key_type = a.key_type;
        memcpy(o->label, a.label, a.label_len + 1);
        memcpy(o->id, a.id, a.id_len);
        o->id_len = a.id_len;
        o->is_private = a.have_private && a.is_private;
        o->sensitive = a.have_sensitive && a.sensitive;
        o->extractable = a.have_extractable && a.extractable;
        enum kf_hsm_key_kind kind;
        if (a.key_type == CKK_RSA || a.key_type == CKK_EC || a.key_type == CKK_EC_EDWARDS) {
            /* An unknown curve is listed without bits rather than failing the
             * listing. */
            if (!kf_ok(attrs_kind(&a, &kind, &o->nid, &o->bits))) {
                o->nid = 0;
                o->bits = 0;
            }
        }
    }
    free(found);
    if (!kf_ok(r)) {
        free(infos);
        return r;
    }
    *out = infos;
    *out_n = got;
    return KF_OK;
}

KF_RESULT kf_hsm_object_list(struct kf_hsm_token *t, const struct kf_hsm_uri *filter,
                             struct kf_hsm_object_info **out, size_t *out_n)
{
    KF_ENSURE_REF(t);
    KF_ENSURE_REF(out);
    KF_ENSURE_REF(out_n);
    struct kf_hsm_session *s = NULL;
    KF_GUARD(kf_hsm_session_acquire(t, &s));
    kf_result r = object_list_on(t, s->handle, filter, out, out_n);
    kf_hsm_session_release(t, s, r);
    return r;
}

KF_RESULT kf_hsm_object_delete(struct kf_hsm_token *t, const struct kf_hsm_uri *uri,
                               size_t *out_deleted)
{
    KF_ENSURE_REF(t);
    KF_ENSURE_REF(uri);
    KF_ENSURE_REF(out_deleted);
    if (kf_hsm_uri_object(uri) == NULL && !kf_hsm_uri_has_id(uri)) {
        /* "type=private" alone would delete every private key: deleting needs a name. */
        kf_err_note_context("'%s' names no object by label or id: add object= or id=",
                            kf_hsm_uri_display(uri));
        KF_BAIL(KF_ERR_INVALID_ARG);
    }
    struct kf_hsm_session *s = NULL;
    KF_GUARD(kf_hsm_session_acquire(t, &s));
    CK_OBJECT_CLASS cls = object_class_of(kf_hsm_uri_type(uri));
    CK_ATTRIBUTE tmpl[OBJECT_TEMPLATE_MAX];
    CK_ULONG n = uri_template(uri, &cls, tmpl);
    CK_OBJECT_HANDLE found[OBJECT_FIND_MAX];
    size_t count = 0;
    kf_result r = kf_hsm_find(t, s->handle, tmpl, n, found, OBJECT_FIND_MAX, &count);
    size_t deleted = 0;
    if (kf_ok(r) && count > OBJECT_FIND_MAX) {
        kf_err_note_context("'%s' matches %zu objects, more than %d deleted at once",
                            kf_hsm_uri_display(uri), count, OBJECT_FIND_MAX);
        kf_err_record(KF_ERR_TOO_LARGE, __FILE__, __LINE__, __func__);
        r = (kf_result){ KF_ERR_TOO_LARGE };
    }
    if (kf_ok(r) && count == 0) {
        kf_err_note_context("'%s'", kf_hsm_uri_display(uri));
        kf_err_record(KF_ERR_OBJECT_NOT_FOUND, __FILE__, __LINE__, __func__);
        r = (kf_result){ KF_ERR_OBJECT_NOT_FOUND };
    }
    for (size_t i = 0; kf_ok(r) && i < count && i < OBJECT_FIND_MAX; i++) {
        r = kf_ck_destroy_object(t->mod, s->handle, found[i]);
        if (kf_ok(r)) {
            deleted++;
        }
    }
    kf_hsm_session_release(t, s, r);
    *out_deleted = deleted;
    if (!kf_ok(r) && deleted > 0) {
        kf_err_add_context("%zu of %zu objects were deleted before the failure", deleted, count);
    }
    KF_GUARD(r);
    kf_log(KF_LOG_INFO, "hsm", "deleted %zu objects matching %s", deleted, kf_hsm_uri_display(uri));
    return KF_OK;
}
