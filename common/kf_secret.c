/* common/kf_secret.c */
#include "common/kf_secret.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <string.h>
#include <sys/mman.h>
#include <termios.h>
#include <unistd.h>

struct kf_secret {
    uint8_t *data; /* borrowed: points into the same mapping, after this header */
    size_t len;
    size_t cap;
    size_t map_len; /* whole mapping, header included */
    bool locked;
};

static size_t secret_page(void)
{
    long p = sysconf(_SC_PAGESIZE);
    return p > 0 ? (size_t)p : 4096;
}

KF_RESULT kf_secret_new(size_t cap, struct kf_secret **out)
{
    KF_ENSURE_REF(out);
    KF_ENSURE(cap <= (1u << 20), KF_ERR_TOO_LARGE);
    size_t page = secret_page();
    size_t need = sizeof(struct kf_secret) + cap;
    size_t map_len = (need + page - 1) / page * page;
    void *m = mmap(NULL, map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    KF_GUARD_ERRNO(m != MAP_FAILED, KF_ERR_NOMEM);
    struct kf_secret *s = m;
    s->data = (uint8_t *)m + sizeof(struct kf_secret);
    s->len = 0;
    s->cap = cap;
    s->map_len = map_len;
    s->locked = false;
#if !defined(KF_SANITIZE) && !defined(KF_FUZZ)
    /* Sanitizer shadow memory makes locking pointless and dumps are their whole point. */
    (void)madvise(m, map_len, MADV_DONTDUMP);
    if (mlock(m, map_len) == 0) {
        s->locked = true;
    } else {
        int e = errno;
        munmap(m, map_len);
        kf_err_note_errno(e);
        KF_BAIL(KF_ERR_MLOCK);
    }
#endif
    *out = s;
    return KF_OK;
}

void kf_secret_free(struct kf_secret *s)
{
    if (s == NULL) {
        return;
    }
    size_t map_len = s->map_len;
    bool locked = s->locked;
    OPENSSL_cleanse(s, map_len); /* header too: it records the length */
    if (locked) {
        munlock(s, map_len);
    }
    munmap(s, map_len);
}

void kf_secret_cleanup_ptr(struct kf_secret **p)
{
    if (p != NULL) {
        kf_secret_free(*p);
        *p = NULL;
    }
}

KF_RESULT kf_secret_from_bytes(const uint8_t *p, size_t n, struct kf_secret **out)
{
    KF_ENSURE_REF(out);
    KF_ENSURE(p != NULL || n == 0, KF_ERR_NULL);
    struct kf_secret *s = NULL;
    KF_GUARD(kf_secret_new(n, &s));
    if (n > 0) {
        memcpy(s->data, p, n);
    }
    s->len = n;
    *out = s;
    return KF_OK;
}

KF_RESULT kf_secret_dup(const struct kf_secret *s, struct kf_secret **out)
{
    KF_ENSURE_REF(s);
    return kf_secret_from_bytes(s->data, s->len, out);
}

/* Drop one trailing "\n" or "\r\n": files written by echo and editors end with one. */
static void secret_chomp(struct kf_secret *s)
{
    if (s->len > 0 && s->data[s->len - 1] == '\n') {
        s->len--;
        if (s->len > 0 && s->data[s->len - 1] == '\r') {
            s->len--;
        }
    }
}

KF_RESULT kf_secret_from_file(const char *path, struct kf_secret **out)
{
    KF_ENSURE_REF(path);
    KF_ENSURE_REF(out);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        kf_err_note_errno(errno);
        kf_err_note_context("PIN file '%s'", path);
        KF_BAIL(KF_ERR_FILE_OPEN);
    }
    /* Room for the longest accepted file (a maximal PIN plus "\r\n") and one byte more, so a
     * full buffer proves the file too long rather than merely exactly that long. */
    struct kf_secret *s = NULL;
    kf_result r = kf_secret_new(KF_SECRET_PIN_MAX + 3, &s);
    if (!kf_ok(r)) {
        close(fd);
        return r;
    }
    for (;;) {
        if (s->len == s->cap) {
            /* Full and not at EOF: longer than any PIN we accept. */
            close(fd);
            kf_secret_free(s);
            kf_err_note_context("PIN file '%s' is longer than %d bytes", path, KF_SECRET_PIN_MAX);
            KF_BAIL(KF_ERR_TOO_LARGE);
        }
        ssize_t got = read(fd, s->data + s->len, s->cap - s->len);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got < 0) {
            int e = errno;
            close(fd);
            kf_secret_free(s);
            kf_err_note_errno(e);
            kf_err_note_context("PIN file '%s'", path);
            KF_BAIL(KF_ERR_IO);
        }
        if (got == 0) {
            break;
        }
        s->len += (size_t)got;
    }
    close(fd);
    secret_chomp(s);
    if (s->len == 0 || s->len > KF_SECRET_PIN_MAX) {
        bool empty = s->len == 0;
        kf_secret_free(s);
        kf_err_note_context("PIN file '%s'", path);
        KF_BAIL(empty ? KF_ERR_EMPTY_PIN : KF_ERR_TOO_LARGE);
    }
    *out = s;
    return KF_OK;
}

KF_RESULT kf_secret_from_prompt(const char *prompt, struct kf_secret **out)
{
    KF_ENSURE_REF(prompt);
    KF_ENSURE_REF(out);
    int fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        kf_err_note_errno(errno);
        KF_BAIL(KF_ERR_NO_TTY);
    }
    struct termios old;
    if (tcgetattr(fd, &old) != 0) {
        int e = errno;
        close(fd);
        kf_err_note_errno(e);
        KF_BAIL(KF_ERR_NO_TTY);
    }
    struct kf_secret *s = NULL;
    kf_result r = kf_secret_new(KF_SECRET_PIN_MAX + 2, &s);
    if (!kf_ok(r)) {
        close(fd);
        return r;
    }
    struct termios quiet = old;
    quiet.c_lflag &= (tcflag_t) ~(ECHO | ECHONL);
    quiet.c_lflag |= ICANON;
    (void)!write(fd, prompt, strlen(prompt));
    (void)tcsetattr(fd, TCSAFLUSH, &quiet);
    bool io_error = false;
    int e = 0;
    while (s->len < s->cap) {
        uint8_t ch;
        ssize_t got = read(fd, &ch, 1);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got < 0) {
            io_error = true;
            e = errno;
            break;
        }
        if (got == 0 || ch == '\n') {
            break;
        }
        s->data[s->len++] = ch;
    }
    (void)tcsetattr(fd, TCSAFLUSH, &old);
    (void)!write(fd, "\n", 1);
    close(fd);
    if (io_error) {
        kf_secret_free(s);
        kf_err_note_errno(e);
        KF_BAIL(KF_ERR_IO);
    }
    secret_chomp(s);
    if (s->len == 0 || s->len > KF_SECRET_PIN_MAX) {
        bool empty = s->len == 0;
        kf_secret_free(s);
        KF_BAIL(empty ? KF_ERR_EMPTY_PIN : KF_ERR_TOO_LARGE);
    }
    *out = s;
    return KF_OK;
}

const uint8_t *kf_secret_data(const struct kf_secret *s)
{
    return s != NULL ? s->data : NULL;
}

size_t kf_secret_len(const struct kf_secret *s)
{
    return s != NULL ? s->len : 0;
}

bool kf_secret_is_locked(const struct kf_secret *s)
{
    return s != NULL && s->locked;
}

bool kf_secret_equal(const struct kf_secret *a, const struct kf_secret *b)
{
    if (a == NULL || b == NULL || a->len != b->len) {
        return false;
    }
    return CRYPTO_memcmp(a->data, b->data, a->len) == 0;
}
