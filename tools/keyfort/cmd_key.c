/* tools/keyfort/cmd_key.c - keyfort key gen | list | pub | delete | import. */
#include "tools/keyfort/cli.h"
#include "tools/keyfort/out.h"
#include "tools/keyfort/pin.h"
#include "tools/keyfort/uri.h"

#include <openssl/bio.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A new key is named by --label and goes on the token the URI names; a URI that also names
 * an object would suggest otherwise. */
static KF_RESULT cli_key_expect_token_uri(const struct kf_hsm_uri *uri)
{
    if (kf_hsm_uri_names_object(uri)) {
        return kf_cli_usage_error("expected a token URI, but '%s' names an object (object=, "
                                  "id= or type=); the new key is named by --label and --id",
                                  kf_hsm_uri_display(uri));
    }
    return KF_OK;
}

/* --id HEX, if given, into @p id (sized as CKA_ID in struct kf_hsm_key_info). */
static KF_RESULT cli_key_id(const struct kf_cli_args *a, uint8_t *id, size_t cap, size_t *out_len)
{
    if (a->id_hex == NULL) {
        *out_len = 0;
        return KF_OK;
    }
    return kf_cli_parse_hex(a->id_hex, "--id", id, cap, out_len);
}

static KF_RESULT cli_key_print_uri(struct kf_hsm_key *key)
{
    char *uri KF_CLI_AUTO_FREE = NULL;
    KF_GUARD(kf_hsm_key_uri(key, &uri));
    printf("%s\n", uri);
    return KF_OK;
}

KF_RESULT kf_cli_key_gen(const struct kf_cli_args *a)
{
    KF_GUARD(kf_cli_args_expect(a, 1, 1, "TOKEN-URI"));
    if (a->type == NULL) {
        return kf_cli_usage_error("missing option --type TYPE");
    }
    if (a->label == NULL) {
        return kf_cli_usage_error("missing option --label LABEL");
    }
    enum kf_hsm_key_type type;
    KF_GUARD(kf_hsm_key_type_parse(a->type, &type));
    uint8_t id[sizeof(((struct kf_hsm_key_info *)0)->id)];
    size_t id_len = 0;
    KF_GUARD(cli_key_id(a, id, sizeof(id), &id_len));
    struct kf_hsm_uri *uri KF_CLI_AUTO_URI = NULL;
    KF_GUARD(kf_cli_uri_parse(a->pos[0], &uri));
    KF_GUARD(cli_key_expect_token_uri(uri));
    struct kf_hsm_token *token KF_CLI_AUTO_TOKEN = NULL;
    KF_GUARD(kf_cli_token_open(a, uri, &token));
    struct kf_hsm_key *key KF_CLI_AUTO_KEY = NULL;
    KF_GUARD(kf_hsm_keygen(token, type, a->label, id_len > 0 ? id : NULL, id_len, &key));
    return cli_key_print_uri(key);
}

/* "prime256v1", "ED25519", ...: OpenSSL's short names, which openssl(1) accepts back. */
static const char *cli_key_curve_name(int nid)
{
    return nid != 0 ? OBJ_nid2sn(nid) : NULL;
}

static void cli_key_list_json_one(struct kf_cli_json *j, const struct kf_hsm_object_info *o,
                                  const char *uri)
{
    kf_cli_json_object_begin(j);
    kf_cli_json_key(j, "class");
    kf_cli_json_string(j, kf_hsm_class_name(o->cls));
    kf_cli_json_key(j, "algorithm");
    kf_cli_json_string(j, kf_hsm_object_alg_name(o));
    kf_cli_json_key(j, "bits");
    if (o->bits > 0) {
        kf_cli_json_uint(j, o->bits);
    } else {
        kf_cli_json_null(j);
    }
    kf_cli_json_key(j, "curve");
    kf_cli_json_string(j, cli_key_curve_name(o->nid));
    kf_cli_json_key(j, "label");
    kf_cli_json_string(j, o->label);
    kf_cli_json_key(j, "id");
    kf_cli_json_hex(j, o->id, o->id_len);
    kf_cli_json_key(j, "private");
    kf_cli_json_bool(j, o->is_private);
    kf_cli_json_key(j, "sensitive");
    kf_cli_json_bool(j, o->sensitive);
    kf_cli_json_key(j, "extractable");
    kf_cli_json_bool(j, o->extractable);
    kf_cli_json_key(j, "uri");
    kf_cli_json_string(j, uri);
    kf_cli_json_object_end(j);
}

static void cli_key_list_text_one(const struct kf_hsm_object_info *o, const char *uri)
{
    printf("%-8s %-8s", kf_hsm_class_name(o->cls), kf_hsm_object_alg_name(o));
    const char *curve = cli_key_curve_name(o->nid);
    if (curve != NULL) {
        printf(" %-10s", curve);
    } else if (o->bits > 0) {
        printf(" %-10u", o->bits);
    } else {
        printf(" %-10s", "-");
    }
    printf(" label=\"");
    kf_cli_text_safe(stdout, o->label);
    printf("\" id=");
    kf_cli_text_hex(stdout, o->id, o->id_len);
    printf(" %s,%s,%s\n  %s\n", o->is_private ? "private" : "public",
           o->sensitive ? "sensitive" : "not-sensitive",
           o->extractable ? "extractable" : "not-extractable", uri);
}

KF_RESULT kf_cli_key_list(const struct kf_cli_args *a)
{
    KF_GUARD(kf_cli_args_expect(a, 1, 1, "URI"));
    struct kf_hsm_uri *uri KF_CLI_AUTO_URI = NULL;
    KF_GUARD(kf_cli_uri_parse(a->pos[0], &uri));
    struct kf_hsm_token *token KF_CLI_AUTO_TOKEN = NULL;
    KF_GUARD(kf_cli_token_open(a, uri, &token));
    struct kf_hsm_object_info *objs KF_CLI_AUTO_FREE = NULL;
    size_t n = 0;
    KF_GUARD(kf_hsm_object_list(token, uri, &objs, &n));
    char *token_uri KF_CLI_AUTO_FREE = NULL;
    KF_GUARD(kf_hsm_token_uri(token, &token_uri));
    struct kf_hsm_token_info info;
    KF_GUARD(kf_hsm_token_get_info(token, &info));
    struct kf_cli_json j = { 0 };
    if (a->json) {
        kf_cli_json_init(&j, stdout);
        kf_cli_json_object_begin(&j);
        kf_cli_json_key(&j, "token");
        kf_cli_json_string(&j, token_uri);
        kf_cli_json_key(&j, "objects");
        kf_cli_json_array_begin(&j);
    }
    for (size_t i = 0; i < n; i++) {
        char *obj_uri KF_CLI_AUTO_FREE = NULL;
        KF_GUARD(kf_hsm_object_uri(&info, &objs[i], &obj_uri));
        if (a->json) {
            cli_key_list_json_one(&j, &objs[i], obj_uri);
        } else {
            cli_key_list_text_one(&objs[i], obj_uri);
        }
    }
    if (a->json) {
        kf_cli_json_array_end(&j);
        kf_cli_json_object_end(&j);
        KF_GUARD(kf_cli_json_finish(&j));
    }
    return KF_OK;
}

/* Open the token of @p uri_text and find the one key it names. */
static KF_RESULT cli_key_open(const struct kf_cli_args *a, const char *uri_text,
                              struct kf_hsm_token **out_token, struct kf_hsm_key **out_key)
{
    struct kf_hsm_uri *uri KF_CLI_AUTO_URI = NULL;
    KF_GUARD(kf_cli_uri_parse(uri_text, &uri));
    struct kf_hsm_token *token KF_CLI_AUTO_TOKEN = NULL;
    KF_GUARD(kf_cli_token_open(a, uri, &token));
    struct kf_hsm_key *key = NULL;
    KF_GUARD(kf_hsm_key_find(token, uri, &key));
    *out_token = token;
    token = NULL; /* handed out */
    *out_key = key;
    return KF_OK;
}

KF_RESULT kf_cli_key_pub(const struct kf_cli_args *a)
{
    KF_GUARD(kf_cli_args_expect(a, 1, 1, "KEY-URI"));
    struct kf_hsm_token *token KF_CLI_AUTO_TOKEN = NULL;
    struct kf_hsm_key *key KF_CLI_AUTO_KEY = NULL;
    KF_GUARD(cli_key_open(a, a->pos[0], &token, &key));
    EVP_PKEY *pub KF_CLI_AUTO_PKEY = NULL;
    KF_GUARD(kf_hsm_key_public(key, &pub));
    BIO *bio = BIO_new_fp(stdout, BIO_NOCLOSE);
    KF_ENSURE(bio != NULL, KF_ERR_NOMEM);
    int ok = PEM_write_bio_PUBKEY(bio, pub);
    BIO_free(bio);
    KF_GUARD_OSSL(ok, KF_ERR_OPENSSL);
    return KF_OK;
}

KF_RESULT kf_cli_key_pem(const struct kf_cli_args *a)
{
    KF_GUARD(kf_cli_args_expect(a, 1, 1, "KEY-URI"));
    /* Find the key now, so that a typo fails here and not in the MTA at its next restart. */
    struct kf_hsm_token *token KF_CLI_AUTO_TOKEN = NULL;
    struct kf_hsm_key *key KF_CLI_AUTO_KEY = NULL;
    KF_GUARD(cli_key_open(a, a->pos[0], &token, &key));
    struct kf_hsm_uri *uri KF_CLI_AUTO_URI = NULL;
    KF_GUARD(kf_cli_uri_parse(a->pos[0], &uri));
    char *pem KF_CLI_AUTO_FREE = NULL;
    KF_GUARD(kf_hsm_uri_pem_write(uri, &pem));
    fputs(pem, stdout);
    return KF_OK;
}

KF_RESULT kf_cli_key_delete(const struct kf_cli_args *a)
{
    KF_GUARD(kf_cli_args_expect(a, 1, 1, "OBJECT-URI"));
    struct kf_hsm_uri *uri KF_CLI_AUTO_URI = NULL;
    KF_GUARD(kf_cli_uri_parse(a->pos[0], &uri));
    if (!kf_hsm_uri_names_object(uri)) {
        /* Deleting "everything on the token" is never what a typo should do. */
        return kf_cli_usage_error("refusing to delete: '%s' names no object; add object=, id= "
                                  "or type=",
                                  kf_hsm_uri_display(uri));
    }
    struct kf_hsm_token *token KF_CLI_AUTO_TOKEN = NULL;
    KF_GUARD(kf_cli_token_open(a, uri, &token));
    size_t deleted = 0;
    KF_GUARD(kf_hsm_object_delete(token, uri, &deleted));
    if (deleted == 0) {
        kf_err_note_context("%s", kf_hsm_uri_display(uri));
        KF_BAIL(KF_ERR_OBJECT_NOT_FOUND);
    }
    printf("deleted %zu object%s\n", deleted, deleted == 1 ? "" : "s");
    return KF_OK;
}

/* Default label of an imported key: the file name without its directory and ".pem". */
static KF_RESULT cli_key_default_label(const char *path, char *out, size_t cap)
{
    const char *base = strrchr(path, '/');
    base = base != NULL ? base + 1 : path;
    size_t len = strlen(base);
    if (len > 4 && strcmp(base + len - 4, ".pem") == 0) {
        len -= 4;
    }
    if (len == 0 || len >= cap) {
        return kf_cli_usage_error("no label can be made from the file name; give --label LABEL");
    }
    memcpy(out, base, len);
    out[len] = '\0';
    return KF_OK;
}

/* What key import and cert import share: FILE TOKEN-URI, the label (--label, else the file
 * name), --id, and the token opened with a PIN. */
struct cli_import {
    const char *path;
    char label[sizeof(((struct kf_hsm_key_info *)0)->label)];
    uint8_t id[sizeof(((struct kf_hsm_key_info *)0)->id)];
    size_t id_len;
    struct kf_hsm_uri *uri;     /* owned */
    struct kf_hsm_token *token; /* counted ref */
};

static void cli_import_done(struct cli_import *im)
{
    kf_hsm_token_unref(im->token);
    kf_hsm_uri_free(im->uri);
    *im = (struct cli_import){ 0 };
}

static KF_RESULT cli_import_prepare(const struct kf_cli_args *a, const char *usage,
                                    struct cli_import *im)
{
    *im = (struct cli_import){ 0 };
    KF_GUARD(kf_cli_args_expect(a, 2, 2, usage));
    im->path = a->pos[0];
    if (a->label != NULL) {
        if (strlen(a->label) >= sizeof(im->label)) {
            return kf_cli_usage_error("--label is longer than %zu bytes", sizeof(im->label) - 1);
        }
        strcpy(im->label, a->label);
    } else {
        KF_GUARD(cli_key_default_label(im->path, im->label, sizeof(im->label)));
    }
    KF_GUARD(cli_key_id(a, im->id, sizeof(im->id), &im->id_len));
    kf_result r = kf_cli_uri_parse(a->pos[1], &im->uri);
    if (kf_ok(r)) {
        r = cli_key_expect_token_uri(im->uri);
    }
    if (kf_ok(r)) {
        r = kf_cli_token_open(a, im->uri, &im->token);
    }
    if (!kf_ok(r)) {
        cli_import_done(im);
    }
    return r;
}

KF_RESULT kf_cli_key_import(const struct kf_cli_args *a)
{
    struct cli_import im;
    KF_GUARD(cli_import_prepare(a, "FILE.pem TOKEN-URI", &im));
    struct kf_hsm_key *key KF_CLI_AUTO_KEY = NULL;
    kf_result r = kf_hsm_key_import_pem(im.token, im.path, im.label, im.id_len > 0 ? im.id : NULL,
                                        im.id_len, &key);
    cli_import_done(&im);
    KF_GUARD(r);
    return cli_key_print_uri(key);
}

/* The id of the private key labelled @p label on the token, if there is exactly one. */
static bool cli_cert_key_id(struct kf_hsm_token *token, const char *label, uint8_t *id, size_t cap,
                            size_t *out_len)
{
    struct kf_hsm_object_info *objs = NULL;
    size_t n = 0;
    bool found = false;
    kf_err_mute_begin();
    if (kf_ok(kf_hsm_object_list(token, NULL, &objs, &n))) {
        size_t matches = 0;
        for (size_t i = 0; i < n; i++) {
            if (objs[i].cls == CKO_PRIVATE_KEY && strcmp(objs[i].label, label) == 0 &&
                objs[i].id_len > 0 && objs[i].id_len <= cap) {
                memcpy(id, objs[i].id, objs[i].id_len);
                *out_len = objs[i].id_len;
                matches++;
            }
        }
        found = matches == 1;
    }
    kf_err_mute_end();
    free(objs);
    return found;
}

static KF_RESULT cli_cert_store(struct cli_import *im)
{
    /* Paired with the key of the same label unless --id says otherwise. */
    if (im->id_len == 0 &&
        !cli_cert_key_id(im->token, im->label, im->id, sizeof(im->id), &im->id_len)) {
        KF_GUARD_OSSL(RAND_bytes(im->id, 16), KF_ERR_OPENSSL);
        im->id_len = 16;
    }
    KF_GUARD(kf_hsm_cert_import(im->token, im->path, im->label, im->id, im->id_len));
    struct kf_hsm_token_info ti;
    KF_GUARD(kf_hsm_token_get_info(im->token, &ti));
    struct kf_hsm_object_info o = { .cls = CKO_CERTIFICATE,
                                    .key_type = CK_UNAVAILABLE_INFORMATION };
    snprintf(o.label, sizeof(o.label), "%s", im->label);
    memcpy(o.id, im->id, im->id_len);
    o.id_len = im->id_len;
    char *text KF_CLI_AUTO_FREE = NULL;
    KF_GUARD(kf_hsm_object_uri(&ti, &o, &text));
    printf("%s\n", text);
    return KF_OK;
}

KF_RESULT kf_cli_cert_import(const struct kf_cli_args *a)
{
    struct cli_import im;
    KF_GUARD(cli_import_prepare(a, "CERT-FILE TOKEN-URI", &im));
    kf_result r = cli_cert_store(&im);
    cli_import_done(&im);
    return r;
}
