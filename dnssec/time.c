/* dnssec/time.c - signature times: parsing, RFC 1982 expansion, printing. */
#include "dnssec/dnssec.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (no time zone, no libc
 * state: timegm() would do, but this is exact and thread-safe by construction). */
int64_t kf_dnssec_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static bool time_digits(const char *p, size_t n, unsigned *out)
{
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)p[i])) {
            return false;
        }
        v = v * 10 + (unsigned)(p[i] - '0');
    }
    *out = v;
    return true;
}

kf_result kf_dnssec_time_parse(const char *text, int64_t now, int64_t *out)
{
    KF_ENSURE_REF(text);
    KF_ENSURE_REF(out);
    size_t n = strlen(text);
    if (strncmp(text, "now", 3) == 0) {
        if (n == 3) {
            *out = now;
            return KF_OK;
        }
        KF_ENSURE(text[3] == '+' || text[3] == '-', KF_ERR_INVALID_ARG);
        char *end = NULL;
        errno = 0;
        long long d = strtoll(text + 4, &end, 10);
        KF_ENSURE(errno == 0 && end != text + 4 && *end == '\0' && d >= 0 && d < (1LL << 40),
                  KF_ERR_INVALID_ARG);
        *out = text[3] == '+' ? now + d : now - d;
        return KF_OK;
    }
    if (n == 14) {
        unsigned y, mo, d, h, mi, s;
        KF_ENSURE(time_digits(text, 4, &y) && time_digits(text + 4, 2, &mo) &&
                      time_digits(text + 6, 2, &d) && time_digits(text + 8, 2, &h) &&
                      time_digits(text + 10, 2, &mi) && time_digits(text + 12, 2, &s),
                  KF_ERR_INVALID_ARG);
        KF_ENSURE(mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h < 24 && mi < 60 && s < 61,
                  KF_ERR_INVALID_ARG);
        *out = kf_dnssec_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
        return KF_OK;
    }
    char *end = NULL;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    KF_ENSURE(errno == 0 && end != text && *end == '\0' && v >= 0 && v < (1LL << 40),
              KF_ERR_INVALID_ARG);
    *out = v;
    return KF_OK;
}

int64_t kf_dnssec_time_expand(uint32_t t, int64_t now)
{
    /* The 32-bit field wraps every 2^32 s; take the value within 2^31 s of now (RFC 4034
     * s3.1.5 refers to RFC 1982 serial number arithmetic). */
    int64_t base = now - (int64_t)(uint32_t)now;
    int64_t c = base + t;
    if (c - now > (int64_t)1 << 31) {
        c -= (int64_t)1 << 32;
    } else if (now - c > (int64_t)1 << 31) {
        c += (int64_t)1 << 32;
    }
    return c;
}

char *kf_dnssec_time_to_text(int64_t t, char *out, size_t cap)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (gmtime_r(&tt, &tm) == NULL || strftime(out, cap, "%Y%m%d%H%M%S", &tm) == 0) {
        (void)snprintf(out, cap, "%lld", (long long)t);
    }
    return out;
}
