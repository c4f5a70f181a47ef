/* dnssec/name.c - wire-form domain names: checks, case, canonical order, text. */
#include "dnssec/dnssec.h"

#include <string.h>

static inline uint8_t name_lower(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

kf_result kf_dnssec_name_check(const uint8_t *name, size_t max, size_t *out_len)
{
    KF_ENSURE_REF(name);
    KF_ENSURE_REF(out_len);
    size_t pos = 0;
    for (;;) {
        KF_ENSURE(pos < max, KF_ERR_SHORT_INPUT);
        uint8_t len = name[pos];
        /* 0xC0 is a compression pointer, 0x40/0x80 are obsolete label types: none belongs in
         * RDATA that is signed (RFC 4034 s6.2) or in a zone file's wire form. */
        KF_ENSURE(len <= 63, KF_ERR_MALFORMED);
        KF_ENSURE(max - pos > len, KF_ERR_SHORT_INPUT);
        pos += 1u + len;
        KF_ENSURE(pos <= KF_DNS_MAX_NAME, KF_ERR_MALFORMED);
        if (len == 0) {
            break;
        }
    }
    *out_len = pos;
    return KF_OK;
}

void kf_dnssec_name_lower(uint8_t *name)
{
    while (*name != 0) {
        uint8_t len = *name++;
        for (uint8_t i = 0; i < len; i++) {
            name[i] = name_lower(name[i]);
        }
        name += len;
    }
}

unsigned kf_dnssec_name_labels(const uint8_t *name)
{
    unsigned n = 0;
    while (*name != 0) {
        n++;
        name += 1u + *name;
    }
    return n;
}

/* Label start offsets of a name, leftmost first; returns the count. */
static unsigned name_label_offsets(const uint8_t *name, uint8_t out[128])
{
    unsigned n = 0;
    size_t pos = 0;
    while (name[pos] != 0 && n < 128) {
        out[n++] = (uint8_t)pos;
        pos += 1u + name[pos];
    }
    return n;
}

int kf_dnssec_name_cmp(const uint8_t *a, const uint8_t *b)
{
    uint8_t la[128];
    uint8_t lb[128];
    unsigned na = name_label_offsets(a, la);
    unsigned nb = name_label_offsets(b, lb);
    /* RFC 4034 s6.1: labels compared right to left, each as lower-cased octets; a label
     * that is a prefix of the other sorts first, and so does a name with fewer labels. */
    while (na > 0 && nb > 0) {
        const uint8_t *pa = a + la[--na];
        const uint8_t *pb = b + lb[--nb];
        uint8_t len_a = pa[0];
        uint8_t len_b = pb[0];
        uint8_t common = len_a < len_b ? len_a : len_b;
        for (uint8_t i = 1; i <= common; i++) {
            uint8_t ca = name_lower(pa[i]);
            uint8_t cb = name_lower(pb[i]);
            if (ca != cb) {
                return ca < cb ? -1 : 1;
            }
        }
        if (len_a != len_b) {
            return len_a < len_b ? -1 : 1;
        }
    }
    return na == nb ? 0 : (na < nb ? -1 : 1);
}

bool kf_dnssec_name_is_sub(const uint8_t *name, const uint8_t *parent)
{
    unsigned nn = kf_dnssec_name_labels(name);
    unsigned np = kf_dnssec_name_labels(parent);
    if (nn < np) {
        return false;
    }
    for (unsigned i = 0; i < nn - np; i++) {
        name += 1u + *name;
    }
    for (;;) {
        if (*name != *parent) {
            return false;
        }
        if (*name == 0) {
            return true;
        }
        for (uint8_t i = 1; i <= *name; i++) {
            if (name_lower(name[i]) != name_lower(parent[i])) {
                return false;
            }
        }
        name += 1u + *name;
        parent += 1u + *parent;
    }
}

char *kf_dnssec_name_to_text(const uint8_t *name, char *out, size_t cap)
{
    size_t o = 0;
    if (cap == 0) {
        return out;
    }
    if (*name == 0) {
        (void)snprintf(out, cap, ".");
        return out;
    }
    while (*name != 0 && o + 5 < cap) {
        uint8_t len = *name++;
        for (uint8_t i = 0; i < len && o + 5 < cap; i++) {
            uint8_t c = name[i];
            if (c == '.' || c == '\\' || c == '(' || c == ')' || c == ';' || c == '"' || c == '@' ||
                c == '$') {
                out[o++] = '\\';
                out[o++] = (char)c;
            } else if (c <= 0x20 || c >= 0x7f) {
                o += (size_t)snprintf(out + o, cap - o, "\\%03u", c);
            } else {
                out[o++] = (char)c;
            }
        }
        name += len;
        out[o++] = '.';
    }
    out[o < cap ? o : cap - 1] = '\0';
    return out;
}

kf_result kf_dnssec_name_from_text(const char *text, uint8_t *out, size_t *out_len)
{
    KF_ENSURE_REF(text);
    KF_ENSURE_REF(out);
    KF_ENSURE_REF(out_len);
    size_t o = 0;
    const char *p = text;
    if (strcmp(text, ".") == 0) {
        out[0] = 0;
        *out_len = 1;
        return KF_OK;
    }
    while (*p != '\0') {
        size_t len_at = o++;
        uint8_t len = 0;
        KF_ENSURE(o < KF_DNS_MAX_NAME, KF_ERR_MALFORMED);
        while (*p != '\0' && *p != '.') {
            unsigned c = (unsigned char)*p++;
            if (c == '\\') {
                if (p[0] >= '0' && p[0] <= '9' && p[1] >= '0' && p[1] <= '9' && p[2] >= '0' &&
                    p[2] <= '9') {
                    c = (unsigned)((p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0'));
                    KF_ENSURE(c <= 255, KF_ERR_MALFORMED);
                    p += 3;
                } else {
                    KF_ENSURE(*p != '\0', KF_ERR_MALFORMED);
                    c = (unsigned char)*p++;
                }
            }
            KF_ENSURE(len < 63 && o < KF_DNS_MAX_NAME - 1, KF_ERR_MALFORMED);
            out[o++] = (uint8_t)c;
            len++;
        }
        KF_ENSURE(len > 0, KF_ERR_MALFORMED); /* empty label: "a..b" or a leading dot */
        out[len_at] = len;
        if (*p == '.') {
            p++;
        }
    }
    KF_ENSURE(o < KF_DNS_MAX_NAME, KF_ERR_MALFORMED);
    out[o++] = 0;
    *out_len = o;
    return KF_OK;
}
