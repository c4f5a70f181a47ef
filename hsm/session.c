/* hsm/session.c - the bounded session pool of a token, and the operation
 * runner.
 *
 * Sessions are reused, not closed. A session whose last operation said the
 * session is gone (CKR_SESSION_HANDLE_INVALID / _CLOSED, CKR_DEVICE_REMOVED) is
 * dropped and the slot freed for a new one. After fork() the pool notices the
 * new generation and forgets the parent's sessions without touching them. */
#include "hsm/ck_call.h"

#include "common/kf_log.h"

#include <stdlib.h>
#include <time.h>

/* Called with pool_lock held: the parent's sessions are not ours to close or
 * reuse. */
static void pool_forget_parent(struct kf_hsm_token *t, uint64_t gen)
{
    if (t->pool_gen == gen) {
        return;
    }
    for (unsigned i = 0; i < t->n_idle; i++) {
        free(t->idle[i]);
        t->idle[i] = NULL;
    }
    t->n_idle = 0;
    t->n_open = 0;
    t->n_in_use = 0;
    t->pool_gen = gen;
}

static KF_RESULT session_acquire_once(struct kf_hsm_token *t, struct kf_hsm_session **out,
                                      uint64_t *out_gen);

KF_RESULT kf_hsm_session_acquire(struct kf_hsm_token *t, struct kf_hsm_session **out)
{
    KF_ENSURE_REF(t);
    KF_ENSURE_REF(out);
    uint64_t gen = 0;
    kf_result r = session_acquire_once(t, out, &gen);
    if (r.code == KF_ERR_MODULE_FINALIZED) {
        /* Someone else in this process called C_Finalize: this call fails with that cause,
         * and the next one initialises the module again. */
        kf_hsm_module_reset(t->mod, gen);
        return r;
    }
    if (r.code == KF_ERR_DEVICE_REMOVED) {
        /* Even a new session is refused: the module has lost its device (a remote token's
         * server went away). Start the module afresh, once; if the device is still gone the
         * re-initialisation fails and says so, and the next call tries again. */
        kf_hsm_module_reset(t->mod, gen);
        r = session_acquire_once(t, out, &gen);
    }
    return r;
}

static KF_RESULT session_acquire_once(struct kf_hsm_token *t, struct kf_hsm_session **out,
                                      uint64_t *out_gen)
{
    KF_GUARD(kf_hsm_module_ready(t->mod));
    if (atomic_load(&t->slot_resets) != atomic_load(&t->mod->resets)) {
        kf_result r = kf_hsm_token_rebind(t);
        if (!kf_ok(r)) {
            /* A remote module can initialise without its server and then shows no token:
             * finalise it again, so that a later call connects afresh. */
            if (r.code == KF_ERR_TOKEN_NOT_FOUND) {
                kf_hsm_module_reset(t->mod, kf_hsm_fork_gen());
            }
            kf_err_add_context("its module lost the device and was started again");
            return r;
        }
    }
    uint64_t gen = kf_hsm_fork_gen();
    *out_gen = gen;
    struct kf_hsm_session *s = NULL;

    pthread_mutex_lock(&t->pool_lock);
    /* LOCKED (t->pool_lock) --- */
    pool_forget_parent(t, gen);
    while (t->n_idle == 0 && t->n_open >= t->max) {
        pthread_cond_wait(&t->pool_cond, &t->pool_lock);
        pool_forget_parent(t, gen);
    }
    if (t->n_idle > 0) {
        s = t->idle[--t->n_idle];
        t->idle[t->n_idle] = NULL;
    }
    t->n_in_use++;
    if (s == NULL) {
        t->n_open++; /* reserve the slot; opened below without the lock */
    }
    /* --- LOCKED (t->pool_lock) */
    pthread_mutex_unlock(&t->pool_lock);

    if (s == NULL) {
        kf_result r = KF_OK;
        s = calloc(1, sizeof(*s));
        if (s == NULL) {
            kf_err_record(KF_ERR_NOMEM, __FILE__, __LINE__, __func__);
            r = (kf_result){ KF_ERR_NOMEM };
        } else {
            s->gen = gen;
            r = kf_ck_open_session(t->mod, t->slot, &s->handle);
        }
        if (!kf_ok(r)) {
            kf_err_add_context("token '%s'", t->info.label);
            free(s);
            pthread_mutex_lock(&t->pool_lock);
            if (t->pool_gen == gen) {
                t->n_open--;
                t->n_in_use--;
            }
            pthread_cond_signal(&t->pool_cond);
            pthread_mutex_unlock(&t->pool_lock);
            return r;
        }
        pthread_mutex_lock(&t->pool_lock);
        t->opened_total++;
        pthread_mutex_unlock(&t->pool_lock);
    }
    kf_result r = kf_hsm_login_ensure(t, s->handle);
    if (!kf_ok(r)) {
        kf_hsm_session_release(t, s, KF_OK); /* the session itself is fine */
        return r;
    }
    *out = s;
    return KF_OK;
}

static bool session_is_broken(kf_result last)
{
    /* A failed C_Sign with CKR_BUFFER_TOO_SMALL leaves the operation active
     * (PKCS#11 s5.2): such a session cannot start the next operation, so it goes
     * too. */
    return last.code == KF_ERR_SESSION_BROKEN || last.code == KF_ERR_DEVICE_REMOVED ||
           last.code == KF_ERR_BUFFER_TOO_SMALL || last.code == KF_ERR_MODULE_FINALIZED;
}

void kf_hsm_session_release(struct kf_hsm_token *t, struct kf_hsm_session *s, kf_result last)
{
    if (t == NULL || s == NULL) {
        return;
    }
    bool broken = session_is_broken(last);
    bool close_it = false;
    bool last_one = false;
    pthread_mutex_lock(&t->pool_lock);
    /* LOCKED (t->pool_lock) --- */
    if (s->gen != t->pool_gen) {
        free(s); /* opened before a fork, by the parent: forget it */
        s = NULL;
    } else if (broken) {
        t->n_open--;
        t->n_in_use--;
        t->dropped_total++;
        close_it = true;
        /* Closing an application's last session logs it out: the next session logs in. */
        last_one = t->n_open == 0;
    } else {
        t->idle[t->n_idle++] = s;
        t->n_in_use--;
        s = NULL;
    }
    pthread_cond_signal(&t->pool_cond);
    /* --- LOCKED (t->pool_lock) */
    pthread_mutex_unlock(&t->pool_lock);
    if (close_it) {
        kf_log(KF_LOG_WARN, "hsm", "dropping broken session %lu of token '%s' (%s)",
               (unsigned long)s->handle, t->info.label, kf_err_name(last.code));
        if (last.code != KF_ERR_SESSION_BROKEN && last.code != KF_ERR_MODULE_FINALIZED) {
            KF_QUIET(kf_ck_close_session(t->mod, s->handle));
        }
        if (last.code == KF_ERR_DEVICE_REMOVED || last_one) {
            kf_hsm_login_invalidate(t);
        }
        free(s);
    }
}

CK_SESSION_HANDLE kf_hsm_session_handle(const struct kf_hsm_session *s)
{
    return s != NULL ? s->handle : CK_INVALID_HANDLE;
}

/* How long a session copy is trusted before its token object is looked at again. A copy
 * outlives the token object it came from (it dies only with its session), so without this a
 * key deleted from the token, or a token whose files are gone, would keep signing in a
 * long-running server; with it, such a key stops within this time. SoftHSM pays the file
 * check the copy saves once per interval instead of on every operation. */
#define SESSION_COPY_RECHECK_NS 1000000000LL

static int64_t session_elapsed_ns(const struct timespec *from, const struct timespec *to)
{
    return (int64_t)(to->tv_sec - from->tv_sec) * 1000000000LL + (to->tv_nsec - from->tv_nsec);
}

static void session_copy_drop(struct kf_hsm_token *t, struct kf_hsm_session *s,
                              struct kf_hsm_session_copy *e)
{
    if (e->key_serial != 0) {
        KF_QUIET(kf_ck_destroy_object(t->mod, s->handle, e->copy));
    }
    *e = (struct kf_hsm_session_copy){ 0 };
}

/* The handle an operation on key @p k should use on session @p s: a session-object copy of
 * the private key @p orig when the token allows one (made on first use, kept per session),
 * else @p orig itself. Never fails: the copy is an optimisation, the token object always
 * works. */
static CK_OBJECT_HANDLE session_copy_of(struct kf_hsm_token *t, struct kf_hsm_session *s,
                                        struct kf_hsm_key *k, CK_OBJECT_HANDLE orig)
{
    if (atomic_load_explicit(&k->no_copy, memory_order_relaxed)) {
        return orig;
    }
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
    struct kf_hsm_session_copy *e = NULL;
    struct kf_hsm_session_copy *empty = NULL;
    for (unsigned i = 0; i < KF_HSM_SESSION_COPIES; i++) {
        if (s->copies[i].key_serial == k->serial) {
            e = &s->copies[i];
        } else if (s->copies[i].key_serial == 0 && empty == NULL) {
            empty = &s->copies[i];
        }
    }
    if (e != NULL && e->orig == orig) {
        if (session_elapsed_ns(&e->checked, &now) < SESSION_COPY_RECHECK_NS) {
            return e->copy;
        }
        CK_OBJECT_CLASS cls = 0;
        CK_ATTRIBUTE a = { CKA_CLASS, &cls, sizeof(cls) };
        kf_err_mute_begin();
        kf_result r = kf_ck_get_attributes(t->mod, s->handle, orig, &a, 1, false);
        kf_err_mute_end();
        if (kf_ok(r)) {
            e->checked = now;
            return e->copy;
        }
        /* Gone from the token (or unreadable): the operation runs on the token object and
         * gets the token's own answer. */
        session_copy_drop(t, s, e);
        return orig;
    }
    if (e == NULL) {
        e = empty;
    }
    if (e == NULL) {
        e = &s->copies[s->next_evict++ % KF_HSM_SESSION_COPIES];
    }
    session_copy_drop(t, s, e); /* a copy of an older handle, or the evicted one */
    CK_BBOOL session_only = CK_FALSE;
    CK_ATTRIBUTE tmpl[] = { { CKA_TOKEN, &session_only, sizeof(session_only) } };
    CK_OBJECT_HANDLE copy = CK_INVALID_HANDLE;
    kf_err_mute_begin();
    kf_result r = kf_ck_copy_object(t->mod, s->handle, orig, tmpl, 1, &copy);
    kf_err_mute_end();
    if (!kf_ok(r)) {
        if (r.code == KF_ERR_CREATE_OBJECT) {
            /* CKA_COPYABLE false, or a token without C_CopyObject: not worth asking again. */
            atomic_store(&k->no_copy, true);
            kf_log(KF_LOG_DEBUG, "hsm", "key '%s': no session copy, using the token object",
                   k->display);
        }
        return orig;
    }
    *e = (struct kf_hsm_session_copy){
        .key_serial = k->serial, .orig = orig, .copy = copy, .checked = now
    };
    return copy;
}

/* Forget @p k's copy on @p s after the token called its handle invalid. */
static void session_copy_forget(struct kf_hsm_token *t, struct kf_hsm_session *s,
                                const struct kf_hsm_key *k)
{
    for (unsigned i = 0; i < KF_HSM_SESSION_COPIES; i++) {
        if (s->copies[i].key_serial == k->serial) {
            session_copy_drop(t, s, &s->copies[i]);
        }
    }
}

KF_RESULT kf_hsm_run(struct kf_hsm_key *k, kf_hsm_op_fn fn, void *arg)
{
    KF_ENSURE_REF(k);
    KF_ENSURE_REF(fn);
    struct kf_hsm_token *t = k->tok;
    kf_result r = KF_OK;
    /* At most one recovery of each kind: a session replaced, then a stale handle found again
     * after the re-login that the new session needed, then the operation. */
    bool tried_session = false;
    bool tried_handle = false;
    const char *stale_ck = NULL; /* the CKR_ that sent us to find the key again */
    for (int attempt = 0; attempt < 3; attempt++) {
        uint64_t gen = kf_hsm_fork_gen();
        struct kf_hsm_session *s = NULL;
        KF_GUARD(kf_hsm_session_acquire(t, &s));
        CK_OBJECT_HANDLE obj = CK_INVALID_HANDLE;
        r = kf_hsm_key_handle(k, s->handle, k->has_private, &obj);
        if (kf_ok(r)) {
            CK_OBJECT_HANDLE use = k->has_private ? session_copy_of(t, s, k, obj) : obj;
            r = fn(k, s->handle, use, arg);
            if (r.code == KF_ERR_OBJECT_HANDLE && use != obj) {
                session_copy_forget(t, s, k);
            }
        }
        kf_hsm_session_release(t, s, r);
        if (kf_ok(r)) {
            return KF_OK;
        }
        /* Only conditions a retry can cure. A wrong PIN is not one: it surfaces from login
         * and is never retried. */
        switch (r.code) {
        case KF_ERR_SESSION_BROKEN:
        case KF_ERR_DEVICE_REMOVED:
            if (tried_session) {
                break;
            }
            tried_session = true;
            /* Closing an application's last session logs it out (PKCS#11 C_CloseSession):
             * log in again; C_Login answers CKR_USER_ALREADY_LOGGED_IN if that was not so. */
            kf_hsm_login_invalidate(t);
            continue;
        case KF_ERR_MODULE_FINALIZED:
            kf_hsm_module_reset(t->mod, gen);
            break;
        case KF_ERR_NOT_LOGGED_IN:
        case KF_ERR_OBJECT_HANDLE:
            if (tried_handle) {
                break;
            }
            tried_handle = true;
            {
                bool set = false;
                unsigned long rv = kf_err_last_ck(&set);
                stale_ck = set ? kf_hsm_ckr_name(rv) : NULL;
            }
            /* A logged-out token hides private objects, so a stale handle and a lost login
             * look alike from here: cure both. */
            kf_hsm_login_invalidate(t);
            kf_hsm_key_invalidate(k);
            continue;
        default:
            break;
        }
        break;
    }
    if (stale_ck != NULL && r.code != KF_ERR_OBJECT_HANDLE) {
        /* The failure the caller sees is the search that followed; say what started it. */
        kf_err_add_context("after %s", stale_ck);
    }
    kf_err_add_context("key '%s'", k->display);
    return r;
}
