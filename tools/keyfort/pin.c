/* tools/keyfort/pin.c - PIN sources of the keyfort command. */
#include "tools/keyfort/pin.h"

#include <stdio.h>
#include <unistd.h>

void kf_cli_open_opts_init(const struct kf_cli_args *a, struct kf_hsm_open_opts *out)
{
    *out = (struct kf_hsm_open_opts){
        .module = a->module,
        .pin_file = a->pin_file,
        /* A prompt only when a person can answer it: scripts and CI get PIN_REQUIRED. */
        .allow_prompt = isatty(STDIN_FILENO) == 1,
        /* One command, one login: nothing needs the PIN after it. */
        .no_pin_cache = true,
        .pool_max = 0,
    };
}

KF_RESULT kf_cli_token_open(const struct kf_cli_args *a, const struct kf_hsm_uri *uri,
                            struct kf_hsm_token **out)
{
    KF_ENSURE_REF(a);
    KF_ENSURE_REF(uri);
    KF_ENSURE_REF(out);
    struct kf_hsm_open_opts opts;
    kf_cli_open_opts_init(a, &opts);
    return kf_hsm_token_open(uri, &opts, out);
}

KF_RESULT kf_cli_pin_new(const char *file, const char *what, const char *option,
                         struct kf_secret **out)
{
    KF_ENSURE_REF(what);
    KF_ENSURE_REF(option);
    KF_ENSURE_REF(out);
    if (file != NULL) {
        return kf_secret_from_file(file, out);
    }
    if (isatty(STDIN_FILENO) != 1) {
        kf_err_note_context("no %s: give %s FILE (standard input is not a terminal, so "
                            "there is no prompt)",
                            what, option);
        KF_BAIL(KF_ERR_PIN_REQUIRED);
    }
    char prompt[96];
    snprintf(prompt, sizeof(prompt), "New %s: ", what);
    struct kf_secret *first KF_SECRET_AUTO = NULL;
    KF_GUARD(kf_secret_from_prompt(prompt, &first));
    snprintf(prompt, sizeof(prompt), "Repeat the new %s: ", what);
    struct kf_secret *second KF_SECRET_AUTO = NULL;
    KF_GUARD(kf_secret_from_prompt(prompt, &second));
    if (!kf_secret_equal(first, second)) {
        kf_err_note_context("the two %s entries differ", what);
        KF_BAIL(KF_ERR_INVALID_ARG);
    }
    *out = first;
    first = NULL; /* handed out: the cleanup must not wipe it */
    return KF_OK;
}
