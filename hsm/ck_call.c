/* hsm/ck_call.c - the one place keyfort calls into a PKCS#11 module. */
#include "hsm/ck_call.h"

#include "common/kf_log.h"

#include <p11-kit/p11-kit.h>
#include <signal.h>
#include <string.h>
#include <time.h>

/* The in-flight gate. Every call into a module holds it shared; the fork
 * handler takes it exclusively, so fork() waits until no thread is inside the
 * module. A module copied into a child while another thread was half-way
 * through C_Sign holds locks and state nobody will ever release (seen with
 * SoftHSM: CKR_GENERAL_ERROR and crashes in the child). Writers are preferred
 * so a busy signer cannot starve fork(). */
static pthread_rwlock_t ck_gate;
static pthread_once_t ck_gate_once = PTHREAD_ONCE_INIT;

/* Set by kf_hsm_quiesce(): no module call after it (exit paths). */
static atomic_bool ck_quiesced;

/* SIGPIPE while inside a module. A module that talks to its token over a socket writes to a
 * peer that may have gone away; in a process that leaves SIGPIPE at its default, that write
 * kills the whole program instead of failing the call (seen with p11-kit-client.so when the
 * p11-kit server restarts). So for such modules (module.c decides which: kf_hsm_module's
 * guard_sigpipe), when the process has SIGPIPE at SIG_DFL, each call runs with SIGPIPE blocked
 * in its thread and a SIGPIPE it raised is consumed before the mask is restored: the call
 * fails with the module's error instead. The guard costs three system calls per call (about
 * 3 % of a P-256 signature on SoftHSM), which is why local modules go without it, and a
 * process that ignores or handles SIGPIPE pays nothing. */
static bool ck_guard_sigpipe;
static _Thread_local sigset_t ck_saved_mask;
static _Thread_local bool ck_guarding;

static void ck_gate_init(void)
{
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&ck_gate, &attr);
    pthread_rwlockattr_destroy(&attr);
    struct sigaction sa;
    ck_guard_sigpipe = sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL;
}

static void ck_sigpipe_block(void)
{
    sigset_t pipe_set;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    /* Already blocked by the application: its SIGPIPEs are its own business. */
    ck_guarding = pthread_sigmask(SIG_BLOCK, &pipe_set, &ck_saved_mask) == 0 &&
                  !sigismember(&ck_saved_mask, SIGPIPE);
}

static void ck_sigpipe_restore(void)
{
    if (!ck_guarding) {
        return;
    }
    sigset_t pending;
    if (sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE)) {
        sigset_t pipe_set;
        sigemptyset(&pipe_set);
        sigaddset(&pipe_set, SIGPIPE);
        const struct timespec zero = { 0, 0 };
        (void)sigtimedwait(&pipe_set, NULL, &zero);
    }
    pthread_sigmask(SIG_SETMASK, &ck_saved_mask, NULL);
    ck_guarding = false;
}

static inline void ck_gate_enter(bool module_guard)
{
    pthread_once(&ck_gate_once, ck_gate_init);
    pthread_rwlock_rdlock(&ck_gate);
    if (module_guard && ck_guard_sigpipe) {
        ck_sigpipe_block();
    }
}

static inline CK_RV ck_gate_leave(bool module_guard, CK_RV rv)
{
    if (module_guard && ck_guard_sigpipe) {
        ck_sigpipe_restore();
    }
    pthread_rwlock_unlock(&ck_gate);
    return rv;
}

#define CK_GATED(m, call)                                                                          \
    (ck_gate_enter((m)->guard_sigpipe), ck_gate_leave((m)->guard_sigpipe, call))

void kf_ck_finalize_exclusive(struct kf_hsm_module *m)
{
    pthread_once(&ck_gate_once, ck_gate_init);
    pthread_rwlock_wrlock(&ck_gate);
    if (!atomic_load(&ck_quiesced) && m->fl != NULL && m->fl->C_Finalize != NULL) {
        CK_RV rv = m->fl->C_Finalize(NULL);
        kf_log(KF_LOG_DEBUG, "hsm", "C_Finalize -> 0x%lx", (unsigned long)rv);
    }
    pthread_rwlock_unlock(&ck_gate);
}

void kf_hsm_gate_fork_prepare(void)
{
    pthread_once(&ck_gate_once, ck_gate_init);
    pthread_rwlock_wrlock(&ck_gate);
}

void kf_hsm_gate_fork_parent(void)
{
    pthread_rwlock_unlock(&ck_gate);
}

void kf_hsm_gate_fork_child(void)
{
    ck_gate_init();
}

/* CK_RVs whose meaning callers act on get their own code; the rest take the
 * call's code. */
static int32_t ck_map(CK_RV rv, int32_t fallback)
{
    switch (rv) {
    case CKR_PIN_INCORRECT:
        return KF_ERR_PIN_INCORRECT;
    case CKR_PIN_LOCKED:
    case CKR_PIN_EXPIRED:
        return KF_ERR_PIN_LOCKED;
    case CKR_USER_NOT_LOGGED_IN:
        return KF_ERR_NOT_LOGGED_IN;
    case CKR_SESSION_HANDLE_INVALID:
    case CKR_SESSION_CLOSED:
        return KF_ERR_SESSION_BROKEN;
    case CKR_DEVICE_REMOVED:
    case CKR_TOKEN_NOT_PRESENT:
    case CKR_DEVICE_ERROR:
        return KF_ERR_DEVICE_REMOVED;
    case CKR_OBJECT_HANDLE_INVALID:
    case CKR_KEY_HANDLE_INVALID:
        return KF_ERR_OBJECT_HANDLE;
    case CKR_CRYPTOKI_NOT_INITIALIZED:
        return KF_ERR_MODULE_FINALIZED;
    case CKR_MECHANISM_INVALID:
        return KF_ERR_MECHANISM;
    case CKR_ATTRIBUTE_SENSITIVE:
        return KF_ERR_ATTRIBUTE_SENSITIVE;
    case CKR_HOST_MEMORY:
        return KF_ERR_NOMEM;
    case CKR_BUFFER_TOO_SMALL:
        return KF_ERR_BUFFER_TOO_SMALL;
    default:
        return fallback;
    }
}

/* The shared epilog; a macro keeps the caller's file and line in the record. */
static kf_result ck_epilog(CK_RV rv, const char *fn, int32_t fallback, const char *file, int line)
{
    if (rv == CKR_OK) {
        return KF_OK;
    }
    const char *name = kf_hsm_ckr_name(rv);
    kf_log(KF_LOG_DEBUG, "hsm", "%s -> %s (0x%lx)", fn, name != NULL ? name : "?",
           (unsigned long)rv);
    kf_err_note_ck(rv, name);
    int32_t code = ck_map(rv, fallback);
    kf_err_record(code, file, line, fn);
    return (kf_result){ code };
}

void kf_hsm_quiesce(void)
{
    atomic_store(&ck_quiesced, true);
}

#define CK_PROLOG(m, fn)                                                                           \
    do {                                                                                           \
        KF_ENSURE_REF(m);                                                                          \
        KF_ENSURE(!atomic_load(&ck_quiesced), KF_ERR_UNSUPPORTED);                                 \
        KF_ENSURE((m)->fl != NULL && (m)->fl->fn != NULL, KF_ERR_UNSUPPORTED);                     \
    } while (0)
#define CK_EPILOG(rv, fn, code) ck_epilog((rv), #fn, (code), __FILE__, __LINE__)

KF_RESULT kf_ck_initialize(struct kf_hsm_module *m)
{
    KF_ENSURE_REF(m);
    KF_ENSURE(!atomic_load(&ck_quiesced), KF_ERR_UNSUPPORTED);
    KF_ENSURE(m->fl != NULL && m->fl->C_Initialize != NULL, KF_ERR_UNSUPPORTED);
    /* Called directly, not through p11_kit_module_initialize, which passes no arguments to an
     * unmanaged module: without CKF_OS_LOCKING_OK a module may assume one thread (SoftHSM
     * then takes no locks at all and corrupts its session map under concurrent C_SignInit). */
    CK_C_INITIALIZE_ARGS args = { .flags = CKF_OS_LOCKING_OK };
    CK_RV rv = CK_GATED(m, m->fl->C_Initialize(&args));
    if (rv == CKR_CRYPTOKI_ALREADY_INITIALIZED) {
        /* After fork() modules like SoftHSM keep their (copied) state: usable as it
         * is. */
        return KF_OK;
    }
    return CK_EPILOG(rv, C_Initialize, KF_ERR_MODULE_INIT);
}

KF_RESULT kf_ck_get_slot_list(struct kf_hsm_module *m, bool token_present, CK_SLOT_ID *out,
                              CK_ULONG *inout_n)
{
    CK_PROLOG(m, C_GetSlotList);
    KF_ENSURE_REF(inout_n);
    CK_RV rv = CK_GATED(m, m->fl->C_GetSlotList(token_present ? CK_TRUE : CK_FALSE, out, inout_n));
    return CK_EPILOG(rv, C_GetSlotList, KF_ERR_HSM_CALL);
}

KF_RESULT kf_ck_get_token_info(struct kf_hsm_module *m, CK_SLOT_ID slot, CK_TOKEN_INFO *out)
{
    CK_PROLOG(m, C_GetTokenInfo);
    KF_ENSURE_REF(out);
    CK_RV rv = CK_GATED(m, m->fl->C_GetTokenInfo(slot, out));
    return CK_EPILOG(rv, C_GetTokenInfo, KF_ERR_TOKEN_INFO);
}

KF_RESULT kf_ck_get_mechanism_list(struct kf_hsm_module *m, CK_SLOT_ID slot, CK_MECHANISM_TYPE *out,
                                   CK_ULONG *inout_n)
{
    CK_PROLOG(m, C_GetMechanismList);
    KF_ENSURE_REF(inout_n);
    CK_RV rv = CK_GATED(m, m->fl->C_GetMechanismList(slot, out, inout_n));
    return CK_EPILOG(rv, C_GetMechanismList, KF_ERR_HSM_CALL);
}

KF_RESULT kf_ck_init_token(struct kf_hsm_module *m, CK_SLOT_ID slot, const struct kf_secret *so_pin,
                           const char *label)
{
    CK_PROLOG(m, C_InitToken);
    KF_ENSURE_REF(so_pin);
    KF_ENSURE_REF(label);
    /* CK_TOKEN_INFO.label: 32 bytes, blank padded, not NUL terminated (PKCS#11
     * s3.2). */
    CK_UTF8CHAR padded[32];
    size_t n = strlen(label);
    KF_ENSURE(n > 0 && n <= sizeof(padded), KF_ERR_INVALID_ARG);
    memset(padded, ' ', sizeof(padded));
    memcpy(padded, label, n);
    CK_RV rv = CK_GATED(m, m->fl->C_InitToken(slot, (CK_UTF8CHAR_PTR)kf_secret_data(so_pin),
                                              kf_secret_len(so_pin), padded));
    return CK_EPILOG(rv, C_InitToken, KF_ERR_TOKEN_INIT);
}

KF_RESULT kf_ck_init_pin(struct kf_hsm_module *m, CK_SESSION_HANDLE s, const struct kf_secret *pin)
{
    CK_PROLOG(m, C_InitPIN);
    KF_ENSURE_REF(pin);
    CK_RV rv =
        CK_GATED(m, m->fl->C_InitPIN(s, (CK_UTF8CHAR_PTR)kf_secret_data(pin), kf_secret_len(pin)));
    return CK_EPILOG(rv, C_InitPIN, KF_ERR_TOKEN_INIT);
}

KF_RESULT kf_ck_open_session(struct kf_hsm_module *m, CK_SLOT_ID slot, CK_SESSION_HANDLE *out)
{
    CK_PROLOG(m, C_OpenSession);
    KF_ENSURE_REF(out);
    CK_SESSION_HANDLE h = CK_INVALID_HANDLE;
    CK_RV rv = CK_GATED(
        m, m->fl->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &h));
    KF_GUARD(CK_EPILOG(rv, C_OpenSession, KF_ERR_SESSION));
    *out = h;
    return KF_OK;
}

KF_RESULT kf_ck_close_session(struct kf_hsm_module *m, CK_SESSION_HANDLE s)
{
    CK_PROLOG(m, C_CloseSession);
    CK_RV rv = CK_GATED(m, m->fl->C_CloseSession(s));
    return CK_EPILOG(rv, C_CloseSession, KF_ERR_HSM_CALL);
}

KF_RESULT kf_ck_login(struct kf_hsm_module *m, CK_SESSION_HANDLE s, CK_USER_TYPE who,
                      const struct kf_secret *pin)
{
    CK_PROLOG(m, C_Login);
    KF_ENSURE_REF(pin);
    CK_RV rv = CK_GATED(
        m, m->fl->C_Login(s, who, (CK_UTF8CHAR_PTR)kf_secret_data(pin), kf_secret_len(pin)));
    if (rv == CKR_USER_ALREADY_LOGGED_IN) {
        return KF_OK;
    }
    /* At login a PIN of a length or form the token never accepts is simply a wrong PIN (at
     * C_InitPIN the same codes mean "new PIN not acceptable": TOKEN_INIT, the call's code). */
    int32_t code =
        rv == CKR_PIN_INVALID || rv == CKR_PIN_LEN_RANGE ? KF_ERR_PIN_INCORRECT : KF_ERR_LOGIN;
    return CK_EPILOG(rv, C_Login, code);
}

KF_RESULT kf_ck_logout(struct kf_hsm_module *m, CK_SESSION_HANDLE s)
{
    CK_PROLOG(m, C_Logout);
    CK_RV rv = CK_GATED(m, m->fl->C_Logout(s));
    return CK_EPILOG(rv, C_Logout, KF_ERR_HSM_CALL);
}

KF_RESULT kf_ck_find_objects(struct kf_hsm_module *m, CK_SESSION_HANDLE s, CK_ATTRIBUTE *tmpl,
                             CK_ULONG n, CK_OBJECT_HANDLE *out, CK_ULONG max, CK_ULONG *out_count)
{
    CK_PROLOG(m, C_FindObjects);
    KF_ENSURE_REF(out_count);
    KF_ENSURE(out != NULL || max == 0, KF_ERR_NULL);
    CK_RV rv = CK_GATED(m, m->fl->C_FindObjectsInit(s, tmpl, n));
    KF_GUARD(CK_EPILOG(rv, C_FindObjectsInit, KF_ERR_FIND_OBJECTS));
    CK_ULONG total = 0;
    CK_OBJECT_HANDLE spill[16];
    for (;;) {
        /* Keep counting past max (into a scratch array): callers need the true
         * count to report ambiguity. */
        CK_OBJECT_HANDLE *dst = total < max ? out + total : spill;
        CK_ULONG room = total < max ? max - total : 16;
        CK_ULONG got = 0;
        rv = CK_GATED(m, m->fl->C_FindObjects(s, dst, room, &got));
        if (rv != CKR_OK || got == 0) {
            break;
        }
        total += got;
    }
    CK_RV rv_final = CK_GATED(m, m->fl->C_FindObjectsFinal(s));
    KF_GUARD(CK_EPILOG(rv, C_FindObjects, KF_ERR_FIND_OBJECTS));
    KF_GUARD(CK_EPILOG(rv_final, C_FindObjectsFinal, KF_ERR_FIND_OBJECTS));
    *out_count = total;
    return KF_OK;
}

KF_RESULT kf_ck_get_attributes(struct kf_hsm_module *m, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE obj,
                               CK_ATTRIBUTE *tmpl, CK_ULONG n, bool tolerant)
{
    CK_PROLOG(m, C_GetAttributeValue);
    CK_RV rv = CK_GATED(m, m->fl->C_GetAttributeValue(s, obj, tmpl, n));
    if (tolerant && (rv == CKR_ATTRIBUTE_SENSITIVE || rv == CKR_ATTRIBUTE_TYPE_INVALID ||
                     rv == CKR_BUFFER_TOO_SMALL)) {
        return KF_OK; /* s5.7: the other attributes were still filled in */
    }
    return CK_EPILOG(rv, C_GetAttributeValue, KF_ERR_ATTRIBUTE);
}

KF_RESULT kf_ck_create_object(struct kf_hsm_module *m, CK_SESSION_HANDLE s, CK_ATTRIBUTE *tmpl,
                              CK_ULONG n, CK_OBJECT_HANDLE *out)
{
    CK_PROLOG(m, C_CreateObject);
    KF_ENSURE_REF(out);
    CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
    CK_RV rv = CK_GATED(m, m->fl->C_CreateObject(s, tmpl, n, &h));
    KF_GUARD(CK_EPILOG(rv, C_CreateObject, KF_ERR_CREATE_OBJECT));
    *out = h;
    return KF_OK;
}

KF_RESULT kf_ck_destroy_object(struct kf_hsm_module *m, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE obj)
{
    CK_PROLOG(m, C_DestroyObject);
    CK_RV rv = CK_GATED(m, m->fl->C_DestroyObject(s, obj));
    return CK_EPILOG(rv, C_DestroyObject, KF_ERR_DESTROY_OBJECT);
}

KF_RESULT kf_ck_copy_object(struct kf_hsm_module *m, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE obj,
                            CK_ATTRIBUTE *tmpl, CK_ULONG n, CK_OBJECT_HANDLE *out)
{
    CK_PROLOG(m, C_CopyObject);
    KF_ENSURE_REF(out);
    CK_RV rv = CK_GATED(m, m->fl->C_CopyObject(s, obj, tmpl, n, out));
    return CK_EPILOG(rv, C_CopyObject, KF_ERR_CREATE_OBJECT);
}

KF_RESULT kf_ck_generate_key_pair(struct kf_hsm_module *m, CK_SESSION_HANDLE s, CK_MECHANISM *mech,
                                  CK_ATTRIBUTE *pub, CK_ULONG n_pub, CK_ATTRIBUTE *priv,
                                  CK_ULONG n_priv, CK_OBJECT_HANDLE *out_pub,
                                  CK_OBJECT_HANDLE *out_priv)
{
    CK_PROLOG(m, C_GenerateKeyPair);
    KF_ENSURE_REF(out_pub);
    KF_ENSURE_REF(out_priv);
    CK_OBJECT_HANDLE hp = CK_INVALID_HANDLE;
    CK_OBJECT_HANDLE hk = CK_INVALID_HANDLE;
    CK_RV rv = CK_GATED(m, m->fl->C_GenerateKeyPair(s, mech, pub, n_pub, priv, n_priv, &hp, &hk));
    KF_GUARD(CK_EPILOG(rv, C_GenerateKeyPair, KF_ERR_KEYGEN));
    *out_pub = hp;
    *out_priv = hk;
    return KF_OK;
}

KF_RESULT kf_ck_sign(struct kf_hsm_module *m, CK_SESSION_HANDLE s, CK_MECHANISM *mech,
                     CK_OBJECT_HANDLE key, const uint8_t *in, size_t in_len, uint8_t *sig,
                     CK_ULONG *inout_sig_len)
{
    CK_PROLOG(m, C_Sign);
    KF_ENSURE_REF(inout_sig_len);
    /* One pass through the gate for both calls: this is the hot path. */
    ck_gate_enter(m->guard_sigpipe);
    CK_RV rv_init = m->fl->C_SignInit(s, mech, key);
    CK_RV rv =
        rv_init == CKR_OK ? m->fl->C_Sign(s, (CK_BYTE_PTR)in, in_len, sig, inout_sig_len) : CKR_OK;
    ck_gate_leave(m->guard_sigpipe, CKR_OK);
    KF_GUARD(CK_EPILOG(rv_init, C_SignInit, KF_ERR_SIGN));
    return CK_EPILOG(rv, C_Sign, KF_ERR_SIGN);
}

KF_RESULT kf_ck_decrypt(struct kf_hsm_module *m, CK_SESSION_HANDLE s, CK_MECHANISM *mech,
                        CK_OBJECT_HANDLE key, const uint8_t *in, size_t in_len, uint8_t *out,
                        CK_ULONG *inout_len)
{
    CK_PROLOG(m, C_Decrypt);
    KF_ENSURE_REF(inout_len);
    CK_RV rv = CK_GATED(m, m->fl->C_DecryptInit(s, mech, key));
    KF_GUARD(CK_EPILOG(rv, C_DecryptInit, KF_ERR_DECRYPT));
    rv = CK_GATED(m, m->fl->C_Decrypt(s, (CK_BYTE_PTR)in, in_len, out, inout_len));
    return CK_EPILOG(rv, C_Decrypt, KF_ERR_DECRYPT);
}

KF_RESULT kf_ck_derive_key(struct kf_hsm_module *m, CK_SESSION_HANDLE s, CK_MECHANISM *mech,
                           CK_OBJECT_HANDLE base, CK_ATTRIBUTE *tmpl, CK_ULONG n,
                           CK_OBJECT_HANDLE *out)
{
    CK_PROLOG(m, C_DeriveKey);
    KF_ENSURE_REF(out);
    CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
    CK_RV rv = CK_GATED(m, m->fl->C_DeriveKey(s, mech, base, tmpl, n, &h));
    KF_GUARD(CK_EPILOG(rv, C_DeriveKey, KF_ERR_DERIVE));
    *out = h;
    return KF_OK;
}
