/* tests/cli/test_cli_parts.c - the parsers and writers of the keyfort command, in-process:
 * tools/keyfort/args.c (options, hex), out_json.c and out_text.c (escaping), uri.c (pin-value
 * refusal, URIs keyfort prints, read back with hsm/'s parser).
 *
 * Parameter structs hold arrays, not pointers: Criterion hands parameters to a new process. */
#include "tests/cli/json_check.h"
#include "tools/keyfort/args.h"
#include "tools/keyfort/out.h"
#include "tools/keyfort/uri.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- JSON string escaping ------------------------------------------------------------------ */

struct esc_case {
    char in[8];
    size_t in_len;
    char out[64];   /* exact JSON literal */
    bool roundtrip; /* valid UTF-8: the literal must decode back to the input */
};

static struct esc_case esc_cases[] = {
    { "abc", 3, "\"abc\"", true },
    { "a\"b", 3, "\"a\\\"b\"", true },
    { "a\\b", 3, "\"a\\\\b\"", true },
    { "\n\t\r\b\f", 5, "\"\\n\\t\\r\\b\\f\"", true },
    { "\x01\x1f", 2, "\"\\u0001\\u001f\"", true },
    { "a\0b", 3, "\"a\\u0000b\"", true },
    { "/\x7f", 2, "\"/\x7f\"", true },
    { "\xc3\xa9", 2, "\"\xc3\xa9\"", true },
    { "\xf0\x9f\x94\x91", 4, "\"\xf0\x9f\x94\x91\"", true },
    { "\xff", 1, "\"\\ufffd\"", false },
    { "\xc0\xaf", 2, "\"\\ufffd\\ufffd\"", false },                       /* overlong '/' */
    { "\xed\xa0\x80", 3, "\"\\ufffd\\ufffd\\ufffd\"", false },            /* surrogate */
    { "\xf4\x90\x80\x80", 4, "\"\\ufffd\\ufffd\\ufffd\\ufffd\"", false }, /* > U+10FFFF */
    { "\xe2\x82", 2, "\"\\ufffd\\ufffd\"", false },                       /* truncated */
    { "x\xe2\x82\xac", 4, "\"x\xe2\x82\xac\"", true },
};

ParameterizedTestParameters(cli_parts, json_escape)
{
    return cr_make_param_array(struct esc_case, esc_cases,
                               sizeof(esc_cases) / sizeof(esc_cases[0]));
}

ParameterizedTest(struct esc_case *c, cli_parts, json_escape)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert_not_null(f);
    kf_cli_json_write_escaped(f, (const uint8_t *)c->in, c->in_len);
    cr_assert_eq(fclose(f), 0);
    cr_assert_eq(len, strlen(c->out), "got %s, want %s", buf, c->out);
    cr_assert_eq(memcmp(buf, c->out, len), 0, "got %s, want %s", buf, c->out);
    struct json *j = json_parse(buf, len);
    cr_assert_not_null(j, "not a JSON string: %s", buf);
    cr_assert_eq(j->type, JSON_STRING);
    if (c->roundtrip) {
        cr_assert_eq(j->str_len, c->in_len);
        cr_assert_eq(memcmp(j->str, c->in, c->in_len), 0);
    }
    json_free(j);
    free(buf);
}

Test(cli_parts, json_writer_places_commas_and_nests)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    struct kf_cli_json j;
    kf_cli_json_init(&j, f);
    kf_cli_json_object_begin(&j);
    kf_cli_json_key(&j, "a");
    kf_cli_json_uint(&j, 18446744073709551615ull);
    kf_cli_json_key(&j, "empty");
    kf_cli_json_array_begin(&j);
    kf_cli_json_array_end(&j);
    kf_cli_json_key(&j, "list");
    kf_cli_json_array_begin(&j);
    kf_cli_json_bool(&j, true);
    kf_cli_json_null(&j);
    kf_cli_json_string(&j, NULL);
    kf_cli_json_hex(&j, (const uint8_t *)"\x01\xab", 2);
    kf_cli_json_object_begin(&j);
    kf_cli_json_object_end(&j);
    kf_cli_json_array_end(&j);
    kf_cli_json_object_end(&j);
    cr_assert(kf_ok(kf_cli_json_finish(&j)));
    fclose(f);
    static const char want[] = "{\n  \"a\": 18446744073709551615,\n  \"empty\": [],\n"
                               "  \"list\": [\n    true,\n    null,\n    null,\n    \"01ab\",\n"
                               "    {}\n  ]\n}\n";
    cr_assert_str_eq(buf, want);
    struct json *doc = json_parse(buf, len);
    cr_assert_not_null(doc);
    json_free(doc);
    free(buf);
}

Test(cli_parts, json_writer_reports_unbalanced_nesting)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    struct kf_cli_json j;
    kf_cli_json_init(&j, f);
    kf_cli_json_object_begin(&j);
    kf_cli_json_key(&j, "open");
    kf_cli_json_array_begin(&j);
    kf_result r = kf_cli_json_finish(&j);
    cr_assert_eq(r.code, KF_ERR_INTERNAL);
    kf_cli_json_init(&j, f);
    kf_cli_json_array_end(&j); /* close without open */
    cr_assert_eq(kf_cli_json_finish(&j).code, KF_ERR_INTERNAL);
    kf_cli_json_init(&j, f);
    kf_cli_json_object_begin(&j);
    kf_cli_json_key(&j, "dangling");
    kf_cli_json_object_end(&j); /* a key with no value */
    cr_assert_eq(kf_cli_json_finish(&j).code, KF_ERR_INTERNAL);
    fclose(f);
    free(buf);
}

/* ---- terminal-safe text -------------------------------------------------------------------- */

Test(cli_parts, text_output_defuses_terminal_escapes)
{
    static const struct {
        const char *in;
        const char *out;
    } cases[] = {
        { "plain label", "plain label" },   { "a\x1b[31mred", "a\\x1b[31mred" },
        { "tab\there", "tab\\x09here" },    { "back\\slash", "back\\\\slash" },
        { "csi\xc2\x9b", "csi\\xc2\\x9b" }, /* C1 control U+009B */
        { "caf\xc3\xa9", "caf\xc3\xa9" },   { "bad\xff", "bad\\xff" },
        { "del\x7f", "del\\x7f" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        kf_cli_text_safe(f, cases[i].in);
        fclose(f);
        cr_assert_str_eq(buf, cases[i].out, "case %zu", i);
        free(buf);
    }
}

/* ---- options ------------------------------------------------------------------------------- */

#define ARGS_ALL                                                                                   \
    (KF_CLI_OPT_LABEL | KF_CLI_OPT_PIN_FILE | KF_CLI_OPT_MODULE | KF_CLI_OPT_JSON | KF_CLI_OPT_ID)

struct args_case {
    int argc;
    char argv[7][24]; /* argv[0] is the subcommand */
    uint64_t allowed;
    int32_t code;
    char label[16]; /* expected --label on success, "" for none */
    size_t npos;    /* expected arguments on success */
    bool help;
    char why[48];
};

static struct args_case args_cases[] = {
    { 4, { "gen", "--label", "x", "URI" }, ARGS_ALL, KF_ERR_OK, "x", 1, false, "separate value" },
    { 3, { "gen", "URI", "--label=x" }, ARGS_ALL, KF_ERR_OK, "x", 1, false, "=value, after arg" },
    { 3, { "gen", "--", "--label" }, ARGS_ALL, KF_ERR_OK, "", 1, false, "-- ends options" },
    { 3, { "gen", "-", "--json" }, ARGS_ALL, KF_ERR_OK, "", 1, false, "- is an argument" },
    { 3, { "gen", "--bogus", "-h" }, ARGS_ALL, KF_ERR_OK, "", 0, true, "help wins" },
    { 2, { "gen", "--label" }, ARGS_ALL, KF_ERR_INVALID_ARG, "", 0, false, "missing value" },
    { 3, { "gen", "--label", "" }, ARGS_ALL, KF_ERR_INVALID_ARG, "", 0, false, "empty value" },
    { 3, { "gen", "--lab", "x" }, ARGS_ALL, KF_ERR_INVALID_ARG, "", 0, false, "no abbreviation" },
    { 3, { "gen", "--pin-f", "f" }, ARGS_ALL, KF_ERR_INVALID_ARG, "", 0, false, "no abbreviation" },
    { 2, { "gen", "--pin=1234secret" }, ARGS_ALL, KF_ERR_PIN_IN_ARGV, "", 0, false, "--pin=" },
    { 3, { "gen", "--pin", "1234secret" }, ARGS_ALL, KF_ERR_PIN_IN_ARGV, "", 0, false, "--pin" },
    { 3, { "gen", "--so-pin", "1234secret" }, ARGS_ALL, KF_ERR_PIN_IN_ARGV, "", 0, false, "so" },
    { 5,
      { "gen", "--label", "a", "--label", "b" },
      ARGS_ALL,
      KF_ERR_INVALID_ARG,
      "",
      0,
      false,
      "repeated" },
    { 2, { "gen", "--json=1" }, ARGS_ALL, KF_ERR_INVALID_ARG, "", 0, false, "switch with value" },
    { 2, { "gen", "--json" }, KF_CLI_OPT_LABEL, KF_ERR_INVALID_ARG, "", 0, false, "not allowed" },
    { 2, { "gen", "-x" }, ARGS_ALL, KF_ERR_INVALID_ARG, "", 0, false, "short option" },
    { 6,
      { "gen", "a", "b", "c", "d", "e" },
      ARGS_ALL,
      KF_ERR_INVALID_ARG,
      "",
      0,
      false,
      "too many" },
};

ParameterizedTestParameters(cli_parts, args_parse)
{
    return cr_make_param_array(struct args_case, args_cases,
                               sizeof(args_cases) / sizeof(args_cases[0]));
}

ParameterizedTest(struct args_case *c, cli_parts, args_parse)
{
    char *argv[8] = { 0 };
    for (int i = 0; i < c->argc; i++) {
        argv[i] = c->argv[i];
    }
    struct kf_cli_args a;
    kf_err_clear();
    kf_result r = kf_cli_args_parse(c->argc, argv, c->allowed, &a);
    cr_assert_eq(r.code, c->code, "%s: got %s", c->why, kf_err_name(r.code));
    /* No message may carry the value of an option (it may be a PIN). */
    cr_assert_null(strstr(kf_err_last_context(), "1234secret"), "%s: %s", c->why,
                   kf_err_last_context());
    if (!kf_ok(r)) {
        return;
    }
    cr_assert_eq(a.help, c->help, "%s", c->why);
    cr_assert_eq(a.npos, c->npos, "%s", c->why);
    if (c->label[0] != '\0') {
        cr_assert_str_eq(a.label, c->label, "%s", c->why);
    } else {
        cr_assert_null(a.label, "%s", c->why);
    }
}

Test(cli_parts, args_expect_counts_arguments)
{
    struct kf_cli_args a = { .npos = 1, .pos = { "x" } };
    cr_assert(kf_ok(kf_cli_args_expect(&a, 1, 1, "URI")));
    cr_assert_eq(kf_cli_args_expect(&a, 2, 2, "FILE URI").code, KF_ERR_INVALID_ARG);
    cr_assert_not_null(strstr(kf_err_last_context(), "FILE URI"));
    cr_assert_eq(kf_cli_args_expect(&a, 0, 0, "nothing").code, KF_ERR_INVALID_ARG);
    cr_assert_not_null(strstr(kf_err_last_context(), "'x'"));
}

struct hex_case {
    char text[160];
    int32_t code;
    size_t len;
    uint8_t bytes[4];
};

static struct hex_case hex_cases[] = {
    { "a1b2", KF_ERR_OK, 2, { 0xa1, 0xb2 } },
    { "A1:B2:0f", KF_ERR_OK, 3, { 0xa1, 0xb2, 0x0f } },
    { "00", KF_ERR_OK, 1, { 0 } },
    { "", KF_ERR_BAD_HEX, 0, { 0 } },
    { "a", KF_ERR_BAD_HEX, 0, { 0 } },
    { "a1b", KF_ERR_BAD_HEX, 0, { 0 } },
    { "zz", KF_ERR_BAD_HEX, 0, { 0 } },
    { ":a1", KF_ERR_BAD_HEX, 0, { 0 } },
    { "a1:", KF_ERR_BAD_HEX, 0, { 0 } },
    { "a1::b2", KF_ERR_BAD_HEX, 0, { 0 } },
    { "0x01", KF_ERR_BAD_HEX, 0, { 0 } },
    { "a1 b2", KF_ERR_BAD_HEX, 0, { 0 } },
    /* 65 bytes: one more than CKA_ID holds in struct kf_hsm_key_info */
    { "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
      "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff00",
      KF_ERR_TOO_LARGE,
      0,
      { 0 } },
};

ParameterizedTestParameters(cli_parts, parse_hex)
{
    return cr_make_param_array(struct hex_case, hex_cases,
                               sizeof(hex_cases) / sizeof(hex_cases[0]));
}

ParameterizedTest(struct hex_case *c, cli_parts, parse_hex)
{
    uint8_t out[64];
    size_t len = 999;
    kf_result r = kf_cli_parse_hex(c->text, "--id", out, sizeof(out), &len);
    cr_assert_eq(r.code, c->code, "'%s': got %s", c->text, kf_err_name(r.code));
    if (!kf_ok(r)) {
        cr_assert_eq(len, 999, "out_len written on failure");
        cr_assert_not_null(strstr(kf_err_last_context(), "--id"));
        return;
    }
    cr_assert_eq(len, c->len);
    cr_assert_eq(memcmp(out, c->bytes, len), 0);
}

/* ---- URIs ---------------------------------------------------------------------------------- */

Test(cli_parts, pin_value_is_found_in_the_query_only)
{
    static const struct {
        const char *uri;
        bool has;
    } cases[] = {
        { "pkcs11:token=a?pin-value=1", true },
        { "pkcs11:token=a?module-name=x&pin-value=1", true },
        { "pkcs11:token=a?PIN-VALUE=1", true },
        { "pkcs11:token=a?pin-value", true },
        { "pkcs11:object=pin-value", false },
        { "pkcs11:token=a?pin-source=/f", false },
        { "pkcs11:token=a?pin-valuex=1", false },
        { "pkcs11:token=a?xpin-value=1", false },
        { "pkcs11:token=a", false },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cr_assert_eq(kf_cli_uri_text_has_pin_value(cases[i].uri), cases[i].has, "%s", cases[i].uri);
    }
}

Test(cli_parts, uri_with_pin_value_is_refused_without_echoing_it)
{
    struct kf_hsm_uri *uri = NULL;
    kf_result r = kf_cli_uri_parse("pkcs11:token=a;object=b?pin-value=1234secret", &uri);
    cr_assert_eq(r.code, KF_ERR_PIN_IN_ARGV);
    cr_assert_null(uri);
    char msg[512];
    kf_err_describe(msg, sizeof(msg));
    cr_assert_null(strstr(msg, "1234secret"), "%s", msg);
    cr_assert_not_null(strstr(msg, "pin-value"), "%s", msg);
    cr_assert(kf_ok(kf_cli_uri_parse("pkcs11:token=a?pin-source=/x", &uri)));
    kf_hsm_uri_free(uri);
}

Test(cli_parts, token_uri_is_encoded_and_reads_back)
{
    struct kf_hsm_token_info ti = { .flags = CKF_TOKEN_INITIALIZED };
    snprintf(ti.label, sizeof(ti.label), "q\"b\\s\tt;");
    snprintf(ti.manufacturer, sizeof(ti.manufacturer), "Maker & Co");
    snprintf(ti.model, sizeof(ti.model), "M1");
    snprintf(ti.serial, sizeof(ti.serial), "00ff");
    char *text = NULL;
    cr_assert(kf_ok(kf_cli_uri_of_token_info(&ti, &text)));
    cr_assert_null(strstr(text, "Maker & Co"), "unencoded: %s", text);
    struct kf_hsm_uri *uri = NULL;
    cr_assert(kf_ok(kf_hsm_uri_parse(text, &uri)), "hsm/ cannot parse %s", text);
    cr_assert_str_eq(kf_hsm_uri_token(uri), ti.label);
    cr_assert_str_eq(kf_hsm_uri_manufacturer(uri), ti.manufacturer);
    cr_assert_str_eq(kf_hsm_uri_serial(uri), ti.serial);
    cr_assert_str_eq(kf_hsm_uri_model(uri), ti.model);
    cr_assert_not(kf_hsm_uri_names_object(uri));
    kf_hsm_uri_free(uri);
    free(text);
}
