/* tools/keyfort/pin.h - where keyfort gets PINs, and opening a token with them.
 *
 * PIN sources, in order: --pin-file, the URI's pin-source (read by hsm/), a prompt on the
 * terminal when standard input is one. Never argv: there is no --pin option and a URI with
 * pin-value is refused (uri.c). */
#ifndef KF_TOOLS_KEYFORT_PIN_H
#define KF_TOOLS_KEYFORT_PIN_H

#include "common/kf_result.h"
#include "common/kf_secret.h"
#include "hsm/hsm.h"
#include "tools/keyfort/args.h"

/** Open options for a one-shot command: the module and PIN file of @p a, a prompt only on a
 *  terminal, and the PIN wiped right after the first login. */
void kf_cli_open_opts_init(const struct kf_cli_args *a, struct kf_hsm_open_opts *out);

/**
 * Open the token @p uri names (parsed by kf_cli_uri_parse) with the options of @p a.
 * Errors: those of kf_hsm_token_open. Caller releases *out with kf_hsm_token_unref.
 */
KF_RESULT kf_cli_token_open(const struct kf_cli_args *a, const struct kf_hsm_uri *uri,
                            struct kf_hsm_token **out);

/**
 * A new PIN for token init: read from @p file, or asked twice on the terminal when @p file is
 * NULL and standard input is a terminal. @p what names it in prompts and messages ("SO PIN").
 * Errors: those of kf_secret_from_file / _from_prompt, INVALID_ARG (the two entries differ),
 * PIN_REQUIRED (no file and no terminal).
 */
KF_RESULT kf_cli_pin_new(const char *file, const char *what, const char *option,
                         struct kf_secret **out);

#endif
