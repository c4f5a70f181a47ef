/* tools/keyfort/cmd_sign.c - keyfort key sign: sign a file's bytes with a key on the token.
 *
 * The output is what openssl(1) verifies: RSA PKCS#1 v1.5 or PSS (salt = digest length,
 * MGF1 with the same digest) as the raw signature, ECDSA as a DER ECDSA-Sig-Value
 * (RFC 5480 s2.2 / SEC 1), EdDSA as the raw 64 or 114 bytes of RFC 8032 (PureEdDSA). */
#include "tools/keyfort/cli.h"
#include "tools/keyfort/pin.h"
#include "tools/keyfort/uri.h"

#include "common/kf_buf.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Messages are signed in one call, so they are read whole; this bounds the memory used. */
#define CLI_SIGN_MAX_INPUT ((size_t)1 << 30)

struct cli_digest_name {
    const char *name;
    enum kf_hsm_digest digest;
};

static const struct cli_digest_name cli_digests[] = {
    { "sha1", KF_DIGEST_SHA1 },     { "sha224", KF_DIGEST_SHA224 }, { "sha256", KF_DIGEST_SHA256 },
    { "sha384", KF_DIGEST_SHA384 }, { "sha512", KF_DIGEST_SHA512 }, { NULL, KF_DIGEST_NONE },
};

static KF_RESULT cli_sign_digest(const char *name, enum kf_hsm_digest *out)
{
    if (name == NULL) {
        *out = KF_DIGEST_SHA256;
        return KF_OK;
    }
    for (const struct cli_digest_name *d = cli_digests; d->name != NULL; d++) {
        if (strcmp(d->name, name) == 0) {
            *out = d->digest;
            return KF_OK;
        }
    }
    return kf_cli_usage_error("unknown digest '%s': use sha1, sha224, sha256, sha384 or sha512",
                              name);
}

static bool cli_sign_is_stdio(const char *path)
{
    return path == NULL || strcmp(path, "-") == 0;
}

/* Read all of @p fd into @p b. */
static KF_RESULT cli_sign_read_fd(int fd, const char *name, struct kf_buf *b)
{
    uint8_t chunk[65536];
    for (;;) {
        ssize_t got = read(fd, chunk, sizeof(chunk));
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got < 0) {
            kf_err_note_errno(errno);
            kf_err_note_context("input '%s'", name);
            KF_BAIL(KF_ERR_IO);
        }
        if (got == 0) {
            return KF_OK;
        }
        if ((size_t)got > CLI_SIGN_MAX_INPUT - b->len) {
            kf_err_note_context("input '%s' is larger than %zu bytes", name, CLI_SIGN_MAX_INPUT);
            KF_BAIL(KF_ERR_TOO_LARGE);
        }
        KF_GUARD(kf_buf_write_bytes(b, chunk, (size_t)got));
    }
}

static KF_RESULT cli_sign_read_input(const char *path, struct kf_buf *b)
{
    if (cli_sign_is_stdio(path)) {
        return cli_sign_read_fd(STDIN_FILENO, "(standard input)", b);
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        kf_err_note_errno(errno);
        kf_err_note_context("input '%s'", path);
        KF_BAIL(KF_ERR_FILE_OPEN);
    }
    kf_result r = cli_sign_read_fd(fd, path, b);
    close(fd);
    return r;
}

static KF_RESULT cli_sign_write_all(int fd, const char *name, const uint8_t *p, size_t len)
{
    size_t done = 0;
    while (done < len) {
        ssize_t put = write(fd, p + done, len - done);
        if (put < 0 && errno == EINTR) {
            continue;
        }
        if (put < 0) {
            kf_err_note_errno(errno);
            kf_err_note_context("output '%s'", name);
            KF_BAIL(KF_ERR_IO);
        }
        done += (size_t)put;
    }
    return KF_OK;
}

static KF_RESULT cli_sign_write_output(const char *path, const uint8_t *sig, size_t len)
{
    if (cli_sign_is_stdio(path)) {
        fflush(stdout); /* nothing is buffered there, but keep the order if there were */
        return cli_sign_write_all(STDOUT_FILENO, "(standard output)", sig, len);
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0644);
    if (fd < 0) {
        kf_err_note_errno(errno);
        kf_err_note_context("output '%s'", path);
        KF_BAIL(KF_ERR_FILE_OPEN);
    }
    kf_result r = cli_sign_write_all(fd, path, sig, len);
    if (close(fd) != 0 && kf_ok(r)) {
        kf_err_note_errno(errno);
        kf_err_note_context("output '%s'", path);
        KF_BAIL(KF_ERR_IO);
    }
    if (!kf_ok(r)) {
        (void)unlink(path); /* no half-written signature left behind */
    }
    return r;
}

/* Scheme and digest for the key's family, refusing options that do not apply to it. */
static KF_RESULT cli_sign_params(const struct kf_cli_args *a, const struct kf_hsm_key_info *ki,
                                 struct kf_hsm_sig_params *out)
{
    struct kf_hsm_sig_params p = { .mgf1_digest = KF_DIGEST_NONE, .pss_salt_len = -1 };
    switch (ki->kind) {
    case KF_KIND_RSA:
        p.scheme = a->pss ? KF_SIG_RSA_PSS : KF_SIG_RSA_PKCS;
        KF_GUARD(cli_sign_digest(a->digest, &p.digest));
        break;
    case KF_KIND_EC:
        if (a->pss) {
            return kf_cli_usage_error("--pss applies to RSA keys only; this is an EC key");
        }
        p.scheme = KF_SIG_ECDSA;
        KF_GUARD(cli_sign_digest(a->digest, &p.digest));
        break;
    case KF_KIND_EDDSA:
        if (a->pss || a->digest != NULL) {
            /* PureEdDSA hashes inside the algorithm (RFC 8032 s5.1.6). */
            return kf_cli_usage_error("--digest and --pss do not apply to an EdDSA key, which "
                                      "signs the message itself");
        }
        p.scheme = KF_SIG_EDDSA;
        p.digest = KF_DIGEST_NONE;
        break;
    default:
        kf_err_note_context("key family %d", (int)ki->kind);
        KF_BAIL(KF_ERR_UNSUPPORTED);
    }
    *out = p;
    return KF_OK;
}

static KF_RESULT cli_sign_run(const struct kf_cli_args *a, struct kf_hsm_token *token,
                              struct kf_hsm_key *key, const struct kf_buf *msg)
{
    struct kf_hsm_key_info ki;
    KF_GUARD(kf_hsm_key_get_info(key, &ki));
    if (!ki.has_private && !kf_hsm_token_has_pin(token)) {
        /* Private keys are CKA_PRIVATE: without a login only the public half is visible. */
        kf_err_note_context("key '%s' shows no private key without a login; give --pin-file "
                            "FILE or pin-source=FILE in the URI",
                            ki.label);
        KF_BAIL(KF_ERR_PIN_REQUIRED);
    }
    struct kf_hsm_sig_params p;
    KF_GUARD(cli_sign_params(a, &ki, &p));
    static const uint8_t empty[1];
    const uint8_t *in = msg->data != NULL ? msg->data : empty; /* an empty file is a message */
    size_t cap = 0;
    KF_GUARD(kf_hsm_sign(key, &p, in, msg->len, NULL, 0, &cap));
    KF_ENSURE(cap > 0, KF_ERR_INTERNAL);
    uint8_t *sig KF_CLI_AUTO_FREE = malloc(cap);
    KF_ENSURE(sig != NULL, KF_ERR_NOMEM);
    size_t sig_len = 0;
    KF_GUARD(kf_hsm_sign(key, &p, in, msg->len, sig, cap, &sig_len));
    if (p.scheme != KF_SIG_ECDSA) {
        return cli_sign_write_output(a->out, sig, sig_len);
    }
    uint8_t *der = NULL;
    size_t der_len = 0;
    KF_GUARD(kf_hsm_ecdsa_rs_to_der(sig, sig_len, &der, &der_len));
    kf_result r = cli_sign_write_output(a->out, der, der_len);
    OPENSSL_free(der);
    return r;
}

KF_RESULT kf_cli_key_sign(const struct kf_cli_args *a)
{
    KF_GUARD(kf_cli_args_expect(a, 1, 1, "KEY-URI"));
    enum kf_hsm_digest digest; /* checked here too, before any PIN is asked for */
    KF_GUARD(cli_sign_digest(a->digest, &digest));
    struct kf_hsm_uri *uri KF_CLI_AUTO_URI = NULL;
    KF_GUARD(kf_cli_uri_parse(a->pos[0], &uri));
    struct kf_hsm_token *token KF_CLI_AUTO_TOKEN = NULL;
    KF_GUARD(kf_cli_token_open(a, uri, &token));
    struct kf_hsm_key *key KF_CLI_AUTO_KEY = NULL;
    KF_GUARD(kf_hsm_key_find(token, uri, &key));
    struct kf_buf msg;
    KF_GUARD(kf_buf_init_growable(&msg, 0));
    kf_result r = cli_sign_read_input(a->in, &msg);
    if (kf_ok(r)) {
        r = cli_sign_run(a, token, key, &msg);
    }
    kf_buf_cleanup(&msg);
    return r;
}
