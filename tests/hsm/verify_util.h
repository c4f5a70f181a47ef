/* tests/hsm/verify_util.h - software-side checks for token signatures (OpenSSL
 * EVP). */
#ifndef KF_TESTS_VERIFY_UTIL_H
#define KF_TESTS_VERIFY_UTIL_H

#include "hsm/hsm.h"

/** 1 when @p sig over @p msg verifies under @p pub with the scheme/digest of @p
 * p (ECDSA sig given as token r||s), 0 when it does not, -1 on error. */
int kf_test_verify(EVP_PKEY *pub, const struct kf_hsm_sig_params *p, const uint8_t *msg,
                   size_t msg_len, const uint8_t *sig, size_t sig_len);
/** Sign @p msg on the token and verify the result in software; returns
 * kf_test_verify's answer (0 also when signing failed). */
int kf_test_sign_verify(struct kf_hsm_key *k, const struct kf_hsm_sig_params *p, const uint8_t *msg,
                        size_t msg_len);

#endif
