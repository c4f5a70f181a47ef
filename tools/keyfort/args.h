/* tools/keyfort/args.h - option parsing of the keyfort command.
 *
 * One table of long options for every command; each command says which ones it accepts
 * (a mask of KF_CLI_OPT_* bits). Names must be spelt in full: getopt_long() would accept "--pin"
 * as an abbreviation of "--pin-file" and read a file named after the PIN, then print that
 * name in an error. Every value is borrowed from argv. */
#ifndef KF_TOOLS_KEYFORT_ARGS_H
#define KF_TOOLS_KEYFORT_ARGS_H

#include "common/kf_result.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Options, one bit each in a command's mask (64 bits: more than 32 options exist). */
#define KF_CLI_OPT_MODULE (UINT64_C(1) << 0)
#define KF_CLI_OPT_PIN_FILE (UINT64_C(1) << 1)
#define KF_CLI_OPT_SO_PIN_FILE (UINT64_C(1) << 2)
#define KF_CLI_OPT_LABEL (UINT64_C(1) << 3)
#define KF_CLI_OPT_ID (UINT64_C(1) << 4)
#define KF_CLI_OPT_TYPE (UINT64_C(1) << 5)
#define KF_CLI_OPT_JSON (UINT64_C(1) << 6)
#define KF_CLI_OPT_DIGEST (UINT64_C(1) << 7)
#define KF_CLI_OPT_PSS (UINT64_C(1) << 8)
#define KF_CLI_OPT_IN (UINT64_C(1) << 9)
#define KF_CLI_OPT_OUT (UINT64_C(1) << 10)
#define KF_CLI_OPT_ORIGIN (UINT64_C(1) << 11) /* -o, --origin */
#define KF_CLI_OPT_KSK (UINT64_C(1) << 12)    /* --ksk KEY (zone sign) */
#define KF_CLI_OPT_ZSK (UINT64_C(1) << 13)
#define KF_CLI_OPT_CSK (UINT64_C(1) << 14)
#define KF_CLI_OPT_NSEC3 (UINT64_C(1) << 15)
#define KF_CLI_OPT_SALT (UINT64_C(1) << 16)
#define KF_CLI_OPT_ITERATIONS (UINT64_C(1) << 17)
#define KF_CLI_OPT_OPT_OUT (UINT64_C(1) << 18)
#define KF_CLI_OPT_INCEPTION (UINT64_C(1) << 19)
#define KF_CLI_OPT_EXPIRATION (UINT64_C(1) << 20)
#define KF_CLI_OPT_JITTER (UINT64_C(1) << 21)
#define KF_CLI_OPT_THREADS (UINT64_C(1) << 22)
#define KF_CLI_OPT_FILE (UINT64_C(1) << 23) /* -f, --file: the output file */
#define KF_CLI_OPT_ANCHOR (UINT64_C(1) << 24)
#define KF_CLI_OPT_NOW (UINT64_C(1) << 25)
#define KF_CLI_OPT_CDS (UINT64_C(1) << 26)
#define KF_CLI_OPT_TTL (UINT64_C(1) << 27)
#define KF_CLI_OPT_KSK_FLAG (UINT64_C(1) << 28) /* --ksk as a switch (key dnskey) */
#define KF_CLI_OPT_ALG (UINT64_C(1) << 29)
#define KF_CLI_OPT_PREVIOUS (UINT64_C(1) << 30)
#define KF_CLI_OPT_REFRESH (UINT64_C(1) << 31)
#define KF_CLI_OPT_CERT (UINT64_C(1) << 32) /* --cert FILE */
#define KF_CLI_OPT_KEY (UINT64_C(1) << 33)  /* --key KEY */
#define KF_CLI_OPT_USAGE (UINT64_C(1) << 34)
#define KF_CLI_OPT_SELECTOR (UINT64_C(1) << 35)
#define KF_CLI_OPT_MTYPE (UINT64_C(1) << 36)
#define KF_CLI_OPT_PORT (UINT64_C(1) << 37)
#define KF_CLI_OPT_PROTO (UINT64_C(1) << 38)
#define KF_CLI_OPT_HOST (UINT64_C(1) << 39)
#define KF_CLI_OPT_EMAIL (UINT64_C(1) << 40)
#define KF_CLI_OPT_DOMAIN (UINT64_C(1) << 41)
#define KF_CLI_OPT_MX (UINT64_C(1) << 42)
#define KF_CLI_OPT_DKIM_KEY (UINT64_C(1) << 43)
#define KF_CLI_OPT_DKIM_SELECTOR (UINT64_C(1) << 44)
#define KF_CLI_OPT_RUA (UINT64_C(1) << 45)
#define KF_CLI_OPT_RESOLVER (UINT64_C(1) << 46)
#define KF_CLI_OPT_STARTTLS (UINT64_C(1) << 47)
#define KF_CLI_OPT_CONNECT (UINT64_C(1) << 48)
#define KF_CLI_OPT_TLSA_FILE (UINT64_C(1) << 49)

/* Most arguments a command takes; more is a usage error. */
#define KF_CLI_MAX_POSITIONAL 4

struct kf_cli_args {
    const char *module; /* borrowed from argv, NULL when absent (as every field) */
    const char *pin_file;
    const char *so_pin_file;
    const char *label;
    const char *id_hex;
    const char *type;
    const char *digest;
    const char *in;
    const char *out;
    const char *origin;
    const char *ksk;
    const char *zsk;
    const char *csk;
    const char *salt;
    const char *iterations;
    const char *inception;
    const char *expiration;
    const char *jitter;
    const char *threads;
    const char *file;
    const char *anchor;
    const char *now;
    const char *ttl;
    const char *alg;
    const char *previous;
    const char *refresh;
    const char *cert;
    const char *key;
    const char *usage;
    const char *selector;
    const char *mtype;
    const char *port;
    const char *proto;
    const char *host;
    const char *email;
    const char *domain;
    const char *mx;
    const char *dkim_key;
    const char *dkim_selector;
    const char *rua;
    const char *resolver;
    const char *starttls;
    const char *connect;
    const char *tlsa_file;
    bool json;
    bool pss;
    bool nsec3;
    bool opt_out;
    bool cds;
    bool ksk_flag;
    bool help;
    const char *pos[KF_CLI_MAX_POSITIONAL]; /* borrowed from argv */
    size_t npos;
};

/**
 * Parse @p argv[1..argc-1] (argv[0] is the subcommand name) with the options in @p allowed.
 * Options and arguments may be mixed; "--" ends the options; "--name=value" and
 * "--name value" both work, and "-o V" / "-f V" for options with a short name.
 * -h / --help anywhere sets help and wins over every other error.
 * Errors: INVALID_ARG (unknown option, repeated option, missing value, too many arguments),
 * PIN_IN_ARGV (an option that would carry a PIN); the context names the option, never its
 * value.
 */
KF_RESULT kf_cli_args_parse(int argc, char **argv, uint64_t allowed, struct kf_cli_args *out);

/** Check the number of arguments; @p names lists them for the message ("TOKEN-URI").
 *  Errors: INVALID_ARG. */
KF_RESULT kf_cli_args_expect(const struct kf_cli_args *a, size_t min, size_t max,
                             const char *names);

/** Record a usage error (INVALID_ARG) with a printf-style context and return it. */
KF_RESULT kf_cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/**
 * Parse a CKA_ID given in hex ("a1b2", optionally with ':' between bytes) into @p out.
 * @p what names the option for messages. Errors: BAD_HEX, TOO_LARGE (more than @p cap bytes).
 */
KF_RESULT kf_cli_parse_hex(const char *text, const char *what, uint8_t *out, size_t cap,
                           size_t *out_len);

#endif
