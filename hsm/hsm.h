/* hsm/hsm.h - keyfort's PKCS#11 key custody, through p11-kit.
 *
 * Objects and ownership:
 *   struct kf_hsm_uri    parsed RFC 7512 URI (owned by the caller,
 * kf_hsm_uri_free) struct kf_hsm_token  one token of one module, with its
 * session pool and login state (counted ref: kf_hsm_token_ref /
 * kf_hsm_token_unref) struct kf_hsm_key    one key on a token: private and/or
 * public object with a handle cache (counted ref; holds a ref on its token)
 *
 * Every function is safe to call from many threads, and after fork() in the
 * child (the child gets a re-initialised module and a new pool; the parent's
 * sessions are never touched). Failures carry a kf error, the CKR_ name and the
 * URI or object concerned (kf_err_describe). PINs are kf_secret; no function
 * prints, logs or formats one. */
#ifndef KF_HSM_HSM_H
#define KF_HSM_HSM_H

#include "common/kf_result.h"
#include "common/kf_secret.h"

#include <openssl/evp.h>
#include <p11-kit/pkcs11.h>
#include <stddef.h>
#include <stdint.h>

struct kf_hsm_uri;
struct kf_hsm_token;
struct kf_hsm_key;
struct kf_hsm_session;

/* ---- key types
 * ------------------------------------------------------------------------ */

enum kf_hsm_key_type {
    KF_KEY_RSA2048 = 0,
    KF_KEY_RSA3072,
    KF_KEY_RSA4096,
    KF_KEY_P256,
    KF_KEY_P384,
    KF_KEY_ED25519,
    KF_KEY_ED448,
    KF_KEY_TYPE_COUNT
};

/** Family of a key on the token. */
enum kf_hsm_key_kind {
    KF_KIND_RSA = 1,
    KF_KIND_EC,
    KF_KIND_EDDSA,
};

/** "rsa2048", "p256", "ed25519", ... */
const char *kf_hsm_key_type_name(enum kf_hsm_key_type t);
/** Parse a CLI type name. Errors: INVALID_ARG (the name is put in the context).
 */
KF_RESULT kf_hsm_key_type_parse(const char *name, enum kf_hsm_key_type *out);

/* ---- URIs (hsm/uri.c, RFC 7512 through p11-kit's P11KitUri)
 * ----------------------------- */

enum kf_hsm_obj_type {
    KF_OBJ_ANY = 0,
    KF_OBJ_PRIVATE,
    KF_OBJ_PUBLIC,
    KF_OBJ_CERT,
    KF_OBJ_SECRET_KEY,
    KF_OBJ_DATA,
};

/**
 * Parse a pkcs11: URI. Errors: URI_SCHEME, URI_ENCODING, URI_SYNTAX,
 * URI_ATTRIBUTE, URI_VERSION; the context names the offending part (never the
 * value of pin-value). Recognised query attributes: pin-source (a file path or
 * file: URI), pin-value, module-path, module-name.
 */
KF_RESULT kf_hsm_uri_parse(const char *text, struct kf_hsm_uri **out);
void kf_hsm_uri_free(struct kf_hsm_uri *uri);
/** The URI as text with any pin-value removed: safe for messages and logs.
 * Borrowed. */
const char *kf_hsm_uri_display(const struct kf_hsm_uri *uri);
/* Accessors; strings are borrowed, NULL when the attribute is absent. */
const char *kf_hsm_uri_token(const struct kf_hsm_uri *uri);
const char *kf_hsm_uri_manufacturer(const struct kf_hsm_uri *uri);
const char *kf_hsm_uri_serial(const struct kf_hsm_uri *uri);
const char *kf_hsm_uri_model(const struct kf_hsm_uri *uri);
const char *kf_hsm_uri_object(const struct kf_hsm_uri *uri);
/** CKA_ID bytes; NULL with *out_len = 0 when absent. */
const uint8_t *kf_hsm_uri_id(const struct kf_hsm_uri *uri, size_t *out_len);
enum kf_hsm_obj_type kf_hsm_uri_type(const struct kf_hsm_uri *uri);
const char *kf_hsm_uri_pin_source(const struct kf_hsm_uri *uri);
bool kf_hsm_uri_has_pin_value(const struct kf_hsm_uri *uri);
/** Copy of pin-value into a new secret. Errors: PIN_REQUIRED when absent. */
KF_RESULT kf_hsm_uri_pin_value(const struct kf_hsm_uri *uri, struct kf_secret **out);
const char *kf_hsm_uri_module_path(const struct kf_hsm_uri *uri);
const char *kf_hsm_uri_module_name(const struct kf_hsm_uri *uri);
/** True when the URI names an object (object=, id= or type=), not just a token.
 */
bool kf_hsm_uri_names_object(const struct kf_hsm_uri *uri);

/* ---- tokens, login and the session pool (hsm/token.c, session.c, login.c)
 * ------------- */

/** Environment variable naming the default module (path or p11-kit name). */
#define KF_HSM_MODULE_ENV "KEYFORT_PKCS11_MODULE"

struct kf_hsm_open_opts {
    /** Module path or p11-kit registered name. NULL: the URI's
     * module-path/module-name, then $KEYFORT_PKCS11_MODULE, then SoftHSM2's
     * libsofthsm2.so. */
    const char *module;
    /** PIN file; takes precedence over the URI's pin-source / pin-value. */
    const char *pin_file;
    /** Ask on /dev/tty when nothing else gives a PIN. */
    bool allow_prompt;
    /** Maximum sessions in the pool; 0 = 2 x online CPUs. */
    unsigned pool_max;
    /** By default the PIN stays in locked memory for re-login after
     * CKR_USER_NOT_LOGGED_IN and after fork(); set this to wipe it right after
     * the first login instead. */
    bool no_pin_cache;
    /** A PIN the caller already holds (e.g. from OpenSSL's password callback); borrowed and
     *  copied. Used after pin_file, before the URI's pin-value / pin-source. */
    const struct kf_secret *pin;
};

/**
 * Open the one initialised token the URI's token part matches, load the PIN (if
 * any source gives one) and prepare a session pool. Login happens at the first
 * session. Errors: MODULE_LOAD, MODULE_INIT, TOKEN_NOT_FOUND, TOKEN_AMBIGUOUS,
 * FILE_OPEN (PIN file).
 */
KF_RESULT kf_hsm_token_open(const struct kf_hsm_uri *uri, const struct kf_hsm_open_opts *opts,
                            struct kf_hsm_token **out);
struct kf_hsm_token *kf_hsm_token_ref(struct kf_hsm_token *t);
void kf_hsm_token_unref(struct kf_hsm_token *t);

struct kf_hsm_token_info {
    CK_SLOT_ID slot;
    char label[33]; /* blank padding removed */
    char manufacturer[33];
    char model[17];
    char serial[17];
    CK_FLAGS flags; /* CK_TOKEN_INFO.flags */
    char module_path[256];
};
KF_RESULT kf_hsm_token_get_info(struct kf_hsm_token *t, struct kf_hsm_token_info *out);
/** A pkcs11: URI naming this token (token label, manufacturer, model, serial);
 * caller frees. */
KF_RESULT kf_hsm_token_uri(struct kf_hsm_token *t, char **out);
/** The same for a token known only by its info (kf_hsm_token_list, kf_hsm_token_init). */
KF_RESULT kf_hsm_token_info_uri(const struct kf_hsm_token_info *ti, char **out);
/** True when a PIN is available (login possible). */
bool kf_hsm_token_has_pin(const struct kf_hsm_token *t);

/**
 * List the slots of a module that hold a token (initialised or not).
 * @p out is a malloc'ed array the caller frees.
 */
KF_RESULT kf_hsm_token_list(const char *module, struct kf_hsm_token_info **out, size_t *out_n);

/**
 * Initialise the first slot holding an uninitialised token with @p label, set
 * the SO PIN and the user PIN. Errors: NO_FREE_SLOT, TOKEN_INIT (with the CKR_
 * name).
 */
KF_RESULT kf_hsm_token_init(const char *module, const char *label, const struct kf_secret *so_pin,
                            const struct kf_secret *user_pin, struct kf_hsm_token_info *out);

struct kf_hsm_pool_stats {
    unsigned max;
    unsigned open; /* sessions that exist (idle + in use) */
    unsigned idle;
    unsigned in_use;
    uint64_t opened_total;   /* C_OpenSession successes since the pool was made */
    uint64_t dropped_total;  /* broken sessions dropped */
    uint64_t logins;         /* successful C_Login calls */
    uint64_t login_attempts; /* C_Login calls, failed ones included */
};
void kf_hsm_token_pool_stats(struct kf_hsm_token *t, struct kf_hsm_pool_stats *out);
/** The sums over every token open in this process (max is summed too). */
void kf_hsm_pool_totals(struct kf_hsm_pool_stats *out);

/** Take a session from the pool (opening and logging in as needed); blocks
 * while the pool is at its cap and every session is in use. */
KF_RESULT kf_hsm_session_acquire(struct kf_hsm_token *t, struct kf_hsm_session **out);
/** Return a session. @p last is the outcome of the last operation on it: a
 * session that failed with SESSION_BROKEN or DEVICE_REMOVED is closed and
 * dropped, never reused. */
void kf_hsm_session_release(struct kf_hsm_token *t, struct kf_hsm_session *s, kf_result last);
CK_SESSION_HANDLE kf_hsm_session_handle(const struct kf_hsm_session *s);
/** The module's function list (tests and the bare-loop benchmark use it).
 * Borrowed. */
CK_FUNCTION_LIST *kf_hsm_token_functions(struct kf_hsm_token *t);
CK_SLOT_ID kf_hsm_token_slot(struct kf_hsm_token *t);

/* ---- keys and objects (hsm/object.c, keygen.c, import.c, pubkey.c)
 * -------------------- */

struct kf_hsm_key_info {
    enum kf_hsm_key_kind kind;
    unsigned bits; /* modulus bits, or field bits (255 / 448 for EdDSA) */
    int nid;       /* curve NID for EC and EdDSA (NID_X9_62_prime256v1, NID_ED25519..)
                    */
    char label[129];
    uint8_t id[64];
    size_t id_len;
    bool has_private;
    bool has_public;
};

/**
 * Find the one key a URI names. Looks for private keys first (needs login),
 * then public keys; pairs them by CKA_ID. Errors: OBJECT_NOT_FOUND,
 * OBJECT_AMBIGUOUS (with the count), both with the URI in the context.
 */
KF_RESULT kf_hsm_key_find(struct kf_hsm_token *t, const struct kf_hsm_uri *uri,
                          struct kf_hsm_key **out);
struct kf_hsm_key *kf_hsm_key_ref(struct kf_hsm_key *k);
void kf_hsm_key_unref(struct kf_hsm_key *k);
KF_RESULT kf_hsm_key_get_info(const struct kf_hsm_key *k, struct kf_hsm_key_info *out);
/** A pkcs11: URI naming this key (token, object label, id); caller frees. */
KF_RESULT kf_hsm_key_uri(struct kf_hsm_key *k, char **out);
/** Software copy of the public key. Caller owns the EVP_PKEY. */
KF_RESULT kf_hsm_key_public(struct kf_hsm_key *k, EVP_PKEY **out);
/** Largest signature this key makes, in bytes. */
size_t kf_hsm_key_max_sig_len(const struct kf_hsm_key *k);

/**
 * Generate a key pair on the token: CKA_TOKEN, CKA_PRIVATE, CKA_SENSITIVE true,
 * CKA_EXTRACTABLE false. @p id NULL: a random 16-byte id. Refuses a label or id
 * that already exists on the token (it would make URIs ambiguous). Errors:
 * INVALID_ARG, MECHANISM, KEYGEN.
 */
KF_RESULT kf_hsm_keygen(struct kf_hsm_token *t, enum kf_hsm_key_type type, const char *label,
                        const uint8_t *id, size_t id_len, struct kf_hsm_key **out);

/**
 * Import the private key in a PEM file (RSA, EC P-256/P-384, Ed25519, Ed448) as
 * a non-extractable, sensitive token key, plus its public key object. Key bytes
 * are held in kf_secret while in transit and wiped. Errors: BAD_KEY_FILE,
 * UNSUPPORTED, CREATE_OBJECT.
 */
KF_RESULT kf_hsm_key_import_pem(struct kf_hsm_token *t, const char *path, const char *label,
                                const uint8_t *id, size_t id_len, struct kf_hsm_key **out);

struct kf_hsm_object_info {
    CK_OBJECT_CLASS cls;
    CK_KEY_TYPE key_type; /* CK_UNAVAILABLE_INFORMATION for non-keys */
    char label[129];
    uint8_t id[64];
    size_t id_len;
    unsigned bits;    /* keys: modulus or field bits; 0 otherwise */
    int nid;          /* EC/EdDSA curve NID, 0 otherwise */
    bool is_private;  /* CKA_PRIVATE */
    bool sensitive;   /* CKA_SENSITIVE (private and secret keys) */
    bool extractable; /* CKA_EXTRACTABLE */
};
/** "private", "public", "cert", "secret-key", "data" or "other". */
const char *kf_hsm_class_name(CK_OBJECT_CLASS cls);
/** "rsa", "p256", "p384", "ed25519", "ed448" (the CLI's --type names), "ec" / "eddsa" for
 *  other curves, "x509" for certificates, "other" otherwise. */
const char *kf_hsm_object_alg_name(const struct kf_hsm_object_info *o);

/** A pkcs11: URI naming one listed object: its token, object=, id= and type=. Caller frees. */
KF_RESULT kf_hsm_object_uri(const struct kf_hsm_token_info *ti, const struct kf_hsm_object_info *o,
                            char **out);
/** List the objects a URI matches (all objects when it names none). Caller
 * frees *out. */
KF_RESULT kf_hsm_object_list(struct kf_hsm_token *t, const struct kf_hsm_uri *filter,
                             struct kf_hsm_object_info **out, size_t *out_n);
/** Import the X.509 certificate in @p path (PEM or DER) as a public token object with this
 *  label and id (give the id of the certificate's key to pair them). Errors: BAD_CERT_FILE,
 *  OBJECT_EXISTS (a certificate with this label), PIN_REQUIRED, CREATE_OBJECT. */
KF_RESULT kf_hsm_cert_import(struct kf_hsm_token *t, const char *path, const char *label,
                             const uint8_t *id, size_t id_len);
/** The DER of a listed certificate object; caller frees *der with OPENSSL_free. */
KF_RESULT kf_hsm_cert_value(struct kf_hsm_token *t, const struct kf_hsm_object_info *o,
                            uint8_t **der, size_t *len);

/** Delete what a URI names; it must name an object (label, id or type). */
KF_RESULT kf_hsm_object_delete(struct kf_hsm_token *t, const struct kf_hsm_uri *uri,
                               size_t *out_deleted);

/* ---- operations on the token (hsm/sign.c, decrypt.c, derive.c; mechanisms in
 * mech.c) --- */

enum kf_hsm_digest {
    KF_DIGEST_NONE = 0,
    KF_DIGEST_SHA1,
    KF_DIGEST_SHA224,
    KF_DIGEST_SHA256,
    KF_DIGEST_SHA384,
    KF_DIGEST_SHA512,
};
size_t kf_hsm_digest_len(enum kf_hsm_digest d);
const EVP_MD *kf_hsm_digest_md(enum kf_hsm_digest d);

enum kf_hsm_sig_scheme {
    KF_SIG_RSA_PKCS = 1, /* PKCS#1 v1.5 */
    KF_SIG_RSA_PSS,
    KF_SIG_ECDSA,
    KF_SIG_EDDSA,
};

struct kf_hsm_sig_params {
    enum kf_hsm_sig_scheme scheme;
    /* NONE: the input is signed as given (RSA_PKCS: a DigestInfo or other block;
     * ECDSA: a digest; EDDSA: the message). Otherwise the input is the message
     * and is hashed with it (on the token when it offers the hash-and-sign
     * mechanism, else in software). */
    enum kf_hsm_digest digest;
    /* The input is already the digest of `digest` (RSA_PKCS: DigestInfo is added;
     * PSS). */
    bool prehashed;
    enum kf_hsm_digest mgf1_digest; /* PSS; NONE = digest */
    long pss_salt_len;              /* PSS; < 0 = the digest length */
};

/**
 * Sign on the token. @p sig NULL: *out_len gets the maximum size. ECDSA
 * signatures come back as the token's r||s (see kf_hsm_ecdsa_rs_to_der).
 * Errors: BUFFER_TOO_SMALL, MECHANISM, UNSUPPORTED, SIGN (with the CKR_ name
 * and key URI).
 */
KF_RESULT kf_hsm_sign(struct kf_hsm_key *k, const struct kf_hsm_sig_params *p, const uint8_t *in,
                      size_t in_len, uint8_t *sig, size_t sig_cap, size_t *out_len);

/** DER ECDSA-Sig-Value from r||s (two equal halves). Caller frees *out with
 * OPENSSL_free. */
KF_RESULT kf_hsm_ecdsa_rs_to_der(const uint8_t *rs, size_t rs_len, uint8_t **out, size_t *out_len);

enum kf_hsm_enc_scheme {
    KF_ENC_RSA_PKCS = 1,
    KF_ENC_RSA_OAEP,
    /* CKM_RSA_X_509: the raw c^d mod n, left-padded to the modulus size. For callers that
     * remove the padding themselves, in constant time (provider/asym_rsa.c). */
    KF_ENC_RSA_RAW,
};

struct kf_hsm_dec_params {
    enum kf_hsm_enc_scheme scheme;
    enum kf_hsm_digest oaep_digest; /* NONE = SHA-1 (RFC 8017 default) */
    enum kf_hsm_digest mgf1_digest; /* NONE = oaep_digest */
    const uint8_t *label;           /* borrowed */
    size_t label_len;
};

/** Whether the key's token offers the mechanism these parameters need. */
bool kf_hsm_key_can_decrypt(const struct kf_hsm_key *k, const struct kf_hsm_dec_params *p);

/** RSA decryption on the token into @p out (at least the modulus size). */
KF_RESULT kf_hsm_decrypt(struct kf_hsm_key *k, const struct kf_hsm_dec_params *p, const uint8_t *in,
                         size_t in_len, uint8_t *out, size_t out_cap, size_t *out_len);

/** ECDH (CKM_ECDH1_DERIVE, CKD_NULL) with the peer's uncompressed point; the
 * shared x coordinate goes to @p out. Errors: DERIVE, MECHANISM. */
KF_RESULT kf_hsm_derive_ecdh(struct kf_hsm_key *k, const uint8_t *peer, size_t peer_len,
                             uint8_t *out, size_t out_cap, size_t *out_len);

/* ---- URI-PEM key files (hsm/uri_pem.c; the body parser is fuzzed) ---------------------- */

/** The PEM label of a key file that holds a pkcs11: URI instead of key material. */
#define KF_HSM_URI_PEM_NAME "KEYFORT PKCS11 URI"

/** PEM text for @p uri (refuses a pin-value). Caller frees *out. */
KF_RESULT kf_hsm_uri_pem_write(const struct kf_hsm_uri *uri, char **out);
/** The URI inside a URI-PEM body (DER UTF8String). Errors: MALFORMED, SHORT_INPUT, TRAILING,
 *  TOO_LARGE, URI_SCHEME. Caller frees *out. */
KF_RESULT kf_hsm_uri_pem_parse_der(const uint8_t *der, size_t len, char **out);

/* ---- parsers of token attribute blobs (hsm/ecattr.c; fuzzed)
 * ---------------------------- */

/** Map DER CKA_EC_PARAMS (namedCurve OID or RFC 8410 printable name) to a NID.
 */
KF_RESULT kf_hsm_parse_ec_params(const uint8_t *der, size_t len, int *out_nid);
/** Unwrap CKA_EC_POINT (DER OCTET STRING, or raw as some tokens return it) for
 * a curve;
 *  @p out_point borrows from @p der. */
KF_RESULT kf_hsm_parse_ec_point(int nid, const uint8_t *der, size_t len, const uint8_t **out_point,
                                size_t *out_len);

/**
 * Stop calling into PKCS#11 modules for the rest of the process: every later C_* wrapper fails
 * with KF_ERR_UNSUPPORTED instead, and releasing tokens closes nothing. For exit paths (the
 * provider's teardown runs from OPENSSL_cleanup, possibly after a module's own libcrypto
 * state is gone).
 */
void kf_hsm_quiesce(void);

/** CKR_ name of a CK_RV ("CKR_PIN_INCORRECT"); "CKR_VENDOR_DEFINED" / NULL for
 * unknown. */
const char *kf_hsm_ckr_name(CK_RV rv);

#endif
