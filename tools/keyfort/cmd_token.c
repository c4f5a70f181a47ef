/* tools/keyfort/cmd_token.c - keyfort token init | list. */
#include "tools/keyfort/cli.h"
#include "tools/keyfort/out.h"
#include "tools/keyfort/pin.h"
#include "tools/keyfort/uri.h"

#include <stdio.h>
#include <string.h>

/* CK_TOKEN_INFO.label is 32 bytes, blank padded (PKCS#11 v2.40 s3.2). */
#define CLI_TOKEN_LABEL_MAX 32

KF_RESULT kf_cli_token_init(const struct kf_cli_args *a)
{
    KF_GUARD(kf_cli_args_expect(a, 0, 0, "no arguments"));
    if (a->label == NULL) {
        return kf_cli_usage_error("missing option --label LABEL");
    }
    if (strlen(a->label) > CLI_TOKEN_LABEL_MAX) {
        return kf_cli_usage_error("token label is longer than %d bytes", CLI_TOKEN_LABEL_MAX);
    }
    struct kf_secret *so_pin KF_SECRET_AUTO = NULL;
    KF_GUARD(kf_cli_pin_new(a->so_pin_file, "SO PIN", "--so-pin-file", &so_pin));
    struct kf_secret *user_pin KF_SECRET_AUTO = NULL;
    KF_GUARD(kf_cli_pin_new(a->pin_file, "user PIN", "--pin-file", &user_pin));
    struct kf_hsm_token_info info;
    KF_GUARD(kf_hsm_token_init(a->module, a->label, so_pin, user_pin, &info));
    char *uri KF_CLI_AUTO_FREE = NULL;
    KF_GUARD(kf_cli_uri_of_token_info(&info, &uri));
    printf("%s\n", uri);
    return KF_OK;
}

struct cli_token_flag {
    CK_FLAGS flag;
    const char *name;
};

/* CK_TOKEN_INFO flags worth showing (PKCS#11 v2.40 s3.2, table 10). */
static const struct cli_token_flag cli_token_flags[] = {
    { CKF_TOKEN_INITIALIZED, "initialized" },
    { CKF_USER_PIN_INITIALIZED, "user-pin-initialized" },
    { CKF_LOGIN_REQUIRED, "login-required" },
    { CKF_WRITE_PROTECTED, "write-protected" },
    { CKF_PROTECTED_AUTHENTICATION_PATH, "protected-authentication-path" },
    { CKF_USER_PIN_COUNT_LOW, "user-pin-count-low" },
    { CKF_USER_PIN_FINAL_TRY, "user-pin-final-try" },
    { CKF_USER_PIN_LOCKED, "user-pin-locked" },
    { CKF_SO_PIN_COUNT_LOW, "so-pin-count-low" },
    { CKF_SO_PIN_FINAL_TRY, "so-pin-final-try" },
    { CKF_SO_PIN_LOCKED, "so-pin-locked" },
    { 0, NULL },
};

static bool cli_token_initialized(const struct kf_hsm_token_info *ti)
{
    return (ti->flags & CKF_TOKEN_INITIALIZED) != 0;
}

static KF_RESULT cli_token_list_json(const struct kf_hsm_token_info *infos, size_t n)
{
    struct kf_cli_json j;
    kf_cli_json_init(&j, stdout);
    kf_cli_json_object_begin(&j);
    kf_cli_json_key(&j, "tokens");
    kf_cli_json_array_begin(&j);
    for (size_t i = 0; i < n; i++) {
        const struct kf_hsm_token_info *ti = &infos[i];
        char *uri KF_CLI_AUTO_FREE = NULL;
        if (cli_token_initialized(ti)) {
            KF_GUARD(kf_cli_uri_of_token_info(ti, &uri));
        }
        kf_cli_json_object_begin(&j);
        kf_cli_json_key(&j, "slot");
        kf_cli_json_uint(&j, ti->slot);
        kf_cli_json_key(&j, "label");
        kf_cli_json_string(&j, ti->label);
        kf_cli_json_key(&j, "manufacturer");
        kf_cli_json_string(&j, ti->manufacturer);
        kf_cli_json_key(&j, "model");
        kf_cli_json_string(&j, ti->model);
        kf_cli_json_key(&j, "serial");
        kf_cli_json_string(&j, ti->serial);
        kf_cli_json_key(&j, "initialized");
        kf_cli_json_bool(&j, cli_token_initialized(ti));
        kf_cli_json_key(&j, "flags");
        kf_cli_json_array_begin(&j);
        for (const struct cli_token_flag *f = cli_token_flags; f->name != NULL; f++) {
            if ((ti->flags & f->flag) != 0) {
                kf_cli_json_string(&j, f->name);
            }
        }
        kf_cli_json_array_end(&j);
        kf_cli_json_key(&j, "module");
        kf_cli_json_string(&j, ti->module_path);
        kf_cli_json_key(&j, "uri");
        kf_cli_json_string(&j, uri); /* null for a slot without an initialised token */
        kf_cli_json_object_end(&j);
    }
    kf_cli_json_array_end(&j);
    kf_cli_json_object_end(&j);
    return kf_cli_json_finish(&j);
}

static KF_RESULT cli_token_list_text(const struct kf_hsm_token_info *infos, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct kf_hsm_token_info *ti = &infos[i];
        printf("slot %lu: ", (unsigned long)ti->slot);
        if (!cli_token_initialized(ti)) {
            printf("(no initialised token)\n");
            continue;
        }
        printf("token \"");
        kf_cli_text_safe(stdout, ti->label);
        printf("\"\n  manufacturer: ");
        kf_cli_text_safe(stdout, ti->manufacturer);
        printf("\n  model:        ");
        kf_cli_text_safe(stdout, ti->model);
        printf("\n  serial:       ");
        kf_cli_text_safe(stdout, ti->serial);
        printf("\n  flags:        ");
        const char *sep = "";
        for (const struct cli_token_flag *f = cli_token_flags; f->name != NULL; f++) {
            if ((ti->flags & f->flag) != 0) {
                printf("%s%s", sep, f->name);
                sep = ",";
            }
        }
        char *uri KF_CLI_AUTO_FREE = NULL;
        KF_GUARD(kf_cli_uri_of_token_info(ti, &uri));
        printf("\n  uri:          %s\n", uri);
    }
    return KF_OK;
}

KF_RESULT kf_cli_token_list(const struct kf_cli_args *a)
{
    KF_GUARD(kf_cli_args_expect(a, 0, 0, "no arguments"));
    struct kf_hsm_token_info *infos KF_CLI_AUTO_FREE = NULL;
    size_t n = 0;
    KF_GUARD(kf_hsm_token_list(a->module, &infos, &n));
    if (a->json) {
        return cli_token_list_json(infos, n);
    }
    return cli_token_list_text(infos, n);
}
