/* fuzz_uri covers: kf_hsm_uri_parse, kf_hsm_uri_display, kf_hsm_uri_free (hsm/uri.c). */
/* tests/fuzz/fuzz_uri.c - pkcs11: URIs (RFC 7512) come from users, config and other programs.
 *
 * Input: the URI text (a NUL byte ends it early; tests/fuzz/README.md). Checked:
 *   - a failure is a known error code and writes no out-param; a success gives a display text
 *     that starts with "pkcs11:" and has no pin-value attribute (hsm.h, STYLE.md s6);
 *   - the value of a pin-value never appears in the display text or in the error description
 *     (checked when the value is at least 6 unreserved characters with a digit, occurs once in
 *     the input, and the input has no percent-encoding that could spell it elsewhere: then no
 *     fixed message text can contain it either, save "pkcs11");
 *   - the same input gives the same answer twice; nothing leaks (LeakSanitizer).
 * No clock, no RNG. */
#include "common/kf_result.h"
#include "hsm/hsm.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static bool unreserved(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '-' || ch == '.' || ch == '_' || ch == '~';
}

static size_t count_of(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p != NULL; p = strstr(p + 1, needle)) {
        n++;
    }
    return n;
}

/* The first query attribute pin-value of text ("?pin-value=" or "&pin-value=" after the '?';
 * elsewhere it is only part of a label), copied into secret[] when distinctive enough. */
static bool distinctive_pin(const char *text, char *secret, size_t cap)
{
    const char *query = strchr(text, '?');
    if (query == NULL || strchr(text, '%') != NULL) {
        return false;
    }
    const char *at = strstr(query, "pin-value=");
    while (at != NULL && at[-1] != '?' && at[-1] != '&') {
        at = strstr(at + 1, "pin-value=");
    }
    if (at == NULL) {
        return false;
    }
    at += strlen("pin-value=");
    size_t n = 0;
    while (unreserved(at[n])) {
        n++;
    }
    if (n < 6 || n >= cap) {
        return false;
    }
    memcpy(secret, at, n);
    secret[n] = '\0';
    return strpbrk(secret, "0123456789") != NULL && strcmp(secret, "pkcs11") != 0 &&
           count_of(text, secret) == 1;
}

/* True when the query part of a display text has an attribute named pin-value. */
static bool display_has_pin_value(const char *display)
{
    const char *q = strchr(display, '?');
    while (q != NULL) {
        q++;
        if (strncmp(q, "pin-value=", 10) == 0 || strcmp(q, "pin-value") == 0) {
            return true;
        }
        q = strchr(q, '&');
    }
    return false;
}

static int32_t parse_once(const char *text, char *describe, size_t cap, char **out_display)
{
    struct kf_hsm_uri *sentinel = (struct kf_hsm_uri *)(uintptr_t)0x10;
    struct kf_hsm_uri *uri = sentinel;
    kf_err_clear();
    kf_result r = kf_hsm_uri_parse(text, &uri);
    *out_display = NULL;
    if (!kf_ok(r)) {
        CHECK(r.code > 0 && r.code < KF_ERR_COUNT);
        CHECK(kf_err_last_code() == r.code);
        CHECK(uri == sentinel);
        kf_err_describe(describe, cap);
        return r.code;
    }
    CHECK(uri != NULL && uri != sentinel);
    const char *display = kf_hsm_uri_display(uri);
    CHECK(display != NULL);
    CHECK(strncmp(display, "pkcs11:", 7) == 0);
    CHECK(!display_has_pin_value(display));
    *out_display = strdup(display);
    CHECK(*out_display != NULL);
    kf_hsm_uri_free(uri);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    CHECK(text != NULL);
    if (size > 0) {
        memcpy(text, data, size);
    }
    text[size] = '\0';

    char describe[1024] = "";
    char describe2[1024] = "";
    char *display = NULL;
    char *display2 = NULL;
    int32_t code = parse_once(text, describe, sizeof(describe), &display);
    int32_t code2 = parse_once(text, describe2, sizeof(describe2), &display2);
    CHECK(code == code2);
    CHECK(strcmp(describe, describe2) == 0);
    CHECK((display == NULL) == (display2 == NULL));
    CHECK(display == NULL || strcmp(display, display2) == 0);

    char secret[256];
    if (distinctive_pin(text, secret, sizeof(secret))) {
        CHECK(strstr(display != NULL ? display : describe, secret) == NULL);
    }
    free(display);
    free(display2);
    free(text);
    return 0;
}
