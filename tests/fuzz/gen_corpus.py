#!/usr/bin/env python3
"""tests/fuzz/gen_corpus.py - write the seed corpora of tests/fuzz/corpus/ (STYLE.md s14).

Deterministic: running it again rewrites the same bytes. It only adds or overwrites the seeds
named here; inputs found by fuzzing (crashers, new coverage) live next to them and are kept.
Input formats: tests/fuzz/README.md.

    python3 tests/fuzz/gen_corpus.py            # writes into tests/fuzz/corpus/
"""
import hashlib
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")


def der(tag, body):
    """One DER TLV, minimal length encoding (X.690 s8.1.3, s10.1)."""
    n = len(body)
    if n < 0x80:
        head = bytes([n])
    else:
        octets = n.to_bytes((n.bit_length() + 7) // 8, "big")
        head = bytes([0x80 | len(octets)]) + octets
    return bytes([tag]) + head + body


def filler(n, seed):
    """n deterministic bytes (no RNG: a fixed affine sequence)."""
    return bytes((seed + 37 * i) & 0xFF for i in range(n))


# Well-known values, so the seeds look like what tokens return.
OID_P256 = bytes.fromhex("06082a8648ce3d030107")      # 1.2.840.10045.3.1.7 (RFC 5480)
OID_P384 = bytes.fromhex("06052b81040022")            # 1.3.132.0.34
OID_ED25519 = bytes.fromhex("06032b6570")             # 1.3.101.112 (RFC 8410)
OID_ED448 = bytes.fromhex("06032b6571")               # 1.3.101.113
OID_EC_PUBKEY = bytes.fromhex("06072a8648ce3d0201")   # id-ecPublicKey
P256_G = bytes.fromhex(  # the P-256 base point, uncompressed (SEC 2 s2.4.2)
    "04"
    "6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296"
    "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5")
ED25519_PUB = bytes.fromhex(  # RFC 8032 s7.1 TEST 1 public key
    "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")


def fuzz_der():
    """Byte 0 even: DER walk of the rest. Odd: 1-byte-prefixed ops, then data."""
    walk = b"\x00"

    def prog(ops, data):
        return b"\x01" + bytes([len(ops)]) + bytes(ops) + data

    sig = der(0x30, der(0x02, b"\x00" + filler(32, 0x81)) + der(0x02, filler(32, 0x11)))
    spki = der(0x30, der(0x30, OID_EC_PUBKEY + OID_P256) + der(0x03, b"\x00" + P256_G))
    return {
        "walk_empty": walk,
        "walk_seq_of_ints": walk + der(0x30, der(0x02, b"\x05") + der(0x02, b"\x00\x80")),
        "walk_ecdsa_sig": walk + sig,
        "walk_spki_p256": walk + spki,
        "walk_long_form_81": walk + der(0x04, filler(0x80, 1)),
        "walk_long_form_82": walk + der(0x04, filler(0x100, 2)),
        "walk_nested": walk + der(0x30, der(0x31, der(0xA0, der(0x30, der(0x04, b"\xde\xad"))))),
        "walk_non_minimal": walk + bytes.fromhex("30810502010502") + b"\x00",
        "walk_indefinite": walk + bytes.fromhex("3080020100") + b"\x00\x00",
        "walk_five_length_octets": walk + bytes.fromhex("30850100000000"),
        "walk_truncated": walk + bytes.fromhex("30820100020100"),
        "walk_printable_curve": walk + bytes.fromhex("130c656477617264733235353139"),
        # op: low nibble operation, high nibble argument (fuzz_der.c run_program)
        "prog_ints": prog([0x00, 0x01, 0x02, 0x03, 0x04, 0x0C], filler(18, 3)),
        "prog_prefixed": prog([0x09, 0x0E, 0x0B, 0x05 | 0x20, 0x0C],
                              b"\x03abc" + b"\x00\x02xy"),
        "prog_prefixed_u16": prog([0x0A, 0x0E, 0x01, 0x0C], b"\x00\x02\x12\x34\xff"),
        "prog_der": prog([0x0D, 0x0E, 0x2D, 0x0E, 0x01, 0x0C],
                         der(0x30, der(0x02, b"\x12\x34"))),
        "prog_counted": prog([0x35, 0x26, 0x47, 0x0E, 0x18, 0xF6, 0xF7, 0x0F, 0x0C],
                             filler(12, 4)),
        "prog_short": prog([0x04, 0x03, 0x02, 0x01, 0x00, 0x0B, 0x0C], b"\x01\x02\x03"),
    }


def fuzz_ec_attrs():
    """Byte 0 even: CKA_EC_PARAMS. Odd: CKA_EC_POINT on curve (byte0 >> 1) % 5."""
    P, P256, P384, ED25519, ED448, NOCURVE = b"\x00", b"\x01", b"\x03", b"\x05", b"\x07", b"\x09"
    return {
        "params_p256": P + OID_P256,
        "params_p384": P + OID_P384,
        "params_ed25519": P + OID_ED25519,
        "params_ed448": P + OID_ED448,
        "params_printable_edwards25519": P + bytes.fromhex("130c656477617264733235353139"),
        "params_printable_edwards448": P + der(0x13, b"edwards448"),
        "params_printable_unknown": P + der(0x13, b"curve25519"),
        "params_oid_p521_unsupported": P + bytes.fromhex("06052b81040023"),
        "params_oid_truncated": P + OID_P256[:6],
        "params_oid_trailing_byte": P + OID_ED25519 + b"\x00",
        "params_oid_long_form_length": P + bytes.fromhex("0681032b6570"),
        "params_implicit_ca_null": P + bytes.fromhex("0500"),
        "params_garbage": P + bytes.fromhex("ffff00"),
        "params_empty": P,
        "point_p256_octet_string": P256 + der(0x04, P256_G),
        "point_p256_raw": P256 + P256_G,
        "point_p256_compressed": P256 + der(0x04, b"\x02" + P256_G[1:33]),
        "point_p256_truncated": P256 + der(0x04, P256_G)[:20],
        "point_p384_octet_string": P384 + der(0x04, b"\x04" + filler(96, 5)),
        "point_ed25519_octet_string": ED25519 + der(0x04, ED25519_PUB),
        "point_ed25519_raw": ED25519 + ED25519_PUB,
        "point_ed448_octet_string": ED448 + der(0x04, filler(57, 6)),
        "point_ed448_short": ED448 + der(0x04, filler(56, 6)),
        "point_no_curve": NOCURVE + der(0x04, ED25519_PUB),
    }


def fuzz_uri():
    """The URI text. RFC 7512 s3.3 examples, then malformed ones."""
    rfc = [
        "pkcs11:",
        "pkcs11:object=my-pubkey;type=public",
        "pkcs11:object=my-key;type=private?pin-source=file:/etc/token",
        "pkcs11:token=The%20Software%20PKCS%2311%20Softtoken;manufacturer=Snake%20Oil,%20Inc.;"
        "model=1.0;object=my-certificate;type=cert;id=%69%95%3E%5C%F4%BD%EC%91;serial="
        "?pin-source=file:/etc/token_pin",
        "pkcs11:object=my-sign-key;type=private?module-name=mypkcs11",
        "pkcs11:object=my-sign-key;type=private?module-path=/mnt/libmypkcs11.so.1",
        "pkcs11:token=Software%20PKCS%2311%20softtoken;manufacturer=Snake%20Oil,%20Inc."
        "?pin-value=the-pin",
        "pkcs11:slot-description=Sun%20Metaslot",
        "pkcs11:library-manufacturer=Snake%20Oil,%20Inc.;library-description=Soft%20Token%20Library;"
        "library-version=1.23",
        "pkcs11:token=My%20token%25%20created%20by%20Joe;library-version=3;"
        "id=%01%02%03%Ba%dd%Ef%fe%12;object=my-certificate;type=cert",
        "pkcs11:token=A%20name%20with%20a%20substring%20%25%3B;object=my-certificate;type=cert",
        "pkcs11:token=Name%20with%20a%20small%20A%20with%20acute:%20%C3%A1;"
        "object=my-certificate;type=cert",
        "pkcs11:token=my-token;object=my-certificate;type=cert;vendor-aaa=value-a"
        "?pin-source=file:/etc/token_pin&vendor-bbb=value-b",
    ]
    bad = {
        "bad_scheme": "pkcs12:object=my-key",
        "bad_scheme_case": "PKCS11:object=my-key",
        "bad_no_colon": "pkcs11",
        "bad_pct_hex": "pkcs11:object=%zz",
        "bad_pct_short": "pkcs11:object=my-key%4",
        "bad_version_three_parts": "pkcs11:library-version=1.2.3",
        "bad_version_letters": "pkcs11:library-version=one",
        "bad_unknown_attribute": "pkcs11:colour=blue",
        "bad_empty_attribute": "pkcs11:object=a;;type=cert",
        "bad_type": "pkcs11:object=a;type=bogus",
        "bad_two_queries": "pkcs11:object=a?pin-source=x?pin-value=1234",
        "bad_pin_twice": "pkcs11:object=a?pin-value=123456&pin-value=654321",
        "bad_nul_in_id": "pkcs11:id=%00%01;object=a%00b",
        "bad_empty": "",
    }
    out = {}
    for i, uri in enumerate(rfc):
        out["rfc7512_%02d" % (i + 1)] = uri.encode()
    for name, uri in bad.items():
        out[name] = uri.encode()
    return out


def nonzero(n, seed):
    """n deterministic non-zero bytes, for PKCS#1 v1.5 padding strings."""
    return bytes(b % 255 + 1 for b in filler(n, seed))


def pkcs1_type2(k, msg, seed):
    """00 02 PS 00 M (RFC 8017 s7.2.1 step 2), PS k - 3 - len(M) non-zero bytes."""
    return b"\x00\x02" + nonzero(k - 3 - len(msg), seed) + b"\x00" + msg


def mgf1(seed, n, hname):
    """MGF1 (RFC 8017 B.2.1) over hashlib digest hname."""
    out = b""
    counter = 0
    while len(out) < n:
        out += hashlib.new(hname, seed + counter.to_bytes(4, "big")).digest()
        counter += 1
    return out[:n]


def oaep(k, msg, hname, mgfname, label, seed):
    """EME-OAEP encoding (RFC 8017 s7.1.1 step 2) with a deterministic seed."""
    h = hashlib.new(hname).digest_size
    db = hashlib.new(hname, label).digest() + bytes(k - len(msg) - 2 * h - 2) + b"\x01" + msg
    s = filler(h, seed)
    masked_db = bytes(a ^ b for a, b in zip(db, mgf1(s, k - h - 1, mgfname)))
    masked_seed = bytes(a ^ b for a, b in zip(s, mgf1(masked_db, h, mgfname)))
    return b"\x00" + masked_seed + masked_db


def fuzz_rsa_unpad():
    """Byte 0: bits 0-1 k, bits 2-3 OAEP digests, bit 4 OAEP label, bit 5 TLS alt_version
    0x0301. The rest is EM (zero-filled to k)."""
    ks = {64: 0, 128: 1, 256: 2, 512: 3}
    label = b"fuzz label"  # fuzz_rsa_unpad.c label[]

    def sel(k, digests=0, with_label=False, alt=False):
        return bytes([ks[k] | digests << 2 | with_label << 4 | alt << 5])

    pms = b"\x03\x03" + filler(46, 19)  # a TLS 1.2 pre-master secret (RFC 5246 s7.4.7.1)
    return {
        # PKCS#1 v1.5 type 2: valid, then bad paddings
        "pkcs1_k64_msg16": sel(64) + pkcs1_type2(64, filler(16, 1), 2),
        "pkcs1_k256_empty": sel(256) + pkcs1_type2(256, b"", 3),
        "pkcs1_k128_longest": sel(128) + pkcs1_type2(128, filler(117, 4), 5),
        "pkcs1_k512_zeros_in_msg": sel(512) + pkcs1_type2(512, b"\0\1\0" + filler(20, 6), 7),
        "pkcs1_k64_ps7": sel(64) + b"\x00\x02" + nonzero(7, 8) + b"\x00" + filler(54, 9),
        "pkcs1_k64_no_separator": sel(64) + b"\x00\x02" + nonzero(62, 10),
        "pkcs1_k128_block_type_1": sel(128) + b"\x00\x01" + b"\xff" * 100 + b"\x00"
        + filler(25, 11),
        # OAEP, one per digest pair
        "oaep_sha1_k128": sel(128, 0) + oaep(128, b"keyfort", "sha1", "sha1", b"", 12),
        "oaep_sha256_label_k256": sel(256, 1, True)
        + oaep(256, filler(32, 13), "sha256", "sha256", label, 14),
        "oaep_sha384_mgf1_sha1_k256": sel(256, 2)
        + oaep(256, filler(40, 15), "sha384", "sha1", b"", 16),
        "oaep_sha512_mgf1_sha256_label_k512": sel(512, 3, True)
        + oaep(512, b"", "sha512", "sha256", label, 17),
        "oaep_sha256_k256_msg_00_01": sel(256, 1)
        + oaep(256, b"\x00\x01\x01\x00" + filler(12, 25), "sha256", "sha256", b"", 26),
        "oaep_sha1_k128_byte0_01": sel(128, 0) + b"\x01"
        + oaep(128, b"keyfort", "sha1", "sha1", b"", 12)[1:],
        "oaep_sha512_k64_too_small": sel(64, 3) + filler(64, 18),
        # TLS: good, good through alt_version, wrong version
        "tls_k64_0303": sel(64) + pkcs1_type2(64, pms, 20),
        "tls_k256_alt_0301": sel(256, alt=True) + pkcs1_type2(256, b"\x03\x01" + pms[2:], 22),
        "tls_k256_0302_fallback": sel(256) + pkcs1_type2(256, b"\x03\x02" + pms[2:], 24),
        # garbage and short inputs
        "garbage_k512": sel(512) + filler(512, 0x5A),
        "short_input": sel(256) + b"\x00\x02\x11",
        "selector_only": b"\xff",
    }


README_EC = (b"fuzz_ec_attrs inputs: byte 0 selects the parser - even: kf_hsm_parse_ec_params on "
             b"the rest; odd: kf_hsm_parse_ec_point on the rest, curve (byte0>>1)%5 = 0 P-256, "
             b"1 P-384, 2 Ed25519, 3 Ed448, 4 none (NID_undef) (see ../../README.md).\n")


def write(target, files):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    for name, data in sorted(files.items()):
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
    return len(files)


def main():
    n = write("fuzz_der", fuzz_der())
    n += write("fuzz_ec_attrs", fuzz_ec_attrs())
    n += write("fuzz_uri", fuzz_uri())
    n += write("fuzz_rsa_unpad", fuzz_rsa_unpad())
    with open(os.path.join(CORPUS, "fuzz_ec_attrs", "README"), "wb") as f:
        f.write(README_EC)
    print("gen_corpus: wrote %d seeds under %s" % (n, CORPUS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
