/* tests/provider/ossl_cli.h - running the openssl and keyfort commands from provider tests.
 *
 * Each test gets a fresh SoftHSM2 token (tests/hsm/token_fixture.h, in `tok`), makes its keys
 * with the keyfort command (KEYFORT_BIN), and runs the openssl in PATH with OPENSSL_MODULES
 * pointing at the freshly built keyfort.so (KEYFORT_PROVIDER_DIR). Every process must exit by
 * itself within RUN_DEADLINE_S with the expected status (a signal, a crash at exit or a hang
 * fails the test), and no output of any process may contain a test PIN. */
#ifndef KF_TESTS_PROVIDER_OSSL_CLI_H
#define KF_TESTS_PROVIDER_OSSL_CLI_H

#include "tests/hsm/token_fixture.h"

#include <openssl/evp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

extern struct kf_test_token tok;

/* Longest any one process may run; generous for 2 shared cores, short enough for ctest. */
#define RUN_DEADLINE_S 60

enum prov_order {
    ORDER_KEYFORT_FIRST = 0,
    ORDER_DEFAULT_FIRST,
    ORDER_NONE, /* openssl without keyfort: the independent checker */
};

#define ARGS_MAX 48

struct args {
    const char *v[ARGS_MAX + 1]; /* borrowed strings, NULL-terminated */
    size_t n;
};

#define ARGS_ADD_LIST(a, ...)                                                                      \
    do {                                                                                           \
        const char *const list_[] = { __VA_ARGS__ };                                               \
        args_add_list((a), list_, sizeof(list_) / sizeof(list_[0]));                               \
    } while (0)

struct run {
    int status; /* raw wait status */
    bool timed_out;
    char *out;
    size_t out_len;
    char *err;
    size_t err_len;
    char what[1024]; /* the command line, for messages */
};

#define OSSL(r, order, cmd, ...) ossl_in((r), NULL, (order), (cmd), __VA_ARGS__, (const char *)NULL)

#define KEYFORT(r, ...) keyfort_run((r), __VA_ARGS__, (const char *)NULL)

/* Ordinary helpers (ossl_cli.c). */
uint8_t *read_file(const char *path, size_t *out_len);
__attribute__((format(printf, 3, 4))) void fmt(char *buf, size_t cap, const char *f, ...);
void prov_init(void);
void prov_fini(void);
void args_add(struct args *a, const char *s);
void args_add_va(struct args *a, va_list ap);
void args_add_list(struct args *a, const char *const *list, size_t n);
void args_openssl(struct args *a, const char *cmd, enum prov_order order);
void run_free(struct run *r);
void buf_append(char **buf, size_t *len, const char *p, size_t n);
void run_describe(const struct args *a, char *what, size_t cap);
double now_s(void);
bool has_bytes(const char *hay, size_t hay_len, const char *needle);
void assert_no_pin(const char *buf, size_t len, const char *stream, const char *what);
int wait_deadline(pid_t pid, double deadline, bool *out_timed_out);
void run_args(const struct args *a, const char *stdin_path, struct run *r);
void ossl_in(struct run *r, const char *stdin_path, enum prov_order order, const char *cmd, ...);
void keyfort_run(struct run *r, ...);
void expect_ok(const struct run *r);
void expect_refused(const struct run *r);
void expect_in(const char *buf, size_t len, const char *needle, const char *stream,
               const char *what);
void expect_keyfort_error(const struct run *r, const char *needle);
void tmp_path(char *buf, size_t cap, const char *name);
void write_file(const char *path, const void *p, size_t n);
void write_tampered(const char *from, const char *to, size_t at);
void write_message(const char *path);
void write_digest(const char *msg_path, const char *digest, const char *out_path);
void gen_key(const char *type, const char *label);
void key_uri(char *buf, size_t cap, const char *label);
void export_pub(enum prov_order order, const char *uri, const char *label, const char *pub_path);
size_t file_size(const char *path);

/* s_server -www -naccept 1 in the background (ossl_cli.c). */
struct server {
    pid_t pid;
    char out_path[400];
    char err_path[400];
    char what[1024];
};

/** A loopback port nothing listens on right now. */
unsigned free_port(void);
/** Start s_server with @p cert and key @p uri on @p port; false when the port was taken. */
bool server_start(enum prov_order order, const char *cert, const char *uri, unsigned port,
                  struct server *s);
/** Spawn the s_server command line @p a (any options: provider or engine) in the background
 *  and wait until it accepts; false when the port was taken. */
bool server_spawn(const struct args *a, struct server *s);
/** Wait for the server to exit after its one connection; its status and output into @p out. */
void server_finish(struct server *s, struct run *out);

/** The first keyfort error on this thread's OpenSSL error queue, as "reason: data" (a static
 *  buffer), or NULL; the queue is emptied. */
const char *kf_test_keyfort_error(void);
/** A library context that loads keyfort.so (with @p module as its PKCS#11 module and the
 *  fixture's PIN file) and the default provider, through an openssl.cnf named @p cnf_name in
 *  the token's temp dir. */
OSSL_LIB_CTX *kf_test_keyfort_libctx(const char *module, const char *cnf_name);
/** The private key at @p uri through the store of @p lib (fails the test if there is none). */
EVP_PKEY *kf_test_store_key(OSSL_LIB_CTX *lib, const char *uri);

#endif
