/* hsm/uri.c - RFC 7512 pkcs11: URIs, parsed by p11-kit's P11KitUri (no
 * hand-written parser).
 *
 * p11-kit says *that* a URI is bad, not *where*. To name the offending part we
 * parse each attribute again on its own ("pkcs11:<attr>" or "pkcs11:?<attr>")
 * with the same parser. */
#include "hsm/internal.h"

#include <openssl/crypto.h>
#include <p11-kit/uri.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct kf_hsm_uri {
    P11KitUri *p11;        /* owned; pin-value removed after parsing */
    struct kf_secret *pin; /* owned: pin-value, if the URI had one */
    char *display;         /* owned: formatted URI without pin-value */
    char *token;           /* owned copies of the token fields, NULL when absent */
    char *manufacturer;
    char *serial;
    char *model;
    char *object;
    uint8_t *id;
    size_t id_len;
    bool has_id;
    enum kf_hsm_obj_type type;
};

static int32_t uri_code(int p11_result)
{
    switch (p11_result) {
    case P11_KIT_URI_BAD_SCHEME:
        return KF_ERR_URI_SCHEME;
    case P11_KIT_URI_BAD_ENCODING:
        return KF_ERR_URI_ENCODING;
    case P11_KIT_URI_BAD_VERSION:
        return KF_ERR_URI_VERSION;
    case P11_KIT_URI_UNEXPECTED:
        return KF_ERR_NOMEM;
    case P11_KIT_URI_BAD_SYNTAX:
    default:
        return KF_ERR_URI_SYNTAX;
    }
}

/* Parse one attribute alone; 0 when fine, else the kf error it causes. */
static int32_t uri_check_part(const char *part, size_t len, bool query)
{
    size_t n = len + sizeof("pkcs11:?");
    char *one = malloc(n);
    if (one == NULL) {
        return KF_ERR_NOMEM;
    }
    snprintf(one, n, "pkcs11:%s%.*s", query ? "?" : "", (int)len, part);
    P11KitUri *u = p11_kit_uri_new();
    int32_t code = 0;
    if (u == NULL) {
        code = KF_ERR_NOMEM;
    } else {
        int rc = p11_kit_uri_parse(one, P11_KIT_URI_FOR_ANY, u);
        if (rc != P11_KIT_URI_OK) {
            code = uri_code(rc);
        } else if (p11_kit_uri_any_unrecognized(u)) {
            code = KF_ERR_URI_ATTRIBUTE;
        }
        const char *pv = p11_kit_uri_get_pin_value(u);
        if (pv != NULL) {
            OPENSSL_cleanse((char *)pv, strlen(pv)); /* p11-kit frees without wiping */
        }
        p11_kit_uri_free(u);
    }
    OPENSSL_cleanse(one, n); /* it may have held pin-value */
    free(one);
    return code;
}

/* RFC 7512 s2.3 attribute names; p11-kit flags a bad *value* of these as "unrecognized". */
static bool uri_known_name(const char *name, size_t len, bool query)
{
    static const char *const path_names[] = {
        "token",
        "manufacturer",
        "serial",
        "model",
        "object",
        "id",
        "type",
        "library-manufacturer",
        "library-description",
        "library-version",
        "slot-description",
        "slot-manufacturer",
        "slot-id",
        NULL,
    };
    static const char *const query_names[] = { "pin-source", "pin-value", "module-name",
                                               "module-path", NULL };
    for (const char *const *n = query ? query_names : path_names; *n != NULL; n++) {
        if (strlen(*n) == len && memcmp(*n, name, len) == 0) {
            return true;
        }
    }
    return false;
}

/* RFC 7512 s2.3 grammar has no empty attribute ("a;;b", "?&x", a trailing ';'); p11-kit
 * accepts them and silently drops what follows, so they are refused before it sees them. */
static bool uri_has_empty_part(const char *text)
{
    const char *body = text + 7;
    for (const char *p = body; *p != '\0'; p++) {
        bool sep = *p == ';' || *p == '&';
        bool prev_edge = p == body || p[-1] == ';' || p[-1] == '&' || p[-1] == '?';
        bool next_edge = p[1] == '\0' || p[1] == ';' || p[1] == '&' || p[1] == '?';
        if (sep && (prev_edge || next_edge)) {
            return true;
        }
    }
    return false;
}

/* Name the first attribute that fails alone: "attribute 'id'" or "query
 * attribute 'x'". Only attribute names are printed, so a pin-value never
 * reaches a message. */
static void uri_locate(const char *text)
{
    const char *body = strchr(text, ':');
    if (body == NULL || strncmp(text, "pkcs11:", 7) != 0) {
        /* Echo the scheme only when it looks like one (RFC 3986 s3.1): anything else may be
         * the rest of a mistyped URI, pin-value included. */
        size_t n =
            strspn(text, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.");
        if (body != NULL && text + n == body && n > 0 && n <= 32) {
            kf_err_note_context("scheme '%.*s' is not 'pkcs11'", (int)n, text);
        } else {
            kf_err_note_context("no 'pkcs11:' scheme at the start");
        }
        return;
    }
    body++;
    bool query = false;
    const char *p = body;
    while (*p != '\0') {
        const char *end = p;
        while (*end != '\0' && *end != ';' && *end != '&' && *end != '?') {
            end++;
        }
        size_t len = (size_t)(end - p);
        if (len > 0) {
            int32_t code = uri_check_part(p, len, query);
            if (code != 0) {
                const char *eq = memchr(p, '=', len);
                size_t name_len = eq != NULL ? (size_t)(eq - p) : len;
                if (name_len > 40) {
                    name_len = 40;
                }
                bool known = uri_known_name(p, name_len, query);
                kf_err_note_context("%s attribute '%.*s'%s", query ? "query" : "path",
                                    (int)name_len, p,
                                    code == KF_ERR_URI_ATTRIBUTE && known
                                        ? ": value not acceptable (longer than its PKCS#11 "
                                          "field, or not a known object type)"
                                        : "");
                return;
            }
        } else if (*end == ';' || *end == '&') {
            kf_err_note_context("empty %s attribute", query ? "query" : "path");
            return;
        }
        if (*end == '?') {
            if (query) {
                kf_err_note_context("second '?' in the query");
                return;
            }
            query = true;
        }
        p = *end != '\0' ? end + 1 : end;
    }
}

static char *uri_copy_field(const unsigned char *field, size_t size)
{
    /* CK_TOKEN_INFO fields are blank padded; p11-kit leaves them all blank when
     * absent. */
    size_t n = size;
    while (n > 0 && (field[n - 1] == ' ' || field[n - 1] == '\0')) {
        n--;
    }
    if (n == 0) {
        return NULL;
    }
    char *s = malloc(n + 1);
    if (s != NULL) {
        memcpy(s, field, n);
        s[n] = '\0';
    }
    return s;
}

static KF_RESULT uri_take_fields(struct kf_hsm_uri *u)
{
    CK_TOKEN_INFO *ti = p11_kit_uri_get_token_info(u->p11);
    u->token = uri_copy_field(ti->label, sizeof(ti->label));
    u->manufacturer = uri_copy_field(ti->manufacturerID, sizeof(ti->manufacturerID));
    u->serial = uri_copy_field(ti->serialNumber, sizeof(ti->serialNumber));
    u->model = uri_copy_field(ti->model, sizeof(ti->model));
    CK_ATTRIBUTE *a = p11_kit_uri_get_attribute(u->p11, CKA_LABEL);
    if (a != NULL && a->ulValueLen > 0 && memchr(a->pValue, '\0', a->ulValueLen) != NULL) {
        /* Kept as a C string below: a %00 would cut it short and match another object. */
        kf_err_note_context("path attribute 'object' holds %%00");
        KF_BAIL(KF_ERR_URI_ENCODING);
    }
    if (a != NULL) {
        u->object = strndup(a->pValue != NULL ? a->pValue : "", a->ulValueLen);
        KF_ENSURE(u->object != NULL, KF_ERR_NOMEM);
    }
    a = p11_kit_uri_get_attribute(u->p11, CKA_ID);
    if (a != NULL) {
        u->has_id = true;
        u->id_len = a->ulValueLen;
        if (a->ulValueLen > 0) {
            u->id = malloc(a->ulValueLen);
            KF_ENSURE(u->id != NULL, KF_ERR_NOMEM);
            memcpy(u->id, a->pValue, a->ulValueLen);
        }
    }
    a = p11_kit_uri_get_attribute(u->p11, CKA_CLASS);
    if (a != NULL && a->ulValueLen == sizeof(CK_OBJECT_CLASS)) {
        CK_OBJECT_CLASS cls = *(CK_OBJECT_CLASS *)a->pValue;
        switch (cls) {
        case CKO_PRIVATE_KEY:
            u->type = KF_OBJ_PRIVATE;
            break;
        case CKO_PUBLIC_KEY:
            u->type = KF_OBJ_PUBLIC;
            break;
        case CKO_CERTIFICATE:
            u->type = KF_OBJ_CERT;
            break;
        case CKO_SECRET_KEY:
            u->type = KF_OBJ_SECRET_KEY;
            break;
        case CKO_DATA:
            u->type = KF_OBJ_DATA;
            break;
        default:
            u->type = KF_OBJ_ANY;
            break;
        }
    }
    return KF_OK;
}

/* Move pin-value out of p11-kit's object into locked memory, wiping p11-kit's
 * copy. */
static KF_RESULT uri_take_pin(struct kf_hsm_uri *u)
{
    const char *pv = p11_kit_uri_get_pin_value(u->p11);
    if (pv == NULL) {
        return KF_OK;
    }
    size_t n = strlen(pv);
    kf_result r = kf_secret_from_bytes((const uint8_t *)pv, n, &u->pin);
    OPENSSL_cleanse((char *)pv, n); /* p11-kit frees without wiping */
    p11_kit_uri_set_pin_value(u->p11, NULL);
    return r;
}

KF_RESULT kf_hsm_uri_parse(const char *text, struct kf_hsm_uri **out)
{
    KF_ENSURE_REF(text);
    KF_ENSURE_REF(out);
    KF_ENSURE(strlen(text) <= 8192, KF_ERR_TOO_LARGE);
    struct kf_hsm_uri *u = calloc(1, sizeof(*u));
    KF_ENSURE(u != NULL, KF_ERR_NOMEM);
    u->p11 = p11_kit_uri_new();
    if (u->p11 == NULL) {
        kf_hsm_uri_free(u);
        KF_BAIL(KF_ERR_NOMEM);
    }
    int rc = p11_kit_uri_parse(text, P11_KIT_URI_FOR_ANY, u->p11);
    int32_t code = rc != P11_KIT_URI_OK ? uri_code(rc) : 0;
    if (code == 0 && uri_has_empty_part(text)) {
        kf_hsm_uri_free(u);
        kf_err_note_context("empty attribute (doubled or trailing ';' or '&')");
        KF_BAIL(KF_ERR_URI_SYNTAX);
    }
    if (code == 0 && p11_kit_uri_any_unrecognized(u->p11)) {
        /* RFC 7512 s2.3: an attribute we do not understand must not silently match.
         */
        code = KF_ERR_URI_ATTRIBUTE;
    }
    if (code == 0 && text[7] == '\0') {
        code = 0; /* "pkcs11:" alone is valid: it matches every token (RFC 7512
                     s3.3) */
    }
    if (code != 0) {
        kf_result_ignore(uri_take_pin(u)); /* wipe it even on failure */
        kf_hsm_uri_free(u);
        uri_locate(text);
        KF_BAIL(code);
    }
    kf_result r = uri_take_pin(u);
    if (kf_ok(r)) {
        r = uri_take_fields(u);
    }
    if (kf_ok(r) &&
        p11_kit_uri_format(u->p11, P11_KIT_URI_FOR_ANY, &u->display) != P11_KIT_URI_OK) {
        kf_err_record(KF_ERR_NOMEM, __FILE__, __LINE__, __func__);
        r = (kf_result){ KF_ERR_NOMEM };
    }
    if (!kf_ok(r)) {
        kf_hsm_uri_free(u);
        return r;
    }
    *out = u;
    return KF_OK;
}

void kf_hsm_uri_free(struct kf_hsm_uri *u)
{
    if (u == NULL) {
        return;
    }
    if (u->p11 != NULL) {
        p11_kit_uri_free(u->p11);
    }
    kf_secret_free(u->pin);
    free(u->display);
    free(u->token);
    free(u->manufacturer);
    free(u->serial);
    free(u->model);
    free(u->object);
    free(u->id);
    free(u);
}

const char *kf_hsm_uri_display(const struct kf_hsm_uri *u)
{
    return u != NULL && u->display != NULL ? u->display : "pkcs11:";
}

const char *kf_hsm_uri_token(const struct kf_hsm_uri *u)
{
    return u->token;
}

const char *kf_hsm_uri_manufacturer(const struct kf_hsm_uri *u)
{
    return u->manufacturer;
}

const char *kf_hsm_uri_serial(const struct kf_hsm_uri *u)
{
    return u->serial;
}

const char *kf_hsm_uri_model(const struct kf_hsm_uri *u)
{
    return u->model;
}

const char *kf_hsm_uri_object(const struct kf_hsm_uri *u)
{
    return u->object;
}

const uint8_t *kf_hsm_uri_id(const struct kf_hsm_uri *u, size_t *out_len)
{
    if (out_len != NULL) {
        *out_len = u->has_id ? u->id_len : 0;
    }
    return u->has_id ? u->id : NULL;
}

bool kf_hsm_uri_has_id(const struct kf_hsm_uri *u)
{
    return u->has_id;
}

enum kf_hsm_obj_type kf_hsm_uri_type(const struct kf_hsm_uri *u)
{
    return u->type;
}

const char *kf_hsm_uri_pin_source(const struct kf_hsm_uri *u)
{
    return p11_kit_uri_get_pin_source(u->p11);
}

bool kf_hsm_uri_has_pin_value(const struct kf_hsm_uri *u)
{
    return u->pin != NULL;
}

KF_RESULT kf_hsm_uri_pin_value(const struct kf_hsm_uri *u, struct kf_secret **out)
{
    KF_ENSURE_REF(u);
    KF_ENSURE(u->pin != NULL, KF_ERR_PIN_REQUIRED);
    return kf_secret_dup(u->pin, out);
}

const char *kf_hsm_uri_module_path(const struct kf_hsm_uri *u)
{
    return p11_kit_uri_get_module_path(u->p11);
}

const char *kf_hsm_uri_module_name(const struct kf_hsm_uri *u)
{
    return p11_kit_uri_get_module_name(u->p11);
}

bool kf_hsm_uri_names_object(const struct kf_hsm_uri *u)
{
    return u->object != NULL || u->has_id || u->type != KF_OBJ_ANY;
}

P11KitUri *kf_hsm_uri_p11(const struct kf_hsm_uri *u)
{
    return u->p11;
}

/* Blank-padded copy of a C string into a CK_TOKEN_INFO field, as p11-kit expects. */
static void uri_pad(unsigned char *dst, size_t size, const char *src)
{
    size_t n = strlen(src);
    memset(dst, ' ', size);
    memcpy(dst, src, n < size ? n : size);
}

static KF_RESULT uri_format_token(P11KitUri *u, const struct kf_hsm_token_info *ti)
{
    CK_TOKEN_INFO *t = p11_kit_uri_get_token_info(u);
    uri_pad(t->label, sizeof(t->label), ti->label);
    uri_pad(t->manufacturerID, sizeof(t->manufacturerID), ti->manufacturer);
    uri_pad(t->model, sizeof(t->model), ti->model);
    uri_pad(t->serialNumber, sizeof(t->serialNumber), ti->serial);
    return KF_OK;
}

static KF_RESULT uri_format(P11KitUri *u, P11KitUriType what, char **out)
{
    char *s = NULL;
    int rc = p11_kit_uri_format(u, what, &s);
    p11_kit_uri_free(u);
    KF_ENSURE(rc == P11_KIT_URI_OK && s != NULL, KF_ERR_NOMEM);
    *out = s;
    return KF_OK;
}

KF_RESULT kf_hsm_token_info_uri(const struct kf_hsm_token_info *ti, char **out)
{
    KF_ENSURE_REF(ti);
    KF_ENSURE_REF(out);
    P11KitUri *u = p11_kit_uri_new();
    KF_ENSURE(u != NULL, KF_ERR_NOMEM);
    KF_GUARD(uri_format_token(u, ti));
    return uri_format(u, P11_KIT_URI_FOR_TOKEN, out);
}

KF_RESULT kf_hsm_object_uri(const struct kf_hsm_token_info *ti, const struct kf_hsm_object_info *o,
                            char **out)
{
    KF_ENSURE_REF(ti);
    KF_ENSURE_REF(o);
    KF_ENSURE_REF(out);
    KF_ENSURE(o->id_len <= sizeof(o->id), KF_ERR_INVALID_ARG);
    P11KitUri *u = p11_kit_uri_new();
    KF_ENSURE(u != NULL, KF_ERR_NOMEM);
    KF_GUARD(uri_format_token(u, ti));
    CK_OBJECT_CLASS cls = o->cls;
    CK_ATTRIBUTE attrs[3];
    CK_ULONG n = 0;
    if (o->label[0] != '\0') {
        attrs[n++] = (CK_ATTRIBUTE){ CKA_LABEL, (void *)o->label, strlen(o->label) };
    }
    if (o->id_len > 0) {
        attrs[n++] = (CK_ATTRIBUTE){ CKA_ID, (void *)o->id, o->id_len };
    }
    if (strcmp(kf_hsm_class_name(o->cls), "other") != 0) {
        attrs[n++] = (CK_ATTRIBUTE){ CKA_CLASS, &cls, sizeof(cls) };
    }
    if (n > 0 && p11_kit_uri_set_attributes(u, attrs, n) != P11_KIT_URI_OK) {
        p11_kit_uri_free(u);
        KF_BAIL(KF_ERR_NOMEM);
    }
    return uri_format(u, P11_KIT_URI_FOR_OBJECT_ON_TOKEN, out);
}
