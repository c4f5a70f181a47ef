#!/usr/bin/env python3
"""Convert a PKCS#8 PEM private key into a BIND-format DNSSEC key pair.

    pem2bind.py [--ds] ORIGIN ALG FLAGS KEY.pem OUTDIR

Writes OUTDIR/K<origin>+<alg>+<tag>.key and .private (the format read by
dnssec-signzone, ldns-signzone and `keymgr import-bind`) and prints the base
name. With --ds it prints a second line, the SHA-256 DS record that the peer
tools must reproduce (peers.sh import-pem compares them).

Only the Python standard library and the `openssl` CLI are used: the key is
decoded from `openssl pkey -text -noout`, so no Python crypto package is
needed on CI. The DNSKEY public key field follows RFC 3110 s2 (RSA),
RFC 6605 s4 (ECDSA: x || y) and RFC 8080 s3 (EdDSA: the raw public key);
the key tag is RFC 4034 Appendix B.

Test keys only: the private key passes through a pipe and lands in .private,
exactly as with the tools' own key generators.
"""

import base64
import hashlib
import os
import re
import subprocess
import sys

# Algorithm number -> (mnemonic, key kind, fixed length of one EC/EdDSA
# component in bytes or None for RSA). RFC 8624 s3.1 list; 5/7 (SHA-1) are
# deliberately absent.
ALGORITHMS = {
    8: ("RSASHA256", "rsa", None),
    10: ("RSASHA512", "rsa", None),
    13: ("ECDSAP256SHA256", "ec", 32),
    14: ("ECDSAP384SHA384", "ec", 48),
    15: ("ED25519", "ed25519", 32),
    16: ("ED448", "ed448", 57),
}

# Curve names as printed by `openssl pkey -text` ("NIST CURVE:" line).
EC_CURVES = {13: "P-256", 14: "P-384"}

# Order of the RSA fields in a BIND v1.3 .private file, with the label that
# `openssl pkey -text` prints for each.
RSA_FIELDS = [
    ("Modulus", "modulus"),
    ("PublicExponent", "publicExponent"),
    ("PrivateExponent", "privateExponent"),
    ("Prime1", "prime1"),
    ("Prime2", "prime2"),
    ("Exponent1", "exponent1"),
    ("Exponent2", "exponent2"),
    ("Coefficient", "coefficient"),
]


def die(msg):
    print("pem2bind.py: " + msg, file=sys.stderr)
    sys.exit(1)


def openssl_text(pem_path, extra=()):
    """Return the `openssl pkey -text -noout` dump of a private key."""
    cmd = ["openssl", "pkey", "-in", pem_path, "-text", "-noout", *extra]
    try:
        res = subprocess.run(cmd, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        die("the openssl command is not installed")
    if res.returncode != 0:
        die("openssl pkey could not read %s: %s" % (pem_path, res.stderr.strip()))
    return res.stdout


def parse_dump(text):
    """Split the dump into {label: bytes-or-str}.

    A label line ends with ':' and is followed by indented 'aa:bb:' hex
    lines; 'publicExponent: 65537 (0x10001)' and 'NIST CURVE: P-256' carry
    their value on the same line.
    """
    fields = {}
    header = None
    label = None
    hexparts = []

    def flush():
        if label is not None:
            fields[label] = bytes.fromhex("".join(hexparts).replace(":", ""))

    for line in text.splitlines():
        if header is None:
            header = line.strip()
            continue
        if line.startswith((" ", "\t")):
            if label is None:
                die("unexpected openssl output line: %r" % line)
            hexparts.append(line.strip())
            continue
        flush()
        label, hexparts = None, []
        name, _, rest = line.partition(":")
        rest = rest.strip()
        if not rest:
            label = name.strip()
            continue
        m = re.fullmatch(r"(\d+) \(0x[0-9a-fA-F]+\)", rest)
        if m:
            n = int(m.group(1))
            fields[name.strip()] = n.to_bytes((n.bit_length() + 7) // 8, "big")
        else:
            fields[name.strip()] = rest
    flush()
    return header or "", fields


def strip_zeros(b):
    """Minimal big-endian integer encoding (openssl prints a 00 sign byte)."""
    b = b.lstrip(b"\x00")
    return b if b else b"\x00"


def fixed(b, size, what):
    """Left-pad or strip an integer to exactly `size` bytes (RFC 6605 s4)."""
    b = strip_zeros(b)
    if len(b) > size:
        die("%s is %d bytes, expected at most %d" % (what, len(b), size))
    return b.rjust(size, b"\x00")


def rsa_public(fields):
    """RFC 3110 s2: exponent length (1 octet, or 0 then 2 octets), e, n."""
    e = strip_zeros(fields["publicExponent"])
    n = strip_zeros(fields["modulus"])
    if len(e) < 256:
        return bytes([len(e)]) + e + n
    return b"\x00" + len(e).to_bytes(2, "big") + e + n


def load_key(pem_path, alg):
    """Return (public key field of the DNSKEY, [(label, bytes)] for .private)."""
    mnemonic, kind, size = ALGORITHMS[alg]
    header, fields = parse_dump(openssl_text(pem_path))
    if kind == "rsa":
        if "modulus" not in fields or "prime1" not in fields:
            die("%s is not an RSA private key, but algorithm %d needs one" % (pem_path, alg))
        if "prime3" in fields or "2 primes" not in header:
            die("%s is a multi-prime RSA key; DNSSEC key files hold two primes" % pem_path)
        bits = len(strip_zeros(fields["modulus"])) * 8
        if not 1024 <= bits <= 4096:
            die("%s: RSA modulus of %d bits is outside 1024..4096 (RFC 3110 s2)" % (pem_path, bits))
        private = [(out, strip_zeros(fields[src])) for out, src in RSA_FIELDS]
        return rsa_public(fields), private
    if kind == "ec":
        curve = fields.get("NIST CURVE")
        if curve != EC_CURVES[alg]:
            die("%s is not an EC %s key (found %s), as algorithm %d needs"
                % (pem_path, EC_CURVES[alg], curve or header, alg))
        pub = fields["pub"]
        if pub[:1] in (b"\x02", b"\x03"):
            # A key saved with compressed points: ask openssl to expand it.
            _, fields = parse_dump(openssl_text(pem_path, ["-ec_conv_form", "uncompressed"]))
            pub = fields["pub"]
        if pub[:1] != b"\x04" or len(pub) != 1 + 2 * size:
            die("%s: unexpected EC public point encoding" % pem_path)
        # RFC 6605 s4: the DNSKEY holds x || y without the 04 prefix.
        return pub[1:], [("PrivateKey", fixed(fields["priv"], size, "EC private key"))]
    # EdDSA (RFC 8080 s3 public key, s6 private key = the raw seed).
    expect = {"ed25519": "ED25519 Private-Key:", "ed448": "ED448 Private-Key:"}[kind]
    if header != expect:
        die("%s is not an %s key (found %r), as algorithm %d needs"
            % (pem_path, mnemonic, header, alg))
    pub, priv = fields.get("pub", b""), fields.get("priv", b"")
    if len(pub) != size or len(priv) != size:
        die("%s: %s key components are not %d bytes" % (pem_path, mnemonic, size))
    return pub, [("PrivateKey", priv)]


def b64(data):
    return base64.b64encode(data).decode("ascii")


def keytag(rdata):
    """RFC 4034 Appendix B (the algorithm-1 special case cannot occur here)."""
    acc = 0
    for i, byte in enumerate(rdata):
        acc += byte << 8 if i % 2 == 0 else byte
    acc += (acc >> 16) & 0xFFFF
    return acc & 0xFFFF


def name_to_wire(origin):
    """Canonical (lower-case, uncompressed) wire form, RFC 4034 s6.2.

    Only plain names are handled (no \\DDD escapes): the test zones use none.
    """
    origin = origin.rstrip(".")
    wire = b""
    for label in origin.split(".") if origin else []:
        raw = label.lower().encode("ascii")
        if not 1 <= len(raw) <= 63 or "\\" in label:
            die("unsupported zone name %r" % origin)
        wire += bytes([len(raw)]) + raw
    return wire + b"\x00"


def main(argv):
    args = list(argv)
    want_ds = False
    if args and args[0] == "--ds":
        want_ds = True
        args.pop(0)
    if len(args) != 5:
        print("usage: pem2bind.py [--ds] ORIGIN ALG FLAGS KEY.pem OUTDIR", file=sys.stderr)
        sys.exit(2)
    origin, alg_s, flags_s, pem_path, outdir = args
    try:
        alg, flags = int(alg_s), int(flags_s)
    except ValueError:
        die("ALG and FLAGS must be numbers")
    if alg not in ALGORITHMS:
        die("algorithm %d is not one of %s" % (alg, sorted(ALGORITHMS)))
    if flags not in (256, 257):
        die("FLAGS must be 256 (ZSK) or 257 (KSK)")
    if not os.path.isdir(outdir):
        die("output directory %s does not exist" % outdir)

    public, private = load_key(pem_path, alg)
    # RFC 4034 s2.1: flags, protocol 3, algorithm, public key.
    rdata = flags.to_bytes(2, "big") + bytes([3, alg]) + public
    tag = keytag(rdata)
    fqdn = origin.rstrip(".") + "."
    base = "K%s+%03d+%05d" % (fqdn.lower(), alg, tag)  # "K.+..." for the root

    role = "key-signing" if flags == 257 else "zone-signing"
    with open(os.path.join(outdir, base + ".key"), "w", encoding="ascii") as f:
        f.write("; This is a %s key, keyid %d, for %s\n" % (role, tag, fqdn))
        f.write("%s IN DNSKEY %d 3 %d %s\n" % (fqdn, flags, alg, b64(public)))

    # No Created/Publish/Activate lines: without timing metadata BIND treats
    # the key as published and active, whatever the signing time.
    lines = ["Private-key-format: v1.3", "Algorithm: %d (%s)" % (alg, ALGORITHMS[alg][0])]
    lines += ["%s: %s" % (label, b64(value)) for label, value in private]
    priv_path = os.path.join(outdir, base + ".private")
    fd = os.open(priv_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write("\n".join(lines) + "\n")

    print(base)
    if want_ds:
        # RFC 4509 s2.1: digest = SHA-256(owner name | DNSKEY RDATA).
        digest = hashlib.sha256(name_to_wire(fqdn) + rdata).hexdigest().upper()
        print("%s IN DS %d %d 2 %s" % (fqdn, tag, alg, digest))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
