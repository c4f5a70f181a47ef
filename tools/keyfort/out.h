/* tools/keyfort/out.h - what keyfort prints: JSON (out_json.c) and terminal-safe text
 * (out_text.c). Token labels and other strings read from a token are untrusted bytes: JSON
 * escapes them and replaces invalid UTF-8, text output shows control bytes as \xNN so a
 * label cannot move the cursor or rewrite the terminal. */
#ifndef KF_TOOLS_KEYFORT_OUT_H
#define KF_TOOLS_KEYFORT_OUT_H

#include "common/kf_result.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Deepest nesting a keyfort JSON document has, with room to spare. */
#define KF_CLI_JSON_MAX_DEPTH 8

/**
 * A streaming JSON writer that places commas, colons and indentation itself, so every
 * document it finishes is well formed. Members are written in call order: commands call
 * them in a fixed order, which keeps the keys stable.
 */
struct kf_cli_json {
    FILE *f; /* borrowed */
    unsigned depth;
    bool first[KF_CLI_JSON_MAX_DEPTH + 1]; /* nothing written yet at this depth */
    bool after_key;                        /* a key was written: the value follows inline */
    bool failed;                           /* nesting misuse (a bug); reported by _finish */
};

void kf_cli_json_init(struct kf_cli_json *j, FILE *f);
void kf_cli_json_object_begin(struct kf_cli_json *j);
void kf_cli_json_object_end(struct kf_cli_json *j);
void kf_cli_json_array_begin(struct kf_cli_json *j);
void kf_cli_json_array_end(struct kf_cli_json *j);
/** Member name; the next value call writes its value. */
void kf_cli_json_key(struct kf_cli_json *j, const char *name);
void kf_cli_json_string(struct kf_cli_json *j, const char *s);
/** A string from @p len bytes that need not be NUL-terminated (and may hold NULs). */
void kf_cli_json_string_bytes(struct kf_cli_json *j, const uint8_t *p, size_t len);
void kf_cli_json_uint(struct kf_cli_json *j, unsigned long long v);
void kf_cli_json_bool(struct kf_cli_json *j, bool v);
void kf_cli_json_null(struct kf_cli_json *j);
/** Hex string of @p len bytes ("" for none). */
void kf_cli_json_hex(struct kf_cli_json *j, const uint8_t *p, size_t len);
/** End the document with a newline. Errors: INTERNAL when the nesting was unbalanced. */
KF_RESULT kf_cli_json_finish(struct kf_cli_json *j);

/**
 * Write @p p as a JSON string literal, quotes included: '"' and '\\' escaped, control
 * characters as \n \t ... or \u00XX, each byte of invalid UTF-8 as U+FFFD. Exposed for tests
 * of the writer and for one-off values.
 */
void kf_cli_json_write_escaped(FILE *f, const uint8_t *p, size_t len);

/** Write text read from a token with control bytes, DEL and invalid UTF-8 shown as \xNN
 *  (and '\\' as "\\\\" so the escapes are unambiguous). */
void kf_cli_text_safe(FILE *f, const char *s);
/** Lowercase hex of @p len bytes. */
void kf_cli_text_hex(FILE *f, const uint8_t *p, size_t len);

/**
 * Length of the valid UTF-8 sequence (1..4) at the start of @p p, or 0 when the bytes there
 * are not valid UTF-8 (overlong forms, surrogates and code points above U+10FFFF refused,
 * RFC 3629 s4).
 */
size_t kf_cli_utf8_seq_len(const uint8_t *p, size_t len);

#endif
