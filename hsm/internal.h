/* hsm/internal.h - structures shared by the files of hsm/ (not installed, not
 * for callers).
 *
 * Locking (see docs/hsm.md "Locking"): registry lock (token.c) ->
 * token.login_lock -> token.pool_lock. No lock is held across a C_* call except
 * login_lock around C_Login, and the module's init lock around C_Initialize.
 * The fork handlers (fork.c) take every lock in that order in prepare, release
 * them in the parent and re-initialise them in the child. */
#ifndef KF_HSM_INTERNAL_H
#define KF_HSM_INTERNAL_H

#include "hsm/hsm.h"

#include <p11-kit/uri.h>
#include <pthread.h>
#include <stdatomic.h>

/* ---- URIs (uri.c) ---- */

/** The parsed P11KitUri, for p11_kit_uri_match_token_info (borrowed). */
P11KitUri *kf_hsm_uri_p11(const struct kf_hsm_uri *uri);
/** True when the URI has an id= attribute (possibly empty). */
bool kf_hsm_uri_has_id(const struct kf_hsm_uri *uri);

/* ---- fork generation (fork.c) ---- */

/** The process generation: incremented in the child after every fork(), and after a module
 * was reset (kf_hsm_module_reset). Anything stamped with an older generation (sessions,
 * logins, object handles, a module's initialisation) is forgotten, never closed, and made
 * again on next use. Starts at 1. */
uint64_t kf_hsm_fork_gen(void);
/** Start a new generation in this process (module reset). */
void kf_hsm_gen_bump(void);
/** The in-flight gate of ck_call.c: fork() waits until no thread is inside a
 * module. */
void kf_hsm_gate_fork_prepare(void);
void kf_hsm_gate_fork_parent(void);
void kf_hsm_gate_fork_child(void);
/** Install the pthread_atfork handlers once. */
void kf_hsm_fork_install(void);

/* ---- modules (module.c) ---- */

struct kf_hsm_module {
    char *path; /* owned: the shared object's file name */
    CK_FUNCTION_LIST
    *fl;                        /* owned by p11-kit (loaded unmanaged; never released) */
    pthread_mutex_t lock;       /* protects: init_gen, resets (held across C_Initialize) */
    _Atomic uint64_t init_gen;  /* generation in which C_Initialize last succeeded */
    _Atomic uint64_t resets;    /* kf_hsm_module_reset count: slots may have changed */
    bool guard_sigpipe;         /* calls run with SIGPIPE blocked (ck_call.c); set at load */
    struct kf_hsm_module *next; /* registry link, under the module registry lock */
};

/** Find or load a module by path or p11-kit name. Modules live until the
 * process ends: a PKCS#11 module may not be initialised twice, and finalising
 * at exit races other users of the same library (e.g. SoftHSM's own OpenSSL
 * state). */
KF_RESULT kf_hsm_module_get(const char *path_or_name, struct kf_hsm_module **out);
/** C_Initialize in this process generation (again in a forked child) if not yet
 * done. */
KF_RESULT kf_hsm_module_ready(struct kf_hsm_module *m);
/** The module named by options, URI, $KEYFORT_PKCS11_MODULE or the built-in
 * default. */
const char *kf_hsm_module_choose(const char *opt, const struct kf_hsm_uri *uri);
/** The module lost its device (CKR_DEVICE_ERROR / _REMOVED with a fresh session too, as a
 *  remote token does when its server restarts): finalise it and start a new generation, so
 *  that the next call initialises it again and tokens find their slots, log in and find
 *  their objects again. @p seen_gen is the generation the failure was seen in: a reset made
 *  meanwhile by another thread is not repeated. */
void kf_hsm_module_reset(struct kf_hsm_module *m, uint64_t seen_gen);
/** C_Finalize with the gate held exclusively: no other thread is inside any module. */
void kf_ck_finalize_exclusive(struct kf_hsm_module *m);
void kf_hsm_module_fork_prepare(void);
void kf_hsm_module_fork_parent(void);
void kf_hsm_module_fork_child(void);

/* ---- tokens, login, pool (token.c, login.c, session.c) ---- */

/* The per-key fast path (session.c): a session-object copy of a private key, made on the
 * session that uses it. SoftHSM re-reads a token object's file on every C_SignInit; a session
 * object lives in memory. The copy dies with its session. */
#define KF_HSM_SESSION_COPIES 8
struct kf_hsm_session_copy {
    uint64_t key_serial;     /* kf_hsm_key.serial; 0 = empty entry */
    CK_OBJECT_HANDLE orig;   /* the token object it was copied from */
    CK_OBJECT_HANDLE copy;   /* the session object */
    struct timespec checked; /* when orig was last seen on the token */
};

struct kf_hsm_session {
    CK_SESSION_HANDLE handle;
    uint64_t gen; /* generation it was opened in */
    struct kf_hsm_session_copy copies[KF_HSM_SESSION_COPIES];
    unsigned next_evict;
};

struct kf_hsm_token {
    _Atomic unsigned refs;
    struct kf_hsm_module *mod;     /* borrowed: modules live for the process */
    _Atomic CK_SLOT_ID slot;       /* found again after a module reset (slot ids may change) */
    _Atomic uint64_t slot_resets;  /* mod->resets when slot was last found */
    struct kf_hsm_token_info info; /* immutable after open */
    char *display;                 /* owned: token URI for messages */
    CK_MECHANISM_TYPE *mechs;      /* owned: C_GetMechanismList at open, immutable */
    size_t n_mechs;

    pthread_mutex_t login_lock; /* protects: pin, pin_rejected, login_gen; held
                                   over C_Login */
    struct kf_secret *pin;      /* owned; NULL when no PIN source was given or not cached */
    bool pin_cache;
    bool pin_rejected;          /* CKR_PIN_INCORRECT seen: never retried (retries lock HSMs) */
    bool pin_wiped;             /* the PIN was wiped after login (no_pin_cache) */
    _Atomic bool has_pin;       /* pin != NULL, readable without login_lock */
    _Atomic uint64_t login_gen; /* fork generation logged in; 0 = not logged in */
    _Atomic uint64_t logins;
    _Atomic uint64_t login_attempts;

    pthread_mutex_t pool_lock;    /* protects: everything below */
    pthread_cond_t pool_cond;     /* signalled when a session is returned or dropped */
    struct kf_hsm_session **idle; /* owned array of owned sessions, capacity max */
    unsigned n_idle;
    unsigned n_open;
    unsigned n_in_use;
    unsigned max;
    uint64_t pool_gen;
    uint64_t opened_total;
    uint64_t dropped_total;

    struct kf_hsm_token *next; /* registry link, under the token registry lock */
};

/** Find the token's slot again after its module was reset (slot ids may change). */
KF_RESULT kf_hsm_token_rebind(struct kf_hsm_token *t);
/** Log in with the token's PIN if it needs one and this generation is not
 * logged in. */
KF_RESULT kf_hsm_login_ensure(struct kf_hsm_token *t, CK_SESSION_HANDLE h);
/** Forget the login state after CKR_USER_NOT_LOGGED_IN, so the next session
 * logs in. */
void kf_hsm_login_invalidate(struct kf_hsm_token *t);
/** Resolve the PIN: PIN file option, URI pin-value, URI pin-source, prompt.
 * NULL if none. */
KF_RESULT kf_hsm_login_load_pin(const struct kf_hsm_uri *uri, const struct kf_hsm_open_opts *opts,
                                struct kf_secret **out);
bool kf_hsm_token_has_mech(const struct kf_hsm_token *t, CK_MECHANISM_TYPE m);
/** MECHANISM (naming the mechanism and the token) unless the token offers @p m. */
KF_RESULT kf_hsm_token_require_mech(const struct kf_hsm_token *t, CK_MECHANISM_TYPE m);
void kf_hsm_token_fork_prepare(void);
void kf_hsm_token_fork_parent(void);
void kf_hsm_token_fork_child(void);

/* ---- keys (object.c) ---- */

struct kf_hsm_key {
    _Atomic unsigned refs;
    struct kf_hsm_token *tok; /* counted ref */
    enum kf_hsm_key_kind kind;
    int nid;
    unsigned bits;
    size_t max_sig;
    char label[129];
    uint8_t id[64];
    size_t id_len;
    bool has_private;
    bool has_public;
    EVP_PKEY
    *pub;          /* owned; NULL when the token holds no public part we can read */
    char *display; /* owned: key URI for messages */
    /* Handle cache, lock-free so that fork() can never catch it locked: handles
     * are stored before handle_gen (release) and read after it (acquire).
     * handle_gen 0 = invalid. */
    _Atomic CK_OBJECT_HANDLE priv_h;
    _Atomic CK_OBJECT_HANDLE pub_h;
    _Atomic uint64_t handle_gen;
    uint64_t serial;      /* unique in the process, never reused: names the key in caches */
    _Atomic bool no_copy; /* the token refused a session copy: use the token object */
};

/** The private (or public) object handle for this generation, searching again
 * if needed. */
KF_RESULT kf_hsm_key_handle(struct kf_hsm_key *k, CK_SESSION_HANDLE s, bool want_private,
                            CK_OBJECT_HANDLE *out);
void kf_hsm_key_invalidate(struct kf_hsm_key *k);
/** Build a key from the handle of one object found on a session. */
KF_RESULT kf_hsm_key_from_object(struct kf_hsm_token *t, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE obj,
                                 struct kf_hsm_key **out);
/** Count objects matching a template (up to @p max handles stored in @p out).
 */
KF_RESULT kf_hsm_find(struct kf_hsm_token *t, CK_SESSION_HANDLE s, CK_ATTRIBUTE *tmpl, CK_ULONG n,
                      CK_OBJECT_HANDLE *out, size_t max, size_t *out_count);

/** Refuse a label or id already in use: two keys under one name make every URI
 * naming either one ambiguous (keygen.c; also used by import.c). */
KF_RESULT kf_hsm_keygen_check_unique(struct kf_hsm_token *t, CK_SESSION_HANDLE s, const char *label,
                                     const uint8_t *id, size_t id_len);

/* ---- running an operation with the pool's recovery rules (session.c) ---- */

/** One attempt of an operation on a session; return the C_* outcome. */
typedef kf_result (*kf_hsm_op_fn)(struct kf_hsm_key *k, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE obj,
                                  void *arg);
/**
 * Run @p fn on a pooled session with the key's private object. Recovers once
 * from a broken session (dropped and replaced), CKR_USER_NOT_LOGGED_IN
 * (re-login) and a stale object handle (search again); never retries a wrong
 * PIN.
 */
KF_RESULT kf_hsm_run(struct kf_hsm_key *k, kf_hsm_op_fn fn, void *arg);

/* ---- public keys and attributes (pubkey.c, ecattr.c) ---- */

/* Property query for hsm/'s own software crypto (public key copies, digests, key files): never
 * keyfort's provider, which may be loaded in the same process and, listed first, would
 * otherwise be asked to import the very public keys it exports. */
#define KF_HSM_SW_PROPQ "provider!=keyfort"

/** Build an EVP_PKEY from public attributes of a token key. */
KF_RESULT kf_hsm_pubkey_rsa(const uint8_t *n, size_t n_len, const uint8_t *e, size_t e_len,
                            EVP_PKEY **out);
KF_RESULT kf_hsm_pubkey_ec(int nid, const uint8_t *point, size_t point_len, EVP_PKEY **out);
/** DER namedCurve OID for a NID (P-256, P-384, Ed25519, Ed448). */
KF_RESULT kf_hsm_ec_params_der(int nid, const uint8_t **out, size_t *out_len);
/** Field size in bytes (32, 48, 32, 57). */
size_t kf_hsm_ec_field_len(int nid);

/* ---- mechanisms (mech.c) ---- */

const char *kf_hsm_mech_name(CK_MECHANISM_TYPE m);
CK_MECHANISM_TYPE kf_hsm_digest_mech(enum kf_hsm_digest d);
CK_RSA_PKCS_MGF_TYPE kf_hsm_digest_mgf(enum kf_hsm_digest d);

#endif
