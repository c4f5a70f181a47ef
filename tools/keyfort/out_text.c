/* tools/keyfort/out_text.c - plain-text output that is safe on a terminal. */
#include "tools/keyfort/out.h"

#include <string.h>

void kf_cli_text_safe(FILE *f, const char *s)
{
    if (s == NULL) {
        return;
    }
    const uint8_t *p = (const uint8_t *)s;
    size_t len = strlen(s);
    size_t i = 0;
    while (i < len) {
        uint8_t c = p[i];
        if (c == '\\') {
            fputs("\\\\", f);
            i++;
            continue;
        }
        if (c < 0x20 || c == 0x7f) {
            fprintf(f, "\\x%02x", c);
            i++;
            continue;
        }
        size_t n = kf_cli_utf8_seq_len(p + i, len - i);
        if (n == 0) {
            fprintf(f, "\\x%02x", c);
            i++;
            continue;
        }
        /* C1 controls (U+0080..U+009F) are terminal escapes too. */
        if (n == 2 && c == 0xc2 && p[i + 1] < 0xa0) {
            fprintf(f, "\\x%02x\\x%02x", c, p[i + 1]);
            i += 2;
            continue;
        }
        fwrite(p + i, 1, n, f);
        i += n;
    }
}

void kf_cli_text_hex(FILE *f, const uint8_t *p, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        fprintf(f, "%02x", p[i]);
    }
}
