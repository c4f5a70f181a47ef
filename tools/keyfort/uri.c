/* tools/keyfort/uri.c - pkcs11: URI arguments and URIs keyfort prints (RFC 7512). */
#include "tools/keyfort/uri.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

bool kf_cli_uri_text_has_pin_value(const char *text)
{
    const char *q = text != NULL ? strchr(text, '?') : NULL;
    if (q == NULL) {
        return false;
    }
    static const char name[] = "pin-value";
    const size_t name_len = sizeof(name) - 1;
    /* Query attributes are separated by '&' (RFC 7512 s2.3, pk11-qattr). */
    for (const char *attr = q + 1; attr != NULL && *attr != '\0';) {
        const char *next = strchr(attr, '&');
        size_t attr_len = next != NULL ? (size_t)(next - attr) : strlen(attr);
        const char *eq = memchr(attr, '=', attr_len);
        size_t key_len = eq != NULL ? (size_t)(eq - attr) : attr_len;
        if (key_len == name_len && strncasecmp(attr, name, name_len) == 0) {
            return true;
        }
        attr = next != NULL ? next + 1 : NULL;
    }
    return false;
}

static KF_RESULT uri_refuse_pin_value(void)
{
    /* The URI is not echoed: it holds the PIN. */
    kf_err_note_context("refusing a URI with pin-value on the command line; use --pin-file "
                        "FILE or pin-source=FILE in the URI");
    KF_BAIL(KF_ERR_PIN_IN_ARGV);
}

KF_RESULT kf_cli_uri_parse(const char *text, struct kf_hsm_uri **out)
{
    KF_ENSURE_REF(text);
    KF_ENSURE_REF(out);
    if (kf_cli_uri_text_has_pin_value(text)) {
        return uri_refuse_pin_value();
    }
    struct kf_hsm_uri *uri = NULL;
    KF_GUARD(kf_hsm_uri_parse(text, &uri));
    if (kf_hsm_uri_has_pin_value(uri)) {
        kf_hsm_uri_free(uri);
        return uri_refuse_pin_value();
    }
    *out = uri;
    return KF_OK;
}

KF_RESULT kf_cli_uri_of_token_info(const struct kf_hsm_token_info *ti, char **out)
{
    return kf_hsm_token_info_uri(ti, out);
}
