/* tests/cli/json_check.c - strict JSON reader for the CLI tests (see json_check.h). */
#include "tests/cli/json_check.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct jp {
    const unsigned char *p;
    size_t len;
    size_t pos;
    unsigned depth;
};

#define JSON_MAX_DEPTH 64

static struct json *jp_value(struct jp *jp);

static void jp_ws(struct jp *jp)
{
    while (jp->pos < jp->len && (jp->p[jp->pos] == ' ' || jp->p[jp->pos] == '\t' ||
                                 jp->p[jp->pos] == '\n' || jp->p[jp->pos] == '\r')) {
        jp->pos++;
    }
}

static bool jp_lit(struct jp *jp, const char *lit)
{
    size_t n = strlen(lit);
    if (jp->len - jp->pos < n || memcmp(jp->p + jp->pos, lit, n) != 0) {
        return false;
    }
    jp->pos += n;
    return true;
}

static struct json *jp_new(enum json_type t)
{
    struct json *j = calloc(1, sizeof(*j));
    if (j != NULL) {
        j->type = t;
    }
    return j;
}

void json_free(struct json *j)
{
    if (j == NULL) {
        return;
    }
    for (size_t i = 0; i < j->n; i++) {
        json_free(j->items[i]);
        if (j->keys != NULL) {
            free(j->keys[i]);
        }
    }
    free(j->items);
    free(j->keys);
    free(j->str);
    free(j);
}

static bool jp_put(char **buf, size_t *len, size_t *cap, const void *p, size_t n)
{
    if (*len + n + 1 > *cap) {
        size_t c = (*cap == 0 ? 32 : *cap * 2) + n;
        char *nb = realloc(*buf, c);
        if (nb == NULL) {
            return false;
        }
        *buf = nb;
        *cap = c;
    }
    memcpy(*buf + *len, p, n);
    *len += n;
    (*buf)[*len] = '\0';
    return true;
}

static int jp_hex4(struct jp *jp, uint32_t *out)
{
    if (jp->len - jp->pos < 4) {
        return -1;
    }
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned char c = jp->p[jp->pos + (size_t)i];
        int d = (c >= '0' && c <= '9')   ? c - '0'
                : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                         : -1;
        if (d < 0) {
            return -1;
        }
        v = v << 4 | (uint32_t)d;
    }
    jp->pos += 4;
    *out = v;
    return 0;
}

static size_t jp_utf8_encode(uint32_t cp, unsigned char *o)
{
    if (cp < 0x80) {
        o[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (unsigned char)(0xc0 | cp >> 6);
        o[1] = (unsigned char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (unsigned char)(0xe0 | cp >> 12);
        o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
        o[2] = (unsigned char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (unsigned char)(0xf0 | cp >> 18);
    o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
    o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
    o[3] = (unsigned char)(0x80 | (cp & 0x3f));
    return 4;
}

/* Length of a valid UTF-8 sequence at p (RFC 3629 s4), 0 when invalid. */
static size_t jp_utf8_len(const unsigned char *p, size_t left)
{
    unsigned char c = p[0];
    size_t n;
    unsigned char lo = 0x80;
    unsigned char hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        lo = c == 0xe0 ? 0xa0 : 0x80;
        hi = c == 0xed ? 0x9f : 0xbf;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        lo = c == 0xf0 ? 0x90 : 0x80;
        hi = c == 0xf4 ? 0x8f : 0xbf;
    } else {
        return 0;
    }
    if (left < n || p[1] < lo || p[1] > hi) {
        return 0;
    }
    for (size_t i = 2; i < n; i++) {
        if (p[i] < 0x80 || p[i] > 0xbf) {
            return 0;
        }
    }
    return n;
}

/* A string literal at jp->pos (which is at the opening quote). */
static bool jp_string(struct jp *jp, char **out, size_t *out_len)
{
    char *buf = NULL;
    size_t len = 0;
    size_t cap = 0;
    if (!jp_put(&buf, &len, &cap, "", 0)) {
        return false;
    }
    jp->pos++; /* opening quote */
    for (;;) {
        if (jp->pos >= jp->len) {
            goto fail;
        }
        unsigned char c = jp->p[jp->pos];
        if (c == '"') {
            jp->pos++;
            *out = buf;
            *out_len = len;
            return true;
        }
        if (c < 0x20) {
            goto fail; /* raw control characters must be escaped (RFC 8259 s7) */
        }
        if (c >= 0x80) {
            size_t n = jp_utf8_len(jp->p + jp->pos, jp->len - jp->pos);
            if (n == 0 || !jp_put(&buf, &len, &cap, jp->p + jp->pos, n)) {
                goto fail;
            }
            jp->pos += n;
            continue;
        }
        if (c != '\\') {
            if (!jp_put(&buf, &len, &cap, &c, 1)) {
                goto fail;
            }
            jp->pos++;
            continue;
        }
        jp->pos++;
        if (jp->pos >= jp->len) {
            goto fail;
        }
        unsigned char e = jp->p[jp->pos++];
        unsigned char o[4];
        size_t on = 1;
        switch (e) {
        case '"':
        case '\\':
        case '/':
            o[0] = e;
            break;
        case 'b':
            o[0] = '\b';
            break;
        case 'f':
            o[0] = '\f';
            break;
        case 'n':
            o[0] = '\n';
            break;
        case 'r':
            o[0] = '\r';
            break;
        case 't':
            o[0] = '\t';
            break;
        case 'u': {
            uint32_t cp;
            if (jp_hex4(jp, &cp) != 0) {
                goto fail;
            }
            if (cp >= 0xd800 && cp <= 0xdbff) {
                uint32_t lo;
                if (!jp_lit(jp, "\\u") || jp_hex4(jp, &lo) != 0 || lo < 0xdc00 || lo > 0xdfff) {
                    goto fail;
                }
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            } else if (cp >= 0xdc00 && cp <= 0xdfff) {
                goto fail;
            }
            on = jp_utf8_encode(cp, o);
            break;
        }
        default:
            goto fail;
        }
        if (!jp_put(&buf, &len, &cap, o, on)) {
            goto fail;
        }
    }
fail:
    free(buf);
    return false;
}

static struct json *jp_number(struct jp *jp)
{
    size_t start = jp->pos;
    if (jp->pos < jp->len && jp->p[jp->pos] == '-') {
        jp->pos++;
    }
    if (jp->pos >= jp->len) {
        return NULL;
    }
    if (jp->p[jp->pos] == '0') {
        jp->pos++;
    } else if (jp->p[jp->pos] >= '1' && jp->p[jp->pos] <= '9') {
        while (jp->pos < jp->len && jp->p[jp->pos] >= '0' && jp->p[jp->pos] <= '9') {
            jp->pos++;
        }
    } else {
        return NULL;
    }
    if (jp->pos < jp->len && jp->p[jp->pos] == '.') {
        jp->pos++;
        size_t d = jp->pos;
        while (jp->pos < jp->len && jp->p[jp->pos] >= '0' && jp->p[jp->pos] <= '9') {
            jp->pos++;
        }
        if (jp->pos == d) {
            return NULL;
        }
    }
    if (jp->pos < jp->len && (jp->p[jp->pos] == 'e' || jp->p[jp->pos] == 'E')) {
        jp->pos++;
        if (jp->pos < jp->len && (jp->p[jp->pos] == '+' || jp->p[jp->pos] == '-')) {
            jp->pos++;
        }
        size_t d = jp->pos;
        while (jp->pos < jp->len && jp->p[jp->pos] >= '0' && jp->p[jp->pos] <= '9') {
            jp->pos++;
        }
        if (jp->pos == d) {
            return NULL;
        }
    }
    char tmp[64];
    size_t n = jp->pos - start;
    if (n >= sizeof(tmp)) {
        return NULL;
    }
    memcpy(tmp, jp->p + start, n);
    tmp[n] = '\0';
    struct json *j = jp_new(JSON_NUMBER);
    if (j != NULL) {
        j->number = strtod(tmp, NULL);
    }
    return j;
}

static bool jp_append(struct json *parent, struct json *child, char *key)
{
    struct json **items = realloc(parent->items, (parent->n + 1) * sizeof(*items));
    if (items == NULL) {
        return false;
    }
    parent->items = items;
    if (parent->type == JSON_OBJECT) {
        char **keys = realloc(parent->keys, (parent->n + 1) * sizeof(*keys));
        if (keys == NULL) {
            return false;
        }
        parent->keys = keys;
        parent->keys[parent->n] = key;
    }
    parent->items[parent->n++] = child;
    return true;
}

static struct json *jp_container(struct jp *jp, bool is_object)
{
    if (++jp->depth > JSON_MAX_DEPTH) {
        return NULL;
    }
    struct json *j = jp_new(is_object ? JSON_OBJECT : JSON_ARRAY);
    if (j == NULL) {
        return NULL;
    }
    char close = is_object ? '}' : ']';
    jp->pos++;
    jp_ws(jp);
    if (jp->pos < jp->len && jp->p[jp->pos] == close) {
        jp->pos++;
        jp->depth--;
        return j;
    }
    for (;;) {
        char *key = NULL;
        if (is_object) {
            size_t key_len;
            jp_ws(jp);
            if (jp->pos >= jp->len || jp->p[jp->pos] != '"' || !jp_string(jp, &key, &key_len)) {
                goto fail;
            }
            jp_ws(jp);
            if (!jp_lit(jp, ":")) {
                free(key);
                goto fail;
            }
        }
        struct json *child = jp_value(jp);
        if (child == NULL || !jp_append(j, child, key)) {
            json_free(child);
            free(key);
            goto fail;
        }
        jp_ws(jp);
        if (jp_lit(jp, ",")) {
            continue;
        }
        if (jp->pos < jp->len && jp->p[jp->pos] == close) {
            jp->pos++;
            jp->depth--;
            return j;
        }
        goto fail;
    }
fail:
    json_free(j);
    return NULL;
}

static struct json *jp_value(struct jp *jp)
{
    jp_ws(jp);
    if (jp->pos >= jp->len) {
        return NULL;
    }
    unsigned char c = jp->p[jp->pos];
    struct json *j = NULL;
    switch (c) {
    case '{':
        return jp_container(jp, true);
    case '[':
        return jp_container(jp, false);
    case '"':
        j = jp_new(JSON_STRING);
        if (j != NULL && !jp_string(jp, &j->str, &j->str_len)) {
            json_free(j);
            j = NULL;
        }
        return j;
    case 't':
    case 'f':
        if (jp_lit(jp, "true") || jp_lit(jp, "false")) {
            j = jp_new(JSON_BOOL);
            if (j != NULL) {
                j->boolean = c == 't';
            }
        }
        return j;
    case 'n':
        return jp_lit(jp, "null") ? jp_new(JSON_NULL) : NULL;
    default:
        return jp_number(jp);
    }
}

struct json *json_parse(const char *text, size_t len)
{
    struct jp jp = { .p = (const unsigned char *)text, .len = len };
    struct json *j = jp_value(&jp);
    if (j == NULL) {
        return NULL;
    }
    jp_ws(&jp);
    if (jp.pos != jp.len) {
        json_free(j);
        return NULL;
    }
    return j;
}

const struct json *json_get(const struct json *obj, const char *key)
{
    if (obj == NULL || obj->type != JSON_OBJECT) {
        return NULL;
    }
    const struct json *found = NULL;
    for (size_t i = 0; i < obj->n; i++) {
        if (strcmp(obj->keys[i], key) == 0) {
            found = obj->items[i];
        }
    }
    return found;
}

const char *json_get_str(const struct json *obj, const char *key)
{
    const struct json *v = json_get(obj, key);
    return v != NULL && v->type == JSON_STRING ? v->str : NULL;
}

size_t json_key_count(const struct json *obj, const char *key)
{
    size_t n = 0;
    if (obj == NULL || obj->type != JSON_OBJECT) {
        return 0;
    }
    for (size_t i = 0; i < obj->n; i++) {
        if (strcmp(obj->keys[i], key) == 0) {
            n++;
        }
    }
    return n;
}
