/* dnssec/base64_avx512.c - Base64 decoding, 64 characters at a time, with AVX-512 VBMI.
 *
 * The fast zone scanner (zone_fast.c) spends much of its time on Base64: an RSA-2048 RRSIG
 * line is 344 characters of it. This decodes the leading whole blocks of 64 alphabet
 * characters and leaves everything else (a block with a blank, padding, the end of the token,
 * a last partial block) to the scanner's scalar loop, which stays the reference: this file
 * only makes the common case fast and never decides what is valid.
 *
 * Per block: a two-table byte permute (vpermi2b) maps each character below 128 to its 6-bit
 * value or to a byte with the top bit set; characters from 128 up carry their own top bit. One
 * mask of top bits says whether the whole block is alphabet. vpmaddubsw and vpmaddwd then pack
 * four 6-bit values into 24 bits of each 32-bit lane, and one byte permute (vpermb) gathers the
 * three bytes of each lane, most significant first, into 48 output bytes. This is the usual
 * vector Base64 method (as described by Muła and Lemire, "Base64 encoding and decoding at
 * almost the speed of a memory copy", 2019), written here from that description.
 *
 * Compiled with -mavx512f -mavx512bw -mavx512vbmi (dnssec/CMakeLists.txt); zone_fast.c calls it
 * only after its run-time CPU check.
 */
#include "dnssec/zone_text.h"

#include <immintrin.h>

/* A byte with the top bit set: not in the alphabet. */
#define B64_NO 0x80

/* The 6-bit value of characters 0 .. 127 (RFC 4648 s4 alphabet), B64_NO for the rest. */
static const uint8_t b64_values[128] = {
    B64_NO, B64_NO, B64_NO, B64_NO, B64_NO, B64_NO, B64_NO, B64_NO, B64_NO, B64_NO, B64_NO, B64_NO,
    B64_NO, B64_NO, B64_NO, B64_NO, B64_NO, B64_NO, B64_NO, B64_NO, B64_NO, B64_NO, B64_NO, B64_NO,
    B64_NO, B64_NO, B64_NO, B64_NO, B64_NO, B64_NO, B64_NO, B64_NO, B64_NO, B64_NO, B64_NO, B64_NO,
    B64_NO, B64_NO, B64_NO, B64_NO, B64_NO, B64_NO, B64_NO, 62,     B64_NO, B64_NO, B64_NO, 63,
    52,     53,     54,     55,     56,     57,     58,     59,     60,     61,     B64_NO, B64_NO,
    B64_NO, B64_NO, B64_NO, B64_NO, B64_NO, 0,      1,      2,      3,      4,      5,      6,
    7,      8,      9,      10,     11,     12,     13,     14,     15,     16,     17,     18,
    19,     20,     21,     22,     23,     24,     25,     B64_NO, B64_NO, B64_NO, B64_NO, B64_NO,
    B64_NO, 26,     27,     28,     29,     30,     31,     32,     33,     34,     35,     36,
    37,     38,     39,     40,     41,     42,     43,     44,     45,     46,     47,     48,
    49,     50,     51,     B64_NO, B64_NO, B64_NO, B64_NO, B64_NO,
};

/* Output byte 3i + k is byte 2 - k of 32-bit lane i: each 24-bit value most significant byte
 * first. Bytes 48 .. 63 are not stored. */
static _Alignas(64) const uint8_t b64_order[64] = {
    2,  1,  0,  6,  5,  4,  10, 9,  8,  14, 13, 12, 18, 17, 16, 22, 21, 20, 26, 25, 24, 30,
    29, 28, 34, 33, 32, 38, 37, 36, 42, 41, 40, 46, 45, 44, 50, 49, 48, 54, 53, 52, 58, 57,
    56, 62, 61, 60, 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
};

size_t zone_base64_blocks_avx512(const char *in, size_t len, uint8_t *out)
{
    const __m512i lut_lo = _mm512_loadu_si512(b64_values);
    const __m512i lut_hi = _mm512_loadu_si512(b64_values + 64);
    /* Pairs of 6-bit values to 12 bits (first one high), then pairs of those to 24. */
    const __m512i pack16 = _mm512_set1_epi32(0x01400140);
    const __m512i pack32 = _mm512_set1_epi32(0x00011000);
    const __m512i gather = _mm512_load_si512(b64_order);
    const __mmask64 out_mask = (UINT64_C(1) << 48) - 1;
    size_t done = 0;
    while (len - done >= 64) {
        __m512i x = _mm512_loadu_si512(in + done);
        __m512i v = _mm512_permutex2var_epi8(lut_lo, x, lut_hi);
        if (_mm512_movepi8_mask(_mm512_or_si512(v, x)) != 0) {
            break; /* not all alphabet: the scalar loop takes it from here */
        }
        __m512i w = _mm512_maddubs_epi16(v, pack16);
        __m512i d = _mm512_madd_epi16(w, pack32);
        _mm512_mask_storeu_epi8(out + done / 4 * 3, out_mask, _mm512_permutexvar_epi8(gather, d));
        done += 64;
    }
    return done;
}
