/* hsm/token.c - finding, opening, listing and initialising tokens.
 *
 * Opened tokens are shared: opening the same slot of the same module twice
 * returns the same token, so a process has one pool and one login per token. */
#include "hsm/ck_call.h"

#include "common/kf_log.h"

#include <p11-kit/uri.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Registry of open tokens: dedup by (module, slot) and the list the fork
 * handlers walk. */
static pthread_mutex_t token_registry_lock = PTHREAD_MUTEX_INITIALIZER; /* protects: list */
static struct kf_hsm_token *token_registry;

/* Blank-padded CK_TOKEN_INFO field to a C string. */
static void token_field(char *dst, size_t dst_size, const unsigned char *src, size_t n)
{
    while (n > 0 && (src[n - 1] == ' ' || src[n - 1] == '\0')) {
        n--;
    }
    if (n >= dst_size) {
        n = dst_size - 1;
    }
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static void token_info_from(struct kf_hsm_token_info *out, CK_SLOT_ID slot, const CK_TOKEN_INFO *ti,
                            const char *module_path)
{
    memset(out, 0, sizeof(*out));
    out->slot = slot;
    token_field(out->label, sizeof(out->label), ti->label, sizeof(ti->label));
    token_field(out->manufacturer, sizeof(out->manufacturer), ti->manufacturerID,
                sizeof(ti->manufacturerID));
    token_field(out->model, sizeof(out->model), ti->model, sizeof(ti->model));
    token_field(out->serial, sizeof(out->serial), ti->serialNumber, sizeof(ti->serialNumber));
    out->flags = ti->flags;
    snprintf(out->module_path, sizeof(out->module_path), "%s", module_path);
}

/* Slots with a token present; caller frees *out. */
static KF_RESULT token_slots(struct kf_hsm_module *m, CK_SLOT_ID **out, CK_ULONG *out_n)
{
    CK_ULONG n = 0;
    KF_GUARD(kf_ck_get_slot_list(m, true, NULL, &n));
    CK_SLOT_ID *slots = calloc(n + 1, sizeof(*slots));
    KF_ENSURE(slots != NULL, KF_ERR_NOMEM);
    kf_result r = kf_ck_get_slot_list(m, true, slots, &n);
    if (!kf_ok(r)) {
        free(slots);
        return r;
    }
    *out = slots;
    *out_n = n;
    return KF_OK;
}

KF_RESULT kf_hsm_token_list(const char *module, struct kf_hsm_token_info **out, size_t *out_n)
{
    KF_ENSURE_REF(out);
    KF_ENSURE_REF(out_n);
    struct kf_hsm_module *m = NULL;
    KF_GUARD(kf_hsm_module_get(kf_hsm_module_choose(module, NULL), &m));
    CK_SLOT_ID *slots = NULL;
    CK_ULONG n = 0;
    KF_GUARD(token_slots(m, &slots, &n));
    struct kf_hsm_token_info *infos = calloc(n + 1, sizeof(*infos));
    if (infos == NULL) {
        free(slots);
        KF_BAIL(KF_ERR_NOMEM);
    }
    size_t count = 0;
    for (CK_ULONG i = 0; i < n; i++) {
        CK_TOKEN_INFO ti;
        if (kf_ok(kf_ck_get_token_info(m, slots[i], &ti))) {
            token_info_from(&infos[count++], slots[i], &ti, m->path);
        }
    }
    free(slots);
    *out = infos;
    *out_n = count;
    return KF_OK;
}

/* The one initialised token @p match (NULL: any) matches; @p shown names it in messages. */
static KF_RESULT token_match(struct kf_hsm_module *m, P11KitUri *match, const char *shown,
                             CK_SLOT_ID *out_slot, CK_TOKEN_INFO *out_info)
{
    CK_SLOT_ID *slots = NULL;
    CK_ULONG n = 0;
    KF_GUARD(token_slots(m, &slots, &n));
    size_t matches = 0;
    for (CK_ULONG i = 0; i < n; i++) {
        CK_TOKEN_INFO ti;
        if (!kf_ok(kf_ck_get_token_info(m, slots[i], &ti))) {
            continue;
        }
        if (!(ti.flags & CKF_TOKEN_INITIALIZED)) {
            continue;
        }
        if (match != NULL && !p11_kit_uri_match_token_info(match, &ti)) {
            continue;
        }
        if (matches++ == 0) {
            *out_slot = slots[i];
            *out_info = ti;
        }
    }
    free(slots);
    if (matches == 0) {
        kf_err_note_context("'%s' in module '%s'", shown, m->path);
        KF_BAIL(KF_ERR_TOKEN_NOT_FOUND);
    }
    if (matches > 1) {
        kf_err_note_context("'%s' matches %zu tokens in module '%s'", shown, matches, m->path);
        KF_BAIL(KF_ERR_TOKEN_AMBIGUOUS);
    }
    return KF_OK;
}

static unsigned token_default_pool(void)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    return cpus > 0 ? (unsigned)(2 * cpus) : 4;
}

static void token_destroy(struct kf_hsm_token *t)
{
    if (t == NULL) {
        return;
    }
    bool same_process = t->pool_gen == kf_hsm_fork_gen();
    for (unsigned i = 0; i < t->n_idle; i++) {
        /* Sessions from before a fork belong to the parent: forget, never close
         * them. */
        if (same_process && t->idle[i]->gen == t->pool_gen) {
            KF_QUIET(kf_ck_close_session(t->mod, t->idle[i]->handle));
        }
        free(t->idle[i]);
    }
    free(t->idle);
    free(t->mechs);
    free(t->display);
    kf_secret_free(t->pin);
    pthread_mutex_destroy(&t->login_lock);
    pthread_mutex_destroy(&t->pool_lock);
    pthread_cond_destroy(&t->pool_cond);
    free(t);
}

static KF_RESULT token_load_mechs(struct kf_hsm_token *t)
{
    CK_ULONG n = 0;
    KF_GUARD(kf_ck_get_mechanism_list(t->mod, t->slot, NULL, &n));
    t->mechs = calloc(n + 1, sizeof(*t->mechs));
    KF_ENSURE(t->mechs != NULL, KF_ERR_NOMEM);
    KF_GUARD(kf_ck_get_mechanism_list(t->mod, t->slot, t->mechs, &n));
    t->n_mechs = n;
    return KF_OK;
}

static KF_RESULT token_new(struct kf_hsm_module *m, CK_SLOT_ID slot, const CK_TOKEN_INFO *ti,
                           const struct kf_hsm_open_opts *opts, struct kf_hsm_token **out)
{
    struct kf_hsm_token *t = calloc(1, sizeof(*t));
    KF_ENSURE(t != NULL, KF_ERR_NOMEM);
    atomic_init(&t->refs, 1);
    t->mod = m;
    t->slot = slot;
    atomic_init(&t->slot_resets, atomic_load(&m->resets));
    token_info_from(&t->info, slot, ti, m->path);
    pthread_mutex_init(&t->login_lock, NULL);
    pthread_mutex_init(&t->pool_lock, NULL);
    pthread_cond_init(&t->pool_cond, NULL);
    t->pin_cache = opts == NULL || !opts->no_pin_cache;
    t->max = opts != NULL && opts->pool_max > 0 ? opts->pool_max : token_default_pool();
    t->pool_gen = kf_hsm_fork_gen();
    t->idle = calloc(t->max, sizeof(*t->idle));
    kf_result r = t->idle != NULL ? KF_OK : (kf_result){ KF_ERR_NOMEM };
    if (kf_ok(r)) {
        char *uri = NULL;
        r = kf_hsm_token_uri(t, &uri);
        t->display = uri;
    }
    if (kf_ok(r)) {
        r = token_load_mechs(t);
    }
    if (!kf_ok(r)) {
        token_destroy(t);
        return r;
    }
    *out = t;
    return KF_OK;
}

KF_RESULT kf_hsm_token_open(const struct kf_hsm_uri *uri, const struct kf_hsm_open_opts *opts,
                            struct kf_hsm_token **out)
{
    KF_ENSURE_REF(out);
    struct kf_hsm_module *m = NULL;
    KF_GUARD(kf_hsm_module_get(kf_hsm_module_choose(opts != NULL ? opts->module : NULL, uri), &m));
    CK_SLOT_ID slot = 0;
    CK_TOKEN_INFO ti;
    KF_GUARD(token_match(m, uri != NULL ? kf_hsm_uri_p11(uri) : NULL,
                         uri != NULL ? kf_hsm_uri_display(uri) : "pkcs11:", &slot, &ti));
    struct kf_secret *pin KF_SECRET_AUTO = NULL;
    KF_GUARD(kf_hsm_login_load_pin(uri, opts, &pin));

    /* Build a candidate outside the registry lock (token_new calls the module), then insert
     * it unless another thread was quicker; the loser is discarded. */
    struct kf_hsm_token *fresh = NULL;
    KF_GUARD(token_new(m, slot, &ti, opts, &fresh));
    pthread_mutex_lock(&token_registry_lock);
    /* LOCKED (token_registry_lock) --- */
    struct kf_hsm_token *t = token_registry;
    while (t != NULL && !(t->mod == m && t->slot == slot)) {
        t = t->next;
    }
    if (t != NULL) {
        kf_hsm_token_ref(t);
    } else {
        t = fresh;
        fresh = NULL;
        t->next = token_registry;
        token_registry = t;
    }
    /* --- LOCKED (token_registry_lock) */
    pthread_mutex_unlock(&token_registry_lock);
    token_destroy(fresh);

    if (pin != NULL) {
        pthread_mutex_lock(&t->login_lock);
        /* A later opener may bring the PIN the first one lacked, or a corrected
         * one. */
        if (t->pin == NULL || t->pin_rejected) {
            kf_secret_free(t->pin);
            t->pin = pin;
            t->pin_wiped = false;
            atomic_store(&t->has_pin, true);
            pin = NULL;
            t->pin_rejected = false;
        }
        pthread_mutex_unlock(&t->login_lock);
    }
    kf_log(KF_LOG_INFO, "hsm", "opened token %s (slot %lu, pool max %u)", t->display,
           (unsigned long)t->slot, t->max);
    *out = t;
    return KF_OK;
}

struct kf_hsm_token *kf_hsm_token_ref(struct kf_hsm_token *t)
{
    if (t != NULL) {
        atomic_fetch_add_explicit(&t->refs, 1, memory_order_relaxed);
    }
    return t;
}

void kf_hsm_token_unref(struct kf_hsm_token *t)
{
    if (t == NULL) {
        return;
    }
    pthread_mutex_lock(&token_registry_lock);
    /* LOCKED (token_registry_lock): a concurrent open must not revive a dying
     * token. */
    if (atomic_fetch_sub_explicit(&t->refs, 1, memory_order_acq_rel) != 1) {
        pthread_mutex_unlock(&token_registry_lock);
        return;
    }
    struct kf_hsm_token **pp = &token_registry;
    while (*pp != NULL && *pp != t) {
        pp = &(*pp)->next;
    }
    if (*pp == t) {
        *pp = t->next;
    }
    pthread_mutex_unlock(&token_registry_lock);
    token_destroy(t);
}

KF_RESULT kf_hsm_token_rebind(struct kf_hsm_token *t)
{
    uint64_t resets = atomic_load(&t->mod->resets);
    char *text = NULL;
    KF_GUARD(kf_hsm_token_info_uri(&t->info, &text));
    struct kf_hsm_uri *uri = NULL;
    kf_result r = kf_hsm_uri_parse(text, &uri);
    free(text);
    KF_GUARD(r);
    CK_SLOT_ID slot = 0;
    CK_TOKEN_INFO ti;
    r = token_match(t->mod, kf_hsm_uri_p11(uri), t->display, &slot, &ti);
    kf_hsm_uri_free(uri);
    KF_GUARD(r);
    atomic_store(&t->slot, slot);
    atomic_store(&t->slot_resets, resets);
    kf_log(KF_LOG_INFO, "hsm", "token %s is in slot %lu after its module was reset", t->display,
           (unsigned long)slot);
    return KF_OK;
}

KF_RESULT kf_hsm_token_get_info(struct kf_hsm_token *t, struct kf_hsm_token_info *out)
{
    KF_ENSURE_REF(t);
    KF_ENSURE_REF(out);
    *out = t->info;
    return KF_OK;
}

KF_RESULT kf_hsm_token_require_mech(const struct kf_hsm_token *t, CK_MECHANISM_TYPE m)
{
    if (!kf_hsm_token_has_mech(t, m)) {
        kf_err_note_context("%s on token '%s'", kf_hsm_mech_name(m), t->info.label);
        KF_BAIL(KF_ERR_MECHANISM);
    }
    return KF_OK;
}

KF_RESULT kf_hsm_token_uri(struct kf_hsm_token *t, char **out)
{
    KF_ENSURE_REF(t);
    return kf_hsm_token_info_uri(&t->info, out);
}

bool kf_hsm_token_has_pin(const struct kf_hsm_token *t)
{
    return t != NULL &&
           (atomic_load(&t->has_pin) || atomic_load(&t->login_gen) == kf_hsm_fork_gen());
}

bool kf_hsm_token_has_mech(const struct kf_hsm_token *t, CK_MECHANISM_TYPE m)
{
    for (size_t i = 0; i < t->n_mechs; i++) {
        if (t->mechs[i] == m) {
            return true;
        }
    }
    return false;
}

CK_FUNCTION_LIST *kf_hsm_token_functions(struct kf_hsm_token *t)
{
    return t != NULL ? t->mod->fl : NULL;
}

CK_SLOT_ID kf_hsm_token_slot(struct kf_hsm_token *t)
{
    return t != NULL ? t->slot : 0;
}

KF_RESULT kf_hsm_token_init(const char *module, const char *label, const struct kf_secret *so_pin,
                            const struct kf_secret *user_pin, struct kf_hsm_token_info *out)
{
    KF_ENSURE_REF(label);
    KF_ENSURE_REF(so_pin);
    KF_ENSURE_REF(user_pin);
    size_t label_len = strlen(label);
    if (label_len == 0 || label_len > 32) {
        kf_err_note_context("token label must be 1 to 32 bytes, got %zu", label_len);
        KF_BAIL(KF_ERR_INVALID_ARG);
    }
    struct kf_hsm_module *m = NULL;
    KF_GUARD(kf_hsm_module_get(kf_hsm_module_choose(module, NULL), &m));
    CK_SLOT_ID *slots = NULL;
    CK_ULONG n = 0;
    KF_GUARD(token_slots(m, &slots, &n));
    bool found_free = false;
    bool label_taken = false;
    CK_SLOT_ID free_slot = 0;
    for (CK_ULONG i = 0; i < n; i++) {
        CK_TOKEN_INFO ti;
        if (!kf_ok(kf_ck_get_token_info(m, slots[i], &ti))) {
            continue;
        }
        char have[33];
        token_field(have, sizeof(have), ti.label, sizeof(ti.label));
        if ((ti.flags & CKF_TOKEN_INITIALIZED) && strcmp(have, label) == 0) {
            label_taken = true;
        }
        if (!(ti.flags & CKF_TOKEN_INITIALIZED) && !found_free) {
            found_free = true;
            free_slot = slots[i];
        }
    }
    free(slots);
    if (label_taken) {
        /* Two tokens with one label make every "token=" URI ambiguous. */
        kf_err_note_context("a token labelled '%s' already exists in module '%s'", label, m->path);
        KF_BAIL(KF_ERR_INVALID_ARG);
    }
    if (!found_free) {
        kf_err_note_context("module '%s'", m->path);
        KF_BAIL(KF_ERR_NO_FREE_SLOT);
    }
    /* Check both PINs against the token's limits first: a refusal after C_InitToken would
     * leave a token with no user PIN behind. */
    CK_TOKEN_INFO free_info;
    KF_GUARD(kf_ck_get_token_info(m, free_slot, &free_info));
    const struct kf_secret *pins[2] = { so_pin, user_pin };
    for (int i = 0; i < 2; i++) {
        size_t len = kf_secret_len(pins[i]);
        if (len < free_info.ulMinPinLen || len > free_info.ulMaxPinLen) {
            kf_err_note_context("the %s PIN must be %lu to %lu bytes long, not %zu",
                                i == 0 ? "SO" : "user", (unsigned long)free_info.ulMinPinLen,
                                (unsigned long)free_info.ulMaxPinLen, len);
            KF_BAIL(KF_ERR_INVALID_ARG);
        }
    }
    KF_GUARD_CTX(kf_ck_init_token(m, free_slot, so_pin, label), "slot %lu of module '%s'",
                 (unsigned long)free_slot, m->path);

    /* SoftHSM moves a token to a new slot id once initialised: find it again by label. */
    P11KitUri *by_label = p11_kit_uri_new();
    KF_ENSURE(by_label != NULL, KF_ERR_NOMEM);
    CK_TOKEN_INFO *want = p11_kit_uri_get_token_info(by_label);
    memset(want->label, ' ', sizeof(want->label));
    memcpy(want->label, label, label_len);
    CK_SLOT_ID slot = 0;
    CK_TOKEN_INFO ti;
    kf_result r = token_match(m, by_label, label, &slot, &ti);
    p11_kit_uri_free(by_label);
    KF_GUARD(r);

    CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
    KF_GUARD(kf_ck_open_session(m, slot, &s));
    r = kf_ck_login(m, s, CKU_SO, so_pin);
    if (kf_ok(r)) {
        r = kf_ck_init_pin(m, s, user_pin);
        KF_QUIET(kf_ck_logout(m, s));
    }
    KF_QUIET(kf_ck_close_session(m, s));
    /* The token exists now, so a failure here leaves it without a user PIN: say so. */
    KF_GUARD_CTX(r,
                 "token '%s' is initialised but has no user PIN; delete its files or "
                 "re-initialise it with softhsm2-util before trying again",
                 label);
    if (out != NULL) {
        KF_GUARD(kf_ck_get_token_info(m, slot, &ti));
        token_info_from(out, slot, &ti, m->path);
    }
    return KF_OK;
}

void kf_hsm_token_pool_stats(struct kf_hsm_token *t, struct kf_hsm_pool_stats *out)
{
    if (t == NULL || out == NULL) {
        return;
    }
    pthread_mutex_lock(&t->pool_lock);
    bool stale = t->pool_gen != kf_hsm_fork_gen();
    out->max = t->max;
    out->open = stale ? 0 : t->n_open;
    out->idle = stale ? 0 : t->n_idle;
    out->in_use = stale ? 0 : t->n_in_use;
    out->opened_total = t->opened_total;
    out->dropped_total = t->dropped_total;
    pthread_mutex_unlock(&t->pool_lock);
    out->logins = atomic_load(&t->logins);
    out->login_attempts = atomic_load(&t->login_attempts);
}

void kf_hsm_pool_totals(struct kf_hsm_pool_stats *out)
{
    if (out == NULL) {
        return;
    }
    *out = (struct kf_hsm_pool_stats){ 0 };
    pthread_mutex_lock(&token_registry_lock);
    /* LOCKED (token_registry_lock); pool_lock is taken inside, in the documented order --- */
    for (struct kf_hsm_token *t = token_registry; t != NULL; t = t->next) {
        struct kf_hsm_pool_stats one;
        kf_hsm_token_pool_stats(t, &one);
        out->max += one.max;
        out->open += one.open;
        out->idle += one.idle;
        out->in_use += one.in_use;
        out->opened_total += one.opened_total;
        out->dropped_total += one.dropped_total;
        out->logins += one.logins;
        out->login_attempts += one.login_attempts;
    }
    /* --- LOCKED (token_registry_lock) */
    pthread_mutex_unlock(&token_registry_lock);
}

void kf_hsm_token_fork_prepare(void)
{
    pthread_mutex_lock(&token_registry_lock);
    for (struct kf_hsm_token *t = token_registry; t != NULL; t = t->next) {
        pthread_mutex_lock(&t->login_lock);
        pthread_mutex_lock(&t->pool_lock);
    }
}

void kf_hsm_token_fork_parent(void)
{
    for (struct kf_hsm_token *t = token_registry; t != NULL; t = t->next) {
        pthread_mutex_unlock(&t->pool_lock);
        pthread_mutex_unlock(&t->login_lock);
    }
    pthread_mutex_unlock(&token_registry_lock);
}

void kf_hsm_token_fork_child(void)
{
    /* Only re-initialise locks here; the pool notices the new generation at its
     * next use and forgets the parent's sessions then (no allocation or PKCS#11
     * in a fork handler). */
    for (struct kf_hsm_token *t = token_registry; t != NULL; t = t->next) {
        pthread_mutex_init(&t->login_lock, NULL);
        pthread_mutex_init(&t->pool_lock, NULL);
        pthread_cond_init(&t->pool_cond, NULL);
    }
    pthread_mutex_init(&token_registry_lock, NULL);
}
