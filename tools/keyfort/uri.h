/* tools/keyfort/uri.h - pkcs11: URIs on keyfort's command line and in its output. */
#ifndef KF_TOOLS_KEYFORT_URI_H
#define KF_TOOLS_KEYFORT_URI_H

#include "common/kf_result.h"
#include "hsm/hsm.h"

/**
 * Parse a URI given on the command line. A URI with a pin-value is refused before and after
 * parsing: the PIN is already visible to every user through ps and /proc/PID/cmdline.
 * Errors: PIN_IN_ARGV, and those of kf_hsm_uri_parse (the INPUT class). Caller frees *out
 * with kf_hsm_uri_free.
 */
KF_RESULT kf_cli_uri_parse(const char *text, struct kf_hsm_uri **out);

/** True when the query part of @p text has a pin-value attribute (RFC 7512 s2.4). */
bool kf_cli_uri_text_has_pin_value(const char *text);

/** URI of a token from its info (kf_hsm_token_info_uri). Caller frees *out with free(). */
KF_RESULT kf_cli_uri_of_token_info(const struct kf_hsm_token_info *ti, char **out);

#endif
