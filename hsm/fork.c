/* hsm/fork.c - the one pthread_atfork of hsm/ (STYLE.md s7).
 *
 * prepare takes every hsm lock (registry order), parent releases them, child
 * re-initialises them and bumps the generation. Handlers never call PKCS#11,
 * allocate or log: the child's re-initialisation (C_Initialize, new sessions,
 * login) happens lazily at its next call. */
#include "hsm/internal.h"

static _Atomic uint64_t kf_hsm_gen = 1;
static pthread_once_t kf_hsm_fork_once = PTHREAD_ONCE_INIT;

uint64_t kf_hsm_fork_gen(void)
{
    return atomic_load_explicit(&kf_hsm_gen, memory_order_acquire);
}

void kf_hsm_gen_bump(void)
{
    atomic_fetch_add_explicit(&kf_hsm_gen, 1, memory_order_acq_rel);
}

static void fork_prepare(void)
{
    kf_hsm_module_fork_prepare();
    kf_hsm_token_fork_prepare();
    kf_hsm_gate_fork_prepare(); /* last: in-flight calls finish without needing
                                   our locks */
}

static void fork_parent(void)
{
    kf_hsm_gate_fork_parent();
    kf_hsm_token_fork_parent();
    kf_hsm_module_fork_parent();
}

static void fork_child(void)
{
    atomic_fetch_add_explicit(&kf_hsm_gen, 1, memory_order_acq_rel);
    kf_hsm_gate_fork_child();
    kf_hsm_token_fork_child();
    kf_hsm_module_fork_child();
}

static void fork_install_once(void)
{
    (void)pthread_atfork(fork_prepare, fork_parent, fork_child);
}

void kf_hsm_fork_install(void)
{
    pthread_once(&kf_hsm_fork_once, fork_install_once);
}
