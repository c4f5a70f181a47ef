/* tools/keyfort/main.c - the keyfort command: dispatch, help, exit codes, error messages. */
#include "tools/keyfort/cli.h"
#include "tools/keyfort/out.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

#ifndef KEYFORT_VERSION
#define KEYFORT_VERSION "unknown"
#endif

#define CLI_HELP_MODULE "  --module M         PKCS#11 module: a path or a p11-kit module name\n"
#define CLI_HELP_PIN_FILE "  --pin-file F       read the user PIN from file F\n"
#define CLI_HELP_HELP "  -h, --help         show this help\n"

static const struct kf_cli_command cli_commands[] = {
    {
        .group = "token",
        .name = "init",
        .options =
            KF_CLI_OPT_LABEL | KF_CLI_OPT_SO_PIN_FILE | KF_CLI_OPT_PIN_FILE | KF_CLI_OPT_MODULE,
        .synopsis = "--label L [--so-pin-file F] [--pin-file F] [--module M]",
        .summary = "initialise the first free slot with a new token",
        .help = "Initialise the first slot holding an uninitialised token, set its SO PIN and\n"
                "user PIN, and print the new token's URI. Without a PIN file, each PIN is\n"
                "asked for twice on the terminal.\n\n"
                "Options:\n"
                "  --label L          token label (at most 32 bytes)\n"
                "  --so-pin-file F    read the new security officer PIN from file F\n"
                "  --pin-file F       read the new user PIN from file F\n" CLI_HELP_MODULE
                    CLI_HELP_HELP,
        .run = kf_cli_token_init,
    },
    {
        .group = "token",
        .name = "list",
        .options = KF_CLI_OPT_MODULE | KF_CLI_OPT_JSON,
        .synopsis = "[--json] [--module M]",
        .summary = "list the slots of a module and their tokens",
        .help = "List every slot that holds a token, initialised or not, with its label,\n"
                "manufacturer, model, serial, flags and URI.\n\n"
                "Options:\n"
                "  --json             print JSON (see docs/cli.md for its shape)\n" CLI_HELP_MODULE
                    CLI_HELP_HELP,
        .run = kf_cli_token_list,
    },
    {
        .group = "key",
        .name = "gen",
        .options = KF_CLI_OPT_TYPE | KF_CLI_OPT_LABEL | KF_CLI_OPT_ID | KF_CLI_OPT_PIN_FILE |
                   KF_CLI_OPT_MODULE,
        .synopsis = "--type T --label L [--id HEX] [--pin-file F] [--module M] TOKEN-URI",
        .summary = "generate a key pair on a token",
        .help = "Generate a key pair on the token TOKEN-URI names (private key sensitive and\n"
                "not extractable) and print the new key's URI.\n\n"
                "Options:\n"
                "  --type T           rsa2048, rsa3072, rsa4096, p256, p384, ed25519 or ed448\n"
                "  --label L          CKA_LABEL of both objects; must be new on the token\n"
                "  --id HEX           CKA_ID in hex (default: 16 random bytes)\n" CLI_HELP_PIN_FILE
                    CLI_HELP_MODULE CLI_HELP_HELP,
        .run = kf_cli_key_gen,
    },
    {
        .group = "key",
        .name = "list",
        .options = KF_CLI_OPT_JSON | KF_CLI_OPT_PIN_FILE | KF_CLI_OPT_MODULE,
        .synopsis = "[--json] [--pin-file F] [--module M] URI",
        .summary = "list the objects on a token",
        .help =
            "List the objects URI matches (all objects on the token when it names none):\n"
            "class, algorithm, size or curve, label, id, flags and a URI for each.\n"
            "Private objects are listed only when a PIN is available.\n\n"
            "Options:\n"
            "  --json             print JSON (see docs/cli.md for its shape)\n" CLI_HELP_PIN_FILE
                CLI_HELP_MODULE CLI_HELP_HELP,
        .run = kf_cli_key_list,
    },
    {
        .group = "key",
        .name = "pub",
        .options = KF_CLI_OPT_PIN_FILE | KF_CLI_OPT_MODULE,
        .synopsis = "[--pin-file F] [--module M] KEY-URI",
        .summary = "print a key's public key as PEM",
        .help = "Print the public key of the one key KEY-URI names as a PEM\n"
                "SubjectPublicKeyInfo (\"BEGIN PUBLIC KEY\").\n\n"
                "Options:\n" CLI_HELP_PIN_FILE CLI_HELP_MODULE CLI_HELP_HELP,
        .run = kf_cli_key_pub,
    },
    {
        .group = "key",
        .name = "pem",
        .options = KF_CLI_OPT_PIN_FILE | KF_CLI_OPT_MODULE,
        .synopsis = "[--pin-file F] [--module M] KEY-URI",
        .summary = "print a URI-PEM key file for programs that want a key file",
        .help = "Check that KEY-URI names exactly one key, then print a PEM block\n"
                "(\"BEGIN KEYFORT PKCS11 URI\") that holds the URI instead of key material.\n"
                "Programs that read key files through OpenSSL with keyfort.so loaded\n"
                "(Postfix smtpd_tls_key_file, nginx ssl_certificate_key) then use the token\n"
                "key. Put the PIN in a pin-source=FILE in the URI; a pin-value is refused.\n\n"
                "Options:\n" CLI_HELP_PIN_FILE CLI_HELP_MODULE CLI_HELP_HELP,
        .run = kf_cli_key_pem,
    },
    {
        .group = "key",
        .name = "delete",
        .options = KF_CLI_OPT_PIN_FILE | KF_CLI_OPT_MODULE,
        .synopsis = "[--pin-file F] [--module M] OBJECT-URI",
        .summary = "delete the objects a URI names",
        .help = "Delete every object OBJECT-URI matches (a key's private and public objects\n"
                "when it names a key by label or id) and print how many were deleted.\n"
                "The URI must name objects (object=, id= or type=), not just a token.\n\n"
                "Options:\n" CLI_HELP_PIN_FILE CLI_HELP_MODULE CLI_HELP_HELP,
        .run = kf_cli_key_delete,
    },
    {
        .group = "key",
        .name = "import",
        .options = KF_CLI_OPT_LABEL | KF_CLI_OPT_ID | KF_CLI_OPT_PIN_FILE | KF_CLI_OPT_MODULE,
        .synopsis = "[--label L] [--id HEX] [--pin-file F] [--module M] FILE.pem TOKEN-URI",
        .summary = "import a private key from a PEM file",
        .help = "Import the unencrypted private key in FILE.pem (RSA, P-256, P-384, Ed25519,\n"
                "Ed448) as a sensitive, non-extractable token key plus its public key, and\n"
                "print the new key's URI.\n\n"
                "Options:\n"
                "  --label L          CKA_LABEL (default: the file name without .pem)\n"
                "  --id HEX           CKA_ID in hex (default: 16 random bytes)\n" CLI_HELP_PIN_FILE
                    CLI_HELP_MODULE CLI_HELP_HELP,
        .run = kf_cli_key_import,
    },
    {
        .group = "cert",
        .name = "import",
        .options = KF_CLI_OPT_LABEL | KF_CLI_OPT_ID | KF_CLI_OPT_PIN_FILE | KF_CLI_OPT_MODULE,
        .synopsis = "[--label L] [--id HEX] [--pin-file F] [--module M] CERT-FILE TOKEN-URI",
        .summary = "store an X.509 certificate on a token, beside its key",
        .help = "Store the certificate in CERT-FILE (PEM or DER) as a public certificate\n"
                "object and print its URI. With the id of the key it certifies, programs\n"
                "(and `openssl storeutl -certs` through keyfort.so) find the pair.\n\n"
                "Options:\n"
                "  --label L          CKA_LABEL (default: the file name without .pem)\n"
                "  --id HEX           CKA_ID in hex (default: the id of the private key with\n"
                "                     the same label, else 16 random bytes)\n" CLI_HELP_PIN_FILE
                    CLI_HELP_MODULE CLI_HELP_HELP,
        .run = kf_cli_cert_import,
    },
    {
        .group = "key",
        .name = "sign",
        .options = KF_CLI_OPT_DIGEST | KF_CLI_OPT_PSS | KF_CLI_OPT_IN | KF_CLI_OPT_OUT |
                   KF_CLI_OPT_PIN_FILE | KF_CLI_OPT_MODULE,
        .synopsis = "[--digest D] [--pss] [--in FILE] [--out FILE] [--pin-file F] [--module M]\n"
                    "       KEY-URI",
        .summary = "sign a file with a key on the token",
        .help = "Sign the bytes of a file on the token. RSA: PKCS#1 v1.5, or PSS with --pss\n"
                "(salt length = digest length, MGF1 with the same digest). ECDSA: the signature\n"
                "is written as a DER ECDSA-Sig-Value. EdDSA signs the message itself (no\n"
                "digest). openssl dgst -verify / pkeyutl -verify accept the output.\n\n"
                "Options:\n"
                "  --digest D         sha1, sha224, sha256 (default), sha384 or sha512\n"
                "  --pss              RSA-PSS instead of PKCS#1 v1.5\n"
                "  --in FILE          message to sign (default: standard input)\n"
                "  --out FILE         where the signature goes (default: standard "
                "output)\n" CLI_HELP_PIN_FILE CLI_HELP_MODULE CLI_HELP_HELP,
        .run = kf_cli_key_sign,
    },
    {
        .group = "key",
        .name = "dnskey",
        .options = KF_CLI_OPT_ORIGIN | KF_CLI_OPT_KSK_FLAG | KF_CLI_OPT_TTL | KF_CLI_OPT_ALG |
                   KF_CLI_OPT_PIN_FILE | KF_CLI_OPT_MODULE,
        .synopsis = "--origin ZONE [--ksk] [--ttl N] [--alg 8|10] [--pin-file F] [--module M]\n"
                    "       KEY",
        .summary = "print a key's DNSKEY record and its DS records",
        .help = "Print the DNSKEY record of KEY for zone ZONE, then its DS records (SHA-256\n"
                "and SHA-384) for the parent zone. KEY is a pkcs11: URI (the key stays on the\n"
                "token; keyfort.so reads its public half) or a private key file.\n\n"
                "Options:\n"
                "  --origin ZONE      the zone the key signs (its apex owns the DNSKEY)\n"
                "  --ksk              flags 257 (key-signing key); default 256 (zone-signing)\n"
                "  --ttl N            TTL of the records (default 3600)\n"
                "  --alg 8|10         RSA keys: RSASHA256 (8, default) or RSASHA512 "
                "(10)\n" CLI_HELP_PIN_FILE CLI_HELP_MODULE CLI_HELP_HELP,
        .run = kf_cli_key_dnskey,
    },
    {
        .group = "zone",
        .name = "sign",
        .options = KF_CLI_OPT_ORIGIN | KF_CLI_OPT_KSK | KF_CLI_OPT_ZSK | KF_CLI_OPT_CSK |
                   KF_CLI_OPT_NSEC3 | KF_CLI_OPT_SALT | KF_CLI_OPT_ITERATIONS | KF_CLI_OPT_OPT_OUT |
                   KF_CLI_OPT_INCEPTION | KF_CLI_OPT_EXPIRATION | KF_CLI_OPT_JITTER |
                   KF_CLI_OPT_THREADS | KF_CLI_OPT_FILE | KF_CLI_OPT_CDS | KF_CLI_OPT_TTL |
                   KF_CLI_OPT_ALG | KF_CLI_OPT_PREVIOUS | KF_CLI_OPT_REFRESH | KF_CLI_OPT_PIN_FILE |
                   KF_CLI_OPT_MODULE,
        .synopsis = "-o ORIGIN (--ksk KEY --zsk KEY | --csk KEY) [--nsec3 [--salt HEX]\n"
                    "       [--iterations N] [--opt-out]] [--inception T] [--expiration T]\n"
                    "       [--jitter S] [--threads N] [--cds] [--ttl N] [--alg 8|10]\n"
                    "       [--previous SIGNED.zone [--refresh S]] [--pin-file F] [--module M]\n"
                    "       IN.zone -f OUT.zone",
        .summary = "sign a zone file with DNSSEC",
        .help = "Sign zone IN.zone and write the signed zone to OUT.zone (through a temporary\n"
                "file renamed into place: on any error OUT.zone is left as it was). Old\n"
                "RRSIG/NSEC/NSEC3 records are replaced. KEY is a pkcs11: URI or a private\n"
                "key file; the KSK signs the DNSKEY RRset, the ZSK everything else.\n\n"
                "Options:\n"
                "  -o, --origin Z     the zone's apex\n"
                "  --ksk KEY          key-signing key (flags 257)\n"
                "  --zsk KEY          zone-signing key (flags 256)\n"
                "  --csk KEY          one key that signs everything (flags 257)\n"
                "  --nsec3            NSEC3 (RFC 5155) instead of NSEC\n"
                "  --salt HEX         NSEC3 salt (default none, as RFC 9276 advises; - = none)\n"
                "  --iterations N     NSEC3 extra iterations (default 0, RFC 9276)\n"
                "  --opt-out          NSEC3 opt-out: insecure delegations get no NSEC3\n"
                "  --inception T      signatures valid from T (default now-3600)\n"
                "  --expiration T     signatures valid until T (default now+30 days)\n"
                "                     T: YYYYMMDDHHMMSS (UTC), seconds since 1970, now+N\n"
                "  --jitter S         spread expirations over S seconds before T\n"
                "  --threads N        signing threads (default: the CPUs online)\n"
                "  --cds              publish CDS and CDNSKEY for the KSK (RFC 7344)\n"
                "  --ttl N            TTL of DNSKEY/CDS/CDNSKEY (default: the SOA's)\n"
                "  --alg 8|10         RSA keys: RSASHA256 (8, default) or RSASHA512 (10)\n"
                "  --previous F       incremental: keep the RRSIGs of F (the last signed\n"
                "                     version) for RRsets and NSEC/NSEC3 links that did not\n"
                "                     change and whose signature is good for --refresh more\n"
                "  --refresh S        seconds of validity a kept RRSIG must still have\n"
                "                     (default: a quarter of the new validity period)\n"
                "  -f, --file OUT     the signed zone\n" CLI_HELP_PIN_FILE CLI_HELP_MODULE
                    CLI_HELP_HELP,
        .run = kf_cli_zone_sign,
    },
    {
        .group = "zone",
        .name = "verify",
        .options = KF_CLI_OPT_ORIGIN | KF_CLI_OPT_ANCHOR | KF_CLI_OPT_NOW | KF_CLI_OPT_THREADS,
        .synopsis = "[-o ORIGIN] [--anchor FILE] [--now T] [--threads N] SIGNED.zone",
        .summary = "verify every signature and the NSEC/NSEC3 chain of a signed zone",
        .help = "Check a signed zone: every RRSIG against the zone's DNSKEYs and dates, every\n"
                "authoritative RRset signed, the NSEC or NSEC3 chain complete, ordered and\n"
                "with the right type bitmaps, and (with --anchor) a DNSKEY matching the trust\n"
                "anchor signing the DNSKEY RRset. Each problem is printed with owner, type,\n"
                "key tag and reason; the exit code is 7 when the zone is bogus.\n\n"
                "Options:\n"
                "  -o, --origin Z     the zone's apex (default: the owner of its SOA)\n"
                "  --anchor FILE      DS or DNSKEY records of the zone's trust anchor\n"
                "  --now T            check dates at T instead of now\n"
                "  --threads N        verifying threads (default: the CPUs online)\n" CLI_HELP_HELP,
        .run = kf_cli_zone_verify,
    },
    {
        .group = "dane",
        .name = "tlsa",
        .options = KF_CLI_OPT_CERT | KF_CLI_OPT_KEY | KF_CLI_OPT_USAGE | KF_CLI_OPT_SELECTOR |
                   KF_CLI_OPT_MTYPE | KF_CLI_OPT_PORT | KF_CLI_OPT_PROTO | KF_CLI_OPT_HOST |
                   KF_CLI_OPT_TTL | KF_CLI_OPT_PIN_FILE | KF_CLI_OPT_MODULE,
        .synopsis = "(--cert FILE | --key KEY) --host HOST [--port 25] [--proto tcp]\n"
                    "       [--usage 3] [--selector 1] [--mtype 1] [--ttl N] [--pin-file F]",
        .summary = "print the TLSA record of a server's certificate or key (RFC 6698, 7672)",
        .help = "Print the TLSA record _PORT._PROTO.HOST for a certificate (PEM or DER) or for\n"
                "a key (a pkcs11: URI or a key file: selector 1 only). Fields take numbers or\n"
                "RFC 7218 mnemonics (DANE-EE, SPKI, SHA2-256, ...); the default 3 1 1 is what\n"
                "RFC 7672 advises for SMTP servers.\n\n"
                "Options:\n"
                "  --cert FILE        the server's certificate\n"
                "  --key KEY          or its key: pkcs11: URI or key file\n"
                "  --host HOST        the server's name (the MX host)\n"
                "  --port N           default 25\n"
                "  --proto P          tcp (default), udp or sctp\n"
                "  --usage U          0-3 or PKIX-TA, PKIX-EE, DANE-TA, DANE-EE (default 3)\n"
                "  --selector S       0 Cert or 1 SPKI (default 1)\n"
                "  --mtype M          0 Full, 1 SHA2-256 (default), 2 SHA2-512\n"
                "  --ttl N            TTL of the record (default 3600)\n" CLI_HELP_PIN_FILE
                    CLI_HELP_MODULE CLI_HELP_HELP,
        .run = kf_cli_dane_tlsa,
    },
    {
        .group = "dane",
        .name = "check",
        .options = KF_CLI_OPT_PORT | KF_CLI_OPT_STARTTLS | KF_CLI_OPT_ANCHOR | KF_CLI_OPT_RESOLVER |
                   KF_CLI_OPT_CONNECT | KF_CLI_OPT_TLSA_FILE,
        .synopsis = "[--port 25] [--starttls smtp|none] (--anchor FILE [--resolver A[@P]] |\n"
                    "       --tlsa-file FILE) [--connect ADDR] HOST",
        .summary = "authenticate a server's TLS certificate with its TLSA records (RFC 7672)",
        .help = "Look up _PORT._tcp.HOST TLSA (validated from the anchor: only a secure answer\n"
                "counts), connect (SMTP STARTTLS by default), and verify the server with\n"
                "OpenSSL's DANE: DANE-EE(3) without name checks, DANE-TA(2) with HOST as the\n"
                "reference name; PKIX usages are skipped for SMTP. The report names the record\n"
                "that matched. Exit 5 when none matches, 8 when the TLSA answer is bogus,\n"
                "insecure or missing.\n\n"
                "Options:\n"
                "  --port N           default 25\n"
                "  --starttls S       smtp (default) or none (TLS from the first byte)\n"
                "  --anchor FILE      trust anchor for the TLSA lookup\n"
                "  --resolver A[@P]   resolver to ask (default: /etc/resolv.conf's)\n"
                "  --tlsa-file FILE   TLSA records from a zone file instead (diagnostics;\n"
                "                     reported as not validated)\n"
                "  --connect ADDR     dial ADDR instead of HOST's address\n" CLI_HELP_HELP,
        .run = kf_cli_dane_check,
    },
    {
        .group = "smimea",
        .name = "record",
        .options = KF_CLI_OPT_EMAIL | KF_CLI_OPT_CERT | KF_CLI_OPT_USAGE | KF_CLI_OPT_SELECTOR |
                   KF_CLI_OPT_MTYPE | KF_CLI_OPT_TTL,
        .synopsis = "--email ADDRESS --cert FILE [--usage 3] [--selector 0] [--mtype 0] [--ttl N]",
        .summary = "print the SMIMEA record of a user's certificate (RFC 8162)",
        .help = "Print the SMIMEA record of an e-mail address's certificate at its RFC 8162\n"
                "owner name: SHA2-256 of the local part, first 28 octets in hex, then\n"
                "_smimecert and the domain. `keyfort smimea --email ...` is the same command.\n"
                "The local part must be non-empty printable ASCII.\n\n"
                "Options:\n"
                "  --email ADDRESS    the user's address\n"
                "  --cert FILE        the user's certificate, PEM or DER\n"
                "  --usage U          default 3 (DANE-EE)\n"
                "  --selector S       default 0 (Cert: the whole certificate)\n"
                "  --mtype M          default 0 (Full)\n"
                "  --ttl N            TTL of the record (default 3600)\n" CLI_HELP_HELP,
        .run = kf_cli_smimea_record,
    },
    {
        .group = "smimea",
        .name = "lookup",
        .options = KF_CLI_OPT_RESOLVER | KF_CLI_OPT_ANCHOR,
        .synopsis = "--anchor FILE [--resolver ADDR[@PORT]] ADDRESS",
        .summary = "print the certificates a validated SMIMEA lookup finds (RFC 8162)",
        .help = "Look up the SMIMEA records of ADDRESS through a resolver (default: those of\n"
                "/etc/resolv.conf), validate the answer from the trust anchor, and print each\n"
                "certificate as PEM after a '# record' comment. An answer that is bogus,\n"
                "insecure or empty is an error (no validated certificate), never a fallback.\n\n"
                "Options:\n"
                "  --anchor FILE      DS or DNSKEY records of the trust anchor (zone-file form)\n"
                "  --resolver A[@P]   the resolver to ask (e.g. 127.0.0.1@5353)\n" CLI_HELP_HELP,
        .run = kf_cli_smimea_lookup,
    },
    {
        .group = "mail",
        .name = "policy",
        .options = KF_CLI_OPT_DOMAIN | KF_CLI_OPT_MX | KF_CLI_OPT_DKIM_KEY |
                   KF_CLI_OPT_DKIM_SELECTOR | KF_CLI_OPT_RUA | KF_CLI_OPT_PIN_FILE |
                   KF_CLI_OPT_MODULE,
        .synopsis = "--domain D --mx HOST [--dkim-key KEY [--dkim-selector S]] [--rua ADDR]\n"
                    "       [--pin-file F] [--module M]",
        .summary = "print the MX, SPF, DMARC and DKIM records of a mail domain",
        .help = "Print the records a mail domain publishes in its signed zone: MX 10 HOST;\n"
                "SPF \"v=spf1 mx -all\" (only the MX hosts send); DMARC p=reject with strict\n"
                "alignment and aggregate reports to --rua (default dmarc-reports@D); and with\n"
                "--dkim-key the DKIM key record S._domainkey.D (RSA, or Ed25519 per RFC 8463).\n\n"
                "Options:\n"
                "  --domain D         the mail domain\n"
                "  --mx HOST          its mail exchanger\n"
                "  --dkim-key KEY     DKIM signing key: pkcs11: URI or key file\n"
                "  --dkim-selector S  DKIM selector (default kf1)\n"
                "  --rua ADDR         where DMARC aggregate reports go\n" CLI_HELP_PIN_FILE
                    CLI_HELP_MODULE CLI_HELP_HELP,
        .run = kf_cli_mail_policy,
    },
    {
        .group = "smime",
        .name = "sign",
        .options = KF_CLI_OPT_KEY | KF_CLI_OPT_CERT | KF_CLI_OPT_IN | KF_CLI_OPT_OUT |
                   KF_CLI_OPT_PIN_FILE | KF_CLI_OPT_MODULE,
        .synopsis = "--key KEY --cert FILE [--in MSG] [--out SIGNED] [--pin-file F]",
        .summary = "sign a message with S/MIME (detached, multipart/signed)",
        .help = "Sign MSG (default standard input) as S/MIME multipart/signed with KEY (a\n"
                "pkcs11: URI: the token signs) and its certificate FILE.\n\n"
                "Options:\n"
                "  --key KEY          the signer's key: pkcs11: URI or key file\n"
                "  --cert FILE        the signer's certificate (PEM)\n"
                "  --in MSG           message (default: standard input)\n"
                "  --out SIGNED       S/MIME output (default: standard output)\n" CLI_HELP_PIN_FILE
                    CLI_HELP_MODULE CLI_HELP_HELP,
        .run = kf_cli_smime_sign,
    },
    {
        .group = "smime",
        .name = "verify",
        .options = KF_CLI_OPT_EMAIL | KF_CLI_OPT_ANCHOR | KF_CLI_OPT_RESOLVER | KF_CLI_OPT_CERT |
                   KF_CLI_OPT_IN | KF_CLI_OPT_OUT,
        .synopsis = "(--email ADDRESS --anchor FILE [--resolver A[@P]] | --cert FILE)\n"
                    "       [--in SIGNED] [--out CONTENT]",
        .summary = "verify an S/MIME signature with the signer's SMIMEA certificate",
        .help =
            "Verify a signed S/MIME message against the signer's certificate obtained from\n"
            "a validated SMIMEA lookup (or a file), never one carried in the message. The\n"
            "content goes to --out (default standard output); the verdict and where the\n"
            "certificate came from go to standard error.\n\n"
            "Options:\n"
            "    --email ADDRESS    the peer: its certificate from a validated SMIMEA lookup\n"
            "  --anchor FILE      trust anchor for that lookup (DS or DNSKEY records)\n"
            "  --resolver A[@P]   resolver to ask (default: /etc/resolv.conf's)\n"
            "  --cert FILE        or: the peer's certificate from a file you trust\n"
            "  --in SIGNED        the S/MIME message (default: standard input)\n"
            "  --out CONTENT      the signed content (default: standard output)\n" CLI_HELP_HELP,
        .run = kf_cli_smime_verify,
    },
    {
        .group = "smime",
        .name = "encrypt",
        .options = KF_CLI_OPT_EMAIL | KF_CLI_OPT_ANCHOR | KF_CLI_OPT_RESOLVER | KF_CLI_OPT_CERT |
                   KF_CLI_OPT_IN | KF_CLI_OPT_OUT,
        .synopsis = "(--email ADDRESS --anchor FILE [--resolver A[@P]] | --cert FILE)\n"
                    "       [--in MSG] [--out ENCRYPTED]",
        .summary = "encrypt a message with S/MIME to the recipient's SMIMEA certificate",
        .help = "Encrypt MSG (AES-256-CBC, the key wrapped for the recipient) to the certificate\n"
                "of a validated SMIMEA lookup (or a file).\n\n"
                "Options:\n"
                "    --email ADDRESS    the peer: its certificate from a validated SMIMEA lookup\n"
                "  --anchor FILE      trust anchor for that lookup (DS or DNSKEY records)\n"
                "  --resolver A[@P]   resolver to ask (default: /etc/resolv.conf's)\n"
                "  --cert FILE        or: the peer's certificate from a file you trust\n"
                "  --in MSG           message (default: standard input)\n"
                "  --out ENCRYPTED    S/MIME output (default: standard output)\n" CLI_HELP_HELP,
        .run = kf_cli_smime_encrypt,
    },
    {
        .group = "smime",
        .name = "decrypt",
        .options = KF_CLI_OPT_KEY | KF_CLI_OPT_CERT | KF_CLI_OPT_IN | KF_CLI_OPT_OUT |
                   KF_CLI_OPT_PIN_FILE | KF_CLI_OPT_MODULE,
        .synopsis = "--key KEY --cert FILE [--in ENCRYPTED] [--out MSG] [--pin-file F]",
        .summary = "decrypt an S/MIME message with a key on the token",
        .help = "Decrypt an S/MIME message with KEY (a pkcs11: URI: the token decrypts or\n"
                "derives) and its certificate FILE.\n\n"
                "Options:\n"
                "  --key KEY          the recipient's key: pkcs11: URI or key file\n"
                "  --cert FILE        the recipient's certificate (PEM)\n"
                "  --in ENCRYPTED     S/MIME input (default: standard input)\n"
                "  --out MSG          the message (default: standard output)\n" CLI_HELP_PIN_FILE
                    CLI_HELP_MODULE CLI_HELP_HELP,
        .run = kf_cli_smime_decrypt,
    },
};

#define CLI_NCOMMANDS (sizeof(cli_commands) / sizeof(cli_commands[0]))

static const char cli_help_tail[] =
    "PINs come from --pin-file F, a pin-source=F in the URI, or a prompt when standard\n"
    "input is a terminal; never from the command line (a URI with pin-value is refused).\n"
    "The module is --module, else the URI's module-path or module-name, else\n"
    "$" KF_HSM_MODULE_ENV ", else SoftHSM2. KEYFORT_LOG=error|warn|info|debug sets the\n"
    "log level.\n\n"
    "Exit codes:\n"
    "  0  success\n"
    "  1  internal error (a bug in keyfort)\n"
    "  2  usage: unknown command or option, missing or extra argument, a PIN on the\n"
    "     command line, an option that does not apply to the key\n"
    "  3  bad input: malformed URI, unreadable key file, bad hex, empty PIN file\n"
    "  4  token or HSM: module, token or object not found, wrong or missing PIN,\n"
    "     ambiguous URI, an operation the token refused\n"
    "  5  crypto: a software cryptographic operation failed\n"
    "  6  system: out of memory, a file that cannot be opened or written, no terminal\n"
    "  7  zone verify: the zone is bogus (each problem is listed on standard output)\n"
    "  8  DNS: a lookup whose answer is bogus, insecure or missing, or no answer at all\n";

static void cli_help_main(FILE *f)
{
    fprintf(f, "Usage: keyfort <command> <subcommand> [options] [arguments]\n"
               "       keyfort --help | --version\n\n"
               "keyfort keeps keys on a PKCS#11 token and uses them there.\n\n"
               "Commands:\n");
    for (size_t i = 0; i < CLI_NCOMMANDS; i++) {
        char name[32];
        snprintf(name, sizeof(name), "%s %s", cli_commands[i].group, cli_commands[i].name);
        fprintf(f, "  %-14s %s\n", name, cli_commands[i].summary);
    }
    fprintf(f, "\nRun 'keyfort <command> <subcommand> --help' for its options.\n\n%s",
            cli_help_tail);
}

static void cli_help_group(FILE *f, const char *group)
{
    fprintf(f, "Usage: keyfort %s <subcommand> [options] [arguments]\n\nSubcommands:\n", group);
    for (size_t i = 0; i < CLI_NCOMMANDS; i++) {
        if (strcmp(cli_commands[i].group, group) == 0) {
            fprintf(f, "  %-8s %s\n", cli_commands[i].name, cli_commands[i].summary);
        }
    }
    fprintf(f, "\nRun 'keyfort %s <subcommand> --help' for its options.\n", group);
}

static void cli_help_command(FILE *f, const struct kf_cli_command *c)
{
    fprintf(f, "Usage: keyfort %s %s %s\n\n%s", c->group, c->name, c->synopsis, c->help);
}

static bool cli_group_exists(const char *group)
{
    for (size_t i = 0; i < CLI_NCOMMANDS; i++) {
        if (strcmp(cli_commands[i].group, group) == 0) {
            return true;
        }
    }
    return false;
}

static const struct kf_cli_command *cli_find(const char *group, const char *name)
{
    for (size_t i = 0; i < CLI_NCOMMANDS; i++) {
        if (strcmp(cli_commands[i].group, group) == 0 && strcmp(cli_commands[i].name, name) == 0) {
            return &cli_commands[i];
        }
    }
    return NULL;
}

static int cli_exit_code(kf_result r)
{
    if (r.code == KF_ERR_ZONE_BOGUS) {
        return KF_CLI_EXIT_BOGUS;
    }
    if (r.code == KF_ERR_DNS_BOGUS || r.code == KF_ERR_DNS_INSECURE ||
        r.code == KF_ERR_DNS_NO_DATA || r.code == KF_ERR_DNS_LOOKUP) {
        return KF_CLI_EXIT_DNS;
    }
    switch (kf_err_class_of(r.code)) {
    case KF_CLASS_OK:
        return KF_CLI_EXIT_OK;
    case KF_CLASS_USAGE:
        return KF_CLI_EXIT_USAGE;
    case KF_CLASS_INPUT:
        return KF_CLI_EXIT_INPUT;
    case KF_CLASS_HSM:
        return KF_CLI_EXIT_HSM;
    case KF_CLASS_CRYPTO:
        return KF_CLI_EXIT_CRYPTO;
    case KF_CLASS_RESOURCE:
    case KF_CLASS_BLOCKED:
        return KF_CLI_EXIT_RESOURCE;
    case KF_CLASS_INTERNAL:
        return KF_CLI_EXIT_INTERNAL;
    default:
        return KF_CLI_EXIT_INTERNAL;
    }
}

/* "keyfort: <where>: <description>"; for a usage error, a pointer to the help as well. */
static int cli_fail(kf_result r, const char *where, const char *help_cmd)
{
    char msg[1024];
    kf_err_describe(msg, sizeof(msg));
    /* The message may carry token labels and file names: no raw control bytes to a terminal. */
    fprintf(stderr, "keyfort: %s%s", where != NULL ? where : "", where != NULL ? ": " : "");
    kf_cli_text_safe(stderr, msg);
    fputc('\n', stderr);
    int code = cli_exit_code(r);
    if (code == KF_CLI_EXIT_USAGE && help_cmd != NULL) {
        fprintf(stderr, "Try '%s --help'.\n", help_cmd);
    }
    return code;
}

/* Results go to stdout; a write that failed (full disk, closed pipe) must not exit 0. */
static KF_RESULT cli_flush_stdout(void)
{
    if (fflush(stdout) != 0 || ferror(stdout)) {
        kf_err_note_errno(errno);
        kf_err_note_context("standard output");
        KF_BAIL(KF_ERR_IO);
    }
    return KF_OK;
}

static int cli_run(const struct kf_cli_command *c, int argc, char **argv)
{
    char where[32];
    snprintf(where, sizeof(where), "%s %s", c->group, c->name);
    char help_cmd[48];
    snprintf(help_cmd, sizeof(help_cmd), "keyfort %s", where);
    struct kf_cli_args args;
    kf_result r = kf_cli_args_parse(argc, argv, c->options, &args);
    if (!kf_ok(r)) {
        return cli_fail(r, where, help_cmd);
    }
    if (args.help) {
        cli_help_command(stdout, c);
        r = cli_flush_stdout();
        return kf_ok(r) ? KF_CLI_EXIT_OK : cli_fail(r, where, NULL);
    }
    r = c->run(&args);
    if (kf_ok(r)) {
        r = cli_flush_stdout();
    }
    return kf_ok(r) ? KF_CLI_EXIT_OK : cli_fail(r, where, help_cmd);
}

static bool cli_is_help(const char *arg)
{
    return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0;
}

int main(int argc, char **argv)
{
    kf_err_clear();
    if (argc < 2) {
        cli_help_main(stderr);
        return KF_CLI_EXIT_USAGE;
    }
    const char *group = argv[1];
    if (cli_is_help(group)) {
        cli_help_main(stdout);
        return kf_ok(cli_flush_stdout()) ? KF_CLI_EXIT_OK : KF_CLI_EXIT_RESOURCE;
    }
    if (strcmp(group, "--version") == 0) {
        printf("keyfort %s (%s)\n", KEYFORT_VERSION, OpenSSL_version(OPENSSL_VERSION));
        return kf_ok(cli_flush_stdout()) ? KF_CLI_EXIT_OK : KF_CLI_EXIT_RESOURCE;
    }
    if (group[0] == '-') {
        /* Only what precedes '=' is echoed, as in args.c. */
        kf_result r = kf_cli_usage_error("unknown option '%.*s'", (int)strcspn(group, "="), group);
        return cli_fail(r, NULL, "keyfort");
    }
    if (!cli_group_exists(group)) {
        kf_result r = kf_cli_usage_error("unknown command '%s'", group);
        return cli_fail(r, NULL, "keyfort");
    }
    char group_help[32];
    snprintf(group_help, sizeof(group_help), "keyfort %s", group);
    if (argc < 3) {
        kf_result r = kf_cli_usage_error("missing subcommand");
        return cli_fail(r, group, group_help);
    }
    if (cli_is_help(argv[2])) {
        cli_help_group(stdout, group);
        return kf_ok(cli_flush_stdout()) ? KF_CLI_EXIT_OK : KF_CLI_EXIT_RESOURCE;
    }
    if (strcmp(group, "smimea") == 0 && argv[2][0] == '-' && !cli_is_help(argv[2])) {
        /* `keyfort smimea --email ...`: the record command without its name (issue 6's form). */
        return cli_run(cli_find("smimea", "record"), argc - 1, argv + 1);
    }
    const struct kf_cli_command *c = cli_find(group, argv[2]);
    if (c == NULL) {
        kf_result r = kf_cli_usage_error("unknown subcommand '%s'", argv[2]);
        return cli_fail(r, group, group_help);
    }
    return cli_run(c, argc - 2, argv + 2);
}
