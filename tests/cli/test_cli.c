/* tests/cli/test_cli.c - the keyfort command end to end, on a throw-away SoftHSM2 token.
 *
 * Each test gets a fresh token (tests/hsm/token_fixture.h) and runs the real binary
 * (KEYFORT_BIN) with stdin from /dev/null unless a file is given, capturing stdout, stderr and
 * the exit code. Signatures are checked with OpenSSL in-process or with the openssl command,
 * never with keyfort itself. Every invocation, failing or not, is checked for the test PINs:
 * none may appear in any output. */
#include "tests/cli/json_check.h"
#include "tests/hsm/token_fixture.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <poll.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef KEYFORT_BIN
#error "KEYFORT_BIN must name the keyfort binary (tests/cli/CMakeLists.txt)"
#endif

extern char **environ;

static struct kf_test_token tok;

static void cli_init(void)
{
    kf_test_token_setup(&tok, KF_TEST_TOKEN_LABEL);
}

static void cli_fini(void)
{
    kf_test_token_teardown(&tok);
}

/* Suite-wide limits only: fixtures are on each test, so each runs exactly once. */
TestSuite(cli, .timeout = 240);

/* ---- running a command ------------------------------------------------------------------ */

struct cli_run {
    int code; /* exit status; -1 when killed by a signal */
    char *out;
    size_t out_len;
    char *err;
    size_t err_len;
};

static void cli_run_free(struct cli_run *r)
{
    free(r->out);
    free(r->err);
    *r = (struct cli_run){ 0 };
}

static void cli_append(char **buf, size_t *len, const char *p, size_t n)
{
    char *nb = realloc(*buf, *len + n + 1);
    cr_assert_not_null(nb);
    memcpy(nb + *len, p, n);
    *len += n;
    nb[*len] = '\0';
    *buf = nb;
}

static void cli_assert_no_pin(const struct cli_run *r, const char *what)
{
    static const char *const pins[] = { KF_TEST_USER_PIN, KF_TEST_SO_PIN };
    for (size_t i = 0; i < sizeof(pins) / sizeof(pins[0]); i++) {
        size_t n = strlen(pins[i]);
        cr_assert_null(memmem(r->out, r->out_len, pins[i], n), "%s: a PIN is on stdout", what);
        cr_assert_null(memmem(r->err, r->err_len, pins[i], n), "%s: a PIN is on stderr: %s", what,
                       r->err);
    }
}

/* Run argv (argv[0] looked up in PATH), stdin from @p stdin_path or /dev/null. */
static void cli_spawn(const char *const *argv, const char *stdin_path, struct cli_run *r)
{
    *r = (struct cli_run){ 0 };
    cli_append(&r->out, &r->out_len, "", 0);
    cli_append(&r->err, &r->err_len, "", 0);
    int out_pipe[2];
    int err_pipe[2];
    cr_assert_eq(pipe2(out_pipe, O_CLOEXEC), 0);
    cr_assert_eq(pipe2(err_pipe, O_CLOEXEC), 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, stdin_path != NULL ? stdin_path : "/dev/null",
                                     O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, out_pipe[1], 1);
    posix_spawn_file_actions_adddup2(&fa, err_pipe[1], 2);
    pid_t pid;
    char *const *args; /* posix_spawn's prototype predates const; it does not write argv */
    memcpy(&args, &argv, sizeof(args));
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, args, environ);
    posix_spawn_file_actions_destroy(&fa);
    cr_assert_eq(rc, 0, "posix_spawnp %s: %s", argv[0], strerror(rc));
    close(out_pipe[1]);
    close(err_pipe[1]);
    struct pollfd fds[2] = { { .fd = out_pipe[0], .events = POLLIN },
                             { .fd = err_pipe[0], .events = POLLIN } };
    int open_fds = 2;
    while (open_fds > 0) {
        if (poll(fds, 2, -1) < 0) {
            continue; /* EINTR */
        }
        for (int i = 0; i < 2; i++) {
            if (fds[i].fd < 0 || fds[i].revents == 0) {
                continue;
            }
            char chunk[4096];
            ssize_t got = read(fds[i].fd, chunk, sizeof(chunk));
            if (got > 0) {
                if (i == 0) {
                    cli_append(&r->out, &r->out_len, chunk, (size_t)got);
                } else {
                    cli_append(&r->err, &r->err_len, chunk, (size_t)got);
                }
                continue;
            }
            close(fds[i].fd);
            fds[i].fd = -1;
            open_fds--;
        }
    }
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    r->code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    char what[256];
    snprintf(what, sizeof(what), "%s %s %s", argv[0], argv[1] != NULL ? argv[1] : "",
             argv[1] != NULL && argv[2] != NULL ? argv[2] : "");
    cli_assert_no_pin(r, what);
}

#define CLI_MAX_ARGS 24

/* keyfort with the NULL-terminated arguments that follow @p stdin_path. */
static void cli_keyfort_v(struct cli_run *r, const char *stdin_path, va_list ap)
{
    const char *argv[CLI_MAX_ARGS + 2] = { KEYFORT_BIN };
    size_t n = 1;
    const char *a;
    while ((a = va_arg(ap, const char *)) != NULL) {
        cr_assert_lt(n, (size_t)CLI_MAX_ARGS);
        argv[n++] = a;
    }
    argv[n] = NULL;
    cli_spawn(argv, stdin_path, r);
}

static void cli_keyfort_in(struct cli_run *r, const char *stdin_path, ...)
{
    va_list ap;
    va_start(ap, stdin_path);
    cli_keyfort_v(r, stdin_path, ap);
    va_end(ap);
}

#define KF(r, ...) cli_keyfort_in((r), NULL, __VA_ARGS__, (const char *)NULL)
#define KF_IN(r, in, ...) cli_keyfort_in((r), (in), __VA_ARGS__, (const char *)NULL)

static void cli_expect_ok(const struct cli_run *r, const char *what)
{
    cr_assert_eq(r->code, 0, "%s: exit %d, stderr: %s", what, r->code, r->err);
}

/* A failure: the exit code, a "keyfort: " message naming @p needle, and nothing on stdout. */
static void cli_expect_fail(const struct cli_run *r, int code, const char *needle, const char *what)
{
    cr_assert_eq(r->code, code, "%s: exit %d, expected %d; stderr: %s", what, r->code, code,
                 r->err);
    cr_assert_eq(strncmp(r->err, "keyfort: ", 9), 0, "%s: stderr: %s", what, r->err);
    cr_assert_not_null(strstr(r->err, needle), "%s: '%s' not in stderr: %s", what, needle, r->err);
    cr_assert_eq(r->out_len, 0, "%s: stdout not empty: %s", what, r->out);
}

/* The single line of output, without its newline (for printed URIs). */
static void cli_one_line(const struct cli_run *r, char *buf, size_t cap)
{
    cr_assert_gt(r->out_len, 1);
    cr_assert_eq(r->out[r->out_len - 1], '\n', "output does not end a line: %s", r->out);
    cr_assert_null(memchr(r->out, '\n', r->out_len - 1), "more than one line: %s", r->out);
    cr_assert_lt(r->out_len, cap);
    memcpy(buf, r->out, r->out_len - 1);
    buf[r->out_len - 1] = '\0';
}

/* ---- files and URIs ---------------------------------------------------------------------- */

static void cli_path(char *buf, size_t cap, const char *name)
{
    snprintf(buf, cap, "%s/%s", tok.dir, name);
}

static void cli_write_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "%s", path);
    cr_assert_eq(fwrite(p, 1, n, f), n);
    cr_assert_eq(fclose(f), 0);
}

static uint8_t *cli_read_file(const char *path, size_t *out_len)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s", path);
    uint8_t *buf = NULL;
    size_t len = 0;
    uint8_t chunk[4096];
    size_t got;
    while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        buf = realloc(buf, len + got);
        cr_assert_not_null(buf);
        memcpy(buf + len, chunk, got);
        len += got;
    }
    fclose(f);
    *out_len = len;
    return buf;
}

static void cli_obj_uri(char *buf, size_t cap, const char *label)
{
    snprintf(buf, cap, "%s;object=%s", tok.uri, label);
}

/* A message with every byte value, so text-mode mangling would show. */
static void cli_write_message(const char *path, uint8_t *msg, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        msg[i] = (uint8_t)(i * 7 + 3);
    }
    cli_write_file(path, msg, len);
}

/* ---- keys, public keys and verification ------------------------------------------------- */

static void cli_gen(const char *type, const char *label)
{
    struct cli_run r;
    KF(&r, "key", "gen", "--type", type, "--label", label, "--pin-file", tok.pin_file, tok.uri);
    cli_expect_ok(&r, "key gen");
    cr_assert_eq(strncmp(r.out, "pkcs11:", 7), 0, "key gen printed: %s", r.out);
    char want[160];
    snprintf(want, sizeof(want), "object=%s", label);
    cr_assert_not_null(strstr(r.out, want), "key gen URI lacks %s: %s", want, r.out);
    cli_run_free(&r);
}

static EVP_PKEY *cli_pub(const char *uri)
{
    struct cli_run r;
    KF(&r, "key", "pub", "--pin-file", tok.pin_file, uri);
    cli_expect_ok(&r, "key pub");
    cr_assert_eq(strncmp(r.out, "-----BEGIN PUBLIC KEY-----\n", 27), 0, "key pub: %s", r.out);
    BIO *bio = BIO_new_mem_buf(r.out, (int)r.out_len);
    cr_assert_not_null(bio);
    EVP_PKEY *pub = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    BIO_free(bio);
    cr_assert_not_null(pub, "key pub output is not a PEM SubjectPublicKeyInfo: %s", r.out);
    cli_run_free(&r);
    return pub;
}

/* 1 verified, 0 did not verify (the EVP call itself must not fail otherwise). */
static int cli_verify(EVP_PKEY *pub, const char *digest, bool pss, const uint8_t *msg,
                      size_t msg_len, const uint8_t *sig, size_t sig_len)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    cr_assert_not_null(ctx);
    EVP_PKEY_CTX *pctx = NULL;
    const EVP_MD *md = digest != NULL ? EVP_get_digestbyname(digest) : NULL;
    cr_assert(digest == NULL || md != NULL, "digest %s", digest);
    cr_assert_eq(EVP_DigestVerifyInit(ctx, &pctx, md, NULL, pub), 1);
    if (pss) {
        cr_assert_eq(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING), 1);
        cr_assert_eq(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST), 1);
    }
    int ok = EVP_DigestVerify(ctx, sig, sig_len, msg, msg_len);
    EVP_MD_CTX_free(ctx);
    cr_assert(ok == 0 || ok == 1, "EVP_DigestVerify returned %d", ok);
    return ok;
}

/* Sign @p msg_path with keyfort into @p sig_path. */
static void cli_sign(const char *uri, const char *digest, bool pss, const char *msg_path,
                     const char *sig_path)
{
    const char *argv[CLI_MAX_ARGS] = { KEYFORT_BIN, "key",    "sign",  "--pin-file", tok.pin_file,
                                       "--in",      msg_path, "--out", sig_path };
    size_t n = 9;
    if (digest != NULL) {
        argv[n++] = "--digest";
        argv[n++] = digest;
    }
    if (pss) {
        argv[n++] = "--pss";
    }
    argv[n++] = uri;
    argv[n] = NULL;
    struct cli_run r;
    cli_spawn(argv, NULL, &r);
    cli_expect_ok(&r, "key sign");
    cr_assert_eq(r.out_len, 0, "key sign --out wrote to stdout: %s", r.out);
    cli_run_free(&r);
}

/* ---- key list --json --------------------------------------------------------------------- */

static struct json *cli_key_list_json(const char *uri)
{
    struct cli_run r;
    KF(&r, "key", "list", "--json", "--pin-file", tok.pin_file, uri);
    cli_expect_ok(&r, "key list --json");
    struct json *doc = json_parse(r.out, r.out_len);
    cr_assert_not_null(doc, "key list --json is not valid JSON: %s", r.out);
    cr_assert_eq(doc->type, JSON_OBJECT);
    cr_assert_not_null(json_get_str(doc, "token"));
    const struct json *objs = json_get(doc, "objects");
    cr_assert(objs != NULL && objs->type == JSON_ARRAY, "no objects array: %s", r.out);
    cli_run_free(&r);
    return doc;
}

static const struct json *cli_find_obj(const struct json *doc, const char *label, const char *cls)
{
    const struct json *objs = json_get(doc, "objects");
    const struct json *found = NULL;
    for (size_t i = 0; i < objs->n; i++) {
        const char *l = json_get_str(objs->items[i], "label");
        const char *c = json_get_str(objs->items[i], "class");
        if (l != NULL && c != NULL && strcmp(l, label) == 0 && strcmp(c, cls) == 0) {
            cr_assert_null(found, "two %s objects labelled %s", cls, label);
            found = objs->items[i];
        }
    }
    return found;
}

static bool cli_json_bool(const struct json *obj, const char *key)
{
    const struct json *v = json_get(obj, key);
    cr_assert(v != NULL && v->type == JSON_BOOL, "%s is not a boolean", key);
    return v->boolean;
}

/* ---- help and version -------------------------------------------------------------------- */

static const char *const cli_all_commands[][2] = {
    { "token", "init" }, { "token", "list" }, { "key", "gen" },    { "key", "list" },
    { "key", "pub" },    { "key", "delete" }, { "key", "import" }, { "key", "sign" },
};

Test(cli, help_documents_commands_and_exit_codes, .init = cli_init, .fini = cli_fini)
{
    struct cli_run r;
    KF(&r, "--help");
    cli_expect_ok(&r, "--help");
    cr_assert_eq(r.err_len, 0, "--help wrote to stderr: %s", r.err);
    static const char *const codes[] = { "  0  success",   "  1  internal",     "  2  usage",
                                         "  3  bad input", "  4  token or HSM", "  5  crypto",
                                         "  6  system" };
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        cr_assert_not_null(strstr(r.out, codes[i]), "--help lacks '%s'", codes[i]);
    }
    for (size_t i = 0; i < sizeof(cli_all_commands) / sizeof(cli_all_commands[0]); i++) {
        char name[32];
        snprintf(name, sizeof(name), "  %s %s ", cli_all_commands[i][0], cli_all_commands[i][1]);
        cr_assert_not_null(strstr(r.out, name), "--help does not list '%s'", name);
    }
    cli_run_free(&r);

    KF(&r, "-h");
    cli_expect_ok(&r, "-h");
    cr_assert_not_null(strstr(r.out, "Exit codes"));
    cli_run_free(&r);

    KF(&r, "--version");
    cli_expect_ok(&r, "--version");
    cr_assert_eq(strncmp(r.out, "keyfort " KEYFORT_VERSION " ", 9 + strlen(KEYFORT_VERSION)), 0,
                 "--version: %s", r.out);
    cli_run_free(&r);

    KF(&r, "key", "--help");
    cli_expect_ok(&r, "key --help");
    cr_assert_not_null(strstr(r.out, "  sign "));
    cr_assert_null(strstr(r.out, "  init "), "token commands listed under key: %s", r.out);
    cli_run_free(&r);

    /* No command at all: usage on stderr, exit 2. */
    KF(&r, (const char *)NULL);
    cr_assert_eq(r.code, 2);
    cr_assert_eq(r.out_len, 0);
    cr_assert_not_null(strstr(r.err, "Usage: keyfort"));
    cli_run_free(&r);
}

Test(cli, help_on_every_subcommand, .init = cli_init, .fini = cli_fini)
{
    for (size_t i = 0; i < sizeof(cli_all_commands) / sizeof(cli_all_commands[0]); i++) {
        const char *g = cli_all_commands[i][0];
        const char *n = cli_all_commands[i][1];
        char want[64];
        snprintf(want, sizeof(want), "Usage: keyfort %s %s ", g, n);
        static const char *const flags[] = { "--help", "-h" };
        for (size_t f = 0; f < 2; f++) {
            struct cli_run r;
            /* Help wins over a bad option next to it. */
            KF(&r, g, n, "--no-such-option", flags[f]);
            cli_expect_ok(&r, want);
            cr_assert_eq(strncmp(r.out, want, strlen(want)), 0, "%s %s %s: %s", g, n, flags[f],
                         r.out);
            cr_assert_not_null(strstr(r.out, "--help"), "%s %s help lists no options", g, n);
            cr_assert_eq(r.err_len, 0);
            cli_run_free(&r);
        }
    }
}

/* ---- token init / list ------------------------------------------------------------------- */

static struct json *cli_token_list_json(void)
{
    struct cli_run r;
    KF(&r, "token", "list", "--json");
    cli_expect_ok(&r, "token list --json");
    struct json *doc = json_parse(r.out, r.out_len);
    cr_assert_not_null(doc, "token list --json is not valid JSON: %s", r.out);
    const struct json *tokens = json_get(doc, "tokens");
    cr_assert(tokens != NULL && tokens->type == JSON_ARRAY, "no tokens array: %s", r.out);
    cli_run_free(&r);
    return doc;
}

static const struct json *cli_find_token(const struct json *doc, const char *label)
{
    const struct json *tokens = json_get(doc, "tokens");
    for (size_t i = 0; i < tokens->n; i++) {
        const char *l = json_get_str(tokens->items[i], "label");
        if (l != NULL && strcmp(l, label) == 0) {
            return tokens->items[i];
        }
    }
    return NULL;
}

Test(cli, token_init_and_list, .init = cli_init, .fini = cli_fini)
{
    struct cli_run r;
    KF(&r, "token", "init", "--label", "second", "--so-pin-file", tok.so_pin_file, "--pin-file",
       tok.pin_file);
    cli_expect_ok(&r, "token init");
    char uri[512];
    cli_one_line(&r, uri, sizeof(uri));
    cr_assert_eq(strncmp(uri, "pkcs11:", 7), 0, "token init printed: %s", uri);
    cr_assert_not_null(strstr(uri, "token=second"), "token init URI: %s", uri);
    cli_run_free(&r);

    KF(&r, "token", "list");
    cli_expect_ok(&r, "token list");
    cr_assert_not_null(strstr(r.out, "token \"second\""), "token list: %s", r.out);
    cr_assert_not_null(strstr(r.out, "token \"" KF_TEST_TOKEN_LABEL "\""), "token list: %s", r.out);
    cr_assert_not_null(strstr(r.out, uri), "token list does not show %s: %s", uri, r.out);
    cli_run_free(&r);

    struct json *doc = cli_token_list_json();
    const struct json *second = cli_find_token(doc, "second");
    cr_assert_not_null(second, "token list --json has no token 'second'");
    cr_assert(cli_json_bool(second, "initialized"));
    cr_assert_str_eq(json_get_str(second, "uri"), uri);
    cr_assert_not_null(cli_find_token(doc, KF_TEST_TOKEN_LABEL));
    /* SoftHSM2 always offers one more free slot; it has no URI. */
    const struct json *tokens = json_get(doc, "tokens");
    size_t free_slots = 0;
    for (size_t i = 0; i < tokens->n; i++) {
        if (!cli_json_bool(tokens->items[i], "initialized")) {
            const struct json *u = json_get(tokens->items[i], "uri");
            cr_assert(u != NULL && u->type == JSON_NULL, "free slot with a URI");
            free_slots++;
        }
        static const char *const keys[] = { "slot",  "label",  "manufacturer",
                                            "model", "serial", "initialized",
                                            "flags", "module", "uri" };
        for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
            cr_assert_eq(json_key_count(tokens->items[i], keys[k]), 1, "key %s", keys[k]);
        }
    }
    cr_assert_geq(free_slots, 1);
    json_free(doc);

    /* The printed URI names the new token, which takes the new user PIN. */
    KF(&r, "key", "gen", "--type", "p256", "--label", "on-second", "--pin-file", tok.pin_file, uri);
    cli_expect_ok(&r, "key gen on the new token");
    cli_run_free(&r);
    doc = cli_key_list_json(uri);
    cr_assert_not_null(cli_find_obj(doc, "on-second", "private"));
    json_free(doc);
    doc = cli_key_list_json(tok.uri);
    cr_assert_null(cli_find_obj(doc, "on-second", "private"), "key went to the wrong token");
    json_free(doc);
}

Test(cli, token_label_is_escaped_in_json_text_and_uri, .init = cli_init, .fini = cli_fini)
{
    static const char label[] = "q\"b\\s\tt";
    struct cli_run r;
    KF(&r, "token", "init", "--label", label, "--so-pin-file", tok.so_pin_file, "--pin-file",
       tok.pin_file);
    cli_expect_ok(&r, "token init");
    char uri[512];
    cli_one_line(&r, uri, sizeof(uri));
    cr_assert_not_null(strstr(uri, "token=q%22b%5Cs%09t"), "label not percent-encoded: %s", uri);
    cli_run_free(&r);

    struct json *doc = cli_token_list_json();
    cr_assert_not_null(cli_find_token(doc, label), "label did not survive JSON");
    json_free(doc);

    KF(&r, "token", "list");
    cli_expect_ok(&r, "token list");
    cr_assert_not_null(strstr(r.out, "token \"q\"b\\\\s\\x09t\""), "text not escaped: %s", r.out);
    cli_run_free(&r);

    /* p11-kit reads the encoded URI back to the same token. */
    doc = cli_key_list_json(uri);
    json_free(doc);
}

Test(cli, token_init_needs_a_pin_source, .init = cli_init, .fini = cli_fini)
{
    struct cli_run r;
    /* stdin is /dev/null: no prompt, so no PIN. */
    KF(&r, "token", "init", "--label", "nopin");
    cli_expect_fail(&r, 4, "--so-pin-file", "token init without PIN files");
    cli_run_free(&r);
    KF(&r, "token", "init", "--label", "0123456789abcdef0123456789abcdefX", "--so-pin-file",
       tok.so_pin_file, "--pin-file", tok.pin_file);
    cli_expect_fail(&r, 2, "longer than 32", "token init with a 33-byte label");
    cli_run_free(&r);
}

/* ---- key gen / list ---------------------------------------------------------------------- */

struct cli_type_case {
    const char *type;
    const char *alg;   /* algorithm in key list (kf_hsm_object_alg_name) */
    unsigned bits;     /* RSA modulus bits, 0 for curves */
    const char *curve; /* curve in key list, NULL for RSA */
};

static const struct cli_type_case cli_types[] = {
    { "rsa2048", "rsa", 2048, NULL },   { "rsa3072", "rsa", 3072, NULL },
    { "rsa4096", "rsa", 4096, NULL },   { "p256", "p256", 0, "prime256v1" },
    { "p384", "p384", 0, "secp384r1" }, { "ed25519", "ed25519", 0, "ED25519" },
    { "ed448", "ed448", 0, "ED448" },
};

Test(cli, key_gen_every_type_and_list, .init = cli_init, .fini = cli_fini)
{
    size_t ntypes = sizeof(cli_types) / sizeof(cli_types[0]);
    for (size_t i = 0; i < ntypes; i++) {
        char label[64];
        snprintf(label, sizeof(label), "k-%s", cli_types[i].type);
        cli_gen(cli_types[i].type, label);
    }
    struct cli_run r;
    KF(&r, "key", "gen", "--type", "p256", "--label", "with-id", "--id", "a1:b2c3", "--pin-file",
       tok.pin_file, tok.uri);
    cli_expect_ok(&r, "key gen --id");
    cr_assert_not_null(strstr(r.out, "id=%A1%B2%C3"), "key URI lacks the id: %s", r.out);
    cli_run_free(&r);

    struct json *doc = cli_key_list_json(tok.uri);
    cr_assert_eq(json_get(doc, "objects")->n, 2 * (ntypes + 1), "2 objects per key");
    for (size_t i = 0; i < ntypes; i++) {
        const struct cli_type_case *c = &cli_types[i];
        char label[64];
        snprintf(label, sizeof(label), "k-%s", c->type);
        const struct json *priv = cli_find_obj(doc, label, "private");
        const struct json *pub = cli_find_obj(doc, label, "public");
        cr_assert_not_null(priv, "no private object %s", label);
        cr_assert_not_null(pub, "no public object %s", label);
        static const char *const keys[] = { "class",       "algorithm", "bits",    "curve",
                                            "label",       "id",        "private", "sensitive",
                                            "extractable", "uri" };
        for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
            cr_assert_eq(json_key_count(priv, keys[k]), 1, "%s: key %s", label, keys[k]);
        }
        cr_assert_str_eq(json_get_str(priv, "algorithm"), c->alg, "%s", label);
        cr_assert_str_eq(json_get_str(pub, "algorithm"), c->alg, "%s", label);
        if (c->bits > 0) {
            const struct json *bits = json_get(priv, "bits");
            cr_assert(bits != NULL && bits->type == JSON_NUMBER, "%s bits", label);
            cr_assert_eq((unsigned)bits->number, c->bits, "%s bits %g", label, bits->number);
        } else {
            cr_assert_str_eq(json_get_str(priv, "curve"), c->curve, "%s", label);
        }
        cr_assert(cli_json_bool(priv, "private"), "%s", label);
        cr_assert(cli_json_bool(priv, "sensitive"), "%s", label);
        cr_assert_not(cli_json_bool(priv, "extractable"), "%s", label);
        const char *id = json_get_str(priv, "id");
        cr_assert(id != NULL && strlen(id) == 32, "%s: random id of 16 bytes, got %s", label, id);
        cr_assert_str_eq(json_get_str(pub, "id"), id, "%s: pair shares its id", label);
        const char *uri = json_get_str(priv, "uri");
        char want[96];
        snprintf(want, sizeof(want), "object=%s", label);
        cr_assert(uri != NULL && strstr(uri, want) != NULL && strstr(uri, "type=private"),
                  "%s: uri %s", label, uri);
    }
    const struct json *with_id = cli_find_obj(doc, "with-id", "private");
    cr_assert_not_null(with_id);
    cr_assert_str_eq(json_get_str(with_id, "id"), "a1b2c3");

    /* A URI key list printed is one keyfort accepts back. */
    char uri[1024];
    snprintf(uri, sizeof(uri), "%s", json_get_str(with_id, "uri"));
    json_free(doc);
    EVP_PKEY *pub = cli_pub(uri);
    cr_assert_eq(EVP_PKEY_get_base_id(pub), EVP_PKEY_EC);
    cr_assert_eq(EVP_PKEY_get_bits(pub), 256);
    EVP_PKEY_free(pub);

    /* Text listing: one entry per object, labels quoted, flags spelt out. */
    KF(&r, "key", "list", "--pin-file", tok.pin_file, tok.uri);
    cli_expect_ok(&r, "key list");
    cr_assert_not_null(strstr(r.out, "label=\"k-ed448\""), "key list: %s", r.out);
    cr_assert_not_null(strstr(r.out, "private,sensitive,not-extractable"), "%s", r.out);
    cr_assert_not_null(strstr(r.out, "rsa      4096"), "%s", r.out);
    cli_run_free(&r);
}

Test(cli, key_gen_takes_the_pin_from_the_uri_pin_source, .init = cli_init, .fini = cli_fini)
{
    struct cli_run r;
    KF(&r, "key", "gen", "--type", "ed25519", "--label", "via-source", tok.uri_with_pin);
    cli_expect_ok(&r, "key gen with pin-source");
    cli_run_free(&r);
    struct json *doc = cli_key_list_json(tok.uri);
    cr_assert_not_null(cli_find_obj(doc, "via-source", "private"));
    json_free(doc);
}

Test(cli, key_list_filters_by_uri, .init = cli_init, .fini = cli_fini)
{
    cli_gen("p256", "one");
    cli_gen("p256", "two");
    char uri[600];
    cli_obj_uri(uri, sizeof(uri), "two");
    struct json *doc = cli_key_list_json(uri);
    cr_assert_eq(json_get(doc, "objects")->n, 2);
    cr_assert_not_null(cli_find_obj(doc, "two", "public"));
    cr_assert_null(cli_find_obj(doc, "one", "public"));
    json_free(doc);
}

/* ---- key pub / sign ---------------------------------------------------------------------- */

struct cli_sign_case {
    char type[16];
    char digest[16]; /* "" = keyfort's default (sha256) or none for EdDSA */
    bool pss;
};

static struct cli_sign_case cli_sign_cases[] = {
    { "rsa2048", "", false },      { "rsa2048", "sha1", false }, { "rsa2048", "sha384", true },
    { "rsa3072", "sha512", true }, { "p256", "", false },        { "p256", "sha224", false },
    { "p384", "sha384", false },   { "ed25519", "", false },     { "ed448", "", false },
};

ParameterizedTestParameters(cli, sign_verifies_with_the_public_key)
{
    return cr_make_param_array(struct cli_sign_case, cli_sign_cases,
                               sizeof(cli_sign_cases) / sizeof(cli_sign_cases[0]));
}

ParameterizedTest(struct cli_sign_case *c, cli, sign_verifies_with_the_public_key, .init = cli_init,
                  .fini = cli_fini)
{
    cli_gen(c->type, "signer");
    char uri[600];
    cli_obj_uri(uri, sizeof(uri), "signer");
    EVP_PKEY *pub = cli_pub(uri);
    char msg_path[400];
    char sig_path[400];
    cli_path(msg_path, sizeof(msg_path), "msg.bin");
    cli_path(sig_path, sizeof(sig_path), "msg.sig");
    uint8_t msg[1000];
    cli_write_message(msg_path, msg, sizeof(msg));
    const char *digest = c->digest[0] != '\0' ? c->digest : NULL;
    cli_sign(uri, digest, c->pss, msg_path, sig_path);
    size_t sig_len;
    uint8_t *sig = cli_read_file(sig_path, &sig_len);
    bool eddsa = strncmp(c->type, "ed", 2) == 0;
    const char *verify_md = eddsa ? NULL : digest != NULL ? digest : "sha256";
    cr_assert_eq(cli_verify(pub, verify_md, c->pss, msg, sizeof(msg), sig, sig_len), 1,
                 "%s %s%s: signature does not verify", c->type, c->digest, c->pss ? " pss" : "");
    msg[10] ^= 1;
    cr_assert_eq(cli_verify(pub, verify_md, c->pss, msg, sizeof(msg), sig, sig_len), 0,
                 "a changed message verifies");
    if (!eddsa && c->type[0] == 'p') {
        cr_assert_eq(sig[0], 0x30, "ECDSA signature is not a DER SEQUENCE");
    }
    free(sig);
    EVP_PKEY_free(pub);
}

/* The commands docs/cli.md gives, run as written; stdin/stdout signing too. */
Test(cli, sign_output_verifies_with_the_openssl_command, .init = cli_init, .fini = cli_fini)
{
    char msg_path[400];
    char sig_path[400];
    char pub_path[400];
    cli_path(msg_path, sizeof(msg_path), "msg.bin");
    cli_path(sig_path, sizeof(sig_path), "msg.sig");
    cli_path(pub_path, sizeof(pub_path), "pub.pem");
    uint8_t msg[300];
    cli_write_message(msg_path, msg, sizeof(msg));
    static const char *const types[] = { "p256", "rsa2048", "ed25519" };
    for (size_t i = 0; i < 3; i++) {
        cli_gen(types[i], types[i]);
        char uri[600];
        cli_obj_uri(uri, sizeof(uri), types[i]);
        struct cli_run r;
        KF(&r, "key", "pub", "--pin-file", tok.pin_file, uri);
        cli_expect_ok(&r, "key pub");
        cli_write_file(pub_path, r.out, r.out_len);
        cli_run_free(&r);
        bool rsa = strcmp(types[i], "rsa2048") == 0;
        /* Message on stdin, signature on stdout. */
        if (rsa) {
            KF_IN(&r, msg_path, "key", "sign", "--pss", "--pin-file", tok.pin_file, uri);
        } else {
            KF_IN(&r, msg_path, "key", "sign", "--pin-file", tok.pin_file, uri);
        }
        cli_expect_ok(&r, "key sign (stdin to stdout)");
        cli_write_file(sig_path, r.out, r.out_len);
        cli_run_free(&r);
        const char *ossl_dgst[] = { "openssl",    "dgst",   "-sha256", "-verify", pub_path,
                                    "-signature", sig_path, msg_path,  NULL };
        const char *ossl_pss[] = { "openssl",
                                   "dgst",
                                   "-sha256",
                                   "-verify",
                                   pub_path,
                                   "-sigopt",
                                   "rsa_padding_mode:pss",
                                   "-sigopt",
                                   "rsa_pss_saltlen:digest",
                                   "-signature",
                                   sig_path,
                                   msg_path,
                                   NULL };
        const char *ossl_ed[] = { "openssl", "pkeyutl", "-verify", "-pubin",   "-inkey", pub_path,
                                  "-rawin",  "-in",     msg_path,  "-sigfile", sig_path, NULL };
        const char *const *cmd = rsa                                ? ossl_pss
                                 : strcmp(types[i], "ed25519") == 0 ? ossl_ed
                                                                    : ossl_dgst;
        cli_spawn(cmd, NULL, &r);
        cr_assert_eq(r.code, 0, "openssl rejects the %s signature: %s%s", types[i], r.out, r.err);
        cli_run_free(&r);
        /* The same command must reject a changed message. */
        msg[0] ^= 0x80;
        cli_write_file(msg_path, msg, sizeof(msg));
        cli_spawn(cmd, NULL, &r);
        cr_assert_neq(r.code, 0, "openssl accepts a changed message for %s", types[i]);
        cli_run_free(&r);
        msg[0] ^= 0x80;
        cli_write_file(msg_path, msg, sizeof(msg));
    }
}

Test(cli, sign_refuses_options_that_do_not_fit_the_key, .init = cli_init, .fini = cli_fini)
{
    cli_gen("p256", "ec");
    cli_gen("ed25519", "ed");
    char msg_path[400];
    cli_path(msg_path, sizeof(msg_path), "msg.bin");
    uint8_t msg[16];
    cli_write_message(msg_path, msg, sizeof(msg));
    char uri[600];
    cli_obj_uri(uri, sizeof(uri), "ec");
    struct cli_run r;
    KF(&r, "key", "sign", "--pss", "--in", msg_path, "--pin-file", tok.pin_file, uri);
    cli_expect_fail(&r, 2, "--pss", "--pss on an EC key");
    cli_run_free(&r);
    cli_obj_uri(uri, sizeof(uri), "ed");
    KF(&r, "key", "sign", "--digest", "sha256", "--in", msg_path, "--pin-file", tok.pin_file, uri);
    cli_expect_fail(&r, 2, "--digest", "--digest on an EdDSA key");
    cli_run_free(&r);
}

/* ---- key delete -------------------------------------------------------------------------- */

Test(cli, key_delete_removes_the_pair, .init = cli_init, .fini = cli_fini)
{
    cli_gen("p256", "doomed");
    cli_gen("p256", "kept");
    char uri[600];
    cli_obj_uri(uri, sizeof(uri), "doomed");
    struct cli_run r;
    KF(&r, "key", "delete", "--pin-file", tok.pin_file, uri);
    cli_expect_ok(&r, "key delete");
    cr_assert_str_eq(r.out, "deleted 2 objects\n");
    cli_run_free(&r);
    struct json *doc = cli_key_list_json(tok.uri);
    cr_assert_null(cli_find_obj(doc, "doomed", "private"), "deleted key still listed");
    cr_assert_null(cli_find_obj(doc, "doomed", "public"), "deleted key still listed");
    cr_assert_not_null(cli_find_obj(doc, "kept", "private"), "the other key went too");
    json_free(doc);
    KF(&r, "key", "list", "--pin-file", tok.pin_file, tok.uri);
    cli_expect_ok(&r, "key list");
    cr_assert_null(strstr(r.out, "doomed"), "%s", r.out);
    cr_assert_not_null(strstr(r.out, "kept"), "%s", r.out);
    cli_run_free(&r);
    /* Gone: a second delete finds nothing. */
    KF(&r, "key", "delete", "--pin-file", tok.pin_file, uri);
    cli_expect_fail(&r, 4, "doomed", "second delete");
    cli_run_free(&r);
}

/* ---- key import -------------------------------------------------------------------------- */

struct cli_import_case {
    char alg[16];
    char param[16];
    char type_name[16]; /* for the message */
};

static struct cli_import_case cli_import_cases[] = {
    { "RSA", "2048", "rsa2048" },
    { "EC", "P-256", "p256" },
    { "ED25519", "", "ed25519" },
};

ParameterizedTestParameters(cli, import_then_sign_verifies_with_the_original)
{
    return cr_make_param_array(struct cli_import_case, cli_import_cases,
                               sizeof(cli_import_cases) / sizeof(cli_import_cases[0]));
}

static EVP_PKEY *cli_make_key(const struct cli_import_case *c)
{
    EVP_PKEY *k = NULL;
    if (strcmp(c->alg, "RSA") == 0) {
        k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    } else if (strcmp(c->alg, "EC") == 0) {
        k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", c->param);
    } else {
        k = EVP_PKEY_Q_keygen(NULL, NULL, c->alg);
    }
    cr_assert_not_null(k, "OpenSSL keygen %s", c->type_name);
    return k;
}

ParameterizedTest(struct cli_import_case *c, cli, import_then_sign_verifies_with_the_original,
                  .init = cli_init, .fini = cli_fini)
{
    EVP_PKEY *orig = cli_make_key(c);
    char pem_path[400];
    cli_path(pem_path, sizeof(pem_path), "imported-key.pem");
    FILE *f = fopen(pem_path, "w");
    cr_assert_not_null(f);
    cr_assert_eq(PEM_write_PrivateKey(f, orig, NULL, NULL, 0, NULL, NULL), 1);
    cr_assert_eq(fclose(f), 0);

    struct cli_run r;
    KF(&r, "key", "import", "--label", "imp", "--id", "0102", "--pin-file", tok.pin_file, pem_path,
       tok.uri);
    cli_expect_ok(&r, "key import");
    cr_assert_not_null(strstr(r.out, "object=imp"), "key import printed: %s", r.out);
    cli_run_free(&r);

    struct json *doc = cli_key_list_json(tok.uri);
    const struct json *priv = cli_find_obj(doc, "imp", "private");
    cr_assert_not_null(priv, "imported private key not listed");
    cr_assert_not_null(cli_find_obj(doc, "imp", "public"), "imported public key not listed");
    cr_assert(cli_json_bool(priv, "sensitive"));
    cr_assert_not(cli_json_bool(priv, "extractable"));
    cr_assert_str_eq(json_get_str(priv, "id"), "0102");
    json_free(doc);

    char uri[600];
    cli_obj_uri(uri, sizeof(uri), "imp");
    EVP_PKEY *pub = cli_pub(uri);
    cr_assert_eq(EVP_PKEY_eq(pub, orig), 1, "key pub differs from the imported key");
    EVP_PKEY_free(pub);

    char msg_path[400];
    char sig_path[400];
    cli_path(msg_path, sizeof(msg_path), "msg.bin");
    cli_path(sig_path, sizeof(sig_path), "msg.sig");
    uint8_t msg[500];
    cli_write_message(msg_path, msg, sizeof(msg));
    bool eddsa = strcmp(c->alg, "ED25519") == 0;
    cli_sign(uri, eddsa ? NULL : "sha384", false, msg_path, sig_path);
    size_t sig_len;
    uint8_t *sig = cli_read_file(sig_path, &sig_len);
    cr_assert_eq(cli_verify(orig, eddsa ? NULL : "sha384", false, msg, sizeof(msg), sig, sig_len),
                 1, "%s: signature of the imported key does not verify", c->type_name);
    free(sig);
    EVP_PKEY_free(orig);
}

Test(cli, import_defaults_the_label_and_refuses_a_bad_file, .init = cli_init, .fini = cli_fini)
{
    struct cli_import_case c = { "EC", "P-384", "p384" };
    EVP_PKEY *k = cli_make_key(&c);
    char pem_path[400];
    cli_path(pem_path, sizeof(pem_path), "zone-ksk.pem");
    FILE *f = fopen(pem_path, "w");
    cr_assert_not_null(f);
    cr_assert_eq(PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL), 1);
    cr_assert_eq(fclose(f), 0);
    EVP_PKEY_free(k);
    struct cli_run r;
    KF(&r, "key", "import", "--pin-file", tok.pin_file, pem_path, tok.uri);
    cli_expect_ok(&r, "key import without --label");
    cr_assert_not_null(strstr(r.out, "object=zone-ksk"), "default label: %s", r.out);
    cli_run_free(&r);

    char bad_path[400];
    cli_path(bad_path, sizeof(bad_path), "garbage.pem");
    static const char garbage[] = "-----BEGIN PRIVATE KEY-----\nnot base64 at all\n"
                                  "-----END PRIVATE KEY-----\n";
    cli_write_file(bad_path, garbage, sizeof(garbage) - 1);
    KF(&r, "key", "import", "--pin-file", tok.pin_file, bad_path, tok.uri);
    cli_expect_fail(&r, 3, "garbage.pem", "import of a bad key file");
    cli_run_free(&r);
}

/* ---- bad invocations --------------------------------------------------------------------- */

/* Arrays, not pointers: Criterion hands parameters to a new process, where only bytes
 * inside the parameter survive. */
struct cli_bad_case {
    char args[14][64]; /* "@URI", "@PINFILE", "@BADPIN", "@SECRET" are replaced */
    int code;
    char needle[48]; /* must appear in stderr */
};

static struct cli_bad_case cli_bad_cases[] = {
    { { "frob" }, 2, "unknown command 'frob'" },
    { { "--frob=1" }, 2, "unknown option '--frob'" },
    { { "key", "frob" }, 2, "unknown subcommand 'frob'" },
    { { "token" }, 2, "missing subcommand" },
    { { "key", "gen", "--label", "k", "--pin-file", "@PINFILE", "@URI" }, 2, "--type" },
    { { "key", "gen", "--type", "p256", "--pin-file", "@PINFILE", "@URI" }, 2, "--label" },
    { { "key", "gen", "--type", "rsa1024", "--label", "k", "--pin-file", "@PINFILE", "@URI" },
      2,
      "rsa1024" },
    { { "key", "gen", "--type", "p256", "--label", "k", "--json", "@URI" }, 2, "--json" },
    { { "key", "pub", "--pin-file", "@PINFILE" }, 2, "missing argument" },
    { { "key", "gen", "--label" }, 2, "'--label' needs a value" },
    { { "key", "list", "--bogus", "@URI" }, 2, "unknown option '--bogus'" },
    { { "key", "list", "--pin-fil", "@PINFILE", "@URI" }, 2, "unknown option '--pin-fil'" },
    { { "key", "list", "--pin-file", "@PINFILE", "@URI", "extra" }, 2, "'extra'" },
    { { "key", "list", "--pin=@SECRET", "@URI" }, 2, "no --pin option" },
    { { "key", "list", "--pin", "@SECRET", "@URI" }, 2, "no --pin option" },
    { { "key", "list", "@URI?pin-value=@SECRET" }, 2, "URI with pin-value" },
    { { "key", "pub", "@URI;object=k?pin-value=@SECRET&module-name=x" }, 2, "URI with pin-value" },
    { { "key", "delete", "--pin-file", "@PINFILE", "@URI" }, 2, "names no object" },
    { { "key", "sign", "--digest", "md5", "--pin-file", "@PINFILE", "@URI;object=k" },
      2,
      "unknown digest 'md5'" },
    { { "key", "list", "--pin-file", "@PINFILE", "https://example.org/key" }, 3, "scheme 'https'" },
    { { "key", "list", "--pin-file", "@PINFILE", "@URI;id=%zz" }, 3, "attribute 'id'" },
    { { "key", "list", "--pin-file", "@PINFILE", "@URI;colour=blue" }, 3, "attribute 'colour'" },
    { { "key", "gen", "--type", "p256", "--label", "k", "--id", "a1b", "--pin-file", "@PINFILE",
        "@URI" },
      3,
      "--id" },
    { { "key", "gen", "--type", "p256", "--label", "k", "--pin-file", "@BADPIN", "@URI" },
      4,
      "CKR_PIN_INCORRECT" },
    { { "key", "list", "--pin-file", "@BADPIN", "@URI" }, 4, "CKR_PIN_INCORRECT" },
    { { "key", "pub", "--pin-file", "@PINFILE", "@URI;object=nope" }, 4, "object=nope" },
    { { "key", "delete", "--pin-file", "@PINFILE", "@URI;object=nope" }, 4, "object=nope" },
    { { "key", "gen", "--type", "p256", "--label", "k", "--module", "/nonexistent/p11.so",
        "--pin-file", "@PINFILE", "@URI" },
      4,
      "/nonexistent/p11.so" },
    { { "key", "list", "--pin-file", "@PINFILE", "pkcs11:token=no-such-token" },
      4,
      "no initialised token" },
    { { "key", "list", "--pin-file", "/nonexistent/user.pin", "@URI" }, 6, "/nonexistent" },
    { { "key", "sign", "--in", "/dev/null", "@URI;object=k" }, 4, "--pin-file" },
};

ParameterizedTestParameters(cli, bad_invocation)
{
    return cr_make_param_array(struct cli_bad_case, cli_bad_cases,
                               sizeof(cli_bad_cases) / sizeof(cli_bad_cases[0]));
}

/* Replace every placeholder in @p in. */
static void cli_expand(const char *in, char *out, size_t cap)
{
    const struct {
        const char *name;
        const char *value;
    } subst[] = {
        { "@URI", tok.uri },
        { "@PINFILE", tok.pin_file },
        { "@BADPIN", tok.bad_pin_file },
        { "@SECRET", KF_TEST_USER_PIN },
    };
    size_t o = 0;
    while (*in != '\0') {
        bool done = false;
        for (size_t s = 0; s < sizeof(subst) / sizeof(subst[0]) && !done; s++) {
            size_t n = strlen(subst[s].name);
            if (strncmp(in, subst[s].name, n) == 0) {
                size_t v = strlen(subst[s].value);
                cr_assert_lt(o + v, cap);
                memcpy(out + o, subst[s].value, v);
                o += v;
                in += n;
                done = true;
            }
        }
        if (!done) {
            cr_assert_lt(o + 1, cap);
            out[o++] = *in++;
        }
    }
    out[o] = '\0';
}

ParameterizedTest(const struct cli_bad_case *c, cli, bad_invocation, .init = cli_init,
                  .fini = cli_fini)
{
    /* A key named "k" exists, so that "k" failing is the invocation's fault. */
    cli_gen("p256", "k");
    static char expanded[14][1024];
    const char *argv[16] = { KEYFORT_BIN };
    size_t n = 1;
    for (size_t i = 0; i < 14 && c->args[i][0] != '\0'; i++) {
        cli_expand(c->args[i], expanded[i], sizeof(expanded[i]));
        argv[n++] = expanded[i];
    }
    argv[n] = NULL;
    struct cli_run r;
    cli_spawn(argv, NULL, &r);
    cli_expect_fail(&r, c->code, c->needle, c->args[0]);
    if (c->code == 2) {
        cr_assert_not_null(strstr(r.err, "--help'"), "a usage error points to --help: %s", r.err);
    }
    cli_run_free(&r);
}
