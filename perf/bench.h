/* perf/bench.h - timing helpers shared by the perf/bench_<subject>.c programs (STYLE.md s14).
 *
 * Header-only (each benchmark is one executable): a monotonic clock, a growable array of
 * per-operation latencies with nearest-rank percentiles, and a description of the machine
 * and the build so a result is only compared with runs on the same machine and flags. */
#ifndef KF_PERF_BENCH_H
#define KF_PERF_BENCH_H

#include "hsm/hsm.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/** Nanoseconds on CLOCK_MONOTONIC: never jumps with wall-clock changes. */
static inline uint64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/** CPU time of the calling thread in nanoseconds (CLOCK_THREAD_CPUTIME_ID). */
static inline uint64_t bench_thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- latency samples ------------------------------------------------------------------ */

struct bench_samples {
    uint64_t *ns; /* owned: one latency per operation, in nanoseconds */
    size_t n;
    size_t cap;
};

/** Append one sample; false when memory runs out (the sample is then dropped). */
static inline bool bench_samples_add(struct bench_samples *s, uint64_t ns)
{
    if (s->n == s->cap) {
        size_t cap = s->cap != 0 ? s->cap * 2 : 4096;
        uint64_t *p = realloc(s->ns, cap * sizeof(*p));
        if (p == NULL) {
            return false;
        }
        s->ns = p;
        s->cap = cap;
    }
    s->ns[s->n++] = ns;
    return true;
}

/** Append every sample of @p from to @p to; false when memory runs out. */
static inline bool bench_samples_merge(struct bench_samples *to, const struct bench_samples *from)
{
    for (size_t i = 0; i < from->n; i++) {
        if (!bench_samples_add(to, from->ns[i])) {
            return false;
        }
    }
    return true;
}

static inline void bench_samples_cleanup(struct bench_samples *s)
{
    free(s->ns);
    memset(s, 0, sizeof(*s));
}

static inline int bench_cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a;
    uint64_t y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/** Sort the samples; call once before bench_percentile(). */
static inline void bench_samples_sort(struct bench_samples *s)
{
    if (s->n > 1) {
        qsort(s->ns, s->n, sizeof(*s->ns), bench_cmp_u64);
    }
}

/** Nearest-rank percentile @p pct (0 < pct <= 100) of sorted samples; 0 when there are none. */
static inline uint64_t bench_percentile(const struct bench_samples *s, double pct)
{
    if (s->n == 0) {
        return 0;
    }
    double rank = pct / 100.0 * (double)s->n;
    size_t idx = (size_t)rank;
    if ((double)idx < rank) {
        idx++; /* ceil: the smallest sample with at least pct% of samples at or below it */
    }
    if (idx == 0) {
        idx = 1;
    }
    if (idx > s->n) {
        idx = s->n;
    }
    return s->ns[idx - 1];
}

/* ---- machine and build ---------------------------------------------------------------- */

/** "model name" of the first CPU in /proc/cpuinfo into @p buf ("unknown" if not found). */
static inline const char *bench_cpu_model(char *buf, size_t len)
{
    snprintf(buf, len, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f == NULL) {
        return buf;
    }
    char line[512];
    while (fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, "model name", 10) != 0) {
            continue;
        }
        const char *v = strchr(line, ':');
        if (v == NULL) {
            continue;
        }
        v++;
        while (*v == ' ' || *v == '\t') {
            v++;
        }
        snprintf(buf, len, "%s", v);
        buf[strcspn(buf, "\n")] = '\0';
        break;
    }
    fclose(f);
    return buf;
}

/** The first three fields of /proc/loadavg into @p buf ("unknown" if unreadable). */
static inline const char *bench_loadavg(char *buf, size_t len)
{
    snprintf(buf, len, "unknown");
    FILE *f = fopen("/proc/loadavg", "r");
    if (f == NULL) {
        return buf;
    }
    double a = 0, b = 0, c = 0;
    if (fscanf(f, "%lf %lf %lf", &a, &b, &c) == 3) {
        snprintf(buf, len, "%.2f %.2f %.2f", a, b, c);
    }
    fclose(f);
    return buf;
}

/* One ladder at the module edge (STYLE.md s13): what the compiler tells us about this build.
 * KF_BENCH_BUILD_FLAGS may be defined by the build with the exact flags used. */
#if defined(__SANITIZE_ADDRESS__)
#define BENCH_ASAN " asan"
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BENCH_ASAN " asan"
#endif
#endif
#ifndef BENCH_ASAN
#define BENCH_ASAN ""
#endif
#if defined(__OPTIMIZE__)
#define BENCH_OPT " optimised"
#else
#define BENCH_OPT " -O0"
#endif
#if defined(NDEBUG)
#define BENCH_NDEBUG " NDEBUG"
#else
#define BENCH_NDEBUG " assertions"
#endif
#if defined(__clang__)
#define BENCH_CC "clang"
#elif defined(__GNUC__)
#define BENCH_CC "gcc"
#else
#define BENCH_CC "cc"
#endif
#ifndef KF_BENCH_BUILD_FLAGS
#define KF_BENCH_BUILD_FLAGS "(exact flags not recorded)"
#endif

/** One line describing the compiler and build of this benchmark. */
static inline const char *bench_build_flags(void)
{
    return BENCH_CC " " __VERSION__ ";" BENCH_OPT BENCH_NDEBUG BENCH_ASAN "; " KF_BENCH_BUILD_FLAGS;
}

/** Is the build one whose numbers mean something (optimised, no sanitizer)? */
static inline bool bench_build_is_release(void)
{
    return strcmp(BENCH_ASAN, "") == 0 && strcmp(BENCH_OPT, " optimised") == 0;
}

/* A bare side's own session with the private key labelled @p label found in it (not timed):
 * C_OpenSession + a search for token objects only (CKA_TOKEN: keyfort's session-object copies
 * of the key are visible to every session of the process, PKCS#11 s4.4, with the same label).
 * Login state is shared by all sessions of the process (s5.6): the caller logged in already.
 * On failure @p err says which call and why. */
static inline bool bench_bare_session(CK_FUNCTION_LIST *fl, CK_SLOT_ID slot, const char *label_in,
                                      CK_SESSION_HANDLE *out_session, CK_OBJECT_HANDLE *out_key,
                                      char *err, size_t err_len)
{
    CK_RV rv = fl->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, out_session);
    if (rv != CKR_OK) {
        snprintf(err, err_len, "C_OpenSession: %s", kf_hsm_ckr_name(rv));
        return false;
    }
    CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
    CK_BBOOL yes = CK_TRUE;
    char label[64]; /* CK_ATTRIBUTE takes a non-const pointer */
    snprintf(label, sizeof(label), "%s", label_in);
    CK_ATTRIBUTE tmpl[] = {
        { CKA_CLASS, &cls, sizeof(cls) },
        { CKA_TOKEN, &yes, sizeof(yes) },
        { CKA_LABEL, label, strlen(label) },
    };
    CK_OBJECT_HANDLE found[2];
    CK_ULONG n = 0;
    rv = fl->C_FindObjectsInit(*out_session, tmpl, 3);
    if (rv == CKR_OK) {
        rv = fl->C_FindObjects(*out_session, found, 2, &n);
        CK_RV rv2 = fl->C_FindObjectsFinal(*out_session);
        if (rv == CKR_OK) {
            rv = rv2;
        }
    }
    if (rv != CKR_OK || n != 1) {
        snprintf(err, err_len, "find private key %s: %s, %lu found", label, kf_hsm_ckr_name(rv),
                 (unsigned long)n);
        return false;
    }
    *out_key = found[0];
    return true;
}

#endif
