/* hsm/ck_call.h - typed wrappers: every C_* call of keyfort goes through
 * hsm/ck_call.c.
 *
 * One prolog (the module has the function) and one epilog: a failing CK_RV is
 * noted as detail (kf_err_note_ck with its CKR_ name), logged at debug level
 * without arguments, and becomes a kf error. CK_RVs with a meaning of their own
 * map to their own code (PIN_INCORRECT, SESSION_BROKEN, NOT_LOGGED_IN,
 * OBJECT_HANDLE, ...); any other to the code the caller names. */
#ifndef KF_HSM_CK_CALL_H
#define KF_HSM_CK_CALL_H

#include "hsm/internal.h"

KF_RESULT kf_ck_initialize(struct kf_hsm_module *m);
KF_RESULT kf_ck_get_slot_list(struct kf_hsm_module *m, bool token_present, CK_SLOT_ID *out,
                              CK_ULONG *inout_n);
KF_RESULT kf_ck_get_token_info(struct kf_hsm_module *m, CK_SLOT_ID slot, CK_TOKEN_INFO *out);
KF_RESULT kf_ck_get_mechanism_list(struct kf_hsm_module *m, CK_SLOT_ID slot, CK_MECHANISM_TYPE *out,
                                   CK_ULONG *inout_n);
KF_RESULT kf_ck_init_token(struct kf_hsm_module *m, CK_SLOT_ID slot, const struct kf_secret *so_pin,
                           const char *label);
KF_RESULT kf_ck_init_pin(struct kf_hsm_module *m, CK_SESSION_HANDLE s, const struct kf_secret *pin);
KF_RESULT kf_ck_open_session(struct kf_hsm_module *m, CK_SLOT_ID slot, CK_SESSION_HANDLE *out);
KF_RESULT kf_ck_close_session(struct kf_hsm_module *m, CK_SESSION_HANDLE s);
/** C_Login; CKR_USER_ALREADY_LOGGED_IN counts as success. */
KF_RESULT kf_ck_login(struct kf_hsm_module *m, CK_SESSION_HANDLE s, CK_USER_TYPE who,
                      const struct kf_secret *pin);
KF_RESULT kf_ck_logout(struct kf_hsm_module *m, CK_SESSION_HANDLE s);
/** C_FindObjectsInit/C_FindObjects/C_FindObjectsFinal: up to @p max handles. */
KF_RESULT kf_ck_find_objects(struct kf_hsm_module *m, CK_SESSION_HANDLE s, CK_ATTRIBUTE *tmpl,
                             CK_ULONG n, CK_OBJECT_HANDLE *out, CK_ULONG max, CK_ULONG *out_count);
/** C_GetAttributeValue. With @p tolerant, CKR_ATTRIBUTE_SENSITIVE /
 * _TYPE_INVALID / CKR_BUFFER_TOO_SMALL succeed and the caller checks each
 * ulValueLen for CK_UNAVAILABLE_INFORMATION. */
KF_RESULT kf_ck_get_attributes(struct kf_hsm_module *m, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE obj,
                               CK_ATTRIBUTE *tmpl, CK_ULONG n, bool tolerant);
KF_RESULT kf_ck_create_object(struct kf_hsm_module *m, CK_SESSION_HANDLE s, CK_ATTRIBUTE *tmpl,
                              CK_ULONG n, CK_OBJECT_HANDLE *out);
KF_RESULT kf_ck_destroy_object(struct kf_hsm_module *m, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE obj);
KF_RESULT kf_ck_copy_object(struct kf_hsm_module *m, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE obj,
                            CK_ATTRIBUTE *tmpl, CK_ULONG n, CK_OBJECT_HANDLE *out);
KF_RESULT kf_ck_generate_key_pair(struct kf_hsm_module *m, CK_SESSION_HANDLE s, CK_MECHANISM *mech,
                                  CK_ATTRIBUTE *pub, CK_ULONG n_pub, CK_ATTRIBUTE *priv,
                                  CK_ULONG n_priv, CK_OBJECT_HANDLE *out_pub,
                                  CK_OBJECT_HANDLE *out_priv);
/** C_SignInit + C_Sign in one: both or neither (spec 5.12: a failed C_Sign ends
 * the op). */
KF_RESULT kf_ck_sign(struct kf_hsm_module *m, CK_SESSION_HANDLE s, CK_MECHANISM *mech,
                     CK_OBJECT_HANDLE key, const uint8_t *in, size_t in_len, uint8_t *sig,
                     CK_ULONG *inout_sig_len);
KF_RESULT kf_ck_decrypt(struct kf_hsm_module *m, CK_SESSION_HANDLE s, CK_MECHANISM *mech,
                        CK_OBJECT_HANDLE key, const uint8_t *in, size_t in_len, uint8_t *out,
                        CK_ULONG *inout_len);
KF_RESULT kf_ck_derive_key(struct kf_hsm_module *m, CK_SESSION_HANDLE s, CK_MECHANISM *mech,
                           CK_OBJECT_HANDLE base, CK_ATTRIBUTE *tmpl, CK_ULONG n,
                           CK_OBJECT_HANDLE *out);

#endif
