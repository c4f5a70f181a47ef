/* hsm/module.c - loading PKCS#11 modules through p11-kit, once per process.
 *
 * Modules are loaded unmanaged: keyfort is the module's only user in the
 * process and calls it directly, without p11-kit's managed wrapper between
 * every C_Sign and the token. */
#include "hsm/ck_call.h"

#include "common/kf_log.h"

#include <errno.h>
#include <p11-kit/p11-kit.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef KEYFORT_DEFAULT_MODULE
#define KEYFORT_DEFAULT_MODULE "/usr/lib/softhsm/libsofthsm2.so"
#endif

/* Registry of loaded modules. Global because a PKCS#11 module is a per-process
 * singleton (it must be initialised once); the lock makes concurrent first uses
 * load it once. */
static pthread_mutex_t module_registry_lock = PTHREAD_MUTEX_INITIALIZER; /* protects: list */
static struct kf_hsm_module *module_registry;

const char *kf_hsm_module_choose(const char *opt, const struct kf_hsm_uri *uri)
{
    if (opt != NULL && opt[0] != '\0') {
        return opt;
    }
    if (uri != NULL && kf_hsm_uri_module_path(uri) != NULL) {
        return kf_hsm_uri_module_path(uri);
    }
    if (uri != NULL && kf_hsm_uri_module_name(uri) != NULL) {
        return kf_hsm_uri_module_name(uri);
    }
    const char *env = getenv(KF_HSM_MODULE_ENV);
    if (env != NULL && env[0] != '\0') {
        return env;
    }
    return KEYFORT_DEFAULT_MODULE;
}

/* A p11-kit registered name ("softhsm2") to the module's file name; caller
 * frees. */
static KF_RESULT module_resolve_name(const char *name, char **out)
{
    const char *msg = NULL;
    CK_FUNCTION_LIST **all = p11_kit_modules_load(NULL, P11_KIT_MODULE_UNMANAGED);
    if (all == NULL) {
        msg = p11_kit_message();
        kf_err_note_context("p11-kit module '%s': %s", name,
                            msg != NULL ? msg : "no modules registered");
        KF_BAIL(KF_ERR_MODULE_LOAD);
    }
    CK_FUNCTION_LIST *fl = p11_kit_module_for_name(all, name);
    char *file = fl != NULL ? p11_kit_module_get_filename(fl) : NULL;
    p11_kit_modules_release(all);
    if (file == NULL) {
        kf_err_note_context("no p11-kit module is registered as '%s'", name);
        KF_BAIL(KF_ERR_MODULE_LOAD);
    }
    *out = file;
    return KF_OK;
}

/* Modules that reach their token over a socket and may raise SIGPIPE (ck_call.c): p11-kit's
 * RPC client, and any module named in $KEYFORT_PKCS11_SIGPIPE_GUARD (a network HSM's client
 * library, say: "always" guards every module, "never" none). */
static bool module_talks_over_sockets(const char *path)
{
    const char *env = getenv("KEYFORT_PKCS11_SIGPIPE_GUARD");
    if (env != NULL && strcmp(env, "always") == 0) {
        return true;
    }
    if (env != NULL && strcmp(env, "never") == 0) {
        return false;
    }
    const char *base = strrchr(path, '/');
    base = base != NULL ? base + 1 : path;
    if (strncmp(base, "p11-kit-client", 14) == 0) {
        return true;
    }
    return env != NULL && strstr(env, base) != NULL;
}

KF_RESULT kf_hsm_module_get(const char *path_or_name, struct kf_hsm_module **out)
{
    KF_ENSURE_REF(path_or_name);
    KF_ENSURE_REF(out);
    kf_hsm_fork_install();
    char *path = NULL;
    if (strchr(path_or_name, '/') != NULL) {
        path = strdup(path_or_name);
        KF_ENSURE(path != NULL, KF_ERR_NOMEM);
    } else {
        KF_GUARD(module_resolve_name(path_or_name, &path));
    }
    kf_result r = KF_OK;
    struct kf_hsm_module *m = NULL;
    pthread_mutex_lock(&module_registry_lock);
    /* LOCKED (module_registry_lock) --- */
    for (m = module_registry; m != NULL; m = m->next) {
        if (strcmp(m->path, path) == 0) {
            break;
        }
    }
    if (m == NULL) {
        if (access(path, R_OK) != 0) {
            kf_err_note_errno(errno);
            kf_err_note_context("module '%s'", path);
            kf_err_record(KF_ERR_MODULE_LOAD, __FILE__, __LINE__, __func__);
            r = (kf_result){ KF_ERR_MODULE_LOAD };
            goto out;
        }
        CK_FUNCTION_LIST *fl = p11_kit_module_load(path, P11_KIT_MODULE_UNMANAGED);
        if (fl == NULL) {
            const char *msg = p11_kit_message();
            kf_err_note_context("module '%s': %s", path, msg != NULL ? msg : "load failed");
            kf_err_record(KF_ERR_MODULE_LOAD, __FILE__, __LINE__, __func__);
            r = (kf_result){ KF_ERR_MODULE_LOAD };
            goto out;
        }
        m = calloc(1, sizeof(*m));
        if (m == NULL) {
            p11_kit_module_release(fl);
            kf_err_record(KF_ERR_NOMEM, __FILE__, __LINE__, __func__);
            r = (kf_result){ KF_ERR_NOMEM };
            goto out;
        }
        m->path = path;
        path = NULL;
        m->fl = fl;
        m->guard_sigpipe = module_talks_over_sockets(m->path);
        pthread_mutex_init(&m->lock, NULL);
        atomic_init(&m->init_gen, 0);
        m->next = module_registry;
        module_registry = m;
        kf_log(KF_LOG_INFO, "hsm", "loaded PKCS#11 module %s", m->path);
    }
out:
    /* --- LOCKED (module_registry_lock) */
    pthread_mutex_unlock(&module_registry_lock);
    free(path);
    KF_GUARD(r);
    KF_GUARD(kf_hsm_module_ready(m));
    *out = m;
    return KF_OK;
}

KF_RESULT kf_hsm_module_ready(struct kf_hsm_module *m)
{
    KF_ENSURE_REF(m);
    uint64_t gen = kf_hsm_fork_gen();
    if (atomic_load_explicit(&m->init_gen, memory_order_acquire) == gen) {
        return KF_OK; /* the hot path: one atomic load */
    }
    pthread_mutex_lock(&m->lock);
    /* LOCKED (m->lock) --- */
    kf_result r = KF_OK;
    if (atomic_load(&m->init_gen) != gen) {
        r = kf_ck_initialize(m);
        if (kf_ok(r)) {
            atomic_store_explicit(&m->init_gen, gen, memory_order_release);
        } else {
            kf_err_add_context("module '%s'", m->path);
        }
    }
    /* --- LOCKED (m->lock) */
    pthread_mutex_unlock(&m->lock);
    return r;
}

void kf_hsm_module_reset(struct kf_hsm_module *m, uint64_t seen_gen)
{
    if (m == NULL) {
        return;
    }
    pthread_mutex_lock(&m->lock);
    /* LOCKED (m->lock) --- */
    if (kf_hsm_fork_gen() == seen_gen && atomic_load(&m->init_gen) == seen_gen) {
        kf_log(KF_LOG_WARN, "hsm",
               "module %s lost its device: finalising it; the next call "
               "initialises it again",
               m->path);
        kf_ck_finalize_exclusive(m);
        atomic_store(&m->init_gen, 0);
        atomic_fetch_add(&m->resets, 1);
        kf_hsm_gen_bump();
    }
    /* --- LOCKED (m->lock) */
    pthread_mutex_unlock(&m->lock);
}

void kf_hsm_module_fork_prepare(void)
{
    pthread_mutex_lock(&module_registry_lock);
    for (struct kf_hsm_module *m = module_registry; m != NULL; m = m->next) {
        pthread_mutex_lock(&m->lock);
    }
}

void kf_hsm_module_fork_parent(void)
{
    for (struct kf_hsm_module *m = module_registry; m != NULL; m = m->next) {
        pthread_mutex_unlock(&m->lock);
    }
    pthread_mutex_unlock(&module_registry_lock);
}

void kf_hsm_module_fork_child(void)
{
    for (struct kf_hsm_module *m = module_registry; m != NULL; m = m->next) {
        pthread_mutex_init(&m->lock, NULL);
    }
    pthread_mutex_init(&module_registry_lock, NULL);
}
