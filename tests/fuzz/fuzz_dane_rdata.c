/* fuzz_dane_rdata covers: kf_dane_rdata_parse (dane/rdata.c). */
/* tests/fuzz/fuzz_dane_rdata.c - TLSA and SMIMEA RDATA come from DNS answers: untrusted.
 * Checked: success only with the three fields and non-empty data inside the input, digest
 * lengths right, Full data exactly one DER SEQUENCE; failure leaves the out-param alone. No
 * clock, no RNG. */
#include "dane/dane.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct kf_dane_rr rr;
    memset(&rr, 0xA5, sizeof(rr));
    struct kf_dane_rr before = rr;
    kf_result r = kf_dane_rdata_parse(data, size, &rr);
    if (!kf_ok(r)) {
        CHECK(memcmp(&rr, &before, sizeof(rr)) == 0);
        return 0;
    }
    CHECK(size >= 4);
    CHECK(rr.usage == data[0] && rr.selector == data[1] && rr.mtype == data[2]);
    CHECK(rr.data == data + 3 && rr.data_len == size - 3);
    if (rr.mtype == 1) {
        CHECK(rr.data_len == 32);
    } else if (rr.mtype == 2) {
        CHECK(rr.data_len == 64);
    } else if (rr.mtype == 0) {
        CHECK(rr.data[0] == 0x30);
    }
    return 0;
}
