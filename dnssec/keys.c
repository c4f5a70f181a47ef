/* dnssec/keys.c - DNSKEY records of signing keys and their key tags (RFC 4034 Appendix B). */
#include "dnssec/dnssec.h"

#include <string.h>

uint16_t kf_dnssec_key_tag(const uint8_t *rdata, size_t len)
{
    /* RFC 4034 Appendix B: the ones-complement-style sum of the RDATA as 16-bit words.
     * (Algorithm 1, RSA/MD5, used another rule; it is long gone and not supported.) */
    uint32_t ac = 0;
    for (size_t i = 0; i < len; i++) {
        ac += (i & 1) ? rdata[i] : (uint32_t)rdata[i] << 8;
    }
    ac += (ac >> 16) & 0xFFFF;
    return (uint16_t)(ac & 0xFFFF);
}

kf_result kf_dnssec_key_init(EVP_PKEY *pkey, uint8_t rsa_alg, uint16_t flags,
                             struct kf_dnssec_key *out)
{
    KF_ENSURE_REF(pkey);
    KF_ENSURE_REF(out);
    struct kf_dnssec_key k;
    memset(&k, 0, sizeof(k));
    k.pkey = pkey;
    k.flags = flags;
    KF_GUARD(kf_dnssec_key_alg(pkey, rsa_alg, &k.alg));
    struct kf_buf b;
    KF_GUARD(kf_buf_init_fixed(&b, k.dnskey, sizeof(k.dnskey)));
    KF_GUARD(kf_buf_write_u16(&b, flags));
    KF_GUARD(kf_buf_write_u8(&b, 3)); /* protocol: always 3 (RFC 4034 s2.1.2) */
    KF_GUARD(kf_buf_write_u8(&b, k.alg));
    KF_GUARD(kf_dnssec_key_public(pkey, k.alg, &b));
    k.dnskey_len = b.len;
    k.tag = kf_dnssec_key_tag(k.dnskey, k.dnskey_len);
    *out = k;
    return KF_OK;
}
