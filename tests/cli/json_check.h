/* tests/cli/json_check.h - a small strict JSON (RFC 8259) reader for the CLI tests.
 *
 * Written for the tests and independent of tools/keyfort/out_json.c, so the tests read back
 * what keyfort wrote instead of trusting it: any syntax error, raw control character,
 * invalid UTF-8 or trailing garbage makes json_parse() return NULL. */
#ifndef KF_TESTS_CLI_JSON_CHECK_H
#define KF_TESTS_CLI_JSON_CHECK_H

#include <stdbool.h>
#include <stddef.h>

enum json_type { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT };

struct json {
    enum json_type type;
    bool boolean;
    double number;
    char *str;           /* JSON_STRING: decoded, NUL-terminated (owned) */
    size_t str_len;      /* without the NUL; the string may hold \u0000 */
    size_t n;            /* JSON_ARRAY / JSON_OBJECT: number of members */
    struct json **items; /* owned */
    char **keys;         /* JSON_OBJECT: decoded member names (owned) */
};

/** Parse exactly one JSON text of @p len bytes; NULL when it is not valid JSON. */
struct json *json_parse(const char *text, size_t len);
void json_free(struct json *j);
/** Member @p key of an object (the last one if repeated); NULL when absent or not an object. */
const struct json *json_get(const struct json *obj, const char *key);
/** String value of member @p key, or NULL when absent or not a string. */
const char *json_get_str(const struct json *obj, const char *key);
/** Number of times @p key appears in the object (a writer must not repeat keys). */
size_t json_key_count(const struct json *obj, const char *key);

#endif
