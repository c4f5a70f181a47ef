/* tools/keyfort/args.c - strict option parsing (see args.h for why not getopt_long). */
#include "tools/keyfort/args.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct args_spec {
    const char *name; /* long name, spelt in full on the command line */
    uint64_t flag;
    bool has_value;
    char short_name; /* '\0' when none */
};

static const struct args_spec args_table[] = {
    { "module", KF_CLI_OPT_MODULE, true, 0 },
    { "pin-file", KF_CLI_OPT_PIN_FILE, true, 0 },
    { "so-pin-file", KF_CLI_OPT_SO_PIN_FILE, true, 0 },
    { "label", KF_CLI_OPT_LABEL, true, 0 },
    { "id", KF_CLI_OPT_ID, true, 0 },
    { "type", KF_CLI_OPT_TYPE, true, 0 },
    { "json", KF_CLI_OPT_JSON, false, 0 },
    { "digest", KF_CLI_OPT_DIGEST, true, 0 },
    { "pss", KF_CLI_OPT_PSS, false, 0 },
    { "in", KF_CLI_OPT_IN, true, 0 },
    { "out", KF_CLI_OPT_OUT, true, 0 },
    { "origin", KF_CLI_OPT_ORIGIN, true, 'o' },
    /* One name, two meanings: "--ksk KEY" (zone sign) and the switch "--ksk" (key dnskey);
     * the command's mask picks the entry. */
    { "ksk", KF_CLI_OPT_KSK, true, 0 },
    { "ksk", KF_CLI_OPT_KSK_FLAG, false, 0 },
    { "zsk", KF_CLI_OPT_ZSK, true, 0 },
    { "csk", KF_CLI_OPT_CSK, true, 0 },
    { "nsec3", KF_CLI_OPT_NSEC3, false, 0 },
    { "salt", KF_CLI_OPT_SALT, true, 0 },
    { "iterations", KF_CLI_OPT_ITERATIONS, true, 0 },
    { "opt-out", KF_CLI_OPT_OPT_OUT, false, 0 },
    { "inception", KF_CLI_OPT_INCEPTION, true, 0 },
    { "expiration", KF_CLI_OPT_EXPIRATION, true, 0 },
    { "jitter", KF_CLI_OPT_JITTER, true, 0 },
    { "threads", KF_CLI_OPT_THREADS, true, 0 },
    { "file", KF_CLI_OPT_FILE, true, 'f' },
    { "anchor", KF_CLI_OPT_ANCHOR, true, 0 },
    { "now", KF_CLI_OPT_NOW, true, 0 },
    { "cds", KF_CLI_OPT_CDS, false, 0 },
    { "ttl", KF_CLI_OPT_TTL, true, 0 },
    { "alg", KF_CLI_OPT_ALG, true, 0 },
    { "previous", KF_CLI_OPT_PREVIOUS, true, 0 },
    { "refresh", KF_CLI_OPT_REFRESH, true, 0 },
    { "cert", KF_CLI_OPT_CERT, true, 0 },
    { "key", KF_CLI_OPT_KEY, true, 0 },
    { "usage", KF_CLI_OPT_USAGE, true, 0 },
    { "selector", KF_CLI_OPT_SELECTOR, true, 0 },
    { "mtype", KF_CLI_OPT_MTYPE, true, 0 },
    { "port", KF_CLI_OPT_PORT, true, 0 },
    { "proto", KF_CLI_OPT_PROTO, true, 0 },
    { "host", KF_CLI_OPT_HOST, true, 0 },
    { "email", KF_CLI_OPT_EMAIL, true, 0 },
    { "domain", KF_CLI_OPT_DOMAIN, true, 0 },
    { "mx", KF_CLI_OPT_MX, true, 0 },
    { "dkim-key", KF_CLI_OPT_DKIM_KEY, true, 0 },
    { "dkim-selector", KF_CLI_OPT_DKIM_SELECTOR, true, 0 },
    { "rua", KF_CLI_OPT_RUA, true, 0 },
    { "resolver", KF_CLI_OPT_RESOLVER, true, 0 },
    { "starttls", KF_CLI_OPT_STARTTLS, true, 0 },
    { "connect", KF_CLI_OPT_CONNECT, true, 0 },
    { "tlsa-file", KF_CLI_OPT_TLSA_FILE, true, 0 },
    { NULL, 0, false, 0 },
};

/* Names people try when they want to pass a PIN. Refused with a reason rather than
 * "unknown option", so the user learns why there is no such option. */
static const char *const args_pin_names[] = { "pin", "so-pin", "user-pin", "pin-value", NULL };

KF_RESULT kf_cli_usage_error(const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    kf_err_note_context("%s", msg);
    KF_BAIL(KF_ERR_INVALID_ARG);
}

/* The entry named @p name, preferring one the command allows (names may repeat). */
static const struct args_spec *args_find(const char *name, size_t name_len, uint64_t allowed)
{
    const struct args_spec *any = NULL;
    for (const struct args_spec *s = args_table; s->name != NULL; s++) {
        if (strlen(s->name) == name_len && memcmp(s->name, name, name_len) == 0) {
            if ((allowed & s->flag) != 0) {
                return s;
            }
            any = any != NULL ? any : s;
        }
    }
    return any;
}

static const struct args_spec *args_find_short(char c, uint64_t allowed)
{
    for (const struct args_spec *s = args_table; s->name != NULL; s++) {
        if (s->short_name == c && (allowed & s->flag) != 0) {
            return s;
        }
    }
    return NULL;
}

static bool args_is_pin_name(const char *name, size_t name_len)
{
    for (size_t i = 0; args_pin_names[i] != NULL; i++) {
        if (strlen(args_pin_names[i]) == name_len &&
            memcmp(args_pin_names[i], name, name_len) == 0) {
            return true;
        }
    }
    return false;
}

static const char **args_slot(struct kf_cli_args *a, uint64_t flag)
{
    switch (flag) {
    case KF_CLI_OPT_MODULE:
        return &a->module;
    case KF_CLI_OPT_PIN_FILE:
        return &a->pin_file;
    case KF_CLI_OPT_SO_PIN_FILE:
        return &a->so_pin_file;
    case KF_CLI_OPT_LABEL:
        return &a->label;
    case KF_CLI_OPT_ID:
        return &a->id_hex;
    case KF_CLI_OPT_TYPE:
        return &a->type;
    case KF_CLI_OPT_DIGEST:
        return &a->digest;
    case KF_CLI_OPT_IN:
        return &a->in;
    case KF_CLI_OPT_OUT:
        return &a->out;
    case KF_CLI_OPT_ORIGIN:
        return &a->origin;
    case KF_CLI_OPT_KSK:
        return &a->ksk;
    case KF_CLI_OPT_ZSK:
        return &a->zsk;
    case KF_CLI_OPT_CSK:
        return &a->csk;
    case KF_CLI_OPT_SALT:
        return &a->salt;
    case KF_CLI_OPT_ITERATIONS:
        return &a->iterations;
    case KF_CLI_OPT_INCEPTION:
        return &a->inception;
    case KF_CLI_OPT_EXPIRATION:
        return &a->expiration;
    case KF_CLI_OPT_JITTER:
        return &a->jitter;
    case KF_CLI_OPT_THREADS:
        return &a->threads;
    case KF_CLI_OPT_FILE:
        return &a->file;
    case KF_CLI_OPT_ANCHOR:
        return &a->anchor;
    case KF_CLI_OPT_NOW:
        return &a->now;
    case KF_CLI_OPT_TTL:
        return &a->ttl;
    case KF_CLI_OPT_ALG:
        return &a->alg;
    case KF_CLI_OPT_PREVIOUS:
        return &a->previous;
    case KF_CLI_OPT_REFRESH:
        return &a->refresh;
    case KF_CLI_OPT_CERT:
        return &a->cert;
    case KF_CLI_OPT_KEY:
        return &a->key;
    case KF_CLI_OPT_USAGE:
        return &a->usage;
    case KF_CLI_OPT_SELECTOR:
        return &a->selector;
    case KF_CLI_OPT_MTYPE:
        return &a->mtype;
    case KF_CLI_OPT_PORT:
        return &a->port;
    case KF_CLI_OPT_PROTO:
        return &a->proto;
    case KF_CLI_OPT_HOST:
        return &a->host;
    case KF_CLI_OPT_EMAIL:
        return &a->email;
    case KF_CLI_OPT_DOMAIN:
        return &a->domain;
    case KF_CLI_OPT_MX:
        return &a->mx;
    case KF_CLI_OPT_DKIM_KEY:
        return &a->dkim_key;
    case KF_CLI_OPT_DKIM_SELECTOR:
        return &a->dkim_selector;
    case KF_CLI_OPT_RUA:
        return &a->rua;
    case KF_CLI_OPT_RESOLVER:
        return &a->resolver;
    case KF_CLI_OPT_STARTTLS:
        return &a->starttls;
    case KF_CLI_OPT_CONNECT:
        return &a->connect;
    case KF_CLI_OPT_TLSA_FILE:
        return &a->tlsa_file;
    default:
        return NULL;
    }
}

static bool *args_switch(struct kf_cli_args *a, uint64_t flag)
{
    switch (flag) {
    case KF_CLI_OPT_JSON:
        return &a->json;
    case KF_CLI_OPT_PSS:
        return &a->pss;
    case KF_CLI_OPT_NSEC3:
        return &a->nsec3;
    case KF_CLI_OPT_OPT_OUT:
        return &a->opt_out;
    case KF_CLI_OPT_CDS:
        return &a->cds;
    case KF_CLI_OPT_KSK_FLAG:
        return &a->ksk_flag;
    default:
        return NULL;
    }
}

static bool args_is_help(const char *arg)
{
    return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0;
}

static KF_RESULT args_apply(int argc, char **argv, int *i, const struct args_spec *spec,
                            const char *eq, struct kf_cli_args *a);

/* Apply one "--name[=value]" at argv[*i]; may consume argv[*i + 1] as the value. */
static KF_RESULT args_long(int argc, char **argv, int *i, uint64_t allowed, struct kf_cli_args *a)
{
    const char *name = argv[*i] + 2;
    const char *eq = strchr(name, '=');
    size_t name_len = eq != NULL ? (size_t)(eq - name) : strlen(name);
    const struct args_spec *spec = args_find(name, name_len, allowed);
    if (spec == NULL && args_is_pin_name(name, name_len)) {
        /* Only the name is echoed: the value may be the PIN itself. */
        kf_err_note_context("there is no --%.*s option; use --pin-file FILE or pin-source=FILE "
                            "in the URI",
                            (int)name_len, name);
        KF_BAIL(KF_ERR_PIN_IN_ARGV);
    }
    if (spec == NULL) {
        return kf_cli_usage_error("unknown option '--%.*s'", (int)name_len, name);
    }
    if ((allowed & spec->flag) == 0) {
        return kf_cli_usage_error("option '--%s' does not apply to this command", spec->name);
    }
    return args_apply(argc, argv, i, spec, eq, a);
}

/* Store the option's value (the rest after '=' in @p eq, or the next argument). */
static KF_RESULT args_apply(int argc, char **argv, int *i, const struct args_spec *spec,
                            const char *eq, struct kf_cli_args *a)
{
    if (!spec->has_value) {
        if (eq != NULL) {
            return kf_cli_usage_error("option '--%s' takes no value", spec->name);
        }
        bool *sw = args_switch(a, spec->flag);
        KF_ENSURE(sw != NULL, KF_ERR_INTERNAL);
        *sw = true;
        return KF_OK;
    }
    const char *value = NULL;
    if (eq != NULL) {
        value = eq + 1;
    } else if (*i + 1 < argc) {
        *i += 1;
        value = argv[*i];
    } else {
        return kf_cli_usage_error("option '--%s' needs a value", spec->name);
    }
    if (value[0] == '\0') {
        return kf_cli_usage_error("option '--%s' has an empty value", spec->name);
    }
    const char **slot = args_slot(a, spec->flag);
    KF_ENSURE(slot != NULL, KF_ERR_INTERNAL);
    if (*slot != NULL) {
        return kf_cli_usage_error("option '--%s' given more than once", spec->name);
    }
    *slot = value;
    return KF_OK;
}

KF_RESULT kf_cli_args_parse(int argc, char **argv, uint64_t allowed, struct kf_cli_args *out)
{
    KF_ENSURE_REF(argv);
    KF_ENSURE_REF(out);
    struct kf_cli_args a = { 0 };
    /* Help wins over every other problem on the line, as in git and coreutils. */
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
        if (args_is_help(argv[i])) {
            a.help = true;
            *out = a;
            return KF_OK;
        }
    }
    bool options_done = false;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (!options_done && strcmp(arg, "--") == 0) {
            options_done = true;
            continue;
        }
        if (!options_done && strncmp(arg, "--", 2) == 0) {
            KF_GUARD(args_long(argc, argv, &i, allowed, &a));
            continue;
        }
        if (!options_done && arg[0] == '-' && arg[1] != '\0' && arg[2] == '\0') {
            const struct args_spec *spec = args_find_short(arg[1], allowed);
            if (spec != NULL) {
                KF_GUARD(args_apply(argc, argv, &i, spec, NULL, &a));
                continue;
            }
        }
        if (!options_done && arg[0] == '-' && arg[1] != '\0') {
            /* Only the first letter is echoed, for the same reason as above. */
            return kf_cli_usage_error("unknown option '-%c'", arg[1]);
        }
        if (a.npos == KF_CLI_MAX_POSITIONAL) {
            return kf_cli_usage_error("too many arguments");
        }
        a.pos[a.npos++] = arg;
    }
    *out = a;
    return KF_OK;
}

KF_RESULT kf_cli_args_expect(const struct kf_cli_args *a, size_t min, size_t max, const char *names)
{
    KF_ENSURE_REF(a);
    if (a->npos < min) {
        return kf_cli_usage_error("missing argument: expected %s", names);
    }
    if (a->npos > max) {
        return kf_cli_usage_error("unexpected argument '%s': expected %s", a->pos[max], names);
    }
    return KF_OK;
}

static int args_hex_digit(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

KF_RESULT kf_cli_parse_hex(const char *text, const char *what, uint8_t *out, size_t cap,
                           size_t *out_len)
{
    KF_ENSURE_REF(text);
    KF_ENSURE_REF(what);
    KF_ENSURE_REF(out);
    KF_ENSURE_REF(out_len);
    size_t n = 0;
    size_t i = 0;
    size_t len = strlen(text);
    while (i < len) {
        if (n > 0 && text[i] == ':') {
            i++; /* "a1:b2", as openssl and p11tool print ids */
        }
        int hi = i < len ? args_hex_digit(text[i]) : -1;
        int lo = i + 1 < len ? args_hex_digit(text[i + 1]) : -1;
        if (hi < 0 || lo < 0) {
            kf_err_note_context("%s: expected pairs of hex digits, bad character at offset %zu",
                                what, hi < 0 ? i : i + 1);
            KF_BAIL(KF_ERR_BAD_HEX);
        }
        if (n == cap) {
            kf_err_note_context("%s: longer than %zu bytes", what, cap);
            KF_BAIL(KF_ERR_TOO_LARGE);
        }
        out[n++] = (uint8_t)(hi << 4 | lo);
        i += 2;
    }
    if (n == 0) {
        kf_err_note_context("%s: empty", what);
        KF_BAIL(KF_ERR_BAD_HEX);
    }
    *out_len = n;
    return KF_OK;
}
