/* tools/keyfort/args.h - option parsing of the keyfort command.
 *
 * One table of long options for every command; each command says which ones it accepts
 * (a mask of enum kf_cli_opt). Names must be spelt in full: getopt_long() would accept "--pin"
 * as an abbreviation of "--pin-file" and read a file named after the PIN, then print that
 * name in an error. Every value is borrowed from argv. */
#ifndef KF_TOOLS_KEYFORT_ARGS_H
#define KF_TOOLS_KEYFORT_ARGS_H

#include "common/kf_result.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum kf_cli_opt {
    KF_CLI_OPT_MODULE = 1u << 0,
    KF_CLI_OPT_PIN_FILE = 1u << 1,
    KF_CLI_OPT_SO_PIN_FILE = 1u << 2,
    KF_CLI_OPT_LABEL = 1u << 3,
    KF_CLI_OPT_ID = 1u << 4,
    KF_CLI_OPT_TYPE = 1u << 5,
    KF_CLI_OPT_JSON = 1u << 6,
    KF_CLI_OPT_DIGEST = 1u << 7,
    KF_CLI_OPT_PSS = 1u << 8,
    KF_CLI_OPT_IN = 1u << 9,
    KF_CLI_OPT_OUT = 1u << 10,
    KF_CLI_OPT_ORIGIN = 1u << 11, /* -o, --origin */
    KF_CLI_OPT_KSK = 1u << 12,    /* --ksk KEY (zone sign) */
    KF_CLI_OPT_ZSK = 1u << 13,
    KF_CLI_OPT_CSK = 1u << 14,
    KF_CLI_OPT_NSEC3 = 1u << 15,
    KF_CLI_OPT_SALT = 1u << 16,
    KF_CLI_OPT_ITERATIONS = 1u << 17,
    KF_CLI_OPT_OPT_OUT = 1u << 18,
    KF_CLI_OPT_INCEPTION = 1u << 19,
    KF_CLI_OPT_EXPIRATION = 1u << 20,
    KF_CLI_OPT_JITTER = 1u << 21,
    KF_CLI_OPT_THREADS = 1u << 22,
    KF_CLI_OPT_FILE = 1u << 23, /* -f, --file: the output file */
    KF_CLI_OPT_ANCHOR = 1u << 24,
    KF_CLI_OPT_NOW = 1u << 25,
    KF_CLI_OPT_CDS = 1u << 26,
    KF_CLI_OPT_TTL = 1u << 27,
    KF_CLI_OPT_KSK_FLAG = 1u << 28, /* --ksk as a switch (key dnskey) */
    KF_CLI_OPT_ALG = 1u << 29,
    KF_CLI_OPT_PREVIOUS = 1u << 30,
    KF_CLI_OPT_REFRESH = 1u << 31,
};

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
KF_RESULT kf_cli_args_parse(int argc, char **argv, unsigned allowed, struct kf_cli_args *out);

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
