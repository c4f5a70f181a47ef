/* keyfort offload: which backend runs the batches, decided from CPUID at run time (never from
 * compile-time flags alone: the same binary runs on CPUs with and without AVX-512 IFMA). */
#include <cpuid.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/kf_log.h"
#include "offload/internal.h"

#define SELECT_ENV "KEYFORT_OFFLOAD"

bool offload_cpu_has_ifma(void)
{
#if !KF_OFFLOAD_HAVE_IFMA
    return false; /* this build has no kernels (the compiler could not build them) */
#endif
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (__get_cpuid(1, &a, &b, &c, &d) == 0 || (c & bit_OSXSAVE) == 0) {
        return false;
    }
    /* The OS must save the opmask and ZMM state (XCR0 bits 1, 2, 5, 6, 7), or AVX-512
     * instructions fault even where CPUID lists them. */
    unsigned lo = 0, hi = 0;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    (void)hi;
    if ((lo & 0xe6u) != 0xe6u) {
        return false;
    }
    if (__get_cpuid_count(7, 0, &a, &b, &c, &d) == 0) {
        return false;
    }
    return (b & bit_AVX512F) != 0 && (b & bit_AVX512IFMA) != 0 && (b & bit_AVX512VL) != 0 &&
           (b & bit_AVX512BW) != 0 && (b & bit_AVX512DQ) != 0;
}

bool kf_offload_backend_available(enum kf_offload_backend b)
{
    switch (b) {
    case KF_OFFLOAD_BACKEND_AUTO:
    case KF_OFFLOAD_BACKEND_SCALAR:
        return true;
    case KF_OFFLOAD_BACKEND_AVX512IFMA:
        return offload_cpu_has_ifma();
    }
    return false;
}

const char *kf_offload_backend_name(enum kf_offload_backend b)
{
    switch (b) {
    case KF_OFFLOAD_BACKEND_AUTO:
        return "auto";
    case KF_OFFLOAD_BACKEND_SCALAR:
        return "scalar";
    case KF_OFFLOAD_BACKEND_AVX512IFMA:
        return "avx512ifma";
    }
    return "?";
}

kf_result kf_offload_backend_parse(const char *name, enum kf_offload_backend *out_b)
{
    KF_ENSURE_REF(name);
    KF_ENSURE_REF(out_b);
    static const enum kf_offload_backend all[] = { KF_OFFLOAD_BACKEND_AUTO,
                                                   KF_OFFLOAD_BACKEND_SCALAR,
                                                   KF_OFFLOAD_BACKEND_AVX512IFMA };
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        if (strcmp(name, kf_offload_backend_name(all[i])) == 0) {
            *out_b = all[i];
            return KF_OK;
        }
    }
    kf_err_note_context("offload backend '%s' (known: auto, scalar, avx512ifma)", name);
    KF_BAIL(KF_ERR_INVALID_ARG);
}

/* Written once under pthread_once, read-only afterwards. */
static pthread_once_t select_once = PTHREAD_ONCE_INIT;
static enum kf_offload_backend select_default = KF_OFFLOAD_BACKEND_SCALAR;

static void select_decide(void)
{
    enum kf_offload_backend best =
        offload_cpu_has_ifma() ? KF_OFFLOAD_BACKEND_AVX512IFMA : KF_OFFLOAD_BACKEND_SCALAR;
    const char *env = getenv(SELECT_ENV);
    enum kf_offload_backend want = KF_OFFLOAD_BACKEND_AUTO;
    if (env != NULL && *env != '\0') {
        kf_err_mute_begin();
        kf_result r = kf_offload_backend_parse(env, &want);
        kf_err_mute_end();
        if (!kf_ok(r)) {
            kf_log(KF_LOG_WARN, "offload",
                   "%s=%s is not a backend (auto, scalar, avx512ifma); using %s", SELECT_ENV, env,
                   kf_offload_backend_name(best));
            want = KF_OFFLOAD_BACKEND_AUTO;
        } else if (!kf_offload_backend_available(want)) {
            kf_log(KF_LOG_WARN, "offload", "%s=%s: this CPU lacks it; using %s", SELECT_ENV, env,
                   kf_offload_backend_name(best));
            want = KF_OFFLOAD_BACKEND_AUTO;
        }
    }
    select_default = want == KF_OFFLOAD_BACKEND_AUTO ? best : want;
    kf_log(KF_LOG_DEBUG, "offload", "backend %s", kf_offload_backend_name(select_default));
}

enum kf_offload_backend kf_offload_backend_default(void)
{
    (void)pthread_once(&select_once, select_decide);
    return select_default;
}

#if KF_OFFLOAD_HAVE_IFMA
static const struct offload_lanes_ops select_ifma_ops = {
    .rsa_key_new = kf_rsa_ifma_key_new,
    .rsa_key_free = kf_rsa_ifma_key_free,
    .rsa_key_class = kf_rsa_ifma_key_class,
    .rsa_key_expect = kf_rsa_ifma_key_expect,
    .rsa_verify = kf_rsa_ifma_verify,
    .p256_key_new = kf_p256_ifma_key_new,
    .p256_key_free = kf_p256_ifma_key_free,
    .p256_verify = kf_p256_ifma_verify,
};
#endif

/* Written once under pthread_once, read-only afterwards. */
static pthread_once_t select_lanes_once = PTHREAD_ONCE_INIT;
static const struct offload_lanes_ops *select_lanes = NULL;

static void select_lanes_decide(void)
{
#if KF_OFFLOAD_HAVE_IFMA
    if (offload_cpu_has_ifma()) {
        select_lanes = &select_ifma_ops;
    }
#endif
}

const struct offload_lanes_ops *offload_lanes(void)
{
    (void)pthread_once(&select_lanes_once, select_lanes_decide);
    return select_lanes;
}
