/* hsm/login.c - PIN sources and logging in once per token as CKU_USER. */
#include "hsm/ck_call.h"

#include "common/kf_log.h"

#include <string.h>

/* pin-source is a file path or a file: URI (RFC 7512 s2.4 leaves the form to
 * the consumer; keyfort reads files only: running programs named in a URI would
 * be a hazard). */
static KF_RESULT login_pin_from_source(const char *source, struct kf_secret **out)
{
    const char *path = source;
    if (strncmp(path, "file://", 7) == 0) {
        path += 7;
    } else if (strncmp(path, "file:", 5) == 0) {
        path += 5;
    }
    if (path[0] == '|') {
        kf_err_note_context("pin-source '%s': only files are supported", source);
        KF_BAIL(KF_ERR_UNSUPPORTED);
    }
    return kf_secret_from_file(path, out);
}

KF_RESULT kf_hsm_login_load_pin(const struct kf_hsm_uri *uri, const struct kf_hsm_open_opts *opts,
                                struct kf_secret **out)
{
    KF_ENSURE_REF(out);
    *out = NULL;
    if (opts != NULL && opts->pin_file != NULL) {
        return kf_secret_from_file(opts->pin_file, out);
    }
    if (opts != NULL && opts->pin != NULL) {
        return kf_secret_dup(opts->pin, out);
    }
    if (uri != NULL && kf_hsm_uri_has_pin_value(uri)) {
        return kf_hsm_uri_pin_value(uri, out);
    }
    if (uri != NULL && kf_hsm_uri_pin_source(uri) != NULL) {
        return login_pin_from_source(kf_hsm_uri_pin_source(uri), out);
    }
    if (opts != NULL && opts->allow_prompt) {
        return kf_secret_from_prompt("Token PIN: ", out);
    }
    return KF_OK; /* no PIN: public objects only */
}

KF_RESULT kf_hsm_login_ensure(struct kf_hsm_token *t, CK_SESSION_HANDLE h)
{
    KF_ENSURE_REF(t);
    uint64_t gen = kf_hsm_fork_gen();
    if (atomic_load_explicit(&t->login_gen, memory_order_acquire) == gen) {
        return KF_OK; /* PKCS#11 login state is per application: one login serves
                         all */
    }
    if (!(t->info.flags & CKF_LOGIN_REQUIRED) && !atomic_load(&t->has_pin)) {
        return KF_OK;
    }
    kf_result r = KF_OK;
    pthread_mutex_lock(&t->login_lock);
    /* LOCKED (t->login_lock), held over C_Login so that one thread logs in --- */
    if (atomic_load(&t->login_gen) == gen) {
        goto out;
    }
    if (t->pin_rejected) {
        kf_err_note_context("token '%s': the PIN was rejected earlier and is not tried again "
                            "(retries lock tokens)",
                            t->info.label);
        kf_err_record(KF_ERR_PIN_INCORRECT, __FILE__, __LINE__, __func__);
        r = (kf_result){ KF_ERR_PIN_INCORRECT };
        goto out;
    }
    if (t->pin == NULL && t->pin_wiped) {
        /* Logged in once, then the PIN was wiped as asked: a lost login cannot be restored. */
        kf_err_note_context("token '%s' needs a new login and its PIN was wiped after the first "
                            "one (no_pin_cache)",
                            t->info.label);
        kf_err_record(KF_ERR_NOT_LOGGED_IN, __FILE__, __LINE__, __func__);
        r = (kf_result){ KF_ERR_NOT_LOGGED_IN };
        goto out;
    }
    if (t->pin == NULL) {
        goto out; /* not logged in: only public objects are visible */
    }
    atomic_fetch_add(&t->login_attempts, 1);
    r = kf_ck_login(t->mod, h, CKU_USER, t->pin);
    if (kf_ok(r)) {
        atomic_store_explicit(&t->login_gen, gen, memory_order_release);
        atomic_fetch_add(&t->logins, 1);
        kf_log(KF_LOG_INFO, "hsm", "logged in to token '%s'", t->info.label);
        if (!t->pin_cache) {
            kf_secret_free(t->pin);
            t->pin = NULL;
            t->pin_wiped = true;
            atomic_store(&t->has_pin, false);
        }
    } else {
        if (r.code == KF_ERR_PIN_INCORRECT || r.code == KF_ERR_PIN_LOCKED) {
            t->pin_rejected = true;
            kf_secret_free(t->pin);
            t->pin = NULL;
            atomic_store(&t->has_pin, false);
        }
        kf_err_add_context("login to token '%s'", t->info.label);
    }
out:
    /* --- LOCKED (t->login_lock) */
    pthread_mutex_unlock(&t->login_lock);
    return r;
}

void kf_hsm_login_invalidate(struct kf_hsm_token *t)
{
    atomic_store_explicit(&t->login_gen, 0, memory_order_release);
}
