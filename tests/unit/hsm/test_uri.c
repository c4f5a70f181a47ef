/* tests/unit/hsm/test_uri.c - RFC 7512 pkcs11: URIs through hsm/uri.c.
 * Source of the examples: RFC 7512 s3.3 (printed examples), one row each. */
#include "hsm/hsm.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct uri_case {
    char text[256];
    char token[40]; /* "" = absent */
    char manufacturer[40];
    char object[40];
    enum kf_hsm_obj_type type;
    size_t id_len;
    char pin_source[40];
    char module_name[40];
    char module_path[40];
    bool pin_value;
};

ParameterizedTestParameters(uri, rfc7512_examples)
{
    static struct uri_case cases[] = {
        { "pkcs11:", "", "", "", KF_OBJ_ANY, 0, "", "", "", false },
        { "pkcs11:object=my-pubkey;type=public", "", "", "my-pubkey", KF_OBJ_PUBLIC, 0, "", "", "",
          false },
        { "pkcs11:object=my-key;type=private?pin-source=file:/etc/token", "", "", "my-key",
          KF_OBJ_PRIVATE, 0, "file:/etc/token", "", "", false },
        { "pkcs11:token=The%20Software%20PKCS%2311%20Softtoken;manufacturer=Snake%20Oil,%20Inc.;"
          "model=1.0;object=my-certificate;type=cert;id=%69%95%3E%5C%F4%BD%EC%91;serial="
          "?pin-source=file:/etc/token_pin",
          "The Software PKCS#11 Softtoken", "Snake Oil, Inc.", "my-certificate", KF_OBJ_CERT, 8,
          "file:/etc/token_pin", "", "", false },
        { "pkcs11:object=my-sign-key;type=private?module-name=mypkcs11", "", "", "my-sign-key",
          KF_OBJ_PRIVATE, 0, "", "mypkcs11", "", false },
        { "pkcs11:object=my-sign-key;type=private?module-path=/mnt/libmypkcs11.so.1", "", "",
          "my-sign-key", KF_OBJ_PRIVATE, 0, "", "", "/mnt/libmypkcs11.so.1", false },
        { "pkcs11:token=Software%20PKCS%2311%20softtoken;manufacturer=Snake%20Oil,%20Inc."
          "?pin-value=the-pin",
          "Software PKCS#11 softtoken", "Snake Oil, Inc.", "", KF_OBJ_ANY, 0, "", "", "", true },
        { "pkcs11:slot-description=Sun%20Metaslot", "", "", "", KF_OBJ_ANY, 0, "", "", "", false },
        { "pkcs11:library-manufacturer=Snake%20Oil,%20Inc.;library-description=Soft%20Token%20"
          "Library;library-version=1.23",
          "", "", "", KF_OBJ_ANY, 0, "", "", "", false },
        { "pkcs11:token=My%20token%25%20created%20by%20Joe;library-version=3;"
          "id=%01%02%03%Ba%dd%Ca%fe%04%05%06",
          "My token% created by Joe", "", "", KF_OBJ_ANY, 10, "", "", "", false },
        { "pkcs11:token=A%20name%20with%20a%20substring%20%25%3B;object=my-certificate;type=cert",
          "A name with a substring %;", "", "my-certificate", KF_OBJ_CERT, 0, "", "", "", false },
    };
    return cr_make_param_array(struct uri_case, cases, sizeof(cases) / sizeof(cases[0]));
}

static void expect_str(const char *got, const char *want, const char *what)
{
    if (want[0] == '\0') {
        cr_assert_null(got, "%s: expected absent, got '%s'", what, got);
    } else {
        cr_assert_not_null(got, "%s: expected '%s', got nothing", what, want);
        cr_assert_str_eq(got, want, "%s", what);
    }
}

ParameterizedTest(struct uri_case *c, uri, rfc7512_examples)
{
    struct kf_hsm_uri *u = NULL;
    char msg[600];
    kf_result r = kf_hsm_uri_parse(c->text, &u);
    cr_assert(kf_ok(r), "%s: %s", c->text, kf_err_describe(msg, sizeof(msg)));
    expect_str(kf_hsm_uri_token(u), c->token, "token");
    expect_str(kf_hsm_uri_manufacturer(u), c->manufacturer, "manufacturer");
    expect_str(kf_hsm_uri_object(u), c->object, "object");
    cr_assert_eq(kf_hsm_uri_type(u), c->type);
    size_t id_len = 0;
    kf_hsm_uri_id(u, &id_len);
    cr_assert_eq(id_len, c->id_len);
    expect_str(kf_hsm_uri_pin_source(u), c->pin_source, "pin-source");
    expect_str(kf_hsm_uri_module_name(u), c->module_name, "module-name");
    expect_str(kf_hsm_uri_module_path(u), c->module_path, "module-path");
    cr_assert_eq(kf_hsm_uri_has_pin_value(u), c->pin_value);
    /* The display form never carries a PIN. */
    cr_assert(strstr(kf_hsm_uri_display(u), "pin-value") == NULL, "%s", kf_hsm_uri_display(u));
    cr_assert(strstr(kf_hsm_uri_display(u), "the-pin") == NULL);
    kf_hsm_uri_free(u);
}

Test(uri, id_bytes_and_pin_value_copy)
{
    struct kf_hsm_uri *u = NULL;
    cr_assert(kf_ok(kf_hsm_uri_parse(
        "pkcs11:token=My%20token%25%20created%20by%20Joe;id=%01%02%03%Ba%dd%Ca%fe%04%05%06"
        "?pin-value=s3cr%65t",
        &u)));
    size_t n = 0;
    const uint8_t *id = kf_hsm_uri_id(u, &n);
    static const uint8_t want[] = { 0x01, 0x02, 0x03, 0xba, 0xdd, 0xca, 0xfe, 0x04, 0x05, 0x06 };
    cr_assert_eq(n, sizeof(want));
    cr_assert_arr_eq(id, want, sizeof(want));
    struct kf_secret *pin = NULL;
    cr_assert(kf_ok(kf_hsm_uri_pin_value(u, &pin)));
    cr_assert_eq(kf_secret_len(pin), 6);
    cr_assert_arr_eq(kf_secret_data(pin), "s3cret", 6);
    kf_secret_free(pin);
    cr_assert(kf_hsm_uri_names_object(u));
    kf_hsm_uri_free(u);
}

struct bad_uri {
    char text[160];
    int32_t code;
    char names[48]; /* the message must contain this */
};

ParameterizedTestParameters(uri, malformed)
{
    static struct bad_uri cases[] = {
        { "", KF_ERR_URI_SCHEME, "scheme" },
        { "http://example.test/", KF_ERR_URI_SCHEME, "'http'" },
        { "pkcs11:id=%zz", KF_ERR_URI_ENCODING, "'id'" },
        /* Found by fuzz_uri: a mistyped scheme must not echo the rest (and its PIN). */
        { "pkcs11;k?pin-value=secret", KF_ERR_URI_SCHEME, "no 'pkcs11:' scheme" },
        { "pkcs11:object=a%2", KF_ERR_URI_ENCODING, "'object'" },
        { "pkcs11:foo=bar", KF_ERR_URI_ATTRIBUTE, "'foo'" },
        /* A %00 would cut the label short and name another object (review finding). */
        { "pkcs11:object=a%00anything-else", KF_ERR_URI_ENCODING, "%00" },
        { "pkcs11:token=t;vendor-aaa=value-a", KF_ERR_URI_ATTRIBUTE, "'vendor-aaa'" },
        { "pkcs11:type=bogus", KF_ERR_URI_ATTRIBUTE, "'type'" },
        { "pkcs11:library-version=x.y", KF_ERR_URI_VERSION, "'library-version'" },
        { "pkcs11:token=a;;object=b", KF_ERR_URI_SYNTAX, "empty attribute" },
        { "pkcs11:token=a;", KF_ERR_URI_SYNTAX, "empty attribute" },
        { "pkcs11:object=a?pin-value=%zzsecret", KF_ERR_URI_ENCODING, "'pin-value'" },
        /* RFC 7512 s3.3 prints this one, but its label is 34 bytes: longer than the 32 of
         * CK_TOKEN_INFO.label, so no token can carry it and p11-kit refuses it. */
        { "pkcs11:token=Name%20with%20a%20small%20A%20with%20acute:%20%C3%A1;object=my-"
          "certificate;type=cert",
          KF_ERR_URI_ATTRIBUTE, "'token'" },
    };
    return cr_make_param_array(struct bad_uri, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct bad_uri *c, uri, malformed)
{
    struct kf_hsm_uri *u = NULL;
    kf_result r = kf_hsm_uri_parse(c->text, &u);
    cr_assert_eq(r.code, c->code, "%s: got %s", c->text, kf_err_name(r.code));
    cr_assert_null(u);
    char msg[600];
    kf_err_describe(msg, sizeof(msg));
    cr_assert(strstr(msg, c->names) != NULL, "%s: message '%s' lacks %s", c->text, msg, c->names);
    cr_assert(strstr(msg, "secret") == NULL, "PIN text leaked: %s", msg);
}

Test(uri, object_uri_is_encoded_and_reads_back)
{
    struct kf_hsm_token_info ti = { .flags = CKF_TOKEN_INITIALIZED };
    snprintf(ti.label, sizeof(ti.label), "t x;%%");
    snprintf(ti.serial, sizeof(ti.serial), "00ff");
    struct kf_hsm_object_info o = { .cls = CKO_PRIVATE_KEY,
                                    .id = { 0x01, 0xff, 'A' },
                                    .id_len = 3 };
    snprintf(o.label, sizeof(o.label), "a b;c/%%?");
    char *text = NULL;
    cr_assert(kf_ok(kf_hsm_object_uri(&ti, &o, &text)));
    cr_assert_null(strstr(text, "a b"), "unencoded label: %s", text);
    struct kf_hsm_uri *uri = NULL;
    cr_assert(kf_ok(kf_hsm_uri_parse(text, &uri)), "cannot parse %s", text);
    cr_assert_str_eq(kf_hsm_uri_object(uri), "a b;c/%?");
    cr_assert_str_eq(kf_hsm_uri_token(uri), "t x;%");
    cr_assert_str_eq(kf_hsm_uri_serial(uri), "00ff");
    size_t id_len = 0;
    const uint8_t *id = kf_hsm_uri_id(uri, &id_len);
    cr_assert_eq(id_len, 3);
    cr_assert_arr_eq(id, o.id, 3);
    cr_assert_eq(kf_hsm_uri_type(uri), KF_OBJ_PRIVATE);
    kf_hsm_uri_free(uri);
    free(text);
}
