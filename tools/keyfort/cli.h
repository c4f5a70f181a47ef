/* tools/keyfort/cli.h - the commands of keyfort and what they share.
 *
 * Each command is a function that returns kf_result; main.c prints the recorded failure as
 * "keyfort: <command>: <kf_err_describe>" and turns its class into the exit code. Commands
 * write their results to stdout and nothing else; they never print a PIN. */
#ifndef KF_TOOLS_KEYFORT_CLI_H
#define KF_TOOLS_KEYFORT_CLI_H

#include "common/kf_result.h"
#include "hsm/hsm.h"
#include "tools/keyfort/args.h"

#include <openssl/evp.h>
#include <stdlib.h>

/* Exit codes, one per error class (documented in --help and docs/cli.md). */
enum kf_cli_exit {
    KF_CLI_EXIT_OK = 0,
    KF_CLI_EXIT_INTERNAL = 1,
    KF_CLI_EXIT_USAGE = 2,
    KF_CLI_EXIT_INPUT = 3,
    KF_CLI_EXIT_HSM = 4,
    KF_CLI_EXIT_CRYPTO = 5,
    KF_CLI_EXIT_RESOURCE = 6,
    KF_CLI_EXIT_BOGUS = 7, /* zone verify: the zone's DNSSEC data is bogus */
    KF_CLI_EXIT_DNS = 8,   /* a validated lookup: bogus, insecure, no data or no answer */
};

typedef kf_result (*kf_cli_run_fn)(const struct kf_cli_args *a);

struct kf_cli_command {
    const char *group;    /* "token", "key" */
    const char *name;     /* "init", "gen", ... */
    uint64_t options;     /* KF_CLI_OPT_* mask */
    const char *synopsis; /* after "keyfort <group> <name> " */
    const char *summary;  /* one line */
    const char *help;     /* the options and arguments, one per line */
    kf_cli_run_fn run;
};

/* cmd_token.c */
KF_RESULT kf_cli_token_init(const struct kf_cli_args *a);
KF_RESULT kf_cli_token_list(const struct kf_cli_args *a);
/* cmd_key.c */
KF_RESULT kf_cli_key_gen(const struct kf_cli_args *a);
KF_RESULT kf_cli_key_list(const struct kf_cli_args *a);
KF_RESULT kf_cli_key_pub(const struct kf_cli_args *a);
KF_RESULT kf_cli_key_pem(const struct kf_cli_args *a);
KF_RESULT kf_cli_key_delete(const struct kf_cli_args *a);
KF_RESULT kf_cli_key_import(const struct kf_cli_args *a);
KF_RESULT kf_cli_cert_import(const struct kf_cli_args *a);
/* cmd_dnssec.c */
KF_RESULT kf_cli_zone_sign(const struct kf_cli_args *a);
KF_RESULT kf_cli_zone_verify(const struct kf_cli_args *a);
KF_RESULT kf_cli_key_dnskey(const struct kf_cli_args *a);
/* cmd_dane.c */
KF_RESULT kf_cli_dane_tlsa(const struct kf_cli_args *a);
KF_RESULT kf_cli_smimea_record(const struct kf_cli_args *a);
KF_RESULT kf_cli_smimea_lookup(const struct kf_cli_args *a);
/* cmd_dane_check.c */
KF_RESULT kf_cli_dane_check(const struct kf_cli_args *a);
/* cmd_smime.c */
KF_RESULT kf_cli_smime_sign(const struct kf_cli_args *a);
KF_RESULT kf_cli_smime_verify(const struct kf_cli_args *a);
KF_RESULT kf_cli_smime_encrypt(const struct kf_cli_args *a);
KF_RESULT kf_cli_smime_decrypt(const struct kf_cli_args *a);
/* cmd_mail.c */
KF_RESULT kf_cli_mail_policy(const struct kf_cli_args *a);
/* cmd_sign.c */
KF_RESULT kf_cli_key_sign(const struct kf_cli_args *a);

/* Cleanup helpers for owned locals (STYLE.md s5): `struct kf_hsm_key *k KF_CLI_AUTO_KEY = NULL;` */
static inline void kf_cli_cleanup_uri(struct kf_hsm_uri **p)
{
    if (*p != NULL) {
        kf_hsm_uri_free(*p);
        *p = NULL;
    }
}
static inline void kf_cli_cleanup_token(struct kf_hsm_token **p)
{
    if (*p != NULL) {
        kf_hsm_token_unref(*p);
        *p = NULL;
    }
}
static inline void kf_cli_cleanup_key(struct kf_hsm_key **p)
{
    if (*p != NULL) {
        kf_hsm_key_unref(*p);
        *p = NULL;
    }
}
static inline void kf_cli_cleanup_pkey(EVP_PKEY **p)
{
    EVP_PKEY_free(*p);
    *p = NULL;
}
static inline void kf_cli_cleanup_free(void *p)
{
    free(*(void **)p);
    *(void **)p = NULL;
}
#define KF_CLI_AUTO_URI __attribute__((cleanup(kf_cli_cleanup_uri)))
#define KF_CLI_AUTO_TOKEN __attribute__((cleanup(kf_cli_cleanup_token)))
#define KF_CLI_AUTO_KEY __attribute__((cleanup(kf_cli_cleanup_key)))
#define KF_CLI_AUTO_PKEY __attribute__((cleanup(kf_cli_cleanup_pkey)))
#define KF_CLI_AUTO_FREE __attribute__((cleanup(kf_cli_cleanup_free)))

#endif
