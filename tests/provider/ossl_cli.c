/* tests/provider/ossl_cli.c - helpers shared by the provider tests (ossl_cli.h). */
#include "tests/provider/ossl_cli.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/store.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef KEYFORT_BIN
#error "KEYFORT_BIN must name the keyfort binary (tests/provider/CMakeLists.txt)"
#endif
#ifndef KEYFORT_PROVIDER_DIR
#error "KEYFORT_PROVIDER_DIR must name the directory of keyfort.so (tests/provider/CMakeLists.txt)"
#endif

extern char **environ;

struct kf_test_token tok;

void prov_init(void)
{
    kf_test_token_setup(&tok, KF_TEST_TOKEN_LABEL);
    /* "-provider keyfort" is looked up by name in OPENSSL_MODULES. */
    setenv("OPENSSL_MODULES", KEYFORT_PROVIDER_DIR, 1);
    /* The system openssl.cnf, unless a test writes its own. */
    unsetenv("OPENSSL_CONF");
}

void prov_fini(void)
{
    kf_test_token_teardown(&tok);
}

/* ---- provider orders --------------------------------------------------------------------- */

static const char *const prov_order_args[2][4] = {
    { "-provider", "keyfort", "-provider", "default" },
    { "-provider", "default", "-provider", "keyfort" },
};

/* ---- running a process ------------------------------------------------------------------- */

void args_add(struct args *a, const char *s)
{
    cr_assert_lt(a->n, (size_t)ARGS_MAX, "too many arguments");
    a->v[a->n++] = s;
    a->v[a->n] = NULL;
}

void args_add_va(struct args *a, va_list ap)
{
    const char *s;
    while ((s = va_arg(ap, const char *)) != NULL) {
        args_add(a, s);
    }
}

void args_add_list(struct args *a, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        args_add(a, list[i]);
    }
}

/* "openssl CMD [-provider X -provider Y]" */
void args_openssl(struct args *a, const char *cmd, enum prov_order order)
{
    *a = (struct args){ 0 };
    args_add(a, "openssl");
    args_add(a, cmd);
    if (order != ORDER_NONE) {
        args_add_list(a, prov_order_args[order], 4);
    }
}

void run_free(struct run *r)
{
    free(r->out);
    free(r->err);
    *r = (struct run){ 0 };
}

void buf_append(char **buf, size_t *len, const char *p, size_t n)
{
    char *nb = realloc(*buf, *len + n + 1);
    cr_assert_not_null(nb);
    memcpy(nb + *len, p, n);
    *len += n;
    nb[*len] = '\0';
    *buf = nb;
}

void run_describe(const struct args *a, char *what, size_t cap)
{
    size_t used = 0;
    what[0] = '\0';
    for (size_t i = 0; i < a->n && used + 1 < cap; i++) {
        int w = snprintf(what + used, cap - used, "%s%s", i > 0 ? " " : "", a->v[i]);
        if (w < 0) {
            break;
        }
        used += (size_t)w;
    }
}

/* snprintf that fails the test instead of truncating. */
void fmt(char *buf, size_t cap, const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    int n = vsnprintf(buf, cap, f, ap);
    va_end(ap);
    cr_assert(n >= 0 && (size_t)n < cap, "%zu bytes are too few for \"%s\"", cap, f);
}

double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

bool has_bytes(const char *hay, size_t hay_len, const char *needle)
{
    return memmem(hay, hay_len, needle, strlen(needle)) != NULL;
}

void assert_no_pin(const char *buf, size_t len, const char *stream, const char *what)
{
    static const char *const pins[] = { KF_TEST_USER_PIN, KF_TEST_SO_PIN };
    for (size_t i = 0; i < sizeof(pins) / sizeof(pins[0]); i++) {
        cr_assert(!has_bytes(buf, len, pins[i]), "%s: a test PIN is on %s:\n%s", what, stream, buf);
    }
}

/* Wait for @p pid until @p deadline (monotonic seconds); SIGKILL it after. */
int wait_deadline(pid_t pid, double deadline, bool *out_timed_out)
{
    int status = 0;
    *out_timed_out = false;
    for (;;) {
        pid_t got = waitpid(pid, &status, WNOHANG);
        if (got == pid) {
            return status;
        }
        cr_assert(got == 0 || (got < 0 && errno == EINTR), "waitpid: %s", strerror(errno));
        if (now_s() >= deadline) {
            *out_timed_out = true;
            kill(pid, SIGKILL);
            cr_assert_eq(waitpid(pid, &status, 0), pid);
            return status;
        }
        nanosleep(&(struct timespec){ .tv_nsec = 10 * 1000 * 1000 }, NULL);
    }
}

/* Run a->v (looked up in PATH) with stdin from @p stdin_path or /dev/null, collecting stdout
 * and stderr; killed after RUN_DEADLINE_S. */
void run_args(const struct args *a, const char *stdin_path, struct run *r)
{
    *r = (struct run){ 0 };
    run_describe(a, r->what, sizeof(r->what));
    buf_append(&r->out, &r->out_len, "", 0);
    buf_append(&r->err, &r->err_len, "", 0);
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
    char *const *argv; /* posix_spawn's prototype predates const; it does not write argv */
    const char *const *cargv = a->v;
    memcpy(&argv, &cargv, sizeof(argv));
    pid_t pid;
    int rc = posix_spawnp(&pid, a->v[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    cr_assert_eq(rc, 0, "posix_spawnp %s: %s", a->v[0], strerror(rc));
    close(out_pipe[1]);
    close(err_pipe[1]);
    double deadline = now_s() + RUN_DEADLINE_S;
    struct pollfd fds[2] = { { .fd = out_pipe[0], .events = POLLIN },
                             { .fd = err_pipe[0], .events = POLLIN } };
    int open_fds = 2;
    while (open_fds > 0) {
        int left_ms = (int)((deadline - now_s()) * 1000);
        if (left_ms <= 0) {
            break; /* wait_deadline kills it */
        }
        int n = poll(fds, 2, left_ms);
        if (n <= 0) {
            continue; /* EINTR, or the deadline: checked above */
        }
        for (int i = 0; i < 2; i++) {
            if (fds[i].fd < 0 || fds[i].revents == 0) {
                continue;
            }
            char chunk[4096];
            ssize_t got = read(fds[i].fd, chunk, sizeof(chunk));
            if (got > 0) {
                if (i == 0) {
                    buf_append(&r->out, &r->out_len, chunk, (size_t)got);
                } else {
                    buf_append(&r->err, &r->err_len, chunk, (size_t)got);
                }
                continue;
            }
            close(fds[i].fd);
            fds[i].fd = -1;
            open_fds--;
        }
    }
    r->status = wait_deadline(pid, deadline, &r->timed_out);
    for (int i = 0; i < 2; i++) {
        if (fds[i].fd >= 0) {
            close(fds[i].fd);
        }
    }
    assert_no_pin(r->out, r->out_len, "stdout", r->what);
    assert_no_pin(r->err, r->err_len, "stderr", r->what);
}

/* openssl CMD with the providers in @p order, then the NULL-terminated arguments. */
void ossl_in(struct run *r, const char *stdin_path, enum prov_order order, const char *cmd, ...)
{
    struct args a;
    args_openssl(&a, cmd, order);
    va_list ap;
    va_start(ap, cmd);
    args_add_va(&a, ap);
    va_end(ap);
    run_args(&a, stdin_path, r);
}

void keyfort_run(struct run *r, ...)
{
    struct args a = { 0 };
    args_add(&a, KEYFORT_BIN);
    va_list ap;
    va_start(ap, r);
    args_add_va(&a, ap);
    va_end(ap);
    run_args(&a, NULL, r);
}

/* Exited by itself with status 0: no signal, no crash at exit, no hang. */
void expect_ok(const struct run *r)
{
    cr_assert(!r->timed_out, "%s: still running after %d s, killed; stderr:\n%s", r->what,
              RUN_DEADLINE_S, r->err);
    cr_assert(WIFEXITED(r->status), "%s: killed by signal %d; stderr:\n%s", r->what,
              WIFSIGNALED(r->status) ? WTERMSIG(r->status) : -1, r->err);
    cr_assert_eq(WEXITSTATUS(r->status), 0, "%s: exit %d; stderr:\n%s", r->what,
                 WEXITSTATUS(r->status), r->err);
}

/* Exited by itself with a non-zero status (a refusal, not a crash). */
void expect_refused(const struct run *r)
{
    cr_assert(!r->timed_out, "%s: still running after %d s, killed", r->what, RUN_DEADLINE_S);
    cr_assert(WIFEXITED(r->status), "%s: killed by signal %d; stderr:\n%s", r->what,
              WIFSIGNALED(r->status) ? WTERMSIG(r->status) : -1, r->err);
    cr_assert_neq(WEXITSTATUS(r->status), 0, "%s: exit 0, expected a failure; stdout:\n%s", r->what,
                  r->out);
}

void expect_in(const char *buf, size_t len, const char *needle, const char *stream,
               const char *what)
{
    cr_assert(has_bytes(buf, len, needle), "%s: '%s' not on %s:\n%s", what, needle, stream, buf);
}

/* An error-queue line raised by keyfort ("...:error:<code>:keyfort:<function>:...") that
 * contains @p needle: openssl echoes its own arguments on failure, so a URI anywhere on stderr
 * would prove nothing. */
void expect_keyfort_error(const struct run *r, const char *needle)
{
    const char *line = r->err;
    while (*line != '\0') {
        size_t n = strcspn(line, "\n");
        const char *lib = memmem(line, n, ":keyfort:", 9);
        if (lib != NULL && memmem(lib, n - (size_t)(lib - line), needle, strlen(needle)) != NULL) {
            return;
        }
        line += n + (line[n] == '\n');
    }
    cr_assert_fail("%s: no keyfort error line with '%s' on stderr:\n%s", r->what, needle, r->err);
}

/* ---- files, keys and URIs ---------------------------------------------------------------- */

void tmp_path(char *buf, size_t cap, const char *name)
{
    fmt(buf, cap, "%s/%s", tok.dir, name);
}

void write_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "%s: %s", path, strerror(errno));
    cr_assert_eq(fwrite(p, 1, n, f), n);
    cr_assert_eq(fclose(f), 0);
}

uint8_t *read_file(const char *path, size_t *out_len)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s: %s", path, strerror(errno));
    uint8_t *buf = malloc(1);
    cr_assert_not_null(buf);
    size_t len = 0;
    uint8_t chunk[4096];
    size_t got;
    while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        buf = realloc(buf, len + got + 1);
        cr_assert_not_null(buf);
        memcpy(buf + len, chunk, got);
        len += got;
    }
    fclose(f);
    buf[len] = '\0';
    *out_len = len;
    return buf;
}

/* Copy @p from to @p to with the byte at @p at flipped. */
void write_tampered(const char *from, const char *to, size_t at)
{
    size_t len = 0;
    uint8_t *b = read_file(from, &len);
    cr_assert_lt(at, len);
    b[at] ^= 0x01;
    write_file(to, b, len);
    free(b);
}

/* A 1000-byte message with every byte value, so any text-mode mangling would show. */
void write_message(const char *path)
{
    uint8_t msg[1000];
    for (size_t i = 0; i < sizeof(msg); i++) {
        msg[i] = (uint8_t)(i * 7 + 3);
    }
    write_file(path, msg, sizeof(msg));
}

/* The digest of a file, computed here (not by openssl or keyfort). */
void write_digest(const char *msg_path, const char *digest, const char *out_path)
{
    size_t len = 0;
    uint8_t *msg = read_file(msg_path, &len);
    const EVP_MD *md = EVP_get_digestbyname(digest);
    cr_assert_not_null(md, "digest %s", digest);
    uint8_t d[EVP_MAX_MD_SIZE];
    unsigned dlen = 0;
    cr_assert_eq(EVP_Digest(msg, len, d, &dlen, md, NULL), 1);
    write_file(out_path, d, dlen);
    free(msg);
}

/* Generate a key pair on the token with the keyfort command. */
void gen_key(const char *type, const char *label)
{
    struct run r;
    KEYFORT(&r, "key", "gen", "--type", type, "--label", label, "--pin-file", tok.pin_file,
            tok.uri);
    expect_ok(&r);
    cr_assert_eq(strncmp(r.out, "pkcs11:", 7), 0, "key gen printed: %s", r.out);
    run_free(&r);
}

/* The private key's URI, PIN from a file named in the URI. */
void key_uri(char *buf, size_t cap, const char *label)
{
    fmt(buf, cap, "%s;object=%s;type=private?pin-source=%s", tok.uri, label, tok.pin_file);
}

/* `openssl pkey -pubout` from the URI into @p pub_path; it must be exactly what
 * `keyfort key pub` prints for the same key. */
void export_pub(enum prov_order order, const char *uri, const char *label, const char *pub_path)
{
    struct run r;
    OSSL(&r, order, "pkey", "-in", uri, "-pubout", "-out", pub_path);
    expect_ok(&r);
    run_free(&r);

    char kf_uri[600];
    fmt(kf_uri, sizeof(kf_uri), "%s;object=%s", tok.uri, label);
    KEYFORT(&r, "key", "pub", "--pin-file", tok.pin_file, kf_uri);
    expect_ok(&r);
    size_t len = 0;
    uint8_t *pem = read_file(pub_path, &len);
    cr_assert_eq(strncmp((const char *)pem, "-----BEGIN PUBLIC KEY-----\n", 27), 0,
                 "pkey -pubout wrote: %s", pem);
    cr_assert(len == r.out_len && memcmp(pem, r.out, len) == 0,
              "openssl pkey -pubout:\n%s\ndiffers from keyfort key pub:\n%s", pem, r.out);
    free(pem);
    run_free(&r);
}

size_t file_size(const char *path)
{
    size_t len = 0;
    free(read_file(path, &len));
    return len;
}

/* ---- s_server ---------------------------------------------------------------------------- */

/* A port nothing listens on right now (the kernel's pick for port 0). */
unsigned free_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    cr_assert_geq(s, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = 0 };
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0, "bind: %s", strerror(errno));
    socklen_t len = sizeof(sa);
    cr_assert_eq(getsockname(s, (struct sockaddr *)&sa, &len), 0);
    close(s);
    return ntohs(sa.sin_port);
}

/* Start s_server; true once it prints ACCEPT, false when it exits because the port was taken
 * (the caller retries with another port). Anything else fails the test. */
bool server_start(enum prov_order order, const char *cert, const char *uri, unsigned port,
                  struct server *s)
{
    char accept[64];
    fmt(accept, sizeof(accept), "127.0.0.1:%u", port);
    struct args a;
    args_openssl(&a, "s_server", order);
    ARGS_ADD_LIST(&a, "-accept", accept, "-cert", cert, "-key", uri, "-www", "-naccept", "1");
    return server_spawn(&a, s);
}

bool server_spawn(const struct args *a_in, struct server *s)
{
    const struct args a = *a_in;
    run_describe(&a, s->what, sizeof(s->what));
    tmp_path(s->out_path, sizeof(s->out_path), "s_server.out");
    tmp_path(s->err_path, sizeof(s->err_path), "s_server.err");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, s->out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&fa, 2, s->err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    char *const *argv;
    const char *const *cargv = a.v;
    memcpy(&argv, &cargv, sizeof(argv));
    int rc = posix_spawnp(&s->pid, a.v[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    cr_assert_eq(rc, 0, "posix_spawnp %s: %s", a.v[0], strerror(rc));

    double deadline = now_s() + RUN_DEADLINE_S;
    for (;;) {
        size_t len = 0;
        uint8_t *out = read_file(s->out_path, &len);
        bool ready = has_bytes((const char *)out, len, "ACCEPT");
        free(out);
        if (ready) {
            return true;
        }
        int status = 0;
        pid_t got = waitpid(s->pid, &status, WNOHANG);
        if (got == s->pid) {
            uint8_t *err = read_file(s->err_path, &len);
            bool taken = has_bytes((const char *)err, len, "in use");
            cr_assert(taken, "%s: exited (status 0x%x) before accepting; stderr:\n%s", s->what,
                      status, err);
            free(err);
            return false;
        }
        if (now_s() >= deadline) {
            kill(s->pid, SIGKILL);
            waitpid(s->pid, &status, 0);
            cr_assert_fail("%s: not accepting after %d s, killed", s->what, RUN_DEADLINE_S);
        }
        nanosleep(&(struct timespec){ .tv_nsec = 20 * 1000 * 1000 }, NULL);
    }
}

/* -naccept 1: the server exits by itself after the one connection; its status and output go
 * to @p out (checked by the caller, after the client's). */
void server_finish(struct server *s, struct run *out)
{
    *out = (struct run){ 0 };
    out->status = wait_deadline(s->pid, now_s() + RUN_DEADLINE_S, &out->timed_out);
    out->out = (char *)read_file(s->out_path, &out->out_len);
    out->err = (char *)read_file(s->err_path, &out->err_len);
    fmt(out->what, sizeof(out->what), "%s", s->what);
    assert_no_pin(out->out, out->out_len, "stdout", out->what);
    assert_no_pin(out->err, out->err_len, "stderr", out->what);
}

/* ---- in-process OpenSSL ------------------------------------------------------------------- */

/* The error queue holds a keyfort error; returns its text (static buffer). */
const char *kf_test_keyfort_error(void)
{
    static char text[1024];
    text[0] = '\0';
    unsigned long e;
    const char *data = NULL;
    int flags = 0;
    bool found = false;
    while ((e = ERR_get_error_all(NULL, NULL, NULL, &data, &flags)) != 0) {
        const char *lib = ERR_lib_error_string(e);
        if (lib != NULL && strcmp(lib, "keyfort") == 0 && !found) {
            snprintf(text, sizeof(text), "%s: %s", ERR_reason_error_string(e),
                     (flags & ERR_TXT_STRING) && data != NULL ? data : "");
            found = true;
        }
    }
    return found ? text : NULL;
}

OSSL_LIB_CTX *kf_test_keyfort_libctx(const char *module, const char *cnf_name)
{
    char cnf[400];
    tmp_path(cnf, sizeof(cnf), cnf_name);
    char text[2048];
    fmt(text, sizeof(text),
        "openssl_conf = openssl_init\n[openssl_init]\nproviders = provider_sect\n"
        "[provider_sect]\nkeyfort = keyfort_sect\ndefault = default_sect\n"
        "[default_sect]\nactivate = 1\n"
        "[keyfort_sect]\nmodule = %s/keyfort.so\npkcs11-module = %s\n"
        "pkcs11-pin-source = %s\nactivate = 1\n",
        KEYFORT_PROVIDER_DIR, module, tok.pin_file);
    write_file(cnf, text, strlen(text));
    OSSL_LIB_CTX *lib = OSSL_LIB_CTX_new();
    cr_assert_not_null(lib);
    cr_assert_eq(OSSL_LIB_CTX_load_config(lib, cnf), 1, "loading %s", cnf);
    return lib;
}

EVP_PKEY *kf_test_store_key(OSSL_LIB_CTX *lib, const char *uri)
{
    OSSL_STORE_CTX *st = OSSL_STORE_open_ex(uri, lib, NULL, NULL, NULL, NULL, NULL, NULL);
    cr_assert_not_null(st, "store open %s", uri);
    EVP_PKEY *key = NULL;
    while (key == NULL && !OSSL_STORE_eof(st)) {
        OSSL_STORE_INFO *info = OSSL_STORE_load(st);
        if (info != NULL && OSSL_STORE_INFO_get_type(info) == OSSL_STORE_INFO_PKEY) {
            key = OSSL_STORE_INFO_get1_PKEY(info);
        }
        OSSL_STORE_INFO_free(info);
    }
    OSSL_STORE_close(st);
    cr_assert_not_null(key, "no private key at %s", uri);
    return key;
}
