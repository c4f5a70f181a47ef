/* tools/keyfort/out_json.c - JSON output (RFC 8259) with proper string escaping. */
#include "tools/keyfort/out.h"

#include <string.h>

size_t kf_cli_utf8_seq_len(const uint8_t *p, size_t len)
{
    if (p == NULL || len == 0) {
        return 0;
    }
    uint8_t b0 = p[0];
    if (b0 < 0x80) {
        return 1;
    }
    size_t need;
    uint8_t lo = 0x80; /* allowed range of the second byte (RFC 3629 s4) */
    uint8_t hi = 0xbf;
    if (b0 >= 0xc2 && b0 <= 0xdf) {
        need = 2;
    } else if (b0 >= 0xe0 && b0 <= 0xef) {
        need = 3;
        lo = b0 == 0xe0 ? 0xa0 : 0x80; /* no overlong forms */
        hi = b0 == 0xed ? 0x9f : 0xbf; /* no UTF-16 surrogates */
    } else if (b0 >= 0xf0 && b0 <= 0xf4) {
        need = 4;
        lo = b0 == 0xf0 ? 0x90 : 0x80;
        hi = b0 == 0xf4 ? 0x8f : 0xbf; /* nothing above U+10FFFF */
    } else {
        return 0;
    }
    if (len < need || p[1] < lo || p[1] > hi) {
        return 0;
    }
    for (size_t i = 2; i < need; i++) {
        if (p[i] < 0x80 || p[i] > 0xbf) {
            return 0;
        }
    }
    return need;
}

void kf_cli_json_write_escaped(FILE *f, const uint8_t *p, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    fputc('"', f);
    size_t i = 0;
    while (i < len) {
        uint8_t c = p[i];
        switch (c) {
        case '"':
            fputs("\\\"", f);
            break;
        case '\\':
            fputs("\\\\", f);
            break;
        case '\b':
            fputs("\\b", f);
            break;
        case '\f':
            fputs("\\f", f);
            break;
        case '\n':
            fputs("\\n", f);
            break;
        case '\r':
            fputs("\\r", f);
            break;
        case '\t':
            fputs("\\t", f);
            break;
        default:
            if (c < 0x20) {
                fprintf(f, "\\u00%c%c", hex[c >> 4], hex[c & 0xf]);
                break;
            }
            size_t n = kf_cli_utf8_seq_len(p + i, len - i);
            if (n == 0) {
                fputs("\\ufffd", f); /* JSON text must be UTF-8 (RFC 8259 s8.1) */
                break;
            }
            fwrite(p + i, 1, n, f);
            i += n;
            continue;
        }
        i++;
    }
    fputc('"', f);
}

void kf_cli_json_init(struct kf_cli_json *j, FILE *f)
{
    *j = (struct kf_cli_json){ .f = f };
    j->first[0] = true;
}

static void json_indent(struct kf_cli_json *j)
{
    fputc('\n', j->f);
    for (unsigned d = 0; d < j->depth; d++) {
        fputs("  ", j->f);
    }
}

/* Separator and indentation before a value or a key. */
static void json_pre(struct kf_cli_json *j)
{
    if (j->after_key) {
        j->after_key = false;
        return;
    }
    if (j->depth > 0) {
        if (!j->first[j->depth]) {
            fputc(',', j->f);
        }
        json_indent(j);
    }
    j->first[j->depth] = false;
}

static void json_open(struct kf_cli_json *j, char c)
{
    json_pre(j);
    if (j->depth == KF_CLI_JSON_MAX_DEPTH) {
        j->failed = true;
        return;
    }
    fputc(c, j->f);
    j->depth++;
    j->first[j->depth] = true;
}

static void json_close(struct kf_cli_json *j, char c)
{
    if (j->depth == 0 || j->after_key) {
        j->failed = true;
        return;
    }
    bool empty = j->first[j->depth];
    j->depth--;
    if (!empty) {
        json_indent(j);
    }
    fputc(c, j->f);
}

void kf_cli_json_object_begin(struct kf_cli_json *j)
{
    json_open(j, '{');
}

void kf_cli_json_object_end(struct kf_cli_json *j)
{
    json_close(j, '}');
}

void kf_cli_json_array_begin(struct kf_cli_json *j)
{
    json_open(j, '[');
}

void kf_cli_json_array_end(struct kf_cli_json *j)
{
    json_close(j, ']');
}

void kf_cli_json_key(struct kf_cli_json *j, const char *name)
{
    if (j->after_key || j->depth == 0) {
        j->failed = true;
    }
    json_pre(j);
    kf_cli_json_write_escaped(j->f, (const uint8_t *)name, strlen(name));
    fputs(": ", j->f);
    j->after_key = true;
}

void kf_cli_json_string_bytes(struct kf_cli_json *j, const uint8_t *p, size_t len)
{
    json_pre(j);
    kf_cli_json_write_escaped(j->f, p, len);
}

void kf_cli_json_string(struct kf_cli_json *j, const char *s)
{
    if (s == NULL) {
        kf_cli_json_null(j);
        return;
    }
    kf_cli_json_string_bytes(j, (const uint8_t *)s, strlen(s));
}

void kf_cli_json_uint(struct kf_cli_json *j, unsigned long long v)
{
    json_pre(j);
    fprintf(j->f, "%llu", v);
}

void kf_cli_json_bool(struct kf_cli_json *j, bool v)
{
    json_pre(j);
    fputs(v ? "true" : "false", j->f);
}

void kf_cli_json_null(struct kf_cli_json *j)
{
    json_pre(j);
    fputs("null", j->f);
}

void kf_cli_json_hex(struct kf_cli_json *j, const uint8_t *p, size_t len)
{
    json_pre(j);
    fputc('"', j->f);
    kf_cli_text_hex(j->f, p, len);
    fputc('"', j->f);
}

KF_RESULT kf_cli_json_finish(struct kf_cli_json *j)
{
    KF_ENSURE_REF(j);
    KF_ENSURE(!j->failed && j->depth == 0 && !j->after_key, KF_ERR_INTERNAL);
    fputc('\n', j->f);
    return KF_OK;
}
